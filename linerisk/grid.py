"""A uniform grid over bounding boxes, queried with coordinate arrays.

Finding the candidates of a million points in a GEOS tree first turns every
point (or its search window) into a geometry object, which costs more than the
search itself. Here the boxes are binned once into square cells (a sorted table
of cell → box), and a query is arithmetic on the point coordinates plus one
``searchsorted``: no objects per point. The exact tests (projection onto line
pieces, point in polygon) then run on the candidate pairs as before.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BoxGrid"]

#: the grid never has more cell entries than this many per box on average; larger
#: boxes make the cells coarser instead
_ENTRIES_PER_BOX = 8


class BoxGrid:
    """Boxes ``(minx, miny, maxx, maxy)``, each grown by ``pad`` on every side,
    binned into square cells of side ``cell`` (chosen from the box sizes when not
    given).

    :meth:`query` returns, for each point, every box whose grown extent contains
    it (exactly: the cells only narrow the search).

    >>> grid = BoxGrid(np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]]), pad=1.0)
    >>> pt, box = grid.query(np.array([5.0, 10.5, 31.0, 15.0]), np.array([5.0, 5.0, 5.0, 5.0]))
    >>> pt.tolist(), box.tolist()
    ([0, 1, 2], [0, 0, 1])
    """

    def __init__(self, bounds: np.ndarray, pad: float = 0.0, cell: float | None = None) -> None:
        bounds = np.asarray(bounds, dtype=float).reshape(-1, 4)
        ok = np.all(np.isfinite(bounds), axis=1)
        self.minx = bounds[:, 0] - pad
        self.miny = bounds[:, 1] - pad
        self.maxx = bounds[:, 2] + pad
        self.maxy = bounds[:, 3] + pad
        n = len(bounds)
        if not ok.any():
            self.cell = 1.0
            self._x0 = self._y0 = 0.0
            self._cols = 1
            self._keys = np.zeros(0, dtype=np.int64)
            self._starts = np.zeros(1, dtype=np.int64)
            self._boxes = np.zeros(0, dtype=np.int64)
            return
        idx = np.flatnonzero(ok)
        w = self.maxx[idx] - self.minx[idx]
        h = self.maxy[idx] - self.miny[idx]
        if cell is None:
            # the middle box size (np.median would import numpy.ma: 40 ms of start-up)
            size = np.maximum(w, h)
            cell = float(np.partition(size, len(size) // 2)[len(size) // 2])
        cell = max(cell, 1e-6)
        # Coarsen until the table stays small, whatever the mix of box sizes.
        while True:
            span_x = np.floor(w / cell).astype(np.int64) + 2
            span_y = np.floor(h / cell).astype(np.int64) + 2
            if int((span_x * span_y).sum()) <= _ENTRIES_PER_BOX * max(n, 1) + 64:
                break
            cell *= 1.5
        self.cell = cell
        self._x0 = float(self.minx[idx].min())
        self._y0 = float(self.miny[idx].min())
        ix0 = np.floor((self.minx[idx] - self._x0) / cell).astype(np.int64)
        iy0 = np.floor((self.miny[idx] - self._y0) / cell).astype(np.int64)
        ix1 = np.floor((self.maxx[idx] - self._x0) / cell).astype(np.int64)
        iy1 = np.floor((self.maxy[idx] - self._y0) / cell).astype(np.int64)
        self._cols = int(ix1.max()) + 1
        nx = ix1 - ix0 + 1
        ny = iy1 - iy0 + 1
        count = nx * ny
        box = np.repeat(idx, count)
        # Position of each entry within its box's block of cells, row by row.
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        rnx = np.repeat(nx, count)
        cx = np.repeat(ix0, count) + k % rnx
        cy = np.repeat(iy0, count) + k // rnx
        key = cy * self._cols + cx
        order = np.argsort(key, kind="stable")  # boxes stay in index order within a cell
        key = key[order]
        self._boxes = box[order]
        cut = np.flatnonzero(np.diff(key)) + 1
        self._keys = key[np.concatenate([[0], cut])] if len(key) else key
        self._starts = np.concatenate([[0], cut, [len(key)]]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.minx)

    def query(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point index, box index) with the point inside the grown box,
        sorted by point, then box."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        empty = np.zeros(0, dtype=np.int64)
        if not len(self._keys) or not len(x):
            return empty, empty
        cx = np.floor((x - self._x0) / self.cell)
        cy = np.floor((y - self._y0) / self.cell)
        inside = (cx >= 0) & (cy >= 0) & (cx < self._cols) & np.isfinite(cx) & np.isfinite(cy)
        pts = np.flatnonzero(inside)
        key = cy[pts].astype(np.int64) * self._cols + cx[pts].astype(np.int64)
        pos = np.searchsorted(self._keys, key)
        pos_ok = pos < len(self._keys)
        hit = np.zeros(len(pts), dtype=bool)
        hit[pos_ok] = self._keys[pos[pos_ok]] == key[pos_ok]
        pts = pts[hit]
        pos = pos[hit]
        lo = self._starts[pos]
        count = self._starts[pos + 1] - lo
        pt = np.repeat(pts, count)
        entry = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        box = self._boxes[np.repeat(lo, count) + entry]
        px = x[pt]
        py = y[pt]
        keep = (
            (self.minx[box] <= px)
            & (px <= self.maxx[box])
            & (self.miny[box] <= py)
            & (py <= self.maxy[box])
        )
        return pt[keep], box[keep]
