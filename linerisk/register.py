"""The register (隐患台账): the one object users import.

    >>> from linerisk import Register
    >>> reg = Register.create(path, from_dir=sample_dir())          # doctest: +SKIP
    >>> risk = reg.add_risk(category="garbage", severity="general",   # doctest: +SKIP
    ...                     line="JD", chainage="K5+200", side="left", offset=30,
    ...                     found_by="天津站派出所 王磊")
    >>> reg.assign(risk.id, by="天津站派出所 王磊")                      # doctest: +SKIP

Every write is one transaction on the store. Every change to a risk appends an
event to a hash-chained log; :meth:`Register.verify` recomputes the chain.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from linerisk.bulk import collector_paused
from linerisk.chainage import parse_chainage
from linerisk.crs import WGS84
from linerisk.errors import DuplicateRiskError, LineriskError, ReferencingError, UnknownRiskError
from linerisk.lifecycle import (
    GENESIS,
    TRANSITIONS,
    TransitionError,
    canonical_json,
    canonical_objects,
    chain_events,
    next_status,
    stored_event_hash,
)
from linerisk.model import (
    Action,
    Band,
    Event,
    Location,
    Parties,
    Risk,
    Severity,
    Side,
    Status,
    Vertical,
    Zone,
)
from linerisk.settings import Settings
from linerisk.store.base import Ground, RiskQuery, Store, StoreError
from linerisk.store.gpkg import GeoPackageStore

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from linerisk.network import Network, Referenced

__all__ = ["PartySummary", "Register", "VerifyReport"]

OPEN_STATUSES = tuple(s.value for s in Status if s.is_open)

#: report events of a bulk insert are built and written this many at a time
EVENT_BATCH = 50_000

#: up to this many points are referenced on the part of the network near them
#: (read through the register's spatial indexes) when the whole is not loaded
NEAR_POINTS = 16
#: a batch of at most this many rows is checked for duplicates row by row through
#: the R-tree; a larger one reads the open risks in its extent at once
NEAR_CHECK_ROWS = 5000

#: The columns a ``report`` event records of the new risk (with its ``x``, ``y``):
#: what was reported, and where and to whom linerisk placed it. The other
#: columns follow from these and the network and settings of the day.
REPORT_RECORD = (
    "category",
    "severity",
    "found_at",
    "found_by",
    "description",
    "note",
    "ref",
    "located_by",
    "line",
    "chainage_m",
    "side",
    "offset_m",
    "segment",
    "police",
    "street_office",
    "lead_vertical",
    "deadline",
)


#: the fields of a stored event that its hash covers, in the order hashed
_HASHED_FIELDS = operator.itemgetter(
    "seq", "risk_id", "at", "actor", "action", "from_status", "to_status", "note", "data"
)

#: the columns of a risk that its history holds: set by its report event and
#: changed only through events (a move, re-referencing, clearing, reopening).
#: Not the segment: a works section that changes the patrol frequency of part
#: of a segment splits it and renames the risks' segment (``patrol_changes``).
_RECORDED = (*(k for k in REPORT_RECORD if k != "segment"), "x", "y", "cleared_at")
#: at most this many risks whose columns differ are named, then counted
_NAMED_DIFFERENCES = 20


def _recorded_columns(events: Iterable[tuple[int, str, str, str]]) -> dict[str, Any] | None:
    """The recorded columns of one risk after its events ``(risk_id, at,
    action, data)``, in order (with whatever else the records hold); None if
    its history has no report."""
    state: dict[str, Any] | None = None
    for _rid, at, action, text in events:
        if action == "report":
            # the record leaves out empty values; nothing is cleared yet
            state = {**_BLANK, **json.loads(text)["record"]}
        elif state is None:
            continue
        elif action == "move":
            # the whole new record, empty values left out; a move does not clear
            cleared = state["cleared_at"]
            state.update(_BLANK)
            state.update(json.loads(text)["to"])
            state["cleared_at"] = cleared
        elif action == "edit":  # re-referenced: the columns that changed
            state.update(json.loads(text)["to"])
        elif action == "clear":
            state["cleared_at"] = at
        elif action == "reopen":
            state["cleared_at"] = None
            state["deadline"] = json.loads(text).get("deadline", state["deadline"])
        elif action == "rework":  # sent back, perhaps with a new deadline
            state["deadline"] = json.loads(text).get("deadline", state["deadline"])
    return state


_BLANK = dict.fromkeys(_RECORDED)


def _same(key: str, stored: Any, recorded: Any) -> bool:
    if stored is None or recorded is None:
        return stored is recorded
    if key in ("x", "y"):  # recorded to the millimetre
        return abs(stored - recorded) <= 0.0006
    if isinstance(stored, float) or isinstance(recorded, float):
        return math.isclose(stored, recorded, rel_tol=0.0, abs_tol=1e-6)
    return bool(stored == recorded)


def _column_problems(
    events: Iterable[tuple[int, str, str, str]], rows: Mapping[int, Mapping[str, Any]]
) -> list[str]:
    """Risks whose recorded columns differ from what their history says: edited
    in the layer (QGIS, an SQLite tool) without an event. Reads the log risk by
    risk, one history at a time."""
    named: list[str] = []
    more = 0
    exact = operator.itemgetter(*(k for k in _RECORDED if k not in ("x", "y")))
    for rid, history in itertools.groupby(events, key=operator.itemgetter(0)):
        row = rows.get(rid)
        state = _recorded_columns(history)
        if row is None or state is None:
            continue
        if (
            exact(row) == exact(state)
            and _same("x", row["x"], state["x"])
            and _same("y", row["y"], state["y"])
        ):
            continue  # most risks: every column as written
        key = next((k for k in _RECORDED if not _same(k, row[k], state[k])), None)
        if key is None:
            continue
        if len(named) < _NAMED_DIFFERENCES:
            named.append(
                f"risk {rid}: its {key} is {row[key]!r} in the risks layer but "
                f"{state[key]!r} in its history (changed without an event)"
            )
        else:
            more += 1
    if more:
        named.append(f"{more} more risks have columns that differ from their history")
    return named


@attrs.frozen
class VerifyReport:
    """Outcome of :meth:`Register.verify`."""

    ok: bool
    events: int
    risks: int
    problems: tuple[str, ...] = ()
    #: seq of the first event whose hash or link does not match, if any
    first_broken_seq: int | None = None

    def message(self, lang: str = "en") -> str:
        if self.ok:
            if lang == "zh":
                return f"审计链完整：{self.events} 条记录，{self.risks} 个隐患，均未被改动。"
            return f"audit chain intact: {self.events} events for {self.risks} risks, none altered"
        return self.problems[0]


@attrs.frozen
class PartySummary:
    """Counts for one party, as on the first page of a joint-meeting agenda."""

    vertical: Vertical
    party: str | None
    open: int
    overdue: int
    cleared: int


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


#: one encoder for every call (json.dumps with options builds a new one each time)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


def _values(rows: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    """``row.get(key)`` of every row."""
    return list(map(operator.methodcaller("get", key), rows))


def _ends_open(events: Sequence[Sequence[Mapping[str, Any]]] | None, n: int) -> np.ndarray:
    """Whether each of ``n`` new risks is still open after the history given
    for it (no history: open). An action that is not a status change, or that
    cannot be read, leaves the status as it is: the replay refuses it later."""
    import numpy as np

    out = np.ones(n, dtype=bool)
    for i, history in enumerate(events or ()):
        status = Status.REPORTED
        for ev in history or ():
            try:
                status = TRANSITIONS[Action.parse(ev["action"])][1]
            except (KeyError, TypeError, ValueError):
                continue
        out[i] = status.is_open
    return out


def _texts(rows: Sequence[Mapping[str, Any]], key: str) -> list[str | None]:
    """``str(row.get(key) or "") or None`` of every row, without a call per row
    when the values are text or missing (as they are in bulk)."""
    values = _values(rows, key)
    if values.count(None) == len(values):
        return values
    if set(map(type, values)) <= {str, type(None)}:
        return [v or None for v in values]
    return [str(v or "") or None for v in values]


class Register:
    """A risk register held in a store (a GeoPackage file by default).

    Use :meth:`create` or :meth:`open`; close it with :meth:`close` or a
    ``with`` block.
    """

    def __init__(self, store: Store) -> None:
        from linerisk.crs import register_pipelines

        self.store = store
        register_pipelines(store.get_meta("pipelines") or {})
        self._network: Network | None = None
        #: parts of the network read for a set of points (network_near), whose
        #: referencing add_risks takes as it takes the whole network's
        self._near_networks: weakref.WeakSet[Network] = weakref.WeakSet()
        self._settings: Settings | None = None

    # ------------------------------------------------------------------ life

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        crs: str | None = None,
        settings: Settings | None = None,
        network: Network | None = None,
        from_dir: str | Path | None = None,
    ) -> Register:
        """Create a register file, optionally loading a network.

        ``crs`` must be metric (projected); without it the CRS is taken from
        ``network`` or chosen from the data in ``from_dir``.
        """
        settings = settings or Settings()
        if from_dir is not None and network is None:
            from linerisk.sample import load_network_dir

            network = load_network_dir(from_dir, crs=crs, settings=settings)
        if crs is None:
            if network is None:
                raise LineriskError(
                    "a new register needs a metric CRS (e.g. EPSG:4548) or data to choose one from"
                )
            crs = network.crs
        _require_metric(crs)
        store = GeoPackageStore.create(path, crs)
        reg = cls(store)
        try:
            with store.transaction():
                from linerisk.crs import pipelines_for

                store.set_meta("settings", settings.to_dict())
                store.set_meta("pipelines", pipelines_for(crs))
                store.set_meta("created_at", _iso(dt.datetime.now(settings.tzinfo)))
                if network is not None:
                    reg._write_network(network)
        except BaseException:
            store.close()
            Path(path).unlink(missing_ok=True)
            raise
        return reg

    @classmethod
    def open(cls, path: str | Path) -> Register:
        """Open an existing register file."""
        return cls(GeoPackageStore.open(path))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[None]:
        """Group several writes into one transaction."""
        return self.store.transaction()

    @property
    def crs(self) -> str:
        return self.store.crs

    # ------------------------------------------------------------------ settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_dict(self.store.get_meta("settings") or {})
        return self._settings

    def update_settings(self, **changes: Any) -> Settings:
        """Change settings, e.g. ``update_settings(deadline_days={"major": 5})``."""
        new = Settings.from_dict({**self.settings.to_dict(), **changes})
        with self.store.transaction():
            self.store.set_meta("settings", new.to_dict())
        self._settings = new
        self._network = None
        self._near_networks = weakref.WeakSet()
        return new

    # ------------------------------------------------------------------ network

    @property
    def network(self) -> Network:
        """The lines and jurisdictions in the register, indexed for referencing."""
        if self._network is None:
            self._network = self._read_network()
        return self._network

    @property
    def network_loaded(self) -> bool:
        """Whether :attr:`network` has been read (a later use costs nothing)."""
        return self._network is not None

    def network_near(
        self, x: Sequence[float], y: Sequence[float], lines: Sequence[str] = ()
    ) -> Network:
        """The part of the network that referencing a few points needs: the lines
        within ``max_distance_m`` of the points (``x``, ``y`` in the register's
        CRS) and the ``lines`` named, each with its posts, chain breaks and
        segments, and the police areas and neighbourhoods around the points and
        along the named lines; read through the spatial indexes. A point is
        referenced on it as on the whole network (a point with no line in reach
        is not placed on it: ask :attr:`network` why). The whole network when it
        is loaded already, or when no line is in reach and none is named."""
        if self._network is not None:
            return self._network
        from linerisk.store.rows import network_near

        near = network_near(self.store, self.settings, x, y, along=lines)
        if near is None:
            return self.network
        self._near_networks.add(near)
        return near

    def import_network(self, network: Network) -> None:
        """Replace every network layer with ``network``'s, in one transaction."""
        with self.store.transaction():
            self._write_network(network)

    def import_dir(self, directory: str | Path) -> Network:
        """Replace the network layers with the layer files in ``directory``."""
        from linerisk.sample import load_network_dir

        net = load_network_dir(directory, crs=self.crs, settings=self.settings)
        self.import_network(net)
        return net

    def _write_network(self, net: Network) -> None:
        from linerisk.store.rows import network_rows

        if net.crs != self.crs:
            raise LineriskError(f"network CRS {net.crs} differs from the register's {self.crs}")
        for kind, (rows, geoms) in network_rows(net).items():
            self.store.replace_layer(kind, rows, geoms)
        self._network = None
        self._near_networks = weakref.WeakSet()

    def _read_network(self) -> Network:
        from linerisk.store.rows import network_from_store

        return network_from_store(self.store, self.settings)

    # ------------------------------------------------------------------ adding risks

    def add_risk(
        self,
        *,
        category: str,
        severity: str | Severity,
        found_by: str,
        found_at: dt.datetime | str | None = None,
        lon: float | None = None,
        lat: float | None = None,
        x: float | None = None,
        y: float | None = None,
        crs: str | None = None,
        line: str | None = None,
        chainage: str | float | None = None,
        side: str | Side | None = None,
        offset: float | None = None,
        description: str = "",
        note: str = "",
        ref: str = "",
        allow_duplicate: bool = False,
    ) -> Risk:
        """Register one risk by coordinates or by chainage and return it placed.

        Give ``lon``/``lat`` (WGS 84 unless ``crs``), or ``x``/``y`` in
        ``crs`` (default the register's), or ``line``, ``chainage``, ``side``
        and ``offset``. An open risk of the same category within
        ``settings.duplicate_radius_m`` raises :class:`DuplicateRiskError`
        naming it, unless ``allow_duplicate``.
        """
        by_coords = lon is not None or lat is not None or x is not None or y is not None
        by_chainage = line is not None or chainage is not None
        if by_coords == by_chainage:
            raise LineriskError(
                "give either coordinates (lon/lat or x/y) or line, chainage, side and offset"
            )
        row: dict[str, Any] = {
            "category": category,
            "severity": severity,
            "found_by": found_by,
            "found_at": found_at,
            "description": description,
            "note": note,
            "ref": ref,
        }
        if by_coords:
            if lon is not None or lat is not None:
                if lon is None or lat is None:
                    raise LineriskError("give both lon and lat")
                row |= {"x": lon, "y": lat, "crs": crs or WGS84}
            else:
                if x is None or y is None:
                    raise LineriskError("give both x and y")
                row |= {"x": x, "y": y, "crs": crs or self.crs}
        else:
            missing = [
                n for n, v in (("line", line), ("chainage", chainage), ("side", side)) if v is None
            ]
            if missing:
                raise LineriskError(f"a risk given by chainage also needs {', '.join(missing)}")
            row |= {"line": line, "chainage": chainage, "side": side, "offset": offset or 0.0}
        ids = self.add_risks([row], allow_duplicates=allow_duplicate)
        return self.get(ids[0])

    @collector_paused()
    def add_risks(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        allow_duplicates: bool = False,
        events: Sequence[Sequence[Mapping[str, Any]]] | None = None,
        progress: Callable[[int, int], None] | None = None,
        referenced: Referenced | None = None,
    ) -> list[int]:
        """Register many risks in one transaction; all or nothing.

        Each row has ``category``, ``severity``, ``found_by``, optional
        ``found_at``, ``description``, ``note``, ``ref``, ``source`` and either
        ``x``, ``y`` (with ``crs``, default WGS 84) or ``line``, ``chainage``,
        ``side``, ``offset``. ``events`` optionally gives, per row, the history
        to replay after registration (dicts with ``action``, ``by``, ``at``,
        ``note``, ``reason``), as when loading an existing register.
        ``progress(done, total)`` is called as rows are written.
        ``referenced`` is the rows' referencing when the caller has placed them
        already on :attr:`network` or on a part of it from :meth:`network_near`
        (one entry per row, as
        :func:`~linerisk.io.importing.import_layer` has, having placed every row
        of a file to reject those it cannot); made on another network it is
        not used and the rows are placed again.
        """
        import numpy as np

        from linerisk.riskrows import risk_columns

        settings = self.settings
        catalog = settings.categories
        now = dt.datetime.now(settings.tzinfo)
        n = len(rows)
        if n == 0:
            return []
        # Rows repeat their category, severity and time of finding; each
        # combination is checked and derived once.
        facts: dict[tuple[Any, Any, Any], tuple[str, Vertical, str, str, dt.datetime, str]] = {}
        per_row: list[tuple[str, Vertical, str, str, dt.datetime, str]] = []
        by_col: list[str] = []
        for i, row in enumerate(rows):
            try:
                key = (row["category"], row["severity"], row.get("found_at"))
                fact = facts.get(key)
                if fact is None:
                    cat = catalog.get(key[0])
                    sev = Severity.parse(key[1])
                    when = self.parse_time(key[2], now)
                    deadline = _iso(settings.deadline_for(sev, when))
                    fact = facts[key] = (cat.key, cat.lead, sev.value, _iso(when), when, deadline)
                by = row.get("found_by")
                by = (by if type(by) is str else str(by or "")).strip()
                if not by:
                    raise LineriskError("found_by (who found it) is required")
            except KeyError as exc:
                where = f"row {i + 1}: " if n > 1 else ""
                raise LineriskError(f"{where}missing field {exc.args[0]}") from None
            except (ValueError, TypeError, LineriskError) as exc:
                where = f"row {i + 1}: " if n > 1 else ""
                raise LineriskError(f"{where}{exc}") from None
            per_row.append(fact)
            by_col.append(by)
        cat_col, lead_col, sev_col, found_col, found_dts, deadline_col = (
            list(c) for c in zip(*per_row, strict=True)
        )
        if referenced is not None and len(referenced) != n:
            raise ValueError(f"referenced holds {len(referenced)} points for {n} rows")
        if referenced is not None and (
            referenced.network is self._network or referenced.network in self._near_networks
        ):
            ref = referenced
        else:
            ref = self._reference_rows(rows)
        bad = np.flatnonzero(~ref.ok)
        if len(bad):
            i = int(bad[0])
            where = f"row {i + 1}: " if n > 1 else ""
            raise ReferencingError(f"{where}{ref.problem(i)}")
        if not allow_duplicates and n > 1:
            self._check_batch_duplicates(ref, cat_col, _ends_open(events, n))
        columns = risk_columns(
            ref,
            category=cat_col,
            severity=sev_col,
            lead=lead_col,
            found_at=found_col,
            found_by=by_col,
            deadline=deadline_col,
            located_by=["coordinates" if "x" in r else "chainage" for r in rows],
            description=_texts(rows, "description"),
            note=_texts(rows, "note"),
            ref_code=_texts(rows, "ref"),
            source=[None if v is None else _json(v) for v in _values(rows, "source")],
            status=Status.REPORTED.value,
            updated_at=_iso(now),
        )
        record = {c: columns[c] for c in REPORT_RECORD}
        record["x"] = np.round(ref.x, 3).tolist()
        record["y"] = np.round(ref.y, 3).tolist()
        # canonical_json({"record": {...}, "recorded_at": now}), built column-wise
        tail = f',"recorded_at":{json.dumps(_iso(now), ensure_ascii=False)}}}'
        notes = [v or "" for v in columns["note"]]
        with self.store.transaction():
            # Checked inside the write transaction, so that two writers adding the
            # same hazard at once cannot both pass the check.
            if not allow_duplicates:
                self._check_duplicates(ref, cat_col)
            seq, prev = self.store.event_head()
            first = self.store.next_risk_id()

            def reports() -> Iterator[list[tuple[Any, ...]]]:
                # The report events need only the ids the rows will get, so a
                # store may build them while it writes the rows. A slice at a
                # time: the JSON of a million records and their rows, held at
                # once, were gigabytes of memory to fault in.
                last_seq, last_hash = seq, prev
                for lo in range(0, n, EVENT_BATCH):
                    hi = min(n, lo + EVENT_BATCH)
                    data = canonical_objects(
                        {k: v[lo:hi] for k, v in record.items()}, '{"record":', tail
                    )
                    events = zip(
                        range(first + lo, first + hi),
                        found_col[lo:hi],
                        by_col[lo:hi],
                        itertools.repeat(Action.REPORT.value),
                        itertools.repeat(None),
                        itertools.repeat(Status.REPORTED.value),
                        notes[lo:hi],
                        data,
                    )
                    rows, last_seq, last_hash = chain_events(last_seq, last_hash, events)
                    yield rows

            with self.store.appending_events(reports, n):
                ids = self.store.insert_risks(columns, ref.x, ref.y, progress)
                if ids[0] != first:
                    raise StoreError(f"new risks were numbered from {ids[0]}, not {first}")
            if progress is not None:
                progress(n, n)
            if events is not None:
                self._replay(ids, events, found_dts, sev_col, now)
        return ids

    def _replay(
        self,
        ids: Sequence[int],
        events: Sequence[Sequence[Mapping[str, Any]]],
        found_at: Sequence[dt.datetime],
        severities: Sequence[str],
        now: dt.datetime,
    ) -> None:
        """Replay histories of just-added risks, with the rules of :meth:`transition`.

        Done in memory and written at once (one update per risk and one append
        for all events), inside the caller's transaction.
        """
        log: list[tuple[Any, ...]] = []
        updates: list[tuple[int, dict[str, Any]]] = []
        recorded = _iso(now)
        n = len(ids)
        for i, (rid, history) in enumerate(zip(ids, events, strict=True)):
            if not history:
                continue
            where = f"row {i + 1}: " if n > 1 else ""
            status = Status.REPORTED
            last = found_at[i]
            changes: dict[str, Any] = {}
            for ev in history:
                try:
                    action = Action.parse(ev["action"])
                    by = str(ev.get("by") or "").strip()
                    if not by:
                        raise LineriskError("every change needs the actor who made it (by)")
                    reason = ev.get("reason")
                    target = next_status(status, action, reason, ev.get("note"))
                    when = self.parse_time(ev.get("at"), now)
                    if when < last:
                        raise TransitionError(
                            f"the change at {_iso(when)} is earlier than the risk's last "
                            f"recorded event at {_iso(last)}"
                        )
                except KeyError as exc:
                    raise LineriskError(f"{where}missing field {exc.args[0]}") from None
                except (ValueError, LineriskError) as exc:
                    raise type(exc)(f"{where}{exc}") from None
                data: dict[str, Any] = {}
                if reason:
                    data["reason"] = reason
                if target is Status.CLEARED:
                    changes["cleared_at"] = _iso(when)
                if action is Action.REOPEN:
                    changes["cleared_at"] = None
                    deadline = _iso(self.settings.deadline_for(severities[i], when))
                    changes["deadline"] = deadline
                    data["deadline"] = deadline
                data["recorded_at"] = recorded
                log.append(
                    (
                        rid,
                        _iso(when),
                        by,
                        action.value,
                        status.value,
                        target.value,
                        ev.get("note") or "",
                        canonical_json(data),
                    )
                )
                status = target
                last = when
            changes["status"] = status.value
            changes["updated_at"] = recorded
            updates.append((rid, changes))
        self._write_events(log)
        for rid, changes in updates:
            self.store.update_risk(rid, changes)

    def parse_time(self, value: dt.datetime | str | None, default: dt.datetime) -> dt.datetime:
        if value is None or value == "":
            return default
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise LineriskError(
                    f"cannot read time {value!r}; use ISO 8601, e.g. 2026-11-29T09:30+08:00"
                ) from None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(0, 0))
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.settings.tzinfo)
        return value.astimezone(self.settings.tzinfo)

    def _reference_rows(self, rows: Sequence[Mapping[str, Any]]) -> Referenced:
        import numpy as np

        from linerisk.crs import transform_xy

        n = len(rows)
        by_xy = np.fromiter(map(operator.methodcaller("__contains__", "x"), rows), bool, n)
        x = np.full(n, np.nan)
        y = np.full(n, np.nan)
        # Coordinates: transform per source CRS, then locate in one call.
        crs_of = [c or WGS84 for c in _values(rows, "crs")]
        if n and by_xy.all() and crs_of.count(crs_of[0]) == n:  # a bulk load: one CRS
            groups = [(crs_of[0], np.arange(n))]
        else:
            groups = [
                (src, np.flatnonzero([b and c == src for c, b in zip(crs_of, by_xy, strict=True)]))
                for src in {c for c, b in zip(crs_of, by_xy, strict=True) if b}
            ]
        for src, sel in groups:
            try:
                xs = np.array([float(rows[i]["x"]) for i in sel])
                ys = np.array([float(rows[i]["y"]) for i in sel])
            except (TypeError, ValueError):
                raise LineriskError("coordinates must be numbers") from None
            _check_lonlat(xs, ys, src)
            x[sel], y[sel] = transform_xy(xs, ys, src, self.crs)
        chain_idx = np.flatnonzero(~by_xy)
        lines, chainages, sides, offsets = [], [], [], []
        side_of: dict[Any, Side] = {}
        for i in chain_idx:
            r = rows[i]
            try:
                lines.append(str(r["line"]))
                chainages.append(parse_chainage(r["chainage"]).metres)
                side = side_of.get(r["side"])
                if side is None:
                    side = side_of[r["side"]] = Side.parse(r["side"])
                sides.append(side)
                offsets.append(float(r.get("offset") or 0.0))
            except KeyError as exc:
                raise LineriskError(f"missing field {exc.args[0]}") from None
            except ValueError as exc:
                raise LineriskError(str(exc)) from None

        def on(net: Network) -> Referenced:
            located = net.reference(x[by_xy], y[by_xy]) if by_xy.any() else None
            placed = net.place(lines, chainages, sides, offsets) if len(chain_idx) else None
            return _merge_referenced(net, n, by_xy, located, placed)

        if self._network is None and n <= NEAR_POINTS:
            # A command's few points need only the network near them, read through
            # the register's spatial indexes: the lines within reach with their
            # posts, breaks and segments, and the areas holding the points.
            from linerisk.store.rows import network_near

            placed = (lines, chainages, sides, offsets) if len(chain_idx) else None
            near = network_near(self.store, self.settings, x[by_xy], y[by_xy], placed)
            if near is not None:
                ref = on(near)
                if ref.ok.all():
                    return ref
            # nothing in reach, or a problem: the whole network says what it is
        return on(self.network)

    def _check_batch_duplicates(
        self, ref: Referenced, categories: Sequence[str], ends_open: np.ndarray
    ) -> None:
        """Refuse a batch two of whose rows would be open risks of one category
        within ``duplicate_radius_m`` of each other, naming the later row and the
        nearest earlier one (as an import names the rows of its file)."""
        import numpy as np

        from linerisk.grid import BoxGrid

        radius = self.settings.duplicate_radius_m
        rows = np.flatnonzero(ends_open)
        if len(rows) < 2:
            return
        x, y = ref.x[rows], ref.y[rows]
        # each point's box grown by the radius: the pairs found are the rows
        # within the radius on each axis, then measured exactly
        grid = BoxGrid(np.column_stack([x, y, x, y]), pad=radius, cell=2.0 * radius)
        later, earlier = grid.query(x, y)
        keep = earlier < later
        later, earlier = later[keep], earlier[keep]
        codes = np.unique(np.asarray(categories, dtype=object)[rows], return_inverse=True)[1]
        same = codes[later] == codes[earlier]
        later, earlier = later[same], earlier[same]
        # math.hypot, as an import's check of the rows of its file: both put the
        # edge of the radius in the same place
        dx = (x[later] - x[earlier]).tolist()
        dy = (y[later] - y[earlier]).tolist()
        d = np.array([math.hypot(a, b) for a, b in zip(dx, dy, strict=True)], dtype=float)
        hit = d <= radius
        if not hit.any():
            return
        later, earlier, d = later[hit], earlier[hit], d[hit]
        first = later == later.min()
        k = int(np.argmin(np.where(first, d, np.inf)))
        i, j = int(rows[later[k]]), int(rows[earlier[k]])
        raise DuplicateRiskError(
            f"row {i + 1}: the same {categories[i]} as row {j + 1}, {d[k]:.0f} m away; keep "
            "one of the two rows, or register both with allow_duplicates=True if they are "
            "different hazards",
            [],
        )

    def _check_duplicates(self, ref: Referenced, categories: Sequence[str]) -> None:
        import numpy as np
        import shapely

        radius = self.settings.duplicate_radius_m
        if len(ref) <= NEAR_CHECK_ROWS:
            # A few rows (spread over a national register, their extent would hold
            # most of it): each looked up around itself through the R-tree.
            for i in range(len(ref)):
                found = self.store.risks_near(
                    float(ref.x[i]), float(ref.y[i]), radius, categories[i], OPEN_STATUSES
                )
                if found:
                    (old,) = self.store.find_risks(
                        RiskQuery(ids=(found[0][0],)), ("category", "line", "chainage")
                    )
                    self._refuse_duplicate(i, len(ref), old, found)
            return
        pad = radius + 1.0
        bbox = (
            float(np.min(ref.x)) - pad,
            float(np.min(ref.y)) - pad,
            float(np.max(ref.x)) + pad,
            float(np.max(ref.y)) + pad,
        )
        existing = self.store.find_risks(
            RiskQuery(statuses=OPEN_STATUSES, categories=tuple(set(categories)), bbox=bbox)
        )
        if not existing:
            return
        tree = shapely.STRtree(
            shapely.points([r["x"] for r in existing], [r["y"] for r in existing])
        )
        new_pts = shapely.points(ref.x, ref.y)
        # GEOS finds the candidates with a margin; math.hypot decides, as in an
        # import's check of each row (GeoPackageStore.risks_near), so that both
        # put the edge of the radius in the same place
        new_idx, old_idx = tree.query(new_pts, predicate="dwithin", distance=radius + 1e-6)
        hits: dict[int, list[tuple[int, float]]] = {}
        for i, j in zip(new_idx.tolist(), old_idx.tolist(), strict=True):
            old = existing[j]
            if old["category"] != categories[i]:
                continue
            d = math.hypot(old["x"] - float(ref.x[i]), old["y"] - float(ref.y[i]))
            if d <= radius:
                hits.setdefault(i, []).append((int(old["id"]), d))
        if hits:
            i = min(hits)
            found = sorted(hits[i], key=lambda t: t[1])
            self._refuse_duplicate(
                i, len(ref), next(r for r in existing if r["id"] == found[0][0]), found
            )

    @staticmethod
    def _refuse_duplicate(
        i: int, n: int, old: Mapping[str, Any], found: list[tuple[int, float]]
    ) -> None:
        """Row ``i`` of ``n`` is within the radius of the open risks ``found``
        (id, distance; nearest first), the nearest being ``old``."""
        rid, d = found[0]
        where = f"row {i + 1}: " if n > 1 else ""
        raise DuplicateRiskError(
            f"{where}open risk {rid} ({old['category']}, {old['line']} {old['chainage']}) "
            f"is {d:.0f} m away; use risk {rid} instead, or register it anyway "
            "if this is a different hazard",
            found,
        )

    # ------------------------------------------------------------------ events

    def _write_events(self, events: Iterable[Sequence[Any]]) -> None:
        """Chain and append events ``(risk_id, at, actor, action, from_status,
        to_status, note, data_text)`` after the last one in the store."""
        seq, prev = self.store.event_head()
        rows, _seq, _prev = chain_events(seq, prev, events)
        self.store.append_events(rows)

    def _append(
        self,
        risk_id: int,
        *,
        at: dt.datetime,
        actor: str,
        action: Action,
        from_status: Status | None,
        to_status: Status | None,
        note: str,
        data: Mapping[str, Any],
        now: dt.datetime,
    ) -> None:
        self._write_events(
            [
                (
                    risk_id,
                    _iso(at),
                    actor,
                    action.value,
                    from_status.value if from_status else None,
                    to_status.value if to_status else None,
                    note,
                    canonical_json({**data, "recorded_at": _iso(now)}),
                )
            ]
        )

    # ------------------------------------------------------------------ lifecycle

    def transition(
        self,
        risk_id: int,
        action: str | Action,
        *,
        by: str,
        note: str = "",
        at: dt.datetime | str | None = None,
        reason: str | None = None,
        deadline: dt.datetime | dt.date | str | None = None,
    ) -> Risk:
        """Move a risk along its lifecycle; refused changes raise TransitionError.

        ``deadline`` gives a risk sent back for rework a new deadline (a day
        means the end of that day); any other change refuses one."""
        action = Action.parse(action)
        if not str(by or "").strip():
            raise LineriskError("every change needs the actor who made it (by)")
        if deadline is not None and deadline != "" and action is not Action.REWORK:
            raise LineriskError(
                "a new deadline can be given only when a risk is sent back for rework"
            )
        now = dt.datetime.now(self.settings.tzinfo)
        with self.store.transaction():
            risk = self.get(risk_id)
            target = next_status(risk.status, action, reason, note)
            when = self.parse_time(at, now)
            self._check_time(risk, when)
            changes: dict[str, Any] = {"status": target.value, "updated_at": _iso(now)}
            data: dict[str, Any] = {}
            if reason:
                data["reason"] = reason
            if target is Status.CLEARED:
                changes["cleared_at"] = _iso(when)
            if action is Action.REOPEN:
                changes["cleared_at"] = None
                # A reopened risk gets a fresh deadline from the day it recurred.
                changes["deadline"] = _iso(self.settings.deadline_for(risk.severity, when))
                data["deadline"] = changes["deadline"]
            elif deadline is not None and deadline != "":
                new_deadline = self._deadline(deadline)
                if new_deadline <= when:
                    raise LineriskError(
                        f"the new deadline {_iso(new_deadline)} is not after the rework "
                        f"at {_iso(when)}"
                    )
                changes["deadline"] = data["deadline"] = _iso(new_deadline)
            self.store.update_risk(risk_id, changes)
            self._append(
                risk_id,
                at=when,
                actor=str(by).strip(),
                action=action,
                from_status=risk.status,
                to_status=target,
                note=note,
                data=data,
                now=now,
            )
        return self.get(risk_id)

    def _check_time(self, risk: Risk, when: dt.datetime) -> None:
        last = self.history(risk.id)[-1].at if risk.id is not None else risk.found_at
        if when < last:
            raise TransitionError(
                f"the change at {_iso(when)} is earlier than the risk's last recorded event "
                f"at {_iso(last)}"
            )

    def assign(self, risk_id: int, *, by: str, note: str = "", at: Any = None) -> Risk:
        """reported → assigned (交办)."""
        return self.transition(risk_id, Action.ASSIGN, by=by, note=note, at=at)

    def start(self, risk_id: int, *, by: str, note: str = "", at: Any = None) -> Risk:
        """assigned → rectifying (开始整改)."""
        return self.transition(risk_id, Action.START, by=by, note=note, at=at)

    def submit(self, risk_id: int, *, by: str, note: str = "", at: Any = None) -> Risk:
        """rectifying → awaiting_recheck (申请复查)."""
        return self.transition(risk_id, Action.SUBMIT, by=by, note=note, at=at)

    def clear(self, risk_id: int, *, by: str, note: str = "", at: Any = None) -> Risk:
        """awaiting_recheck → cleared (复查销号)."""
        return self.transition(risk_id, Action.CLEAR, by=by, note=note, at=at)

    def rework(
        self, risk_id: int, *, by: str, note: str, at: Any = None, deadline: Any = None
    ) -> Risk:
        """awaiting_recheck → rectifying (退回整改): the re-inspection found the
        hazard still there; ``note`` says what it found. The deadline stays,
        unless ``deadline`` gives a new one (a day means the end of that day)."""
        return self.transition(risk_id, Action.REWORK, by=by, note=note, at=at, deadline=deadline)

    def _deadline(self, value: dt.datetime | dt.date | str) -> dt.datetime:
        """A deadline given by a user: a time, or a day meaning the end of it."""
        if isinstance(value, str):
            text = value.strip()
            try:
                return self.end_of_day(dt.date.fromisoformat(text))
            except ValueError:
                pass
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                raise LineriskError(
                    f"cannot read deadline {text!r}; give a day (2026-12-20) or a time "
                    "(2026-12-20T18:00+08:00)"
                ) from None
        if isinstance(value, dt.datetime):
            return self.parse_time(value, value)
        return self.end_of_day(value)

    def withdraw(
        self, risk_id: int, *, by: str, reason: str, note: str = "", at: Any = None
    ) -> Risk:
        """any open state → withdrawn, with a reason (duplicate, not_a_hazard, ...)."""
        return self.transition(risk_id, Action.WITHDRAW, by=by, note=note, at=at, reason=reason)

    def reopen(self, risk_id: int, *, by: str, note: str = "", at: Any = None) -> Risk:
        """cleared → assigned, same id (the hazard recurred)."""
        return self.transition(risk_id, Action.REOPEN, by=by, note=note, at=at)

    def move(
        self,
        risk_id: int,
        *,
        by: str,
        note: str = "",
        lon: float | None = None,
        lat: float | None = None,
        x: float | None = None,
        y: float | None = None,
        crs: str | None = None,
        line: str | None = None,
        chainage: str | float | None = None,
        side: str | Side | None = None,
        offset: float | None = None,
    ) -> Risk:
        """Correct a risk's location; chainage, parties and zone are recomputed and the
        old and new location are kept in its history."""
        if not str(by or "").strip():
            raise LineriskError("every change needs the actor who made it (by)")
        if lon is not None or lat is not None:
            row: dict[str, Any] = {"x": lon, "y": lat, "crs": crs or WGS84}
        elif x is not None or y is not None:
            row = {"x": x, "y": y, "crs": crs or self.crs}
        else:
            row = {"line": line, "chainage": chainage, "side": side, "offset": offset}
        if "x" in row and (row["x"] is None or row["y"] is None):
            raise LineriskError("give both coordinates")
        from linerisk.riskrows import risk_columns

        now = dt.datetime.now(self.settings.tzinfo)
        with self.store.transaction():
            risk = self.get(risk_id)
            ref = self._reference_rows([row])
            ref.raise_for_problems()
            loc = ref.location(0)
            category = self.settings.categories.get(risk.category)
            columns = risk_columns(
                ref,
                category=[risk.category],
                severity=[risk.severity.value],
                lead=[category.lead],
                found_at=[_iso(risk.found_at)],
                found_by=[risk.found_by],
                deadline=[_iso(risk.deadline)],
                located_by=["coordinates" if "x" in row else "chainage"],
                description=[risk.description or None],
                note=[risk.note or None],
                ref_code=[risk.ref or None],
                source=[None],
                status=risk.status.value,
                updated_at=_iso(now),
            )
            new = {name: values[0] for name, values in columns.items()}
            changes = {
                k: new[k]
                for k in (
                    *_LOCATION_KEYS,
                    "located_by",
                    "lead_vertical",
                    "lead_party",
                    "updated_at",
                )
            }
            old = _location_summary(risk)
            self.store.update_risk(risk_id, changes, xy=(loc.x, loc.y))
            self._append(
                risk_id,
                at=now,
                actor=str(by).strip(),
                action=Action.MOVE,
                from_status=risk.status,
                to_status=risk.status,
                note=note,
                data={"from": old, "to": _event_record(new, loc.x, loc.y)},
                now=now,
            )
        return self.get(risk_id)

    # ------------------------------------------------------------------ reading

    def get(self, risk_id: int) -> Risk:
        """The risk with this id, or :class:`UnknownRiskError`."""
        rows = self.store.find_risks(RiskQuery(ids=(int(risk_id),)))
        if not rows:
            raise UnknownRiskError(f"there is no risk with id {risk_id}")
        return risk_from_row(rows[0])

    def risks(
        self,
        *,
        status: Iterable[str] | str | None = None,
        category: Iterable[str] | str | None = None,
        line: str | None = None,
        chainage_from: str | float | None = None,
        chainage_to: str | float | None = None,
        party: str | None = None,
        police: str | None = None,
        since: dt.datetime | dt.date | str | None = None,
        overdue_on: dt.datetime | dt.date | str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        ground: Ground | None = None,
        limit: int | None = None,
    ) -> list[Risk]:
        """Risks matching every filter given, by id.

        ``status`` accepts status keys and ``"open"`` (every state but cleared
        and withdrawn); ``overdue_on`` keeps open risks past their deadline at
        the end of that day; ``ground`` keeps the risks on a meeting's ground
        (:attr:`linerisk.maps.scope.Scope.ground`).
        """
        query = self.query(
            status=status,
            category=category,
            line=line,
            chainage_from=chainage_from,
            chainage_to=chainage_to,
            party=party,
            police=police,
            since=since,
            overdue_on=overdue_on,
            bbox=bbox,
            ground=ground,
            limit=limit,
        )
        return [risk_from_row(r) for r in self.store.find_risks(query)]

    def _query_rows(self, **filters: Any) -> list[dict[str, Any]]:
        return self.store.find_risks(self.query(**filters))

    def query(
        self,
        *,
        status: Iterable[str] | str | None = None,
        category: Iterable[str] | str | None = None,
        line: str | None = None,
        chainage_from: str | float | None = None,
        chainage_to: str | float | None = None,
        party: str | None = None,
        police: str | None = None,
        since: dt.datetime | dt.date | str | None = None,
        overdue_on: dt.datetime | dt.date | str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        ground: Ground | None = None,
        limit: int | None = None,
    ) -> RiskQuery:
        """The :class:`RiskQuery` for the filters of :meth:`risks`."""
        statuses = None
        if status is not None:
            wanted: set[str] = set()
            for s in [status] if isinstance(status, str) else status:
                if s == "open":
                    wanted.update(OPEN_STATUSES)
                else:
                    wanted.add(Status.parse(s).value)
            statuses = tuple(sorted(wanted))
        categories = None
        if category is not None:
            catalog = self.settings.categories
            names = [category] if isinstance(category, str) else list(category)
            categories = tuple(catalog.get(c).key for c in names)
        if line is not None:
            self._check_line(line)
        deadline_before = None
        if overdue_on is not None:
            deadline_before = _iso(self.end_of_day(overdue_on))
        since_iso = None
        if since is not None:
            since_iso = _iso(self.start_of_day(since))
        return RiskQuery(
            statuses=statuses,
            categories=categories,
            line=line,
            chainage_from=None if chainage_from is None else parse_chainage(chainage_from).metres,
            chainage_to=None if chainage_to is None else parse_chainage(chainage_to).metres,
            party=party,
            police=police,
            since=since_iso,
            deadline_before=deadline_before,
            bbox=bbox,
            ground=ground,
            limit=limit,
        )

    def _check_line(self, line: str) -> None:
        """Refuse a line id the register does not have, without loading the network."""
        if self._network is not None:
            self._network.line_index(line)
            return
        known = self.store.layer_keys("lines")
        if line not in known:
            from linerisk.network import unknown_line

            raise unknown_line(line, known)

    def end_of_day(self, day: dt.datetime | dt.date | str) -> dt.datetime:
        if isinstance(day, str):
            day = _parse_day(day)
        if isinstance(day, dt.datetime):
            return self.parse_time(day, day)
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.settings.tzinfo)

    def start_of_day(self, day: dt.datetime | dt.date | str) -> dt.datetime:
        if isinstance(day, str):
            day = _parse_day(day)
        if isinstance(day, dt.datetime):
            return self.parse_time(day, day)
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.settings.tzinfo)

    def risks_frame(self, **filters: Any):
        """Risks as a GeoDataFrame in the register CRS (imports geopandas)."""
        import geopandas as gpd
        import shapely

        rows = self._query_rows(**filters)
        geoms = shapely.points([r.pop("x") for r in rows], [r.pop("y") for r in rows])
        return gpd.GeoDataFrame(rows, geometry=list(geoms) if len(rows) else [], crs=self.crs)

    def history(self, risk_id: int) -> list[Event]:
        """Every event of one risk, oldest first."""
        events = [event_from_row(r) for r in self.store.iter_events(int(risk_id))]
        if not events:
            self.get(risk_id)  # raises for an unknown id
        return events

    def is_overdue(self, risk: Risk, on: dt.datetime | dt.date | str) -> bool:
        return risk.is_overdue(self.end_of_day(on))

    # ------------------------------------------------------------------ audit

    def verify(self) -> VerifyReport:
        """Recompute the hash chain and check every risk against its history.

        Reports the first event whose content, link or position was altered,
        events missing at the end, and risks whose status disagrees with their
        history.
        """
        prev = GENESIS
        expected_seq = 1
        count = 0
        last_status: dict[int, str | None] = {}
        for row in self.store.iter_events():
            count += 1
            seq = row["seq"]
            problem = None
            broken = seq
            if seq != expected_seq:
                problem = f"event {expected_seq} is missing (the next event found is {seq})"
                broken = expected_seq
            elif row["prev_hash"] != prev:
                problem = f"event {seq} does not follow event {seq - 1}: the chain is broken there"
            else:
                try:
                    altered = stored_event_hash(_HASHED_FIELDS(row), prev) != row["hash"]
                except (TypeError, ValueError):  # a value of another type written in
                    altered = True
                if altered:
                    problem = (
                        f"event {seq} (risk {row['risk_id']}) was altered after it was written"
                    )
            if problem:
                return VerifyReport(False, count, len(last_status), (problem,), broken)
            prev = row["hash"]
            expected_seq += 1
            if row["to_status"] is not None:
                last_status[row["risk_id"]] = row["to_status"]
        head = self.store.get_meta("events_head") or {"seq": 0, "hash": GENESIS}
        if head["seq"] != count or head["hash"] != prev:
            missing = head["seq"] - count
            problem = (
                f"the last {missing} event(s) of the log are missing"
                if missing > 0
                else "the log does not end where the register recorded it"
            )
            return VerifyReport(False, count, len(last_status), (problem,), count + 1)
        problems = []
        rows = {}
        columns = [c for c in _RECORDED if c not in ("x", "y")]  # x and y come with every row
        for row in self.store.find_risks(RiskQuery(), columns=[*columns, "status"]):
            rid = row["id"]
            rows[rid] = row
            if rid not in last_status:
                problems.append(f"risk {rid} has no history")
            elif last_status[rid] != row["status"]:
                problems.append(
                    f"risk {rid} is {row['status']} but its history ends at {last_status[rid]}"
                )
        for rid in sorted(set(last_status) - set(rows)):
            problems.append(f"risk {rid} has a history but is missing from the risks layer")
        problems += _column_problems(self.store.iter_histories(), rows)
        return VerifyReport(not problems, count, len(last_status), tuple(problems), None)

    # ------------------------------------------------------------------ summaries

    def summary(
        self,
        on: dt.datetime | dt.date | str | None = None,
        since: dt.datetime | dt.date | str | None = None,
    ) -> list[PartySummary]:
        """Open, overdue (at ``on``) and cleared (since ``since``) counts per lead party."""
        on_dt = self.end_of_day(on) if on is not None else dt.datetime.now(self.settings.tzinfo)
        since_dt = self.start_of_day(since) if since is not None else None
        counts: dict[tuple[Vertical, str | None], list[int]] = {}
        for risk in self.risks():
            key = (risk.lead, risk.lead_party)
            c = counts.setdefault(key, [0, 0, 0])
            if risk.is_open:
                c[0] += 1
                if risk.is_overdue(on_dt):
                    c[1] += 1
            elif risk.status is Status.CLEARED and (
                since_dt is None or (risk.cleared_at and risk.cleared_at >= since_dt)
            ):
                c[2] += 1
        order = {v: i for i, v in enumerate(Vertical)}
        return [
            PartySummary(v, p, *c)
            for (v, p), c in sorted(
                counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1] or "")
            )
        ]

    def stretches(self, line: str) -> list:
        """Stretches of ``line`` with the same three parties (see Network.stretches)."""
        return self.network.stretches(line)

    # ------------------------------------------------------------------ reassigning

    def stale_assignments(
        self,
        risk_ids: Iterable[int] | None = None,
        *,
        status: Iterable[str] | str | None = "open",
        network: Network | None = None,
    ) -> dict[int, dict[str, tuple[Any, Any]] | str]:
        """Risks whose stored location, parties or zone differ from what the network
        gives now (after a boundary or a line was re-imported).

        Each risk is placed again from what was reported: its point if it was
        located by coordinates, its line, chainage, side and offset if by chainage.
        Returns ``{risk id: {column: (stored, now)}}`` for the risks that differ,
        and ``{risk id: sentence}`` for those that can no longer be placed.
        ``risk_ids`` defaults to every risk in ``status`` (open ones by default);
        ``network`` defaults to the register's own.

        >>> reg.stale_assignments()                                 # doctest: +SKIP
        {25: {'police': (None, '军粮城站派出所'), 'uncovered': ('police', ''), ...}}
        """
        if risk_ids is None:
            query = self.query(status=status) if status is not None else RiskQuery()
        else:
            query = RiskQuery(ids=tuple(int(i) for i in risk_ids))
        rows = self.store.find_risks(query)
        if risk_ids is not None:
            found = {r["id"] for r in rows}
            missing = [i for i in query.ids or () if i not in found]
            if missing:
                raise UnknownRiskError(f"there is no risk with id {missing[0]}")
        return self._changes(rows, network)

    def reassign(self, risk_ids: Iterable[int], *, by: str, note: str = "") -> list[int]:
        """Recompute the location, parties and zone of risks from what was reported,
        against the current network, and record each change in the risk's history
        (an ``edit`` event with the old and new values). One transaction; returns the
        ids that changed. A risk that can no longer be placed is refused, naming it.

        >>> reg.reassign([25], by="天津站派出所 王磊", note="辖区调整")   # doctest: +SKIP
        [25]
        """
        if not str(by or "").strip():
            raise LineriskError("every change needs the actor who made it (by)")
        ids = sorted({int(i) for i in risk_ids})
        if not ids:
            return []
        now = dt.datetime.now(self.settings.tzinfo)
        with self.store.transaction():
            rows = self.store.find_risks(RiskQuery(ids=tuple(ids)))
            found = {r["id"]: r for r in rows}
            for rid in ids:
                if rid not in found:
                    raise UnknownRiskError(f"there is no risk with id {rid}")
            changes = self._changes(rows, None)
            lost = [(rid, d) for rid, d in sorted(changes.items()) if isinstance(d, str)]
            if lost:
                raise ReferencingError(f"risk {lost[0][0]} can no longer be placed: {lost[0][1]}")
            for rid, diff in sorted(changes.items()):
                if isinstance(diff, str):  # pragma: no cover - refused above
                    continue
                row = found[rid]
                now_values = {k: new for k, (_old, new) in diff.items()}
                xy = (now_values.pop("x", row["x"]), now_values.pop("y", row["y"]))
                now_values["updated_at"] = _iso(now)
                self.store.update_risk(rid, now_values, xy=xy)
                self._append(
                    rid,
                    at=now,
                    actor=str(by).strip(),
                    action=Action.EDIT,
                    from_status=Status(row["status"]),
                    to_status=Status(row["status"]),
                    note=note,
                    data={
                        "from": {k: old for k, (old, _new) in diff.items()},
                        "to": {k: new for k, (_old, new) in diff.items()},
                    },
                    now=now,
                )
        return sorted(changes)

    def _changes(
        self, rows: Sequence[Mapping[str, Any]], network: Network | None
    ) -> dict[int, dict[str, tuple[Any, Any]] | str]:
        """Per stored risk row: the location columns that the network now gives
        differently (metres to within 5 cm), or why it can no longer be placed.
        Array-at-a-time, like :meth:`add_risks`."""
        import numpy as np

        from linerisk.network import Referenced
        from linerisk.riskrows import risk_columns

        net = network if network is not None else self.network
        n = len(rows)
        out: dict[int, dict[str, tuple[Any, Any]] | str] = {}
        if not n:
            return out
        known = {ln.id for ln in net.lines}
        by_xy = np.array([r["located_by"] != "chainage" for r in rows], dtype=bool)
        lost = np.array(
            [not b and r["line"] not in known for r, b in zip(rows, by_xy, strict=True)]
        )
        for i in np.flatnonzero(lost):
            out[rows[i]["id"]] = f"line {rows[i]['line']} is no longer in the register"
        sub = np.flatnonzero(~lost)
        sub_xy = by_xy[sub]
        located = placed = None
        if sub_xy.any():
            pick = sub[sub_xy]
            located = net.reference(
                np.array([rows[i]["x"] for i in pick], dtype=float),
                np.array([rows[i]["y"] for i in pick], dtype=float),
            )
        if (~sub_xy).any():
            pick = sub[~sub_xy]
            args = (
                [rows[i]["line"] for i in pick],
                [rows[i]["chainage_m"] for i in pick],
                [rows[i]["side"] for i in pick],
                [rows[i]["offset_m"] for i in pick],
            )
            first = net.place(*args, occurrence=1)
            second = net.place(*args, occurrence=2)
            # In a long chain (长链) take the occurrence nearest where the risk was.
            stored = np.array([rows[i]["measure_m"] for i in pick], dtype=float)
            with np.errstate(invalid="ignore"):
                take = np.abs(second.measure - stored) < np.abs(first.measure - stored)
            placed = Referenced(
                network=net,
                **{
                    f: np.where(take, getattr(second, f), getattr(first, f))
                    for f in Referenced.array_names()
                },
            )
        ref = _merge_referenced(net, len(sub), sub_xy, located, placed)
        ok = ref.ok
        for k in np.flatnonzero(~ok):
            out[rows[sub[k]]["id"]] = ref.problem(int(k)) or "it cannot be placed"
        good = sub[ok]
        if not len(good):
            return out
        ref = ref.take(ok)
        m = len(good)
        blank: list[Any] = [None] * m
        columns = risk_columns(
            ref,
            category=blank,
            severity=blank,
            lead=[Vertical(rows[i]["lead_vertical"]) for i in good],
            found_at=blank,
            found_by=blank,
            deadline=blank,
            located_by=blank,
            description=blank,
            note=blank,
            ref_code=blank,
            source=blank,
            status="",
            updated_at="",
        )
        columns["x"] = np.round(ref.x, 3).tolist()
        columns["y"] = np.round(ref.y, 3).tolist()
        metres = (
            "measure_m",
            "chainage_m",
            "offset_m",
            "zone_width_m",
            "zone_distance_m",
            "x",
            "y",
        )
        differs: dict[str, np.ndarray] = {}
        for key in (*_LOCATION_KEYS, "lead_party", "x", "y"):
            new = columns[key]
            old = [rows[i][key] for i in good]
            if key in metres:
                a = np.array([np.nan if v is None else v for v in old], dtype=float)
                b = np.array([np.nan if v is None else v for v in new], dtype=float)
                with np.errstate(invalid="ignore"):
                    same = (np.abs(a - b) <= 0.05) | (np.isnan(a) & np.isnan(b))
            else:
                same = np.array(
                    [(o or None) == (v or None) for o, v in zip(old, new, strict=True)],
                    dtype=bool,
                )
            if not same.all():
                differs[key] = ~same
        if not differs:
            return out
        any_diff = np.logical_or.reduce(list(differs.values()))
        for k in np.flatnonzero(any_diff).tolist():
            row = rows[good[k]]
            out[row["id"]] = {
                key: (row[key], columns[key][k]) for key, mask in differs.items() if mask[k]
            }
        return out


