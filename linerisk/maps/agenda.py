"""The joint-meeting agenda (联席会议议程).

For every party of the three verticals in a scope: the open items it leads,
overdue first, then the items it cleared in the period; after them the patrol
frequency changes of the period and the ground nobody answers for (coverage
gaps, fence gaps, damaged fence). Counts per party open the agenda.

    >>> from linerisk.maps.agenda import build_agenda, agenda_markdown, write_agenda
    >>> scope = resolve_scope(reg.network, police="天津站派出所")      # doctest: +SKIP
    >>> agenda = build_agenda(reg, scope, on="2026-11-25")              # doctest: +SKIP
    >>> write_agenda(agenda, "agenda.html")                             # doctest: +SKIP

The state of every item is the one its history records at the end of the
as-of day (``on``), so an agenda for a past meeting can be printed again;
location and parties are as the register holds them now. Renderers write
Markdown, one printable offline HTML page, CSV (one row per item) and XLSX
(a summary sheet and one sheet per vertical; needs openpyxl). Every piece of
user text (descriptions, notes, names) is escaped for the format it lands in.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from linerisk.chainage import format_chainage
from linerisk.errors import LineriskError
from linerisk.maps.scope import Scope, resolve_scope
from linerisk.maps.style import label, page_css, status_badge
from linerisk.model import Event, FenceCondition, Risk, Side, Status, Vertical

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.calibration import Calibration
    from linerisk.network import Network, Stretch
    from linerisk.patrol import PatrolChange
    from linerisk.register import Register

__all__ = [
    "FORMATS",
    "Agenda",
    "AgendaHeader",
    "AgendaItem",
    "CoverageGap",
    "DamagedFence",
    "FenceGap",
    "PartySection",
    "PatrolEntry",
    "VerticalSection",
    "agenda_csv",
    "agenda_html",
    "agenda_markdown",
    "build_agenda",
    "format_for",
    "write_agenda",
    "write_agenda_xlsx",
]

#: output formats and the file suffixes that choose them
FORMATS = ("md", "html", "csv", "xlsx")
_SUFFIXES = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".xlsx": "xlsx",
}

#: days before the as-of day that the period starts, when no ``since`` is given
DEFAULT_PERIOD_DAYS = 30
#: fence gaps this long or shorter (metres along the line) are not listed
DEFAULT_MIN_FENCE_GAP_M = 50.0

_GENESIS_SEQ = 0

#: every string of the agenda that the shared style does not already hold (zh, en)
_TEXT: dict[str, tuple[str, str]] = {
    "title": ("联席会议议程", "Joint meeting agenda"),
    "period": ("期间", "period"),
    "period_value": ("{since} 至 {on}", "{since} to {on}"),
    "chain": ("审计链", "audit chain"),
    "chain_value": ("第 {seq} 条 {hash}", "event {seq}, {hash}"),
    "ranges": ("线路范围", "stretches of line"),
    "summary": ("各单位统计", "Counts per party"),
    "vertical": ("条线", "vertical"),
    "party": ("单位", "party"),
    "open": ("在办", "open"),
    "overdue": ("超期", "overdue"),
    "cleared": ("期内销号", "cleared in the period"),
    "total": ("合计", "total"),
    "open_items": ("在办隐患（超期在前）", "Open items (overdue first)"),
    "cleared_items": ("{since} 以来销号", "Cleared since {since}"),
    "nothing_open": ("无在办隐患", "Nothing open"),
    "nothing_cleared": ("期内无销号", "Nothing cleared in the period"),
    "none": ("无", "None"),
    "party_counts": (
        "在办 {open}，超期 {overdue}，期内销号 {cleared}",
        "{open} open, {overdue} overdue, {cleared} cleared in the period",
    ),
    "no_party_police": ("未覆盖（无派出所）", "not covered (no police station)"),
    "no_party_railway": ("未覆盖（无工区）", "not covered (no work area)"),
    "no_party_local": ("未覆盖（无街道/镇）", "not covered (no street office or town)"),
    "id": ("编号", "id"),
    "category": ("类别", "category"),
    "severity": ("等级", "severity"),
    "status": ("状态", "status"),
    "location": ("位置", "location"),
    "lead_party": ("牵头单位", "lead party"),
    "deadline": ("整改期限", "deadline"),
    "days": ("天数", "days"),
    "text": ("描述 / 备注", "description / note"),
    "last_event": ("最近处置", "last event"),
    "days_open": ("已历时 {n} 天", "open {n} days"),
    "days_overdue": ("超期 {n} 天", "{n} days overdue"),
    "days_to_clear": ("历时 {n} 天销号", "cleared after {n} days"),
    "note_prefix": ("备注：", "Note: "),
    "patrol_changes": ("期内巡线频次调整", "Patrol frequency changes in the period"),
    "at": ("时间", "when"),
    "by": ("调整单位", "by"),
    "range": ("里程范围", "chainage range"),
    "segment": ("区段", "segment"),
    "per_week_change": ("频次（次/周）", "patrols a week"),
    "reason": ("原因", "reason"),
    "gaps": ("覆盖与护网缺口", "Coverage and fence gaps"),
    "coverage_gaps": ("责任覆盖缺口", "Coverage gaps"),
    "gap_police": ("无派出所辖区", "no police station"),
    "gap_railway": ("无工区（区段）", "no work area (segment)"),
    "gap_local": ("无街道/镇", "no street office or town"),
    "what": ("缺口", "gap"),
    "line": ("线路", "line"),
    "length": ("长度（米）", "length (m)"),
    "fence_gaps": ("护网缺口（长于 {n} 米）", "Fence gaps longer than {n} m"),
    "side": ("侧别", "side"),
    "damaged_fences": ("护网破损", "Damaged fence"),
    "fence": ("护网编号", "fence"),
    "damaged_total": (
        "破损合计：左侧 {left} 米，右侧 {right} 米",
        "damaged in total: {left} m on the left, {right} m on the right",
    ),
    "no_fence_data": ("台账中没有护网数据", "The register holds no fence data"),
    "section": ("栏目", "section"),
    "section_open": ("在办", "open"),
    "section_cleared": ("期内销号", "cleared"),
    "sheet_summary": ("汇总", "Summary"),
    "scope": ("范围", "scope"),
    "as_of": ("截至", "as of"),
    "generated": ("生成时间", "generated"),
    "print_hint": (
        "打印：A4 横向；每个条线另起一页，表头逐页重复。",
        "Print on A4 landscape: each vertical starts a new page and table headers repeat.",
    ),
}

#: CSV and XLSX columns of one item (zh, en)
_COLUMNS: dict[str, tuple[str, str]] = {
    "vertical": ("条线", "vertical"),
    "party": ("单位", "party"),
    "section": ("栏目", "section"),
    "id": ("编号", "id"),
    "ref": ("原编号", "ref"),
    "category": ("类别", "category"),
    "severity": ("等级", "severity"),
    "status": ("状态", "status"),
    "overdue": ("超期", "overdue"),
    "line": ("线路", "line"),
    "chainage": ("里程", "chainage"),
    "side": ("侧别", "side"),
    "offset_m": ("距中心(米)", "offset (m)"),
    "lead_party": ("牵头单位", "lead party"),
    "found_at": ("发现时间", "found at"),
    "deadline": ("整改期限", "deadline"),
    "cleared_at": ("销号时间", "cleared at"),
    "days_open": ("已历时(天)", "days open"),
    "days_overdue": ("超期(天)", "days overdue"),
    "description": ("描述", "description"),
    "note": ("备注", "note"),
    "last_at": ("最近处置时间", "last event at"),
    "last_by": ("最近处置人", "last event by"),
    "last_action": ("最近处置", "last event"),
    "last_note": ("处置说明", "last event note"),
}


def _t(key: str, lang: str, **values: object) -> str:
    zh, en = _TEXT[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def _column(key: str, lang: str) -> str:
    zh, en = _COLUMNS[key]
    return zh if lang == "zh" else en


# --------------------------------------------------------------------------- data


@attrs.frozen
class AgendaItem:
    """One risk on the agenda, in the state its history records at the as-of time.

    ``days_open`` counts from the day it was found to the as-of day (to the
    day it was cleared, for a cleared item); ``days_overdue`` is 0 unless the
    item is open and past its deadline.
    """

    risk: Risk
    category_label: str
    status: Status
    deadline: dt.datetime
    cleared_at: dt.datetime | None
    overdue: bool
    days_open: int
    days_overdue: int
    #: the last event at or before the as-of time (who, when, what)
    last_event: Event | None

    @property
    def id(self) -> int:
        return int(self.risk.id or 0)

    @property
    def ref(self) -> str:
        return self.risk.ref

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def where(self, lang: str = "zh") -> str:
        """``JD K5+870 左侧 距线路中心 38 米`` / ``JD K5+870 left, 38 m off the track``."""
        loc = self.risk.location
        offset = label("offset", lang, n=f"{loc.offset_m:.0f}")
        if lang == "zh":
            return f"{loc.line} {loc.chainage} {loc.side.label('zh')} {offset}"
        return f"{loc.line} {loc.chainage} {loc.side.label('en')}, {offset}"

    def days_text(self, lang: str = "zh") -> str:
        if self.overdue:
            return _t("days_overdue", lang, n=self.days_overdue)
        if self.is_open:
            return _t("days_open", lang, n=self.days_open)
        return _t("days_to_clear", lang, n=self.days_open)


@attrs.frozen
class PartySection:
    """What one party leads: its open items (overdue first) and its items cleared in
    the period. ``party`` is None for ground its vertical does not cover."""

    vertical: Vertical
    party: str | None
    open_items: tuple[AgendaItem, ...] = ()
    cleared_items: tuple[AgendaItem, ...] = ()

    @property
    def open(self) -> int:
        return len(self.open_items)

    @property
    def overdue(self) -> int:
        return sum(item.overdue for item in self.open_items)

    @property
    def cleared(self) -> int:
        return len(self.cleared_items)

    def name(self, lang: str = "zh") -> str:
        return self.party if self.party is not None else _t(f"no_party_{self.vertical}", lang)


@attrs.frozen
class VerticalSection:
    """The parties of one vertical, in the order they appear along the scope."""

    vertical: Vertical
    parties: tuple[PartySection, ...]

    @property
    def open(self) -> int:
        return sum(p.open for p in self.parties)

    @property
    def overdue(self) -> int:
        return sum(p.overdue for p in self.parties)

    @property
    def cleared(self) -> int:
        return sum(p.cleared for p in self.parties)


@attrs.frozen
class PatrolEntry:
    """A patrol frequency change of the period on ground in the scope."""

    change: PatrolChange
    #: ``K5+000-K6+500`` in the line's chainage prefix
    range_label: str


@attrs.frozen
class CoverageGap:
    """A stretch in the scope where one vertical has nobody: no police area, no
    segment (work area) or no street office/town. ``length_m`` is along the line."""

    vertical: Vertical
    line: str
    from_chainage: float
    to_chainage: float
    length_m: float
    prefix: str = "K"

    @property
    def label(self) -> str:
        return _range_label(self.from_chainage, self.to_chainage, self.prefix)


@attrs.frozen
class FenceGap:
    """A stretch of one side of the line in the scope with no fence."""

    line: str
    side: Side
    from_chainage: float
    to_chainage: float
    length_m: float
    prefix: str = "K"

    @property
    def label(self) -> str:
        return _range_label(self.from_chainage, self.to_chainage, self.prefix)


@attrs.frozen
class DamagedFence:
    """The part of a damaged fence piece that lies in the scope."""

    id: str
    line: str
    side: Side
    from_chainage: float
    to_chainage: float
    length_m: float
    kind: str = "wire_mesh"
    prefix: str = "K"

    @property
    def label(self) -> str:
        return _range_label(self.from_chainage, self.to_chainage, self.prefix)


@attrs.frozen
class AgendaHeader:
    """What the first lines and the footer of every rendering say."""

    title: str
    scope_title: str
    scope_kind: str
    #: the stretches of line the scope covers, e.g. ``津东线 K2+350-K11+000``
    ranges: tuple[str, ...]
    on: dt.date
    on_at: dt.datetime
    since: dt.date
    since_at: dt.datetime
    generated_at: dt.datetime
    #: the audit chain head when the agenda was made: its seq and first 16 hex digits
    chain_seq: int
    chain_hash: str
    min_fence_gap_m: float = DEFAULT_MIN_FENCE_GAP_M

    def chain_text(self, lang: str = "zh") -> str:
        return _t("chain_value", lang, seq=self.chain_seq, hash=self.chain_hash)

    def period_text(self, lang: str = "zh") -> str:
        return _t("period_value", lang, since=self.since.isoformat(), on=self.on.isoformat())


@attrs.frozen
class Agenda:
    """A joint-meeting agenda, ready to render in ``lang``."""

    lang: str
    header: AgendaHeader
    verticals: tuple[VerticalSection, ...]
    patrol_changes: tuple[PatrolEntry, ...]
    coverage_gaps: tuple[CoverageGap, ...]
    fence_gaps: tuple[FenceGap, ...]
    damaged_fences: tuple[DamagedFence, ...]
    has_fence_data: bool = True

    @property
    def parties(self) -> tuple[PartySection, ...]:
        return tuple(p for v in self.verticals for p in v.parties)

    @property
    def items(self) -> tuple[AgendaItem, ...]:
        """Every item, in agenda order."""
        return tuple(i for p in self.parties for i in (*p.open_items, *p.cleared_items))

    def party(self, vertical: Vertical | str, name: str | None) -> PartySection:
        """The section of one party (``name`` None: the uncovered ground)."""
        v = Vertical.parse(vertical)
        for p in self.parties:
            if p.vertical is v and p.party == name:
                return p
        raise LineriskError(f"no {v.value} party {name!r} is on the agenda")

    @property
    def totals(self) -> tuple[int, int, int]:
        """Open, overdue and cleared-in-the-period counts over every party."""
        return (
            sum(v.open for v in self.verticals),
            sum(v.overdue for v in self.verticals),
            sum(v.cleared for v in self.verticals),
        )


# --------------------------------------------------------------------------- building


def _range_label(c0: float, c1: float, prefix: str) -> str:
    return (
        f"{format_chainage(max(c0, 0.0), prefix=prefix, decimals=0)}-"
        f"{format_chainage(max(c1, 0.0), prefix=prefix, decimals=0)}"
    )


def _event_deadline(event: Event) -> str | None:
    data = event.data or {}
    value = data.get("deadline")
    if value is None and isinstance(data.get("record"), dict):
        value = data["record"].get("deadline")
    return value if isinstance(value, str) else None


def _as_of(risk: Risk, events: Sequence[Event], on_at: dt.datetime) -> AgendaItem | None:
    """The risk as its history stands at ``on_at``; None if it was not yet found."""
    if risk.found_at > on_at:
        return None
    seen = [e for e in events if e.at <= on_at]
    status = risk.status if not events else Status.REPORTED
    deadline = risk.deadline if not events else None
    cleared_at = risk.cleared_at if not events else None
    for e in seen:
        if e.to_status is not None:
            status = e.to_status
            if e.to_status is Status.CLEARED:
                cleared_at = e.at
        text = _event_deadline(e)
        if text:
            with contextlib.suppress(ValueError):
                deadline = dt.datetime.fromisoformat(text)
    if deadline is None:
        deadline = risk.deadline
    if status is not Status.CLEARED:
        cleared_at = None
    overdue = status.is_open and on_at > deadline
    end = cleared_at if (status is Status.CLEARED and cleared_at is not None) else on_at
    days_open = max((end.date() - risk.found_at.date()).days, 0)
    days_overdue = max((on_at.date() - deadline.date()).days, 1) if overdue else 0
    return AgendaItem(
        risk=risk,
        category_label="",
        status=status,
        deadline=deadline,
        cleared_at=cleared_at,
        overdue=overdue,
        days_open=days_open,
        days_overdue=days_overdue,
        last_event=seen[-1] if seen else None,
    )


def _forward_pairs(cal: Calibration, c0: Sequence[float], c1: Sequence[float]) -> np.ndarray:
    """Measures of chainage ranges (n×2): where a long chain repeats the end's
    chainage, the occurrence that lies ahead of the start is taken."""
    start, _ = cal.measures_at(np.asarray(c0, dtype=float))
    end, _ = cal.measures_at(np.asarray(c1, dtype=float))
    later, _ = cal.measures_at(np.asarray(c1, dtype=float), 2)
    end = np.where(end < start - 0.5, later, end)
    return np.column_stack([start, end]) if len(start) else np.zeros((0, 2))


def _clip(scope: Scope, line: str, m0: float, m1: float) -> list[tuple[float, float]]:
    """The parts of measures [m0, m1] of ``line`` inside the scope's ranges."""
    if not (np.isfinite(m0) and np.isfinite(m1)):
        return []
    out = []
    for rng in scope.ranges_of(line):
        ov = rng.overlap(m0, m1)
        if ov:
            out.append(ov)
    return out


