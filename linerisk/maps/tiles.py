"""Background map tiles for the meeting map.

A tile source is named on the command line with ``--tiles``:

``osm`` (default online)
    OpenStreetMap's standard tiles, WGS 84 / Web Mercator.
``gaode`` (also ``autonavi``, ``amap``) and ``gaode-satellite``
    AutoNavi/Gaode road or satellite tiles. They are drawn in GCJ-02, so every
    overlay is shifted WGS 84 → GCJ-02 to line up with them.
``tianditu:KEY`` (or ``tianditu`` with the key in ``LINERISK_TIANDITU_KEY``)
    Tianditu (天地图) vector map with its annotation layer, CGCS2000, which is
    WGS 84 to within centimetres. Tianditu needs a (free) developer key.
a URL template such as ``https://tiles.intranet/{z}/{x}/{y}.png``
    an intranet tile server in WGS 84 / Web Mercator; prefix it with ``gcj02:``
    when the server holds GCJ-02 tiles.
``none`` (default offline)
    no tiles: every layer on a plain background.

    >>> tile_source("gaode").datum
    'gcj02'
    >>> tile_source("https://intranet/{z}/{x}/{y}.png").online
    False
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

from linerisk.errors import LineriskError

__all__ = ["TIANDITU_KEY_ENV", "TileLayer", "TileSource", "tile_source"]

#: environment variable holding a Tianditu developer key
TIANDITU_KEY_ENV = "LINERISK_TIANDITU_KEY"


@attrs.frozen
class TileLayer:
    """One Leaflet tile layer: URL template and its options."""

    url: str
    attribution: str = ""
    subdomains: str = "abc"
    max_zoom: int = 18

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "attribution": self.attribution,
            "subdomains": self.subdomains,
            "maxZoom": self.max_zoom,
        }


@attrs.frozen
class TileSource:
    """A named background: zero or more tile layers drawn in one datum.

    ``datum`` is ``wgs84`` or ``gcj02``; ``online`` says whether the tiles come
    from a public internet service (an offline map refuses those).
    """

    key: str
    label_zh: str
    label_en: str
    layers: tuple[TileLayer, ...] = ()
    datum: str = "wgs84"
    online: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    @property
    def has_tiles(self) -> bool:
        return bool(self.layers)


_OSM = TileSource(
    "osm",
    "OpenStreetMap 地图",
    "OpenStreetMap",
    (
        TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "&copy; OpenStreetMap contributors",
            subdomains="",
            max_zoom=19,
        ),
    ),
    online=True,
)

_GAODE_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
_GAODE_SAT_URL = "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}"

_GAODE = TileSource(
    "gaode",
    "高德地图（GCJ-02）",
    "AutoNavi/Gaode (GCJ-02)",
    (TileLayer(_GAODE_URL, "&copy; 高德地图 AutoNavi", subdomains="1234"),),
    datum="gcj02",
    online=True,
)
_GAODE_SAT = TileSource(
    "gaode-satellite",
    "高德影像（GCJ-02）",
    "AutoNavi/Gaode satellite (GCJ-02)",
    (TileLayer(_GAODE_SAT_URL, "&copy; 高德地图 AutoNavi", subdomains="1234"),),
    datum="gcj02",
    online=True,
)

_NONE = TileSource("none", "无底图", "no background map")

_ALIASES = {
    "osm": _OSM,
    "openstreetmap": _OSM,
    "gaode": _GAODE,
    "autonavi": _GAODE,
    "amap": _GAODE,
    "gaode-satellite": _GAODE_SAT,
    "none": _NONE,
}


def _tianditu(key: str) -> TileSource:
    def wmts(layer: str) -> str:
        return (
            f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
        )

    attribution = "&copy; 天地图 Tianditu"
    return TileSource(
        "tianditu",
        "天地图（CGCS2000）",
        "Tianditu (CGCS2000)",
        (
            TileLayer(wmts("vec"), attribution, subdomains="01234567"),
            TileLayer(wmts("cva"), "", subdomains="01234567"),
        ),
        datum="wgs84",
        online=True,
    )


def tile_source(spec: str | TileSource | None, env: Mapping[str, str] | None = None) -> TileSource:
    """The :class:`TileSource` named by ``spec`` (see the module docstring).

    Raises :class:`LineriskError` with a plain sentence for an unknown name, a
    template without ``{z}``, ``{x}`` and ``{y}``, or Tianditu without a key.
    """
    if isinstance(spec, TileSource):
        return spec
    env = os.environ if env is None else env
    text = (spec or "none").strip()
    lowered = text.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if lowered == "tianditu" or lowered.startswith("tianditu:"):
        key = text.split(":", 1)[1].strip() if ":" in text else env.get(TIANDITU_KEY_ENV, "")
        if not key:
            raise LineriskError(
                "Tianditu tiles need a developer key: use --tiles tianditu:KEY or set "
                f"{TIANDITU_KEY_ENV}"
            )
        if not key.isalnum():
            raise LineriskError("a Tianditu key has only letters and digits")
        return _tianditu(key)
    datum = "wgs84"
    url = text
    if lowered.startswith("gcj02:"):
        datum = "gcj02"
        url = text.split(":", 1)[1].strip()
    if "{z}" in url and "{x}" in url and "{y}" in url:
        if not url.lower().startswith(("http://", "https://", "file:", "/", "./", "../")):
            raise LineriskError(
                f"tile URL template {url!r} must start with http://, https:// or a path"
            )
        return TileSource(
            "custom",
            "自定义底图",
            "custom tiles",
            (TileLayer(url, "", subdomains="abc", max_zoom=19),),
            datum=datum,
            online=False,
        )
    names = ", ".join(["osm", "gaode", "gaode-satellite", "tianditu:KEY", "none"])
    raise LineriskError(
        f"unknown tile source {text!r}; use one of {names}, or a URL template with "
        "{z}, {x} and {y} such as https://tiles.intranet/{z}/{x}/{y}.png"
    )
