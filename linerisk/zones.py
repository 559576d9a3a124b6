"""Protection zones (铁路线路安全保护区) and distance bands, array-at-a-time.

Widths follow the Railway Safety Management Regulations (铁路安全管理条例) by
area class and whether the line is high-speed; distances are measured from the
formation edge, not the centreline. Local governments publish actual widths,
so every number is a setting with these defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from linerisk.model import AreaClass, Band

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["AREA_CODES", "BAND_ORDER", "DEFAULT_ZONE_WIDTHS", "ZoneRules"]

#: (conventional, high-speed) protection-zone width in metres per area class.
DEFAULT_ZONE_WIDTHS: dict[str, tuple[float, float]] = {
    "urban": (8.0, 10.0),
    "suburban": (10.0, 12.0),
    "village": (12.0, 15.0),
    "other": (15.0, 20.0),
}

#: integer codes used in arrays; -1 means "no segment, class unknown".
AREA_CODES: tuple[AreaClass, ...] = tuple(AreaClass)
BAND_ORDER: tuple[Band, ...] = tuple(Band)


def _widths(value: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    out = dict(DEFAULT_ZONE_WIDTHS)
    for key, pair in value.items():
        AreaClass.parse(key)
        conventional, high_speed = (float(v) for v in pair)
        if conventional <= 0 or high_speed <= 0:
            raise ValueError(f"protection-zone widths for {key!r} must be positive")
        out[key] = (conventional, high_speed)
    return out


def _bands(value: tuple[float, ...]) -> tuple[float, float, float]:
    bands = tuple(float(v) for v in value)
    if len(bands) != 3 or not 0 < bands[0] < bands[1] < bands[2]:
        raise ValueError("distance bands must be three increasing distances, e.g. 200, 500, 1000")
    return bands  # type: ignore[return-value]


@attrs.frozen
class ZoneRules:
    """Zone widths and band limits; :meth:`classify` works on whole arrays.

    >>> rules = ZoneRules()
    >>> rules.width("village", high_speed=False)
    12.0
    """

    widths: dict[str, tuple[float, float]] = attrs.field(factory=dict, converter=_widths)
    bands: tuple[float, float, float] = attrs.field(
        default=(200.0, 500.0, 1000.0), converter=_bands
    )
    #: class assumed where a point lies beyond every segment: the widest zone
    unknown_area_class: str = attrs.field(
        default="other", converter=lambda value: AreaClass.parse(value).value
    )

    def width(self, area_class: str | AreaClass, *, high_speed: bool) -> float:
        return self.widths[AreaClass.parse(area_class).value][1 if high_speed else 0]

    def classify(
        self,
        distance_to_centreline: np.ndarray,
        half_width: np.ndarray,
        area_code: np.ndarray,
        high_speed: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """→ (zone width, distance from the formation edge, band code) arrays.

        ``area_code`` indexes :data:`AREA_CODES` (-1 for unknown); band codes
        index :data:`BAND_ORDER`.
        """
        import numpy as np

        table = np.array([self.widths[a.value] for a in AREA_CODES])
        unknown = AREA_CODES.index(AreaClass.parse(self.unknown_area_class))
        code = np.where(area_code < 0, unknown, area_code)
        width = table[code, np.asarray(high_speed, dtype=np.int64)]
        distance = np.maximum(np.asarray(distance_to_centreline) - half_width, 0.0)
        limits = np.array([0.0, *self.bands])
        band = np.searchsorted(limits, distance, side="left") - 1
        band = np.where(distance <= width, 0, np.clip(band + 1, 1, len(BAND_ORDER) - 1))
        return width, distance, band.astype(np.int8)
