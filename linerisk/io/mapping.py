"""Which column of a file holds which field of a register layer.

A file's columns are matched to a layer's fields in this order:

1. an explicit mapping (``--map field=column`` or a mapping file);
2. the field's own name (``chainage``), in any letter case;
3. the field's Shapefile short name (``from_ch_m``, see :data:`SHORT_NAMES`);
4. the usual Chinese headers of registers and surveys (``里程``, ``隐患类别``,
   ``责任单位``, see :data:`SYNONYMS`).

Values are recognised the same way: categories by key, Chinese name or a small
synonym table (``彩钢瓦`` is a hard floating object), statuses by the words
stations write (``未整改``, ``已销号``), sides by 左侧/右侧 and by 上行/下行
through a configurable mapping. Nothing here opens a data file or prints.

    >>> m = FieldMapping.from_pairs(["chainage=里程数"])
    >>> resolve_columns("risks", ["里程数", "隐患类别", "Side"], m)
    {'category': '隐患类别', 'chainage': '里程数', 'side': 'Side'}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from linerisk.convert import as_dict
from linerisk.errors import LineriskError

__all__ = [
    "CATEGORY_SYNONYMS",
    "FIELDS",
    "GEOMETRY_FIELDS",
    "KINDS",
    "SHORT_NAMES",
    "STATUS_WORDS",
    "SYNONYMS",
    "ZH_HEADERS",
    "FieldMapping",
    "MappingError",
    "norm_header",
    "resolve_columns",
]


class MappingError(LineriskError, ValueError):
    """A mapping that names an unknown field or a column the file does not have."""


#: the layer kinds a file can be imported into, in the order of the docs
KINDS = (
    "lines",
    "kmposts",
    "chain_breaks",
    "segments",
    "police_areas",
    "neighbourhoods",
    "fences",
    "risks",
)

#: columns of a table (CSV, XLSX) that can carry geometry: lon/lat or x/y
#: for points, WKT for anything
GEOMETRY_FIELDS = ("lon", "lat", "x", "y", "wkt")

#: fields each layer kind reads from a file (the names of the model and the store)
FIELDS: dict[str, tuple[str, ...]] = {
    "lines": (
        "id",
        "name_zh",
        "name_en",
        "start_chainage",
        "high_speed",
        "design_speed_kmh",
        "tracks",
        "prefix",
    ),
    "kmposts": ("line", "chainage"),
    "chain_breaks": ("line", "back", "ahead", "note"),
    "segments": (
        "id",
        "line",
        "from_chainage",
        "to_chainage",
        "works_section",
        "workshop",
        "work_area",
        "area_class",
        "patrol_per_week",
        "formation_half_width_left_m",
        "formation_half_width_right_m",
    ),
    "police_areas": ("id", "name", "name_en", "parent"),
    "neighbourhoods": ("id", "district", "street_office", "community"),
    "fences": ("id", "line", "side", "from_chainage", "to_chainage", "condition", "kind"),
    "risks": (
        "id",
        "ref",
        "category",
        "severity",
        "status",
        "reason",
        "line",
        "chainage",
        "side",
        "offset_m",
        "located_by",
        "description",
        "note",
        "found_at",
        "found_by",
        "responsible_unit",
        "rectified_at",
        "cleared_at",
    ),
}

#: Shapefile column names (at most 10 characters) of the fields and export columns
#: whose names are longer; every other name is used as it is.
SHORT_NAMES: dict[str, str] = {
    "start_chainage_m": "start_ch_m",
    "start_chainage": "start_ch",
    "design_speed_kmh": "speed_kmh",
    "from_chainage_m": "from_ch_m",
    "to_chainage_m": "to_ch_m",
    "from_chainage": "from_ch",
    "to_chainage": "to_ch",
    "works_section": "works_sec",
    "patrol_per_week": "patrol_wk",
    "formation_half_width_left_m": "half_w_l_m",
    "formation_half_width_right_m": "half_w_r_m",
    "street_office": "street_off",
    "zone_width_m": "zone_w_m",
    "zone_distance_m": "zone_d_m",
    "lead_vertical": "lead_vert",
    "description": "descr",
    "rectified_at": "rectif_at",
    "responsible_unit": "resp_unit",
}

#: the Chinese header written for each column under ``--lang zh`` (the words of
#: the CLI's tables where both have the column)
ZH_HEADERS: dict[str, str] = {
    "id": "编号",
    "ref": "原编号",
    "category": "类别",
    "severity": "等级",
    "status": "状态",
    "reason": "原因",
    "line": "线路",
    "chainage": "里程",
    "chainage_m": "里程(米)",
    "side": "侧别",
    "offset_m": "距中心(米)",
    "zone": "距离带",
    "zone_width_m": "保护区宽(米)",
    "zone_distance_m": "距路基(米)",
    "area_class": "地区类别",
    "works_section": "工务段",
    "workshop": "车间",
    "work_area": "工区",
    "police": "派出所",
    "district": "区县",
    "street_office": "街道/镇",
    "community": "社区/村",
    "uncovered": "未覆盖",
    "lead_vertical": "牵头条线",
    "lead_party": "牵头单位",
    "found_at": "发现时间",
    "found_by": "发现人",
    "deadline": "整改期限",
    "overdue": "超期",
    "rectified_at": "整改日期",
    "cleared_at": "销号时间",
    "located_by": "定位方式",
    "description": "描述",
    "note": "备注",
    "lon": "经度",
    "lat": "纬度",
    "wkt": "几何(WKT)",
    "segment": "区段",
    "from_chainage": "起点里程",
    "to_chainage": "终点里程",
    "patrol_per_week": "巡线(次/周)",
    "name_zh": "线路名称",
    "name_en": "英文名称",
    "start_chainage": "线路起点里程",
    "high_speed": "高速铁路",
    "design_speed_kmh": "设计速度(km/h)",
    "tracks": "正线数",
    "prefix": "里程冠号",
    "back": "断链前里程",
    "ahead": "断链后里程",
    "kind": "类型",
    "condition": "状况",
    "name": "名称",
    "parent": "上级单位",
    "formation_half_width_left_m": "左侧路基半宽(米)",
    "formation_half_width_right_m": "右侧路基半宽(米)",
    "responsible_unit": "责任单位",
}


def _with_units(*bases: str) -> tuple[str, ...]:
    """Distance headers with the unit suffixes registers add: 距离, 距离(米), 距离（m）..."""
    return tuple(b + u for b in bases for u in ("", "(米)", "(m)", "米", "/米", "/m"))


_COMMON: dict[str, tuple[str, ...]] = {
    "line": ("线路", "线别", "线名", "线路名称", "所属线路"),
    "side": ("侧别", "左右侧", "方位", "位置方向", "上下行", "行别"),
    "note": ("备注", "说明"),
    "lon": ("经度", "longitude", "lng", "long"),
    "lat": ("纬度", "latitude"),
    "x": ("x坐标", "东坐标", "easting"),
    "y": ("y坐标", "北坐标", "northing"),
    "wkt": ("几何(wkt)", "geometry", "geom", "几何"),
    "from_chainage": ("起点里程", "起始里程", "起点"),
    "to_chainage": ("终点里程", "终止里程", "止点里程", "终点"),
}

#: usual headers of each field, per layer kind (compared after :func:`norm_header`)
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "lines": {
        "id": ("线路编号", "线路代码", "代码", "编号"),
        "name_zh": ("线路名称", "线名", "名称", "中文名称"),
        "name_en": ("英文名称", "英文名"),
        "start_chainage": ("线路起点里程", "起点里程"),
        "high_speed": ("高速铁路", "是否高铁", "高铁"),
        "design_speed_kmh": ("设计速度(km/h)", "设计速度", "设计时速"),
        "tracks": ("正线数", "股道数", "线数"),
        "prefix": ("里程冠号", "冠号"),
    },
    "kmposts": {
        "line": _COMMON["line"],
        "chainage": ("里程", "公里标", "公里标里程"),
    },
    "chain_breaks": {
        "line": _COMMON["line"],
        "back": ("断链前里程", "断前里程", "断链前"),
        "ahead": ("断链后里程", "断后里程", "断链后"),
        "note": ("备注", "说明", "note_zh"),
    },
    "segments": {
        "id": ("区段编号", "编号", "区段"),
        "line": _COMMON["line"],
        "from_chainage": _COMMON["from_chainage"],
        "to_chainage": _COMMON["to_chainage"],
        "works_section": ("工务段",),
        "workshop": ("车间", "线路车间"),
        "work_area": ("工区", "线路工区"),
        "area_class": ("地区类别", "区域类别", "地区分类"),
        "patrol_per_week": ("巡线(次/周)", "巡线频次", "每周巡线次数"),
        "formation_half_width_left_m": _with_units("左侧路基半宽"),
        "formation_half_width_right_m": _with_units("右侧路基半宽"),
    },
    "police_areas": {
        "id": ("编号", "辖区编号"),
        "name": ("名称", "派出所", "派出所名称"),
        "name_en": ("英文名称", "英文名"),
        "parent": ("上级单位", "上级", "公安处"),
    },
    "neighbourhoods": {
        "id": ("编号",),
        "district": ("区县", "区/县", "区", "县"),
        "street_office": ("街道/镇", "街道", "街道办", "乡镇", "镇"),
        "community": ("社区/村", "社区", "村", "村居"),
    },
    "fences": {
        "id": ("编号", "护网编号"),
        "line": _COMMON["line"],
        "side": _COMMON["side"],
        "from_chainage": _COMMON["from_chainage"],
        "to_chainage": _COMMON["to_chainage"],
        "condition": ("状况", "护网状况", "状态"),
        "kind": ("类型", "种类", "护网类型"),
    },
    "risks": {
        "id": ("编号", "序号"),
        "ref": ("原编号", "隐患编号", "台账编号"),
        "category": ("类别", "隐患类别", "隐患类型", "类型", "隐患种类"),
        "severity": ("等级", "隐患等级", "级别", "风险等级"),
        "status": ("状态", "整改状态", "整改情况", "处置状态", "销号情况"),
        "reason": ("撤销原因", "原因"),
        "line": _COMMON["line"],
        "chainage": ("里程", "隐患里程", "位置里程", "具体里程", "里程位置", "里程范围"),
        "side": _COMMON["side"],
        "offset_m": (
            "offset",
            *_with_units(
                "距中心",
                "距离",
                "距线路距离",
                "距线路中心",
                "距线路中心距离",
                "距铁路距离",
                "与线路距离",
                "距离线路",
            ),
        ),
        "located_by": ("定位方式",),
        "description": ("描述", "隐患描述", "隐患情况", "隐患内容", "具体情况", "问题描述"),
        "note": _COMMON["note"],
        "found_at": ("发现时间", "发现日期", "排查日期", "排查时间", "登记日期", "检查日期"),
        "found_by": ("发现人", "排查人", "登记人", "检查人"),
        "responsible_unit": ("责任单位", "整改责任单位", "责任部门"),
        "rectified_at": ("整改日期", "整改完成日期", "整改时间", "整改完成时间", "完成日期"),
        "cleared_at": ("销号时间", "销号日期"),
    },
}

for _table in SYNONYMS.values():
    for _geo in GEOMETRY_FIELDS:
        _table.setdefault(_geo, _COMMON[_geo])

#: category synonyms as stations write them → category key (besides the key, the
#: Chinese name and the English label, which are always recognised)
CATEGORY_SYNONYMS: dict[str, str] = {
    "彩钢瓦": "hard_floating_object",
    "彩钢板": "hard_floating_object",
    "铁皮": "hard_floating_object",
    "石棉瓦": "hard_floating_object",
    "活动板房": "hard_floating_object",
    "地膜": "light_floating_object",
    "大棚膜": "light_floating_object",
    "农膜": "light_floating_object",
    "塑料薄膜": "light_floating_object",
    "塑料布": "light_floating_object",
    "防尘网": "light_floating_object",
    "遮阳网": "light_floating_object",
    "彩条布": "light_floating_object",
    "垃圾": "garbage",
    "护网破损": "fence_damage",
    "防护网破损": "fence_damage",
    "栅栏破损": "fence_damage",
    "护栏破损": "fence_damage",
    "穿越铁路": "illegal_crossing",
    "行人穿越": "illegal_crossing",
    "风筝": "kite_balloon_drone",
    "气球": "kite_balloon_drone",
    "孔明灯": "kite_balloon_drone",
    "无人机": "kite_balloon_drone",
    "树木": "tree_encroachment",
    "违章建筑": "illegal_building",
    "违建": "illegal_building",
    "私搭乱建": "illegal_building",
    "施工": "illegal_construction",
    "放牧": "livestock",
    "焚烧": "burning",
    "取土": "sand_soil_digging",
    "挖沙": "sand_soil_digging",
    "采砂": "sand_soil_digging",
    "爆破": "mining_blasting",
    "采石": "mining_blasting",
    "打井": "water_extraction",
    "道口": "level_crossing",
    "下穿通道": "level_crossing",
    "盗割": "cable_theft",
    "盗窃电缆": "cable_theft",
    "投石": "stone_throwing",
    "水害": "flood_geology",
    "涵洞堵塞": "flood_geology",
    "农机": "farm_machinery",
}

#: what stations write in a status column → (status key, withdraw reason or None)
STATUS_WORDS: dict[str, tuple[str, str | None]] = {
    "新发现": ("reported", None),
    "待交办": ("reported", None),
    "未交办": ("reported", None),
    "未整改": ("assigned", None),
    "待整改": ("assigned", None),
    "已交办": ("assigned", None),
    "整改中": ("rectifying", None),
    "正在整改": ("rectifying", None),
    "处置中": ("rectifying", None),
    "已整改": ("awaiting_recheck", None),
    "整改完成": ("awaiting_recheck", None),
    "已完成整改": ("awaiting_recheck", None),
    "待复查": ("awaiting_recheck", None),
    "待销号": ("awaiting_recheck", None),
    "已销号": ("cleared", None),
    "销号": ("cleared", None),
    "已复查销号": ("cleared", None),
    "已消除": ("cleared", None),
    "已撤销": ("withdrawn", None),
    "撤销": ("withdrawn", None),
    "重复": ("withdrawn", "duplicate"),
    "重复登记": ("withdrawn", "duplicate"),
    "不构成隐患": ("withdrawn", "not_a_hazard"),
    "非隐患": ("withdrawn", "not_a_hazard"),
}

#: sides: 左侧/右侧 of increasing chainage; 上行/下行 (up/down track) by default left/right
DEFAULT_SIDES: dict[str, str] = {"上行": "left", "下行": "right"}

_FULLWIDTH = str.maketrans(
    {"（": "(", "）": ")", "／": "/", "　": " ", "：": ":"}
    | {chr(0xFF10 + i): str(i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)


def norm_header(text: Any) -> str:
    """A header reduced for comparison: half-width, lower case, no spaces.

    >>> norm_header(" 距线路距离（米） ")
    '距线路距离(米)'
    """
    return re.sub(r"\s+", "", str(text).translate(_FULLWIDTH)).lower()


def norm_value(text: Any) -> str:
    """A cell value reduced for comparison with the word tables."""
    return re.sub(r"\s+", "", str(text).translate(_FULLWIDTH)).lower()


@attrs.frozen
class FieldMapping:
    """How to read a file: columns per field, and extra words for values.

    ``fields`` maps a layer field to a column of the file. ``categories``,
    ``statuses`` and ``sides`` add words to the built-in tables (a status word
    maps to a status key, or to ``withdrawn:REASON``); ``defaults`` gives a
    value for a field the file has no column for (e.g. ``line = "JD"``).
    ``sheet`` chooses the worksheet of a workbook.
    """

    fields: Mapping[str, str] = attrs.field(factory=dict, converter=as_dict)
    categories: Mapping[str, str] = attrs.field(factory=dict, converter=as_dict)
    statuses: Mapping[str, str] = attrs.field(factory=dict, converter=as_dict)
    sides: Mapping[str, str] = attrs.field(factory=dict, converter=as_dict)
    defaults: Mapping[str, Any] = attrs.field(factory=dict, converter=as_dict)
    sheet: str | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> FieldMapping:
        """From ``field=column`` strings, as given to ``--map``."""
        fields: dict[str, str] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise MappingError(f"a mapping is written FIELD=COLUMN, not {pair!r}")
            fields[name.strip()] = column.strip()
        return cls(fields=fields)

    @classmethod
    def from_file(cls, path: str | Path) -> FieldMapping:
        """From a JSON or TOML file with the tables ``fields``, ``categories``,
        ``statuses``, ``sides`` and ``defaults`` and the key ``sheet`` (all optional).

        A file with none of these tables is read as a plain ``{field: column}`` map.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            if path.suffix.lower() == ".toml":
                import tomllib

                data = tomllib.loads(text)
            else:
                data = json.loads(text)
        except (OSError, ValueError) as exc:
            raise MappingError(f"cannot read mapping file {path}: {exc}") from None
        if not isinstance(data, dict):
            raise MappingError(f"cannot read mapping file {path}: it must hold a table")
        sections = ("fields", "categories", "statuses", "sides", "defaults", "sheet")
        if not any(k in data for k in sections):
            data = {"fields": data}
        unknown = sorted(set(data) - set(sections))
        if unknown:
            raise MappingError(
                f"cannot read mapping file {path}: unknown table {unknown[0]!r}; "
                "use fields, categories, statuses, sides, defaults or sheet"
            )
        for name in sections[:-1]:
            if not isinstance(data.get(name, {}), dict):
                raise MappingError(f"cannot read mapping file {path}: {name} must be a table")
        return cls(
            fields={str(k): str(v) for k, v in data.get("fields", {}).items()},
            categories={str(k): str(v) for k, v in data.get("categories", {}).items()},
            statuses={str(k): str(v) for k, v in data.get("statuses", {}).items()},
            sides={str(k): str(v) for k, v in data.get("sides", {}).items()},
            defaults=dict(data.get("defaults", {})),
            sheet=data.get("sheet"),
        )

    def merged(self, other: FieldMapping | None) -> FieldMapping:
        """This mapping with ``other``'s entries added (``other`` wins)."""
        if other is None:
            return self
        return FieldMapping(
            fields={**self.fields, **other.fields},
            categories={**self.categories, **other.categories},
            statuses={**self.statuses, **other.statuses},
            sides={**self.sides, **other.sides},
            defaults={**self.defaults, **other.defaults},
            sheet=other.sheet or self.sheet,
        )

    def side_words(self) -> dict[str, str]:
        """上行/下行 and any extra side words → ``left``/``right``."""
        from linerisk.model import Side

        out = {}
        for word, side in {**DEFAULT_SIDES, **self.sides}.items():
            try:
                out[norm_value(word)] = Side.parse(side).value
            except ValueError:
                raise MappingError(
                    f"the side word {word!r} must map to left or right, not {side!r}"
                ) from None
        return out


