"""``linerisk check``: what the sample register shows, stale risks after a boundary moved,
posts out of order, residuals, misplaced chain breaks, invalid geometry, exit codes."""

from __future__ import annotations

import json
import sys

import attrs
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.ops import substring

from linerisk.checks import check_register
from linerisk.cli import main
from linerisk.network import Network
from linerisk.register import Register

#: fence gaps of the sample (geodata/README.md), per side
SAMPLE_FENCE_GAPS = {
    ("left", "K7+420", "K7+480"),
    ("right", "K7+420", "K7+480"),
    ("left", "K14+800", "K14+980"),
    ("right", "K14+830", "K15+030"),
    ("right", "K9+100", "K9+320"),
    ("right", "K17+100", "K17+170"),
    ("left", "K17+700", "K17+820"),
    ("left", "K20+900", "K20+990"),
    ("right", "K21+500", "K21+620"),
}
SAMPLE_DAMAGED = {
    "JD-FL02",
    "JD-FL08",
    "JD-FL21",
    "JD-FL26",
    "JD-FR03",
    "JD-FR08",
    "JD-FR10",
    "JD-FR21",
}


def _run(argv: list[str]) -> tuple[int, str, str]:
    with CliRunner().isolation() as (out, err, _mixed):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


def _with(net: Network, **layers) -> Network:
    """A copy of ``net`` with some layers replaced."""
    kwargs = {
        "crs": net.crs,
        "settings": net.settings,
        "lines": net.lines,
        "kmposts": net.kmposts,
        "chain_breaks": net.chain_breaks,
        "segments": net.segments,
        "police_areas": net.police_areas,
        "neighbourhoods": net.neighbourhoods,
        "fences": net.fences,
    }
    return Network(**(kwargs | layers))


def _corridor(net: Network, start: str, end: str) -> shapely.Polygon:
    """A 1200 m flat-capped corridor around line JD between two chainages."""
    cal = net.calibration("JD")
    m0, m1 = (float(cal.measure_at(_chainage_m(c))) for c in (start, end))
    part = substring(net.line("JD").geometry, m0, m1)
    return shapely.buffer(part, 1200, cap_style="flat")


def _chainage_m(text: str) -> float:
    from linerisk.chainage import parse_chainage

    return parse_chainage(text).metres


# --------------------------------------------------------------------------- the sample


def test_sample_shows_the_police_gap_as_its_only_problem(sample_register):
    report = check_register(sample_register)
    assert [(f.kind, f.chainage_range) for f in report.problems] == [
        ("police_gap", "K11+000-K11+300")
    ]
    gap = report.problems[0]
    assert gap.line == "JD"
    assert gap.message("zh") == "K11+000-K11+300 不在任何派出所辖区内（301 米）"
    assert gap.message("en") == "K11+000-K11+300 is in no police area (301 m)"
    assert report.exit_code == 1


def test_sample_fence_gaps_per_side(sample_register):
    report = check_register(sample_register)
    found = {(f.detail["side"], *f.chainage_range.split("-")) for f in report.of_kind("fence_gap")}
    assert found == SAMPLE_FENCE_GAPS
    assert all(f.severity == "warning" for f in report.of_kind("fence_gap"))


def test_a_wider_fence_gap_threshold_reports_fewer_gaps(sample_register):
    report = check_register(sample_register, fence_gap=150)
    lengths = [f.detail["length_m"] for f in report.of_kind("fence_gap")]
    assert len(lengths) == 3  # K9+100 right, K14+830 right, K14+800 left
    assert min(lengths) > 150


def test_sample_damaged_fence_lengths_and_their_risks(sample_register):
    report = check_register(sample_register)
    damaged = {f.detail["fence"]: f for f in report.of_kind("fence_damaged")}
    assert set(damaged) == SAMPLE_DAMAGED
    net = sample_register.network
    for fence in net.fences:
        if fence.id in damaged:
            cal = net.calibration("JD")
            length = cal.measure_at(fence.to_chainage) - cal.measure_at(fence.from_chainage)
            assert damaged[fence.id].detail["length_m"] == pytest.approx(length, abs=0.1)
    # The open fence-damage risks S007, S040, S047 lie on damaged pieces.
    registered = {sample_register.get(i).ref for f in damaged.values() for i in f.detail["risks"]}
    assert registered == {"S007", "S040", "S047"}
    assert "not in the register" in damaged["JD-FL02"].message("en")


def test_sample_has_no_other_findings(sample_register):
    report = check_register(sample_register)
    assert {f.kind for f in report.findings} == {"police_gap", "fence_gap", "fence_damaged"}


