"""A risk of the same category close to an open one is a likely duplicate: the
register refuses it, names the existing risk, and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from linerisk.crs import WGS84, transform_xy
from linerisk.errors import DuplicateRiskError, LineriskError

BY = "天津站派出所 王磊"
FOUND = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True, params=["row by row", "by extent"])
def _check_path(request, monkeypatch):
    """Every test both ways the register checks a batch against its open risks:
    row by row through the R-tree (a few rows), and by reading the open risks of
    the batch's extent at once (above NEAR_CHECK_ROWS rows)."""
    import linerisk.register

    if request.param == "by extent":
        monkeypatch.setattr(linerisk.register, "NEAR_CHECK_ROWS", 0)


def add_at(reg, x, y, category="garbage", **kw):
    """A risk at x, y in the register CRS."""
    return reg.add_risk(
        category=category, severity="general", found_by=BY, found_at=FOUND, x=x, y=y, **kw
    )


@pytest.fixture
def reg(empty_register):
    return empty_register


@pytest.fixture
def first(reg):
    """An open garbage risk 40 m left of the line at K5+200."""
    return reg.add_risk(
        category="garbage",
        severity="general",
        found_by=BY,
        found_at=FOUND,
        line="JD",
        chainage="K5+200",
        side="left",
        offset=40,
    )


def snapshot(reg):
    return (
        reg.store.count_risks(),
        [e["hash"] for e in reg.store.iter_events()],
        reg.store.get_meta("events_head"),
    )


def test_same_category_within_30_m_is_refused_naming_the_open_risk(reg, first):
    x, y = first.location.x, first.location.y
    before = snapshot(reg)
    with pytest.raises(DuplicateRiskError) as info:
        add_at(reg, x + 12.0, y + 5.0)
    err = info.value
    assert [rid for rid, _d in err.existing] == [first.id]
    assert err.existing[0][1] == pytest.approx(13.0)
    message = str(err)
    assert f"risk {first.id}" in message
    assert "13 m" in message
    assert "garbage" in message
    assert "K5+200" in message
    assert "\n" not in message
    assert isinstance(err, LineriskError)
    # nothing written: no risk, no event, same head of the log
    assert snapshot(reg) == before
    assert reg.verify().ok


def test_duplicate_by_chainage_and_by_lon_lat(reg, first):
    with pytest.raises(DuplicateRiskError) as info:
        reg.add_risk(
            category="garbage",
            severity="major",
            found_by=BY,
            line="JD",
            chainage="K5+210",
            side="left",
            offset=35,
        )
    assert info.value.existing[0][0] == first.id
    lon, lat = transform_xy([first.location.x + 3], [first.location.y], reg.crs, WGS84)
    with pytest.raises(DuplicateRiskError) as info:
        reg.add_risk(
            category="garbage", severity="major", found_by=BY, lon=float(lon[0]), lat=float(lat[0])
        )
    assert info.value.existing[0][0] == first.id
    assert info.value.existing[0][1] == pytest.approx(3.0, abs=0.01)


@pytest.mark.parametrize(("distance", "duplicate"), [(29.9, True), (30.1, False), (80, False)])
def test_the_default_radius_is_30_m(reg, first, distance, duplicate):
    x, y = first.location.x, first.location.y
    if duplicate:
        with pytest.raises(DuplicateRiskError):
            add_at(reg, x, y + distance)
        assert reg.store.count_risks() == 1
    else:
        risk = add_at(reg, x, y + distance)
        assert risk.id != first.id
        assert reg.store.count_risks() == 2


def test_a_different_category_at_the_same_spot_is_accepted(reg, first):
    risk = add_at(reg, first.location.x, first.location.y, category="burning")
    assert risk.category == "burning"
    assert reg.store.count_risks() == 2


