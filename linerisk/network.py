"""The railway network in memory: lines with calibrated chainage, and the ground
of the three verticals. Answers "where is this point" and "who answers for it"
for whole arrays of points at once.

Everything is in one projected (metric) CRS, given as ``crs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import IntEnum

import attrs
import numpy as np
import shapely

from linerisk.calibration import Calibration, ChainageStatus, ChainBreakSpec
from linerisk.chainage import format_chainage
from linerisk.errors import ReferencingError
from linerisk.grid import BoxGrid
from linerisk.model import (
    ChainBreak,
    Fence,
    KmPost,
    Line,
    Location,
    Neighbourhood,
    Parties,
    PoliceArea,
    Segment,
    Side,
    Zone,
)
from linerisk.referencing import BATCH, LineIndex
from linerisk.settings import Settings
from linerisk.zones import AREA_CODES, BAND_ORDER

__all__ = ["Network", "PlaceStatus", "Referenced", "ReferencingError", "Stretch"]


class PlaceStatus(IntEnum):
    OK = 0
    TOO_FAR = 1
    NONEXISTENT_CHAINAGE = 2
    UNKNOWN_LINE = 3
    OUTSIDE_LINE = 4


@attrs.frozen(eq=False)
class Referenced:
    """Where n points are and who answers for them, as parallel arrays.

    Integer index arrays use -1 for "none" (no line within reach, no segment,
    no police area, no neighbourhood). ``side`` is +1 left / -1 right.
    """

    network: Network
    status: np.ndarray
    line: np.ndarray
    measure: np.ndarray
    chainage: np.ndarray
    side: np.ndarray
    offset: np.ndarray
    x: np.ndarray
    y: np.ndarray
    segment: np.ndarray
    police: np.ndarray
    neighbourhood: np.ndarray
    zone_width: np.ndarray
    zone_distance: np.ndarray
    band: np.ndarray
    #: for points too far from every line: the nearest line and its distance
    nearest_line: np.ndarray
    nearest_distance: np.ndarray

    def __len__(self) -> int:
        return len(self.status)

    @property
    def ok(self) -> np.ndarray:
        return self.status == PlaceStatus.OK

    @staticmethod
    def array_names() -> list[str]:
        """The names of the per-point arrays (every field but ``network``)."""
        return [f.name for f in attrs.fields(Referenced) if f.name != "network"]

    def take(self, index: np.ndarray) -> Referenced:
        """The points at ``index`` (integer positions or a boolean mask)."""
        return Referenced(
            network=self.network, **{n: getattr(self, n)[index] for n in self.array_names()}
        )

    @staticmethod
    def gather(picks: Sequence[tuple[Referenced, int]]) -> Referenced:
        """Point ``k`` of each ``(referenced, k)`` in turn, as one result; all on
        one network.

        >>> from linerisk.sample import load_sample_network
        >>> net = load_sample_network()
        >>> a = net.place(["JD"], [5000.0], ["left"], [30.0])
        >>> b = net.place(["JD", "JD"], [6000.0, 7000.0], ["right", "left"], [40.0, 20.0])
        >>> Referenced.gather([(b, 1), (a, 0)]).chainage.tolist()
        [7000.0, 5000.0]
        """
        if not picks:
            raise ValueError("nothing to gather")
        sources = list({id(r): r for r, _k in picks}.values())
        net = sources[0].network
        if any(r.network is not net for r in sources):
            raise ValueError("points referenced on different networks")
        start = dict(
            zip(map(id, sources), np.cumsum([0] + [len(r) for r in sources]), strict=False)
        )
        index = np.fromiter((start[id(r)] + k for r, k in picks), np.int64, len(picks))
        if len(sources) == 1:
            return sources[0].take(index)
        names = Referenced.array_names()
        whole = Referenced(
            network=net, **{n: np.concatenate([getattr(r, n) for r in sources]) for n in names}
        )
        return whole.take(index)

    def problem(self, i: int) -> str | None:
        """One sentence saying why point ``i`` could not be referenced, or None."""
        net = self.network
        code = PlaceStatus(int(self.status[i]))
        if code is PlaceStatus.OK:
            return None
        if code is PlaceStatus.TOO_FAR:
            line = net.lines[int(self.nearest_line[i])]
            return (
                f"the point is {self.nearest_distance[i]:,.0f} m from the nearest line "
                f"{line.id} ({line.name_zh}); points farther than "
                f"{net.settings.max_distance_m:,.0f} m from every line are refused"
            )
        if code is PlaceStatus.NONEXISTENT_CHAINAGE:
            line = net.lines[int(self.line[i])]
            return (
                f"chainage {format_chainage(self.chainage[i], prefix=line.prefix)} does not "
                f"exist on line {line.id}: it lies inside a short chain (断链)"
            )
        if code is PlaceStatus.OUTSIDE_LINE:
            line = net.lines[int(self.line[i])]
            lo, hi = net.chainage_extent(line.id)
            return (
                f"chainage {format_chainage(self.chainage[i], prefix=line.prefix)} is outside "
                f"line {line.id}, which runs from "
                f"{format_chainage(lo, prefix=line.prefix, decimals=1)} "
                f"to {format_chainage(hi, prefix=line.prefix, decimals=1)}"
            )
        return "unknown line"

    def raise_for_problems(self) -> None:
        bad = np.flatnonzero(~self.ok)
        if len(bad):
            raise ReferencingError(self.problem(int(bad[0])))

    def location(self, i: int) -> Location:
        self._require_ok(i)
        line = self.network.lines[int(self.line[i])]
        return Location(
            line=line.id,
            measure_m=float(self.measure[i]),
            chainage_m=float(self.chainage[i]),
            side=Side.LEFT if self.side[i] > 0 else Side.RIGHT,
            offset_m=float(self.offset[i]),
            x=float(self.x[i]),
            y=float(self.y[i]),
            prefix=line.prefix,
        )

    def parties(self, i: int) -> Parties:
        self._require_ok(i)
        net = self.network
        seg = net.segments[int(self.segment[i])] if self.segment[i] >= 0 else None
        pol = net.police_areas[int(self.police[i])] if self.police[i] >= 0 else None
        nb = net.neighbourhoods[int(self.neighbourhood[i])] if self.neighbourhood[i] >= 0 else None
        return Parties(
            police=pol.name if pol else None,
            works_section=seg.works_section if seg else None,
            workshop=seg.workshop if seg else None,
            work_area=seg.work_area if seg else None,
            district=nb.district if nb else None,
            street_office=nb.street_office if nb else None,
            community=nb.community if nb else None,
            segment=seg.id if seg else None,
        )

    def zone(self, i: int) -> Zone:
        self._require_ok(i)
        seg = self.segment[i]
        return Zone(
            area_class=self.network.segments[int(seg)].area_class if seg >= 0 else None,
            width_m=float(self.zone_width[i]),
            distance_m=float(self.zone_distance[i]),
            band=BAND_ORDER[int(self.band[i])],
        )

    def _require_ok(self, i: int) -> None:
        if self.status[i] != PlaceStatus.OK:
            raise ReferencingError(self.problem(i))


@attrs.frozen
class Stretch:
    """A stretch of line along which the same parties answer in all three verticals."""

    line: str
    from_chainage: float
    to_chainage: float
    parties: Parties
    prefix: str = "K"

    @property
    def chainage_range(self) -> str:
        return (
            f"{format_chainage(self.from_chainage, prefix=self.prefix, decimals=0)}-"
            f"{format_chainage(self.to_chainage, prefix=self.prefix, decimals=0)}"
        )


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(key, indices) for each non-negative key, in one sort (not one scan per key)."""
    valid = np.flatnonzero(keys >= 0)
    if not len(valid):
        return []
    order = valid[np.argsort(keys[valid], kind="stable")]
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(order)]])
    return [(int(sorted_keys[a]), order[a:b]) for a, b in zip(starts, ends, strict=True)]