def test_line_filter_and_unknown_line(sample_register):
    assert check_register(sample_register, line="JD").findings
    from linerisk.errors import ReferencingError

    with pytest.raises(ReferencingError, match="unknown line"):
        check_register(sample_register, line="XX")


def test_cli_exit_codes(sample_register_path, tmp_path):
    code, out, err = _run(["--register", str(sample_register_path), "check", "--format", "json"])
    assert code == 1
    records = json.loads(out)
    assert records[0].keys() >= {"kind", "severity", "line", "from_chainage", "message", "detail"}
    assert "问题 1 项" in err
    # usage errors: 2
    code, _out, _err = _run(["--register", str(sample_register_path), "check", "--fence-gap", "-5"])
    assert code == 2
    code, _out, err = _run(["--lang", "en", "--register", str(tmp_path / "no.gpkg"), "check"])
    assert code == 2
    assert "does not exist" in err
    code, _out, err = _run(["--register", str(sample_register_path), "check", "--line", "XX"])
    assert code == 2
    code, _out, err = _run(["--register", str(sample_register_path), "check", "--fix"])
    assert code == 2  # no --by, no LINERISK_BY, no default actor


def test_cli_table_is_in_chinese_and_english(sample_register_path):
    code, out, _err = _run(["--register", str(sample_register_path), "check", "--format", "table"])
    assert code == 1
    assert "派出所辖区空白" in out and "K11+000" in out
    code, out, _err = _run(
        ["--lang", "en", "--register", str(sample_register_path), "check", "--format", "csv"]
    )
    assert "no police area" in out
    assert out.splitlines()[0] == "severity,kind,line,from,to,message"


def test_cli_geojson_is_a_lonlat_map_layer(sample_register_path):
    code, out, _err = _run(
        ["--register", str(sample_register_path), "check", "--format", "geojson"]
    )
    assert code == 1
    data = json.loads(out)
    gap = next(f for f in data["features"] if f["properties"]["kind"] == "police_gap")
    assert gap["geometry"]["type"] == "LineString"
    lon, lat = np.array(gap["geometry"]["coordinates"]).T
    assert ((lon > 116) & (lon < 119)).all()
    assert ((lat > 38) & (lat < 40)).all()
    line = shapely.LineString(gap["geometry"]["coordinates"])
    assert line.length > 0


# --------------------------------------------------------------------------- a moved boundary


def _move_police_boundary(reg: Register) -> Network:
    """The boundary between the two stations moved to K10+500, closing the gap."""
    net = reg.network
    tj, jlc = net.police_areas
    moved = _with(
        net,
        police_areas=[
            attrs.evolve(tj, geometry=_corridor(net, "K2+350", "K10+500")),
            attrs.evolve(jlc, geometry=_corridor(net, "K10+500", "K22+637")),
        ],
    )
    reg.import_network(moved)
    return moved


def test_a_moved_police_boundary_makes_open_risks_stale(sample_register):
    new = _move_police_boundary(sample_register)
    tj, jlc = new.police_areas
    expected = {}
    for risk in sample_register.risks(status="open"):
        pt = shapely.Point(risk.location.x, risk.location.y)
        now = tj.name if tj.geometry.covers(pt) else jlc.name if jlc.geometry.covers(pt) else None
        if now != risk.parties.police:
            expected[risk.id] = (risk.parties.police, now)
    assert expected  # S025, in the old gap, at least
    s025 = next(r for r in sample_register.risks() if r.ref == "S025")
    assert expected[s025.id] == (None, "军粮城站派出所")
    report = check_register(sample_register)
    stale = {f.detail["risk"]: f for f in report.of_kind("stale_risk")}
    assert set(stale) == set(expected)
    for rid, (old, now) in expected.items():
        assert stale[rid].detail["changes"]["police"] == {"stored": old, "now": now}
        assert stale[rid].severity == "problem"
    assert not report.of_kind("police_gap")
    assert "派出所：无 → 军粮城站派出所" in stale[s025.id].message("zh")


