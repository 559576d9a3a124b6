"""The sample line 津东线 (JD) against what its generator built, worked out by hand.

Expected values come from geodata/README.md and geodata/make_sample.py, not from
linerisk: the generator's calibration table (restated below), its segment, police
and street-office tables, and the hand-over notes in risks.geojson, which name the
street office and community the generator found for each locally-led risk.
Coordinates are read with json and reprojected with pyproj directly.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise

import attrs
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from linerisk.errors import ReferencingError
from linerisk.model import AreaClass, Band, Side, Vertical
from linerisk.network import Network, PlaceStatus
from linerisk.sample import sample_dir
from linerisk.settings import Settings

TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)

# The generator's calibration (geodata/README.md, "Calibration from the kilometre
# posts"): continuous chainage → measure, exactly piecewise linear, the last
# interval's scale extrapolated after K22+000.
CALIBRATION_TABLE = [
    (2350, 0.00),
    (3000, 650.74),
    (4000, 1646.66),
    (5000, 2641.18),
    (6000, 3636.59),
    (7000, 4640.98),
    (8000, 5643.06),
    (9000, 6640.10),
    (10000, 7645.09),
    (11000, 8648.87),
    (11960, 9611.23),
    (12960, 10606.47),
    (13960, 11602.03),
    (14960, 12605.90),
    (15960, 13603.63),
    (16960, 14601.12),
    (17960, 15598.10),
    (18960, 16602.48),
    (19960, 17603.76),
    (20960, 18607.03),
    (21960, 19601.80),
]
BREAK_BACK, BREAK_AHEAD = 11620.0, 11660.0


def continuous(chainage: float) -> float:
    """The generator's rule: chainage after the short chain loses its 40 m."""
    assert not BREAK_BACK < chainage < BREAK_AHEAD
    return chainage if chainage <= BREAK_BACK else chainage - (BREAK_AHEAD - BREAK_BACK)


def generator_measure(chainage: float) -> float:
    """Measure of a chainage by the generator's mapping (table above), no linerisk."""
    c = continuous(chainage)
    cs, ms = zip(*CALIBRATION_TABLE, strict=True)
    if c <= cs[-1]:
        return float(np.interp(c, cs, ms))
    return ms[-1] + (c - cs[-1]) * (ms[-1] - ms[-2]) / (cs[-1] - cs[-2])


def km(text: str) -> float:
    a, b = text[1:].split("+")
    return int(a) * 1000 + float(b)


def read_geojson(name: str) -> list[tuple[dict, object]]:
    """(properties, geometry in EPSG:4548 or None) of each feature of a sample file."""
    data = json.loads((sample_dir() / f"{name}.geojson").read_text(encoding="utf-8"))
    out = []
    for feature in data["features"]:
        geom = feature["geometry"]
        if geom is not None:
            geom = shapely.transform(
                shapely.geometry.shape(geom),
                lambda xy: np.column_stack(TO_METRIC.transform(xy[:, 0], xy[:, 1])),
            )
        out.append((feature["properties"], geom))
    return out


RISKS = {p["ref"]: (p, g) for p, g in read_geojson("risks")}

# Segments (README "segments.geojson" table): id, from, to, workshop, work area,
# area class, formation half-width left / right.
SEGMENTS = [
    ("JD-01", "K2+350", "K4+200", "天津东线路车间", "天津东线路工区", "urban", 6.5, 7.5),
    ("JD-02", "K4+200", "K5+600", "天津东线路车间", "张贵庄线路工区", "urban", 7.5, 8.0),
    ("JD-03", "K5+600", "K8+300", "天津东线路车间", "张贵庄线路工区", "suburban", 8.5, 9.5),
    ("JD-04", "K8+300", "K9+800", "天津东线路车间", "新立线路工区", "suburban", 8.0, 8.5),
    ("JD-05", "K9+800", "K12+000", "天津东线路车间", "新立线路工区", "village", 12.0, 11.5),
    ("JD-06", "K12+000", "K13+700", "军粮城线路车间", "无瑕线路工区", "other", 9.5, 10.0),
    ("JD-07", "K13+700", "K16+200", "军粮城线路车间", "无瑕线路工区", "village", 10.0, 8.5),
    ("JD-08", "K16+200", "K18+500", "军粮城线路车间", "军粮城线路工区", "other", 11.0, 12.5),
    ("JD-09", "K18+500", "K20+400", "军粮城线路车间", "军粮城线路工区", "village", 9.5, 11.0),
    ("JD-10", "K20+400", "K22+637", "军粮城线路车间", "军粮城线路工区", "other", 10.0, 11.5),
]  # fmt: skip
CONVENTIONAL_WIDTH = {"urban": 8.0, "suburban": 10.0, "village": 12.0, "other": 15.0}
HIGH_SPEED_WIDTH = {"urban": 10.0, "suburban": 12.0, "village": 15.0, "other": 20.0}


