"""Flat records for output, with longitude and latitude added in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from linerisk.model import CategoryCatalog, Risk

RISK_TABLE_COLUMNS = (
    "id",
    "category",
    "severity",
    "status",
    "line",
    "chainage",
    "side",
    "offset_m",
    "zone",
    "lead_party",
    "deadline",
    "overdue",
)


def risk_records(
    risks: Sequence[Risk],
    crs: str,
    on: dt.datetime,
    lang: str,
    labels: bool,
    catalog: CategoryCatalog | None = None,
) -> list[dict[str, Any]]:
    """The documented JSON records; with ``labels``, category, severity, status,
    side and zone carry display labels in ``lang`` (for tables and CSV)."""
    import numpy as np

    from linerisk.crs import WGS84, transform_xy
    from linerisk.register import risk_record

    records = [risk_record(r, on=on) for r in risks]
    if records:
        lon, lat = transform_xy(
            np.array([r.location.x for r in risks]),
            np.array([r.location.y for r in risks]),
            crs,
            WGS84,
        )
        for rec, a, b in zip(records, lon, lat, strict=True):
            rec["lon"] = round(float(a), 7)
            rec["lat"] = round(float(b), 7)
            del rec["x"], rec["y"]
    if labels:
        from linerisk.model import Band, Severity, Side, Status, Vertical

        catalog = catalog or CategoryCatalog.default()
        for rec in records:
            if rec["category"] in catalog:
                rec["category"] = catalog.get(rec["category"]).label(lang)
            rec["severity"] = Severity(rec["severity"]).label(lang)
            rec["status"] = Status(rec["status"]).label(lang)
            rec["side"] = Side(rec["side"]).label(lang)
            rec["zone"] = Band(rec["zone"]).label(lang)
            rec["lead_vertical"] = Vertical(rec["lead_vertical"]).label(lang)
            rec["deadline"] = rec["deadline"][:16].replace("T", " ")
            rec["uncovered"] = [Vertical(v).label(lang) for v in rec["uncovered"]]
            if rec["lead_party"] is None:
                rec["lead_party"] = "未覆盖" if lang == "zh" else "not covered"
    return records