def known_fields(kind: str) -> tuple[str, ...]:
    """Fields of ``kind`` that a mapping may name (with the geometry columns)."""
    if kind not in FIELDS:
        raise MappingError(f"unknown layer {kind!r}; choose one of {', '.join(KINDS)}")
    return FIELDS[kind] + GEOMETRY_FIELDS


def resolve_columns(
    kind: str, columns: Sequence[str], mapping: FieldMapping | None = None
) -> dict[str, str]:
    """Field → column of the file, for every field of ``kind`` the file has.

    Explicit entries of ``mapping`` come first and must name a field of
    ``kind`` and a column of the file; the remaining fields are found by name,
    Shapefile short name and Chinese header. A column serves one field only.
    """
    mapping = mapping or FieldMapping()
    fields = known_fields(kind)
    out: dict[str, str] = {}
    used: set[str] = set()
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(norm_header(col), col)
    for name, column in mapping.fields.items():
        if name not in fields:
            raise MappingError(
                f"unknown field {name!r} for {kind}; its fields are {', '.join(fields)}"
            )
        found = column if column in columns else by_norm.get(norm_header(column))
        if found is None:
            shown = ", ".join(map(str, columns)) or "none"
            raise MappingError(
                f"column {column!r} (for {name}) is not in the file; its columns are {shown}"
            )
        out[name] = found
        used.add(found)
    synonyms = SYNONYMS[kind]
    for rank in range(3):
        for name in fields:
            if name in out:
                continue
            if rank == 0:
                names = (name,)
            elif rank == 1:
                names = (SHORT_NAMES[name],) if name in SHORT_NAMES else ()
            else:
                names = synonyms.get(name, ())
            for candidate in names:
                col = by_norm.get(norm_header(candidate))
                if col is not None and col not in used:
                    out[name] = col
                    used.add(col)
                    break
    return dict(sorted(out.items()))
