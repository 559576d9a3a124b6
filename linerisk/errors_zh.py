"""Chinese wording of the errors a user can cause.

The library raises its errors in English (the Python convention, and what a
log or a bug report quotes). The command line speaks the register's language,
so at the CLI boundary each English sentence is matched against this catalogue
and rewritten in Chinese. A sentence with no entry is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["translate_error"]


def _status(key: str) -> str:
    from linerisk.model import Status

    try:
        return Status(key).label("zh")
    except ValueError:
        return key


def _action(key: str) -> str:
    from linerisk.model import Action

    try:
        return Action(key).label("zh")
    except ValueError:
        return key


def _statuses(keys: str) -> str:
    return "、".join(_status(k.strip()) for k in keys.split(","))


def _transition(m: re.Match) -> str:
    return (
        f"不能对{_status(m['status'])}的隐患执行“{_action(m['action'])}”："
        f"该操作只能从{_statuses(m['allowed'])}状态进行"
    )


_KINDS = {
    "severity": "隐患等级",
    "status": "状态",
    "side": "侧别",
    "area class": "地区类别",
    "vertical": "条线",
    "distance band": "距离带",
    "fence condition": "护网状况",
    "action": "操作",
}

Rule = tuple[re.Pattern[str], str | Callable[[re.Match], str]]

_RULES: list[Rule] = [
    (re.compile(r"register (?P<p>.+) does not exist"), "台账文件 {p} 不存在"),
    (
        re.compile(r"(?P<p>.+) is not a (?:GeoPackage|linerisk) register\b.*"),
        "{p} 不是 linerisk 台账文件",
    ),
    (re.compile(r"(?P<p>.+) already exists; choose a new file name"), "{p} 已存在，请换一个文件名"),
    (re.compile(r"folder (?P<p>.+) does not exist"), "文件夹 {p} 不存在"),
    (
        re.compile(r"unknown line (?P<l>'[^']*'); the register has (?P<ls>.+)"),
        "未知线路 {l}；台账中的线路有：{ls}",
    ),
    (
        re.compile(r"malformed chainage range (?P<s>'[^']*'): .*"),
        "里程范围格式错误 {s}：应为 K1+200-K3+050 或 K1+200~K3+050 的形式",
    ),
    (
        re.compile(r"malformed chainage (?P<s>'[^']*'): a letter prefix such as K is required"),
        "里程格式错误 {s}：需要 K 等字母前缀",
    ),
    (
        re.compile(r"malformed chainage (?P<s>'[^']*'): .*"),
        "里程格式错误 {s}：应为 K12+345 或 DK12+345.6 的形式（公里数、“+”、三位米数）",
    ),
    (
        re.compile(r"chainage (?P<c>\S+) does not exist on (?:line (?P<l>\S+)|this line): .*"),
        lambda m: (
            f"线路 {m['l'] or ''} 上不存在里程 {m['c']}：该里程位于短链（断链）范围内".replace(
                "线路  上", "本线上"
            )
        ),
    ),
    (
        re.compile(
            r"chainage (?P<c>\S+) is outside line (?P<l>\S+), "
            r"which runs from (?P<a>\S+) to (?P<b>\S+)"
        ),
        "里程 {c} 超出线路 {l} 的范围（{a} 至 {b}）",
    ),
    (
        re.compile(r"unknown category (?P<c>'[^']*'); known categories are (?P<k>.+)"),
        "未知隐患类别 {c}；可选类别：{k}",
    ),
    (
        re.compile(
            r"the point is (?P<d>[\d,.]+) m from the nearest line (?P<l>\S+) \((?P<n>[^)]*)\); "
            r"points farther than (?P<lim>[\d,.]+) m from every line are refused"
        ),
        "该点距最近线路 {l}（{n}）{d} 米；距所有线路超过 {lim} 米的点不予登记",
    ),
    (
        re.compile(
            r"latitude (?P<lat>\S+) is impossible; longitude and latitude look swapped "
            r"\(try lon=(?P<a>\S+) lat=(?P<b>\S+)\)"
        ),
        "纬度 {lat} 不可能；经纬度似乎颠倒了（请试 --lon {a} --lat {b}）",
    ),
    (
        re.compile(r"longitude must be within ±180 and latitude within ±90 degrees"),
        "经度须在 ±180 度之内，纬度须在 ±90 度之内",
    ),
    (re.compile(r"coordinates must be (?:finite )?numbers"), "坐标必须是数字"),
    (re.compile(r"there is no risk with id (?P<i>\S+)"), "没有编号为 {i} 的隐患"),
    (
        re.compile(
            r"cannot (?P<action>\w+) a risk that is (?P<status>\w+) \([^)]*\): \w+ leads to "
            r"\w+ and is allowed only from (?P<allowed>[\w, ]+)"
        ),
        _transition,
    ),
    (
        re.compile(r"withdrawing a risk needs a reason: (?P<r>.+)"),
        "撤销隐患须注明原因：{r}",
    ),
    (
        re.compile(r"unknown withdraw reason (?P<r>'[^']*'); choose one of (?P<c>.+)"),
        "未知撤销原因 {r}；可选：{c}",
    ),
    (
        re.compile(
            r"the change at (?P<a>\S+) is earlier than the risk's last recorded event at (?P<b>\S+)"
        ),
        "操作时间 {a} 早于该隐患最后一条记录的时间 {b}",
    ),
    (
        re.compile(
            r"open risk (?P<i>\d+) \((?P<what>[^)]*)\) is (?P<d>\d+) m away; use risk \d+ "
            r"instead, or register it anyway if this is a different hazard"
            r"(?P<force> \(with --force\))?"
        ),
        lambda m: (
            f"{m['d']} 米处已有同类在办隐患 {m['i']}（{m['what']}），请使用隐患 {m['i']}；"
            + (
                "如确属另一处隐患，可加 --force 登记"
                if m["force"]
                else "如确属另一处隐患，可强制登记"
            )
        ),
    ),
    (
        re.compile(r"who made this change\? .*"),
        "请注明操作人：使用 --by 姓名，或设置环境变量 LINERISK_BY，"
        "或用 'linerisk config set default_actor 姓名' 设置默认操作人",
    ),
    (
        re.compile(r"every change needs the actor who made it \(by\)"),
        "每次修改都须注明操作人（--by）",
    ),
    (re.compile(r"found_by \(who found it\) is required"), "须注明发现人"),
    (
        re.compile(
            r"segment (?P<s>\S+) \((?P<r>[^)]*)\) belongs to (?P<o>.+), not to (?P<by>.+); "
            r"narrow the range or give the organisation that owns it"
        ),
        "区段 {s}（{r}）属于 {o}，不属于 {by}；请缩小范围，或由该区段的所属单位办理",
    ),
    (
        re.compile(r"the range (?P<r>\S+) must increase along the line"),
        "里程范围 {r} 须沿线路递增",
    ),
    (
        re.compile(r"the range (?P<r>\S+) starts or ends inside a short chain.*"),
        "里程范围 {r} 的起点或终点位于短链（断链）范围内",
    ),
    (
        re.compile(r"the range (?P<r>\S+) is outside line (?P<l>\S+), which runs (?P<e>\S+)"),
        "里程范围 {r} 超出线路 {l} 的范围（{e}）",
    ),
    (
        re.compile(r"no segment of line (?P<l>\S+) lies in (?P<r>\S+)"),
        "线路 {l} 在 {r} 内没有区段",
    ),
    (
        re.compile(r"patrols per week must be a number >= 0, not (?P<v>.+)"),
        "每周巡线次数须为不小于 0 的数，不能是 {v}",
    ),
    (
        re.compile(r"the period's start \(since\) is after its end \(on\)"),
        "统计起始日期（--since）晚于截止日期（--on）",
    ),
    (
        re.compile(r"cannot group by (?P<b>'[^']*'); choose one of (?P<c>.+)"),
        "不能按 {b} 分组；可选：{c}",
    ),
    (
        re.compile(r"unknown setting (?P<k>'[^']*'); settings are (?P<c>.+)"),
        "未知设置项 {k}；可用设置项：{c}",
    ),
    (
        re.compile(r"language must be zh or en, not (?P<v>.+)"),
        "语言只能是 zh 或 en，不能是 {v}",
    ),
    (
        re.compile(r"cannot read time (?P<t>'[^']*'); use ISO 8601.*"),
        "无法识别时间 {t}；请用 ISO 8601 格式，如 2026-11-29T09:30+08:00",
    ),
    (
        re.compile(r"cannot read date (?P<t>'[^']*'); use YYYY-MM-DD"),
        "无法识别日期 {t}；请用 YYYY-MM-DD 格式",
    ),
    (
        re.compile(r"unknown coordinate reference system (?P<c>'[^']*')"),
        "未知坐标系 {c}",
    ),
    (
        re.compile(r"the register CRS must be projected \(metric\); (?P<c>\S+) is not\..*"),
        "台账坐标系须为投影坐标系（以米为单位）；{c} 不是。"
        "可用数据所在的 CGCS2000 高斯-克吕格分带，如 EPSG:4548",
    ),
    (
        re.compile(r"unknown (?P<kind>[a-z ]+) (?P<v>'[^']*'); choose one of (?P<c>.+)"),
        lambda m: f"未知{_KINDS.get(m['kind'], m['kind'])} {m['v']}；可选：{m['c']}",
    ),
    (re.compile(r"missing field (?P<f>.+)"), "缺少字段 {f}"),
    (re.compile(r"cannot write to (?P<p>\S+): (?P<e>.+)"), "无法写入 {p}：{e}"),
    (
        re.compile(r"the register has no lines yet; import some first"),
        "台账中还没有线路，请先导入",
    ),
    (
        re.compile(r"offsets must be distances in metres, zero or more"),
        "距线路中心的距离须为不小于 0 的米数",
    ),
]

_ROW = re.compile(r"row (?P<n>\d+): (?P<rest>.+)", re.S)


def translate_error(message: str, lang: str) -> str:
    """``message`` in ``lang``: unchanged for English, from the catalogue for Chinese.

    >>> translate_error("there is no risk with id 7", "zh")
    '没有编号为 7 的隐患'
    >>> translate_error("there is no risk with id 7", "en")
    'there is no risk with id 7'
    """
    if lang != "zh":
        return message
    row = _ROW.fullmatch(message)
    if row:
        return f"第 {row['n']} 行：{translate_error(row['rest'], lang)}"
    for pattern, template in _RULES:
        m = pattern.fullmatch(message)
        if m:
            if callable(template):
                return template(m)
            return template.format(**{k: v or "" for k, v in m.groupdict().items()})
    return message
