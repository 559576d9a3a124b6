"""Checks of a register: what a joint meeting should not be the first to discover.

Along every line and chainage range: stretches nobody answers for (no police
area, no neighbourhood, no works-section segment) or that two of the same kind
claim; fence gaps and damaged fence; segments with no patrol frequency; open
risks whose stored parties no longer match the current boundaries; invalid
geometries; kilometre posts out of order, uneven kilometre spacing and chain
breaks away from where the calibration puts them.

    >>> from linerisk.checks import check_register
    >>> report = check_register(reg)                                # doctest: +SKIP
    >>> [(f.kind, f.chainage_range) for f in report.problems]      # doctest: +SKIP
    [('police_gap', 'K11+000-K11+300')]
    >>> report.exit_code                                           # doctest: +SKIP
    1

Each finding is a *problem* (the register gives a wrong or no answer there) or
a *warning* (worth a look, may be as intended). ``check_register(...,
fix=True, by=...)`` reassigns the out-of-date risks and records an event for
each. Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import shapely

from linerisk.chainage import format_chainage
from linerisk.errors import LineriskError

if TYPE_CHECKING:  # pragma: no cover
    from shapely.geometry.base import BaseGeometry

    from linerisk.model import Fence
    from linerisk.network import Network
    from linerisk.register import Register

__all__ = ["KINDS", "CheckReport", "Finding", "check_register"]

PROBLEM = "problem"
WARNING = "warning"

#: finding kind → (severity, Chinese label, English label)
KINDS: dict[str, tuple[str, str, str]] = {
    "police_gap": (PROBLEM, "派出所辖区空白", "no police area"),
    "neighbourhood_gap": (PROBLEM, "属地空白", "no neighbourhood"),
    "segment_gap": (PROBLEM, "工务区段空白", "no works-section segment"),
    "police_overlap": (PROBLEM, "派出所辖区重叠", "police areas overlap"),
    "neighbourhood_overlap": (PROBLEM, "属地重叠", "neighbourhoods overlap"),
    "segment_overlap": (PROBLEM, "区段重叠", "segments overlap"),
    "fence_gap": (WARNING, "护网缺口", "fence gap"),
    "fence_damaged": (WARNING, "护网破损", "damaged fence"),
    "patrol_missing": (WARNING, "未定巡线频次", "no patrol frequency"),
    "stale_risk": (PROBLEM, "隐患责任待更新", "risk assignment out of date"),
    "invalid_geometry": (PROBLEM, "几何图形无效", "invalid geometry"),
    "kmpost_order": (PROBLEM, "公里标顺序错乱", "kilometre post out of order"),
    "kmpost_line": (PROBLEM, "公里标不在本线", "kilometre post off its line"),
    "calibration_residual": (WARNING, "公里标间距异常", "kilometre spacing off"),
    "chain_break_position": (PROBLEM, "断链位置不符", "chain break misplaced"),
    "network_unreadable": (PROBLEM, "线网无法读取", "network cannot be read"),
}

SEVERITY_LABELS = {PROBLEM: ("问题", "problem"), WARNING: ("提示", "warning")}

#: stretches, gaps and overlaps shorter than this (metres along the line) are noise
MIN_LENGTH_M = 1.0

_SIDES = {"left": ("左侧", "left"), "right": ("右侧", "right")}

#: Chinese names of the risk columns a reassignment changes
_COLUMN_ZH = {
    "line": "线路",
    "measure_m": "实际距离",
    "chainage_m": "里程(米)",
    "chainage": "里程",
    "side": "侧别",
    "offset_m": "距中心",
    "segment": "区段",
    "works_section": "工务段",
    "workshop": "车间",
    "work_area": "工区",
    "police": "派出所",
    "district": "区县",
    "street_office": "街道/镇",
    "community": "社区/村",
    "uncovered": "未覆盖",
    "area_class": "地区类别",
    "zone_width_m": "保护区宽",
    "zone_distance_m": "距路基",
    "band": "距离带",
    "lead_party": "牵头单位",
}
#: the columns a stale-risk message names (the rest follow from them)
_SHOWN = (
    "line",
    "chainage",
    "side",
    "segment",
    "works_section",
    "workshop",
    "work_area",
    "police",
    "district",
    "street_office",
    "community",
    "band",
)


# --------------------------------------------------------------------------- results


@attrs.frozen
class Finding:
    """One thing the check found, on a line between two chainages (or at one point).

    ``geometry`` is in the register's CRS: the stretch of line, the point or
    the feature concerned (None when there is nothing to draw).
    """

    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    line: str | None
    from_chainage: float | None
    to_chainage: float | None
    message_zh: str
    message_en: str
    detail: Mapping[str, Any] = attrs.field(factory=dict)
    geometry: BaseGeometry | None = attrs.field(default=None, eq=False)
    prefix: str = "K"
    #: a stale risk that ``fix`` reassigned
    fixed: bool = False

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def label(self, lang: str = "zh") -> str:
        return KINDS[self.kind][1 if lang == "zh" else 2]

    @property
    def chainage_range(self) -> str | None:
        if self.from_chainage is None:
            return None
        a = format_chainage(self.from_chainage, prefix=self.prefix, decimals=0)
        if self.to_chainage is None or abs(self.to_chainage - self.from_chainage) < 0.5:
            return a
        return f"{a}-{format_chainage(self.to_chainage, prefix=self.prefix, decimals=0)}"

    def record(self, lang: str = "zh") -> dict[str, Any]:
        """The finding as a flat record (the JSON keys of ``linerisk check``)."""

        def ch(value: float | None) -> str | None:
            if value is None:
                return None
            return format_chainage(value, prefix=self.prefix, decimals=0)

        return {
            "kind": self.kind,
            "severity": self.severity,
            "line": self.line,
            "from_chainage": ch(self.from_chainage),
            "to_chainage": ch(self.to_chainage),
            "from_chainage_m": None if self.from_chainage is None else round(self.from_chainage, 1),
            "to_chainage_m": None if self.to_chainage is None else round(self.to_chainage, 1),
            "message": self.message(lang),
            "detail": dict(self.detail),
            "fixed": self.fixed,
        }


@attrs.frozen
class CheckReport:
    """Every finding of :func:`check_register`, ordered by line and chainage."""

    findings: tuple[Finding, ...]
    crs: str
    #: ids of the risks reassigned by ``fix``
    reassigned: tuple[int, ...] = ()

    @property
    def problems(self) -> list[Finding]:
        """Problems not fixed by this run."""
        return [f for f in self.findings if f.severity == PROBLEM and not f.fixed]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        """True when there is no problem left (warnings do not count)."""
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 when clean or only warnings, 1 when a problem is left: for gating a workflow."""
        return 0 if self.ok else 1

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def geojson(self, lang: str = "zh") -> dict[str, Any]:
        """The findings as a GeoJSON FeatureCollection in longitude/latitude (a map
        layer): each feature's properties are its :meth:`Finding.record`."""
        from shapely.geometry import mapping

        from linerisk.crs import WGS84, transform_geometries

        geoms = np.array([f.geometry for f in self.findings], dtype=object)
        present = np.array([g is not None for g in geoms], dtype=bool)
        if present.any():
            lonlat = transform_geometries(geoms[present], self.crs, WGS84)
            geoms[present] = shapely.transform(lonlat, lambda xy: np.round(xy, 7))
        features = [
            {
                "type": "Feature",
                "properties": f.record(lang),
                "geometry": None if g is None else mapping(g),
            }
            for f, g in zip(self.findings, geoms, strict=True)
        ]
        return {"type": "FeatureCollection", "features": features}

    def summary(self, lang: str = "zh") -> str:
        p, w, fixed = len(self.problems), len(self.warnings), len(self.reassigned)
        if lang == "zh":
            text = f"检查完成：问题 {p} 项，提示 {w} 项"
            return text + (f"；已重新分配隐患 {fixed} 个" if fixed else "")
        text = f"checked: {p} problem(s), {w} warning(s)"
        return text + (f"; {fixed} risk(s) reassigned" if fixed else "")


