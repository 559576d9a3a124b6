"""Start a register from OpenStreetMap: lines, kilometre posts, fences and neighbourhoods.

Needs the optional ``osmium`` package (``pip install 'linerisk[osm]'``). Reads
``.osm.pbf`` and ``.osm`` (XML) files.

    >>> result = read_osm("tianjin.osm.pbf", admin_level=8)         # doctest: +SKIP
    >>> [line.id for line in result.lines]                           # doctest: +SKIP
    ['JH']
    >>> import_osm("register.gpkg", "tianjin.osm.pbf", admin_level=8)  # doctest: +SKIP

What is taken:

- ``railway=rail`` ways become lines. Ways are grouped into lines by route
  relation (``type=route`` with ``route=railway`` or ``route=train``), else by
  ``name``, else by ``ref``; ways with none of these, and sidings, yards and
  spurs (``service=*``) outside any route, are skipped. The ways of a group
  are merged (``shapely.line_merge``) and the merged parts joined end to end
  into one continuous line, bridging gaps of up to 500 m; a part running
  beside the line (a second track, a crossover) is skipped, and a part
  farther away starts another line of the same name.
- ``railway=milestone`` nodes with ``railway:position:exact`` or
  ``railway:position`` (kilometres, e.g. ``12.3``) become kilometre posts of
  the nearest line within 100 m. They orient the line (chainage increases
  along it) and give its start chainage; posts out of order are skipped.
  Without posts the line keeps the direction of its longest part and starts
  at ``K0+000``.
- ``barrier=fence`` and ``barrier=wall`` ways become fences where they lie
  within ``fence_distance`` of a line, cut where they leave that distance or
  cross the line. The side of each piece is the sign of the cross product of
  the line's direction and the offset to the fence, at the fence's points
  nearest the line; its chainage range is where its points project onto the
  line (to within 10 m).
- ``boundary=administrative`` areas at ``admin_level`` near a line become
  neighbourhoods. Without ``admin_level`` the most detailed level that covers
  as much of the lines as any other is taken. The community is the area's
  name; the street office or town is the enclosing area at level 7 or 8, the
  district the enclosing area at level 5 or 6, each the area's own name when
  there is none.
- One placeholder segment per line (works section ``unknown (OSM)``, area
  class ``other``), because every register needs segments for the railway
  vertical. Replace them with the works sections' own segments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import shapely

from linerisk.chainage import format_chainage
from linerisk.errors import LineriskError
from linerisk.model import Fence, KmPost, Line, Neighbourhood, Segment

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.network import Network
    from linerisk.register import Register
    from linerisk.settings import Settings

__all__ = ["OsmLineReport", "OsmReport", "OsmResult", "import_osm", "read_osm"]

#: route relations whose ways are grouped into one line
ROUTE_KINDS = ("railway", "train")
#: the longest gap between the parts of a line that is bridged with a straight piece
MAX_GAP_M = 500.0
#: a part whose far end lies this close beside a line (not beyond its end) is a second track
PARALLEL_M = 30.0
#: a group's extra line (after a gap too long to bridge) must be at least this long
MIN_EXTRA_LINE_M = 200.0
#: milestones farther than this from every line are skipped
MILESTONE_DISTANCE_M = 100.0
#: fences are sampled at this spacing before being located along the line
FENCE_STEP_M = 10.0
#: fence pieces shorter than this along the line are dropped
MIN_FENCE_M = 1.0
#: neighbourhoods are kept when they come this close to a line
NEIGHBOURHOOD_REACH_M = 1000.0
#: works section, workshop and work area of the placeholder segments
PLACEHOLDER = "unknown (OSM)"

#: what the report counts, in Chinese and English
COUNT_LABELS: dict[str, tuple[str, str]] = {
    "rail_ways": ("铁路路段", "railway ways"),
    "lines": ("线路", "lines"),
    "kmposts": ("公里标", "kilometre posts"),
    "fences": ("护网/围墙", "fences and walls"),
    "neighbourhoods": ("社区/村", "neighbourhoods"),
    "segments": ("占位区段", "placeholder segments"),
    "incomplete_ways": ("节点坐标不全的路段", "ways with missing node locations"),
    "service_tracks": ("不属于任何线路的站线、专用线（service=*）", "sidings, yards and spurs"),
    "unnamed_rail_ways": (
        "无线路关系、名称和编号的铁路路段",
        "railway ways with no route, name or ref",
    ),
    "parallel_parts": ("并行股道、渡线等未并入线路的部分", "second tracks and short parts"),
    "milestones_far": (
        f"距线路超过 {MILESTONE_DISTANCE_M:.0f} 米的里程标",
        f"milestones farther than {MILESTONE_DISTANCE_M:.0f} m from every line",
    ),
    "milestones_unreadable": ("里程无法识别的里程标", "milestones with no readable position"),
    "milestones_out_of_order": ("顺序错乱的里程标", "milestones out of order along the line"),
    "fences_far": ("距线路过远的护网/围墙", "fences and walls too far from every line"),
    "fence_pieces_short": ("过短的护网片段", "fence pieces too short"),
    "boundaries_other_levels": ("其他行政级别的边界", "boundaries at other admin levels"),
    "boundaries_far": ("远离线路的行政区", "boundaries far from every line"),
}


# --------------------------------------------------------------------------- results


@attrs.frozen
class OsmLineReport:
    """How one line was put together from OpenStreetMap ways."""

    line: str
    name: str
    #: ``route relation 123``, ``name`` or ``ref``
    grouped_by: str
    ways: int
    #: pieces after merging the ways, joined end to end into the line
    parts: int
    #: the gaps bridged between parts, metres
    gaps_m: tuple[float, ...]
    length_m: float
    from_chainage: float
    to_chainage: float
    kmposts: int
    #: ``milestones`` or ``as drawn``
    oriented_by: str

    def describe(self, lang: str = "zh") -> str:
        rng = f"{format_chainage(self.from_chainage, decimals=0)}-" + format_chainage(
            self.to_chainage, decimals=0
        )
        gaps = ", ".join(f"{g:.0f}" for g in self.gaps_m)
        if lang == "zh":
            by = {"name": "按名称", "ref": "按编号"}.get(
                self.grouped_by, self.grouped_by.replace("route relation ", "线路关系 ")
            )
            gap_text = (
                f"，补接缺口 {len(self.gaps_m)} 处（{gaps} 米）" if self.gaps_m else "，无缺口"
            )
            way = "按里程标定向" if self.oriented_by == "milestones" else "无里程标，按绘制方向"
            return (
                f"线路 {self.line}（{self.name}，{by}）：{self.ways} 条路段合并为 "
                f"{self.parts} 段{gap_text}；{rng}，长 {self.length_m:,.0f} 米；"
                f"公里标 {self.kmposts} 个，{way}"
            )
        gap_text = f", {len(self.gaps_m)} gap(s) bridged ({gaps} m)" if self.gaps_m else ", no gaps"
        way = (
            "oriented by milestones"
            if self.oriented_by == "milestones"
            else "no milestones: direction as drawn"
        )
        return (
            f"line {self.line} ({self.name}, by {self.grouped_by}): {self.ways} way(s) merged "
            f"into {self.parts} part(s){gap_text}; {rng}, {self.length_m:,.0f} m; "
            f"{self.kmposts} kilometre post(s), {way}"
        )


@attrs.frozen
class OsmReport:
    """What an OpenStreetMap read took and what it skipped, with counts."""

    lines: tuple[OsmLineReport, ...]
    taken: Mapping[str, int]
    skipped: Mapping[str, int]
    admin_level: int | None = None
    #: whether the level was chosen from the data (none was asked for)
    admin_level_chosen: bool = False

    def describe(self, lang: str = "zh") -> list[str]:
        """The report as sentences, one per line of output."""
        zh = lang == "zh"
        out = [ln.describe(lang) for ln in self.lines]
        taken = [f"{COUNT_LABELS[k][0 if zh else 1]} {v}" for k, v in self.taken.items()]
        out.append(("读入：" if zh else "taken: ") + ("，" if zh else ", ").join(taken))
        skipped = [f"{COUNT_LABELS[k][0 if zh else 1]} {v}" for k, v in self.skipped.items() if v]
        if skipped:
            out.append(("跳过：" if zh else "skipped: ") + ("，" if zh else ", ").join(skipped))
        if self.admin_level is not None:
            level = self.admin_level
            if zh:
                how = "（自动选择）" if self.admin_level_chosen else ""
                out.append(f"社区/村取自 admin_level={level} 的行政区{how}")
            else:
                how = " (chosen from the data)" if self.admin_level_chosen else ""
                out.append(f"neighbourhoods from admin_level={level}{how}")
        elif zh:
            out.append("未找到靠近线路的行政区边界：没有导入社区/村")
        else:
            out.append("no administrative boundaries near the lines: no neighbourhoods")
        if self.taken.get("segments"):
            out.append(
                f"每条线路建了一个占位区段（工务段“{PLACEHOLDER}”，地区类别“其他地区”）："
                "请导入工务段的区段替换"
                if zh
                else f"one placeholder segment per line (works section {PLACEHOLDER!r}, area "
                "class 'other'): import the works sections' segments to replace them"
            )
        return out


@attrs.frozen(eq=False)
class OsmResult:
    """Model objects read from an OpenStreetMap file, in the metric CRS ``crs``."""

    crs: str
    lines: tuple[Line, ...]
    kmposts: tuple[KmPost, ...]
    fences: tuple[Fence, ...]
    neighbourhoods: tuple[Neighbourhood, ...]
    segments: tuple[Segment, ...]
    report: OsmReport

    def network(self, settings: Settings | None = None) -> Network:
        """A network of these layers (no police areas: OpenStreetMap has none)."""
        from linerisk.network import Network

        return Network(
            crs=self.crs,
            settings=settings,
            lines=self.lines,
            kmposts=self.kmposts,
            segments=self.segments,
            neighbourhoods=self.neighbourhoods,
            fences=self.fences,
        )


# --------------------------------------------------------------------------- reading the file


@attrs.define
class _Raw:
    """What the scan of the file collected, in longitude/latitude."""

    rail_ids: list[int] = attrs.field(factory=list)
    rail_tags: list[dict[str, str]] = attrs.field(factory=list)
    rail_coords: list[list[tuple[float, float]]] = attrs.field(factory=list)
    barrier_ids: list[int] = attrs.field(factory=list)
    barrier_kinds: list[str] = attrs.field(factory=list)
    barrier_coords: list[list[tuple[float, float]]] = attrs.field(factory=list)
    milestones: list[tuple[float, float, str | None, str | None]] = attrs.field(factory=list)
    routes: list[tuple[int, str, dict[str, str], list[int]]] = attrs.field(factory=list)
    areas: list[tuple[str, int, int, dict[str, str], str]] = attrs.field(factory=list)
    incomplete: int = 0


_RAIL_KEYS = ("name", "name:zh", "name:en", "ref", "service", "highspeed", "maxspeed")
_NAME_KEYS = ("name", "name:zh", "name:en", "ref")


def _coords(way: Any) -> list[tuple[float, float]]:
    out = []
    for node in way.nodes:
        loc = node.location
        if loc.valid():
            out.append((loc.lon, loc.lat))
    return out


def _scan(path: Path) -> _Raw:
    try:
        import osmium
    except ImportError:
        raise LineriskError(
            "reading OpenStreetMap files needs the osmium package: pip install 'linerisk[osm]'"
        ) from None
    raw = _Raw()
    wkb = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas()
        .with_filter(osmium.filter.KeyFilter("railway", "barrier", "boundary", "route"))
    )
    try:
        for obj in processor:
            tags = obj.tags
            if obj.is_node():
                if tags.get("railway") == "milestone":
                    loc = obj.location
                    if loc.valid():
                        raw.milestones.append(
                            (
                                loc.lon,
                                loc.lat,
                                tags.get("railway:position:exact"),
                                tags.get("railway:position"),
                            )
                        )
            elif obj.is_way():
                if tags.get("railway") == "rail":
                    coords = _coords(obj)
                    if len(set(coords)) < 2:
                        raw.incomplete += 1
                        continue
                    raw.rail_ids.append(obj.id)
                    raw.rail_tags.append({k: tags[k] for k in _RAIL_KEYS if k in tags})
                    raw.rail_coords.append(coords)
                elif tags.get("barrier") in ("fence", "wall"):
                    coords = _coords(obj)
                    if len(set(coords)) < 2:
                        raw.incomplete += 1
                        continue
                    raw.barrier_ids.append(obj.id)
                    raw.barrier_kinds.append(tags["barrier"])
                    raw.barrier_coords.append(coords)
            elif obj.is_relation():
                if tags.get("type") == "route" and tags.get("route") in ROUTE_KINDS:
                    members = [m.ref for m in obj.members if m.type == "w"]
                    names = {k: tags[k] for k in _NAME_KEYS if k in tags}
                    raw.routes.append((obj.id, tags["route"], names, members))
            elif obj.is_area():
                if tags.get("boundary") != "administrative":
                    continue
                level = _int(tags.get("admin_level"))
                if level is None:
                    continue
                try:
                    geom = wkb.create_multipolygon(obj)
                except RuntimeError:
                    continue  # a broken ring: libosmium could not build the area
                names = {k: tags[k] for k in _NAME_KEYS if k in tags}
                kind = "W" if obj.from_way() else "R"
                raw.areas.append((kind, obj.orig_id(), level, names, geom))
    except RuntimeError as exc:
        raise LineriskError(f"cannot read OpenStreetMap file {path}: {exc}") from None
    return raw


def _int(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


_POSITION = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*(?:km)?\s*")


def _position_m(exact: str | None, position: str | None) -> float | None:
    """Chainage in metres from ``railway:position:exact`` or ``railway:position`` (km)."""
    for text in (exact, position):
        if text is None:
            continue
        m = _POSITION.fullmatch(text)
        if m:
            return float(m[1].replace(",", ".")) * 1000.0
    return None


def _maxspeed(text: str | None) -> float | None:
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", text or "")
    if not m:
        return None
    value = float(m[1])
    return value * 1.609344 if m[2] else value


# --------------------------------------------------------------------------- lines


@attrs.frozen
class _Group:
    key: str
    grouped_by: str
    name_zh: str
    name_en: str
    ref: str | None
    ways: tuple[int, ...]  # indices into the raw rail ways


def _groups(raw: _Raw) -> tuple[list[_Group], dict[str, int]]:
    """Rail ways grouped into lines: by route relation, else name, else ref."""
    index = {wid: i for i, wid in enumerate(raw.rail_ids)}
    owner: dict[int, tuple[int, int]] = {}  # way index -> (priority, relation position)
    order = sorted(
        range(len(raw.routes)),
        key=lambda k: (ROUTE_KINDS.index(raw.routes[k][1]), raw.routes[k][0]),
    )
    for rank, k in enumerate(order):
        for wid in raw.routes[k][3]:
            i = index.get(wid)
            if i is not None and i not in owner:
                owner[i] = (rank, k)
    groups: list[_Group] = []
    by_relation: dict[int, list[int]] = {}
    for i, (_rank, k) in owner.items():
        by_relation.setdefault(k, []).append(i)
    for k in sorted(by_relation, key=lambda k: order.index(k)):
        rel_id, _route, names, _members = raw.routes[k]
        ways = tuple(sorted(by_relation[k]))
        zh = names.get("name:zh") or names.get("name") or names.get("ref") or f"R{rel_id}"
        en = names.get("name:en") or names.get("name") or zh
        groups.append(
            _Group(f"r{rel_id}", f"route relation {rel_id}", zh, en, names.get("ref"), ways)
        )
    skipped = {"service_tracks": 0, "unnamed_rail_ways": 0}
    by_name: dict[tuple[str, str], list[int]] = {}
    for i, tags in enumerate(raw.rail_tags):
        if i in owner:
            continue
        if tags.get("service"):
            skipped["service_tracks"] += 1
            continue
        name = tags.get("name:zh") or tags.get("name")
        if name:
            by_name.setdefault(("name", name), []).append(i)
        elif tags.get("ref"):
            by_name.setdefault(("ref", tags["ref"]), []).append(i)
        else:
            skipped["unnamed_rail_ways"] += 1
    for (how, value), ways in by_name.items():
        tags = raw.rail_tags[ways[0]]
        refs = {raw.rail_tags[i].get("ref") for i in ways}
        ref = refs.pop() if len(refs) == 1 else None
        en = tags.get("name:en") or tags.get("name") or value
        groups.append(_Group(f"{how}:{value}", how, value, en, ref, tuple(ways)))
    return groups, skipped


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.hypot(v[..., 0], v[..., 1])
    return v / np.where(norm > 0, norm, 1.0)[..., None]


def _beside(
    part: shapely.LineString, chains: Sequence[tuple[np.ndarray, int, list[float]]]
) -> bool:
    """Whether the middle of ``part`` lies beside one of the lines already built."""
    middle = shapely.line_interpolate_point(part, 0.5, normalized=True)
    return any(shapely.distance(middle, shapely.linestrings(c[0])) < PARALLEL_M for c in chains)


def _chains(
    parts: list[np.ndarray],
) -> tuple[list[tuple[np.ndarray, int, list[float]]], int]:
    """Join merged parts (coordinate arrays) into continuous lines, longest first.

    Returns (coordinates, parts used, gaps bridged) per line and the number of
    parts skipped as second tracks or too short.
    """
    lengths = [float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in parts]
    remaining = [parts[k] for k in np.argsort(lengths)[::-1]]
    chains: list[tuple[np.ndarray, int, list[float]]] = []
    skipped = 0
    while remaining:
        seed = remaining.pop(0)
        seed_line = shapely.linestrings(seed)
        if chains and (shapely.length(seed_line) < MIN_EXTRA_LINE_M or _beside(seed_line, chains)):
            skipped += 1  # a second track, or too short to be a line of its own
            continue
        coords = seed
        used = 1
        gaps: list[float] = []
        while remaining:
            starts = np.array([p[0] for p in remaining])
            ends = np.array([p[-1] for p in remaining])
            into_start = _unit(np.array([p[1] - p[0] for p in remaining]))
            into_end = _unit(np.array([p[-2] - p[-1] for p in remaining]))
            best: tuple[float, int, bool, bool] | None = None
            for at_end in (True, False):
                tip = coords[-1] if at_end else coords[0]
                out = _unit(coords[-1] - coords[-2] if at_end else coords[0] - coords[1])
                for by_start, pts, into in ((True, starts, into_start), (False, ends, into_end)):
                    gap = np.hypot(*(pts - tip).T)
                    cos = into @ out
                    score = gap + 200.0 * (1.0 - cos)
                    score[(gap > MAX_GAP_M) | (cos < 0.5)] = np.inf
                    k = int(np.argmin(score))
                    if np.isfinite(score[k]) and (best is None or score[k] < best[0]):
                        best = (float(score[k]), k, at_end, by_start)
            if best is None:
                break
            _score, k, at_end, by_start = best
            part = remaining.pop(k)
            chain_line = shapely.linestrings(coords)
            far = part[-1] if by_start else part[0]
            at = shapely.line_locate_point(chain_line, shapely.points(far))
            if (
                shapely.distance(chain_line, shapely.points(far)) < PARALLEL_M
                and 1.0 < at < shapely.length(chain_line) - 1.0
            ):
                skipped += 1  # runs beside the line: a second track or a crossover
                continue
            # The part's touching end first when appending, last when prepending.
            if at_end:
                piece = part if by_start else part[::-1]
                gap = float(np.hypot(*(piece[0] - coords[-1])))
                coords = np.concatenate([coords, piece[1:] if gap < 1e-6 else piece])
            else:
                piece = part[::-1] if by_start else part
                gap = float(np.hypot(*(piece[-1] - coords[0])))
                coords = np.concatenate([piece[:-1] if gap < 1e-6 else piece, coords])
            if gap >= 1e-6:
                gaps.append(gap)
            used += 1
        chains.append((coords, used, gaps))
    return chains, skipped


def _unique(candidate: str, taken: set[str]) -> str:
    out = candidate
    n = 2
    while out in taken:
        out = f"{candidate}-{n}"
        n += 1
    return out


def _line_id(group: _Group, taken: set[str]) -> str:
    """The route's or ways' ref, else ``R<relation id>``, else the name."""
    if group.ref:
        return _unique(group.ref, taken)
    if group.grouped_by.startswith("route relation"):
        return _unique("R" + group.key[1:], taken)
    return _unique(group.name_zh, taken)


# --------------------------------------------------------------------------- main entry


def read_osm(
    path: str | Path,
    *,
    admin_level: int | None = None,
    fence_distance: float = 50.0,
    crs: str | None = None,
) -> OsmResult:
    """Read an OpenStreetMap file (``.osm.pbf`` or ``.osm``) into model objects.

    ``crs`` is the metric CRS of the result (default: chosen from the data, the
    CGCS2000 Gauss-Krüger zone in China). See the module docstring for the rules.

    >>> result = read_osm("tianjin.osm.pbf", admin_level=8)   # doctest: +SKIP
    >>> print("\\n".join(result.report.describe("en")))        # doctest: +SKIP
    """
    from linerisk.crs import choose_metric_crs
    from linerisk.network import Network

    path = Path(path)
    if not path.exists():
        raise LineriskError(f"OpenStreetMap file {path} does not exist")
    if not fence_distance > 0:
        raise LineriskError("the fence distance must be a positive number of metres")
    raw = _scan(path)
    if not raw.rail_ids:
        raise LineriskError(f"{path} has no railway lines (ways tagged railway=rail)")
    groups, skipped = _groups(raw)
    skipped = {"incomplete_ways": raw.incomplete, **skipped}
    if crs is None:
        pts = np.array([c for coords in raw.rail_coords for c in coords])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        crs = choose_metric_crs(float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2)
    else:
        from linerisk.register import _require_metric

        _require_metric(crs)
    drafts, skipped["parallel_parts"] = _drafts(groups, raw, _project(raw.rail_coords, crs))
    lines, kmposts, post_skips = _lines_and_posts(drafts, raw, crs)
    skipped |= post_skips
    net = Network(crs=crs, lines=lines, kmposts=kmposts)
    segments, reports = [], []
    for li, (line, d) in enumerate(zip(lines, drafts, strict=True)):
        c0, c1 = net.chainage_extent(line.id)
        segments.append(
            Segment(
                id=f"{line.id}-OSM",
                line=line.id,
                from_chainage=c0,
                to_chainage=c1,
                works_section=PLACEHOLDER,
                workshop=PLACEHOLDER,
                work_area=PLACEHOLDER,
                area_class="other",
            )
        )
        reports.append(
            OsmLineReport(
                line=line.id,
                name=d["group"].name_zh,
                grouped_by=d["group"].grouped_by,
                ways=d["ways"],
                parts=d["parts"],
                gaps_m=d["gaps"],
                length_m=round(float(net.index.lengths[li]), 1),
                from_chainage=c0,
                to_chainage=c1,
                kmposts=d["kmposts"],
                oriented_by=d["oriented_by"],
            )
        )
    fences, fence_skips = _fences(net, raw, _project(raw.barrier_coords, crs), fence_distance)
    skipped |= fence_skips
    neighbourhoods, level, chosen, nb_skips = _neighbourhoods(raw, crs, lines, admin_level)
    skipped |= nb_skips
    report = OsmReport(
        lines=tuple(reports),
        taken={
            "rail_ways": sum(d["ways"] for d in drafts),
            "lines": len(lines),
            "kmposts": len(kmposts),
            "fences": len(fences),
            "neighbourhoods": len(neighbourhoods),
            "segments": len(segments),
        },
        skipped=skipped,
        admin_level=level,
        admin_level_chosen=chosen,
    )
    return OsmResult(
        crs=crs,
        lines=tuple(lines),
        kmposts=tuple(kmposts),
        fences=tuple(fences),
        neighbourhoods=tuple(neighbourhoods),
        segments=tuple(segments),
        report=report,
    )


def _project(coord_lists: list[list[tuple[float, float]]], crs: str) -> list[np.ndarray]:
    """Longitude/latitude coordinate lists → arrays in ``crs``, in one transformation."""
    from linerisk.crs import WGS84, transform_xy

    if not coord_lists:
        return []
    flat = np.array([c for coords in coord_lists for c in coords], dtype=float)
    x, y = transform_xy(flat[:, 0], flat[:, 1], WGS84, crs)
    cuts = np.cumsum([len(c) for c in coord_lists])[:-1]
    return np.split(np.column_stack([x, y]), cuts)


def _drafts(
    groups: Sequence[_Group], raw: _Raw, rail_xy: Sequence[np.ndarray]
) -> tuple[list[dict[str, Any]], int]:
    """Each group's ways merged and joined into lines (not yet oriented)."""
    drafts: list[dict[str, Any]] = []
    taken_ids: set[str] = set()
    parallel = 0
    for group in groups:
        way_lines = np.array([shapely.linestrings(rail_xy[i]) for i in group.ways], dtype=object)
        merged = shapely.remove_repeated_points(
            shapely.line_merge(shapely.multilinestrings(way_lines))
        )
        parts = [shapely.get_coordinates(p) for p in shapely.get_parts(merged)]
        chains, dropped = _chains(parts)
        parallel += dropped
        base = _line_id(group, taken_ids)
        middles = shapely.line_interpolate_point(way_lines, 0.5, normalized=True)
        for k, (coords, used, gaps) in enumerate(chains):
            line_id = base if k == 0 else _unique(f"{base}-{k + 1}", taken_ids)
            taken_ids.add(line_id)
            on_chain = shapely.distance(middles, shapely.linestrings(coords)) < 0.5
            tags = [raw.rail_tags[group.ways[j]] for j in np.flatnonzero(on_chain)]
            speeds = [s for s in (_maxspeed(t.get("maxspeed")) for t in tags) if s]
            drafts.append(
                {
                    "id": line_id,
                    "group": group,
                    "coords": coords,
                    "ways": len(tags),
                    "parts": used,
                    "gaps": tuple(round(g, 1) for g in gaps),
                    "high_speed": any(t.get("highspeed") == "yes" for t in tags)
                    or (bool(speeds) and max(speeds) >= 250),
                }
            )
    return drafts, parallel


