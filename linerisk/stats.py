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

from linerisk.bulk import collector_paused
from linerisk.errors import LineriskError
from linerisk.model import Status

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


#: the columns the counts read, in this order
_COLUMNS = (
    "lead_vertical",
    "lead_party",
    "category",
    "found_at",
    "status",
    "cleared_at",
    "deadline",
)


def _key_fn(by: str) -> Callable[[tuple, Callable[[str], dt.datetime]], tuple[str | None, str]]:
    """The group of a row of :data:`_COLUMNS` (``when`` parses its times)."""
    if by == "party":
        return lambda r, when: (r[0], r[1] or "")
    if by == "category":
        return lambda r, when: (None, r[2])
    if by == "month":
        # Month the risk was found in: the register's intake per month.
        return lambda r, when: (None, when(r[3]).strftime("%Y-%m"))
    raise LineriskError(f"cannot group by {by!r}; choose one of {', '.join(GROUPINGS)}")


@collector_paused()
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
    The register's columns are counted as they are, without building a
    :class:`~linerisk.model.Risk` per risk (a national register holds a million).
    """
    key_of = _key_fn(by)
    tz = register.settings.tzinfo
    on_dt = register.end_of_day(on) if on is not None else dt.datetime.now(tz)
    since_dt = register.start_of_day(since) if since is not None else on_dt - dt.timedelta(days=30)
    if since_dt > on_dt:
        raise LineriskError("the period's start (since) is after its end (on)")
    parsed: dict[str, dt.datetime] = {}

    def when(text: str) -> dt.datetime:
        # registers repeat their times (a day's findings, the deadlines they give)
        try:
            return parsed[text]
        except KeyError:
            value = parsed[text] = dt.datetime.fromisoformat(text)
            return value

    query = register.query(**filters)  # type: ignore[arg-type]
    groups: dict[tuple[str | None, str], list[tuple]] = {}
    for row in register.store.risk_values(query, _COLUMNS):
        groups.setdefault(key_of(row, when), []).append(row)
    is_open = {s.value for s in Status if s.is_open}
    cleared_status = Status.CLEARED.value
    # times as POSIX seconds, each distinct text once: comparing aware datetimes a
    # few million times costs seconds
    seconds: dict[str, float] = {}

    def at(text: str) -> float:
        try:
            return seconds[text]
        except KeyError:
            value = seconds[text] = when(text).timestamp()
            return value

    on_s, since_s = on_dt.timestamp(), since_dt.timestamp()
    rows = []
    for (vertical, key), members in groups.items():
        n_open = n_overdue = n_found = 0
        days: list[float] = []
        for _v, _p, _c, found_at, status, cleared_at, deadline in members:
            found = at(found_at)
            if since_s <= found <= on_s:
                n_found += 1
            if status in is_open:
                if found <= on_s:
                    n_open += 1
                    n_overdue += on_s > at(deadline)
            elif status == cleared_status and cleared_at:
                cleared = at(cleared_at)
                if since_s <= cleared <= on_s:
                    days.append((cleared - found) / 86400)
        rows.append(
            StatsRow(
                key=key,
                vertical=vertical,
                open=n_open,
                overdue=n_overdue,
                found=n_found,
                cleared=len(days),
                median_days_to_clear=round(statistics.median(days), 1) if days else None,
            )
        )
    order = {"police": 0, "railway": 1, "local": 2, None: 3}
    return sorted(rows, key=lambda r: (order.get(r.vertical, 3), r.key))
