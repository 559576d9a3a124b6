"""Export a layer of the register, or a filtered list of risks, to a file.

    >>> from linerisk.io.export import export_layer
    >>> export_layer(reg, "risks", "open.xlsx", filters={"status": "open"})  # doctest: +SKIP

Formats: GeoJSON (WGS 84, as RFC 7946 asks), GeoPackage and Shapefile (the
register's CRS unless ``crs``), CSV and XLSX (no geometry column: points as
``lon``/``lat`` in WGS 84, other shapes as ``wkt`` in WGS 84). Risks keep their
chainage and the parties of the three verticals as columns. Under ``lang="zh"``
CSV and XLSX carry Chinese headers and labels, laid out like a station's
register; GeoJSON, GeoPackage and Shapefile always use the English column
names (Shapefile: the short names of :data:`linerisk.io.mapping.SHORT_NAMES`).
What an export writes can be imported again with :mod:`linerisk.io.importing`.

Files are written beside the target and moved into place, so a failed export
leaves no half-written file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from linerisk.convert import as_tuple
from linerisk.errors import LineriskError
from linerisk.io.mapping import KINDS, SHORT_NAMES, ZH_HEADERS
from linerisk.io.report import Message

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from linerisk.model import Risk
    from linerisk.register import Register

__all__ = ["EXPORT_FORMATS", "RISK_COLUMNS", "ExportReport", "export_layer", "format_of"]

#: format → file suffix
EXPORT_FORMATS: dict[str, str] = {
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "shp": ".shp",
    "csv": ".csv",
    "xlsx": ".xlsx",
}

#: columns of an exported risk list, in the order of a station's register
RISK_COLUMNS = (
    "id",
    "ref",
    "line",
    "chainage",
    "side",
    "offset_m",
    "category",
    "severity",
    "description",
    "found_at",
    "found_by",
    "police",
    "works_section",
    "workshop",
    "work_area",
    "district",
    "street_office",
    "community",
    "lead_vertical",
    "lead_party",
    "deadline",
    "overdue",
    "status",
    "rectified_at",
    "cleared_at",
    "reason",
    "note",
    "chainage_m",
    "zone",
    "zone_width_m",
    "zone_distance_m",
    "area_class",
    "uncovered",
    "located_by",
    "lon",
    "lat",
)

_TIME_COLUMNS = ("found_at", "deadline", "rectified_at", "cleared_at")
_POINT_LAYERS = ("kmposts", "chain_breaks", "risks")
_GEOMETRY_TYPE = {
    "lines": "LineString",
    "kmposts": "Point",
    "chain_breaks": "Point",
    "segments": "MultiLineString",
    "police_areas": "MultiPolygon",
    "neighbourhoods": "MultiPolygon",
    "fences": "MultiLineString",
    "risks": "Point",
}
#: worksheet names (a sheet name cannot hold "/")
_SHEET_ZH = {
    "lines": "线路",
    "kmposts": "公里标",
    "chain_breaks": "断链",
    "segments": "区段",
    "police_areas": "派出所辖区",
    "neighbourhoods": "社区村",
    "fences": "护网",
    "risks": "隐患台账",
}


class ExportError(LineriskError, ValueError):
    """An export that cannot be written; the message says why."""


@attrs.frozen
class ExportReport:
    """What :func:`export_layer` wrote."""

    kind: str
    path: str
    format: str
    count: int
    columns: tuple[str, ...] = attrs.field(converter=as_tuple)
    messages: tuple[Message, ...] = attrs.field(default=(), converter=as_tuple)

    def summary(self, lang: str = "en") -> str:
        if lang == "zh":
            from linerisk.io.report import KIND_ZH as names

            return f"已导出{names[self.kind]} {self.count} 条到 {self.path}"
        return f"exported {self.count} {self.kind} to {self.path}"


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else from the file suffix (``.zip`` is a
    zipped Shapefile)."""
    if fmt is not None:
        if fmt not in EXPORT_FORMATS:
            raise ExportError(
                f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
            )
        return fmt
    suffix = Path(path).suffix.lower()
    for name, ext in EXPORT_FORMATS.items():
        if suffix == ext:
            return name
    if suffix == ".json":
        return "geojson"
    if suffix == ".zip":
        return "shp"
    raise ExportError(
        f"cannot tell the format of {Path(path).name} from its suffix; give one of "
        + ", ".join(EXPORT_FORMATS)
    )


# ----------------------------------------------------------------------------- records


