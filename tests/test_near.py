"""A few points are referenced on the part of the network near them.

When a register's network is not loaded, a command's few points (adding or moving
a risk) are placed on the lines, segments and areas read around them through the
register's spatial indexes instead of the whole network. These tests hold that
part to the whole: the same rows, the same refusals, on a generated network of
several lines with chain breaks and many police areas and neighbourhoods.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from linerisk.errors import LineriskError
from linerisk.register import NEAR_POINTS, Register
from linerisk.store.base import RiskQuery
from linerisk.store.rows import network_near

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import synth

FOUND = "2026-11-20T09:00:00+08:00"


@pytest.fixture(scope="module")
def generated():
    return synth.generate("tiny", seed=11)


@pytest.fixture(scope="module")
def _master(generated, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("near") / "tiny.gpkg"
    Register.create(path, network=generated.network).close()
    return path


@pytest.fixture
def two_copies(_master, tmp_path):
    """The same register twice: one with its whole network loaded first, one not."""
    whole_path, near_path = tmp_path / "whole.gpkg", tmp_path / "near.gpkg"
    shutil.copy(_master, whole_path)
    shutil.copy(_master, near_path)
    with Register.open(whole_path) as whole, Register.open(near_path) as near:
        assert whole.network is not None  # loaded before anything is added
        yield whole, near


def _rows(generated, rng, k: int) -> list[dict]:
    """k risks: half by coordinates (the generator's risks), half by chainage."""
    net = generated.network
    out = []
    for i in rng.choice(len(generated.risk_x), k // 2, replace=False):
        out.append({"x": float(generated.risk_x[i]), "y": float(generated.risk_y[i])})
    for j in range(k - k // 2):
        line = net.lines[int(rng.integers(len(net.lines)))]
        start, end = net.chainage_extent(line.id)
        at = float(rng.uniform(start + 50.0, end - 50.0))
        out.append(
            {
                "line": line.id,
                "chainage": f"K{int(at // 1000)}+{at % 1000:07.3f}",
                "side": "left" if j % 2 else "right",
                "offset": float(rng.uniform(0.0, 300.0)),
            }
        )
    for r in out:
        r.update(category="garbage", severity="general", found_by="test", found_at=FOUND)
        if "x" in r:
            r["crs"] = synth.CRS
    return out


def _stored(reg: Register) -> tuple[list[dict], np.ndarray]:
    """The register's risk rows without their coordinates, and the coordinates.

    A point placed by chainage is computed on edge tables laid out differently,
    so its coordinates may differ in the last bit; every stored chainage, offset
    and party must be exact."""
    rows = reg.store.find_risks(RiskQuery())
    xy = np.array([(r.pop("x"), r.pop("y")) for r in rows], dtype=float).reshape(-1, 2)
    for r in rows:
        del r["updated_at"]
    return rows, xy


def _same(near: Register, whole: Register) -> list[dict]:
    (got, got_xy), (want, want_xy) = _stored(near), _stored(whole)
    assert got == want
    assert np.allclose(got_xy, want_xy, rtol=0.0, atol=1e-6)
    return got


def test_a_few_points_land_as_on_the_whole_network(generated, two_copies):
    whole, near = two_copies
    rng = np.random.default_rng(5)
    for _ in range(12):
        rows = _rows(generated, rng, int(rng.integers(1, NEAR_POINTS + 1)))
        whole.add_risks(rows, allow_duplicates=True)
        near.add_risks(rows, allow_duplicates=True)
    assert near._network is None  # the whole network was never read
    got = _same(near, whole)
    assert len(got) > 60
    # and the generated network gives them work: several lines, parties of all kinds
    assert len({r["line"] for r in got}) >= 4
    assert len({r["police"] for r in got}) >= 5
    assert len({r["community"] for r in got}) >= 10


def test_moving_a_risk_lands_as_on_the_whole_network(generated, two_copies):
    whole, near = two_copies
    rng = np.random.default_rng(8)
    first, *moves = _rows(generated, rng, 8)
    (a,) = whole.add_risks([first], allow_duplicates=True)
    (b,) = near.add_risks([first], allow_duplicates=True)
    for to in moves:
        where = {k: to[k] for k in ("x", "y", "line", "chainage", "side", "offset") if k in to}
        if "x" in to:
            where["crs"] = synth.CRS
        whole.move(a, by="test", **where)
        near.move(b, by="test", **where)
    assert near._network is None
    _same(near, whole)


def test_refusals_are_the_whole_networks(generated, two_copies):
    """A point out of reach of every line, and a chainage beyond its line, are refused
    with the same sentence either way."""
    whole, near = two_copies
    net = generated.network
    xs = np.concatenate([ln.geometry.xy[0] for ln in net.lines])
    ys = np.concatenate([ln.geometry.xy[1] for ln in net.lines])
    far = {"x": float(xs.max()) + 50_000.0, "y": float(ys.max()) + 50_000.0, "crs": synth.CRS}
    line = net.lines[0]
    _start, end = net.chainage_extent(line.id)
    beyond = {"line": line.id, "chainage": f"K{int(end // 1000) + 5}+000", "side": "left"}
    for bad in (far, beyond):
        row = {**bad, "category": "garbage", "severity": "general", "found_by": "test"}
        messages = []
        for reg in (whole, near):
            with pytest.raises(LineriskError) as info:
                reg.add_risks([row])
            messages.append(str(info.value))
        assert messages[0] == messages[1]
    assert _same(near, whole) == []


def test_the_part_read_is_small(generated, _master):
    """Around one point: the lines within reach and the areas holding it, not all."""
    net = generated.network
    with Register.open(_master) as reg:
        x, y = float(generated.risk_x[0]), float(generated.risk_y[0])
        part = network_near(reg.store, reg.settings, [x], [y])
    assert part is not None
    assert 1 <= len(part.lines) < len(net.lines)
    assert len(part.police_areas) <= 2 < len(net.police_areas)
    assert len(part.neighbourhoods) <= 2 < len(net.neighbourhoods)
    ids = {ln.id for ln in part.lines}
    assert {s.id for s in part.segments} == {s.id for s in net.segments if s.line in ids}


# ----------------------------------------------------------------------------- imports


def _import_file(path: Path, rows: list[dict], names: dict[str, str]) -> Path:
    """The rows as a spreadsheet-like CSV: coordinates or line and chainage, some
    lines named by their Chinese name."""
    import csv

    header = [
        "编号",
        "类别",
        "等级",
        "发现人",
        "发现时间",
        "x",
        "y",
        "线路",
        "里程",
        "侧别",
        "距离",
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for k, r in enumerate(rows):
            line = r.get("line", "")
            out.writerow(
                [
                    f"N{k:04d}",
                    "垃圾",
                    "一般",
                    "test",
                    FOUND,
                    r.get("x", ""),
                    r.get("y", ""),
                    names.get(line, line) if k % 3 == 0 else line,
                    r.get("chainage", ""),
                    {"left": "左侧", "right": "右侧"}.get(r.get("side", ""), ""),
                    r.get("offset", ""),
                ]
            )
    return path


def _placeable(net, row: dict) -> bool:
    """False for a row whose random chainage falls inside a short chain."""
    from linerisk.chainage import parse_chainage

    if "x" in row:
        return True
    chainage = parse_chainage(row["chainage"]).metres
    return bool(net.place([row["line"]], [chainage], [row["side"]], [row["offset"]]).ok[0])


def test_an_import_of_a_few_hundred_rows_lands_as_on_the_whole_network(
    generated, two_copies, tmp_path
):
    """The usual weekly file: read around its points and along the lines it names,
    never the whole network, and every row lands as on the whole network."""
    from linerisk.io.importing import NEAR_ROWS, import_layer

    whole, near = two_copies
    net = generated.network
    rows = [r for r in _rows(generated, np.random.default_rng(21), 240) if _placeable(net, r)]
    assert 230 <= len(rows) <= NEAR_ROWS
    names = {ln.id: ln.name_zh for ln in net.lines}
    path = _import_file(tmp_path / "weekly.csv", rows, names)
    for reg in (whole, near):
        report = import_layer(reg, "risks", path, crs=synth.CRS, by="test", allow_duplicates=True)
        assert (report.added, report.rejected) == (len(rows), ())
    assert near._network is None  # the whole network was never read
    got = _same(near, whole)
    assert len({r["line"] for r in got}) >= 4
    assert {r["located_by"] for r in got} == {"coordinates", "chainage"}


def test_rows_by_chainage_alone_find_their_parties_along_the_lines_named(
    generated, two_copies, tmp_path
):
    """No coordinates in the file: the areas around the lines it names are read."""
    from linerisk.io.importing import import_layer

    whole, near = two_copies
    net = generated.network
    rows = [
        r
        for r in _rows(generated, np.random.default_rng(9), 60)
        if "x" not in r and _placeable(net, r)
    ]
    path = _import_file(tmp_path / "by_chainage.csv", rows, {})
    for reg in (whole, near):
        report = import_layer(reg, "risks", path, by="test", allow_duplicates=True)
        assert (report.added, report.rejected) == (len(rows), ())
    assert near._network is None
    got = _same(near, whole)
    assert len({r["police"] for r in got if r["police"]}) >= 3
    assert len({r["community"] for r in got if r["community"]}) >= 10


def test_an_import_refuses_rows_in_the_whole_networks_words(generated, two_copies, tmp_path):
    """A point far from every line, an unknown line and a chainage beyond its line:
    the same rejects as on the whole network, and the other rows imported."""
    from linerisk.io.importing import import_layer

    whole, near = two_copies
    net = generated.network
    # two rows by coordinates: the part of the network around them is small
    rows = [r for r in _rows(generated, np.random.default_rng(4), 4) if "x" in r]
    good = len(rows)
    xs = np.concatenate([ln.geometry.xy[0] for ln in net.lines])
    ys = np.concatenate([ln.geometry.xy[1] for ln in net.lines])
    line = net.lines[0]
    _start, end = net.chainage_extent(line.id)
    rows += [
        {"x": float(xs.max()) + 50_000.0, "y": float(ys.max()) + 50_000.0},
        {"line": "no such line", "chainage": "K1+000", "side": "left", "offset": 10.0},
        {"line": line.id, "chainage": f"K{int(end // 1000) + 5}+000", "side": "left", "offset": 5},
    ]
    path = _import_file(tmp_path / "weekly.csv", rows, {})
    reports = [
        import_layer(reg, "risks", path, crs=synth.CRS, by="test", allow_duplicates=True)
        for reg in (whole, near)
    ]
    assert reports[0].rejected == reports[1].rejected
    # a table's rows are named by their line in the file, after the header
    assert [r.row for r in reports[1].rejected] == [good + 2, good + 3, good + 4]
    assert "from the nearest line" in reports[1].rejected[0].problem
    assert "the register has L0000" in reports[1].rejected[1].problem
    assert reports[0].added == reports[1].added == good
    _same(near, whole)


def test_an_import_works_where_sqlite_allows_999_parameters(generated, two_copies, tmp_path):
    """Some SQLite builds take at most 999 parameters in a statement: the boxes
    around a file of hundreds of points go to the spatial index as one JSON
    parameter, and every row lands as on the whole network."""
    import sqlite3

    from linerisk.io.importing import import_layer

    whole, near = two_copies
    near.store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    net = generated.network
    rows = [r for r in _rows(generated, np.random.default_rng(33), 1200) if _placeable(net, r)]
    assert sum("x" in r for r in rows) == 600
    path = _import_file(tmp_path / "many.csv", rows, {})
    for reg in (whole, near):
        report = import_layer(reg, "risks", path, crs=synth.CRS, by="test", allow_duplicates=True)
        assert (report.added, report.rejected) == (len(rows), ())
    assert near._network is None
    _same(near, whole)


# ----------------------------------------------------------------------------- patrol


def test_a_patrol_change_reads_its_line_alone_and_writes_as_on_the_whole_network(
    generated, two_copies
):
    """`patrol set` on one line: segments split, risks repointed and the change
    recorded exactly as with the whole network loaded, which it never loads."""
    from linerisk.patrol import set_patrol

    whole, near = two_copies
    rows = _rows(generated, np.random.default_rng(12), 40)
    for k in range(0, len(rows), NEAR_POINTS):  # a few at a time: near's network stays unread
        whole.add_risks(rows[k : k + NEAR_POINTS], allow_duplicates=True)
        near.add_risks(rows[k : k + NEAR_POINTS], allow_duplicates=True)
    assert not near.network_loaded
    net = generated.network
    seg = net.segments[len(net.segments) // 2]
    line = net.line(seg.line)
    # a range inside the segment, so that it is cut in three
    lo = seg.from_chainage + (seg.to_chainage - seg.from_chainage) / 4
    hi = seg.to_chainage - (seg.to_chainage - seg.from_chainage) / 4
    statements: list[str] = []
    near.store._conn.set_trace_callback(statements.append)
    for reg in (whole, near):
        changes = set_patrol(
            reg,
            line=line.id,
            start=lo,
            end=hi,
            per_week=9,
            by=seg.works_section,
            reason="test",
            at="2026-11-21T09:00+08:00",
        )
        assert len(changes) == 1
    near.store._conn.set_trace_callback(None)
    # the segments and posts of one line were read, not the whole layers
    reads = [q for q in statements if 'FROM "kmposts"' in q]
    assert reads and all("WHERE" in q for q in reads)
    for kind in ("segments",):
        (a_rows, a_geoms), (b_rows, b_geoms) = (r.store.read_layer(kind) for r in (whole, near))
        assert a_rows == b_rows
        assert all(a.equals_exact(b, 1e-9) for a, b in zip(a_geoms, b_geoms, strict=True))
    assert [r for r in near.store.patrol_changes(None)] == [
        r for r in whole.store.patrol_changes(None)
    ]
    _same(near, whole)
    assert sum(1 for s in near.store.layer_keys("segments") if s.startswith(seg.id)) == 3


def test_a_patrol_change_on_an_unknown_line_is_refused_in_the_whole_networks_words(two_copies):
    from linerisk.patrol import set_patrol

    messages = []
    for reg in two_copies:
        with pytest.raises(LineriskError) as info:
            set_patrol(reg, line="no such line", start=0, end=100, per_week=3, by="x")
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "L0000" in messages[1]


def test_the_patrol_list_of_one_line_reads_that_line_alone(generated, two_copies):
    from linerisk.patrol import patrol_segments

    whole, near = two_copies
    for line in generated.network.lines:
        assert patrol_segments(near, line.id) == patrol_segments(whole, line.id)
    assert not near.network_loaded
    with pytest.raises(LineriskError, match="unknown line 'no such line'; the register has L0000"):
        patrol_segments(near, "no such line")


def test_patrol_advice_for_one_line_or_one_organisation(generated, two_copies):
    """`patrol advise --line` reads that line (with its fences) alone and gives that
    line's part of the whole register's advice; `--by` keeps one organisation's."""
    from linerisk.patrol import advise

    whole, near = two_copies
    rows = _rows(generated, np.random.default_rng(3), 48)
    for k in range(0, len(rows), NEAR_POINTS):
        whole.add_risks(rows[k : k + NEAR_POINTS], allow_duplicates=True)
        near.add_risks(rows[k : k + NEAR_POINTS], allow_duplicates=True)
    everything = advise(whole, on="2026-11-30")
    assert any(a.open_risks for a in everything)
    for line in generated.network.lines:
        got = advise(near, on="2026-11-30", line=line.id)
        assert got == [a for a in everything if a.segment.line == line.id]
    assert not near.network_loaded
    section = everything[0].segment.works_section
    mine = advise(whole, on="2026-11-30", by=section)
    assert mine and mine == [a for a in everything if a.segment.works_section == section]
