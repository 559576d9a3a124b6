"""Progress output: shown on a terminal, silent when piped or with --quiet."""

from __future__ import annotations

import io
import sys

import pytest

from linerisk.cli.base import Env
from linerisk.errors import LineriskError
from linerisk.sample import sample_dir


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(env: Env, monkeypatch) -> str:
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    env.step("读取图层")
    with env.progress("导入隐患", 10) as update:
        if update is not None:
            update(5, 10)
            update(10, 10)
    return fake.getvalue()


def test_a_terminal_shows_steps_and_a_bar(monkeypatch):
    text = _run(Env(), monkeypatch)
    assert "… 读取图层" in text
    assert "导入隐患" in text
    assert "100%" in text


def test_quiet_shows_nothing(monkeypatch):
    assert _run(Env(quiet=True), monkeypatch) == ""


def test_piped_output_shows_nothing(monkeypatch):
    class Pipe(io.StringIO):
        def isatty(self) -> bool:
            return False

    fake = Pipe()
    monkeypatch.setattr(sys, "stderr", fake)
    env = Env()
    env.step("x")
    with env.progress("y", 3) as update:
        assert update is None
    assert fake.getvalue() == ""


def test_bulk_add_reports_progress(empty_register):
    calls = []
    rows = [
        {
            "category": "garbage",
            "severity": "general",
            "found_by": "王磊",
            "line": "JD",
            "chainage": 3000 + 40 * k,
            "side": "left",
            "offset": 50,
        }
        for k in range(12)
    ]
    empty_register.add_risks(rows, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (12, 12)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_bulk_add_pauses_the_garbage_collector_and_puts_it_back(empty_register, enabled):
    """The cyclic collector is off while rows are built and written (it would
    walk every object in memory again and again) and back as it was after, also
    when the insert fails."""
    import gc

    row = {
        "category": "garbage",
        "severity": "general",
        "found_by": "王磊",
        "line": "JD",
        "chainage": 3000,
        "side": "left",
        "offset": 50,
    }
    seen = []
    (gc.enable if enabled else gc.disable)()
    try:
        empty_register.add_risks([row], progress=lambda done, total: seen.append(gc.isenabled()))
        assert seen == [False]
        assert gc.isenabled() is enabled
        with pytest.raises(LineriskError, match="missing field"):
            empty_register.add_risks([row, {"found_by": "王磊"}])
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def _collector_seen_by(monkeypatch, module, name: str) -> list[bool]:
    """Wrap ``module.name`` so that each call records whether the cyclic garbage
    collector was on; returns the list it appends to."""
    import gc

    seen: list[bool] = []
    real = getattr(module, name)

    def wrapped(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)
    return seen


@pytest.mark.parametrize("kind", ["risks", "lines"])
def test_an_import_pauses_the_garbage_collector_while_it_reads_and_checks(
    empty_register, tmp_path, monkeypatch, kind
):
    """import_layer reads, maps and checks a whole file (millions of objects for
    a national one) with the collector off, and puts it back after."""
    import contextlib
    import gc

    import linerisk.io.importing as importing

    seen = _collector_seen_by(monkeypatch, importing, "read_source")
    path = tmp_path / "one.csv"
    if kind == "risks":
        path.write_text("line,chainage,side,offset_m,category\nJD,K5+000,left,30,garbage\n")
    else:
        path.write_text('id,wkt\nX1,"LINESTRING (0 0, 1 1)"\n')
    gc.enable()
    # a line far from the network may be refused; the collector is what counts
    with contextlib.suppress(LineriskError):
        importing.import_layer(empty_register, kind, path, by="王磊", dry_run=True)
    assert seen == [False]
    assert gc.isenabled()


def test_reading_a_layer_pauses_the_garbage_collector(monkeypatch):
    """read_layer builds one dict per feature (a million for a national file)
    with the collector off, and puts it back after, also when reading fails."""
    import gc

    import linerisk.io.layers as layers

    seen = _collector_seen_by(monkeypatch, layers, "records_of")
    gc.enable()
    layer = layers.read_layer(sample_dir() / "lines.geojson")
    assert len(layer) > 0
    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(layers.LayerError, match="cannot read"):
        layers.read_layer(sample_dir() / "no-such-file.gpkg")
    assert gc.isenabled()
