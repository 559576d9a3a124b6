"""``linerisk risk ...``: register, list, show, move and work risks through their life."""

from __future__ import annotations

import datetime as dt

import click

from linerisk.cli.base import CONTEXT_SETTINGS, Env
from linerisk.cli.options import (
    at_option,
    by_option,
    format_option,
    note_option,
    one_format_option,
    resolve_actor,
    risk_filter_options,
    risk_filters,
)


@click.group(context_settings=CONTEXT_SETTINGS)
def risk() -> None:
    """Register risk points and track them until cleared. 隐患登记与闭环管理。"""


def _location_options(f):
    """--lon/--lat/--crs or --line/--at/--side/--offset."""
    for option in reversed(
        [
            click.option("--lon", type=float, help="Longitude (WGS 84 unless --crs). 经度。"),
            click.option("--lat", type=float, help="Latitude. 纬度。"),
            click.option(
                "--crs",
                default=None,
                help="CRS of --lon/--lat, e.g. EPSG:4490 or EPSG:4548 (x/y). 坐标系。",
            ),
            click.option("--line", "line", help="Line id, with --at. 线路。"),
            click.option(
                "--at", "chainage", metavar="CHAINAGE", help="Chainage, e.g. K12+345. 里程。"
            ),
            click.option(
                "--side",
                type=click.Choice(["left", "right", "左侧", "右侧"]),
                help="Side of increasing chainage, with --at. 侧别。",
            ),
            click.option(
                "--offset", type=float, default=None, help="Metres from the centreline. 距离(米)。"
            ),
        ]
    ):
        f = option(f)
    return f


def _location_kwargs(lon, lat, crs, line, chainage, side, offset) -> dict:
    if lon is not None or lat is not None:
        if line or chainage:
            raise click.UsageError("give either --lon/--lat or --line/--at, not both")
        if lon is None or lat is None:
            raise click.UsageError("give both --lon and --lat")
        if crs and _is_projected(crs):
            return {"x": lon, "y": lat, "crs": crs}
        return {"lon": lon, "lat": lat, "crs": crs}
    if not (line and chainage and side):
        raise click.UsageError(
            "say where the risk is: --lon and --lat, or --line, --at and --side (with --offset)"
        )
    return {"line": line, "chainage": chainage, "side": side, "offset": offset or 0.0}