# --------------------------------------------------------------------------- entry point


def check_register(
    reg: Register,
    *,
    fence_gap: float = 50.0,
    residual: float = 20.0,
    line: str | None = None,
    fix: bool = False,
    by: str | None = None,
    note: str = "",
) -> CheckReport:
    """Check the register's network and open risks; see the module docstring.

    ``fence_gap``: report stretches of one side with no fence longer than this
    (metres). ``residual``: report kilometre spacing off by more than this, and
    chain breaks whose stored point lies farther than this from where the
    calibration puts them (metres). ``line`` limits the findings to one line
    (plus those on no line). ``fix`` reassigns the out-of-date open risks as
    ``by``, one ``edit`` event each, in one transaction.

    >>> check_register(reg, fence_gap=100).exit_code              # doctest: +SKIP
    1
    """
    if not fence_gap > 0:
        raise LineriskError("the fence gap must be a positive number of metres")
    if not residual > 0:
        raise LineriskError("the residual must be a positive number of metres")
    if fix and not str(by or "").strip():
        raise LineriskError("every change needs the actor who made it (by)")
    layers = _Layers(reg)
    findings: list[Finding] = []
    reassigned: tuple[int, ...] = ()
    drop: dict[str, set[int]] = {}
    findings += _geometry_findings(layers, drop)
    findings += _kmpost_findings(layers, drop, residual)
    net, repaired, problem = _network(reg, layers, drop)
    if line is not None and net is not None:
        net.line_index(line)  # an unknown line is refused, naming the known ones
    if net is None:
        findings.append(
            Finding(
                "network_unreadable",
                None,
                None,
                None,
                f"线网图层无法组成线网：{problem}",
                f"the network layers cannot be put together: {problem}",
                {"error": problem},
            )
        )
    else:
        lines = [ln.id for ln in net.lines] if line is None else [line]
        areas = _Areas(net)
        fences_of: dict[str, list[Fence]] = {}
        for f in net.fences:
            fences_of.setdefault(f.line, []).append(f)
        for line_id in lines:
            findings += _coverage_findings(net, line_id, areas)
            findings += _fence_findings(reg, net, line_id, fence_gap, fences_of.get(line_id, []))
        findings += _patrol_findings(net)
        findings += _chain_break_findings(net, residual)
        stale = _stale_findings(reg, net, layers.risks)
        if fix and stale:
            if repaired:
                raise LineriskError(
                    "the network has problems that stop the register from using it; "
                    "correct them, then reassign the risks"
                )
            ids = [f.detail["risk"] for f in stale if "changes" in f.detail]
            done = set(reg.reassign(ids, by=str(by), note=note))
            stale = [attrs.evolve(f, fixed=f.detail["risk"] in done) for f in stale]
            reassigned = tuple(sorted(done))
        findings += stale
    if line is not None:
        findings = [f for f in findings if f.line in (line, None)]
    order = {k: i for i, k in enumerate(KINDS)}
    findings.sort(
        key=lambda f: (
            f.line or "",
            -1.0 if f.from_chainage is None else f.from_chainage,
            order[f.kind],
        )
    )
    return CheckReport(tuple(findings), reg.crs, reassigned)