def test_fix_reassigns_stale_risks_with_an_event_each(sample_register):
    _move_police_boundary(sample_register)
    stale = set(sample_register.stale_assignments())
    before = {rid: len(sample_register.history(rid)) for rid in stale}
    report = check_register(sample_register, fix=True, by="天津站派出所 王磊", note="辖区调整")
    assert set(report.reassigned) == stale
    assert all(f.fixed for f in report.of_kind("stale_risk"))
    assert report.exit_code == 0  # only warnings are left
    for rid in stale:
        history = sample_register.history(rid)
        assert len(history) == before[rid] + 1
        event = history[-1]
        assert (event.action.value, event.actor, event.note) == (
            "edit",
            "天津站派出所 王磊",
            "辖区调整",
        )
        assert event.data["to"]["police"] == sample_register.get(rid).parties.police
        assert event.from_status == event.to_status
    s025 = next(r for r in sample_register.risks() if r.ref == "S025")
    assert s025.parties.police == "军粮城站派出所"
    assert s025.parties.uncovered == ()
    assert s025.lead_party == sample_register.get(s025.id).lead_party
    assert sample_register.verify().ok
    assert sample_register.stale_assignments() == {}
    again = check_register(sample_register)
    assert not again.of_kind("stale_risk")


def test_cli_fix_exit_codes_and_events(sample_register_path):
    with Register.open(sample_register_path) as reg:
        _move_police_boundary(reg)
        stale = set(reg.stale_assignments())
    argv = ["--register", str(sample_register_path), "check"]
    code, _out, _err = _run([*argv, "--format", "json"])
    assert code == 1
    code, out, err = _run([*argv, "--fix", "--by", "天津站派出所 王磊", "--format", "json"])
    assert code == 0, err
    fixed = {r["detail"]["risk"] for r in json.loads(out) if r["fixed"]}
    assert fixed == stale
    code, _out, _err = _run([*argv, "--format", "json"])
    assert code == 0
    code, out, _err = _run(["--register", str(sample_register_path), "verify"])
    assert code == 0


def test_reassign_refuses_unknown_ids_and_needs_an_actor(sample_register):
    from linerisk.errors import LineriskError, UnknownRiskError

    with pytest.raises(UnknownRiskError):
        sample_register.reassign([9999], by="x")
    with pytest.raises(LineriskError, match="actor"):
        sample_register.reassign([1], by="")
    assert sample_register.reassign([1], by="x") == []  # nothing changed, no event


# --------------------------------------------------------------------------- calibration


def _edit_kmposts(reg: Register, change) -> None:
    """Rewrite the stored kilometre posts, as someone editing the file in a GIS might."""
    rows, geoms = reg.store.read_layer("kmposts")
    rows, geoms = change(rows, list(geoms))
    with reg.store.transaction():
        reg.store.replace_layer("kmposts", rows, geoms)
    reg._network = None


def test_posts_out_of_order_are_reported_and_the_rest_still_checked(sample_register):
    def swap(rows, geoms):
        a = next(i for i, r in enumerate(rows) if r["chainage"] == "K6+000")
        b = next(i for i, r in enumerate(rows) if r["chainage"] == "K7+000")
        geoms[a], geoms[b] = geoms[b], geoms[a]
        return rows, geoms

    _edit_kmposts(sample_register, swap)
    with pytest.raises(ValueError):
        sample_register.network  # noqa: B018 - the register cannot calibrate any more
    report = check_register(sample_register)
    order = report.of_kind("kmpost_order")
    assert len(order) == 1
    assert order[0].detail["kmpost"] in ("K6+000", "K7+000")
    assert order[0].severity == "problem"
    assert "out of order" in order[0].message("en")
    # The network was checked without the bad post: the police gap is still found.
    assert report.of_kind("police_gap")
    assert report.exit_code == 1


def test_large_residual_and_misplaced_chain_break(sample_register):
    net = sample_register.network
    cal = net.calibration("JD")
    li = net.line_index("JD")

    def shift_k12(rows, geoms):
        i = next(i for i, r in enumerate(rows) if r["chainage"] == "K12+000")
        m = float(cal.measure_at(_chainage_m("K12+000"))) - 100.0
        x, y = net.index.place(np.array([li]), np.array([m]), np.array([0.0]))
        geoms[i] = shapely.Point(x[0], y[0])
        return rows, geoms

    _edit_kmposts(sample_register, shift_k12)
    report = check_register(sample_register)
    residuals = report.of_kind("calibration_residual")
    assert {f.chainage_range for f in residuals} == {"K11+000-K12+000", "K12+000-K13+000"}
    first = next(f for f in residuals if f.chainage_range == "K11+000-K12+000")
    assert first.detail["residual_m"] == pytest.approx(-100, abs=10)
    assert first.detail["nominal_m"] == pytest.approx(960, abs=0.1)  # the short chain of 40 m
    assert all(f.severity == "warning" for f in residuals)
    (moved,) = report.of_kind("chain_break_position")
    assert moved.detail["distance_m"] > 20
    assert "K11+620=K11+660" in moved.message("en")
    # A higher tolerance accepts both.
    lenient = check_register(sample_register, residual=200)
    assert not lenient.of_kind("calibration_residual")
    assert not lenient.of_kind("chain_break_position")


