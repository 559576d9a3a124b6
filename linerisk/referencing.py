"""Array-at-a-time linear referencing: points ⇄ (line, measure, side, offset).

Lines are cut into short pieces of a few edges each. A point is located by
finding the pieces near it and projecting it onto their edges with numpy; the
cost per point does not grow with the length of the line. The pieces near a
point come from a grid of their boxes grown by a search window
(:class:`~linerisk.grid.BoxGrid`: arithmetic on the coordinates, no geometry
object per point), trying 150 m, then 400 m, then the distance limit; a point
farther than all windows (or with no limit) asks an STRtree of the pieces for
its nearest. All inputs and outputs are numpy arrays in one metric CRS.
Nothing here opens files or prints.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import attrs
import numpy as np
import shapely

from linerisk.grid import BoxGrid

__all__ = ["PIECE_EDGES", "LineIndex", "Located"]

#: edges per indexed piece; small enough that projecting onto a piece is cheap,
#: large enough to keep the index small.
PIECE_EDGES = 8
#: points projected per numpy batch, which bounds temporary memory.
BATCH = 65536
#: half-widths in metres of the search windows tried before the full radius
NEAR_WINDOWS = (150.0, 400.0)
#: where padding edges start (finite, so no inf - inf arithmetic)
_FAR = 1e30
#: worker threads for large inputs (shapely and numpy release the GIL)
WORKERS = max(1, min(4, os.cpu_count() or 1))


def built_tree(geoms: np.ndarray) -> shapely.STRtree:
    """An STRtree whose index is built now, not on its first query.

    GEOS builds a tree lazily; two worker threads querying a fresh tree at once
    would both try to build it.
    """
    tree = shapely.STRtree(geoms)
    tree.query(shapely.points(0.0, 0.0))
    return tree


def _map(fn, items: list) -> list:
    """``[fn(i) for i in items]``, on worker threads when there is more than one item."""
    if len(items) < 2 or WORKERS < 2:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor  # not needed for one point

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, items))


@attrs.frozen(eq=False)
class Located:
    """Result of :meth:`LineIndex.locate` for n points.

    ``line`` is the index of the nearest line (-1 where none is within the
    distance limit); ``offset`` is signed: positive left of the direction of
    increasing measure, negative right.
    """

    line: np.ndarray
    measure: np.ndarray
    offset: np.ndarray
    foot_x: np.ndarray
    foot_y: np.ndarray

    @property
    def found(self) -> np.ndarray:
        return self.line >= 0

    @property
    def distance(self) -> np.ndarray:
        return np.abs(self.offset)

    def __len__(self) -> int:
        return len(self.line)


class LineIndex:
    """A spatial index over the centrelines of many lines.

    >>> from shapely import LineString
    >>> idx = LineIndex([LineString([(0, 0), (100, 0)])])
    >>> loc = idx.locate(np.array([30.0]), np.array([-5.0]))
    >>> float(loc.measure[0]), float(loc.offset[0])
    (30.0, -5.0)
    """

    def __init__(self, geometries: Sequence[shapely.LineString] | np.ndarray) -> None:
        geoms = np.asarray(geometries, dtype=object)
        if len(geoms) == 0:
            raise ValueError("a line index needs at least one line")
        if not np.all(shapely.get_type_id(geoms) == 1):
            raise ValueError("lines must be LineStrings")
        self.geometries = geoms
        # A repeated vertex makes a zero-length edge, which has no direction to be
        # square to; dropping it changes no measure.
        coords, owner = shapely.get_coordinates(
            shapely.remove_repeated_points(geoms, 0.0), return_index=True
        )
        n_lines = len(geoms)
        counts = np.bincount(owner, minlength=n_lines)
        if np.any(counts < 2):
            raise ValueError("every line needs at least two vertices")
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        step = np.hypot(*np.diff(coords, axis=0).T)
        # Summed line by line, so that a line's measures are the same to the last
        # bit whatever other lines the index holds (a part of the network read
        # around a meeting's scope places things exactly as the whole network).
        vertex_measure = np.zeros(len(coords))
        for start, count in zip(first.tolist(), counts.tolist(), strict=True):
            np.cumsum(
                step[start : start + count - 1], out=vertex_measure[start + 1 : start + count]
            )
        self.lengths = vertex_measure[first + counts - 1]

        # Pieces: runs of up to PIECE_EDGES edges within one line, sharing end vertices.
        n_edges = counts - 1
        pieces_per_line = -(-n_edges // PIECE_EDGES)
        piece_line = np.repeat(np.arange(n_lines), pieces_per_line)
        piece_rank = np.arange(len(piece_line)) - np.repeat(
            np.cumsum(pieces_per_line) - pieces_per_line, pieces_per_line
        )
        piece_start = first[piece_line] + piece_rank * PIECE_EDGES
        piece_end = np.minimum(
            piece_start + PIECE_EDGES, first[piece_line] + counts[piece_line] - 1
        )
        # Vertex table per piece, padded by repeating its last vertex.
        offsets = np.arange(PIECE_EDGES + 1)
        vidx = np.minimum(piece_start[:, None] + offsets[None, :], piece_end[:, None])
        # Per piece and edge: start point, direction, 1/length², start measure.
        # Padding edges (past a piece's last vertex) have zero length and start
        # absurdly far away, so they are never the nearest.
        a = coords[vidx[:, :-1]]
        d = coords[vidx[:, 1:]] - a
        dd = d[..., 0] ** 2 + d[..., 1] ** 2
        pad = dd == 0
        # One row per piece, gathered at once: ax, ay, dx, dy, 1/length².
        self._edges = np.ascontiguousarray(
            np.stack(
                [
                    np.where(pad, _FAR, a[..., 0]),
                    np.where(pad, _FAR, a[..., 1]),
                    d[..., 0],
                    d[..., 1],
                    np.where(pad, 0.0, 1.0 / np.where(pad, 1.0, dd)),
                ],
                axis=1,
            )
        )
        self._len = np.sqrt(dd)
        self._m0 = vertex_measure[vidx[:, :-1]]
        self.piece_line = piece_line
        n_vert = piece_end - piece_start + 1
        ring_index = np.repeat(np.arange(len(piece_start)), n_vert)
        vert = np.concatenate([[0], np.cumsum(n_vert)[:-1]])
        within = np.arange(n_vert.sum()) - np.repeat(vert, n_vert)
        pieces = shapely.linestrings(coords[piece_start[ring_index] + within], indices=ring_index)
        self.tree = built_tree(pieces)
        self._piece_bounds = shapely.bounds(pieces)
        #: search window half-width → grid of piece boxes grown by it (built on first use)
        self._grids: dict[float, BoxGrid] = {}
        self._vertex_measure = vertex_measure
        self._coords = coords
        self._first = first
        self._counts = counts
        self._line_base = np.concatenate([[0.0], np.cumsum(self.lengths + 1.0)[:-1]])
        self._key = self._line_base[owner] + vertex_measure

    def __len__(self) -> int:
        return len(self.geometries)

    # ------------------------------------------------------------------ locate

    def locate(self, x: np.ndarray, y: np.ndarray, max_distance: float | None = None) -> Located:
        """Locate points on their nearest line.

        Points farther than ``max_distance`` from every line get ``line == -1``
        and NaN elsewhere. Large inputs are split into batches that run on all
        cores (shapely and numpy release the GIL for the heavy parts).
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(x)
        out = Located(
            np.full(n, -1, dtype=np.int64),
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, np.nan),
        )
        # Search a small window first (most points are close to a line); the
        # nearest piece is certainly found there when a candidate lies within
        # the window's half-width. Points left over search the next radius.
        radii = [r for r in NEAR_WINDOWS if max_distance is None or r < max_distance]
        radii.append(max_distance if max_distance is not None else np.inf)
        todo = np.arange(n)
        for radius in radii:
            if not len(todo):
                break
            if np.isfinite(radius) and radius not in self._grids:
                # built here, before worker threads share it
                self._grids[radius] = BoxGrid(self._piece_bounds, pad=radius)
            batches = [todo[lo : lo + BATCH] for lo in range(0, len(todo), BATCH)]
            left = _map(lambda sel, r=radius: self._locate_within(x, y, sel, r, out), batches)
            todo = np.concatenate(left) if left else todo[:0]
        return out

    def _locate_within(
        self, x: np.ndarray, y: np.ndarray, sel: np.ndarray, radius: float, out: Located
    ) -> np.ndarray:
        """Locate the points ``sel`` whose nearest piece lies within ``radius``; return
        the others."""
        if np.isinf(radius):
            pt, pc = self.tree.query_nearest(shapely.points(x[sel], y[sel]), all_matches=False)
        else:
            pt, pc = self._grids[radius].query(x[sel], y[sel])
        gi = sel[pt]
        m, o, a, b = self._project(x[gi], y[gi], pc)
        dist = np.abs(o)
        # Nearest candidate per point. Pairs come grouped by point with pieces in
        # increasing order, so on a tie the lowest piece wins.
        if len(pt):
            starts = np.flatnonzero(np.concatenate([[True], pt[1:] != pt[:-1]]))
            best = np.minimum.reduceat(dist, starts)
            counts = np.diff(np.append(starts, len(pt)))
            is_best = np.flatnonzero(dist == np.repeat(best, counts))
            first = np.ones(len(is_best), dtype=bool)
            first[1:] = pt[is_best[1:]] != pt[is_best[:-1]]
            chosen = is_best[first]
            chosen = chosen[dist[chosen] <= radius]
        else:
            chosen = pt
        done = sel[pt[chosen]]
        out.line[done] = self.piece_line[pc[chosen]]
        out.measure[done] = m[chosen]
        out.offset[done] = o[chosen]
        out.foot_x[done] = a[chosen]
        out.foot_y[done] = b[chosen]
        found = np.zeros(len(sel), dtype=bool)
        found[pt[chosen]] = True
        return sel[~found]

    def _project(
        self, x: np.ndarray, y: np.ndarray, pieces: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Project each point onto the edges of its piece: (measure, signed offset,
        foot x, foot y) on the nearest edge."""
        edges = self._edges[pieces]
        ax, ay, dx, dy, inv_dd = (edges[:, k] for k in range(5))
        px = x[:, None] - ax
        py = y[:, None] - ay
        t = px * dx
        t += py * dy
        t *= inv_dd
        np.clip(t, 0.0, 1.0, out=t)
        ex = px - t * dx
        ey = py - t * dy
        ex *= ex
        ey *= ey
        ex += ey  # squared distance to each edge
        j = np.argmin(ex, axis=1)
        rows = np.arange(len(x))
        tj = t[rows, j]
        dxj = dx[rows, j]
        dyj = dy[rows, j]
        pxj = px[rows, j]
        pyj = py[rows, j]
        measure = self._m0[pieces, j] + tj * self._len[pieces, j]
        cross = dxj * pyj - dyj * pxj
        dist = np.sqrt(ex[rows, j])
        sign = np.where(cross < 0, -1.0, 1.0)
        foot_x = ax[rows, j] + tj * dxj
        foot_y = ay[rows, j] + tj * dyj
        return measure, sign * dist, foot_x, foot_y

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index of nearest line, distance to it) with no distance limit."""
        loc = self.locate(x, y, None)
        return loc.line, loc.distance

    # ------------------------------------------------------------------ place

    def place(
        self, line: np.ndarray, measure: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points at ``measure`` along ``line`` and signed ``offset`` (left positive).

        Measures are clamped to the line. The offset is taken square to the
        edge the measure falls on (at a vertex, the edge after it).
        """
        line = np.asarray(line, dtype=np.int64)
        measure = np.clip(np.asarray(measure, dtype=float), 0.0, self.lengths[line])
        offset = np.asarray(offset, dtype=float)
        first = self._first[line]
        last_edge = first + self._counts[line] - 2
        # Edge k (from vertex k to k+1) holds measures in [vm[k], vm[k+1]).
        k = self._edge_in_line(line, measure, first, last_edge)
        a = self._coords[k]
        b = self._coords[k + 1]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        t = (measure - self._vertex_measure[k]) / np.where(length > 0, length, 1.0)
        fx = a[:, 0] + t * d[:, 0]
        fy = a[:, 1] + t * d[:, 1]
        nx = -d[:, 1] / np.where(length > 0, length, 1.0)
        ny = d[:, 0] / np.where(length > 0, length, 1.0)
        return fx + offset * nx, fy + offset * ny

    def _edge_in_line(
        self, line: np.ndarray, measure: np.ndarray, first: np.ndarray, last_edge: np.ndarray
    ) -> np.ndarray:
        # Vertex measures restart at zero on every line; shifting each line by
        # the lengths before it gives one increasing key for a single search.
        q = self._line_base[line] + measure
        k = np.searchsorted(self._key, q, side="right") - 1
        return np.clip(k, first, last_edge)

    def direction(self, line: np.ndarray, measure: np.ndarray) -> np.ndarray:
        """Unit direction of increasing measure at each position, shape (n, 2)."""
        line = np.asarray(line, dtype=np.int64)
        measure = np.clip(np.asarray(measure, dtype=float), 0.0, self.lengths[line])
        first = self._first[line]
        k = self._edge_in_line(line, measure, first, first + self._counts[line] - 2)
        d = self._coords[k + 1] - self._coords[k]
        return d / np.hypot(d[:, 0], d[:, 1])[:, None]


def measured(line: shapely.LineString) -> tuple[np.ndarray, np.ndarray]:
    """A line's vertices and the measure of each (metres from the first vertex)."""
    coords = shapely.get_coordinates(line)
    measure = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    return coords, measure


def substring(
    line: shapely.LineString,
    start: float,
    end: float,
    vertices: tuple[np.ndarray, np.ndarray] | None = None,
) -> shapely.LineString:
    """The part of ``line`` between two measures (metres from its first vertex).

    Measures are clamped to the line; ``start > end`` gives the reversed part.
    A numpy version of ``shapely.ops.substring`` (which walks the vertices in
    Python), for drawing many pieces of long lines: pass the line's
    :func:`measured` ``vertices`` when cutting it many times.

    >>> from shapely import LineString
    >>> substring(LineString([(0, 0), (100, 0), (100, 50)]), 50, 120).wkt
    'LINESTRING (50 0, 100 0, 100 20)'
    """
    coords, measure = measured(line) if vertices is None else vertices
    lo, hi = sorted((float(start), float(end)))
    lo = min(max(lo, 0.0), measure[-1])
    hi = min(max(hi, 0.0), measure[-1])
    x = np.interp([lo, hi], measure, coords[:, 0])
    y = np.interp([lo, hi], measure, coords[:, 1])
    # the vertices strictly between lo and hi (measures never decrease)
    inner = coords[np.searchsorted(measure, lo, "right") : np.searchsorted(measure, hi, "left")]
    part = np.vstack([[x[0], y[0]], inner, [x[1], y[1]]])
    if start > end:
        part = part[::-1]
    return shapely.LineString(part)
