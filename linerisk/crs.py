"""Coordinate reference systems: choosing a metric CRS and transforming to it.

pyproj is imported lazily so that commands touching one risk start fast.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "WGS84",
    "choose_metric_crs",
    "is_geographic",
    "pipelines_for",
    "register_pipelines",
    "transform_xy",
    "transformer",
]

WGS84 = "EPSG:4326"


def choose_metric_crs(lon: float, lat: float) -> str:
    """A metric CRS for data around (lon, lat).

    Inside China's extent this is the CGCS2000 3-degree Gauss-Krüger projection
    whose central meridian is nearest (without the zone number in the easting,
    EPSG:4534-4554); elsewhere the WGS 84 UTM zone.

    >>> choose_metric_crs(117.3, 39.1)
    'EPSG:4548'
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"({lon}, {lat}) is not a longitude/latitude pair")
    if 73.5 <= lon < 136.5 and 3 <= lat <= 54:
        central = 3 * round(lon / 3)
        return f"EPSG:{4534 + (central - 75) // 3}"
    zone = min(math.floor((lon + 180) / 6) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


#: PROJ pipelines known without a database look-up, keyed by (source, target);
#: a register stores the ones it needs so that opening it fills this table.
_PIPELINES: dict[tuple[str, str], str] = {}

#: geographic (longitude/latitude) CRSs that need no database look-up to recognise
_GEOGRAPHIC = {"EPSG:4326", "EPSG:4490", "EPSG:4214", "EPSG:4610", "OGC:CRS84"}


def register_pipelines(pipelines: dict[str, str]) -> None:
    """Remember PROJ pipelines given as ``{"SRC>DST": definition}``."""
    for key, definition in pipelines.items():
        src, _sep, dst = key.partition(">")
        _PIPELINES[(src, dst)] = definition


def pipelines_for(crs: str, sources: tuple[str, ...] = ("EPSG:4326", "EPSG:4490")) -> dict:
    """The pipelines between ``crs`` and common geographic CRSs, for storing."""
    out = {}
    for src in sources:
        if src != crs:
            out[f"{src}>{crs}"] = transformer(src, crs).definition
            out[f"{crs}>{src}"] = transformer(crs, src).definition
    return out


@functools.lru_cache(maxsize=32)
def transformer(src: str, dst: str):
    """A cached pyproj Transformer with x/y (lon/lat) axis order.

    A stored pipeline is used when there is one: building a transformer from
    EPSG codes costs a database look-up (a quarter of a second), which matters
    for a command that adds one risk.
    """
    from pyproj import Transformer

    definition = _PIPELINES.get((src, dst))
    if definition is not None:
        return Transformer.from_pipeline(definition)
    return Transformer.from_crs(src, dst, always_xy=True)


def is_geographic(crs: str) -> bool:
    """Whether ``crs`` is in longitude/latitude degrees."""
    if crs.upper() in _GEOGRAPHIC:
        return True
    if crs.upper().startswith("EPSG:") and (crs, WGS84) in _PIPELINES:
        return False
    from pyproj import CRS

    return CRS.from_user_input(crs).is_geographic


def same_crs(a: str, b: str) -> bool:
    if a == b:
        return True
    if (a, b) in _PIPELINES:
        return False
    from pyproj import CRS

    return CRS.from_user_input(a) == CRS.from_user_input(b)


def transform_xy(x, y, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays from ``src`` to ``dst``."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if same_crs(src, dst):
        return x.copy(), y.copy()
    definition = _PIPELINES.get((src, dst))
    if definition is not None:
        # A stored pipeline between lon/lat and Gauss-Krüger is evaluated without pyproj.
        from linerisk.tmerc import forward_from_pipeline, inverse_from_pipeline

        done = forward_from_pipeline(definition, x, y)
        if done is None:
            done = inverse_from_pipeline(definition, x, y)
        if done is not None:
            return done
    return transformer(src, dst).transform(x, y)


def transform_geometries(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Transform an array of shapely geometries from ``src`` to ``dst``."""
    import numpy as np
    import shapely

    if same_crs(src, dst):
        return np.asarray(geoms, dtype=object)

    def fn(coords: np.ndarray) -> np.ndarray:
        # through transform_xy, so that a stored Gauss-Krüger pipeline needs no pyproj
        x, y = transform_xy(coords[:, 0], coords[:, 1], src, dst)
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)
