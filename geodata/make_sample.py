"""Generate the Jindong Line (津东线) sample data set for linerisk.

Run as ``python geodata/make_sample.py``. The script is deterministic (fixed seed, no clock
reads) and writes its GeoJSON layers next to itself, then re-reads them and checks the
invariants that the library and its tests rely on. See ``geodata/README.md`` for the layers.

All geometry is constructed in the metric CRS EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger
CM 117E) and only transformed to EPSG:4326 (lon/lat, RFC 7946) when written.

Only the standard library, numpy, shapely and pyproj are used.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPoint, Point, mapping, shape
from shapely.ops import substring

HERE = Path(__file__).resolve().parent
SEED = 20261125
METRIC_CRS = "EPSG:4548"
TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
TZ = timezone(timedelta(hours=8))
AS_OF = datetime(2026, 11, 25, tzinfo=TZ)  # the register is "as of" this instant

# --------------------------------------------------------------------------------------------
# Line, chainage and chain break
# --------------------------------------------------------------------------------------------

LINE_ID = "JD"
LINE_PROPS = {
    "id": LINE_ID,
    "name_zh": "津东线",
    "name_en": "Jindong Line",
    "high_speed": False,
    "design_speed_kmh": 160,
    "tracks": 2,
    "prefix": "K",
    "start_chainage": "K2+350",
}
START_LONLAT = (117.212, 39.133)  # just east of Tianjin station
START_CHAINAGE = 2350.0
END_CHAINAGE = 22637.0  # K22+637
BREAK_BACK = 11620.0  # K11+620 (断链前里程)
BREAK_AHEAD = 11660.0  # K11+660 (断链后里程)
BREAK_LENGTH = BREAK_AHEAD - BREAK_BACK  # 40 m short chain (短链)

# Alignment: straights and circular arcs. Angles are mathematical (counter-clockwise from
# grid east); turn +1 is a left turn, -1 a right turn. The last straight is cut to length.
START_HEADING_DEG = -5.0
ALIGNMENT = [
    ("straight", 850.0),
    ("arc", 1600.0, -1, 17.0),
    ("straight", 2650.0),
    ("arc", 2200.0, +1, 11.0),
    ("straight", 3100.0),
    ("arc", 1800.0, -1, 15.0),
    ("straight", 2900.0),
    ("arc", 2600.0, +1, 13.0),
    ("straight", 2600.0),
    ("arc", 1500.0, -1, 12.0),
    ("straight", 1800.0),
    ("arc", 2000.0, +1, 9.0),
    ("straight", 4500.0),
]
STRAIGHT_STEP = 200.0
CURVE_STEP = 25.0


def rng_for(purpose: str) -> np.random.Generator:
    """Return an independent seeded generator per purpose, so parts do not disturb each other."""
    return np.random.default_rng([SEED, zlib.crc32(purpose.encode())])


def parse_chainage(text: str) -> float:
    """Parse ``K11+620`` (or ``K11+620.5``) into metres of nominal chainage."""
    if not text.startswith("K"):
        raise ValueError(f"unexpected chainage prefix: {text!r}")
    km, metres = text[1:].split("+")
    return int(km) * 1000.0 + float(metres)


def format_chainage(value: float) -> str:
    """Format nominal chainage in metres as ``K{km}+{m:03d}``, decimals only if needed."""
    value = round(value, 2)
    km = int(value // 1000)
    metres = value - km * 1000
    whole = int(metres)
    text = f"K{km}+{whole:03d}"
    frac = round(metres - whole, 2)
    if frac:
        text += f"{frac:.2f}"[1:].rstrip("0")
    return text


def to_continuous(chainage: float) -> float:
    """Nominal chainage -> continuous chainage (chain-break lengths removed)."""
    if BREAK_BACK < chainage < BREAK_AHEAD:
        raise ValueError(f"{format_chainage(chainage)} lies inside the chain break")
    return chainage if chainage <= BREAK_BACK else chainage - BREAK_LENGTH


def from_continuous(continuous: float) -> float:
    """Continuous chainage -> nominal chainage; the break itself maps to its back chainage."""
    return continuous if continuous <= BREAK_BACK else continuous + BREAK_LENGTH


def cont(text: str) -> float:
    """Shorthand: chainage string -> continuous chainage."""
    return to_continuous(parse_chainage(text))


# --------------------------------------------------------------------------------------------
# Calibration (kilometre posts) and the centreline
# --------------------------------------------------------------------------------------------


@dataclass
class Calibration:
    """Exact piecewise-linear map between continuous chainage and true measure.

    Anchors are the line start (measure 0) and every kilometre post. Beyond the last post the
    last interval's scale is extrapolated.
    """

    post_chainages: list[float]  # nominal chainage of each post (3000, 4000, ...)
    anchors_c: np.ndarray  # continuous chainage: start, then posts
    anchors_m: np.ndarray  # true measure along the centreline (m)

    def measure(self, continuous: float) -> float:
        """Continuous chainage -> measure along the centreline (m)."""
        c, m = self.anchors_c, self.anchors_m
        if continuous < c[0]:
            raise ValueError("chainage before the start of the line")
        if continuous <= c[-1]:
            return float(np.interp(continuous, c, m))
        scale = (m[-1] - m[-2]) / (c[-1] - c[-2])
        return float(m[-1] + (continuous - c[-1]) * scale)

    def continuous(self, measure: float) -> float:
        """Measure (m) -> continuous chainage (inverse of :meth:`measure`)."""
        c, m = self.anchors_c, self.anchors_m
        if measure <= m[-1]:
            return float(np.interp(measure, m, c))
        scale = (c[-1] - c[-2]) / (m[-1] - m[-2])
        return float(c[-1] + (measure - m[-1]) * scale)

    def at(self, text: str) -> float:
        """Chainage string -> measure (m)."""
        return self.measure(cont(text))


def make_calibration() -> Calibration:
    """Draw a smooth, bounded, cumulative drift and place the kilometre posts with it.

    Drift changes by 1-6 m per km (scaled by interval length), keeps its sign for a while
    (smooth) and turns round before it leaves +-14 m.
    """
    rng = rng_for("drift")
    first_post = math.ceil(START_CHAINAGE / 1000.0) * 1000.0
    last_post = math.floor(END_CHAINAGE / 1000.0) * 1000.0
    posts = list(np.arange(first_post, last_post + 1.0, 1000.0))
    anchors_c = [START_CHAINAGE] + [to_continuous(p) for p in posts]
    drift = [0.0]
    sign = 1.0 if rng.random() < 0.5 else -1.0
    for prev_c, next_c in pairwise(anchors_c):
        km = (next_c - prev_c) / 1000.0
        if rng.random() < 0.3:
            sign = -sign
        step = rng.uniform(1.0, 6.0) * km
        if abs(drift[-1] + sign * step) > 14.0:
            sign = -sign
        drift.append(round(drift[-1] + sign * step, 2))
    anchors_m = [c - START_CHAINAGE + d for c, d in zip(anchors_c, drift, strict=True)]
    anchors_m[0] = 0.0
    return Calibration(
        [float(p) for p in posts], np.array(anchors_c, dtype=float), np.array(anchors_m)
    )


def build_alignment() -> LineString:
    """Trace the straights and arcs into an (over-long) polyline in EPSG:4548."""
    x, y = TO_METRIC.transform(*START_LONLAT)
    heading = math.radians(START_HEADING_DEG)
    pts = [(x, y)]
    for element in ALIGNMENT:
        if element[0] == "straight":
            length = element[1]
            n = max(1, math.ceil(length / STRAIGHT_STEP))
            for i in range(1, n + 1):
                d = length * i / n
                pts.append((x + d * math.cos(heading), y + d * math.sin(heading)))
            x, y = pts[-1]
        else:
            _, radius, turn, degrees = element
            sweep = math.radians(degrees)
            n = max(1, math.ceil(radius * sweep / CURVE_STEP))
            cx = x - turn * radius * math.sin(heading)
            cy = y + turn * radius * math.cos(heading)
            for i in range(1, n + 1):
                psi = heading + turn * sweep * i / n
                pts.append((cx + turn * radius * math.sin(psi), cy - turn * radius * math.cos(psi)))
            heading += turn * sweep
            x, y = pts[-1]
    return LineString(pts)


def build_centreline(cal: Calibration) -> LineString:
    """Cut the alignment at the measure of the end chainage."""
    full = build_alignment()
    end_m = cal.measure(to_continuous(END_CHAINAGE))
    if full.length <= end_m:
        raise RuntimeError("alignment too short")
    return substring(full, 0.0, end_m)


def frame(line: LineString, m: float, half: float = 12.5) -> tuple[Point, np.ndarray]:
    """Foot point at measure ``m`` and the unit normal pointing to the LEFT of the line.

    The tangent is the secant over +-``half`` metres, which follows the underlying arc rather
    than a single 25 m chord, so points offset far from a curve project back accurately.
    """
    a = line.interpolate(max(m - half, 0.0))
    b = line.interpolate(min(m + half, line.length))
    t = np.array([b.x - a.x, b.y - a.y])
    t /= np.hypot(*t)
    return line.interpolate(m), np.array([-t[1], t[0]])


def offset_point(line: LineString, m: float, side: str, offset: float) -> Point:
    """Point ``offset`` metres to the given side of the centreline at measure ``m``."""
    foot, left = frame(line, m)
    sign = 1.0 if side == "left" else -1.0
    return Point(foot.x + sign * offset * left[0], foot.y + sign * offset * left[1])


def side_of(line: LineString, pt: Point) -> tuple[str, float, float]:
    """Project ``pt`` onto the line: (side, distance, measure)."""
    m = line.project(pt)
    foot, left = frame(line, m)
    dot = (pt.x - foot.x) * left[0] + (pt.y - foot.y) * left[1]
    return ("left" if dot > 0 else "right"), line.distance(pt), m


def offset_line(line: LineString, distance: float) -> LineString:
    """Parallel line at ``distance`` (positive = left), in the same direction as ``line``.

    GEOS can split an offset curve at nearly collinear vertices into touching parts; those are
    merged back (keeping direction) into one LineString.
    """
    out = shapely.line_merge(shapely.offset_curve(line, distance, join_style="mitre"), True)
    if out.geom_type != "LineString":
        raise RuntimeError("offset curve is not a single line")
    return out


def check_offset_convention() -> None:
    """Verify that a positive shapely offset_curve distance lies LEFT of the digitising direction.

    Left is defined by the cross product of the direction of travel and the offset vector.
    """
    probe = LineString([(0.0, 0.0), (100.0, 50.0), (250.0, 40.0)])
    shifted = offset_line(probe, 10.0)
    mid = shifted.interpolate(0.5, normalized=True)
    side, dist, _ = side_of(probe, mid)
    start_gap = Point(shifted.coords[0]).distance(Point(probe.coords[0]))
    assert side == "left" and abs(dist - 10.0) < 1e-6, "positive offset is not on the left"
    assert start_gap < 10.0 + 1e-6, "offset_curve reversed the direction"


# --------------------------------------------------------------------------------------------
# Railway organisation (works section) and segments
# --------------------------------------------------------------------------------------------

WORKS_SECTION = ("天津工务段", "Tianjin Track Maintenance Section")
WORKSHOPS = {
    "天津东线路车间": "Tianjin East Track Workshop",
    "军粮城线路车间": "Junliangcheng Track Workshop",
}
# work area -> (English name, workshop, staff member)
WORK_AREAS = {
    "天津东线路工区": ("Tianjin East Track Work Area", "天津东线路车间", "李强"),
    "张贵庄线路工区": ("Zhangguizhuang Track Work Area", "天津东线路车间", "韩卫东"),
    "新立线路工区": ("Xinli Track Work Area", "天津东线路车间", "杜明"),
    "无瑕线路工区": ("Wuxia Track Work Area", "军粮城线路车间", "侯宝山"),
    "军粮城线路工区": ("Junliangcheng Track Work Area", "军粮城线路车间", "石建军"),
}
# (from, to, work area, area class, patrols per week)
SEGMENTS = [
    ("K2+350", "K4+200", "天津东线路工区", "urban", 14),
    ("K4+200", "K5+600", "张贵庄线路工区", "urban", 12),
    ("K5+600", "K8+300", "张贵庄线路工区", "suburban", 7),
    ("K8+300", "K9+800", "新立线路工区", "suburban", 6),
    ("K9+800", "K12+000", "新立线路工区", "village", 4),
    ("K12+000", "K13+700", "无瑕线路工区", "other", 2),
    ("K13+700", "K16+200", "无瑕线路工区", "village", 4),
    ("K16+200", "K18+500", "军粮城线路工区", "other", 2),
    ("K18+500", "K20+400", "军粮城线路工区", "village", 3),
    ("K20+400", "K22+637", "军粮城线路工区", "other", 2),
]
# formation half-width range (m) by area class: embankments are wider out of town
HALF_WIDTH_RANGE = {
    "urban": (6.5, 8.5),
    "suburban": (7.5, 10.5),
    "village": (8.5, 12.0),
    "other": (9.5, 14.0),
}
FENCE_BEYOND_FORMATION = 1.5  # fence line = formation half-width + 1.5 m


@dataclass
class Segment:
    """One stretch of line with constant responsibility and formation width."""

    id: str
    c0: float  # continuous chainage
    c1: float
    work_area: str
    area_class: str
    patrol_per_week: int
    half_left: float
    half_right: float

    def half_width(self, side: str) -> float:
        """Formation half-width (m) on ``side``."""
        return self.half_left if side == "left" else self.half_right


def make_segments() -> list[Segment]:
    """Segments with seeded formation half-widths (rounded to 0.5 m)."""
    rng = rng_for("formation")
    out = []
    for i, (a, b, area, cls, patrol) in enumerate(SEGMENTS, start=1):
        lo, hi = HALF_WIDTH_RANGE[cls]
        left, right = (round(rng.uniform(lo, hi) * 2) / 2 for _ in range(2))
        out.append(Segment(f"JD-{i:02d}", cont(a), cont(b), area, cls, patrol, left, right))
    return out


def segment_at(segments: list[Segment], c: float) -> Segment:
    """Segment containing continuous chainage ``c`` (the later one on a shared end)."""
    for seg in reversed(segments):
        if seg.c0 <= c <= seg.c1:
            return seg
    raise ValueError(f"continuous chainage {c} is off the line")


# --------------------------------------------------------------------------------------------
# Police
# --------------------------------------------------------------------------------------------

POLICE_PARENT = ("天津铁路公安处", "Tianjin Railway Public Security Division")
# id, name, English name, from, to (a coverage gap K11+000-K11+300 is intentional)
POLICE_AREAS = [
    ("PS-TJ", "天津站派出所", "Tianjin Station Police Station", "K2+350", "K11+000"),
    ("PS-JLC", "军粮城站派出所", "Junliangcheng Station Police Station", "K11+300", "K22+637"),
]
POLICE_HALF_WIDTH = 1200.0
OFFICERS = {
    "天津站派出所": ["王磊", "赵建国", "孙丽娜", "周涛"],
    "军粮城站派出所": ["陈志强", "刘洋", "马俊", "郭婷"],
}


def station_for(c: float) -> str:
    """Police station whose officers patrol continuous chainage ``c``.

    Inside the coverage gap nobody is responsible; officers of the Junliangcheng station happen
    to find the hazards there.
    """
    return "天津站派出所" if c <= cont("K11+000") else "军粮城站派出所"


# --------------------------------------------------------------------------------------------
# Local government (districts, street offices/towns, communities/villages)
# --------------------------------------------------------------------------------------------

CORRIDOR_HALF_WIDTH = 3000.0
# district, district_en, office, office_en, kind, from/to continuous chainage (approximate:
# the Voronoi boundaries decide), communities [(zh, en)]
OFFICES = [
    ("河东区", "Hedong District", "大王庄街道", "Dawangzhuang Subdistrict", "street",
     2350, 3600, [("十一经路社区", "Shiyijinglu Community"), ("六纬路社区", "Liuweilu Community"),
                  ("津塘社区", "Jintang Community")]),
    ("河东区", "Hedong District", "东新街道", "Dongxin Subdistrict", "street",
     3600, 5200, [("东新里社区", "Dongxinli Community"), ("春华里社区", "Chunhuali Community"),
                  ("程林社区", "Chenglin Community")]),
    ("东丽区", "Dongli District", "张贵庄街道", "Zhangguizhuang Subdistrict", "street",
     5200, 8000, [("驯海路社区", "Xunhailu Community"), ("张贵庄社区", "Zhangguizhuang Community"),
                  ("詹庄子社区", "Zhanzhuangzi Community"), ("跃进里社区", "Yuejinli Community")]),
    ("东丽区", "Dongli District", "丰年村街道", "Fengniancun Subdistrict", "street",
     8000, 10200, [("丰年里社区", "Fengnianli Community"), ("利津路社区", "Lijinlu Community"),
                   ("新中村", "Xinzhong Village")]),
    ("东丽区", "Dongli District", "新立街道", "Xinli Subdistrict", "street",
     10200, 14000, [("新立村", "Xinli Village"), ("务本村", "Wuben Village"),
                    ("宝元村", "Baoyuan Village"), ("东杨场村", "Dongyangchang Village")]),
    ("东丽区", "Dongli District", "无瑕街道", "Wuxia Subdistrict", "street",
     14000, 17500, [("无瑕花园社区", "Wuxia Garden Community"),
                    ("南何庄村", "Nanhezhuang Village"), ("北何庄村", "Beihezhuang Village")]),
    ("东丽区", "Dongli District", "军粮城镇", "Junliangcheng Town", "town",
     17500, 22597, [("刘台村", "Liutai Village"), ("苗街村", "Miaojie Village"),
                    ("南于堡村", "Nanyubao Village"), ("军粮城村", "Junliangcheng Village")]),
]  # fmt: skip
STREET_STAFF = {
    "大王庄街道": "何静",
    "东新街道": "吴海燕",
    "张贵庄街道": "刘敏",
    "丰年村街道": "郑凯",
    "新立街道": "冯志刚",
    "无瑕街道": "许丽",
    "军粮城镇": "高建华",
}


@dataclass
class Neighbourhood:
    """One community or village cell with its street office and district."""

    id: str
    district: str
    district_en: str
    office: str
    office_en: str
    kind: str
    community: str
    community_en: str
    geom: shapely.Polygon


def make_neighbourhoods(
    line: LineString, cal: Calibration
) -> tuple[list[Neighbourhood], shapely.Polygon]:
    """Voronoi cells of seeded points, clipped to the 3 km corridor.

    Seeds are laid out office by office along the line, so each office (and district) is a
    contiguous run along it. The first seed of every office lies close to the line so that the
    office really owns a stretch of track.
    """
    rng = rng_for("neighbourhoods")
    corridor = line.buffer(CORRIDOR_HALF_WIDTH, cap_style="flat")
    seeds, meta = [], []
    for district, district_en, office, office_en, kind, a, b, communities in OFFICES:
        n = len(communities)
        side = 1.0 if rng.random() < 0.5 else -1.0
        for k, (name, name_en) in enumerate(communities):
            frac = (k + 0.5 + rng.uniform(-0.2, 0.2)) / n
            m = min(max(cal.measure(a + (b - a) * frac), 1.0), line.length - 1.0)
            dist = rng.uniform(150.0, 600.0) if k == 0 else rng.uniform(500.0, 2400.0)
            foot, left = frame(line, m)
            seeds.append((foot.x + side * dist * left[0], foot.y + side * dist * left[1]))
            meta.append((district, district_en, office, office_en, kind, name, name_en))
            side = -side
    cells = shapely.voronoi_polygons(
        MultiPoint(seeds), extend_to=corridor.envelope.buffer(5000.0), ordered=True
    )
    out = []
    for i, (cell, info) in enumerate(zip(cells.geoms, meta, strict=True), start=1):
        clipped = cell.intersection(corridor)
        if clipped.geom_type != "Polygon":
            raise RuntimeError(f"neighbourhood {info[5]} is not a single polygon")
        out.append(Neighbourhood(f"NB{i:02d}", *info[:5], info[5], info[6], clipped))
    return out, corridor


def neighbourhood_at(nbs: list[Neighbourhood], pt: Point) -> Neighbourhood:
    """Community/village cell containing ``pt``."""
    for nb in nbs:
        if nb.geom.covers(pt):
            return nb
    raise ValueError("point outside the corridor")


# --------------------------------------------------------------------------------------------
# Fences
# --------------------------------------------------------------------------------------------

# Stretches without fencing, per side (level crossing, bridges, underpasses, pump house...).
FENCE_GAPS = {
    "left": [
        ("K7+420", "K7+480"),  # level crossing 道口
        ("K14+800", "K14+980"),  # bridge 桥梁
        ("K17+700", "K17+820"),  # culvert and drainage ditch
        ("K20+900", "K20+990"),  # underpass 下穿通道
    ],
    "right": [
        ("K7+420", "K7+480"),  # level crossing
        ("K9+100", "K9+320"),  # pump house and cable shaft
        ("K14+830", "K15+030"),  # same bridge, abutments offset
        ("K17+100", "K17+170"),  # underpass
        ("K21+500", "K21+620"),  # farm track underbridge
    ],
}
DAMAGED_FENCES = 8


@dataclass
class FencePiece:
    """A run of fencing on one side with constant offset, kind and condition."""

    id: str
    side: str
    c0: float
    c1: float
    kind: str
    condition: str
    offset: float  # distance from the centreline (m)


def make_fences(
    segments: list[Segment],
    forced_damage: list[tuple[str, float]],
    repaired: list[tuple[str, float]],
) -> list[FencePiece]:
    """Split each side's fenced stretches at gaps and segment ends into 300-1200 m pieces.

    ``forced_damage`` lists (side, continuous chainage) that must fall on a damaged piece (the
    open fence-damage risks); ``repaired`` ones (cleared fence-damage risks) stay intact.
    Further damaged pieces, not yet in the register, are drawn at random.
    """
    rng = rng_for("fences")
    pieces: list[FencePiece] = []
    for side, tag in (("left", "L"), ("right", "R")):
        gaps = [(cont(a), cont(b)) for a, b in FENCE_GAPS[side]]
        for seg in segments:
            cuts = [seg.c0]
            for g0, g1 in gaps:
                if seg.c0 < g0 < seg.c1:
                    cuts += [g0, g1]
            cuts.append(seg.c1)
            for a, b in zip(cuts[0::2], cuts[1::2], strict=True):
                # every fenced stretch is >= 300 m; n pieces of about (b - a) / n <= 1000 m,
                # jittered by up to 120 m, stay within 300-1200 m
                n = math.ceil((b - a) / 1000.0)
                inner = [a + (b - a) * k / n + rng.uniform(-120.0, 120.0) for k in range(1, n)]
                ends = [a, *(float(round(x)) for x in inner), b]
                for c0, c1 in pairwise(ends):
                    pieces.append(
                        FencePiece(
                            id="",
                            side=side,
                            c0=c0,
                            c1=c1,
                            kind="wall" if seg.area_class == "urban" else "wire_mesh",
                            condition="intact",
                            offset=seg.half_width(side) + FENCE_BEYOND_FORMATION,
                        )
                    )
        for i, p in enumerate((p for p in pieces if p.side == side), start=1):
            p.id = f"JD-F{tag}{i:02d}"
    for side, c in forced_damage:
        hit = [p for p in pieces if p.side == side and p.c0 <= c <= p.c1]
        if len(hit) != 1:
            raise RuntimeError(f"no fence at {side} {c}")
        hit[0].condition = "damaged"
    intact = [
        i
        for i, p in enumerate(pieces)
        if p.condition == "intact"
        and not any(s == p.side and p.c0 <= c <= p.c1 for s, c in repaired)
    ]
    extra = DAMAGED_FENCES - sum(p.condition == "damaged" for p in pieces)
    for i in rng.choice(intact, size=extra, replace=False):
        pieces[int(i)].condition = "damaged"
    return pieces


# --------------------------------------------------------------------------------------------
# Risk register
# --------------------------------------------------------------------------------------------

CATEGORIES = [
    "fence_damage", "illegal_crossing", "light_floating_object", "hard_floating_object",
    "kite_balloon_drone", "tree_encroachment", "illegal_construction", "illegal_building",
    "garbage", "burning", "livestock", "water_extraction", "mining_blasting",
    "sand_soil_digging", "farm_machinery", "stone_throwing", "level_crossing", "flood_geology",
    "cable_theft",
]  # fmt: skip
DEADLINE_DAYS = {"critical": 1, "major": 7, "general": 30}
OPEN_STATUSES = ("reported", "assigned", "rectifying", "awaiting_recheck")
TRANSITIONS = {
    ("reported", "assign"): "assigned",
    ("assigned", "start"): "rectifying",
    ("rectifying", "submit"): "awaiting_recheck",
    ("awaiting_recheck", "clear"): "cleared",
    ("cleared", "reopen"): "assigned",
    **{(s, "withdraw"): "withdrawn" for s in OPEN_STATUSES},
}
# which vertical rectifies a category by default (railway / local / police)
OWNER = {
    "fence_damage": "railway",
    "illegal_crossing": "railway",
    "tree_encroachment": "railway",
    "level_crossing": "railway",
    "flood_geology": "railway",
    "stone_throwing": "police",
    "cable_theft": "police",
}
# (what the party starts doing, what it reports when done)
FIX_PHRASES = {
    "fence_damage": ("组织人员修补护网", "护网已修复"),
    "illegal_crossing": ("封堵穿越豁口并设置警示牌", "豁口已封堵，警示牌已设置"),
    "light_floating_object": ("督促业主加固、清理塑料薄膜", "薄膜已加固清理"),
    "hard_floating_object": ("督促业主拆除、加固彩钢板", "彩钢板已拆除加固"),
    "kite_balloon_drone": ("开展禁放宣传并劝离放飞人员", "已劝离并张贴禁放通告"),
    "tree_encroachment": ("组织修剪、砍伐超高树木", "超高树木已修剪"),
    "illegal_construction": ("责令停工并补办审批手续", "已停工，相关手续已补办"),
    "illegal_building": ("督促当事人自行拆除违建", "违建已拆除"),
    "garbage": ("组织清运垃圾", "垃圾已清运完毕"),
    "burning": ("扑灭明火并开展防火宣传", "明火已扑灭，已开展宣传"),
    "livestock": ("约谈畜主并落实圈养", "畜主已签订圈养承诺书"),
    "water_extraction": ("责令停止取水并封填机井", "机井已封填"),
    "mining_blasting": ("责令暂停爆破作业并报铁路部门审批", "爆破方案已报批并落实防护措施"),
    "sand_soil_digging": ("责令停止取土并回填土坑", "土坑已回填夯实"),
    "farm_machinery": ("督促农户移走农机具", "农机具已移离"),
    "stone_throwing": ("开展走访排查和爱路护路宣传", "已加装防护网并完成宣传教育"),
    "level_crossing": ("组织抢修道口设备", "道口设备已修复"),
    "flood_geology": ("组织清淤疏通", "涵洞河道已疏通"),
    "cable_theft": ("立案侦查并组织恢复电缆", "电缆已恢复，案件已移交刑侦部门"),
}
# (min, max) working hours after the previous event; people act 08:00-20:00
EVENT_GAP_HOURS = {
    "assign": (0.5, 8),
    "start": (4, 36),
    "submit": (24, 180),
    "clear": (6, 60),
    "reopen": (60, 240),
    "withdraw": (2, 36),
}
WORK_DAY = (8, 20)  # working hours of the day, local time
CLOCK_ORIGIN = datetime(2026, 8, 1, tzinfo=TZ)
LAST_EVENT = datetime(2026, 11, 24, 19, 30, tzinfo=TZ)
AT_FENCE = -1.0  # offset placeholder: the risk is on the fence line


@dataclass
class RiskPlan:
    """Hand-written plan of one register entry; times and people are drawn from the seed."""

    ref: str
    chainage: str
    side: str
    offset: float
    category: str
    severity: str
    found: str  # MM-DD in 2026
    outcome: str  # final status, or reopened_assigned / reopened_rectifying
    what: str  # the description after the location
    by_chainage: bool = False  # reported by chainage only: null geometry
    owner: str | None = None
    withdraw: tuple[str, str, str] | None = None  # (from status, reason, note)
    reopen_note: str = "复查发现隐患再次出现，重新交办"


P = RiskPlan
RISK_PLANS = [
    P("S001", "K2+480", "right", 25, "garbage", "general", "08-03", "cleared",
      "围墙外空地堆积生活垃圾约15立方米，易被大风刮入线路"),
    P("S002", "K2+860", "left", 6, "illegal_crossing", "major", "08-05", "cleared",
      "围墙被掏开一处豁口，周边居民经此横穿线路抄近路"),
    P("S003", "K3+240", "right", 140, "kite_balloon_drone", "major", "08-09", "cleared",
      "滨河公园内多名群众放风筝，风筝飘向接触网方向"),
    P("S004", "K3+610", "left", 18, "illegal_building", "general", "08-12", "rectifying",
      "居民在铁路用地界内私搭彩钢板棚屋一处，用于堆放杂物"),
    P("S005", "K3+905", "right", 45, "hard_floating_object", "major", "11-22", "reported",
      "在建楼房顶部彩钢瓦松动，大风天气易被掀起飘落线路"),
    P("S006", "K4+350", "left", 12, "stone_throwing", "critical", "09-02", "cleared",
      "跨线天桥上有青少年向通过列车投掷石块，砸坏车窗玻璃一块"),
    P("S007", "K4+720", "right", AT_FENCE, "fence_damage", "major", "10-15", "awaiting_recheck",
      "围墙墙体开裂倒塌约6米，形成缺口"),
    P("S008", "K5+130", "left", 60, "illegal_construction", "major", "11-20", "assigned",
      "小区改造工程在保护区内开挖基坑，未办理施工审批手续"),
    P("S009", "K5+480", "right", 220, "kite_balloon_drone", "general", "11-05", "reported",
      "有人在小区楼顶操控无人机航拍，多次飞越铁路上空"),
    P("S010", "K5+870", "left", 35, "garbage", "general", "09-18", "assigned",
      "排水沟边堆积生活垃圾和废旧塑料袋，大风易刮至接触网"),
    P("S011", "K6+240", "right", 9, "tree_encroachment", "major", "08-20", "cleared",
      "路肩外杨树倾斜严重，树冠距接触网不足2米", by_chainage=True),
    P("S012", "K6+480", "left", 38, "garbage", "general", "10-08", "cleared",
      "空地上堆放生活垃圾及废旧泡沫板约10立方米"),
    P("S013", "K6+492", "left", 36, "garbage", "general", "10-11", "withdrawn",
      "空地堆放垃圾和泡沫板，存在飘浮物隐患",
      withdraw=("reported", "duplicate", "与S012为同一处垃圾堆放点，重复登记，予以撤销")),
    P("S014", "K6+930", "right", 120, "light_floating_object", "major", "11-21", "assigned",
      "临时堆料场苫盖的防尘网未压实，部分网片被风掀起"),
    P("S015", "K7+450", "right", 6, "level_crossing", "critical", "09-10", "cleared",
      "道口栏木损坏不能正常落下，过往车辆抢行"),
    P("S016", "K7+470", "left", 5, "level_crossing", "major", "11-19", "rectifying",
      "道口限高架被超高车辆撞弯，存在超高车辆刮碰接触网风险", by_chainage=True),
    P("S017", "K7+980", "left", 80, "water_extraction", "general", "08-25", "cleared",
      "有人在保护区内私打机井一眼，抽取地下水用于洗车"),
    P("S018", "K8+400", "right", 15, "illegal_crossing", "major", "11-23", "reported",
      "护网下方被掏洞，有行人钻洞横穿线路"),
    P("S019", "K8+760", "left", 50, "hard_floating_object", "major", "10-02", "cleared",
      "废品收购站彩钢板及铁皮散放，未加固定"),
    P("S020", "K9+210", "right", 8, "cable_theft", "critical", "09-22", "cleared",
      "电缆槽盖板被撬开，槽内信号电缆被割走约30米", by_chainage=True),
    P("S021", "K9+640", "left", 150, "burning", "major", "10-26", "withdrawn",
      "有浓烟升起，疑似焚烧秸秆",
      withdraw=("assigned", "not_a_hazard", "经现场核实为村民院内柴灶炊烟，不属于烧荒，予以撤销")),
    P("S022", "K10+050", "right", 260, "light_floating_object", "major", "09-14",
      "awaiting_recheck", "蔬菜大棚塑料薄膜老化破损，大风天气易被吹起飘向接触网"),
    P("S023", "K10+380", "left", 95, "livestock", "general", "11-02", "rectifying",
      "村民在线路旁放养羊群约20只，有进入线路风险"),
    P("S024", "K10+820", "right", 180, "light_floating_object", "major", "08-28", "cleared",
      "大棚压膜线松脱，棚膜随风鼓动"),
    P("S025", "K11+150", "left", 20, "illegal_crossing", "major", "10-20", "assigned",
      "护网外踩出一条小路直通线路，常有村民翻越护网横穿线路"),
    P("S026", "K11+700", "right", 20, "sand_soil_digging", "major", "10-28", "reported",
      "有人在路基坡脚外取土，形成深约1.5米的土坑", by_chainage=True),
    P("S027", "K12+300", "left", 720, "mining_blasting", "critical", "09-05", "cleared",
      "厂区拆除工程拟采用爆破方式拆除水塔，未报铁路部门审批"),
    P("S028", "K12+900", "right", 60, "burning", "general", "10-30", "cleared",
      "农田边焚烧秸秆和杂草，烟雾飘向线路影响司机瞭望"),
    P("S029", "K13+350", "left", 12, "farm_machinery", "major", "11-19", "rectifying",
      "收割机在路基坡脚外作业，机械距护网不足2米"),
    P("S030", "K13+880", "right", 300, "light_floating_object", "major", "11-22", "assigned",
      "育苗大棚遮阳网破损，部分网片被风吹挂在树上"),
    P("S031", "K14+250", "left", 850, "mining_blasting", "major", "08-15", "withdrawn",
      "群众反映听到爆破声，疑似有人进行爆破作业",
      withdraw=("reported", "not_a_hazard",
                "经核实为工厂储气罐泄压声响，周边无爆破作业，予以撤销")),
    P("S032", "K14+880", "right", 15, "flood_geology", "major", "09-26", "cleared",
      "桥下河道被垃圾和水草堵塞，汛期易冲刷桥墩基础", by_chainage=True),
    P("S033", "K15+300", "left", 28, "tree_encroachment", "general", "10-22",
      "reopened_assigned", "村民种植的速生杨距线路过近，树高已超过与线路的距离", owner="local",
      reopen_note="回访发现修剪后的杨树新枝再次超高，重新交办"),
    P("S034", "K15+760", "right", 110, "water_extraction", "general", "11-06", "rectifying",
      "养殖户在保护区内打井抽水用于鱼塘补水"),
    P("S035", "K16+150", "left", 40, "sand_soil_digging", "major", "08-18", "cleared",
      "村民在涵洞附近取土垫宅基地，已挖出长约10米的沟槽", by_chainage=True),
    P("S036", "K16+640", "right", 200, "hard_floating_object", "major", "11-12",
      "awaiting_recheck", "养殖场屋顶石棉瓦破损松动，大风易吹落"),
    P("S037", "K17+080", "left", AT_FENCE, "fence_damage", "major", "09-08", "cleared",
      "护网网片被剪开长约3米的缺口"),
    P("S038", "K17+520", "right", 70, "livestock", "general", "08-30", "cleared",
      "村民放牧的牛群在线路旁吃草，无人看管"),
    P("S039", "K17+930", "left", 250, "light_floating_object", "general", "11-14", "reported",
      "废弃大棚的塑料薄膜散落在田间未清理"),
    P("S040", "K18+360", "right", AT_FENCE, "fence_damage", "critical", "11-16", "rectifying",
      "护网立柱锈蚀折断，网片倒伏约15米，线路失去防护"),
    P("S041", "K18+820", "left", 18, "illegal_building", "major", "09-30",
      "reopened_rectifying", "村民在路基坡脚外搭建简易房屋用于养鸡",
      reopen_note="回访发现当事人在原址重新搭建简易房，重新交办"),
    P("S042", "K19+300", "right", 10, "farm_machinery", "general", "10-12", "cleared",
      "农户在线路旁停放旋耕机，机具距路基过近", by_chainage=True),
    P("S043", "K19+740", "left", 30, "illegal_construction", "major", "11-19", "assigned",
      "施工单位在保护区内架设临时用电线路，未办理审批"),
    P("S044", "K20+150", "right", 14, "stone_throwing", "major", "10-05", "awaiting_recheck",
      "有儿童在线路旁玩耍并向护网内扔石块"),
    P("S045", "K20+700", "left", 22, "flood_geology", "general", "11-18", "reported",
      "排水涵洞被淤泥堵塞，雨天线路边沟积水"),
    P("S046", "K21+230", "right", 9, "tree_encroachment", "major", "11-03", "withdrawn",
      "护网外有树木倒伏", by_chainage=True,
      withdraw=("assigned", "not_a_hazard",
                "经核实为护网外已伐倒堆放的树干，不侵入限界，予以撤销")),
    P("S047", "K21+900", "left", AT_FENCE, "fence_damage", "general", "11-01", "assigned",
      "护网底部被雨水冲刷悬空，网片与地面间形成约40厘米的空隙"),
    P("S048", "K22+310", "right", 16, "illegal_building", "general", "11-09",
      "awaiting_recheck", "村民沿护网外侧搭建彩钢板仓库"),
]  # fmt: skip
del P

ACTION_PATHS = {
    "reported": [],
    "assigned": ["assign"],
    "rectifying": ["assign", "start"],
    "awaiting_recheck": ["assign", "start", "submit"],
    "cleared": ["assign", "start", "submit", "clear"],
    "reopened_assigned": ["assign", "start", "submit", "clear", "reopen"],
    "reopened_rectifying": ["assign", "start", "submit", "clear", "reopen", "start"],
}


def iso(t: datetime) -> str:
    """ISO 8601 with seconds and the +08:00 offset."""
    return t.isoformat(timespec="seconds")


def risk_actions(plan: RiskPlan) -> list[str]:
    """Sequence of lifecycle actions after registration."""
    if plan.outcome == "withdrawn":
        before = {"reported": [], "assigned": ["assign"], "rectifying": ["assign", "start"]}
        return [*before[plan.withdraw[0]], "withdraw"]
    return list(ACTION_PATHS[plan.outcome])


def work_clock(t: datetime) -> float:
    """Working hours elapsed between CLOCK_ORIGIN and ``t`` (nights do not count)."""
    start, end = WORK_DAY
    days = (t - CLOCK_ORIGIN).days
    hour = (t - CLOCK_ORIGIN - timedelta(days=days)).total_seconds() / 3600.0
    return days * (end - start) + min(max(hour - start, 0.0), end - start)


def from_work_clock(hours: float) -> datetime:
    """Inverse of :func:`work_clock`: a time within working hours."""
    start, end = WORK_DAY
    days, rest = divmod(hours, end - start)
    return CLOCK_ORIGIN + timedelta(days=days, hours=start + rest)


def event_times(rng: np.random.Generator, found: datetime, actions: list[str]) -> list[datetime]:
    """Draw increasing event times in working hours after ``found``, before LAST_EVENT."""
    gaps = [rng.uniform(*EVENT_GAP_HOURS[a]) for a in actions]
    room = work_clock(LAST_EVENT) - work_clock(found)
    if sum(gaps) > 0.95 * room:
        gaps = [g * 0.95 * room / sum(gaps) for g in gaps]
    times, clock, prev = [], work_clock(found), found
    for g in gaps:
        clock += g
        t = from_work_clock(clock).replace(second=0, microsecond=0)
        prev = max(t, prev + timedelta(minutes=1))
        times.append(prev)
    return times


@dataclass
class Risk:
    """A generated register entry: properties plus metric geometry (None if by chainage)."""

    props: dict
    geom: Point | None


def make_risks(
    line: LineString,
    cal: Calibration,
    segments: list[Segment],
    nbs: list[Neighbourhood],
) -> list[Risk]:
    """Turn the plans into register entries with locations, people and history."""
    rng = rng_for("risks")
    out = []
    for plan in RISK_PLANS:
        c = cont(plan.chainage)
        seg = segment_at(segments, c)
        offset = plan.offset
        if offset == AT_FENCE:
            offset = seg.half_width(plan.side) + FENCE_BEYOND_FORMATION
        pt = offset_point(line, cal.measure(c), plan.side, offset)
        nb = neighbourhood_at(nbs, pt)
        station = station_for(c)
        officers = OFFICERS[station]
        finder = officers[int(rng.integers(len(officers)))]
        found = datetime.fromisoformat(f"2026-{plan.found}T00:00:00+08:00") + timedelta(
            minutes=int(rng.integers(7 * 60 + 30, 18 * 60 + 30))
        )
        owner = plan.owner or OWNER.get(plan.category, "local")
        if owner == "railway":
            party = f"{WORKS_SECTION[0]} {seg.work_area} {WORK_AREAS[seg.work_area][2]}"
            handover = f"已交{WORKS_SECTION[0]}{seg.work_area}限期整改"
        elif owner == "local":
            party = f"{nb.office} 综治办 {STREET_STAFF[nb.office]}"
            handover = f"已交{nb.office}综治办，督促{nb.community}落实整改"
        else:
            party = f"{station} {officers[int(rng.integers(len(officers)))]}"
            handover = "已立案，由本所民警负责查处并督促整改"
        start_note, done_note = FIX_PHRASES[plan.category]
        actions = risk_actions(plan)
        history = []
        for action, t in zip(actions, event_times(rng, found, actions), strict=True):
            police = f"{station} {officers[int(rng.integers(len(officers)))]}"
            event = {"at": iso(t), "by": police, "action": action}
            if action == "assign":
                event["note"] = handover
            elif action == "start":
                event["by"], event["note"] = party, f"已{start_note}"
            elif action == "submit":
                event["by"], event["note"] = party, f"{done_note}，申请复查"
            elif action == "clear":
                event["note"] = "现场复查隐患已消除，予以销号"
            elif action == "reopen":
                event["note"] = plan.reopen_note
            else:  # withdraw
                event["note"], event["reason"] = plan.withdraw[2], plan.withdraw[1]
            history.append(event)
        offset_value = int(offset) if float(offset).is_integer() else offset
        side_zh = "左侧" if plan.side == "left" else "右侧"
        props = {
            "ref": plan.ref,
            "category": plan.category,
            "severity": plan.severity,
            "description": f"{plan.chainage}{side_zh}距线路中心{offset_value}米处{plan.what}",
            "found_at": iso(found),
            "found_by": f"{station} {finder}",
            "line": LINE_ID,
            "chainage": plan.chainage,
            "side": plan.side,
            "offset_m": offset_value,
            "located_by": "chainage" if plan.by_chainage else "coordinates",
            "history": history,
        }
        out.append(Risk(props, None if plan.by_chainage else pt))
    return out


def final_status(found_at: str, history: list[dict]) -> str:
    """Replay a history through the lifecycle, checking transitions and times."""
    status, t = "reported", datetime.fromisoformat(found_at)
    for event in history:
        at = datetime.fromisoformat(event["at"])
        assert t < at < AS_OF, f"event out of order or late: {event}"
        status = TRANSITIONS[(status, event["action"])]
        assert event["action"] != "withdraw" or event["reason"] in ("duplicate", "not_a_hazard")
        t = at
    return status


def is_overdue(props: dict, now: datetime = AS_OF) -> bool:
    """Open and past found_at + the severity's deadline."""
    due = datetime.fromisoformat(props["found_at"]) + timedelta(
        days=DEADLINE_DAYS[props["severity"]]
    )
    return final_status(props["found_at"], props["history"]) in OPEN_STATUSES and due < now