# --------------------------------------------------------------------------- other layers


def test_invalid_police_polygon_is_reported_and_skipped(sample_register):
    rows, geoms = sample_register.store.read_layer("police_areas")
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    geoms = list(geoms)
    geoms[0] = shapely.MultiPolygon([bowtie])
    with sample_register.store.transaction():
        sample_register.store.replace_layer("police_areas", rows, geoms)
    report = check_register(sample_register)
    (bad,) = report.of_kind("invalid_geometry")
    assert bad.detail == {"layer": "police_areas", "feature": rows[0]["id"]}
    assert "Self-intersection" in bad.message("en")
    assert bad.geometry is not None
    # Without that area, its whole stretch has no police.
    gaps = report.of_kind("police_gap")
    assert gaps[0].chainage_range.startswith("K2+350-")


def test_overlapping_police_areas_and_missing_patrols(sample_register):
    net = sample_register.network
    tj, jlc = net.police_areas
    segments = [
        attrs.evolve(s, patrol_per_week=None) if s.id == "JD-03" else s for s in net.segments
    ]
    sample_register.import_network(
        _with(
            net,
            police_areas=[tj, attrs.evolve(jlc, geometry=_corridor(net, "K10+000", "K22+637"))],
            segments=segments,
        )
    )
    report = check_register(sample_register)
    (overlap,) = report.of_kind("police_overlap")
    assert overlap.chainage_range == "K10+000-K11+000"
    assert set(overlap.detail["claimed_by"]) == {"天津站派出所", "军粮城站派出所"}
    (patrol,) = report.of_kind("patrol_missing")
    assert patrol.detail == {"segment": "JD-03"}
    assert patrol.chainage_range == "K5+600-K8+300"
    assert patrol.severity == "warning"


def test_neighbourhood_and_segment_gaps(sample_register):
    net = sample_register.network
    keep = [s for s in net.segments if s.id != "JD-06"]
    cal = net.calibration("JD")
    hole = shapely.buffer(
        substring(
            net.line("JD").geometry,
            float(cal.measure_at(_chainage_m("K3+000"))),
            float(cal.measure_at(_chainage_m("K3+100"))),
        ),
        50,
        cap_style="flat",
    )
    neighbourhoods = [
        attrs.evolve(n, geometry=n.geometry.difference(hole)) for n in net.neighbourhoods
    ]
    neighbourhoods = [n for n in neighbourhoods if not n.geometry.is_empty]
    sample_register.import_network(_with(net, segments=keep, neighbourhoods=neighbourhoods))
    report = check_register(sample_register)
    (seg_gap,) = report.of_kind("segment_gap")
    assert seg_gap.chainage_range == "K12+000-K13+700"
    (nb_gap,) = report.of_kind("neighbourhood_gap")
    assert nb_gap.chainage_range == "K3+000-K3+100"


def test_risks_that_can_no_longer_be_placed_are_problems_fix_leaves(sample_register):
    # With a 5 m limit, almost every risk is too far from the line to be placed.
    sample_register.update_settings(max_distance_m=5)
    report = check_register(sample_register)
    lost = [f for f in report.of_kind("stale_risk") if "problem" in f.detail]
    assert lost
    assert "can no longer be placed" in lost[0].message("en")
    assert "已无法定位" in lost[0].message("zh")
    assert "米" in lost[0].message("zh")  # the reason is in Chinese as well
    from linerisk.errors import ReferencingError

    with pytest.raises(ReferencingError, match="can no longer be placed"):
        sample_register.reassign([lost[0].detail["risk"]], by="x")
    fixed = check_register(sample_register, fix=True, by="x")
    assert not fixed.reassigned
    assert fixed.exit_code == 1


def test_a_network_that_cannot_be_built_is_one_problem(sample_register):
    rows, geoms = sample_register.store.read_layer("segments")
    rows = [dict(r) for r in rows]
    k = next(i for i, r in enumerate(rows) if r["id"] == "JD-06")
    rows[k]["from_chainage_m"] = 11_640.0  # inside the short chain K11+620=K11+660
    with sample_register.store.transaction():
        sample_register.store.replace_layer("segments", rows, list(geoms))
    sample_register._network = None
    report = check_register(sample_register)
    (bad,) = report.of_kind("network_unreadable")
    assert "short chain" in bad.message("en")
    assert bad.line is None
    assert report.exit_code == 1
    code, out, _err = _run(
        ["--register", str(sample_register.store.path), "check", "--format", "json"]
    )
    assert code == 1
    assert [r["kind"] for r in json.loads(out)] == ["network_unreadable"]
