"""One look for every meeting document: colours, sizes, labels and CSS.

The meeting map, the straight-line diagram and the agenda share these, so a
status has the same colour on the wall, on paper and in the table.

    >>> STATUS_COLOURS["cleared"]
    '#1a9641'
    >>> label("risks_open", "en")
    'Open risks'
    >>> "@media print" in page_css()
    True
"""

from __future__ import annotations

from html import escape

from linerisk.model import Status

__all__ = [
    "FENCE_STYLES",
    "FONT_STACK",
    "LABELS",
    "OVERDUE_COLOUR",
    "SEVERITY_SHAPES",
    "SEVERITY_SIZES",
    "STATUS_COLOURS",
    "label",
    "map_css",
    "page_css",
    "palette",
    "status_badge",
]

#: CJK-capable fonts first: Linux, Windows, macOS, then any sans-serif
FONT_STACK = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", '
    '"PingFang SC", "Hiragino Sans GB", "SimHei", "WenQuanYi Micro Hei", sans-serif'
)

#: fill colour of a risk point by status: distinct on a projector and in greyscale
STATUS_COLOURS: dict[str, str] = {
    "reported": "#7b3294",  # purple: found, nobody assigned yet
    "assigned": "#e66101",  # orange: handed to the party that must act
    "rectifying": "#f1b620",  # amber: work under way
    "awaiting_recheck": "#0571b0",  # blue: waiting for the police to re-inspect
    "cleared": "#1a9641",  # green: cleared (销号)
    "withdrawn": "#8c8c8c",  # grey: withdrawn with a reason
}

#: the ring that marks an overdue risk (red is used for nothing else on a point)
OVERDUE_COLOUR = "#d7191c"

#: marker size in pixels by severity (map) — the diagram scales these down
SEVERITY_SIZES: dict[str, int] = {"critical": 24, "major": 18, "general": 13}
#: marker shape by severity, so that severity survives black-and-white printing
SEVERITY_SHAPES: dict[str, str] = {"critical": "diamond", "major": "square", "general": "circle"}

#: how fences and fence gaps are drawn: colour, weight, dash pattern
FENCE_STYLES: dict[str, dict[str, object]] = {
    "intact": {"color": "#2e7d32", "weight": 3, "dashArray": None},
    "damaged": {"color": "#d7191c", "weight": 4, "dashArray": "8 5"},
    "gap": {"color": "#e6007e", "weight": 5, "dashArray": "2 6"},
}

ZONE_COLOUR = "#c2185b"
POLICE_COLOUR = "#1f3a93"
NEIGHBOURHOOD_COLOUR = "#6d6d6d"
TRACK_CASING = "#222222"

#: colours for work areas, street offices and police stations, in order of appearance
_PALETTE = (
    "#3b6fb6",
    "#e08a1e",
    "#3a9c8f",
    "#8a5ab8",
    "#b5572f",
    "#5b8f2a",
    "#c2477d",
    "#6b6b6b",
    "#1f8fc9",
    "#a08a16",
)

#: pale fills for areas (street offices), same order
_PALE = (
    "#dfe8f5",
    "#fbe9d3",
    "#dcefeb",
    "#ebe1f3",
    "#f3e0d7",
    "#e3eed7",
    "#f5dde8",
    "#e6e6e6",
    "#d7ecf7",
    "#f1ecd0",
)


def palette(i: int, pale: bool = False) -> str:
    """The ``i``-th categorical colour (cycled)."""
    seq = _PALE if pale else _PALETTE
    return seq[i % len(seq)]