def segment_row(chainage: float):
    for row in reversed(SEGMENTS):  # the later segment on a shared end, as the generator
        if km(row[1]) <= chainage <= km(row[2]):
            return row
    raise AssertionError(chainage)


# --------------------------------------------------------------------------- calibration


def test_every_kilometre_post_is_reproduced(sample_network):
    net = sample_network
    cal = net.calibration("JD")
    posts = sorted(net.kmposts, key=lambda p: p.chainage)
    assert [p.chainage for p in posts] == [float(k * 1000) for k in range(3, 23)]
    x = np.array([p.geometry.x for p in posts])
    y = np.array([p.geometry.y for p in posts])
    loc = net.index.locate(x, y)
    chainage = np.array([p.chainage for p in posts])
    np.testing.assert_allclose(cal.chainage_at(loc.measure), chainage, atol=0.01)
    # The measures are the generator's (the table is rounded to the centimetre).
    expected = [generator_measure(c) for c in chainage]
    np.testing.assert_allclose(loc.measure, expected, atol=0.02)
    # Referencing a post's own coordinates gives its chainage on the centreline.
    ref = net.reference(x, y)
    np.testing.assert_allclose(ref.chainage, chainage, atol=0.01)
    assert np.all(ref.offset < 0.05)


def test_calibration_between_posts_is_the_generators(sample_network):
    cal = sample_network.calibration("JD")
    # (The ahead chainage K11+660 itself is left out: it maps back to the back chainage.)
    chainage = np.concatenate([np.arange(2350.0, 11620.0, 37.0), np.arange(11661.0, 22637.0, 41.0)])
    expected = [generator_measure(c) for c in chainage]
    np.testing.assert_allclose(cal.measure_at(chainage), expected, atol=0.02)
    np.testing.assert_allclose(cal.chainage_at(np.array(expected)), chainage, atol=0.02)


def test_chainage_extents(sample_network):
    lo, hi = sample_network.chainage_extent("JD")
    assert lo == pytest.approx(2350.0, abs=1e-6)
    assert hi == pytest.approx(22637.0, abs=0.01)
    assert sample_network.index.lengths[0] == pytest.approx(20235.47, abs=0.01)
    with pytest.raises(ReferencingError, match="outside line JD, which runs from K2\\+350"):
        sample_network.place_point("JD", "K1+900", "left", 10)
    with pytest.raises(ReferencingError, match="outside line JD"):
        sample_network.place_point("JD", "K22+700", "left", 10)


def test_the_chain_break(sample_network):
    net = sample_network
    (brk,) = net.chain_breaks
    assert (brk.back, brk.ahead, brk.kind, brk.length) == (11620.0, 11660.0, "short", 40.0)
    cal = net.calibration("JD")
    (m,) = cal.break_measures()
    assert m == pytest.approx(9270.39, abs=0.02)  # README: the break lies at 9270.39 m
    assert net.index.locate(np.array([brk.geometry.x]), np.array([brk.geometry.y])).measure[
        0
    ] == pytest.approx(m, abs=0.02)
    # Both sides of the break are one place on the ground.
    back = net.place_point("JD", "K11+620", "left", 0).location(0)
    ahead = net.place_point("JD", "K11+660", "left", 0).location(0)
    assert back.measure_m == pytest.approx(ahead.measure_m)
    assert (back.x, back.y) == pytest.approx((ahead.x, ahead.y))
    assert back.measure_m == pytest.approx(m)
    # Either side of it, chainage is counted on from the right side of the break.
    np.testing.assert_allclose(
        cal.chainage_at(np.array([m - 1.0, m, m + 1.0])),
        [11620.0 - 1 / 1.0024583, 11620.0, 11660.0 + 1 / 1.0024583],
        atol=1e-4,
    )
    assert cal.measure_at(11700.0) == pytest.approx(generator_measure(11700.0), abs=0.01)