# --------------------------------------------------------------------------------------------
# GeoJSON output
# --------------------------------------------------------------------------------------------


def to_wgs84(geom):
    """Transform metric geometry to lon/lat, rounded to 7 decimals, RFC 7946 ring order."""

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = TO_WGS84.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 7)

    out = shapely.transform(geom, fn)
    if out.geom_type in ("Polygon", "MultiPolygon"):
        out = shapely.orient_polygons(out, exterior_cw=False)
    return out


def geometry_json(geom) -> dict | None:
    """GeoJSON geometry object with plain lists and floats."""
    if geom is None:
        return None

    def listify(obj):
        if isinstance(obj, tuple | list):
            return [listify(o) for o in obj]
        return float(obj)

    mapped = mapping(to_wgs84(geom))
    return {"type": mapped["type"], "coordinates": listify(mapped["coordinates"])}


def encode(obj, level: int = 0) -> str:
    """Pretty JSON: one key per line, but each coordinate position on a single line."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {encode(v, level + 1)}"
            for k, v in obj.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        if all(isinstance(v, float | int) and not isinstance(v, bool) for v in obj):
            return "[" + ", ".join(json.dumps(v) for v in obj) + "]"
        return "[\n" + ",\n".join(inner + encode(v, level + 1) for v in obj) + f"\n{pad}]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def write_layer(name: str, features: list[tuple[dict, object]]) -> Path:
    """Write a FeatureCollection of (properties, metric geometry) pairs."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": geometry_json(geom)}
            for props, geom in features
        ],
    }
    path = HERE / f"{name}.geojson"
    path.write_text(encode(collection) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Assemble all layers
# --------------------------------------------------------------------------------------------


def build_and_write() -> dict:
    """Build every layer in EPSG:4548 and write it; return what the self-check needs."""
    check_offset_convention()
    cal = make_calibration()
    line = build_centreline(cal)
    segments = make_segments()
    nbs, corridor = make_neighbourhoods(line, cal)

    def piece(c0: float, c1: float) -> LineString:
        return substring(line, cal.measure(c0), cal.measure(c1))

    write_layer("lines", [(dict(LINE_PROPS), line)])

    posts = []
    for p in cal.post_chainages:
        pt = line.interpolate(cal.measure(to_continuous(p)))
        posts.append(({"line": LINE_ID, "chainage": format_chainage(p)}, pt))
    write_layer("kmposts", posts)

    brk = line.interpolate(cal.measure(BREAK_BACK))
    write_layer(
        "chain_breaks",
        [
            (
                {
                    "line": LINE_ID,
                    "back": format_chainage(BREAK_BACK),
                    "ahead": format_chainage(BREAK_AHEAD),
                    "kind": "short",
                    "note_zh": "线路改建裁弯取直形成短链40米，K11+620（断链前里程）"
                    "=K11+660（断链后里程），其间里程不存在",
                    "note_en": "Short chain of 40 m left by a realignment: back chainage "
                    "K11+620 equals ahead chainage K11+660; chainages between do not exist.",
                },
                brk,
            )
        ],
    )

    seg_features = []
    for seg in segments:
        area_en, workshop, _ = WORK_AREAS[seg.work_area]
        props = {
            "id": seg.id,
            "line": LINE_ID,
            "from_chainage": format_chainage(from_continuous(seg.c0)),
            "to_chainage": format_chainage(from_continuous(seg.c1)),
            "works_section": WORKS_SECTION[0],
            "workshop": workshop,
            "work_area": seg.work_area,
            "area_class": seg.area_class,
            "patrol_per_week": seg.patrol_per_week,
            "formation_half_width_left_m": seg.half_left,
            "formation_half_width_right_m": seg.half_right,
            "works_section_en": WORKS_SECTION[1],
            "workshop_en": WORKSHOPS[workshop],
            "work_area_en": area_en,
        }
        seg_features.append((props, piece(seg.c0, seg.c1)))
    write_layer("segments", seg_features)

    police = []
    for pid, name, name_en, a, b in POLICE_AREAS:
        area = piece(cont(a), cont(b)).buffer(POLICE_HALF_WIDTH, cap_style="flat")
        props = {
            "id": pid,
            "name": name,
            "name_en": name_en,
            "parent": POLICE_PARENT[0],
            "parent_en": POLICE_PARENT[1],
        }
        police.append((props, area))
    write_layer("police_areas", police)

    write_layer(
        "neighbourhoods",
        [
            (
                {
                    "id": nb.id,
                    "district": nb.district,
                    "street_office": nb.office,
                    "community": nb.community,
                    "district_en": nb.district_en,
                    "street_office_en": nb.office_en,
                    "community_en": nb.community_en,
                    "kind": nb.kind,
                },
                nb.geom,
            )
            for nb in nbs
        ],
    )

    at_fence = [p for p in RISK_PLANS if p.offset == AT_FENCE]
    fences = make_fences(
        segments,
        [(p.side, cont(p.chainage)) for p in at_fence if p.outcome in OPEN_STATUSES],
        [(p.side, cont(p.chainage)) for p in at_fence if p.outcome not in OPEN_STATUSES],
    )
    fence_features = []
    for f in fences:
        sign = 1.0 if f.side == "left" else -1.0  # shapely: positive distance = left
        geom = offset_line(piece(f.c0, f.c1), sign * f.offset)
        props = {
            "id": f.id,
            "line": LINE_ID,
            "side": f.side,
            "from_chainage": format_chainage(from_continuous(f.c0)),
            "to_chainage": format_chainage(from_continuous(f.c1)),
            "condition": f.condition,
            "kind": f.kind,
        }
        fence_features.append((props, geom))
    write_layer("fences", fence_features)

    risks = make_risks(line, cal, segments, nbs)
    write_layer("risks", [(r.props, r.geom) for r in risks])

    return {"cal": cal, "segments": segments, "corridor_area": corridor.area}


# --------------------------------------------------------------------------------------------
# Self-check on the written files
# --------------------------------------------------------------------------------------------


def read_layer(name: str) -> list[tuple[dict, object]]:
    """Read a written layer back: (properties, metric geometry or None)."""
    data = json.loads((HERE / f"{name}.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    out = []
    for feat in data["features"]:
        geom = feat["geometry"]
        if geom is not None:
            geom = shapely.transform(
                shape(geom),
                lambda xy: np.column_stack(TO_METRIC.transform(xy[:, 0], xy[:, 1])),
            )
        out.append((feat["properties"], geom))
    return out


def self_check(built: dict) -> dict:
    """Assert the invariants on the files as written and return summary numbers."""
    cal: Calibration = built["cal"]
    (_, line), *_ = read_layer("lines")
    summary = {"line_length_m": round(line.length, 2)}

    # kilometre posts: within 15 m of nominal, every interval 1-6 m/km off nominal
    posts = read_layer("kmposts")
    measures = []
    for props, pt in posts:
        m = line.project(pt)
        c = to_continuous(parse_chainage(props["chainage"]))
        assert line.distance(pt) < 0.05, "post off the centreline"
        assert abs(m - (c - START_CHAINAGE)) <= 15.0, f"{props['chainage']} drift > 15 m"
        assert abs(m - cal.measure(c)) < 0.05, "post measure differs from the calibration"
        measures.append((c, m))
    for (c0, m0), (c1, m1) in pairwise([(START_CHAINAGE, 0.0), *measures]):
        rate = abs((m1 - m0) - (c1 - c0)) / ((c1 - c0) / 1000.0)
        assert 0.95 <= rate <= 6.05, f"drift rate {rate:.2f} m/km at {c0}-{c1}"
    summary["posts"] = len(posts)

    # chain break on the line at the calibrated measure of its continuous chainage
    (brk_props, brk), *_ = read_layer("chain_breaks")
    assert abs(line.project(brk) - cal.measure(BREAK_BACK)) < 0.05
    assert (brk_props["back"], brk_props["ahead"]) == ("K11+620", "K11+660")

    # segments: contiguous, cover the line
    segs = read_layer("segments")
    assert segs[0][0]["from_chainage"] == LINE_PROPS["start_chainage"]
    assert segs[-1][0]["to_chainage"] == format_chainage(END_CHAINAGE)
    for (a, ga), (b, gb) in pairwise(segs):
        assert a["to_chainage"] == b["from_chainage"]
        assert Point(ga.coords[-1]).distance(Point(gb.coords[0])) < 0.05
    assert abs(sum(g.length for _, g in segs) - line.length) < 0.5
    assert {p["area_class"] for p, _ in segs} == {"urban", "suburban", "village", "other"}
    summary["segments"] = len(segs)

    # police coverage gap at K11+150, covered on either side of it
    police = read_layer("police_areas")
    gap_pt = line.interpolate(cal.at("K11+150"))
    assert not any(g.covers(gap_pt) for _, g in police), "no police gap at K11+150"
    for text, name in (("K10+950", "天津站派出所"), ("K11+350", "军粮城站派出所")):
        pt = line.interpolate(cal.at(text))
        assert [p["name"] for p, g in police if g.covers(pt)] == [name]

    # neighbourhoods tile the corridor; offices and districts are contiguous along the line
    nbs = read_layer("neighbourhoods")
    geoms = [g for _, g in nbs]
    assert all(g.is_valid and g.geom_type == "Polygon" for g in geoms)
    union = shapely.union_all(geoms)
    corridor_area = line.buffer(CORRIDOR_HALF_WIDTH, cap_style="flat").area
    assert abs(union.area - corridor_area) < 1e-5 * corridor_area, "corridor not covered"
    tree = shapely.STRtree(geoms)
    worst = 0.0
    for i, j in zip(*tree.query(geoms, predicate="intersects"), strict=True):
        if i < j:
            worst = max(worst, geoms[i].intersection(geoms[j]).area)
    assert worst < 1.0, f"neighbourhood overlap {worst:.3f} m²"
    summary["neighbourhood_max_overlap_m2"] = round(worst, 6)
    summary["neighbourhood_coverage_valid"] = bool(shapely.coverage_is_valid(geoms))
    crossings = {}
    for level in ("street_office", "district"):
        names = list(dict.fromkeys(p[level] for p, _ in nbs))
        for name in names:
            area = shapely.union_all([g for p, g in nbs if p[level] == name])
            assert area.geom_type == "Polygon", f"{name} is not contiguous"
            on_line = line.intersection(area)
            assert on_line.geom_type == "LineString", f"line enters {name} more than once"
        crossings[level] = len(names) - 1
    assert crossings["street_office"] >= 3
    summary["street_office_boundaries_crossed"] = crossings["street_office"]

    # fences: side, offset, piece length, gaps, damage
    fences = read_layer("fences")
    gaps = {"left": 0, "right": 0}
    for side in gaps:
        runs = sorted(
            (cont(p["from_chainage"]), cont(p["to_chainage"]), g)
            for p, g in fences
            if p["side"] == side
        )
        for (_, a1, _), (b0, _, _) in pairwise(runs):
            if b0 > a1:
                gap = cal.measure(b0) - cal.measure(a1)
                assert 50.0 <= gap <= 400.0, f"fence gap of {gap:.0f} m"
                gaps[side] += 1
        assert 3 <= gaps[side] <= 5
    assert set(FENCE_GAPS["left"]) != set(FENCE_GAPS["right"])
    for props, g in fences:
        length = cal.measure(cont(props["to_chainage"])) - cal.measure(cont(props["from_chainage"]))
        assert 300.0 <= length <= 1200.0, f"{props['id']} is {length:.0f} m long"
        side, dist, m = side_of(line, g.interpolate(0.5, normalized=True))
        seg = segment_at(built["segments"], cal.continuous(m))
        assert side == props["side"], f"{props['id']} is on the wrong side"
        assert abs(dist - seg.half_width(side) - FENCE_BEYOND_FORMATION) < 0.05
    damaged = sum(p["condition"] == "damaged" for p, _ in fences)
    assert 6 <= damaged <= 10
    summary.update(fence_pieces=len(fences), fence_gaps=gaps, damaged_fences=damaged)

    # risks: categories, statuses, locations, duplicate, overdue
    risks = read_layer("risks")
    assert 45 <= len(risks) <= 50
    assert {p["category"] for p, _ in risks} == set(CATEGORIES)
    statuses: dict[str, int] = {}
    worst_ch, worst_off = 0.0, 0.0
    for props, g in risks:
        status = final_status(props["found_at"], props["history"])
        statuses[status] = statuses.get(status, 0) + 1
        assert "2026-08-01" <= props["found_at"][:10] <= "2026-11-24"
        assert 3 <= props["offset_m"] <= 900
        assert (g is None) == (props["located_by"] == "chainage")
        if g is not None:
            side, dist, m = side_of(line, g)
            back = from_continuous(cal.continuous(m))
            assert side == props["side"], f"{props['ref']} on the wrong side"
            worst_ch = max(worst_ch, abs(back - parse_chainage(props["chainage"])))
            worst_off = max(worst_off, abs(dist - props["offset_m"]))
    assert worst_ch < 2.5 and worst_off < 0.5, (worst_ch, worst_off)
    expected = {"withdrawn", "cleared", *OPEN_STATUSES}
    assert set(statuses) == expected and min(statuses.values()) >= 3, statuses
    reopened = [
        p["ref"]
        for p, _ in risks
        if any(e["action"] == "reopen" for e in p["history"])
        and final_status(p["found_at"], p["history"]) in OPEN_STATUSES
    ]
    assert len(reopened) == 2
    by_ref = {p["ref"]: (p, g) for p, g in risks}
    dups = [(p, g) for p, g in risks for e in p["history"] if e.get("reason") == "duplicate"]
    assert len(dups) == 1
    dp, dg = dups[0]
    near = [
        ref
        for ref, (p, g) in by_ref.items()
        if ref != dp["ref"] and p["category"] == dp["category"] and g is not None
        and g.distance(dg) <= 20.0
    ]  # fmt: skip
    assert near, "duplicate has no original within 20 m"
    gap_refs = [
        p["ref"] for p, _ in risks if cont("K11+000") < cont(p["chainage"]) < cont("K11+300")
    ]
    assert gap_refs, "no risk in the police gap"
    overdue = [p["ref"] for p, _ in risks if is_overdue(p)]
    # no open deadline falls near the as-of instant, so "as of 25 Nov" is unambiguous
    later = [p["ref"] for p, _ in risks if is_overdue(p, AS_OF + timedelta(days=1))]
    assert overdue == later and 8 <= len(overdue) <= 12, (overdue, later)
    summary.update(
        risks=len(risks),
        risks_by_final_status=dict(sorted(statuses.items())),
        risks_located_by_chainage=sum(g is None for _, g in risks),
        overdue_as_of_2026_11_25=overdue,
        reopened_open=reopened,
        duplicate=f"{dp['ref']} duplicates {near}",
        risks_in_police_gap=gap_refs,
        risk_roundtrip_max_chainage_error_m=round(worst_ch, 3),
        risk_roundtrip_max_offset_error_m=round(worst_off, 3),
    )
    return summary


def main() -> None:
    """Generate, write and check the sample data set."""
    built = build_and_write()
    summary = self_check(built)
    cal: Calibration = built["cal"]
    print("kilometre posts (chainage, continuous chainage, measure m, drift m):")
    print(f"  start K2+350 c={START_CHAINAGE:.0f} m=0.00")
    for p, c, m in zip(cal.post_chainages, cal.anchors_c[1:], cal.anchors_m[1:], strict=True):
        print(f"  {format_chainage(p)} c={c:.0f} m={m:.2f} drift={m - (c - START_CHAINAGE):+.2f}")
    end_c = to_continuous(END_CHAINAGE)
    print(f"  end {format_chainage(END_CHAINAGE)} c={end_c:.0f} m={cal.measure(end_c):.2f}")
    print(f"  chain break c={BREAK_BACK:.0f} m={cal.measure(BREAK_BACK):.2f}")
    for key, value in summary.items():
        print(f"{key}: {value}")
    print("self-check passed")


if __name__ == "__main__":
    main()
