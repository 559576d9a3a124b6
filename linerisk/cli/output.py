"""Printing records as a table, JSON, CSV or GeoJSON.

JSON keys are the stable English column names; tables and CSV headers are
translated with ``--lang``. Tables align Chinese text by display width.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

import click

FORMATS = ("table", "json", "csv", "geojson")

#: column header labels (zh, en)
HEADERS: dict[str, tuple[str, str]] = {
    "id": ("编号", "id"),
    "ref": ("原编号", "ref"),
    "category": ("类别", "category"),
    "severity": ("等级", "severity"),
    "status": ("状态", "status"),
    "line": ("线路", "line"),
    "chainage": ("里程", "chainage"),
    "chainage_m": ("里程(米)", "chainage (m)"),
    "side": ("侧别", "side"),
    "offset_m": ("距中心(米)", "offset (m)"),
    "zone": ("距离带", "zone"),
    "zone_width_m": ("保护区宽(米)", "zone width (m)"),
    "zone_distance_m": ("距路基(米)", "from formation (m)"),
    "area_class": ("地区类别", "area class"),
    "works_section": ("工务段", "works section"),
    "workshop": ("车间", "workshop"),
    "work_area": ("工区", "work area"),
    "police": ("派出所", "police station"),
    "district": ("区县", "district"),
    "street_office": ("街道/镇", "street office"),
    "community": ("社区/村", "community"),
    "uncovered": ("未覆盖", "not covered"),
    "lead_vertical": ("牵头条线", "lead vertical"),
    "lead_party": ("牵头单位", "lead party"),
    "found_at": ("发现时间", "found at"),
    "found_by": ("发现人", "found by"),
    "deadline": ("整改期限", "deadline"),
    "overdue": ("超期", "overdue"),
    "cleared_at": ("销号时间", "cleared at"),
    "located_by": ("定位方式", "located by"),
    "description": ("描述", "description"),
    "note": ("备注", "note"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "segment": ("区段", "segment"),
    "from_chainage": ("起点里程", "from"),
    "to_chainage": ("终点里程", "to"),
    "patrol_per_week": ("巡线(次/周)", "patrols/week"),
    "old_per_week": ("原频次", "old/week"),
    "new_per_week": ("新频次", "new/week"),
    "current_per_week": ("现频次", "current/week"),
    "suggested_per_week": ("建议频次", "suggested/week"),
    "reason": ("原因", "reason"),
    "reasons": ("依据", "reasons"),
    "at": ("时间", "at"),
    "actor": ("操作人", "by"),
    "action": ("操作", "action"),
    "from_status": ("原状态", "from"),
    "to_status": ("新状态", "to"),
    "key": ("分组", "group"),
    "vertical": ("条线", "vertical"),
    "open": ("在办", "open"),
    "found": ("新发现", "found"),
    "cleared": ("已销号", "cleared"),
    "median_days_to_clear": ("销号中位天数", "median days to clear"),
    "open_risks": ("在办隐患", "open risks"),
    "overdue_risks": ("超期隐患", "overdue"),
    "damaged_fence_m": ("破损护网(米)", "damaged fence (m)"),
    "area": ("地区", "area"),
    "seq": ("序号", "seq"),
    "kind": ("类型", "kind"),
    "message": ("说明", "message"),
    "fixed": ("已修正", "fixed"),
}


def header(name: str, lang: str) -> str:
    zh, en = HEADERS.get(name, (name, name))
    return zh if lang == "zh" else en


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✔" if value else ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e6 else f"{value:.0f}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value).replace("\n", " ")


def render_table(records: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str) -> str:
    heads = [header(c, lang) for c in columns]
    cells = [[_cell(r.get(c)) for c in columns] for r in records]
    widths = [max([_width(h)] + [_width(row[i]) for row in cells]) for i, h in enumerate(heads)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True))

    out = [line(heads).rstrip(), "  ".join("-" * w for w in widths)]
    out += [line(row).rstrip() for row in cells]
    return "\n".join(out)


def render_csv(records: Sequence[Mapping[str, Any]], columns: Sequence[str], lang: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([header(c, lang) for c in columns])
    for r in records:
        writer.writerow(
            [
                ";".join(map(str, r.get(c))) if isinstance(r.get(c), list) else r.get(c)
                for c in columns
            ]
        )
    return buf.getvalue().rstrip("\n")


def _scalar(value: Any) -> str | None:
    """JSON text of a scalar as ``json.dumps`` writes it, or None for anything else."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    return None


def _field(value: Any) -> str | None:
    """A record's value as indented JSON at the depth of a record's field: a
    scalar, or a list of scalars; None for anything else."""
    if type(value) is not list:
        return _scalar(value)
    if not value:
        return "[]"
    items = [_scalar(v) for v in value]
    if any(i is None for i in items):
        return None
    return "[\n" + ",\n".join("      " + i for i in items) + "\n    ]"


def render_json(records: Sequence[Mapping[str, Any]]) -> str:
    """``json.dumps(records, ensure_ascii=False, indent=2, default=str)``, with flat
    records written directly: the general encoder's indenting is pure Python and
    costs half a second for a thousand risks."""
    if not records:
        return "[]"
    out = []
    for rec in records:
        fields = [(k, _field(v)) for k, v in rec.items()] if rec else None
        if fields and all(type(k) is str and v is not None for k, v in fields):
            body = ",\n".join(f"    {encode_basestring(k)}: {v}" for k, v in fields)
            out.append("  {\n" + body + "\n  }")
        else:
            text = json.dumps(rec, ensure_ascii=False, indent=2, default=str)
            out.append("\n".join("  " + line for line in text.split("\n")))
    return "[\n" + ",\n".join(out) + "\n]"


def render_geojson(records: Sequence[Mapping[str, Any]]) -> str:
    features = []
    for r in records:
        props = {k: v for k, v in r.items() if k not in ("lon", "lat")}
        geom = None
        if r.get("lon") is not None and r.get("lat") is not None:
            geom = {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, default=str
    )


def default_format() -> str:
    return "table" if sys.stdout.isatty() else "json"


def emit(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str | None,
    lang: str,
) -> None:
    """Print records in ``fmt`` (table on a terminal, JSON when piped, by default).

    Tables and CSV show ``columns``; JSON and GeoJSON carry every key.
    """
    fmt = fmt or default_format()
    if fmt == "table":
        if not records:
            click.echo("（无）" if lang == "zh" else "(none)")
            return
        click.echo(render_table(records, columns, lang))
    elif fmt == "csv":
        click.echo(render_csv(records, columns, lang))
    elif fmt == "json":
        click.echo(render_json(records))
    elif fmt == "geojson":
        click.echo(render_geojson(records))
    else:  # pragma: no cover - click.Choice guards this
        raise click.BadParameter(f"unknown format {fmt}")
