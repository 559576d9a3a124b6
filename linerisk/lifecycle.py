"""The life of a risk: allowed status changes, deadlines, and the hash chain that
makes its history tamper-evident.

Closed loop (闭环): reported → assigned → rectifying → awaiting_recheck → cleared;
any open state → withdrawn (with a reason); cleared → assigned again (reopened,
same id). Nothing here touches storage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from linerisk.errors import LineriskError
from linerisk.model import Action, Status

__all__ = [
    "GENESIS",
    "TRANSITIONS",
    "WITHDRAW_REASONS",
    "TransitionError",
    "event_hash",
    "next_status",
]

#: action → (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ASSIGN: (frozenset({Status.REPORTED}), Status.ASSIGNED),
    Action.START: (frozenset({Status.ASSIGNED}), Status.RECTIFYING),
    Action.SUBMIT: (frozenset({Status.RECTIFYING}), Status.AWAITING_RECHECK),
    Action.CLEAR: (frozenset({Status.AWAITING_RECHECK}), Status.CLEARED),
    Action.WITHDRAW: (frozenset(s for s in Status if s.is_open), Status.WITHDRAWN),
    Action.REOPEN: (frozenset({Status.CLEARED}), Status.ASSIGNED),
}

#: why a risk may leave the register without being cleared
WITHDRAW_REASONS: dict[str, tuple[str, str]] = {
    "duplicate": ("重复登记", "duplicate of another risk"),
    "not_a_hazard": ("不构成隐患", "not a hazard"),
    "outside_scope": ("不属本线管辖", "outside the register's scope"),
}

#: ``prev_hash`` of the first event in a register
GENESIS = "0" * 64


class TransitionError(LineriskError, ValueError):
    """A status change the lifecycle does not allow; the message names both states."""


def next_status(current: Status, action: Action | str, reason: str | None = None) -> Status:
    """The status after ``action``, or :class:`TransitionError`.

    >>> next_status(Status.REPORTED, "assign").value
    'assigned'
    >>> next_status(Status.REPORTED, "clear")
    Traceback (most recent call last):
    ...
    linerisk.lifecycle.TransitionError: cannot clear a risk that is reported (已登记): ...
    """
    action = Action.parse(action)
    if action not in TRANSITIONS:
        raise TransitionError(
            f"cannot {action.value} a risk that is {current.value} ({current.label('zh')}) "
            f"as a status change: {action.value} is not one; the status changes are "
            + ", ".join(a.value for a in TRANSITIONS)
        )
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        allowed = ", ".join(sorted(s.value for s in allowed_from))
        raise TransitionError(
            f"cannot {action.value} a risk that is {current.value} ({current.label('zh')}): "
            f"{action.value} leads to {target.value} and is allowed only from {allowed}"
        )
    if action is Action.WITHDRAW:
        if not reason:
            raise TransitionError(
                "withdrawing a risk needs a reason: " + ", ".join(WITHDRAW_REASONS)
            )
        if reason not in WITHDRAW_REASONS:
            raise TransitionError(
                f"unknown withdraw reason {reason!r}; choose one of " + ", ".join(WITHDRAW_REASONS)
            )
    return target


def canonical_json(data: Mapping[str, Any]) -> str:
    """The one serialisation of event data: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


@attrs.frozen
class EventContent:
    """The fields of an event that its hash covers, in a fixed order.

    ``data`` is the stored JSON text, or a mapping serialised with
    :func:`canonical_json`; the hash covers exactly the stored text.
    """

    seq: int
    risk_id: int
    at: str
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str
    data: Mapping[str, Any] | str

    @property
    def data_text(self) -> str:
        return self.data if isinstance(self.data, str) else canonical_json(self.data)

    def payload(self, prev_hash: str) -> bytes:
        """The bytes hashed: a JSON header line, the data text, the previous hash.

        JSON escapes newlines, so the first newline ends the header; the previous
        hash has a fixed length, so the data text is exactly what lies between.
        """
        header = json.dumps(
            [
                self.seq,
                self.risk_id,
                self.at,
                self.actor,
                self.action,
                self.from_status,
                self.to_status,
                self.note,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return f"{header}\n{self.data_text}\n{prev_hash}".encode()


def event_hash(content: EventContent, prev_hash: str) -> str:
    """SHA-256 over the event's content and the previous event's hash."""
    return hashlib.sha256(content.payload(prev_hash)).hexdigest()