#: every user-visible string of the map, the diagram and their legends
LABELS: dict[str, tuple[str, str]] = {
    "map_title": ("联席会议图", "Joint meeting map"),
    "as_of": ("截至", "as of"),
    "generated": ("生成时间", "generated"),
    "open_count": ("在办", "open"),
    "overdue_count": ("超期", "overdue"),
    "cleared_count": ("已销号", "cleared"),
    "segments": ("区段（工区）", "Track segments (work areas)"),
    "chainage": ("里程（公里标）", "Chainage (km)"),
    "zone": ("线路安全保护区", "Line protection zone"),
    "police": ("派出所辖区", "Police areas"),
    "neighbourhoods": ("街道/镇与社区/村", "Street offices, communities"),
    "fences": ("护网", "Fences"),
    "fence_gaps": ("护网缺口", "Fence gaps"),
    "risks_open": ("在办隐患", "Open risks"),
    "risks_closed": ("已销号/撤销隐患", "Cleared or withdrawn risks"),
    "base_none": ("无底图", "No background map"),
    "legend": ("图例", "Legend"),
    "status": ("状态", "Status"),
    "severity": ("严重程度", "Severity"),
    "overdue": ("超期", "overdue"),
    "overdue_days": ("超期 {n} 天", "{n} days overdue"),
    "fence_intact": ("护网完好", "fence intact"),
    "fence_damaged": ("护网破损", "fence damaged"),
    "fence_gap": ("无护网（缺口）", "no fence (gap)"),
    "patrol_weight": ("线宽表示巡线频次", "line width shows patrol frequency"),
    "patrol": ("巡线", "patrols"),
    "per_week": ("{n} 次/周", "{n} a week"),
    "not_set": ("未设定", "not set"),
    "risk": ("隐患", "Risk"),
    "category": ("类别", "category"),
    "location": ("位置", "location"),
    "side_left": ("左侧", "left"),
    "side_right": ("右侧", "right"),
    "offset": ("距线路中心 {n} 米", "{n} m off the track"),
    "band": ("距离带", "distance band"),
    "zone_detail": (
        "保护区宽 {w} 米，距路基边缘 {d} 米",
        "zone {w} m wide, {d} m from the formation edge",
    ),
    "party_police": ("公安", "police"),
    "party_railway": ("铁路", "railway"),
    "party_local": ("地方", "local government"),
    "lead": ("牵头", "lead"),
    "found": ("发现", "found"),
    "deadline": ("整改期限", "deadline"),
    "days_open": ("已历时", "days open"),
    "days": ("{n} 天", "{n} days"),
    "cleared_at": ("销号时间", "cleared"),
    "description": ("描述", "description"),
    "note": ("备注", "note"),
    "history": ("处置记录", "history"),
    "not_covered": ("未覆盖", "not covered"),
    "chain_break": ("断链", "chain break"),
    "short_chain": ("短链", "short chain"),
    "long_chain": ("长链", "long chain"),
    "diagram_title": ("一横：线路责任直线图", "The one horizontal: straight-line diagram"),
    "no_stretch": ("范围内没有线路经过", "No line runs through this scope"),
    "diagram_police": ("公安 派出所", "Police station"),
    "diagram_local": ("地方 街道/镇", "Street office / town"),
    "diagram_railway": ("铁路 工区", "Work area"),
    "diagram_fences": ("护网", "Fences"),
    "diagram_left": ("左侧", "Left"),
    "diagram_right": ("右侧", "Right"),
    "diagram_hint": (
        "点击直线图上的隐患点可在地图上定位",
        "Click a risk point in the diagram to find it on the map",
    ),
    "area_class": ("区域类别", "area class"),
    "zone_band": (
        "自路基边缘向外 {w} 米（路基半宽 {h} 米）",
        "{w} m out from the formation edge ({h} m from the centreline)",
    ),
    "segment": ("区段", "segment"),
    "scope": ("范围", "scope"),
    "print": ("打印", "Print"),
    "km": ("公里", "km"),
}


def label(key: str, lang: str = "zh", **values: object) -> str:
    """The label ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``values``."""
    zh, en = LABELS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def status_badge(status: str, lang: str = "zh", overdue: bool = False) -> str:
    """An HTML badge for a status, styled by :func:`page_css` (text is escaped)."""
    text = Status(status).label(lang)
    cls = f"lr-badge lr-st-{status}" + (" lr-overdue" if overdue else "")
    extra = f" · {escape(label('overdue', lang))}" if overdue else ""
    return f'<span class="{cls}">{escape(text)}{extra}</span>'


