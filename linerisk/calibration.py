"""Calibrated chainage along a line: piecewise-linear between points of known
chainage, with chain breaks (断链) handled explicitly. See :mod:`linerisk.chainage`
for the three quantities (chainage, continuous chainage, measure).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum

import attrs
import numpy as np

from linerisk.chainage import format_chainage
from linerisk.convert import as_float

__all__ = ["Calibration", "ChainBreakSpec", "ChainageStatus", "longest_increasing"]


class ChainageStatus(IntEnum):
    """Outcome of converting a chainage to a position on the line."""

    OK = 0
    #: the chainage lies inside a short chain (短链) and does not exist
    NONEXISTENT = 1
    #: the chainage occurs twice because of a long chain (长链); the first was taken
    AMBIGUOUS = 2


@attrs.frozen
class ChainBreakSpec:
    """A chain break: at one point chainage jumps from ``back`` to ``ahead`` (metres).

    ``ahead > back`` is a short chain (chainages between do not exist);
    ``ahead < back`` a long chain (chainages between occur twice).
    """

    back: float = attrs.field(converter=as_float)
    ahead: float = attrs.field(converter=as_float)

    @property
    def jump(self) -> float:
        return self.ahead - self.back


def _extrapolating_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp`` that extends the first and last pieces linearly."""
    x = np.asarray(x, dtype=float)
    if len(xp) == 1:
        return fp[0] + (x - xp[0])
    out = np.asarray(np.interp(x, xp, fp), dtype=float)  # 0-d for a scalar, so assignable
    lo = x < xp[0]
    hi = x > xp[-1]
    if x.ndim == 0 and not (lo or hi):  # one value inside the anchors: done (no masks)
        return out
    if lo.any():
        slope = (fp[1] - fp[0]) / (xp[1] - xp[0])
        out[lo] = fp[0] + (x[lo] - xp[0]) * slope
    if hi.any():
        slope = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
        out[hi] = fp[-1] + (x[hi] - xp[-1]) * slope
    return out


