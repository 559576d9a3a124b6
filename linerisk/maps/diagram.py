"""The straight-line diagram (一横): the line drawn straight along calibrated chainage.

For each stretch of line in a :class:`~linerisk.maps.scope.Scope` the diagram
draws the line horizontally (chain breaks marked), the fences on each side,
every risk point at its chainage above (left) or below (right) the line, and
three bands beneath, one per vertical, saying which police station, which
street office or town and which work area answers for each stretch. Ground
that nobody answers for shows as a hatched gap.

    >>> svg = straight_line_diagram(reg, scope, lang="zh", on="2026-11-25")  # doctest: +SKIP
    >>> write_diagram(reg, "diagram.svg", scope)                             # doctest: +SKIP

The horizontal axis is continuous chainage, so the drawing is to scale with
the nominal kilometres and a chain break is a marked point, not a jump.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import attrs
import numpy as np

from linerisk.calibration import ChainageStatus
from linerisk.chainage import format_chainage
from linerisk.maps.style import (
    FENCE_STYLES,
    FONT_STACK,
    OVERDUE_COLOUR,
    STATUS_COLOURS,
    label,
    palette,
)
from linerisk.model import Severity, Status

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.calibration import Calibration
    from linerisk.maps.scope import Scope, ScopeRange
    from linerisk.model import Risk
    from linerisk.network import Network
    from linerisk.register import Register

__all__ = [
    "DIAGRAM_RINGS",
    "DIAGRAM_SYMBOLS",
    "BandRun",
    "DiagramPoint",
    "FenceRun",
    "diagram_svg",
    "fence_runs",
    "party_colours",
    "responsibility_bands",
    "straight_line_diagram",
    "write_diagram",
]

VERTICALS = ("police", "local", "railway")


@attrs.frozen
class FenceRun:
    """A stretch of one side of a line: a fence piece, or a gap with no fence."""

    line: str
    side: str
    from_measure: float
    to_measure: float
    from_chainage: float
    to_chainage: float
    kind: str  # intact, damaged or gap
    fence_id: str | None = None
    prefix: str = "K"

    @property
    def label(self) -> str:
        return (
            f"{format_chainage(self.from_chainage, prefix=self.prefix, decimals=0)}-"
            f"{format_chainage(self.to_chainage, prefix=self.prefix, decimals=0)}"
        )


@attrs.frozen
class BandRun:
    """A stretch of line where one party answers for one vertical (None: nobody)."""

    vertical: str
    line: str
    from_measure: float
    to_measure: float
    from_chainage: float
    to_chainage: float
    party: str | None
    detail: str = ""
    prefix: str = "K"

    @property
    def label(self) -> str:
        return (
            f"{format_chainage(self.from_chainage, prefix=self.prefix, decimals=0)}-"
            f"{format_chainage(self.to_chainage, prefix=self.prefix, decimals=0)}"
        )


# --------------------------------------------------------------------------- along the line


def measures_along(cal: Calibration, chainages: Sequence[float]) -> np.ndarray:
    """Measures of chainages listed in order along the line.

    A chainage that occurs twice (long chain) takes the occurrence that keeps
    the measures increasing.
    """
    ch = np.asarray(chainages, dtype=float)
    first, status = cal.measures_at(ch, 1)
    second, _ = cal.measures_at(ch, 2)
    out = np.array(first, dtype=float)
    previous = -np.inf
    for i in range(len(ch)):
        if status[i] == ChainageStatus.AMBIGUOUS and first[i] < previous - 0.5:
            out[i] = second[i]
        if not np.isnan(out[i]):
            previous = out[i]
    return out


def _gap(cal: Calibration, rng: ScopeRange, side: str, a: float, b: float) -> FenceRun:
    c0, c1 = (float(v) for v in cal.chainage_at(np.array([a, b])))
    return FenceRun(rng.line, side, a, b, c0, c1, "gap", None, rng.prefix)


def fence_runs(network: Network, scope: Scope) -> list[FenceRun]:
    """Fence pieces and gaps on each side of every stretch of line in ``scope``."""
    out: list[FenceRun] = []
    by_line: dict[str, list] = {}
    for f in network.fences:
        by_line.setdefault(f.line, []).append(f)
    for rng in scope.ranges:
        cal = network.calibration(rng.line)
        prefix = rng.prefix
        fences = by_line.get(rng.line, [])
        if fences:
            ends = cal.measures_at(np.array([[f.from_chainage, f.to_chainage] for f in fences]))[0]
        else:
            ends = np.zeros((0, 2))
        for side in ("left", "right"):
            pieces = []
            for f, (m0, m1) in zip(fences, ends, strict=True):
                if f.side.value != side or np.isnan(m0) or np.isnan(m1):
                    continue
                ov = rng.overlap(float(m0), float(m1))
                if ov:
                    pieces.append((ov[0], ov[1], f, float(m0), float(m1)))
            pieces.sort(key=lambda t: t[0])
            cursor = rng.from_measure

            for a, b, f, f0, f1 in pieces:
                if a > cursor + 0.5:
                    out.append(_gap(cal, rng, side, cursor, a))
                # the fence's own chainage where the piece is whole, else the cut's
                c0 = f.from_chainage if a - 0.5 <= f0 else None
                c1 = f.to_chainage if b + 0.5 >= f1 else None
                if c0 is None or c1 is None:
                    cc = cal.chainage_at(np.array([a, b]))
                    c0 = float(cc[0]) if c0 is None else c0
                    c1 = float(cc[1]) if c1 is None else c1
                out.append(FenceRun(rng.line, side, a, b, c0, c1, f.condition.value, f.id, prefix))
                cursor = max(cursor, b)
            if rng.to_measure > cursor + 0.5:
                out.append(_gap(cal, rng, side, cursor, rng.to_measure))
    return out


def _band_key(vertical: str, parties) -> tuple[str | None, str]:
    if vertical == "police":
        return parties.police, parties.police or ""
    if vertical == "local":
        if parties.street_office is None:
            return None, ""
        return parties.street_office, f"{parties.district or ''} {parties.street_office}".strip()
    if parties.work_area is None:
        return None, ""
    detail = " ".join(p for p in (parties.works_section, parties.workshop, parties.work_area) if p)
    return parties.work_area, detail


def responsibility_bands(network: Network, scope: Scope) -> dict[str, list[BandRun]]:
    """For each vertical, who answers along every stretch of line in ``scope``.

    Built from :meth:`Network.stretches`, clipped to the scope, with
    neighbouring stretches of the same party merged. A run whose party is
    None is a coverage gap.
    """
    out: dict[str, list[BandRun]] = {v: [] for v in VERTICALS}
    for line_id in scope.lines:
        stretches = network.stretches(line_id)
        cal = network.calibration(line_id)
        bounds = measures_along(
            cal, [c for s in stretches for c in (s.from_chainage, s.to_chainage)]
        ).reshape(-1, 2)
        for rng in scope.ranges_of(line_id):
            for vertical in VERTICALS:
                runs = out[vertical]
                start = len(runs)
                for s, (m0, m1) in zip(stretches, bounds, strict=True):
                    ov = rng.overlap(float(m0), float(m1))
                    if not ov:
                        continue
                    party, detail = _band_key(vertical, s.parties)
                    c0 = s.from_chainage if ov[0] <= m0 + 0.5 else float(cal.chainage_at(ov[0]))
                    c1 = s.to_chainage if ov[1] >= m1 - 0.5 else float(cal.chainage_at(ov[1]))
                    last = runs[-1] if len(runs) > start else None
                    if last is not None and last.party == party and ov[0] - last.to_measure < 1:
                        runs[-1] = attrs.evolve(last, to_measure=ov[1], to_chainage=c1)
                    else:
                        runs.append(
                            BandRun(
                                vertical, line_id, ov[0], ov[1], c0, c1, party, detail, rng.prefix
                            )
                        )
    return out


# --------------------------------------------------------------------------- drawing


def _text_width(text: str, size: float) -> float:
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return (wide * 1.0 + (len(text) - wide) * 0.58) * size


def _fit(text: str, width: float, size: float) -> str | None:
    """``text``, shortened with … to fit ``width`` pixels, or None if nothing fits."""
    if _text_width(text, size) <= width:
        return text
    for n in range(len(text) - 1, 0, -1):
        short = text[:n] + "…"
        if _text_width(short, size) <= width:
            return short if n >= 2 else None
    return None


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _shape(sev: str, x: float, y: float, scale: float = 1.0) -> tuple[str, str]:
    """(element name, geometry attributes) of a risk symbol centred on (x, y)."""
    size = DIAGRAM_SYMBOLS[sev] * scale
    if sev == Severity.CRITICAL.value:
        r = size
        return "path", f'd="M{_n(x)} {_n(y - r)}l{_n(r)} {_n(r)}-{_n(r)} {_n(r)}-{_n(r)}-{_n(r)}z"'
    if sev == Severity.MAJOR.value:
        h = size
        return "rect", f'x="{_n(x - h)}" y="{_n(y - h)}" width="{_n(2 * h)}" height="{_n(2 * h)}"'
    return "circle", f'cx="{_n(x)}" cy="{_n(y)}" r="{_n(size)}"'


_CSS = """
.lrd{{font-family:{font};fill:#1b1b1b}}
.lrd text{{font-size:12px}}
.lrd .lrd-title{{font-size:17px;font-weight:700}}
.lrd .lrd-sub{{font-size:13px;fill:#555}}
.lrd .lrd-strip{{font-size:14px;font-weight:700}}
.lrd .lrd-rowlabel{{font-size:12.5px;font-weight:700;fill:#333}}
.lrd .lrd-small{{font-size:10.5px;fill:#666}}
.lrd .lrd-km{{font-size:11.5px;font-weight:700}}
.lrd .lrd-grid{{stroke:#d9d9d9;stroke-width:1}}
.lrd .lrd-guide{{stroke:#ececec;stroke-width:1;stroke-dasharray:3 3}}
.lrd .lrd-track{{stroke:#1b1b1b;stroke-width:5}}
.lrd .lrd-sleeper{{stroke:#fff;stroke-width:1.2}}
.lrd .lrd-band{{stroke:#fff;stroke-width:1.5}}
.lrd .lrd-gap{{fill:url(#lrd-hatch);stroke:{od};stroke-width:1}}
.lrd .lrd-gaptext{{fill:{od};font-weight:700}}
.lrd .lrd-break{{stroke:{od};stroke-width:2;fill:none}}
.lrd .lrd-breaktext{{fill:{od};font-size:11px;font-weight:700}}
.lrd .lrd-r{{stroke:#222;stroke-width:.8}}
.lrd .lrd-odring{{fill:#fff;stroke:{od};stroke-width:2.6}}
.lrd .lrd-r.closed{{opacity:.6}}
{status}
"""


@attrs.frozen
class _Layout:
    left: float = 170.0
    right: float = 40.0
    risk_h: float = 88.0
    fence_gap: float = 9.0
    band_h: float = 26.0
    band_gap: float = 5.0


def _risk_y(offset: float, line_y: float, side: str, lay: _Layout) -> float:
    return float(_risk_ys(np.array([offset]), np.array([side == "left"]), line_y, lay)[0])


def _risk_ys(offset: np.ndarray, left: np.ndarray, line_y: float, lay: _Layout) -> np.ndarray:
    """Vertical position: log-scaled offset, above the line on the left side."""
    lo, hi = 3.0, 1000.0
    f = (np.log10(np.clip(offset, lo, hi)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    d = lay.fence_gap + 8 + f * (lay.risk_h - 14)
    return np.where(left, line_y - d, line_y + d)


@attrs.frozen
class DiagramPoint:
    """One risk as the diagram draws it."""

    id: int
    line: str
    measure: float
    side: str
    offset: float
    status: str
    severity: str
    overdue: bool
    closed: bool
    tip: str = ""


def _points_of(register: Register, risks: Iterable[Risk], on_dt: dt.datetime, lang: str,
               titles: bool) -> list[DiagramPoint]:  # fmt: skip
    catalog = register.settings.categories
    out = []
    for r in risks:
        od = r.is_overdue(on_dt)
        tip = ""
        if titles:
            cat = catalog.get(r.category).label(lang) if r.category in catalog else r.category
            parts = [
                r.ref or f"#{r.id}",
                cat,
                r.location.chainage,
                r.location.side.label(lang),
                f"{r.location.offset_m:.0f} m",
                r.status.label(lang),
            ]
            if od:
                parts.append(label("overdue", lang))
            tip = " · ".join(parts)
        out.append(
            DiagramPoint(
                int(r.id or 0),
                r.location.line,
                r.location.measure_m,
                r.location.side.value,
                r.location.offset_m,
                r.status.value,
                r.severity.value,
                od,
                not r.is_open,
                tip,
            )
        )
    return out


def _points_of_rows(register: Register, rows: Sequence[dict], on_dt: dt.datetime, lang: str,
                    titles: bool) -> list[DiagramPoint]:  # fmt: skip
    """Diagram points from store rows as of ``on_dt`` (see ``risk_rows_as_of``)."""
    catalog = register.settings.categories
    labels = {c.key: c.label(lang) for c in catalog}
    out = []
    for r in rows:
        status = Status(r["status"])
        od = status.is_open and on_dt > dt.datetime.fromisoformat(r["deadline"])
        tip = ""
        if titles:
            parts = [
                r["ref"] or f"#{r['id']}",
                labels.get(r["category"], r["category"]),
                r["chainage"],
                label("side_left" if r["side"] == "left" else "side_right", lang),
                f"{r['offset_m']:.0f} m",
                status.label(lang),
            ]
            if od:
                parts.append(label("overdue", lang))
            tip = " · ".join(parts)
        out.append(
            DiagramPoint(
                int(r["id"]),
                r["line"],
                float(r["measure_m"]),
                r["side"],
                float(r["offset_m"]),
                status.value,
                r["severity"],
                od,
                not status.is_open,
                tip,
            )
        )
    return out


def straight_line_diagram(
    register: Register,
    scope: Scope | None = None,
    *,
    lang: str = "zh",
    on: dt.datetime | dt.date | str | None = None,
    risks: Iterable[Risk] | None = None,
    titles: bool = True,
    heading: bool = True,
    width: float | None = None,
) -> str:
    """The straight-line diagram of ``scope`` as an SVG document (a string).

    Risk symbols carry ``data-risk-id``; band rectangles carry ``data-band``
    (``police``, ``local``, ``railway``), ``data-party`` (empty for a gap)
    and ``data-from``/``data-to`` in chainage metres. ``on`` is the as-of day
    for overdue marks (default now): each risk is drawn in the state its
    history records by the end of that day, and risks found later are left
    out, unless ``risks`` gives the risks to draw. ``titles=False`` leaves out the hover
    text of each risk; ``heading=False`` leaves out the title line, for a page
    that has its own heading.
    """
    from linerisk.maps.scope import resolve_scope

    net = register.network
    scope = scope or resolve_scope(net)
    on_dt = register.end_of_day(on) if on is not None else dt.datetime.now(register.settings.tzinfo)
    if risks is None:
        from linerisk.maps.scope import risk_rows_as_of

        points = _points_of_rows(register, risk_rows_as_of(register, scope, on_dt), on_dt, lang,
                                 titles)  # fmt: skip
    else:
        points = _points_of(register, risks, on_dt, lang, titles)
    svg, _coords = diagram_svg(
        register, scope, points, lang=lang, on_dt=on_dt, heading=heading, width=width
    )
    return svg


#: symbol sizes in the diagram (half-diagonal, half-side, radius) and overdue rings
DIAGRAM_SYMBOLS = {"critical": 7.5, "major": 5.2, "general": 4.6}
DIAGRAM_RINGS = {"critical": 11.5, "major": 9.5, "general": 8.0}


def diagram_svg(
    register: Register,
    scope: Scope,
    points: Sequence[DiagramPoint],
    *,
    lang: str,
    on_dt: dt.datetime,
    heading: bool = True,
    width: float | None = None,
    draw_points: bool = True,
    fences: list[FenceRun] | None = None,
) -> tuple[str, dict[int, tuple[float, float]]]:
    """The diagram and where each risk point sits on it ({id: (x, y)}).

    With ``draw_points=False`` the points are left out and an empty
    ``<g id="lrd-points">`` is where a page script draws them from the coordinates.
    ``fences`` are the scope's :func:`fence_runs` when the caller already has them.
    """
    net = register.network
    lay = _Layout()
    total = sum(r.length for r in scope.ranges) or 1.0
    if width is None:
        width = float(np.clip(total / 1000.0 * 70.0, 900.0, 6000.0)) + lay.left + lay.right
    plot_w = width - lay.left - lay.right
    # one scale for every strip so that kilometres compare across strips
    longest = max((r.length for r in scope.ranges), default=1.0)
    px_per_m = plot_w / max(longest, 1.0)
    bands = responsibility_bands(net, scope)
    if fences is None:
        fences = fence_runs(net, scope)
    colours = party_colours(bands)
    css = _CSS.format(
        font=FONT_STACK,
        od=OVERDUE_COLOUR,
        status="\n".join(f".lrd .s-{k}{{fill:{v}}}" for k, v in STATUS_COLOURS.items()),
    )
    body: list[str] = []
    on_text = on_dt.date().isoformat()
    title = f"{label('diagram_title', lang)} · {scope.title(net, lang)}"
    y = 0.0
    if heading:
        y = 34.0
        body.append(f'<text class="lrd-title" x="16" y="{_n(y)}">{escape(title)}</text>')
        body.append(
            f'<text class="lrd-sub" x="{_n(width - 16)}" y="{_n(y)}" text-anchor="end">'
            f"{escape(label('as_of', lang))} {escape(on_text)}</text>"
        )
        y += 18
    coords: dict[int, tuple[float, float]] = {}
    if not scope.ranges:
        y += 30
        body.append(
            f'<text class="lrd-strip" x="16" y="{_n(y)}">{escape(label("no_stretch", lang))}</text>'
        )
    for rng in scope.ranges:
        y = _strip(body, register, rng, y, lay, px_per_m, bands, fences, points, lang, colours,
                   coords, draw_points)  # fmt: skip
    if not draw_points:
        body.append('<g id="lrd-points"></g>')
    y = _legend(body, y + 6, lay, lang)
    height = y + 14
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lrd" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'font-family="{_attr(FONT_STACK)}" role="img" aria-label="{_attr(title)}">'
        f"<style>{css}</style>"
        '<defs><pattern id="lrd-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{OVERDUE_COLOUR}" stroke-width="2.2"/>'
        "</pattern></defs>"
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="#fff"/>' + "".join(body) + "</svg>"
    )
    return svg, coords


#: where each vertical starts in the categorical palette, so that the map and the
#: diagram give a work area or a street office the same colour
PALETTE_OFFSETS = {"railway": 0, "local": 3, "police": 8}


def party_colours(bands: dict[str, list[BandRun]], pale: bool = True) -> dict[tuple[str, str], str]:
    """A colour per (vertical, party), in order of appearance along the line."""
    colours: dict[tuple[str, str], str] = {}
    for vertical, runs in bands.items():
        seen: list[str] = []
        for run in runs:
            if run.party is not None and run.party not in seen:
                seen.append(run.party)
        for i, party in enumerate(seen):
            colours[(vertical, party)] = palette(i + PALETTE_OFFSETS[vertical], pale=pale)
    return colours


def _strip(
    body: list[str],
    register: Register,
    rng: ScopeRange,
    y: float,
    lay: _Layout,
    px_per_m: float,
    bands: dict[str, list[BandRun]],
    fences: list[FenceRun],
    points: Sequence[DiagramPoint],
    lang: str,
    colours: dict[tuple[str, str], str],
    coords: dict[int, tuple[float, float]],
    draw_points: bool,
) -> float:
    net = register.network
    line = net.line(rng.line)
    cal = net.calibration(rng.line)
    c_start = float(cal.continuous_of_measure(rng.from_measure))

    def x_of(measure: float | np.ndarray):
        c = cal.continuous_of_measure(measure)
        return lay.left + (c - c_start) * px_per_m

    x0 = float(x_of(rng.from_measure))
    x1 = float(x_of(rng.to_measure))
    y += 26
    body.append(
        f'<text class="lrd-strip" x="16" y="{_n(y)}">'
        f"{escape(line.name(lang))}（{escape(line.id)}） {escape(rng.label)}</text>"
    )
    axis_y = y + 22
    line_y = axis_y + 12 + lay.risk_h
    band_top = line_y + lay.risk_h + 14
    bottom = band_top + 3 * (lay.band_h + lay.band_gap)
    # kilometre grid and labels (calibrated: where each whole kilometre really is)
    lo_c, hi_c = sorted(
        float(v) for v in cal.chainage_at(np.array([rng.from_measure, rng.to_measure]))
    )
    kms = np.arange(math.ceil(lo_c / 1000.0), math.floor(hi_c / 1000.0) + 1) * 1000.0
    step = 1 if (x1 - x0) / max(len(kms), 1) >= 38 else 5
    if len(kms):
        for occurrence in (1, 2):
            m, status = cal.measures_at(kms, occurrence)
            for km, mm, st in zip(kms, m, status, strict=True):
                if st == ChainageStatus.NONEXISTENT or np.isnan(mm):
                    continue
                if occurrence == 2 and st != ChainageStatus.AMBIGUOUS:
                    continue
                if not rng.from_measure - 0.5 <= mm <= rng.to_measure + 0.5:
                    continue
                x = float(x_of(mm))
                body.append(
                    f'<line class="lrd-grid" x1="{_n(x)}" y1="{_n(axis_y + 4)}" '
                    f'x2="{_n(x)}" y2="{_n(bottom)}"/>'
                )
                if int(km / 1000) % step == 0:
                    text = format_chainage(km, prefix=line.prefix, decimals=0).split("+")[0]
                    body.append(
                        f'<text class="lrd-km" x="{_n(x)}" y="{_n(axis_y)}" '
                        f'text-anchor="middle">{escape(text)}</text>'
                    )
    # offset guides (log scale) on each side
    for d in (10, 100, 1000):
        for side in ("left", "right"):
            gy = _risk_y(d, line_y, side, lay)
            body.append(
                f'<line class="lrd-guide" x1="{_n(x0)}" y1="{_n(gy)}" x2="{_n(x1)}" y2="{_n(gy)}"/>'
                f'<text class="lrd-small" x="{_n(lay.left - 8)}" y="{_n(gy + 3.5)}" '
                f'text-anchor="end">{d} m</text>'
            )
    body.append(
        f'<text class="lrd-rowlabel" x="16" y="{_n(line_y - lay.risk_h / 2)}">'
        f"{escape(label('diagram_left', lang))}</text>"
        f'<text class="lrd-rowlabel" x="16" y="{_n(line_y + lay.risk_h / 2 + 4)}">'
        f"{escape(label('diagram_right', lang))}</text>"
        f'<text class="lrd-small" x="16" y="{_n(line_y + 4)}">'
        f"{escape(label('diagram_fences', lang))}</text>"
    )
    # fences per side
    for run in fences:
        if (
            run.line != rng.line
            or run.to_measure < rng.from_measure
            or run.from_measure > rng.to_measure
        ):
            continue
        a = float(x_of(max(run.from_measure, rng.from_measure)))
        b = float(x_of(min(run.to_measure, rng.to_measure)))
        fy = line_y - lay.fence_gap if run.side == "left" else line_y + lay.fence_gap
        style = FENCE_STYLES[run.kind]
        dash = f' stroke-dasharray="{style["dashArray"]}"' if style["dashArray"] else ""
        width = {"intact": 3, "damaged": 4, "gap": 5}[run.kind]
        what = {
            "intact": label("fence_intact", lang),
            "damaged": label("fence_damaged", lang),
            "gap": label("fence_gap", lang),
        }[run.kind]
        name = f"{run.fence_id} " if run.fence_id else ""
        side_text = label("side_left" if run.side == "left" else "side_right", lang)
        tip = f"<title>{escape(name + side_text + ' ' + run.label)} {escape(what)}</title>"
        if run.kind == "gap":
            # a gap can be a few metres: draw it as a block at least 3 px wide
            w = max(b - a, 3.0)
            body.append(
                f'<rect class="lrd-fence lrd-fence-gap" data-side="{run.side}" '
                f'x="{_n((a + b) / 2 - w / 2)}" y="{_n(fy - 5)}" width="{_n(w)}" height="10" '
                f'fill="{style["color"]}">{tip}</rect>'
            )
            continue
        body.append(
            f'<line class="lrd-fence lrd-fence-{run.kind}" data-side="{run.side}" '
            f'x1="{_n(a)}" y1="{_n(fy)}" x2="{_n(b)}" y2="{_n(fy)}" stroke="{style["color"]}" '
            f'stroke-width="{width}"{dash}>{tip}</line>'
        )
    # the track
    body.append(
        f'<line class="lrd-track" x1="{_n(x0)}" y1="{_n(line_y)}" x2="{_n(x1)}" y2="{_n(line_y)}"/>'
    )
    # chain breaks
    for spec, bm in zip(cal.breaks, cal.break_measures(), strict=True):
        bm = float(bm)
        if not rng.from_measure - 0.5 <= bm <= rng.to_measure + 0.5:
            continue
        x = float(x_of(bm))
        zig = f"M{_n(x)} {_n(line_y - 16)}l-4 6 8 6-8 6 8 6-8 6 4 6"
        kind = label("short_chain" if spec.jump > 0 else "long_chain", lang)
        text = (
            f"{label('chain_break', lang)} {format_chainage(spec.back, prefix=line.prefix)}="
            f"{format_chainage(spec.ahead, prefix=line.prefix)}（{kind} {abs(spec.jump):g} m）"
        )
        body.append(
            f'<path class="lrd-break" d="{zig}"/>'
            f'<text class="lrd-breaktext" x="{_n(x + 6)}" y="{_n(line_y - 20)}">'
            f"{escape(text)}</text>"
        )
    # risk points: closed first so that open and overdue ones sit on top
    mine = [
        p
        for p in points
        if p.line == rng.line and rng.from_measure - 0.5 <= p.measure <= rng.to_measure + 0.5
    ]
    mine.sort(key=lambda p: (not p.closed, p.overdue, p.id))
    if mine:
        xs = x_of(np.array([p.measure for p in mine]))
        ys = _risk_ys(
            np.array([p.offset for p in mine]),
            np.array([p.side == "left" for p in mine]),
            line_y,
            lay,
        )
        for p, x, ry in zip(mine, xs, ys, strict=True):
            x, ry = round(float(x), 1), round(float(ry), 1)
            coords[p.id] = (x, ry)
            if not draw_points:
                continue
            if p.overdue:
                ring = DIAGRAM_RINGS[p.severity]
                body.append(f'<circle class="lrd-odring" cx="{_n(x)}" cy="{_n(ry)}" r="{ring}"/>')
            cls = (
                f"lrd-r s-{p.status}"
                + (" od" if p.overdue else "")
                + (" closed" if p.closed else "")
            )
            tag, geom = _shape(p.severity, x, ry)
            tip = f"<title>{escape(p.tip)}</title>" if p.tip else ""
            body.append(f'<{tag} class="{cls}" data-risk-id="{p.id}" {geom}>{tip}</{tag}>')
    # the three bands
    names = {
        "police": label("diagram_police", lang),
        "local": label("diagram_local", lang),
        "railway": label("diagram_railway", lang),
    }
    by = band_top
    for vertical in VERTICALS:
        body.append(
            f'<text class="lrd-rowlabel" x="16" y="{_n(by + lay.band_h / 2 + 4.5)}">'
            f"{escape(names[vertical])}</text>"
        )
        for run in bands[vertical]:
            if run.line != rng.line or run.to_measure <= rng.from_measure + 1e-6:
                continue
            if run.from_measure >= rng.to_measure - 1e-6:
                continue
            a = float(x_of(max(run.from_measure, rng.from_measure)))
            b = float(x_of(min(run.to_measure, rng.to_measure)))
            w = max(b - a, 0.5)
            data = (
                f'data-band="{vertical}" data-party="{_attr(run.party or "")}" '
                f'data-from="{run.from_chainage:.1f}" data-to="{run.to_chainage:.1f}" '
                f'data-range="{_attr(run.label)}"'
            )
            if run.party is None:
                text = label("not_covered", lang)
                body.append(
                    f'<rect class="lrd-band lrd-gap" {data} x="{_n(a)}" y="{_n(by)}" '
                    f'width="{_n(w)}" height="{_n(lay.band_h)}">'
                    f"<title>{escape(text + ' ' + run.label)}</title></rect>"
                )
                shown = _fit(text, w - 4, 12)
                cls = "lrd-gaptext"
            else:
                fill = colours.get((vertical, run.party), "#eee")
                body.append(
                    f'<rect class="lrd-band" {data} x="{_n(a)}" y="{_n(by)}" width="{_n(w)}" '
                    f'height="{_n(lay.band_h)}" fill="{fill}">'
                    f"<title>{escape(run.detail + ' ' + run.label)}</title></rect>"
                )
                shown = _fit(run.party, w - 8, 12)
                cls = "lrd-bandtext"
            if shown:
                body.append(
                    f'<text class="{cls}" x="{_n(a + w / 2)}" y="{_n(by + lay.band_h / 2 + 4.5)}" '
                    f'text-anchor="middle" pointer-events="none">{escape(shown)}</text>'
                )
        by += lay.band_h + lay.band_gap
    return bottom + 8


def _legend(body: list[str], y: float, lay: _Layout, lang: str) -> float:
    y += 16
    x = 16.0
    body.append(
        f'<text class="lrd-rowlabel" x="{_n(x)}" y="{_n(y + 4)}">'
        f"{escape(label('legend', lang))}</text>"
    )
    x = lay.left
    for status in Status:
        body.append(
            f'<circle class="lrd-r s-{status.value}" cx="{_n(x + 5)}" cy="{_n(y)}" r="5.5"/>'
            f'<text x="{_n(x + 14)}" y="{_n(y + 4)}">{escape(status.label(lang))}</text>'
        )
        x += 24 + _text_width(status.label(lang), 12)
    tag, geom = _shape("general", x + 8, y)
    body.append(
        f'<circle class="lrd-odring" cx="{_n(x + 8)}" cy="{_n(y)}" r="8"/>'
        f'<{tag} class="lrd-r" fill="#bbb" {geom}/>'
        f'<text x="{_n(x + 20)}" y="{_n(y + 4)}">{escape(label("overdue", lang))}</text>'
    )
    y += 22
    x = lay.left
    for sev in Severity:
        tag, geom = _shape(sev.value, x + 7, y)
        body.append(
            f'<{tag} class="lrd-r" fill="#bbb" {geom}/>'
            f'<text x="{_n(x + 18)}" y="{_n(y + 4)}">{escape(sev.label(lang))}</text>'
        )
        x += 30 + _text_width(sev.label(lang), 12)
    for kind, key in (
        ("intact", "fence_intact"),
        ("damaged", "fence_damaged"),
        ("gap", "fence_gap"),
    ):
        style = FENCE_STYLES[kind]
        dash = f' stroke-dasharray="{style["dashArray"]}"' if style["dashArray"] else ""
        if kind == "gap":
            body.append(
                f'<rect x="{_n(x + 9)}" y="{_n(y - 5)}" width="8" height="10" '
                f'fill="{style["color"]}"/>'
            )
        else:
            body.append(
                f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + 26)}" y2="{_n(y)}" '
                f'stroke="{style["color"]}" stroke-width="4"{dash}/>'
            )
        body.append(f'<text x="{_n(x + 32)}" y="{_n(y + 4)}">{escape(label(key, lang))}</text>')
        x += 44 + _text_width(label(key, lang), 12)
    body.append(
        f'<rect class="lrd-gap" x="{_n(x)}" y="{_n(y - 7)}" width="26" height="14"/>'
        f'<text x="{_n(x + 32)}" y="{_n(y + 4)}">{escape(label("not_covered", lang))}</text>'
    )
    return y + 10


def write_diagram(
    register: Register,
    path: str | Path,
    scope: Scope | None = None,
    *,
    lang: str = "zh",
    on: dt.datetime | dt.date | str | None = None,
) -> Path:
    """Write the straight-line diagram of ``scope`` to ``path`` as an SVG file."""
    svg = straight_line_diagram(register, scope, lang=lang, on=on)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, encoding="utf-8")
    tmp.replace(path)
    return path
