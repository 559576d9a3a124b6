"""What a joint meeting covers: a stretch of line, a police area or a neighbourhood.

A :class:`Scope` is resolved once against the network into chainage ranges per
line (with their measures, so chain breaks cause no trouble) and a bounding
box. Maps, the straight-line diagram and the agenda all draw "the same scope".

    >>> from linerisk.sample import load_sample_network
    >>> net = load_sample_network()
    >>> scope = resolve_scope(net, line="JD", start="K5+000", end="K8+000")
    >>> [r.label for r in scope.ranges]
    ['K5+000-K8+000']
    >>> resolve_scope(net, police="军粮城站派出所").ranges[0].label
    'K11+300-K22+637'

A risk belongs to a scope when its line and measure fall in one of the ranges,
or when the police station, street office/town or community answering for it
is the one the scope was chosen by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import shapely

from linerisk.calibration import ChainageStatus
from linerisk.chainage import format_chainage, parse_chainage
from linerisk.errors import LineriskError
from linerisk.model import Status as _Status
from linerisk.store.base import Ground

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.model import Risk
    from linerisk.network import Network

__all__ = [
    "Scope",
    "ScopeRange",
    "register_for_scope",
    "resolve_scope",
    "risk_rows_as_of",
    "risks_in_scope",
]

#: ranges closer than this (metres along the line) are merged into one
_MERGE_M = 1.0
#: a range or a piece of line shorter than this is dropped
_MIN_M = 1.0


@attrs.frozen
class ScopeRange:
    """A stretch of one line, by measure (metres along the geometry) and chainage."""

    line: str
    from_measure: float
    to_measure: float
    from_chainage: float
    to_chainage: float
    prefix: str = "K"

    @property
    def label(self) -> str:
        return (
            f"{format_chainage(self.from_chainage, prefix=self.prefix, decimals=0)}-"
            f"{format_chainage(self.to_chainage, prefix=self.prefix, decimals=0)}"
        )

    @property
    def length(self) -> float:
        return self.to_measure - self.from_measure

    def overlap(self, m0: float, m1: float) -> tuple[float, float] | None:
        """The part of measures [m0, m1] inside this range, or None."""
        lo = max(self.from_measure, m0)
        hi = min(self.to_measure, m1)
        return (lo, hi) if hi - lo > 1e-6 else None


#: metres beyond the ends of a scope's ranges still in the scope
MEASURE_TOLERANCE = 0.5


@attrs.frozen
class Scope:
    """The ground a joint meeting covers.

    ``kind`` is ``network`` (everything), ``line``, ``police`` or
    ``neighbourhood``; ``name`` is what the user chose it by. ``bbox`` is in
    the register CRS.
    """

    kind: str
    name: str
    ranges: tuple[ScopeRange, ...]
    bbox: tuple[float, float, float, float]
    police: frozenset[str] = frozenset()
    street_offices: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()

    @property
    def lines(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for r in self.ranges:
            seen.setdefault(r.line, None)
        return tuple(seen)

    def ranges_of(self, line: str) -> tuple[ScopeRange, ...]:
        return tuple(r for r in self.ranges if r.line == line)

    def contains_measure(
        self, line: str, measure: float, tolerance: float = MEASURE_TOLERANCE
    ) -> bool:
        return any(
            r.from_measure - tolerance <= measure <= r.to_measure + tolerance
            for r in self.ranges
            if r.line == line
        )

    def contains(self, risk: Risk) -> bool:
        """Whether ``risk`` is on the table at a meeting on this scope."""
        p = risk.parties
        if p.police is not None and p.police in self.police:
            return True
        if p.street_office is not None and p.street_office in self.street_offices:
            return True
        if p.community is not None and p.community in self.communities:
            return True
        return self.contains_measure(risk.location.line, risk.location.measure_m)

    @property
    def ground(self) -> Ground | None:
        """The rule of :meth:`contains` as a store filter (None for the whole
        network), so that a register returns only the scope's risks."""
        if self.kind == "network":
            return None
        return Ground(
            police=tuple(sorted(self.police)),
            street_offices=tuple(sorted(self.street_offices)),
            communities=tuple(sorted(self.communities)),
            ranges=tuple(
                (r.line, r.from_measure - MEASURE_TOLERANCE, r.to_measure + MEASURE_TOLERANCE)
                for r in self.ranges
            ),
        )

    def select(self, risks: Iterable[Risk]) -> list[Risk]:
        return [r for r in risks if self.contains(r)]

    def select_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The store rows (dicts with the register's risk columns) in this scope.

        The same rule as :meth:`contains`, for many risks at once without
        building :class:`~linerisk.model.Risk` objects.
        """
        if not rows:
            return []
        n = len(rows)
        keep = np.zeros(n, dtype=bool)
        for column, names in (
            ("police", self.police),
            ("street_office", self.street_offices),
            ("community", self.communities),
        ):
            if names:
                keep |= np.array([r[column] in names for r in rows], dtype=bool)
        lines = np.array([r["line"] for r in rows], dtype=object)
        measures = np.array([r["measure_m"] for r in rows], dtype=float)
        for rng in self.ranges:
            keep |= (
                (lines == rng.line)
                & (measures >= rng.from_measure - MEASURE_TOLERANCE)
                & (measures <= rng.to_measure + MEASURE_TOLERANCE)
            )
        return [r for r, k in zip(rows, keep, strict=True) if k]

    def title(self, network: Network, lang: str = "zh") -> str:
        """A short heading such as ``津东线 K5+000-K8+000``."""
        if self.kind == "police" and lang != "zh":
            english = [p.name_en for p in network.police_areas if p.name == self.name and p.name_en]
            return f"{self.name} ({english[0]})" if english else self.name
        if self.kind in ("police", "neighbourhood"):
            return self.name
        parts = []
        for line_id in self.lines:
            line = network.line(line_id)
            spans = "、".join(r.label for r in self.ranges_of(line_id))
            parts.append(f"{line.name(lang)} {spans}")
        return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _range(net: Network, line_id: str, m0: float, m1: float) -> ScopeRange:
    line = net.line(line_id)
    cal = net.calibration(line_id)
    c0, c1 = (float(v) for v in cal.chainage_at(np.array([m0, m1])))
    return ScopeRange(line_id, float(m0), float(m1), c0, c1, line.prefix)


def _bbox(
    net: Network, ranges: Iterable[ScopeRange], extra: Iterable[shapely.Geometry] = ()
) -> tuple[float, float, float, float]:
    from shapely.ops import substring

    geoms = [
        substring(net.line(r.line).geometry, r.from_measure, r.to_measure) for r in ranges
    ] + list(extra)
    if not geoms:
        raise LineriskError("the scope holds no part of any line")
    bounds = shapely.total_bounds(np.asarray(geoms, dtype=object))
    pad = 200.0
    return (
        float(bounds[0] - pad),
        float(bounds[1] - pad),
        float(bounds[2] + pad),
        float(bounds[3] + pad),
    )


def _ranges_in(net: Network, area: shapely.Geometry) -> list[ScopeRange]:
    """The stretches of every line that run inside ``area``."""
    out: list[ScopeRange] = []
    for i, line in enumerate(net.lines):
        inside = shapely.intersection(line.geometry, area)
        if inside.is_empty:
            continue
        spans = []
        for part in shapely.get_parts(inside):
            if part.geom_type != "LineString" or part.length < _MIN_M:
                continue
            coords = shapely.get_coordinates(part)
            ends = shapely.points(coords[[0, -1]])
            m = shapely.line_locate_point(line.geometry, ends)
            spans.append((float(m.min()), float(m.max())))
        spans.sort()
        merged: list[list[float]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1] + _MERGE_M:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        length = float(net.index.lengths[i])
        for a, b in merged:
            a, b = max(a, 0.0), min(b, length)
            if b - a >= _MIN_M:
                out.append(_range(net, line.id, a, b))
    return out


def _line_scope(net: Network, line: str, start, end) -> Scope:
    li = net.line_index(line)
    ln = net.lines[li]
    length = float(net.index.lengths[li])
    cal = net.calibration(line)
    lo_ch, hi_ch = net.chainage_extent(line)
    measures = []
    for value, default, word in ((start, 0.0, "start"), (end, length, "end")):
        if value is None:
            measures.append(default)
            continue
        try:
            ch = parse_chainage(value).metres
        except ValueError as exc:
            raise LineriskError(str(exc)) from None
        m, status = cal.measures_at(np.array([ch]))
        if status[0] == ChainageStatus.NONEXISTENT:
            raise LineriskError(
                f"the {word} chainage {format_chainage(ch, prefix=ln.prefix)} does not exist on "
                f"line {line}: it lies inside a short chain (断链)"
            )
        if m[0] < -0.5 or m[0] > length + 0.5:
            raise LineriskError(
                f"the {word} chainage {format_chainage(ch, prefix=ln.prefix)} is outside line "
                f"{line}, which runs from {format_chainage(lo_ch, prefix=ln.prefix, decimals=0)} "
                f"to {format_chainage(hi_ch, prefix=ln.prefix, decimals=0)}"
            )
        measures.append(float(np.clip(m[0], 0.0, length)))
    m0, m1 = measures
    if m1 - m0 < _MIN_M:
        raise LineriskError(
            "the scope must run forward along the line: give --from before --to "
            "(in the direction of increasing chainage)"
        )
    rng = _range(net, line, m0, m1)
    if start is not None:
        rng = attrs.evolve(rng, from_chainage=parse_chainage(start).metres)
    if end is not None:
        rng = attrs.evolve(rng, to_chainage=parse_chainage(end).metres)
    name = f"{ln.name_zh} {rng.label}"
    return Scope("line", name, (rng,), _bbox(net, [rng]))


def _known(names: Iterable[str], limit: int = 8) -> str:
    uniq = list(dict.fromkeys(n for n in names if n))
    more = "" if len(uniq) <= limit else f" and {len(uniq) - limit} more"
    return ", ".join(uniq[:limit]) + more


def _police_scope(net: Network, name: str) -> Scope:
    key = name.strip()
    areas = [
        p for p in net.police_areas if key in (p.name, p.id) or key.lower() == p.name_en.lower()
    ]
    if not areas:
        raise LineriskError(
            f"no police area is called {name!r}; the register has "
            f"{_known(p.name for p in net.police_areas) or 'none'}"
        )
    union = shapely.union_all([a.geometry for a in areas])
    ranges = _ranges_in(net, union)
    bbox = _bbox(net, ranges, [union])
    names = frozenset(a.name for a in areas)
    return Scope("police", areas[0].name, tuple(ranges), bbox, police=names)


def _neighbourhood_scope(net: Network, name: str) -> Scope:
    key = name.strip()
    offices = [n for n in net.neighbourhoods if n.street_office == key]
    communities = [n for n in net.neighbourhoods if key in (n.community, n.id)]
    cells = offices or communities
    if not cells:
        raise LineriskError(
            f"no street office, town or community is called {name!r}; the register has "
            f"{_known(n.street_office for n in net.neighbourhoods) or 'none'} "
            "(or one of their communities and villages)"
        )
    union = shapely.union_all([c.geometry for c in cells])
    ranges = _ranges_in(net, union)
    bbox = _bbox(net, ranges, [union])
    if offices:
        return Scope(
            "neighbourhood",
            offices[0].street_office,
            tuple(ranges),
            bbox,
            street_offices=frozenset({offices[0].street_office}),
        )
    return Scope(
        "neighbourhood",
        cells[0].community,
        tuple(ranges),
        bbox,
        communities=frozenset(c.community for c in cells),
    )


def resolve_scope(
    network: Network,
    *,
    line: str | None = None,
    start: str | float | None = None,
    end: str | float | None = None,
    police: str | None = None,
    neighbourhood: str | None = None,
) -> Scope:
    """Resolve what the user chose into a :class:`Scope`.

    Give at most one of ``line`` (with optional ``start`` and ``end``
    chainages), ``police`` (a police station's name or id) or
    ``neighbourhood`` (a street office or town, or a community or village).
    With none of them the scope is the whole network.
    """
    network = getattr(network, "network", network)  # accept a Register too
    given = (("line", line), ("police", police), ("neighbourhood", neighbourhood))
    chosen = [n for n, v in given if v]
    if len(chosen) > 1:
        raise LineriskError(
            "choose the scope one way: a line (with --from/--to), a police area or a "
            "neighbourhood, not " + " and ".join(chosen)
        )
    if (start is not None or end is not None) and not line:
        raise LineriskError("--from and --to need --line")
    if line:
        return _line_scope(network, line, start, end)
    if police:
        return _police_scope(network, police)
    if neighbourhood:
        return _neighbourhood_scope(network, neighbourhood)
    ranges = [
        _range(network, ln.id, 0.0, float(network.index.lengths[i]))
        for i, ln in enumerate(network.lines)
    ]
    name = "、".join(ln.name_zh for ln in network.lines)
    return Scope("network", name, tuple(ranges), _bbox(network, ranges))


class ScopedRegister:
    """A register read through the part of its network around one scope: what
    :func:`register_for_scope` gives. ``network`` is that part; every other
    attribute is the register's own."""

    def __init__(self, register: Any, network: Network) -> None:
        self._register = register
        self.network = network

    def __getattr__(self, name: str) -> Any:
        return getattr(self._register, name)


def register_for_scope(
    register: Any,
    *,
    line: str | None = None,
    start: str | float | None = None,
    end: str | float | None = None,
    police: str | None = None,
    neighbourhood: str | None = None,
) -> Any:
    """``register`` as a meeting on a scope (the arguments of :func:`resolve_scope`)
    reads it: with only the part of its network on and around the scope's ground
    (every line that comes within twice ``max_distance_m`` of it, whole, with its
    posts, breaks, segments and fences, and the police areas and neighbourhoods
    there), read through the spatial indexes. A scope resolved on it, and the
    agenda and map made from it, are those of the whole network (the tests
    compare them); on a national register they take seconds instead of the
    whole network's load. The register itself for the whole network, when its
    network is loaded already, or when the scope's name is not in the register
    (the whole network's refusal then names what it has)."""
    from linerisk.store.rows import network_around

    if register.network_loaded:
        return register
    store = register.store
    ids: list[str] = []
    if police and not (line or neighbourhood):
        key = police.strip()
        rows = store.read_layer("police_areas", geometry=False)[0]
        ids = [
            r["id"]
            for r in rows
            if key in (r["name"], r["id"]) or key.lower() == (r["name_en"] or "").lower()
        ]
        kind = "police_areas"
    elif neighbourhood and not (line or police):
        key = neighbourhood.strip()
        rows = store.read_layer("neighbourhoods", geometry=False)[0]
        ids = [r["id"] for r in rows if r["street_office"] == key]
        ids = ids or [r["id"] for r in rows if key in (r["community"], r["id"])]
        kind = "neighbourhoods"
    elif line and not (police or neighbourhood):
        ids, kind = [line], "lines"
    if not ids or len(ids) > 500:
        return register
    _rows, geoms = store.read_layer(kind, where={"id": ids})
    geoms = [g for g in geoms if g is not None]
    if not geoms:
        return register
    box = tuple(float(v) for v in shapely.total_bounds(np.asarray(geoms, dtype=object)))
    part = network_around(store, register.settings, box, 2.0 * register.settings.max_distance_m)
    return register if part is None else ScopedRegister(register, part)


def risks_in_scope(register, scope: Scope) -> list[Risk]:
    """The register's risks (every status) that belong to ``scope``, by id."""
    return scope.select(register.risks(ground=scope.ground))


#: the columns :func:`risk_rows_as_of` itself reads
_AS_OF_COLUMNS = (
    "status", "found_at", "deadline", "cleared_at", "line", "measure_m", "police",
    "street_office", "community",
)  # fmt: skip


def risk_rows_as_of(
    register, scope: Scope, on: dt.datetime, columns: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The scope's risks as they stood at ``on``, as store rows with their history.

    A risk found after ``on`` is left out. Each row's ``status``, ``deadline``
    and ``cleared_at`` are those its history records by ``on`` (a reopened
    risk carries the fresh deadline it was given), and ``events`` holds its
    event rows up to ``on``, oldest first. Locations and parties are the
    register's current ones. Open risks come first, then by id. With
    ``columns``, rows hold those (and what this function needs), not every one.

    Rows rather than :class:`~linerisk.model.Risk` objects, and one pass over
    the event log, so that a map of thousands of risks stays quick.
    """
    if columns is not None:
        columns = [*_AS_OF_COLUMNS, *columns]
    ground = scope.ground
    rows = scope.select_rows(register.store.find_risks(register.query(ground=ground), columns))
    ids = {r["id"] for r in rows}
    events: dict[int, list[dict[str, Any]]] = {}
    # the whole log at once for the whole network; the scope's risks' events
    # through the log's index otherwise
    for ev in register.store.history_rows(None if ground is None else ids):
        if ev["risk_id"] in ids:
            events.setdefault(ev["risk_id"], []).append(ev)
    # whether a time is on or before ``on``, each distinct text parsed once
    by: dict[str, bool] = {}

    def by_on(text: str) -> bool:
        try:
            return by[text]
        except KeyError:
            result = by[text] = dt.datetime.fromisoformat(text) <= on
            return result

    out = []
    for row in rows:
        if not by_on(row["found_at"]):
            continue
        seen = [e for e in events.get(row["id"], ()) if by_on(e["at"])]
        status = row["status"]
        deadline = row["deadline"]
        cleared = row["cleared_at"]
        if seen:
            status, cleared = "reported", None
            for e in seen:
                if e["to_status"]:
                    status = e["to_status"]
                    if status == "cleared":
                        cleared = e["at"]
                # the report records the first deadline; a reopen sets a new
                # one, and so may a rework
                if isinstance(e["deadline"], str):
                    deadline = e["deadline"]
            if status != "cleared":
                cleared = None
        # the rows are this function's own: updated in place
        row.update(status=status, deadline=deadline, cleared_at=cleared, events=seen)
        out.append(row)
    is_open = {s.value for s in _Status if s.is_open}
    out.sort(key=lambda r: (r["status"] not in is_open, r["id"]))
    return out
