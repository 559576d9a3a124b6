"""Deadlines from severity, and overdue against a given date.

The library's definition, as tested here: a risk's deadline is ``found_at`` plus
the severity's days (a reopened risk starts again from the time it was
reopened). "Overdue on day D" means open and with its deadline before the end
of D (23:59:59 in the register's time zone); an instant ``on`` means strictly
after the deadline. So a risk whose deadline falls during day D already counts
as overdue on D, and of course on D+1, but not on D-1.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from conftest import SAMPLE_DAY

from linerisk.sample import sample_dir

CST = dt.timezone(dt.timedelta(hours=8))
BY = "天津站派出所 王磊"


def add(reg, severity="major", found_at="2026-11-10T10:00:00+08:00", km=5, **kw):
    """One risk by chainage; each call must use a different ``km`` to avoid duplicates."""
    return reg.add_risk(
        category=kw.pop("category", "garbage"),
        severity=severity,
        found_by=BY,
        found_at=found_at,
        line="JD",
        chainage=f"K{km}+200",
        side="left",
        offset=40,
        **kw,
    )


def walk_to_cleared(reg, risk, start: dt.datetime):
    for k, action in enumerate(("assign", "start", "submit", "clear"), start=1):
        reg.transition(risk.id, action, by=BY, at=start + dt.timedelta(hours=k))


# ----------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(("severity", "days"), [("critical", 1), ("major", 7), ("general", 30)])
def test_default_deadline_by_severity(empty_register, severity, days):
    found = dt.datetime(2026, 11, 10, 14, 35, tzinfo=CST)
    risk = add(empty_register, severity=severity, found_at=found)
    assert risk.found_at == found
    assert risk.deadline == found + dt.timedelta(days=days)
    # stored, so it comes back the same from the file
    assert empty_register.get(risk.id).deadline == risk.deadline


def test_severity_given_by_chinese_label(empty_register):
    risk = add(empty_register, severity="重大", found_at="2026-11-10T08:00:00+08:00")
    assert risk.severity.value == "critical"
    assert risk.deadline == dt.datetime(2026, 11, 11, 8, 0, tzinfo=CST)


def test_found_at_without_zone_is_register_time_and_other_zones_are_converted(empty_register):
    naive = add(empty_register, severity="major", found_at="2026-11-10T10:00", km=4)
    assert naive.found_at == dt.datetime(2026, 11, 10, 10, 0, tzinfo=CST)
    utc = add(empty_register, severity="major", found_at="2026-11-10T02:00:00+00:00", km=6)
    assert utc.found_at == naive.found_at
    assert utc.found_at.utcoffset() == dt.timedelta(hours=8)
    assert utc.deadline == dt.datetime(2026, 11, 17, 10, 0, tzinfo=CST)


def test_found_at_defaults_to_now(empty_register):
    before = dt.datetime.now(CST).replace(microsecond=0)
    risk = add(empty_register, severity="general", found_at=None)
    after = dt.datetime.now(CST)
    assert before <= risk.found_at <= after
    assert risk.deadline == risk.found_at + dt.timedelta(days=30)


def test_changed_deadlines_apply_to_risks_added_afterwards(empty_register):
    reg = empty_register
    found = dt.datetime(2026, 11, 10, 9, 0, tzinfo=CST)
    old_major = add(reg, severity="major", found_at=found, km=4)

    settings = reg.update_settings(deadline_days={"major": 5, "critical": 0.5})

    assert settings.deadline_days == {"critical": 0.5, "major": 5.0, "general": 30}
    new_major = add(reg, severity="major", found_at=found, km=6)
    new_critical = add(reg, severity="critical", found_at=found, km=8)
    new_general = add(reg, severity="general", found_at=found, km=10)
    assert new_major.deadline == found + dt.timedelta(days=5)
    assert new_critical.deadline == found + dt.timedelta(hours=12)
    assert new_general.deadline == found + dt.timedelta(days=30)  # unchanged default
    # a risk already registered keeps the deadline it was given
    assert reg.get(old_major.id).deadline == found + dt.timedelta(days=7)
    # the settings live in the file
    from linerisk.register import Register

    with Register.open(reg.store.path) as again:
        assert again.settings.deadline_days["major"] == 5
        assert again.store.get_meta("settings")["deadline_days"]["critical"] == 0.5


def test_changed_deadline_applies_to_a_reopened_risk(empty_register):
    reg = empty_register
    found = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CST)
    risk = add(reg, severity="critical", found_at=found)
    walk_to_cleared(reg, risk, found)
    reg.update_settings(deadline_days={"critical": 2})
    reopened = dt.datetime(2026, 11, 20, 9, 0, tzinfo=CST)
    assert reg.reopen(risk.id, by=BY, at=reopened).deadline == reopened + dt.timedelta(days=2)


@pytest.mark.parametrize(
    "bad", [{"major": 0}, {"major": -3}, {"urgent": 3}], ids=["zero", "negative", "unknown"]
)
def test_invalid_deadline_settings_are_refused_and_nothing_changes(empty_register, bad):
    reg = empty_register
    with pytest.raises(ValueError):
        reg.update_settings(deadline_days=bad)
    assert reg.settings.deadline_days == {"critical": 1, "major": 7, "general": 30}
    assert reg.store.get_meta("settings")["deadline_days"] == {
        "critical": 1,
        "major": 7,
        "general": 30,
    }


# ----------------------------------------------------------------------------- overdue


@pytest.fixture
def critical(empty_register):
    """A critical risk found 10 Nov 10:00, so due 11 Nov 10:00 (day D = 11 Nov)."""
    return add(empty_register, severity="critical", found_at="2026-11-10T10:00:00+08:00")


@pytest.mark.parametrize(
    ("day", "overdue"),
    [
        ("2026-11-09", False),
        ("2026-11-10", False),  # D-1
        ("2026-11-11", True),  # D: the deadline has passed by the end of the day
        ("2026-11-12", True),  # D+1
        ("2027-01-01", True),
    ],
)
def test_overdue_on_a_day(empty_register, critical, day, overdue):
    reg = empty_register
    date = dt.date.fromisoformat(day)
    assert (critical.id in [r.id for r in reg.risks(overdue_on=day)]) is overdue
    assert (critical.id in [r.id for r in reg.risks(overdue_on=date)]) is overdue
    assert critical.is_overdue(date) is overdue
    assert reg.is_overdue(critical, day) is overdue
    assert reg.is_overdue(critical, date) is overdue


@pytest.mark.parametrize(
    ("at", "overdue"),
    [
        ("2026-11-11T09:59:59+08:00", False),
        ("2026-11-11T10:00:00+08:00", False),  # at the deadline itself: not yet
        ("2026-11-11T10:00:01+08:00", True),
        ("2026-11-11T02:00:01+00:00", True),  # the same instant written in UTC
        ("2026-11-11T01:59:59+00:00", False),
    ],
)
def test_overdue_at_an_instant(empty_register, critical, at, overdue):
    reg = empty_register
    instant = dt.datetime.fromisoformat(at)
    assert critical.is_overdue(instant) is overdue
    assert (critical.id in [r.id for r in reg.risks(overdue_on=at)]) is overdue
    assert (critical.id in [r.id for r in reg.risks(overdue_on=instant)]) is overdue
    assert reg.is_overdue(critical, at) is overdue


def test_a_deadline_in_the_last_second_of_a_day_counts_the_same_everywhere(empty_register):
    reg = empty_register
    risk = add(reg, severity="critical", found_at="2026-11-10T23:59:59+08:00")
    assert risk.deadline == dt.datetime(2026, 11, 11, 23, 59, 59, tzinfo=CST)
    day = dt.date(2026, 11, 11)
    in_query = risk.id in [r.id for r in reg.risks(overdue_on=day)]
    assert risk.is_overdue(day) is reg.is_overdue(risk, day) is in_query is False
    assert risk.is_overdue(day + dt.timedelta(days=1))


def test_cleared_and_withdrawn_risks_are_never_overdue(empty_register):
    reg = empty_register
    found = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CST)
    cleared = add(reg, severity="critical", found_at=found, km=4)
    # cleared two days late
    walk_to_cleared(reg, cleared, found + dt.timedelta(days=2))
    withdrawn = add(reg, severity="critical", found_at=found, km=6)
    reg.withdraw(withdrawn.id, by=BY, reason="not_a_hazard", at=found + dt.timedelta(days=3))
    still_open = add(reg, severity="critical", found_at=found, km=8)
    reg.assign(still_open.id, by=BY, at=found + dt.timedelta(hours=1))

    later = "2026-12-31"
    assert [r.id for r in reg.risks(overdue_on=later)] == [still_open.id]
    for rid in (cleared.id, withdrawn.id):
        risk = reg.get(rid)
        assert not risk.is_overdue(dt.date(2026, 12, 31))
        assert not reg.is_overdue(risk, later)
    # summary: one open and overdue, one cleared, the withdrawn one nowhere
    rows = reg.summary(on=later)
    totals = [sum(getattr(row, k) for row in rows) for k in ("open", "overdue", "cleared")]
    assert totals == [1, 1, 1]


def test_reopened_risk_is_judged_by_its_fresh_deadline(empty_register):
    reg = empty_register
    found = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CST)
    risk = add(reg, severity="major", found_at=found)
    walk_to_cleared(reg, risk, found)
    reg.reopen(risk.id, by=BY, at="2026-11-20T09:00:00+08:00")
    # originally due 8 Nov; now due 27 Nov
    assert [r.id for r in reg.risks(overdue_on="2026-11-26")] == []
    assert [r.id for r in reg.risks(overdue_on="2026-11-27")] == [risk.id]


def test_overdue_filter_combines_with_other_filters(empty_register):
    reg = empty_register
    a = add(reg, severity="critical", found_at="2026-11-01T09:00:00+08:00", km=4)
    b = add(reg, severity="critical", found_at="2026-11-01T09:00:00+08:00", km=14)
    add(reg, severity="general", found_at="2026-11-01T09:00:00+08:00", km=8)
    assert [r.id for r in reg.risks(overdue_on="2026-11-05")] == [a.id, b.id]
    assert [r.id for r in reg.risks(overdue_on="2026-11-05", chainage_to="K10+000")] == [a.id]
    assert [r.id for r in reg.risks(overdue_on="2026-11-05", status="reported")] == [a.id, b.id]
    assert reg.risks(overdue_on="2026-11-05", status="assigned") == []


def test_an_unreadable_day_is_refused(empty_register):
    from linerisk.errors import LineriskError

    with pytest.raises(LineriskError, match="YYYY-MM-DD"):
        empty_register.risks(overdue_on="25/11/2026")


# ----------------------------------------------------------------------------- the sample

DEADLINE_DAYS = {"critical": 1, "major": 7, "general": 30}
#: lead vertical of each category (the built-in defaults, written out by hand)
LEAD = {
    "fence_damage": "railway",
    "tree_encroachment": "railway",
    "level_crossing": "railway",
    "flood_geology": "railway",
    "illegal_crossing": "police",
    "kite_balloon_drone": "police",
    "stone_throwing": "police",
    "cable_theft": "police",
}
NEXT = {
    "assign": "assigned",
    "start": "rectifying",
    "submit": "awaiting_recheck",
    "clear": "cleared",
    "withdraw": "withdrawn",
    "reopen": "assigned",
}


def _metres(chainage: str) -> int:
    km, m = chainage.lstrip("DK").split("+")
    return int(km) * 1000 + int(m)


def _police_party(c: int) -> str | None:
    # the two station areas, with a deliberate gap K11+000 to K11+300 (geodata/README.md)
    if c <= 11000:
        return "天津站派出所"
    if c >= 11300:
        return "军粮城站派出所"
    return None


def _railway_party(c: int) -> str:
    # workshops: 天津东 up to K12+000, then 军粮城
    return "天津东线路车间" if c < 12000 else "军粮城线路车间"


@pytest.fixture(scope="module")
def replayed() -> dict[str, dict]:
    """Each sample risk by ref, replayed from geodata/risks.geojson by this test's own
    reading of the rules: final status, deadline, clearing time, lead and party."""
    features = json.loads((sample_dir() / "risks.geojson").read_text("utf-8"))["features"]
    out = {}
    for f in features:
        p = f["properties"]
        days = dt.timedelta(days=DEADLINE_DAYS[p["severity"]])
        status = "reported"
        deadline = dt.datetime.fromisoformat(p["found_at"]) + days
        cleared_at = None
        for ev in p["history"]:
            status = NEXT[ev["action"]]
            at = dt.datetime.fromisoformat(ev["at"])
            if ev["action"] == "clear":
                cleared_at = at
            if ev["action"] == "reopen":
                deadline, cleared_at = at + days, None
        lead = LEAD.get(p["category"], "local")
        c = _metres(p["chainage"])
        party = {"police": _police_party(c), "railway": _railway_party(c)}.get(lead)
        out[p["ref"]] = {
            "status": status,
            "deadline": deadline,
            "cleared_at": cleared_at,
            "lead": lead,
            "party": party,
        }
    return out


def _end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 59, 59), tzinfo=CST)


def _overdue(replayed, day: str) -> set[str]:
    end = _end_of(day)
    return {
        ref
        for ref, r in replayed.items()
        if r["status"] not in ("cleared", "withdrawn") and r["deadline"] < end
    }


def test_sample_statuses_match_the_replay(sample_register, replayed):
    got = Counter(r.status.value for r in sample_register.risks())
    assert got == Counter(r["status"] for r in replayed.values())
    assert got == {
        "reported": 6,
        "assigned": 8,
        "rectifying": 7,
        "awaiting_recheck": 5,
        "cleared": 18,
        "withdrawn": 4,
    }
    for risk in sample_register.risks():
        assert risk.deadline == replayed[risk.ref]["deadline"], risk.ref


@pytest.mark.parametrize(
    "day", ["2026-09-01", "2026-11-01", "2026-11-24", SAMPLE_DAY, "2027-01-01"]
)
def test_sample_overdue_on_a_day_matches_the_replay(sample_register, replayed, day):
    expected = _overdue(replayed, day)
    assert {r.ref for r in sample_register.risks(overdue_on=day)} == expected
    date = dt.date.fromisoformat(day)
    assert {r.ref for r in sample_register.risks() if r.is_overdue(date)} == expected


def test_sample_overdue_set_on_the_sample_day(sample_register):
    # geodata/README.md lists 11 overdue risks as of the sample day, counting S033 from its
    # first deadline. S033 was reopened on 19 Nov and a reopened risk gets a fresh deadline
    # (19 Dec), so the register counts 10.
    refs = {r.ref for r in sample_register.risks(overdue_on=SAMPLE_DAY)}
    assert refs == {
        "S004",
        "S007",
        "S010",
        "S022",
        "S025",
        "S026",
        "S036",
        "S040",
        "S041",
        "S044",
    }


@pytest.mark.parametrize("since", [None, "2026-11-01"])
def test_sample_summary_counts_match_the_replay(sample_register, replayed, since):
    rows = sample_register.summary(on=SAMPLE_DAY, since=since)
    overdue = _overdue(replayed, SAMPLE_DAY)
    start = None if since is None else dt.datetime.fromisoformat(since + "T00:00:00+08:00")

    expected: dict[tuple[str, str | None], list[int]] = {}
    for ref, r in replayed.items():
        c = expected.setdefault((r["lead"], r["party"]), [0, 0, 0])
        if r["status"] not in ("cleared", "withdrawn"):
            c[0] += 1
            c[1] += ref in overdue
        elif r["status"] == "cleared" and (start is None or r["cleared_at"] >= start):
            c[2] += 1

    # police and railway rows: party by party
    got = {(row.vertical.value, row.party): [row.open, row.overdue, row.cleared] for row in rows}
    for key, counts in expected.items():
        if key[0] != "local":
            assert got.get(key, [0, 0, 0]) == counts, key
    # local government rows: per vertical (street offices are found from the polygons)
    local_got = [sum(v[i] for k, v in got.items() if k[0] == "local") for i in range(3)]
    local_expected = [sum(v[i] for k, v in expected.items() if k[0] == "local") for i in range(3)]
    assert local_got == local_expected
    # and the totals
    assert sum(row.open for row in rows) == 26
    assert sum(row.overdue for row in rows) == len(overdue) == 10
    # rows come police, railway, local
    order = [row.vertical.value for row in rows]
    assert order == sorted(order, key=["police", "railway", "local"].index)
