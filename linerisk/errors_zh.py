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
    "layer": "图层",
    "import mode": "导入方式",
    "export format": "导出格式",
    "way to locate": "定位方式",
}

#: layer kinds and feature names in messages
_LAYER_ZH = {
    "lines": "线路",
    "kmposts": "公里标",
    "chain_breaks": "断链",
    "segments": "区段",
    "police_areas": "派出所辖区",
    "neighbourhoods": "社区/村",
    "fences": "护网",
    "risks": "隐患",
    "kilometre post": "公里标",
    "chain break": "断链",
    "segment": "区段",
    "fence": "护网",
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
        re.compile(r"returning a risk for rework needs a note of what the re-inspection found"),
        "退回整改须填写备注，说明复查发现的问题",
    ),
    (
        re.compile(r"a new deadline can be given only when a risk is sent back for rework"),
        "只有退回整改时才能重定整改期限",
    ),
    (
        re.compile(r"the new deadline (?P<d>\S+) is not after the rework at (?P<a>\S+)"),
        "新的整改期限 {d} 不晚于退回整改时间 {a}",
    ),
    (
        re.compile(r"cannot read deadline (?P<t>'[^']*'); give a day.*"),
        "无法识别整改期限 {t}；请填日期（如 2026-12-20）或时间（如 2026-12-20T18:00+08:00）",
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
    (
        re.compile(
            r"the (?P<w>start|end|from|to) chainage (?P<c>\S+) does not exist "
            r"on line (?P<l>\S+): .*"
        ),
        "线路 {l} 上不存在里程 {c}：该里程位于短链（断链）范围内",
    ),
    (
        re.compile(
            r"the (?P<w>start|end|from|to) chainage (?P<c>\S+) is outside line (?P<l>\S+), "
            r"which runs from (?P<a>\S+) to (?P<b>\S+)"
        ),
        "里程 {c} 超出线路 {l} 的范围（{a} 至 {b}）",
    ),
    (
        re.compile(r"the scope must run forward along the line: .*"),
        "范围须沿里程增加方向：--from 应在 --to 之前",
    ),
    (re.compile(r"the scope holds no part of any line"), "所选范围内没有任何线路"),
    (
        re.compile(r"no police area is called (?P<n>'[^']*'); the register has (?P<k>.+)"),
        "没有名为 {n} 的派出所辖区；台账中有：{k}",
    ),
    (
        re.compile(
            r"no street office, town or community is called (?P<n>'[^']*'); "
            r"the register has (?P<k>.+?) \(or one of their communities and villages\)"
        ),
        "没有名为 {n} 的街道、镇或社区/村；台账中有：{k}（及其所辖社区、村）",
    ),
    (
        re.compile(r"choose the scope one way: .*, not (?P<c>.+)"),
        "范围只能选一种：线路（含 --from/--to）、派出所辖区或街道/社区，不能同时指定 {c}",
    ),
    (re.compile(r"--from and --to need --line"), "--from 与 --to 须配合 --line 使用"),
    (
        re.compile(r"Tianditu tiles need a developer key: .*"),
        "天地图底图需要开发者密钥：请用 --tiles tianditu:密钥，"
        "或设置环境变量 LINERISK_TIANDITU_KEY",
    ),
    (re.compile(r"a Tianditu key has only letters and digits"), "天地图密钥只含字母和数字"),
    (
        re.compile(r"tile URL template (?P<u>'[^']*') must start with .*"),
        "底图地址模板 {u} 须以 http://、https:// 或路径开头",
    ),
    (
        re.compile(
            r"unknown tile source (?P<t>'[^']*'); use one of (?P<k>[^,]+(?:, [^,]+)*?), or .*"
        ),
        "未知底图 {t}；可选：{k}，或含 {{z}}、{{x}}、{{y}} 的地址模板",
    ),
    (
        re.compile(r"an offline map cannot load (?P<s>.+) tiles from the internet; .*"),
        "离线地图不能加载互联网上的{s}底图；请用 --tiles none 或内网底图服务地址",
    ),
    (
        re.compile(r"writing XLSX needs openpyxl; .*"),
        "写 XLSX 需要 openpyxl：pip install 'linerisk[xlsx]'",
    ),
    (
        re.compile(r"unknown agenda format (?P<f>'[^']*'); choose one of (?P<c>.+)"),
        "未知议程格式 {f}；可选：{c}",
    ),
    (re.compile(r"missing field (?P<f>.+)"), "缺少字段 {f}"),
    (re.compile(r"cannot write to (?P<p>\S+): (?P<e>.+)"), "无法写入 {p}：{e}"),
    (
        re.compile(r"could not write to the register (?P<p>\S+): (?P<e>.+); nothing was changed"),
        "无法写入登记册 {p}：{e}；登记册未作任何更改",
    ),
    # what verify finds
    (
        re.compile(r"event (?P<a>\d+) is missing \(the next event found is (?P<b>\d+)\)"),
        "第 {a} 条履历记录缺失（其后找到的是第 {b} 条）",
    ),
    (
        re.compile(r"event (?P<s>\d+) does not follow event (?P<p>\d+): the chain is broken there"),
        "第 {s} 条履历记录与第 {p} 条接不上：审计链在此断开",
    ),
    (
        re.compile(r"event (?P<s>\d+) \(risk (?P<r>\d+)\) was altered after it was written"),
        "第 {s} 条履历记录（隐患 {r}）写入后被改动",
    ),
    (
        re.compile(r"the last (?P<n>\d+) event\(s\) of the log are missing"),
        "履历日志末尾缺少 {n} 条记录",
    ),
    (
        re.compile(r"the log does not end where the register recorded it"),
        "履历日志的结尾与登记册记下的不符",
    ),
    (re.compile(r"risk (?P<r>\d+) has no history"), "隐患 {r} 没有履历"),
    (
        re.compile(r"risk (?P<r>\d+) is (?P<a>\S+) but its history ends at (?P<b>\S+)"),
        "隐患 {r} 的状态是 {a}，但其履历止于 {b}",
    ),
    (
        re.compile(r"risk (?P<r>\d+) has a history but is missing from the risks layer"),
        "隐患 {r} 有履历，但隐患图层中已没有它",
    ),
    (
        re.compile(
            r"risk (?P<r>\d+): its (?P<k>\w+) is (?P<a>.+) in the risks layer but (?P<b>.+) "
            r"in its history \(changed without an event\)",
            re.S,
        ),
        lambda m: (
            f"隐患 {m['r']}：隐患图层中的{_column_zh(m['k'])}为 {m['a']}，履历中为 {m['b']}"
            "（未经履历记录被改动）"
        ),
    ),
    (
        re.compile(r"(?P<n>\d+) more risks have columns that differ from their history"),
        "另有 {n} 个隐患的字段与履历不符",
    ),
    (
        re.compile(
            r"the process writing the history stopped unexpectedly \(exit code (?P<c>-?\d+)\); "
            r"nothing was registered"
        ),
        "写入履历的进程意外中止（退出码 {c}），未登记任何隐患",
    ),
    (
        re.compile(
            r"cannot write the history to the scratch file (?P<p>\S+): (?P<e>.+); "
            r"nothing was registered"
        ),
        "无法将履历写入临时文件 {p}：{e}；未登记任何隐患",
    ),
    (
        re.compile(r"the process writing the history failed: (?P<e>.+)"),
        "写入履历的进程出错：{e}",
    ),
    (
        re.compile(r"new risks were numbered from (?P<a>\d+), not (?P<b>\d+)"),
        "新隐患的编号从 {a} 开始，而不是 {b}",
    ),
    (
        re.compile(r"the register has no lines yet; import some first"),
        "台账中还没有线路，请先导入",
    ),
    (
        re.compile(r"offsets must be distances in metres, zero or more"),
        "距线路中心的距离须为不小于 0 的米数",
    ),
    # OpenStreetMap import (linerisk.io.osm)
    (re.compile(r"OpenStreetMap file (?P<p>.+) does not exist"), "OpenStreetMap 文件 {p} 不存在"),
    (
        re.compile(r"reading OpenStreetMap files needs the osmium package: (?P<c>.+)"),
        "读取 OpenStreetMap 文件需要 osmium 包：{c}",
    ),
    (
        re.compile(r"cannot read OpenStreetMap file (?P<p>.+?): (?P<e>.+)"),
        "无法读取 OpenStreetMap 文件 {p}：{e}",
    ),
    (
        re.compile(r"(?P<p>.+) has no railway lines \(ways tagged railway=rail\)"),
        "{p} 中没有铁路线路（标为 railway=rail 的路段）",
    ),
    (
        re.compile(r"the fence distance must be a positive number of metres"),
        "护网距离须为大于 0 的米数",
    ),
    (
        re.compile(r"the register's CRS is (?P<a>\S+); an import cannot change it to (?P<b>\S+)"),
        "台账坐标系为 {a}，导入不能将其改为 {b}",
    ),
    (
        re.compile(r"the OpenStreetMap lines do not fit the register's other layers: (?P<e>.+)"),
        "OpenStreetMap 线路与台账的其他图层不一致：{e}",
    ),
    # linerisk check and Register.reassign
    (
        re.compile(r"the fence gap must be a positive number of metres"),
        "护网缺口阈值须为大于 0 的米数",
    ),
    (
        re.compile(r"the residual must be a positive number of metres"),
        "公里标容差须为大于 0 的米数",
    ),
    (
        re.compile(
            r"the network has problems that stop the register from using it; "
            r"correct them, then reassign the risks"
        ),
        "线网存在使台账无法使用的问题，请先改正，再重新分配隐患",
    ),
    (
        re.compile(r"risk (?P<i>\d+) can no longer be placed: (?P<e>.+)"),
        lambda m: f"隐患 {m['i']} 已无法定位：{translate_error(m['e'], 'zh')}",
    ),
    (
        re.compile(r"line (?P<l>.+) is no longer in the register"),
        "线路 {l} 已不在台账中",
    ),
    # Import and export of files (linerisk.io.importing, spreadsheet, mapping, export)
    (
        re.compile(r"cannot read distance (?P<v>'[^']*'); give metres as a number.*"),
        "无法识别距离 {v}；请填写米数，如 30 或 30米",
    ),
    (
        re.compile(
            r"unknown category (?P<c>'[^']*'): not a category of the register nor a synonym"
        ),
        "未知隐患类别 {c}：既不是台账中的类别，也不是已知的别称",
    ),
    (
        re.compile(
            r"category (?P<c>'[^']*') matches several categories \((?P<k>[^)]*)\); write one"
        ),
        "隐患类别 {c} 对应多个类别（{k}），请只填一个",
    ),
    (
        re.compile(r"unknown side (?P<v>'[^']*'); use 左侧/右侧 .*"),
        "未知侧别 {v}；请填左侧/右侧（按里程增加方向）或上行/下行",
    ),
    (
        re.compile(r"unknown status (?P<v>'[^']*'); use 未整改.*"),
        "未知状态 {v}；请填未整改、整改中、已整改、已销号或已撤销",
    ),
    (re.compile(r"no category given"), "未填隐患类别"),
    (
        re.compile(r"a withdrawn risk needs a reason \(撤销原因\).*"),
        "已撤销的隐患须注明撤销原因：重复登记、不构成隐患或不属本线管辖",
    ),
    (
        re.compile(r"a row with a rectification or clearing date needs the date found"),
        "填有整改或销号日期的行须同时填写发现日期",
    ),
    (
        re.compile(r"the rectification date (?P<a>\S+) is before the date found (?P<b>\S+)"),
        "整改日期 {a} 早于发现日期 {b}",
    ),
    (
        re.compile(
            r"the clearing date (?P<a>\S+) is before the date found or rectified (?P<b>\S+)"
        ),
        "销号日期 {a} 早于发现或整改日期 {b}",
    ),
    (re.compile(r"the row has no coordinates"), "该行没有坐标"),
    (re.compile(r"the geometry is a (?P<t>\w+); a risk is a point"), "几何类型为 {t}；隐患须为点"),
    (
        re.compile(r"no chainage and no coordinates: the row cannot be placed"),
        "既无里程也无坐标，无法定位",
    ),
    (
        re.compile(r"no (?P<f>line|chainage) given: the row cannot be placed by chainage"),
        lambda m: f"未填{'线路' if m['f'] == 'line' else '里程'}，无法按里程定位",
    ),
    (re.compile(r"no side given .*"), "未填侧别（左侧/右侧或上行/下行）"),
    (re.compile(r"no distance from the track given"), "未填距线路距离"),
    (
        re.compile(r"cannot read coordinates (?P<v>'[^']*') in (?P<c>.+)"),
        lambda m: f"无法识别 {m['c'].replace(' and ', '、')} 列中的坐标 {m['v']}",
    ),
    (re.compile(r"(?P<f>\w+) must be a non-empty string"), "{f} 不能为空"),
    (re.compile(r"the history field must be a list of events"), "history 字段须为事件列表"),
    (
        re.compile(r"the history is out of order at (?P<t>\S+)"),
        "history 中的事件在 {t} 处时间顺序颠倒",
    ),
    (
        re.compile(
            r"the same (?P<c>\S+) as row (?P<r>.+) of this file, (?P<d>\d+) m away; keep one of "
            r"the two rows, or import both with --allow-duplicates if they are different hazards"
        ),
        "与文件第 {r} 行是同类隐患（{c}），相距 {d} 米；请只保留其中一行，如确属两处隐患，"
        "可加 --allow-duplicates 一并导入",
    ),
    (
        re.compile(
            r"the same (?P<c>\S+) as row (?P<r>\d+), (?P<d>\d+) m away; keep one of the two "
            r"rows, or register both with allow_duplicates=True if they are different hazards"
        ),
        "与第 {r} 行是同类隐患（{c}），相距 {d} 米；请只保留其中一行，如确属两处隐患，"
        "可用 allow_duplicates=True 一并登记",
    ),
    (
        re.compile(r"ref (?P<r>.+) appears twice in the file \(first at (?P<f>[^)]+)\)"),
        "原编号 {r} 在文件中出现两次（首次在 {f}）",
    ),
    (
        re.compile(r"ref (?P<r>.+) matches risks (?P<i>[\d, ]+); cannot tell which to update"),
        "原编号 {r} 对应多个隐患（{i}），无法确定更新哪一个",
    ),
    (
        re.compile(
            r"ref (?P<r>.+) is already in the register \(risk (?P<i>\d+)\); "
            r"use --mode upsert to update it"
        ),
        "原编号 {r} 已在台账中（隐患 {i}）；如需更新请用 --mode upsert",
    ),
    (
        re.compile(
            r"risk (?P<i>\d+) \(ref (?P<r>[^)]*)\) is (?P<a>\w+) and cannot become (?P<b>\w+) "
            r"by import"
        ),
        lambda m: (
            f"隐患 {m['i']}（原编号 {m['r']}）当前为{_status(m['a'])}，"
            f"导入不能将其改为{_status(m['b'])}"
        ),
    ),
    (
        re.compile(r"a risk that is (?P<a>\w+) cannot become (?P<b>\w+) by import"),
        lambda m: f"{_status(m['a'])}的隐患不能通过导入改为{_status(m['b'])}",
    ),
    (
        re.compile(
            r"(?P<n>.+): longitude and latitude look swapped \(a point has longitude "
            r"(?P<a>\S+) and latitude (?P<b>\S+)\); (?P<fix>.+)"
        ),
        lambda m: (
            f"{m['n']}：经纬度似乎颠倒了（某点经度为 {m['a']}、纬度为 {m['b']}）；"
            + (
                "请用 --map lon=列名 --map lat=列名 交换两列"
                if m["fix"].startswith("swap")
                else "请按先经度、后纬度的顺序写文件"
            )
        ),
    ),
    (
        re.compile(
            r"(?P<n>.+): the coordinates look projected \(metres\), not longitude/latitude"
            r"(?: though the file says (?P<s>\S+))?; give (?P<h>.+)"
        ),
        lambda m: (
            f"{m['n']}：坐标像是投影坐标（米），不是经纬度"
            + (f"，尽管文件声明为 {m['s']}" if m["s"] else "")
            + "；"
            + (
                "请用 --crs 指定数据的投影坐标系，如 EPSG:4548"
                if m["h"].startswith("--crs with")
                else f"请加 {m['h']}"
            )
        ),
    ),
    (
        re.compile(
            r"(?P<n>.+): the eastings (?P<has>carry a|have no) zone number \(e\.g\. (?P<e>\S+)\) "
            r"but (?P<c>\S+) expects (?:none|one)(?:; try --crs (?P<g>\S+))?"
        ),
        lambda m: (
            f"{m['n']}：东坐标{'带有' if m['has'] == 'carry a' else '不带'}带号（如 {m['e']}），"
            f"而 {m['c']} {'不带' if m['has'] == 'carry a' else '要求带'}带号"
            + (f"；请试 --crs {m['g']}" if m["g"] else "")
        ),
    ),
    (
        re.compile(
            r"(?P<n>.+) lies far from every line of the register: its nearest feature is "
            r"(?P<d>\S+) km from a line; .*"
        ),
        "{n} 距台账中所有线路都很远：最近的要素也在 {d} 公里外；请检查坐标系（--crs），"
        "取自手机地图的坐标请用 --crs gcj02",
    ),
    (
        re.compile(
            r"(?P<n>.+): the points should lie on the line but are (?P<d>\S+) m from it; .*"
        ),
        "{n}：这些点应在线路上，却距线路 {d} 米；看来是 GCJ-02（手机地图）坐标，"
        "请用 --crs gcj02 导入",
    ),
    (
        re.compile(
            r"(?P<n>.+): features? (?P<f>.+) ha(?:s|ve) no geometry \(null or empty\); "
            r"(?P<k>\w+) need one"
        ),
        lambda m: f"{m['n']}：要素 {m['f']} 没有几何；{_LAYER_ZH.get(m['k'], m['k'])}必须有几何",
    ),
    (
        re.compile(r"(?P<n>.+): feature (?P<f>.+) is a (?P<t>\w+); (?P<k>\w+) need an? (?P<e>.+)"),
        lambda m: (
            f"{m['n']}：要素 {m['f']} 的几何类型为 {m['t']}；"
            f"{_LAYER_ZH.get(m['k'], m['k'])}须为 {m['e'].replace(' or ', ' 或 ')}"
        ),
    ),
    (
        re.compile(
            r"(?P<n>.+): features? (?P<f>.+) ha(?:s an invalid geometry|ve invalid geometries) "
            r"\(feature (?P<g>[^:]+): "
            r"(?P<r>.+)\); use --repair to fix them with make_valid"
        ),
        "{n}：要素 {f} 的几何无效（要素 {g}：{r}）；可加 --repair 用 make_valid 修复",
    ),
    (
        re.compile(
            r"(?P<n>.+): feature (?P<f>.+) has an invalid geometry \((?P<r>.+)\) that "
            r"make_valid cannot turn into a usable one; fix it in the file"
        ),
        "{n}：要素 {f} 的几何无效（{r}），make_valid 也无法修复，请在文件中改正",
    ),
    (
        re.compile(
            r"(?P<n>.+): feature (?P<f>.+) has no field (?P<x>'[^']*')"
            r"(?: \((?P<m>\d+) more features have problems\))?"
        ),
        lambda m: (
            f"{m['n']}：要素 {m['f']} 缺少字段 {m['x']}"
            + (f"（另有 {m['m']} 个要素有问题）" if m["m"] else "")
        ),
    ),
    (
        re.compile(r"(?P<n>.+): (?P<k>\w+) (?P<key>.+) appears twice in the file"),
        lambda m: f"{m['n']}：{_LAYER_ZH.get(m['k'], m['k'])} {m['key']} 在文件中出现两次",
    ),
    (
        re.compile(
            r"(?P<k>\w+) (?P<key>.+) already exists in the register; use --mode upsert or replace"
        ),
        lambda m: (
            f"台账中已有{_LAYER_ZH.get(m['k'], m['k'])} {m['key']}；"
            "请用 --mode upsert 或 --mode replace"
        ),
    ),
    (
        re.compile(r"line (?P<l>\S+) has (?P<n>\d+) risks in the register and cannot be removed"),
        "线路 {l} 在台账中有 {n} 个隐患，不能删除",
    ),
    (
        re.compile(r"kilometre post (?P<c>\S+) of line (?P<l>\S+) is nearer to another line"),
        "线路 {l} 的公里标 {c} 离另一条线路更近",
    ),
    (
        re.compile(
            r"(?P<k>kilometre post|chain break|segment|fence) refers to unknown line (?P<l>'[^']*')"
        ),
        lambda m: f"{_LAYER_ZH.get(m['k'], m['k'])}引用了未知线路 {m['l']}",
    ),
    (
        re.compile(
            r"feature (?P<i>\d+) of the register's (?P<k>\w+) layer is not a (?P<t>.+) or is "
            r"empty; run linerisk check"
        ),
        lambda m: (
            f"台账的{_LAYER_ZH.get(m['k'], m['k'])}图层第 {m['i']} 个要素不是 "
            f"{m['t'].replace(' or ', ' 或 ')}，或为空；"
            "请运行 linerisk check"
        ),
    ),
    (
        re.compile(r"(?P<n>.+) has several layers \((?P<l>.+)\); choose one with --layer"),
        "{n} 含有多个图层（{l}），请用 --layer 选择",
    ),
    (
        re.compile(r"(?P<n>.+) has no layer (?P<l>'[^']*'); its layers are (?P<ls>.+)"),
        "{n} 中没有图层 {l}；其图层有：{ls}",
    ),
    (
        re.compile(r"(?P<n>.+) holds no file GDAL reads .*"),
        "{n} 中没有 GDAL 可读的文件（.shp、.gpkg、.geojson、.kml）",
    ),
    (re.compile(r"cannot read (?P<n>.+?): no such file"), "无法读取 {n}：文件不存在"),
    (
        re.compile(r"the workbook (?P<n>.+) has no sheet (?P<s>'[^']*'); its sheets are (?P<l>.+)"),
        "工作簿 {n} 中没有工作表 {s}；其工作表有：{l}",
    ),
    (
        re.compile(r"cannot read (?P<n>.+): it is neither UTF-8 nor GB 18030 text.*"),
        "无法读取 {n}：既不是 UTF-8 也不是 GB 18030 编码，请用 --encoding 指定",
    ),
    (
        re.compile(r"unknown field (?P<f>'[^']*') for (?P<k>\w+); its fields are (?P<l>.+)"),
        lambda m: f"{_LAYER_ZH.get(m['k'], m['k'])}没有字段 {m['f']}；可用字段：{m['l']}",
    ),
    (
        re.compile(r"unknown key field (?P<f>'[^']*') for (?P<k>\w+); its fields are (?P<l>.+)"),
        lambda m: f"{_LAYER_ZH.get(m['k'], m['k'])}没有字段 {m['f']} 可作匹配；可用字段：{m['l']}",
    ),
    (
        re.compile(
            r"column (?P<c>'[^']*') \(for (?P<f>\w+)\) is not in the file; "
            r"its columns are (?P<l>.+)"
        ),
        "文件中没有列 {c}（对应字段 {f}）；文件的列有：{l}",
    ),
    (
        re.compile(r"a mapping is written FIELD=COLUMN, not (?P<v>.+)"),
        "字段对应应写成 字段=列名，而不是 {v}",
    ),
    (
        re.compile(r"cannot read mapping file (?P<p>\S+): (?P<e>.+)"),
        "无法读取对应文件 {p}：{e}",
    ),
    (
        re.compile(r"the side word (?P<w>'[^']*') must map to left or right, not (?P<v>.+)"),
        "侧别词 {w} 只能对应 left 或 right，不能是 {v}",
    ),
    (
        re.compile(r"risks cannot be replaced: .*"),
        "隐患不能整体替换：隐患只能经销号或撤销离开台账；请用 --mode append 或 upsert",
    ),
    (
        re.compile(r"risks are matched by ref; --key can only be ref"),
        "隐患按原编号（ref）匹配，--key 只能是 ref",
    ),
    (
        re.compile(
            r"(?P<n>\d+) rows cannot be imported \(first, row (?P<r>[^:]+): (?P<p>.+)\); "
            r"nothing was imported"
        ),
        lambda m: (
            f"{m['n']} 行无法导入（首个为第 {m['r']} 行：{translate_error(m['p'], 'zh')}）；"
            "未导入任何数据"
        ),
    ),
    (
        re.compile(r"cannot tell the format of (?P<n>.+) from its suffix; give one of (?P<l>.+)"),
        "无法从扩展名判断 {n} 的格式；请指定：{l}",
    ),
    (
        re.compile(r"risk filters apply only to the risks layer"),
        "筛选条件只适用于隐患图层",
    ),
    (
        re.compile(r"(?P<w>reading|writing) \.xlsx needs openpyxl: (?P<c>.+)"),
        lambda m: f"{'读取' if m['w'] == 'reading' else '写入'} .xlsx 需要 openpyxl：{m['c']}",
    ),
    (
        re.compile(r"feature (?P<f>[^:]+): (?P<rest>.+)"),
        lambda m: f"要素 {m['f']}：{translate_error(m['rest'], 'zh')}",
    ),
    (re.compile(r"cannot write (?P<p>\S+): (?P<e>.+)"), "无法写入 {p}：{e}"),
    (re.compile(r"cannot read (?P<p>\S+): (?P<e>.+)"), "无法读取 {p}：{e}"),
    (
        re.compile(
            r"(?P<n>[^\s:：]+\.(?:geojson|json|gpkg|shp|zip|kml|gml|fgb|csv|tsv|txt|xlsx|xlsm)): "
            r"(?P<rest>.+)",
            re.S,
        ),
        lambda m: f"{m['n']}：{translate_error(m['rest'], 'zh')}",
    ),
]


def _column_zh(column: str) -> str:
    """A risk column's Chinese header (as in exports), the name itself if none."""
    from linerisk.io.mapping import ZH_HEADERS

    return ZH_HEADERS.get(column, f" {column} ")


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
