"""``linerisk stats``: the dynamic clearing-to-zero view."""

from __future__ import annotations

import click

from linerisk.cli.base import Env
from linerisk.cli.options import format_option, on_option


@click.command()
@click.option(
    "--by",
    "by",
    type=click.Choice(["party", "category", "month"]),
    default="party",
    show_default=True,
    help="Group by lead party, category or month found. 分组方式。",
)
@on_option
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Start of the period for found/cleared counts (default: 30 days before --on). "
    "统计起始日期。",
)
@click.option("--line", default=None, help="Only this line. 线路。")
@format_option
@click.pass_obj
def stats(env: Env, by, on, since, line, fmt):
    """Open and overdue now, found and cleared in the period, median days to clear.
    动态清零统计：在办、超期、期内新发现与销号、销号中位天数。"""
    from linerisk.cli.output import default_format, emit
    from linerisk.model import Vertical
    from linerisk.stats import clearing_stats

    reg = env.open_register()
    lang = env.language(reg)
    fmt = fmt or default_format()
    labels = fmt in ("table", "csv")
    rows = []
    catalog = reg.settings.categories
    for row in clearing_stats(reg, by=by, on=on, since=since, line=line):
        key = row.key
        if by == "party" and not key:
            # Nobody answers for this ground: a label in tables, null in JSON.
            key = ("未覆盖" if lang == "zh" else "not covered") if labels else None
        if by == "category" and labels and key in catalog:
            key = catalog.get(key).label(lang)
        vertical = row.vertical
        if vertical and labels:
            vertical = Vertical(vertical).label(lang)
        rows.append(
            {
                "vertical": vertical,
                "key": key,
                "open": row.open,
                "overdue": row.overdue,
                "found": row.found,
                "cleared": row.cleared,
                "median_days_to_clear": row.median_days_to_clear,
            }
        )
    columns = ("key", "open", "overdue", "found", "cleared", "median_days_to_clear")
    if by == "party":
        columns = ("vertical", *columns)
    emit(rows, columns, fmt, lang)
