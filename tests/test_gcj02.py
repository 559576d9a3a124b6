"""GCJ-02 and BD-09: the shifts of Chinese consumer maps, and their inverses."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from linerisk.gcj02 import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_published_reference_values():
    # values published with the widely used public implementations of the formula
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351022), abs=1e-12
    )
    # the published BD-09 inverse is the one-step closed form; ours iterates it to
    # within 0.01 mm, so it agrees to about a decimetre (1e-6 degrees)
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.39762729119315, 39.90865673957631), abs=2e-6
    )


def test_shift_around_tianjin_is_a_few_hundred_metres():
    rng = np.random.default_rng(1)
    lon = rng.uniform(116.8, 118.0, 2000)
    lat = rng.uniform(38.6, 40.2, 2000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, glon, glat)
    assert d.min() > 200 and d.max() < 800
    # the sample line east of Tianjin station moves about half a kilometre
    one = metres(117.212, 39.133, *wgs84_to_gcj02(117.212, 39.133))
    assert 300 < float(one) < 700


def test_inverse_round_trips_to_better_than_a_centimetre():
    rng = np.random.default_rng(2)
    lon = rng.uniform(73.6, 134.7, 20000)
    lat = rng.uniform(18.2, 53.5, 20000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01
    # and the other way round: a GCJ-02 point maps back onto itself
    glon, glat = gcj02_to_wgs84(lon, lat)
    again = wgs84_to_gcj02(glon, glat)
    assert metres(lon, lat, *again).max() < 0.01


def test_bd09_round_trips():
    rng = np.random.default_rng(3)
    lon = rng.uniform(110.0, 122.0, 5000)
    lat = rng.uniform(22.0, 42.0, 5000)
    blon, blat = wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, blon, blat).min() > 200  # Baidu shifts further still
    assert metres(lon, lat, *bd09_to_wgs84(blon, blat)).max() < 0.01
    assert metres(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))).max() < 0.01


def test_outside_china_nothing_moves():
    lon = np.array([2.3522, -74.006, 139.8, 151.21, 105.0])
    lat = np.array([48.8566, 40.7128, 35.7, -33.87, 60.0])  # Paris, NYC, Tokyo, Sydney, Siberia
    assert not in_china(lon, lat).any()
    glon, glat = wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(glon, lon)
    np.testing.assert_array_equal(glat, lat)
    np.testing.assert_array_equal(gcj02_to_wgs84(lon, lat)[0], lon)


def test_scalars_in_scalars_out_arrays_keep_their_shape():
    lon, lat = wgs84_to_gcj02(117.2, 39.1)
    assert isinstance(lon, float) and isinstance(lat, float)
    grid = np.full((3, 4), 117.2), np.full((3, 4), 39.1)
    glon, glat = wgs84_to_gcj02(*grid)
    assert glon.shape == (3, 4) and glat.shape == (3, 4)
    assert glon[0, 0] == pytest.approx(lon)
