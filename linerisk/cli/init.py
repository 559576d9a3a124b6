"""``linerisk init PATH``."""

from __future__ import annotations

import click

from linerisk.cli.base import Env


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--from",
    "from_dir",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Folder of layer files named like the sample (lines.geojson, segments.geojson, "
    "...). 图层文件目录。",
)
@click.option(
    "--crs",
    default=None,
    help="Metric CRS of the register, e.g. EPSG:4548 (default: chosen from the data). 坐标系。",
)
@click.pass_obj
def init(env: Env, path: str, from_dir: str | None, crs: str | None) -> None:
    """Create a register file at PATH. 新建台账文件。

    \b
    linerisk init register.gpkg --from geodata/
    """
    from linerisk.register import Register

    with Register.create(path, crs=crs, from_dir=from_dir) as reg:
        net = reg.network if from_dir else None
        lang = env.language(reg)
        if net is not None:
            counts = (
                f"{len(net.lines)} lines, {len(net.kmposts)} km posts, {len(net.segments)} "
                f"segments, {len(net.police_areas)} police areas, {len(net.neighbourhoods)} "
                f"neighbourhoods, {len(net.fences)} fences"
            )
            if lang == "zh":
                counts = (
                    f"线路 {len(net.lines)} 条，公里标 {len(net.kmposts)} 个，区段 "
                    f"{len(net.segments)} 个，派出所辖区 {len(net.police_areas)} 个，社区/村 "
                    f"{len(net.neighbourhoods)} 个，护网 {len(net.fences)} 段"
                )
            click.echo(counts)
        click.echo(
            f"台账已创建：{path}（{reg.crs}）" if lang == "zh" else f"created {path} ({reg.crs})"
        )
