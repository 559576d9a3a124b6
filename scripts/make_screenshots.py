"""Render the sample joint-meeting map and straight-line diagram to PNG for the docs.

    .venv/bin/python scripts/make_screenshots.py            # writes docs/images/*.png

Builds the sample register in a temporary folder, writes the offline meeting
map of the whole sample line (as of the day the sample was cut) and the
diagram alone as SVG, and photographs both in headless Chromium:

- docs/images/meeting_map.png: the page as it opens, with the popup of one
  overdue risk open;
- docs/images/diagram.png: the straight-line diagram on its own.

Chromium is the Debian package (/usr/bin/chromium, or LINERISK_CHROMIUM); no
browser is downloaded.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
SAMPLE_DAY = "2026-11-25"
CHROMIUM = os.environ.get("LINERISK_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> int:
    from playwright.sync_api import sync_playwright

    from linerisk.maps import resolve_scope, write_diagram, write_meeting_map
    from linerisk.sample import build_sample_register

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        reg = build_sample_register(tmpdir / "register.gpkg")
        try:
            scope = resolve_scope(reg.network)
            page_path = write_meeting_map(
                reg, tmpdir / "meeting.html", scope, on=SAMPLE_DAY, offline=True
            )
            svg_path = write_diagram(reg, tmpdir / "diagram.svg", scope, on=SAMPLE_DAY)
            focus = next(r for r in reg.risks() if r.ref == "S040")  # damaged fence, overdue
        finally:
            reg.close()
        # the SVG alone, in a page of its own size
        svg = svg_path.read_text(encoding="utf-8").split("?>", 1)[1]
        holder = tmpdir / "diagram.html"
        holder.write_text(
            '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}</style>'
            f"</head><body>{svg}</body></html>",
            encoding="utf-8",
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(
                    viewport={"width": 1600, "height": 1000}, device_scale_factor=1
                )
                page.goto(page_path.as_uri())
                page.wait_for_function("window.lineriskReady === true", timeout=20_000)
                # a click on the point, as in the meeting: the map pans to show the popup
                page.locator(f'.lr-icon[data-risk-id="{focus.id}"]').dispatch_event("click")
                page.wait_for_selector(f'.lr-popup[data-risk-id="{focus.id}"]')
                page.wait_for_timeout(600)
                box = page.locator("#lr-map").bounding_box()
                page.screenshot(
                    path=str(OUT / "meeting_map.png"),
                    clip={"x": 0, "y": 0, "width": 1600, "height": box["y"] + box["height"]},
                )
                page.close()
                page = browser.new_page(viewport={"width": 1700, "height": 600})
                page.goto(holder.as_uri())
                page.locator("svg").screenshot(path=str(OUT / "diagram.png"))
                page.close()
            finally:
                browser.close()
    for name in ("meeting_map.png", "diagram.png"):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
