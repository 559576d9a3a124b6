"""Conversion between the in-memory network and store rows, for every backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely

from linerisk.bulk import collector_paused
from linerisk.chainage import format_chainage
from linerisk.model import (
    ChainBreak,
    Fence,
    KmPost,
    Line,
    Neighbourhood,
    PoliceArea,
    Segment,
    Side,
    trusted_geometries,
)
from linerisk.network import Network
from linerisk.settings import Settings
from linerisk.store.base import Store
from linerisk.store.schema import GEOMETRY_TYPES

__all__ = ["network_from_store", "network_near", "network_rows", "segment_rows"]


def _substring(net: Network, line_index: int, start: float, end: float) -> shapely.LineString:
    from linerisk.referencing import substring

    return substring(net.lines[line_index].geometry, start, end)


def segment_rows(
    net: Network, segments: Sequence[Segment]
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Rows for segments, with geometry cut from the line by calibrated chainage."""
    rows, geoms = [], []
    for s in segments:
        cal = net.calibration(s.line)
        m0, m1 = (float(v) for v in cal.measure_at(np.array([s.from_chainage, s.to_chainage])))
        geoms.append(_substring(net, net.line_index(s.line), m0, m1))
        rows.append(
            {
                "id": s.id,
                "line": s.line,
                "from_chainage_m": s.from_chainage,
                "to_chainage_m": s.to_chainage,
                "from_chainage": format_chainage(s.from_chainage),
                "to_chainage": format_chainage(s.to_chainage),
                "works_section": s.works_section,
                "workshop": s.workshop,
                "work_area": s.work_area,
                "area_class": s.area_class.value,
                "patrol_per_week": s.patrol_per_week,
                "formation_half_width_left_m": s.formation_half_width_left_m,
                "formation_half_width_right_m": s.formation_half_width_right_m,
            }
        )
    return rows, geoms


def network_rows(net: Network) -> dict[str, tuple[list[dict[str, Any]], list[Any]]]:
    """Rows and geometries for each network layer of the store."""
    out: dict[str, tuple[list[dict[str, Any]], list[Any]]] = {}
    out["lines"] = (
        [
            {
                "id": ln.id,
                "name_zh": ln.name_zh,
                "name_en": ln.name_en,
                "start_chainage_m": ln.start_chainage,
                "start_chainage": format_chainage(ln.start_chainage, prefix=ln.prefix),
                "high_speed": int(ln.high_speed),
                "design_speed_kmh": ln.design_speed_kmh,
                "tracks": ln.tracks,
                "prefix": ln.prefix,
            }
            for ln in net.lines
        ],
        [ln.geometry for ln in net.lines],
    )
    out["kmposts"] = (
        [
            {"line": p.line, "chainage_m": p.chainage, "chainage": format_chainage(p.chainage)}
            for p in net.kmposts
        ],
        [p.geometry for p in net.kmposts],
    )
    cb_geoms = []
    for b in net.chain_breaks:
        if b.geometry is not None:
            cb_geoms.append(b.geometry)
            continue
        li = net.line_index(b.line)
        m = net.calibration(b.line).measure_at(b.back)
        cb_geoms.append(shapely.line_interpolate_point(net.lines[li].geometry, m))
    out["chain_breaks"] = (
        [
            {
                "line": b.line,
                "back_m": b.back,
                "ahead_m": b.ahead,
                "back": format_chainage(b.back),
                "ahead": format_chainage(b.ahead),
                "kind": b.kind,
                "note": b.note,
            }
            for b in net.chain_breaks
        ],
        cb_geoms,
    )
    out["segments"] = segment_rows(net, net.segments)
    out["police_areas"] = (
        [
            {"id": p.id, "name": p.name, "name_en": p.name_en, "parent": p.parent}
            for p in net.police_areas
        ],
        [p.geometry for p in net.police_areas],
    )
    out["neighbourhoods"] = (
        [
            {
                "id": nb.id,
                "district": nb.district,
                "street_office": nb.street_office,
                "community": nb.community,
            }
            for nb in net.neighbourhoods
        ],
        [nb.geometry for nb in net.neighbourhoods],
    )
    fence_geoms = []
    for f in net.fences:
        if f.geometry is not None:
            fence_geoms.append(f.geometry)
            continue
        cal = net.calibration(f.line)
        m0, m1 = (float(v) for v in cal.measure_at(np.array([f.from_chainage, f.to_chainage])))
        centre = _substring(net, net.line_index(f.line), m0, m1)
        distance = net.settings.default_half_width_m + 1.5
        fence_geoms.append(shapely.offset_curve(centre, f.side.sign * distance))
    out["fences"] = (
        [
            {
                "id": f.id,
                "line": f.line,
                "side": f.side.value,
                "from_chainage_m": f.from_chainage,
                "to_chainage_m": f.to_chainage,
                "from_chainage": format_chainage(f.from_chainage),
                "to_chainage": format_chainage(f.to_chainage),
                "condition": f.condition.value,
                "kind": f.kind,
            }
            for f in net.fences
        ],
        fence_geoms,
    )
    return out


