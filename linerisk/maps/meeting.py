"""The joint-meeting map (联席会议图): one HTML file for the projector and the printer.

    >>> from linerisk.maps import meeting_map, resolve_scope
    >>> scope = resolve_scope(reg.network, police="天津站派出所")      # doctest: +SKIP
    >>> html = meeting_map(reg, scope, lang="zh", on="2026-11-25", offline=True)  # doctest: +SKIP

The page holds the map (Leaflet, inlined from the installed xstatic packages)
and, beneath it, the straight-line diagram of the same scope. Every layer's
features travel as one compact JSON document inside the page and are drawn by
a small script of our own: no per-risk Python objects, no CDN, and popups are
built from the data with DOM text nodes, so nothing a user typed into a note or
a name can run as code.

Layers (each switchable): track segments coloured by work area with the line
width showing patrol frequency; calibrated kilometre marks and chain breaks;
the protection zone on both sides; police areas; street offices and
communities; fences (intact, damaged) and fence gaps; open risks and closed
risks (clustered when there are many), overdue ones ringed in red.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from functools import cache
from html import escape
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from linerisk.crs import WGS84, transform_geometries, transform_xy
from linerisk.errors import LineriskError
from linerisk.maps.diagram import (
    DIAGRAM_RINGS,
    DIAGRAM_SYMBOLS,
    DiagramPoint,
    diagram_svg,
    fence_runs,
    party_colours,
    responsibility_bands,
)
from linerisk.maps.scope import Scope, resolve_scope, risk_rows_as_of
from linerisk.maps.style import (
    FENCE_STYLES,
    NEIGHBOURHOOD_COLOUR,
    OVERDUE_COLOUR,
    POLICE_COLOUR,
    SEVERITY_SIZES,
    STATUS_COLOURS,
    TRACK_CASING,
    ZONE_COLOUR,
    label,
    map_css,
    page_css,
)
from linerisk.maps.tiles import TileSource, tile_source
from linerisk.model import Action, AreaClass, Band, Severity, Side, Status, Vertical

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.network import Network
    from linerisk.register import Register

__all__ = ["LAYER_KEYS", "map_payload", "meeting_map", "write_meeting_map"]

#: the overlay layers, in drawing order (bottom first)
LAYER_KEYS = (
    "neighbourhoods",
    "police",
    "zone",
    "segments",
    "fences",
    "fence_gaps",
    "chainage",
    "risks_closed",
    "risks_open",
)

#: above this many risk points in one layer, points are clustered
CLUSTER_THRESHOLD = 150

#: decimals of longitude/latitude written to the page (6 ≈ 0.1 m)
DECIMALS = 6

_RISK_FIELDS = (
    "id", "x", "y", "ref", "cat", "sev", "st", "od", "line", "ch", "side", "off", "band", "zw",
    "zd", "pt", "lead", "lp", "ft", "fb", "dl", "ct", "desc", "note", "dopen", "dover", "dx", "dy",
)  # fmt: skip
#: the parties of a risk, sent once per distinct combination (field ``pt``)
_PARTY_COLUMNS = (
    "police", "works_section", "workshop", "work_area", "district", "street_office", "community",
)  # fmt: skip
_OPEN = frozenset(m.value for m in Status if m.is_open)
#: the risk columns the map reads (the others are not fetched)
_ROW_COLUMNS = (
    "ref", "category", "severity", "status", "line", "measure_m", "chainage", "side",
    "offset_m", "band", "zone_width_m", "zone_distance_m", *_PARTY_COLUMNS, "lead_vertical",
    "lead_party", "found_at", "found_by", "deadline", "cleared_at", "description", "note",
)  # fmt: skip
_OD, _DX, _DY = (_RISK_FIELDS.index(k) for k in ("od", "dx", "dy"))


# --------------------------------------------------------------------------- assets


@cache
def _assets() -> dict[str, str]:
    """Leaflet and Leaflet.markercluster from the installed xstatic packages."""
    import base64

    import xstatic.pkg.leaflet as leaflet
    import xstatic.pkg.leaflet_markercluster as cluster

    base = Path(leaflet.BASE_DIR)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = base / "images" / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    cbase = Path(cluster.BASE_DIR)
    return {
        "leaflet_css": css,
        "leaflet_js": _script_safe((base / "leaflet.js").read_text(encoding="utf-8")),
        "cluster_css": (cbase / "MarkerCluster.css").read_text(encoding="utf-8"),
        "cluster_js": _script_safe(
            (cbase / "leaflet.markercluster.js").read_text(encoding="utf-8")
        ),
    }


def _script_safe(js: str) -> str:
    """Drop source-map comments (they would point at files that are not there) and
    make sure nothing closes the surrounding <script> element."""
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)
    return js.replace("</script", "<\\/script")


def _json_for_script(value: Any) -> str:
    """JSON safe inside <script type="application/json">: no <, > or & can end it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------- geometry


class _Display:
    """Turns register-CRS geometry into rounded lon/lat lists for the page,
    shifting to GCJ-02 when the tiles need it."""

    def __init__(self, crs: str, datum: str) -> None:
        self.crs = crs
        self.gcj = datum == "gcj02"

    def xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = transform_xy(x, y, self.crs, WGS84)
        if self.gcj and len(lon):
            from linerisk.gcj02 import wgs84_to_gcj02

            lon, lat = wgs84_to_gcj02(lon, lat)
        return np.round(lon, DECIMALS), np.round(lat, DECIMALS)

    def geoms(self, geoms: list) -> list:
        if not geoms:
            return []
        out = transform_geometries(np.asarray(geoms, dtype=object), self.crs, WGS84)
        if self.gcj:
            from linerisk.gcj02 import wgs84_to_gcj02

            def shift(c: np.ndarray) -> np.ndarray:
                lon, lat = wgs84_to_gcj02(c[:, 0], c[:, 1])
                return np.column_stack([lon, lat])

            out = shapely.transform(out, shift)
        # rounded once for every coordinate of every geometry
        return list(shapely.transform(out, lambda c: np.round(c, DECIMALS)))


