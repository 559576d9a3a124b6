"""The closed loop of a risk through the register: every (status, action) pair,
allowed or refused, on a real GeoPackage file."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import pytest

from linerisk.errors import LineriskError, UnknownRiskError
from linerisk.lifecycle import TransitionError
from linerisk.register import Register

CST = dt.timezone(dt.timedelta(hours=8))
POLICE = "天津站派出所 王磊"
WORKS = "天津工务段 张贵庄线路工区 韩卫东"

STATUSES = ("reported", "assigned", "rectifying", "awaiting_recheck", "cleared", "withdrawn")
OPEN = ("reported", "assigned", "rectifying", "awaiting_recheck")
LIFECYCLE_ACTIONS = ("assign", "start", "submit", "clear", "rework", "withdraw", "reopen")
#: actions that exist in the history but are not status changes
OTHER_ACTIONS = ("report", "move", "edit")

#: the closed loop as the issue states it, written out by hand (not read from the library)
ALLOWED: dict[tuple[str, str], str] = {
    ("reported", "assign"): "assigned",
    ("assigned", "start"): "rectifying",
    ("rectifying", "submit"): "awaiting_recheck",
    ("awaiting_recheck", "clear"): "cleared",
    # the re-inspection found the hazard still there: back to rectification
    ("awaiting_recheck", "rework"): "rectifying",
    ("cleared", "reopen"): "assigned",
    **{(s, "withdraw"): "withdrawn" for s in OPEN},
}
TARGET = {
    "assign": "assigned",
    "start": "rectifying",
    "submit": "awaiting_recheck",
    "clear": "cleared",
    "rework": "rectifying",
    "withdraw": "withdrawn",
    "reopen": "assigned",
}

#: how each fixture risk reaches its status: (action, by, extra keywords)
PATHS: dict[str, list[tuple[str, str, dict]]] = {
    "reported": [],
    "assigned": [("assign", POLICE, {})],
    "rectifying": [("assign", POLICE, {}), ("start", WORKS, {})],
    "awaiting_recheck": [("assign", POLICE, {}), ("start", WORKS, {}), ("submit", WORKS, {})],
    "cleared": [
        ("assign", POLICE, {}),
        ("start", WORKS, {}),
        ("submit", WORKS, {}),
        ("clear", POLICE, {}),
    ],
    "withdrawn": [("withdraw", POLICE, {"reason": "not_a_hazard"})],
}
FOUND_AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CST)
#: every test action happens at this time, after all fixture events
ACT_AT = dt.datetime(2026, 11, 20, 10, 30, tzinfo=CST)


@pytest.fixture(scope="module")
def _lifecycle_master(tmp_path_factory, sample_network) -> Path:
    """A register holding one major fence-damage risk in each of the six statuses."""
    path = tmp_path_factory.mktemp("lifecycle") / "lifecycle.gpkg"
    with Register.create(path, network=sample_network) as reg:
        for k, status in enumerate(STATUSES):
            risk = reg.add_risk(
                category="fence_damage",
                severity="major",
                found_by=POLICE,
                found_at=FOUND_AT,
                line="JD",
                chainage=f"K{4 + k}+300",
                side="left",
                offset=9.5,
                ref=status,
            )
            for step, (action, by, extra) in enumerate(PATHS[status], start=1):
                reg.transition(
                    risk.id, action, by=by, at=FOUND_AT + dt.timedelta(hours=step), **extra
                )
            assert reg.get(risk.id).status.value == status
    return path


@pytest.fixture
def reg(_lifecycle_master, tmp_path):
    path = tmp_path / "lifecycle.gpkg"
    shutil.copy(_lifecycle_master, path)
    with Register.open(path) as register:
        yield register


def risk_in(reg: Register, status: str):
    (risk,) = [r for r in reg.risks() if r.ref == status]
    assert risk.status.value == status
    return risk


def event_count(reg: Register) -> int:
    return sum(1 for _ in reg.store.iter_events())


def do(reg: Register, risk_id: int, action: str, **kw):
    """Call the Register method named after the action, as a user would."""
    if action == "withdraw":
        kw.setdefault("reason", "duplicate")
        return reg.withdraw(risk_id, **kw)
    return getattr(reg, action)(risk_id, **kw)


# ----------------------------------------------------------------------------- allowed


@pytest.mark.parametrize(("status", "action"), sorted(ALLOWED))
def test_allowed_transition(reg, status, action):
    risk = risk_in(reg, status)
    before = event_count(reg)
    note = f"{action} 现场核实"
    out = do(reg, risk.id, action, by=POLICE, note=note, at=ACT_AT)

    assert out.id == risk.id
    assert out.status.value == ALLOWED[(status, action)]
    assert reg.get(risk.id).status.value == ALLOWED[(status, action)]
    assert event_count(reg) == before + 1
    last = reg.history(risk.id)[-1]
    assert last.action.value == action
    assert last.from_status.value == status
    assert last.to_status.value == ALLOWED[(status, action)]
    assert last.actor == POLICE
    assert last.note == note
    assert last.at == ACT_AT
    if action == "withdraw":
        assert last.data["reason"] == "duplicate"
    if action == "clear":
        assert out.cleared_at == ACT_AT
    assert reg.verify().ok


def test_the_whole_loop_on_one_risk(reg):
    risk = risk_in(reg, "reported")
    steps = [
        ("assign", POLICE, "assigned"),
        ("start", WORKS, "rectifying"),
        ("submit", WORKS, "awaiting_recheck"),
        ("clear", POLICE, "cleared"),
        ("reopen", POLICE, "assigned"),
        ("start", WORKS, "rectifying"),
        ("withdraw", POLICE, "withdrawn"),
    ]
    for k, (action, by, expected) in enumerate(steps):
        out = do(reg, risk.id, action, by=by, at=ACT_AT + dt.timedelta(days=k))
        assert out.status.value == expected
    history = reg.history(risk.id)
    assert [e.action.value for e in history] == ["report", *(a for a, _b, _e in steps)]
    # every event starts where the previous one ended
    for before, after in itertools.pairwise(history):
        assert after.from_status == before.to_status
    assert reg.verify().ok


def test_transition_by_name_accepts_labels(reg):
    risk = risk_in(reg, "reported")
    out = reg.transition(risk.id, "assign", by=POLICE, at=ACT_AT)
    assert out.status.value == "assigned"


# ----------------------------------------------------------------------------- refused


REFUSED = [
    (s, a) for s in STATUSES for a in LIFECYCLE_ACTIONS + OTHER_ACTIONS if (s, a) not in ALLOWED
]


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_transition_names_both_states_and_changes_nothing(reg, status, action):
    risk = risk_in(reg, status)
    before_events = event_count(reg)
    before_history = reg.history(risk.id)
    reason = "duplicate" if action == "withdraw" else None

    with pytest.raises(TransitionError) as info:
        reg.transition(risk.id, action, by=POLICE, at=ACT_AT, note="不应记录", reason=reason)

    message = str(info.value)
    assert status in message
    assert action in message
    if action in TARGET:
        assert TARGET[action] in message
    assert "\n" not in message
    after = reg.get(risk.id)
    assert after.status.value == status
    assert after.updated_at == risk.updated_at
    assert event_count(reg) == before_events
    assert reg.history(risk.id) == before_history
    assert reg.verify().ok


def test_transition_error_is_a_user_error():
    assert issubclass(TransitionError, LineriskError)
    assert issubclass(TransitionError, ValueError)


# ----------------------------------------------------------------------------- withdraw


@pytest.mark.parametrize("reason", [None, "", "不想管了", "DUPLICATE"])
def test_withdraw_needs_a_known_reason(reg, reason):
    risk = risk_in(reg, "assigned")
    before = event_count(reg)
    with pytest.raises(TransitionError) as info:
        reg.transition(risk.id, "withdraw", by=POLICE, at=ACT_AT, reason=reason)
    # the message lists the reasons one may give
    assert "duplicate" in str(info.value)
    assert "not_a_hazard" in str(info.value)
    assert reg.get(risk.id).status.value == "assigned"
    assert event_count(reg) == before


@pytest.mark.parametrize("reason", ["duplicate", "not_a_hazard", "outside_scope"])
def test_withdraw_records_its_reason(reg, reason):
    risk = risk_in(reg, "rectifying")
    out = reg.withdraw(risk.id, by=POLICE, reason=reason, note="经核实", at=ACT_AT)
    assert out.status.value == "withdrawn"
    assert reg.history(risk.id)[-1].data["reason"] == reason


# ----------------------------------------------------------------------------- rework


@pytest.mark.parametrize("note", [None, "", "   "])
def test_rework_needs_a_note_of_what_the_re_inspection_found(reg, note):
    risk = risk_in(reg, "awaiting_recheck")
    before = event_count(reg)
    with pytest.raises(TransitionError, match="needs a note"):
        reg.transition(risk.id, "rework", by=POLICE, at=ACT_AT, note=note)
    assert reg.get(risk.id).status.value == "awaiting_recheck"
    assert event_count(reg) == before


def test_a_failed_re_inspection_goes_back_to_rectifying_and_keeps_its_deadline(reg):
    """复查不合格，退回整改: the same risk, its deadline unchanged (it may fall
    overdue meanwhile), then submitted and re-inspected again."""
    risk = risk_in(reg, "awaiting_recheck")
    out = reg.rework(risk.id, by=POLICE, note="薄膜未压实，仍有飘起", at=ACT_AT)
    assert (out.id, out.status.value, out.deadline) == (risk.id, "rectifying", risk.deadline)
    assert out.cleared_at is None
    last = reg.history(risk.id)[-1]
    assert (last.action.label("zh"), last.action.label("en")) == ("退回整改", "returned for rework")
    assert (last.from_status.value, last.to_status.value) == ("awaiting_recheck", "rectifying")
    assert last.note == "薄膜未压实，仍有飘起"
    assert reg.get(risk.id).is_overdue(ACT_AT)  # a major risk found 19 days before
    later = ACT_AT + dt.timedelta(days=1)
    reg.submit(risk.id, by=WORKS, at=later, note="已重新压实")
    cleared = reg.clear(risk.id, by=POLICE, at=later + dt.timedelta(hours=3))
    assert cleared.status.value == "cleared"
    assert [e.action.value for e in reg.history(risk.id)][-4:] == [
        "submit",
        "rework",
        "submit",
        "clear",
    ]
    assert reg.verify().ok


@pytest.mark.parametrize(
    "given",
    [
        "2026-11-30",
        dt.date(2026, 11, 30),
        "2026-11-30T23:59:59+08:00",
        dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=CST),
        dt.datetime(2026, 11, 30, 15, 59, 59, tzinfo=dt.UTC),
    ],
)
def test_a_risk_sent_back_for_rework_can_be_given_a_new_deadline(reg, given):
    """Some stations give a new time limit when they send an item back: a day
    means the end of that day, in the register's time zone."""
    risk = risk_in(reg, "awaiting_recheck")
    out = reg.rework(risk.id, by=POLICE, note="护网缺口仍未封堵", at=ACT_AT, deadline=given)
    new = dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=CST)
    assert (out.status.value, out.deadline) == ("rectifying", new)
    assert out.deadline != risk.deadline
    assert not out.is_overdue(new) and out.is_overdue(new + dt.timedelta(seconds=1))
    last = reg.history(risk.id)[-1]
    assert dt.datetime.fromisoformat(last.data["deadline"]) == new
    # the row's deadline is the one its history records
    assert reg.verify().ok


