"""The examples in linerisk's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import linerisk

_ROOT = Path(linerisk.__file__).parent
#: every module of the package, by its file (``linerisk.store`` has no __init__)
MODULES = sorted(
    ".".join(("linerisk", *path.relative_to(_ROOT).with_suffix("").parts)).removesuffix(".__init__")
    for path in _ROOT.rglob("*.py")
    if path.name != "__main__.py"
)


def test_every_module_is_found():
    assert {"linerisk.register", "linerisk.lifecycle", "linerisk.store.gpkg"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_of_a_module_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_there_to_run():
    """Docstrings kept (not stripped by ``python -OO``), with examples in them."""
    import linerisk.lifecycle

    assert doctest.testmod(linerisk.lifecycle, optionflags=doctest.ELLIPSIS).attempted >= 3
