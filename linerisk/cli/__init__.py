"""The ``linerisk`` command line: thin commands over the library.

Command modules are imported only when their command runs, so ``--help`` and
single-risk commands start fast.
"""

from __future__ import annotations

import importlib
import sys

import click

from linerisk.cli.base import CONTEXT_SETTINGS, Env, run_main

__all__ = ["cli", "main"]

#: command name → (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "linerisk.cli.init",
        "init",
        "Create a register, optionally from layer files. 新建台账。",
    ),
    "risk": ("linerisk.cli.risk", "risk", "Register and track risk points. 隐患登记与闭环。"),
    "patrol": (
        "linerisk.cli.patrol",
        "patrol",
        "Patrol frequency on stretches of line. 巡线频次。",
    ),
    "stats": (
        "linerisk.cli.stats",
        "stats",
        "Open, overdue, cleared: clearing to zero. 动态清零统计。",
    ),
    "verify": ("linerisk.cli.verify", "verify", "Check the audit chain. 校验审计链。"),
    "check": ("linerisk.cli.check", "check", "Check coverage, fences and calibration. 台账检查。"),
    "config": ("linerisk.cli.config", "config", "Show or change register settings. 台账设置。"),
    "map": (
        "linerisk.cli.map",
        "map_",
        "Joint-meeting map and straight-line diagram. 联席会议图与一横直线图。",
    ),
    "agenda": (
        "linerisk.cli.agenda",
        "agenda",
        "Joint-meeting agenda: Markdown, HTML, CSV or XLSX. 联席会议议程。",
    ),
    "import": (
        "linerisk.cli.importing",
        "import_",
        "Import a layer or a register file. 导入图层与台账。",
    ),
    "export": (
        "linerisk.cli.export",
        "export",
        "Export a layer or a risk list. 导出图层与隐患清单。",
    ),
    "demo": (
        "linerisk.cli.demo",
        "demo",
        "Build a register from the sample data and summarise it. 用样例数据生成台账。",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        return getattr(module, spec[1])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands 命令"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--register",
    "register_path",
    envvar="LINERISK_REGISTER",
    type=click.Path(dir_okay=False),
    help="Register file (or set LINERISK_REGISTER). 台账文件。",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    envvar="LINERISK_LANG",
    help="Language of labels and messages (or LINERISK_LANG; default: the register's, zh). 语言。",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress output. 静默。")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors. 显示调试信息。")
@click.version_option(package_name="linerisk")
@click.pass_context
def cli(ctx: click.Context, register_path: str | None, lang: str | None, quiet: bool, debug: bool):
    """linerisk: rail line perimeter risk registers (铁路沿线隐患台账).

    Locate hazards by chainage, work out who must act in each of the three
    verticals (police, railway, local government), and track every item
    until it is cleared.
    """
    ctx.obj = Env(register_path=register_path, lang=lang, quiet=quiet, debug=debug)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    run_main(cli, argv, debug="--debug" in (argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":  # pragma: no cover
    main()