def page_css() -> str:
    """CSS shared by every linerisk HTML page (map, agenda): type, header, tables,
    status badges, projector sizes and print rules."""
    badges = "\n".join(
        f".lr-st-{key}{{background:{colour};color:{_text_on(colour)}}}"
        for key, colour in STATUS_COLOURS.items()
    )
    swatches = "\n".join(
        f".lr-swatch.lr-st-{key}{{background:{colour}}}" for key, colour in STATUS_COLOURS.items()
    )
    return f"""
:root{{--lr-ink:#1b1b1b;--lr-muted:#5a5a5a;--lr-rule:#c9c9c9;--lr-accent:{POLICE_COLOUR};
--lr-overdue:{OVERDUE_COLOUR};--lr-paper:#ffffff}}
*{{box-sizing:border-box}}
html{{-webkit-text-size-adjust:100%}}
body{{margin:0;font-family:{FONT_STACK};font-size:16px;line-height:1.5;color:var(--lr-ink);
background:var(--lr-paper)}}
.lr-header{{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4em 1.4em;
padding:.55em 1em;border-bottom:3px solid var(--lr-accent)}}
.lr-header h1{{margin:0;font-size:1.45em;font-weight:700;letter-spacing:.02em}}
.lr-meta{{color:var(--lr-muted);font-size:.95em}}
.lr-meta b{{color:var(--lr-ink)}}
.lr-counts{{display:flex;gap:.8em;font-size:1em}}
.lr-count{{padding:.05em .6em;border-radius:1em;border:1px solid var(--lr-rule)}}
.lr-count.lr-overdue{{border-color:var(--lr-overdue);color:var(--lr-overdue);font-weight:700}}
h2.lr-section{{font-size:1.2em;margin:1em 1em .4em;padding-bottom:.2em;
border-bottom:1px solid var(--lr-rule)}}
.lr-hint{{color:var(--lr-muted);font-size:.9em;margin:0 1.25em .4em}}
table.lr-table{{border-collapse:collapse;margin:.5em 1em;font-size:.95em}}
table.lr-table th,table.lr-table td{{border:1px solid var(--lr-rule);padding:.25em .6em;
text-align:left;vertical-align:top}}
table.lr-table th{{background:#f0f2f7;font-weight:700}}
table.lr-table td.lr-num{{text-align:right;font-variant-numeric:tabular-nums}}
.lr-badge{{display:inline-block;padding:0 .5em;border-radius:.3em;font-size:.9em;
white-space:nowrap}}
.lr-badge.lr-overdue{{outline:2px solid var(--lr-overdue);outline-offset:1px}}
{badges}
.lr-swatch{{display:inline-block;width:1em;height:1em;border-radius:50%;
vertical-align:-.15em;border:1px solid #333}}
{swatches}
.lr-footer{{color:var(--lr-muted);font-size:.8em;padding:.6em 1em;
border-top:1px solid var(--lr-rule);margin-top:1em}}
@media (min-width:1600px){{body{{font-size:18px}}}}
@page{{size:A4 landscape;margin:10mm}}
@media print{{
  body{{font-size:11pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}}
  .lr-noprint{{display:none!important}}
  .lr-header{{padding:0 0 .3em}}
  h2.lr-section{{margin:.6em 0 .3em;break-after:avoid}}
  table.lr-table{{margin:.4em 0;break-inside:auto}}
  table.lr-table tr{{break-inside:avoid}}
  .lr-pagebreak{{break-before:page}}
}}
"""


