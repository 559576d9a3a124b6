"""The hash-chained history: verify() on an honest register, and on copies that
someone edited behind the register's back, as one could with QGIS, DB Browser
or the sqlite3 shell."""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from linerisk.lifecycle import (
    EventContent,
    canonical_json,
    canonical_objects,
    event_hash,
    header_line,
)
from linerisk.register import Register

BY = "天津站派出所 王磊"
#: events in the sample register: 48 reports + 123 replayed changes
SAMPLE_EVENTS = 171


def _envelope(blob, k):
    if blob is None:
        return None
    minx, maxx, miny, maxy = struct.unpack_from("<4d", blob, 8)
    return (minx, maxx, miny, maxy)[k]


def tamper(path: Path, *statements: str, params=()) -> None:
    """Run SQL on the file with a plain SQLite connection, committing at the end.

    GIS clients register the GeoPackage ST_* functions that the spatial-index
    triggers call; this stands in for them.
    """
    with closing(sqlite3.connect(path)) as conn:
        for k, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
            conn.create_function(name, 1, lambda b, k=k: _envelope(b, k))
        conn.create_function("ST_IsEmpty", 1, lambda b: None if b is None else 0)
        for sql in statements:
            conn.execute(sql, params if "?" in sql else ())
        conn.commit()


def event_row(path: Path, seq: int) -> dict:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM risk_events WHERE seq = ?", (seq,)).fetchone())


def verify(path: Path):
    with Register.open(path) as reg:
        return reg.verify()


# ----------------------------------------------------------------------------- honest


def test_the_sample_register_verifies(sample_register):
    report = sample_register.verify()
    assert report.ok
    assert report.events == SAMPLE_EVENTS
    assert report.risks == 48
    assert report.problems == ()
    assert report.first_broken_seq is None
    assert "171" in report.message("en") and "intact" in report.message("en")
    assert "171" in report.message("zh")