def _coverage_gaps(
    net: Network, scope: Scope, stretches_of: dict[str, list[Stretch]]
) -> list[CoverageGap]:
    out: list[CoverageGap] = []
    for line_id in scope.lines:
        line = net.line(line_id)
        cal = net.calibration(line_id)
        stretches = stretches_of[line_id]
        if not stretches:
            continue
        # Stretches follow one another: walk their ends in order, taking the later
        # occurrence of a chainage repeated by a long chain when needed.
        ends = [c for s in stretches for c in (s.from_chainage, s.to_chainage)]
        first, _ = cal.measures_at(np.asarray(ends, dtype=float))
        second, _ = cal.measures_at(np.asarray(ends, dtype=float), 2)
        measures = []
        previous = -np.inf
        for a, b in zip(first, second, strict=True):
            m = float(b) if a < previous - 0.5 else float(a)
            measures.append(m)
            previous = max(previous, m)
        pieces: dict[Vertical, list[list[float]]] = {v: [] for v in Vertical}
        for k, s in enumerate(stretches):
            missing = s.parties.uncovered
            if not missing:
                continue
            for lo, hi in _clip(scope, line_id, measures[2 * k], measures[2 * k + 1]):
                for v in missing:
                    runs = pieces[v]
                    if runs and lo <= runs[-1][1] + 0.5:
                        runs[-1][1] = max(runs[-1][1], hi)
                    else:
                        runs.append([lo, hi])
        for v in Vertical:
            for lo, hi in pieces[v]:
                c0, c1 = (float(c) for c in cal.chainage_at(np.array([lo, hi])))
                out.append(CoverageGap(v, line_id, c0, c1, hi - lo, line.prefix))
    order = {v: i for i, v in enumerate(Vertical)}
    return sorted(out, key=lambda g: (order[g.vertical], g.line, g.from_chainage))


