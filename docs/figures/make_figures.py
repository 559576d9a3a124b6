"""Draw the figures of the documentation from the sample line, as plain SVG.

Run ``python docs/figures/make_figures.py``; it rewrites ``chainage_drift.svg`` next
to itself. The SVG is built by hand (no plotting library) so that the output is
byte-for-byte the same on every machine; tests/test_docs.py checks that the
committed file is what this script draws today.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from linerisk.chainage import format_chainage
from linerisk.sample import load_sample_network

HERE = Path(__file__).resolve().parent

WIDTH, HEIGHT = 800, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 56, 84  # plot margins in pixels
Y_MIN, Y_MAX, Y_STEP = -10.0, 60.0, 10.0
FONT = "font-family=\"'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif\""


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start", **extra) -> str:
    attrs = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in extra.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{attrs}>'
        f"{escape(text)}</text>"
    )


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    return " ".join(
        f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}"
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    )


def chainage_drift_svg() -> str:
    """The sample line's chainage against the ground, with its chain break.

    For every point of the line the figure plots chainage minus the nominal
    chainage the point would have if chainage were measured metre for metre
    from the start (K2+350 + measure). The solid line uses chainage as written:
    it jumps by 40 m at the short chain K11+620 = K11+660. The dashed line uses
    continuous chainage (the break removed), which calibration interpolates.
    """
    net = load_sample_network()
    line = net.line("JD")
    cal = net.calibration("JD")
    length = float(net.index.lengths[0])
    (break_m,) = cal.break_measures()
    (brk,) = net.chain_breaks
    start = line.start_chainage

    # Sample the line densely, with both sides of the break and every post exactly.
    measures = np.unique(
        np.concatenate([np.linspace(0.0, length, 1001), cal.anchor_measures, [break_m, length]])
    )
    before = measures[measures <= break_m]
    after = measures[measures > break_m]
    after = np.concatenate([[break_m], after])

    def written(m: np.ndarray, ahead: bool = False) -> np.ndarray:
        chainage = cal.chainage_at(m)
        if ahead:  # the first point after the break is its ahead chainage
            chainage = chainage.copy()
            chainage[0] = brk.ahead
        return chainage

    lo_c, hi_c = net.chainage_extent("JD")
    x_min = np.floor(lo_c / 1000.0) * 1000.0
    x_max = np.ceil(hi_c / 1000.0) * 1000.0
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def px(chainage: np.ndarray | float) -> np.ndarray | float:
        return LEFT + (np.asarray(chainage) - x_min) / (x_max - x_min) * plot_w

    def py(value: np.ndarray | float) -> np.ndarray | float:
        return TOP + (Y_MAX - np.asarray(value)) / (Y_MAX - Y_MIN) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" {FONT}>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text(
            LEFT,
            22,
            f"{line.name_zh} {line.name_en} ({line.id}): chainage against the ground "
            "里程与实际距离之差",
            size=15,
            font_weight="bold",
        ),
        _text(
            LEFT,
            40,
            f"chainage − ({format_chainage(start)} + measure), in metres; "
            "kilometre posts 公里标 as dots",
            size=12,
            fill="#444",
        ),
    ]
    # Grid and axes.
    for value in np.arange(Y_MIN, Y_MAX + 0.1, Y_STEP):
        y = py(value)
        colour = "#999" if value == 0 else "#e4e4e4"
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        out.append(_text(LEFT - 8, y + 4, f"{value:+.0f}" if value else "0", anchor="end"))
    for km in range(int(x_min // 1000), int(x_max // 1000) + 1):
        x = px(km * 1000.0)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" '
            'stroke="#f0f0f0" stroke-width="1"/>'
        )
        if km % 2 == 0:
            out.append(_text(x, HEIGHT - BOTTOM + 18, f"K{km}", anchor="middle"))
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#666" stroke-width="1"/>'
    )
    out.append(
        _text(LEFT + plot_w / 2, HEIGHT - BOTTOM + 40, "chainage as written 里程", anchor="middle")
    )
    out.append(
        _text(
            18,
            TOP + plot_h / 2,
            "metres 米",
            anchor="middle",
            transform=f"rotate(-90 18 {TOP + plot_h / 2:.1f})",
        )
    )

    # The chainages that do not exist: a shaded band, and the break itself.
    x0, x1 = px(brk.back), px(brk.ahead)
    out.append(
        f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}" fill="#f6d5d5"/>'
    )
    out.append(
        f'<line x1="{x0:.1f}" y1="{TOP}" x2="{x0:.1f}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#c0392b" stroke-width="1" stroke-dasharray="4 3"/>'
    )
    out.append(
        _text(
            x0 - 6,
            py(Y_MAX - 4),
            f"断链 short chain {format_chainage(brk.back)} = {format_chainage(brk.ahead)}",
            anchor="end",
            fill="#c0392b",
        )
    )
    out.append(
        _text(
            x0 - 6,
            py(Y_MAX - 8.5),
            f"chainage jumps {brk.ahead - brk.back:.0f} m; between them none exists",
            size=11,
            anchor="end",
            fill="#c0392b",
        )
    )

    # Continuous chainage: no jump.
    cont_c = cal.continuous_of_measure(measures)
    out.append(
        f'<path d="{_path(px(cal.from_continuous(cont_c)), py(cont_c - (start + measures)))}" '
        'fill="none" stroke="#7f8c8d" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    # Chainage as written, in two pieces joined by the jump.
    pieces = [(before, written(before)), (after, written(after, ahead=True))]
    for m, c in pieces:
        out.append(
            f'<path d="{_path(px(c), py(c - (start + m)))}" fill="none" '
            'stroke="#1f5fa8" stroke-width="2"/>'
        )
    jump_y0 = py(brk.back - (start + break_m))
    jump_y1 = py(brk.ahead - (start + break_m))
    out.append(
        f'<line x1="{x0:.1f}" y1="{jump_y0:.1f}" x2="{x1:.1f}" y2="{jump_y1:.1f}" '
        'stroke="#1f5fa8" stroke-width="1.5" stroke-dasharray="2 2"/>'
    )
    post_m = cal.anchor_measures[1:]
    post_c = cal.chainage_at(post_m)
    for x, y in zip(px(post_c), py(post_c - (start + post_m)), strict=True):
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f5fa8"/>')

    # Legend.
    ly = HEIGHT - 22
    out.append(
        f'<line x1="{LEFT}" y1="{ly - 4}" x2="{LEFT + 28}" y2="{ly - 4}" '
        'stroke="#1f5fa8" stroke-width="2"/>'
    )
    out.append(_text(LEFT + 34, ly, "chainage as written 里程"))
    out.append(
        f'<line x1="{LEFT + 230}" y1="{ly - 4}" x2="{LEFT + 258}" y2="{ly - 4}" '
        'stroke="#7f8c8d" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    out.append(_text(LEFT + 264, ly, "continuous chainage 连续里程 (break removed)"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


FIGURES = {"chainage_drift.svg": chainage_drift_svg}


def main() -> None:
    for name, draw in FIGURES.items():
        (HERE / name).write_text(draw(), encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