# ----------------------------------------------------------------------------- rows

_LOCATION_KEYS = (
    "line",
    "measure_m",
    "chainage_m",
    "chainage",
    "side",
    "offset_m",
    "segment",
    "works_section",
    "workshop",
    "work_area",
    "police",
    "district",
    "street_office",
    "community",
    "uncovered",
    "area_class",
    "zone_width_m",
    "zone_distance_m",
    "band",
)


def _parse_day(text: str) -> dt.date | dt.datetime:
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise LineriskError(f"cannot read date {text!r}; use YYYY-MM-DD") from None


def _require_metric(crs: str) -> None:
    from pyproj import CRS

    try:
        c = CRS.from_user_input(crs)
    except Exception:  # pyproj raises its own CRSError
        raise LineriskError(f"unknown coordinate reference system {crs!r}") from None
    if not c.is_projected:
        raise LineriskError(
            f"the register CRS must be projected (metric); {crs} is not. "
            "Try the CGCS2000 Gauss-Krüger zone of the data, e.g. EPSG:4548"
        )


def _check_lonlat(x: np.ndarray, y: np.ndarray, crs: str) -> None:
    import numpy as np

    from linerisk.crs import is_geographic

    if not is_geographic(crs):
        return
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)):
        raise LineriskError("coordinates must be finite numbers")
    swapped = (np.abs(y) > 90) & (np.abs(x) <= 90)
    if swapped.any():
        i = int(np.flatnonzero(swapped)[0])
        raise LineriskError(
            f"latitude {y[i]} is impossible; longitude and latitude look swapped "
            f"(try lon={y[i]} lat={x[i]})"
        )
    if np.any(np.abs(y) > 90) or np.any(np.abs(x) > 180):
        raise LineriskError("longitude must be within ±180 and latitude within ±90 degrees")


