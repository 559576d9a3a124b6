"""Linear referencing: points ⇄ (line, measure, side, offset), thousands at a time.

Every result is compared with an independent answer: shapely's distance and
line_locate_point against the whole line (correct but slow), or the geometry of a
circle for the side of a curve.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from linerisk.errors import ReferencingError
from linerisk.model import Line, Side
from linerisk.network import Network, PlaceStatus, Referenced
from linerisk.referencing import PIECE_EDGES, LineIndex
from linerisk.settings import Settings

X0, Y0 = 520_000.0, 4_330_000.0  # somewhere in EPSG:4548
N = 4000


def straight(length: float = 6000.0, n_vertices: int = 300, heading: float = 0.3) -> np.ndarray:
    """Vertices along a straight line, unevenly spaced."""
    rng = np.random.default_rng(7)
    t = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0.0, 1.0, n_vertices - 2)]))
    d = t * length
    return np.column_stack([X0 + d * np.cos(heading), Y0 + d * np.sin(heading)])


def arc(radius: float, sweep: float, n_vertices: int, turn: int = +1) -> tuple[np.ndarray, tuple]:
    """A circular arc (turn +1: to the left, counter-clockwise) and its centre."""
    heading = 0.2
    cx = X0 - turn * radius * np.sin(heading)
    cy = Y0 + turn * radius * np.cos(heading)
    psi = heading + turn * np.linspace(0.0, sweep, n_vertices)
    xy = np.column_stack([cx + turn * radius * np.sin(psi), cy - turn * radius * np.cos(psi)])
    return xy, (cx, cy)


def random_positions(length: float, n: int = N, max_offset: float = 800.0, seed: int = 1):
    """Measures along the line and signed offsets from 0 to ``max_offset`` on both sides."""
    rng = np.random.default_rng(seed)
    measure = rng.uniform(0.0, length, n)
    offset = rng.uniform(0.0, max_offset, n) * rng.choice([-1.0, 1.0], n)
    offset[:8] = [0.0, -0.0, 0.5, -0.5, 800.0, -800.0, 100.0, -100.0]
    measure[:2] = [0.0, length]
    return measure, offset


def oracle(line: shapely.LineString, x: np.ndarray, y: np.ndarray):
    """(measure, distance) of each point on the whole line, by shapely."""
    pts = shapely.points(x, y)
    return shapely.line_locate_point(line, pts), shapely.distance(line, pts)


# --------------------------------------------------------------------------- straight lines


def test_straight_line_round_trip_both_sides():
    line = shapely.LineString(straight())
    idx = LineIndex([line])
    measure, offset = random_positions(line.length)
    x, y = idx.place(np.zeros(N, dtype=int), measure, offset)
    loc = idx.locate(x, y)
    assert np.all(loc.line == 0)
    np.testing.assert_allclose(loc.measure, measure, atol=1e-6)
    np.testing.assert_allclose(loc.offset, offset, atol=1e-6)
    np.testing.assert_allclose(np.hypot(loc.foot_x - x, loc.foot_y - y), np.abs(offset), atol=1e-6)


def test_left_is_left_of_increasing_measure():
    # A line running due east: north is on the left.
    idx = LineIndex([shapely.LineString([(0, 0), (50, 0), (100, 0)])])
    loc = idx.locate(np.array([30.0, 30.0, 70.0]), np.array([5.0, -5.0, 12.0]))
    np.testing.assert_allclose(loc.offset, [5.0, -5.0, 12.0])
    np.testing.assert_allclose(loc.measure, [30.0, 30.0, 70.0])
    x, y = idx.place(np.array([0, 0]), np.array([30.0, 30.0]), np.array([5.0, -5.0]))
    np.testing.assert_allclose(np.column_stack([x, y]), [[30.0, 5.0], [30.0, -5.0]])
    # The same line digitised westward: north is now on the right.
    back = LineIndex([shapely.LineString([(100, 0), (0, 0)])])
    loc = back.locate(np.array([30.0]), np.array([5.0]))
    assert loc.offset[0] == pytest.approx(-5.0)
    assert loc.measure[0] == pytest.approx(70.0)


def test_place_at_a_vertex_and_at_the_ends():
    idx = LineIndex([shapely.LineString([(0, 0), (100, 0), (100, 100)])])
    m = np.array([0.0, 100.0, 200.0, -5.0, 250.0])  # measures beyond the ends are clamped
    x, y = idx.place(np.zeros(5, dtype=int), m, np.full(5, 10.0))
    # At the vertex the offset is square to the edge after it (heading north).
    expected = [[0.0, 10.0], [90.0, 0.0], [90.0, 100.0], [0.0, 10.0], [90.0, 100.0]]
    np.testing.assert_allclose(np.column_stack([x, y]), expected, atol=1e-9)


# --------------------------------------------------------------------------- curves


@pytest.mark.parametrize("turn", [+1, -1])
def test_curve_agrees_with_the_whole_line_oracle(turn):
    xy, (cx, cy) = arc(radius=1800.0, sweep=0.7, n_vertices=500, turn=turn)
    line = shapely.LineString(xy)
    idx = LineIndex([line])
    rng = np.random.default_rng(3)
    # Random points anywhere around the curve, not only ones placed by the index.
    minx, miny, maxx, maxy = line.bounds
    x = rng.uniform(minx - 800.0, maxx + 800.0, N)
    y = rng.uniform(miny - 800.0, maxy + 800.0, N)
    loc = idx.locate(x, y, max_distance=800.0)
    measure, distance = oracle(line, x, y)
    near = distance <= 800.0
    assert np.array_equal(loc.found, near)
    np.testing.assert_allclose(loc.distance[near], distance[near], atol=1e-6)
    np.testing.assert_allclose(loc.measure[near], measure[near], atol=1e-6)
    # The inside of a curve is nearer the centre than the radius. For a left turn
    # the inside is the left; for a right turn the right.
    # (Beyond the ends of the arc the circle says nothing about the side.)
    inside = np.hypot(x - cx, y - cy) < 1800.0
    along = (measure > 1.0) & (measure < line.length - 1.0)
    clear = near & along & (distance > 0.1)  # the chords cut inside the circle by ~2 cm
    assert np.array_equal((loc.offset[clear] > 0), (inside[clear] == (turn > 0)))


@pytest.mark.parametrize("turn", [+1, -1])
def test_curve_round_trips(turn):
    radius = 1500.0
    xy, (cx, cy) = arc(radius=radius, sweep=0.9, n_vertices=600, turn=turn)
    line = shapely.LineString(xy)
    idx = LineIndex([line])
    measure, offset = random_positions(line.length)
    x, y = idx.place(np.zeros(N, dtype=int), measure, offset)
    loc = idx.locate(x, y)
    measure_true, distance_true = oracle(line, x, y)
    np.testing.assert_allclose(loc.distance, distance_true, atol=1e-6)
    np.testing.assert_allclose(loc.measure, measure_true, atol=1e-6)
    # Placed points keep their side: inside the curve is nearer the centre.
    inside = np.hypot(x - cx, y - cy) < radius
    left = offset > 0
    assert np.array_equal(inside[offset != 0], (left == (turn > 0))[offset != 0])
    assert np.array_equal(np.sign(loc.offset[offset != 0]), np.sign(offset[offset != 0]))
    # Offsets are true distances to the polyline: on the outside of the curve the
    # nearest point is the foot the point was placed from, so the round trip is exact.
    outside = (offset < 0) if turn > 0 else (offset > 0)
    np.testing.assert_allclose(loc.measure[outside], measure[outside], atol=1e-6)
    np.testing.assert_allclose(loc.offset[outside], offset[outside], atol=1e-6)
    # On the inside, near a vertex, the next chord turns towards the point and may be
    # a little nearer; the foot then moves by less than offset x (angle between chords).
    chord_angle = 0.9 / 599
    shift = np.abs(offset) * chord_angle + 1e-6
    assert np.all(np.abs(loc.measure - measure) <= shift)
    assert np.all(np.abs(loc.offset) <= np.abs(offset) + 1e-6)
    # And what locate reports puts the point back where it was.
    bx, by = idx.place(loc.line, loc.measure, loc.offset)
    np.testing.assert_allclose(np.hypot(bx - x, by - y)[~outside], 0.0, atol=1e-6)


def test_offset_on_a_curve_is_the_distance_from_the_arc():
    radius = 2000.0
    xy, (cx, cy) = arc(radius=radius, sweep=0.5, n_vertices=401, turn=+1)
    idx = LineIndex([shapely.LineString(xy)])
    measure, offset = random_positions(radius * 0.5, seed=5)
    x, y = idx.place(np.zeros(N, dtype=int), measure, offset)
    loc = idx.locate(x, y)
    # 25 m chords on R = 2000 m sag at most 25² / (8 R) = 4 cm inside the arc.
    np.testing.assert_allclose(
        np.abs(np.hypot(x - cx, y - cy) - radius), np.abs(loc.offset), atol=0.05
    )


# --------------------------------------------------------------------------- several lines


def test_nearest_of_several_lines_is_chosen():
    lines = [
        shapely.LineString(straight(4000.0, 120, heading=0.0)),
        shapely.LineString(straight(4000.0, 120, heading=0.0) + np.array([0.0, 500.0])),
        shapely.LineString(arc(900.0, 1.2, 200, turn=-1)[0] + [1500.0, -900.0]),
    ]
    idx = LineIndex(lines)
    rng = np.random.default_rng(11)
    x = rng.uniform(X0 - 500.0, X0 + 4500.0, N)
    y = rng.uniform(Y0 - 2000.0, Y0 + 1000.0, N)
    loc = idx.locate(x, y)
    pts = shapely.points(x, y)
    distances = np.column_stack([shapely.distance(g, pts) for g in lines])
    nearest = np.argmin(distances, axis=1)
    clear = np.sort(distances, axis=1)[:, 1] - distances.min(axis=1) > 1e-6
    assert np.array_equal(loc.line[clear], nearest[clear])
    np.testing.assert_allclose(loc.distance, distances.min(axis=1), atol=1e-6)
    for k, g in enumerate(lines):
        on = loc.line == k
        assert on.sum() > 100
        np.testing.assert_allclose(loc.measure[on], shapely.line_locate_point(g, pts[on]))
    np.testing.assert_allclose(idx.lengths, [g.length for g in lines])


def test_points_beyond_the_distance_limit_are_not_found():
    idx = LineIndex([shapely.LineString(straight(3000.0, 50, heading=0.0))])
    x = np.array([X0 + 1000.0, X0 + 1000.0, X0 + 1000.0, X0 + 1000.0])
    y = np.array([Y0 + 999.0, Y0 - 1000.0, Y0 + 1000.5, Y0 - 5000.0])
    loc = idx.locate(x, y, max_distance=1000.0)
    assert list(loc.line) == [0, 0, -1, -1]
    assert list(loc.found) == [True, True, False, False]
    assert np.all(np.isnan(loc.measure[2:])) and np.all(np.isnan(loc.offset[2:]))
    line, distance = idx.nearest(x, y)  # no limit
    assert list(line) == [0, 0, 0, 0]
    np.testing.assert_allclose(distance, [999.0, 1000.0, 1000.5, 5000.0])


def test_lines_with_few_vertices():
    lines = [
        shapely.LineString([(0, 0), (1000, 0)]),  # one edge
        shapely.LineString([(0, 100), (400, 100), (1000, 400)]),
        shapely.LineString([(0, -100), (300, -100), (300, -100), (600, -100)]),  # repeated vertex
        shapely.LineString([(0, 200), (500, 200), (500, 200)]),  # last vertex repeated
    ]
    idx = LineIndex(lines)
    assert len(idx) == 4
    np.testing.assert_allclose(idx.lengths, [g.length for g in lines])
    line = np.array([0, 0, 1, 1, 2, 2, 2, 3, 3])
    measure = np.array([0.0, 1000.0, 200.0, 700.0, 150.0, 300.0, 450.0, 250.0, 500.0])
    offset = np.array([-30.0, -30.0, 20.0, 20.0, -40.0, -40.0, -40.0, 10.0, 10.0])
    x, y = idx.place(line, measure, offset)
    np.testing.assert_allclose([x[-1], y[-1]], [500.0, 210.0])
    loc = idx.locate(x, y)
    assert list(loc.line) == list(line)
    np.testing.assert_allclose(loc.measure, measure, atol=1e-9)
    np.testing.assert_allclose(loc.offset, offset, atol=1e-9)


@pytest.mark.parametrize(
    "geoms",
    [
        [],
        [shapely.Point(0, 0)],
        [shapely.LineString([(0, 0), (1, 1)]), shapely.Polygon([(0, 0), (1, 0), (1, 1)])],
    ],
)
def test_index_needs_linestrings(geoms):
    with pytest.raises(ValueError):
        LineIndex(geoms)


def test_long_line_with_many_pieces():
    # 10 000 vertices: 1250 indexed pieces; a winding line so that pieces far apart
    # along it come close on the ground.
    s = np.linspace(0.0, 60_000.0, 10_000)
    xy = np.column_stack([X0 + s / 6.0, Y0 + 1500.0 * np.sin(s / 900.0)])
    line = shapely.LineString(xy)
    idx = LineIndex([line])
    assert len(idx.tree) == -(-(len(xy) - 1) // PIECE_EDGES)
    rng = np.random.default_rng(2)
    m = rng.uniform(0.0, line.length, 1000)
    o = rng.uniform(-300.0, 300.0, 1000)
    x, y = idx.place(np.zeros(1000, dtype=int), m, o)
    loc = idx.locate(x, y)
    measure, distance = oracle(line, x, y)
    np.testing.assert_allclose(loc.distance, distance, atol=1e-6)
    np.testing.assert_allclose(loc.measure, measure, atol=1e-6)
    assert loc.measure[-1] == pytest.approx(measure[-1])


# --------------------------------------------------------------------------- network level


def _network(max_distance: float = 1000.0) -> Network:
    lines = [
        Line("T1", "测试一线", "Test Line 1", shapely.LineString([(X0, Y0), (X0 + 8000, Y0)]), 0),
        Line(
            "T2",
            "测试二线",
            "Test Line 2",
            shapely.LineString([(X0, Y0 + 5000), (X0 + 8000, Y0 + 5000)]),
            1000,
        ),
    ]
    return Network(crs="EPSG:4548", lines=lines, settings=Settings(max_distance_m=max_distance))


def test_network_refuses_points_too_far_from_every_line():
    net = _network()
    x = np.array([X0 + 2000.0, X0 + 2000.0, X0 + 3000.0, X0 + 3000.0])
    y = np.array([Y0 + 300.0, Y0 + 1500.0, Y0 + 4200.0, Y0 + 2400.0])
    ref = net.reference(x, y)
    assert list(ref.status) == [PlaceStatus.OK, PlaceStatus.TOO_FAR, PlaceStatus.OK, 1]
    assert list(ref.ok) == [True, False, True, False]
    assert ref.problem(0) is None
    assert ref.location(0).chainage == "K2+000"
    assert ref.location(2).chainage == "K4+000"  # T2 starts at K1+000
    assert ref.location(2).side.value == "right"
    assert ref.problem(1) == (
        "the point is 1,500 m from the nearest line T1 (测试一线); "
        "points farther than 1,000 m from every line are refused"
    )
    assert "2,400 m from the nearest line T1" in ref.problem(3)
    np.testing.assert_allclose(ref.nearest_distance[[1, 3]], [1500.0, 2400.0])
    with pytest.raises(ReferencingError, match="1,500 m from the nearest line T1"):
        ref.location(1)
    with pytest.raises(ReferencingError) as err:
        ref.raise_for_problems()
    assert str(err.value) == ref.problem(1)


def test_locate_point_raises_with_the_distance_and_the_line():
    net = _network(max_distance=300.0)
    with pytest.raises(ReferencingError) as err:
        net.locate_point(X0 + 500.0, Y0 + 4200.0)
    assert str(err.value) == (
        "the point is 800 m from the nearest line T2 (测试二线); "
        "points farther than 300 m from every line are refused"
    )
    ok = net.locate_point(X0 + 500.0, Y0 + 4800.0).location(0)
    assert (ok.line, ok.chainage, ok.side.value, ok.offset_m) == ("T2", "K1+500", "right", 200.0)


def test_formation_half_widths_are_the_covering_segments(sample_network):
    """Half-widths looked up for many points at once equal a plain scan of the
    segments (strictly inside one; the default outside every segment)."""
    net = sample_network
    default = net.settings.default_half_width_m
    rng = np.random.default_rng(3)
    li = 0
    length = float(net.index.lengths[li])
    measures = np.concatenate([rng.uniform(-50.0, length + 50.0, 400), [-10.0, length + 10.0]])
    left = rng.random(len(measures)) < 0.5
    got = net.formation_half_widths(np.full(len(measures), li), measures, left)
    line_id = net.lines[li].id
    spans = [(i, *net.segment_measures(i)) for i, s in enumerate(net.segments) if s.line == line_id]
    checked = 0
    for m, is_left, value in zip(measures, left, got, strict=True):
        side = Side.LEFT if is_left else Side.RIGHT
        inside = [i for i, m0, m1 in spans if m0 + 1e-3 < m < m1 - 1e-3]
        if inside:
            assert value == net.segments[inside[0]].half_width(side, default)
            checked += 1
        elif not any(m0 - 1e-3 <= m <= m1 + 1e-3 for _i, m0, m1 in spans):
            assert value == default
    assert checked > 300
    # the sample's segments do not all share one half-width, so the look-up matters
    assert len({s.half_width(Side.LEFT, default) for s in net.segments}) > 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-50, 50), st.integers(-50, 50)), min_size=2, max_size=12).filter(
        lambda pts: len(set(pts)) > 1
    ),
    st.floats(0, 400),  # shapely counts negative measures from the end; ours clamp
    st.floats(0, 400),
    st.booleans(),
)
def test_substring_is_shapelys_substring(points, start, end, at_vertex):
    """Cut the same part as shapely.ops.substring (which walks the vertices in
    Python), with repeated vertices and cuts exactly at vertices, and the same
    whether the line's vertices are measured per call or once for many cuts."""
    from shapely.ops import substring as shapely_substring

    from linerisk.referencing import measured, substring

    line = shapely.LineString([(10.0 * x, 10.0 * y) for x, y in points])
    coords, measure = measured(line)
    if at_vertex:  # a cut exactly at a vertex, where a strict comparison matters
        start = float(measure[len(measure) // 2])
    ours = substring(line, start, end)
    assert ours.equals_exact(substring(line, start, end, (coords, measure)), 0.0)
    theirs = shapely_substring(line, start, end)
    if theirs.geom_type == "Point":  # shapely gives a point for an empty stretch
        assert ours.length < 1e-9
        return
    assert ours.length == pytest.approx(theirs.length, abs=1e-9)
    assert shapely.hausdorff_distance(ours, theirs) < 1e-9
    # no vertex doubled at a cut (shapely's own may double one)
    steps = np.diff(shapely.get_coordinates(ours), axis=0)
    if ours.length > 1e-6 and np.all(np.diff(shapely.get_coordinates(line), axis=0).any(axis=1)):
        assert steps.any(axis=1).all()
    # the same direction
    assert shapely.get_coordinates(ours)[0] == pytest.approx(shapely.get_coordinates(theirs)[0])


def test_gathering_points_of_several_referencings_keeps_every_field(sample_network):
    """Picking points out of several results gives, field by field, what those
    points have in their own results; nothing, or results of different networks,
    is refused."""
    import attrs

    from linerisk.sample import load_sample_network

    net = sample_network
    a = net.place(["JD", "JD"], [5000.0, 6000.0], ["left", "right"], [30.0, 45.0])
    b = net.reference(a.x[::-1] + 1.0, a.y[::-1] - 1.0)
    picks = [(b, 1), (a, 0), (a, 1), (b, 0), (a, 0)]
    got = Referenced.gather(picks)
    assert len(got) == 5 and got.network is net
    for field in attrs.fields(Referenced):
        if field.name == "network":
            continue
        want = np.asarray([getattr(r, field.name)[k] for r, k in picks])
        np.testing.assert_array_equal(getattr(got, field.name), want, err_msg=field.name)
    with pytest.raises(ValueError):
        Referenced.gather([])
    other = load_sample_network().place(["JD"], [5000.0], ["left"], [30.0])
    with pytest.raises(ValueError, match="different networks"):
        Referenced.gather([(a, 0), (other, 0)])


def test_add_risks_takes_a_placing_made_on_its_network_only(empty_register):
    reg = empty_register
    rows = [
        {"category": "garbage", "severity": "general", "found_by": "甲", "line": "JD",
         "chainage": f"K{5 + i}+000", "side": "left", "offset": 30.0}
        for i in range(3)
    ]  # fmt: skip
    net = reg.network
    placed = net.place(["JD"] * 3, [5000.0, 6000.0, 7000.0], ["left"] * 3, [30.0] * 3)
    with pytest.raises(ValueError, match="2 points for 3 rows"):
        reg.add_risks(rows, referenced=Referenced.gather([(placed, 0), (placed, 1)]))
    # made on another network object: placed again, the rows' own fields count
    from linerisk.sample import load_sample_network

    elsewhere = load_sample_network().place(["JD"] * 3, [9000.0] * 3, ["right"] * 3, [80.0] * 3)
    ids = reg.add_risks(rows, allow_duplicates=True, referenced=elsewhere)
    assert [reg.get(i).location.chainage for i in ids] == ["K5+000", "K6+000", "K7+000"]
    ids = reg.add_risks(rows, allow_duplicates=True, referenced=placed)
    assert [reg.get(i).location.chainage for i in ids] == ["K5+000", "K6+000", "K7+000"]
    assert reg.verify().ok
