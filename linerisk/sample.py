"""The bundled sample stretch of line (geodata/)."""

from __future__ import annotations

from pathlib import Path

from linerisk.network import Network
from linerisk.settings import Settings

__all__ = ["load_network_dir", "load_sample_network", "sample_dir"]


def sample_dir() -> Path:
    """The folder holding the sample GeoJSON layers.

    In a wheel the data sits inside the package; in a source checkout it is the
    repository's ``geodata/`` folder.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "geodata", here.parent / "geodata"):
        if (candidate / "lines.geojson").exists():
            return candidate
    raise FileNotFoundError("the linerisk sample data (geodata/) is not installed")


def load_network_dir(
    directory: str | Path, crs: str | None = None, settings: Settings | None = None
) -> Network:
    """Build a :class:`Network` from a folder of layer files named like the sample.

    >>> net = load_network_dir(sample_dir())
    >>> net.crs
    'EPSG:4548'
    """
    from linerisk.io.layers import read_network_dir

    crs, objects = read_network_dir(directory, crs)
    return Network(crs=crs, settings=settings, **objects)


def load_sample_network(settings: Settings | None = None) -> Network:
    """The sample network in its metric CRS (CGCS2000 / 3-degree GK CM 117E)."""
    return load_network_dir(sample_dir(), settings=settings)


def read_risk_file(path: str | Path) -> tuple[list[dict], list[list[dict]]]:
    """Risk rows and their histories from a file laid out like ``geodata/risks.geojson``.

    Features with a geometry are placed by coordinates, the others by
    ``line``/``chainage``/``side``/``offset_m``.
    """
    from linerisk.io.layers import read_layer

    layer = read_layer(path)
    rows: list[dict] = []
    histories: list[list[dict]] = []
    for record, geom in zip(layer.records, layer.geometries, strict=True):
        row = {
            k: record.get(k)
            for k in ("category", "severity", "found_by", "found_at", "description", "note", "ref")
        }
        if geom is not None and not geom.is_empty:
            row |= {"x": geom.x, "y": geom.y, "crs": layer.crs}
        else:
            row |= {
                "line": record.get("line"),
                "chainage": record.get("chainage"),
                "side": record.get("side"),
                "offset": record.get("offset_m"),
            }
        rows.append(row)
        histories.append(list(record.get("history") or []))
    return rows, histories


def build_sample_register(path: str | Path, settings: Settings | None = None):
    """Create a register at ``path`` from the sample data, with every sample risk
    and its history replayed through the lifecycle (so the audit chain is real)."""
    from linerisk.register import Register

    reg = Register.create(path, from_dir=sample_dir(), settings=settings)
    try:
        rows, histories = read_risk_file(sample_dir() / "risks.geojson")
        # The sample keeps one duplicate on purpose (later withdrawn as such).
        reg.add_risks(rows, allow_duplicates=True, events=histories)
    except BaseException:
        reg.close()
        Path(path).unlink(missing_ok=True)
        raise
    return reg