def _merge_referenced(
    net: Network,
    n: int,
    by_xy: np.ndarray,
    located: Referenced | None,
    placed: Referenced | None,
) -> Referenced:
    import numpy as np

    from linerisk.network import Referenced

    if located is not None and placed is None:
        return located
    if placed is not None and located is None:
        return placed
    merged = {}
    for name in Referenced.array_names():
        a = getattr(located, name)
        b = getattr(placed, name)
        out = np.empty(n, dtype=np.result_type(a.dtype, b.dtype))
        out[by_xy] = a
        out[~by_xy] = b
        merged[name] = out
    return Referenced(network=net, **merged)


def _event_record(row: Mapping[str, Any], x: float, y: float) -> dict[str, Any]:
    keep = {k: row[k] for k in row if k not in ("updated_at", "source") and row[k] is not None}
    keep["x"] = round(float(x), 3)
    keep["y"] = round(float(y), 3)
    return keep


def _location_summary(risk: Risk) -> dict[str, Any]:
    loc = risk.location
    return {
        "line": loc.line,
        "chainage": loc.chainage,
        "side": loc.side.value,
        "offset_m": round(loc.offset_m, 2),
        "x": round(loc.x, 3),
        "y": round(loc.y, 3),
    }


def risk_from_row(row: Mapping[str, Any]) -> Risk:
    """A :class:`Risk` from a store row (with ``x``/``y``)."""
    from linerisk.model import AreaClass

    location = Location(
        line=row["line"],
        measure_m=row["measure_m"],
        chainage_m=row["chainage_m"],
        side=row["side"],
        offset_m=row["offset_m"],
        x=row["x"],
        y=row["y"],
        prefix=(row["chainage"] or "K").split("+")[0].rstrip("0123456789") or "K",
    )
    parties = Parties(
        police=row["police"],
        works_section=row["works_section"],
        workshop=row["workshop"],
        work_area=row["work_area"],
        district=row["district"],
        street_office=row["street_office"],
        community=row["community"],
        segment=row["segment"],
    )
    zone = Zone(
        area_class=AreaClass.parse(row["area_class"]) if row["area_class"] else None,
        width_m=row["zone_width_m"],
        distance_m=row["zone_distance_m"],
        band=Band(row["band"]),
    )
    return Risk(
        id=row["id"],
        category=row["category"],
        severity=row["severity"],
        status=row["status"],
        location=location,
        parties=parties,
        zone=zone,
        lead=row["lead_vertical"],
        found_at=row["found_at"],
        found_by=row["found_by"],
        deadline=row["deadline"],
        description=row["description"] or "",
        note=row["note"] or "",
        located_by=row["located_by"],
        ref=row["ref"] or "",
        cleared_at=dt.datetime.fromisoformat(row["cleared_at"]) if row["cleared_at"] else None,
        updated_at=dt.datetime.fromisoformat(row["updated_at"]) if row["updated_at"] else None,
    )


