"""Read register layers from files GDAL understands, into model objects.

Files are read with pyogrio's raw interface (no geopandas), reprojected to the
register's CRS and validated. Each layer kind has a converter from a property
record to a model object; errors name the file and the feature.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import shapely

from linerisk.bulk import collector_paused
from linerisk.chainage import parse_chainage
from linerisk.crs import WGS84, choose_metric_crs, transform_geometries
from linerisk.errors import LineriskError
from linerisk.model import (
    ChainBreak,
    Fence,
    KmPost,
    Line,
    Neighbourhood,
    PoliceArea,
    Segment,
)

__all__ = ["LAYER_KINDS", "Layer", "LayerError", "read_layer", "read_network_dir"]


class LayerError(LineriskError, ValueError):
    """A layer file that cannot be read into the register; the message says where."""


@attrs.frozen(eq=False)
class Layer:
    """Features of one file: property records and geometries (None where null)."""

    path: str
    crs: str | None
    records: list[dict[str, Any]]
    geometries: np.ndarray

    def __len__(self) -> int:
        return len(self.records)

    def to_crs(self, crs: str) -> Layer:
        if self.crs is None:
            raise LayerError(f"{self.path}: the file has no coordinate reference system")
        geoms = self.geometries.copy()
        present = np.array([g is not None for g in geoms], dtype=bool)
        if present.any():
            geoms[present] = transform_geometries(geoms[present], self.crs, crs)
        return Layer(self.path, crs, self.records, geoms)


def _jsonish(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def column_values(column: np.ndarray) -> list[Any]:
    """One field as read by pyogrio, as plain Python values: NaN becomes None and
    text holding a JSON array or object is parsed. Column at a time: an import of
    a million rows reads millions of values."""
    values = column.tolist()
    kind = column.dtype.kind
    if kind == "f":
        return [None if v != v else v for v in values] if np.isnan(column).any() else values
    return _plain(values) if kind == "O" else values


def _plain(values: list[Any]) -> list[Any]:
    """Values of a column read as Python objects (an Arrow column, or a pyogrio
    object column): NaN becomes None and JSON text is parsed."""
    return [
        v
        if v is None or (type(v) is str and v[:1] not in "[{") or (type(v) is float and v == v)
        else _jsonish(v)
        for v in values
    ]


def _arrow_values(column: Any) -> list[Any]:
    """An Arrow column as plain Python values, like :func:`_plain`; columns with
    no NaN and no text that could be JSON (checked in Arrow) are taken as they are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        clean = not pc.any(pc.or_(pc.starts_with(column, "["), pc.starts_with(column, "{"))).as_py()
    elif pa.types.is_floating(kind):
        clean = not pc.any(pc.is_nan(column)).as_py()
    else:
        clean = pa.types.is_integer(kind) or pa.types.is_boolean(kind)
    values = column.to_pylist()
    return values if clean else _plain(values)


#: read through Arrow when pyarrow is installed (the ``arrow`` extra); None = not yet known
USE_ARROW: bool | None = None


def read_fields(
    path: str, layer: str | int | None = None, **options: Any
) -> tuple[dict[str, Any], np.ndarray | None, np.ndarray | None, list[str], list[list[Any]]]:
    """Read a vector layer with pyogrio: ``(meta, fids, wkb, names, columns)``,
    each column a list of plain Python values (NaN as None, JSON text parsed).

    With pyarrow installed the layer is read column-wise through GDAL's Arrow
    stream, about twenty times faster on a large GeoPackage; otherwise feature
    by feature. pyogrio's errors pass through.
    """
    import pyogrio

    global USE_ARROW
    if USE_ARROW is None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            USE_ARROW = False
        else:
            USE_ARROW = True
    if not USE_ARROW:
        meta, fids, wkb, fields = pyogrio.raw.read(path, layer=layer, **options)
        return meta, fids, wkb, list(meta["fields"]), [column_values(c) for c in fields]
    meta, table = pyogrio.raw.read_arrow(path, layer=layer, **options)
    # By position: a file's FID column may share its name with a field (GeoJSON "id").
    names = [str(c) for c in meta["fields"]]
    first = 1 if options.get("return_fids") else 0
    fids = table.column(0).to_numpy() if first else None
    columns = [_arrow_values(table.column(first + k)) for k in range(len(names))]
    wkb = None
    if table.num_columns > first + len(names):
        wkb = table.column(first + len(names)).to_numpy(zero_copy_only=False)
    return meta, fids, wkb, names, columns


def records_of(names: Sequence[str], columns: Sequence[Sequence[Any]], n: int) -> list[dict]:
    """Row dicts from columns."""
    if not columns:
        return [{} for _ in range(n)]
    return list(map(dict, map(zip, itertools.repeat(names), zip(*columns, strict=True))))


@collector_paused()
def read_layer(path: str | Path, layer: str | int | None = None) -> Layer:
    """Read one vector layer with pyogrio, with the cyclic garbage collector
    paused (a national file is a million record dicts: with the collector on,
    reading it took twice as long).

    >>> from linerisk.sample import sample_dir
    >>> lines = read_layer(sample_dir() / "lines.geojson")
    >>> lines.records[0]["id"], lines.crs
    ('JD', 'EPSG:4326')
    """
    from pyogrio.errors import DataLayerError, DataSourceError

    path = str(path)
    try:
        meta, _fids, wkb, names, columns = read_fields(path, layer=layer)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise LayerError(f"cannot read {path}: {exc}") from None
    n = len(wkb) if wkb is not None else (len(columns[0]) if columns else 0)
    records = records_of(names, columns, n)
    geoms = shapely.from_wkb(wkb) if wkb is not None else np.full(n, None, dtype=object)
    return Layer(path, meta.get("crs"), records, np.asarray(geoms, dtype=object))


