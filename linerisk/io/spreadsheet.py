"""The existing spreadsheet register: reading workbooks and CSV files, and turning
rows of a register (one hazard a row) into risks.

A station's register row says where the hazard is by chainage (``K12+300`` or
a range ``K12+300~K12+450``), side (左侧/右侧, or 上行/下行), and distance from
the track (``30米``, ``约30m``, ``30``), with a category, a date found, a
responsible unit and a status (未整改/整改中/已整改/已销号...). :func:`risk_rows`
parses such rows, places each with linear referencing, and returns the rows for
:meth:`Register.add_risks <linerisk.register.Register.add_risks>` with the
lifecycle events that bring each to its status, plus the rows it cannot take,
each with one sentence saying why. A row is taken whole or not at all.

openpyxl is imported only when a workbook is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from linerisk.errors import LineriskError
from linerisk.io.mapping import (
    CATEGORY_SYNONYMS,
    FIELDS,
    STATUS_WORDS,
    SYNONYMS,
    FieldMapping,
    norm_header,
    norm_value,
)
from linerisk.io.report import Message, Reject, jsonable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from linerisk.model import CategoryCatalog, Status
    from linerisk.network import Network, Referenced
    from linerisk.settings import Settings

__all__ = [
    "TABLE_SUFFIXES",
    "ParsedRisk",
    "ParsedRisks",
    "Table",
    "parse_date",
    "parse_distance",
    "read_table",
    "risk_rows",
]

#: file suffixes read as tables (the rest goes to GDAL through pyogrio)
TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".tsv", ".txt")


class SpreadsheetError(LineriskError, ValueError):
    """A workbook or CSV file that cannot be read; the message says why."""


# ----------------------------------------------------------------------------- tables


@attrs.frozen(eq=False)
class Table:
    """The rows of one sheet or CSV file under its header row.

    ``rows`` holds each record's row number as the user sees it (the
    spreadsheet row, or the line of the CSV file).
    """

    path: str
    sheet: str | None
    columns: tuple[str, ...]
    records: list[dict[str, Any]]
    rows: list[int]

    def __len__(self) -> int:
        return len(self.records)


def _known_headers() -> set[str]:
    names: set[str] = set()
    for kind, fields in FIELDS.items():
        names.update(norm_header(f) for f in fields)
        for words in SYNONYMS[kind].values():
            names.update(norm_header(w) for w in words)
    return names


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _header_index(rows: Sequence[Sequence[Any]]) -> int:
    """The header row: the one among the first rows with most recognised headers."""
    known = _known_headers()
    best, best_score = None, 1
    for i, row in enumerate(rows[:15]):
        score = sum(1 for v in row if v is not None and norm_header(v) in known)
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return best
    for i, row in enumerate(rows):
        if any(v is not None for v in row):
            return i
    return 0


def _as_table(path: str, sheet: str | None, raw: list[list[Any]], first_row: int) -> Table:
    raw = [[_clean(v) for v in row] for row in raw]
    h = _header_index(raw)
    header = raw[h] if raw else []
    width = max((len(r) for r in raw), default=0)
    columns: list[str] = []
    for j in range(width):
        name = header[j] if j < len(header) else None
        name = str(name).strip() if name is not None else f"column_{j + 1}"
        base, k = name, 2
        while name in columns:
            name = f"{base}_{k}"
            k += 1
        columns.append(name)
    records, numbers = [], []
    for i in range(h + 1, len(raw)):
        row = raw[i]
        if all(v is None for v in row):
            continue
        records.append({c: (row[j] if j < len(row) else None) for j, c in enumerate(columns)})
        numbers.append(first_row + i)
    used = [c for c in columns if not c.startswith("column_") or any(r[c] for r in records)]
    records = [{c: r[c] for c in used} for r in records]
    return Table(path, sheet, tuple(used), records, numbers)


def read_table(path: str | Path, *, sheet: str | None = None, encoding: str | None = None) -> Table:
    """Read a workbook sheet (``.xlsx``) or a CSV file into records.

    The header row is found among the first rows (a title row above it is
    skipped), empty rows are left out, and each record keeps its row number.
    A CSV file is read as UTF-8 (with or without BOM) or, failing that, as
    GB 18030 (what Excel writes on a Chinese Windows), unless ``encoding``
    says otherwise.
    """
    path = Path(path)
    if not path.is_file():
        raise SpreadsheetError(f"cannot read {path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_workbook(path, sheet)
    return _read_csv(path, encoding)


def _read_workbook(path: Path, sheet: str | None) -> Table:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - an optional dependency
        raise SpreadsheetError(
            "reading .xlsx needs openpyxl: pip install 'linerisk[xlsx]'"
        ) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a bad file
        raise SpreadsheetError(f"cannot read {path}: {exc}") from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in names:
            ws = wb[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            ws = wb.worksheets[int(sheet) - 1]
        else:
            raise SpreadsheetError(
                f"the workbook {path.name} has no sheet {sheet!r}; its sheets are "
                + ", ".join(names)
            )
        raw = [list(row) for row in ws.iter_rows(values_only=True)]
        title = ws.title
    finally:
        wb.close()
    return _as_table(str(path), title, raw, 1)


def _read_csv(path: Path, encoding: str | None) -> Table:
    data = path.read_bytes()
    text = None
    for enc in [encoding] if encoding else ["utf-8-sig", "gb18030"]:
        try:
            text = data.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        raise SpreadsheetError(
            f"cannot read {path}: it is neither UTF-8 nor GB 18030 text; give its encoding"
        )
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if path.suffix.lower() != ".tsv" else "\t"
    raw = [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return _as_table(str(path), None, raw, 1)


# ----------------------------------------------------------------------------- values

_DISTANCE = re.compile(
    r"(?:距离?|离)?(?:线路|铁路|中心|线路中心)?(?:约|大约|约为)?"
    r"(?P<n>\d+(?:\.\d+)?)"
    r"(?P<unit>米|m|公尺|km|公里|千米)?(?:左右|以内|处)?"
)


def parse_distance(value: Any) -> float:
    """Metres from the track: ``30``, ``"30米"``, ``"约30m"``, ``"0.5公里"``.

    >>> parse_distance("约30m"), parse_distance("12.5 米"), parse_distance(8)
    (30.0, 12.5, 8.0)
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == value and value >= 0:
            return float(value)
    elif isinstance(value, str):
        m = _DISTANCE.fullmatch(norm_value(value))
        if m:
            number = float(m["n"])
            return number * 1000 if m["unit"] in ("km", "公里", "千米") else number
    raise ValueError(
        f"cannot read distance {str(value)!r}; give metres as a number, e.g. 30 or 30米"
    )


