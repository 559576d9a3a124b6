"""``linerisk import osm FILE``: lines, posts, fences and neighbourhoods from OpenStreetMap."""

from __future__ import annotations

import click

from linerisk.cli.base import Env


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--register",
    "register_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Register file; created when it does not exist (default: the global --register "
    "or LINERISK_REGISTER). 台账文件，不存在时新建。",
)
@click.option(
    "--admin-level",
    type=click.IntRange(1, 12),
    default=None,
    help="OSM admin_level of the neighbourhoods, e.g. 8 for street offices and towns, 10 for "
    "communities and villages (default: the most detailed level covering the lines). "
    "社区/村所用的行政级别。",
)
@click.option(
    "--fence-distance",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    metavar="METRES",
    help="Fences and walls farther than this from every line are skipped. "
    "距线路超过此距离的护网、围墙不导入（米）。",
)
@click.option(
    "--crs",
    default=None,
    help="Metric CRS of a new register, e.g. EPSG:4548 (default: chosen from the data). 坐标系。",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Report as sentences or as JSON. 报告格式。",
)
@click.pass_obj
def osm(env: Env, file, register_path, admin_level, fence_distance, crs, fmt) -> None:
    """Read railway lines, kilometre posts, fences and neighbourhoods from an OpenStreetMap
    file (.osm.pbf or .osm) into a register, and report what was taken and skipped. Needs
    the osmium package (pip install 'linerisk[osm]').
    从 OpenStreetMap 导入线路、公里标、护网和社区/村。

    \b
    linerisk import osm tianjin.osm.pbf --register jh.gpkg --admin-level 8
    """
    import json

    from linerisk.io.osm import import_osm

    path = register_path or env.register_path
    if not path:
        raise click.UsageError("no register given: use --register PATH or set LINERISK_REGISTER")
    result = import_osm(path, file, admin_level=admin_level, fence_distance=fence_distance, crs=crs)
    lang = env.language()
    report = result.report
    if fmt == "json":
        data = {
            "register": str(path),
            "crs": result.crs,
            "lines": [
                {
                    "line": r.line,
                    "name": r.name,
                    "grouped_by": r.grouped_by,
                    "ways": r.ways,
                    "parts": r.parts,
                    "gaps_m": list(r.gaps_m),
                    "length_m": r.length_m,
                    "from_chainage_m": round(r.from_chainage, 1),
                    "to_chainage_m": round(r.to_chainage, 1),
                    "kmposts": r.kmposts,
                    "oriented_by": r.oriented_by,
                }
                for r in report.lines
            ],
            "taken": dict(report.taken),
            "skipped": dict(report.skipped),
            "admin_level": report.admin_level,
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for sentence in report.describe(lang):
        click.echo(sentence)
    click.echo(
        f"已写入 {path}（{result.crs}）；请运行 linerisk check 检查覆盖与护网缺口"
        if lang == "zh"
        else f"written to {path} ({result.crs}); run linerisk check for coverage and fence gaps"
    )