def map_css() -> str:
    """CSS of the meeting map page on top of :func:`page_css`."""
    shapes = []
    for sev, size in SEVERITY_SIZES.items():
        shape = SEVERITY_SHAPES[sev]
        radius = {"circle": "50%", "square": "3px", "diamond": "2px"}[shape]
        rotate = "transform:rotate(45deg);" if shape == "diamond" else ""
        inner = round(size / 1.414) if shape == "diamond" else size
        shapes.append(
            f".lr-m.lr-v-{sev}{{width:{inner}px;height:{inner}px;border-radius:{radius};{rotate}}}"
        )
    fills = "\n".join(
        f".lr-m.lr-s-{key}{{background:{colour}}}" for key, colour in STATUS_COLOURS.items()
    )
    return f"""
#lr-map{{height:74vh;min-height:460px;width:100%;border-bottom:1px solid var(--lr-rule)}}
.leaflet-container{{background:#f3f1ea;font-family:{FONT_STACK};font-size:14px}}
.lr-icon{{display:flex;align-items:center;justify-content:center;background:none;border:none}}
.lr-m{{display:block;border:2px solid #fff;box-shadow:0 0 0 1px #222;}}
{"".join(shapes)}
{fills}
.lr-m.lr-od{{outline:3px solid {OVERDUE_COLOUR};outline-offset:2px;
box-shadow:0 0 0 1px #222,0 0 0 7px rgba(255,255,255,.85)}}
.lr-m.lr-closed{{opacity:.75}}
.lr-icon.lr-hl{{z-index:10000!important}}
.lr-icon.lr-hl .lr-m{{outline:4px solid #00bcd4;outline-offset:4px;
animation:lr-pulse 1s ease-in-out infinite alternate}}
@keyframes lr-pulse{{from{{outline-offset:2px}}to{{outline-offset:7px}}}}
.lr-cluster{{display:flex;align-items:center;justify-content:center;border-radius:50%;
background:rgba(33,33,33,.82);color:#fff;font-weight:700;border:3px solid #fff;
box-shadow:0 0 0 1px #222}}
.lr-cluster.lr-od{{background:{OVERDUE_COLOUR}}}
.lr-cluster small{{font-weight:400;font-size:.75em;margin-left:.15em}}
.lr-km{{background:none;border:none}}
.lr-tickbox{{position:relative;width:0;height:0}}
.lr-tick{{position:absolute;left:0;top:0;display:block;width:2.5px;height:20px;background:#111;
box-shadow:0 0 0 1px #fff}}
.lr-km span,.lr-area-label span{{display:inline-block;white-space:nowrap;font-weight:700;
text-shadow:-1px -1px 0 #fff,1px -1px 0 #fff,-1px 1px 0 #fff,1px 1px 0 #fff,0 0 3px #fff}}
.lr-km span{{position:absolute;font-size:13px;color:#111;transform:translate(-50%,-50%)}}
.lr-km.lr-major span{{font-size:14px}}
.lr-break .lr-tick{{background:{OVERDUE_COLOUR};height:28px;width:3.5px}}
.lr-break span{{color:{OVERDUE_COLOUR};font-size:12.5px}}
.lr-area-label{{background:none;border:none}}
.lr-area-label span{{transform:translate(-50%,-50%);font-size:13px}}
.lr-area-label.lr-police span{{color:{POLICE_COLOUR};font-size:15px}}
.lr-area-label.lr-office span{{color:#333;font-size:14px}}
.lr-area-label.lr-community span{{color:#555;font-weight:400;font-size:12px}}
.lr-zoomed-out .lr-area-label.lr-community{{display:none}}
.lr-far .lr-km.lr-minor span{{display:none}}
.lr-panel{{background:rgba(255,255,255,.94);padding:.45em .7em;border-radius:4px;
box-shadow:0 1px 4px rgba(0,0,0,.35);font-size:13px;line-height:1.35;max-width:300px}}
.lr-panel h3{{margin:.1em 0 .3em;font-size:14px}}
.lr-panel .lr-legend-group{{margin:.35em 0 .1em;font-weight:700;color:#333}}
.lr-legend{{max-width:none}}
.lr-legend-body{{display:flex;gap:0 1.1em;align-items:flex-start}}
.lr-legend-col{{min-width:0}}
.lr-legend-row{{display:flex;align-items:center;gap:.45em;margin:.12em 0}}
.lr-legend-key{{flex:0 0 28px;display:flex;align-items:center;justify-content:center;
height:18px}}
.lr-legend-key .lr-m{{box-shadow:0 0 0 1px #222}}
.lr-legend-line{{display:block;width:28px;height:0;border-top-style:solid}}
.lr-legend-area{{display:block;width:24px;height:14px}}
.lr-legend-toggle{{cursor:pointer;user-select:none}}
.lr-legend.lr-collapsed .lr-legend-body{{display:none}}
.lr-hint-small{{color:#555;font-size:12px;margin:.1em 0 .2em}}
.lr-dtip{{position:absolute;z-index:2000;pointer-events:none;max-width:420px}}
button.lr-print{{margin-left:auto;font:inherit;font-size:.9em;padding:.15em .9em;cursor:pointer;
border:1px solid var(--lr-rule);border-radius:4px;background:#f7f7f7}}
.lr-popup{{font-size:13px;line-height:1.4;max-width:380px}}
.lr-popup h4{{margin:0 0 .35em;font-size:15px}}
.lr-popup table{{border-collapse:collapse;width:100%}}
.lr-popup th{{text-align:left;vertical-align:top;color:#555;font-weight:400;
padding:.1em .6em .1em 0;white-space:nowrap}}
.lr-popup td{{padding:.1em 0;vertical-align:top;white-space:pre-wrap;word-break:break-word}}
.lr-popup .lr-od-text{{color:{OVERDUE_COLOUR};font-weight:700}}
.lr-popup ol{{margin:.2em 0 0;padding-left:1.3em;max-height:160px;overflow:auto}}
.lr-popup li{{margin:.1em 0;white-space:pre-wrap;word-break:break-word}}
.lr-popup .lr-when{{color:#555;font-variant-numeric:tabular-nums}}
.leaflet-popup-content{{margin:10px 12px}}
.leaflet-tooltip{{font-size:13px}}
#lr-diagram{{overflow-x:auto;padding:0 1em 1em}}
#lr-diagram svg{{display:block;width:100%;height:auto;min-width:900px}}
#lr-diagram [data-risk-id]{{cursor:pointer}}
#lr-diagram .lrd-hl{{stroke:#00bcd4;stroke-width:4px}}
.leaflet-control-layers-list{{font-size:14px}}
.leaflet-control-scale-line{{font-size:12px;border-width:2px;border-color:#222}}
@media print{{
  #lr-map{{height:170mm;min-height:0;border:1px solid #999}}
  .leaflet-control-zoom,.leaflet-control-layers,.lr-legend-toggle-btn{{display:none!important}}
  .lr-legend.lr-collapsed .lr-legend-body{{display:block}}
  .lr-icon.lr-hl .lr-m{{animation:none}}
  #lr-diagram{{overflow:visible;padding:0}}
  #lr-diagram svg{{min-width:0}}
  .lr-diagram-section{{break-before:page}}
}}
"""


def _text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (#rrggbb)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"