@pytest.mark.parametrize("chainage", ["K11+621", "K11+640", "K11+659.5"])
def test_chainage_inside_the_break_does_not_exist(sample_network, chainage):
    with pytest.raises(ReferencingError, match=f"chainage {re.escape(chainage)} does not exist"):
        sample_network.place_point("JD", chainage, "left", 10)
    ref = sample_network.place(["JD", "JD"], [11640.0, 11700.0], ["left", "right"], [10, 20])
    assert list(ref.status) == [PlaceStatus.NONEXISTENT_CHAINAGE, PlaceStatus.OK]
    assert "K11+640 does not exist on line JD" in ref.problem(0)
    assert ref.location(1).chainage == "K11+700"


# --------------------------------------------------------------------------- worked points

# Seven risk points of geodata/risks.geojson located by their coordinates. For each:
# the chainage, side and offset it was placed at; the measure by the generator's
# table (worked by hand in the comment); the segment row of the README (work area,
# area class, half-width of that side); the police station from the police table
# (天津站 up to K11+000, none to K11+300, then 军粮城站); street office and community
# from the risk's hand-over note, or for the railway-led S025 and S041 from the
# street-office table and the neighbourhood polygon the point falls in; the zone
# width from the regulations' table and distance = offset - half-width.
WORKED = {
    # K2+480: c 2480, start (2350, 0) to K3+000 (3000, 650.74): 130 x 1.001138 = 130.15.
    # JD-01 urban, right half-width 7.5: 25 - 7.5 = 17.5 > 8 m zone, inside 200 m.
    "S001": dict(
        measure=130.15, segment="JD-01", police="天津站派出所", district="河东区",
        street_office="大王庄街道", community="十一经路社区", area_class="urban",
        width=8.0, distance=17.5, band=Band.WITHIN_200M,
    ),
    # K11+150: c 11150, K11+000 (11000, 8648.87) to K12+000 (11960, 9611.23):
    # 8648.87 + 150 x 962.36 / 960 = 8799.24. JD-05 village, left 12.0: 20 - 12 = 8
    # <= 12 m, inside the zone. In the police gap K11+000-K11+300.
    "S025": dict(
        measure=8799.24, segment="JD-05", police=None, district="东丽区",
        street_office="新立街道", community="新立村", area_class="village",
        width=12.0, distance=8.0, band=Band.PROTECTION_ZONE,
    ),
    # K12+300 is after the break: c 12260, K12+000 (11960, 9611.23) to K13+000
    # (12960, 10606.47): 9611.23 + 300 x 0.995240 = 9909.80. JD-06 other, left 9.5:
    # 720 - 9.5 = 710.5, beyond 500 m, inside 1000 m.
    "S027": dict(
        measure=9909.80, segment="JD-06", police="军粮城站派出所", district="东丽区",
        street_office="新立街道", community="宝元村", area_class="other",
        width=15.0, distance=710.5, band=Band.WITHIN_1000M,
    ),
    # K13+880: c 13840, K13+000 (12960, 10606.47) to K14+000 (13960, 11602.03):
    # 10606.47 + 880 x 0.995560 = 11482.56. JD-07 village, right 8.5: 300 - 8.5 =
    # 291.5, inside 500 m.
    "S030": dict(
        measure=11482.56, segment="JD-07", police="军粮城站派出所", district="东丽区",
        street_office="无瑕街道", community="无瑕花园社区", area_class="village",
        width=12.0, distance=291.5, band=Band.WITHIN_500M,
    ),
    # K16+640: c 16600, K16+000 (15960, 13603.63) to K17+000 (16960, 14601.12):
    # 13603.63 + 640 x 0.997490 = 14242.02. JD-08 other, right 12.5: 200 - 12.5 =
    # 187.5, inside 200 m.
    "S036": dict(
        measure=14242.02, segment="JD-08", police="军粮城站派出所", district="东丽区",
        street_office="无瑕街道", community="北何庄村", area_class="other",
        width=15.0, distance=187.5, band=Band.WITHIN_200M,
    ),
    # K18+820: c 18780, K18+000 (17960, 15598.10) to K19+000 (18960, 16602.48):
    # 15598.10 + 820 x 1.004380 = 16421.69. JD-09 village, left 9.5: 18 - 9.5 = 8.5
    # <= 12 m, inside the zone.
    "S041": dict(
        measure=16421.69, segment="JD-09", police="军粮城站派出所", district="东丽区",
        street_office="军粮城镇", community="刘台村", area_class="village",
        width=12.0, distance=8.5, band=Band.PROTECTION_ZONE,
    ),
    # K22+310 is after the last post: c 22270, 19601.80 + 310 x (19601.80 - 18607.03)
    # / 1000 = 19910.18. JD-10 other, right 11.5: 16 - 11.5 = 4.5 <= 15 m.
    "S048": dict(
        measure=19910.18, segment="JD-10", police="军粮城站派出所", district="东丽区",
        street_office="军粮城镇", community="南于堡村", area_class="other",
        width=15.0, distance=4.5, band=Band.PROTECTION_ZONE,
    ),
}  # fmt: skip


