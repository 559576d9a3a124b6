"""Railway chainage (里程): parse and format ``K123+456``.

Chainage is nominal. The surveyed length between two kilometre posts is rarely
1000 m, and chain breaks (断链) make chainage jump at a point. This module keeps
three quantities apart:

``chainage``
    the number written on documents, in metres (``K12+345`` is 12345.0).
``continuous chainage``
    chainage with every chain break before it removed, so that it increases
    without jumps along the line. It is what calibration interpolates.
``measure``
    the true geometric distance in metres from the first vertex of the line.

Calibration (chainage ⇄ measure along a line) is in :mod:`linerisk.calibration`;
its names are also importable from here. Nothing here opens files or prints.
"""

from __future__ import annotations

import math
import re

import attrs

from linerisk.convert import as_float

__all__ = ["Chainage", "ChainageRange", "format_chainage", "parse_chainage", "parse_chainage_range"]

#: names that live in :mod:`linerisk.calibration` (numpy), imported on first use
_CALIBRATION_NAMES = ("Calibration", "ChainageStatus", "ChainBreakSpec")


def __getattr__(name: str):
    if name in _CALIBRATION_NAMES:
        from linerisk import calibration

        return getattr(calibration, name)
    raise AttributeError(f"module 'linerisk.chainage' has no attribute {name!r}")


_FULLWIDTH = str.maketrans(
    {"＋": "+", "～": "~", "－": "-", "—": "-", "–": "-", "．": ".", "Ｋ": "K", "　": " "}
    | {chr(0xFF10 + i): str(i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}  # full-width Ａ-Ｚ
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}  # full-width ａ-ｚ
)
_SINGLE = re.compile(r"(?P<prefix>[A-Z]{0,3})(?P<km>\d+)\+(?P<m>\d{3}(?:\.\d+)?)")
_RANGE_SEP = re.compile(r"\s*(?:~|-|至|到)\s*")


def _normalise(text: str) -> str:
    return text.translate(_FULLWIDTH).strip().upper()


@attrs.frozen
class Chainage:
    """A chainage value: ``Chainage(12345.0)`` is ``K12+345``.

    >>> Chainage(12345.0, "DK")
    Chainage(metres=12345.0, prefix='DK')
    >>> str(Chainage(12345.5))
    'K12+345.5'
    """

    metres: float = attrs.field(converter=as_float)
    prefix: str = attrs.field(default="K")

    @metres.validator
    def _check_metres(self, _attr: attrs.Attribute, value: float) -> None:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"chainage must be a finite number of metres >= 0, not {value!r}")

    @prefix.validator
    def _check_prefix(self, _attr: attrs.Attribute, value: str) -> None:
        if not re.fullmatch(r"[A-Z]{0,3}", value):
            raise ValueError(f"chainage prefix must be up to three capital letters, not {value!r}")

    def __str__(self) -> str:
        return format_chainage(self.metres, prefix=self.prefix)


@attrs.frozen
class ChainageRange:
    """A chainage range such as ``K1+200-K3+050``; ``start`` may exceed ``end``."""

    start: Chainage
    end: Chainage

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"

    @property
    def low(self) -> float:
        return min(self.start.metres, self.end.metres)

    @property
    def high(self) -> float:
        return max(self.start.metres, self.end.metres)


def parse_chainage(text: str | float | Chainage, *, require_prefix: bool = True) -> Chainage:
    """Parse one chainage such as ``K123+456``, ``DK123+456.78`` or ``k1＋200``.

    A number (``12345.6``) is taken as metres with the ``K`` prefix.

    >>> parse_chainage("K123+456.78").metres
    123456.78
    >>> parse_chainage("DK12+300").prefix
    'DK'

    Raises ``ValueError`` naming the string when it is malformed.
    """
    if isinstance(text, Chainage):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        return Chainage(float(text))
    if not isinstance(text, str):
        raise ValueError(f"not a chainage: {text!r}")
    norm = _normalise(text)
    match = _SINGLE.fullmatch(norm)
    if match is None:
        raise ValueError(
            f"malformed chainage {text!r}: expected a form like K12+345 or DK12+345.6 "
            "(kilometres, '+', three-digit metres)"
        )
    prefix = match["prefix"]
    if require_prefix and not prefix:
        raise ValueError(f"malformed chainage {text!r}: a letter prefix such as K is required")
    metres = int(match["km"]) * 1000 + float(match["m"])
    return Chainage(metres, prefix or "K")


def parse_chainage_range(text: str, *, require_prefix: bool = True) -> ChainageRange:
    """Parse a range such as ``K1577+655-K1586+578`` or ``K1+200~K3+050``.

    >>> str(parse_chainage_range("K1+200 ~ K3+050"))
    'K1+200-K3+050'
    """
    norm = _normalise(text)
    parts = _RANGE_SEP.split(norm)
    if len(parts) != 2:
        raise ValueError(
            f"malformed chainage range {text!r}: expected two chainages joined by '-' or '~'"
        )
    try:
        start = parse_chainage(parts[0], require_prefix=require_prefix)
        end = parse_chainage(parts[1], require_prefix=require_prefix)
    except ValueError as exc:
        raise ValueError(f"malformed chainage range {text!r}: {exc}") from None
    return ChainageRange(start, end)


def format_chainage(
    value: float | Chainage | ChainageRange, *, prefix: str = "K", decimals: int = 3
) -> str:
    """Format metres as chainage: ``format_chainage(12345.5)`` is ``'K12+345.5'``.

    Fractions are rounded to ``decimals`` places and trailing zeros dropped.

    >>> format_chainage(2350)
    'K2+350'
    >>> format_chainage(999.9999)
    'K1+000'
    """
    if isinstance(value, ChainageRange):
        return f"{format_chainage(value.start)}-{format_chainage(value.end)}"
    if isinstance(value, Chainage):
        prefix = value.prefix
        value = value.metres
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"cannot format {value!r} as a chainage")
    scale = 10**decimals
    units = round(value * scale)
    km, rest = divmod(units, 1000 * scale)
    whole, frac = divmod(rest, scale)
    text = f"{prefix}{km}+{whole:03d}"
    if frac:
        text += ("." + f"{frac:0{decimals}d}").rstrip("0")
    return text
