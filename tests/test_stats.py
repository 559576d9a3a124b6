"""The clearing-to-zero counts (linerisk stats) are counted from the register's
columns without building a Risk per risk; here they are held to the same counts
worked out from the Risk objects, on the sample register's histories."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest

from linerisk.stats import clearing_stats


def _expected(reg, by: str, on: str, since: str, **filters) -> list[tuple]:
    on_dt = reg.end_of_day(on)
    since_dt = reg.start_of_day(since)
    groups: dict[tuple, list] = {}
    for r in reg.risks(**filters):
        if by == "party":
            key = (r.lead.value, r.lead_party or "")
        elif by == "category":
            key = (None, r.category)
        else:
            key = (None, r.found_at.strftime("%Y-%m"))
        groups.setdefault(key, []).append(r)
    out = []
    for (vertical, key), risks in groups.items():
        open_ = [r for r in risks if r.is_open and r.found_at <= on_dt]
        cleared = [
            r
            for r in risks
            if r.status.value == "cleared" and r.cleared_at and since_dt <= r.cleared_at <= on_dt
        ]
        days = [(r.cleared_at - r.found_at) / dt.timedelta(days=1) for r in cleared]
        out.append(
            (
                key,
                vertical,
                len(open_),
                sum(r.is_overdue(on_dt) for r in open_),
                sum(since_dt <= r.found_at <= on_dt for r in risks),
                len(cleared),
                round(statistics.median(days), 1) if days else None,
            )
        )
    order = {"police": 0, "railway": 1, "local": 2, None: 3}
    return sorted(out, key=lambda t: (order.get(t[1], 3), t[0]))


@pytest.mark.parametrize("by", ["party", "category", "month"])
@pytest.mark.parametrize(
    ("on", "since"),
    [("2026-11-25", "2026-10-26"), ("2026-11-25", "2026-01-01"), ("2026-10-01", "2026-09-01")],
)
def test_counts_are_those_of_the_risks(sample_register, by, on, since):
    got = [
        (r.key, r.vertical, r.open, r.overdue, r.found, r.cleared, r.median_days_to_clear)
        for r in clearing_stats(sample_register, by=by, on=on, since=since)
    ]
    assert got == _expected(sample_register, by, on, since)
    assert sum(row[2] for row in got) > 0


def test_filters_narrow_the_counts_as_they_narrow_the_risks(sample_register):
    got = [
        (r.key, r.vertical, r.open, r.overdue, r.found, r.cleared, r.median_days_to_clear)
        for r in clearing_stats(
            sample_register, by="category", on="2026-11-25", since="2026-01-01", status="open"
        )
    ]
    assert got == _expected(sample_register, "category", "2026-11-25", "2026-01-01", status="open")
    assert all(row[5] == 0 for row in got)  # nothing open is cleared


@pytest.mark.parametrize("on", ["2026-11-25", "2026-10-01"])
def test_patrol_advice_counts_the_open_risks_and_damaged_fence_of_each_segment(sample_register, on):
    """`patrol advise` counts plain columns too; here its counts are held to
    those worked out from the open Risk objects and the network's fences."""
    from linerisk.model import FenceCondition
    from linerisk.patrol import advise

    reg = sample_register
    on_dt = reg.end_of_day(on)
    advice = advise(reg, on=on)
    assert advice and any(a.open_risks for a in advice) and any(a.overdue_risks for a in advice)
    for a in advice:
        mine = [r for r in reg.risks(status="open") if r.parties.segment == a.segment.id]
        assert a.open_risks == len(mine)
        assert a.overdue_risks == sum(r.is_overdue(on_dt) for r in mine)
        fence = sum(
            max(
                min(f.to_chainage, a.segment.to_chainage)
                - max(f.from_chainage, a.segment.from_chainage),
                0.0,
            )
            for f in reg.network.fences
            if f.line == a.segment.line and f.condition is FenceCondition.DAMAGED
        )
        assert a.damaged_fence_m == pytest.approx(fence)
    assert any(a.damaged_fence_m for a in advice)


def test_patrol_advice_for_one_line_reads_its_fences(sample_register_path, tmp_path):
    """Read alone, a line comes with its fences: the damaged fence of each segment
    is the same as on the whole network."""
    import shutil

    from linerisk.patrol import advise
    from linerisk.register import Register

    path = tmp_path / "r.gpkg"
    shutil.copy(sample_register_path, path)
    with Register.open(path) as part, Register.open(path) as whole:
        assert whole.network.fences
        want = advise(whole, on="2026-11-25")
        got = advise(part, on="2026-11-25", line="JD")
        assert not part.network_loaded
        assert got == want and any(a.damaged_fence_m for a in got)
