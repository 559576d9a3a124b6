"""``linerisk demo OUTDIR``: the README's main job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from linerisk.cli.base import Env


@click.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option(
    "--on",
    "on",
    default=None,
    help="Date for overdue counts (YYYY-MM-DD, default today). 统计日期。",
)
@click.pass_obj
def demo(env: Env, outdir: str, on: str | None) -> None:
    """Build OUTDIR/register.gpkg from the bundled sample line and print, for each
    stretch of line, who answers for it in the three verticals, then open, overdue
    and cleared counts per party.

    Also writes OUTDIR/meeting.html, the offline joint-meeting map of the whole
    sample line, OUTDIR/diagram.svg, its straight-line diagram, and
    OUTDIR/agenda.html, the printable joint-meeting agenda of the whole line.

    用样例数据生成台账 OUTDIR/register.gpkg，并列出三纵责任分段与各单位隐患统计；
    另生成离线联席会议图 meeting.html、一横直线图 diagram.svg 与联席会议议程 agenda.html。
    """
    from linerisk.i18n import tr
    from linerisk.sample import build_sample_register

    lang = env.lang or "zh"
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "register.gpkg"
    building = out / "register.gpkg.building"
    building.unlink(missing_ok=True)
    env.step("正在用样例数据生成台账" if lang == "zh" else "building the sample register")
    reg = build_sample_register(building)
    reg.close()
    building.replace(target)
    from linerisk.register import Register

    with Register.open(target) as reg:
        on_day = on or dt.date.today().isoformat()
        net = reg.network
        click.echo(tr("stretches_heading", lang))
        for line in net.lines:
            start, end = net.chainage_extent(line.id)
            from linerisk.chainage import format_chainage

            click.echo(
                tr(
                    "line_heading",
                    lang,
                    name=line.name(lang),
                    id=line.id,
                    start=format_chainage(start, prefix=line.prefix, decimals=0),
                    end=format_chainage(end, prefix=line.prefix, decimals=0),
                )
            )
            for s in reg.stretches(line.id):
                p = s.parties
                none = tr("not_covered", lang)
                police = p.police or none
                local = f"{p.district} {p.street_office}" if p.street_office else none
                railway = (
                    f"{p.works_section} {p.workshop} {p.work_area}" if p.works_section else none
                )
                click.echo(
                    f"  {s.chainage_range:<18} {tr('police', lang)}: {police} | "
                    f"{tr('railway', lang)}: {railway} | {tr('local', lang)}: {local}"
                )
        click.echo("")
        click.echo(tr("summary_heading", lang, on=on_day))
        totals = [0, 0, 0]
        for s in reg.summary(on=on_day):
            click.echo(
                "  "
                + tr(
                    "summary_row",
                    lang,
                    vertical=s.vertical.label(lang),
                    party=s.party or tr("not_covered", lang),
                    open=s.open,
                    overdue=s.overdue,
                    cleared=s.cleared,
                )
            )
            totals = [totals[0] + s.open, totals[1] + s.overdue, totals[2] + s.cleared]
        click.echo(
            "  " + tr("summary_total", lang, open=totals[0], overdue=totals[1], cleared=totals[2])
        )
        click.echo(tr("register_written", lang, path=target))
        from linerisk.maps import write_diagram, write_meeting_map

        env.step(
            "正在生成联席会议图、直线图与议程"
            if lang == "zh"
            else "writing the map, diagram and agenda"
        )

        html = write_meeting_map(reg, out / "meeting.html", lang=lang, on=on_day, offline=True)
        svg = write_diagram(reg, out / "diagram.svg", lang=lang, on=on_day)
        from linerisk.maps.agenda import build_agenda, write_agenda

        agenda = write_agenda(build_agenda(reg, on=on_day, lang=lang), out / "agenda.html")
        for path in (html, svg, agenda):
            click.echo(f"已写入 {path}" if lang == "zh" else f"wrote {path}")
