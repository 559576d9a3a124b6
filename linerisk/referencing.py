"""Array-at-a-time linear referencing: points ⇄ (line, measure, side, offset).

Lines are cut into short pieces of a few edges each, held in one STRtree. A
point is located by finding its nearest piece through the tree and projecting
it onto that piece's edges with numpy; the cost per point does not grow with
the length of the line. All inputs and outputs are numpy arrays in one metric
CRS. Nothing here opens files or prints.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import shapely

__all__ = ["PIECE_EDGES", "LineIndex", "Located"]

#: edges per indexed piece; small enough that projecting onto a piece is cheap,
#: large enough to keep the tree small.
PIECE_EDGES = 8
#: points projected per numpy batch, which bounds temporary memory.
BATCH = 65536
#: half-width in metres of the first, small search window around each point
NEAR_WINDOW = 200.0


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
        same = owner[1:] == owner[:-1]
        cum = np.concatenate([[0.0], np.cumsum(np.where(same, step, 0.0))])
        vertex_measure = cum - cum[first][owner]
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
        self._piece_xy = coords[vidx]  # (pieces, PIECE_EDGES + 1, 2)
        self._piece_measure = vertex_measure[vidx]  # (pieces, PIECE_EDGES + 1)
        self.piece_line = piece_line
        n_vert = piece_end - piece_start + 1
        ring_index = np.repeat(np.arange(len(piece_start)), n_vert)
        vert = np.concatenate([[0], np.cumsum(n_vert)[:-1]])
        within = np.arange(n_vert.sum()) - np.repeat(vert, n_vert)
        pieces = shapely.linestrings(coords[piece_start[ring_index] + within], indices=ring_index)
        self.tree = shapely.STRtree(pieces)
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
        and NaN elsewhere.
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
        # the window's half-width. Points left over search the full radius.
        todo = np.arange(n)
        radii = [NEAR_WINDOW] if max_distance is None or max_distance > NEAR_WINDOW else []
        radii.append(max_distance if max_distance is not None else np.inf)
        for radius in radii:
            if not len(todo):
                break
            todo = self._locate_within(x, y, todo, radius, out)
        return out

    def _locate_within(
        self, x: np.ndarray, y: np.ndarray, todo: np.ndarray, radius: float, out: Located
    ) -> np.ndarray:
        """Locate ``todo`` points whose nearest piece lies within ``radius``; return the rest."""
        left: list[np.ndarray] = []
        for lo in range(0, len(todo), BATCH):
            sel = todo[lo : lo + BATCH]
            if np.isinf(radius):
                pt, pc = self.tree.query_nearest(shapely.points(x[sel], y[sel]), all_matches=False)
            else:
                boxes = shapely.box(
                    x[sel] - radius, y[sel] - radius, x[sel] + radius, y[sel] + radius
                )
                pt, pc = self.tree.query(boxes)
            gi = sel[pt]
            m, o, a, b = self._project(x[gi], y[gi], pc)
            dist = np.abs(o)
            # Nearest candidate per point (ties: lowest piece index).
            order = np.lexsort((pc, dist, pt))
            pt, pc, m, o, a, b, dist = (v[order] for v in (pt, pc, m, o, a, b, dist))
            first = np.concatenate([[True], pt[1:] != pt[:-1]]) if len(pt) else np.zeros(0, bool)
            keep = first & (dist <= radius)
            done = sel[pt[keep]]
            out.line[done] = self.piece_line[pc[keep]]
            out.measure[done] = m[keep]
            out.offset[done] = o[keep]
            out.foot_x[done] = a[keep]
            out.foot_y[done] = b[keep]
            found = np.zeros(len(sel), dtype=bool)
            found[pt[keep]] = True
            left.append(sel[~found])
        return np.concatenate(left) if left else np.zeros(0, dtype=np.int64)

    def _project(
        self, x: np.ndarray, y: np.ndarray, pieces: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        xy = self._piece_xy[pieces]  # (n, E+1, 2)
        a = xy[:, :-1, :]
        d = xy[:, 1:, :] - a
        px = x[:, None] - a[..., 0]
        py = y[:, None] - a[..., 1]
        dd = d[..., 0] ** 2 + d[..., 1] ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(dd > 0, (px * d[..., 0] + py * d[..., 1]) / dd, 0.0)
        t = np.clip(t, 0.0, 1.0)
        ex = px - t * d[..., 0]
        ey = py - t * d[..., 1]
        dist2 = ex * ex + ey * ey
        # Padding edges have zero length; never prefer them over a real edge.
        dist2 = np.where(dd > 0, dist2, np.inf)
        j = np.argmin(dist2, axis=1)
        rows = np.arange(len(x))
        tj = t[rows, j]
        dj = d[rows, j]
        aj = a[rows, j]
        seg_len = np.sqrt(dd[rows, j])
        pm = self._piece_measure[pieces]
        measure = pm[rows, j] + tj * seg_len
        cross = dj[:, 0] * py[rows, j] - dj[:, 1] * px[rows, j]
        dist = np.sqrt(dist2[rows, j])
        sign = np.where(cross < 0, -1.0, 1.0)
        foot_x = aj[:, 0] + tj * dj[:, 0]
        foot_y = aj[:, 1] + tj * dj[:, 1]
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