def _fence_pieces(net: Network, scope: Scope):
    """(fence, measure from, measure to) of every fence on a line of the scope."""
    by_line: dict[str, list] = {}
    for f in net.fences:
        by_line.setdefault(f.line, []).append(f)
    for line_id in scope.lines:
        fences = by_line.get(line_id, [])
        if not fences:
            continue
        cal = net.calibration(line_id)
        ms = _forward_pairs(cal, [f.from_chainage for f in fences], [f.to_chainage for f in fences])
        for f, (m0, m1) in zip(fences, ms, strict=True):
            yield f, float(m0), float(m1)


def _fence_findings(
    net: Network, scope: Scope, min_gap_m: float
) -> tuple[list[FenceGap], list[DamagedFence], bool]:
    pieces = list(_fence_pieces(net, scope))
    fenced_lines = {f.line for f, _a, _b in pieces}
    gaps: list[FenceGap] = []
    damaged: list[DamagedFence] = []
    for rng in scope.ranges:
        if rng.line not in fenced_lines:
            continue
        cal = net.calibration(rng.line)
        for side in Side:
            covered = sorted(
                ov
                for f, m0, m1 in pieces
                if f.line == rng.line and f.side is side and np.isfinite(m0) and np.isfinite(m1)
                for ov in [rng.overlap(m0, m1)]
                if ov
            )
            cursor = rng.from_measure
            holes = []
            for lo, hi in covered:
                if lo - cursor > min_gap_m:
                    holes.append((cursor, lo))
                cursor = max(cursor, hi)
            if rng.to_measure - cursor > min_gap_m:
                holes.append((cursor, rng.to_measure))
            for lo, hi in holes:
                c0, c1 = (float(c) for c in cal.chainage_at(np.array([lo, hi])))
                gaps.append(FenceGap(rng.line, side, c0, c1, hi - lo, rng.prefix))
        for f, m0, m1 in pieces:
            if f.line != rng.line or f.condition is not FenceCondition.DAMAGED:
                continue
            ov = rng.overlap(m0, m1) if np.isfinite(m0) and np.isfinite(m1) else None
            if not ov:
                continue
            whole = ov[0] <= m0 + 0.5 and ov[1] >= m1 - 0.5
            if whole:
                c0, c1 = f.from_chainage, f.to_chainage
            else:
                c0, c1 = (float(c) for c in cal.chainage_at(np.array(ov)))
            damaged.append(
                DamagedFence(f.id, f.line, f.side, c0, c1, ov[1] - ov[0], f.kind, rng.prefix)
            )
    side_order = {s: i for i, s in enumerate(Side)}
    gaps.sort(key=lambda g: (g.line, g.from_chainage, side_order[g.side]))
    damaged.sort(key=lambda d: (d.line, d.from_chainage, side_order[d.side]))
    return gaps, damaged, bool(net.fences)