def _is_projected(crs: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from linerisk.errors import LineriskError

    try:
        return CRS.from_user_input(crs).is_projected
    except CRSError:
        raise LineriskError(f"unknown coordinate reference system {crs!r}") from None


def _print_risk(reg, r, lang: str) -> None:
    from linerisk.i18n import tr

    p = r.parties
    cat = reg.settings.categories.get(r.category)
    none = tr("not_covered", lang)
    lines = [
        (
            f"{tr('risk_heading', lang, id=r.id)}  {cat.label(lang)} · {r.severity.label(lang)} · "
            f"{r.status.label(lang)}"
        ),
        f"  {tr('where', lang)}: {r.location.describe(lang)}",
        f"  {tr('zone', lang)}: {r.zone.band.label(lang)}"
        + (
            f" ({tr('zone_detail', lang, width=r.zone.width_m, distance=r.zone.distance_m)})"
            if r.zone.width_m
            else ""
        ),
        f"  {tr('police', lang)}: {p.police or none}",
        f"  {tr('railway', lang)}: "
        + (f"{p.works_section} {p.workshop} {p.work_area}" if p.works_section else none),
        f"  {tr('local', lang)}: "
        + (f"{p.district} {p.street_office} {p.community}" if p.street_office else none),
        f"  {tr('lead', lang)}: {r.lead.label(lang)} {r.lead_party or none}",
        f"  {tr('deadline', lang)}: {r.deadline.isoformat(timespec='minutes')}",
    ]
    if r.description:
        lines.append(f"  {tr('description', lang)}: {r.description}")
    if r.note:
        lines.append(f"  {tr('note', lang)}: {r.note}")
    click.echo("\n".join(lines))


@risk.command("add")
@_location_options
@click.option(
    "--category", required=True, help="Category key or Chinese name, e.g. garbage / 垃圾堆积."
)
@click.option(
    "--severity",
    default="general",
    show_default=True,
    help="critical|major|general (or 重大/较大/一般). 等级。",
)
@click.option("--description", default="", help="What was found. 隐患描述。")
@note_option
@by_option
@click.option(
    "--found-at", default=None, metavar="TIME", help="When found (default now). 发现时间。"
)
@click.option(
    "--force",
    is_flag=True,
    help="Register even if an open risk of the same category is close by. 确认非重复。",
)
@one_format_option
@click.pass_obj
def add(
    env: Env,
    lon,
    lat,
    crs,
    line,
    chainage,
    side,
    offset,
    category,
    severity,
    description,
    note,
    by,
    found_at,
    force,
    fmt,
):
    """Register a risk found on patrol, by coordinates or by chainage.

    \b
    linerisk risk add --lon 117.30 --lat 39.11 --category 垃圾堆积 --by "天津站派出所 王磊"
    linerisk risk add --line JD --at K5+200 --side left --offset 30 --category garbage

    Prints the new id and where it landed: line, chainage, side, offset, zone
    and the three responsible parties. 登记隐患并显示定位与三纵责任单位。
    """
    where = _location_kwargs(lon, lat, crs, line, chainage, side, offset)
    reg = env.open_register()
    lang = env.language(reg)
    actor = resolve_actor(by, reg)
    from linerisk.errors import DuplicateRiskError, LineriskError

    try:
        r = reg.add_risk(
            category=category,
            severity=severity,
            found_by=actor,
            found_at=found_at,
            description=description,
            note=note,
            allow_duplicate=force,
            **where,
        )
    except DuplicateRiskError as exc:
        raise LineriskError(f"{exc} (with --force)") from None
    _emit_one(env, reg, r, fmt, lang)


def _emit_one(env: Env, reg, r, fmt: str | None, lang: str) -> None:
    if fmt in ("json", "csv", "geojson"):
        from linerisk.cli.output import emit
        from linerisk.cli.records import RISK_TABLE_COLUMNS, risk_records

        on = dt.datetime.now(reg.settings.tzinfo)
        recs = risk_records(
            [r], reg.crs, on, lang, labels=fmt == "csv", catalog=reg.settings.categories
        )
        emit(recs, RISK_TABLE_COLUMNS, fmt, lang)
        return
    _print_risk(reg, r, lang)


@risk.command("list")
@risk_filter_options
@format_option
@click.pass_obj
def list_(env: Env, status, overdue, on, line, start, end, category, party, police, since, fmt):
    """List risks, filtered. 按条件列出隐患。

    \b
    linerisk risk list --status open --overdue --on 2026-11-25
    linerisk risk list --line JD --from K5+000 --to K8+000 --format csv
    """
    from linerisk.cli.output import emit
    from linerisk.cli.records import RISK_TABLE_COLUMNS, risk_records

    reg = env.open_register()
    lang = env.language(reg)
    filters = risk_filters(status, overdue, on, line, start, end, category, party, police, since)
    on_dt = reg.end_of_day(on or dt.date.today().isoformat())
    risks = reg.risks(**filters)
    labels = (fmt or _default_fmt()) in ("table", "csv")
    recs = risk_records(risks, reg.crs, on_dt, lang, labels=labels, catalog=reg.settings.categories)
    emit(recs, RISK_TABLE_COLUMNS, fmt, lang)


def _default_fmt() -> str:
    from linerisk.cli.output import default_format

    return default_format()


@risk.command("show")
@click.argument("risk_id", type=int)
@one_format_option
@click.pass_obj
def show(env: Env, risk_id: int, fmt):
    """Show one risk with its complete history. 显示隐患及全部处置记录。"""
    import json

    from linerisk.cli.output import render_table

    reg = env.open_register()
    lang = env.language(reg)
    r = reg.get(risk_id)
    history = reg.history(risk_id)
    events = [
        {
            "seq": e.seq,
            "at": e.at.isoformat(timespec="minutes"),
            "actor": e.actor,
            "action": e.action.value,
            "from_status": e.from_status.value if e.from_status else None,
            "to_status": e.to_status.value if e.to_status else None,
            "note": e.note,
            "reason": e.data.get("reason"),
            "hash": e.hash,
        }
        for e in history
    ]
    if fmt in ("json", "geojson", "csv"):
        from linerisk.cli.output import emit
        from linerisk.cli.records import RISK_TABLE_COLUMNS, risk_records

        on = dt.datetime.now(reg.settings.tzinfo)
        rec = risk_records(
            [r], reg.crs, on, lang, labels=fmt == "csv", catalog=reg.settings.categories
        )[0]
        if fmt == "json":
            click.echo(json.dumps({**rec, "history": events}, ensure_ascii=False, indent=2))
        else:
            emit([rec], RISK_TABLE_COLUMNS, fmt, lang)
        return
    _print_risk(reg, r, lang)
    from linerisk.model import Action, Status

    rows = [
        {
            **e,
            "action": Action(e["action"]).label(lang),
            "to_status": Status(e["to_status"]).label(lang) if e["to_status"] else "",
        }
        for e in events
    ]
    click.echo("")
    click.echo(render_table(rows, ("seq", "at", "actor", "action", "to_status", "note"), lang))


def _transition_command(
    action: str, summary: str, needs_reason: bool = False, new_deadline: bool = False
):
    @click.argument("risk_id", type=int)
    @by_option
    @note_option
    @at_option
    @one_format_option
    @click.pass_obj
    def command(env: Env, risk_id: int, by, note, at, fmt, reason=None, deadline=None):
        reg = env.open_register()
        lang = env.language(reg)
        actor = resolve_actor(by, reg)
        r = reg.transition(
            risk_id, action, by=actor, note=note, at=at, reason=reason, deadline=deadline
        )
        _emit_one(env, reg, r, fmt, lang)

    command.__doc__ = summary
    if needs_reason:
        command = click.option(
            "--reason",
            required=True,
            type=click.Choice(["duplicate", "not_a_hazard", "outside_scope"]),
            help="Why it leaves the register. 撤销原因。",
        )(command)
    if new_deadline:
        command = click.option(
            "--deadline",
            metavar="DATE",
            help="A new deadline (a day means the end of it); default: the deadline stays. "
            "新的整改期限（默认不变）。",
        )(command)
    return risk.command(action)(command)


_transition_command("assign", "reported → assigned: hand the risk to its lead party. 交办。")
_transition_command("start", "assigned → rectifying: rectification has started. 开始整改。")
_transition_command("submit", "rectifying → awaiting_recheck: ask for re-inspection. 申请复查。")
_transition_command("clear", "awaiting_recheck → cleared: re-inspected and cleared. 复查销号。")
_transition_command(
    "rework",
    "awaiting_recheck → rectifying: the re-inspection found the hazard still there; "
    "--note says what it found, --deadline may set a new deadline. "
    "复查不合格，退回整改（须填备注，可重定期限）。",
    new_deadline=True,
)
_transition_command(
    "withdraw", "open → withdrawn, with --reason (duplicate, not a hazard). 撤销。", True
)
_transition_command("reopen", "cleared → assigned: the hazard recurred (same id). 重新打开。")


@risk.command("move")
@click.argument("risk_id", type=int)
@_location_options
@by_option
@note_option
@one_format_option
@click.pass_obj
def move(env: Env, risk_id, lon, lat, crs, line, chainage, side, offset, by, note, fmt):
    """Correct a risk's location: chainage, parties and zone are recomputed and the
    old location stays in its history. 更正隐患位置。"""
    where = _location_kwargs(lon, lat, crs, line, chainage, side, offset)
    reg = env.open_register()
    lang = env.language(reg)
    actor = resolve_actor(by, reg)
    r = reg.move(risk_id, by=actor, note=note, **where)
    _emit_one(env, reg, r, fmt, lang)
