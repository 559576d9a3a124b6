"""Transverse Mercator (Gauss-Krüger) from longitude/latitude, in numpy.

A register's CRS is usually a CGCS2000 Gauss-Krüger zone, and the PROJ pipeline
from WGS 84 / CGCS2000 to it is a plain ``tmerc`` step. Evaluating that step
here (Krüger's series to the sixth order in n, as PROJ does, sub-millimetre
within a zone) spares a command that adds one risk the import of pyproj. Any
other pipeline goes to pyproj; the tests hold this to pyproj within 1 mm.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["forward_from_pipeline", "parse_tmerc_pipeline"]

_ELLIPSOIDS = {"GRS80": (6378137.0, 1 / 298.257222101), "WGS84": (6378137.0, 1 / 298.257223563)}

_PIPELINE = re.compile(
    r"\+?proj=pipeline\s+\+?step\s+\+?proj=unitconvert\s+\+?xy_in=deg\s+\+?xy_out=rad\s+"
    r"\+?step\s+\+?proj=tmerc\s+\+?lat_0=0\s+\+?lon_0=(?P<lon0>-?[\d.]+)\s+\+?k=(?P<k>[\d.]+)\s+"
    r"\+?x_0=(?P<x0>-?[\d.]+)\s+\+?y_0=(?P<y0>-?[\d.]+)\s+\+?ellps=(?P<ellps>GRS80|WGS84)\s*"
)


def parse_tmerc_pipeline(definition: str) -> dict[str, float] | None:
    """Parameters of a lon/lat → tmerc pipeline, or None for any other pipeline."""
    m = _PIPELINE.fullmatch(definition.strip())
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


def forward_from_pipeline(definition: str, lon, lat):
    """Apply a lon/lat → tmerc PROJ pipeline; None if the pipeline is of another kind."""
    params = parse_tmerc_pipeline(definition)
    if params is None:
        return None
    return forward(lon, lat, **params)