# --------------------------------------------------------------------------- raw layers


class _Layers:
    """The store's network layers as stored (read once), and a store-like view of
    them without the rows the checks dropped, to build a network anyway."""

    KINDS = (
        "lines",
        "kmposts",
        "chain_breaks",
        "segments",
        "police_areas",
        "neighbourhoods",
        "fences",
    )

    def __init__(self, reg: Register) -> None:
        self.reg = reg
        self.crs = reg.crs
        self.data = {kind: reg.store.read_layer(kind) for kind in self.KINDS}
        self.drop: dict[str, set[int]] = {}
        from linerisk.store.base import RiskQuery

        #: every risk row, read once for the coordinate check and the stale check
        self.risks = reg.store.find_risks(RiskQuery())

    def read_layer(
        self, kind: str, geometry: bool = True
    ) -> tuple[list[dict[str, Any]], np.ndarray]:
        rows, geoms = self.data[kind]
        if not geometry:
            geoms = np.full(len(geoms), None, dtype=object)
        bad = self.drop.get(kind)
        if not bad:
            return rows, geoms
        if not _GEOMETRY_RULES[kind][1]:
            # The geometry is optional here: keep the feature without it.
            geoms = geoms.copy()
            geoms[sorted(bad)] = None
            return rows, geoms
        keep = [i for i in range(len(rows)) if i not in bad]
        return [rows[i] for i in keep], geoms[keep]


def _network(
    reg: Register, layers: _Layers, drop: dict[str, set[int]]
) -> tuple[Network | None, bool, str | None]:
    """(network, built without some rows, why it cannot be built)."""
    from linerisk.store.rows import network_from_store

    if not any(drop.values()):
        try:
            return reg.network, False, None
        except (ValueError, LineriskError) as exc:
            return None, False, str(exc)
    layers.drop = drop
    try:
        return network_from_store(layers, reg.settings), True, None  # type: ignore[arg-type]
    except (ValueError, LineriskError) as exc:
        return None, True, str(exc)


# --------------------------------------------------------------------------- geometry


#: layer kind → (geometry types allowed, geometry required, Chinese name, English name)
_GEOMETRY_RULES: dict[str, tuple[tuple[str, ...], bool, str, str]] = {
    "lines": (("LineString",), True, "线路", "line"),
    "kmposts": (("Point",), True, "公里标", "kilometre post"),
    "chain_breaks": (("Point",), False, "断链", "chain break"),
    "segments": (("LineString", "MultiLineString"), False, "区段", "segment"),
    "police_areas": (("Polygon", "MultiPolygon"), True, "派出所辖区", "police area"),
    "neighbourhoods": (("Polygon", "MultiPolygon"), True, "社区/村", "neighbourhood"),
    "fences": (("LineString", "MultiLineString"), False, "护网", "fence"),
}

_TYPE_IDS = {
    "Point": shapely.GeometryType.POINT,
    "LineString": shapely.GeometryType.LINESTRING,
    "Polygon": shapely.GeometryType.POLYGON,
    "MultiLineString": shapely.GeometryType.MULTILINESTRING,
    "MultiPolygon": shapely.GeometryType.MULTIPOLYGON,
}

_REASON_AT = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")


def _feature_name(kind: str, row: Mapping[str, Any]) -> str:
    if kind == "kmposts":
        return f"{row.get('chainage') or row.get('chainage_m')} ({row.get('line')})"
    if kind == "chain_breaks":
        return f"{row.get('back')}={row.get('ahead')} ({row.get('line')})"
    return str(row.get("id"))


