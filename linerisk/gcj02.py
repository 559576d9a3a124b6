"""GCJ-02 and BD-09, the shifted coordinates of Chinese consumer maps.

GCJ-02 (the "Mars" coordinates of AutoNavi/Gaode, Tencent and most phone map
apps) moves WGS 84 positions inside China by a few hundred metres with a
published closed-form formula on the Krasovsky ellipsoid. BD-09 (Baidu) adds a
second, smaller twist on top of GCJ-02. Outside China's rough extent nothing is
shifted.

Everything here works on numpy arrays (or scalars) of longitude and latitude in
degrees, longitude first.

    >>> lon, lat = wgs84_to_gcj02(117.2, 39.13)
    >>> back = gcj02_to_wgs84(lon, lat)
    >>> round(float(back[0]), 7), round(float(back[1]), 7)
    (117.2, 39.13)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, on which the GCJ-02 offsets are defined.
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09 uses this angular factor for its extra rotation and stretch.
_BD_K = np.pi * 3000.0 / 180.0


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    lon, lat = np.broadcast_arrays(lon, lat)
    return np.array(lon, dtype=float), np.array(lat, dtype=float), scalar


def _out(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def in_china(lon, lat) -> np.ndarray:
    """Whether points fall in the rough box inside which GCJ-02 shifts anything."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _shift(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS 84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    root = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    north = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + common
    north += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    north += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    east = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + common
    east += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    east += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    phi = np.radians(lat)
    s = np.sin(phi)
    w = 1.0 - _EE * s * s
    sw = np.sqrt(w)
    # metres → degrees with the meridian and prime-vertical radii of curvature
    dlat = north * 180.0 / ((_A * (1.0 - _EE)) / (w * sw) * pi)
    dlon = east * 180.0 / (_A / sw * np.cos(phi) * pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat):
    """WGS 84 → GCJ-02 (unchanged outside China)."""
    lon, lat, scalar = _arrays(lon, lat)
    dlon, dlat = _shift(lon, lat)
    return _out(lon + dlon, lat + dlat, scalar)


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-10, max_iterations: int = 30):
    """GCJ-02 → WGS 84 by fixed-point iteration on the forward formula.

    Converges to ``tolerance`` degrees (1e-10° is about 0.01 mm), far below the
    centimetre that a one-step inverse leaves.
    """
    glon, glat, scalar = _arrays(lon, lat)
    wlon = glon.copy()
    wlat = glat.copy()
    for _ in range(max_iterations):
        dlon, dlat = _shift(wlon, wlat)
        err_lon = wlon + dlon - glon
        err_lat = wlat + dlat - glat
        wlon -= err_lon
        wlat -= err_lat
        if np.all(np.abs(err_lon) < tolerance) and np.all(np.abs(err_lat) < tolerance):
            break
    return _out(wlon, wlat, scalar)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu)."""
    x, y, scalar = _arrays(lon, lat)
    r = np.hypot(x, y) + 0.00002 * np.sin(y * _BD_K)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_K)
    return _out(r * np.cos(theta) + 0.0065, r * np.sin(theta) + 0.006, scalar)


def bd09_to_gcj02(lon, lat, *, tolerance: float = 1e-10, max_iterations: int = 30):
    """BD-09 → GCJ-02.

    Starts from the usual closed-form inverse (good to a few decimetres) and
    refines it by fixed-point iteration on :func:`gcj02_to_bd09`.
    """
    blon, blat, scalar = _arrays(lon, lat)
    x = blon - 0.0065
    y = blat - 0.006
    r = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_K)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_K)
    glon = r * np.cos(theta)
    glat = r * np.sin(theta)
    for _ in range(max_iterations):
        flon, flat = gcj02_to_bd09(glon, glat)
        err_lon = flon - blon
        err_lat = flat - blat
        glon = glon - err_lon
        glat = glat - err_lat
        if np.all(np.abs(err_lon) < tolerance) and np.all(np.abs(err_lat) < tolerance):
            break
    return _out(np.asarray(glon, dtype=float), np.asarray(glat, dtype=float), scalar)


def wgs84_to_bd09(lon, lat):
    """WGS 84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS 84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