def _patrol_entries(
    register: Register,
    net: Network,
    scope: Scope,
    since_at: dt.datetime,
    on_at: dt.datetime,
) -> list[PatrolEntry]:
    from linerisk.patrol import patrol_history

    out = []
    lines = set(scope.lines)
    for change in patrol_history(register, since_at):
        if change.at > on_at or change.line not in lines:
            continue
        cal = net.calibration(change.line)
        (m0, m1), *_ = _forward_pairs(cal, [change.from_chainage_m], [change.to_chainage_m])
        if not _clip(scope, change.line, float(m0), float(m1)):
            continue
        prefix = net.line(change.line).prefix
        out.append(
            PatrolEntry(change, _range_label(change.from_chainage_m, change.to_chainage_m, prefix))
        )
    return out


def _party_order(
    net: Network, scope: Scope, stretches_of: dict[str, list[Stretch]]
) -> dict[tuple[Vertical, str], int]:
    """Each party answering for ground in the scope, numbered along the line."""
    order: dict[tuple[Vertical, str], int] = {}
    for line_id in scope.lines:
        cal = net.calibration(line_id)
        for s in stretches_of[line_id]:
            (m0, m1), *_ = _forward_pairs(cal, [s.from_chainage], [s.to_chainage])
            if not _clip(scope, line_id, float(m0), float(m1)):
                continue
            for v in Vertical:
                name = s.parties.party(v)
                if name is not None:
                    order.setdefault((v, name), len(order))
    return order


def _sorted_open(items: Iterable[AgendaItem]) -> tuple[AgendaItem, ...]:
    """Overdue first (longest overdue first), then by deadline, then by id."""
    return tuple(sorted(items, key=lambda i: (not i.overdue, i.deadline, i.id)))


def build_agenda(
    register: Register,
    scope: Scope | None = None,
    *,
    on: dt.datetime | dt.date | str | None = None,
    since: dt.datetime | dt.date | str | None = None,
    lang: str = "zh",
    min_fence_gap_m: float = DEFAULT_MIN_FENCE_GAP_M,
) -> Agenda:
    """The agenda of a joint meeting on ``scope`` (default: the whole network).

    ``on`` is the as-of day (default today): each item's status, deadline and
    last event are those its history records by the end of that day, and
    overdue is judged then. ``since`` starts the period for cleared items and
    patrol changes (default: 30 days before ``on``). Fence gaps are listed
    when longer than ``min_fence_gap_m`` metres.
    """
    if lang not in ("zh", "en"):
        raise LineriskError(f"language must be zh or en, not {lang!r}")
    net = register.network
    scope = scope or resolve_scope(net)
    tz = register.settings.tzinfo
    now = dt.datetime.now(tz)
    on_at = register.end_of_day(on if on is not None else now.date())
    on_day = on_at.date()
    since_at = register.start_of_day(
        since if since is not None else on_day - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
    )
    if since_at > on_at:
        raise LineriskError("the period's start (since) is after its end (on)")
    catalog = register.settings.categories

    open_by: dict[tuple[Vertical, str | None], list[AgendaItem]] = {}
    cleared_by: dict[tuple[Vertical, str | None], list[AgendaItem]] = {}
    for risk in scope.select(register.risks(ground=scope.ground)):
        item = _as_of(risk, register.history(int(risk.id or 0)), on_at)
        if item is None:
            continue
        key = (risk.lead, risk.lead_party)
        if item.is_open:
            target = open_by
        elif (
            item.status is Status.CLEARED
            and item.cleared_at is not None
            and since_at <= item.cleared_at <= on_at
        ):
            target = cleared_by
        else:
            continue
        cat = catalog.get(risk.category) if risk.category in catalog else None
        item = attrs.evolve(item, category_label=cat.label(lang) if cat else risk.category)
        target.setdefault(key, []).append(item)

    stretches_of = {line_id: net.stretches(line_id) for line_id in scope.lines}
    along = _party_order(net, scope, stretches_of)
    keys = set(along) | set(open_by) | set(cleared_by)
    verticals = []
    for v in Vertical:
        mine = [k for k in keys if k[0] is v]
        mine.sort(key=lambda k: (k not in along, along.get(k, 0), k[1] is None, k[1] or ""))
        parties = tuple(
            PartySection(
                vertical=v,
                party=k[1],
                open_items=_sorted_open(open_by.get(k, ())),
                cleared_items=tuple(
                    sorted(cleared_by.get(k, ()), key=lambda i: (i.cleared_at, i.id))
                ),
            )
            for k in mine
        )
        verticals.append(VerticalSection(v, parties))

    fence_gaps, damaged, has_fences = _fence_findings(net, scope, min_fence_gap_m)
    head = register.store.get_meta("events_head") or {}
    ranges = tuple(f"{net.line(r.line).name(lang)} {r.label}" for r in scope.ranges)
    scope_title = scope.title(net, lang)
    header = AgendaHeader(
        title=f"{_t('title', lang)} · {scope_title}",
        scope_title=scope_title,
        scope_kind=scope.kind,
        ranges=ranges,
        on=on_day,
        on_at=on_at,
        since=since_at.date(),
        since_at=since_at,
        generated_at=now.replace(microsecond=0),
        chain_seq=int(head.get("seq", _GENESIS_SEQ)),
        chain_hash=str(head.get("hash", "0" * 64))[:16],
        min_fence_gap_m=float(min_fence_gap_m),
    )
    return Agenda(
        lang=lang,
        header=header,
        verticals=tuple(verticals),
        patrol_changes=tuple(_patrol_entries(register, net, scope, since_at, on_at)),
        coverage_gaps=tuple(_coverage_gaps(net, scope, stretches_of)),
        fence_gaps=tuple(fence_gaps),
        damaged_fences=tuple(damaged),
        has_fence_data=has_fences,
    )


