"""The register file: a GeoPackage that GDAL, pyogrio and geopandas read as is, with
its CRS and spatial indexes, written one transaction at a time, surviving a kill
and shared by two writers."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import closing
from pathlib import Path

import pyogrio
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from linerisk.errors import LineriskError
from linerisk.lifecycle import TransitionError
from linerisk.register import Register
from linerisk.sample import sample_dir
from linerisk.store import gpkg, sidecar
from linerisk.store.base import StoreError
from linerisk.store.schema import EVENT_COLUMNS, LAYERS, PATROL_COLUMNS, RISK_COLUMNS

BY = "天津站派出所 王磊"
CRS = "EPSG:4548"
SPATIAL = {
    "lines": "LineString",
    "kmposts": "Point",
    "chain_breaks": "Point",
    "segments": "LineString",
    "police_areas": "MultiPolygon",
    "neighbourhoods": "MultiPolygon",
    "fences": "LineString",
    "risks": "Point",
}
TABLES = ("risk_events", "patrol_changes", "linerisk_meta")
REPO = Path(__file__).resolve().parents[1]


def _sample_counts() -> dict[str, int]:
    """Feature counts of the sample, read straight from geodata/*.geojson."""
    counts = {}
    for name in SPATIAL:
        path = sample_dir() / f"{name}.geojson"
        counts[name] = len(json.loads(path.read_text("utf-8"))["features"])
    risks = json.loads((sample_dir() / "risks.geojson").read_text("utf-8"))["features"]
    counts["risk_events"] = sum(1 + len(f["properties"]["history"]) for f in risks)
    counts["patrol_changes"] = 0
    return counts


SAMPLE_COUNTS = _sample_counts()


def dump_digest(path: Path) -> str:
    """SHA-256 of the file's logical content: every table, index, trigger and row."""
    with closing(sqlite3.connect(path)) as conn:
        digest = hashlib.sha256()
        for line in conn.iterdump():
            digest.update(line.encode("utf-8") + b"\n")
        for pragma in ("application_id", "user_version"):
            digest.update(str(conn.execute(f"PRAGMA {pragma}").fetchone()[0]).encode())
        return digest.hexdigest()


def sql(path: Path, query: str, params=()) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(query, params).fetchall()


def ogrinfo() -> str:
    """Path of GDAL's ogrinfo; CI must have it, elsewhere the test is skipped without it."""
    exe = shutil.which("ogrinfo")
    if exe:
        return exe
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail("ogrinfo (Debian package gdal-bin) is required in CI; see scripts/test.sh")
    pytest.skip("ogrinfo is not installed (apt-get install gdal-bin)")


# ----------------------------------------------------------------------------- readers


def test_pyogrio_lists_every_layer_and_table(sample_register_path):
    layers = {name: geom for name, geom in pyogrio.list_layers(sample_register_path)}
    assert layers == {**SPATIAL, **dict.fromkeys(TABLES)}


@pytest.mark.parametrize("layer", [*SPATIAL, "risk_events", "patrol_changes"])
def test_pyogrio_reads_crs_and_counts(sample_register_path, layer):
    info = pyogrio.read_info(sample_register_path, layer=layer)
    assert info["features"] == SAMPLE_COUNTS[layer]
    if layer in SPATIAL:
        assert info["crs"] == CRS
        assert info["geometry_type"] == SPATIAL[layer]
        assert info["capabilities"]["fast_spatial_filter"]
    else:
        assert info["geometry_type"] is None


def test_geopandas_reads_the_risks_layer(sample_register_path, sample_register):
    import geopandas as gpd

    frame = gpd.read_file(sample_register_path, layer="risks")
    assert frame.crs.to_epsg() == 4548
    assert len(frame) == 48
    assert set(frame.geom_type) == {"Point"}
    assert {c for c, _t in RISK_COLUMNS} <= set(frame.columns)
    assert sorted(frame["ref"]) == [f"S{k:03d}" for k in range(1, 49)]
    assert frame["status"].value_counts().to_dict() == {
        "cleared": 18,
        "assigned": 8,
        "rectifying": 7,
        "reported": 6,
        "awaiting_recheck": 5,
        "withdrawn": 4,
    }
    # the same points as the register's own reading, in metres
    by_ref = {r.ref: r for r in sample_register.risks()}
    for ref, geom in zip(frame["ref"], frame.geometry, strict=True):
        loc = by_ref[ref].location
        assert geom.x == pytest.approx(loc.x, abs=1e-6)
        assert geom.y == pytest.approx(loc.y, abs=1e-6)
    assert frame["chainage_m"].between(2350, 22637).all()


def test_geopandas_reads_the_tables(sample_register_path):
    events = pyogrio.read_dataframe(sample_register_path, layer="risk_events")
    assert list(events.columns) == [c for c, _t in EVENT_COLUMNS if c != "seq"]
    assert len(events) == SAMPLE_COUNTS["risk_events"]
    assert set(events["action"]) == {
        "report",
        "assign",
        "start",
        "submit",
        "clear",
        "withdraw",
        "reopen",
    }
    patrol = pyogrio.read_dataframe(sample_register_path, layer="patrol_changes")
    assert list(patrol.columns) == [c for c, _t in PATROL_COLUMNS if c != "id"]
    meta = pyogrio.read_dataframe(sample_register_path, layer="linerisk_meta")
    assert {"schema_version", "crs", "events_head", "settings", "created_at"} <= set(meta["key"])


def test_network_layers_have_their_schema_columns(sample_register_path):
    for name, table in LAYERS.items():
        info = pyogrio.read_info(sample_register_path, layer=name)
        assert list(info["fields"]) == list(table.column_names), name


def test_ogrinfo_shows_layers_crs_and_spatial_indexes(sample_register_path):
    exe = ogrinfo()
    out = subprocess.run(
        [exe, "-ro", "-al", "-so", str(sample_register_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # a clean open: no warning about the GeoPackage version or anything else
    assert "Warning" not in out.stderr and "ERROR" not in out.stderr, out.stderr
    blocks = {}
    for block in out.stdout.split("Layer name: ")[1:]:
        name, _, body = block.partition("\n")
        blocks[name.strip()] = body
    assert set(blocks) == {*SPATIAL, *TABLES}
    for name in SPATIAL:
        body = blocks[name]
        assert f"Feature Count: {SAMPLE_COUNTS[name]}\n" in body, name
        assert 'ID["EPSG",4548]]' in body, name
        assert "CGCS2000 / 3-degree Gauss-Kruger CM 117E" in body, name
        assert "Geometry Column = geom" in body
    assert "FID Column = id" in blocks["risks"]
    assert f"Feature Count: {SAMPLE_COUNTS['risk_events']}\n" in blocks["risk_events"]

    query = "SELECT " + ", ".join(f"HasSpatialIndex('{n}', 'geom') AS {n}" for n in SPATIAL)
    out = subprocess.run(
        [exe, "-ro", "-q", str(sample_register_path), "-sql", query],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for name in SPATIAL:
        assert f"{name} (Integer) = 1" in out.stdout, out.stdout


def test_every_spatial_layer_has_an_rtree_in_step_with_it(sample_register_path):
    rows = sql(
        sample_register_path,
        "SELECT table_name, column_name, scope FROM gpkg_extensions "
        "WHERE extension_name = 'gpkg_rtree_index'",
    )
    assert sorted(rows) == sorted((n, "geom", "write-only") for n in SPATIAL)
    for name in SPATIAL:
        (features,) = sql(sample_register_path, f'SELECT count(*) FROM "{name}"')[0]
        (indexed,) = sql(sample_register_path, f'SELECT count(*) FROM "rtree_{name}_geom"')[0]
        assert indexed == features == SAMPLE_COUNTS[name], name
    srs = sql(
        sample_register_path,
        "SELECT DISTINCT g.srs_id, s.organization, s.organization_coordsys_id "
        "FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s USING (srs_id)",
    )
    assert srs == [(4548, "EPSG", 4548)]
    assert sql(sample_register_path, "PRAGMA integrity_check") == [("ok",)]
    assert sql(sample_register_path, "PRAGMA foreign_key_check") == []
    assert sql(sample_register_path, "PRAGMA application_id") == [(0x47504B47,)]


def _rtree_box(path: Path, rid: int) -> tuple[float, float, float, float]:
    return sql(path, "SELECT minx, maxx, miny, maxy FROM rtree_risks_geom WHERE id = ?", (rid,))[0]


def test_the_rtree_follows_adds_and_moves(sample_register):
    reg = sample_register
    path = reg.store.path
    risk = reg.add_risk(
        category="cable_theft",
        severity="major",
        found_by=BY,
        line="JD",
        chainage="K16+500",
        side="right",
        offset=15,
    )
    assert sql(path, "SELECT count(*) FROM rtree_risks_geom") == [(49,)]
    x, y = risk.location.x, risk.location.y
    minx, maxx, miny, maxy = _rtree_box(path, risk.id)
    # an R-tree stores 32-bit floats rounded outwards: the box contains the point
    assert minx <= x <= maxx and miny <= y <= maxy
    assert maxx - minx <= 1.0 and maxy - miny <= 1.0  # float32 steps are 0.5 m up here

    moved = reg.move(risk.id, by=BY, line="JD", chainage="K17+300", side="left", offset=25)
    nx, ny = moved.location.x, moved.location.y
    assert abs(nx - x) > 500
    minx, maxx, miny, maxy = _rtree_box(path, risk.id)
    assert minx <= nx <= maxx and miny <= ny <= maxy
    assert sql(path, "SELECT count(*) FROM rtree_risks_geom") == [(49,)]

    # GDAL's spatial filter, which goes through the index, finds it at the new place only
    def found_near(px, py):
        frame = pyogrio.read_dataframe(
            path, layer="risks", bbox=(px - 5, py - 5, px + 5, py + 5), columns=["category"]
        )
        return list(frame["category"])

    assert found_near(nx, ny) == ["cable_theft"]
    assert "cable_theft" not in found_near(x, y)
    # the layer extent in gpkg_contents still covers every risk
    ext = sql(path, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name='risks'")
    (minx, miny, maxx, maxy) = ext[0]
    for r in reg.risks():
        assert minx <= r.location.x <= maxx and miny <= r.location.y <= maxy


def test_a_reader_sees_only_committed_writes(sample_register):
    reg = sample_register
    path = reg.store.path
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as reader:

        def count():
            return reader.execute("SELECT count(*) FROM risks").fetchone()[0]

        assert count() == 48
        with reg.transaction():
            reg.add_risk(
                category="burning",
                severity="critical",
                found_by=BY,
                line="JD",
                chainage="K18+800",
                side="left",
                offset=80,
            )
            # inside the writer's transaction: another connection and GDAL see the old file
            assert count() == 48
            assert pyogrio.read_info(path, layer="risks")["features"] == 48
        assert count() == 49
        assert pyogrio.read_info(path, layer="risks")["features"] == 49


# ----------------------------------------------------------------------------- transactions


def test_a_failing_write_leaves_the_file_as_it_was(sample_register):
    reg = sample_register
    before = dump_digest(reg.store.path)
    rows = [
        {
            "category": "garbage",
            "severity": "general",
            "found_by": BY,
            "line": "JD",
            "chainage": f"K{km}+500",
            "side": "left",
            "offset": 300,
        }
        for km in (14, 15, 16)
    ]
    # the third row's history is impossible: it fails after two risks were inserted
    events = [[], [{"action": "assign", "by": BY}], [{"action": "clear", "by": BY}]]
    with pytest.raises(TransitionError):
        reg.add_risks(rows, events=events)
    assert dump_digest(reg.store.path) == before
    assert reg.verify().ok


def test_an_explicit_transaction_is_all_or_nothing(sample_register):
    reg = sample_register
    before = dump_digest(reg.store.path)
    (risk,) = [r for r in reg.risks() if r.ref == "S004"]
    with pytest.raises(RuntimeError), reg.transaction():
        reg.withdraw(risk.id, by=BY, reason="duplicate")
        reg.update_settings(duplicate_radius_m=99)
        raise RuntimeError("power cut")
    assert dump_digest(reg.store.path) == before


KILL_CHILD = textwrap.dedent(
    """
    import sys
    from linerisk.register import Register
    from linerisk.store import sidecar

    sidecar._cores = lambda: 2  # the second process even on a one-core machine
    path, n = sys.argv[1], int(sys.argv[2])
    rows = []
    for i in range(n):
        m = 3000 + (i * 7919) % 8000  # K3+000 .. K10+999, clear of the chain break
        rows.append({
            "category": "garbage", "severity": "general", "found_by": "bulk import",
            "line": "JD", "chainage": f"K{m // 1000}+{m % 1000:03d}",
            "side": "left" if i % 2 else "right", "offset": 20 + i % 300,
        })
    reg = Register.open(path)
    reg.network  # read the lines before the clock starts
    print("started", flush=True)
    reg.add_risks(rows, allow_duplicates=True)
    print("finished", flush=True)
    """
)


def test_a_writer_killed_mid_insert_leaves_the_file_exactly_as_before(sample_register_path):
    path = sample_register_path
    journal = Path(f"{path}-journal")
    before = dump_digest(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, str(path), "30000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout.readline().strip() == "started"
        # the rollback journal appears with the transaction's first write
        deadline = time.monotonic() + 60
        while not journal.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the bulk insert never started writing"
            time.sleep(0.001)
        time.sleep(0.1)  # well into the transaction: rows and events being written
        assert proc.poll() is None, "the bulk insert finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    # the kill left a hot journal behind; the next reader rolls it back
    assert journal.exists() and journal.stat().st_size > 0
    # 30,000 events are built in a child process, in a scratch file named after the
    # killed process; the next bulk insert removes it (the child died with its parent)
    scratch = list(Path(tempfile.gettempdir()).glob(f"linerisk-events-{proc.pid}-*.sqlite"))
    assert len(scratch) == 1
    assert sidecar.remove_stale() == scratch and not scratch[0].exists()

    assert dump_digest(path) == before
    with Register.open(path) as reg:
        assert reg.store.count_risks() == 48
        report = reg.verify()
        assert report.ok and report.events == SAMPLE_COUNTS["risk_events"]
        # and the register takes new writes afterwards
        reg.add_risk(
            category="garbage",
            severity="general",
            found_by=BY,
            line="JD",
            chainage="K20+100",
            side="right",
            offset=200,
        )
        assert reg.verify().ok


def _bulk_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        m = 3000 + (i * 7919) % 8000  # K3+000 .. K10+999, clear of the chain break
        rows.append({
            "category": "garbage" if i % 3 else "illegal_crossing",
            "severity": "general",
            "found_by": BY,
            "found_at": "2026-10-01T09:00:00+08:00",
            "line": "JD",
            "chainage": f"K{m // 1000}+{m % 1000:03d}",
            "side": "left" if i % 2 else "right",
            "offset": 20 + i % 300,
            "note": None if i % 5 else f"第{i}处",
        })  # fmt: skip
    return rows


def _events(reg: Register) -> list[tuple]:
    out = []
    for e in reg.store.iter_events():
        data = json.loads(e["data"])
        data.pop("recorded_at")
        out.append((e["seq"], e["risk_id"], e["at"], e["actor"], e["action"], e["to_status"],
                    e["note"], data))  # fmt: skip
    return out


@pytest.mark.parametrize("batch", [50_000, 64])
def test_events_built_in_a_child_are_those_built_in_process(
    tmp_path, sample_network, monkeypatch, child_events, batch
):
    """Also when the events are built and written in batches (64 here: eleven
    batches, the last one short), the chain running on from batch to batch."""
    import linerisk.register as register

    monkeypatch.setattr(register, "EVENT_BATCH", batch)
    chained = []
    real_chain = register.chain_events
    monkeypatch.setattr(register, "chain_events", lambda *a: chained.append(1) or real_chain(*a))
    rows = _bulk_rows(700)
    monkeypatch.setattr(sidecar, "CHILD_EVENTS", 10**9)
    here = Register.create(tmp_path / "here.gpkg", network=sample_network)
    here.add_risks(rows[:5], allow_duplicates=True)  # the chain continues from these
    chained.clear()
    here.add_risks(rows[5:], allow_duplicates=True)
    assert len(chained) == -(-695 // batch)
    assert here.store.count_risks() == 700
    assert child_events == []
    monkeypatch.setattr(sidecar, "CHILD_EVENTS", 100)
    there = Register.create(tmp_path / "there.gpkg", network=sample_network)
    there.add_risks(rows[:5], allow_duplicates=True)
    assert child_events == []  # five rows: built in process
    there.add_risks(rows[5:], allow_duplicates=True)
    assert len(child_events) == 1 and child_events[0]._proc.exitcode == 0
    assert not child_events[0].path.exists()
    assert _events(there) == _events(here)
    assert len(_events(there)) == 700
    for reg in (here, there):
        report = reg.verify()
        assert report.ok and report.events == 700 and report.risks == 700
        last = list(reg.store.iter_events())[-1]
        assert reg.store.get_meta("events_head") == {"seq": 700, "hash": last["hash"]}
    # and the register goes on as usual: a transition chains after the child's events
    there.transition(600, "assign", by=BY)
    assert there.verify().ok and there.verify().events == 701
    here.close()
    there.close()


def test_two_bulk_inserts_in_one_transaction(tmp_path, sample_network, child_events):
    rows = _bulk_rows(600)
    reg = Register.create(tmp_path / "two.gpkg", network=sample_network)
    with reg.transaction():
        reg.add_risks(rows[:300], allow_duplicates=True)
        # the first one's scratch file stays attached until the commit: the second
        # builds its events in process
        reg.add_risks(rows[300:], allow_duplicates=True)
    assert len(child_events) == 1 and not child_events[0].path.exists()
    report = reg.verify()
    assert report.ok and report.events == 600 and report.risks == 600
    # and after the commit the next one uses a child again
    reg.add_risks(_bulk_rows(200), allow_duplicates=True)
    assert len(child_events) == 2 and reg.verify().ok
    reg.close()


def test_a_failing_child_leaves_the_register_as_it_was(
    sample_register_path, child_events, monkeypatch
):
    before = dump_digest(sample_register_path)

    def broken(*args, **kwargs):
        raise OSError("database or disk is full")

    # the child builds the chain: make it fail there, after the rows were written here
    monkeypatch.setattr("linerisk.register.chain_events", broken)
    with Register.open(sample_register_path) as reg:
        with pytest.raises(OSError, match="disk is full"):
            reg.add_risks(_bulk_rows(300), allow_duplicates=True)
        assert len(child_events) == 1 and child_events[0]._proc.exitcode == 0
        assert not child_events[0].path.exists()
        assert reg.store.count_risks() == 48
    assert dump_digest(sample_register_path) == before


def test_a_full_disk_under_the_scratch_file_is_one_sentence(
    sample_register_path, child_events, monkeypatch
):
    import resource

    from linerisk.lifecycle import chain_events

    before = dump_digest(sample_register_path)

    def on_a_small_disk(*args):
        # in the child only: files may not grow past 32 KiB, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (32768, 32768))
        return chain_events(*args)

    monkeypatch.setattr("linerisk.register.chain_events", on_a_small_disk)
    with Register.open(sample_register_path) as reg:
        with pytest.raises(StoreError) as err:
            reg.add_risks(_bulk_rows(300), allow_duplicates=True)
        scratch = child_events[0].path
        # SQLite words it "disk I/O error" or "database or disk is full"
        message = str(err.value)
        assert message.startswith(f"cannot write the history to the scratch file {scratch}: ")
        assert "disk" in message and message.endswith("; nothing was registered")
        assert not scratch.exists()
    assert dump_digest(sample_register_path) == before


def test_a_child_that_dies_is_one_sentence_and_nothing_registered(
    sample_register_path, child_events, monkeypatch
):
    before = dump_digest(sample_register_path)
    monkeypatch.setattr("linerisk.register.chain_events", lambda *a: os._exit(3))
    with Register.open(sample_register_path) as reg:
        with pytest.raises(StoreError) as err:
            reg.add_risks(_bulk_rows(300), allow_duplicates=True)
        assert str(err.value) == (
            "the process writing the history stopped unexpectedly (exit code 3); "
            "nothing was registered"
        )
        assert not child_events[0].path.exists()
    assert dump_digest(sample_register_path) == before


def test_a_failure_while_writing_rows_stops_the_child(sample_register_path, child_events):
    before = dump_digest(sample_register_path)

    def interrupted(done: int, total: int) -> None:
        if done >= 100:
            raise KeyboardInterrupt

    with Register.open(sample_register_path) as reg:
        with pytest.raises(KeyboardInterrupt):
            reg.add_risks(_bulk_rows(3000), allow_duplicates=True, progress=interrupted)
        assert len(child_events) == 1
        assert child_events[0]._proc.exitcode is not None  # stopped and reaped
        assert not child_events[0].path.exists()
        assert reg.verify().ok
    assert dump_digest(sample_register_path) == before


def test_interrupted_while_waiting_for_the_child(sample_register_path, child_events, monkeypatch):
    before = dump_digest(sample_register_path)
    monkeypatch.setattr("linerisk.register.chain_events", lambda *a: time.sleep(60))

    def interrupt(_signum, _frame):
        raise TimeoutError("interrupted")

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(2)  # the rows are written by then; the child sleeps on
    try:
        with Register.open(sample_register_path) as reg:
            with pytest.raises(TimeoutError):
                reg.add_risks(_bulk_rows(300), allow_duplicates=True)
            assert child_events[0]._proc.exitcode is not None  # killed and reaped
            assert not child_events[0].path.exists()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert dump_digest(sample_register_path) == before


def test_no_temporary_folder_builds_the_events_in_process(
    tmp_path, sample_network, child_events, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    reg = Register.create(tmp_path / "r.gpkg", network=sample_network)
    reg.add_risks(_bulk_rows(300), allow_duplicates=True)
    assert child_events == []
    report = reg.verify()
    assert report.ok and report.events == 300
    reg.close()


def test_events_are_built_in_a_child_only_when_it_pays_and_is_safe(monkeypatch):
    monkeypatch.setattr(sidecar, "CHILD_EVENTS", 1000)
    monkeypatch.setattr(sidecar, "_cores", lambda: 1)
    assert not sidecar.child_worthwhile(1000)  # one core: nothing to gain
    monkeypatch.setattr(sidecar, "_cores", lambda: 2)
    assert not sidecar.child_worthwhile(999)
    assert sidecar.child_worthwhile(1000)
    # forking a process that runs other threads can deadlock the child
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not sidecar.child_worthwhile(1000)
    finally:
        stop.set()
        other.join()
    assert sidecar.child_worthwhile(1000)


WRITER_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from linerisk.errors import DuplicateRiskError
    from linerisk.register import Register

    path, side, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    reg = Register.open(path)
    reg.network
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.002)
    own = shared = refused = 0
    for k in range(30):
        reg.add_risk(
            category="garbage", severity="general", found_by=f"worker {side}",
            line="JD", chainage=f"K{3 + k // 5}+{(k % 5) * 200:03d}", side=side, offset=50,
        )
        own += 1
        if k % 2 == 0:
            # both workers report the same burning at the same spot: one must be refused
            try:
                reg.add_risk(
                    category="burning", severity="critical", found_by=f"worker {side}",
                    line="JD", chainage=f"K{15 + k // 10}+{(k % 10) * 100:03d}",
                    side="left", offset=100,
                )
                shared += 1
            except DuplicateRiskError:
                refused += 1
        time.sleep(0.005)  # leave the other writer a moment between transactions
    reg.close()
    print(json.dumps({"own": own, "shared": shared, "refused": refused}), flush=True)
    """
)


def test_two_processes_writing_at_once_both_succeed(tmp_path, sample_network):
    path = tmp_path / "shared.gpkg"
    Register.create(path, network=sample_network).close()
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_CHILD, str(path), side, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for side in ("left", "right")
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        go.touch()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [r["own"] for r in results] == [30, 30]
    # each shared spot was registered exactly once
    assert sum(r["shared"] for r in results) == 15
    assert sum(r["refused"] for r in results) == 15

    with Register.open(path) as reg:
        assert reg.store.count_risks() == 75
        report = reg.verify()
        assert report.ok, report.problems
        assert report.events == 75
        actors = [e["actor"] for e in reg.store.iter_events()]
    # both writers are in the one chain; how finely their transactions interleave
    # is up to the scheduler (usually many switches, at least one)
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    assert switches >= 1
    assert {"worker left", "worker right"} <= set(actors)


# ----------------------------------------------------------------------------- create and open


def test_creating_over_an_existing_file_is_refused(sample_register_path, sample_network):
    before = sample_register_path.read_bytes()
    with pytest.raises(StoreError, match="already exists"):
        Register.create(sample_register_path, network=sample_network)
    assert sample_register_path.read_bytes() == before
    assert not Path(f"{sample_register_path}.creating").exists()


def test_creating_in_a_missing_folder_is_refused(tmp_path, sample_network):
    with pytest.raises(StoreError, match="does not exist"):
        Register.create(tmp_path / "nowhere" / "r.gpkg", network=sample_network)


def test_a_register_needs_a_metric_crs(tmp_path):
    path = tmp_path / "r.gpkg"
    with pytest.raises(LineriskError, match="projected"):
        Register.create(path, crs="EPSG:4326")
    assert not path.exists()


def test_a_new_empty_register_is_a_valid_geopackage(tmp_path):
    path = tmp_path / "blank.gpkg"
    Register.create(path, crs=CRS).close()
    assert sorted(n for n, _g in pyogrio.list_layers(path)) == sorted([*SPATIAL, *TABLES])
    assert pyogrio.read_info(path, layer="risks")["crs"] == CRS
    with Register.open(path) as reg:
        assert reg.verify().ok
        assert reg.store.get_meta("events_head") == {"seq": 0, "hash": "0" * 64}


def _not_a_register(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.gpkg"
    if kind == "text":
        path.write_text("K5+200 左侧 垃圾\n", encoding="utf-8")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "sqlite":
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE t (x)")
            conn.commit()
    elif kind == "geopackage":
        import geopandas as gpd
        from shapely import Point

        gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 0)], crs=CRS).to_file(path)
    return path


@pytest.mark.parametrize("kind", ["text", "empty", "sqlite", "geopackage", "missing"])
def test_opening_something_else_is_refused_in_one_sentence(tmp_path, kind):
    path = tmp_path / "missing.gpkg" if kind == "missing" else _not_a_register(tmp_path, kind)
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(StoreError) as info:
        Register.open(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    assert message.count(". ") == 0
    assert (path.read_bytes() if path.exists() else None) == before


def test_history_rows_are_the_log_without_data_and_hashes(sample_register):
    """The map's history read: every event, with the reason and deadline its data
    holds read out by SQLite, and a broken (edited) record read as null."""
    store = sample_register.store
    full = list(store.iter_events())
    light = list(store.history_rows())
    assert [e["seq"] for e in light] == [e["seq"] for e in full]
    for e, f in zip(light, full, strict=True):
        data = json.loads(f["data"])
        for key in ("risk_id", "at", "actor", "action", "from_status", "to_status", "note"):
            assert e[key] == f[key]
        assert e["reason"] == data.get("reason")
        if f["action"] == "report":
            assert e["deadline"] == data["record"]["deadline"]
        elif f["action"] == "reopen":
            assert e["deadline"] == data["deadline"]
        else:
            assert e["deadline"] is None
    assert any(e["reason"] for e in light)
    store._conn.execute("UPDATE risk_events SET data = '{broken' WHERE seq = 1")
    first = next(store.history_rows())
    assert first["seq"] == 1 and first["deadline"] is None and first["reason"] is None


def test_bulk_insert_keeps_the_attribute_indexes(empty_register):
    """A big first insert drops and rebuilds the risk indexes inside its
    transaction; they are there afterwards and queries use them."""
    reg = empty_register
    ref = reg.network.place(
        ["JD"] * 2500, [3000.0 + k for k in range(2500)], ["left"] * 2500, [40.0] * 2500
    )
    rows = [
        {
            "category": "garbage",
            "severity": "general",
            "found_by": "test",
            "found_at": "2026-11-20T09:00+08:00",
            "x": float(x),
            "y": float(y),
            "crs": reg.crs,
        }
        for x, y in zip(ref.x, ref.y, strict=True)
    ]
    reg.add_risks(rows, allow_duplicates=True)
    names = {r[1] for r in reg.store._conn.execute("PRAGMA index_list(risks)")}
    assert {"risks_status", "risks_line_chainage", "risks_police"} <= names
    plan = " ".join(
        str(r[-1])
        for r in reg.store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM risks WHERE police = ? AND status = 'reported'",
            ("天津站派出所",),
        )
    )
    assert "USING INDEX" in plan
    assert len(reg.risks(line="JD", chainage_from="K2+999.5", chainage_to="K3+099.5")) == 100
    assert reg.verify().ok


@pytest.mark.parametrize(("layer", "blob_sql"), [("kmposts", "empty"), ("police_areas", "empty")])
def test_a_stored_geometry_of_the_wrong_type_or_empty_is_refused_in_one_sentence(
    sample_register_path, layer, blob_sql, tmp_path
):
    """The network is rebuilt from a register without a per-object geometry test;
    a layer edited by another tool into a wrong or empty geometry is refused, in
    both languages, naming the layer and feature."""
    import numpy as np

    from linerisk.store.gpkg import encode_points
    from tests.cli_run import run_cli

    if blob_sql == "point":
        blob = encode_points(np.array([500000.0]), np.array([4300000.0]), 4548)[0]
    else:  # a GeoPackage blob flagged empty: header with no envelope, then empty WKB
        import shapely

        empty = "POINT EMPTY" if layer == "kmposts" else "MULTIPOLYGON EMPTY"
        blob = (
            b"GP\x00\x11" + (4548).to_bytes(4, "little") + shapely.to_wkb(shapely.from_wkt(empty))
        )
    with Register.open(sample_register_path) as reg:  # its connection has the GPKG functions
        reg.store._conn.execute(f'UPDATE "{layer}" SET geom = ? WHERE fid = 2', (blob,))
    with Register.open(sample_register_path) as reg, pytest.raises(StoreError) as info:
        reg.network  # noqa: B018 - loading it is the test
    assert str(info.value).startswith(f"feature 2 of the register's {layer} layer is not a")
    # the meeting map reads the whole network
    argv = ("--register", sample_register_path, "map", "--offline", "-o", tmp_path / "m.html")
    code, _out, err = run_cli(*argv)
    assert code != 0 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "linerisk check" in err
    code, _out, err = run_cli(*argv, lang="zh")
    assert code != 0 and "图层第 2 个要素" in err


def test_segment_geometries_are_not_read_back_and_a_wrong_one_is_left_to_check(
    sample_register_path,
):
    """A segment is its chainage range: the geometry stored with it is cut from its
    line for GIS tools and not read when the network is loaded (a national
    register has 160,000 of them). One edited into a point by another tool does
    not stop the register; ``linerisk check`` names it."""
    import numpy as np

    from linerisk.store.gpkg import encode_points
    from tests.cli_run import run_cli

    with Register.open(sample_register_path) as reg:
        stored = reg.store.read_layer("segments")[1]
        assert all(g is not None and g.length > 0 for g in stored)
        assert all(s.geometry is None for s in reg.network.segments)
        blob = encode_points(np.array([500000.0]), np.array([4300000.0]), 4548)[0]
        reg.store._conn.execute('UPDATE "segments" SET geom = ? WHERE fid = 2', (blob,))
    with Register.open(sample_register_path) as reg:
        assert len(reg.network.segments) == len(stored)
    code, out, _err = run_cli("--register", sample_register_path, "--lang", "en", "check")
    assert code != 0
    assert "segment" in out.lower() and "Point" in out


def test_find_risks_can_read_only_some_columns(sample_register):
    """A column subset gives the same values as the full rows (id, x and y always
    come along); a column the table does not have is refused by name."""
    from linerisk.store.base import RiskQuery

    store = sample_register.store
    full = store.find_risks(RiskQuery())
    some = store.find_risks(RiskQuery(), ["police", "status", "chainage"])
    assert len(some) == len(full) > 0
    for f, s in zip(full, some, strict=True):
        assert set(s) == {"id", "x", "y", "police", "status", "chainage"}
        assert s == {k: f[k] for k in s}
    with pytest.raises(StoreError, match="no column colour"):
        store.find_risks(RiskQuery(), ["status", "colour"])


def test_find_risks_by_register_number(sample_register):
    """Only the risks whose ref is asked for, matched exactly, however many refs
    (an import looks up every number of its file in one query)."""
    from linerisk.store.base import RiskQuery

    store = sample_register.store
    by_ref = {r["ref"]: r["id"] for r in store.find_risks(RiskQuery(), ["ref"]) if r["ref"]}
    some = sorted(by_ref)[:3]
    asked = (some[0], some[2], some[0], "no such ref", some[1].lower(), "x'); DROP TABLE risks;--")
    found = store.find_risks(RiskQuery(refs=asked), ["ref"])
    assert [(r["id"], r["ref"]) for r in found] == sorted(
        (by_ref[k], k) for k in (some[0], some[2])
    )
    many = (*(f"N{k:05d}" for k in range(5000)), some[1])
    assert [r["id"] for r in store.find_risks(RiskQuery(refs=many))] == [by_ref[some[1]]]
    assert store.find_risks(RiskQuery(refs=())) == []


def test_new_registers_use_larger_pages(empty_register):
    """Registers are created with 16 KiB pages (see docs/register.md)."""
    from linerisk.store.gpkg import PAGE_SIZE

    assert PAGE_SIZE == 16384
    with closing(sqlite3.connect(empty_register.store.path)) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


@pytest.mark.parametrize("count", [0, 1, 31, 32, 33, 64, 100])
@pytest.mark.parametrize("width", [3, 40, 1200])
def test_rows_written_several_per_statement_arrive_whole_and_in_order(count, width):
    """The bulk writer packs rows into multi-row statements (as many as fit in 999
    parameters): every row arrives once, in order, whatever is left for the
    last statement, also when one row alone has more values than that."""
    import sqlite3
    from contextlib import closing

    from linerisk.store.gpkg import insert_rows

    names = [f"c{i}" for i in range(width)]
    rows = [
        tuple(f"{r}.{c}" if c % 2 else r * width + c for c in range(width)) for r in range(count)
    ]
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute(f"CREATE TABLE t ({', '.join(names)})")
        if width > 999 and sqlite3.sqlite_version_info < (3, 32):
            pytest.skip("this SQLite takes at most 999 values per statement")
        insert_rows(conn, "t", names, iter(rows))
        assert conn.execute("SELECT * FROM t ORDER BY rowid").fetchall() == rows


def _small_disk(limit: int):
    """For a child process: files may not grow past ``limit`` bytes, as on a full
    disk (writes fail instead of the process being killed)."""
    import resource

    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return setup


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_full_disk_under_the_register_is_one_sentence_and_nothing_changes(
    sample_register_path, tmp_path, lang
):
    """The register's own write failing (here: the file may not grow, as when the
    disk is full) ends the command with one sentence and a non-zero exit, not a
    traceback, and leaves the register as it was."""
    import csv

    table = tmp_path / "risks.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["category", "severity", "found_by", "line", "chainage", "side", "offset"])
        for i in range(3000):
            m = 3000 + (i * 7919) % 8000
            chainage = f"K{m // 1000}+{m % 1000:03d}"
            out.writerow(["garbage", "general", BY, "JD", chainage, "left", 20 + i % 300])
    before = dump_digest(sample_register_path)
    size = sample_register_path.stat().st_size
    env = {**os.environ, "LINERISK_LANG": lang}
    command = ["import", "risks", str(table), "--by", BY, "--allow-duplicates"]
    done = subprocess.run(
        [sys.executable, "-m", "linerisk", "--register", str(sample_register_path), *command],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_small_disk(size),
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    if lang == "en":
        assert f"could not write to the register {sample_register_path}: " in lines[0]
        assert lines[0].endswith("; nothing was changed")
    else:
        assert f"无法写入登记册 {sample_register_path}：" in lines[0]
        assert lines[0].endswith("登记册未作任何更改")
    assert dump_digest(sample_register_path) == before
    assert sql(sample_register_path, "PRAGMA integrity_check") == [("ok",)]


def test_one_bulk_insert_mixing_crs_and_chainage_places_each_row_as_alone(sample_register_path):
    """Rows of one bulk insert may come in different CRS, or by chainage, and
    with numbers where text is expected: each is placed and stored as it is
    when added on its own."""
    from pyproj import Transformer

    with Register.open(sample_register_path) as reg:
        (first,) = reg.add_risks(
            [{"category": "garbage", "severity": "general", "found_by": BY, "line": "JD"}
             | {"chainage": "K9+100", "side": "left", "offset": 40}]
        )  # fmt: skip
        x, y = reg.get(first).location.x, reg.get(first).location.y
    lon, lat = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True).transform(x, y)
    base = {"category": "burning", "severity": "major", "found_by": BY}
    rows = [
        base | {"x": lon, "y": lat, "description": 17, "ref": 3.0},
        base | {"x": x, "y": y, "crs": "EPSG:4548", "note": ""},
        base | {"line": "JD", "chainage": "K9+100", "side": "left", "offset": 40, "ref": "R-1"},
        base | {"x": lon, "y": lat, "crs": "EPSG:4490", "description": "大棚"},
        base | {"x": x + 30, "y": y, "crs": "EPSG:4548"},
    ]
    copy = sample_register_path.with_name("alone.gpkg")
    shutil.copy(sample_register_path, copy)
    with Register.open(sample_register_path) as reg:
        together = [reg.get(i) for i in reg.add_risks(rows, allow_duplicates=True)]
    with Register.open(copy) as reg:
        alone = [reg.get(reg.add_risks([row], allow_duplicates=True)[0]) for row in rows]
    fields = ("description", "note", "ref", "located_by")
    for a, b in zip(together, alone, strict=True):
        assert a.location == b.location
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert together[0].description == "17" and together[0].ref == "3.0"
    assert together[1].note == ""
    assert abs(together[4].location.x - together[1].location.x - 30) < 1e-6


def _flush_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "linerisk-flush"]


@pytest.mark.parametrize("fail", [False, True])
def test_a_bulk_insert_flushes_the_register_to_disk_until_it_commits(
    empty_register, monkeypatch, fail
):
    """While a bulk insert writes, a thread flushes the register file to disk, so
    that the commit waits only for the last pages; it stops before the commit (or
    the rollback) and leaves no file open."""
    inode = empty_register.store.path.stat().st_ino
    flushed: list[int] = []
    during: list[bool] = []
    real = os.fdatasync

    def fdatasync(fd: int) -> None:
        flushed.append(os.fstat(fd).st_ino)
        real(fd)

    def progress(done: int, total: int) -> None:
        during.append(bool(_flush_threads()))
        if fail and done == total:  # the rows are written, not yet committed
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    rows = _bulk_rows(gpkg.BULK_RTREE_ROWS)
    open_before = sorted(os.listdir("/proc/self/fd"))
    try:
        empty_register.add_risks(rows, allow_duplicates=True, progress=progress)
    except KeyboardInterrupt:
        assert fail
    assert during[-1] is True  # flushing once the rows were being written
    assert not _flush_threads()
    assert sorted(os.listdir("/proc/self/fd")) == open_before
    assert flushed and set(flushed) == {inode}
    assert empty_register.store.count_risks() == (0 if fail else len(rows))
    assert empty_register.verify().ok


@given(
    st.one_of(
        st.none(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
        st.binary(max_size=4),
    )
)
@example("O'Brien 巡警")
@example("'")
@example("a\x00b")
@example("\ud800")
@example(-0.0)
@example(15.0)
@example(-(2**63))
@example(2**63 - 1)
def test_a_value_written_as_an_sql_literal_reads_back_the_same(value):
    """A value common to every row of a bulk write goes into the statement as a
    literal: SQLite must read it back as the same value of the same type (and the
    values it cannot be sure of are bound instead)."""
    literal = gpkg._sql_literal(value)
    if literal is None:
        assert isinstance(value, (float, int, str, bytes)) and value is not None
        return
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE TABLE t (v)")
        conn.execute(f"INSERT INTO t VALUES ({literal})")
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        (lit, lit_type), (bound, bound_type) = conn.execute("SELECT v, typeof(v) FROM t")
    assert (lit, lit_type) == (bound, bound_type) == (value, bound_type)
    assert type(lit) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, lit) == math.copysign(1, value)


def _table_dump(reg: Register, table: str, skip: tuple[str, ...] = ()) -> list[tuple]:
    names = [r[1] for r in reg.store._conn.execute(f"PRAGMA table_info({table})")]
    cols = ", ".join(f'"{c}", typeof("{c}")' for c in names if c not in skip)
    return [tuple(r) for r in reg.store._conn.execute(f"SELECT {cols} FROM {table} ORDER BY 1")]


def test_values_common_to_every_row_are_stored_as_when_bound(tmp_path, sample_network, monkeypatch):
    """A bulk insert writes a value common to every row (one officer, one date,
    one note with quotes) into its statement once: the register holds exactly
    what binding each row's value gives."""
    rows = _bulk_rows(gpkg.COMMON_FROM_ROWS + 7)
    for r in rows:
        r |= {"found_by": "O'Brien 巡警", "note": "第'一'处 \"x\"", "ref": None}
    regs = []
    for name, threshold in (("bound", 10**9), ("common", gpkg.COMMON_FROM_ROWS)):
        monkeypatch.setattr(gpkg, "COMMON_FROM_ROWS", threshold)
        reg = Register.create(tmp_path / f"{name}.gpkg", network=sample_network)
        reg.add_risks(rows, allow_duplicates=True)
        regs.append(reg)
    bound, common = regs
    dumps = [_table_dump(reg, "risks", skip=("updated_at",)) for reg in regs]
    assert len(dumps[0]) == len(rows) and dumps[0] == dumps[1]
    assert common.store._conn.execute(
        "SELECT count(*) FROM risks WHERE found_by = ? AND note = ? AND status = 'reported'",
        ("O'Brien 巡警", "第'一'处 \"x\""),
    ).fetchone()[0] == len(rows)
    assert _events(bound) == _events(common)
    for reg in regs:
        assert reg.verify().ok
        reg.close()


def test_only_values_equal_and_of_one_type_in_every_row_are_common():
    n = gpkg.COMMON_FROM_ROWS
    columns = {
        "same": ["a'b"] * n,
        "number": [15.0] * n,
        "int_and_float": [1] * (n - 1) + [1.0],
        "true_and_one": [1] * (n - 1) + [True],
        "one_differs": ["x"] * (n - 1) + ["y"],
        # between the rows a first look samples: found by the full count
        "one_inside_differs": ["x"] * 301 + ["y"] + ["x"] * (n - 302),
        # equal texts that are not one object are common all the same
        "equal_copies": ["".join(["c", "d"]) for _ in range(n)],
        "empty": [None] * n,
        "blob": [b"GP"] * n,
        "nan": [math.nan] * n,
    }
    assert gpkg._common_values(columns) == {
        "same": "'a''b'",
        "number": "15.0",
        "equal_copies": "'cd'",
        "empty": "NULL",
    }
    assert gpkg._common_values({k: v[1:] for k, v in columns.items()}) == {}  # too few rows


def test_a_bulk_insert_packs_an_rtree_sqlite_accepts_and_queries_right(sample_register):
    """A bulk insert rebuilds the risks' R-tree in one packed pass (nodes, rowid
    and parent tables written directly): SQLite's own check passes, every risk
    has its box around its point, and box queries through the index find the
    same risks as a scan; a single add after it goes through the trigger."""
    import numpy as np

    reg = sample_register
    before = reg.store.count_risks()
    reg.add_risks(_bulk_rows(3 * gpkg.BULK_RTREE_ROWS), allow_duplicates=True)
    conn = reg.store._conn
    assert conn.execute("SELECT rtreecheck('rtree_risks_geom')").fetchone()[0] == "ok"
    boxes = np.array(
        conn.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_risks_geom").fetchall()
    )
    assert len(boxes) == before + 3 * gpkg.BULK_RTREE_ROWS == reg.store.count_risks()
    points = {rid: gpkg.point_xy(blob) for rid, blob in conn.execute("SELECT id, geom FROM risks")}
    xy = np.array([points[int(i)] for i in boxes[:, 0]])
    assert (boxes[:, 1] <= xy[:, 0]).all() and (xy[:, 0] <= boxes[:, 2]).all()
    assert (boxes[:, 3] <= xy[:, 1]).all() and (xy[:, 1] <= boxes[:, 4]).all()
    # float32 boxes rounded outward: at most a step of float32 on each side
    step = np.spacing(np.abs(xy).astype(np.float32)).astype(float)
    assert (boxes[:, 2] - boxes[:, 1] <= 2 * step[:, 0]).all()
    assert (boxes[:, 4] - boxes[:, 3] <= 2 * step[:, 1]).all()
    rng = np.random.default_rng(7)
    lo_x, hi_x = xy[:, 0].min(), xy[:, 0].max()
    lo_y, hi_y = xy[:, 1].min(), xy[:, 1].max()
    for _ in range(25):
        x0, x1 = np.sort(rng.uniform(lo_x, hi_x, 2))
        y0, y1 = np.sort(rng.uniform(lo_y, hi_y, 2))
        found = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM rtree_risks_geom WHERE maxx >= ? AND minx <= ? "
                "AND maxy >= ? AND miny <= ?",
                (x0, x1, y0, y1),
            )
        }
        inside = (
            (boxes[:, 2] >= x0) & (boxes[:, 1] <= x1) & (boxes[:, 4] >= y0) & (boxes[:, 3] <= y1)
        )
        assert found == set(boxes[inside, 0].astype(int).tolist())
    risk = reg.add_risk(
        category="garbage",
        severity="general",
        found_by=BY,
        line="JD",
        chainage="K5+500",
        side="left",
        offset=40,
        allow_duplicate=True,
    )
    assert (
        conn.execute("SELECT count(*) FROM rtree_risks_geom WHERE id = ?", (risk.id,)).fetchone()[0]
        == 1
    )
    assert conn.execute("SELECT rtreecheck('rtree_risks_geom')").fetchone()[0] == "ok"


def test_rows_whose_every_column_is_common_are_all_written():
    """A bulk write whose columns are all common to every row binds nothing and
    still writes one row per row given; common and bound columns mix in order."""
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE TABLE t (a, b, c)")
        gpkg.insert_rows(conn, "t", [], [()] * 40, {"a": "'x'", "b": "2"})
        assert conn.execute("SELECT a, b, c, count(*) FROM t GROUP BY a, b, c").fetchall() == [
            ("x", 2, None, 40)
        ]
        conn.execute("DELETE FROM t")
        gpkg.insert_rows(conn, "t", ["c", "a"], [(i, f"r{i}") for i in range(70)], {"b": "15.0"})
        rows = conn.execute("SELECT a, b, c FROM t ORDER BY rowid").fetchall()
        assert rows == [(f"r{i}", 15.0, i) for i in range(70)]


def test_finding_risks_near_a_point_starts_from_the_spatial_index(sample_register):
    """The duplicate check of every imported row asks for the open risks near a
    point: SQLite must search the R-tree first, not read every open risk through
    the status index (1.7 s a row on a national register), and find the same
    risks as measuring every one."""
    from linerisk.register import OPEN_STATUSES

    store = sample_register.store
    plan = store._conn.execute(
        "EXPLAIN QUERY PLAN " + gpkg._near_sql(len(OPEN_STATUSES)),
        (1.0, 0.0, 1.0, 0.0, "garbage", *OPEN_STATUSES),
    ).fetchall()
    assert "VIRTUAL TABLE" in plan[0][-1]
    assert "SCAN r" not in " ".join(row[-1] for row in plan)
    risks = [r for r in sample_register.risks() if r.status.value in OPEN_STATUSES]
    for risk in risks[:10]:
        x, y = risk.location.x + 12.0, risk.location.y - 5.0
        near = store.risks_near(x, y, 30.0, risk.category, OPEN_STATUSES)
        expected = sorted(
            (r.id, math.hypot(r.location.x - x, r.location.y - y))
            for r in risks
            if r.category == risk.category and math.hypot(r.location.x - x, r.location.y - y) <= 30
        )
        assert [rid for rid, _d in sorted(near)] == [rid for rid, _d in expected]
        assert [d for _r, d in sorted(near)] == pytest.approx([d for _r, d in expected], abs=1e-6)
        assert risk.id in [rid for rid, _d in near]


@pytest.mark.parametrize("order", ["as made", "reordered"])
def test_events_from_the_child_are_copied_whole_or_by_name(
    tmp_path, sample_network, child_events, order
):
    """The child's events are copied into the register with ``SELECT *`` (so that
    SQLite moves the stored records and index entries as they are) only where
    the register's events table has the child's columns in the child's order; a
    register whose table was rebuilt with another order gets them by name, in
    the right columns."""
    rows = _bulk_rows(300)
    reg = Register.create(tmp_path / "r.gpkg", network=sample_network)
    conn = reg.store._conn
    if order == "reordered":
        cols = [(r[1], r[2], r[3], r[5]) for r in conn.execute("PRAGMA table_info(risk_events)")]
        cols = cols[1:] + cols[:1]  # seq last
        spec = ", ".join(
            f'"{n}" {t}{" NOT NULL" if nn else ""}{" PRIMARY KEY" if pk else ""}'
            for n, t, nn, pk in cols
        )
        with reg.transaction():
            conn.execute("DROP TABLE risk_events")
            conn.execute(f"CREATE TABLE risk_events ({spec})")
            conn.execute(gpkg.EVENTS_INDEX_SQL)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    reg.add_risks(rows, allow_duplicates=True)
    conn.set_trace_callback(None)
    assert len(child_events) == 1
    copies = [s for s in statements if s.startswith("INSERT INTO main.risk_events")]
    assert len(copies) == 1
    assert ("SELECT *" in copies[0]) is (order == "as made")
    report = reg.verify()
    assert report.ok and report.events == 300
    assert [e["action"] for e in reg.store.iter_events()] == ["report"] * 300
    reg.close()


def test_a_read_around_many_boxes_searches_the_spatial_index_once_per_box(sample_register):
    """The boxes go in as one JSON parameter joined to the R-tree: SQLite searches
    the index for each box (no scan of the layer, no limit on how many boxes)."""
    store = sample_register.store
    rows, _geoms = store.read_layer("lines")
    every = [r["id"] for r in rows]
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        far = [(1e9 + k, 1e9, 1e9 + k + 1.0, 1e9 + 1.0) for k in range(2000)]
        near = store.read_layer("lines", boxes=[*far, (-1e12, -1e12, 1e12, 1e12)])
        assert [r["id"] for r in near[0]] == every
        assert store.read_layer("lines", boxes=far)[0] == []
    finally:
        store._conn.set_trace_callback(None)
    (sql,) = [q for q in statements if "json_each" in q][:1]
    plan = " ".join(str(row[-1]) for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql))
    assert "rtree_lines_geom" in sql and "VIRTUAL TABLE INDEX 2:" in plan, plan


def test_a_read_by_thousands_of_keys_takes_one_parameter(sample_register_path, tmp_path):
    """The lines of a national file (thousands of ids) are asked for in one JSON
    parameter: it works where SQLite takes at most 999 parameters a statement."""
    import shutil

    from linerisk.register import Register

    path = tmp_path / "r.gpkg"
    shutil.copy(sample_register_path, path)
    with Register.open(path) as reg:
        reg.store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        wanted = [f"L{k:04d}" for k in range(3000)] + ["JD", "x'); DROP TABLE lines;--"]
        rows, geoms = reg.store.read_layer("lines", where={"id": wanted})
        assert [r["id"] for r in rows] == ["JD"] and len(geoms) == 1
        posts, _ = reg.store.read_layer("kmposts", geometry=False, where={"line": wanted})
        assert len(posts) == reg.store.layer_count("kmposts") > 0
        assert reg.store.read_layer("lines", where={"id": []})[0] == []
