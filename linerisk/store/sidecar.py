"""A bulk insert's history, built in a second process while the rows are written.

Registering a million risks spends about a third of its time on their report
events: the canonical JSON of each record, the hash chain and the SQLite rows
of the events table. None of that needs the risk rows to be written first,
only their ids, so on a machine with two cores a forked child builds the
events and writes them to a scratch SQLite file while this process writes the
risk rows; the register then copies the events in with one ``INSERT ...
SELECT`` inside its own transaction. Nothing reaches the register unless both
sides succeed, and the scratch file is removed either way.

The child is forked (it starts with this process's memory, so nothing is
copied to it) and only where forking is safe: Linux, no other Python thread
running.
Elsewhere, and for small inserts, the same events are built in this process
after the rows, by the same function.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sqlite3
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from linerisk.store.base import StoreError

__all__ = ["CHILD_EVENTS", "SideWriter", "child_worthwhile", "remove_stale"]

#: from this many events a bulk insert builds them in a child process
CHILD_EVENTS = 20_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def child_worthwhile(count: int) -> bool:
    """Whether ``count`` events are built in a child process: enough of them,
    a second core, and a platform where forking this process is safe."""
    return (
        count >= CHILD_EVENTS
        and sys.platform.startswith("linux")
        and threading.active_count() == 1
        and _cores() > 1
    )


_PREFIX = "linerisk-events-"
_SUFFIX = ".sqlite"


def remove_stale(folder: str | Path | None = None) -> list[Path]:
    """Remove scratch files left by processes that no longer run (killed in the
    middle of a bulk insert); returns them. Each file's name holds its pid."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{_PREFIX}*-*{_SUFFIX}*"):
        pid = path.name[len(_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
            removed.append(path)
        except OSError:  # alive, someone else's
            pass
    return removed


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this child when its parent dies, so that a killed
    bulk insert does not leave a child writing on."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):  # no prctl: the child just runs on
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _child(
    send: Any,
    parent: int,
    path: str,
    produce: Callable[[], Iterable[Sequence[Sequence[Any]]]],
    write: Callable[[sqlite3.Connection, Iterable[Sequence[Sequence[Any]]]], None],
) -> None:
    _die_with_parent(parent)
    gc.disable()  # it would write to every object it walks, copying the parent's pages
    try:
        batches = produce()  # built as they are written: a slice at a time in memory
        try:
            with closing(sqlite3.connect(path, isolation_level=None)) as conn:
                write(conn, batches)
        except sqlite3.Error as exc:  # a full disk, most likely
            raise StoreError(
                f"cannot write the history to the scratch file {path}: {exc}; "
                "nothing was registered"
            ) from None
        send.send(None)
    except BaseException as exc:  # every failure goes back to the parent
        try:
            send.send(exc)
        except Exception:  # an exception that does not pickle
            send.send(StoreError(f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


class SideWriter:
    """A forked child writing ``write(conn, produce())`` into a scratch SQLite file
    (``produce`` yields batches of rows, ``write`` writes them as they come).

    :meth:`wait` returns the file once the child is done (or raises what the
    child raised); :meth:`abort` stops the child. Either way the caller removes
    the file with :meth:`remove` when it no longer reads it.
    """

    def __init__(
        self,
        produce: Callable[[], Iterable[Sequence[Sequence[Any]]]],
        write: Callable[[sqlite3.Connection, Iterable[Sequence[Sequence[Any]]]], None],
    ) -> None:
        import multiprocessing

        remove_stale()
        fd, name = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=_SUFFIX)
        os.close(fd)
        self.path = Path(name)
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_child,
            args=(send, os.getpid(), name, produce, write),
            name="linerisk-events",
            daemon=True,
        )
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns when forking a process with several OS threads.
                # No Python thread runs here (child_worthwhile checks); the others are
                # numpy's and Arrow's helpers, whose libraries are made fork-safe.
                warnings.filterwarnings(
                    "ignore", r"This process .* is multi-threaded", DeprecationWarning
                )
                self._proc.start()
        except BaseException:
            self.remove()
            raise
        finally:
            send.close()

    def wait(self) -> Path:
        """The scratch file, once the child has written it; raises the child's error."""
        outcome: BaseException | None
        try:
            message = self._recv.recv_bytes()
        except EOFError:  # the child died without a word
            self._proc.join()
            outcome = StoreError(
                "the process writing the history stopped unexpectedly "
                f"(exit code {self._proc.exitcode}); nothing was registered"
            )
        except BaseException:  # interrupted while waiting (Ctrl-C)
            self.abort()
            raise
        else:
            try:
                outcome = pickle.loads(message)
            except Exception as exc:  # the child's error does not unpickle here
                outcome = StoreError(f"the process writing the history failed: {exc}")
        finally:
            self._recv.close()
        self._proc.join()
        if outcome is not None:
            self.remove()
            raise outcome
        return self.path

    def abort(self) -> None:
        """Stop the child (the caller failed) and remove the scratch file."""
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._recv.close()
        self.remove()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
