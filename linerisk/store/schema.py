"""The register's tables and columns, shared by every storage backend.

One name for one thing: these column names are also the keys of the JSON
output and the names used in the docs.
"""

from __future__ import annotations

import attrs

__all__ = [
    "EVENT_COLUMNS",
    "GEOMETRY_TYPES",
    "LAYERS",
    "PATROL_COLUMNS",
    "RISK_COLUMNS",
    "SCHEMA_VERSION",
    "Table",
]

SCHEMA_VERSION = 1


@attrs.frozen
class Table:
    """A table: name, geometry type (None for a plain table), and columns."""

    name: str
    geometry: str | None
    columns: tuple[tuple[str, str], ...]
    #: the column holding the layer's own identifier (unique), if any
    key: str | None = None
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _t in self.columns)


LAYERS: dict[str, Table] = {
    "lines": Table(
        "lines",
        "LINESTRING",
        (
            ("id", "TEXT NOT NULL UNIQUE"),
            ("name_zh", "TEXT NOT NULL"),
            ("name_en", "TEXT NOT NULL"),
            ("start_chainage_m", "REAL NOT NULL"),
            ("start_chainage", "TEXT NOT NULL"),
            ("high_speed", "BOOLEAN NOT NULL"),
            ("design_speed_kmh", "INTEGER"),
            ("tracks", "INTEGER NOT NULL"),
            ("prefix", "TEXT NOT NULL"),
        ),
        key="id",
        description="Railway lines: centrelines in the direction of increasing chainage",
    ),
    "kmposts": Table(
        "kmposts",
        "POINT",
        (("line", "TEXT NOT NULL"), ("chainage_m", "REAL NOT NULL"), ("chainage", "TEXT NOT NULL")),
        description="Kilometre posts (公里标): points of known chainage",
    ),
    "chain_breaks": Table(
        "chain_breaks",
        "POINT",
        (
            ("line", "TEXT NOT NULL"),
            ("back_m", "REAL NOT NULL"),
            ("ahead_m", "REAL NOT NULL"),
            ("back", "TEXT NOT NULL"),
            ("ahead", "TEXT NOT NULL"),
            ("kind", "TEXT NOT NULL"),
            ("note", "TEXT"),
        ),
        description="Chain breaks (断链): chainage jumps from back to ahead",
    ),
    "segments": Table(
        "segments",
        "LINESTRING",
        (
            ("id", "TEXT NOT NULL UNIQUE"),
            ("line", "TEXT NOT NULL"),
            ("from_chainage_m", "REAL NOT NULL"),
            ("to_chainage_m", "REAL NOT NULL"),
            ("from_chainage", "TEXT NOT NULL"),
            ("to_chainage", "TEXT NOT NULL"),
            ("works_section", "TEXT NOT NULL"),
            ("workshop", "TEXT NOT NULL"),
            ("work_area", "TEXT NOT NULL"),
            ("area_class", "TEXT NOT NULL"),
            ("patrol_per_week", "REAL"),
            ("formation_half_width_left_m", "REAL"),
            ("formation_half_width_right_m", "REAL"),
        ),
        key="id",
        description="Track segments in the care of one work area (工区)",
    ),
    "police_areas": Table(
        "police_areas",
        "MULTIPOLYGON",
        (
            ("id", "TEXT NOT NULL UNIQUE"),
            ("name", "TEXT NOT NULL"),
            ("name_en", "TEXT"),
            ("parent", "TEXT"),
        ),
        key="id",
        description="Ground of the railway police stations (派出所)",
    ),
    "neighbourhoods": Table(
        "neighbourhoods",
        "MULTIPOLYGON",
        (
            ("id", "TEXT NOT NULL UNIQUE"),
            ("district", "TEXT NOT NULL"),
            ("street_office", "TEXT NOT NULL"),
            ("community", "TEXT NOT NULL"),
        ),
        key="id",
        description="Communities and villages with their street office or town and district",
    ),
    "fences": Table(
        "fences",
        "LINESTRING",
        (
            ("id", "TEXT NOT NULL UNIQUE"),
            ("line", "TEXT NOT NULL"),
            ("side", "TEXT NOT NULL"),
            ("from_chainage_m", "REAL NOT NULL"),
            ("to_chainage_m", "REAL NOT NULL"),
            ("from_chainage", "TEXT NOT NULL"),
            ("to_chainage", "TEXT NOT NULL"),
            ("condition", "TEXT NOT NULL"),
            ("kind", "TEXT NOT NULL"),
        ),
        key="id",
        description="Protective fencing (护网) per side",
    ),
}