def event_from_row(row: Mapping[str, Any]) -> Event:
    return Event(
        seq=row["seq"],
        risk_id=row["risk_id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        note=row["note"],
        data=json.loads(row["data"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def risk_record(risk: Risk, on: dt.datetime | None = None, crs: str | None = None) -> dict:
    """A flat dict with the documented keys, as in JSON output."""
    loc = risk.location
    p = risk.parties
    return {
        "id": risk.id,
        "ref": risk.ref or None,
        "category": risk.category,
        "severity": risk.severity.value,
        "status": risk.status.value,
        "line": loc.line,
        "chainage": loc.chainage,
        "chainage_m": round(loc.chainage_m, 1),
        "side": loc.side.value,
        "offset_m": round(loc.offset_m, 1),
        "zone": risk.zone.band.value,
        "zone_width_m": risk.zone.width_m,
        "zone_distance_m": round(risk.zone.distance_m, 1),
        "area_class": risk.zone.area_class.value if risk.zone.area_class else None,
        "works_section": p.works_section,
        "workshop": p.workshop,
        "work_area": p.work_area,
        "police": p.police,
        "district": p.district,
        "street_office": p.street_office,
        "community": p.community,
        "uncovered": [v.value for v in p.uncovered],
        "lead_vertical": risk.lead.value,
        "lead_party": risk.lead_party,
        "found_at": _iso(risk.found_at),
        "found_by": risk.found_by,
        "deadline": _iso(risk.deadline),
        "overdue": risk.is_overdue(on) if on is not None else None,
        "cleared_at": _iso(risk.cleared_at) if risk.cleared_at else None,
        "located_by": risk.located_by,
        "description": risk.description,
        "note": risk.note,
        "x": round(loc.x, 3),
        "y": round(loc.y, 3),
    }
