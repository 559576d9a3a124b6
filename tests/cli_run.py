"""Running the command line in-process through its console entry point."""

from __future__ import annotations

import sys

from click.testing import CliRunner


def run_cli(*args: object, lang: str = "en") -> tuple[int, str, str]:
    """``linerisk ARGS`` through ``linerisk.cli.main`` (which turns user errors into
    one line on stderr): (exit code, stdout, stderr), messages in ``lang``."""
    from linerisk.cli import main

    runner = CliRunner()
    with runner.isolation(env={"LINERISK_LANG": lang}) as (out, err, _):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()