@pytest.mark.parametrize("open_status", ["assigned", "rectifying", "awaiting_recheck"])
def test_every_open_status_counts(reg, first, open_status):
    steps = {"assigned": 1, "rectifying": 2, "awaiting_recheck": 3}[open_status]
    for k, action in enumerate(("assign", "start", "submit")[:steps], start=1):
        reg.transition(first.id, action, by=BY, at=FOUND + dt.timedelta(hours=k))
    assert reg.get(first.id).status.value == open_status
    with pytest.raises(DuplicateRiskError):
        add_at(reg, first.location.x + 1, first.location.y)


def test_a_cleared_risk_does_not_block_a_new_one(reg, first):
    for k, action in enumerate(("assign", "start", "submit", "clear"), start=1):
        reg.transition(first.id, action, by=BY, at=FOUND + dt.timedelta(hours=k))
    risk = add_at(reg, first.location.x + 1, first.location.y)
    assert reg.store.count_risks() == 2
    assert risk.status.value == "reported"


def test_a_withdrawn_risk_does_not_block_a_new_one(reg, first):
    reg.withdraw(first.id, by=BY, reason="not_a_hazard", at=FOUND + dt.timedelta(hours=1))
    add_at(reg, first.location.x, first.location.y)
    assert reg.store.count_risks() == 2


def test_allow_duplicate_registers_it_anyway(reg, first):
    x, y = first.location.x, first.location.y
    second = add_at(reg, x + 10, y, allow_duplicate=True)
    assert second.id != first.id
    assert reg.verify().ok
    # a third one now has two candidates, nearest first
    with pytest.raises(DuplicateRiskError) as info:
        add_at(reg, x + 14, y)
    assert [rid for rid, _d in info.value.existing] == [second.id, first.id]
    assert [round(d, 3) for _rid, d in info.value.existing] == [4.0, 14.0]
    assert f"risk {second.id}" in str(info.value)


def test_one_duplicate_refuses_the_whole_bulk_insert(reg, first):
    x, y = first.location.x, first.location.y
    before = snapshot(reg)
    rows = [
        {"category": "garbage", "severity": "general", "found_by": BY, "x": x, "y": y + dy}
        for dy in (300, 600, 5, 900)
    ]
    for row in rows:
        row["crs"] = reg.crs
    with pytest.raises(DuplicateRiskError) as info:
        reg.add_risks(rows)
    assert str(info.value).startswith("row 3: ")
    assert info.value.existing[0][0] == first.id
    assert snapshot(reg) == before
    assert len(reg.add_risks(rows, allow_duplicates=True)) == 4


def test_the_radius_is_a_register_setting(reg, first):
    x, y = first.location.x, first.location.y
    reg.update_settings(duplicate_radius_m=50)
    with pytest.raises(DuplicateRiskError):
        add_at(reg, x, y + 45)
    reg.update_settings(duplicate_radius_m=10)
    add_at(reg, x, y + 20)
    assert reg.store.count_risks() == 2
    assert reg.store.get_meta("settings")["duplicate_radius_m"] == 10


def test_the_sample_duplicate(sample_register):
    """S013 (garbage) was withdrawn as a duplicate of S012, 12 m away. S012 has been
    cleared since, so the spot is free; once S012 is reopened it blocks again."""
    reg = sample_register
    refs = {r.ref: r for r in reg.risks()}
    s012, s013 = refs["S012"], refs["S013"]
    assert s013.status.value == "withdrawn"
    assert reg.history(s013.id)[-1].data["reason"] == "duplicate"
    assert s012.status.value == "cleared"
    x, y = s013.location.x, s013.location.y
    assert ((s012.location.x - x) ** 2 + (s012.location.y - y) ** 2) ** 0.5 < 30

    reg.reopen(s012.id, by=BY, at="2026-11-26T09:00:00+08:00", note="垃圾又堆起来了")
    with pytest.raises(DuplicateRiskError) as info:
        add_at(reg, x, y)
    assert info.value.existing[0][0] == s012.id
    assert f"risk {s012.id}" in str(info.value)


def _row(x, y, category="garbage", **kw):
    return dict(
        category=category, severity="general", found_by=BY, found_at=FOUND, x=x, y=y,
        crs="EPSG:4548", **kw,
    )  # fmt: skip


