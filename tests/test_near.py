"""A few points are referenced on the part of the network near them.

When a register's network is not loaded, a command's few points (adding or moving
a risk) are placed on the lines, segments and areas read around them through the
register's spatial indexes instead of the whole network. These tests hold that
part to the whole: the same rows, the same refusals, on a generated network of
several lines with chain breaks and many police areas and neighbourhoods.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from linerisk.errors import LineriskError
from linerisk.register import NEAR_POINTS, Register
from linerisk.store.base import RiskQuery
from linerisk.store.rows import network_near

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import synth

FOUND = "2026-11-20T09:00:00+08:00"


@pytest.fixture(scope="module")
def generated():
    return synth.generate("tiny", seed=11)


@pytest.fixture(scope="module")
def _master(generated, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("near") / "tiny.gpkg"
    Register.create(path, network=generated.network).close()
    return path


@pytest.fixture
def two_copies(_master, tmp_path):
    """The same register twice: one with its whole network loaded first, one not."""
    whole_path, near_path = tmp_path / "whole.gpkg", tmp_path / "near.gpkg"
    shutil.copy(_master, whole_path)
    shutil.copy(_master, near_path)
    with Register.open(whole_path) as whole, Register.open(near_path) as near:
        assert whole.network is not None  # loaded before anything is added
        yield whole, near


def _rows(generated, rng, k: int) -> list[dict]:
    """k risks: half by coordinates (the generator's risks), half by chainage."""
    net = generated.network
    out = []
    for i in rng.choice(len(generated.risk_x), k // 2, replace=False):
        out.append({"x": float(generated.risk_x[i]), "y": float(generated.risk_y[i])})
    for j in range(k - k // 2):
        line = net.lines[int(rng.integers(len(net.lines)))]
        start, end = net.chainage_extent(line.id)
        at = float(rng.uniform(start + 50.0, end - 50.0))
        out.append(
            {
                "line": line.id,
                "chainage": f"K{int(at // 1000)}+{at % 1000:07.3f}",
                "side": "left" if j % 2 else "right",
                "offset": float(rng.uniform(0.0, 300.0)),
            }
        )
    for r in out:
        r.update(category="garbage", severity="general", found_by="test", found_at=FOUND)
        if "x" in r:
            r["crs"] = synth.CRS
    return out


def _stored(reg: Register) -> tuple[list[dict], np.ndarray]:
    """The register's risk rows without their coordinates, and the coordinates.

    A point placed by chainage is computed on edge tables laid out differently,
    so its coordinates may differ in the last bit; every stored chainage, offset
    and party must be exact."""
    rows = reg.store.find_risks(RiskQuery())
    xy = np.array([(r.pop("x"), r.pop("y")) for r in rows], dtype=float).reshape(-1, 2)
    for r in rows:
        del r["updated_at"]
    return rows, xy


def _same(near: Register, whole: Register) -> list[dict]:
    (got, got_xy), (want, want_xy) = _stored(near), _stored(whole)
    assert got == want
    assert np.allclose(got_xy, want_xy, rtol=0.0, atol=1e-6)
    return got


def test_a_few_points_land_as_on_the_whole_network(generated, two_copies):
    whole, near = two_copies
    rng = np.random.default_rng(5)
    for _ in range(12):
        rows = _rows(generated, rng, int(rng.integers(1, NEAR_POINTS + 1)))
        whole.add_risks(rows, allow_duplicates=True)
        near.add_risks(rows, allow_duplicates=True)
    assert near._network is None  # the whole network was never read
    got = _same(near, whole)
    assert len(got) > 60
    # and the generated network gives them work: several lines, parties of all kinds
    assert len({r["line"] for r in got}) >= 4
    assert len({r["police"] for r in got}) >= 5
    assert len({r["community"] for r in got}) >= 10


def test_moving_a_risk_lands_as_on_the_whole_network(generated, two_copies):
    whole, near = two_copies
    rng = np.random.default_rng(8)
    first, *moves = _rows(generated, rng, 8)
    (a,) = whole.add_risks([first], allow_duplicates=True)
    (b,) = near.add_risks([first], allow_duplicates=True)
    for to in moves:
        where = {k: to[k] for k in ("x", "y", "line", "chainage", "side", "offset") if k in to}
        if "x" in to:
            where["crs"] = synth.CRS
        whole.move(a, by="test", **where)
        near.move(b, by="test", **where)
    assert near._network is None
    _same(near, whole)


def test_refusals_are_the_whole_networks(generated, two_copies):
    """A point out of reach of every line, and a chainage beyond its line, are refused
    with the same sentence either way."""
    whole, near = two_copies
    net = generated.network
    xs = np.concatenate([ln.geometry.xy[0] for ln in net.lines])
    ys = np.concatenate([ln.geometry.xy[1] for ln in net.lines])
    far = {"x": float(xs.max()) + 50_000.0, "y": float(ys.max()) + 50_000.0, "crs": synth.CRS}
    line = net.lines[0]
    _start, end = net.chainage_extent(line.id)
    beyond = {"line": line.id, "chainage": f"K{int(end // 1000) + 5}+000", "side": "left"}
    for bad in (far, beyond):
        row = {**bad, "category": "garbage", "severity": "general", "found_by": "test"}
        messages = []
        for reg in (whole, near):
            with pytest.raises(LineriskError) as info:
                reg.add_risks([row])
            messages.append(str(info.value))
        assert messages[0] == messages[1]
    assert _same(near, whole) == []


def test_the_part_read_is_small(generated, _master):
    """Around one point: the lines within reach and the areas holding it, not all."""
    net = generated.network
    with Register.open(_master) as reg:
        x, y = float(generated.risk_x[0]), float(generated.risk_y[0])
        part = network_near(reg.store, reg.settings, [x], [y])
    assert part is not None
    assert 1 <= len(part.lines) < len(net.lines)
    assert len(part.police_areas) <= 2 < len(net.police_areas)
    assert len(part.neighbourhoods) <= 2 < len(net.neighbourhoods)
    ids = {ln.id for ln in part.lines}
    assert {s.id for s in part.segments} == {s.id for s in net.segments if s.line in ids}