@pytest.mark.parametrize("ref", sorted(WORKED))
def test_worked_point(sample_network, ref):
    props, geom = RISKS[ref]
    want = WORKED[ref]
    seg = segment_row(km(props["chainage"]))
    assert seg[0] == want["segment"]
    assert want["measure"] == pytest.approx(generator_measure(km(props["chainage"])), abs=0.01)

    result = sample_network.locate_point(geom.x, geom.y)
    loc, parties, zone = result.location(0), result.parties(0), result.zone(0)
    assert loc.line == "JD"
    assert loc.measure_m == pytest.approx(want["measure"], abs=1.0)
    assert loc.chainage_m == pytest.approx(km(props["chainage"]), abs=1.0)
    assert loc.side is Side.parse(props["side"])
    assert loc.offset_m == pytest.approx(props["offset_m"], abs=0.05)
    assert (loc.x, loc.y) == pytest.approx((geom.x, geom.y))

    assert parties.segment == want["segment"]
    assert parties.works_section == "天津工务段"
    assert (parties.workshop, parties.work_area) == (seg[3], seg[4])
    assert parties.police == want["police"]
    assert (parties.district, parties.street_office, parties.community) == (
        want["district"],
        want["street_office"],
        want["community"],
    )

    assert zone.area_class is AreaClass(want["area_class"])
    assert zone.width_m == want["width"]
    assert zone.distance_m == pytest.approx(want["distance"], abs=0.05)
    assert zone.band is want["band"]
    assert zone.inside_protection_zone == (want["band"] is Band.PROTECTION_ZONE)


def test_worked_communities_are_the_polygons_the_points_fall_in():
    # A check on the table above that does not use linerisk at all.
    cells = read_geojson("neighbourhoods")
    for ref, want in WORKED.items():
        point = RISKS[ref][1]
        hits = [p for p, g in cells if g.covers(point)]
        assert [(p["district"], p["street_office"], p["community"]) for p in hits] == [
            (want["district"], want["street_office"], want["community"])
        ], ref


def _handover(props: dict) -> tuple[str, str] | None:
    for event in props["history"]:
        match = re.fullmatch(r"已交(.+?)综治办，督促(.+)落实整改", event.get("note", ""))
        if event["action"] == "assign" and match:
            return match[1], match[2]
    return None


def test_every_sample_risk_lands_where_the_generator_put_it(sample_network):
    """All 48 risks: coordinates where given, else line/chainage/side/offset."""
    refs = sorted(RISKS)
    by_xy = [r for r in refs if RISKS[r][1] is not None]
    by_chainage = [r for r in refs if RISKS[r][1] is None]
    assert (len(by_xy), len(by_chainage)) == (40, 8)
    located = sample_network.reference(
        [RISKS[r][1].x for r in by_xy], [RISKS[r][1].y for r in by_xy]
    )
    placed = sample_network.place(
        ["JD"] * len(by_chainage),
        [km(RISKS[r][0]["chainage"]) for r in by_chainage],
        [RISKS[r][0]["side"] for r in by_chainage],
        [RISKS[r][0]["offset_m"] for r in by_chainage],
    )
    results = [(r, located, i) for i, r in enumerate(by_xy)]
    results += [(r, placed, i) for i, r in enumerate(by_chainage)]
    handed_over = 0
    for ref, result, i in results:
        props = RISKS[ref][0]
        chainage = km(props["chainage"])
        loc, parties = result.location(i), result.parties(i)
        # README: coordinates round-trip within 1.7 m of chainage and 1 cm of offset.
        assert loc.chainage_m == pytest.approx(chainage, abs=2.0), ref
        assert loc.measure_m == pytest.approx(generator_measure(chainage), abs=2.0), ref
        assert loc.side.value == props["side"], ref
        assert loc.offset_m == pytest.approx(props["offset_m"], abs=0.05), ref
        assert parties.segment == segment_row(chainage)[0], ref
        if chainage <= 11000:
            assert parties.police == "天津站派出所", ref
        elif chainage < 11300:
            assert parties.police is None, ref
        else:
            assert parties.police == "军粮城站派出所", ref
        office = _handover(props)
        if office is not None:
            handed_over += 1
            assert (parties.street_office, parties.community) == office, ref
    assert handed_over >= 25