def test_the_new_deadline_of_a_rework_is_what_its_history_says(reg):
    """A deadline changed in the row but not by an event is caught by verify;
    one changed by a rework is not."""
    risk = risk_in(reg, "awaiting_recheck")
    reg.rework(risk.id, by=POLICE, note="仍有缺口", at=ACT_AT, deadline="2026-12-05")
    assert reg.verify().ok
    with reg.store.transaction():
        reg.store.update_risk(risk.id, {"deadline": "2026-12-31T23:59:59+08:00"})
    report = reg.verify()
    assert not report.ok
    assert any("deadline" in problem for problem in report.problems)


def test_the_agenda_shows_the_deadline_a_rework_gave_from_that_day_on(reg):
    from linerisk.maps.agenda import build_agenda

    risk = risk_in(reg, "awaiting_recheck")
    reg.rework(risk.id, by=POLICE, note="仍有缺口", at=ACT_AT, deadline="2026-11-30")

    def item(on: str):
        (it,) = [i for i in build_agenda(reg, on=on).items if i.id == risk.id]
        return it.status.value, it.deadline, it.overdue

    # the day before the rework: awaiting re-inspection, the first deadline long past
    assert item("2026-11-19") == ("awaiting_recheck", risk.deadline, True)
    new = dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=CST)
    assert item("2026-11-25") == ("rectifying", new, False)
    assert item("2026-11-30") == ("rectifying", new, False)
    assert item("2026-12-01") == ("rectifying", new, True)


