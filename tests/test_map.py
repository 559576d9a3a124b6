"""The joint-meeting map and the straight-line diagram, in a real headless Chromium.

One browser serves the whole module. Pages are written from copies of the sample
register as real files and opened from disk, as they are in a meeting room.
What is checked is what the people at the table rely on: every layer is there
with the register's counts, a risk's popup shows its record, the diagram's bands
say who answers where, a click in the diagram finds the point on the map, an
offline page asks the network for nothing, and text typed by users is shown,
never run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from linerisk.cli import cli
from linerisk.errors import LineriskError
from linerisk.maps import (
    map_payload,
    meeting_map,
    resolve_scope,
    straight_line_diagram,
    write_meeting_map,
)
from linerisk.maps.style import label
from linerisk.model import Status
from linerisk.register import Register

SAMPLE_DAY = "2026-11-25"
CHROMIUM = os.environ.get("LINERISK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAYERS = (
    "neighbourhoods",
    "police",
    "zone",
    "segments",
    "fences",
    "fence_gaps",
    "chainage",
    "risks_closed",
    "risks_open",
)
INJECTED = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
SVG_NS = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (skipped only off CI when it is missing)."""
    on_ci = os.environ.get("CI") == "true"
    if not Path(CHROMIUM).exists():
        if on_ci:
            pytest.fail(f"Chromium is required for the map tests on CI ({CHROMIUM} missing)")
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    if on_ci:
        import playwright.sync_api as sync_api  # on CI a missing playwright is a failure
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, _sample_register_master) -> Path:
    d = tmp_path_factory.mktemp("maps")
    shutil.copy(_sample_register_master, d / "register.gpkg")
    return d


@pytest.fixture(scope="module")
def reg(workdir):
    r = Register.open(workdir / "register.gpkg")
    yield r
    r.close()


@pytest.fixture(scope="module")
def offline_page(reg, workdir) -> Path:
    """The whole sample line, offline, in Chinese."""
    return write_meeting_map(reg, workdir / "meeting.html", on=SAMPLE_DAY, offline=True)


@pytest.fixture(scope="module")
def xss(workdir):
    """A copy of the register with a risk whose user-typed fields carry markup."""
    path = workdir / "xss.gpkg"
    shutil.copy(workdir / "register.gpkg", path)
    with Register.open(path) as r:
        risk = r.add_risk(
            category="garbage",
            severity="major",
            found_by='<img src=x onerror="window.__xss = 3"> 王磊',
            line="JD",
            chainage="K6+100",
            side="right",
            offset=40,
            description=INJECTED,
            note=INJECTED,
            found_at="2026-11-20T09:00+08:00",
        )
        r.assign(risk.id, by="天津站派出所 <b>陈</b>", note=INJECTED, at="2026-11-21T10:00+08:00")
        page = write_meeting_map(r, workdir / "xss.html", on=SAMPLE_DAY, offline=True)
        svg = straight_line_diagram(r, on=SAMPLE_DAY)
    return risk.id, page, svg


