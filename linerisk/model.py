"""Value types of a risk register: frozen, validated attrs classes and enums.

No I/O and no printing here. Geometries are shapely objects in the register's
projected (metric) CRS unless a docstring says otherwise.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from linerisk.chainage import Chainage, format_chainage
from linerisk.convert import as_bool, as_float, as_int, as_tuple

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

__all__ = [
    "BUILTIN_CATEGORIES",
    "Action",
    "AreaClass",
    "Band",
    "Category",
    "CategoryCatalog",
    "ChainBreak",
    "Event",
    "Fence",
    "FenceCondition",
    "KmPost",
    "Line",
    "Location",
    "Neighbourhood",
    "Parties",
    "PoliceArea",
    "Risk",
    "Segment",
    "Severity",
    "Side",
    "Status",
    "Vertical",
    "Zone",
]


#: per enum: every accepted spelling (key, lower-case English label, Chinese label) → member
_SPELLINGS: dict[type, dict[str, Any]] = {}


class _Labelled(StrEnum):
    """A string enum whose members carry a Chinese and an English label."""

    def label(self, lang: str = "zh") -> str:
        zh, en = _LABELS[type(self).__name__][self.value]
        return zh if lang == "zh" else en

    @classmethod
    def parse(cls, text: str | _Labelled) -> _Labelled:
        """Accept the key (``major``), the English or the Chinese label (``较大``)."""
        if isinstance(text, cls):
            return text
        table = _SPELLINGS.get(cls)
        if table is None:
            table = _SPELLINGS[cls] = {}
            for member in cls:
                zh, en = _LABELS[cls.__name__][member.value]
                table.update({member.value: member, en.lower(): member, zh: member})
        norm = str(text).strip()
        member = table.get(norm) or table.get(norm.lower())
        if member is not None:
            return member
        choices = ", ".join(f"{m.value} ({m.label('zh')})" for m in cls)
        raise ValueError(f"unknown {_KIND_NAMES[cls.__name__]} {text!r}; choose one of {choices}")


class Severity(_Labelled):
    CRITICAL = "critical"
    MAJOR = "major"
    GENERAL = "general"


class Status(_Labelled):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    AWAITING_RECHECK = "awaiting_recheck"
    CLEARED = "cleared"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in (Status.CLEARED, Status.WITHDRAWN)


class Side(_Labelled):
    LEFT = "left"
    RIGHT = "right"

    @property
    def sign(self) -> int:
        """+1 for left (positive offset), -1 for right."""
        return 1 if self is Side.LEFT else -1


class AreaClass(_Labelled):
    URBAN = "urban"
    SUBURBAN = "suburban"
    VILLAGE = "village"
    OTHER = "other"


class Vertical(_Labelled):
    """The three verticals (三纵)."""

    POLICE = "police"
    RAILWAY = "railway"
    LOCAL = "local"


class Band(_Labelled):
    """Distance band from the formation edge, nearest first."""

    PROTECTION_ZONE = "protection_zone"
    WITHIN_200M = "within_200m"
    WITHIN_500M = "within_500m"
    WITHIN_1000M = "within_1000m"
    BEYOND_1000M = "beyond_1000m"


class FenceCondition(_Labelled):
    INTACT = "intact"
    DAMAGED = "damaged"


class Action(_Labelled):
    """What an event did to a risk."""

    REPORT = "report"
    ASSIGN = "assign"
    START = "start"
    SUBMIT = "submit"
    CLEAR = "clear"
    REWORK = "rework"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"
    MOVE = "move"
    EDIT = "edit"


_KIND_NAMES = {
    "Severity": "severity",
    "Status": "status",
    "Side": "side",
    "AreaClass": "area class",
    "Vertical": "vertical",
    "Band": "distance band",
    "FenceCondition": "fence condition",
    "Action": "action",
}

_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "Severity": {
        "critical": ("重大", "critical"),
        "major": ("较大", "major"),
        "general": ("一般", "general"),
    },
    "Status": {
        "reported": ("已登记", "reported"),
        "assigned": ("已交办", "assigned"),
        "rectifying": ("整改中", "rectifying"),
        "awaiting_recheck": ("待复查", "awaiting re-inspection"),
        "cleared": ("已销号", "cleared"),
        "withdrawn": ("已撤销", "withdrawn"),
    },
    "Side": {"left": ("左侧", "left"), "right": ("右侧", "right")},
    "AreaClass": {
        "urban": ("城市市区", "city urban area"),
        "suburban": ("城市郊区居民居住区", "suburban residential area"),
        "village": ("村镇居民居住区", "village or town residential area"),
        "other": ("其他地区", "other areas"),
    },
    "Vertical": {
        "police": ("公安", "police"),
        "railway": ("铁路", "railway"),
        "local": ("地方", "local government"),
    },
    "Band": {
        "protection_zone": ("保护区内", "inside the protection zone"),
        "within_200m": ("200米内", "within 200 m"),
        "within_500m": ("500米内", "within 500 m"),
        "within_1000m": ("1000米内", "within 1000 m"),
        "beyond_1000m": ("1000米外", "beyond 1000 m"),
    },
    "FenceCondition": {"intact": ("完好", "intact"), "damaged": ("破损", "damaged")},
    "Action": {
        "report": ("登记", "reported"),
        "assign": ("交办", "assigned"),
        "start": ("开始整改", "rectification started"),
        "submit": ("申请复查", "submitted for re-inspection"),
        "clear": ("复查销号", "cleared after re-inspection"),
        "rework": ("退回整改", "returned for rework"),
        "withdraw": ("撤销", "withdrawn"),
        "reopen": ("重新打开", "reopened"),
        "move": ("更正位置", "location corrected"),
        "edit": ("修改", "edited"),
    },
}


# --------------------------------------------------------------------------- categories

_KEY = re.compile(r"[a-z][a-z0-9_]*")


@attrs.frozen
class Category:
    """A hazard category: a stable English key, labels, and the vertical that leads."""

    key: str = attrs.field()
    zh: str = attrs.field()
    en: str = attrs.field()
    lead: Vertical = attrs.field(converter=Vertical.parse)

    @key.validator
    def _check_key(self, _a: attrs.Attribute, value: str) -> None:
        if not _KEY.fullmatch(value):
            raise ValueError(f"category key {value!r} must be lower-case letters, digits and _")

    @zh.validator
    @en.validator
    def _check_label(self, attr: attrs.Attribute, value: str) -> None:
        if not value or not value.strip():
            raise ValueError(f"category {attr.name} label must not be empty")

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


def _cat(key: str, zh: str, en: str, lead: str) -> Category:
    return Category(key, zh, en, lead)


#: The categories of DOMAIN.md with their default lead vertical.
BUILTIN_CATEGORIES: tuple[Category, ...] = (
    _cat("fence_damage", "护网破损", "fence damage", "railway"),
    _cat("illegal_crossing", "非法穿越", "illegal crossing", "police"),
    _cat("light_floating_object", "轻质飘浮物", "light floating object", "local"),
    _cat("hard_floating_object", "硬质飘浮物", "hard floating object", "local"),
    _cat("kite_balloon_drone", "风筝气球无人机", "kite, balloon or drone", "police"),
    _cat("tree_encroachment", "树木侵限", "tree encroachment", "railway"),
    _cat("illegal_construction", "违法施工", "illegal construction", "local"),
    _cat("illegal_building", "违建违占", "illegal building or occupation", "local"),
    _cat("garbage", "垃圾堆积", "rubbish", "local"),
    _cat("burning", "烧荒", "open burning", "local"),
    _cat("livestock", "牲畜上道", "livestock near the line", "local"),
    _cat("water_extraction", "违法取水", "illegal water extraction", "local"),
    _cat("mining_blasting", "采矿爆破", "mining or blasting", "local"),
    _cat("sand_soil_digging", "挖沙取土", "sand or soil digging", "local"),
    _cat("farm_machinery", "农机具侵限", "farm machinery encroachment", "local"),
    _cat("stone_throwing", "击打列车", "stone throwing at trains", "police"),
    _cat("level_crossing", "道口隐患", "level crossing hazard", "railway"),
    _cat("flood_geology", "水害地质", "flooding or geological hazard", "railway"),
    _cat("cable_theft", "盗割电缆", "cable theft", "police"),
)


@attrs.frozen
class CategoryCatalog:
    """The categories a register knows: the built-in ones plus a site's own.

    >>> cat = CategoryCatalog.default()
    >>> cat.get("垃圾堆积").key
    'garbage'
    """

    categories: tuple[Category, ...] = attrs.field(converter=as_tuple)

    @categories.validator
    def _unique(self, _a: attrs.Attribute, value: tuple[Category, ...]) -> None:
        seen: set[str] = set()
        for c in value:
            for name in (c.key, c.zh):
                if name in seen:
                    raise ValueError(f"category {name!r} is defined twice")
                seen.add(name)

    @classmethod
    def default(cls) -> CategoryCatalog:
        return cls(BUILTIN_CATEGORIES)

    def with_category(self, category: Category) -> CategoryCatalog:
        """A catalog with ``category`` added (or replacing one with the same key)."""
        kept = [c for c in self.categories if c.key != category.key]
        return CategoryCatalog([*kept, category])

    def with_leads(self, leads: Mapping[str, str | Vertical]) -> CategoryCatalog:
        """A catalog whose lead vertical is changed for the given category keys."""
        unknown = set(leads) - set(self.keys())
        if unknown:
            raise ValueError(f"unknown category {sorted(unknown)[0]!r}")
        return CategoryCatalog(
            attrs.evolve(c, lead=leads[c.key]) if c.key in leads else c for c in self.categories
        )

    def keys(self) -> list[str]:
        return [c.key for c in self.categories]

    def get(self, name: str) -> Category:
        """Look a category up by key, English label or Chinese name."""
        norm = str(name).strip()
        for c in self.categories:
            if norm in (c.key, c.zh) or norm.lower() == c.en.lower():
                return c
        raise ValueError(
            f"unknown category {name!r}; known categories are "
            + ", ".join(f"{c.key} ({c.zh})" for c in self.categories)
        )

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __contains__(self, name: object) -> bool:
        try:
            self.get(str(name))
        except ValueError:
            return False
        return True


# --------------------------------------------------------------------------- validators


def _non_empty(_inst: Any, attr: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not value or value.isspace():
        raise ValueError(f"{attr.name} must be a non-empty string")


#: set while rebuilding objects from a register's own layers, whose geometries were
#: checked for validity when they were imported (``linerisk check`` re-checks files
#: edited by other tools); a context variable, so other threads are unaffected
_TRUSTED_GEOMETRY: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "linerisk_trusted_geometry", default=False
)


@contextlib.contextmanager
def trusted_geometries() -> Iterator[None]:
    """Skip the per-object geometry checks while building model objects from
    geometries already checked: validity when they were imported, type and
    emptiness by the caller for a whole layer at once."""
    token = _TRUSTED_GEOMETRY.set(True)
    try:
        yield
    finally:
        _TRUSTED_GEOMETRY.reset(token)


def _geom_of(*types: str):
    def check(_inst: Any, attr: attrs.Attribute, value: BaseGeometry | None) -> None:
        if value is None or _TRUSTED_GEOMETRY.get():
            return
        import shapely
        from shapely.geometry.base import BaseGeometry

        if not isinstance(value, BaseGeometry) or value.geom_type not in types:
            raise ValueError(f"{attr.name} must be a {' or '.join(types)}, not {value!r}")
        if value.is_empty:
            raise ValueError(f"{attr.name} must not be empty")
        if not shapely.is_valid(value):
            raise ValueError(f"{attr.name} is not a valid geometry")

    return check


def _non_negative(_inst: Any, attr: attrs.Attribute, value: float | None) -> None:
    if value is not None and not value >= 0:
        raise ValueError(f"{attr.name} must be >= 0, not {value!r}")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _aware(value: dt.datetime | str) -> dt.datetime:
    """Parse ISO text; a naive time is refused, so events can be ordered across zones."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise ValueError(f"not a date and time: {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"time {value.isoformat()} needs a time zone, e.g. +08:00")
    return value


