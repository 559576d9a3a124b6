"""Errors a user can cause. Each carries one plain sentence; the CLI prints it and
exits 1 without a traceback."""

from __future__ import annotations

__all__ = ["DuplicateRiskError", "LineriskError", "ReferencingError", "UnknownRiskError"]


class LineriskError(Exception):
    """Base of every error caused by input rather than by a bug."""


class UnknownRiskError(LineriskError, KeyError):
    """No risk with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown risk"


class DuplicateRiskError(LineriskError, ValueError):
    """An open risk of the same category is already registered close by.

    ``existing`` holds ``(id, distance_m)`` of the candidates, nearest first.
    """

    def __init__(self, message: str, existing: list[tuple[int, float]]) -> None:
        super().__init__(message)
        self.existing = existing


class ReferencingError(LineriskError, ValueError):
    """A point or chainage that cannot be put on the railway; the message says why."""