RISK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ref", "TEXT"),
    ("category", "TEXT NOT NULL"),
    ("severity", "TEXT NOT NULL"),
    ("status", "TEXT NOT NULL"),
    ("line", "TEXT NOT NULL"),
    ("measure_m", "REAL NOT NULL"),
    ("chainage_m", "REAL NOT NULL"),
    ("chainage", "TEXT NOT NULL"),
    ("side", "TEXT NOT NULL"),
    ("offset_m", "REAL NOT NULL"),
    ("segment", "TEXT"),
    ("works_section", "TEXT"),
    ("workshop", "TEXT"),
    ("work_area", "TEXT"),
    ("police", "TEXT"),
    ("district", "TEXT"),
    ("street_office", "TEXT"),
    ("community", "TEXT"),
    ("uncovered", "TEXT NOT NULL"),
    ("area_class", "TEXT"),
    ("zone_width_m", "REAL NOT NULL"),
    ("zone_distance_m", "REAL NOT NULL"),
    ("band", "TEXT NOT NULL"),
    ("lead_vertical", "TEXT NOT NULL"),
    ("lead_party", "TEXT"),
    ("found_at", "TEXT NOT NULL"),
    ("found_by", "TEXT NOT NULL"),
    ("deadline", "TEXT NOT NULL"),
    ("cleared_at", "TEXT"),
    ("updated_at", "TEXT NOT NULL"),
    ("located_by", "TEXT NOT NULL"),
    ("description", "TEXT"),
    ("note", "TEXT"),
    ("source", "TEXT"),
)

RISKS = Table(
    "risks",
    "POINT",
    RISK_COLUMNS,
    description="Risk points (隐患) with where they are and who must act",
)

EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("seq", "INTEGER PRIMARY KEY"),
    ("risk_id", "INTEGER NOT NULL"),
    ("at", "TEXT NOT NULL"),
    ("actor", "TEXT NOT NULL"),
    ("action", "TEXT NOT NULL"),
    ("from_status", "TEXT"),
    ("to_status", "TEXT"),
    ("note", "TEXT NOT NULL"),
    ("data", "TEXT NOT NULL"),
    ("prev_hash", "TEXT NOT NULL"),
    ("hash", "TEXT NOT NULL"),
)

PATROL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    ("at", "TEXT NOT NULL"),
    ("actor", "TEXT NOT NULL"),
    ("line", "TEXT NOT NULL"),
    ("from_chainage_m", "REAL NOT NULL"),
    ("to_chainage_m", "REAL NOT NULL"),
    ("segment", "TEXT NOT NULL"),
    ("old_per_week", "REAL"),
    ("new_per_week", "REAL NOT NULL"),
    ("reason", "TEXT NOT NULL"),
)

#: geometry types each layer's features may have (the model objects accept these)
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "lines": ("LineString",),
    "kmposts": ("Point",),
    "chain_breaks": ("Point",),
    "segments": ("LineString", "MultiLineString"),
    "police_areas": ("Polygon", "MultiPolygon"),
    "neighbourhoods": ("Polygon", "MultiPolygon"),
    "fences": ("LineString", "MultiLineString"),
    "risks": ("Point",),
}
