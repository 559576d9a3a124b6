"""``linerisk verify``: the audit chain check."""

from __future__ import annotations

import sys

import click

from linerisk.cli.base import Env


@click.command()
@click.pass_obj
def verify(env: Env) -> None:
    """Recompute the hash chain of every event and check each risk's status and
    recorded columns against its history. Exits 1 naming the first broken event,
    or the risks changed without an event. 校验审计链与隐患记录。"""
    reg = env.open_register()
    lang = env.language(reg)
    report = reg.verify()
    if report.ok:
        click.echo(report.message(lang))
        return
    from linerisk.errors_zh import translate_error

    for problem in report.problems:
        click.echo(f"linerisk: {translate_error(problem, lang)}", err=True)
    sys.exit(1)
