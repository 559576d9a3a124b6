"""A meeting's scope asks the register for its own risks only (Scope.ground):
the store's filter keeps exactly the risks the scope's rule keeps, on a generated
network of several lines with many police areas and neighbourhoods."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import linerisk.store.gpkg
from linerisk.maps.scope import resolve_scope, risks_in_scope
from linerisk.register import Register
from linerisk.store.base import Ground, RiskQuery

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import synth


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    generated = synth.generate("tiny", seed=11)
    path = tmp_path_factory.mktemp("ground") / "tiny.gpkg"
    with Register.create(path, network=generated.network) as register:
        register.add_risks(
            [
                {
                    "x": float(x),
                    "y": float(y),
                    "crs": synth.CRS,
                    "category": ("garbage", "fence_damage", "illegal_building")[k % 3],
                    "severity": "general",
                    "found_by": "test",
                }
                for k, (x, y) in enumerate(zip(generated.risk_x, generated.risk_y, strict=True))
                if k % 5 == 0
            ],
            allow_duplicates=True,
        )
    with Register.open(path) as register:
        yield register


def _scopes(reg: Register):
    net = reg.network
    for area in net.police_areas[::3]:
        yield resolve_scope(net, police=area.name)
    for nb in net.neighbourhoods[::15]:
        yield resolve_scope(net, neighbourhood=nb.street_office)
        yield resolve_scope(net, neighbourhood=nb.community)
    for line in net.lines:
        lo, hi = net.chainage_extent(line.id)
        third = (hi - lo) / 3
        yield resolve_scope(net, line=line.id, start=lo + third, end=lo + 2 * third)


def test_the_store_keeps_exactly_the_risks_of_the_scope(reg):
    everything = reg.risks()
    sizes = []
    for scope in _scopes(reg):
        want = [r.id for r in scope.select(everything)]
        got = [r.id for r in reg.risks(ground=scope.ground)]
        assert got == want, scope.name
        assert [r.id for r in risks_in_scope(reg, scope)] == want
        sizes.append(len(want))
    # the scopes hold something, and each far less than the register
    assert sum(1 for s in sizes if s) >= 15
    assert max(sizes) < len(everything) / 2
    assert resolve_scope(reg).ground is None  # the whole network: no filter


def test_a_scope_of_very_many_stretches_is_widened_then_narrowed(reg, monkeypatch):
    """Past MAX_GROUND_RANGES stretches the store keeps whole lines (some SQLite
    builds take 999 parameters a statement); the scope's rule then narrows."""
    scopes = [s for s in _scopes(reg) if len(s.ranges) > 1]
    assert scopes
    monkeypatch.setattr(linerisk.store.gpkg, "MAX_GROUND_RANGES", 1)
    for scope in scopes:
        want = [r.id for r in scope.select(reg.risks())]
        wide = {r.id for r in reg.risks(ground=scope.ground)}
        assert set(want) <= wide
        assert [r.id for r in risks_in_scope(reg, scope)] == want


def test_ground_terms_combine_with_or_and_nothing_named_is_nothing(reg):
    store = reg.store
    rows = store.find_risks(RiskQuery(), ["police", "community", "line", "measure_m"])
    police, community = rows[0]["police"], rows[-1]["community"]
    line, measure = rows[1]["line"], rows[1]["measure_m"]
    ground = Ground(
        police=(police,),
        communities=(community,),
        ranges=((line, measure - 1.0, measure + 1.0),),
    )
    want = [
        r["id"]
        for r in rows
        if r["police"] == police
        or r["community"] == community
        or (r["line"] == line and measure - 1.0 <= r["measure_m"] <= measure + 1.0)
    ]
    assert [r["id"] for r in store.find_risks(RiskQuery(ground=ground))] == want
    assert store.find_risks(RiskQuery(ground=Ground())) == []


def test_history_rows_of_some_risks(reg):
    every = list(reg.store.history_rows())
    some = {every[0]["risk_id"], every[-1]["risk_id"], 10**9}
    assert list(reg.store.history_rows(some)) == [e for e in every if e["risk_id"] in some]
    assert list(reg.store.history_rows([])) == []


