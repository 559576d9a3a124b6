"""Risk table columns built array-at-a-time from a :class:`~linerisk.network.Referenced`.

The bulk path of :meth:`Register.add_risks`: a million risks become columns with
numpy indexing and a few list comprehensions, never one object per field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from linerisk.model import Band, Vertical
from linerisk.store.schema import RISK_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from linerisk.network import Referenced

__all__ = ["format_chainages", "risk_columns"]


def format_chainages(values: np.ndarray, prefixes: Sequence[str], decimals: int = 1) -> list[str]:
    """Chainage strings for many values at once (same rules as ``format_chainage``).

    >>> format_chainages(np.array([2350.0, 11620.04, 999.96]), ["K", "K", "DK"])
    ['K2+350', 'K11+620', 'DK1+000']
    """
    scale = 10**decimals
    units = np.round(np.asarray(values, dtype=float) * scale).astype(np.int64)
    km, rest = np.divmod(units, 1000 * scale)
    whole, frac = np.divmod(rest, scale)
    # the metres and the fraction come from tables: one join per value
    fractions = [("." + f"{f:0{decimals}d}").rstrip("0") if f else "" for f in range(scale)]
    return list(
        map(
            "".join,
            zip(
                prefixes,
                map(str, km.tolist()),
                map(_METRES.__getitem__, whole.tolist()),
                map(fractions.__getitem__, frac.tolist()),
                strict=True,
            ),
        )
    )


_METRES = [f"+{m:03d}" for m in range(1000)]


def _take(values: Sequence[Any], index: np.ndarray) -> list[Any]:
    """``values[index]`` with -1 meaning None."""
    table = np.array([*values, None], dtype=object)
    return table[np.where(index >= 0, index, len(values))].tolist()


_UNCOVERED = {
    (p, r, loc): ",".join(
        v for v, missing in (("police", p), ("railway", r), ("local", loc)) if missing
    )
    for p in (False, True)
    for r in (False, True)
    for loc in (False, True)
}


def risk_columns(
    ref: Referenced,
    *,
    category: Sequence[str],
    severity: Sequence[str],
    lead: Sequence[Vertical],
    found_at: Sequence[str],
    found_by: Sequence[str],
    deadline: Sequence[str],
    located_by: Sequence[str],
    description: Sequence[str | None],
    note: Sequence[str | None],
    ref_code: Sequence[str | None],
    source: Sequence[str | None],
    status: str,
    updated_at: str,
) -> dict[str, list[Any]]:
    """Every column of the risks table for the referenced points, as lists."""
    net = ref.network
    n = len(ref)
    segs = net.segments
    line_ids = np.array([ln.id for ln in net.lines], dtype=object)[ref.line].tolist()
    prefixes = np.array([ln.prefix for ln in net.lines], dtype=object)[ref.line].tolist()
    seg = ref.segment
    police = _take([p.name for p in net.police_areas], ref.police)
    nb = ref.neighbourhood
    district = _take([x.district for x in net.neighbourhoods], nb)
    street = _take([x.street_office for x in net.neighbourhoods], nb)
    workshop = _take([s.workshop for s in segs], seg)
    works_section = _take([s.works_section for s in segs], seg)
    # lead vertical per row as 0/1/2, then the lead party picked column-wise
    verticals = list(Vertical)
    code = {v: k for k, v in enumerate(verticals)}
    lead_code = np.fromiter((code[v] for v in lead), dtype=np.int8, count=n)
    by_vertical = {Vertical.POLICE: police, Vertical.RAILWAY: workshop, Vertical.LOCAL: street}
    lead_party = np.select(
        [lead_code == k for k in range(len(verticals))],
        [np.array(by_vertical[v], dtype=object) for v in verticals],
        default=None,
    ).tolist()
    uncovered = [
        _UNCOVERED[(p is None, w is None, s is None)]
        for p, w, s in zip(police, works_section, street, strict=True)
    ]
    bands = np.array([b.value for b in Band], dtype=object)[ref.band].tolist()
    columns: dict[str, list[Any]] = {
        "ref": list(ref_code),
        "category": list(category),
        "severity": list(severity),
        "status": [status] * n,
        "line": line_ids,
        "measure_m": np.round(ref.measure, 3).tolist(),
        "chainage_m": np.round(ref.chainage, 3).tolist(),
        "chainage": format_chainages(ref.chainage, prefixes),
        "side": np.array(["right", "left"], dtype=object)[(ref.side > 0).astype(np.int8)].tolist(),
        "offset_m": np.round(ref.offset, 2).tolist(),
        "segment": _take([s.id for s in segs], seg),
        "works_section": works_section,
        "workshop": workshop,
        "work_area": _take([s.work_area for s in segs], seg),
        "police": police,
        "district": district,
        "street_office": street,
        "community": _take([x.community for x in net.neighbourhoods], nb),
        "uncovered": uncovered,
        "area_class": _take([s.area_class.value for s in segs], seg),
        "zone_width_m": ref.zone_width.tolist(),
        "zone_distance_m": np.round(ref.zone_distance, 2).tolist(),
        "band": bands,
        "lead_vertical": np.array([v.value for v in verticals], dtype=object)[lead_code].tolist(),
        "lead_party": lead_party,
        "found_at": list(found_at),
        "found_by": list(found_by),
        "deadline": list(deadline),
        "cleared_at": [None] * n,
        "updated_at": [updated_at] * n,
        "located_by": list(located_by),
        "description": list(description),
        "note": list(note),
        "source": list(source),
    }
    missing = [c for c, _t in RISK_COLUMNS if c not in columns]
    if missing:  # pragma: no cover - a schema change must update this function
        raise AssertionError(f"risk columns not built: {missing}")
    return columns


def column_rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Columns → row dicts (for the few places that want records)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