# --------------------------------------------------------------------------- network


@attrs.frozen
class Line:
    """A railway line: centreline digitised in the direction of increasing chainage."""

    id: str = attrs.field(validator=_non_empty)
    name_zh: str = attrs.field(validator=_non_empty)
    name_en: str = attrs.field(validator=_non_empty)
    geometry: BaseGeometry = attrs.field(validator=_geom_of("LineString"))
    start_chainage: float = attrs.field(converter=as_float, validator=_non_negative)
    high_speed: bool = attrs.field(default=False, converter=as_bool)
    design_speed_kmh: int | None = None
    tracks: int = attrs.field(default=1, converter=as_int)
    prefix: str = "K"

    @tracks.validator
    def _check_tracks(self, _a: attrs.Attribute, value: int) -> None:
        if value < 1:
            raise ValueError("a line has at least one track")

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


@attrs.frozen
class KmPost:
    """A kilometre post (公里标): a point of known chainage on a line."""

    line: str = attrs.field(validator=_non_empty)
    chainage: float = attrs.field(converter=as_float, validator=_non_negative)
    geometry: BaseGeometry = attrs.field(validator=_geom_of("Point"))


@attrs.frozen
class ChainBreak:
    """A chain break (断链): chainage jumps from ``back`` to ``ahead`` at one point."""

    line: str = attrs.field(validator=_non_empty)
    back: float = attrs.field(converter=as_float, validator=_non_negative)
    ahead: float = attrs.field(converter=as_float, validator=_non_negative)
    geometry: BaseGeometry | None = attrs.field(default=None, validator=_geom_of("Point"))
    note: str = ""

    @ahead.validator
    def _differs(self, _a: attrs.Attribute, value: float) -> None:
        if value == self.back:
            raise ValueError("a chain break needs different back and ahead chainages")

    @property
    def kind(self) -> str:
        """``short`` (短链: chainage skips) or ``long`` (长链: chainage repeats)."""
        return "short" if self.ahead > self.back else "long"

    @property
    def length(self) -> float:
        return abs(self.ahead - self.back)


