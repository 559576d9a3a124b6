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
        #: the open register's language setting, once known
        self.register_lang: str | None = None
        Env.current = self

    #: the Env of the command being run (for error messages after a failure)
    current: Env | None = None

    def open_register(self):
        """Open the register named by --register or LINERISK_REGISTER."""
        from linerisk.register import Register

        if not self.register_path:
            raise click.UsageError(
                "no register given: use --register PATH or set LINERISK_REGISTER"
            )
        self._register = Register.open(self.register_path)
        self.register_lang = self._register.settings.lang
        return self._register

    @property
    def interactive(self) -> bool:
        """Progress is shown only on a terminal and without --quiet."""
        return not self.quiet and sys.stderr.isatty()

    def step(self, message: str) -> None:
        """Announce one step of a long command on stderr (terminal only)."""
        if self.interactive:
            click.echo(f"… {message}", err=True)

    def progress(self, label: str, total: int):
        """A ``(done, total)`` callback drawing a progress bar on stderr, or None.

        Use as ``with env.progress("导入", n) as update: lib_call(progress=update)``.
        """
        import contextlib

        if not self.interactive or total <= 0:
            return contextlib.nullcontext(None)
        return _Bar(label, total)

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
        from linerisk.errors_zh import translate_error

        message = str(exc) or exc.__class__.__name__
        click.echo(f"linerisk: {translate_error(message, error_language())}", err=True)
        sys.exit(1)


def error_language() -> str:
    """The language for an error: --lang / LINERISK_LANG, else the open register's, else zh."""
    import os

    env = Env.current
    if env is not None:
        if env.lang:
            return env.lang
        if env.register_lang:
            return env.register_lang
    lang = os.environ.get("LINERISK_LANG", "")
    return lang if lang in ("zh", "en") else "zh"


class _Bar:
    """A click progress bar driven by ``(done, total)`` callbacks."""

    def __init__(self, label: str, total: int) -> None:
        self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
        self._done = 0

    def __enter__(self):
        self._bar.__enter__()
        return self.update

    def update(self, done: int, total: int) -> None:
        self._bar.update(done - self._done)
        self._done = done

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)
