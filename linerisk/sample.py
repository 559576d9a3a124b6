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