def test_rows_of_one_batch_for_the_same_open_hazard_are_refused(reg, first):
    """add_risks compares its rows with each other as well: the first row that
    repeats an earlier one (same category, within the radius, inclusive) is
    named with the nearest earlier row, and nothing is written."""
    assert reg.crs == "EPSG:4548"
    x, y = first.location.x + 300.0, first.location.y  # no open risk near
    before = snapshot(reg)
    rows = [
        _row(x, y),  # row 1
        _row(x + 100.0, y),  # row 2: far from row 1
        _row(x + 100.0, y + 5.0, "fence_damage"),  # row 3: another category
        _row(x + 20.0, y),  # row 4: 20 m from row 1
        _row(x + 96.0, y),  # row 5: 4 m from row 2, 76 m from row 4
    ]
    with pytest.raises(DuplicateRiskError) as info:
        reg.add_risks(rows)
    message = str(info.value)
    assert message.startswith("row 4: the same garbage as row 1, 20 m away; keep one")
    assert "allow_duplicates=True" in message
    assert snapshot(reg) == before
    # without row 4, row 5 is named with its nearest earlier row
    with pytest.raises(DuplicateRiskError, match=r"^row 4: the same garbage as row 2, 4 m away"):
        reg.add_risks(rows[:3] + rows[4:])
    # exactly the radius counts; a metre more does not
    radius = reg.settings.duplicate_radius_m
    with pytest.raises(DuplicateRiskError, match=r"^row 2: the same garbage as row 1, 30 m"):
        reg.add_risks([_row(x, y), _row(x, y + radius)])
    assert snapshot(reg) == before
    ids = reg.add_risks([_row(x, y), _row(x, y + radius + 1.0), rows[2]])
    assert len(ids) == 3
    # and allow_duplicates keeps them all
    assert len(reg.add_risks(rows, allow_duplicates=True)) == 5


def test_a_batch_row_whose_history_closes_it_is_no_duplicate(reg):
    """A row that its own history clears (or withdraws) is not an open risk: a
    row at the same spot is no duplicate of it, before or after it."""
    x, y = 520800.0, 4332000.0  # near the sample line, away from other risks
    at = (FOUND + dt.timedelta(hours=1)).isoformat()
    closed = [
        {"action": a, "by": BY, "at": at, "note": "已清理"}
        for a in ("assign", "start", "submit", "clear")
    ]
    ids = reg.add_risks([_row(x, y), _row(x + 5.0, y)], events=[closed, []])
    assert [reg.get(i).status.value for i in ids] == ["cleared", "reported"]
    # a closed row after an open one does not count either; two open rows do
    rows = [_row(x - 100.0, y), _row(x, y - 200.0), _row(x + 5.0, y - 200.0)]
    assert len(reg.add_risks(rows, events=[[], [], closed])) == 3
    with pytest.raises(DuplicateRiskError, match=r"^row 2: the same garbage as row 1, 5 m away"):
        reg.add_risks([_row(x, y - 400.0), _row(x + 5.0, y - 400.0)])


def test_the_register_and_an_import_put_the_edge_of_the_radius_in_the_same_place(reg):
    """A point whose distance to an open risk rounds to exactly the radius with
    math.hypot but not in GEOS: an import's check of the row (risks_near) and
    the register's own check must agree that it is a duplicate, or an import
    would pass the row and then fail as a whole."""
    import math

    from linerisk.register import OPEN_STATUSES

    x0, y0 = 520868.8941854074, 4332640.77833038
    px, py = 520839.4132770825, 4332646.334952046
    assert math.hypot(x0 - px, y0 - py) == reg.settings.duplicate_radius_m == 30
    first = add_at(reg, x0, y0)
    assert (first.location.x, first.location.y) == (x0, y0)
    near = reg.store.risks_near(px, py, 30.0, "garbage", OPEN_STATUSES)
    assert [rid for rid, _d in near] == [first.id]
    with pytest.raises(DuplicateRiskError) as info:
        add_at(reg, px, py)
    assert info.value.existing == near
