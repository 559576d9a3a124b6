"""linerisk: rail line perimeter risk registers.

    >>> import linerisk
    >>> linerisk.parse_chainage("K12+345").metres
    12345.0

Names are imported lazily so that ``import linerisk`` (and the CLI's start-up)
stays fast; ``from linerisk import Register`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Register": "linerisk.register",
    "VerifyReport": "linerisk.register",
    "Network": "linerisk.network",
    "ReferencingError": "linerisk.network",
    "Settings": "linerisk.settings",
    "parse_chainage": "linerisk.chainage",
    "parse_chainage_range": "linerisk.chainage",
    "format_chainage": "linerisk.chainage",
    "Chainage": "linerisk.chainage",
    "Calibration": "linerisk.chainage",
    "LineriskError": "linerisk.errors",
    "DuplicateRiskError": "linerisk.errors",
    "UnknownRiskError": "linerisk.errors",
    "TransitionError": "linerisk.lifecycle",
    "load_sample_network": "linerisk.sample",
    "build_sample_register": "linerisk.sample",
    "Severity": "linerisk.model",
    "Status": "linerisk.model",
    "Side": "linerisk.model",
    "AreaClass": "linerisk.model",
    "Vertical": "linerisk.model",
    "Band": "linerisk.model",
    "Category": "linerisk.model",
    "Risk": "linerisk.model",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.chainage import (  # noqa: F401
        Calibration,
        Chainage,
        format_chainage,
        parse_chainage,
        parse_chainage_range,
    )
    from linerisk.register import Register, VerifyReport  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'linerisk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
