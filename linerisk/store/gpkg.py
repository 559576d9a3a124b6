"""The GeoPackage backend: one SQLite file that QGIS, GDAL and geopandas open as is.

Written with the standard library's sqlite3 (no GDAL in the write path), so a
write is one SQLite transaction: a crash or a kill leaves the file as it was.
Spatial layers carry their CRS and an R-tree spatial index maintained by the
GeoPackage triggers; the ``ST_*`` functions those triggers call are registered
on every connection this module opens.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import sqlite3
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linerisk.lifecycle import GENESIS
from linerisk.store.base import Ground, RiskQuery, Store, StoreError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from linerisk.bulk import DiskFlusher

from linerisk.store.schema import (
    EVENT_COLUMNS,
    LAYERS,
    PATROL_COLUMNS,
    RISKS,
    SCHEMA_VERSION,
    Table,
)

__all__ = ["GeoPackageStore", "insert_rows"]

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
# GeoPackage 1.3: the R-tree triggers below are the 1.2/1.3 set (update1-4); 1.4 replaced
# them, and GDAL before 3.7 warns on every open of a file that claims 1.4.
GPKG_USER_VERSION = 10300
META_TABLE = "linerisk_meta"
EVENTS_TABLE = "risk_events"
#: the events table's one index (a risk's history in seq order)
EVENTS_INDEX_SQL = f"CREATE INDEX risk_events_risk ON {EVENTS_TABLE} (risk_id)"
PATROL_TABLE = "patrol_changes"
BUSY_TIMEOUT_S = 120.0
#: page size of new register files (bytes)
PAGE_SIZE = 16384
#: from this many rows a risk insert rebuilds the spatial index in one pass
BULK_RTREE_ROWS = 2000

#: the deadline an event set: the report's record holds the first, a reopen the next
#: (and a rework that gave one)
_DEADLINE_SQL = (
    "CASE action WHEN 'report' THEN json_extract(data, '$.record.deadline') "
    "WHEN 'reopen' THEN json_extract(data, '$.deadline') "
    "WHEN 'rework' THEN json_extract(data, '$.deadline') END"
)

#: attribute indexes of the risks table: name → indexed columns
RISK_INDEXES = {
    "risks_status": "status",
    "risks_line_chainage": "line, chainage_m",
    "risks_police": "police",
}

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = struct.Struct("<2sBBi")
_PARTY_COLUMNS = (
    "police",
    "works_section",
    "workshop",
    "work_area",
    "district",
    "street_office",
    "community",
)

# ----------------------------------------------------------------------------- blobs


def _header_length(blob: bytes) -> int:
    flags = blob[3]
    return 8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07]


def encode_geometries(geoms: Sequence[Any], srs_id: int) -> list[bytes | None]:
    """Shapely geometries → GeoPackage geometry blobs (little-endian, xy envelope)."""
    import numpy as np
    import shapely

    arr = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(arr)
    present = np.flatnonzero([g is not None for g in arr])
    if not len(present):
        return out
    sub = arr[present]
    wkb = shapely.to_wkb(sub, byte_order=1, output_dimension=2)
    bounds = shapely.bounds(sub)
    empty = shapely.is_empty(sub)
    for k, i in enumerate(present):
        if empty[k]:
            head = _HEADER.pack(b"GP", 0, 0x01 | 0x10, srs_id)
        else:
            minx, miny, maxx, maxy = bounds[k]
            head = _HEADER.pack(b"GP", 0, 0x03, srs_id) + struct.pack("<4d", minx, maxx, miny, maxy)
        out[i] = head + wkb[k]
    return out


_POINT_FIELDS = (
    ("magic", "S2"),
    ("version", "u1"),
    ("flags", "u1"),
    ("srs", "<i4"),
    ("env", "<f8", (4,)),
    ("order", "u1"),
    ("type", "<u4"),
    ("x", "<f8"),
    ("y", "<f8"),
)


def _table_sql(name: str, columns: Sequence[tuple[str, str]]) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns)
    return f'CREATE TABLE "{name}" ({cols})'


def insert_rows(
    conn: sqlite3.Connection,
    table: str,
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fixed: Mapping[str, str] | None = None,
) -> None:
    """``INSERT INTO table (names)`` every row of ``rows`` (each exactly
    ``len(names)`` values), several rows per statement; the columns of
    ``fixed`` get the same value in every row, given as SQL literals (see
    :func:`_common_values`).

    The sqlite3 module spends about two microseconds on each execution of a
    statement, as much as binding ten values; a bulk write of short rows (events)
    takes nearly half the time with a few dozen rows per ``VALUES``. Statements
    stay within 999 parameters, the limit of SQLite before 3.32. A value common
    to every row is written into the statement once instead of being bound for
    each row (about a fifth of a microsecond per value).
    """
    fixed = fixed or {}
    width = len(names)
    cols = ", ".join(f'"{c}"' for c in (*names, *fixed))
    head = f'INSERT INTO "{table}" ({cols}) VALUES '
    one = f"({', '.join(['?'] * width + list(fixed.values()))})"
    per = max(1, min(32, 999 // max(width, 1)))
    it = iter(rows)
    rest: list[tuple[Any, ...]] = []

    def chunks() -> Iterator[tuple[Any, ...]]:
        while True:
            chunk = tuple(itertools.chain.from_iterable(itertools.islice(it, per)))
            if len(chunk) < per * width:
                rest.append(chunk)
                return
            yield chunk

    if not width:  # every column fixed
        conn.executemany(head + one, (() for _row in it))
        return
    conn.executemany(head + ", ".join([one] * per), chunks())
    last = rest[0] if rest else ()
    if last:
        conn.executemany(head + one, (last[i : i + width] for i in range(0, len(last), width)))


#: from this many rows a bulk write looks for values common to every row
COMMON_FROM_ROWS = 1000


def _sql_literal(value: Any) -> str | None:
    """``value`` as an SQL literal that SQLite reads back as the same value and
    type, or None where it is bound instead (bytes, a number that might not read
    back exactly, text a statement cannot hold)."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is str:
        if "\x00" in value:
            return None
        try:
            value.encode()
        except UnicodeEncodeError:  # lone surrogates: binding reports them
            return None
        return "'" + value.replace("'", "''") + "'"
    if kind is int:
        return str(value) if -(2**63) < value < 2**63 else None
    if kind is float and value.is_integer() and abs(value) < 2**53:
        # exact (SQLite before 3.43 may read other decimals one bit off); not -0.0
        literal = f"{int(value)}.0"
        return literal if literal == repr(value) else None
    return None


