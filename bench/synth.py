"""Seeded synthetic railway networks at three scales, for benchmarks and oracle tests.

* ``station``: 20 km of line, 500 risks
* ``division``: 1,600 km in 30 lines, 2,000 neighbourhoods, 100 police areas, 50,000 risks
* ``national``: 160,000 km in 2,000 lines, 1 km segments, 20,000 neighbourhoods,
  1,500 police areas, 1,000,000 risks

Lines are smooth random curves with a vertex every 100 m, chainage starting at a
random kilometre, kilometre posts whose true spacing drifts by up to ±0.4 % from
1000 m, and a short chain break on a third of the lines. Everything is in
EPSG:4548 metres. The same seed always gives the same network.
"""

from __future__ import annotations

import itertools
import math
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from linerisk.model import (
    ChainBreak,
    KmPost,
    Line,
    Neighbourhood,
    PoliceArea,
    Segment,
)
from linerisk.network import Network

CRS = "EPSG:4548"
VERTEX_SPACING = 100.0
#: bump when the generator changes, so cached pickles are rebuilt
CACHE_VERSION = 3


@dataclass(frozen=True)
class Scale:
    name: str
    lines: int
    line_km: float
    neighbourhoods: int
    police_areas: int
    risks: int
    box_km: tuple[float, float]


SCALES = {
    # small enough for the test suite: several lines, chain breaks, many areas
    "tiny": Scale("tiny", 6, 12.0, 150, 30, 5_000, (60.0, 40.0)),
    # the joint-meeting map benchmark: 100 km of line, 100 polygons, 5,000 risks
    "meeting": Scale("meeting", 2, 50.0, 80, 20, 5_000, (60.0, 45.0)),
    "station": Scale("station", 1, 20.0, 20, 2, 500, (30.0, 20.0)),
    "division": Scale("division", 30, 1600 / 30, 2_000, 100, 50_000, (400.0, 300.0)),
    "national": Scale("national", 2_000, 80.0, 20_000, 1_500, 1_000_000, (4000.0, 3000.0)),
}

AREA_CLASSES = ("urban", "suburban", "village", "other")


@dataclass
class Synthetic:
    """A generated network with its risks (x, y in EPSG:4548)."""

    scale: Scale
    network: Network
    #: per segment: line index, start/end measure and the geometry (for the baseline)
    segment_geometries: np.ndarray
    risk_x: np.ndarray
    risk_y: np.ndarray


def _voronoi_cells(rng: np.random.Generator, n: int, box: shapely.Polygon) -> np.ndarray:
    minx, miny, maxx, maxy = box.bounds
    pts = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box))
    cells = shapely.intersection(cells, box)
    return cells[~shapely.is_empty(cells)]


def _lines(rng: np.random.Generator, scale: Scale) -> list[np.ndarray]:
    width, height = (v * 1000 for v in scale.box_km)
    n_vert = round(scale.line_km * 1000 / VERTEX_SPACING) + 1
    out = []
    for _ in range(scale.lines):
        start = rng.uniform([0.1 * width, 0.1 * height], [0.9 * width, 0.9 * height])
        heading = rng.uniform(0, 2 * math.pi)
        # Smooth heading: a mean-reverting random walk of the curvature.
        curvature = np.zeros(n_vert - 1)
        k = 0.0
        for i in range(n_vert - 1):
            k = 0.97 * k + rng.normal(0, 0.0012)
            curvature[i] = k
        angles = heading + np.cumsum(curvature)
        steps = np.column_stack([np.cos(angles), np.sin(angles)]) * VERTEX_SPACING
        coords = np.vstack([start, start + np.cumsum(steps, axis=0)])
        out.append(coords + np.array([500_000.0 - width / 2, 3_000_000.0]))
    return out


DATA_DIR = Path(__file__).resolve().parent / "data"


