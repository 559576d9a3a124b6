"""The storage interface. The register talks to storage only through this class,
so that a server backend can sit beside the GeoPackage one.

Rows are plain dicts keyed by the column names in :mod:`linerisk.store.schema`;
geometries are shapely objects in the register's CRS.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import attrs

from linerisk.errors import LineriskError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["Ground", "RiskQuery", "Store", "StoreError"]


class StoreError(LineriskError):
    """Storage that cannot be opened or written; the message says why."""


@attrs.frozen
class Ground:
    """Ground to meet on, as a filter of risks: those whose police station,
    street office or town, or community is one of these, or whose measure
    along a line lies in one of ``ranges`` ``(line, from_measure,
    to_measure)``, ends included. Nothing named: no risk."""

    police: tuple[str, ...] = ()
    street_offices: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    ranges: tuple[tuple[str, float, float], ...] = ()


@attrs.frozen
class RiskQuery:
    """A filter on risks. Every field narrows; ``None`` means no filter."""

    ids: tuple[int, ...] | None = None
    #: register numbers (ref), matched exactly
    refs: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    line: str | None = None
    chainage_from: float | None = None
    chainage_to: float | None = None
    #: matches any of police, works_section, workshop, work_area, district,
    #: street_office, community
    party: str | None = None
    police: str | None = None
    #: ISO time; risks found at or after it
    since: str | None = None
    #: ISO time; open risks whose deadline is before it
    deadline_before: str | None = None
    #: (minx, miny, maxx, maxy) in the register CRS
    bbox: tuple[float, float, float, float] | None = None
    #: the risks on some ground (a joint meeting's scope)
    ground: Ground | None = None
    limit: int | None = None


class Store(abc.ABC):
    """One register's storage."""

    crs: str

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: everything inside commits together or not at all.

        Writers wait for each other; nested use joins the outer transaction.
        """

    # metadata ------------------------------------------------------------------
    @abc.abstractmethod
    def get_meta(self, key: str) -> Any: ...

    @abc.abstractmethod
    def set_meta(self, key: str, value: Any) -> None: ...

    # network layers --------------------------------------------------------------
    @abc.abstractmethod
    def replace_layer(
        self, kind: str, rows: Sequence[Mapping[str, Any]], geometries: Sequence[Any]
    ) -> None: ...

    @abc.abstractmethod
    def read_layer(
        self,
        kind: str,
        *,
        where: Mapping[str, Sequence[Any]] | None = None,
        boxes: Sequence[tuple[float, float, float, float]] | None = None,
        geometry: bool = True,
    ) -> tuple[list[dict[str, Any]], np.ndarray]:
        """A layer's rows and geometries in file order; with ``where``, only rows
        whose column holds one of the given values (every column given must
        match); with ``boxes`` (minx, miny, maxx, maxy), only features whose
        extent meets one of them; with ``geometry=False``, None for every
        geometry, which is then not read."""

    @abc.abstractmethod
    def layer_keys(self, kind: str) -> list[str]:
        """The identifiers of a layer's features (its key column), in file order."""

    @abc.abstractmethod
    def update_layer_row(
        self, kind: str, key: str, changes: Mapping[str, Any], geometry: Any = None
    ) -> None: ...

    @abc.abstractmethod
    def insert_layer_rows(
        self, kind: str, rows: Sequence[Mapping[str, Any]], geometries: Sequence[Any]
    ) -> None: ...

    @abc.abstractmethod
    def delete_layer_rows(self, kind: str, keys: Sequence[str]) -> None: ...

    # risks ------------------------------------------------------------------------
    @abc.abstractmethod
    def insert_risks(
        self,
        columns: Mapping[str, Sequence[Any]],
        x: np.ndarray,
        y: np.ndarray,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[int]:
        """Insert risks given as columns (one list per risk column); returns their
        ids, consecutive from :meth:`next_risk_id`. ``progress(done, total)`` is
        called as rows are written."""

    @abc.abstractmethod
    def update_risk(
        self, risk_id: int, changes: Mapping[str, Any], xy: tuple[float, float] | None = None
    ) -> None: ...

    @abc.abstractmethod
    def find_risks(
        self, query: RiskQuery, columns: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Rows with ``x`` and ``y`` keys added, ordered by id; only ``id`` and the
        named ``columns`` when they are given (reading fewer is quicker)."""

    @abc.abstractmethod
    def risk_values(self, query: RiskQuery, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """The named ``columns`` (``id`` among them if wanted) of the risks matching
        ``query``, as plain tuples ordered by id: for counting a whole register
        without building a row dict or reading a geometry per risk."""

    @abc.abstractmethod
    def risks_near(
        self, x: float, y: float, radius: float, category: str, statuses: Sequence[str]
    ) -> list[tuple[int, float]]:
        """(id, distance) of risks of ``category`` in ``statuses`` within ``radius``."""

    @abc.abstractmethod
    def next_risk_id(self) -> int:
        """The id the next inserted risk gets; :meth:`insert_risks` numbers its rows
        on from it, one by one."""

    @abc.abstractmethod
    def count_risks(self) -> int: ...

    @abc.abstractmethod
    def repoint_risks_segment(
        self, line: str, old_segment: str, new_segment: str, from_measure: float
    ) -> int:
        """Move risks of ``old_segment`` at or beyond ``from_measure`` to ``new_segment``
        (after a segment was split); returns how many."""

    # events --------------------------------------------------------------------------
    @abc.abstractmethod
    def event_head(self) -> tuple[int, str]:
        """(last seq, its hash), or (0, GENESIS) for an empty log."""

    @abc.abstractmethod
    def append_events(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append chained event rows, tuples in the order of the events table's
        columns (see :func:`linerisk.lifecycle.chain_events`)."""

    @abc.abstractmethod
    def appending_events(
        self, produce: Callable[[], Iterable[Sequence[Sequence[Any]]]], count: int
    ) -> AbstractContextManager[None]:
        """Append the ``count`` chained event rows that ``produce()`` yields, in
        batches in chain order, as :meth:`append_events` does, by the end of the
        ``with`` block; a store may build them while the block runs (a bulk
        insert writes its risk rows there). Batches let a million events be
        built and written a slice at a time, never all held at once.
        ``produce`` must not read the store; nothing is appended if the block
        raises."""

    @abc.abstractmethod
    def history_rows(self, risk_ids: Iterable[int] | None = None) -> Iterator[dict[str, Any]]:
        """Every event (of the risks ``risk_ids``, if given) in seq order for
        history views: ``seq``, ``risk_id``, ``at``, ``actor``, ``action``,
        ``from_status``, ``to_status``, ``note``, and read out
        of its data the ``reason`` and the ``deadline`` it set (report, reopen,
        a rework that gave a new one), or
        None. Neither the data text nor the hashes, which only ``verify`` needs."""

    @abc.abstractmethod
    def iter_events(self, risk_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Events in seq order."""

    @abc.abstractmethod
    def iter_histories(self) -> Iterator[tuple[int, str, str, str]]:
        """``(risk_id, at, action, data)`` of every event, risk by risk, each
        risk's in seq order (streamed: a national log does not fit in memory
        as dicts)."""

    # patrol changes --------------------------------------------------------------------
    @abc.abstractmethod
    def insert_patrol_change(self, row: Mapping[str, Any]) -> int: ...

    @abc.abstractmethod
    def patrol_changes(self, since: str | None = None) -> list[dict[str, Any]]: ...
