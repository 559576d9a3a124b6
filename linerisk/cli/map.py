"""``linerisk map``: the joint-meeting map and the straight-line diagram."""

from __future__ import annotations

import click

from linerisk.cli.base import Env
from linerisk.cli.options import meeting_scope, on_option, scope_options


@click.command("map")
@scope_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The HTML file to write. 输出 HTML 文件。",
)
@click.option("--svg", default=None, type=click.Path(dir_okay=False), help="Also write the "
              "straight-line diagram alone to this SVG file. 另存直线图 SVG。")  # fmt: skip
@on_option
@click.option(
    "--offline",
    is_flag=True,
    help="One self-contained file that loads nothing from the network (no public tiles). "
    "离线单文件。",
)
@click.option(
    "--tiles",
    default=None,
    metavar="SOURCE",
    help="Background tiles: osm (default), gaode (GCJ-02), gaode-satellite, tianditu:KEY, none, "
    "or a URL template such as https://tiles.intranet/{z}/{x}/{y}.png (prefix gcj02: for a "
    "GCJ-02 server). Default with --offline: none. 底图。",
)
@click.option(
    "--lang",
    "local_lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the map (default: the global --lang or the register's). 语言。",
)
@click.pass_obj
def map_(
    env: Env, line, start, end, police, neighbourhood, output, svg, on, offline, tiles, local_lang
):
    """Write the joint-meeting map of a scope: a stretch of line (--line with --from and
    --to), a police area (--police) or a neighbourhood (--neighbourhood); without one,
    the whole register. Beneath the map sits the straight-line diagram of the same
    scope. Overdue marks are as of --on.

    生成联席会议图（含一横直线图）。范围可为线路里程段、派出所辖区或街道/社区。

    \b
    linerisk map --line JD --from K5+000 --to K12+000 --on 2026-11-25 -o meeting.html
    linerisk map --police 天津站派出所 --offline -o 天津站.html --svg 天津站.svg
    """
    from linerisk.maps import write_diagram, write_meeting_map

    reg, scope = meeting_scope(env.open_register(), line, start, end, police, neighbourhood)
    lang = local_lang or env.language(reg)
    path = write_meeting_map(reg, output, scope, lang=lang, on=on, offline=offline, tiles=tiles)
    written = [str(path)]
    if svg:
        written.append(str(write_diagram(reg, svg, scope, lang=lang, on=on)))
    if not env.quiet:
        for name in written:
            click.echo(f"已写入 {name}" if lang == "zh" else f"wrote {name}")