def _chainage(value: Any) -> float:
    return parse_chainage(value).metres


def _line(r: Mapping[str, Any], g: Any) -> Line:
    start = parse_chainage(r.get("start_chainage") or 0.0)
    return Line(
        id=str(r["id"]),
        name_zh=r.get("name_zh") or str(r["id"]),
        name_en=r.get("name_en") or str(r["id"]),
        geometry=g,
        start_chainage=start.metres,
        high_speed=bool(r.get("high_speed") or False),
        design_speed_kmh=r.get("design_speed_kmh"),
        tracks=int(r.get("tracks") or 1),
        prefix=r.get("prefix") or start.prefix,
    )


def _kmpost(r: Mapping[str, Any], g: Any) -> KmPost:
    return KmPost(line=str(r["line"]), chainage=_chainage(r["chainage"]), geometry=g)


def _chain_break(r: Mapping[str, Any], g: Any) -> ChainBreak:
    return ChainBreak(
        line=str(r["line"]),
        back=_chainage(r["back"]),
        ahead=_chainage(r["ahead"]),
        geometry=g,
        note=r.get("note_zh") or r.get("note") or "",
    )


def _segment(r: Mapping[str, Any], g: Any) -> Segment:
    return Segment(
        id=str(r["id"]),
        line=str(r["line"]),
        from_chainage=_chainage(r["from_chainage"]),
        to_chainage=_chainage(r["to_chainage"]),
        works_section=r["works_section"],
        workshop=r["workshop"],
        work_area=r["work_area"],
        area_class=r["area_class"],
        patrol_per_week=r.get("patrol_per_week"),
        formation_half_width_left_m=r.get("formation_half_width_left_m"),
        formation_half_width_right_m=r.get("formation_half_width_right_m"),
        geometry=g,
    )


def _police_area(r: Mapping[str, Any], g: Any) -> PoliceArea:
    return PoliceArea(
        id=str(r["id"]),
        name=r["name"],
        geometry=g,
        name_en=r.get("name_en") or "",
        parent=r.get("parent") or "",
    )


def _neighbourhood(r: Mapping[str, Any], g: Any) -> Neighbourhood:
    return Neighbourhood(
        id=str(r["id"]),
        district=r["district"],
        street_office=r["street_office"],
        community=r["community"],
        geometry=g,
    )


def _fence(r: Mapping[str, Any], g: Any) -> Fence:
    return Fence(
        id=str(r["id"]),
        line=str(r["line"]),
        side=r["side"],
        from_chainage=_chainage(r["from_chainage"]),
        to_chainage=_chainage(r["to_chainage"]),
        condition=r.get("condition") or "intact",
        kind=r.get("kind") or "wire_mesh",
        geometry=g,
    )


#: layer kind → (file stem, converter, geometry required)
LAYER_KINDS: dict[str, tuple[str, Callable[[Mapping[str, Any], Any], Any], bool]] = {
    "lines": ("lines", _line, True),
    "kmposts": ("kmposts", _kmpost, True),
    "chain_breaks": ("chain_breaks", _chain_break, False),
    "segments": ("segments", _segment, False),
    "police_areas": ("police_areas", _police_area, True),
    "neighbourhoods": ("neighbourhoods", _neighbourhood, True),
    "fences": ("fences", _fence, False),
}


def to_objects(kind: str, layer: Layer) -> list[Any]:
    """Convert a layer's features to model objects; errors name the feature."""
    _stem, convert, needs_geometry = LAYER_KINDS[kind]
    out = []
    for i, (record, geom) in enumerate(zip(layer.records, layer.geometries, strict=True)):
        label = record.get("id") or record.get("chainage") or i + 1
        if geom is not None and geom.is_empty:
            geom = None
        if geom is None and needs_geometry:
            raise LayerError(f"{layer.path}: feature {label} has no geometry")
        try:
            out.append(convert(record, geom))
        except KeyError as exc:
            raise LayerError(
                f"{layer.path}: feature {label} has no field {exc.args[0]!r}"
            ) from None
        except (ValueError, TypeError) as exc:
            raise LayerError(f"{layer.path}: feature {label}: {exc}") from None
    return out


def find_layer_file(directory: Path, stem: str) -> Path | None:
    for suffix in (".geojson", ".gpkg", ".shp", ".json", ".fgb"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def read_network_dir(
    directory: str | Path, crs: str | None = None
) -> tuple[str, dict[str, list[Any]]]:
    """Read every layer file named like the sample data from ``directory``.

    Returns the metric CRS used (chosen from the lines' position when not
    given) and the model objects per layer kind.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise LayerError(f"{directory} is not a directory")
    layers: dict[str, Layer] = {}
    for kind, (stem, _convert, _geo) in LAYER_KINDS.items():
        path = find_layer_file(directory, stem)
        if path is not None:
            layers[kind] = read_layer(path)
    if "lines" not in layers:
        raise LayerError(f"{directory} has no lines layer (lines.geojson or lines.gpkg)")
    if crs is None:
        crs = _crs_from_lines(layers["lines"])
    objects = {kind: to_objects(kind, layer.to_crs(crs)) for kind, layer in layers.items()}
    return crs, objects


def _crs_from_lines(layer: Layer) -> str:
    from linerisk.crs import transform_xy

    geoms = [g for g in layer.geometries if g is not None]
    if not geoms or layer.crs is None:
        raise LayerError(f"{layer.path}: cannot choose a metric CRS without line geometries")
    centre = shapely.centroid(shapely.union_all(geoms).envelope)
    lon, lat = transform_xy([centre.x], [centre.y], layer.crs, WGS84)
    return choose_metric_crs(float(lon[0]), float(lat[0]))