_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]+(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?)?"
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def parse_date(value: Any, tz: dt.tzinfo) -> dt.datetime:
    """A date or time from a cell: a date cell, ``2026-08-03``, ``2026/8/3``,
    ``2026年8月3日``, ``2026.8.3 14:20``, an ISO time with offset, or an Excel
    serial number. Times without a zone are in ``tz``.

    >>> tz = dt.timezone(dt.timedelta(hours=8))
    >>> parse_date("2026年8月3日", tz).isoformat()
    '2026-08-03T00:00:00+08:00'
    """
    when: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime.combine(value, dt.time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            text = str(int(value))
            when = dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
        elif 1 <= value < 2958466:
            when = _EXCEL_EPOCH + dt.timedelta(days=float(value))
    elif isinstance(value, str):
        text = value.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            m = _DATE.fullmatch(text)
            if m:
                try:
                    when = dt.datetime(
                        int(m["y"]),
                        int(m["m"]),
                        int(m["d"]),
                        int(m["H"] or 0),
                        int(m["M"] or 0),
                        int(m["S"] or 0),
                    )
                except ValueError:
                    when = None
    if when is None:
        raise ValueError(f"cannot read date {str(value)!r}; use YYYY-MM-DD")
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when


def parse_side(value: Any, words: Mapping[str, str]) -> str:
    """``left`` or ``right`` from 左侧/右侧/左/右/线路左侧, left/right/L/R, or a side
    word of ``words`` (上行/下行 by default)."""
    text = norm_value(value)
    base = re.sub(r"^(?:线路|铁路)", "", text)
    base = re.sub(r"(?:线侧|侧|线|边)$", "", base) or text
    for candidate in (text, base):
        if candidate in words:
            return words[candidate]
    if base in ("左", "l", "left"):
        return "left"
    if base in ("右", "r", "right"):
        return "right"
    raise ValueError(
        f"unknown side {str(value)!r}; use 左侧/右侧 (left/right of increasing chainage) "
        "or 上行/下行"
    )


def category_words(catalog: CategoryCatalog, extra: Mapping[str, str]) -> dict[str, str]:
    """Normalised word → category key: the synonyms, ``extra`` and the Chinese names."""
    table = {norm_value(k): v for k, v in {**CATEGORY_SYNONYMS, **extra}.items()}
    for c in catalog:
        table.setdefault(norm_value(c.zh), c.key)
    return table


def parse_category(
    value: Any,
    catalog: CategoryCatalog,
    extra: Mapping[str, str],
    words: Mapping[str, str] | None = None,
) -> str:
    """A category key from a key, a Chinese name, a synonym (彩钢瓦, 地膜...) or a
    value containing exactly one synonym. ``words`` is :func:`category_words`, when
    the caller has it already."""
    text = str(value).strip()
    if text in catalog:
        return catalog.get(text).key
    norm = norm_value(text)
    table = words if words is not None else category_words(catalog, extra)
    if norm in table:
        return catalog.get(table[norm]).key
    found = {key for word, key in table.items() if word and word in norm}
    if len(found) == 1:
        return catalog.get(found.pop()).key
    if len(found) > 1:
        raise ValueError(
            f"category {text!r} matches several categories ({', '.join(sorted(found))}); write one"
        )
    raise ValueError(f"unknown category {text!r}: not a category of the register nor a synonym")


def parse_severity(value: Any) -> str:
    from linerisk.model import Severity

    text = str(value).strip()
    try:
        return Severity.parse(text).value
    except ValueError:
        stripped = re.sub(r"(?:隐患|风险)$", "", text)
        return Severity.parse(stripped if stripped else text).value


def parse_status(value: Any, extra: Mapping[str, str]) -> tuple[Status, str | None]:
    """(status, withdraw reason or None) from a key, a label or a station's word."""
    from linerisk.model import Status

    text = str(value).strip()
    norm = norm_value(text)
    for word, target in extra.items():
        if norm_value(word) == norm:
            status, _sep, reason = str(target).partition(":")
            return Status.parse(status), reason or None
    for word, (status, reason) in STATUS_WORDS.items():
        if norm_value(word) == norm:
            return Status(status), reason
    try:
        return Status.parse(text), None
    except ValueError:
        raise ValueError(
            f"unknown status {text!r}; use 未整改, 整改中, 已整改, 已销号 or 已撤销 "
            "(or a status key)"
        ) from None


def parse_reason(value: Any) -> str:
    from linerisk.lifecycle import WITHDRAW_REASONS

    text = str(value).strip()
    for key, (zh, en) in WITHDRAW_REASONS.items():
        if text in (key, zh, en):
            return key
    for word, (_status, reason) in STATUS_WORDS.items():
        if reason and text == word:
            return reason
    raise ValueError(
        f"unknown withdraw reason {text!r}; choose one of " + ", ".join(WITHDRAW_REASONS)
    )


def _chainage(value: Any) -> tuple[float, tuple[float, float] | None, str]:
    """(chainage, (start, end) of a range or None, the text as written)."""
    from linerisk.chainage import parse_chainage, parse_chainage_range

    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_chainage(float(value)).metres, None, str(value)
    text = re.sub(r"(?:处|附近|左右)$", "", str(value).strip())
    try:
        return parse_chainage(text, require_prefix=False).metres, None, text
    except ValueError as single:
        if not re.search(r"[~～至到]|\d\s*[-－—–]\s*[A-Za-z]*\d", text):
            raise single from None
    rng = parse_chainage_range(text, require_prefix=False)
    return (rng.start.metres + rng.end.metres) / 2, (rng.start.metres, rng.end.metres), text


# ----------------------------------------------------------------------------- risks


@attrs.frozen(eq=False)
class ParsedRisk:
    """One row that parsed and can be placed: the row for ``add_risks`` and what it
    needs to reach its status."""

    label: Any
    record: Mapping[str, Any]
    row: dict[str, Any]
    status: Status
    reason: str | None
    found_at: dt.datetime | None
    rectified_at: dt.datetime | None
    cleared_at: dt.datetime | None
    ref: str
    x: float
    y: float
    #: events given by the file itself (a ``history`` field), if any
    history: list[dict[str, Any]] | None = None
    responsible_unit: str | None = None
    #: where the row was placed: its referencing and its index there, which
    #: :meth:`Register.add_risks` takes instead of placing the row again
    placed: tuple[Referenced, int] | None = None


@attrs.frozen(eq=False)
class ParsedRisks:
    items: list[ParsedRisk]
    rejects: list[Reject]
    notes: list[Message]


def replay_events(
    item: ParsedRisk,
    current: Status,
    *,
    by: str,
    note: str,
    not_before: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Events that take a risk from ``current`` to ``item.status``, with the row's dates.

    Assignment and the start of rectification are dated the day found; the
    submission for re-inspection the rectification date; the clearing the
    clearing date (or the rectification date). A date earlier than
    ``not_before`` (the risk's last event) becomes "now".
    """
    path = status_path(current, item.status)
    if path is None:
        from linerisk.lifecycle import TransitionError

        raise TransitionError(
            f"a risk that is {current.value} cannot become {item.status.value} by import"
        )
    found = item.found_at
    at_of = {
        "assign": found,
        "start": found,
        "submit": item.rectified_at or item.cleared_at or found,
        "clear": item.cleared_at or item.rectified_at or found,
        "rework": None,
        "withdraw": item.cleared_at or found,
        "reopen": None,
    }
    events = []
    for action in path:
        at = at_of[action]
        if at is not None and not_before is not None and at < not_before:
            at = None
        ev: dict[str, Any] = {"action": action, "by": by, "at": at, "note": note}
        if action == "withdraw":
            ev["reason"] = item.reason
        events.append(ev)
    return events


def status_path(current: Status, target: Status) -> list[str] | None:
    """The shortest list of actions from ``current`` to ``target`` (breadth first);
    withdrawing only when the target is withdrawn."""
    if current is target:  # most rows of an import: before the imports below
        return []
    from linerisk.lifecycle import TRANSITIONS
    from linerisk.model import Action

    frontier: list[tuple[Status, list[str]]] = [(current, [])]
    seen = {current}
    while frontier:
        nxt = []
        for status, path in frontier:
            for action, (allowed, to) in TRANSITIONS.items():
                if status not in allowed or to in seen:
                    continue
                if action is Action.WITHDRAW and to is not target:
                    continue
                if to is target:
                    return [*path, action.value]
                seen.add(to)
                nxt.append((to, [*path, action.value]))
        frontier = nxt
    return None


def _check_history(history: Any, found_at: dt.datetime | None, tz: dt.tzinfo) -> list[dict]:
    """A file's own event list, checked the way the register will replay it."""
    from linerisk.lifecycle import next_status
    from linerisk.model import Status

    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise ValueError("the history field must be a list of events")
    status = Status.REPORTED
    last = found_at
    for ev in history:
        status = next_status(status, ev.get("action", ""), ev.get("reason"), ev.get("note"))
        if ev.get("at"):
            at = parse_date(ev["at"], tz)
            if last is not None and at < last:
                raise ValueError(
                    f"the history is out of order at {at.isoformat(timespec='seconds')}"
                )
            last = at
    return history


def _status_of_history(history: list[dict]) -> Status:
    from linerisk.lifecycle import next_status
    from linerisk.model import Status

    status = Status.REPORTED
    for ev in history:
        status = next_status(status, ev["action"], ev.get("reason"), ev.get("note"))
    return status


def line_lookup(lines: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """Line id by each way a file may name the line: id, Chinese name, English
    name, id in lower case (a row's value is tried as it is, then lower-cased)."""
    out = {line_id: line_id for line_id, _zh, _en in lines}
    for line_id, zh, en in lines:
        for name in (zh, en, line_id.lower()):
            out.setdefault(name, line_id)
    return out


def risk_rows(
    records: Sequence[Mapping[str, Any]],
    labels: Sequence[Any],
    columns: Mapping[str, str],
    *,
    network: Network,
    settings: Settings,
    points: np.ndarray | None = None,
    mapping: FieldMapping | None = None,
    source: Mapping[str, Any] | None = None,
    by: str | None = None,
    locate_by: str = "auto",
    lines: Sequence[tuple[str, str, str]] | None = None,
) -> ParsedRisks:
    """Parse and place rows of a risk register.

    ``columns`` maps risk fields to the records' columns (see
    :func:`linerisk.io.mapping.resolve_columns`); ``points`` holds, per record,
    a shapely point in the network's CRS or None. ``locate_by`` is ``auto``
    (the row's ``located_by`` if given, else coordinates when the row has them,
    else chainage), ``chainage`` or ``coordinates``. Rows found by nobody are
    recorded as found by ``by``, the person importing, who is also the actor of
    the events that bring each row to its status. ``lines`` are the register's
    lines as ``(id, name_zh, name_en)`` when ``network`` is only part of the
    register's network (:meth:`~linerisk.register.Register.network_near`): line
    names are matched against all of them, and a register of one line still
    lets a file leave the line out.
    """
    from linerisk.model import Status

    mapping = mapping or FieldMapping()
    tz = settings.tzinfo
    catalog = settings.categories
    side_words = mapping.side_words()
    defaults = dict(mapping.defaults)
    if lines is None:
        lines = [(ln.id, ln.name_zh, ln.name_en) for ln in network.lines]
    line_ids = line_lookup(lines)
    only_line = lines[0][0] if len(lines) == 1 else None
    if "line" not in columns and "line" not in defaults and only_line is not None:
        defaults["line"] = only_line
    if locate_by not in ("auto", "chainage", "coordinates"):
        raise LineriskError(
            f"unknown way to locate {locate_by!r}; choose one of auto, chainage, coordinates"
        )

    # Registers repeat the same few words thousands of times: parse each once.
    words = category_words(catalog, mapping.categories)
    category_of = _memo(lambda v: parse_category(v, catalog, mapping.categories, words))
    severity_of = _memo(parse_severity)
    status_of = _memo(lambda v: parse_status(v, mapping.statuses))
    date_of = _memo(lambda v: parse_date(v, tz))
    side_of = _memo(lambda v: parse_side(v, side_words))
    distance_of = _memo(parse_distance)
    chainage_of = _memo(_chainage)
    located_by_of = _memo(lambda v: _LOCATED_BY.get(norm_value(v)))

    rejects: list[Reject] = []
    notes: list[Message] = []
    pending: list[dict[str, Any]] = []
    no_severity = no_finder = no_status = 0
    source = dict(source or {})

    # field -> (its column or None, its default): looked up once per field
    plan: dict[str, tuple[str | None, Any]] = {}

    def get(record: Mapping[str, Any], name: str) -> Any:
        try:
            col, default = plan[name]
        except KeyError:
            col, default = plan[name] = (columns.get(name), defaults.get(name))
        value = record.get(col) if col is not None else None
        if value is None or (isinstance(value, str) and not value.strip()):
            value = default
        if isinstance(value, float) and value != value:
            return None
        return value

    for i, record in enumerate(records):
        label = labels[i]
        try:
            category = get(record, "category")
            if category is None:
                raise ValueError("no category given")
            category = category_of(category)
            sev = get(record, "severity")
            if sev is None:
                no_severity += 1
                sev = "general"
            severity = severity_of(sev)
            found_at = get(record, "found_at")
            found_at = date_of(found_at) if found_at is not None else None
            rectified = get(record, "rectified_at")
            rectified = date_of(rectified) if rectified is not None else None
            cleared = get(record, "cleared_at")
            cleared = date_of(cleared) if cleared is not None else None
            history = record.get("history") if "status" not in columns else None
            if isinstance(history, list):
                history = _check_history(history, found_at, tz)
                status, reason = _status_of_history(history), None
            else:
                history = None
                raw_status = get(record, "status")
                if raw_status is None:
                    no_status += 1
                    status, reason = Status.REPORTED, None
                else:
                    status, reason = status_of(raw_status)
                raw_reason = get(record, "reason")
                if raw_reason is not None and status is Status.WITHDRAWN:
                    reason = parse_reason(raw_reason)
                if status is Status.WITHDRAWN and reason is None:
                    raise ValueError(
                        "a withdrawn risk needs a reason (撤销原因): duplicate, "
                        "not_a_hazard or outside_scope"
                    )
                _check_dates(found_at, rectified, cleared, status)
            finder = get(record, "found_by")
            if finder is None:
                if not by:
                    raise LineriskError("found_by (who found it) is required")
                no_finder += 1
                finder = by
            if not by and (history or status is not Status.REPORTED):
                raise LineriskError("every change needs the actor who made it (by)")
            point = points[i] if points is not None else None
            how = locate_by
            if how == "auto":
                stated = located_by_of(get(record, "located_by") or "")
                if stated is not None:
                    how = stated
                else:
                    how = "coordinates" if point is not None else "chainage"
                if how == "coordinates" and point is None:
                    how = "chainage"
            where: dict[str, Any]
            if how == "coordinates":
                if point is None:
                    raise ValueError("the row has no coordinates")
                if point.geom_type != "Point":
                    raise ValueError(f"the geometry is a {point.geom_type}; a risk is a point")
                where = {"x": float(point.x), "y": float(point.y)}
                chain_text = None
            else:
                line = get(record, "line")
                chainage = get(record, "chainage")
                if line is None or chainage is None:
                    missing = "line" if line is None else "chainage"
                    if point is None and line is None and chainage is None:
                        raise ValueError("no chainage and no coordinates: the row cannot be placed")
                    raise ValueError(f"no {missing} given: the row cannot be placed by chainage")
                key = str(line).strip()
                line_id = line_ids.get(key) or line_ids.get(key.lower())
                if line_id is None:
                    network.line_index(key)  # raises, naming the register's lines
                metres, rng, chain_text = chainage_of(chainage)
                side = get(record, "side")
                if side is None:
                    raise ValueError("no side given (左侧/右侧 or 上行/下行)")
                offset = get(record, "offset_m")
                if offset is None:
                    raise ValueError("no distance from the track given")
                where = {
                    "line": line_id,
                    "chainage": metres,
                    "range": rng,
                    "side": side_of(side),
                    "offset": distance_of(offset),
                }
                if rng is None:
                    chain_text = None
        except (ValueError, LineriskError) as exc:
            rejects.append(Reject(label, str(exc), record))
            continue
        ref = get(record, "ref")
        unit = get(record, "responsible_unit")
        pending.append(
            {
                "i": i,
                "label": label,
                "record": record,
                "where": where,
                "category": category,
                "severity": severity,
                "found_at": found_at,
                "found_by": str(finder).strip(),
                "description": _text(get(record, "description")),
                "note": _text(get(record, "note")),
                "ref": _text(ref),
                "status": status,
                "reason": reason,
                "rectified_at": rectified,
                "cleared_at": cleared,
                "history": history,
                "chain_text": chain_text,
                "unit": _text(unit) or None,
            }
        )

    items = _place(pending, network, rejects, source)
    rejects.sort(key=lambda r: _order(r.row))
    if "line" not in columns and only_line is not None and "line" not in mapping.defaults:
        notes.append(
            Message(
                f"the file has no line column; every row is taken to be on {only_line}, "
                "the register's only line",
                f"文件没有线路列；所有行均按台账中唯一的线路 {only_line} 处理",
            )
        )
    if no_severity:
        notes.append(
            Message(
                f"{no_severity} rows give no severity and were registered as general",
                f"{no_severity} 行未填隐患等级，按“一般”登记",
            )
        )
    if no_status:
        notes.append(
            Message(
                f"{no_status} rows give no status and were registered as reported",
                f"{no_status} 行未填状态，按“已登记”登记",
            )
        )
    if no_finder:
        notes.append(
            Message(
                f"{no_finder} rows name nobody who found them; recorded as found by {by}",
                f"{no_finder} 行未填发现人，发现人记为 {by}",
            )
        )
    mismatched = _unit_mismatches(items, network)
    if mismatched:
        shown = ", ".join(str(m) for m in mismatched[:10])
        more = "" if len(mismatched) <= 10 else f" (+{len(mismatched) - 10})"
        notes.append(
            Message(
                f"{'row' if len(mismatched) == 1 else 'rows'} {shown}{more}: the responsible "
                "unit in the file is none of the parties the register finds there (the file's "
                "value is kept in each risk's source)",
                f"第 {shown}{more} 行：文件中的责任单位与台账按位置确定的责任单位均不一致"
                "（原值保留在隐患的来源记录中）",
            )
        )
    return ParsedRisks(items, rejects, notes)


_LOCATED_BY = {
    "chainage": "chainage",
    "里程": "chainage",
    "coordinates": "coordinates",
    "坐标": "coordinates",
}


def _memo(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``parse`` remembering its answer (or its error) for each value it has seen."""
    seen: dict[Any, tuple[bool, Any]] = {}

    def call(value: Any) -> Any:
        try:
            key = (type(value), value)
            hit = seen.get(key)
        except TypeError:  # an unhashable cell
            return parse(value)
        if hit is None:
            try:
                hit = (True, parse(value))
            except (ValueError, LineriskError) as exc:
                hit = (False, exc)
            seen[key] = hit
        if hit[0]:
            return hit[1]
        raise hit[1]

    return call


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _order(row: Any) -> tuple:
    return (0, row, "") if isinstance(row, int) else (1, 0, str(row))


def _check_dates(
    found: dt.datetime | None,
    rectified: dt.datetime | None,
    cleared: dt.datetime | None,
    status: Status,
) -> None:
    def day(d: dt.datetime) -> str:
        return d.date().isoformat()

    if found is None and (rectified is not None or cleared is not None):
        raise ValueError("a row with a rectification or clearing date needs the date found")
    if found is not None and rectified is not None and rectified < found:
        raise ValueError(
            f"the rectification date {day(rectified)} is before the date found {day(found)}"
        )
    if cleared is not None:
        first = rectified or found
        if first is not None and cleared < first:
            raise ValueError(
                f"the clearing date {day(cleared)} is before the date found or rectified "
                f"{day(first)}"
            )


def _place(
    pending: list[dict[str, Any]],
    network: Network,
    rejects: list[Reject],
    source: Mapping[str, Any],
) -> list[ParsedRisk]:
    """Reference every pending row at once; rows that cannot be placed become rejects."""
    import numpy as np

    from linerisk.calibration import ChainageStatus
    from linerisk.chainage import format_chainage

    by_xy = [p for p in pending if "x" in p["where"]]
    by_ch = [p for p in pending if "x" not in p["where"]]
    # A range is placed at its midpoint on the ground: half-way in measure, which
    # differs from the nominal midpoint when a chain break lies inside the range.
    ranges = [p for p in by_ch if p["where"]["range"] is not None]
    if ranges:
        lines = np.array([p["where"]["line"] for p in ranges], dtype=object)
        for line_id in set(lines.tolist()):
            sel = [p for p, ln in zip(ranges, lines, strict=True) if ln == line_id]
            cal = network.calibration(line_id)
            ends = np.array([p["where"]["range"] for p in sel], dtype=float)
            m0, s0 = cal.measures_at(ends[:, 0])
            m1, s1 = cal.measures_at(ends[:, 1])
            mid = cal.chainage_at((m0 + m1) / 2)
            bad = (s0 == ChainageStatus.NONEXISTENT) | (s1 == ChainageStatus.NONEXISTENT)
            for k, p in enumerate(sel):
                if bad[k]:
                    a, b = p["where"]["range"]
                    rng = f"{format_chainage(a)}-{format_chainage(b)}"
                    p["problem"] = f"the range {rng} starts or ends inside a short chain"
                else:
                    p["where"]["chainage"] = float(mid[k])
    for p in by_ch:
        if "problem" in p:
            rejects.append(Reject(p["label"], p["problem"], p["record"]))
    by_ch = [p for p in by_ch if "problem" not in p]
    placed: list[tuple[dict[str, Any], Any, int]] = []
    refs = []
    if by_xy:
        ref = network.reference([p["where"]["x"] for p in by_xy], [p["where"]["y"] for p in by_xy])
        placed += [(p, ref, k) for k, p in enumerate(by_xy)]
        refs.append(ref)
    if by_ch:
        ref = network.place(
            [p["where"]["line"] for p in by_ch],
            [p["where"]["chainage"] for p in by_ch],
            [p["where"]["side"] for p in by_ch],
            [p["where"]["offset"] for p in by_ch],
        )
        placed += [(p, ref, k) for k, p in enumerate(by_ch)]
        refs.append(ref)
    if by_xy and by_ch:  # back in the file's order
        placed.sort(key=lambda t: t[0]["i"])
    # per referencing: which points it placed, and their coordinates as floats
    found = {id(r): (r.ok.tolist(), r.x.tolist(), r.y.tolist()) for r in refs}
    prefix = {k: v for k, v in source.items() if v is not None}
    items = []
    for p, ref, k in placed:
        ok, xs, ys = found[id(ref)]
        if not ok[k]:
            rejects.append(Reject(p["label"], ref.problem(k), p["record"]))
            continue
        w = p["where"]
        row: dict[str, Any] = {
            "category": p["category"],
            "severity": p["severity"],
            "found_by": p["found_by"],
            "found_at": p["found_at"],
            "description": p["description"],
            "note": p["note"],
            "ref": p["ref"],
        }
        if "x" in w:
            row |= {"x": w["x"], "y": w["y"], "crs": network.crs}
        else:
            row |= {
                "line": w["line"],
                "chainage": w["chainage"],
                "side": w["side"],
                "offset": w["offset"],
            }
        prov = {
            **prefix,
            "row": jsonable(p["label"]),
            "record": {
                # text and whole numbers (most cells) as they are
                (f if type(f) is str else str(f)): (
                    v if type(v) is str or type(v) is int else jsonable(v)
                )
                for f, v in p["record"].items()
                if f != "history"
            },
        }
        if p["chain_text"]:
            prov["chainage_range"] = p["chain_text"]
        row["source"] = prov
        items.append(
            ParsedRisk(
                label=p["label"],
                record=p["record"],
                row=row,
                status=p["status"],
                reason=p["reason"],
                found_at=p["found_at"],
                rectified_at=p["rectified_at"],
                cleared_at=p["cleared_at"],
                ref=p["ref"],
                x=xs[k],
                y=ys[k],
                history=p["history"],
                responsible_unit=p["unit"],
                placed=(ref, k),
            )
        )
    return items


def _unit_mismatches(items: Sequence[ParsedRisk], network: Network) -> list[Any]:
    """Rows whose stated responsible unit matches none of the parties found there."""
    with_unit = [it for it in items if it.responsible_unit]
    if not with_unit:
        return []
    ref = network.reference([it.x for it in with_unit], [it.y for it in with_unit])
    out = []
    for k, it in enumerate(with_unit):
        if not ref.ok[k]:
            continue
        p = ref.parties(k)
        names = [
            n
            for n in (
                p.police,
                p.works_section,
                p.workshop,
                p.work_area,
                p.district,
                p.street_office,
                p.community,
            )
            if n
        ]
        unit = norm_value(it.responsible_unit)
        if not any(norm_value(n) in unit or unit in norm_value(n) for n in names):
            out.append(it.label)
    return out