def _geometry_findings(layers: _Layers, drop: dict[str, set[int]]) -> list[Finding]:
    """Null, empty, invalid or wrongly typed geometries in every layer, and risks
    without coordinates. Rows that would stop the network from loading are dropped."""
    out = []
    for kind, (types, required, zh, en) in _GEOMETRY_RULES.items():
        rows, geoms = layers.data[kind]
        geoms = np.asarray(geoms, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        present = np.flatnonzero(~missing)
        wrong_type = np.zeros(len(geoms), dtype=bool)
        invalid = np.zeros(len(geoms), dtype=bool)
        if len(present):
            allowed = np.isin(
                shapely.get_type_id(geoms[present]), [_TYPE_IDS[name] for name in types]
            )
            wrong_type[present] = ~allowed
            invalid[present] = allowed & ~shapely.is_valid(geoms[present])
            if kind == "lines":
                few = shapely.get_num_coordinates(shapely.remove_repeated_points(geoms[present]))
                invalid[present] |= allowed & (few < 2)
        bad = (missing & required) | wrong_type | invalid
        for i in np.flatnonzero(bad).tolist():
            row, g = rows[i], geoms[i]
            where = None
            if missing[i]:
                problem_zh, problem_en = "没有几何图形", "has no geometry"
            elif wrong_type[i]:
                problem_zh = f"几何类型为 {g.geom_type}，应为 {' 或 '.join(types)}"
                problem_en = f"is a {g.geom_type}, not a {' or '.join(types)}"
                where = shapely.point_on_surface(g)
            else:
                reason = shapely.is_valid_reason(g)
                if reason == "Valid Geometry":
                    reason = "too few distinct vertices"
                problem_zh = f"几何图形无效（{reason}）"
                problem_en = f"is not a valid geometry ({reason})"
                m = _REASON_AT.search(reason)
                where = (
                    shapely.points(float(m[1]), float(m[2]))
                    if m
                    else shapely.centroid(shapely.envelope(g))
                )
            drop.setdefault(kind, set()).add(i)
            name = _feature_name(kind, row)
            out.append(
                Finding(
                    "invalid_geometry",
                    row.get("line") if kind != "lines" else row.get("id"),
                    row.get("from_chainage_m"),
                    row.get("to_chainage_m"),
                    f"{zh} {name} {problem_zh}",
                    f"{en} {name} {problem_en}",
                    {"layer": kind, "feature": name},
                    where,
                )
            )
    for r in layers.risks:
        x, y = r.get("x"), r.get("y")
        if x is None or y is None or not (np.isfinite(x) and np.isfinite(y)):
            out.append(
                Finding(
                    "invalid_geometry",
                    r.get("line"),
                    r.get("chainage_m"),
                    r.get("chainage_m"),
                    f"隐患 {r['id']} 没有坐标",
                    f"risk {r['id']} has no coordinates",
                    {"layer": "risks", "feature": r["id"]},
                )
            )
    return out


# --------------------------------------------------------------------------- kilometre posts


def _kmpost_findings(layers: _Layers, drop: dict[str, set[int]], residual: float) -> list[Finding]:
    """Posts on no line or nearer another line, posts out of order, uneven spacing."""
    from linerisk.calibration import ChainBreakSpec
    from linerisk.referencing import LineIndex

    line_rows, line_geoms = layers.data["lines"]
    ok_lines = [i for i in range(len(line_rows)) if i not in drop.get("lines", set())]
    post_rows, post_geoms = layers.data["kmposts"]
    usable = [i for i in range(len(post_rows)) if i not in drop.get("kmposts", set())]
    if not ok_lines or not usable:
        return []
    ids = [line_rows[i]["id"] for i in ok_lines]
    pos = {lid: k for k, lid in enumerate(ids)}
    loc = LineIndex([line_geoms[i] for i in ok_lines]).locate(
        np.array([post_geoms[i].x for i in usable]), np.array([post_geoms[i].y for i in usable])
    )
    out: list[Finding] = []
    per_line: dict[str, list[int]] = {}
    for j, i in enumerate(usable):
        row = post_rows[i]
        own = pos.get(row["line"])
        if own is not None and loc.line[j] == own:
            per_line.setdefault(row["line"], []).append(j)
            continue
        drop.setdefault("kmposts", set()).add(i)
        name = row.get("chainage") or format_chainage(row["chainage_m"])
        other = ids[int(loc.line[j])]
        zh_why = "所属线路不存在" if own is None else f"离线路 {other} 更近"
        en_why = "names no line in the register" if own is None else f"is nearer line {other}"
        out.append(
            Finding(
                "kmpost_line",
                row["line"],
                row["chainage_m"],
                row["chainage_m"],
                f"{row['line']} 线公里标 {name} {zh_why}",
                f"kilometre post {name} of line {row['line']} {en_why}",
                {"kmpost": name, "nearest_line": other},
                post_geoms[i],
            )
        )
    break_rows, _ = layers.data["chain_breaks"]
    for line_id, js in per_line.items():
        js = sorted((j for j in js if loc.measure[j] > 0), key=lambda j: loc.measure[j])
        if not js:
            continue  # a post at the very start adds nothing to the calibration
        li = ok_lines[pos[line_id]]
        breaks = [
            ChainBreakSpec(b["back_m"], b["ahead_m"])
            for b in break_rows
            if b["line"] == line_id and b["back_m"] != b["ahead_m"]
        ]
        found, bad = _posts_along(
            line_rows[li],
            line_geoms[li],
            loc.measure[js],
            np.array([post_rows[usable[j]]["chainage_m"] for j in js], dtype=float),
            [post_geoms[usable[j]] for j in js],
            breaks,
            residual,
        )
        out += found
        drop.setdefault("kmposts", set()).update(usable[js[k]] for k in bad)
    return out


def _posts_along(
    line_row: Mapping[str, Any],
    geom: BaseGeometry,
    measure: np.ndarray,
    chain: np.ndarray,
    points: Sequence[BaseGeometry],
    breaks: Sequence[Any],
    residual: float,
) -> tuple[list[Finding], list[int]]:
    """Order and spacing of one line's posts, given in order of measure.

    Returns the findings and the positions of the posts out of order.
    """
    from shapely.ops import substring

    from linerisk.calibration import Calibration, ChainageStatus, longest_increasing

    line_id = line_row["id"]
    prefix = line_row.get("prefix") or "K"
    # Continuous chainage needs only the breaks; overlapping breaks are ignored here.
    specs = tuple(sorted(breaks, key=lambda s: min(s.back, s.ahead)))
    try:
        breaks_only = Calibration(np.array([0.0]), np.array([0.0]), specs)
    except ValueError:
        breaks_only = Calibration(np.array([0.0]), np.array([0.0]))
    cont, status = breaks_only.to_continuous(chain, 1)
    second, _ = breaks_only.to_continuous(chain, 2)
    start = float(breaks_only.to_continuous(np.array([line_row["start_chainage_m"]]))[0][0])
    # A post inside a long chain takes the occurrence that keeps the order.
    previous = start
    for k in range(len(cont)):
        if status[k] == ChainageStatus.AMBIGUOUS and cont[k] <= previous < second[k]:
            cont[k] = second[k]
        if not np.isnan(cont[k]):
            previous = cont[k]
    with np.errstate(invalid="ignore"):
        beyond = cont > start
    keep = beyond & longest_increasing(np.where(beyond, cont, np.nan))
    kept = np.flatnonzero(keep)
    out: list[Finding] = []
    bad = np.flatnonzero(~keep).tolist()
    for k in bad:
        name = format_chainage(chain[k], prefix=prefix)
        before, after = kept[kept < k], kept[kept > k]
        a = format_chainage(chain[before[-1]], prefix=prefix) if len(before) else None
        b = format_chainage(chain[after[0]], prefix=prefix) if len(after) else None
        if np.isnan(cont[k]):
            zh_why, en_why = "位于短链范围内", "lies inside a short chain"
        elif a and b:
            zh_why = f"沿线位于 {a} 与 {b} 之间"
            en_why = f"lies between {a} and {b} along the line"
        elif a:
            zh_why, en_why = f"沿线位于 {a} 之后", f"lies after {a} along the line"
        elif b:
            zh_why, en_why = f"沿线位于 {b} 之前", f"lies before {b} along the line"
        else:
            zh_why, en_why = "不大于线路起点里程", "is not beyond the line's start chainage"
        out.append(
            Finding(
                "kmpost_order",
                line_id,
                float(chain[k]),
                float(chain[k]),
                f"公里标 {name} 顺序错乱：{zh_why}",
                f"kilometre post {name} is out of order: it {en_why}",
                {"kmpost": name, "measure_m": round(float(measure[k]), 1)},
                points[k],
                prefix,
            )
        )
    # Spacing: each post kept against the one before (the line start first).
    m_prev, c_prev, ch_prev = 0.0, start, float(line_row["start_chainage_m"])
    for k in kept.tolist():
        dm = float(measure[k]) - m_prev
        dc = float(cont[k]) - c_prev
        off = dm - dc
        if abs(off) > residual:
            a = format_chainage(ch_prev, prefix=prefix, decimals=0)
            b = format_chainage(chain[k], prefix=prefix, decimals=0)
            out.append(
                Finding(
                    "calibration_residual",
                    line_id,
                    ch_prev,
                    float(chain[k]),
                    f"{a} 至 {b} 实测 {dm:,.0f} 米，比里程差 {dc:,.0f} 米"
                    f"{'长' if off > 0 else '短'} {abs(off):,.0f} 米",
                    f"from {a} to {b} the line measures {dm:,.0f} m, {abs(off):,.0f} m "
                    f"{'more' if off > 0 else 'less'} than the chainage says ({dc:,.0f} m)",
                    {
                        "measured_m": round(dm, 1),
                        "nominal_m": round(dc, 1),
                        "residual_m": round(off, 1),
                    },
                    substring(geom, m_prev, float(measure[k])),
                    prefix,
                )
            )
        m_prev, c_prev, ch_prev = float(measure[k]), float(cont[k]), float(chain[k])
    return out, bad


# --------------------------------------------------------------------------- along the line


def _stretch(net: Network, li: int, m0: float, m1: float) -> BaseGeometry:
    from shapely.ops import substring

    return substring(net.lines[li].geometry, m0, m1)


def _chainages(net: Network, line_id: str, measures: Sequence[float]) -> list[float]:
    return [
        float(c)
        for c in np.atleast_1d(
            net.calibration(line_id).chainage_at(np.asarray(measures, dtype=float))
        )
    ]


def _range_text(a: float, b: float, prefix: str) -> str:
    return (
        f"{format_chainage(a, prefix=prefix, decimals=0)}-"
        f"{format_chainage(b, prefix=prefix, decimals=0)}"
    )


def _polygon_intervals(
    net: Network, polygons: Sequence[BaseGeometry], owners: Sequence[Any], li: int
) -> list[tuple[float, float, Any]]:
    """Measure intervals of line ``li`` inside each polygon, merged per owner.

    The line's short indexed pieces are tested against the polygons; a piece
    inside a polygon counts whole, only pieces crossing a boundary are cut.
    """
    if not len(polygons):
        return []
    pieces = net.index.tree.geometries
    piece_line = net.index.piece_line
    sel = np.flatnonzero(piece_line == li)
    if not len(sel):
        return []
    lengths = shapely.length(pieces[sel])
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    polys = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(pieces[sel])
    hit_poly, hit_piece = tree.query(polys, predicate="intersects")
    inside_poly, inside_piece = tree.query(polys, predicate="contains_properly")
    n = len(sel)
    inside = np.isin(hit_poly * n + hit_piece, inside_poly * n + inside_piece)
    found: list[tuple[float, float, Any]] = []
    for p, q in zip(hit_poly[inside].tolist(), hit_piece[inside].tolist(), strict=True):
        found.append((starts[q], starts[q] + lengths[q], owners[p]))
    cross_poly, cross_piece = hit_poly[~inside], hit_piece[~inside]
    if len(cross_poly):
        piece_geoms = pieces[sel][cross_piece]
        cut = shapely.intersection(piece_geoms, polys[cross_poly])
        parts, k = shapely.get_parts(cut, return_index=True)
        linear = shapely.get_type_id(parts) == 1
        parts, k = parts[linear], k[linear]
        on = piece_geoms[k]
        a = shapely.line_locate_point(on, shapely.get_point(parts, 0))
        b = shapely.line_locate_point(on, shapely.get_point(parts, -1))
        base = starts[cross_piece[k]]
        for lo, hi, p in zip(
            (base + np.minimum(a, b)).tolist(),
            (base + np.maximum(a, b)).tolist(),
            cross_poly[k].tolist(),
            strict=True,
        ):
            found.append((lo, hi, owners[p]))
    return _merge_per_owner(found)


def _merge_per_owner(
    intervals: Iterable[tuple[float, float, Any]],
) -> list[tuple[float, float, Any]]:
    by_owner: dict[Any, list[tuple[float, float]]] = {}
    for lo, hi, owner in intervals:
        by_owner.setdefault(owner, []).append((lo, hi))
    out = []
    for owner, spans in by_owner.items():
        spans.sort()
        cur_lo, cur_hi = spans[0]
        for lo, hi in spans[1:]:
            if lo <= cur_hi + 1e-6:
                cur_hi = max(cur_hi, hi)
            else:
                out.append((cur_lo, cur_hi, owner))
                cur_lo, cur_hi = lo, hi
        out.append((cur_lo, cur_hi, owner))
    return out


def _sweep(
    length: float, intervals: Sequence[tuple[float, float, Any]]
) -> tuple[list[tuple[float, float]], list[tuple[float, float, tuple[Any, ...]]]]:
    """(uncovered stretches, stretches claimed by two or more owners) of [0, length]."""
    lo = np.array([i[0] for i in intervals], dtype=float)
    hi = np.array([i[1] for i in intervals], dtype=float)
    edges = np.unique(np.clip(np.concatenate([[0.0, length], lo, hi]), 0.0, length))
    mids = (edges[:-1] + edges[1:]) / 2
    count = np.searchsorted(np.sort(lo), mids, side="right") - np.searchsorted(
        np.sort(hi), mids, side="right"
    )
    gaps: list[tuple[float, float]] = []
    overlaps: list[tuple[float, float, tuple[Any, ...]]] = []
    for k in range(len(mids)):
        a, b = float(edges[k]), float(edges[k + 1])
        if count[k] == 0:
            if gaps and abs(gaps[-1][1] - a) < 1e-6:
                gaps[-1] = (gaps[-1][0], b)
            else:
                gaps.append((a, b))
        elif count[k] >= 2:
            who = tuple(
                sorted(
                    {intervals[j][2] for j in np.flatnonzero((lo <= mids[k]) & (hi > mids[k]))},
                    key=str,
                )
            )
            if overlaps and abs(overlaps[-1][1] - a) < 1e-6 and overlaps[-1][2] == who:
                overlaps[-1] = (overlaps[-1][0], b, who)
            else:
                overlaps.append((a, b, who))
    gaps = [g for g in gaps if g[1] - g[0] >= MIN_LENGTH_M]
    overlaps = [o for o in overlaps if o[1] - o[0] >= MIN_LENGTH_M]
    return gaps, overlaps


class _Areas:
    """The police areas and neighbourhoods with their names, and a tree of each
    kind's extents, built once for all the lines a check goes through."""

    def __init__(self, net: Network) -> None:
        self.police = np.array([p.geometry for p in net.police_areas], dtype=object)
        self.police_names = [p.name for p in net.police_areas]
        self.neighbourhoods = np.array([n.geometry for n in net.neighbourhoods], dtype=object)
        self.neighbourhood_names = [
            f"{n.community}（{n.street_office}）" for n in net.neighbourhoods
        ]
        self._trees = {
            "police": shapely.STRtree(self.police),
            "neighbourhood": shapely.STRtree(self.neighbourhoods),
        }

    def near(self, kind: str, geometry: BaseGeometry) -> np.ndarray:
        """Indices (ascending) of the areas of ``kind`` whose extent meets that of
        ``geometry``: the only ones that can hold part of it."""
        return np.sort(self._trees[kind].query(geometry))


def _coverage_findings(net: Network, line_id: str, areas: _Areas) -> list[Finding]:
    """Stretches of the line with no police area, neighbourhood or segment, or two."""
    li = net.line_index(line_id)
    line = net.lines[li]
    length = float(net.index.lengths[li])
    seg = np.flatnonzero(net._seg_line == li)
    police = areas.near("police", line.geometry)
    cells = areas.near("neighbourhood", line.geometry)
    kinds = {
        "police": (
            _polygon_intervals(
                net, areas.police[police], [areas.police_names[k] for k in police], li
            ),
            ("派出所辖区", "police area"),
        ),
        "neighbourhood": (
            _polygon_intervals(
                net,
                areas.neighbourhoods[cells],
                [areas.neighbourhood_names[k] for k in cells],
                li,
            ),
            ("社区/村", "neighbourhood"),
        ),
        "segment": (
            [
                (float(net._seg_from[k]), float(net._seg_to[k]), net.segments[k].id)
                for k in seg.tolist()
            ],
            ("工务区段", "works-section segment"),
        ),
    }
    out = []
    for kind, (intervals, (zh, en)) in kinds.items():
        gaps, overlaps = _sweep(length, intervals)
        for a, b in gaps:
            c0, c1 = _chainages(net, line_id, [a, b])
            rng = _range_text(c0, c1, line.prefix)
            out.append(
                Finding(
                    f"{kind}_gap",
                    line_id,
                    c0,
                    c1,
                    f"{rng} 不在任何{zh}内（{b - a:,.0f} 米）",
                    f"{rng} is in no {en} ({b - a:,.0f} m)",
                    {"length_m": round(b - a, 1)},
                    _stretch(net, li, a, b),
                    line.prefix,
                )
            )
        for a, b, who in overlaps:
            c0, c1 = _chainages(net, line_id, [a, b])
            rng = _range_text(c0, c1, line.prefix)
            names = [str(w) for w in who]
            out.append(
                Finding(
                    f"{kind}_overlap",
                    line_id,
                    c0,
                    c1,
                    f"{rng} 同时属于{len(names)}个{zh}：{'、'.join(names)}（{b - a:,.0f} 米）",
                    f"{rng} is claimed by {len(names)} {en}s: {', '.join(names)} ({b - a:,.0f} m)",
                    {"claimed_by": names, "length_m": round(b - a, 1)},
                    _stretch(net, li, a, b),
                    line.prefix,
                )
            )
    return out


# --------------------------------------------------------------------------- fences


def _fence_measures(net: Network, fences: Sequence[Any]) -> np.ndarray:
    """(n, 2) measures of fence ends; a range in a long chain keeps its order."""
    if not fences:
        return np.zeros((0, 2))
    cal = net.calibration(fences[0].line)
    a = np.array([f.from_chainage for f in fences], dtype=float)
    b = np.array([f.to_chainage for f in fences], dtype=float)
    m0, _ = cal.measures_at(a, 1)
    m1, _ = cal.measures_at(b, 1)
    m1_second, _ = cal.measures_at(b, 2)
    with np.errstate(invalid="ignore"):
        m1 = np.where(m1 < m0, m1_second, m1)
    return np.column_stack([m0, m1])


def _fence_findings(
    reg: Register, net: Network, line_id: str, fence_gap: float, fences: list[Fence]
) -> list[Finding]:
    """Gaps longer than ``fence_gap`` on each side of the line with ``fences`` (its
    own), and every damaged piece."""
    li = net.line_index(line_id)
    line = net.lines[li]
    length = float(net.index.lengths[li])
    ends = _fence_measures(net, fences)
    out: list[Finding] = []
    for side in ("left", "right"):
        spans = [
            (float(np.clip(m0, 0, length)), float(np.clip(m1, 0, length)), "fence")
            for f, (m0, m1) in zip(fences, ends, strict=True)
            if f.side.value == side and np.isfinite(m0) and np.isfinite(m1)
        ]
        gaps, _ = _sweep(length, _merge_per_owner(spans))
        zh_side, en_side = _SIDES[side]
        for a, b in gaps:
            if b - a <= fence_gap:
                continue
            c0, c1 = _chainages(net, line_id, [a, b])
            rng = _range_text(c0, c1, line.prefix)
            out.append(
                Finding(
                    "fence_gap",
                    line_id,
                    c0,
                    c1,
                    f"{zh_side} {rng} 无护网（{b - a:,.0f} 米）",
                    f"no fence on the {en_side} side from {rng.replace('-', ' to ', 1)} "
                    f"({b - a:,.0f} m)",
                    {"side": side, "length_m": round(b - a, 1)},
                    _offset_stretch(net, li, a, b, side),
                    line.prefix,
                )
            )
    damaged = [(f, m) for f, m in zip(fences, ends, strict=True) if f.condition.value == "damaged"]
    if damaged:
        from linerisk.register import OPEN_STATUSES
        from linerisk.store.base import RiskQuery

        radius = reg.settings.duplicate_radius_m
        open_fence_risks = reg.store.find_risks(
            RiskQuery(statuses=OPEN_STATUSES, categories=("fence_damage",), line=line_id)
        )
        for f, (m0, m1) in damaged:
            side = f.side.value
            zh_side, en_side = _SIDES[side]
            meters = float(m1 - m0) if np.isfinite(m0) and np.isfinite(m1) else float("nan")
            risks = [
                r["id"]
                for r in open_fence_risks
                if r["side"] == side
                and f.from_chainage - radius <= r["chainage_m"] <= f.to_chainage + radius
            ]
            rng = _range_text(f.from_chainage, f.to_chainage, line.prefix)
            if risks:
                listed = "、".join(str(i) for i in risks)
                zh_reg, en_reg = (
                    f"已登记为隐患 {listed}",
                    f"registered as risk {', '.join(map(str, risks))}",
                )
            else:
                zh_reg, en_reg = "尚未登记为隐患", "not in the register as a risk"
            out.append(
                Finding(
                    "fence_damaged",
                    line_id,
                    f.from_chainage,
                    f.to_chainage,
                    f"{zh_side}护网 {f.id} 破损 {meters:,.0f} 米（{rng}），{zh_reg}",
                    f"{en_side} fence {f.id} is damaged for {meters:,.0f} m ({rng}); {en_reg}",
                    {"fence": f.id, "side": side, "length_m": round(meters, 1), "risks": risks},
                    f.geometry
                    if f.geometry is not None
                    else _offset_stretch(net, li, float(m0), float(m1), side),
                    line.prefix,
                )
            )
    return out


def _offset_stretch(net: Network, li: int, a: float, b: float, side: str) -> BaseGeometry:
    """The stretch from measure a to b, drawn where the fence would be on ``side``."""
    centre = _stretch(net, li, a, b)
    if centre.geom_type != "LineString" or centre.length == 0:
        return centre
    distance = net.settings.default_half_width_m + 1.5
    return shapely.offset_curve(centre, distance if side == "left" else -distance)


# --------------------------------------------------------------------------- segments, breaks


def _patrol_findings(net: Network) -> list[Finding]:
    out = []
    for k, s in enumerate(net.segments):
        if s.patrol_per_week is not None:
            continue
        li = net.line_index(s.line)
        prefix = net.lines[li].prefix
        rng = _range_text(s.from_chainage, s.to_chainage, prefix)
        m0, m1 = net.segment_measures(k)
        out.append(
            Finding(
                "patrol_missing",
                s.line,
                s.from_chainage,
                s.to_chainage,
                f"区段 {s.id}（{rng}，{s.work_area}）未定巡线频次",
                f"segment {s.id} ({rng}, {s.work_area}) has no patrol frequency",
                {"segment": s.id},
                _stretch(net, li, m0, m1),
                prefix,
            )
        )
    return out


def _chain_break_findings(net: Network, residual: float) -> list[Finding]:
    """Chain breaks whose stored point is farther than ``residual`` from the calibration's."""
    out = []
    for line in net.lines:
        breaks = sorted(
            (b for b in net.chain_breaks if b.line == line.id), key=lambda b: min(b.back, b.ahead)
        )
        if not breaks:
            continue
        li = net.line_index(line.id)
        measures = net.calibration(line.id).break_measures()
        x, y = net.index.place(np.full(len(breaks), li), measures, np.zeros(len(breaks)))
        for b, m, px, py in zip(breaks, measures, x, y, strict=True):
            if b.geometry is None:
                continue
            d = float(np.hypot(b.geometry.x - px, b.geometry.y - py))
            if d <= residual:
                continue
            back = format_chainage(b.back, prefix=line.prefix)
            ahead = format_chainage(b.ahead, prefix=line.prefix)
            out.append(
                Finding(
                    "chain_break_position",
                    line.id,
                    b.back,
                    b.back,
                    f"断链 {back}={ahead} 的位置距按公里标推算的位置 {d:,.0f} 米",
                    f"chain break {back}={ahead} lies {d:,.0f} m from where the kilometre "
                    "posts put it",
                    {"distance_m": round(d, 1), "calibrated_measure_m": round(float(m), 1)},
                    b.geometry,
                    line.prefix,
                )
            )
    return out


# --------------------------------------------------------------------------- risks


def _stale_findings(
    reg: Register, net: Network, rows: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """Open risks whose stored location or parties differ from the current network.

    The same comparison as :meth:`Register.stale_assignments`, on the risk rows
    already read (so that a large register is read once)."""
    from linerisk.errors_zh import translate_error
    from linerisk.register import OPEN_STATUSES

    open_rows = [r for r in rows if r["status"] in OPEN_STATUSES]
    stale = reg._changes(open_rows, net)
    if not stale:
        return []
    by_id = {r["id"]: r for r in open_rows if r["id"] in stale}
    prefixes = {ln.id: ln.prefix for ln in net.lines}
    out = []
    for rid, change in sorted(stale.items()):
        row = by_id[rid]
        label = f"{rid}（{row['ref']}）" if row.get("ref") else f"{rid} "
        label_en = f"{rid}" + (f" ({row['ref']})" if row.get("ref") else "")
        where = shapely.points(row["x"], row["y"])
        prefix = prefixes.get(row["line"], "K")
        if isinstance(change, str):
            out.append(
                Finding(
                    "stale_risk",
                    row["line"],
                    row["chainage_m"],
                    row["chainage_m"],
                    f"隐患 {label}按现有线网已无法定位：{translate_error(change, 'zh')}",
                    f"risk {label_en} can no longer be placed: {change}",
                    {"risk": rid, "problem": change},
                    where,
                    prefix,
                )
            )
            continue
        shown = [k for k in _SHOWN if k in change] or list(change)
        zh = "；".join(
            f"{_COLUMN_ZH.get(k, k)}：{_v(change[k][0], '无')} → {_v(change[k][1], '无')}"
            for k in shown
        )
        en = "; ".join(
            f"{k}: {_v(change[k][0], 'none')} → {_v(change[k][1], 'none')}" for k in shown
        )
        out.append(
            Finding(
                "stale_risk",
                row["line"],
                row["chainage_m"],
                row["chainage_m"],
                f"隐患 {label}的登记与现行线网不符（{zh}）",
                f"risk {label_en} is stored with parties the current network no longer gives "
                f"({en})",
                {
                    "risk": rid,
                    "changes": {k: {"stored": v[0], "now": v[1]} for k, v in change.items()},
                },
                where,
                prefix,
            )
        )
    return out


def _v(value: Any, none: str) -> str:
    if value is None or value == "":
        return none
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