def test_the_meeting_map_shows_the_deadline_a_rework_gave_from_that_day_on(reg):
    """The map reads its as-of rows from the event log (risk_rows_as_of), not
    from the agenda's histories: the same deadlines."""
    from linerisk.maps.scope import resolve_scope, risk_rows_as_of

    risk = risk_in(reg, "awaiting_recheck")
    reg.rework(risk.id, by=POLICE, note="仍有缺口", at=ACT_AT, deadline="2026-11-30")
    scope = resolve_scope(reg)

    def row(day: str):
        (r,) = [r for r in risk_rows_as_of(reg, scope, reg.end_of_day(day)) if r["id"] == risk.id]
        return r["status"], dt.datetime.fromisoformat(r["deadline"])

    assert row("2026-11-19") == ("awaiting_recheck", risk.deadline)
    assert row("2026-11-25") == ("rectifying", dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=CST))


@pytest.mark.parametrize(
    ("action", "deadline", "message"),
    [
        ("assign", "2026-12-30", "only when a risk is sent back for rework"),
        ("rework", "2026-11-19", "is not after the rework at 2026-11-20T10:30:00"),
        ("rework", "2026-11-20T10:30+08:00", "is not after the rework"),
        ("rework", "next week", "cannot read deadline 'next week'"),
    ],
)
def test_a_deadline_that_cannot_be_given_is_refused_and_nothing_is_written(
    reg, action, deadline, message
):
    status = "reported" if action == "assign" else "awaiting_recheck"
    risk = risk_in(reg, status)
    before = event_count(reg)
    with pytest.raises(LineriskError, match=message):
        reg.transition(risk.id, action, by=POLICE, at=ACT_AT, note="复查不合格", deadline=deadline)
    assert reg.get(risk.id) == risk
    assert event_count(reg) == before


