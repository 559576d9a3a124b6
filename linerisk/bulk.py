"""Helpers for work on millions of rows at once."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["DiskFlusher", "collector_paused"]

#: seconds between two flushes of a file being written in bulk
FLUSH_EVERY_S = 0.5


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a bulk operation, then put
    back as it was.

    Building millions of rows allocates millions of tuples and lists, and every
    so many of them the collector walks each object in memory (the network and
    the rows): about six seconds of a national import. In the child process of a
    bulk insert each such walk also writes to every object it visits, copying
    the parent's memory page by page. Bulk code makes no reference cycles, so
    pausing the collector leaves nothing to collect later.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class DiskFlusher:
    """Flush a file being written in bulk to disk from a thread, every
    :data:`FLUSH_EVERY_S`, until :meth:`stop`.

    A commit makes SQLite wait for the disk to hold every page of the
    transaction: for a million risks about 1.4 GB, some two and a half seconds
    spent waiting at the end. Flushed while the rows, indexes and events are
    still being written, most of those pages are on disk before the commit, which
    then waits only for the last ones. An extra flush never weakens what SQLite
    guarantees: its journal and its own syncs are untouched; this only writes
    sooner what it has already handed to the system. Where the system has no
    ``fdatasync`` (not Linux) nothing is started.
    """

    def __init__(self, path: str | Path) -> None:
        self._stop = threading.Event()
        self._fd = os.open(path, os.O_RDONLY)
        self._thread = threading.Thread(target=self._run, name="linerisk-flush", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, path: str | Path) -> DiskFlusher | None:
        """A flusher of ``path``, or None where flushing cannot be had."""
        if not hasattr(os, "fdatasync"):  # pragma: no cover - not Linux
            return None
        try:
            return cls(path)
        except OSError:  # the file cannot be opened: SQLite's own sync still holds
            return None

    def _run(self) -> None:
        while True:
            try:
                os.fdatasync(self._fd)
            except OSError:  # a disk error: SQLite meets it too, and reports it
                return
            if self._stop.wait(FLUSH_EVERY_S):
                return

    def stop(self) -> None:
        """Stop flushing (waits for a flush under way) and close the file."""
        self._stop.set()
        self._thread.join()
        os.close(self._fd)