# --------------------------------------------------------------------------- shared text


def _when(value: dt.datetime | None, seconds: bool = False) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _event_parts(event: Event | None, lang: str) -> tuple[str, str, str, str]:
    """(when, who, what, note) of an event, or four empty strings."""
    if event is None:
        return "", "", "", ""
    return _when(event.at), event.actor, event.action.label(lang), event.note or ""


def _event_text(event: Event | None, lang: str) -> str:
    when, who, what, note = _event_parts(event, lang)
    if not when:
        return ""
    colon = "：" if lang == "zh" else ": "
    return f"{when} {who} {what}" + (f"{colon}{note}" if note else "")


def _per_week(value: float | None, lang: str) -> str:
    return label("not_set", lang) if value is None else f"{value:g}"


def _metres(value: float) -> str:
    return f"{value:,.0f}"


def _item_columns(lang: str) -> list[str]:
    keys = ("id", "category", "severity", "status", "location", "lead_party", "deadline")
    return [_t(k, lang) for k in keys] + [_t(k, lang) for k in ("days", "text", "last_event")]


def _gap_name(vertical: Vertical, lang: str) -> str:
    return _t(f"gap_{vertical.value}", lang)


def _summary_rows(agenda: Agenda) -> list[tuple[str, str, int, int, int]]:
    lang = agenda.lang
    return [
        (p.vertical.label(lang), p.name(lang), p.open, p.overdue, p.cleared) for p in agenda.parties
    ]


def _footer_parts(agenda: Agenda) -> list[str]:
    from linerisk import __version__ as ver

    h, lang = agenda.header, agenda.lang
    return [
        h.scope_title,
        f"{_t('as_of', lang)} {h.on.isoformat()}",
        f"{_t('chain', lang)} {h.chain_text(lang)}",
        f"{_t('generated', lang)} {_when(h.generated_at)}",
        f"linerisk {ver}".strip(),
    ]


# --------------------------------------------------------------------------- Markdown

_MD_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "~": "\\~",
    }
)


def _md(value: object) -> str:
    """User text fit for a Markdown table cell or heading: HTML-significant characters
    become entities, Markdown syntax and pipes are backslash-escaped, and line
    breaks become ``<br>``."""
    text = "" if value is None else str(value)
    lines = [line.strip() for line in text.translate(_MD_ESCAPES).splitlines()]
    return "<br>".join(line for line in lines if line)


def _md_table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        out.append("| " + " | ".join(_md(c) for c in row) + " |")
    return out


def _item_cells(item: AgendaItem, lang: str) -> list[str]:
    """Cells of one item row as plain text (each renderer escapes them)."""
    risk = item.risk
    ident = f"{item.id} ({item.ref})" if item.ref else str(item.id)
    status = item.status.label(lang)
    if item.overdue:
        status += " · " + label("overdue", lang)
    text = risk.description
    if risk.note:
        text = (text + "\n" if text else "") + _t("note_prefix", lang) + risk.note
    return [
        ident,
        item.category_label,
        risk.severity.label(lang),
        status,
        item.where(lang),
        risk.lead_party or _t(f"no_party_{risk.lead.value}", lang),
        item.deadline.strftime("%Y-%m-%d"),
        item.days_text(lang),
        text,
        _event_text(item.last_event, lang),
    ]


def agenda_markdown(agenda: Agenda) -> str:
    """The agenda as Markdown (GitHub tables); every piece of user text is escaped."""
    lang, h = agenda.lang, agenda.header
    colon = "：" if lang == "zh" else ": "
    out = [f"# {_md(h.title)}", ""]
    meta = [
        (_t("as_of", lang), h.on.isoformat()),
        (_t("period", lang), h.period_text(lang)),
        (_t("ranges", lang), "; ".join(h.ranges)),
        (_t("chain", lang), h.chain_text(lang)),
        (_t("generated", lang), _when(h.generated_at)),
    ]
    out += [f"- {_md(key)}{colon}{_md(value)}" for key, value in meta]
    out += ["", f"## {_md(_t('summary', lang))}", ""]
    heads = [_t(k, lang) for k in ("vertical", "party", "open", "overdue", "cleared")]
    total = agenda.totals
    out += _md_table(heads, [*_summary_rows(agenda), (_t("total", lang), "", *total)])
    columns = _item_columns(lang)
    for section in agenda.verticals:
        out += ["", f"## {_md(section.vertical.label(lang))}"]
        if not section.parties:
            out += ["", _md(_t("none", lang))]
        for party in section.parties:
            out += ["", f"### {_md(party.name(lang))}", ""]
            counts = _t(
                "party_counts", lang, open=party.open, overdue=party.overdue, cleared=party.cleared
            )
            out.append(_md(counts))
            out += ["", f"#### {_md(_t('open_items', lang))}", ""]
            if party.open_items:
                out += _md_table(columns, (_item_cells(i, lang) for i in party.open_items))
            else:
                out.append(_md(_t("nothing_open", lang)))
            out += ["", f"#### {_md(_t('cleared_items', lang, since=h.since.isoformat()))}", ""]
            if party.cleared_items:
                out += _md_table(columns, (_item_cells(i, lang) for i in party.cleared_items))
            else:
                out.append(_md(_t("nothing_cleared", lang)))
    out += ["", f"## {_md(_t('patrol_changes', lang))}", ""]
    if agenda.patrol_changes:
        out += _md_table(
            _patrol_head(lang), (_patrol_cells(p, lang) for p in agenda.patrol_changes)
        )
    else:
        out.append(_md(_t("none", lang)))
    out += ["", f"## {_md(_t('gaps', lang))}"]
    for title, head, rows in _gap_tables(agenda):
        out += ["", f"### {_md(title)}", ""]
        out += _md_table(head, rows) if rows else [_md(_t("none", lang))]
    if agenda.damaged_fences:
        out += ["", _md(_damaged_total(agenda))]
    out += ["", "---", "", _md(" · ".join(_footer_parts(agenda))), ""]
    return "\n".join(out)


