"""Options shared by several commands."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.maps.scope import Scope

from linerisk.cli.output import FORMATS

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default: table on a terminal, json when piped). 输出格式。",
)

#: for commands about one risk, whose default output is a readable summary
one_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default: a readable summary, whether piped or not). 输出格式。",
)

by_option = click.option(
    "--by",
    "by",
    default=None,
    help="Who makes the change (person and unit); default: LINERISK_BY or the register's "
    "default actor. 操作人。",
)

note_option = click.option("--note", default="", help="Free text for the history. 备注。")

on_option = click.option(
    "--on",
    "on",
    default=None,
    metavar="DATE",
    help="As-of date for overdue (YYYY-MM-DD, default today). 统计日期。",
)

at_option = click.option(
    "--at",
    "at",
    default=None,
    metavar="TIME",
    help="When it happened (ISO 8601, default now). 发生时间。",
)


def resolve_actor(by: str | None, register) -> str:
    """The actor for a change: --by, then LINERISK_BY, then the register's default.

    Says so on stderr when a default is used; refuses when there is none.
    """
    from linerisk.errors import LineriskError

    if by and by.strip():
        return by.strip()
    env = os.environ.get("LINERISK_BY", "").strip()
    if env:
        click.echo(f"linerisk: recording the change as {env} (LINERISK_BY)", err=True)
        return env
    default = register.settings.default_actor
    if default:
        click.echo(f"linerisk: recording the change as {default} (register default)", err=True)
        return default
    raise LineriskError(
        "who made this change? give --by NAME, set LINERISK_BY, or set a default with "
        "'linerisk config set default_actor NAME'"
    )


from_option = click.option(
    "--from", "start", default=None, metavar="CHAINAGE", help="From chainage. 起点里程。"
)

to_option = click.option(
    "--to", "end", default=None, metavar="CHAINAGE", help="To chainage. 终点里程。"
)


def risk_filter_options(f):
    """The filters of ``linerisk risk list`` (shared with ``linerisk export``):
    --status, --overdue, --on, --line, --from, --to, --category, --party, --police,
    --since."""
    for option in reversed(
        [
            click.option(
                "--status",
                multiple=True,
                help="Status to keep (repeatable); 'open' means every state but cleared and "
                "withdrawn. 状态，open 为全部在办。",
            ),
            click.option(
                "--overdue", is_flag=True, help="Only open risks past their deadline. 仅超期。"
            ),
            on_option,
            click.option("--line", default=None, help="Line id. 线路。"),
            from_option,
            to_option,
            click.option(
                "--category",
                multiple=True,
                help="Category key or Chinese name (repeatable). 类别。",
            ),
            click.option(
                "--party", default=None, help="Any of the three verticals' units. 责任单位。"
            ),
            click.option(
                "--police",
                default=None,
                help="A police station's area (exact name; faster than --party on a large "
                "register). 派出所。",
            ),
            click.option(
                "--since", default=None, metavar="DATE", help="Found on or after. 发现日期起。"
            ),
        ]
    ):
        f = option(f)
    return f


def risk_filters(status, overdue, on, line, start, end, category, party, police, since) -> dict:
    """The keywords of ``Register.risks`` for the options of :func:`risk_filter_options`."""
    import datetime as dt

    on_day = on or dt.date.today().isoformat()
    return {
        "status": list(status) or None,
        "category": list(category) or None,
        "line": line,
        "chainage_from": start,
        "chainage_to": end,
        "party": party,
        "police": police,
        "since": since,
        "overdue_on": on_day if overdue else None,
    }


def scope_options(f):
    """The scope of a joint meeting: --line/--from/--to, --police or --neighbourhood."""
    for option in reversed(
        [
            click.option("--line", default=None, help="Line id, for a stretch of line. 线路。"),
            from_option,
            to_option,
            click.option(
                "--police",
                default=None,
                metavar="NAME",
                help="A police station's area. 派出所辖区。",
            ),
            click.option(
                "--neighbourhood",
                default=None,
                metavar="NAME",
                help="A street office or town, or a community or village. 街道/镇或社区/村。",
            ),
        ]
    ):
        f = option(f)
    return f


def meeting_scope(
    register: Any,
    line: str | None,
    start: str | None,
    end: str | None,
    police: str | None,
    neighbourhood: str | None,
) -> tuple[Any, Scope]:
    """The register as a meeting on the scope chosen with :func:`scope_options`
    reads it (only the part of the network around the scope: a national
    register), and that scope resolved on it."""
    from linerisk.maps.scope import register_for_scope, resolve_scope

    choice = {
        "line": line,
        "start": start,
        "end": end,
        "police": police,
        "neighbourhood": neighbourhood,
    }
    scoped = register_for_scope(register, **choice)
    return scoped, resolve_scope(scoped.network, **choice)
