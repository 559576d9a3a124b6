"""Options shared by several commands."""

from __future__ import annotations

import os

import click

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