def _patrol_head(lang: str) -> list[str]:
    keys = ("at", "by", "line", "range", "segment", "per_week_change", "reason")
    return [_t(k, lang) for k in keys]


def _patrol_cells(entry: PatrolEntry, lang: str) -> list[str]:
    c = entry.change
    return [
        _when(c.at),
        c.actor,
        c.line,
        entry.range_label,
        c.segment,
        f"{_per_week(c.old_per_week, lang)} → {_per_week(c.new_per_week, lang)}",
        c.reason,
    ]


def _gap_tables(agenda: Agenda) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of the coverage gaps, fence gaps and damaged fence."""
    lang = agenda.lang
    coverage = [
        [_gap_name(g.vertical, lang), g.line, g.label, _metres(g.length_m)]
        for g in agenda.coverage_gaps
    ]
    fence_gaps = [
        [g.line, g.side.label(lang), g.label, _metres(g.length_m)] for g in agenda.fence_gaps
    ]
    damaged = [
        [d.id, d.line, d.side.label(lang), d.label, _metres(d.length_m)]
        for d in agenda.damaged_fences
    ]
    gap_title = _t("fence_gaps", lang, n=f"{agenda.header.min_fence_gap_m:g}")
    tables = [
        (
            _t("coverage_gaps", lang),
            [_t(k, lang) for k in ("what", "line", "range", "length")],
            coverage,
        )
    ]
    if not agenda.has_fence_data:
        note = [[_t("no_fence_data", lang)]]
        return [
            *tables,
            (gap_title, [_t("fence_gaps", lang, n="")], note),
            (_t("damaged_fences", lang), [_t("damaged_fences", lang)], note),
        ]
    return [
        *tables,
        (gap_title, [_t(k, lang) for k in ("line", "side", "range", "length")], fence_gaps),
        (
            _t("damaged_fences", lang),
            [_t(k, lang) for k in ("fence", "line", "side", "range", "length")],
            damaged,
        ),
    ]


def _damaged_total(agenda: Agenda) -> str:
    left = sum(d.length_m for d in agenda.damaged_fences if d.side is Side.LEFT)
    right = sum(d.length_m for d in agenda.damaged_fences if d.side is Side.RIGHT)
    return _t("damaged_total", agenda.lang, left=_metres(left), right=_metres(right))


# --------------------------------------------------------------------------- HTML


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot end the string or the style element."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " +-·,.:;()（）、：；/":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


def _agenda_css(agenda: Agenda) -> str:
    footer = _css_string(" · ".join(_footer_parts(agenda)[:3]))
    return f"""
