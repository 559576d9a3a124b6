"""Plain-Python attrs converters.

attrs inspects each converter's signature when it builds a class. For a
built-in such as ``float`` that means parsing its text signature, which loads
and compiles the tokenizer's regular expressions: about 25 ms of start-up for
every command. These one-line functions have ordinary signatures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["as_bool", "as_dict", "as_float", "as_int", "as_tuple"]


def as_float(value: Any) -> float:
    return float(value)


def as_int(value: Any) -> int:
    return int(value)


def as_bool(value: Any) -> bool:
    return bool(value)


def as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def as_dict(value: Any) -> dict[Any, Any]:
    return dict(value)