def _check_range(inst: Any, _a: attrs.Attribute, value: float) -> None:
    if not value > inst.from_chainage:
        raise ValueError(
            f"chainage range {format_chainage(inst.from_chainage)}-{format_chainage(value)} "
            "must increase"
        )


@attrs.frozen
class Segment:
    """A stretch of line in the care of one work area, by chainage range.

    ``patrol_per_week`` is how many times a week the works section patrols it;
    the formation half-widths are the distances from the centreline to the
    formation edge (embankment toe, cutting top, bridge edge) on each side, from
    which protection-zone widths are measured.
    """

    id: str = attrs.field(validator=_non_empty)
    line: str = attrs.field(validator=_non_empty)
    from_chainage: float = attrs.field(converter=as_float, validator=_non_negative)
    to_chainage: float = attrs.field(converter=as_float, validator=_check_range)
    works_section: str = attrs.field(validator=_non_empty)
    workshop: str = attrs.field(validator=_non_empty)
    work_area: str = attrs.field(validator=_non_empty)
    area_class: AreaClass = attrs.field(converter=AreaClass.parse)
    patrol_per_week: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_non_negative
    )
    formation_half_width_left_m: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_non_negative
    )
    formation_half_width_right_m: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_non_negative
    )
    geometry: BaseGeometry | None = attrs.field(
        default=None, validator=_geom_of("LineString", "MultiLineString")
    )

    def half_width(self, side: Side, default: float) -> float:
        value = (
            self.formation_half_width_left_m
            if side is Side.LEFT
            else self.formation_half_width_right_m
        )
        return default if value is None else value