def unknown_line(line_id: str, known: Sequence[str]) -> ReferencingError:
    """The error for a line id the register does not have, naming a few it has."""
    shown = ", ".join(known[:12])
    if len(known) > 12:
        shown += f" and {len(known) - 12} more"
    return ReferencingError(f"unknown line {line_id!r}; the register has {shown}")


def _grid(geoms: np.ndarray) -> BoxGrid:
    return BoxGrid(shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4)))


def _first_hit(grid: BoxGrid, polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of the first polygon containing each point (-1 for none).

    Candidates come from the grid of bounding boxes; the exact test runs on
    prepared polygons, all on the calling thread: a prepared geometry builds its
    point-in-area index lazily, which is not safe to race.
    """
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(grid) or len(x) == 0:
        return out
    for lo in range(0, len(x), BATCH):
        sel = slice(lo, lo + BATCH)
        pt, poly = grid.query(x[sel], y[sel])
        inside = shapely.intersects_xy(polygons[poly], x[sel][pt], y[sel][pt])
        pt, poly = pt[inside], poly[inside]
        if len(pt):
            # Pairs come sorted by point, then polygon: for a point in two
            # overlapping areas, the lowest index wins.
            first = np.ones(len(pt), dtype=bool)
            first[1:] = pt[1:] != pt[:-1]
            out[lo + pt[first]] = poly[first]
    return out


class Network:
    """Lines, kilometre posts, chain breaks, segments, police areas, neighbourhoods
    and fences in one metric CRS, indexed for referencing.

    >>> from linerisk.sample import load_sample_network
    >>> net = load_sample_network()
    >>> loc = net.place_point("JD", "K5+200", "left", 30).location(0)
    >>> loc.chainage, loc.side.value, round(loc.offset_m)
    ('K5+200', 'left', 30)
    """

    def __init__(
        self,
        *,
        crs: str,
        lines: Iterable[Line],
        kmposts: Iterable[KmPost] = (),
        chain_breaks: Iterable[ChainBreak] = (),
        segments: Iterable[Segment] = (),
        police_areas: Iterable[PoliceArea] = (),
        neighbourhoods: Iterable[Neighbourhood] = (),
        fences: Iterable[Fence] = (),
        settings: Settings | None = None,
    ) -> None:
        self.crs = crs
        self.settings = settings or Settings()
        self.lines = tuple(lines)
        self.kmposts = tuple(kmposts)
        self.chain_breaks = tuple(chain_breaks)
        self.segments = tuple(segments)
        self.police_areas = tuple(police_areas)
        self.neighbourhoods = tuple(neighbourhoods)
        self.fences = tuple(fences)
        if not self.lines:
            raise ValueError("a network needs at least one line")
        self._line_pos = {line.id: i for i, line in enumerate(self.lines)}
        if len(self._line_pos) != len(self.lines):
            raise ValueError("line ids must be unique")
        for kind, items in (
            ("kilometre post", self.kmposts),
            ("chain break", self.chain_breaks),
            ("segment", self.segments),
            ("fence", self.fences),
        ):
            for item in items:
                if item.line not in self._line_pos:
                    raise ValueError(f"{kind} refers to unknown line {item.line!r}")
        self.index = LineIndex([line.geometry for line in self.lines])
        self._calibrations = self._calibrate_all()
        self._build_segments()
        self._police_geoms = np.array([p.geometry for p in self.police_areas], dtype=object)
        self._neighbourhood_geoms = np.array(
            [n.geometry for n in self.neighbourhoods], dtype=object
        )
        shapely.prepare(self._police_geoms)
        shapely.prepare(self._neighbourhood_geoms)
        self._police_grid = _grid(self._police_geoms)
        self._neighbourhood_grid = _grid(self._neighbourhood_geoms)
        self._high_speed = np.array([line.high_speed for line in self.lines], dtype=bool)

    # ------------------------------------------------------------------ lines

    def line_index(self, line_id: str) -> int:
        try:
            return self._line_pos[line_id]
        except KeyError:
            raise unknown_line(line_id, list(self._line_pos)) from None

    def line(self, line_id: str) -> Line:
        return self.lines[self.line_index(line_id)]

    def calibration(self, line_id: str) -> Calibration:
        return self._calibrations[self.line_index(line_id)]

    def chainage_extent(self, line_id: str) -> tuple[float, float]:
        """Chainage at the start and at the end of the line's geometry."""
        i = self.line_index(line_id)
        ch = self._calibrations[i].chainage_at(np.array([0.0, self.index.lengths[i]]))
        return float(ch[0]), float(ch[1])

    def _calibrate_all(self) -> list[Calibration]:
        """One calibration per line from its start chainage, posts and chain breaks.

        All posts are located in one call and grouped by line (no per-line scan).
        """
        n_lines = len(self.lines)
        posts_of: list[list[int]] = [[] for _ in range(n_lines)]
        breaks_of: list[list[ChainBreak]] = [[] for _ in range(n_lines)]
        for k, post in enumerate(self.kmposts):
            posts_of[self._line_pos[post.line]].append(k)
        for b in self.chain_breaks:
            breaks_of[self._line_pos[b.line]].append(b)
        if self.kmposts:
            loc = self.index.locate(
                np.array([p.geometry.x for p in self.kmposts]),
                np.array([p.geometry.y for p in self.kmposts]),
            )
            post_line = np.array([self._line_pos[p.line] for p in self.kmposts])
            wrong = np.flatnonzero(loc.line != post_line)
            if len(wrong):
                post = self.kmposts[int(wrong[0])]
                raise ValueError(
                    f"kilometre post {format_chainage(post.chainage)} of line {post.line} is "
                    "nearer to another line"
                )
            post_measure = loc.measure
        out = []
        for i, line in enumerate(self.lines):
            idx = sorted(posts_of[i], key=lambda k: self.kmposts[k].chainage)
            breaks = sorted(breaks_of[i], key=lambda b: min(b.back, b.ahead))
            specs = [ChainBreakSpec(b.back, b.ahead) for b in breaks]
            measures = [0.0]
            chainages = [line.start_chainage]
            for k in idx:
                if post_measure[k] > 0:
                    measures.append(float(post_measure[k]))
                    chainages.append(self.kmposts[k].chainage)
            try:
                out.append(Calibration.from_anchors(measures, chainages, specs))
            except ValueError as exc:
                raise ValueError(f"line {line.id}: {exc}") from None
        return out

    # ------------------------------------------------------------------ segments

    def _build_segments(self) -> None:
        n = len(self.segments)
        self._seg_line = np.empty(n, dtype=np.int64)
        self._seg_from = np.empty(n)
        self._seg_to = np.empty(n)
        seg_line = np.array([self._line_pos[seg.line] for seg in self.segments], dtype=np.int64)
        ch_from = np.array([seg.from_chainage for seg in self.segments], dtype=float)
        ch_to = np.array([seg.to_chainage for seg in self.segments], dtype=float)
        for li, sel in _groups(seg_line):
            # both ends of the line's segments in one call (2,000 lines at national scale)
            m, st = self._calibrations[li].measures_at(np.concatenate([ch_from[sel], ch_to[sel]]))
            m0, m1 = m[: len(sel)], m[len(sel) :]
            st0, st1 = st[: len(sel)], st[len(sel) :]
            bad = np.flatnonzero(
                (st0 == ChainageStatus.NONEXISTENT) | (st1 == ChainageStatus.NONEXISTENT)
            )
            if len(bad):
                seg = self.segments[int(sel[bad[0]])]
                raise ValueError(
                    f"segment {seg.id}: chainage range "
                    f"{format_chainage(seg.from_chainage)}-{format_chainage(seg.to_chainage)} "
                    "starts or ends inside a short chain"
                )
            self._seg_from[sel] = m0
            self._seg_to[sel] = m1
        self._seg_line = seg_line
        self._seg_area = np.array(
            [AREA_CODES.index(s.area_class) for s in self.segments], dtype=np.int64
        )
        default = self.settings.default_half_width_m
        self._seg_half = np.array(
            [
                [s.half_width(Side.RIGHT, default), s.half_width(Side.LEFT, default)]
                for s in self.segments
            ]
        ).reshape(n, 2)
        # One increasing key over all lines: line base + measure.
        self._line_base = np.concatenate([[0.0], np.cumsum(self.index.lengths + 1.0)[:-1]])
        key = self._line_base[self._seg_line] + self._seg_from
        self._seg_order = np.argsort(key, kind="stable")
        self._seg_key = key[self._seg_order]
        overlaps = np.flatnonzero(
            (np.diff(self._seg_line[self._seg_order]) == 0)
            & (self._seg_from[self._seg_order][1:] < self._seg_to[self._seg_order][:-1] - 1e-6)
        )
        self.segment_overlaps = [
            (self.segments[self._seg_order[k]].id, self.segments[self._seg_order[k + 1]].id)
            for k in overlaps
        ]

    def segment_measures(self, segment_index: int) -> tuple[float, float]:
        return float(self._seg_from[segment_index]), float(self._seg_to[segment_index])

    def _segment_at(self, line: np.ndarray, measure: np.ndarray) -> np.ndarray:
        out = np.full(len(line), -1, dtype=np.int64)
        if not len(self.segments) or not len(line):
            return out
        ok = line >= 0
        q = self._line_base[line[ok]] + measure[ok]
        k = np.searchsorted(self._seg_key, q, side="right") - 1
        cand = self._seg_order[np.clip(k, 0, None)]
        inside = (
            (k >= 0)
            & (self._seg_line[cand] == line[ok])
            & (measure[ok] <= self._seg_to[cand] + 1e-6)
        )
        out[np.flatnonzero(ok)[inside]] = cand[inside]
        return out

    def _half_widths(self, segment: np.ndarray, left: np.ndarray) -> np.ndarray:
        half = np.full(len(segment), self.settings.default_half_width_m)
        if len(self.segments) and len(segment):
            own = self._seg_half[np.clip(segment, 0, None), np.asarray(left, dtype=np.int64)]
            half = np.where(segment >= 0, own, half)
        return half

    def formation_half_widths(
        self, line: np.ndarray, measure: np.ndarray, left: np.ndarray
    ) -> np.ndarray:
        """Formation half-width (m) on one side at each (line index, measure): the
        covering segment's, or the default where no segment covers the point."""
        line = np.asarray(line, dtype=np.int64)
        segment = self._segment_at(line, np.asarray(measure, dtype=float))
        return self._half_widths(segment, np.asarray(left, dtype=bool))

    # ------------------------------------------------------------------ referencing

    def reference(self, x: Sequence[float], y: Sequence[float]) -> Referenced:
        """Locate points (projected CRS) and assign who answers for each.

        Points farther than ``settings.max_distance_m`` from every line get
        status ``TOO_FAR`` with the nearest line and its distance.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        # Police areas and neighbourhoods depend on the coordinates alone, so
        # they are looked up while the points are being located.
        areas = self._areas(x, y)
        loc = self.index.locate(x, y, self.settings.max_distance_m)
        status = np.where(loc.found, PlaceStatus.OK, PlaceStatus.TOO_FAR).astype(np.int8)
        nearest_line = np.full(len(x), -1, dtype=np.int64)
        nearest_distance = np.full(len(x), np.nan)
        far = np.flatnonzero(~loc.found)
        if len(far):
            nl, nd = self.index.nearest(x[far], y[far])
            nearest_line[far] = nl
            nearest_distance[far] = nd
        chainage = np.full(len(x), np.nan)
        for li, sel in _groups(loc.line):
            chainage[sel] = self._calibrations[li].chainage_at(loc.measure[sel])
        side = np.where(loc.offset < 0, -1, 1).astype(np.int8)
        return self._assign(
            status,
            loc.line,
            loc.measure,
            chainage,
            side,
            np.abs(loc.offset),
            x,
            y,
            nearest_line,
            nearest_distance,
            areas,
        )

    def _areas(self, x: np.ndarray, y: np.ndarray) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        """Start looking up the police area and neighbourhood of each point; the
        function returned waits for the results. Many points are looked up on two
        worker threads, one per layer (a thread tests only its own polygons),
        while the caller goes on."""
        layers = [
            (self._police_grid, self._police_geoms),
            (self._neighbourhood_grid, self._neighbourhood_geoms),
        ]
        if len(x) <= BATCH:
            police, neighbourhood = (_first_hit(*layer, x, y) for layer in layers)
            return lambda: (police, neighbourhood)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=len(layers))
        futures = [pool.submit(_first_hit, *layer, x, y) for layer in layers]
        pool.shutdown(wait=False)
        return lambda: (futures[0].result(), futures[1].result())

    def place(
        self,
        line: Sequence[str],
        chainage: Sequence[float],
        side: Sequence[str | Side],
        offset: Sequence[float],
        occurrence: int = 1,
    ) -> Referenced:
        """Put points given as (line, chainage, side, offset) on the ground.

        The given chainage is kept as it is; x and y are computed square to the
        centreline.
        """
        n = len(line)
        chainage = np.asarray(chainage, dtype=float)
        offset = np.asarray(offset, dtype=float)
        if np.any(offset < 0) or not np.all(np.isfinite(offset)):
            raise ReferencingError("offsets must be distances in metres, zero or more")
        signs: dict[object, int] = {}
        for s in side:
            if s not in signs:
                signs[s] = Side.parse(s).sign
        sign = np.array([signs[s] for s in side], dtype=np.int8).reshape(n)
        status = np.zeros(n, dtype=np.int8)
        line_idx = np.full(n, -1, dtype=np.int64)
        for i, name in enumerate(line):
            if name in self._line_pos:
                line_idx[i] = self._line_pos[name]
            else:
                status[i] = PlaceStatus.UNKNOWN_LINE
        measure = np.full(n, np.nan)
        for li, sel in _groups(line_idx):
            m, st = self._calibrations[li].measures_at(chainage[sel], occurrence)
            length = self.index.lengths[li]
            outside = (m < -0.5) | (m > length + 0.5)
            code = np.where(
                st == ChainageStatus.NONEXISTENT,
                PlaceStatus.NONEXISTENT_CHAINAGE,
                np.where(outside, PlaceStatus.OUTSIDE_LINE, PlaceStatus.OK),
            )
            status[sel] = code
            measure[sel] = np.clip(m, 0.0, length)
        if np.any(status == PlaceStatus.UNKNOWN_LINE):
            bad = line[int(np.flatnonzero(status == PlaceStatus.UNKNOWN_LINE)[0])]
            self.line_index(bad)  # raises with the list of known lines
        return self._place_measures(status, line_idx, measure, chainage, sign, offset)

    def _place_measures(
        self,
        status: np.ndarray,
        line_idx: np.ndarray,
        measure: np.ndarray,
        chainage: np.ndarray,
        sign: np.ndarray,
        offset: np.ndarray,
    ) -> Referenced:
        n = len(status)
        ok = status == PlaceStatus.OK
        x = np.full(n, np.nan)
        y = np.full(n, np.nan)
        if ok.any():
            x[ok], y[ok] = self.index.place(line_idx[ok], measure[ok], sign[ok] * offset[ok])
        return self._assign(
            status,
            line_idx,
            measure,
            chainage,
            sign,
            offset,
            x,
            y,
            np.full(n, -1, dtype=np.int64),
            np.full(n, np.nan),
        )

    def _assign(
        self,
        status: np.ndarray,
        line: np.ndarray,
        measure: np.ndarray,
        chainage: np.ndarray,
        side: np.ndarray,
        offset: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        nearest_line: np.ndarray,
        nearest_distance: np.ndarray,
        areas: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> Referenced:
        n = len(status)
        ok = status == PlaceStatus.OK
        line_ok = np.where(ok, line, -1)
        segment = self._segment_at(line_ok, measure)
        if areas is None:
            areas = self._areas(np.where(ok, x, np.nan), np.where(ok, y, np.nan))
        police, neighbourhood = (np.where(ok, hit, -1) for hit in areas())
        has_seg = segment >= 0
        area = np.full(n, -1, dtype=np.int64)
        if n and len(self.segments):
            area = np.where(has_seg, self._seg_area[np.clip(segment, 0, None)], -1)
        half = self._half_widths(segment, side > 0)
        high = self._high_speed[np.clip(line_ok, 0, None)] if n else np.zeros(0, bool)
        width, distance, band = self.settings.zones.classify(
            np.where(ok, offset, 0.0), half, area, high
        )
        return Referenced(
            network=self,
            status=status,
            line=line,
            measure=measure,
            chainage=chainage,
            side=side,
            offset=offset,
            x=x,
            y=y,
            segment=segment,
            police=police,
            neighbourhood=neighbourhood,
            zone_width=width,
            zone_distance=distance,
            band=band,
            nearest_line=nearest_line,
            nearest_distance=nearest_distance,
        )

    # ------------------------------------------------------------------ one point

    def locate_point(self, x: float, y: float) -> Referenced:
        """Reference one point; raises :class:`ReferencingError` if it is too far."""
        ref = self.reference([x], [y])
        ref.raise_for_problems()
        return ref

    def place_point(
        self, line: str, chainage: float | str, side: str | Side, offset: float
    ) -> Referenced:
        """Reference one (line, chainage, side, offset); raises on a bad chainage."""
        from linerisk.chainage import parse_chainage

        self.line_index(line)
        ref = self.place([line], [parse_chainage(chainage).metres], [side], [offset])
        ref.raise_for_problems()
        return ref

    # ------------------------------------------------------------------ stretches

    def stretches(self, line_id: str) -> list[Stretch]:
        """The line cut wherever any of the three verticals changes hands."""
        li = self.line_index(line_id)
        line = self.lines[li]
        geom = line.geometry
        length = float(self.index.lengths[li])
        cuts = {0.0, length}
        for k in np.flatnonzero(self._seg_line == li):
            cuts.update((float(self._seg_from[k]), float(self._seg_to[k])))
        for polys in (self.police_areas, self.neighbourhoods):
            if not polys:
                continue
            bounds = shapely.boundary(np.asarray([p.geometry for p in polys], dtype=object))
            crossings = shapely.intersection(geom, bounds)
            pts = shapely.get_coordinates(crossings)
            if len(pts):
                cuts.update(shapely.line_locate_point(geom, shapely.points(pts)).tolist())
        edges = np.array(sorted(c for c in cuts if 0.0 <= c <= length))
        edges = edges[np.concatenate([[True], np.diff(edges) > 0.5])]
        edges[-1] = length  # a cut within 0.5 m of the end must not leave the end uncovered
        mids = (edges[:-1] + edges[1:]) / 2
        n = len(mids)
        ref = self._place_measures(
            np.zeros(n, dtype=np.int8),
            np.full(n, li, dtype=np.int64),
            mids,
            self._calibrations[li].chainage_at(mids),
            np.ones(n, dtype=np.int8),
            np.zeros(n),
        )
        chain = self._calibrations[li].chainage_at(edges)
        out: list[Stretch] = []
        for k in range(n):
            parties = attrs.evolve(ref.parties(k), segment=None, community=None)
            if out and out[-1].parties == parties:
                out[-1] = attrs.evolve(out[-1], to_chainage=float(chain[k + 1]))
            else:
                out.append(
                    Stretch(line_id, float(chain[k]), float(chain[k + 1]), parties, line.prefix)
                )
        return out

    def __repr__(self) -> str:
        return (
            f"<Network {self.crs}: {len(self.lines)} lines, {len(self.segments)} segments, "
            f"{len(self.police_areas)} police areas, {len(self.neighbourhoods)} neighbourhoods>"
        )