@collector_paused()
def network_from_store(store: Store, settings: Settings) -> Network:
    """Rebuild the :class:`Network` from the store's layers.

    Geometries were checked for validity when they were imported, so that test
    is not repeated for each of the (at national scale, hundreds of thousands of)
    objects, and their type and emptiness are checked a layer at a time;
    ``linerisk check`` re-checks a register edited by other tools. Segments
    come without geometry: a segment is its chainage range, and the geometry
    stored with it is cut from its line for GIS tools.
    """
    with trusted_geometries():
        return _network_from_store(
            store, settings, lambda kind: _read(store, kind, geometry=kind != "segments")
        )


def network_near(
    store: Store,
    settings: Settings,
    x: Sequence[float],
    y: Sequence[float],
    placed: tuple[Sequence[str], Sequence[float], Sequence[Side], Sequence[float]] | None = None,
    along: Sequence[str] = (),
) -> Network | None:
    """The part of the store's network that referencing points needs, read through
    the layers' spatial indexes instead of whole.

    Holds every line whose extent comes within ``settings.max_distance_m`` of a
    point (``x``, ``y`` in the register's CRS) and the lines of the points
    ``placed`` by chainage (the arguments of :meth:`Network.place`), each with
    all its kilometre posts, chain breaks and segments, and the police areas and
    neighbourhoods whose extent holds a point (a point placed by chainage is
    placed first); no fences. The lines named in ``along`` come too, with the
    areas whose extent meets the line's grown by ``max_distance_m``, for
    points still to be placed on them (an import's rows by chainage). A point
    is referenced on it as on the whole network: its nearest line within the
    limit, the segment and calibration of that line and the areas holding it
    are all there. A point with no line in reach gets no candidate here; the
    caller asks the whole network why. None when no line is in reach and none
    is named.
    """
    lines = [*(placed[0] if placed is not None else ()), *along]
    d = float(settings.max_distance_m)
    reach = [(px - d, py - d, px + d, py + d) for px, py in zip(x, y, strict=True)]
    line_rows, line_geoms = _read(store, "lines", boxes=reach)
    ids = sorted({r["id"] for r in line_rows} | set(lines))
    if set(lines) - {r["id"] for r in line_rows}:
        line_rows, line_geoms = _read(store, "lines", where={"id": ids})
    if not line_rows:
        return None
    layers: dict[str, tuple[list[dict[str, Any]], np.ndarray]] = {
        "lines": (line_rows, line_geoms),
        "fences": ([], np.empty(0, dtype=object)),
    }
    for kind in ("kmposts", "chain_breaks", "segments"):
        layers[kind] = _read(store, kind, geometry=kind != "segments", where={"line": ids})
    at = [(px, py, px, py) for px, py in zip(x, y, strict=True)]
    named = set(along)
    for r, g in zip(line_rows, line_geoms, strict=True):
        if r["id"] in named and g is not None:
            minx, miny, maxx, maxy = shapely.bounds(g).tolist()
            at.append((minx - d, miny - d, maxx + d, maxy + d))

    def build() -> Network:
        with trusted_geometries():
            return _network_from_store(store, settings, layers.__getitem__)

    empty: tuple[list[dict[str, Any]], np.ndarray] = ([], np.empty(0, dtype=object))
    if placed is not None:
        # the areas of a point given by chainage are those where it lands
        layers["police_areas"] = layers["neighbourhoods"] = empty
        there = build().place(*placed)
        found = np.isfinite(there.x) & np.isfinite(there.y)
        at += [(px, py, px, py) for px, py in zip(there.x[found], there.y[found], strict=True)]
    for kind in ("police_areas", "neighbourhoods"):
        layers[kind] = _read(store, kind, boxes=at) if at else empty
    return build()


def network_of_lines(
    store: Store, settings: Settings, ids: Sequence[str], fences: bool = False
) -> Network | None:
    """The lines ``ids`` of the store's network alone, each with all its kilometre
    posts, chain breaks and segments (and its fences, if asked); no areas. None
    when the store has none of these lines."""
    line_rows, line_geoms = _read(store, "lines", where={"id": list(ids)})
    if not line_rows:
        return None
    found = [r["id"] for r in line_rows]
    empty: tuple[list[dict[str, Any]], np.ndarray] = ([], np.empty(0, dtype=object))
    layers: dict[str, tuple[list[dict[str, Any]], np.ndarray]] = {
        "lines": (line_rows, line_geoms),
        "police_areas": empty,
        "neighbourhoods": empty,
        "fences": empty,
    }
    for kind in ("kmposts", "chain_breaks", "segments", *(("fences",) if fences else ())):
        layers[kind] = _read(store, kind, geometry=kind != "segments", where={"line": found})
    with trusted_geometries():
        return _network_from_store(store, settings, layers.__getitem__)


#: a part of the network holding more lines than this is not worth reading apart
AROUND_MAX_LINES = 500


