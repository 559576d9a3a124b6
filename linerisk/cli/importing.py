"""``linerisk import KIND FILE``: bring a layer or an existing register into the register."""

from __future__ import annotations

import click

from linerisk.cli.base import CONTEXT_SETTINGS, Env
from linerisk.cli.options import by_option

KINDS = (
    "lines",
    "kmposts",
    "chain_breaks",
    "segments",
    "police_areas",
    "neighbourhoods",
    "fences",
    "risks",
)

#: rejected rows printed before "... and N more"
SHOWN_REJECTS = 20


class ImportCommand(click.Command):
    """``linerisk import KIND FILE``, where ``linerisk import osm FILE`` is handed to the
    OpenStreetMap importer (:mod:`linerisk.cli.osm`), which has options of its own."""

    def make_context(self, info_name, args, parent=None, **extra):
        if args and args[0] == "osm":
            from linerisk.cli.osm import osm

            return osm.make_context(f"{info_name} osm", list(args[1:]), parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.command("import", cls=ImportCommand, context_settings=CONTEXT_SETTINGS)
@click.argument("kind", type=click.Choice([*KINDS, "osm"]))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--layer",
    default=None,
    help="Layer of a GeoPackage or zip file, or sheet of a workbook. 图层或工作表。",
)
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from COLUMN, e.g. --map chainage=里程 (repeatable). 字段对应。",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Mapping file (JSON or TOML): fields, categories, statuses, sides, defaults. 对应文件。",
)
@click.option(
    "--mode",
    type=click.Choice(["append", "replace", "upsert"]),
    default="append",
    show_default=True,
    help="Add, replace the layer, or update by key and add the rest. 追加、替换或更新。",
)
@click.option(
    "--key",
    default=None,
    help="Key field(s) for upsert, comma-separated (default id; kmposts line,chainage; "
    "risks ref). 匹配字段。",
)
@click.option(
    "--crs",
    default=None,
    help="CRS of the coordinates: overrides or supplies the file's; gcj02 or bd09 for phone "
    "map apps. 坐标系。",
)
@click.option("--encoding", default=None, help="Text encoding of the file, e.g. GBK. 文件编码。")
@click.option(
    "--repair", is_flag=True, help="Fix invalid geometries with make_valid. 修复无效几何。"
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing. 试导入。")
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Import risks even if an open risk, or an earlier row of the file, of the same "
    "category is close by. 允许重复（含文件内重复）。",
)
@click.option(
    "--up-side",
    type=click.Choice(["left", "right"]),
    default=None,
    help="Side of increasing chainage that 上行 (up track) means; 下行 is the other "
    "(default left). 上行对应侧别。",
)
@click.option(
    "--locate-by",
    type=click.Choice(["auto", "chainage", "coordinates"]),
    default="auto",
    show_default=True,
    help="Place risks by chainage or by coordinates (auto: coordinates when a row has them). "
    "定位方式。",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the rows that were not imported, with the reason, to this CSV file. 拒绝清单。",
)
@click.option(
    "--strict", is_flag=True, help="Import nothing if any row is rejected. 有拒绝则不导入。"
)
@by_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report as text or JSON. 报告格式。",
)
@click.pass_obj
def import_(
    env: Env,
    kind,
    file,
    layer,
    pairs,
    mapping_file,
    mode,
    key,
    crs,
    encoding,
    repair,
    dry_run,
    allow_duplicates,
    up_side,
    locate_by,
    rejects_file,
    strict,
    by,
    fmt,
):
    """Import FILE into the register's layer KIND. 导入图层或原有台账。

    FILE is anything GDAL reads (GeoJSON, GeoPackage, Shapefile or a zipped
    one, KML), or a workbook (.xlsx) or CSV file with coordinate or chainage
    columns. Columns are matched by name, Shapefile short name and the usual
    Chinese headers (里程, 类别, 责任单位...); --map and --mapping say the rest.
    Rows of a risk register that cannot be placed are listed (and written with
    --rejects) and the others imported; everything is one transaction.
    'linerisk import osm FILE' reads an OpenStreetMap extract instead (see
    'linerisk import osm --help').

    \b
    linerisk import risks register.xlsx --by "天津站派出所 王磊" --rejects rejects.csv
    linerisk import kmposts posts.zip --crs EPSG:4527 --mode replace
    linerisk import risks phone.csv --crs gcj02 --map lon=经度 --map lat=纬度 --dry-run
    """
    from linerisk.io.importing import import_layer
    from linerisk.io.mapping import FieldMapping

    if kind == "osm":
        raise click.UsageError("write the file right after osm: linerisk import osm FILE [OPTIONS]")

    mapping = FieldMapping()
    if mapping_file:
        mapping = FieldMapping.from_file(mapping_file)
    mapping = mapping.merged(FieldMapping.from_pairs(pairs))
    if up_side:
        down = "right" if up_side == "left" else "left"
        mapping = mapping.merged(FieldMapping(sides={"上行": up_side, "下行": down}))
    reg = env.open_register()
    lang = env.language(reg)
    actor = None
    if kind == "risks":
        from linerisk.cli.options import resolve_actor

        actor = resolve_actor(by, reg)
    bar = _LazyProgress(env, "导入" if lang == "zh" else "importing")
    try:
        report = import_layer(
            reg,
            kind,
            file,
            layer=layer,
            mapping=mapping,
            mode=mode,
            key=key,
            crs=crs,
            repair=repair,
            dry_run=dry_run,
            progress=bar,
            encoding=encoding,
            allow_duplicates=allow_duplicates,
            by=actor,
            locate_by=locate_by,
            strict=strict,
        )
    finally:
        bar.close()
    if rejects_file and report.rejected:
        report.write_rejects(rejects_file, lang)
    if fmt == "json":
        click.echo(report.to_json(lang))
        return
    click.echo(report.summary(lang))
    for note in (*report.repaired, *report.messages):
        click.echo(f"  {note.text(lang)}")
    if report.rejected:
        head = "未导入的行：" if lang == "zh" else "not imported:"
        click.echo(head)
        for r in report.rejected[:SHOWN_REJECTS]:
            if lang == "zh":
                where = f"第 {r.row} 行" if isinstance(r.row, int) else str(r.row)
                click.echo(f"  {where}：{r.problem_text(lang)}")
            else:
                click.echo(f"  {r.row}: {r.problem_text(lang)}")
        more = len(report.rejected) - SHOWN_REJECTS
        if more > 0:
            click.echo(f"  …另有 {more} 行" if lang == "zh" else f"  … and {more} more")
        if rejects_file:
            click.echo(
                f"拒绝清单已写入 {rejects_file}"
                if lang == "zh"
                else f"rejects written to {rejects_file}"
            )


class _LazyProgress:
    """A ``(done, total)`` callback that opens the progress bar once the total is known."""

    def __init__(self, env: Env, label: str) -> None:
        self._env = env
        self._label = label
        self._ctx = None
        self._update = None

    def __call__(self, done: int, total: int) -> None:
        if self._ctx is None:
            self._ctx = self._env.progress(self._label, total)
            self._update = self._ctx.__enter__()
        if self._update is not None:
            self._update(done, total)

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(None, None, None)