.lr-agenda-meta{{display:flex;flex-wrap:wrap;gap:.2em 1.6em;margin:.5em 1em;
color:var(--lr-muted);font-size:.95em}}
.lr-agenda-meta b{{color:var(--lr-ink)}}
h3.lr-party{{font-size:1.1em;margin:1em 1em .15em}}
h4.lr-sub{{font-size:.98em;margin:.6em 1.1em .1em;color:var(--lr-muted)}}
.lr-party-counts{{margin:0 1.1em;font-size:.95em}}
.lr-party-counts .lr-od-text{{color:var(--lr-overdue);font-weight:700}}
table.lr-table{{width:calc(100% - 2em)}}
table.lr-table.lr-narrow{{width:auto}}
table.lr-table th{{white-space:nowrap}}
table.lr-table td.lr-nowrap{{white-space:nowrap}}
table.lr-table tr.lr-od td:first-child{{box-shadow:inset 4px 0 0 var(--lr-overdue)}}
table.lr-table td.lr-text{{white-space:pre-wrap;word-break:break-word;max-width:30em}}
table.lr-table td.lr-when{{white-space:nowrap;font-variant-numeric:tabular-nums}}
.lr-od-text{{color:var(--lr-overdue);font-weight:700}}
.lr-note{{color:var(--lr-muted)}}
.lr-empty{{margin:.2em 1.25em;color:var(--lr-muted)}}
.lr-total td{{font-weight:700}}
button.lr-print{{margin-left:auto;font:inherit;font-size:.9em;padding:.15em .9em;cursor:pointer;
border:1px solid var(--lr-rule);border-radius:4px;background:#f7f7f7}}
@page{{margin:10mm 10mm 14mm;
@bottom-left{{content:{footer};font-size:8pt;color:#555}}
@bottom-right{{content:counter(page) " / " counter(pages);font-size:8pt;color:#555}}}}
@media print{{
  thead{{display:table-header-group}}
  table.lr-table{{width:100%}}
  h3.lr-party,h4.lr-sub,.lr-party-counts{{break-after:avoid}}
  .lr-agenda-meta{{margin:.3em 0}}
  .lr-party-counts,h3.lr-party,h4.lr-sub{{margin-left:0}}
  .lr-empty{{margin-left:0}}
}}
"""


def _html_table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    narrow: bool = False,
    numeric: Sequence[int] = (),
) -> str:
    cls = "lr-table lr-narrow" if narrow else "lr-table"
    parts = [f'<table class="{cls}"><thead><tr>']
    parts += [f'<th scope="col">{escape(h)}</th>' for h in head]
    parts.append("</tr></thead><tbody>")
    for row in rows:
        cells = []
        for k, c in enumerate(row):
            attr = ' class="lr-num"' if k in numeric else ""
            cells.append(f"<td{attr}>{escape(c)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _html_items(items: Sequence[AgendaItem], lang: str) -> str:
    e = escape
    parts = ['<table class="lr-table"><thead><tr>']
    parts += [f'<th scope="col">{e(h)}</th>' for h in _item_columns(lang)]
    parts.append("</tr></thead><tbody>")
    for item in items:
        cells = _item_cells(item, lang)
        risk = item.risk
        text = f"<div>{e(risk.description)}</div>" if risk.description else ""
        if risk.note:
            text += f'<div class="lr-note">{e(_t("note_prefix", lang) + risk.note)}</div>'
        days = e(cells[7])
        if item.overdue:
            days = f'<span class="lr-od-text">{days}</span>'
        row_cls = ' class="lr-od"' if item.overdue else ""
        parts.append(
            f'<tr{row_cls} data-risk-id="{item.id}">'
            f'<td class="lr-nowrap">{e(cells[0])}</td>'
            f"<td>{e(cells[1])}</td>"
            f'<td class="lr-nowrap">{e(cells[2])}</td>'
            f"<td>{status_badge(item.status.value, lang, item.overdue)}</td>"
            f"<td>{e(cells[4])}</td>"
            f"<td>{e(cells[5])}</td>"
            f'<td class="lr-when">{e(cells[6])}</td>'
            f"<td>{days}</td>"
            f'<td class="lr-text">{text}</td>'
            f'<td class="lr-text">{e(cells[9])}</td>'
            "</tr>"
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def agenda_html(agenda: Agenda) -> str:
    """The agenda as one printable HTML page in the look of the meeting map.

    It loads nothing (no scripts, fonts or images from anywhere); every vertical
    starts a new printed page and table headers repeat on each page.
    """
    e = escape
    lang, h = agenda.lang, agenda.header
    total_open, total_overdue, total_cleared = agenda.totals
    counts = (
        f'<span class="lr-count">{e(_t("open", lang))} <b>{total_open}</b></span>'
        f'<span class="lr-count lr-overdue">{e(_t("overdue", lang))} <b>{total_overdue}</b></span>'
        f'<span class="lr-count">{e(_t("cleared", lang))} <b>{total_cleared}</b></span>'
    )
    meta = [
        (_t("period", lang), h.period_text(lang)),
        (_t("ranges", lang), "; ".join(h.ranges)),
        (_t("chain", lang), h.chain_text(lang)),
    ]
    meta_html = "".join(f"<span>{e(k)} <b>{e(v)}</b></span>" for k, v in meta)
    body = []
    summary_rows = [(v, p, str(o), str(od), str(c)) for v, p, o, od, c in _summary_rows(agenda)]
    heads = [_t(k, lang) for k in ("vertical", "party", "open", "overdue", "cleared")]
    table = _html_table(heads, summary_rows, narrow=True, numeric=(2, 3, 4))
    total_row = (
        f'<tr class="lr-total"><td>{e(_t("total", lang))}</td><td></td>'
        f'<td class="lr-num">{total_open}</td><td class="lr-num">{total_overdue}</td>'
        f'<td class="lr-num">{total_cleared}</td></tr>'
    )
    table = table.replace("</tbody>", total_row + "</tbody>")
    body.append(
        f'<section class="lr-summary"><h2 class="lr-section">{e(_t("summary", lang))}</h2>'
        f'<p class="lr-hint lr-noprint">{e(_t("print_hint", lang))}</p>{table}</section>'
    )
    since = h.since.isoformat()
    for section in agenda.verticals:
        part = [
            f'<section class="lr-vertical lr-pagebreak" data-vertical="{section.vertical.value}">'
            f'<h2 class="lr-section">{e(section.vertical.label(lang))}</h2>'
        ]
        if not section.parties:
            part.append(f'<p class="lr-empty">{e(_t("none", lang))}</p>')
        for party in section.parties:
            counts_text = _t(
                "party_counts", lang, open=party.open, overdue=party.overdue, cleared=party.cleared
            )
            od_cls = ' class="lr-od-text"' if party.overdue else ""
            part.append(
                f'<h3 class="lr-party">{e(party.name(lang))}</h3>'
                f'<p class="lr-party-counts"><span{od_cls}>{e(counts_text)}</span></p>'
                f'<h4 class="lr-sub">{e(_t("open_items", lang))}</h4>'
            )
            if party.open_items:
                part.append(_html_items(party.open_items, lang))
            else:
                part.append(f'<p class="lr-empty">{e(_t("nothing_open", lang))}</p>')
            part.append(f'<h4 class="lr-sub">{e(_t("cleared_items", lang, since=since))}</h4>')
            if party.cleared_items:
                part.append(_html_items(party.cleared_items, lang))
            else:
                part.append(f'<p class="lr-empty">{e(_t("nothing_cleared", lang))}</p>')
        part.append("</section>")
        body.append("".join(part))
    rest = [
        '<section class="lr-pagebreak lr-gaps">'
        f'<h2 class="lr-section">{e(_t("patrol_changes", lang))}</h2>'
    ]
    if agenda.patrol_changes:
        rows = [_patrol_cells(p, lang) for p in agenda.patrol_changes]
        rest.append(_html_table(_patrol_head(lang), rows))
    else:
        rest.append(f'<p class="lr-empty">{e(_t("none", lang))}</p>')
    rest.append(f'<h2 class="lr-section">{e(_t("gaps", lang))}</h2>')
    for title, head, rows in _gap_tables(agenda):
        rest.append(f'<h3 class="lr-party">{e(title)}</h3>')
        if rows:
            rest.append(_html_table(head, rows, narrow=True, numeric=(len(head) - 1,)))
        else:
            rest.append(f'<p class="lr-empty">{e(_t("none", lang))}</p>')
    if agenda.damaged_fences:
        rest.append(f'<p class="lr-party-counts">{e(_damaged_total(agenda))}</p>')
    rest.append("</section>")
    body.append("".join(rest))
    footer = " · ".join(_footer_parts(agenda))
    print_label = e(label("print", lang))
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(h.title)}</title>
<link rel="icon" href="data:,">
<style>{page_css()}{_agenda_css(agenda)}</style>
</head>
<body class="lr-agenda">
<header class="lr-header">
<h1>{e(h.title)}</h1>
<span class="lr-meta">{e(_t("as_of", lang))} <b>{e(h.on.isoformat())}</b></span>
<span class="lr-counts">{counts}</span>
<button type="button" class="lr-noprint lr-print" onclick="window.print()">{print_label}</button>
</header>
<div class="lr-agenda-meta">{meta_html}</div>
{chr(10).join(body)}
<footer class="lr-footer">{e(footer)}</footer>
</body>
</html>
"""


# --------------------------------------------------------------------------- CSV and XLSX

_ROW_KEYS = tuple(_COLUMNS)
#: user-typed columns: a leading = + - @ would be read as a formula by a spreadsheet
_FREE_TEXT = ("party", "lead_party", "description", "note", "last_by", "last_note")
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def _item_record(item: AgendaItem, party: PartySection, section: str, lang: str) -> dict[str, Any]:
    risk = item.risk
    loc = risk.location
    _when_text, who, what, note = _event_parts(item.last_event, lang)
    return {
        "vertical": party.vertical.label(lang),
        "party": party.name(lang),
        "section": _t(f"section_{section}", lang),
        "id": item.id,
        "ref": item.ref,
        "category": item.category_label,
        "severity": risk.severity.label(lang),
        "status": item.status.label(lang),
        "overdue": label("overdue", lang) if item.overdue else "",
        "line": loc.line,
        "chainage": loc.chainage,
        "side": loc.side.label(lang),
        "offset_m": round(loc.offset_m, 1),
        "lead_party": risk.lead_party or _t(f"no_party_{risk.lead.value}", lang),
        "found_at": risk.found_at,
        "deadline": item.deadline,
        "cleared_at": item.cleared_at,
        "days_open": item.days_open,
        "days_overdue": item.days_overdue,
        "description": risk.description,
        "note": risk.note,
        "last_at": item.last_event.at if item.last_event else None,
        "last_by": who,
        "last_action": what,
        "last_note": note,
    }


def _records(agenda: Agenda) -> list[tuple[Vertical, dict[str, Any]]]:
    out = []
    for party in agenda.parties:
        for item in party.open_items:
            out.append((party.vertical, _item_record(item, party, "open", agenda.lang)))
        for item in party.cleared_items:
            out.append((party.vertical, _item_record(item, party, "cleared", agenda.lang)))
    return out


def _plain(key: str, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _when(value)
    if value is None:
        return ""
    if key in _FREE_TEXT and isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def agenda_csv(agenda: Agenda) -> str:
    """The agenda's items as CSV: one row per item, with its vertical, party and
    section (open, or cleared in the period) as the first columns. Headers are
    in the agenda's language."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_column(k, agenda.lang) for k in _ROW_KEYS])
    for _v, record in _records(agenda):
        writer.writerow([_plain(k, record[k]) for k in _ROW_KEYS])
    return buf.getvalue()


def write_agenda_xlsx(agenda: Agenda, path: str | Path) -> Path:
    """Write the agenda as an Excel workbook: a summary sheet (header, counts per
    party, patrol changes, gaps) and one sheet of items per vertical. Needs
    openpyxl (``pip install 'linerisk[xlsx]'``)."""
    try:
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise LineriskError(
            "writing XLSX needs openpyxl; install it with: pip install 'linerisk[xlsx]'"
        ) from None

    lang, h = agenda.lang, agenda.header
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="F0F2F7")
    overdue_fill = PatternFill("solid", fgColor="FBE3E3")
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(ws, row: int, col: int, value: Any):
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=None)
        elif isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = ws.cell(row=row, column=col, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text, never a formula
        if isinstance(value, dt.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        return cell

    def table(ws, row: int, head: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        for k, text in enumerate(head, start=1):
            c = put(ws, row, k, text)
            c.font, c.fill = bold, head_fill
        for values in rows:
            row += 1
            for k, v in enumerate(values, start=1):
                put(ws, row, k, v)
        return row + 2

    wb = Workbook()
    ws = wb.active
    ws.title = _t("sheet_summary", lang)
    put(ws, 1, 1, h.title).font = Font(bold=True, size=14)
    meta = [
        (_t("scope", lang), h.scope_title),
        (_t("ranges", lang), "; ".join(h.ranges)),
        (_t("as_of", lang), h.on.isoformat()),
        (_t("period", lang), h.period_text(lang)),
        (_t("chain", lang), h.chain_text(lang)),
        (_t("generated", lang), _when(h.generated_at)),
    ]
    row = 2
    for key, value in meta:
        put(ws, row, 1, key).font = bold
        put(ws, row, 2, value)
        row += 1
    row += 1
    put(ws, row, 1, _t("summary", lang)).font = bold
    heads = [_t(k, lang) for k in ("vertical", "party", "open", "overdue", "cleared")]
    rows = [*_summary_rows(agenda), (_t("total", lang), "", *agenda.totals)]
    row = table(ws, row + 1, heads, rows)
    put(ws, row, 1, _t("patrol_changes", lang)).font = bold
    row = table(
        ws, row + 1, _patrol_head(lang), (_patrol_cells(p, lang) for p in agenda.patrol_changes)
    )
    for title, head, gap_rows in _gap_tables(agenda):
        put(ws, row, 1, title).font = bold
        row = table(ws, row + 1, head, gap_rows)
    if agenda.damaged_fences:
        put(ws, row, 1, _damaged_total(agenda))
    for k, width in enumerate((16, 26, 24, 18, 14, 16, 30), start=1):
        ws.column_dimensions[get_column_letter(k)].width = width

    keys = [k for k in _ROW_KEYS if k != "vertical"]
    widths = {"party": 16, "description": 48, "note": 30, "last_note": 30, "last_by": 20}
    records = _records(agenda)
    for section in agenda.verticals:
        sheet = wb.create_sheet(section.vertical.label(lang)[:31])
        for k, key in enumerate(keys, start=1):
            c = put(sheet, 1, k, _column(key, lang))
            c.font, c.fill = bold, head_fill
            sheet.column_dimensions[get_column_letter(k)].width = widths.get(key, 12)
        r = 1
        for vertical, record in records:
            if vertical is not section.vertical:
                continue
            r += 1
            for k, key in enumerate(keys, start=1):
                c = put(sheet, r, k, record[key])
                if key in ("description", "note", "last_note"):
                    c.alignment = wrap
                if record["overdue"]:
                    c.fill = overdue_fill
        sheet.freeze_panes = "A2"
        if r > 1:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{r}"
        sheet.print_title_rows = "1:1"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.oddFooter.left.text = " · ".join(_footer_parts(agenda)[:3]).replace("&", "&&")
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- files


def format_for(path: str | Path | None, fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else from the file suffix, else ``md``."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise LineriskError(
                f"unknown agenda format {fmt!r}; choose one of {', '.join(FORMATS)}"
            )
        return fmt
    if path is None:
        return "md"
    return _SUFFIXES.get(Path(path).suffix.lower(), "md")


def render_agenda(agenda: Agenda, fmt: str) -> str:
    """The agenda as text in ``fmt`` (``md``, ``html`` or ``csv``)."""
    if fmt == "md":
        return agenda_markdown(agenda)
    if fmt == "html":
        return agenda_html(agenda)
    if fmt == "csv":
        return agenda_csv(agenda)
    raise LineriskError(f"an agenda in {fmt} is not text; write it to a file")


def write_agenda(agenda: Agenda, path: str | Path, fmt: str | None = None) -> Path:
    """Write the agenda to ``path`` in ``fmt`` (default: from the suffix, else
    Markdown); the file appears whole or not at all. CSV gets a byte-order mark so
    that spreadsheet programs read the Chinese correctly."""
    fmt = format_for(path, fmt)
    path = Path(path)
    if fmt == "xlsx":
        return write_agenda_xlsx(agenda, path)
    text = render_agenda(agenda, fmt)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    tmp.replace(path)
    return path