# ------------------------------------------------------------- the part of the network


def _choices(reg: Register) -> list[dict]:
    net = reg.network
    out = [{"police": a.name} for a in net.police_areas[::4]]
    out += [{"neighbourhood": n.street_office} for n in net.neighbourhoods[::30]]
    out += [{"neighbourhood": n.community} for n in net.neighbourhoods[::40]]
    for line in net.lines:
        lo, hi = net.chainage_extent(line.id)
        third = (hi - lo) / 3
        out.append({"line": line.id, "start": lo + third, "end": lo + 2 * third})
    return out


def _stamp_free(text: str) -> str:
    """The page without the time it was made."""
    return re.sub(r"20\d\d-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?", "<time>", text)


def test_a_meeting_on_the_part_of_the_network_around_its_scope_is_the_same_meeting(reg):
    """Scope, agenda, map and diagram made from the part of the network read around
    the scope are those made from the whole network, to the byte."""
    from linerisk.maps.agenda import build_agenda, render_agenda
    from linerisk.maps.diagram import straight_line_diagram
    from linerisk.maps.meeting import meeting_map
    from linerisk.maps.scope import ScopedRegister, register_for_scope

    whole = reg
    assert whole.network_loaded
    parts = 0
    for choice in _choices(whole):
        with Register.open(whole.store.path) as fresh:
            part = register_for_scope(fresh, **choice)
            if isinstance(part, ScopedRegister):
                parts += 1
                assert len(part.network.lines) < len(whole.network.lines)
                assert not fresh.network_loaded
            scope = resolve_scope(part.network, **choice)
            assert scope == resolve_scope(whole.network, **choice), choice
            for lang in ("zh", "en"):
                got = render_agenda(build_agenda(part, scope, on="2026-11-30", lang=lang), "md")
                want = render_agenda(build_agenda(whole, scope, on="2026-11-30", lang=lang), "md")
                assert _stamp_free(got) == _stamp_free(want), choice
            got = meeting_map(part, scope, on="2026-11-30", offline=True)
            want = meeting_map(whole, scope, on="2026-11-30", offline=True)
            assert _stamp_free(got) == _stamp_free(want), choice
            got = straight_line_diagram(part, scope, lang="en", on="2026-11-30")
            assert got == straight_line_diagram(whole, scope, lang="en", on="2026-11-30"), choice
    assert parts >= 15


def test_the_whole_network_where_the_part_would_not_do(reg):
    """An unknown name is refused in the whole network's words; a register whose
    network is loaded is used as it is."""
    from linerisk.errors import LineriskError
    from linerisk.maps.scope import register_for_scope

    with Register.open(reg.store.path) as fresh:
        part = register_for_scope(fresh, police="no such station")
        assert part is fresh
        with pytest.raises(LineriskError, match="no police area is called 'no such station'"):
            resolve_scope(part.network, police="no such station")
    assert register_for_scope(reg, police=reg.network.police_areas[0].name) is reg


def test_a_scope_no_line_runs_through_still_has_its_map(reg, tmp_path):
    """A police area with no line inside it: its risks (near a line outside it) are
    still its own; the diagram says there is no line instead of failing."""
    from linerisk.maps.diagram import straight_line_diagram
    from linerisk.maps.meeting import write_meeting_map

    empty = [
        s
        for a in reg.network.police_areas
        if not (s := resolve_scope(reg.network, police=a.name)).ranges
    ]
    assert empty
    svg = straight_line_diagram(reg, empty[0], lang="en", on="2026-11-30")
    assert "No line runs through this scope" in svg
    assert "范围内没有线路经过" in straight_line_diagram(reg, empty[0], on="2026-11-30")
    page = write_meeting_map(reg, tmp_path / "m.html", empty[0], lang="en", on="2026-11-30")
    assert "No line runs through this scope" in page.read_text(encoding="utf-8")