def test_the_log_is_a_chain(sample_register):
    rows = list(sample_register.store.iter_events())
    assert [r["seq"] for r in rows] == list(range(1, SAMPLE_EVENTS + 1))
    assert rows[0]["prev_hash"] == "0" * 64
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["hash"]
    assert sample_register.store.get_meta("events_head") == {
        "seq": SAMPLE_EVENTS,
        "hash": rows[-1]["hash"],
    }
    # each hash is SHA-256 over the event's content and the previous hash
    row = rows[41]
    content = EventContent(
        seq=row["seq"],
        risk_id=row["risk_id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        note=row["note"],
        data=json.loads(row["data"]),
    )
    assert event_hash(content, row["prev_hash"]) == row["hash"]


def test_every_hash_covers_the_documented_payload(sample_register):
    """docs/register.md: SHA-256 over a JSON header line, the stored data text and
    the previous hash; the data text is canonical JSON. Written here with the
    general JSON encoder, independently of the register's bulk path."""
    rows = list(sample_register.store.iter_events())
    assert {r["action"] for r in rows} >= {"report", "assign", "clear", "withdraw"}
    for row in rows:
        header = json.dumps(
            [row[k] for k in ("seq", "risk_id", "at", "actor", "action")]
            + [row[k] for k in ("from_status", "to_status", "note")],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        payload = f"{header}\n{row['data']}\n{row['prev_hash']}".encode()
        assert hashlib.sha256(payload).hexdigest() == row["hash"]
        assert canonical_json(json.loads(row["data"])) == row["data"]


_texts = st.text(st.characters(codec="utf-8"), max_size=30)


@given(
    st.integers(1, 2**40),
    st.integers(1, 2**40),
    _texts,
    _texts,
    _texts,
    st.none() | _texts,
    st.none() | _texts,
    _texts,
)
def test_header_line_is_the_json_array(seq, risk_id, at, actor, action, frm, to, note):
    fields = [seq, risk_id, at, actor, action, frm, to, note]
    assert header_line(*fields) == json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


_values = st.none() | _texts | st.floats(allow_nan=False, allow_infinity=False) | st.integers()
# columns of a register repeat a few values (looked up, not encoded per row)
_repeated = st.sampled_from(["a", "段", 'q"', 3, None])
_column = st.integers(0, 4).flatmap(lambda n: st.lists(_values, min_size=n, max_size=n))
_repeating_column = st.just(9).flatmap(lambda n: st.lists(_repeated, min_size=n, max_size=n))


@given(
    st.dictionaries(_texts, _column, max_size=6).filter(
        lambda cols: len({len(v) for v in cols.values()}) <= 1
    )
    | st.dictionaries(
        _texts, _repeating_column | st.lists(_values, min_size=9, max_size=9), max_size=6
    )
)
@example({"a": ["x", None] * 4 + ["x"], "b": ["y"] * 9, "c": [None, 1.5] * 4 + [None]})
def test_canonical_objects_match_canonical_json(columns):
    """Any mix of columns, with and without values missing (the commas around
    the column present in every row, or none such), of values encoded per row
    or looked up."""
    n = len(next(iter(columns.values()))) if columns else 0
    expected = [
        canonical_json({k: v[i] for k, v in columns.items() if v[i] is not None}) for i in range(n)
    ]
    assert canonical_objects(columns) == expected
    # nested in an outer object, as report events are
    nested = [
        canonical_json(
            {"record": {k: v[i] for k, v in columns.items() if v[i] is not None}, "z": 1}
        )
        for i in range(n)
    ]
    assert canonical_objects(columns, '{"record":', ',"z":1}') == nested


@pytest.mark.parametrize("b", [["y"], ["y", None, "z"]])
def test_canonical_objects_refuse_columns_of_different_lengths(b):
    with pytest.raises(ValueError):
        canonical_objects({"a": ["x", "x"], "b": b})


def test_canonical_objects_refuse_numbers_json_cannot_hold():
    with pytest.raises(ValueError, match="offset"):
        canonical_objects({"offset": [1.0, float("nan")]})


def test_verify_stays_ok_through_every_kind_of_write(sample_register):
    reg = sample_register
    risk = reg.add_risk(
        category="burning",
        severity="critical",
        found_by=BY,
        line="JD",
        chainage="K19+100",
        side="right",
        offset=60,
    )
    reg.assign(risk.id, by=BY)
    reg.move(risk.id, by=BY, line="JD", chainage="K19+120", side="right", offset=55)
    reg.withdraw(risk.id, by=BY, reason="not_a_hazard")
    report = reg.verify()
    assert report.ok, report.problems
    assert report.events == SAMPLE_EVENTS + 4


# ----------------------------------------------------------------------------- edited


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("note", "现场复查隐患已消除，予以销号"),
        ("actor", "天津站派出所 李四"),
        ("at", "2026-09-01T08:00:00+08:00"),
        ("to_status", "cleared"),
        ("risk_id", 3),
        ("data", '{"recorded_at":"2026-11-29T10:00:00+08:00"}'),
    ],
)
def test_an_edited_event_is_caught(sample_register_path, column, value):
    seq = 77
    original = event_row(sample_register_path, seq)
    assert original[column] != value
    tamper(
        sample_register_path,
        f"UPDATE risk_events SET {column} = ? WHERE seq = {seq}",
        params=(value,),
    )
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == seq
    assert f"event {seq}" in report.problems[0]
    assert "altered" in report.problems[0]
    assert report.message() == report.problems[0]


def test_even_a_reformatting_of_the_data_is_caught(sample_register_path):
    # the hash covers the stored bytes, so re-serialising the same content counts
    seq = 12
    data = json.loads(event_row(sample_register_path, seq)["data"])
    tamper(
        sample_register_path,
        f"UPDATE risk_events SET data = ? WHERE seq = {seq}",
        params=(json.dumps(data, indent=2, ensure_ascii=True),),
    )
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == seq


def test_unreadable_data_is_caught(sample_register_path):
    tamper(sample_register_path, "UPDATE risk_events SET data = 'not json' WHERE seq = 5")
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == 5


def test_an_edit_with_its_own_hash_recomputed_breaks_the_next_link(sample_register_path):
    seq = 100
    row = event_row(sample_register_path, seq)
    row["note"] = "已整改"
    content = EventContent(
        **{k: row[k] for k in ("seq", "risk_id", "at", "actor", "action", "note")},
        from_status=row["from_status"],
        to_status=row["to_status"],
        data=json.loads(row["data"]),
    )
    forged = event_hash(content, row["prev_hash"])
    tamper(
        sample_register_path,
        f"UPDATE risk_events SET note = ?, hash = '{forged}' WHERE seq = {seq}",
        params=(row["note"],),
    )
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == seq + 1
    assert f"event {seq + 1} does not follow event {seq}" in report.problems[0]