def _history_facts(register: Register, ids: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    """(risk id → time of its last submission for re-inspection, risk id → withdraw
    reason), read from the event log in one pass."""
    submitted: dict[int, str] = {}
    reasons: dict[int, str] = {}
    # the exported risks' events through the log's index (a station's export from a
    # national register), or the whole log once for a large share of it
    some = ids if len(ids) <= _EVENTS_BY_ID else None
    for ev in register.store.history_rows(some):
        rid = ev["risk_id"]
        if rid not in ids:
            continue
        if ev["action"] == "submit":
            submitted[rid] = ev["at"]
        elif ev["action"] in ("reopen", "rework"):
            submitted.pop(rid, None)
        elif ev["action"] == "withdraw":
            reasons[rid] = ev["reason"]
    return submitted, reasons


#: up to this many exported risks have their events read by id
_EVENTS_BY_ID = 100_000


def risk_export_records(
    register: Register, risks: Sequence[Risk], on: dt.datetime
) -> list[dict[str, Any]]:
    """Flat records of risks with the export columns (keys, not labels)."""
    import numpy as np

    from linerisk.crs import transform_xy
    from linerisk.register import risk_record

    submitted, reasons = _history_facts(register, {r.id for r in risks})
    out = []
    if not risks:
        return out
    lon, lat = transform_xy(
        np.array([r.location.x for r in risks]),
        np.array([r.location.y for r in risks]),
        register.crs,
        "EPSG:4326",
    )
    for r, a, b in zip(risks, lon.tolist(), lat.tolist(), strict=True):
        rec = risk_record(r, on=on)
        rec["rectified_at"] = submitted.get(r.id)
        rec["reason"] = reasons.get(r.id)
        rec["lon"] = round(a, 7)
        rec["lat"] = round(b, 7)
        rec["uncovered"] = ",".join(rec["uncovered"]) or None
        out.append({c: rec.get(c) for c in RISK_COLUMNS})
    return out


def _labelled(kind: str, records: list[dict[str, Any]], register: Register) -> list[dict]:
    """Values as Chinese labels (for CSV and XLSX under ``lang="zh"``)."""
    from linerisk.lifecycle import WITHDRAW_REASONS
    from linerisk.model import AreaClass, Band, FenceCondition, Severity, Side, Status, Vertical

    catalog = register.settings.categories
    enums = {
        "severity": Severity,
        "status": Status,
        "side": Side,
        "zone": Band,
        "lead_vertical": Vertical,
        "area_class": AreaClass,
        "condition": FenceCondition,
    }
    out = []
    for rec in records:
        rec = dict(rec)
        for col, enum in enums.items():
            if rec.get(col):
                rec[col] = enum(rec[col]).label("zh")
        if kind == "risks":
            if rec["category"] in catalog:
                rec["category"] = catalog.get(rec["category"]).zh
            rec["overdue"] = "是" if rec["overdue"] else ""
            if rec["reason"]:
                rec["reason"] = WITHDRAW_REASONS[rec["reason"]][0]
            if rec["uncovered"]:
                rec["uncovered"] = "、".join(
                    Vertical(v).label("zh") for v in rec["uncovered"].split(",")
                )
            rec["located_by"] = {"chainage": "里程", "coordinates": "坐标"}.get(
                rec["located_by"], rec["located_by"]
            )
        out.append(rec)
    return out


def _layer_records(register: Register, kind: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    rows, geoms = register.store.read_layer(kind)
    for r in rows:
        if "high_speed" in r:
            r["high_speed"] = bool(r["high_speed"])
    return rows, geoms


# ----------------------------------------------------------------------------- entry


def export_layer(
    register: Register,
    kind: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    lang: str = "en",
    crs: str | None = None,
    filters: Mapping[str, Any] | None = None,
    risks: Sequence[Risk] | None = None,
    on: dt.datetime | dt.date | str | None = None,
) -> ExportReport:
    """Write the layer ``kind`` (or the risks matching ``filters``, the keywords of
    :meth:`Register.risks <linerisk.register.Register.risks>`, or the given
    ``risks``) to ``path``.

    ``on`` is the day the ``overdue`` column is taken at (default now); ``crs``
    the CRS of a GeoPackage or Shapefile (default the register's) or of GeoJSON
    (default WGS 84).
    """
    import numpy as np
    import shapely

    if kind not in KINDS:
        raise ExportError(f"unknown layer {kind!r}; choose one of {', '.join(KINDS)}")
    if kind != "risks" and (filters or risks is not None):
        raise ExportError("risk filters apply only to the risks layer")
    fmt = format_of(path, fmt)
    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist")
    notes: list[Message] = []
    if kind == "risks":
        on_dt = (
            register.end_of_day(on) if on is not None else dt.datetime.now(register.settings.tzinfo)
        )
        if risks is None:
            risks = register.risks(**dict(filters or {}))
        records = risk_export_records(register, risks, on_dt)
        geoms = (
            shapely.points([r.location.x for r in risks], [r.location.y for r in risks])
            if risks
            else np.empty(0, dtype=object)
        )
        columns = list(RISK_COLUMNS)
    else:
        records, geoms = _layer_records(register, kind)
        from linerisk.store.schema import LAYERS

        columns = list(LAYERS[kind].column_names)
    geoms = np.asarray(geoms, dtype=object)
    if fmt in ("csv", "xlsx"):
        records, columns = _with_wgs84_columns(kind, records, columns, geoms, register.crs)
        if lang == "zh":
            records = _labelled(kind, records, register)
        if fmt == "csv":
            _write_csv(path, kind, records, columns, lang, register)
        else:
            _write_xlsx(path, kind, records, columns, lang, register)
    else:
        target = crs or ("EPSG:4326" if fmt == "geojson" else register.crs)
        if target != register.crs:
            from linerisk.crs import transform_geometries

            geoms = transform_geometries(geoms, register.crs, target)
        if fmt == "shp":
            records, columns, cut = _shapefile_records(records, columns)
            if cut:
                notes.append(
                    Message(
                        f"{cut} text values were cut to the Shapefile limit of 254 bytes",
                        f"{cut} 个文字值超过 Shapefile 的 254 字节上限，已截断",
                    )
                )
        _write_vector(path, fmt, kind, records, columns, geoms, target)
    return ExportReport(kind, str(path), fmt, len(records), columns, notes)


# ----------------------------------------------------------------------------- writers


def _with_wgs84_columns(
    kind: str,
    records: list[dict[str, Any]],
    columns: list[str],
    geoms: np.ndarray,
    crs: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Records with the geometry as lon/lat (points) or WKT (other shapes) in WGS 84."""
    import shapely

    from linerisk.crs import transform_geometries

    if kind == "risks":
        return records, columns
    wgs = transform_geometries(geoms, crs, "EPSG:4326") if len(geoms) else geoms
    out = []
    if kind in _POINT_LAYERS:
        for rec, g in zip(records, wgs, strict=True):
            rec = dict(rec)
            rec["lon"] = round(g.x, 7) if g is not None else None
            rec["lat"] = round(g.y, 7) if g is not None else None
            out.append(rec)
        return out, [*columns, "lon", "lat"]
    for rec, g in zip(records, wgs, strict=True):
        rec = dict(rec)
        rec["wkt"] = shapely.to_wkt(g, rounding_precision=7) if g is not None else None
        out.append(rec)
    return out, [*columns, "wkt"]


def _header(column: str, lang: str) -> str:
    return ZH_HEADERS.get(column, column) if lang == "zh" else column


def _local(text: str | None, register: Register) -> dt.datetime | None:
    """An ISO time as a naive datetime in the register's time zone (for a sheet)."""
    if not text:
        return None
    when = dt.datetime.fromisoformat(text).astimezone(register.settings.tzinfo)
    return when.replace(tzinfo=None)


def _write_csv(
    path: Path,
    kind: str,
    records: list[dict[str, Any]],
    columns: list[str],
    lang: str,
    register: Register,
) -> None:
    import csv

    def cell(col: str, value: Any) -> Any:
        if value is None:
            return ""
        if lang == "zh" and col in _TIME_COLUMNS:
            return _local(value, register).isoformat(sep=" ")
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([_header(c, lang) for c in columns])
            for rec in records:
                writer.writerow([cell(c, rec.get(c)) for c in columns])

    _atomic(path, write)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_xlsx(
    path: Path,
    kind: str,
    records: list[dict[str, Any]],
    columns: list[str],
    lang: str,
    register: Register,
) -> None:
    try:
        import openpyxl
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter
    except ImportError:  # pragma: no cover - an optional dependency
        raise ExportError("writing .xlsx needs openpyxl: pip install 'linerisk[xlsx]'") from None

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = _SHEET_ZH[kind] if lang == "zh" else kind
    first = 1
    if kind == "risks":
        today = dt.datetime.now(register.settings.tzinfo).date().isoformat()
        name = Path(str(getattr(register.store, "path", "register"))).stem
        title = (
            f"铁路沿线隐患台账（{name}，导出于 {today}）"
            if lang == "zh"
            else f"Risk register ({name}, exported {today})"
        )
        ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
        first = 2
    fill = PatternFill("solid", fgColor="DDEBF7")
    widths = []
    for j, col in enumerate(columns, start=1):
        head = _header(col, lang)
        c = ws.cell(row=first, column=j, value=head)
        c.font = Font(bold=True)
        c.fill = fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        widths.append(_display_width(head))
    for i, rec in enumerate(records, start=first + 1):
        for j, col in enumerate(columns, start=1):
            value = rec.get(col)
            if col in _TIME_COLUMNS and value:
                value = _local(value, register)
            c = ws.cell(row=i, column=j, value=value)
            if isinstance(value, dt.datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
                width = 16
            else:
                width = _display_width(str(value)) if value is not None else 0
            widths[j - 1] = max(widths[j - 1], min(width, 40))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w + 2
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    if records:
        ws.auto_filter.ref = f"A{first}:{get_column_letter(len(columns))}{first + len(records)}"
    _atomic(path, lambda tmp: wb.save(tmp))


def _shapefile_records(
    records: list[dict[str, Any]], columns: list[str]
) -> tuple[list[dict[str, Any]], list[str], int]:
    """Records under the short column names, text cut to 254 bytes (whole characters)."""
    short = [SHORT_NAMES.get(c, c) for c in columns]
    cut = 0
    out = []
    for rec in records:
        new = {}
        for c, s in zip(columns, short, strict=True):
            v = rec.get(c)
            if isinstance(v, str) and len(v.encode("utf-8")) > 254:
                v = v.encode("utf-8")[:254].decode("utf-8", errors="ignore")
                cut += 1
            new[s] = v
        out.append(new)
    return out, short, cut


def _field_array(values: list[Any], fmt: str) -> np.ndarray:
    import numpy as np

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        if len(present) < len(values):
            return np.array([np.nan if v is None else int(v) for v in values], dtype=float)
        return np.array(values, dtype=np.int64 if fmt == "shp" else bool)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if len(present) == len(values):
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.array([None if v is None else str(v) for v in values], dtype=object)


def _write_vector(
    path: Path,
    fmt: str,
    kind: str,
    records: list[dict[str, Any]],
    columns: list[str],
    geoms: np.ndarray,
    crs: str,
) -> None:
    import numpy as np
    import pyogrio.raw
    import shapely

    gtype = _GEOMETRY_TYPE[kind]
    if gtype.startswith("Multi"):
        geoms = np.array(
            [
                shapely.multipolygons([g])
                if g is not None and g.geom_type == "Polygon"
                else shapely.multilinestrings([g])
                if g is not None and g.geom_type == "LineString"
                else g
                for g in geoms
            ],
            dtype=object,
        )
    wkb = shapely.to_wkb(geoms, output_dimension=2) if len(geoms) else np.empty(0, dtype=object)
    data = [_field_array([r.get(c) for r in records], fmt) for c in columns]
    driver = {"geojson": "GeoJSON", "gpkg": "GPKG", "shp": "ESRI Shapefile"}[fmt]
    options: dict[str, Any] = {}
    if fmt == "geojson" and crs == "EPSG:4326":
        options["layer_options"] = {"RFC7946": "YES"}
    zipped = fmt == "shp" and path.suffix.lower() == ".zip"
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".linerisk-export-") as tmpdir:
        stem = path.stem if not zipped else Path(path.stem).stem
        out = Path(tmpdir) / (stem + EXPORT_FORMATS[fmt])
        try:
            pyogrio.raw.write(
                str(out),
                wkb,
                data,
                columns,
                layer=kind if fmt == "gpkg" else stem,
                driver=driver,
                geometry_type=gtype,
                crs=crs,
                encoding="UTF-8" if fmt == "shp" else None,
                **options,
            )
        except Exception as exc:  # pyogrio raises several kinds from GDAL
            raise ExportError(f"cannot write {path.name}: {exc}") from None
        if zipped:
            tmpzip = Path(tmpdir) / "out.zip"
            with zipfile.ZipFile(tmpzip, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(Path(tmpdir).glob(stem + ".*")):
                    zf.write(part, part.name)
            tmpzip.replace(path)
        elif fmt == "shp":
            for old in path.parent.glob(path.stem + ".*"):
                if old.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"):
                    old.unlink()
            for part in Path(tmpdir).glob(stem + ".*"):
                shutil.move(str(part), path.parent / (path.stem + part.suffix))
        else:
            out.replace(path)


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        write(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path.name}: {exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
