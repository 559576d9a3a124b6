"""``linerisk verify``: the audit chain check."""

from __future__ import annotations

import sys

import click

from linerisk.cli.base import Env


@click.command()
@click.pass_obj
def verify(env: Env) -> None:
    """Recompute the hash chain of every event and check each risk against its history.
    Exits 1 and names the first broken event if anything was altered. 校验审计链。"""
    reg = env.open_register()
    lang = env.language(reg)
    report = reg.verify()
    if report.ok:
        click.echo(report.message(lang))
        return
    for problem in report.problems:
        click.echo(f"linerisk: {problem}", err=True)
    sys.exit(1)
