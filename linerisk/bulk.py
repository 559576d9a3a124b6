"""Helpers for work on millions of rows at once."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


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
