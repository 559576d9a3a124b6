"""Meeting outputs: the joint-meeting map, the straight-line diagram, their shared look.

    from linerisk.maps import resolve_scope, write_diagram, write_meeting_map

    scope = resolve_scope(reg.network, line="JD", start="K5+000", end="K9+000")
    write_meeting_map(reg, "meeting.html", scope, on="2026-11-25", offline=True)
    write_diagram(reg, "diagram.svg", scope, on="2026-11-25")

The agenda shares the look through :func:`page_css` (type, header, tables,
status badges, print rules) and :mod:`linerisk.maps.style` (colours, labels).
"""

from __future__ import annotations

from linerisk.maps.diagram import straight_line_diagram, write_diagram
from linerisk.maps.meeting import map_payload, meeting_map, write_meeting_map
from linerisk.maps.scope import Scope, ScopeRange, resolve_scope, risks_in_scope
from linerisk.maps.style import map_css, page_css
from linerisk.maps.tiles import TileSource, tile_source

__all__ = [
    "Scope",
    "ScopeRange",
    "TileSource",
    "map_css",
    "map_payload",
    "meeting_map",
    "page_css",
    "resolve_scope",
    "risks_in_scope",
    "straight_line_diagram",
    "tile_source",
    "write_diagram",
    "write_meeting_map",
]
