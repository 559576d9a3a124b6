"""Patrol frequency (巡线频次): the works section changes it on chainage ranges, and
linerisk advises where it is low for what is open there.

    >>> import os, tempfile
    >>> from linerisk import build_sample_register
    >>> from linerisk.patrol import set_patrol
    >>> reg = build_sample_register(os.path.join(tempfile.mkdtemp(), "r.gpkg"))
    >>> changes = set_patrol(reg, line="JD", start="K5+000", end="K6+500", per_week=14,
    ...                      by="天津工务段", reason="张贵庄段轻质飘浮物未清")
    >>> [(c.segment, c.from_chainage_m, c.to_chainage_m, c.old_per_week, c.new_per_week)
    ...  for c in changes]
    [('JD-02@K5+000', 5000.0, 5600.0, 12.0, 14.0), ('JD-03', 5600.0, 6500.0, 7.0, 14.0)]
    >>> reg.close()
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from linerisk.calibration import ChainageStatus
from linerisk.chainage import format_chainage, parse_chainage
from linerisk.errors import LineriskError
from linerisk.model import FenceCondition, Segment, Severity

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.network import Network
    from linerisk.register import Register

__all__ = [
    "DEFAULT_ADVICE_RULE",
    "PatrolAdvice",
    "PatrolChange",
    "advise",
    "patrol_history",
    "patrol_segments",
    "set_patrol",
]

#: the documented default rule of :func:`advise`; a register overrides any key
#: with its ``patrol_rule`` setting.
DEFAULT_ADVICE_RULE: dict[str, Any] = {
    # least patrols a week for any stretch, by area class
    "base_per_week": {"urban": 7, "suburban": 5, "village": 3, "other": 2},
    # extra patrols a week for each open risk on the stretch, by severity
    "per_open_risk": {"critical": 3, "major": 2, "general": 1},
    # extra patrols a week for each overdue open risk
    "per_overdue_risk": 2,
    # extra patrols a week per started 100 m of damaged fence
    "per_100m_damaged_fence": 1,
    # never advise more than this (two patrols a day)
    "max_per_week": 14,
}


@attrs.frozen
class PatrolChange:
    """One recorded change of patrol frequency on one segment."""

    id: int
    at: dt.datetime
    actor: str
    line: str
    from_chainage_m: float
    to_chainage_m: float
    segment: str
    old_per_week: float | None
    new_per_week: float
    reason: str


@attrs.frozen
class PatrolAdvice:
    """A segment whose patrol frequency is below what its open risks call for."""

    segment: Segment
    current_per_week: float | None
    suggested_per_week: int
    open_risks: int
    overdue_risks: int
    damaged_fence_m: float
    #: why, in English (stable text for JSON)
    reasons: tuple[str, ...]
    #: the same reasons in Chinese
    reasons_zh: tuple[str, ...] = ()

    def reasons_in(self, lang: str = "zh") -> tuple[str, ...]:
        """The reasons in ``lang`` (``zh`` or ``en``)."""
        return self.reasons_zh if lang == "zh" and self.reasons_zh else self.reasons


def _owns(by: str, seg: Segment) -> bool:
    """Whether the organisation in ``by`` answers for ``seg``.

    ``by`` names a works section, workshop or work area, optionally followed
    by a person (``"天津工务段 张强"``).
    """
    names = {seg.works_section, seg.workshop, seg.work_area}
    org = by.strip()
    return org in names or org.split()[0] in names


def _new_id(existing: set[str], base: str, at: float, prefix: str) -> str:
    candidate = f"{base}@{format_chainage(at, prefix=prefix, decimals=0)}"
    n = 2
    while candidate in existing:
        candidate = f"{base}@{format_chainage(at, prefix=prefix, decimals=0)}-{n}"
        n += 1
    return candidate


def set_patrol(
    register: Register,
    *,
    line: str,
    start: str | float,
    end: str | float,
    per_week: float,
    by: str,
    reason: str = "",
    at: dt.datetime | str | None = None,
) -> list[PatrolChange]:
    """Set the patrol frequency on a chainage range of a line.

    Segments are split at the range ends where needed, so that exactly the
    range changes. Every segment in the range must belong to the organisation
    named in ``by`` (works section, workshop or work area); otherwise nothing
    changes. Returns one :class:`PatrolChange` per segment changed.
    """
    if not str(by or "").strip():
        raise LineriskError("a patrol change needs the organisation making it (by)")
    if not (isinstance(per_week, int | float) and math.isfinite(per_week) and per_week >= 0):
        raise LineriskError(f"patrols per week must be a number >= 0, not {per_week!r}")
    net = _line_network(register, line)
    ln = net.line(line)
    lo = parse_chainage(start).metres
    hi = parse_chainage(end).metres
    if hi <= lo:
        raise LineriskError(
            f"the range {format_chainage(lo)}-{format_chainage(hi)} must increase along the line"
        )
    cal = net.calibration(line)
    (m_lo, m_hi), status = cal.measures_at([lo, hi])
    if (status == ChainageStatus.NONEXISTENT).any():
        raise LineriskError(
            f"the range {format_chainage(lo)}-{format_chainage(hi)} starts or ends inside a "
            "short chain (断链)"
        )
    extent = net.chainage_extent(line)
    if m_lo < -0.5 or m_hi > net.index.lengths[net.line_index(line)] + 0.5:
        raise LineriskError(
            f"the range {format_chainage(lo)}-{format_chainage(hi)} is outside line {line}, "
            f"which runs {format_chainage(extent[0])}-{format_chainage(extent[1])}"
        )
    # Segments of this line overlapping the range, with their measures.
    touched: list[tuple[int, Segment, float, float]] = []
    for i, seg in enumerate(net.segments):
        if seg.line != line:
            continue
        s0, s1 = net.segment_measures(i)
        if s1 > m_lo + 1e-6 and s0 < m_hi - 1e-6:
            touched.append((i, seg, s0, s1))
    if not touched:
        raise LineriskError(
            f"no segment of line {line} lies in {format_chainage(lo)}-{format_chainage(hi)}"
        )
    foreign = [seg for _i, seg, _a, _b in touched if not _owns(by, seg)]
    if foreign:
        seg = foreign[0]
        raise LineriskError(
            f"segment {seg.id} ({format_chainage(seg.from_chainage)}-"
            f"{format_chainage(seg.to_chainage)}) belongs to {seg.works_section} "
            f"{seg.workshop} {seg.work_area}, not to {by}; narrow the range or give the "
            "organisation that owns it"
        )
    tz = register.settings.tzinfo
    now = dt.datetime.now(tz)
    when = register.parse_time(at, now)
    existing_ids = set(register.store.layer_keys("segments"))
    store = register.store
    changes: list[PatrolChange] = []
    with register.transaction():
        for _i, seg, s0, s1 in touched:
            pieces: list[tuple[float, float, float]] = []  # (from_ch, to_ch, measure_from)
            cut_lo = seg.from_chainage < lo - 1e-6 and s0 < m_lo - 1e-6
            cut_hi = seg.to_chainage > hi + 1e-6 and s1 > m_hi + 1e-6
            inside_from = lo if cut_lo else seg.from_chainage
            inside_to = hi if cut_hi else seg.to_chainage
            if cut_lo:
                pieces.append((seg.from_chainage, lo, s0))
            pieces.append((inside_from, inside_to, m_lo if cut_lo else s0))
            if cut_hi:
                pieces.append((hi, seg.to_chainage, m_hi))
            new_segments: list[Segment] = []
            for k, (f, t, _m) in enumerate(pieces):
                if k == 0:
                    sid = seg.id
                else:
                    sid = _new_id(existing_ids, seg.id, f, ln.prefix)
                    existing_ids.add(sid)
                new_segments.append(attrs.evolve(seg, id=sid, from_chainage=f, to_chainage=t))
            inside_index = 1 if cut_lo else 0
            target = new_segments[inside_index]
            new_segments[inside_index] = attrs.evolve(target, patrol_per_week=float(per_week))
            _replace_segment(register, net, seg, new_segments)
            row = {
                "at": when.isoformat(timespec="seconds"),
                "actor": by.strip(),
                "line": line,
                "from_chainage_m": inside_from,
                "to_chainage_m": inside_to,
                "segment": new_segments[inside_index].id,
                "old_per_week": seg.patrol_per_week,
                "new_per_week": float(per_week),
                "reason": reason,
            }
            cid = store.insert_patrol_change(row)
            changes.append(_change(cid, row))
    register._network = None
    return changes


def _line_network(register: Register, line: str, fences: bool = False) -> Network:
    """The network a change on ``line`` needs: that line with its posts, breaks and
    segments (and its fences), read alone (a national register has 2,000 lines);
    the whole network when it is loaded already, or when the register has no such
    line (whose refusal then names the lines it has)."""
    from linerisk.store.rows import network_of_lines

    if register.network_loaded:
        return register.network
    part = network_of_lines(register.store, register.settings, [line], fences=fences)
    return register.network if part is None else part


def _replace_segment(register: Register, net: Network, old: Segment, pieces: list[Segment]) -> None:
    """Swap one segment row for its pieces and repoint the risks on the new pieces."""
    from linerisk.store.rows import segment_rows

    store = register.store
    store.delete_layer_rows("segments", [old.id])
    rows, geoms = segment_rows(net, pieces)
    store.insert_layer_rows("segments", rows, geoms)
    cal = net.calibration(old.line)
    for piece in pieces[1:]:
        m0 = float(cal.measure_at(piece.from_chainage))
        store.repoint_risks_segment(old.line, old.id, piece.id, m0)


def _change(cid: int, row: Mapping[str, Any]) -> PatrolChange:
    return PatrolChange(
        id=cid,
        at=dt.datetime.fromisoformat(row["at"]),
        actor=row["actor"],
        line=row["line"],
        from_chainage_m=row["from_chainage_m"],
        to_chainage_m=row["to_chainage_m"],
        segment=row["segment"],
        old_per_week=row["old_per_week"],
        new_per_week=row["new_per_week"],
        reason=row["reason"],
    )


def patrol_segments(register: Register, line: str | None = None) -> list[Segment]:
    """Current segments (with their patrol frequency) in chainage order."""
    net = register.network if line is None else _line_network(register, line)
    if line is not None:
        net.line_index(line)
    segs = [s for s in net.segments if line is None or s.line == line]
    return sorted(segs, key=lambda s: (s.line, s.from_chainage))


def patrol_history(
    register: Register, since: dt.datetime | dt.date | str | None = None
) -> list[PatrolChange]:
    """Every recorded patrol change (since a date, if given), oldest first."""
    since_iso = None
    if since is not None:
        since_iso = register.start_of_day(since).isoformat(timespec="seconds")
    return [_change(r["id"], r) for r in register.store.patrol_changes(since_iso)]


def advise(
    register: Register,
    on: dt.datetime | dt.date | str | None = None,
    rule: Mapping[str, Any] | None = None,
    *,
    line: str | None = None,
    by: str | None = None,
) -> list[PatrolAdvice]:
    """Segments whose patrol frequency is below what the rule asks for.

    The rule (:data:`DEFAULT_ADVICE_RULE`, overridden key by key by the
    register's ``patrol_rule`` setting and then by ``rule``): suggested =
    base for the area class + weight of each open risk by severity + extra
    for each overdue one + extra per started 100 m of damaged fence, capped.
    A segment is listed when the suggestion exceeds its current frequency.
    ``line`` keeps one line's segments (and reads that line alone), ``by``
    the segments of one works section, workshop or work area.
    """
    merged = {**DEFAULT_ADVICE_RULE, **(register.settings.patrol_rule or {}), **(rule or {})}
    on_dt = register.end_of_day(on) if on is not None else dt.datetime.now(register.settings.tzinfo)
    net = register.network if line is None else _line_network(register, line, fences=True)
    if line is not None:
        net.line_index(line)
    # The open risks' segment, severity and deadline as plain values (a national
    # register has a million risks; building a Risk for each took a minute), each
    # distinct deadline compared once.
    on_s = on_dt.timestamp()
    past: dict[str, bool] = {}
    by_segment: dict[str, list[tuple[Severity, bool]]] = {}
    severity_of = {s.value: s for s in Severity}
    query = register.query(status="open", line=line)
    for segment, severity, deadline in register.store.risk_values(
        query, ("segment", "severity", "deadline")
    ):
        if not segment:
            continue
        late = past.get(deadline)
        if late is None:
            late = past[deadline] = on_s > dt.datetime.fromisoformat(deadline).timestamp()
        by_segment.setdefault(segment, []).append((severity_of[severity], late))
    # damaged fence per segment, each line's fences against that line's segments only
    fences_of: dict[str, list] = {}
    for f in net.fences:
        if f.condition is FenceCondition.DAMAGED:
            fences_of.setdefault(f.line, []).append(f)
    damaged: dict[str, float] = {}
    for seg in net.segments:
        total = 0.0
        for f in fences_of.get(seg.line, ()):
            overlap = min(f.to_chainage, seg.to_chainage) - max(f.from_chainage, seg.from_chainage)
            total += max(overlap, 0.0)
        damaged[seg.id] = total
    out: list[PatrolAdvice] = []
    segments = sorted(
        (s for s in net.segments if line is None or s.line == line),
        key=lambda s: (s.line, s.from_chainage),
    )
    for seg in segments:
        if by is not None and not _owns(by, seg):
            continue
        risks = by_segment.get(seg.id, [])
        reasons: list[str] = []
        base = float(merged["base_per_week"][seg.area_class.value])
        suggested = base
        counts = {s: 0 for s in Severity}
        for severity, _late in risks:
            counts[severity] += 1
            suggested += float(merged["per_open_risk"][severity.value])
        overdue = sum(late for _severity, late in risks)
        suggested += overdue * float(merged["per_overdue_risk"])
        fence_m = damaged.get(seg.id, 0.0)
        suggested += math.ceil(fence_m / 100.0) * float(merged["per_100m_damaged_fence"])
        suggested = min(suggested, float(merged["max_per_week"]))
        current = seg.patrol_per_week
        if current is not None and suggested <= current:
            continue
        reasons_zh: list[str] = []
        if risks:
            present = [s for s in Severity if counts[s]]
            reasons.append("open risks: " + ", ".join(f"{counts[s]} {s.value}" for s in present))
            reasons_zh.append(
                "在办隐患：" + "、".join(f"{s.label('zh')} {counts[s]} 处" for s in present)
            )
        if overdue:
            reasons.append(f"{overdue} overdue")
            reasons_zh.append(f"超期 {overdue} 处")
        if fence_m:
            reasons.append(f"{fence_m:.0f} m damaged fence")
            reasons_zh.append(f"护网破损 {fence_m:.0f} 米")
        if current is None:
            reasons.append("no patrol frequency set")
            reasons_zh.append("未设巡线频次")
        if not reasons:
            reasons.append(f"below the base for {seg.area_class.value} areas")
            reasons_zh.append(f"低于{seg.area_class.label('zh')}基本频次")
        out.append(
            PatrolAdvice(
                segment=seg,
                current_per_week=current,
                suggested_per_week=math.ceil(suggested),
                open_risks=len(risks),
                overdue_risks=overdue,
                damaged_fence_m=fence_m,
                reasons=tuple(reasons),
                reasons_zh=tuple(reasons_zh),
            )
        )
    return out
