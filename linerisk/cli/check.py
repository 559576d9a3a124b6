"""``linerisk check``: coverage, overlaps, fences, patrols, stale risks and calibration."""

from __future__ import annotations

import sys

import click

from linerisk.cli.base import Env
from linerisk.cli.options import by_option, format_option, note_option


@click.command()
@click.option(
    "--fence-gap",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    metavar="METRES",
    help="Report stretches of one side with no fence longer than this. 护网缺口报告阈值（米）。",
)
@click.option(
    "--residual",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    metavar="METRES",
    help="Report kilometre spacing off by more than this, and chain breaks farther than this "
    "from where the posts put them. 公里标间距与断链位置的容差（米）。",
)
@click.option("--line", default=None, help="Only this line. 线路。")
@click.option(
    "--fix",
    is_flag=True,
    help="Reassign the open risks whose parties are out of date, recording an event for "
    "each (needs --by). 重新分配责任已变化的隐患并记入历史。",
)
@by_option
@note_option
@format_option
@click.pass_obj
def check(env: Env, fence_gap, residual, line, fix, by, note, fmt) -> None:
    """Check the register: stretches of line no police area, neighbourhood or segment covers
    or two claim, fence gaps and damaged fence, segments with no patrol frequency, open risks
    whose parties no longer match the boundaries, invalid geometries, kilometre posts out of
    order or unevenly spaced, misplaced chain breaks. Exits 0 when there is no problem
    (warnings allowed), 1 when there is one, 2 when the check could not run.
    检查台账：覆盖空白与重叠、护网缺口与破损、巡线频次、责任过时的隐患、几何错误、公里标与断链。

    \b
    linerisk check
    linerisk check --fence-gap 100 --format geojson > findings.geojson
    linerisk check --fix --by "天津站派出所 王磊" --note "辖区调整后重新分配"
    """
    try:
        report, lang = _run(env, fence_gap, residual, line, fix, by, note)
    except click.ClickException:
        raise
    except Exception as exc:
        from linerisk.cli.base import error_language
        from linerisk.errors import LineriskError

        if env.debug or not isinstance(exc, LineriskError | ValueError | OSError):
            raise
        from linerisk.errors_zh import translate_error

        message = str(exc) or exc.__class__.__name__
        click.echo(f"linerisk: {translate_error(message, error_language())}", err=True)
        sys.exit(2)
    _print(report, fmt, lang, fix)
    if not env.quiet:
        click.echo(report.summary(lang), err=True)
    sys.exit(report.exit_code)


def _run(env: Env, fence_gap, residual, line, fix, by, note):
    from linerisk.checks import check_register
    from linerisk.cli.options import resolve_actor

    reg = env.open_register()
    lang = env.language(reg)
    actor = resolve_actor(by, reg) if fix else None
    report = check_register(
        reg, fence_gap=fence_gap, residual=residual, line=line, fix=fix, by=actor, note=note
    )
    return report, lang


def _print(report, fmt: str | None, lang: str, fix: bool) -> None:
    import json

    from linerisk.checks import SEVERITY_LABELS
    from linerisk.cli.output import default_format, emit

    fmt = fmt or default_format()
    if fmt == "geojson":
        click.echo(json.dumps(report.geojson(lang), ensure_ascii=False))
        return
    records = [f.record(lang) for f in report.findings]
    if fmt in ("table", "csv"):
        for f, r in zip(report.findings, records, strict=True):
            r["severity"] = SEVERITY_LABELS[f.severity][0 if lang == "zh" else 1]
            r["kind"] = f.label(lang)
    columns = ["severity", "kind", "line", "from_chainage", "to_chainage", "message"]
    if fix:
        columns.append("fixed")
    emit(records, columns, fmt, lang)
