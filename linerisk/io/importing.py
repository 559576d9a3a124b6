"""Import a file into one layer of a register: network layers and risks.

    >>> from linerisk.io.importing import import_layer
    >>> report = import_layer(reg, "risks", "register.xlsx", by="王磊")  # doctest: +SKIP
    >>> print(report.summary())                                       # doctest: +SKIP
    imported: risks, 30 read, 25 added, 0 updated, 0 unchanged, 0 removed, 5 rejected

Any file GDAL reads (GeoJSON, GeoPackage, Shapefile, a zipped Shapefile, KML,
...) and workbooks and CSV files (see :mod:`linerisk.io.spreadsheet`). Columns
are matched to fields by :mod:`linerisk.io.mapping`. Coordinates are taken in
the file's CRS, or in ``crs`` (which may be ``gcj02`` or ``bd09``: phone map
coordinates, converted to WGS 84 first), and refused when they cannot be right:
projected numbers without a CRS, longitude and latitude swapped, or a layer far
from every line of the register. Everything is written in one transaction, or
nothing is.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import shapely

from linerisk.bulk import collector_paused
from linerisk.crs import WGS84
from linerisk.errors import LineriskError
from linerisk.io.layers import LAYER_KINDS, LayerError, read_fields, records_of
from linerisk.io.mapping import FIELDS, KINDS, FieldMapping, MappingError, resolve_columns
from linerisk.io.report import ImportReport, Message, Reject
from linerisk.io.spreadsheet import TABLE_SUFFIXES, read_table
from linerisk.store.schema import GEOMETRY_TYPES

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.io.spreadsheet import ParsedRisks
    from linerisk.network import Network
    from linerisk.register import Register

__all__ = ["MODES", "ImportReport", "import_layer", "read_source"]

MODES = ("append", "replace", "upsert")

#: the fields that identify a feature of each network layer (for upsert and append)
DEFAULT_KEYS: dict[str, tuple[str, ...]] = {
    "lines": ("id",),
    "kmposts": ("line", "chainage"),
    "chain_breaks": ("line", "back"),
    "segments": ("id",),
    "police_areas": ("id",),
    "neighbourhoods": ("id",),
    "fences": ("id",),
}


#: spellings of the phone-map coordinate systems accepted as ``crs``
PHONE_CRS = {"gcj02": "GCJ-02", "gcj-02": "GCJ-02", "bd09": "BD-09", "bd-09": "BD-09"}

_FILE_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".gml", ".fgb", ".gpx")


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run, so that it rolls back."""


# ----------------------------------------------------------------------------- reading


@attrs.frozen(eq=False)
class Source:
    """Rows of one file, before any mapping: columns as in the file.

    ``labels`` name each row for the user (spreadsheet row number or GDAL
    feature id); ``geometries`` is None for a table, whose coordinates sit in
    columns.
    """

    path: str
    name: str
    crs: str | None
    columns: tuple[str, ...]
    records: list[dict[str, Any]]
    labels: list[Any]
    geometries: np.ndarray | None
    sheet: str | None = None

    def __len__(self) -> int:
        return len(self.records)


def _pick_layer(path: str, name: str, layer: str | None, kind: str | None) -> str | None:
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise LayerError(f"cannot read {name}: {exc}") from None
    if layer is not None:
        if layer not in layers:
            raise LayerError(f"{name} has no layer {layer!r}; its layers are {', '.join(layers)}")
        return layer
    if len(layers) <= 1:
        return None
    if kind in layers:
        return kind
    raise LayerError(f"{name} has several layers ({', '.join(layers)}); choose one with --layer")