# --------------------------------------------------------------------------- police gap


def test_point_in_the_police_gap_has_no_police(sample_network):
    result = sample_network.place_point("JD", "K11+150", "right", 40)
    parties = result.parties(0)
    assert parties.police is None
    assert parties.uncovered == (Vertical.POLICE,)
    assert parties.party(Vertical.POLICE) is None
    # The other two verticals still answer for it.
    assert parties.workshop == "天津东线路车间"
    assert parties.street_office == "新立街道"
    # Just outside the gap each station answers (the generator's own check points).
    assert sample_network.place_point("JD", "K10+950", "left", 0).parties(0).police == (
        "天津站派出所"
    )
    assert sample_network.place_point("JD", "K11+350", "left", 0).parties(0).police == (
        "军粮城站派出所"
    )


# --------------------------------------------------------------------------- zones


def _copy(net: Network, **changes) -> Network:
    parts = dict(
        crs=net.crs,
        lines=net.lines,
        kmposts=net.kmposts,
        chain_breaks=net.chain_breaks,
        segments=net.segments,
        police_areas=net.police_areas,
        neighbourhoods=net.neighbourhoods,
        fences=net.fences,
        settings=net.settings,
    )
    return Network(**(parts | changes))


# One point per area class, 60 m left of the centreline.
CLASS_POINTS = [("K3+000", "urban"), ("K6+000", "suburban"), ("K10+000", "village"),
                ("K12+500", "other")]  # fmt: skip


def test_high_speed_widens_the_protection_zone(sample_network):
    net = sample_network
    fast = _copy(net, lines=[attrs.evolve(net.lines[0], high_speed=True)])
    n = len(CLASS_POINTS)
    args = (["JD"] * n, [km(c) for c, _ in CLASS_POINTS], ["left"] * n, [60.0] * n)
    slow_ref, fast_ref = net.place(*args), fast.place(*args)
    for i, (_, area_class) in enumerate(CLASS_POINTS):
        assert slow_ref.zone(i).area_class is AreaClass(area_class)
        assert slow_ref.zone(i).width_m == CONVENTIONAL_WIDTH[area_class]
        assert fast_ref.zone(i).width_m == HIGH_SPEED_WIDTH[area_class]
        assert fast_ref.zone(i).distance_m == slow_ref.zone(i).distance_m
    # K12+500 is in JD-06 ("other", left half-width 9.5): 17 m from the formation
    # edge is outside the conventional 15 m zone but inside the high-speed 20 m one.
    slow = net.place_point("JD", "K12+500", "left", 26.5).zone(0)
    quick = fast.place_point("JD", "K12+500", "left", 26.5).zone(0)
    assert slow.distance_m == quick.distance_m == pytest.approx(17.0)
    assert (slow.band, quick.band) == (Band.WITHIN_200M, Band.PROTECTION_ZONE)


@pytest.mark.parametrize("row", SEGMENTS, ids=[r[0] for r in SEGMENTS])
def test_distance_is_from_the_formation_edge_of_that_side(sample_network, row):
    middle = (km(row[1]) + km(row[2])) / 2
    if BREAK_BACK < middle < BREAK_AHEAD:
        middle = 11000.0
    result = sample_network.place(["JD"] * 4, [middle] * 4, ["left", "right"] * 2, [50, 50, 3, 3])
    half = {"left": row[6], "right": row[7]}
    for i, side in enumerate(["left", "right", "left", "right"]):
        assert result.parties(i).segment == row[0]
        offset = 50.0 if i < 2 else 3.0
        assert result.zone(i).distance_m == pytest.approx(max(offset - half[side], 0.0))
    # Standing on the formation counts as inside the zone.
    assert result.zone(2).band is result.zone(3).band is Band.PROTECTION_ZONE