def network_around(
    store: Store, settings: Settings, box: tuple[float, float, float, float], margin: float
) -> Network | None:
    """The part of the store's network on and around ``box`` (minx, miny, maxx,
    maxy in the register's CRS), read through the layers' spatial indexes: every
    line whose extent comes within ``margin`` of the box, whole, with all its
    kilometre posts, chain breaks, segments and fences, and the police areas and
    neighbourhoods whose extent does. None when no line comes that near, or more
    than :data:`AROUND_MAX_LINES` do (then the whole network is as quick)."""
    minx, miny, maxx, maxy = box
    grown = [(minx - margin, miny - margin, maxx + margin, maxy + margin)]
    line_rows, line_geoms = _read(store, "lines", boxes=grown)
    if not line_rows or len(line_rows) > AROUND_MAX_LINES:
        return None
    ids = [r["id"] for r in line_rows]
    layers: dict[str, tuple[list[dict[str, Any]], np.ndarray]] = {"lines": (line_rows, line_geoms)}
    for kind in ("kmposts", "chain_breaks", "segments", "fences"):
        layers[kind] = _read(store, kind, geometry=kind != "segments", where={"line": ids})
    for kind in ("police_areas", "neighbourhoods"):
        layers[kind] = _read(store, kind, boxes=grown)
    with trusted_geometries():
        return _network_from_store(store, settings, layers.__getitem__)


def _read(
    store: Store, kind: str, geometry: bool = True, **where: Any
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """A layer's rows and geometries, refused if a geometry has the wrong type or
    is empty (a missing geometry is allowed, as the model objects allow it)."""
    rows, geoms = store.read_layer(kind, geometry=geometry, **where)
    types = GEOMETRY_TYPES[kind]
    kinds = shapely.get_type_id(geoms)
    allowed = [int(shapely.GeometryType[t.upper()]) for t in types]
    bad = np.flatnonzero((~np.isin(kinds, allowed) & (kinds != -1)) | shapely.is_empty(geoms))
    if len(bad):
        if where:  # number the feature in the whole layer
            _read(store, kind)
        from linerisk.store.base import StoreError

        raise StoreError(
            f"feature {int(bad[0]) + 1} of the register's {kind} layer is not a "
            f"{' or '.join(types)} or is empty; run linerisk check"
        )
    return rows, geoms


def _network_from_store(
    store: Store,
    settings: Settings,
    read: Callable[[str], tuple[list[dict[str, Any]], np.ndarray]],
) -> Network:
    rows, geoms = read("lines")
    if not rows:
        from linerisk.errors import LineriskError

        raise LineriskError("the register has no lines yet; import some first")
    lines = [
        Line(
            id=r["id"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            geometry=g,
            start_chainage=r["start_chainage_m"],
            high_speed=bool(r["high_speed"]),
            design_speed_kmh=r["design_speed_kmh"],
            tracks=r["tracks"],
            prefix=r["prefix"],
        )
        for r, g in zip(rows, geoms, strict=True)
    ]
    rows, geoms = read("kmposts")
    kmposts = [
        KmPost(line=r["line"], chainage=r["chainage_m"], geometry=g)
        for r, g in zip(rows, geoms, strict=True)
    ]
    rows, geoms = read("chain_breaks")
    breaks = [
        ChainBreak(
            line=r["line"], back=r["back_m"], ahead=r["ahead_m"], geometry=g, note=r["note"] or ""
        )
        for r, g in zip(rows, geoms, strict=True)
    ]
    rows, geoms = read("segments")
    segments = [
        Segment(
            id=r["id"],
            line=r["line"],
            from_chainage=r["from_chainage_m"],
            to_chainage=r["to_chainage_m"],
            works_section=r["works_section"],
            workshop=r["workshop"],
            work_area=r["work_area"],
            area_class=r["area_class"],
            patrol_per_week=r["patrol_per_week"],
            formation_half_width_left_m=r["formation_half_width_left_m"],
            formation_half_width_right_m=r["formation_half_width_right_m"],
            geometry=g,
        )
        for r, g in zip(rows, geoms, strict=True)
    ]
    rows, geoms = read("police_areas")
    police = [
        PoliceArea(
            id=r["id"],
            name=r["name"],
            geometry=g,
            name_en=r["name_en"] or "",
            parent=r["parent"] or "",
        )
        for r, g in zip(rows, geoms, strict=True)
    ]
    rows, geoms = read("neighbourhoods")
    neighbourhoods = [
        Neighbourhood(
            id=r["id"],
            district=r["district"],
            street_office=r["street_office"],
            community=r["community"],
            geometry=g,
        )
        for r, g in zip(rows, geoms, strict=True)
    ]
    rows, geoms = read("fences")
    fences = [
        Fence(
            id=r["id"],
            line=r["line"],
            side=r["side"],
            from_chainage=r["from_chainage_m"],
            to_chainage=r["to_chainage_m"],
            condition=r["condition"],
            kind=r["kind"],
            geometry=g,
        )
        for r, g in zip(rows, geoms, strict=True)
    ]
    return Network(
        crs=store.crs,
        settings=settings,
        lines=lines,
        kmposts=kmposts,
        chain_breaks=breaks,
        segments=segments,
        police_areas=police,
        neighbourhoods=neighbourhoods,
        fences=fences,
    )
