"""Shared fixtures: the sample network and sample registers as real GeoPackage files."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from linerisk.register import Register
from linerisk.sample import build_sample_register, load_sample_network
from linerisk.store import sidecar

#: the date the sample data was cut; overdue counts in tests are taken on it
SAMPLE_DAY = "2026-11-25"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No register or actor leaks in from the shell running the tests."""
    monkeypatch.delenv("LINERISK_REGISTER", raising=False)
    monkeypatch.delenv("LINERISK_BY", raising=False)


@pytest.fixture(scope="session")
def sample_network():
    """The sample network (read once; it is immutable)."""
    return load_sample_network()


@pytest.fixture(scope="session")
def _sample_register_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("master") / "register.gpkg"
    build_sample_register(path).close()
    return path


@pytest.fixture
def sample_register_path(_sample_register_master, tmp_path) -> Path:
    """A fresh copy of the sample register file for one test."""
    path = tmp_path / "register.gpkg"
    shutil.copy(_sample_register_master, path)
    return path


@pytest.fixture
def sample_register(sample_register_path):
    """The sample register, open; closed after the test."""
    reg = Register.open(sample_register_path)
    yield reg
    reg.close()


@pytest.fixture
def empty_register(tmp_path, sample_network):
    """A register with the sample network and no risks."""
    reg = Register.create(tmp_path / "empty.gpkg", network=sample_network)
    yield reg
    reg.close()


class SpyWriter(sidecar.SideWriter):
    """The real child-process writer, remembering each one started."""

    made: ClassVar[list[sidecar.SideWriter]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        SpyWriter.made.append(self)


@pytest.fixture
def child_events(monkeypatch) -> list[sidecar.SideWriter]:
    """Bulk inserts of 100 rows or more build their events in a child process
    (20,000 otherwise); returns the list of the writers started."""
    monkeypatch.setattr(sidecar, "CHILD_EVENTS", 100)
    monkeypatch.setattr(sidecar, "_cores", lambda: 2)  # the mechanism, on any machine
    monkeypatch.setattr(sidecar, "SideWriter", SpyWriter)
    SpyWriter.made = []
    assert sidecar.child_worthwhile(100), "this platform builds no events in a child"
    return SpyWriter.made