def _lines_and_posts(
    drafts: list[dict[str, Any]], raw: _Raw, crs: str
) -> tuple[list[Line], list[KmPost], dict[str, int]]:
    """Lines oriented and started by their milestones, with the posts kept in order."""
    from linerisk.calibration import longest_increasing
    from linerisk.referencing import LineIndex

    index = LineIndex([shapely.linestrings(d["coords"]) for d in drafts])
    positions = np.array([_position_m(m[2], m[3]) or np.nan for m in raw.milestones], dtype=float)
    readable = np.flatnonzero(~np.isnan(positions))
    xy = np.array([p[0] for p in _project([[m[:2]] for m in raw.milestones], crs)]).reshape(-1, 2)
    loc = index.locate(xy[readable, 0], xy[readable, 1], MILESTONE_DISTANCE_M)
    skipped = {
        "milestones_unreadable": int(np.isnan(positions).sum()),
        "milestones_far": int((~loc.found).sum()),
        "milestones_out_of_order": 0,
    }
    lines: list[Line] = []
    kmposts: list[KmPost] = []
    for li, d in enumerate(drafts):
        coords = d["coords"]
        mine = np.flatnonzero(loc.line == li)
        measure = loc.measure[mine]
        chain = positions[readable[mine]]
        d["oriented_by"] = "as drawn"
        if len(mine) >= 2 and np.ptp(measure) > 0 and np.ptp(chain) > 0:
            d["oriented_by"] = "milestones"
            if np.corrcoef(measure, chain)[0, 1] < 0:
                coords = coords[::-1]
                measure = float(index.lengths[li]) - measure
        order = np.argsort(measure, kind="stable")
        measure, chain, mine = measure[order], chain[order], mine[order]
        keep = longest_increasing(chain)
        start = 0.0
        if keep.any():
            first = int(np.flatnonzero(keep)[0])
            start = max(0.0, float(chain[first] - measure[first]))
            keep &= (chain > start) | (measure <= 0.0)
        skipped["milestones_out_of_order"] += int((~keep).sum())
        line = Line(
            id=d["id"],
            name_zh=d["group"].name_zh,
            name_en=d["group"].name_en,
            geometry=shapely.linestrings(coords),
            start_chainage=start,
            high_speed=d["high_speed"],
        )
        lines.append(line)
        kmposts += [
            KmPost(
                line=line.id,
                chainage=float(chain[k]),
                geometry=shapely.points(xy[readable[mine[k]]]),
            )
            for k in np.flatnonzero(keep)
        ]
        d["kmposts"] = int(keep.sum())
    return lines, kmposts, skipped