@attrs.frozen(eq=False)
class Calibration:
    """Piecewise-linear chainage ⇄ measure mapping for one line.

    Built from anchors of known chainage (the line's start, kilometre posts) at
    known measures, and the line's chain breaks in order along the line.

    >>> cal = Calibration.from_anchors([0.0, 1003.0], [2350.0, 3350.0])
    >>> round(float(cal.measure_at(2850.0)), 6)
    501.5
    """

    anchor_measures: np.ndarray
    anchor_continuous: np.ndarray
    breaks: tuple[ChainBreakSpec, ...] = ()
    #: cumulative jump before each stretch: stretch k has chainage = continuous + offsets[k]
    offsets: np.ndarray = attrs.field(init=False)
    #: continuous chainage at each break
    break_continuous: np.ndarray = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        jumps = np.array([b.jump for b in self.breaks], dtype=float)
        offsets = np.concatenate([[0.0], np.cumsum(jumps)])
        backs = np.array([b.back for b in self.breaks], dtype=float)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "break_continuous", backs - offsets[:-1])
        if len(self.anchor_measures) == 0:
            raise ValueError("a calibration needs at least one point of known chainage")
        if np.any(np.diff(self.anchor_measures) <= 0) or np.any(
            np.diff(self.anchor_continuous) <= 0
        ):
            raise ValueError("points of known chainage must increase along the line")
        if np.any(np.diff(self.break_continuous) <= 0):
            raise ValueError("chain breaks must be given in order along the line")

    @classmethod
    def from_anchors(
        cls,
        measures: Sequence[float],
        chainages: Sequence[float],
        breaks: Iterable[ChainBreakSpec] = (),
    ) -> Calibration:
        """Build from anchors given as chainage (not continuous) at measures.

        Each anchor's chainage is turned into continuous chainage using the
        breaks; an anchor inside a short chain is refused.
        """
        breaks = tuple(breaks)
        provisional = cls(np.array([0.0]), np.array([0.0]), breaks)
        order = np.argsort(np.asarray(measures, dtype=float), kind="stable")
        m = np.asarray(measures, dtype=float)[order]
        c = np.asarray(chainages, dtype=float)[order]
        cont, status = provisional.to_continuous(c)
        bad = status == ChainageStatus.NONEXISTENT
        if bad.any():
            raise ValueError(
                f"known chainage {format_chainage(c[bad][0])} lies inside a short chain"
            )
        # Anchors on a repeated (long chain) stretch: choose the occurrence whose
        # continuous value keeps the anchors increasing along the line.
        amb = np.flatnonzero(status == ChainageStatus.AMBIGUOUS)
        for i in amb:
            options = provisional._continuous_options(c[i])
            previous = cont[i - 1] if i else -np.inf
            later = [o for o in options if o > previous]
            cont[i] = later[0] if later else options[-1]
        return cls(m, cont, breaks)

    # chainage <-> continuous -------------------------------------------------

    def _continuous_options(self, chainage: float) -> list[float]:
        out = []
        for k in range(len(self.offsets)):
            cont = chainage - self.offsets[k]
            lo = -np.inf if k == 0 else self.break_continuous[k - 1]
            hi = np.inf if k == len(self.breaks) else self.break_continuous[k]
            if lo <= cont <= hi:
                out.append(cont)
        return out

    def to_continuous(
        self, chainage: np.ndarray | float, occurrence: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Chainage (metres) → (continuous chainage, :class:`ChainageStatus`) arrays.

        A chainage inside a short chain gives NaN and ``NONEXISTENT``. One that
        occurs twice (long chain) gives its ``occurrence``-th position (1 or 2)
        and ``AMBIGUOUS``.
        """
        c = np.atleast_1d(np.asarray(chainage, dtype=float))
        result = np.full(c.shape, np.nan)
        hits = np.zeros(c.shape, dtype=np.int8)
        for k in range(len(self.offsets)):
            cont = c - self.offsets[k]
            lo = -np.inf if k == 0 else self.break_continuous[k - 1]
            hi = np.inf if k == len(self.breaks) else self.break_continuous[k]
            inside = (cont >= lo) & (cont <= hi)
            hits += inside
            take = inside & (np.isnan(result) | (hits == occurrence))
            result[take] = cont[take]
        status = np.where(
            hits == 0,
            ChainageStatus.NONEXISTENT,
            np.where(hits > 1, ChainageStatus.AMBIGUOUS, ChainageStatus.OK),
        ).astype(np.int8)
        return result, status

    def from_continuous(self, continuous: np.ndarray | float) -> np.ndarray:
        """Continuous chainage → chainage as written (metres)."""
        cont = np.atleast_1d(np.asarray(continuous, dtype=float))
        stretch = np.searchsorted(self.break_continuous, cont, side="left")
        return cont + self.offsets[stretch]

    # continuous <-> measure ----------------------------------------------------

    def measure_of_continuous(self, continuous: np.ndarray | float) -> np.ndarray:
        return _extrapolating_interp(continuous, self.anchor_continuous, self.anchor_measures)

    def continuous_of_measure(self, measure: np.ndarray | float) -> np.ndarray:
        return _extrapolating_interp(measure, self.anchor_measures, self.anchor_continuous)

    # the two a user wants ------------------------------------------------------

    def chainage_at(self, measure: np.ndarray | float) -> np.ndarray | float:
        """Measure (metres along the geometry) → calibrated chainage (metres).

        A single measure gives a float and an array an array, as :meth:`measure_at`.
        """
        chainage = self.from_continuous(self.continuous_of_measure(measure))
        if np.ndim(measure) == 0:
            return float(chainage[0])
        return chainage

    def measure_at(self, chainage: np.ndarray | float, occurrence: int = 1) -> np.ndarray | float:
        """Chainage → measure; raises ``ValueError`` for a chainage that does not exist.

        For arrays use :meth:`measures_at`, which reports status per value.
        """
        measures, status = self.measures_at(chainage, occurrence)
        bad = status == ChainageStatus.NONEXISTENT
        if bad.any():
            value = np.atleast_1d(np.asarray(chainage, dtype=float))[bad][0]
            raise ValueError(
                f"chainage {format_chainage(value)} does not exist on this line: "
                "it lies inside a short chain (断链)"
            )
        if np.ndim(chainage) == 0:
            return float(measures[0])
        return measures

    def measures_at(
        self, chainage: np.ndarray | float, occurrence: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Chainage array → (measure array, status array); NaN where nonexistent."""
        cont, status = self.to_continuous(chainage, occurrence)
        return self.measure_of_continuous(cont), status

    def break_measures(self) -> np.ndarray:
        """Measure of every chain break along the line."""
        return self.measure_of_continuous(self.break_continuous)


def longest_increasing(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Mask of a longest strictly increasing run (not necessarily contiguous) of ``values``.

    Points of known chainage listed in order along a line should increase; the
    ones outside the mask are those out of order. NaN never belongs to the run.

    >>> longest_increasing([3000.0, 4000.0, 6000.0, 5000.0, 7000.0]).tolist()
    [True, True, False, True, True]
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    keep = np.zeros(n, dtype=bool)
    tails: list[float] = []  # smallest last value of an increasing run of each length
    tail_at: list[int] = []
    before = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if np.isnan(v[i]):
            continue
        k = int(np.searchsorted(tails, v[i], side="left"))
        if k == len(tails):
            tails.append(float(v[i]))
            tail_at.append(i)
        else:
            tails[k] = float(v[i])
            tail_at[k] = i
        before[i] = tail_at[k - 1] if k else -1
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep[i] = True
        i = int(before[i])
    return keep
