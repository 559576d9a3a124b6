"""Shared CLI plumbing: the context object, error handling, output helpers."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Env:
    """What every command gets: the register path, language and verbosity.

    (A plain class: the CLI starts without importing attrs or numpy.)
    """

    def __init__(
        self,
        register_path: str | None = None,
        lang: str | None = None,
        quiet: bool = False,
        debug: bool = False,
    ) -> None:
        self.register_path = register_path
        self.lang = lang
        self.quiet = quiet
        self.debug = debug
        self._register: Any = None

    def open_register(self):
        """Open the register named by --register or LINERISK_REGISTER."""
        from linerisk.register import Register

        if not self.register_path:
            raise click.UsageError(
                "no register given: use --register PATH or set LINERISK_REGISTER"
            )
        self._register = Register.open(self.register_path)
        return self._register

    def language(self, register: Any = None) -> str:
        if self.lang:
            return self.lang
        if register is not None:
            return register.settings.lang
        return "zh"

    def close(self) -> None:
        if self._register is not None:
            self._register.close()
            self._register = None


def run_main(group: click.Group, argv: Sequence[str] | None, debug: bool) -> None:
    """Run the CLI; user errors print one sentence to stderr and exit 1."""
    from linerisk.errors import LineriskError

    try:
        group.main(args=argv, prog_name="linerisk", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (LineriskError, ValueError, OSError) as exc:
        if debug:
            raise
        message = str(exc) or exc.__class__.__name__
        click.echo(f"linerisk: {message}", err=True)
        sys.exit(1)
