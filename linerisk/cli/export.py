"""``linerisk export KIND -o FILE``: a layer, or a filtered risk list, to a file."""

from __future__ import annotations

import click

from linerisk.cli.base import CONTEXT_SETTINGS, Env
from linerisk.cli.importing import KINDS
from linerisk.cli.options import risk_filter_options, risk_filters


@click.command("export", context_settings=CONTEXT_SETTINGS)
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write (replaced if it exists). 输出文件。",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["geojson", "gpkg", "shp", "csv", "xlsx"]),
    default=None,
    help="File format (default: from the suffix; .zip is a zipped Shapefile). 文件格式。",
)
@click.option(
    "--crs",
    default=None,
    help="CRS of a GeoPackage, Shapefile or GeoJSON (default: the register's; GeoJSON WGS 84). "
    "坐标系。",
)
@risk_filter_options
@click.pass_obj
def export(
    env: Env,
    kind,
    output,
    fmt,
    crs,
    status,
    overdue,
    on,
    line,
    start,
    end,
    category,
    party,
    police,
    since,
):
    """Export the layer KIND, or the risks matching the filters, to a file. 导出图层或隐患清单。

    GeoJSON, GeoPackage, Shapefile, CSV or XLSX. Risks keep their chainage and
    the three verticals' parties as columns; CSV and XLSX under --lang zh have
    Chinese headers and labels, laid out like a station's register. The
    filters are those of 'linerisk risk list'.

    \b
    linerisk export risks -o 隐患台账.xlsx --status open
    linerisk export segments -o segments.zip
    linerisk --lang en export risks -o overdue.csv --overdue --on 2026-11-25
    """
    from linerisk.io.export import export_layer

    given = any([status, overdue, line, start, end, category, party, police, since])
    if kind != "risks" and given:
        raise click.UsageError("the risk filters apply only to: linerisk export risks")
    reg = env.open_register()
    lang = env.language(reg)
    filters = None
    if kind == "risks":
        filters = risk_filters(
            status, overdue, on, line, start, end, category, party, police, since
        )
    report = export_layer(reg, kind, output, fmt=fmt, lang=lang, crs=crs, filters=filters, on=on)
    click.echo(report.summary(lang))
    for note in report.messages:
        click.echo(f"  {note.text(lang)}")
