"""Register settings: every number a site may need to change, with its default.

Settings are stored inside the register (metadata table) as JSON, so a register
file carries its own rules to every machine that opens it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from linerisk.convert import as_float, as_tuple
from linerisk.model import BUILTIN_CATEGORIES, Category, CategoryCatalog, Severity, Vertical
from linerisk.zones import ZoneRules

__all__ = ["DEFAULT_DEADLINE_DAYS", "Settings"]

DEFAULT_DEADLINE_DAYS = {"critical": 1, "major": 7, "general": 30}


def _deadlines(value: Mapping[str, float]) -> dict[str, float]:
    out = dict(DEFAULT_DEADLINE_DAYS)
    for key, days in value.items():
        Severity.parse(key)
        if not float(days) > 0:
            raise ValueError(f"deadline for {key!r} must be a positive number of days")
        out[key] = float(days)
    return out


def _positive(_inst: Any, attr: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"setting {attr.name} must be positive, not {value!r}")


def _tz(value: str) -> str:
    try:
        zone = dt.datetime.fromisoformat(f"2000-01-01T00:00:00{value}").tzinfo
    except (TypeError, ValueError):
        zone = None
    if zone is None:
        raise ValueError(f"time zone {value!r} must be an offset from UTC such as +08:00")
    return value


@attrs.frozen
class Settings:
    """A register's rules.

    >>> Settings().deadline_days["major"]
    7
    >>> Settings(deadline_days={"major": 3}).deadline_days["major"]
    3.0
    """

    #: days to rectify by severity
    deadline_days: dict[str, float] = attrs.field(factory=dict, converter=_deadlines)
    #: a point farther than this from every line is refused
    max_distance_m: float = attrs.field(default=1000.0, converter=as_float, validator=_positive)
    #: an open risk of the same category within this distance is a likely duplicate
    duplicate_radius_m: float = attrs.field(default=30.0, converter=as_float, validator=_positive)
    #: formation half-width where a segment gives none (centreline to formation edge)
    default_half_width_m: float = attrs.field(default=6.0, converter=as_float, validator=_positive)
    zones: ZoneRules = attrs.field(factory=ZoneRules)
    #: lead vertical per category key, overriding the built-in defaults
    lead_overrides: dict[str, str] = attrs.field(factory=dict)
    #: a site's own categories
    extra_categories: tuple[Category, ...] = attrs.field(default=(), converter=as_tuple)
    #: overrides of linerisk.patrol.DEFAULT_ADVICE_RULE, key by key
    patrol_rule: dict[str, Any] = attrs.field(factory=dict)
    lang: str = attrs.field(default="zh")
    default_actor: str | None = None
    #: the time zone used for dates without one (China Standard Time)
    timezone: str = attrs.field(default="+08:00", converter=_tz)

    @lang.validator
    def _check_lang(self, _a: attrs.Attribute, value: str) -> None:
        if value not in ("zh", "en"):
            raise ValueError(f"language must be zh or en, not {value!r}")

    def __attrs_post_init__(self) -> None:
        self.categories  # noqa: B018  (validates overrides and extra categories)

    @property
    def categories(self) -> CategoryCatalog:
        catalog = CategoryCatalog(BUILTIN_CATEGORIES)
        for extra in self.extra_categories:
            catalog = catalog.with_category(extra)
        return catalog.with_leads({k: Vertical.parse(v) for k, v in self.lead_overrides.items()})

    @property
    def tzinfo(self) -> dt.tzinfo:
        return dt.datetime.fromisoformat(f"2000-01-01T00:00:00{self.timezone}").tzinfo

    def deadline_for(self, severity: Severity | str, found_at: dt.datetime) -> dt.datetime:
        days = self.deadline_days[Severity.parse(severity).value]
        return found_at + dt.timedelta(days=days)

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        return {
            "deadline_days": dict(self.deadline_days),
            "max_distance_m": self.max_distance_m,
            "duplicate_radius_m": self.duplicate_radius_m,
            "default_half_width_m": self.default_half_width_m,
            "zone_widths": {k: list(v) for k, v in self.zones.widths.items()},
            "zone_bands": list(self.zones.bands),
            "zone_unknown_area_class": self.zones.unknown_area_class,
            "lead_overrides": dict(self.lead_overrides),
            "extra_categories": [
                {"key": c.key, "zh": c.zh, "en": c.en, "lead": c.lead.value}
                for c in self.extra_categories
            ],
            "patrol_rule": dict(self.patrol_rule),
            "lang": self.lang,
            "default_actor": self.default_actor,
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        data = dict(data)
        zones = ZoneRules(
            widths={k: tuple(v) for k, v in data.pop("zone_widths", {}).items()},
            bands=tuple(data.pop("zone_bands", (200, 500, 1000))),
            unknown_area_class=data.pop("zone_unknown_area_class", "other"),
        )
        extra = tuple(Category(**c) for c in data.pop("extra_categories", ()))
        known = {f.name for f in attrs.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown setting {sorted(unknown)[0]!r}")
        return cls(zones=zones, extra_categories=extra, **data)