# ----------------------------------------------------------------------------- reopen


def test_reopen_keeps_the_id_goes_back_to_assigned_with_a_fresh_deadline(reg):
    risk = risk_in(reg, "cleared")
    assert risk.cleared_at is not None
    count = reg.store.count_risks()
    reopened_at = dt.datetime(2026, 11, 22, 8, 15, tzinfo=CST)

    out = reg.reopen(risk.id, by=POLICE, note="隐患复发", at=reopened_at)

    assert out.id == risk.id
    assert out.ref == risk.ref
    assert reg.store.count_risks() == count  # not re-entered as a new risk
    assert out.status.value == "assigned"
    assert out.cleared_at is None
    # major: 7 days from the day it recurred, not from when it was first found
    assert out.deadline == reopened_at + dt.timedelta(days=7)
    assert risk.deadline == FOUND_AT + dt.timedelta(days=7)
    last = reg.history(risk.id)[-1]
    assert (last.from_status.value, last.to_status.value) == ("cleared", "assigned")
    assert dt.datetime.fromisoformat(last.data["deadline"]) == out.deadline
    assert reg.verify().ok
    # and the loop runs again
    reg.start(risk.id, by=WORKS, at=reopened_at + dt.timedelta(hours=2))
    reg.submit(risk.id, by=WORKS, at=reopened_at + dt.timedelta(hours=3))
    again = reg.clear(risk.id, by=POLICE, at=reopened_at + dt.timedelta(hours=4))
    assert again.status.value == "cleared"
    assert again.cleared_at == reopened_at + dt.timedelta(hours=4)


# ----------------------------------------------------------------------------- time and actor


def test_a_change_earlier_than_the_last_event_is_refused(reg):
    risk = risk_in(reg, "rectifying")  # its last event is at FOUND_AT + 2 h
    last_at = reg.history(risk.id)[-1].at
    before = event_count(reg)
    too_early = last_at - dt.timedelta(minutes=1)
    with pytest.raises(TransitionError) as info:
        reg.submit(risk.id, by=WORKS, at=too_early)
    assert too_early.isoformat() in str(info.value)
    assert last_at.isoformat() in str(info.value)
    assert reg.get(risk.id).status.value == "rectifying"
    assert event_count(reg) == before
    # the same instant as the last event is not earlier, so it is accepted
    assert reg.submit(risk.id, by=WORKS, at=last_at).status.value == "awaiting_recheck"