def _zip_member(path: Path, layer: str | None) -> str:
    """The /vsizip/ path of the dataset inside a zip file (a zipped Shapefile)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(_FILE_SUFFIXES)]
    except (OSError, zipfile.BadZipFile) as exc:
        raise LayerError(f"cannot read {path.name}: {exc}") from None
    if layer is not None:
        chosen = [m for m in members if Path(m).stem == layer]
        if chosen:
            members = chosen
    if not members:
        raise LayerError(f"{path.name} holds no file GDAL reads (.shp, .gpkg, .geojson, .kml)")
    if len(members) > 1:
        stems = ", ".join(Path(m).stem for m in members)
        raise LayerError(f"{path.name} has several layers ({stems}); choose one with --layer")
    return f"/vsizip/{path.resolve().as_posix()}/{members[0]}"


def read_source(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    kind: str | None = None,
) -> Source:
    """Read a file's rows: a workbook sheet or CSV file (``layer`` is the sheet), or
    any vector file through pyogrio (``layer`` chooses a layer of a GeoPackage; a
    ``.zip`` is opened through GDAL's /vsizip/)."""
    from pyogrio.errors import DataLayerError, DataSourceError

    path = Path(path)
    name = path.name
    if path.suffix.lower() in TABLE_SUFFIXES:
        table = read_table(path, sheet=layer, encoding=encoding)
        return Source(
            str(path),
            name,
            None,
            table.columns,
            table.records,
            list(table.rows),
            None,
            table.sheet,
        )
    if not path.exists():
        raise LayerError(f"cannot read {name}: no such file")
    if path.suffix.lower() == ".zip":
        gdal_path, chosen = _zip_member(path, layer), None
    else:
        gdal_path = str(path)
        chosen = _pick_layer(gdal_path, name, layer, kind)
    try:
        meta, fids, wkb, names, data = read_fields(
            gdal_path, layer=chosen, encoding=encoding, return_fids=True, datetime_as_string=True
        )
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise LayerError(f"cannot read {name}: {exc}") from None
    columns = tuple(names)
    n = len(fids)
    records = records_of(columns, data, n)
    if wkb is None:
        geoms = np.full(n, None, dtype=object)
    else:
        geoms = np.asarray(shapely.from_wkb(wkb), dtype=object)
    return Source(
        str(path), name, meta.get("crs"), columns, records, [int(f) for f in fids], geoms, chosen
    )


# ----------------------------------------------------------------------------- coordinates


def _float(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return float(str(value).strip()) if isinstance(value, str) else float(value)


def _table_geometries(
    source: Source, columns: Mapping[str, str]
) -> tuple[np.ndarray, dict[int, str]]:
    """Geometries of a table from its lon/lat, x/y or WKT columns; problems per row."""
    n = len(source)
    geoms = np.full(n, None, dtype=object)
    problems: dict[int, str] = {}
    pairs = [(a, b) for a, b in (("lon", "lat"), ("x", "y")) if a in columns and b in columns]
    pair = pairs[0] if pairs else None
    for i, record in enumerate(source.records):
        try:
            if pair is not None:
                x = _float(record.get(columns[pair[0]]))
                y = _float(record.get(columns[pair[1]]))
                if x is not None and y is not None:
                    geoms[i] = shapely.Point(x, y)
                elif (x is None) != (y is None):
                    raise ValueError
            elif "wkt" in columns:
                text = record.get(columns["wkt"])
                if text is not None and str(text).strip():
                    geoms[i] = shapely.from_wkt(str(text))
        except (ValueError, TypeError, shapely.errors.GEOSException):
            cols = " and ".join(columns[c] for c in pair) if pair else columns["wkt"]
            shown = (
                ", ".join(str(record.get(columns[c])) for c in pair)
                if pair
                else str(record.get(columns["wkt"]))[:40]
            )
            problems[i] = f"cannot read coordinates {shown!r} in {cols}"
    return geoms, problems


def _present(geoms: np.ndarray) -> np.ndarray:
    return np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)


def _lonlat_shape(x: np.ndarray, y: np.ndarray) -> str:
    """``lonlat``, ``swapped`` or ``projected``: what a set of coordinates looks like."""
    if np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
        return "lonlat"
    if np.all(np.abs(x) <= 90) and np.all(np.abs(y) <= 180):
        return "swapped"
    return "projected"


def _false_easting(crs: str) -> float | None:
    from pyproj import CRS

    op = CRS.from_user_input(crs).coordinate_operation
    if op is None:
        return None
    for p in op.params:
        if p.name == "False easting":
            return float(p.value)
    return None


class _Lines:
    """The register's lines, for distances from features to the nearest one:
    points through a :class:`~linerisk.referencing.LineIndex` (pieces of a few
    edges, so that a million points take seconds), other shapes through an
    STRtree of whole lines. Built on first use; empty when there are no lines."""

    def __init__(self, register: Register) -> None:
        _rows, geoms = register.store.read_layer("lines")
        self.geoms = np.asarray(geoms, dtype=object)
        self._index: Any = None
        self._tree: shapely.STRtree | None = None

    def distances(self, geoms: np.ndarray) -> np.ndarray | None:
        """Distance from each geometry to the nearest line (None: no lines)."""
        if not len(self.geoms):
            return None
        geoms = np.asarray(geoms, dtype=object)
        if len(geoms) and bool(np.all(shapely.get_type_id(geoms) == 0)):  # points
            from linerisk.referencing import LineIndex

            if self._index is None:
                self._index = LineIndex(self.geoms)
            return self._index.locate(shapely.get_x(geoms), shapely.get_y(geoms)).distance
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        (src, _hit), dist = self._tree.query_nearest(geoms, return_distance=True)
        out = np.full(len(geoms), np.inf)
        np.minimum.at(out, src, dist)
        return out


def suggest_crs(x: np.ndarray, y: np.ndarray, register: Register) -> str | None:
    """The CRS that best explains projected coordinates: by the zone number in the
    eastings, and by which candidate puts them on the register's lines."""
    from linerisk.crs import transform_xy

    step = max(1, len(x) // 200)
    x, y = np.asarray(x, float)[::step], np.asarray(y, float)[::step]
    mid = float(np.median(x))
    candidates: list[str] = []
    if mid >= 1e7:
        zone = int(mid // 1e6)
        if 25 <= zone <= 45:
            candidates.append(f"EPSG:{4513 + zone - 25}")
        elif 13 <= zone <= 23:
            candidates.append(f"EPSG:{4491 + zone - 13}")
    else:
        candidates.append(register.crs)
        candidates += _projections_near_lines(register)
    best, best_d = None, np.inf
    lines = _Lines(register)
    for cand in candidates:
        try:
            px, py = transform_xy(x, y, cand, register.crs)
        except Exception:  # pyproj errors for a point outside a projection's domain
            continue
        if not np.all(np.isfinite(px)):
            continue
        d = lines.distances(shapely.points(px, py))
        if d is None:
            return candidates[0] if mid >= 1e7 else (register.crs if mid < 1e6 else None)
        med = float(np.median(d))
        if med < best_d:
            best, best_d = cand, med
    if best is not None and best_d <= register.settings.max_distance_m:
        return best
    return None


def _projections_near_lines(register: Register) -> list[str]:
    """Metric CRSs without a zone number that surveyors use where the register's lines
    are: the CGCS2000 3-degree and 6-degree Gauss-Krüger zones and WGS 84 UTM."""
    from linerisk.crs import choose_metric_crs, transform_xy

    rows, geoms = register.store.read_layer("lines")
    if not rows:
        return []
    centre = shapely.centroid(shapely.union_all(geoms).envelope)
    lon, lat = (float(v[0]) for v in transform_xy([centre.x], [centre.y], register.crs, WGS84))
    six = 6 * int(lon // 6) + 3
    out = [choose_metric_crs(lon, lat)]
    if 75 <= six <= 135:
        out.append(f"EPSG:{4502 + (six - 75) // 6}")
    out.append(f"EPSG:{(32600 if lat >= 0 else 32700) + int((lon + 180) // 6) + 1}")
    return out


def _reproject(
    geoms: np.ndarray,
    source: Source,
    crs: str | None,
    register: Register,
    kind: str,
) -> tuple[np.ndarray, list[Message]]:
    """Geometries in the register's CRS, after checking that the coordinates can be right."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from linerisk.crs import transform_geometries

    notes: list[Message] = []
    name = source.name
    present = _present(geoms)
    if not present.any():
        return geoms, notes
    coords = shapely.get_coordinates(geoms[present])
    x, y = coords[:, 0], coords[:, 1]
    shape = _lonlat_shape(x, y)
    phone = PHONE_CRS.get(str(crs).lower()) if crs else None
    if phone:
        src = None
    elif crs:
        try:
            CRS.from_user_input(crs)
        except CRSError:
            raise LineriskError(f"unknown coordinate reference system {crs!r}") from None
        src = crs
        if source.crs and source.crs != crs:
            notes.append(
                Message(
                    f"the file says {source.crs}; its coordinates were read in {crs} as asked",
                    f"文件声明的坐标系为 {source.crs}；已按指定的 {crs} 读取",
                )
            )
    else:
        src = source.crs

    geographic = phone is not None or src is None or CRS.from_user_input(src).is_geographic
    if geographic and shape != "lonlat":
        if shape == "swapped":
            i = int(np.flatnonzero(np.abs(y) > 90)[0])
            fix = (
                "swap the columns with --map lon=... --map lat=..."
                if source.geometries is None
                else "write the file as longitude, latitude"
            )
            raise LineriskError(
                f"{name}: longitude and latitude look swapped (a point has longitude "
                f"{x[i]:g} and latitude {y[i]:g}); {fix}"
            )
        guess = suggest_crs(x, y, register)
        hint = f"--crs {guess}" if guess else "--crs with the data's projection, e.g. EPSG:4548"
        says = "" if src is None or phone else f" though the file says {src}"
        raise LineriskError(
            f"{name}: the coordinates look projected (metres), not longitude/latitude{says}; "
            f"give {hint}"
        )
    if phone is not None:
        from linerisk.gcj02 import bd09_to_wgs84, gcj02_to_wgs84

        convert = gcj02_to_wgs84 if phone == "GCJ-02" else bd09_to_wgs84

        def fn(c: np.ndarray) -> np.ndarray:
            lon, lat = convert(c[:, 0], c[:, 1])
            return np.column_stack([lon, lat])

        geoms = geoms.copy()
        geoms[present] = shapely.transform(geoms[present], fn)
        src = WGS84
        notes.append(
            Message(
                f"coordinates converted from {phone} (phone map apps) to WGS 84",
                f"坐标已由 {phone}（手机地图坐标）转换为 WGS 84",
            )
        )
    elif src is None:
        src = WGS84
        notes.append(
            Message(
                f"{name} has no coordinate system; its coordinates were read as WGS 84 "
                "longitude/latitude (if they were copied from a phone map app, import again "
                "with --crs gcj02)",
                f"{name} 未声明坐标系，坐标按 WGS 84 经纬度读取"
                "（若坐标取自手机地图，请加 --crs gcj02 重新导入）",
            )
        )
    elif not geographic:
        fe = _false_easting(src)
        mid = float(np.median(x))
        if fe is not None and ((fe >= 1e6 and mid < 1e6) or (fe < 1e6 and mid >= 1e7)):
            guess = suggest_crs(x, y, register)
            has = "carry a zone number" if mid >= 1e7 else "have no zone number"
            hint = f"; try --crs {guess}" if guess else ""
            raise LineriskError(
                f"{name}: the eastings {has} (e.g. {mid:,.0f}) but {src} expects "
                f"{'none' if fe < 1e6 else 'one'}{hint}"
            )
    out = geoms.copy()
    out[present] = transform_geometries(geoms[present], src, register.crs)
    if kind != "lines":
        _check_near_lines(out, present, source, register, kind, src)
    return out, notes


def _check_near_lines(
    geoms: np.ndarray,
    present: np.ndarray,
    source: Source,
    register: Register,
    kind: str,
    src: str,
) -> None:
    lines = _Lines(register)
    dist = lines.distances(geoms[present])
    if dist is None:
        return
    limit = register.settings.max_distance_m
    nearest = float(np.min(dist))
    if nearest > limit:
        raise LineriskError(
            f"{source.name} lies far from every line of the register: its nearest feature is "
            f"{nearest / 1000:,.1f} km from a line; check the coordinate system (--crs), and use "
            "--crs gcj02 for positions copied from a phone map app"
        )
    if kind in ("kmposts", "chain_breaks") and src == WGS84:
        typical = float(np.median(dist))
        if typical > 20:
            from linerisk.crs import transform_geometries
            from linerisk.gcj02 import gcj02_to_wgs84

            def fn(c: np.ndarray) -> np.ndarray:
                lon, lat = gcj02_to_wgs84(c[:, 0], c[:, 1])
                return np.column_stack([lon, lat])

            lonlat = transform_geometries(geoms[present], register.crs, WGS84)
            shifted = transform_geometries(shapely.transform(lonlat, fn), WGS84, register.crs)
            d2 = lines.distances(shifted)
            if d2 is not None and float(np.median(d2)) < typical / 5:
                raise LineriskError(
                    f"{source.name}: the points should lie on the line but are {typical:,.0f} m "
                    "from it; they look like GCJ-02 (phone map) coordinates: import with "
                    "--crs gcj02"
                )


# ----------------------------------------------------------------------------- geometry


def _label_list(labels: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _features(labels: Sequence[Any], one: str, many: str) -> str:
    """``feature 3 has`` or ``features 3, 5 have``."""
    if len(labels) == 1:
        return f"feature {labels[0]} {one}"
    return f"features {_label_list(labels)} {many}"


def _check_geometries(
    kind: str,
    geoms: np.ndarray,
    labels: Sequence[Any],
    name: str,
    repair: bool,
) -> tuple[np.ndarray, list[Message], list[Message]]:
    """Geometries fit for the layer: flattened to 2D, single parts unwrapped, invalid
    ones repaired (with ``repair``) or refused. Returns (geometries, repaired, notes)."""
    accepted = GEOMETRY_TYPES[kind]
    needs = LAYER_KINDS[kind][2]
    geoms = np.asarray(geoms, dtype=object).copy()
    present = _present(geoms)
    notes: list[Message] = []
    missing = [labels[i] for i in np.flatnonzero(~present)]
    if missing and needs:
        raise LayerError(
            f"{name}: {_features(missing, 'has', 'have')} no geometry (null or empty); "
            f"{kind} need one"
        )
    if missing:
        notes.append(
            Message(
                f"{len(missing)} features have no geometry ({_label_list(missing)}); theirs is "
                "cut from the line by chainage",
                f"{len(missing)} 个要素没有几何（{_label_list(missing)}），按里程从线路截取",
            )
        )
    idx = np.flatnonzero(present)
    if len(idx) and shapely.has_z(geoms[idx]).any():
        geoms[idx] = shapely.force_2d(geoms[idx])
        notes.append(Message("heights (Z) were dropped", "已舍弃高程（Z）"))
    wrong = []
    for i in idx:
        g = geoms[i]
        if g.geom_type.startswith("Multi") and g.geom_type not in accepted:
            parts = shapely.get_parts(g)
            if len(parts) == 1:
                g = parts[0]
            elif g.geom_type == "MultiLineString":
                merged = shapely.line_merge(g)
                if merged.geom_type == "LineString":
                    g = merged
        if g.geom_type not in accepted:
            wrong.append((labels[i], g.geom_type))
        geoms[i] = g
    if wrong:
        label, gtype = wrong[0]
        raise LayerError(
            f"{name}: feature {label} is a {gtype}; {kind} need a {' or '.join(accepted)}"
        )
    repaired: list[Message] = []
    invalid = idx[~shapely.is_valid(geoms[idx])] if len(idx) else idx
    if len(invalid) and not repair:
        reason = shapely.is_valid_reason(geoms[invalid[0]])
        bad = [labels[i] for i in invalid]
        raise LayerError(
            f"{name}: {_features(bad, 'has an invalid geometry', 'have invalid geometries')} "
            "(feature "
            f"{labels[invalid[0]]}: {reason}); use --repair to fix them with make_valid"
        )
    for i in invalid:
        before = geoms[i]
        reason = shapely.is_valid_reason(before)
        fixed = shapely.make_valid(before)
        if "Polygon" in accepted[0]:
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type == "Polygon"]
            fixed = shapely.MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else None)
            change = f"area {before.area:,.1f} → {fixed.area:,.1f} m²" if fixed is not None else ""
        else:
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type == accepted[0]]
            fixed = parts[0] if len(parts) == 1 else None
            change = ""
        if fixed is None or fixed.geom_type not in accepted:
            raise LayerError(
                f"{name}: feature {labels[i]} has an invalid geometry ({reason}) that "
                "make_valid cannot turn into a usable one; fix it in the file"
            )
        geoms[i] = fixed
        repaired.append(
            Message(
                f"feature {labels[i]}: {reason}; repaired as a {fixed.geom_type}"
                + (f", {change}" if change else ""),
                f"要素 {labels[i]}：{reason}；已修复为 {fixed.geom_type}"
                + (f"，{change.replace('area', '面积')}" if change else ""),
            )
        )
    return geoms, repaired, notes


# ----------------------------------------------------------------------------- entry


class _OpenRowsOfFile:
    """The open risks of one file taken so far, by category on a grid of cells
    as wide as the duplicate radius: the rows of a file are compared with each
    other as a new risk is compared with the register's open risks."""

    def __init__(self, radius: float) -> None:
        self._radius = float(radius)
        self._cell = max(self._radius, 1e-9)
        self._cells: dict[tuple[str, int, int], list[tuple[float, float, int, Any]]] = {}
        self._count = 0

    def _key(self, x: float, y: float) -> tuple[int, int]:
        return math.floor(x / self._cell), math.floor(y / self._cell)

    def near(self, category: str, x: float, y: float) -> tuple[Any, float] | None:
        """The label and distance of the nearest row taken within the radius (the
        earliest of equally near ones), or None."""
        cx, cy = self._key(x, y)
        best: tuple[float, int, Any] | None = None
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for px, py, k, label in self._cells.get((category, i, j), ()):
                    d = math.hypot(px - x, py - y)
                    if d <= self._radius and (best is None or (d, k) < best[:2]):
                        best = (d, k, label)
        return None if best is None else (best[2], best[0])

    def add(self, category: str, x: float, y: float, label: Any) -> None:
        self._cells.setdefault((category, *self._key(x, y)), []).append((x, y, self._count, label))
        self._count += 1


@collector_paused()
def import_layer(
    register: Register,
    kind: str,
    path: str | Path,
    *,
    layer: str | None = None,
    mapping: FieldMapping | None = None,
    mode: str = "append",
    key: str | Sequence[str] | None = None,
    crs: str | None = None,
    repair: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    encoding: str | None = None,
    allow_duplicates: bool = False,
    by: str | None = None,
    locate_by: str = "auto",
    strict: bool = False,
) -> ImportReport:
    """Import the file at ``path`` into the register's layer ``kind``.

    ``mode`` is ``append`` (add; a feature whose key is already there is an
    error, a risk whose ``ref`` is already there is rejected), ``replace``
    (the layer becomes the file; not for risks, which leave the register only
    by being cleared or withdrawn) or ``upsert`` (update the features whose
    key matches, add the others; ``key`` names the key fields, by default
    ``id`` or, for kilometre posts, line and chainage; risks match by
    ``ref``). Replacing or updating a network layer rebuilds the network; the
    risks keep the parties computed when they were registered, as the report
    says.

    Risks (see :func:`linerisk.io.spreadsheet.risk_rows`) are imported whole
    rows at a time: a row that cannot be parsed or placed, or that duplicates
    an open risk (unless ``allow_duplicates``), is listed in
    ``report.rejected`` and the others are imported; with ``strict`` any
    rejected row stops the import. ``by`` is the person importing: the actor
    of the events replayed to bring each risk to its status.

    ``dry_run`` does everything, in a transaction that is rolled back, and
    reports what would change.
    """
    if kind not in KINDS:
        raise MappingError(f"unknown layer {kind!r}; choose one of {', '.join(KINDS)}")
    if mode not in MODES:
        raise LineriskError(f"unknown import mode {mode!r}; choose one of {', '.join(MODES)}")
    if kind == "risks" and mode == "replace":
        raise LineriskError(
            "risks cannot be replaced: a risk leaves the register only by being cleared or "
            "withdrawn; use --mode append or upsert"
        )
    mapping = mapping or FieldMapping()
    source = read_source(path, layer=layer or mapping.sheet, encoding=encoding, kind=kind)
    columns = resolve_columns(kind, source.columns, mapping)
    row_problems: dict[int, str] = {}
    if source.geometries is None:
        geoms, row_problems = _table_geometries(source, columns)
        if row_problems and kind != "risks":
            i = min(row_problems)
            raise LayerError(f"{source.name}: row {source.labels[i]}: {row_problems[i]}")
    else:
        geoms = source.geometries
    geoms, crs_notes = _reproject(geoms, source, crs, register, kind)
    if kind == "risks":
        return _import_risks(
            register,
            source,
            geoms,
            columns,
            row_problems,
            mapping=mapping,
            mode=mode,
            key=key,
            dry_run=dry_run,
            progress=progress,
            allow_duplicates=allow_duplicates,
            by=by,
            locate_by=locate_by,
            strict=strict,
            notes=crs_notes,
        )
    return _import_network_layer(
        register,
        kind,
        source,
        geoms,
        columns,
        mapping=mapping,
        mode=mode,
        key=key,
        repair=repair,
        dry_run=dry_run,
        notes=crs_notes,
    )


# ----------------------------------------------------------------------------- network


def _same(a: Any, b: Any) -> bool:
    """Two features alike: equal fields, geometries within 5 cm of each other (a derived
    geometry, absent on one side, is not compared)."""
    if attrs.evolve(a, geometry=None) != attrs.evolve(b, geometry=None):
        return False
    if a.geometry is None or b.geometry is None:
        return True
    return bool(shapely.hausdorff_distance(a.geometry, b.geometry) < 0.05)


def _keys_of(kind: str, key: str | Sequence[str] | None) -> tuple[str, ...]:
    if key is None:
        return DEFAULT_KEYS[kind]
    names = tuple(k.strip() for k in key.split(",")) if isinstance(key, str) else tuple(key)
    for k in names:
        if k not in FIELDS[kind]:
            raise MappingError(
                f"unknown key field {k!r} for {kind}; its fields are {', '.join(FIELDS[kind])}"
            )
    return names


def _key_text(value: tuple) -> str:
    from linerisk.chainage import format_chainage

    return " ".join(
        format_chainage(v) if isinstance(v, float) else str(getattr(v, "value", v)) for v in value
    )


_TRUE = {"1", "true", "yes", "y", "t", "是", "高铁", "高速"}
_FALSE = {"0", "false", "no", "n", "f", "否", "普速", ""}


def _coerce(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """Table cells as the layer's converters expect them (text → bool and int)."""
    if kind == "lines":
        hs = record.get("high_speed")
        if isinstance(hs, str):
            text = hs.strip().lower()
            if text not in _TRUE | _FALSE:
                raise ValueError(f"high_speed must be yes or no, not {hs!r}")
            record["high_speed"] = text in _TRUE
        for name in ("design_speed_kmh", "tracks"):
            v = record.get(name)
            if isinstance(v, str | float) and str(v).strip():
                record[name] = int(float(v))
            elif isinstance(v, str):
                record[name] = None
    return record


def _import_network_layer(
    register: Register,
    kind: str,
    source: Source,
    geoms: np.ndarray,
    columns: Mapping[str, str],
    *,
    mapping: FieldMapping,
    mode: str,
    key: str | Sequence[str] | None,
    repair: bool,
    dry_run: bool,
    notes: list[Message],
) -> ImportReport:
    from linerisk.network import Network
    from linerisk.store.base import RiskQuery

    keys = _keys_of(kind, key)
    existing = None
    if register.store.read_layer("lines")[0]:
        existing = register.network
    elif kind != "lines":
        raise LineriskError("the register has no lines yet; import some first")
    id_col = columns.get("id")
    labels = [
        (r.get(id_col) if id_col and r.get(id_col) not in (None, "") else source.labels[i])
        for i, r in enumerate(source.records)
    ]
    geoms, repaired, geo_notes = _check_geometries(kind, geoms, labels, source.name, repair)
    notes = [*notes, *geo_notes]
    defaults = dict(mapping.defaults)
    if (
        "line" in FIELDS[kind]
        and "line" not in columns
        and "line" not in defaults
        and existing is not None
        and len(existing.lines) == 1
    ):
        defaults["line"] = existing.lines[0].id
        notes.append(
            Message(
                f"the file has no line column; every feature is taken to be on "
                f"{defaults['line']}, the register's only line",
                f"文件没有线路列；所有要素均按台账中唯一的线路 {defaults['line']} 处理",
            )
        )
    _stem, convert, _needs = LAYER_KINDS[kind]
    objects, problems = [], []
    for i, record in enumerate(source.records):
        fields = {f: record.get(c) for f, c in columns.items() if f in FIELDS[kind]}
        for f, v in defaults.items():
            if fields.get(f) in (None, ""):
                fields[f] = v
        fields = {f: v for f, v in fields.items() if v is not None}
        try:
            objects.append(convert(_coerce(kind, fields), geoms[i]))
        except KeyError as exc:
            problems.append(f"feature {labels[i]} has no field {exc.args[0]!r}")
        except (ValueError, TypeError) as exc:
            problems.append(f"feature {labels[i]}: {exc}")
    if problems:
        more = f" ({len(problems) - 1} more features have problems)" if len(problems) > 1 else ""
        raise LayerError(f"{source.name}: {problems[0]}{more}")

    def keyf(obj: Any) -> tuple:
        return tuple(getattr(obj, k) for k in keys)

    new_keys = [keyf(o) for o in objects]
    seen: set[tuple] = set()
    for k in new_keys:
        if k in seen:
            raise LayerError(f"{source.name}: {kind} {_key_text(k)} appears twice in the file")
        seen.add(k)
    old = list(getattr(existing, kind)) if existing is not None else []
    old_by_key = {keyf(o): o for o in old}
    added = updated = unchanged = removed = 0
    if mode == "append":
        clash = [k for k in new_keys if k in old_by_key]
        if clash:
            raise LayerError(
                f"{kind} {_key_text(clash[0])} already exists in the register; use --mode "
                "upsert or replace"
            )
        result = old + objects
        added = len(objects)
    else:
        new_by_key = dict(zip(new_keys, objects, strict=True))
        for k, o in new_by_key.items():
            if k not in old_by_key:
                added += 1
            elif _same(old_by_key[k], o):
                unchanged += 1
            else:
                updated += 1
        if mode == "replace":
            result = objects
            removed = sum(1 for k in old_by_key if k not in new_by_key)
        else:
            result = [new_by_key.get(keyf(o), o) for o in old]
            result += [o for k, o in new_by_key.items() if k not in old_by_key]
    layers: dict[str, Any] = {
        k: list(getattr(existing, k)) if existing is not None else [] for k in LAYER_KINDS
    }
    layers[kind] = result
    if kind == "lines" and existing is not None:
        gone = {o.id for o in old} - {o.id for o in result}
        for line_id in sorted(gone):
            n = len(register.store.find_risks(RiskQuery(line=line_id)))
            if n:
                raise LineriskError(
                    f"line {line_id} has {n} risks in the register and cannot be removed"
                )
    try:
        net = Network(crs=register.crs, settings=register.settings, **layers)
    except ValueError as exc:
        raise LayerError(f"{source.name}: {exc}") from None
    changed = added + updated + removed
    n_risks = register.store.count_risks()
    if changed and n_risks:
        notes.append(
            Message(
                f"the register's {n_risks} risks keep the chainage and parties computed with "
                "the network they were registered on; run 'linerisk check --fix' to "
                "recompute them",
                f"台账中 {n_risks} 个隐患的里程与责任单位仍按登记时的路网计算；"
                "可运行 'linerisk check --fix' 重新计算",
            )
        )
    if changed and not dry_run:
        register.import_network(net)
    return ImportReport(
        kind=kind,
        path=source.path,
        mode=mode,
        dry_run=dry_run,
        read=len(source),
        added=added,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
        repaired=repaired,
        messages=notes,
        columns=columns,
    )


# ----------------------------------------------------------------------------- risks


#: an import of at most this many rows reads only the network near them
NEAR_ROWS = 2000


def _rows_reach(
    records: Sequence[Mapping[str, Any]],
    points: np.ndarray,
    columns: Mapping[str, str],
    mapping: FieldMapping,
    lines: Sequence[tuple[str, str, str]],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The coordinates of the rows' points (register CRS) and the ids of the
    lines the rows name (or the register's only line), for network_near."""
    from linerisk.io.spreadsheet import line_lookup

    is_point = np.array([p is not None and shapely.get_type_id(p) == 0 for p in points], dtype=bool)
    xy = shapely.get_coordinates(points[is_point]) if is_point.any() else np.empty((0, 2))
    lookup = line_lookup(lines)
    column = columns.get("line")
    values = {mapping.defaults.get("line")}
    if column is not None:
        values.update(r.get(column) for r in records if isinstance(r.get(column), str | int))
    named = {lines[0][0]} if len(lines) == 1 else set()
    for value in values:
        if value is not None:
            key = str(value).strip()
            line_id = lookup.get(key) or lookup.get(key.lower())
            if line_id is not None:
                named.add(line_id)
    return xy[:, 0], xy[:, 1], sorted(named)


def _import_risks(
    register: Register,
    source: Source,
    geoms: np.ndarray,
    columns: Mapping[str, str],
    row_problems: Mapping[int, str],
    *,
    mapping: FieldMapping,
    mode: str,
    key: str | Sequence[str] | None,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
    allow_duplicates: bool,
    by: str | None,
    locate_by: str,
    strict: bool,
    notes: list[Message],
) -> ImportReport:
    from linerisk.io.spreadsheet import replay_events, risk_rows, status_path
    from linerisk.register import OPEN_STATUSES
    from linerisk.store.base import RiskQuery

    if key not in (None, "ref", ("ref",), ["ref"]):
        raise MappingError("risks are matched by ref; --key can only be ref")
    if not register.store.read_layer("lines")[0]:
        raise LineriskError("the register has no lines yet; import some first")
    by = str(by).strip() if by else None
    ref_col = columns.get("ref")
    labels = [
        (r.get(ref_col) if ref_col and r.get(ref_col) not in (None, "") else source.labels[i])
        for i, r in enumerate(source.records)
    ]
    if source.geometries is None:
        labels = list(source.labels)  # a table's rows are found by their row number
    keep = [i for i in range(len(source)) if i not in row_problems]
    rejects = [
        Reject(source.labels[i], row_problems[i], source.records[i]) for i in sorted(row_problems)
    ]
    geoms = np.asarray(geoms, dtype=object)
    present = _present(geoms)
    points = np.where(present, geoms, None)
    records = [source.records[i] for i in keep]
    kept_points = points[keep] if len(keep) else points[:0]

    def parse(network: Network, lines: list[tuple[str, str, str]] | None = None) -> ParsedRisks:
        return risk_rows(
            records,
            [labels[i] for i in keep],
            columns,
            network=network,
            settings=register.settings,
            points=kept_points,
            mapping=mapping,
            source={"file": source.name, "sheet": source.sheet},
            by=by,
            locate_by=locate_by,
            lines=lines,
        )

    parsed = None
    if len(records) <= NEAR_ROWS:
        # A file of a few hundred rows (the usual weekly one) needs only the
        # network around its points and along the lines it names; a row that
        # cannot be placed there is placed again on the whole network, which
        # says why (the nearest line of a point too far from every line, the
        # lines of the register for an unknown one).
        lines = [
            (r["id"], r["name_zh"], r["name_en"])
            for r in register.store.read_layer("lines", geometry=False)[0]
        ]
        x, y, named = _rows_reach(records, kept_points, columns, mapping, lines)
        parsed = parse(register.network_near(x, y, named), lines)
        if parsed.rejects:
            parsed = None
    if parsed is None:
        parsed = parse(register.network)
    rejects += parsed.rejects
    notes = [*notes, *parsed.notes]

    existing: dict[str, list[int]] = {}
    refs = tuple(dict.fromkeys(it.ref for it in parsed.items if it.ref))
    if refs:
        # the risks with the file's numbers only (a national register has a million)
        for row in register.store.find_risks(RiskQuery(refs=refs), columns=("ref",)):
            existing.setdefault(row["ref"], []).append(row["id"])
    new_items, updates = [], []
    first_row: dict[str, Any] = {}
    radius = register.settings.duplicate_radius_m
    taken = _OpenRowsOfFile(radius)
    for it in parsed.items:
        if it.ref:
            if it.ref in first_row:
                rejects.append(
                    Reject(
                        it.label,
                        f"ref {it.ref} appears twice in the file (first at {first_row[it.ref]})",
                        it.record,
                    )
                )
                continue
            first_row[it.ref] = it.label
            ids = existing.get(it.ref, [])
            if len(ids) > 1:
                rejects.append(
                    Reject(
                        it.label,
                        f"ref {it.ref} matches risks {', '.join(map(str, ids))}; cannot tell "
                        "which to update",
                        it.record,
                    )
                )
                continue
            if ids and mode == "append":
                rejects.append(
                    Reject(
                        it.label,
                        f"ref {it.ref} is already in the register (risk {ids[0]}); use --mode "
                        "upsert to update it",
                        it.record,
                    )
                )
                continue
            if ids:
                updates.append((it, ids[0]))
                continue
        if not allow_duplicates:
            near = register.store.risks_near(it.x, it.y, radius, it.row["category"], OPEN_STATUSES)
            if near:
                rid, d = near[0]
                old = register.get(rid)
                rejects.append(
                    Reject(
                        it.label,
                        f"open risk {rid} ({old.category}, {old.location.line} "
                        f"{old.location.chainage}) is {d:.0f} m away; use risk {rid} instead, "
                        "or register it anyway if this is a different hazard",
                        it.record,
                    )
                )
                continue
            if it.status in OPEN_STATUSES:
                twin = taken.near(it.row["category"], it.x, it.y)
                if twin is not None:
                    rejects.append(
                        Reject(
                            it.label,
                            f"the same {it.row['category']} as row {twin[0]} of this file, "
                            f"{twin[1]:.0f} m away; keep one of the two rows, or import both "
                            "with --allow-duplicates if they are different hazards",
                            it.record,
                        )
                    )
                    continue
                taken.add(it.row["category"], it.x, it.y, it.label)
        new_items.append(it)

    lang = register.settings.lang
    plans = []
    kept_fields: list[Any] = []
    for it, rid in updates:
        risk = register.get(rid)
        last = register.history(rid)[-1].at
        path = status_path(risk.status, it.status)
        if path is None:
            rejects.append(
                Reject(
                    it.label,
                    f"risk {rid} (ref {it.ref}) is {risk.status.value} and cannot become "
                    f"{it.status.value} by import",
                    it.record,
                )
            )
            continue
        moved = float(np.hypot(risk.location.x - it.x, risk.location.y - it.y)) > 0.5
        note = _note(source, it, lang)
        events = replay_events(it, risk.status, by=by or "", note=note, not_before=last)
        if (moved or events) and not by:
            problem = "every change needs the actor who made it (by)"
            rejects.append(Reject(it.label, problem, it.record))
            continue
        differs = [
            f
            for f, now, then in (
                ("category", risk.category, it.row["category"]),
                ("severity", risk.severity.value, it.row["severity"]),
                ("description", risk.description, it.row["description"]),
                ("found_by", risk.found_by, it.row["found_by"]),
            )
            if now != then
        ]
        if differs:
            kept_fields.append(it.ref)
        plans.append((it, rid, moved, events))
    rejects.sort(key=lambda r: (0, r.row, "") if isinstance(r.row, int) else (1, 0, str(r.row)))
    if strict and rejects:
        first = rejects[0]
        raise LineriskError(
            f"{len(rejects)} rows cannot be imported (first, row {first.row}: {first.problem}); "
            "nothing was imported"
        )
    if kept_fields:
        notes.append(
            Message(
                f"refs {_label_list(kept_fields)}: category, severity, description or finder "
                "differ from the register and were kept as registered (import updates location "
                "and status only)",
                f"原编号 {_label_list(kept_fields)}：类别、等级、描述或发现人与台账不同，"
                "按台账保留（导入只更新位置和状态）",
            )
        )

    rows = [it.row for it in new_items]
    histories = []
    reported = _reported()
    for it in new_items:
        if it.history is not None:
            histories.append(it.history)
        else:
            note = _note(source, it, lang)
            histories.append(replay_events(it, reported, by=by or "", note=note))
    updated = sum(1 for _it, _rid, moved, events in plans if moved or events)
    unchanged = len(plans) - updated
    ids: list[int] = []
    try:
        with register.transaction():
            if rows:
                from linerisk.network import Referenced

                # every row was placed once already, to reject those that cannot be
                placed = [it.placed for it in new_items if it.placed is not None]
                ids = register.add_risks(
                    rows,
                    allow_duplicates=allow_duplicates,
                    events=histories,
                    progress=progress,
                    referenced=Referenced.gather(placed) if len(placed) == len(rows) else None,
                )
            for it, rid, moved, events in plans:
                if moved:
                    where = (
                        {"x": it.row["x"], "y": it.row["y"], "crs": register.crs}
                        if "x" in it.row
                        else {k: it.row[k] for k in ("line", "chainage", "side", "offset")}
                    )
                    register.move(rid, by=by or "", note=_note(source, it, lang), **where)
                for ev in events:
                    register.transition(
                        rid,
                        ev["action"],
                        by=ev["by"],
                        at=ev["at"],
                        note=ev["note"],
                        reason=ev.get("reason"),
                    )
            if dry_run:
                raise _DryRun
    except _DryRun:
        ids = []
    return ImportReport(
        kind="risks",
        path=source.path,
        mode=mode,
        dry_run=dry_run,
        read=len(source),
        added=len(rows),
        updated=updated,
        unchanged=unchanged,
        rejected=rejects,
        messages=notes,
        columns=columns,
        ids=ids,
    )


def _reported():
    from linerisk.model import Status

    return Status.REPORTED


def _note(source: Source, item: Any, lang: str) -> str:
    where = f"{source.name}" + (f" [{source.sheet}]" if source.sheet else "")
    table = source.geometries is None
    if lang == "zh":
        row = f"第 {item.label} 行" if table else f"要素 {item.label}"
        return f"据原台账导入：{where} {row}"
    row = f"row {item.label}" if table else f"feature {item.label}"
    return f"imported from {where}, {row}"
