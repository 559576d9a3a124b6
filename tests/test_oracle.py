"""linerisk against the straightforward geopandas pipeline, on generated networks.

The baseline of the benchmarks (bench/tasks.py) doubles as a correctness oracle:
nearest segment, measure along the line (chainage before calibration), police
area and neighbourhood must agree, ties at equal distance excepted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import synth
import tasks


@pytest.fixture(scope="module", params=["tiny", "station"])
def generated(request):
    return synth.generate(request.param, seed=11)


def test_referencing_agrees_with_the_geopandas_baseline(generated):
    segs, police, neighbourhoods = tasks.baseline_frames(generated)
    base, _ties = tasks.baseline_pipeline(generated, segs, police, neighbourhoods)
    base = base.sort_index()
    ref = generated.network.reference(generated.risk_x, generated.risk_y)
    idx = base.index.to_numpy()
    assert len(idx) == len(generated.risk_x)  # every risk is within 1000 m of a segment
    same_segment = base["segment"].to_numpy() == ref.segment[idx]
    tie = np.isclose(base["distance"].to_numpy(), ref.offset[idx], atol=1e-6)
    assert np.all(same_segment | tie)
    assert same_segment.mean() > 0.99
    measure_diff = np.abs(base["measure"].to_numpy() - ref.measure[idx])
    assert measure_diff[same_segment].max() < 1e-6
    police_b = base["police"].fillna(-1).to_numpy().astype(int)
    nb_b = base["neighbourhood"].fillna(-1).to_numpy().astype(int)
    assert np.array_equal(police_b, ref.police[idx])
    assert np.array_equal(nb_b, ref.neighbourhood[idx])


def test_generated_networks_have_what_the_benchmarks_claim():
    syn = synth.generate("tiny", seed=11)
    net = syn.network
    assert len(net.lines) == 6
    assert net.chain_breaks, "some lines carry a chain break"
    assert len(net.kmposts) > 50
    # kilometre posts drift from the geometric length by a few metres, except
    # across a chain break, where a kilometre is short by the jump
    for line in net.lines:
        cal = net.calibration(line.id)
        spacing = np.diff(cal.anchor_measures[1:])
        off = np.abs(spacing - 1000.0)
        breaks = sum(b.line == line.id for b in net.chain_breaks)
        assert (off > 10.0).sum() <= breaks
        assert np.any(off > 0.5)
    # some police areas are left out: coverage gaps
    ref = net.reference(syn.risk_x, syn.risk_y)
    assert (ref.police < 0).any()
    assert (ref.neighbourhood >= 0).all()


def test_the_same_seed_gives_the_same_network():
    a = synth.generate("tiny", seed=5)
    b = synth.generate("tiny", seed=5)
    assert np.array_equal(a.risk_x, b.risk_x)
    assert [s.id for s in a.network.segments] == [s.id for s in b.network.segments]
