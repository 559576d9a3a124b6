"""Dynamic clearing to zero (动态清零): open, overdue and cleared counts, and how long
clearing takes, grouped by party, category or month.

    >>> import os, tempfile
    >>> from linerisk import build_sample_register
    >>> from linerisk.stats import clearing_stats
    >>> reg = build_sample_register(os.path.join(tempfile.mkdtemp(), "r.gpkg"))
    >>> for row in clearing_stats(reg, by="category", on="2026-11-25")[:3]:
    ...     print(row.key, row.open, row.overdue, row.cleared, row.median_days_to_clear)
    burning 0 0 1 16.3
    cable_theft 0 0 0 None
    farm_machinery 1 0 1 15.0
    >>> reg.close()
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from linerisk.errors import LineriskError
from linerisk.model import Risk, Status

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.register import Register

__all__ = ["GROUPINGS", "StatsRow", "clearing_stats"]

GROUPINGS = ("party", "category", "month")


@attrs.frozen
class StatsRow:
    """Counts for one group.

    ``open`` and ``overdue`` are as of the end of ``on``; ``found`` and
    ``cleared`` count risks found or cleared within the period
    ``[since, on]``; ``median_days_to_clear`` is over the risks cleared in the
    period (found → cleared), None when there are none.
    """

    key: str
    vertical: str | None
    open: int
    overdue: int
    found: int
    cleared: int
    median_days_to_clear: float | None


def _key_fn(by: str) -> Callable[[Risk], tuple[str | None, str]]:
    if by == "party":
        return lambda r: (r.lead.value, r.lead_party or "")
    if by == "category":
        return lambda r: (None, r.category)
    if by == "month":
        # Month the risk was found in: the register's intake per month.
        return lambda r: (None, r.found_at.strftime("%Y-%m"))
    raise LineriskError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")


def clearing_stats(
    register: Register,
    *,
    by: str = "party",
    on: dt.datetime | dt.date | str | None = None,
    since: dt.datetime | dt.date | str | None = None,
    **filters: object,
) -> list[StatsRow]:
    """Counts per group; ``since`` defaults to 30 days before ``on`` (default today).

    Extra keyword arguments filter the risks as :meth:`Register.risks` does.
    """
    key_of = _key_fn(by)
    tz = register.settings.tzinfo
    on_dt = register.end_of_day(on) if on is not None else dt.datetime.now(tz)
    since_dt = register.start_of_day(since) if since is not None else on_dt - dt.timedelta(days=30)
    if since_dt > on_dt:
        raise LineriskError("the period's start (since) is after its end (on)")
    groups: dict[tuple[str | None, str], list[Risk]] = {}
    for risk in register.risks(**filters):  # type: ignore[arg-type]
        groups.setdefault(key_of(risk), []).append(risk)
    rows = []
    for (vertical, key), risks in groups.items():
        open_ = [r for r in risks if r.is_open and r.found_at <= on_dt]
        cleared = [
            r
            for r in risks
            if r.status is Status.CLEARED and r.cleared_at and since_dt <= r.cleared_at <= on_dt
        ]
        days = [(r.cleared_at - r.found_at).total_seconds() / 86400 for r in cleared]
        rows.append(
            StatsRow(
                key=key,
                vertical=vertical,
                open=len(open_),
                overdue=sum(r.is_overdue(on_dt) for r in open_),
                found=sum(since_dt <= r.found_at <= on_dt for r in risks),
                cleared=len(cleared),
                median_days_to_clear=round(statistics.median(days), 1) if days else None,
            )
        )
    order = {"police": 0, "railway": 1, "local": 2, None: 3}
    return sorted(rows, key=lambda r: (order.get(r.vertical, 3), r.key))
