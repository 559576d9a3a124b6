"""Bulk loading of a SQLite R*Tree (the GeoPackage spatial index).

Inserting rows one by one into an R-tree costs tens of microseconds each, which
dominates writing a million risks. For a large batch the whole tree is instead
rebuilt at once with Sort-Tile-Recursive packing and written straight into the
R-tree's three shadow tables, in the format SQLite's rtree module reads:

* ``<name>_node(nodeno, data)``: node 1 is the root; each node's blob starts
  with two bytes (the tree depth, in the root only) and a two-byte cell count,
  followed by cells of an 8-byte id and four 32-bit floats (min x, max x, min y,
  max y), all big-endian, padded to the node size;
* ``<name>_rowid(rowid, nodeno)``: the leaf holding each entry;
* ``<name>_parent(nodeno, parentnode)``: the parent of every node but the root.

Coordinates are rounded outwards to 32-bit floats, as SQLite does, so each box
still contains its geometry. SQLite's own ``rtreecheck()`` accepts the result.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["rebuild_rtree"]

_CELL = 8 + 4 * 4


def _outward(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    lo32 = lo.astype(np.float32)
    hi32 = hi.astype(np.float32)
    down = lo32.astype(np.float64) > lo
    up = hi32.astype(np.float64) < hi
    lo32[down] = np.nextafter(lo32[down], np.float32(-np.inf))
    hi32[up] = np.nextafter(hi32[up], np.float32(np.inf))
    return lo32, hi32


def _pack(ids, minx, maxx, miny, maxy, capacity: int):
    """One level of STR packing: groups of at most ``capacity`` entries.

    Returns the entries' order and the group boundaries.
    """
    import numpy as np

    n = len(ids)
    groups = math.ceil(n / capacity)
    slices = max(1, math.ceil(math.sqrt(groups)))
    cx = (minx + maxx) / 2
    cy = (miny + maxy) / 2
    order = np.argsort(cx, kind="stable")
    per_slice = slices * capacity
    parts = []
    for lo in range(0, n, per_slice):
        part = order[lo : lo + per_slice]
        parts.append(part[np.argsort(cy[part], kind="stable")])
    order = np.concatenate(parts) if parts else order
    bounds = [*range(0, n, capacity), n]
    return order, bounds


def rebuild_rtree(
    conn: sqlite3.Connection,
    name: str,
    ids: np.ndarray,
    minx: np.ndarray,
    maxx: np.ndarray,
    miny: np.ndarray,
    maxy: np.ndarray,
) -> None:
    """Replace the whole content of R-tree ``name`` with these entries.

    Must run inside the caller's write transaction.
    """
    import numpy as np

    from linerisk.store.gpkg import insert_rows

    node_size = conn.execute(f'SELECT length(data) FROM "{name}_node" WHERE nodeno = 1').fetchone()
    if node_size is None:
        raise ValueError(f"{name} is not an initialised R-tree")
    node_size = int(node_size[0])
    capacity = (node_size - 4) // _CELL
    for suffix in ("node", "rowid", "parent"):
        conn.execute(f'DELETE FROM "{name}_{suffix}"')

    ids = np.asarray(ids, dtype=np.int64)
    if not len(ids):
        conn.execute(f'INSERT INTO "{name}_node" VALUES (1, ?)', (bytes(node_size),))
        return
    lo_x, hi_x = _outward(np.asarray(minx, float), np.asarray(maxx, float))
    lo_y, hi_y = _outward(np.asarray(miny, float), np.asarray(maxy, float))

    # Build levels bottom-up: each level is (child ids, boxes) grouped into nodes.
    levels: list[tuple[np.ndarray, np.ndarray, list[int]]] = []
    cur_ids, boxes = ids, np.column_stack([lo_x, hi_x, lo_y, hi_y])
    while True:
        order, bounds = _pack(cur_ids, boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], capacity)
        cur_ids, boxes = cur_ids[order], boxes[order]
        levels.append((cur_ids, boxes, bounds))
        n_nodes = len(bounds) - 1
        if n_nodes <= 1:
            break
        parent_boxes = np.array(
            [
                [
                    boxes[a:b, 0].min(),
                    boxes[a:b, 1].max(),
                    boxes[a:b, 2].min(),
                    boxes[a:b, 3].max(),
                ]
                for a, b in itertools.pairwise(bounds)
            ],
            dtype=np.float32,
        )
        cur_ids = np.arange(n_nodes, dtype=np.int64)  # placeholders, numbered below
        boxes = parent_boxes

    # Number nodes from the root down: root = 1, then level by level.
    depth = len(levels) - 1
    numbers: list[np.ndarray] = []
    next_no = 1
    for level in reversed(levels):
        count = max(1, len(level[2]) - 1)
        numbers.append(np.arange(next_no, next_no + count, dtype=np.int64))
        next_no += count
    numbers.reverse()  # numbers[k] = node numbers of level k (0 = leaves)

    cell = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])
    node_rows = []
    for k, (child, boxes_k, bounds) in enumerate(levels):
        node_no = numbers[k]
        if k > 0:
            # children of this level are the nodes of the level below, in order
            child = numbers[k - 1][child]
        cells = np.zeros(len(child), dtype=cell)
        cells["id"] = child
        cells["box"] = boxes_k
        raw = cells.tobytes()
        counts = np.diff(bounds)
        for j, (a, b) in enumerate(itertools.pairwise(bounds)):
            head = (depth if node_no[j] == 1 else 0).to_bytes(2, "big") + int(b - a).to_bytes(
                2, "big"
            )
            blob = head + raw[a * _CELL : b * _CELL]
            node_rows.append((int(node_no[j]), blob + bytes(node_size - len(blob))))
        owner = np.repeat(node_no, counts)
        if k == 0:
            # in rowid order: appending to the table's B-tree, not inserting at random
            by_id = np.argsort(child, kind="stable")
            # several rows per statement: half the time of one each for a million
            insert_rows(
                conn,
                f"{name}_rowid",
                ("rowid", "nodeno"),
                zip(child[by_id].tolist(), owner[by_id].tolist(), strict=True),
            )
        else:
            conn.executemany(
                f'INSERT INTO "{name}_parent" VALUES (?, ?)',
                zip(child.tolist(), owner.tolist(), strict=True),
            )
    conn.executemany(f'INSERT INTO "{name}_node" VALUES (?, ?)', node_rows)
