"""``linerisk config``: register settings."""

from __future__ import annotations

import json

import click

from linerisk.cli.base import CONTEXT_SETTINGS, Env


@click.group(context_settings=CONTEXT_SETTINGS)
def config() -> None:
    """Show or change the register's settings (deadlines, distances, language,
    default actor). 查看或修改台账设置。"""


@config.command("show")
@click.pass_obj
def show(env: Env) -> None:
    """Print every setting as JSON."""
    reg = env.open_register()
    click.echo(json.dumps(reg.settings.to_dict(), ensure_ascii=False, indent=2))


@config.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_(env: Env, key: str, value: str) -> None:
    """Set KEY to VALUE (JSON, or plain text for strings).

    \b
    linerisk config set default_actor "天津站派出所 王磊"
    linerisk config set deadline_days '{"major": 5}'
    linerisk config set lang en
    """
    from linerisk.errors import LineriskError

    reg = env.open_register()
    current = reg.settings.to_dict()
    if key not in current:
        raise LineriskError(f"unknown setting {key!r}; settings are {', '.join(sorted(current))}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    reg.update_settings(**{key: parsed})
    click.echo(json.dumps({key: reg.settings.to_dict()[key]}, ensure_ascii=False))