def test_a_change_earlier_than_the_report_is_refused(reg):
    risk = risk_in(reg, "reported")
    with pytest.raises(TransitionError):
        reg.assign(risk.id, by=POLICE, at=FOUND_AT - dt.timedelta(days=1))
    assert reg.get(risk.id).status.value == "reported"


def test_times_in_another_zone_are_compared_as_instants(reg):
    risk = risk_in(reg, "reported")
    # 01:00 UTC on 1 Nov is 09:00 in Beijing: the same instant as the report, so allowed
    out = reg.assign(risk.id, by=POLICE, at="2026-11-01T01:00:00+00:00")
    assert out.status.value == "assigned"
    assert reg.history(risk.id)[-1].at == FOUND_AT
    assert reg.history(risk.id)[-1].at.utcoffset() == dt.timedelta(hours=8)


def test_a_time_without_zone_is_read_as_register_time(reg):
    risk = risk_in(reg, "reported")
    reg.assign(risk.id, by=POLICE, at="2026-11-20T10:30")
    assert reg.history(risk.id)[-1].at == ACT_AT


def test_an_unreadable_time_is_refused_in_one_sentence(reg):
    risk = risk_in(reg, "reported")
    with pytest.raises(LineriskError, match="ISO 8601"):
        reg.assign(risk.id, by=POLICE, at="20 Nov 2026")
    assert reg.get(risk.id).status.value == "reported"


@pytest.mark.parametrize("actor", ["", "   ", None])
def test_every_change_needs_an_actor(reg, actor):
    risk = risk_in(reg, "assigned")
    before = event_count(reg)
    with pytest.raises(LineriskError, match="actor"):
        reg.start(risk.id, by=actor, at=ACT_AT)
    assert reg.get(risk.id).status.value == "assigned"
    assert event_count(reg) == before


def test_actor_and_note_are_kept_as_given(reg):
    risk = risk_in(reg, "assigned")
    reg.start(risk.id, by="  " + WORKS + " ", note="已组织人员修复护网", at=ACT_AT)
    last = reg.history(risk.id)[-1]
    assert last.actor == WORKS  # surrounding blanks trimmed
    assert last.note == "已组织人员修复护网"


def test_unknown_risk(reg):
    with pytest.raises(UnknownRiskError, match="999"):
        reg.assign(999, by=POLICE, at=ACT_AT)
    with pytest.raises(UnknownRiskError):
        reg.history(999)


def test_status_survives_reopening_the_file(reg):
    risk = risk_in(reg, "awaiting_recheck")
    reg.clear(risk.id, by=POLICE, at=ACT_AT)
    with Register.open(reg.store.path) as again:
        assert again.get(risk.id).status.value == "cleared"
        assert again.history(risk.id)[-1].action.value == "clear"
        assert again.verify().ok


def test_the_report_event_records_what_was_reported_and_where_it_was_placed(reg):
    """The report record: the inputs and the placement, equal to the risk's columns
    when it was registered; empty values are left out; derived columns are not
    copied."""
    from linerisk.store.base import RiskQuery

    risk = risk_in(reg, "reported")
    (row,) = reg.store.find_risks(RiskQuery(ids=[risk.id]))
    first = reg.history(risk.id)[0]
    assert first.action.value == "report"
    record = first.data["record"]
    kept = (
        "category",
        "severity",
        "found_at",
        "found_by",
        "ref",
        "located_by",
        "line",
        "chainage_m",
        "side",
        "offset_m",
        "segment",
        "police",
        "street_office",
        "lead_vertical",
        "deadline",
    )
    assert set(record) == {*kept, "x", "y"}  # description and note were not given
    for key in kept:
        assert record[key] == row[key], key
    assert record["category"] == "fence_damage" and record["side"] == "left"
    assert record["offset_m"] == 9.5 and record["located_by"] == "chainage"
    assert (record["x"], record["y"]) == (round(row["x"], 3), round(row["y"], 3))
