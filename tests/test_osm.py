"""Starting a register from OpenStreetMap: a small hand-made file, written as
.osm.pbf with osmium, read into lines, kilometre posts, fences and neighbourhoods."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import shapely

if os.environ.get("CI") != "true":
    pytest.importorskip("osmium")

import osmium

from linerisk.crs import transform_xy
from linerisk.io.osm import PLACEHOLDER, import_osm, read_osm
from linerisk.register import Register

CRS = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Kruger CM 117E, where the test data lies
ORIGIN = (505_000.0, 4_330_000.0)  # near Tianjin, in EPSG:4548 metres


class OsmFile:
    """An OSM XML document built from points given in metres east and north of ORIGIN."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []
        self._next = 1

    def node(self, x: float, y: float, **tags: str) -> int:
        nid = self._next
        self._next += 1
        lon, lat = transform_xy([ORIGIN[0] + x], [ORIGIN[1] + y], CRS, "EPSG:4326")
        self.nodes.append(
            f'<node id="{nid}" version="1" lat="{lat[0]:.8f}" lon="{lon[0]:.8f}">'
            + _tags(tags)
            + "</node>"
        )
        return nid

    def way(self, wid: int, nodes: list[int], **tags: str) -> int:
        refs = "".join(f'<nd ref="{n}"/>' for n in nodes)
        self.ways.append(f'<way id="{wid}" version="1">{refs}{_tags(tags)}</way>')
        return wid

    def polyline(self, wid: int, points: list[tuple[float, float]], **tags: str) -> int:
        return self.way(wid, [self.node(x, y) for x, y in points], **tags)

    def relation(self, rid: int, members: list[tuple[str, int, str]], **tags: str) -> int:
        body = "".join(f'<member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members)
        self.relations.append(f'<relation id="{rid}" version="1">{body}{_tags(tags)}</relation>')
        return rid

    def xml(self) -> str:
        return (
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            '<osm version="0.6" generator="linerisk tests">\n'
            + "\n".join(self.nodes + self.ways + self.relations)
            + "\n</osm>\n"
        )


def _tags(tags: dict[str, str]) -> str:
    out = []
    for k, v in tags.items():
        key = k.replace("__", ":")
        out.append(f'<tag k="{key}" v="{v}"/>')
    return "".join(out)


def _sample_osm() -> OsmFile:
    """A straight line east 0-6000 m in two ways (the first drawn westwards), with a route
    relation; milestones; fences on both sides, one far away; a siding; a branch line in
    two pieces 30 m apart; a street office (level 8) inside a district (level 6)."""
    osm = OsmFile()
    junction = osm.node(3000, 0)
    west = [osm.node(x, 0) for x in (2500, 2000, 1500, 1000, 500, 0)]
    east = [osm.node(x, 0) for x in (3500, 4000, 4500, 5000, 5500, 6000)]
    osm.way(101, [junction, *west], railway="rail", name="测试线")  # drawn westwards
    osm.way(102, [junction, *east], railway="rail", name="测试线")
    osm.relation(
        201,
        [("way", 101, ""), ("way", 102, "")],
        type="route",
        route="railway",
        name="测试线",
        name__en="Test Line",
        ref="CS",
    )
    # Milestones beside the track: chainage grows eastwards, K11 at x = 1000.
    osm.node(1000, 4, railway="milestone", railway__position="11.0")
    osm.node(2000, 4, railway="milestone", railway__position="12.0")
    osm.node(4000, -4, railway="milestone", railway__position__exact="14.002")
    osm.node(5000, -4, railway="milestone", railway__position="mi:3.1")  # unreadable
    # Fences: left (north) and right (south) of the eastward line, a wall, one far away.
    osm.polyline(301, [(500, 20), (1500, 20), (2500, 20)], barrier="fence")
    osm.polyline(302, [(3500, -15), (4500, -15), (5500, -15)], barrier="fence")
    osm.polyline(303, [(4000, 30), (4500, 30)], barrier="wall")
    osm.polyline(304, [(1000, 300), (2000, 300)], barrier="fence")
    # A siding beside the line, not in the route: skipped.
    osm.polyline(
        401, [(1000, 6), (1500, 6), (2000, 6)], railway="rail", service="siding", name="测试线"
    )
    # A branch line by name, in two pieces with a 30 m gap, far to the south.
    osm.polyline(501, [(0, -3000), (1000, -3000)], railway="rail", name="某支线")
    osm.polyline(502, [(1030, -3000), (2500, -3000)], railway="rail", name="某支线")
    # A street office (admin_level 8) from two outer ways, inside a district (level 6).
    a = osm.node(-500, -1000)
    b = osm.node(3200, -1000)
    c = osm.node(3200, 1000)
    d = osm.node(-500, 1000)
    osm.way(601, [a, b, c])
    osm.way(602, [c, d, a])
    osm.relation(
        701,
        [("way", 601, "outer"), ("way", 602, "outer")],
        type="boundary",
        boundary="administrative",
        admin_level="8",
        name="测试街道",
    )
    ring = [(-2000, -5000), (8000, -5000), (8000, 2000), (-2000, 2000)]
    nodes = [osm.node(x, y) for x, y in ring]
    osm.way(
        603,
        [*nodes, nodes[0]],
        boundary="administrative",
        admin_level="6",
        name="测试区",
    )
    return osm


@pytest.fixture(scope="module")
def osm_pbf(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("osm")
    xml = folder / "sample.osm"
    xml.write_text(_sample_osm().xml(), encoding="utf-8")
    pbf = folder / "sample.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    finally:
        writer.close()
    return pbf


@pytest.fixture(scope="module")
def result(osm_pbf):
    return read_osm(osm_pbf, admin_level=8)


def test_the_crs_is_chosen_from_the_data(result):
    assert result.crs == CRS


def test_ways_of_a_route_relation_are_merged_into_one_line(result):
    line = next(ln for ln in result.lines if ln.id == "CS")
    assert line.name_zh == "测试线"
    assert line.name_en == "Test Line"
    assert line.geometry.length == pytest.approx(6000, abs=0.5)
    report = next(r for r in result.report.lines if r.line == "CS")
    assert (report.ways, report.parts, report.gaps_m) == (2, 1, ())
    assert report.grouped_by == "route relation 201"


def test_milestones_orient_the_line_and_give_its_chainage(result):
    line = next(ln for ln in result.lines if ln.id == "CS")
    start = shapely.get_coordinates(line.geometry)[0]
    assert start[0] - ORIGIN[0] == pytest.approx(0, abs=0.5)  # runs eastwards
    assert line.start_chainage == pytest.approx(10_000, abs=0.5)
    posts = sorted(p.chainage for p in result.kmposts if p.line == "CS")
    assert posts == [11_000.0, 12_000.0, 14_002.0]
    report = next(r for r in result.report.lines if r.line == "CS")
    assert report.oriented_by == "milestones"
    assert report.kmposts == 3
    assert result.report.skipped["milestones_unreadable"] == 1
    net = result.network()
    ref = net.place_point("CS", "K14+002", "left", 0)
    assert ref.x[0] - ORIGIN[0] == pytest.approx(4000, abs=0.5)


def test_ways_grouped_by_name_report_their_parts_and_gaps(result):
    report = next(r for r in result.report.lines if r.name == "某支线")
    assert (report.ways, report.parts) == (2, 2)
    assert report.gaps_m == pytest.approx((30.0,), abs=0.1)
    assert report.grouped_by == "name"
    assert report.oriented_by == "as drawn"
    assert report.from_chainage == 0


def test_the_siding_outside_the_route_is_skipped(result):
    assert result.report.skipped["service_tracks"] == 1
    assert len(result.lines) == 2


def test_fences_get_the_side_of_the_line_and_a_chainage_range(result):
    fences = {f.id: f for f in result.fences}
    left = fences["OSM-W301"]
    assert (left.line, left.side.value) == ("CS", "left")
    assert left.from_chainage == pytest.approx(10_500, abs=1)
    assert left.to_chainage == pytest.approx(12_500, abs=1)
    right = fences["OSM-W302"]
    assert (right.line, right.side.value) == ("CS", "right")
    assert right.from_chainage == pytest.approx(13_501.5, abs=1)  # K14+002 stretches it
    wall = fences["OSM-W303"]
    assert (wall.side.value, wall.kind) == ("left", "wall")


def test_a_fence_far_from_every_line_is_skipped_and_counted(result):
    assert "OSM-W304" not in {f.id for f in result.fences}
    assert result.report.skipped["fences_far"] == 1


def test_a_fence_distance_can_be_widened(osm_pbf):
    wide = read_osm(osm_pbf, admin_level=8, fence_distance=400)
    assert "OSM-W304" in {f.id for f in wide.fences}


def test_admin_boundary_relation_becomes_a_neighbourhood_with_its_district(result):
    (nb,) = result.neighbourhoods
    assert nb.id == "OSM-R701"
    assert (nb.district, nb.street_office, nb.community) == ("测试区", "测试街道", "测试街道")
    assert nb.geometry.geom_type == "Polygon"
    assert nb.geometry.area == pytest.approx(3700 * 2000, rel=1e-3)
    assert result.report.admin_level == 8
    assert result.report.skipped["boundaries_other_levels"] == 1


def test_without_a_level_the_most_detailed_one_covering_the_lines_is_chosen(osm_pbf):
    chosen = read_osm(osm_pbf)
    # Level 6 covers both lines, level 8 only half of one: level 6 is taken.
    assert chosen.report.admin_level == 6
    assert chosen.report.admin_level_chosen
    (nb,) = chosen.neighbourhoods
    assert (nb.district, nb.street_office, nb.community) == ("测试区", "测试区", "测试区")


def test_one_placeholder_segment_per_line_and_the_report_says_so(result):
    assert len(result.segments) == 2
    seg = next(s for s in result.segments if s.line == "CS")
    assert (seg.works_section, seg.area_class.value) == (PLACEHOLDER, "other")
    assert seg.from_chainage == pytest.approx(10_000, abs=0.5)
    text = "\n".join(result.report.describe("en"))
    assert "placeholder segment" in text
    assert "2 way(s) merged into 1 part(s), no gaps" in text
    zh = "\n".join(result.report.describe("zh"))
    assert "占位区段" in zh


def test_import_creates_a_register_in_the_chosen_crs(osm_pbf, tmp_path):
    path = tmp_path / "osm.gpkg"
    import_osm(path, osm_pbf, admin_level=8)
    with Register.open(path) as reg:
        assert reg.crs == CRS
        net = reg.network
        assert sorted(ln.id for ln in net.lines) == ["CS", "某支线"]
        risk = reg.add_risk(
            category="garbage",
            severity="general",
            found_by="测试所 李明",
            line="CS",
            chainage="K11+500",
            side="left",
            offset=40,
        )
        assert risk.parties.street_office == "测试街道"
        assert risk.parties.works_section == PLACEHOLDER


def test_import_into_an_existing_register_keeps_its_police_areas(osm_pbf, sample_register_path):
    with Register.open(sample_register_path) as reg:
        before = reg.network
        police = len(before.police_areas)
        import_osm(reg, osm_pbf, admin_level=8)
        net = reg.network
        assert {"JD", "CS"} <= {ln.id for ln in net.lines}
        assert len(net.police_areas) == police
        assert {s.id for s in before.segments} <= {s.id for s in net.segments}
        assert "CS-OSM" in {s.id for s in net.segments}


def test_read_errors_are_one_sentence(tmp_path):
    from linerisk.errors import LineriskError

    with pytest.raises(LineriskError, match="does not exist"):
        read_osm(tmp_path / "missing.osm.pbf")
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>', encoding="utf-8")
    with pytest.raises(LineriskError, match="no railway lines"):
        read_osm(empty)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a pbf file")
    with pytest.raises(LineriskError, match="cannot read OpenStreetMap file"):
        read_osm(broken)


def test_cli_osm_command_imports_and_reports(osm_pbf, tmp_path, capsys):
    from click.testing import CliRunner

    from linerisk.cli.osm import osm

    path = tmp_path / "cli.gpkg"
    runner = CliRunner()
    res = runner.invoke(
        osm,
        [str(osm_pbf), "--register", str(path), "--admin-level", "8", "--format", "json"],
        obj=_env(),
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["crs"] == CRS
    assert {ln["line"] for ln in data["lines"]} == {"CS", "某支线"}
    assert data["skipped"]["fences_far"] == 1
    assert path.exists()
    res = runner.invoke(osm, [str(osm_pbf), "--register", str(path)], obj=_env("en"))
    assert res.exit_code == 0, res.output
    assert "line CS (测试线, by route relation 201)" in res.output


def _env(lang: str | None = None):
    from linerisk.cli.base import Env

    return Env(lang=lang)