# ----------------------------------------------------------------------------- deleted


def test_a_deleted_middle_event_is_caught(sample_register_path):
    tamper(sample_register_path, "DELETE FROM risk_events WHERE seq = 90")
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == 90
    assert "event 90 is missing" in report.problems[0]


def test_a_deleted_first_event_is_caught(sample_register_path):
    tamper(sample_register_path, "DELETE FROM risk_events WHERE seq = 1")
    report = verify(sample_register_path)
    assert report.first_broken_seq == 1
    assert "event 1 is missing" in report.problems[0]


def test_a_deleted_last_event_is_caught(sample_register_path):
    tamper(sample_register_path, f"DELETE FROM risk_events WHERE seq = {SAMPLE_EVENTS}")
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == SAMPLE_EVENTS
    assert "the last 1 event(s) of the log are missing" in report.problems[0]


def test_several_deleted_last_events_are_counted(sample_register_path):
    tamper(sample_register_path, f"DELETE FROM risk_events WHERE seq > {SAMPLE_EVENTS - 3}")
    report = verify(sample_register_path)
    assert report.first_broken_seq == SAMPLE_EVENTS - 2
    assert "the last 3 event(s)" in report.problems[0]


def test_a_truncated_log_with_a_forged_head_still_disagrees_with_the_risk(sample_register_path):
    # the tamperer also rewrites events_head; the risk's status then betrays it
    last = event_row(sample_register_path, SAMPLE_EVENTS)
    before = event_row(sample_register_path, SAMPLE_EVENTS - 1)
    head = json.dumps({"hash": before["hash"], "seq": SAMPLE_EVENTS - 1})
    tamper(
        sample_register_path,
        f"DELETE FROM risk_events WHERE seq = {SAMPLE_EVENTS}",
        "UPDATE linerisk_meta SET value = ? WHERE key = 'events_head'",
        params=(head,),
    )
    report = verify(sample_register_path)
    assert not report.ok
    rid = last["risk_id"]
    assert any(p.startswith(f"risk {rid} ") for p in report.problems)


# ----------------------------------------------------------------------------- reordered


def test_two_swapped_events_are_caught(sample_register_path):
    tamper(
        sample_register_path,
        "UPDATE risk_events SET seq = -1 WHERE seq = 60",
        "UPDATE risk_events SET seq = 60 WHERE seq = 61",
        "UPDATE risk_events SET seq = 61 WHERE seq = -1",
    )
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq == 60
    assert "event 60" in report.problems[0]


def test_far_apart_swapped_events_are_caught_at_the_first(sample_register_path):
    tamper(
        sample_register_path,
        "UPDATE risk_events SET seq = -1 WHERE seq = 20",
        "UPDATE risk_events SET seq = 20 WHERE seq = 150",
        "UPDATE risk_events SET seq = 150 WHERE seq = -1",
    )
    assert verify(sample_register_path).first_broken_seq == 20


# ----------------------------------------------------------------------------- risks


def test_a_status_changed_without_an_event_is_caught(sample_register_path):
    with Register.open(sample_register_path) as reg:
        (risk,) = [r for r in reg.risks() if r.ref == "S004"]
    assert risk.status.value != "cleared"
    tamper(sample_register_path, f"UPDATE risks SET status = 'cleared' WHERE id = {risk.id}")
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq is None  # the log itself is intact
    assert report.problems == (
        f"risk {risk.id} is cleared but its history ends at {risk.status.value}",
    )


def test_a_deleted_risk_is_caught(sample_register_path):
    tamper(sample_register_path, "DELETE FROM risks WHERE id = 7")
    report = verify(sample_register_path)
    assert not report.ok
    assert report.problems == ("risk 7 has a history but is missing from the risks layer",)


def test_a_risk_added_without_history_is_caught(sample_register_path):
    from linerisk.store.schema import RISK_COLUMNS

    cols = ", ".join(["geom", *(c for c, _t in RISK_COLUMNS)])
    tamper(
        sample_register_path, f"INSERT INTO risks ({cols}) SELECT {cols} FROM risks WHERE id = 1"
    )
    report = verify(sample_register_path)
    assert not report.ok
    assert report.problems == ("risk 49 has no history",)