def _feature(geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    mapping = shapely.geometry.mapping(geom)  # coordinates as tuples: JSON arrays
    return {
        "type": "Feature",
        "geometry": {"type": mapping["type"], "coordinates": mapping["coordinates"]},
        "properties": props,
    }


def _collection(display: _Display, geoms: list, props: list[dict]) -> dict[str, Any]:
    shown = display.geoms(geoms)
    return {
        "type": "FeatureCollection",
        "features": [_feature(g, p) for g, p in zip(shown, props, strict=True) if not g.is_empty],
    }


def _angle(display: _Display, net: Network, li: int, measures: np.ndarray) -> np.ndarray:
    """Screen angle (degrees, clockwise from east) of the line's direction."""
    ahead = net.index.place(
        np.full(len(measures), li), np.asarray(measures) + 5.0, np.zeros(len(measures))
    )
    back = net.index.place(
        np.full(len(measures), li), np.asarray(measures) - 5.0, np.zeros(len(measures))
    )
    lon1, lat1 = transform_xy(*back, display.crs, WGS84)
    lon2, lat2 = transform_xy(*ahead, display.crs, WGS84)
    dx = lon2 - lon1
    dy = (lat2 - lat1) / np.cos(np.radians(lat1))  # Mercator is conformal
    return np.round(-np.degrees(np.arctan2(dy, dx)), 1)


# --------------------------------------------------------------------------- layers


def _segments(ctx: _Context) -> dict[str, Any]:
    net, scope = ctx.net, ctx.scope
    geoms, props = [], []
    for i, seg in enumerate(net.segments):
        pieces = []
        m0, m1 = net.segment_measures(i)
        for rng in scope.ranges_of(seg.line):
            ov = rng.overlap(m0, m1)
            if ov:
                pieces.append(ctx.piece(seg.line, *ov))
        if not pieces:
            continue
        ctx.segments.append((i, pieces))
        geom = pieces[0] if len(pieces) == 1 else shapely.multilinestrings(pieces)
        pw = seg.patrol_per_week
        colour = ctx.railway_colours.get(seg.work_area, "#555")
        props.append(
            {
                "id": seg.id,
                "ws": seg.works_section,
                "wsh": seg.workshop,
                "wa": seg.work_area,
                "ac": seg.area_class.label(ctx.lang),
                "pw": pw,
                "r": _range_label(seg.from_chainage, seg.to_chainage, net.line(seg.line).prefix),
                "c": colour,
                "w": round(3.0 + 1.1 * math.sqrt(pw), 1) if pw else 3.0,
            }
        )
        geoms.append(geom.simplify(0.3))
    return _collection(ctx.display, geoms, props)


def _range_label(c0: float, c1: float, prefix: str) -> str:
    from linerisk.chainage import format_chainage

    return (
        f"{format_chainage(c0, prefix=prefix, decimals=0)}-"
        f"{format_chainage(c1, prefix=prefix, decimals=0)}"
    )


def _zone(ctx: _Context) -> dict[str, Any]:
    net = ctx.net
    rules = net.settings.zones
    default = net.settings.default_half_width_m
    # Every piece of every side at once: GEOS builds the bands in three calls.
    pieces: list[Any] = []
    near: list[float] = []
    far: list[float] = []
    owner: list[int] = []
    props: list[dict[str, Any]] = []
    for i, segment_pieces in ctx.segments:
        seg = net.segments[i]
        line = net.line(seg.line)
        width = rules.width(seg.area_class, high_speed=line.high_speed)
        for side in (Side.LEFT, Side.RIGHT):
            half = seg.half_width(side, default)
            for piece in segment_pieces:
                pieces.append(piece)
                near.append(side.sign * half)
                far.append(side.sign * (half + width))
                owner.append(len(props))
            props.append(
                {
                    "sg": seg.id,
                    "s": side.label(ctx.lang),
                    "ac": seg.area_class.label(ctx.lang),
                    "w": width,
                    "h": half,
                }
            )
    if not pieces:
        return _collection(ctx.display, [], [])
    arr = np.asarray(pieces, dtype=object)
    outer = shapely.buffer(arr, np.asarray(far), single_sided=True, cap_style="flat")
    inner = shapely.buffer(arr, np.asarray(near), single_sided=True, cap_style="flat")
    bands = shapely.difference(outer, inner)
    by_owner: list[list[Any]] = [[] for _ in props]
    for k, band in zip(owner, bands.tolist(), strict=True):
        by_owner[k].append(band)
    merged = np.empty(len(props), dtype=object)
    merged[:] = [b[0] if len(b) == 1 else shapely.union_all(b) for b in by_owner]
    merged = shapely.simplify(merged, 1.0)
    keep = ~shapely.is_empty(merged)
    return _collection(
        ctx.display, merged[keep].tolist(), [p for p, k in zip(props, keep, strict=True) if k]
    )


def _corridor(ctx: _Context) -> Any:
    net = ctx.net
    pieces = [ctx.piece(r.line, r.from_measure, r.to_measure) for r in ctx.scope.ranges]
    return shapely.union_all(
        shapely.buffer(
            np.asarray(pieces, dtype=object), net.settings.max_distance_m, cap_style="flat"
        )
    )


def _in_corridor(ctx: _Context, geoms: list) -> np.ndarray:
    """Which areas share ground with the scope's corridor (the line stretches out
    to the farthest distance a risk may lie, with flat ends)."""
    if not geoms:
        return np.zeros(0, dtype=bool)
    if ctx.scope.kind == "network":  # the whole register: every area
        return np.ones(len(geoms), dtype=bool)
    arr = np.asarray(geoms, dtype=object)
    hit = shapely.intersects(arr, ctx.corridor)
    area = np.zeros(len(arr))
    if hit.any():
        area[hit] = shapely.area(shapely.intersection(arr[hit], ctx.corridor))
    return area > 1.0


def _label_point(ctx: _Context, area: Any, offset: float) -> Any:
    """A point inside ``area`` beside the middle of its longest stretch of line in
    scope (``offset`` metres to the left; negative: right)."""
    net = ctx.net
    best = None
    for rng in ctx.scope.ranges:
        li = net.line_index(rng.line)
        piece = ctx.piece(rng.line, rng.from_measure, rng.to_measure)
        for part in shapely.get_parts(shapely.intersection(piece, area)):
            if part.geom_type == "LineString" and (best is None or part.length > best[1].length):
                best = (li, part)
    view = shapely.box(*ctx.scope.bbox)
    if best is not None:
        li, part = best
        mid = shapely.line_interpolate_point(part, 0.5, normalized=True)
        m = float(shapely.line_locate_point(net.lines[li].geometry, mid))
        # nearer the line when the scope is small, so that the label is in view
        for away in (offset, offset / 2, offset / 6):
            x, y = net.index.place(np.array([li]), np.array([m]), np.array([away]))
            point = shapely.Point(float(x[0]), float(y[0]))
            if shapely.contains(area, point) and shapely.contains(view, point):
                return point
    return _inside(area, view)


def _inside(area: Any, view: Any) -> Any:
    """A point of ``area``, inside ``view`` where they meet (so a label is seen)."""
    clipped = shapely.intersection(area, view)
    return shapely.point_on_surface(clipped if clipped.area > 1.0 else area)


def _points(ctx: _Context, points: list) -> list[list[float]]:
    if not points:
        return []
    x = np.array([p.x for p in points])
    y = np.array([p.y for p in points])
    lon, lat = ctx.display.xy(x, y)
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


def _police(ctx: _Context) -> dict[str, Any]:
    areas = ctx.net.police_areas
    keep = _in_corridor(ctx, [a.geometry for a in areas])
    chosen = [a for a, k in zip(areas, keep, strict=True) if k]
    labels = _points(ctx, [_label_point(ctx, a.geometry, 900.0) for a in chosen])
    props = [
        {
            "n": a.name,
            "p": a.parent,
            "lp": lp,
            "c": POLICE_COLOUR,
            "sel": a.name in ctx.scope.police,
        }
        for a, lp in zip(chosen, labels, strict=True)
    ]
    return _collection(ctx.display, [a.geometry.simplify(1.0) for a in chosen], props)


def _neighbourhoods(ctx: _Context) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    cells = ctx.net.neighbourhoods
    keep = _in_corridor(ctx, [c.geometry for c in cells])
    chosen = [c for c, k in zip(cells, keep, strict=True) if k]
    offices: dict[str, list] = {}
    for c in chosen:
        offices.setdefault(c.street_office, []).append(c)
    order = list(ctx.local_colours)
    order += [o for o in offices if o not in ctx.local_colours]
    fills = {o: ctx.local_colours.get(o) or "#eeeeee" for o in order}
    view = shapely.box(*ctx.scope.bbox)
    labels = _points(ctx, [_inside(c.geometry, view) for c in chosen])
    props = [
        {"co": c.community, "so": c.street_office, "di": c.district, "c": fills[c.street_office],
         "lp": lp}
        for c, lp in zip(chosen, labels, strict=True)
    ]  # fmt: skip
    office_points = _points(
        ctx,
        [
            _label_point(ctx, shapely.union_all([c.geometry for c in offices[o]]), -1500.0)
            for o in offices
        ],
    )
    office_labels = [
        {"n": o, "di": offices[o][0].district, "lp": lp}
        for o, lp in zip(offices, office_points, strict=True)
    ]
    collection = _collection(ctx.display, [c.geometry.simplify(1.0) for c in chosen], props)
    return collection, office_labels


def _fences(ctx: _Context) -> dict[str, Any]:
    net = ctx.net
    # The measures of every fence's ends, one calibration call per line.
    by_line: dict[str, list[Any]] = {}
    for f in net.fences:
        if f.geometry is not None and ctx.scope.ranges_of(f.line):
            by_line.setdefault(f.line, []).append(f)
    ends: dict[str, tuple[float, float]] = {}
    for line_id, fences in by_line.items():
        chainages = np.array([c for f in fences for c in (f.from_chainage, f.to_chainage)])
        measures, _status = net.calibration(line_id).measures_at(chainages)
        for f, (m0, m1) in zip(fences, measures.reshape(-1, 2).tolist(), strict=True):
            ends[f.id] = (m0, m1)
    geoms, props = [], []
    for f in net.fences:
        if f.id not in ends:
            continue
        m0, m1 = ends[f.id]
        if math.isnan(m0) or math.isnan(m1) or m1 <= m0:
            continue
        pieces = []
        for rng in ctx.scope.ranges_of(f.line):
            ov = rng.overlap(m0, m1)
            if not ov:
                continue
            if ov[0] <= m0 + 0.5 and ov[1] >= m1 - 0.5:
                pieces.append(f.geometry)
            else:
                from shapely.ops import substring

                a = (ov[0] - m0) / (m1 - m0)
                b = (ov[1] - m0) / (m1 - m0)
                pieces.append(substring(f.geometry, a, b, normalized=True))
        if not pieces:
            continue
        geoms.append(pieces[0] if len(pieces) == 1 else shapely.multilinestrings(pieces))
        props.append(
            {
                "id": f.id,
                "s": f.side.label(ctx.lang),
                "cd": f.condition.value,
                "k": f.kind,
                "r": _range_label(f.from_chainage, f.to_chainage, net.line(f.line).prefix),
            }
        )
    simplified = shapely.simplify(np.asarray(geoms, dtype=object), 0.3).tolist() if geoms else []
    return _collection(ctx.display, simplified, props)


def _fence_gaps(ctx: _Context) -> dict[str, Any]:
    net = ctx.net
    gaps = [run for run in ctx.fence_runs if run.kind == "gap"]
    # drawn just outside the formation edge on the gap's side
    offsets = (
        net.formation_half_widths(
            np.array([net.line_index(run.line) for run in gaps], dtype=np.int64),
            np.array([(run.from_measure + run.to_measure) / 2 for run in gaps]),
            np.array([run.side == Side.LEFT.value for run in gaps], dtype=bool),
        )
        + 1.5
    )
    centres = np.empty(len(gaps), dtype=object)
    centres[:] = [ctx.piece(run.line, run.from_measure, run.to_measure) for run in gaps]
    signs = np.array([Side(run.side).sign for run in gaps], dtype=float)
    geoms = centres.copy()
    drawn = shapely.length(centres) > 0
    geoms[drawn] = shapely.offset_curve(centres[drawn], (signs * offsets)[drawn])
    props = [
        {
            "s": Side(run.side).label(ctx.lang),
            "r": run.label,
            "len": round(run.to_measure - run.from_measure),
        }
        for run in gaps
    ]
    return _collection(ctx.display, geoms.tolist(), props)


def _chainage(ctx: _Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Kilometre marks where each whole kilometre really is (calibrated), and chain
    breaks."""
    from linerisk.calibration import ChainageStatus
    from linerisk.chainage import format_chainage

    net = ctx.net
    tick_xy, tick_props, break_xy, break_props = [], [], [], []
    for rng in ctx.scope.ranges:
        li = net.line_index(rng.line)
        line = net.lines[li]
        cal = net.calibration(rng.line)
        ends = cal.chainage_at(np.array([rng.from_measure, rng.to_measure]))
        lo, hi = float(np.min(ends)), float(np.max(ends))
        kms = np.arange(math.ceil(lo / 1000.0), math.floor(hi / 1000.0) + 1) * 1000.0
        found: list[tuple[float, float]] = []
        for occurrence in (1, 2):
            if not len(kms):
                break
            m, status = cal.measures_at(kms, occurrence)
            for km, mm, st in zip(kms, m, status, strict=True):
                if st == ChainageStatus.NONEXISTENT or np.isnan(mm):
                    continue
                if occurrence == 2 and st != ChainageStatus.AMBIGUOUS:
                    continue
                if rng.from_measure - 0.5 <= mm <= rng.to_measure + 0.5:
                    found.append((float(km), float(mm)))
        if found:
            ms = np.array([m for _k, m in found])
            x, y = net.index.place(np.full(len(ms), li), ms, np.zeros(len(ms)))
            angles = _angle(ctx.display, net, li, ms)
            for (km, _m), a, px, py in zip(found, angles, x, y, strict=True):
                tick_xy.append((px, py))
                text = format_chainage(km, prefix=line.prefix, decimals=0).split("+")[0]
                tick_props.append({"k": text, "a": float(a), "mj": int(km / 1000) % 5 == 0})
        breaks = [
            (spec, float(bm))
            for spec, bm in zip(cal.breaks, cal.break_measures(), strict=True)
            if rng.from_measure - 0.5 <= bm <= rng.to_measure + 0.5
        ]
        if breaks:
            ms = np.array([bm for _s, bm in breaks])
            x, y = net.index.place(np.full(len(ms), li), ms, np.zeros(len(ms)))
            angles = _angle(ctx.display, net, li, ms)
            for (spec, _bm), a, px, py in zip(breaks, angles, x, y, strict=True):
                kind = label("short_chain" if spec.jump > 0 else "long_chain", ctx.lang)
                back = format_chainage(spec.back, prefix=line.prefix)
                ahead = format_chainage(spec.ahead, prefix=line.prefix)
                name = label("chain_break", ctx.lang)
                text = f"{name} {back}={ahead}（{kind} {abs(spec.jump):g} m）"
                break_xy.append((px, py))
                break_props.append({"k": text, "a": float(a), "o": -26})

    def points(xy: list, props: list) -> dict[str, Any]:
        feats = []
        if xy:
            lon, lat = ctx.display.xy(np.array([p[0] for p in xy]), np.array([p[1] for p in xy]))
            for a, b, p in zip(lon, lat, props, strict=True):
                feats.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [float(a), float(b)]},
                        "properties": p,
                    }
                )
        return {"type": "FeatureCollection", "features": feats}

    return points(tick_xy, tick_props), points(break_xy, break_props)


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _risks(ctx: _Context, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Risk points as compact rows (strings through one table, the seven parties as
    one tuple) with their histories, from the store's rows."""
    reg = ctx.register
    lang = ctx.lang
    on_dt = ctx.on_dt
    catalog = reg.settings.categories
    strings: dict[str, int] = {"": 0}

    def s(value: str | None) -> int:
        return strings.setdefault(value, len(strings)) if value else 0

    parties: dict[tuple[str | None, ...], int] = {}
    party_of = itemgetter(*_PARTY_COLUMNS)

    def party(row: dict[str, Any]) -> int:
        return parties.setdefault(party_of(row), len(parties))

    sev_i = {m.value: i for i, m in enumerate(Severity)}
    st_i = {m.value: i for i, m in enumerate(Status)}
    band_i = {m.value: i for i, m in enumerate(Band)}
    lead_i = {m.value: i for i, m in enumerate(Vertical)}
    act_i = {m.value: i for i, m in enumerate(Action)}
    labels = {c.key: c.label(lang) for c in catalog}
    if rows:
        lon, lat = ctx.display.xy(
            np.array([r["x"] for r in rows], dtype=float),
            np.array([r["y"] for r in rows], dtype=float),
        )
        lon, lat = lon.tolist(), lat.tolist()
    else:
        lon = lat = []
    history: list[list[list[Any]]] = [[] for _ in rows]
    # Registers repeat their times (a day's findings, the deadlines they give):
    # each distinct text is parsed once, and turned into minutes once.
    parsed: dict[str | None, dt.datetime | None] = {None: None, "": None}

    def when(value: str | None) -> dt.datetime | None:
        try:
            return parsed[value]
        except KeyError:
            t = parsed[value] = _when(value)
            return t

    found = [when(r["found_at"]) for r in rows]
    deadline = [when(r["deadline"]) for r in rows]
    cleared = [when(r["cleared_at"]) for r in rows]
    raw_events = []
    for i, r in enumerate(rows):
        for ev in r.get("events", ()):
            reason = str(ev["reason"] or "")
            raw_events.append((i, when(ev["at"]), ev["action"], ev["actor"], ev["note"], reason))
    times = [t for t in found if t is not None] + [e[1] for e in raw_events]
    t0 = int(min(times).timestamp() // 60) if times else 0
    minute_of = {t: int(t.timestamp() // 60) - t0 for t in parsed.values() if t is not None}
    minute_of[None] = -1
    minutes = minute_of.__getitem__

    for i, at, action, actor, note, reason in raw_events:
        history[i].append([minutes(at), act_i.get(action, 0), s(actor), s(note), s(reason)])
    out = []
    counts = {"open": 0, "overdue": 0, "cleared": 0}
    today = on_dt.date()
    for k, r in enumerate(rows):
        status = r["status"]
        is_open = status in _OPEN
        od = bool(is_open and deadline[k] is not None and on_dt > deadline[k])
        if is_open:
            counts["open"] += 1
            counts["overdue"] += od
            days_open = (today - found[k].date()).days
        elif status == Status.CLEARED.value and cleared[k] is not None:
            counts["cleared"] += 1
            days_open = (cleared[k].date() - found[k].date()).days
        else:
            days_open = -1
        days_over = max((today - deadline[k].date()).days, 1) if od else 0
        out.append(
            [
                r["id"],
                lon[k],
                lat[k],
                s(r["ref"]),
                s(labels.get(r["category"], r["category"])),
                sev_i[r["severity"]],
                st_i[status],
                int(od),
                s(r["line"]),
                s(r["chainage"]),
                0 if r["side"] == Side.LEFT.value else 1,
                round(r["offset_m"], 1),
                band_i[r["band"]],
                r["zone_width_m"],
                round(r["zone_distance_m"], 1),
                party(r),
                lead_i[r["lead_vertical"]],
                s(r["lead_party"]),
                minutes(found[k]),
                s(r["found_by"]),
                minutes(deadline[k]),
                minutes(cleared[k]) if status == Status.CLEARED.value else -1,
                s(r["description"]),
                s(r["note"]),
                days_open,
                days_over,
                None,
                None,
            ]
        )
    ctx.counts = counts
    party_table = [[s(name) for name in p] for p in parties]  # before the strings are listed
    return {
        "f": list(_RISK_FIELDS),
        "S": list(strings),
        "P": party_table,
        "rows": out,
        "hist": history,
        "t0": t0,
    }


# --------------------------------------------------------------------------- context


class _Context:
    def __init__(
        self,
        register: Register,
        scope: Scope,
        lang: str,
        on_dt: dt.datetime,
        tiles: TileSource,
    ) -> None:
        self.register = register
        self.net = register.network
        self.scope = scope
        self.lang = lang
        self.on_dt = on_dt
        self.tiles = tiles
        self.display = _Display(register.crs, tiles.datum)
        self.segments: list[tuple[int, list]] = []
        self.bands = responsibility_bands(self.net, scope)
        strong = party_colours(self.bands, pale=False)
        pale = party_colours(self.bands, pale=True)
        self.railway_colours = {p: c for (v, p), c in strong.items() if v == "railway"}
        self.local_colours = {p: c for (v, p), c in pale.items() if v == "local"}
        self.fence_runs = fence_runs(self.net, scope)
        self._vertices: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.corridor = _corridor(self)
        self.counts: dict[str, int] = {}

    def piece(self, line: str, m0: float, m1: float) -> Any:
        """The part of ``line`` between two measures; each line's vertices are
        measured once per map, however many pieces are cut from it."""
        from linerisk.referencing import measured, substring

        geometry = self.net.line(line).geometry
        vertices = self._vertices.get(line)
        if vertices is None:
            vertices = self._vertices[line] = measured(geometry)
        return substring(geometry, m0, m1, vertices)


def _on(register: Register, on: dt.datetime | dt.date | str | None) -> dt.datetime:
    if on is None:
        return register.end_of_day(dt.datetime.now(register.settings.tzinfo).date())
    return register.end_of_day(on)


def map_payload(
    register: Register,
    scope: Scope | None = None,
    *,
    lang: str = "zh",
    on: dt.datetime | dt.date | str | None = None,
    tiles: str | TileSource = "none",
) -> dict[str, Any]:
    """Everything the page's script draws, as one JSON-ready dict.

    ``layers`` holds a GeoJSON FeatureCollection per overlay (short property
    keys); ``risks`` holds the risk points as rows (fields named in
    ``risks.f``) with a string table ``S`` and a party table ``P``; ``counts``
    the number of features per overlay, as shown in the layer control.
    """
    payload, _ctx, _rows = _build(register, scope, lang=lang, on=on, tiles=tiles)
    return payload


def _build(
    register: Register,
    scope: Scope | None,
    *,
    lang: str,
    on: dt.datetime | dt.date | str | None,
    tiles: str | TileSource,
) -> tuple[dict[str, Any], _Context, list[dict[str, Any]]]:
    if lang not in ("zh", "en"):
        raise LineriskError(f"language must be zh or en, not {lang!r}")
    net = register.network
    scope = scope or resolve_scope(net)
    source = tile_source(tiles)
    on_dt = _on(register, on)
    ctx = _Context(register, scope, lang, on_dt, source)
    rows = risk_rows_as_of(register, scope, on_dt, _ROW_COLUMNS)
    n_open = sum(r["status"] in _OPEN for r in rows)
    segments = _segments(ctx)
    neighbourhoods, offices = _neighbourhoods(ctx)
    ticks, breaks = _chainage(ctx)
    layers = {
        "neighbourhoods": neighbourhoods,
        "police": _police(ctx),
        "zone": _zone(ctx),
        "segments": segments,
        "fences": _fences(ctx),
        "fence_gaps": _fence_gaps(ctx),
        "chainage": ticks,
    }
    risk_data = _risks(ctx, rows)
    counts = {key: len(fc["features"]) for key, fc in layers.items()}
    counts["segments"] = len({f["properties"]["id"] for f in segments["features"]})
    counts["risks_open"] = n_open
    counts["risks_closed"] = len(rows) - n_open
    counts["chain_breaks"] = len(breaks["features"])
    # bounds: the scope's box and every risk point in it
    x0, y0, x1, y1 = scope.bbox
    xs = np.array([x0, x1, x0, x1] + [r["x"] for r in rows], dtype=float)
    ys = np.array([y0, y0, y1, y1] + [r["y"] for r in rows], dtype=float)
    lon, lat = ctx.display.xy(xs, ys)
    bounds = [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
    railway_legend = [[p, c] for p, c in ctx.railway_colours.items()]
    text_keys = [
        "status", "severity", "overdue", "overdue_days", "location", "band", "zone_detail",
        "party_police", "party_railway", "party_local", "lead", "found", "deadline", "days_open",
        "days", "cleared_at", "description", "note", "history", "not_covered", "risk", "segment",
        "area_class", "patrol", "per_week", "not_set", "offset", "side_left", "side_right",
        "fence_intact", "fence_damaged", "fence_gap", "legend", "patrol_weight", "base_none",
        "zone", "category", "zone_band", *LAYER_KEYS,
    ]  # fmt: skip
    return (
        {
            "lang": lang,
            "text": {k: label(k, lang) for k in dict.fromkeys(text_keys)},
            "statusKeys": [m.value for m in Status],
            "statusLabels": [m.label(lang) for m in Status],
            "statusColours": [STATUS_COLOURS[m.value] for m in Status],
            "severityKeys": [m.value for m in Severity],
            "severityLabels": [m.label(lang) for m in Severity],
            "severitySizes": [SEVERITY_SIZES[m.value] for m in Severity],
            "bandLabels": [m.label(lang) for m in Band],
            "leadLabels": [m.label(lang) for m in Vertical],
            "actionLabels": [m.label(lang) for m in Action],
            "areaClassLabels": {m.value: m.label(lang) for m in AreaClass},
            "tz": int(on_dt.utcoffset().total_seconds() // 60),
            "tiles": [t.to_json() for t in source.layers],
            "tileName": source.label(lang),
            "bounds": bounds,
            "layers": layers,
            "breaks": breaks,
            "offices": offices,
            "risks": risk_data,
            "cluster": max(n_open, len(rows) - n_open) > CLUSTER_THRESHOLD,
            "diagramSymbols": DIAGRAM_SYMBOLS,
            "diagramRings": DIAGRAM_RINGS,
            "counts": counts,
            "summary": ctx.counts,
            "style": {
                "fence": FENCE_STYLES,
                "zone": ZONE_COLOUR,
                "police": POLICE_COLOUR,
                "neighbourhood": NEIGHBOURHOOD_COLOUR,
                "casing": TRACK_CASING,
                "overdue": OVERDUE_COLOUR,
            },
            "railwayLegend": railway_legend,
            "onDate": on_dt.date().isoformat(),
        },
        ctx,
        rows,
    )


# --------------------------------------------------------------------------- page


def meeting_map(
    register: Register,
    scope: Scope | None = None,
    *,
    lang: str = "zh",
    on: dt.datetime | dt.date | str | None = None,
    offline: bool = False,
    tiles: str | TileSource | None = None,
) -> str:
    """The joint-meeting map of ``scope`` (default: the whole network) as one HTML page.

    ``on`` is the as-of day: overdue marks and days open are computed against
    its end (default today). ``tiles`` names the background (see
    :mod:`linerisk.maps.tiles`; default ``osm``, or ``none`` when
    ``offline``). An ``offline`` page loads nothing from the network: Leaflet
    is inlined and public tile services are refused.
    """
    if tiles is None:
        tiles = "none" if offline else "osm"
    source = tile_source(tiles)
    if offline and source.online:
        raise LineriskError(
            f"an offline map cannot load {source.label('en')} tiles from the internet; use "
            "--tiles none or the URL template of a tile server on your own network"
        )
    scope = scope or resolve_scope(register.network)
    payload, ctx, rows = _build(register, scope, lang=lang, on=on, tiles=source)
    # the diagram's risk points are drawn by the page script from the payload
    points = [
        DiagramPoint(
            r["id"],
            r["line"],
            r["measure_m"],
            r["side"],
            r["offset_m"],
            r["status"],
            r["severity"],
            bool(row[_OD]),
            r["status"] not in _OPEN,
        )
        for r, row in zip(rows, payload["risks"]["rows"], strict=True)
    ]
    diagram, coords = diagram_svg(
        register,
        scope,
        points,
        lang=lang,
        on_dt=ctx.on_dt,
        heading=False,
        draw_points=False,
        fences=ctx.fence_runs,
    )
    for row in payload["risks"]["rows"]:
        # whole SVG units are finer than the diagram is ever drawn, and 5,000 rows
        # of ".5" add up
        dx, dy = coords.get(row[0], (None, None))
        row[_DX] = None if dx is None else round(dx)
        row[_DY] = None if dy is None else round(dy)
    return _page(register, scope, payload, diagram, lang, source)


def _page(
    register: Register,
    scope: Scope,
    payload: dict[str, Any],
    diagram: str,
    lang: str,
    source: TileSource,
) -> str:
    from linerisk import __version__ as ver

    assets = _assets()
    net = register.network
    title = f"{label('map_title', lang)} · {scope.title(net, lang)}"
    summary = payload["summary"]
    now = dt.datetime.now(register.settings.tzinfo).strftime("%Y-%m-%d %H:%M")
    datum_note = (
        "叠加图层已按 GCJ-02 偏移以对齐底图；请勿从本图抄录坐标。"
        if lang == "zh"
        else "Overlays are shifted to GCJ-02 to match the tiles; do not copy coordinates "
        "from this map."
    )
    footer = [
        f"linerisk {ver}",
        f"{label('generated', lang)} {now}",
        source.label(lang),
        "里程按公里标标定" if lang == "zh" else "chainage calibrated on the kilometre posts",
    ]
    if source.datum == "gcj02":
        footer.append(datum_note)
    e = escape
    counts_html = (
        f'<span class="lr-count">{e(label("open_count", lang))} <b>{summary["open"]}</b></span>'
        f'<span class="lr-count lr-overdue">{e(label("overdue_count", lang))} '
        f"<b>{summary['overdue']}</b></span>"
        f'<span class="lr-count">{e(label("cleared_count", lang))} '
        f"<b>{summary['cleared']}</b></span>"
    )
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="linerisk {e(ver)}">
<title>{e(title)}</title>
<link rel="icon" href="data:,">
<style>{assets["leaflet_css"]}</style>
<style>{assets["cluster_css"]}</style>
<style>{page_css()}{map_css()}</style>
</head>
<body>
<header class="lr-header">
<h1>{e(title)}</h1>
<span class="lr-meta">{e(label("as_of", lang))} <b>{e(payload["onDate"])}</b></span>
<span class="lr-counts">{counts_html}</span>
<button type="button" class="lr-noprint lr-print" id="lr-print">{e(label("print", lang))}</button>
</header>
<div id="lr-map" role="region" aria-label="{e(title)}"></div>
<section class="lr-diagram-section">
<h2 class="lr-section">{e(label("diagram_title", lang))}</h2>
<p class="lr-hint lr-noprint">{e(label("diagram_hint", lang))}</p>
<div id="lr-diagram">{diagram}</div>
</section>
<footer class="lr-footer">{e(" · ".join(footer))}</footer>
<script>{assets["leaflet_js"]}</script>
<script>{assets["cluster_js"]}</script>
<script type="application/json" id="lr-data">{_json_for_script(payload)}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_meeting_map(
    register: Register,
    path: str | Path,
    scope: Scope | None = None,
    *,
    lang: str = "zh",
    on: dt.datetime | dt.date | str | None = None,
    offline: bool = False,
    tiles: str | TileSource | None = None,
) -> Path:
    """Write :func:`meeting_map` to ``path`` (UTF-8); the file appears whole or not at all."""
    html = meeting_map(register, scope, lang=lang, on=on, offline=offline, tiles=tiles)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- script

_SCRIPT = r"""
(function () {
  "use strict";
  var started = window.performance ? performance.now() : 0, marks = {};
  function stage(name) {
    if (window.performance) marks[name] = Math.round(performance.now() - started);
  }
  var D = JSON.parse(document.getElementById("lr-data").textContent);
  stage("data");
  var T = D.text, ST = D.style;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function fill(t, v) { return t.replace("{n}", v).replace("{w}", v).replace("{d}", v); }
  function lines(parts) {
    var box = el("div");
    parts.forEach(function (p, i) {
      if (p === "" || p === null || p === undefined) return;
      var d = el("div", null, p);
      if (i === 0) d.style.fontWeight = "700";
      box.appendChild(d);
    });
    return box;
  }
  function ll(c) { return [c[1], c[0]]; }

  var map = L.map("lr-map", {zoomSnap: 0.25, zoomDelta: 0.5, maxZoom: 19, minZoom: 7});
  [["lrAreas", 320], ["lrZone", 380], ["lrFenceLow", 390], ["lrTrack", 400], ["lrFence", 410],
   ["lrLabels", 450]].forEach(function (p) {
    var pane = map.createPane(p[0]);
    pane.style.zIndex = p[1];
    if (p[0] === "lrAreas" || p[0] === "lrLabels") pane.style.pointerEvents = "none";
  });

  // background
  var bases = {};
  var plain = L.layerGroup();
  if (D.tiles.length) {
    var tl = L.layerGroup(D.tiles.map(function (t) {
      return L.tileLayer(t.url, {subdomains: t.subdomains || "abc", maxZoom: 19,
        maxNativeZoom: t.maxZoom, attribution: t.attribution});
    }));
    bases[esc(D.tileName)] = tl;
    bases[esc(T.base_none)] = plain;
    tl.addTo(map);
  } else {
    plain.addTo(map);
  }

  var groups = {}, counts = D.counts, overlays = {};
  function labelMarker(c, text, cls, angle) {
    var span = el("span", null, text);
    var icon = L.divIcon({className: cls, html: span, iconSize: null});
    return L.marker(ll(c), {icon: icon, interactive: false, keyboard: false, pane: "lrLabels"});
  }

  // communities and street offices
  var nb = L.layerGroup();
  L.geoJSON(D.layers.neighbourhoods, {pane: "lrAreas", interactive: false,
    style: function (f) { return {color: ST.neighbourhood, weight: 1, opacity: 0.7,
      fillColor: f.properties.c, fillOpacity: 0.45}; }}).addTo(nb);
  D.layers.neighbourhoods.features.forEach(function (f) {
    labelMarker(f.properties.lp, f.properties.co, "lr-area-label lr-community").addTo(nb);
  });
  D.offices.forEach(function (o) {
    labelMarker(o.lp, o.n, "lr-area-label lr-office").addTo(nb);
  });
  groups.neighbourhoods = nb;

  // police areas
  var pol = L.layerGroup();
  L.geoJSON(D.layers.police, {pane: "lrAreas", interactive: false,
    style: function (f) { return {color: ST.police, weight: f.properties.sel ? 3.5 : 2.5,
      dashArray: "10 6", fillColor: ST.police, fillOpacity: 0.03}; }}).addTo(pol);
  D.layers.police.features.forEach(function (f) {
    labelMarker(f.properties.lp, f.properties.n, "lr-area-label lr-police").addTo(pol);
  });
  groups.police = pol;

  // protection zone
  groups.zone = L.geoJSON(D.layers.zone, {pane: "lrZone",
    style: {color: ST.zone, weight: 0.6, opacity: 0.8, fillColor: ST.zone, fillOpacity: 0.3},
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(function () {
        return lines([T.zone + " · " + p.s, T.segment + " " + p.sg,
          T.area_class + "：" + p.ac, T.zone_band.replace("{w}", p.w).replace("{h}", p.h)]);
      }, {sticky: true});
    }});

  // track segments: a dark casing under a line coloured by work area
  var segs = L.layerGroup();
  L.geoJSON(D.layers.segments, {pane: "lrTrack", interactive: false,
    style: function (f) { return {color: ST.casing, weight: f.properties.w + 3, opacity: 0.9,
      lineCap: "butt"}; }}).addTo(segs);
  L.geoJSON(D.layers.segments, {pane: "lrTrack",
    style: function (f) { return {color: f.properties.c, weight: f.properties.w, opacity: 1,
      lineCap: "butt"}; },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(function () {
        var pw = p.pw === null ? T.not_set : fill(T.per_week, p.pw);
        return lines([T.segment + " " + p.id + " · " + p.wa, p.ws + " " + p.wsh, p.r,
          T.area_class + "：" + p.ac, T.patrol + "：" + pw]);
      }, {sticky: true});
    }}).addTo(segs);
  groups.segments = segs;

  // fences and gaps
  // intact fences run under the track (at small scales they would hide its colours),
  // damaged ones over it
  function fenceLayer(intact) {
    return L.geoJSON(D.layers.fences, {pane: intact ? "lrFenceLow" : "lrFence",
      filter: function (f) { return (f.properties.cd === "intact") === intact; },
      style: function (f) { var s = ST.fence[f.properties.cd];
        return {color: s.color, weight: s.weight, dashArray: s.dashArray, lineCap: "butt"}; },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(function () {
          return lines([p.id + " · " + (p.cd === "damaged" ? T.fence_damaged : T.fence_intact),
            p.s + " " + p.r]);
        }, {sticky: true});
      }});
  }
  groups.fences = L.layerGroup([fenceLayer(true), fenceLayer(false)]);
  groups.fence_gaps = L.geoJSON(D.layers.fence_gaps, {pane: "lrFence",
    style: {color: ST.fence.gap.color, weight: ST.fence.gap.weight,
      dashArray: ST.fence.gap.dashArray, lineCap: "round"},
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(function () {
        return lines([T.fence_gap, p.s + " " + p.r, p.len + " m"]);
      }, {sticky: true});
    }});

  // kilometre marks and chain breaks
  var km = L.layerGroup();
  function tick(f, cls) {
    var p = f.properties;
    var box = el("div", "lr-tickbox");
    var bar = el("i", "lr-tick");
    bar.style.transform = "translate(-50%,-50%) rotate(" + Number(p.a) + "deg)";
    box.appendChild(bar);
    var rad = Number(p.a) * Math.PI / 180, away = p.o ? Number(p.o) : 20;
    var lab = el("span", null, p.k);
    lab.style.left = (Math.sin(rad) * away).toFixed(1) + "px";
    lab.style.top = (-Math.cos(rad) * away).toFixed(1) + "px";
    box.appendChild(lab);
    var icon = L.divIcon({className: cls, html: box, iconSize: [0, 0]});
    return L.marker(ll(f.geometry.coordinates), {icon: icon, interactive: false,
      keyboard: false, pane: "lrLabels"});
  }
  D.layers.chainage.features.forEach(function (f) {
    tick(f, "lr-km" + (f.properties.mj ? " lr-major" : " lr-minor")).addTo(km);
  });
  D.breaks.features.forEach(function (f) { tick(f, "lr-km lr-break").addTo(km); });
  groups.chainage = km;

  stage("layers");
  // risk points
  var R = D.risks, S = R.S, F = {};
  R.f.forEach(function (name, i) { F[name] = i; });
  function s(i) { return i > 0 ? S[i] : ""; }
  function when(t) {
    if (t < 0) return "";
    var d = new Date((t + R.t0 + D.tz) * 60000);
    return d.toISOString().slice(0, 16).replace("T", " ");
  }
  var icons = {};
  function iconFor(st, sev, od, closed) {
    var key = st + "|" + sev + "|" + od;
    if (!icons[key]) {
      var size = D.severitySizes[sev] + (od ? 14 : 4);
      icons[key] = L.divIcon({className: "lr-icon", iconSize: [size, size],
        html: '<span class="lr-m lr-s-' + D.statusKeys[st] + " lr-v-" + D.severityKeys[sev] +
          (od ? " lr-od" : "") + (closed ? " lr-closed" : "") + '"></span>'});
    }
    return icons[key];
  }
  function popup(i) {
    var r = R.rows[i];
    var box = el("div", "lr-popup");
    box.setAttribute("data-risk-id", r[F.id]);
    box.appendChild(el("h4", null, T.risk + " " + (s(r[F.ref]) || "#" + r[F.id]) + " · " +
      s(r[F.cat])));
    var tb = el("table");
    box.appendChild(tb);
    function row(k, v, cls) {
      if (v === "" || v === null || v === undefined) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, k));
      tr.appendChild(el("td", cls || null, v));
      tb.appendChild(tr);
    }
    var od = r[F.od] === 1;
    row(T.status, D.statusLabels[r[F.st]] + (od ? " · " + fill(T.overdue_days, r[F.dover]) : ""),
      od ? "lr-od-text" : null);
    row(T.severity, D.severityLabels[r[F.sev]]);
    row(T.location, s(r[F.line]) + " " + s(r[F.ch]) + " " +
      (r[F.side] === 0 ? T.side_left : T.side_right) + " " + fill(T.offset, r[F.off]));
    var zone = D.bandLabels[r[F.band]];
    if (r[F.zw] !== null) {
      zone += "；" + T.zone_detail.replace("{w}", r[F.zw]).replace("{d}", r[F.zd]);
    }
    row(T.band, zone);
    // police, works section, workshop, work area, district, street office, community
    var pt = R.P[r[F.pt]];
    row(T.party_police, s(pt[0]) || T.not_covered);
    row(T.party_railway, [s(pt[1]), s(pt[2]), s(pt[3])].filter(Boolean).join(" ") ||
      T.not_covered);
    row(T.party_local, [s(pt[4]), s(pt[5]), s(pt[6])].filter(Boolean).join(" ") ||
      T.not_covered);
    row(T.lead, D.leadLabels[r[F.lead]] + " " + (s(r[F.lp]) || T.not_covered));
    row(T.found, when(r[F.ft]) + " " + s(r[F.fb]));
    row(T.deadline, when(r[F.dl]));
    if (r[F.ct] >= 0) row(T.cleared_at, when(r[F.ct]));
    if (r[F.dopen] >= 0) row(T.days_open, fill(T.days, r[F.dopen]));
    row(T.description, s(r[F.desc]));
    row(T.note, s(r[F.note]));
    var hs = R.hist[i];
    if (hs.length) {
      box.appendChild(el("div", "lr-legend-group", T.history));
      var ol = el("ol");
      hs.forEach(function (e) {
        var li = el("li");
        li.appendChild(el("span", "lr-when", when(e[0]) + " "));
        var text = D.actionLabels[e[1]] + " · " + s(e[2]);
        if (e[4]) text += "（" + s(e[4]) + "）";
        if (e[3]) text += "：" + s(e[3]);
        li.appendChild(document.createTextNode(text));
        ol.appendChild(li);
      });
      box.appendChild(ol);
    }
    return box;
  }

  var markers = {}, hl = null, hover = null;
  function iconEl(id) { var m = markers[id]; return m ? m.getElement() : null; }
  function mark(id, on) { var e = iconEl(id); if (e) e.classList.toggle("lr-hl", on); }
  function diagramMark(id, on) {
    var nodes = document.querySelectorAll('#lr-diagram [data-risk-id="' + Number(id) + '"]');
    for (var k = 0; k < nodes.length; k++) nodes[k].classList.toggle("lrd-hl", on);
  }
  function setHighlight(id) {
    if (hl !== null) { mark(hl, false); diagramMark(hl, false); }
    hl = id;
    if (id !== null) { mark(id, true); diagramMark(id, true); }
  }
  var index = {};
  R.rows.forEach(function (r, i) { index[r[F.id]] = i; });
  // one popup for all points, filled from the row when a point is clicked
  var shared = L.popup({maxWidth: 400, minWidth: 280, offset: [0, -6], autoPanPadding: [30, 30]});
  function openPopup(m) {
    shared.setLatLng(m.getLatLng()).setContent(popup(m.lrIndex)).openOn(map);
  }
  // a marker that tells the page which risk its icon shows
  var RiskMarker = L.Marker.extend({
    onAdd: function (m) {
      L.Marker.prototype.onAdd.call(this, m);
      var e = this.getElement();
      if (e) {
        e.setAttribute("data-risk-id", this.lrId);
        e.classList.toggle("lr-hl", hl === this.lrId || hover === this.lrId);
      }
      return this;
    }
  });
  var openList = [], closedList = [];
  R.rows.forEach(function (r, i) {
    var st = r[F.st], closed = D.statusKeys[st] === "cleared" || D.statusKeys[st] === "withdrawn";
    var od = r[F.od] === 1, id = r[F.id];
    var m = new RiskMarker([r[F.y], r[F.x]], {icon: iconFor(st, r[F.sev], od, closed),
      keyboard: false, riseOnHover: true, zIndexOffset: od ? 2000 : (closed ? -1000 : 0),
      title: (s(r[F.ref]) || "#" + id) + " " + s(r[F.cat]) + " " + s(r[F.ch])});
    m.lrIndex = i; m.lrOd = od; m.lrId = id;
    markers[id] = m;
    (closed ? closedList : openList).push(m);
  });
  function clusterIcon(c) {
    var ms = c.getAllChildMarkers(), od = 0;
    for (var k = 0; k < ms.length; k++) if (ms[k].lrOd) od++;
    var n = c.getChildCount(), size = n < 10 ? 32 : n < 100 ? 40 : 48;
    var html = String(n) + (od ? "<small>!" + od + "</small>" : "");
    return L.divIcon({html: html, className: "lr-cluster" + (od ? " lr-od" : ""),
      iconSize: [size, size]});
  }
  // the page is ready when every layer is drawn, clustered points included
  var pending = 0, drawn = false;
  function settle() {
    pending -= 1;
    if (pending <= 0 && drawn) ready();
  }
  function riskGroup(list) {
    var g;
    if (D.cluster && L.markerClusterGroup) {
      pending += 1;
      g = L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 45,
        disableClusteringAtZoom: 17, showCoverageOnHover: false, iconCreateFunction: clusterIcon,
        chunkProgress: function (done, total) { if (done >= total) setTimeout(settle, 0); }});
      g.lrPending = list;  // added once the group is on the map (see below)
    } else {
      g = L.featureGroup(list);
    }
    g.on("click", function (e) {
      var m = e.layer;
      if (!m || m.lrId === undefined) return;
      setHighlight(m.lrId);
      openPopup(m);
    });
    list.forEach(function (m) { m.lrGroup = g; });
    return g;
  }
  groups.risks_closed = riskGroup(closedList);
  groups.risks_open = riskGroup(openList);

  stage("markers");
  var order = ["neighbourhoods", "police", "zone", "segments", "fences", "fence_gaps",
    "chainage", "risks_closed", "risks_open"];
  order.forEach(function (key) {
    groups[key].addTo(map);
    overlays[esc(T[key]) + " (" + Number(counts[key]) + ")"] = groups[key];
  });
  L.control.layers(bases, overlays, {collapsed: false, position: "topright"}).addTo(map);
  // legend: two columns at the bottom left, above the scale bar
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () {
    var box = el("div", "lr-panel lr-legend");
    var head = el("h3", "lr-legend-toggle", T.legend);
    head.addEventListener("click", function () { box.classList.toggle("lr-collapsed"); });
    box.appendChild(head);
    var body = el("div", "lr-legend-body");
    box.appendChild(body);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var col = null;
    function column() { col = el("div", "lr-legend-col"); body.appendChild(col); }
    function group(t) { col.appendChild(el("div", "lr-legend-group", t)); }
    function rowWith(key, text) {
      var r = el("div", "lr-legend-row");
      var k = el("span", "lr-legend-key");
      k.appendChild(key);
      r.appendChild(k);
      r.appendChild(el("span", null, text));
      col.appendChild(r);
    }
    function dot(cls) { return el("span", "lr-m " + cls); }
    function stroke(colour, weight, style) {
      var l = el("span", "lr-legend-line");
      l.style.borderTopColor = colour;
      l.style.borderTopWidth = weight + "px";
      if (style) l.style.borderTopStyle = style;
      return l;
    }
    column();
    group(T.status);
    D.statusKeys.forEach(function (k, i) {
      rowWith(dot("lr-s-" + k + " lr-v-general"), D.statusLabels[i]);
    });
    rowWith(dot("lr-s-withdrawn lr-v-general lr-od"), T.overdue);
    group(T.severity);
    D.severityKeys.forEach(function (k, i) {
      rowWith(dot("lr-s-withdrawn lr-v-" + k), D.severityLabels[i]);
    });
    column();
    group(T.fences);
    rowWith(stroke(ST.fence.intact.color, 3), T.fence_intact);
    rowWith(stroke(ST.fence.damaged.color, 4, "dashed"), T.fence_damaged);
    rowWith(stroke(ST.fence.gap.color, 5, "dotted"), T.fence_gap);
    group(T.segments);
    D.railwayLegend.forEach(function (p) { rowWith(stroke(p[1], 6), p[0]); });
    col.appendChild(el("div", "lr-hint-small", T.patrol_weight));
    var z = el("span", "lr-legend-area");
    z.style.background = ST.zone;
    z.style.opacity = 0.45;
    rowWith(z, T.zone);
    var p = el("span", "lr-legend-area");
    p.style.border = "2px dashed " + ST.police;
    rowWith(p, T.police);
    if (window.matchMedia && window.matchMedia("(max-width: 900px)").matches) {
      box.classList.add("lr-collapsed");
    }
    return box;
  };
  L.control.scale({imperial: false, maxWidth: 200, position: "bottomleft"}).addTo(map);
  legend.addTo(map);

  var container = map.getContainer();
  function zoomClass() {
    var z = map.getZoom();
    container.classList.toggle("lr-zoomed-out", z < 13.5);  // community names
    container.classList.toggle("lr-far", z < 12);  // kilometre labels but every fifth
  }
  map.on("zoomend", zoomClass);
  map.fitBounds(D.bounds, {padding: [24, 24]});
  zoomClass();
  // clustering on a group already on the map checks membership by hash, not by scanning
  ["risks_closed", "risks_open"].forEach(function (key) {
    var g = groups[key];
    if (g.lrPending) { g.addLayers(g.lrPending); g.lrPending = null; }
  });

  function focusRisk(id, withPopup) {
    var m = markers[id];
    if (!m) return false;
    var g = m.lrGroup;
    if (!map.hasLayer(g)) map.addLayer(g);
    var done = function () { setHighlight(id); if (withPopup) openPopup(m); };
    if (g.zoomToShowLayer) {
      g.zoomToShowLayer(m, done);
    } else {
      map.setView(m.getLatLng(), Math.max(map.getZoom(), 15), {animate: false});
      done();
    }
    return true;
  }

  stage("map");
  // the diagram's risk points, drawn from the same rows (closed first, overdue last)
  var layer = document.getElementById("lrd-points");
  if (layer) {
    var drawOrder = R.rows.map(function (r, i) { return i; }).filter(function (i) {
      return R.rows[i][F.dx] !== null;
    });
    function rank(r) {
      var k = D.statusKeys[r[F.st]];
      return (k === "cleared" || k === "withdrawn" ? 0 : 2) + (r[F.od] === 1 ? 1 : 0);
    }
    drawOrder.sort(function (a, b) {
      return rank(R.rows[a]) - rank(R.rows[b]) || R.rows[a][F.id] - R.rows[b][F.id];
    });
    // one markup string from numbers and our own class names only (no user text)
    var parts = [];
    drawOrder.forEach(function (i) {
      var r = R.rows[i], x = r[F.dx], y = r[F.dy], sev = D.severityKeys[r[F.sev]];
      var st = D.statusKeys[r[F.st]], od = r[F.od] === 1, size = D.diagramSymbols[sev];
      var attrs = ' class="lrd-r s-' + st + (od ? " od" : "") +
        (st === "cleared" || st === "withdrawn" ? " closed" : "") + '" data-risk-id="' +
        Number(r[F.id]) + '"';
      x = Number(x); y = Number(y);
      if (od) {
        parts.push('<circle class="lrd-odring" cx="' + x + '" cy="' + y + '" r="' +
          D.diagramRings[sev] + '"/>');
      }
      if (sev === "critical") {
        parts.push("<path" + attrs + ' d="M' + x + " " + (y - size) + "l" + size + " " + size +
          "l" + (-size) + " " + size + "l" + (-size) + " " + (-size) + 'z"/>');
      } else if (sev === "major") {
        parts.push("<rect" + attrs + ' x="' + (x - size) + '" y="' + (y - size) + '" width="' +
          2 * size + '" height="' + 2 * size + '"/>');
      } else {
        parts.push("<circle" + attrs + ' cx="' + x + '" cy="' + y + '" r="' + size + '"/>');
      }
    });
    layer.innerHTML = parts.join("");
  }

  stage("diagram");
  // the diagram: hover marks the point on the map, a click finds it
  var dg = document.getElementById("lr-diagram");
  if (dg) {
    var tip = el("div", "lr-panel lr-dtip");
    tip.style.display = "none";
    document.body.appendChild(tip);
    var target = function (ev) {
      var t = ev.target;
      return t && t.closest ? t.closest("[data-risk-id]") : null;
    };
    dg.addEventListener("mouseover", function (ev) {
      var t = target(ev);
      if (!t) return;
      var id = Number(t.getAttribute("data-risk-id")), i = index[id];
      hover = id; mark(id, true); diagramMark(id, true);
      if (i !== undefined) {
        var r = R.rows[i];
        tip.textContent = (s(r[F.ref]) || "#" + id) + " · " + s(r[F.cat]) + " · " +
          s(r[F.ch]) + " · " + D.statusLabels[r[F.st]] +
          (r[F.od] === 1 ? " · " + T.overdue : "");
        tip.style.display = "block";
        tip.style.left = (ev.pageX + 14) + "px";
        tip.style.top = (ev.pageY + 14) + "px";
      }
    });
    dg.addEventListener("mouseout", function (ev) {
      var t = target(ev);
      if (!t) return;
      var id = Number(t.getAttribute("data-risk-id"));
      hover = null; tip.style.display = "none";
      if (id !== hl) { mark(id, false); diagramMark(id, false); }
    });
    dg.addEventListener("click", function (ev) {
      var t = target(ev);
      if (!t) return;
      var id = Number(t.getAttribute("data-risk-id"));
      container.scrollIntoView({block: "start"});
      focusRisk(id, true);
    });
  }
  var printButton = document.getElementById("lr-print");
  if (printButton) printButton.addEventListener("click", function () { window.print(); });
  window.addEventListener("beforeprint", function () { map.invalidateSize(); });

  window.lineriskLayers = {};
  order.forEach(function (key) { window.lineriskLayers[key] = counts[key]; });
  window.lineriskLayers.chain_breaks = counts.chain_breaks;
  window.linerisk = {map: map, groups: groups, markers: markers, focusRisk: focusRisk,
    highlight: setHighlight, data: D};
  function ready() {
    if (window.lineriskReady) return;
    stage("ready");
    window.lineriskTiming = marks;
    window.lineriskReady = true;
    document.documentElement.setAttribute("data-lr-ready", "1");
  }
  drawn = true;
  if (pending <= 0) ready();
})();
"""