# --------------------------------------------------------------------------- fences


def _fences(
    net: Network, raw: _Raw, barrier_xy: list[np.ndarray], fence_distance: float
) -> tuple[list[Fence], dict[str, int]]:
    """Fence pieces on each side of each line, from barrier ways near the lines."""
    skipped = {"fences_far": 0, "fence_pieces_short": 0}
    if not barrier_xy:
        return [], skipped
    geoms = shapely.segmentize(
        np.array([shapely.linestrings(xy) for xy in barrier_xy], dtype=object), FENCE_STEP_M
    )
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    loc = net.index.locate(xy[:, 0], xy[:, 1], fence_distance)
    near = loc.found
    side = np.where(loc.offset < 0, -1, 1)
    # Runs of consecutive points of one way, near one line, on one side.
    key_change = np.ones(len(owner), dtype=bool)
    key_change[1:] = (
        (owner[1:] != owner[:-1])
        | (loc.line[1:] != loc.line[:-1])
        | (side[1:] != side[:-1])
        | (near[1:] != near[:-1])
    )
    run = np.cumsum(key_change) - 1
    starts = np.flatnonzero(key_change)
    run_near = near[starts]
    m_lo = np.minimum.reduceat(np.where(near, loc.measure, np.inf), starts)
    m_hi = np.maximum.reduceat(np.where(near, loc.measure, -np.inf), starts)
    long_enough = run_near & (m_hi - m_lo >= MIN_FENCE_M)
    ways_near = np.zeros(len(barrier_xy), dtype=bool)
    ways_near[owner[near]] = True
    skipped["fences_far"] = int((~ways_near).sum())
    skipped["fence_pieces_short"] = int((run_near & ~long_enough).sum())
    fences: list[Fence] = []
    pieces_of: dict[int, int] = {}
    for r in np.flatnonzero(long_enough):
        pieces_of[int(owner[starts[r]])] = pieces_of.get(int(owner[starts[r]]), 0) + 1
    seen: dict[int, int] = {}
    for r in np.flatnonzero(long_enough):
        w = int(owner[starts[r]])
        li = int(loc.line[starts[r]])
        line = net.lines[li]
        c0, c1 = net.calibration(line.id).chainage_at(np.array([m_lo[r], m_hi[r]]))
        seen[w] = seen.get(w, 0) + 1
        fid = f"OSM-W{raw.barrier_ids[w]}"
        if pieces_of[w] > 1:
            fid += f"-{seen[w]}"
        pts = xy[run == r]
        fences.append(
            Fence(
                id=fid,
                line=line.id,
                side="left" if side[starts[r]] > 0 else "right",
                from_chainage=max(0.0, float(c0)),
                to_chainage=float(c1),
                condition="intact",
                kind="wall" if raw.barrier_kinds[w] == "wall" else "wire_mesh",
                geometry=shapely.linestrings(pts),
            )
        )
    return fences, skipped


