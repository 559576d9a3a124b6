"""``linerisk patrol ...``: patrol frequency on stretches of line."""

from __future__ import annotations

import click

from linerisk.cli.base import CONTEXT_SETTINGS, Env
from linerisk.cli.options import at_option, format_option, on_option


@click.group(context_settings=CONTEXT_SETTINGS)
def patrol() -> None:
    """Patrol frequency (巡线频次) per stretch of line: set, list, history, advise."""


def _chainage(value: float | None) -> str | None:
    from linerisk.chainage import format_chainage

    return None if value is None else format_chainage(value, decimals=0)


@patrol.command("set")
@click.option("--line", required=True, help="Line id. 线路。")
@click.option(
    "--from", "start", required=True, metavar="CHAINAGE", help="From chainage. 起点里程。"
)
@click.option("--to", "end", required=True, metavar="CHAINAGE", help="To chainage. 终点里程。")
@click.option("--per-week", type=float, required=True, help="Patrols a week. 每周巡线次数。")
@click.option(
    "--by",
    "by",
    required=True,
    help="The works section, workshop or work area making the change (it must own the range). "
    "操作单位。",
)
@click.option("--reason", default="", help="Why. 原因。")
@at_option
@format_option
@click.pass_obj
def set_(env: Env, line, start, end, per_week, by, reason, at, fmt):
    """Change the patrol frequency on a chainage range; segments are split at the
    range ends. A range reaching into segments that --by does not own is refused.

    \b
    linerisk patrol set --line JD --from K5+000 --to K6+500 --per-week 14 \\
        --by 天津工务段 --reason "张贵庄段大棚薄膜隐患未消除"
    """
    from linerisk.cli.output import emit
    from linerisk.patrol import set_patrol

    reg = env.open_register()
    lang = env.language(reg)
    changes = set_patrol(
        reg, line=line, start=start, end=end, per_week=per_week, by=by, reason=reason, at=at
    )
    emit(
        [_change_record(c) for c in changes],
        ("segment", "from_chainage", "to_chainage", "old_per_week", "new_per_week", "actor"),
        fmt,
        lang,
    )


def _change_record(c) -> dict:
    return {
        "id": c.id,
        "at": c.at.isoformat(timespec="minutes"),
        "actor": c.actor,
        "line": c.line,
        "segment": c.segment,
        "from_chainage": _chainage(c.from_chainage_m),
        "to_chainage": _chainage(c.to_chainage_m),
        "old_per_week": c.old_per_week,
        "new_per_week": c.new_per_week,
        "reason": c.reason,
    }


@patrol.command("list")
@click.option("--line", default=None, help="Line id. 线路。")
@format_option
@click.pass_obj
def list_(env: Env, line, fmt):
    """Current patrol frequency of every segment. 各区段现行巡线频次。"""
    from linerisk.cli.output import default_format, emit
    from linerisk.patrol import patrol_segments

    reg = env.open_register()
    lang = env.language(reg)
    fmt = fmt or default_format()
    labels = fmt in ("table", "csv")
    rows = [
        {
            "segment": s.id,
            "line": s.line,
            "from_chainage": _chainage(s.from_chainage),
            "to_chainage": _chainage(s.to_chainage),
            "works_section": s.works_section,
            "workshop": s.workshop,
            "work_area": s.work_area,
            "area_class": s.area_class.label(lang) if labels else s.area_class.value,
            "patrol_per_week": s.patrol_per_week,
        }
        for s in patrol_segments(reg, line)
    ]
    emit(
        rows,
        ("segment", "from_chainage", "to_chainage", "work_area", "area_class", "patrol_per_week"),
        fmt,
        lang,
    )


@patrol.command("history")
@click.option("--since", default=None, metavar="DATE", help="Changes on or after. 起始日期。")
@format_option
@click.pass_obj
def history(env: Env, since, fmt):
    """Every change of patrol frequency: who, when, old and new value, why. 巡线频次变更记录。"""
    from linerisk.cli.output import emit
    from linerisk.patrol import patrol_history

    reg = env.open_register()
    lang = env.language(reg)
    emit(
        [_change_record(c) for c in patrol_history(reg, since)],
        (
            "at",
            "actor",
            "segment",
            "from_chainage",
            "to_chainage",
            "old_per_week",
            "new_per_week",
            "reason",
        ),
        fmt,
        lang,
    )


@patrol.command("advise")
@on_option
@click.option("--line", default=None, help="Only this line's segments. 仅此线路。")
@click.option(
    "--by",
    "org",
    default=None,
    metavar="ORG",
    help="Only the segments of this works section, workshop or work area. 仅此单位的区段。",
)
@format_option
@click.pass_obj
def advise(env: Env, on, line, org, fmt):
    """Stretches patrolled less often than their open risks call for, with a suggested
    frequency and the reason (rule: docs/cli.md, setting patrol_rule). 巡线频次建议。"""
    from linerisk.cli.output import default_format, emit
    from linerisk.patrol import advise as advise_

    reg = env.open_register()
    lang = env.language(reg)
    fmt = fmt or default_format()
    # Tables and CSV read in the chosen language; JSON keeps the stable English text.
    reasons_lang = lang if fmt in ("table", "csv") else "en"
    rows = [
        {
            "segment": a.segment.id,
            "line": a.segment.line,
            "from_chainage": _chainage(a.segment.from_chainage),
            "to_chainage": _chainage(a.segment.to_chainage),
            "work_area": a.segment.work_area,
            "current_per_week": a.current_per_week,
            "suggested_per_week": a.suggested_per_week,
            "open_risks": a.open_risks,
            "overdue_risks": a.overdue_risks,
            "damaged_fence_m": round(a.damaged_fence_m, 1),
            "reasons": list(a.reasons_in(reasons_lang)),
        }
        for a in advise_(reg, on=on, line=line, by=org)
    ]
    emit(
        rows,
        (
            "segment",
            "from_chainage",
            "to_chainage",
            "work_area",
            "current_per_week",
            "suggested_per_week",
            "reasons",
        ),
        fmt,
        lang,
    )