def _open(browser, path: Path, *, block_network: bool = True):
    """Open ``path`` in a fresh page; return (page, console errors, http requests)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            requests.append(url)
            r.abort()

    if block_network:
        page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function("window.lineriskReady === true", timeout=10_000)
    return page, errors, requests


def _risk_by_ref(reg, ref):
    return next(r for r in reg.risks() if r.ref == ref)


# --------------------------------------------------------------------------- browser


def test_page_loads_with_every_layer_and_the_register_counts(browser, reg, offline_page):
    page, errors, _ = _open(browser, offline_page)
    try:
        counts = page.evaluate("window.lineriskLayers")
        net = reg.network
        risks = reg.risks()
        assert counts["segments"] == len(net.segments)
        assert counts["police"] == len(net.police_areas)
        assert counts["neighbourhoods"] == len(net.neighbourhoods)
        assert counts["fences"] == len(net.fences)
        assert counts["risks_open"] == sum(r.is_open for r in risks)
        assert counts["risks_closed"] == sum(not r.is_open for r in risks)
        # both sides of every segment have a protection zone
        assert counts["zone"] == 2 * len(net.segments)
        # calibrated kilometre marks K3 … K22 and the one chain break
        assert counts["chainage"] == 20
        assert counts["chain_breaks"] == len(net.chain_breaks) == 1
        # the sample's fence gaps: 4 on the left, 5 on the right (geodata/README.md)
        assert counts["fence_gaps"] == 9
        # the layer control lists every layer with its count
        labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert len(labels) == len(LAYERS)
        for key in LAYERS:
            assert any(label(key, "zh") in t and f"({counts[key]})" in t for t in labels), key
        # what is drawn: one marker per risk, segment paths, area labels
        assert page.locator(".lr-icon[data-risk-id]").count() == len(risks)
        assert page.locator(".lr-area-label.lr-police").count() == len(net.police_areas)
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".lr-legend").count() == 1
        # overdue points carry the unmistakable ring
        on = reg.end_of_day(SAMPLE_DAY)
        overdue = {r.id for r in risks if r.is_overdue(on)}
        ringed = page.eval_on_selector_all(
            ".lr-icon[data-risk-id] .lr-m.lr-od",
            "els => els.map(e => Number(e.parentElement.getAttribute('data-risk-id')))",
        )
        assert set(ringed) == overdue
        assert page.evaluate("document.characterSet") == "UTF-8"
        assert errors == []
    finally:
        page.close()


def test_popup_shows_the_full_record_and_history(browser, reg, offline_page):
    risk = _risk_by_ref(reg, "S025")  # in the police coverage gap, assigned, overdue
    history = reg.history(risk.id)
    page, errors, _ = _open(browser, offline_page)
    try:
        page.locator(f'.lr-icon[data-risk-id="{risk.id}"]').dispatch_event("click")
        popup = page.locator(f'.leaflet-popup-content .lr-popup[data-risk-id="{risk.id}"]')
        popup.wait_for(timeout=5000)
        text = popup.inner_text()
        assert risk.ref in text
        assert risk.location.chainage in text
        assert "左侧" in text
        assert risk.parties.work_area in text
        assert risk.parties.street_office in text
        assert risk.parties.community in text
        # the police lead here, but no police station answers for the gap
        assert risk.lead_party is None
        assert "公安\t未覆盖" in text
        assert "牵头\t公安 未覆盖" in text
        assert risk.description in text
        assert "超期" in text
        assert "2026-10-27 18:25" in text  # the deadline, in China Standard Time
        for event in history:
            assert event.actor in text
            if event.note:
                assert event.note in text
        assert errors == []
    finally:
        page.close()


def test_diagram_click_and_hover_highlight_the_map_point(browser, reg, offline_page):
    risk = _risk_by_ref(reg, "S040")
    other = _risk_by_ref(reg, "S048")
    page, errors, _ = _open(browser, offline_page)
    try:
        assert page.locator("#lr-diagram svg [data-risk-id]").count() == len(reg.risks())
        page.locator(f'#lr-diagram [data-risk-id="{other.id}"]').hover(timeout=5000)
        page.wait_for_selector(f'.lr-icon.lr-hl[data-risk-id="{other.id}"]', timeout=3000)
        page.locator(f'#lr-diagram [data-risk-id="{risk.id}"]').dispatch_event("click")
        page.wait_for_selector(f'.lr-icon.lr-hl[data-risk-id="{risk.id}"]', timeout=5000)
        page.wait_for_selector(f'.lr-popup[data-risk-id="{risk.id}"]', timeout=5000)
        assert page.locator(f'#lr-diagram .lrd-hl[data-risk-id="{risk.id}"]').count() == 1
        # the map was brought to the point
        inside = page.evaluate(
            f"window.linerisk.map.getBounds().contains("
            f"window.linerisk.markers[{risk.id}].getLatLng())"
        )
        assert inside
        assert errors == []
    finally:
        page.close()


def test_offline_page_asks_the_network_for_nothing(browser, offline_page):
    html = offline_page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|img|iframe)[^>]+src=[\"']?https?:", html, re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html, re.I)
    assert '<meta charset="utf-8">' in html
    page, errors, requests = _open(browser, offline_page)
    try:
        assert requests == []
        assert page.evaluate("typeof window.L") == "object"
        assert page.evaluate("typeof L.markerClusterGroup") == "function"
        # every layer drew on the plain background: vector paths and markers exist
        assert page.locator(".leaflet-overlay-pane path, .leaflet-pane path").count() > 100
        assert page.locator(".leaflet-tile").count() == 0
        assert errors == []
    finally:
        page.close()


def test_text_typed_by_users_is_shown_never_run(browser, xss):
    risk_id, path, svg = xss
    page, errors, requests = _open(browser, path)
    try:
        page.evaluate(f"window.linerisk.focusRisk({risk_id}, true)")
        popup = page.locator(f'.lr-popup[data-risk-id="{risk_id}"]')
        popup.wait_for(timeout=5000)
        page.locator(f'#lr-diagram [data-risk-id="{risk_id}"]').hover()
        text = popup.inner_text()
        assert INJECTED in text  # the description and the note, literally
        assert '<img src=x onerror="window.__xss = 3"> 王磊' in text
        assert "天津站派出所 <b>陈</b>" in text
        assert popup.locator("script, img, b").count() == 0
        assert page.evaluate("window.__xss") is None
        assert requests == []  # not even the broken image was asked for
        assert errors == []
    finally:
        page.close()
    # the standalone diagram is well-formed XML and keeps the text as text
    root = ET.fromstring(svg)
    assert not root.findall(f".//{SVG_NS}script")
    assert not root.findall(f".//{SVG_NS}img") and "<img" not in svg


# --------------------------------------------------------------------------- diagram


def _bands(svg: str) -> dict[str, list[dict[str, str]]]:
    root = ET.fromstring(svg)
    out: dict[str, list[dict[str, str]]] = {"police": [], "local": [], "railway": []}
    for rect in root.iter(f"{SVG_NS}rect"):
        if "data-band" in rect.attrib:
            out[rect.attrib["data-band"]].append(rect.attrib)
    return out


def test_diagram_bands_say_who_answers_along_the_line(reg):
    svg = straight_line_diagram(reg, on=SAMPLE_DAY, lang="zh")
    bands = _bands(svg)
    stretches = reg.network.stretches("JD")
    expected = {
        "police": lambda p: p.police,
        "local": lambda p: p.street_office,
        "railway": lambda p: p.work_area,
    }
    for vertical, party_of in expected.items():
        runs = sorted(bands[vertical], key=lambda a: float(a["data-from"]))
        # the band covers the line from end to end without overlaps
        assert float(runs[0]["data-from"]) == pytest.approx(stretches[0].from_chainage, abs=0.1)
        assert float(runs[-1]["data-to"]) == pytest.approx(stretches[-1].to_chainage, abs=0.1)
        for a, b in itertools.pairwise(runs):
            assert float(a["data-to"]) == pytest.approx(float(b["data-from"]), abs=0.1)
            assert a["data-party"] != b["data-party"]  # neighbours differ, else merged
        # in the middle of every stretch the band names the stretch's party
        for s in stretches:
            mid = (s.from_chainage + s.to_chainage) / 2
            run = next(r for r in runs if float(r["data-from"]) <= mid <= float(r["data-to"]))
            assert run["data-party"] == (party_of(s.parties) or ""), (vertical, s)
    # the police coverage gap K11+000-K11+300 shows as a gap
    gaps = [r for r in bands["police"] if r["data-party"] == ""]
    assert [(float(g["data-from"]), float(g["data-to"])) for g in gaps] == [(11000.0, 11300.0)]
    assert "lrd-gap" in gaps[0]["class"]
    # every risk is drawn once, left risks above the line and right ones below
    root = ET.fromstring(svg)
    points = [e for e in root.iter() if "data-risk-id" in e.attrib]
    assert sorted(int(e.attrib["data-risk-id"]) for e in points) == sorted(
        r.id for r in reg.risks()
    )
    track = next(e for e in root.iter(f"{SVG_NS}line") if e.attrib.get("class") == "lrd-track")
    line_y = float(track.attrib["y1"])
    by_id = {r.id: r for r in reg.risks()}
    for e in points:
        # a circle's centre, a square's top edge or a diamond's top vertex
        top = e.attrib.get("cy") or e.attrib.get("y")
        y = float(top or re.match(r"M[\d.]+ ([\d.]+)", e.attrib["d"])[1])
        side = by_id[int(e.attrib["data-risk-id"])].location.side.value
        assert (y < line_y) == (side == "left")
    assert "断链 K11+620=K11+660" in svg


def test_diagram_of_a_stretch_is_clipped_to_it(reg):
    scope = resolve_scope(reg.network, line="JD", start="K10+500", end="K12+500")
    bands = _bands(straight_line_diagram(reg, scope, on=SAMPLE_DAY, lang="en"))
    police = sorted(bands["police"], key=lambda a: float(a["data-from"]))
    assert [(r["data-party"], r["data-range"]) for r in police] == [
        ("天津站派出所", "K10+500-K11+000"),
        ("", "K11+000-K11+300"),
        ("军粮城站派出所", "K11+300-K12+500"),
    ]


def test_as_of_an_earlier_day_the_map_shows_the_register_as_it_stood(reg):
    day = "2026-10-15"
    on = reg.end_of_day(day)
    payload = map_payload(reg, on=day)
    risks = payload["risks"]
    f = {name: i for i, name in enumerate(risks["f"])}
    statuses = [m.value for m in Status]
    shown = {row[f["id"]]: (statuses[row[f["st"]]], row[f["od"]]) for row in risks["rows"]}
    expected = {}
    for r in reg.risks():
        if r.found_at > on:
            continue
        # replay the history up to that day: status, and the deadline in force
        events = [e for e in reg.history(r.id) if e.at <= on]
        status = Status.REPORTED
        deadline = dt.datetime.fromisoformat(events[0].data["record"]["deadline"])
        for e in events:
            status = e.to_status or status
            if "deadline" in e.data:
                deadline = dt.datetime.fromisoformat(e.data["deadline"])
        expected[r.id] = (status.value, int(status.is_open and on > deadline))
    assert shown == expected
    assert len(shown) < len(reg.risks())  # some were found later
    assert any(shown[i][0] != reg.get(i).status.value for i in shown)  # and some moved on since
    counts = payload["counts"]
    assert counts["risks_open"] + counts["risks_closed"] == len(expected)
    # the diagram draws the same day
    svg = straight_line_diagram(reg, on=day)
    assert len(re.findall(r"data-risk-id=", svg)) == len(expected)


# --------------------------------------------------------------------------- scope


def test_scope_by_line_police_or_neighbourhood(reg):
    net = reg.network
    whole = resolve_scope(net)
    assert whole.kind == "network" and [r.label for r in whole.ranges] == ["K2+350-K22+637"]

    stretch = resolve_scope(net, line="JD", start="K5+000", end="K8+000")
    (rng,) = stretch.ranges
    cal = net.calibration("JD")
    assert rng.from_measure == pytest.approx(float(cal.measure_at(5000.0)))
    assert rng.to_measure == pytest.approx(float(cal.measure_at(8000.0)))
    inside = {r.ref for r in stretch.select(reg.risks())}
    expected = {
        r.ref for r in reg.risks() if 5000 <= r.location.chainage_m <= 8000 and r.location.line
    }
    assert inside == expected and inside

    # a police area: the stretch of line inside it, and every risk it answers for
    police = resolve_scope(net, police="天津站派出所")
    assert [r.label for r in police.ranges] == ["K2+350-K11+000"]
    assert {r.ref for r in reg.risks() if r.parties.police == "天津站派出所"} <= {
        r.ref for r in police.select(reg.risks())
    }
    assert "S025" not in {r.ref for r in police.select(reg.risks())}  # in the gap
    assert resolve_scope(net, police="PS-JLC").ranges[0].label == "K11+300-K22+637"

    # a street office, and a village within it
    office = resolve_scope(net, neighbourhood="新立街道")
    assert [r.label for r in office.ranges] == ["K9+602-K13+519"]
    village = resolve_scope(net, neighbourhood="新立村")
    assert village.communities == frozenset({"新立村"})
    chosen = village.select(reg.risks())
    assert chosen and all(
        r.parties.community == "新立村" or village.contains_measure("JD", r.location.measure_m)
        for r in chosen
    )
    x0, y0, x1, y1 = village.bbox
    assert x0 < x1 and y0 < y1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"line": "JD", "start": "K11+640"}, "short chain"),
        ({"line": "JD", "start": "K30+000"}, "outside line JD"),
        ({"line": "JD", "start": "K9+000", "end": "K8+000"}, "--from before --to"),
        ({"line": "XX"}, "unknown line"),
        ({"police": "天津北站派出所"}, "no police area is called"),
        ({"neighbourhood": "某某街道"}, "no street office"),
        ({"line": "JD", "police": "天津站派出所"}, "one way"),
        ({"start": "K5+000"}, "need --line"),
    ],
)
def test_a_bad_scope_is_one_plain_sentence(reg, kwargs, message):
    with pytest.raises(LineriskError, match=message):
        resolve_scope(reg.network, **kwargs)


# --------------------------------------------------------------------------- tiles, CLI


def test_gcj02_tiles_shift_every_overlay_and_offline_refuses_public_tiles(reg):
    scope = resolve_scope(reg.network, line="JD", start="K5+000", end="K6+000")
    plain = map_payload(reg, scope, tiles="none", on=SAMPLE_DAY)
    gaode = map_payload(reg, scope, tiles="gaode", on=SAMPLE_DAY)
    assert plain["tiles"] == [] and "autonavi" in gaode["tiles"][0]["url"]

    def first(payload, key):
        return np.array(payload["layers"][key]["features"][0]["geometry"]["coordinates"][0])

    shift = first(gaode, "segments") - first(plain, "segments")
    metres = np.hypot(shift[0] * 111_320 * np.cos(np.radians(39.1)), shift[1] * 110_950)
    assert 100 < metres < 1000
    rows_plain, rows_gaode = plain["risks"]["rows"], gaode["risks"]["rows"]
    assert rows_plain[0][1] != rows_gaode[0][1]
    with pytest.raises(LineriskError, match="offline"):
        meeting_map(reg, scope, offline=True, tiles="osm")
    intranet = meeting_map(reg, scope, offline=True, tiles="https://tiles.intranet/{z}/{x}/{y}.png")
    assert "tiles.intranet" in intranet
    with pytest.raises(LineriskError, match="Tianditu"):
        meeting_map(reg, scope, tiles="tianditu")
    with pytest.raises(LineriskError, match="unknown tile source"):
        meeting_map(reg, scope, tiles="bing")


def test_cli_writes_the_map_and_the_diagram(workdir):
    out = workdir / "cli.html"
    svg = workdir / "cli.svg"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--register",
            str(workdir / "register.gpkg"),
            "map",
            "--police",
            "军粮城站派出所",
            "--on",
            SAMPLE_DAY,
            "--offline",
            "--lang",
            "en",
            "-o",
            str(out),
            "--svg",
            str(svg),
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Joint meeting map" in html and "军粮城站派出所" in html
    assert ET.fromstring(svg.read_text(encoding="utf-8").split("?>", 1)[1]).tag == f"{SVG_NS}svg"
    bad = runner.invoke(
        cli, ["--register", str(workdir / "register.gpkg"), "map", "--police", "nobody", "-o",
              str(workdir / "bad.html")],
    )  # fmt: skip
    assert bad.exit_code != 0
    assert not (workdir / "bad.html").exists()


def test_the_page_names_the_installed_linerisk_version(offline_page):
    """The version printed in the page (read from the package, not its metadata) is
    the installed distribution's."""
    from importlib.metadata import version

    import linerisk

    assert linerisk.__version__ == version("linerisk")
    html = Path(offline_page).read_text(encoding="utf-8")
    assert f'<meta name="generator" content="linerisk {linerisk.__version__}">' in html