# --------------------------------------------------------------------------- neighbourhoods


def _neighbourhoods(
    raw: _Raw, crs: str, lines: Sequence[Line], admin_level: int | None
) -> tuple[list[Neighbourhood], int | None, bool, dict[str, int]]:
    """Neighbourhoods from administrative areas at one level, named with their parents."""
    from linerisk.crs import WGS84, transform_geometries

    skipped = {"boundaries_other_levels": 0, "boundaries_far": 0}
    if not raw.areas:
        return [], admin_level, False, skipped
    polys = shapely.make_valid(
        transform_geometries(
            shapely.from_wkb(np.array([a[4] for a in raw.areas], dtype=object)), WGS84, crs
        )
    )
    polys = np.array([_polygonal(g) for g in polys], dtype=object)
    levels = np.array([a[2] for a in raw.areas])
    rail = shapely.union_all([ln.geometry for ln in lines])
    near = shapely.dwithin(polys, rail, NEIGHBOURHOOD_REACH_M) & ~shapely.is_empty(polys)
    chosen = False
    if admin_level is None:
        covered = {}
        for lv in np.unique(levels[near]).tolist():
            cover = shapely.union_all(polys[near & (levels == lv)])
            covered[lv] = float(shapely.length(shapely.intersection(rail, cover)))
        if not covered or max(covered.values()) <= 0:
            return [], None, False, skipped
        best = max(covered.values())
        admin_level = max(lv for lv, c in covered.items() if c >= 0.95 * best)
        chosen = True
    at_level = levels == admin_level
    skipped["boundaries_other_levels"] = int((~at_level).sum())
    skipped["boundaries_far"] = int((at_level & ~near).sum())
    take = np.flatnonzero(at_level & near)
    tree = shapely.STRtree(polys)
    inside_pt, inside_area = tree.query(shapely.point_on_surface(polys[take]), predicate="within")
    parents: dict[int, list[int]] = {}
    for p, a in zip(inside_pt.tolist(), inside_area.tolist(), strict=True):
        parents.setdefault(int(take[p]), []).append(int(a))

    def parent_name(i: int, wanted: Iterable[int]) -> str | None:
        for lv in wanted:
            for a in parents.get(i, []):
                if levels[a] == lv:
                    return _name(raw.areas[a][3])
        return None

    out = []
    for i in take.tolist():
        kind, osm_id, level, names, _wkb = raw.areas[i]
        name = _name(names) or f"{kind}{osm_id}"
        street = name if level <= 8 else parent_name(i, (8, 7)) or name
        district = name if level <= 6 else parent_name(i, (6, 5)) or street
        out.append(
            Neighbourhood(
                id=f"OSM-{kind}{osm_id}",
                district=district,
                street_office=street,
                community=name,
                geometry=polys[i],
            )
        )
    return out, admin_level, chosen, skipped