@attrs.frozen
class PoliceArea:
    """The ground of one railway police station (派出所)."""

    id: str = attrs.field(validator=_non_empty)
    name: str = attrs.field(validator=_non_empty)
    geometry: BaseGeometry = attrs.field(validator=_geom_of("Polygon", "MultiPolygon"))
    name_en: str = ""
    parent: str = ""


@attrs.frozen
class Neighbourhood:
    """A community or village with its street office/town and district (地方)."""

    id: str = attrs.field(validator=_non_empty)
    district: str = attrs.field(validator=_non_empty)
    street_office: str = attrs.field(validator=_non_empty)
    community: str = attrs.field(validator=_non_empty)
    geometry: BaseGeometry = attrs.field(validator=_geom_of("Polygon", "MultiPolygon"))


@attrs.frozen
class Fence:
    """A piece of protective fencing on one side of a line."""

    id: str = attrs.field(validator=_non_empty)
    line: str = attrs.field(validator=_non_empty)
    side: Side = attrs.field(converter=Side.parse)
    from_chainage: float = attrs.field(converter=as_float, validator=_non_negative)
    to_chainage: float = attrs.field(converter=as_float, validator=_check_range)
    condition: FenceCondition = attrs.field(converter=FenceCondition.parse)
    kind: str = "wire_mesh"
    geometry: BaseGeometry | None = attrs.field(
        default=None, validator=_geom_of("LineString", "MultiLineString")
    )


# --------------------------------------------------------------------------- where and who