def _common_values(columns: Mapping[str, Sequence[Any]]) -> dict[str, str]:
    """The columns whose every value is the same (and of the same type), as SQL
    literals, for :func:`insert_rows`. A bulk import often has one status, one
    time of recording, one way of locating, one officer and one date found."""
    common: dict[str, str] = {}
    for name, values in columns.items():
        values = values if isinstance(values, list) else list(values)
        n = len(values)
        if n < COMMON_FROM_ROWS:
            continue
        first = values[0]
        # most columns differ within a few rows: a sample rules them out before a
        # full count (which, after a fork, would also copy every page it touches)
        step = n // 8
        if any(not (v is first or v == first) for v in values[step::step] + values[-1:]):
            continue
        if values.count(first) != n:
            continue
        if len(set(map(type, values))) != 1:  # 1 and 1.0 are equal, but not the same
            continue
        literal = _sql_literal(values[0])
        if literal is not None:
            common[name] = literal
    return common


def _insert_events(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Insert chained event rows (tuples in the order of the events table)."""
    names = [c for c, _t in EVENT_COLUMNS]
    # As for risks: columns empty in every row (from_status of reports) are not
    # bound, nor are values common to every row (the action and status of reports).
    keep = [i for i in range(len(names)) if _has_value(r[i] for r in rows)]
    fixed = (
        _common_values({names[i]: list(map(itemgetter(i), rows)) for i in keep})
        if len(rows) >= COMMON_FROM_ROWS
        else {}
    )
    keep = [i for i in keep if names[i] not in fixed]
    if len(keep) > 1:
        values: Iterable[Sequence[Any]] = map(itemgetter(*keep), rows)
    else:
        values = (tuple(r[i] for i in keep) for r in rows)
    insert_rows(conn, EVENTS_TABLE, [names[i] for i in keep], values, fixed)


def _write_side_events(
    conn: sqlite3.Connection, batches: Iterable[Sequence[Sequence[Any]]]
) -> None:
    """Write batches of event rows to a new scratch file: the events table alone,
    laid out as in a register, with no journal (the file is thrown away on
    failure)."""
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -131072")
    conn.execute(_table_sql(EVENTS_TABLE, EVENT_COLUMNS))
    conn.execute("BEGIN")
    for rows in batches:
        _insert_events(conn, rows)
    # the register's index too: with it, SQLite copies rows and index entries
    # into the register as they are stored (see GeoPackageStore.appending_events)
    conn.execute(EVENTS_INDEX_SQL)
    conn.execute("COMMIT")


def _near_sql(statuses: int) -> str:
    """The risks of a category and status whose R-tree box meets a box.

    ``CROSS JOIN`` makes SQLite start from the R-tree: left to choose, it reads
    every risk of the statuses through the status index (all million of a
    national register, 1.7 s a query) and looks each up in the R-tree.
    """
    return (
        "SELECT r.id, r.geom FROM rtree_risks_geom t CROSS JOIN risks r ON r.id = t.id "
        "WHERE t.minx <= ? AND t.maxx >= ? AND t.miny <= ? AND t.maxy >= ? "
        f"AND r.category = ? AND r.status IN ({', '.join('?' * statuses)})"
    )


def _has_value(values: Iterable[Any]) -> bool:
    """Whether any of ``values`` is not None (stops at the first)."""
    return any(v is not None for v in values)


def encode_points(x: np.ndarray, y: np.ndarray, srs_id: int) -> list[bytearray]:
    """Point blobs for coordinate arrays, built with numpy (the bulk path).

    They are bytearrays: the sqlite3 module binds those directly, where it looks
    up an adapter for every ``bytes`` value (a microsecond each, a second per
    million risks)."""
    import numpy as np

    dtype = np.dtype(list(_POINT_FIELDS))
    n = len(x)
    rec = np.zeros(n, dtype=dtype)
    rec["magic"] = b"GP"
    rec["flags"] = 0x03
    rec["srs"] = srs_id
    rec["env"] = np.column_stack([x, x, y, y])
    rec["order"] = 1
    rec["type"] = 1
    rec["x"] = x
    rec["y"] = y
    buf = bytearray(rec.tobytes())
    size = dtype.itemsize
    return [buf[i : i + size] for i in range(0, n * size, size)]


def decode_geometries(blobs: Sequence[bytes | None]) -> np.ndarray:
    import numpy as np
    import shapely

    out = np.full(len(blobs), None, dtype=object)
    idx = [i for i, b in enumerate(blobs) if b is not None]
    if idx:
        wkb = [blobs[i][_header_length(blobs[i]) :] for i in idx]
        out[idx] = shapely.from_wkb(wkb)
    return out


def point_xy(blob: bytes | None) -> tuple[float, float]:
    """x, y of a point blob, read from its envelope when it has one."""
    if blob is None:
        return math.nan, math.nan
    flags = blob[3]
    if (flags >> 1) & 0x07:
        order = "<" if flags & 1 else ">"
        minx, _maxx, miny, _maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, miny
    import shapely

    geom = shapely.from_wkb(blob[_header_length(blob) :])
    return geom.x, geom.y


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    if (flags >> 1) & 0x07:
        order = "<" if flags & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, maxx, miny, maxy
    import shapely

    minx, miny, maxx, maxy = shapely.bounds(shapely.from_wkb(blob[_header_length(blob) :]))
    return minx, maxx, miny, maxy


#: at most this many line ranges go into one query as they are; more are
#: widened to one range per line (a statement may take only 999 parameters)
MAX_GROUND_RANGES = 300


def _risk_filter(query: RiskQuery) -> tuple[list[str], list[Any]]:
    """The WHERE terms (joined by AND) and their parameters for ``query``."""
    where: list[str] = []
    params: list[Any] = []
    if query.ids is not None:
        where.append(f"id IN ({', '.join('?' * len(query.ids))})")
        params += list(query.ids)
    if query.refs is not None:
        # one parameter however many: an import's file may hold thousands
        where.append("ref IN (SELECT value FROM json_each(?))")
        params.append(json.dumps([str(r) for r in query.refs], ensure_ascii=False))
    if query.statuses is not None:
        where.append(f"status IN ({', '.join('?' * len(query.statuses))})")
        params += list(query.statuses)
    if query.categories is not None:
        where.append(f"category IN ({', '.join('?' * len(query.categories))})")
        params += list(query.categories)
    if query.line is not None:
        where.append("line = ?")
        params.append(query.line)
    if query.chainage_from is not None:
        where.append("chainage_m >= ?")
        params.append(query.chainage_from)
    if query.chainage_to is not None:
        where.append("chainage_m <= ?")
        params.append(query.chainage_to)
    if query.party is not None:
        where.append("(" + " OR ".join(f"{c} = ?" for c in _PARTY_COLUMNS) + ")")
        params += [query.party] * len(_PARTY_COLUMNS)
    if query.police is not None:
        where.append("police = ?")
        params.append(query.police)
    if query.since is not None:
        where.append("found_at >= ?")
        params.append(query.since)
    if query.deadline_before is not None:
        where.append("deadline < ? AND status NOT IN ('cleared', 'withdrawn')")
        params.append(query.deadline_before)
    if query.ground is not None:
        where.append(_ground_sql(query.ground, params))
    if query.bbox is not None:
        minx, miny, maxx, maxy = query.bbox
        where.append(
            "id IN (SELECT id FROM rtree_risks_geom WHERE minx <= ? AND maxx >= ? "
            "AND miny <= ? AND maxy >= ?)"
        )
        params += [maxx, minx, maxy, miny]
    return where, params


def _ground_sql(ground: Ground, params: list[Any]) -> str:
    """The WHERE term for risks on ``ground``, its parameters added to ``params``."""
    terms: list[str] = []
    for column, names in (
        ("police", ground.police),
        ("street_office", ground.street_offices),
        ("community", ground.communities),
    ):
        if names:
            terms.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(names), ensure_ascii=False))
    ranges = list(ground.ranges)
    if len(ranges) > MAX_GROUND_RANGES:
        widest: dict[str, tuple[float, float]] = {}
        for line, lo, hi in ranges:
            a, b = widest.get(line, (lo, hi))
            widest[line] = (min(a, lo), max(b, hi))
        ranges = [(line, lo, hi) for line, (lo, hi) in widest.items()]
    for line, lo, hi in ranges[:MAX_GROUND_RANGES]:
        terms.append("(line = ? AND measure_m >= ? AND measure_m <= ?)")
        params += [line, lo, hi]
    if len(ranges) > MAX_GROUND_RANGES:  # lines beyond counting: every one of them
        terms.append("line IN (SELECT value FROM json_each(?))")
        params.append(json.dumps([line for line, _lo, _hi in ranges[MAX_GROUND_RANGES:]]))
    return "(" + (" OR ".join(terms) or "0") + ")"


def _st(pos: int):
    def fn(blob: bytes | None) -> float | None:
        env = _envelope(blob)
        return None if env is None else env[pos]

    return fn


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if _envelope(blob) is None else 0


# ----------------------------------------------------------------------------- DDL

_CORE_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""

_RTREE_INSERT_TRIGGER = """
CREATE TRIGGER "rtree_{t}_geom_insert" AFTER INSERT ON "{t}"
WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (
    NEW."{pk}", ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
"""

_RTREE_OTHER_TRIGGERS = """
CREATE TRIGGER "rtree_{t}_geom_update1" AFTER UPDATE OF geom ON "{t}"
WHEN OLD."{pk}" = NEW."{pk}" AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (
    NEW."{pk}", ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER "rtree_{t}_geom_update2" AFTER UPDATE OF geom ON "{t}"
WHEN OLD."{pk}" = NEW."{pk}" AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM "rtree_{t}_geom" WHERE id = OLD."{pk}";
END;
CREATE TRIGGER "rtree_{t}_geom_update3" AFTER UPDATE ON "{t}"
WHEN OLD."{pk}" != NEW."{pk}" AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM "rtree_{t}_geom" WHERE id = OLD."{pk}";
  INSERT OR REPLACE INTO "rtree_{t}_geom" VALUES (
    NEW."{pk}", ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER "rtree_{t}_geom_update4" AFTER UPDATE ON "{t}"
WHEN OLD."{pk}" != NEW."{pk}" AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM "rtree_{t}_geom" WHERE id IN (OLD."{pk}", NEW."{pk}");
END;
CREATE TRIGGER "rtree_{t}_geom_delete" AFTER DELETE ON "{t}"
WHEN old.geom NOT NULL
BEGIN
  DELETE FROM "rtree_{t}_geom" WHERE id = OLD."{pk}";
END;
"""

_RTREE_TRIGGERS = _RTREE_INSERT_TRIGGER + _RTREE_OTHER_TRIGGERS


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction (unlike executescript)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending!r}")


def _wkt_of(crs: str) -> tuple[str, str, int, str]:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    auth = c.to_authority() or ("NONE", "0")
    from pyproj.enums import WktVersion

    return c.name, auth[0], int(auth[1]), c.to_wkt(WktVersion.WKT1_GDAL)


def _srs_id(crs: str) -> int:
    if crs.upper().startswith("EPSG:"):
        return int(crs.split(":", 1)[1])
    raise StoreError(f"the register CRS must be an EPSG code, not {crs!r}")


# ----------------------------------------------------------------------------- store


class GeoPackageStore(Store):
    """A register in a GeoPackage file.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "r.gpkg")
    >>> store = GeoPackageStore.create(path, "EPSG:4548")
    >>> store.crs
    'EPSG:4548'
    """

    def __init__(self, path: str | Path, conn: sqlite3.Connection) -> None:
        self.path = Path(path)
        self._conn = conn
        self._depth = 0
        #: run once the outermost transaction has ended (committed or not)
        self._after_transaction: list[Callable[[], None]] = []
        #: a bulk insert's scratch file of events is attached (until the transaction ends)
        self._side_attached = False
        #: flushes the file to disk while a bulk insert writes (until the commit)
        self._flusher: DiskFlusher | None = None
        self.crs = self.get_meta("crs")
        self.srs_id = _srs_id(self.crs)

    # ------------------------------------------------------------------ opening

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        for name, fn in (
            ("ST_MinX", _st(0)),
            ("ST_MaxX", _st(1)),
            ("ST_MinY", _st(2)),
            ("ST_MaxY", _st(3)),
            ("ST_IsEmpty", _st_is_empty),
        ):
            conn.create_function(name, 1, fn, deterministic=True)
        # A generous page cache keeps index pages of large transactions in memory
        # instead of spilling them to disk mid-transaction.
        conn.execute("PRAGMA cache_size = -131072")
        conn.row_factory = sqlite3.Row
        return conn

    @classmethod
    def create(cls, path: str | Path, crs: str) -> GeoPackageStore:
        """Create a new, empty register file; refuses to overwrite one."""
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path} already exists; choose a new file name")
        if not path.parent.exists():
            raise StoreError(f"folder {path.parent} does not exist")
        srs_id = _srs_id(crs)
        name, org, code, wkt = _wkt_of(crs)
        wgs = _wkt_of("EPSG:4326")
        tmp = path.with_name(path.name + ".creating")
        tmp.unlink(missing_ok=True)
        conn = cls._connect(tmp)
        try:
            # Set before the file has any content. Larger pages than SQLite's 4 KiB
            # default write a national register's million rows about 8 % faster.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("BEGIN")
            conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
            _run_script(conn, _CORE_DDL)
            srs_rows = [
                ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
                ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
                (wgs[0], 4326, "EPSG", 4326, wgs[3], "longitude/latitude coordinates in WGS 84"),
            ]
            if srs_id != 4326:
                srs_rows.append((name, srs_id, org, code, wkt, "linerisk register CRS"))
            conn.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", srs_rows)
            for table in LAYERS.values():
                cls._create_feature_table(conn, table, srs_id)
            cls._create_feature_table(conn, RISKS, srs_id, pk="id", autoincrement=True)
            for table_name, columns, description in (
                (EVENTS_TABLE, EVENT_COLUMNS, "Append-only, hash-chained history of every risk"),
                (PATROL_TABLE, PATROL_COLUMNS, "Changes of patrol frequency (巡线频次)"),
                (
                    META_TABLE,
                    (("key", "TEXT PRIMARY KEY"), ("value", "TEXT NOT NULL")),
                    "linerisk schema version and register settings (JSON)",
                ),
            ):
                conn.execute(_table_sql(table_name, columns))
                conn.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                    "VALUES (?, 'attributes', ?, ?)",
                    (table_name, table_name, description),
                )
            for index, on in RISK_INDEXES.items():
                conn.execute(f"CREATE INDEX {index} ON risks ({on})")
            conn.execute(EVENTS_INDEX_SQL)
            conn.executemany(
                f"INSERT INTO {META_TABLE} VALUES (?, ?)",
                [
                    ("schema_version", json.dumps(SCHEMA_VERSION)),
                    ("crs", json.dumps(crs)),
                    ("events_head", json.dumps({"seq": 0, "hash": GENESIS})),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            tmp.unlink(missing_ok=True)
            raise
        conn.close()
        tmp.rename(path)
        return cls.open(path)

    @staticmethod
    def _create_feature_table(
        conn: sqlite3.Connection,
        table: Table,
        srs_id: int,
        pk: str = "fid",
        autoincrement: bool = False,
    ) -> None:
        pk_sql = f'"{pk}" INTEGER PRIMARY KEY' + (" AUTOINCREMENT" if autoincrement else "")
        cols = ", ".join(f'"{c}" {t}' for c, t in table.columns)
        conn.execute(f'CREATE TABLE "{table.name}" ({pk_sql}, geom {table.geometry}, {cols})')
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
            "VALUES (?, 'features', ?, ?, ?)",
            (table.name, table.name, table.description, srs_id),
        )
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
            (table.name, table.geometry, srs_id),
        )
        conn.execute(
            f'CREATE VIRTUAL TABLE "rtree_{table.name}_geom" '
            "USING rtree(id, minx, maxx, miny, maxy)"
        )
        _run_script(conn, _RTREE_TRIGGERS.format(t=table.name, pk=pk))
        conn.execute(
            "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (table.name,),
        )

    @classmethod
    def open(cls, path: str | Path) -> GeoPackageStore:
        """Open an existing register file."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"register {path} does not exist")
        try:
            conn = cls._connect(path)
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            has_meta = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = ?", (META_TABLE,)
            ).fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a GeoPackage register: {exc}") from None
        if app != GPKG_APPLICATION_ID or not has_meta:
            conn.close()
            raise StoreError(f"{path} is not a linerisk register (no {META_TABLE} table)")
        version = json.loads(
            conn.execute(f"SELECT value FROM {META_TABLE} WHERE key='schema_version'").fetchone()[0]
        )
        if version != SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"{path} has register schema version {version}; this linerisk reads version "
                f"{SCHEMA_VERSION}"
            )
        return cls(path, conn)

    def close(self) -> None:
        self._conn.close()

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot write to {self.path}: {exc}") from None
        self._depth = 1
        try:
            try:
                yield
                self._depth = 0
                self._stop_flushing()
                self._conn.execute("COMMIT")
            except BaseException as exc:
                self._depth = 0
                self._stop_flushing()
                # SQLite may have rolled back already (a full disk, an I/O error);
                # if the rollback fails too, the journal restores the file on next open
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(
                        f"could not write to the register {self.path}: {exc}; nothing was changed"
                    ) from exc
                raise
        finally:
            while self._after_transaction:
                self._after_transaction.pop()()

    def _start_flushing(self) -> None:
        """Flush the file to disk from a thread until the transaction ends (a
        bulk write), so that the commit does not wait for all of it at once."""
        if self._flusher is None:
            from linerisk.bulk import DiskFlusher

            self._flusher = DiskFlusher.start(self.path)

    def _stop_flushing(self) -> None:
        if self._flusher is not None:
            self._flusher.stop()
            self._flusher = None

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if not self._depth:
            raise StoreError("writes must happen inside a transaction")
        return self._conn.execute(sql, params)

    def _touch(self, table: str) -> None:
        self._write(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
            "WHERE table_name = ?",
            (table,),
        )

    def _grow_extent(self, table: str, minx: float, miny: float, maxx: float, maxy: float) -> None:
        """Widen the layer extent in gpkg_contents to take in a new box (no table scan)."""
        self._write(
            "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), "
            "min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), "
            "max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
            (minx, minx, miny, miny, maxx, maxx, maxy, maxy, table),
        )

    def _update_extent(self, table: str) -> None:
        row = self._conn.execute(
            f'SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_{table}_geom"'
        ).fetchone()
        self._write(
            "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=? WHERE table_name=?",
            (*tuple(row), table),
        )

    # ------------------------------------------------------------------ metadata

    def get_meta(self, key: str) -> Any:
        row = self._conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self._write(
            f"INSERT OR REPLACE INTO {META_TABLE} VALUES (?, ?)",
            (key, json.dumps(value, ensure_ascii=False, sort_keys=True)),
        )

    # ------------------------------------------------------------------ layers

    def _layer(self, kind: str) -> Table:
        try:
            return LAYERS[kind]
        except KeyError:
            raise StoreError(f"unknown layer {kind!r}; layers are {', '.join(LAYERS)}") from None

    def replace_layer(
        self, kind: str, rows: Sequence[Mapping[str, Any]], geometries: Sequence[Any]
    ) -> None:
        table = self._layer(kind)
        self._write(f'DELETE FROM "{table.name}"')
        self.insert_layer_rows(kind, rows, geometries)

    def insert_layer_rows(
        self, kind: str, rows: Sequence[Mapping[str, Any]], geometries: Sequence[Any]
    ) -> None:
        import shapely

        table = self._layer(kind)
        if table.geometry == "MULTIPOLYGON":
            geometries = [
                shapely.MultiPolygon([g]) if g is not None and g.geom_type == "Polygon" else g
                for g in geometries
            ]
        blobs = encode_geometries(geometries, self.srs_id)
        names = table.column_names
        cols = ", ".join(f'"{c}"' for c in ("geom", *names))
        marks = ", ".join("?" * (len(names) + 1))
        if not self._depth:
            raise StoreError("writes must happen inside a transaction")
        self._conn.executemany(
            f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})',
            ([blob, *(row.get(c) for c in names)] for blob, row in zip(blobs, rows, strict=True)),
        )
        self._update_extent(table.name)
        self._touch(table.name)

    def update_layer_row(
        self, kind: str, key: str, changes: Mapping[str, Any], geometry: Any = None
    ) -> None:
        table = self._layer(kind)
        if table.key is None:
            raise StoreError(f"layer {kind} has no key column")
        sets = [f'"{c}" = ?' for c in changes]
        params = list(changes.values())
        if geometry is not None:
            sets.append("geom = ?")
            params.append(encode_geometries([geometry], self.srs_id)[0])
        cur = self._write(
            f'UPDATE "{table.name}" SET {", ".join(sets)} WHERE "{table.key}" = ?',
            (*params, key),
        )
        if cur.rowcount != 1:
            raise StoreError(f"no {kind} row with {table.key} {key!r}")
        self._touch(table.name)

    def delete_layer_rows(self, kind: str, keys: Sequence[str]) -> None:
        table = self._layer(kind)
        self._conn.executemany(
            f'DELETE FROM "{table.name}" WHERE "{table.key}" = ?', [(k,) for k in keys]
        )
        self._touch(table.name)

    def read_layer(
        self,
        kind: str,
        *,
        where: Mapping[str, Sequence[Any]] | None = None,
        boxes: Sequence[tuple[float, float, float, float]] | None = None,
        geometry: bool = True,
    ) -> tuple[list[dict[str, Any]], np.ndarray]:
        table = self._layer(kind)
        names = table.column_names
        cols = ", ".join(f'"{c}"' for c in ("geom" if geometry else "NULL", *names))
        tests: list[str] = []
        params: list[Any] = []
        for column, values in (where or {}).items():
            if column not in names:
                raise StoreError(f"the {kind} layer has no column {column}")
            # one JSON parameter however many values (the lines of a national file)
            tests.append(f'"{column}" IN (SELECT value FROM json_each(?))')
            params.append(json.dumps(list(values), ensure_ascii=False))
        if boxes is not None:
            # The boxes as one JSON parameter, joined to the R-tree: one index search
            # per box, however many (a statement may take only 999 parameters).
            # Grown by a millimetre, so that a box edge read back from JSON a bit
            # inside cannot lose a feature that only touches it.
            tests.append(
                f'fid IN (SELECT r.id FROM json_each(?) AS b CROSS JOIN "rtree_{table.name}_geom"'
                " AS r WHERE r.minx <= json_extract(b.value, '$[2]')"
                " AND r.maxx >= json_extract(b.value, '$[0]')"
                " AND r.miny <= json_extract(b.value, '$[3]')"
                " AND r.maxy >= json_extract(b.value, '$[1]'))"
            )
            params.append(
                json.dumps(
                    [
                        [minx - 1e-3, miny - 1e-3, maxx + 1e-3, maxy + 1e-3]
                        for minx, miny, maxx, maxy in boxes
                    ]
                )
            )
        sql = f'SELECT {cols} FROM "{table.name}"'
        if tests:
            sql += " WHERE " + " AND ".join(tests)
        cur = self._conn.cursor()
        cur.row_factory = None
        rows = cur.execute(sql + " ORDER BY fid", params).fetchall()
        if geometry:
            geoms = decode_geometries([r[0] for r in rows])
        else:
            import numpy as np

            geoms = np.full(len(rows), None, dtype=object)
        records = [dict(zip(names, r[1:], strict=True)) for r in rows]
        return records, geoms

    def layer_keys(self, kind: str) -> list[str]:
        table = self._layer(kind)
        if table.key is None:
            raise StoreError(f"the {kind} layer has no identifier column")
        cur = self._conn.cursor()
        cur.row_factory = None
        return [k for (k,) in cur.execute(f'SELECT "{table.key}" FROM "{table.name}" ORDER BY fid')]

    def layer_count(self, kind: str) -> int:
        table = self._layer(kind)
        return self._conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]

    # ------------------------------------------------------------------ risks

    def insert_risks(
        self,
        columns: Mapping[str, Sequence[Any]],
        x: np.ndarray,
        y: np.ndarray,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        import numpy as np

        if not self._depth:
            raise StoreError("writes must happen inside a transaction")
        # Columns empty in every new row are left to their default (NULL): the
        # sqlite3 module looks up an adapter for each None it binds.
        names = [c for c in RISKS.column_names if _has_value(columns[c])]
        blobs = encode_points(np.asarray(x, float), np.asarray(y, float), self.srs_id)
        n = len(blobs)
        start = self.next_risk_id() - 1
        bulk = n >= BULK_RTREE_ROWS
        if bulk:
            # One packed rebuild of the spatial index instead of a trigger per row.
            self._conn.execute('DROP TRIGGER "rtree_risks_geom_insert"')
            # started after a bulk insert's child process has forked (appending_events)
            self._start_flushing()
        # Filling an index row by row costs more than sorting once, when the new
        # rows outnumber those already there.
        reindex = bulk and n >= start
        if reindex:
            for index in RISK_INDEXES:
                self._conn.execute(f"DROP INDEX {index}")
        fixed = _common_values({c: columns[c] for c in names}) if n >= COMMON_FROM_ROWS else {}
        names = [c for c in names if c not in fixed]
        rows: Iterable[tuple[Any, ...]] = zip(blobs, *(columns[c] for c in names), strict=True)
        if progress is not None:
            rows = _reporting(rows, n, progress)
        insert_rows(self._conn, "risks", ("geom", *names), rows, fixed)
        if reindex:
            for index, on in RISK_INDEXES.items():
                self._conn.execute(f"CREATE INDEX {index} ON risks ({on})")
        if bulk:
            from linerisk.store.rtree import rebuild_rtree

            old = np.array(
                self._conn.execute(
                    "SELECT id, minx, maxx, miny, maxy FROM rtree_risks_geom"
                ).fetchall(),
                dtype=float,
            ).reshape(-1, 5)
            xs = np.asarray(x, float)
            ys = np.asarray(y, float)
            new_ids = np.arange(start + 1, start + 1 + n, dtype=np.int64)
            rebuild_rtree(
                self._conn,
                "rtree_risks_geom",
                np.concatenate([old[:, 0].astype(np.int64), new_ids]),
                np.concatenate([old[:, 1], xs]),
                np.concatenate([old[:, 2], xs]),
                np.concatenate([old[:, 3], ys]),
                np.concatenate([old[:, 4], ys]),
            )
            _run_script(self._conn, _RTREE_INSERT_TRIGGER.format(t="risks", pk="id"))
        if n:
            xs = np.asarray(x, float)
            ys = np.asarray(y, float)
            self._grow_extent(
                "risks", float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
            )
            self._touch("risks")
        return list(range(start + 1, start + 1 + n))

    def update_risk(
        self, risk_id: int, changes: Mapping[str, Any], xy: tuple[float, float] | None = None
    ) -> None:
        sets = [f'"{c}" = ?' for c in changes]
        params = list(changes.values())
        if xy is not None:
            import numpy as np

            sets.append("geom = ?")
            params.append(encode_points(np.array([xy[0]]), np.array([xy[1]]), self.srs_id)[0])
        cur = self._write(f"UPDATE risks SET {', '.join(sets)} WHERE id = ?", (*params, risk_id))
        if cur.rowcount != 1:
            raise StoreError(f"there is no risk with id {risk_id}")
        self._touch("risks")

    def find_risks(
        self, query: RiskQuery, columns: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        where, params = _risk_filter(query)
        if columns is None:
            sql = "SELECT * FROM risks"
        else:
            unknown = sorted(set(columns) - set(RISKS.column_names))
            if unknown:
                raise StoreError(f"the risks table has no column {', '.join(unknown)}")
            chosen = dict.fromkeys(c for c in columns if c != "id")
            names = ", ".join(f'"{c}"' for c in ("id", "geom", *chosen))
            sql = f"SELECT {names} FROM risks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        out = []
        for rec in self._dicts(sql, params):
            rec["x"], rec["y"] = point_xy(rec.pop("geom"))
            out.append(rec)
        return out

    def risk_values(self, query: RiskQuery, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        unknown = sorted(set(columns) - {"id", *RISKS.column_names})
        if unknown:
            raise StoreError(f"the risks table has no column {', '.join(unknown)}")
        where, params = _risk_filter(query)
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f"SELECT {names} FROM risks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        cur = self._conn.cursor()
        cur.row_factory = None
        return cur.execute(sql, params).fetchall()

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows as dicts, built from plain tuples (much cheaper than sqlite3.Row)."""
        cur = self._conn.cursor()
        cur.row_factory = None
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(names, row, strict=True))

    def risks_near(
        self, x: float, y: float, radius: float, category: str, statuses: Sequence[str]
    ) -> list[tuple[int, float]]:
        rows = self._conn.execute(
            _near_sql(len(statuses)),
            (x + radius, x - radius, y + radius, y - radius, category, *statuses),
        ).fetchall()
        out = []
        for rid, blob in rows:
            px, py = point_xy(blob)
            d = math.hypot(px - x, py - y)
            if d <= radius:
                out.append((rid, d))
        return sorted(out, key=lambda t: t[1])

    def repoint_risks_segment(
        self, line: str, old_segment: str, new_segment: str, from_measure: float
    ) -> int:
        cur = self._write(
            "UPDATE risks SET segment = ? WHERE line = ? AND segment = ? AND measure_m >= ?",
            (new_segment, line, old_segment, from_measure - 1e-6),
        )
        return cur.rowcount

    def _detach_side(self) -> None:
        try:
            self._conn.execute("DETACH linerisk_side")
        except sqlite3.Error:  # still in use: stays attached, later inserts work in process
            return
        self._side_attached = False

    def next_risk_id(self) -> int:
        # AUTOINCREMENT: ids of deleted risks are never given out again.
        return (
            1
            + self._conn.execute(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name='risks'), 0)"
            ).fetchone()[0]
        )

    def count_risks(self) -> int:
        return self._conn.execute("SELECT count(*) FROM risks").fetchone()[0]

    # ------------------------------------------------------------------ events

    def event_head(self) -> tuple[int, str]:
        row = self._conn.execute(
            f"SELECT seq, hash FROM {EVENTS_TABLE} ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (0, GENESIS) if row is None else (row[0], row[1])

    def append_events(self, rows: Sequence[Sequence[Any]]) -> None:
        if not self._depth:
            raise StoreError("writes must happen inside a transaction")
        if not rows:
            return
        _insert_events(self._conn, rows)
        last = dict(zip((c for c, _t in EVENT_COLUMNS), rows[-1], strict=True))
        self.set_meta("events_head", {"seq": last["seq"], "hash": last["hash"]})

    @contextlib.contextmanager
    def appending_events(
        self, produce: Callable[[], Iterable[Sequence[Sequence[Any]]]], count: int
    ) -> Iterator[None]:
        if not self._depth:
            raise StoreError("writes must happen inside a transaction")
        from linerisk.store import sidecar

        side = None
        # One scratch file per transaction: SQLite detaches only after the commit.
        if not self._side_attached and sidecar.child_worthwhile(count):
            # no temporary folder to write to, or no process to be had: in process
            with contextlib.suppress(OSError):
                side = sidecar.SideWriter(produce, _write_side_events)
        if side is None:
            yield
            for rows in produce():
                self.append_events(rows)
            return
        try:
            yield
        except BaseException:
            side.abort()
            raise
        path = side.wait()
        self._after_transaction.append(side.remove)
        self._conn.execute("ATTACH DATABASE ? AS linerisk_side", (str(path),))
        self._side_attached = True
        # Detached once the transaction is over: SQLite keeps it while a write is open.
        self._after_transaction.append(self._detach_side)
        # Where the two tables have the same columns in the same order (always,
        # for a register this version made), "SELECT *" lets SQLite copy the
        # stored records and index entries without decoding them (its transfer
        # optimisation): 2.3 s -> 1.7 s for a million events. Otherwise by name.
        same = [
            tuple(r) for r in self._conn.execute(f"PRAGMA main.table_info({EVENTS_TABLE})")
        ] == [
            tuple(r) for r in self._conn.execute(f"PRAGMA linerisk_side.table_info({EVENTS_TABLE})")
        ]
        if same:
            self._conn.execute(
                f"INSERT INTO main.{EVENTS_TABLE} SELECT * FROM linerisk_side.{EVENTS_TABLE}"
            )
        else:
            names = ", ".join(f'"{c}"' for c, _t in EVENT_COLUMNS)
            self._conn.execute(
                f"INSERT INTO main.{EVENTS_TABLE} ({names}) "
                f"SELECT {names} FROM linerisk_side.{EVENTS_TABLE}"
            )
        last = self._conn.execute(
            f"SELECT seq, hash FROM linerisk_side.{EVENTS_TABLE} ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if last is not None:
            self.set_meta("events_head", {"seq": last[0], "hash": last[1]})

    def iter_events(self, risk_id: int | None = None) -> Iterator[dict[str, Any]]:
        if risk_id is None:
            yield from self._dicts(f"SELECT * FROM {EVENTS_TABLE} ORDER BY seq")
        else:
            yield from self._dicts(
                f"SELECT * FROM {EVENTS_TABLE} WHERE risk_id = ? ORDER BY seq", (risk_id,)
            )

    def iter_histories(self) -> Iterator[tuple[int, str, str, str]]:
        cur = self._conn.cursor()
        cur.row_factory = None
        # the risk_id index holds (risk_id, seq): no sort
        yield from cur.execute(
            f"SELECT risk_id, at, action, data FROM {EVENTS_TABLE} ORDER BY risk_id, seq"
        )

    def history_rows(self, risk_ids: Iterable[int] | None = None) -> Iterator[dict[str, Any]]:
        # An event whose data was edited into broken JSON reads as null here
        # (verify reports the edit).
        # Only events that can hold the key are parsed (instr is a plain text search).
        reason = (
            "CASE WHEN instr(data, '\"reason\"') AND json_valid(data) "
            "THEN json_extract(data, '$.reason') END"
        )
        deadline = (
            "CASE WHEN action IN ('report', 'reopen', 'rework') AND json_valid(data) "
            f"THEN {_DEADLINE_SQL} END"
        )
        sql = (
            "SELECT seq, risk_id, at, actor, action, from_status, to_status, note, "
            f"{reason} AS reason, {deadline} AS deadline FROM {EVENTS_TABLE}"
        )
        params: list[Any] = []
        if risk_ids is not None:
            sql += " WHERE risk_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted({int(i) for i in risk_ids})))
        yield from self._dicts(sql + " ORDER BY seq", params)

    # ------------------------------------------------------------------ patrols

    def insert_patrol_change(self, row: Mapping[str, Any]) -> int:
        names = [c for c, _t in PATROL_COLUMNS if c != "id"]
        cur = self._write(
            f"INSERT INTO {PATROL_TABLE} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))})",
            [row[c] for c in names],
        )
        return int(cur.lastrowid)

    def patrol_changes(self, since: str | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM {PATROL_TABLE}"
        params: list[Any] = []
        if since is not None:
            sql += " WHERE at >= ?"
            params.append(since)
        return [dict(r) for r in self._conn.execute(sql + " ORDER BY id", params)]


def _reporting(
    rows: Iterable[tuple[Any, ...]], total: int, progress: Callable[[int, int], None]
) -> Iterator[tuple[Any, ...]]:
    """``rows`` unchanged, calling ``progress(done, total)`` every 10,000 rows."""
    for i, row in enumerate(rows, 1):
        yield row
        if i % 10_000 == 0:
            progress(i, total)