def _name(names: Mapping[str, str]) -> str | None:
    return names.get("name:zh") or names.get("name") or names.get("ref")


def _polygonal(geom: Any) -> Any:
    """The polygons of a geometry (make_valid can add stray lines), or an empty polygon."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


# --------------------------------------------------------------------------- into a register


def import_osm(
    register: Register | str | Path,
    path: str | Path,
    *,
    admin_level: int | None = None,
    fence_distance: float = 50.0,
    crs: str | None = None,
    settings: Settings | None = None,
) -> OsmResult:
    """Read ``path`` with :func:`read_osm` and write it into a register.

    ``register`` is an open :class:`~linerisk.register.Register` or a path; a
    path that does not exist yet becomes a new register in the CRS chosen from
    the data (or ``crs``). In an existing register the OpenStreetMap lines
    replace lines of the same id and are added otherwise, with their kilometre
    posts and fences; neighbourhoods are replaced when the file has some at
    the level used. Police areas, chain breaks and the segments already there
    are kept, and a placeholder segment is added only for a line without
    segments. Run ``linerisk check`` afterwards: it finds open risks whose
    parties changed.

    >>> import_osm("register.gpkg", "tianjin.osm.pbf", admin_level=8)  # doctest: +SKIP
    """
    from linerisk.register import Register

    if isinstance(register, Register):
        if crs is not None:
            from linerisk.crs import same_crs

            if not same_crs(crs, register.crs):
                raise LineriskError(
                    f"the register's CRS is {register.crs}; an import cannot change it to {crs}"
                )
        result = read_osm(
            path, admin_level=admin_level, fence_distance=fence_distance, crs=register.crs
        )
        register.import_network(_merged_network(register, result))
        return result
    target = Path(register)
    if target.exists():
        with Register.open(target) as reg:
            return import_osm(
                reg, path, admin_level=admin_level, fence_distance=fence_distance, crs=crs
            )
    result = read_osm(path, admin_level=admin_level, fence_distance=fence_distance, crs=crs)
    Register.create(target, crs=result.crs, settings=settings, network=result.network()).close()
    return result


def _merged_network(reg: Register, result: OsmResult) -> Network:
    """The register's network with the OpenStreetMap layers put in."""
    from linerisk.network import Network

    try:
        old = reg.network
    except LineriskError:  # a register with no lines yet
        return result.network(reg.settings)
    new_ids = {ln.id for ln in result.lines}
    keep_lines = [ln for ln in old.lines if ln.id not in new_ids]
    with_segments = {s.line for s in old.segments}
    segments = list(old.segments) + [s for s in result.segments if s.line not in with_segments]
    neighbourhoods = result.neighbourhoods or old.neighbourhoods
    try:
        return Network(
            crs=reg.crs,
            settings=reg.settings,
            lines=[*keep_lines, *result.lines],
            kmposts=[p for p in old.kmposts if p.line not in new_ids] + list(result.kmposts),
            chain_breaks=old.chain_breaks,
            segments=segments,
            police_areas=old.police_areas,
            neighbourhoods=neighbourhoods,
            fences=[f for f in old.fences if f.line not in new_ids] + list(result.fences),
        )
    except ValueError as exc:
        raise LineriskError(
            f"the OpenStreetMap lines do not fit the register's other layers: {exc}"
        ) from None
