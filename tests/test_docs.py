"""The documentation runs: every ```python block of docs/*.md (and of README.md),
in order, in one namespace per page, inside a fresh working directory.

A line ``# -> text`` after a print shows what it prints: in a block that has such
lines, the printed lines must be exactly the ``# ->`` lines of that block. Blocks
without them (output shown in trailing comments, or none) only have to run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

from linerisk.model import BUILTIN_CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
SHOWN = re.compile(r"^\s*# -> ?(.*)$", re.MULTILINE)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of each ```python block of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


PAGES = sorted(p for p in DOCS.glob("*.md") if python_blocks(p))
PAGES += [ROOT / "README.md"] if python_blocks(ROOT / "README.md") else []


def test_the_quickstart_is_among_the_pages_run():
    assert DOCS / "quickstart.md" in PAGES
    assert len(python_blocks(DOCS / "quickstart.md")) >= 4


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_runs_and_prints_what_it_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for line_no, code in python_blocks(page):
        where = f"{page.relative_to(ROOT)}, block at line {line_no}"
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, where, "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{where} raised {type(exc).__name__}: {exc}")
        shown = SHOWN.findall(code)
        if shown:
            assert out.getvalue().splitlines() == shown, where
    for value in namespace.values():  # registers opened by the page
        close = getattr(value, "close", None)
        if type(value).__name__ == "Register" and callable(close):
            close()


def test_blocks_are_found_as_written():
    blocks = python_blocks(DOCS / "chainage.md")
    assert blocks and all(not code.startswith("```") for _, code in blocks)
    first_line, first = blocks[0]
    lines = (DOCS / "chainage.md").read_text(encoding="utf-8").splitlines()
    assert lines[first_line - 1] == first.splitlines()[0]


# --------------------------------------------------------------------------- tables, figures


def test_overview_lead_table_matches_the_categories():
    text = (DOCS / "overview.md").read_text(encoding="utf-8")
    lead = r"(police|railway|local) \S+"
    rows = re.findall(rf"^\| `([a-z_]+)` \| (\S+) \| ([^|]+) \| {lead} \|$", text, re.MULTILINE)
    table = [(key, zh, en.strip(), lead) for key, zh, en, lead in rows]
    expected = [(c.key, c.zh, c.en, c.lead.value) for c in BUILTIN_CATEGORIES]
    assert table == expected


def _figures_module():
    spec = importlib.util.spec_from_file_location(
        "make_figures", DOCS / "figures" / "make_figures.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_figures_are_what_the_script_draws():
    module = _figures_module()
    for name, draw in module.FIGURES.items():
        committed = (DOCS / "figures" / name).read_text(encoding="utf-8")
        assert committed == draw(), (
            f"docs/figures/{name} is stale: run docs/figures/make_figures.py"
        )


def test_figures_the_docs_link_to_exist():
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\((figures/[^)]+)\)", page.read_text(encoding="utf-8")):
            assert (DOCS / target).is_file(), f"{page.name} links to missing {target}"


def test_drift_figure_marks_the_posts_and_the_break():
    svg = (DOCS / "figures" / "chainage_drift.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert svg.count("<circle ") == 20  # K3+000 ... K22+000
    assert "K11+620 = K11+660" in svg
