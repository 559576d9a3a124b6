"""``linerisk agenda``: the joint-meeting agenda as Markdown, HTML, CSV or XLSX."""

from __future__ import annotations

import click

from linerisk.cli.base import Env
from linerisk.cli.options import meeting_scope, on_option, scope_options


@click.command("agenda")
@scope_options
@on_option
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Start of the period for cleared items and patrol changes (default: 30 days "
    "before --on). 统计起始日期。",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "csv", "xlsx"]),
    default=None,
    help="Output format (default: from the suffix of -o, else md). 输出格式。",
)
@click.option(
    "-o",
    "--output",
    default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="The file to write (default: print to the terminal). 输出文件。",
)
@click.option(
    "--lang",
    "local_lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the agenda (default: the global --lang or the register's). 语言。",
)
@click.pass_obj
def agenda(env: Env, line, start, end, police, neighbourhood, on, since, fmt, output, local_lang):
    """Write the joint-meeting agenda of a scope: a stretch of line (--line with --from
    and --to), a police area (--police) or a neighbourhood (--neighbourhood); without
    one, the whole register. For each party of the three verticals: its open items,
    overdue first, and its items cleared since --since; then the patrol frequency
    changes of the period and the coverage and fence gaps of the scope. Counts per
    party come first; the header names the as-of day (--on) and the audit chain head.

    生成联席会议议程：各单位在办隐患（超期在前）、期内销号、巡线频次调整、责任覆盖与护网缺口。

    \b
    linerisk agenda --police 天津站派出所 --on 2026-11-25 -o agenda.html
    linerisk agenda --line JD --from K5+000 --to K12+000 --since 2026-11-01
    linerisk agenda --neighbourhood 新立街道 -o 新立街道.xlsx
    """
    from linerisk.errors import LineriskError
    from linerisk.maps.agenda import build_agenda, format_for, render_agenda, write_agenda

    reg = env.open_register()
    lang = local_lang or env.language(reg)
    fmt = format_for(output, fmt)
    if fmt == "xlsx" and not output:
        raise LineriskError(
            "XLSX 是二进制格式，请用 -o 指定输出文件"
            if lang == "zh"
            else "XLSX is a binary format: give the file to write with -o"
        )
    scoped, scope = meeting_scope(reg, line, start, end, police, neighbourhood)
    result = build_agenda(scoped, scope, on=on, since=since, lang=lang)
    if output is None:
        click.echo(render_agenda(result, fmt), nl=False)
        return
    path = write_agenda(result, output, fmt)
    if not env.quiet:
        click.echo(f"已写入 {path}" if lang == "zh" else f"wrote {path}")
