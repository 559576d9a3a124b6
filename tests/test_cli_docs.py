"""docs/cli.md against the code: the generated reference is current, the walk-through
runs, and the documented keys and rule are the ones the code uses.

Walk-through convention: in a ```console block, a line starting with ``$ `` is a
command (a trailing backslash continues it on the next line). ``$ linerisk ...``
runs through the console entry point, ``$ export NAME=VALUE`` sets a variable
for the commands after it. The lines after a command are what it prints: each
must appear in its output, except ``...`` which stands for lines left out. A
command whose shown output starts with ``linerisk: `` is expected to be refused
(exit 1, that sentence on stderr); every other command must exit 0.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from linerisk.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"
CLI_MD = DOCS / "cli.md"


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "make_cli_reference", DOCS / "make_cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def _commands(block: str) -> list[tuple[str, list[str]]]:
    """(command, shown output lines) in the order of the block."""
    steps: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line)
            i += 1
            continue
        command = line[2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        steps.append((command, []))
        i += 1
    return steps


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    with CliRunner().isolation(env=env) as (out, err, _mixed):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()
        sys.stderr.flush()
        return code, out.getvalue().decode(), err.getvalue().decode()


def test_reference_is_generated_from_the_code():
    script = _load_script()
    text = CLI_MD.read_text(encoding="utf-8")
    assert script.updated(text) == text, "run: python docs/make_cli_reference.py"
    reference = script.reference()
    for heading in ("`linerisk risk add`", "`linerisk patrol advise`", "`linerisk config set`"):
        assert f"#### {heading}" in reference
    assert "`--register` | FILE | env `LINERISK_REGISTER`" in reference


def test_walk_through_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LINERISK_REGISTER", raising=False)
    monkeypatch.delenv("LINERISK_BY", raising=False)
    env: dict[str, str] = {}
    ran = 0
    for block in _blocks(CLI_MD.read_text(encoding="utf-8"), "console"):
        for command, shown in _commands(block):
            argv = shlex.split(command)
            if argv[0] == "export":
                name, _, value = argv[1].partition("=")
                env[name] = value
                continue
            assert argv[0] == "linerisk", command
            code, out, err = _run(argv[1:], env)
            refused = bool(shown) and shown[0].startswith("linerisk: ")
            assert code == (1 if refused else 0), f"{command}\n{out}{err}"
            printed = {line.rstrip() for line in (out + err).splitlines()}
            for line in shown:
                if line != "...":
                    assert line.rstrip() in printed, f"{command}: {line!r} not in\n{out}{err}"
            if refused:
                assert err.splitlines() == [shown[0]]
            ran += 1
    assert ran >= 15


def test_documented_risk_keys_are_the_json_keys(sample_register_path):
    text = CLI_MD.read_text(encoding="utf-8")
    section = text.split("### JSON keys of a risk", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    code, out, _err = _run(
        ["--register", str(sample_register_path), "risk", "list", "--format", "json"], {}
    )
    assert code == 0
    assert documented == list(json.loads(out)[0])


def test_documented_patrol_rule_is_the_default():
    from linerisk.patrol import DEFAULT_ADVICE_RULE

    text = CLI_MD.read_text(encoding="utf-8")
    section = text.split("## The patrol advice rule", 1)[1]
    (rule,) = [json.loads(b) for b in _blocks(section, "json")[:1]]
    assert rule == DEFAULT_ADVICE_RULE


@pytest.mark.parametrize("name", ["LINERISK_REGISTER", "LINERISK_BY"])
def test_environment_variables_are_documented(name):
    assert f"`{name}`" in CLI_MD.read_text(encoding="utf-8")