def test_default_half_width_where_a_segment_gives_none(sample_network):
    net = sample_network
    segments = [
        attrs.evolve(s, formation_half_width_left_m=None) if s.id == "JD-03" else s
        for s in net.segments
    ]
    plain = _copy(net, segments=segments)
    assert plain.place_point("JD", "K6+000", "left", 50).zone(0).distance_m == pytest.approx(44.0)
    assert plain.place_point("JD", "K6+000", "right", 50).zone(0).distance_m == pytest.approx(40.5)
    wide = _copy(net, segments=segments, settings=Settings(default_half_width_m=10.0))
    assert wide.place_point("JD", "K6+000", "left", 50).zone(0).distance_m == pytest.approx(40.0)


def test_band_limits(sample_network):
    # JD-10 ("other", right half-width 11.5): distances 15, 15.5, 200, 200.5, 500,
    # 500.5, 988.5 from the formation edge.
    distances = np.array([15.0, 15.5, 200.0, 200.5, 500.0, 500.5, 988.5])
    result = sample_network.place(["JD"] * 7, [21000.0] * 7, ["right"] * 7, distances + 11.5)
    bands = [result.zone(i).band for i in range(7)]
    assert bands == [
        Band.PROTECTION_ZONE,
        Band.WITHIN_200M,
        Band.WITHIN_200M,
        Band.WITHIN_500M,
        Band.WITHIN_500M,
        Band.WITHIN_1000M,
        Band.WITHIN_1000M,
    ]


# --------------------------------------------------------------------------- stretches

# Street offices along the line and where the line crosses from one to the next
# (README "neighbourhoods.geojson" table, to the metre).
OFFICES = ["大王庄街道", "东新街道", "张贵庄街道", "丰年村街道", "新立街道", "无瑕街道", "军粮城镇"]
OFFICE_BOUNDS = [3150.0, 4700.0, 7917.0, 9602.0, 13519.0, 17084.0]


def test_stretches_cover_the_line_and_show_the_gap(sample_network):
    stretches = sample_network.stretches("JD")
    start, end = sample_network.chainage_extent("JD")
    assert stretches[0].from_chainage == pytest.approx(start, abs=1e-6)
    assert stretches[-1].to_chainage == pytest.approx(end, abs=1e-6)
    assert stretches[-1].chainage_range.endswith("-K22+637")
    for a, b in pairwise(stretches):
        assert a.to_chainage == b.from_chainage  # no holes, no overlaps
        assert a.from_chainage < a.to_chainage
        assert a.parties != b.parties  # cut only where someone changes
    gaps = [s for s in stretches if s.parties.police is None]
    assert len(gaps) == 1
    (gap,) = gaps
    assert gap.from_chainage == pytest.approx(11000.0, abs=1.0)
    assert gap.to_chainage == pytest.approx(11300.0, abs=1.0)
    assert gap.chainage_range == "K11+000-K11+300"
    assert gap.parties.uncovered == (Vertical.POLICE,)
    assert all(s.parties.uncovered == () for s in stretches if s is not gap)


def test_stretches_follow_the_three_verticals(sample_network):
    stretches = sample_network.stretches("JD")
    offices = [s.parties.street_office for s in stretches]
    assert [o for i, o in enumerate(offices) if i == 0 or o != offices[i - 1]] == OFFICES
    changes = [
        s.from_chainage
        for prev, s in pairwise(stretches)
        if s.parties.street_office != prev.parties.street_office
    ]
    np.testing.assert_allclose(changes, OFFICE_BOUNDS, atol=1.0)
    starts = {s.from_chainage for s in stretches}
    # Every segment end where the work area or workshop changes is a stretch end.
    for row, nxt in pairwise(SEGMENTS):
        if row[4] != nxt[4]:
            assert km(nxt[1]) in starts
    cal = sample_network.calibration("JD")
    for s in stretches:
        # The middle by measure: the middle by chainage may fall inside the chain break.
        middle = cal.chainage_at(
            (cal.measure_at(s.from_chainage) + cal.measure_at(s.to_chainage)) / 2
        )
        parties = sample_network.place_point("JD", middle, "left", 0).parties(0)
        assert (s.parties.police, s.parties.workshop, s.parties.work_area) == (
            parties.police,
            parties.workshop,
            parties.work_area,
        )
        assert (s.parties.district, s.parties.street_office) == (
            parties.district,
            parties.street_office,
        )
