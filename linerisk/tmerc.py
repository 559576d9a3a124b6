"""Transverse Mercator (Gauss-Krüger) to and from longitude/latitude, in numpy.

A register's CRS is usually a CGCS2000 Gauss-Krüger zone, and the PROJ pipelines
between WGS 84 / CGCS2000 and it are a plain ``tmerc`` step. Evaluating that step
here (Krüger's series to the sixth order in n, as PROJ does, sub-millimetre
within a zone) spares a command that adds or lists risks the import of pyproj
(a quarter of a second). Any other pipeline goes to pyproj; the tests hold this
to pyproj within 1 mm.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["forward_from_pipeline", "inverse_from_pipeline", "parse_tmerc_pipeline"]

_ELLIPSOIDS = {"GRS80": (6378137.0, 1 / 298.257222101), "WGS84": (6378137.0, 1 / 298.257223563)}

_PIPELINE = re.compile(
    r"\+?proj=pipeline\s+\+?step\s+\+?proj=unitconvert\s+\+?xy_in=deg\s+\+?xy_out=rad\s+"
    r"\+?step\s+\+?proj=tmerc\s+\+?lat_0=0\s+\+?lon_0=(?P<lon0>-?[\d.]+)\s+\+?k=(?P<k>[\d.]+)\s+"
    r"\+?x_0=(?P<x0>-?[\d.]+)\s+\+?y_0=(?P<y0>-?[\d.]+)\s+\+?ellps=(?P<ellps>GRS80|WGS84)\s*"
)


_INVERSE = re.compile(
    r"\+?proj=pipeline\s+\+?step\s+\+?inv\s+\+?proj=tmerc\s+\+?lat_0=0\s+"
    r"\+?lon_0=(?P<lon0>-?[\d.]+)\s+\+?k=(?P<k>[\d.]+)\s+\+?x_0=(?P<x0>-?[\d.]+)\s+"
    r"\+?y_0=(?P<y0>-?[\d.]+)\s+\+?ellps=(?P<ellps>GRS80|WGS84)\s+"
    r"\+?step\s+\+?proj=unitconvert\s+\+?xy_in=rad\s+\+?xy_out=deg\s*"
)


def parse_tmerc_pipeline(definition: str, inverse: bool = False) -> dict[str, float] | None:
    """Parameters of a lon/lat → tmerc pipeline (tmerc → lon/lat with ``inverse``),
    or None for any other pipeline."""
    m = (_INVERSE if inverse else _PIPELINE).fullmatch(definition.strip())
    if m is None:
        return None
    a, f = _ELLIPSOIDS[m["ellps"]]
    return {
        "lon0": float(m["lon0"]),
        "k0": float(m["k"]),
        "x0": float(m["x0"]),
        "y0": float(m["y0"]),
        "a": a,
        "f": f,
    }


def _coefficients(f: float) -> tuple[float, list[float]]:
    n = f / (2 - f)
    n2, n3, n4, n5, n6 = n**2, n**3, n**4, n**5, n**6
    alpha = [
        n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 + 7891 * n6 / 37800,
        13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 - 1983433 * n6 / 1935360,
        61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
        49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
        34729 * n5 / 80640 - 3418889 * n6 / 1995840,
        212378941 * n6 / 319334400,
    ]
    rectifying = (1 + n2 / 4 + n4 / 64 + n6 / 256) / (1 + n)
    return rectifying, alpha


def _inverse_coefficients(f: float) -> list[float]:
    n = f / (2 - f)
    n2, n3, n4, n5, n6 = n**2, n**3, n**4, n**5, n**6
    return [
        n / 2 - 2 * n2 / 3 + 37 * n3 / 96 - n4 / 360 - 81 * n5 / 512 + 96199 * n6 / 604800,
        n2 / 48 + n3 / 15 - 437 * n4 / 1440 + 46 * n5 / 105 - 1118711 * n6 / 3870720,
        17 * n3 / 480 - 37 * n4 / 840 - 209 * n5 / 4480 + 5569 * n6 / 90720,
        4397 * n4 / 161280 - 11 * n5 / 504 - 830251 * n6 / 7257600,
        4583 * n5 / 161280 - 108847 * n6 / 3991680,
        20648693 * n6 / 638668800,
    ]


def forward(lon, lat, *, lon0: float, k0: float, x0: float, y0: float, a: float, f: float):
    """Easting and northing (metres) of longitude/latitude arrays (degrees)."""
    lam = np.radians(np.asarray(lon, dtype=float) - lon0)
    phi = np.radians(np.asarray(lat, dtype=float))
    e = math.sqrt(f * (2 - f))
    sin_phi = np.sin(phi)
    tau = np.sinh(np.arctanh(sin_phi) - e * np.arctanh(e * sin_phi))  # conformal latitude
    xi_p = np.arctan2(tau, np.cos(lam))
    eta_p = np.arcsinh(np.sin(lam) / np.hypot(tau, np.cos(lam)))
    rectifying, alpha = _coefficients(f)
    xi = xi_p.copy()
    eta = eta_p.copy()
    for j, aj in enumerate(alpha, start=1):
        xi += aj * np.sin(2 * j * xi_p) * np.cosh(2 * j * eta_p)
        eta += aj * np.cos(2 * j * xi_p) * np.sinh(2 * j * eta_p)
    scale = k0 * a * rectifying
    return x0 + scale * eta, y0 + scale * xi


def inverse(x, y, *, lon0: float, k0: float, x0: float, y0: float, a: float, f: float):
    """Longitude and latitude (degrees) of easting/northing arrays (metres)."""
    rectifying, _alpha = _coefficients(f)
    scale = k0 * a * rectifying
    xi = (np.asarray(y, dtype=float) - y0) / scale
    eta = (np.asarray(x, dtype=float) - x0) / scale
    xi_p = xi.copy()
    eta_p = eta.copy()
    for j, bj in enumerate(_inverse_coefficients(f), start=1):
        xi_p -= bj * np.sin(2 * j * xi) * np.cosh(2 * j * eta)
        eta_p -= bj * np.cos(2 * j * xi) * np.sinh(2 * j * eta)
    tau_p = np.sin(xi_p) / np.hypot(np.sinh(eta_p), np.cos(xi_p))
    lam = np.arctan2(np.sinh(eta_p), np.cos(xi_p))
    # Latitude from the conformal latitude by Newton's method (converges in a few steps).
    e = math.sqrt(f * (2 - f))
    e2m = 1 - e * e
    tau = tau_p.copy()
    for _ in range(5):
        s1 = np.hypot(1.0, tau)
        sig = np.sinh(e * np.arctanh(e * tau / s1))
        tp = tau * np.hypot(1.0, sig) - sig * s1
        dtau = (tau_p - tp) / np.hypot(1.0, tp) * (1 + e2m * tau * tau) / (e2m * s1)
        tau += dtau
    return lon0 + np.degrees(lam), np.degrees(np.arctan(tau))


def inverse_from_pipeline(definition: str, x, y):
    """Apply a tmerc → lon/lat PROJ pipeline; None if the pipeline is of another kind."""
    params = parse_tmerc_pipeline(definition, inverse=True)
    if params is None:
        return None
    return inverse(x, y, **params)


def forward_from_pipeline(definition: str, lon, lat):
    """Apply a lon/lat → tmerc PROJ pipeline; None if the pipeline is of another kind."""
    params = parse_tmerc_pipeline(definition)
    if params is None:
        return None
    return forward(lon, lat, **params)
