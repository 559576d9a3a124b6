"""linerisk.grid.BoxGrid: the candidates of a point are exactly the boxes (grown by
the pad) that contain it, whatever the mix of box sizes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from linerisk.grid import BoxGrid


def _brute(bounds, pad, x, y):
    pairs = []
    for i in range(len(x)):
        for j, (a, b, c, d) in enumerate(bounds):
            if a - pad <= x[i] <= c + pad and b - pad <= y[i] <= d + pad:
                pairs.append((i, j))
    return pairs


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 40),
    st.integers(0, 200),
    st.sampled_from([0.0, 1.5, 40.0]),
    st.sampled_from([None, 0.5, 7.0]),
)
def test_query_finds_exactly_the_boxes_holding_each_point(seed, n_boxes, n_points, pad, cell):
    rng = np.random.default_rng(seed)
    lo = rng.uniform(-100, 100, (n_boxes, 2))
    # sizes from tiny to a third of the area, so the cells must adapt
    size = rng.choice([0.0, 0.3, 5.0, 70.0], (n_boxes, 2)) * rng.uniform(0.5, 1.0, (n_boxes, 2))
    bounds = np.column_stack([lo, lo + size])
    x = rng.uniform(-150, 150, n_points)
    y = rng.uniform(-150, 150, n_points)
    # points exactly on box edges and corners, the boundary cases
    if n_boxes and n_points >= 2:
        x[0], y[0] = bounds[0, 0] - pad, bounds[0, 1] - pad
        x[1], y[1] = bounds[-1, 2] + pad, bounds[-1, 3] + pad
    grid = BoxGrid(bounds, pad=pad, cell=cell)
    pt, box = grid.query(x, y)
    assert list(zip(pt.tolist(), box.tolist(), strict=True)) == _brute(bounds, pad, x, y)


def test_empty_and_non_finite_inputs():
    grid = BoxGrid(np.zeros((0, 4)))
    pt, box = grid.query(np.array([1.0]), np.array([2.0]))
    assert len(pt) == len(box) == 0
    grid = BoxGrid(np.array([[0.0, 0.0, 1.0, 1.0], [np.nan, 0.0, 1.0, 1.0]]))
    pt, box = grid.query(np.array([0.5, np.nan, 5.0]), np.array([0.5, 0.5, 5.0]))
    assert pt.tolist() == [0] and box.tolist() == [0]