def test_the_break_is_still_reported_after_later_honest_writes(sample_register_path):
    tamper(sample_register_path, "UPDATE risk_events SET actor = '某人' WHERE seq = 33")
    with Register.open(sample_register_path) as reg:
        (risk,) = [r for r in reg.risks() if r.ref == "S005"]
        if risk.is_open:
            reg.withdraw(risk.id, by=BY, reason="not_a_hazard")
        reg.add_risk(
            category="livestock",
            severity="general",
            found_by=BY,
            line="JD",
            chainage="K20+500",
            side="left",
            offset=120,
        )
        report = reg.verify()
    assert not report.ok
    assert report.first_broken_seq == 33


def _row(path: Path, rid: int) -> dict:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM risks WHERE id = ?", (rid,)).fetchone())


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("category", "'burning'"),
        ("severity", "'critical'"),
        ("police", "'军粮城站派出所'"),
        ("street_office", "NULL"),
        ("deadline", "'2030-01-01T00:00:00+08:00'"),
        ("chainage_m", "chainage_m + 5"),
        ("offset_m", "offset_m * 2"),
        ("description", "'改过的描述'"),
        ("found_by", "'某人'"),
        ("cleared_at", "'2026-01-01T00:00:00+08:00'"),
    ],
)
def test_a_recorded_column_changed_without_an_event_is_caught(sample_register_path, column, value):
    """What was reported and where and to whom it was placed is in the history;
    a column edited in the layer (QGIS, an SQLite tool) no longer matches it."""
    with Register.open(sample_register_path) as reg:
        (risk,) = [r for r in reg.risks() if r.ref == "S004"]
    before = _row(sample_register_path, risk.id)
    tamper(sample_register_path, f"UPDATE risks SET {column} = {value} WHERE id = {risk.id}")
    after = _row(sample_register_path, risk.id)
    assert after[column] != before[column]
    report = verify(sample_register_path)
    assert not report.ok
    assert report.first_broken_seq is None  # the log itself is intact
    assert report.problems == (
        f"risk {risk.id}: its {column} is {after[column]!r} in the risks layer but "
        f"{before[column]!r} in its history (changed without an event)",
    )


def test_a_risk_moved_on_the_map_without_an_event_is_caught(sample_register_path):
    import numpy as np

    from linerisk.store.gpkg import encode_points

    with Register.open(sample_register_path) as reg:
        (risk,) = [r for r in reg.risks() if r.ref == "S010"]
        x, y, srs = risk.location.x, risk.location.y, reg.store.srs_id
    blob = encode_points(np.array([x + 8.0]), np.array([y]), srs)[0]
    tamper(sample_register_path, "UPDATE risks SET geom = ? WHERE id = ?", params=(blob, risk.id))
    (problem,) = verify(sample_register_path).problems
    assert problem.startswith(f"risk {risk.id}: its x is {x + 8.0!r} in the risks layer but ")


def test_many_changed_risks_are_named_up_to_twenty_then_counted(sample_register_path):
    tamper(sample_register_path, "UPDATE risks SET deadline = '2030-01-01T00:00:00+08:00'")
    with Register.open(sample_register_path) as reg:
        report = reg.verify()
        total = len(reg.risks())
    assert not report.ok and total > 20
    assert len(report.problems) == 21
    assert all(": its deadline is '2030-01-01T00:00:00+08:00'" in p for p in report.problems[:20])
    assert (
        report.problems[20]
        == f"{total - 20} more risks have columns that differ from their history"
    )


def test_clearing_reopening_and_moving_keep_the_columns_with_their_history(sample_register):
    reg = sample_register
    risk = reg.add_risk(
        category="garbage",
        severity="major",
        found_by=BY,
        line="JD",
        chainage="K18+300",
        side="left",
        offset=35,
        description="塑料袋",
    )
    for step in ("assign", "start", "submit", "clear"):
        getattr(reg, step)(risk.id, by=BY)
    reg.reopen(risk.id, by=BY, note="又有了")
    reg.move(risk.id, by=BY, line="JD", chainage="K18+420", side="right", offset=60)
    reg.start(risk.id, by=BY)
    reg.submit(risk.id, by=BY)
    reg.clear(risk.id, by=BY)
    # a cleared risk put where it really was keeps its time of clearing
    reg.move(risk.id, by=BY, line="JD", chainage="K18+440", side="right", offset=60)
    assert reg.get(risk.id).cleared_at is not None
    report = reg.verify()
    assert report.ok, report.problems