def load(scale_name: str, seed: int = 7) -> Synthetic:
    """:func:`generate`, cached as a pickle in ``bench/data/`` (not committed)."""
    path = DATA_DIR / f"{scale_name}-{seed}-v{CACHE_VERSION}.pickle"
    if path.exists():
        with path.open("rb") as fh:
            parts, seg_geoms, rx, ry = pickle.load(fh)
        # The network (and its indexes) is rebuilt with the current code.
        return Synthetic(SCALES[scale_name], Network(crs=CRS, **parts), seg_geoms, rx, ry)
    syn = generate(scale_name, seed)
    DATA_DIR.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    net = syn.network
    parts = {
        "lines": net.lines,
        "kmposts": net.kmposts,
        "chain_breaks": net.chain_breaks,
        "segments": net.segments,
        "police_areas": net.police_areas,
        "neighbourhoods": net.neighbourhoods,
    }
    with tmp.open("wb") as fh:
        pickle.dump(
            (parts, syn.segment_geometries, syn.risk_x, syn.risk_y),
            fh,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    tmp.replace(path)
    return syn


def generate(scale_name: str, seed: int = 7) -> Synthetic:
    """Build the network and risks of one scale."""
    scale = SCALES[scale_name]
    rng = np.random.default_rng(seed)
    coords = _lines(rng, scale)
    geoms = [shapely.LineString(c) for c in coords]
    lengths = np.array([g.length for g in geoms])

    lines, posts, breaks, segments = [], [], [], []
    last_post: dict[str, float] = {}
    for i, (g, length) in enumerate(zip(geoms, lengths, strict=True)):
        line_id = f"L{i:04d}"
        start_km = int(rng.integers(0, 500))
        start = start_km * 1000 + float(rng.integers(0, 1000))
        lines.append(
            Line(
                id=line_id,
                name_zh=f"线{i}",
                name_en=f"Line {i}",
                geometry=g,
                start_chainage=start,
                high_speed=bool(rng.random() < 0.2),
                tracks=2,
            )
        )
        # Continuous chainage of whole-km posts, true spacing drifting ±0.4 %.
        jump = 0.0
        break_at = None
        if rng.random() < 1 / 3 and length > 5000:
            jump = float(rng.integers(10, 80))
            break_km = start_km + 2 + int(rng.integers(0, max(1, int(length / 1000) - 4)))
            break_at = break_km * 1000 + 500.0  # back chainage, mid-kilometre
        cont_end = start + length  # nominal ≈ geometric; drift is added below
        first_km = start_km + 1
        post_chainage = np.arange(first_km * 1000, cont_end + 2 * jump + 1, 1000.0)
        after_break = post_chainage > break_at if break_at is not None else False
        cont = post_chainage - np.where(after_break, jump, 0.0)
        scale_f = 1.0 + rng.uniform(-0.004, 0.004, len(cont))
        measure = np.cumsum(np.diff(np.concatenate([[start], cont])) * scale_f)
        keep = measure < length - 1.0
        post_chainage, cont, measure = post_chainage[keep], cont[keep], measure[keep]
        post_pts = shapely.line_interpolate_point(g, measure)
        posts += [
            KmPost(line=line_id, chainage=float(c), geometry=p)
            for c, p in zip(post_chainage, post_pts, strict=True)
        ]
        if break_at is not None and len(cont) and cont[-1] > break_at:
            breaks.append(ChainBreak(line=line_id, back=break_at, ahead=break_at + jump))
        # 1 km segments between consecutive posts, and from the start to the first post.
        bounds = np.concatenate([[start], post_chainage])
        for lo, hi in itertools.pairwise(bounds):
            segments.append(_segment(rng, line_id, len(segments), float(lo), float(hi)))
        last_post[line_id] = float(bounds[-1])
    partial = Network(crs=CRS, lines=lines, kmposts=posts, chain_breaks=breaks)
    # The last piece of each line: from its last post to the end of the geometry.
    for line in lines:
        _start, end = partial.chainage_extent(line.id)
        if end - last_post[line.id] > 1.0:
            segments.append(_segment(rng, line.id, len(segments), last_post[line.id], end))
    box = shapely.box(*shapely.total_bounds(np.array(geoms)))
    box = shapely.buffer(box, 3000.0, join_style="mitre")
    neighbourhood_cells = _voronoi_cells(rng, scale.neighbourhoods, box)
    police_cells = _voronoi_cells(rng, scale.police_areas, box)
    # Leave every 25th police area out: coverage gaps the checks must find.
    police_cells = np.array([c for k, c in enumerate(police_cells) if k % 25 != 24], dtype=object)
    neighbourhoods = [
        Neighbourhood(
            id=f"N{k:05d}",
            district=f"区{k // 200}",
            street_office=f"街道{k // 10}",
            community=f"社区{k}",
            geometry=c,
        )
        for k, c in enumerate(neighbourhood_cells)
    ]
    police = [
        PoliceArea(id=f"P{k:04d}", name=f"派出所{k}", geometry=c)
        for k, c in enumerate(police_cells)
    ]
    network = Network(
        crs=CRS,
        lines=lines,
        kmposts=posts,
        chain_breaks=breaks,
        segments=segments,
        police_areas=police,
        neighbourhoods=neighbourhoods,
    )
    seg_geoms = _segment_geometries(network)
    rx, ry = _risks(rng, network, scale.risks)
    return Synthetic(scale, network, seg_geoms, rx, ry)


def _segment(rng: np.random.Generator, line_id: str, n: int, lo: float, hi: float) -> Segment:
    ws = f"工务段{n // 400}"
    return Segment(
        id=f"S{n:06d}",
        line=line_id,
        from_chainage=lo,
        to_chainage=hi,
        works_section=ws,
        workshop=f"{ws}车间{(n // 50) % 8}",
        work_area=f"{ws}工区{(n // 10) % 40}",
        area_class=AREA_CLASSES[int(rng.integers(0, 4))],
        patrol_per_week=float(rng.integers(1, 15)),
        formation_half_width_left_m=float(rng.uniform(6, 14)),
        formation_half_width_right_m=float(rng.uniform(6, 14)),
    )


def _segment_geometries(network: Network) -> np.ndarray:
    """Each segment's piece of its line, cut by measure (vectorised per line)."""
    out = np.empty(len(network.segments), dtype=object)
    by_line: dict[int, list[int]] = {}
    for k, seg in enumerate(network.segments):
        by_line.setdefault(network.line_index(seg.line), []).append(k)
    for li, ks in by_line.items():
        line = network.lines[li].geometry
        coords = shapely.get_coordinates(line)
        vm = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
        for k in ks:
            m0, m1 = network.segment_measures(k)
            m0, m1 = max(m0, 0.0), min(m1, vm[-1])
            inner = coords[(vm > m0) & (vm < m1)]
            a = np.array([np.interp(m0, vm, coords[:, 0]), np.interp(m0, vm, coords[:, 1])])
            b = np.array([np.interp(m1, vm, coords[:, 0]), np.interp(m1, vm, coords[:, 1])])
            out[k] = shapely.LineString(np.vstack([a, inner, b]))
    return out


def _risks(rng: np.random.Generator, network: Network, n: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = network.index.lengths
    line = rng.choice(len(lengths), size=n, p=lengths / lengths.sum())
    measure = rng.uniform(0, 1, n) * lengths[line]
    offset = np.minimum(rng.exponential(150.0, n), 950.0) * rng.choice([-1.0, 1.0], n)
    x, y = network.index.place(line, measure, offset)
    return x, y
