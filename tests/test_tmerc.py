"""The numpy Gauss-Krüger projection agrees with pyproj to the millimetre."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from linerisk import crs
from linerisk.tmerc import forward_from_pipeline, inverse_from_pipeline, parse_tmerc_pipeline


@pytest.mark.parametrize("target", ["EPSG:4548", "EPSG:4527", "EPSG:4534", "EPSG:4554"])
@pytest.mark.parametrize("source", ["EPSG:4326", "EPSG:4490"])
def test_agrees_with_pyproj_across_the_zone(source, target):
    t = Transformer.from_crs(source, target, always_xy=True)
    params = parse_tmerc_pipeline(t.definition)
    assert params is not None
    rng = np.random.default_rng(7)
    lon = params["lon0"] + rng.uniform(-3.0, 3.0, 5000)
    lat = rng.uniform(15.0, 55.0, 5000)
    x, y = forward_from_pipeline(t.definition, lon, lat)
    px, py = t.transform(lon, lat)
    assert np.abs(x - px).max() < 1e-3
    assert np.abs(y - py).max() < 1e-3


@pytest.mark.parametrize("target", ["EPSG:4326", "EPSG:4490"])
@pytest.mark.parametrize("source", ["EPSG:4548", "EPSG:4527", "EPSG:4554"])
def test_inverse_agrees_with_pyproj_across_the_zone(source, target):
    t = Transformer.from_crs(source, target, always_xy=True)
    params = parse_tmerc_pipeline(t.definition, inverse=True)
    assert params is not None
    rng = np.random.default_rng(8)
    x = params["x0"] + rng.uniform(-330_000, 330_000, 5000)
    y = rng.uniform(1_600_000, 6_100_000, 5000)
    lon, lat = inverse_from_pipeline(t.definition, x, y)
    plon, plat = t.transform(x, y)
    # 1e-8 degrees is about a millimetre
    assert np.abs(lon - plon).max() < 1e-8
    assert np.abs(lat - plat).max() < 1e-8
    # and the round trip comes back to the millimetre
    back = Transformer.from_crs(target, source, always_xy=True).definition
    bx, by = forward_from_pipeline(back, lon, lat)
    assert np.abs(bx - x).max() < 1e-3 and np.abs(by - y).max() < 1e-3


def test_other_pipelines_are_left_to_pyproj():
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).definition
    assert parse_tmerc_pipeline(utm) is None
    assert forward_from_pipeline(utm, [117.0], [39.0]) is None
    back = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).definition
    assert parse_tmerc_pipeline(back, inverse=True) is None
    assert inverse_from_pipeline(back, [500000.0], [4300000.0]) is None
    # a forward pipeline is not taken for an inverse one, nor the other way round
    gk = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).definition
    assert parse_tmerc_pipeline(gk, inverse=True) is None
    assert inverse_from_pipeline(gk, [500000.0], [4300000.0]) is None


def test_transform_xy_uses_a_stored_pipeline_and_matches_pyproj():
    definition = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).definition
    crs.register_pipelines({"EPSG:4326>EPSG:4548": definition})
    x, y = crs.transform_xy([117.3, 117.31], [39.11, 39.12], "EPSG:4326", "EPSG:4548")
    px, py = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(
        [117.3, 117.31], [39.11, 39.12]
    )
    assert np.allclose(x, px, atol=1e-3)
    assert np.allclose(y, py, atol=1e-3)
