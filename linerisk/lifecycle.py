"""The life of a risk: allowed status changes, deadlines, and the hash chain that
makes its history tamper-evident.

Closed loop (闭环): reported → assigned → rectifying → awaiting_recheck → cleared;
a re-inspection that finds the hazard still there sends it back, awaiting_recheck
→ rectifying (returned for rework, with a note of what was found); any open state
→ withdrawn (with a reason); cleared → assigned again (reopened, same id).
Nothing here touches storage.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

import attrs

from linerisk.errors import LineriskError
from linerisk.model import Action, Status

__all__ = [
    "GENESIS",
    "TRANSITIONS",
    "WITHDRAW_REASONS",
    "TransitionError",
    "canonical_json",
    "canonical_objects",
    "chain_events",
    "event_hash",
    "header_line",
    "next_status",
]

#: action → (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ASSIGN: (frozenset({Status.REPORTED}), Status.ASSIGNED),
    Action.START: (frozenset({Status.ASSIGNED}), Status.RECTIFYING),
    Action.SUBMIT: (frozenset({Status.RECTIFYING}), Status.AWAITING_RECHECK),
    Action.CLEAR: (frozenset({Status.AWAITING_RECHECK}), Status.CLEARED),
    Action.REWORK: (frozenset({Status.AWAITING_RECHECK}), Status.RECTIFYING),
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


def next_status(
    current: Status, action: Action | str, reason: str | None = None, note: str | None = ""
) -> Status:
    """The status after ``action``, or :class:`TransitionError`. A withdrawal
    needs one of :data:`WITHDRAW_REASONS`; returning a risk for rework needs a
    ``note`` of what the re-inspection found.

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
    if action is Action.REWORK and not str(note or "").strip():
        raise TransitionError(
            "returning a risk for rework needs a note of what the re-inspection found"
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
        return _payload(
            (
                self.seq,
                self.risk_id,
                self.at,
                self.actor,
                self.action,
                self.from_status,
                self.to_status,
                self.note,
                self.data_text,
            ),
            prev_hash,
        )


def _payload(fields: Sequence[Any], prev_hash: str) -> bytes:
    """:meth:`EventContent.payload` of ``(seq, risk_id, at, actor, action,
    from_status, to_status, note, data_text)``."""
    return f"{header_line(*fields[:8])}\n{fields[8]}\n{prev_hash}".encode()


def event_hash(content: EventContent, prev_hash: str) -> str:
    """SHA-256 over the event's content and the previous event's hash."""
    return hashlib.sha256(content.payload(prev_hash)).hexdigest()


def stored_event_hash(row: Sequence[Any], prev_hash: str) -> str:
    """:func:`event_hash` of a stored event row ``(seq, risk_id, at, actor,
    action, from_status, to_status, note, data_text)``, without building an
    :class:`EventContent` (verify reads a million of them)."""
    return hashlib.sha256(_payload(row, prev_hash)).hexdigest()


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def header_line(
    seq: int,
    risk_id: int,
    at: str,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    note: str,
) -> str:
    """The event's header as one line of JSON: the array
    ``[seq, risk_id, at, actor, action, from_status, to_status, note]`` exactly as
    ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes it,
    built from json's own string encoder without the general encoder's overhead
    (a bulk import writes a million of these).
    """
    return f"[{int(seq)},{int(risk_id)}" + _header_rest(
        at, actor, action, from_status, to_status, note
    )


def _header_rest(
    at: str, actor: str, action: str, from_status: str | None, to_status: str | None, note: str
) -> str:
    """The header line after its two numbers."""
    return (
        f",{encode_basestring(at)},{encode_basestring(actor)},"
        f"{encode_basestring(action)},{_text(from_status)},{_text(to_status)},"
        f"{encode_basestring(note)}]"
    )


def chain_events(
    seq: int, prev_hash: str, events: Iterable[Sequence[Any]]
) -> tuple[list[tuple[Any, ...]], int, str]:
    """Number and hash events in order, continuing the chain at ``seq``/``prev_hash``.

    Each event is ``(risk_id, at, actor, action, from_status, to_status, note,
    data_text)``. Returns the stored rows ``(seq, risk_id, at, actor, action,
    from_status, to_status, note, data, prev_hash, hash)``, the last sequence
    number and the last hash. The bytes hashed are those of
    :meth:`EventContent.payload`.
    """
    rows: list[tuple[Any, ...]] = []
    sha256 = hashlib.sha256
    # Events of a bulk write share their time, actor, action and statuses: the
    # header after the two numbers is encoded once per combination.
    rests: dict[tuple[Any, ...], str] = {}
    for risk_id, at, actor, action, from_status, to_status, note, data in events:
        seq += 1
        key = (at, actor, action, from_status, to_status, note)
        rest = rests.get(key)
        if rest is None:
            if len(rests) >= 4096:  # all different: do not hold them all
                rests.clear()
            rest = rests[key] = _header_rest(*key)
        # the bytes of _payload, with the header's repeated part looked up
        payload = f"[{seq},{int(risk_id)}{rest}\n{data}\n{prev_hash}"
        digest = sha256(payload.encode()).hexdigest()
        rows.append(
            (seq, risk_id, at, actor, action, from_status, to_status, note, data, prev_hash, digest)
        )
        prev_hash = digest
    return rows, seq, prev_hash


def _encoded(
    key: str, values: Sequence[Any], lead: str = "", trail: str = "", missing: str | None = None
) -> list[str | None]:
    """``lead"key":value trail`` fragments of one column, ``missing`` where the
    value is None.

    Columns of a register repeat their values (categories, lines, parties), so
    each distinct value is encoded once and looked up.
    """
    name = lead + encode_basestring(key) + ":"
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {float, int}:
        for v in values:
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{key}: {v!r} is not a number JSON can hold")
        encode: Callable[[Any], str] = repr
    elif kinds <= {str}:
        encode = encode_basestring
    else:
        encode = canonical_json
    distinct = set(values) if kinds <= {str, int} else None
    if distinct is not None and len(distinct) * 4 < len(values):
        table = {v: missing if v is None else name + encode(v) + trail for v in distinct}
        return list(map(table.__getitem__, values))
    if trail:
        return [missing if v is None else name + encode(v) + trail for v in values]
    return [missing if v is None else name + encode(v) for v in values]


def canonical_objects(
    columns: Mapping[str, Sequence[Any]], before: str = "", after: str = ""
) -> list[str]:
    """One :func:`canonical_json` object per row of ``columns``, keys whose value
    is None left out; built column by column, for bulk writes. ``before`` and
    ``after`` are put around each object (to nest it in a fixed outer object).

    >>> canonical_objects({"b": [1.5, None], "a": ["x", "y"]})
    ['{"a":"x","b":1.5}', '{"a":"y"}']
    """
    keys = sorted(columns)
    if not keys:
        return []
    head = before + "{"
    tail = "}" + after
    # A column present in every row anchors the commas: the fragments of the
    # columns before it end with one, those after it start with one, a missing
    # value is an empty string, and each row is one join of its fragments.
    anchor = next((i for i, k in enumerate(keys) if None not in columns[k]), None)
    if anchor is None:
        parts = [_encoded(k, columns[k]) for k in keys]
        return [head + ",".join(filter(None, row)) + tail for row in zip(*parts, strict=True)]
    parts = [
        _encoded(k, columns[k], "," if i > anchor else "", "," if i < anchor else "", "")
        for i, k in enumerate(keys)
    ]
    if len({len(p) for p in parts}) > 1:
        raise ValueError("columns of different lengths")
    return list(map("".join, zip(itertools.repeat(head), *parts, itertools.repeat(tail))))