@attrs.frozen
class Parties:
    """Who answers for a point in each of the three verticals.

    ``None`` means the point lies outside every area of that kind; such a gap
    is listed in :attr:`uncovered` so it is never a silent null.
    """

    police: str | None = None
    works_section: str | None = None
    workshop: str | None = None
    work_area: str | None = None
    district: str | None = None
    street_office: str | None = None
    community: str | None = None
    segment: str | None = None

    @property
    def uncovered(self) -> tuple[Vertical, ...]:
        gaps = []
        if self.police is None:
            gaps.append(Vertical.POLICE)
        if self.works_section is None:
            gaps.append(Vertical.RAILWAY)
        if self.street_office is None:
            gaps.append(Vertical.LOCAL)
        return tuple(gaps)

    def party(self, vertical: Vertical) -> str | None:
        """The unit that acts for ``vertical``: the police station, the workshop, the
        street office or town."""
        return {
            Vertical.POLICE: self.police,
            Vertical.RAILWAY: self.workshop,
            Vertical.LOCAL: self.street_office,
        }[vertical]


@attrs.frozen
class Zone:
    """Where a point stands against the line protection rules."""

    area_class: AreaClass | None
    width_m: float | None
    distance_m: float
    band: Band

    @property
    def inside_protection_zone(self) -> bool:
        return self.band is Band.PROTECTION_ZONE


@attrs.frozen
class Location:
    """Where a point is on the railway: line, chainage, side and offset.

    ``measure_m`` is the geometric distance along the centreline from its first
    vertex; ``chainage_m`` the calibrated chainage; ``offset_m`` the
    perpendicular distance from the centreline (always >= 0, with ``side``).
    ``x``/``y`` are in the register's projected CRS.
    """

    line: str
    measure_m: float
    chainage_m: float
    side: Side = attrs.field(converter=Side.parse)
    offset_m: float = attrs.field(validator=_non_negative)
    x: float
    y: float
    prefix: str = "K"

    @property
    def chainage(self) -> str:
        return format_chainage(Chainage(self.chainage_m, self.prefix), decimals=1)

    def describe(self, lang: str = "zh") -> str:
        offset = f"{self.offset_m:.0f}"
        if lang == "zh":
            return f"{self.line} {self.chainage} {self.side.label('zh')} 距线路中心{offset}米"
        return f"{self.line} {self.chainage}, {self.side.value} side, {offset} m off the track"


# --------------------------------------------------------------------------- risks


@attrs.frozen
class Risk:
    """A risk point (隐患) in the register with where it is and who must act."""

    id: int | None
    category: str = attrs.field(validator=_non_empty)
    severity: Severity = attrs.field(converter=Severity.parse)
    status: Status = attrs.field(converter=Status.parse)
    location: Location
    parties: Parties
    zone: Zone
    lead: Vertical = attrs.field(converter=Vertical.parse)
    found_at: dt.datetime = attrs.field(converter=_aware)
    found_by: str = attrs.field(validator=_non_empty)
    deadline: dt.datetime = attrs.field(converter=_aware)
    description: str = ""
    note: str = ""
    located_by: str = "coordinates"
    ref: str = ""
    cleared_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def lead_party(self) -> str | None:
        return self.parties.party(self.lead)

    def is_overdue(self, on: dt.datetime | dt.date) -> bool:
        """Open and past its deadline at ``on`` (a date means 23:59:59 that day, the
        end of day the register's queries use)."""
        if not self.is_open:
            return False
        if not isinstance(on, dt.datetime):
            on = dt.datetime.combine(on, dt.time(23, 59, 59), tzinfo=self.deadline.tzinfo)
        return on > self.deadline


@attrs.frozen
class Event:
    """One entry of a risk's append-only history."""

    seq: int
    risk_id: int
    at: dt.datetime = attrs.field(converter=_aware)
    actor: str = attrs.field(validator=_non_empty)
    action: Action = attrs.field(converter=Action.parse)
    from_status: Status | None = attrs.field(converter=attrs.converters.optional(Status.parse))
    to_status: Status | None = attrs.field(converter=attrs.converters.optional(Status.parse))
    note: str = ""
    data: Mapping[str, Any] = attrs.field(factory=dict)
    prev_hash: str = ""
    hash: str = ""


def iter_labels(enum_type: type[_Labelled], lang: str = "zh") -> Iterable[tuple[str, str]]:
    """(key, label) pairs of an enum, for help texts and legends."""
    return [(m.value, m.label(lang)) for m in enum_type]
