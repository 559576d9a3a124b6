"""Write ``sample_register.xlsx``: a station's existing hazard register as a workbook.

The workbook is what a railway police station keeps before it has linerisk: one
sheet, a title row, typical Chinese column headers, one hazard a row, chainage
written by hand (single values and ranges, 左侧/右侧 and 上行/下行, distances such
as ``30米`` and ``约15m``), categories in the station's own words (彩钢瓦, 地膜,
大棚膜...) and statuses such as 未整改/整改中/已整改/已销号 with their dates.

25 rows are good and 5 are bad on purpose (see ``BAD``): an unknown line, a
chainage beyond the end of the line, a chainage inside the short chain
K11+620–K11+660, a distance that cannot be read, and an unknown category. One
good row names a responsible unit that is not the one the register finds there.

    python geodata/make_workbook.py      # writes geodata/sample_register.xlsx

The script is deterministic (fixed rows, fixed document and zip timestamps), so
running it again gives the same file byte for byte. It ends with a self-check:
it imports the workbook into a register of the sample network and into the
sample register, and asserts that exactly the 5 bad rows are rejected.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "sample_register.xlsx"
STAMP = dt.datetime(2026, 11, 20, 9, 0, 0)

TITLE = "津东线铁路沿线环境安全隐患排查整治台账"
SUBTITLE = "填报单位：天津站派出所、军粮城站派出所　　截至：2026年11月20日"
HEADERS = (
    "序号",
    "隐患编号",
    "线别",
    "里程",
    "方位",
    "距线路距离",
    "隐患类别",
    "隐患等级",
    "隐患描述",
    "发现日期",
    "发现人",
    "责任单位",
    "整改状态",
    "整改完成日期",
    "销号日期",
    "备注",
)

TJ = "天津站派出所"
JLC = "军粮城站派出所"


def d(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day)


# (ref, line, chainage, side, distance, category, severity, description, found,
#  finder, status, rectified, cleared, note). The responsible unit is filled in from
#  the sample network (see responsible_units), except where a row gives its own.
# fmt: off
ROWS: list[tuple] = [
    ("TJ-2026-001", "津东线", "K2+620", "右侧", "30米", "彩钢瓦", "较大",
     "简易房屋顶彩钢瓦固定不牢，大风天气易被掀起", d(9, 2), f"{TJ} 王磊",
     "已销号", d(9, 6), d(9, 8), ""),
    ("TJ-2026-002", "津东线", "K3+150", "左侧", "约15m", "垃圾堆积", "一般",
     "围墙外堆放建筑垃圾约20立方米", d(9, 5), f"{TJ} 孙丽娜",
     "已销号", d(9, 15), d(9, 17), ""),
    ("TJ-2026-003", "津东线", "K3+880~K3+960", "左侧", "8", "护网破损", "较大",
     "护网多处被剪断，有行人钻入痕迹", d(9, 10), f"{TJ} 周涛",
     "已整改", d(9, 18), None, "待工区复查"),
    ("TJ-2026-004", "津东线", "K4+520", "上行", "45米", "地膜", "一般",
     "菜地地膜破损后未回收，散落田间", d(9, 12), f"{TJ} 赵建国",
     "整改中", None, None, ""),
    ("TJ-2026-005", "津东线", "K5+050", "下行", "120米", "大棚膜", "较大",
     "蔬菜大棚塑料膜老化破损，大风天气易飘向接触网", d(9, 15), f"{TJ} 王磊",
     "未整改", None, None, ""),
    ("TJ-2026-006", "京山线", "K15+300", "右侧", "40米", "垃圾堆积", "一般",
     "路边倾倒生活垃圾", d(9, 16), f"{TJ} 周涛",
     "未整改", None, None, "线别填写有误"),
    ("TJ-2026-007", "津东线", "K5+700", "右侧", "12", "非法穿越", "较大",
     "护网豁口处有人员横穿线路", "2026/9/18", f"{TJ} 周涛",
     "已销号", d(9, 20), d(9, 22), ""),
    ("TJ-2026-008", "津东线", "K6+300", "左侧", "约200米", "风筝", "一般",
     "空地有人放风筝", d(9, 21), f"{TJ} 孙丽娜",
     "已销号", d(9, 21), d(9, 23), "当场劝离"),
    ("TJ-2026-009", "津东线", "K6+950~K7+050", "线路右侧", "25 m", "树木侵限", "一般",
     "杨树倾斜，树冠距接触网不足安全距离", d(9, 25), f"{TJ} 赵建国",
     "整改中", None, None, ""),
    ("TJ-2026-010", "津东线", "K7+700", "左侧", 60, "违建", "较大",
     "铁路保护区内新建简易棚房", d(9, 28), f"{TJ} 王磊",
     "未整改", None, None, ""),
    ("TJ-2026-011", "津东线", "K8+420-K8+480", "右侧", "35米", "施工", "重大",
     "保护区内挖掘机作业，未办理施工审批", d(10, 2), f"{TJ} 周涛",
     "已整改", d(10, 5), None, ""),
    ("TJ-2026-012", "津东线", "K9+200", "左侧", "约80米", "烧荒", "一般",
     "农田秸秆焚烧，烟雾影响瞭望", d(10, 6), f"{TJ} 孙丽娜",
     "已销号", d(10, 7), d(10, 9), ""),
    ("TJ-2026-013", "津东线", "K9+900", "下行", "50米", "放牧", "一般",
     "羊群在线路附近放牧", d(10, 9), f"{TJ} 赵建国",
     "未整改", None, None, ""),
    ("TJ-2026-014", "津东线", "K25+300", "左侧", "30米", "垃圾堆积", "一般",
     "路边堆放废旧轮胎", d(10, 10), f"{JLC} 张伟",
     "未整改", None, None, "里程待核实"),
    ("TJ-2026-015", "津东线", "K10+400", "上行", "300米", "彩钢板", "较大",
     "厂房彩钢板屋面破损翘起", d(10, 12), f"{TJ} 王磊",
     "整改中", None, None, ""),
    ("TJ-2026-016", "津东线", "K10+900", "右侧", "约40m", "塑料薄膜", "一般",
     "废品收购站塑料薄膜露天堆放", "2026/10/15", f"{TJ} 周涛",
     "未整改", None, None, ""),
    ("TJ-2026-017", "津东线", "K11+640", "左侧", "20米", "护网破损", "较大",
     "护网立柱倾倒", d(10, 16), f"{JLC} 李明",
     "未整改", None, None, ""),
    ("TJ-2026-018", "津东线", "K11+820", "左侧", "10米", "护网破损", "较大",
     "护网网片脱落约3米", d(10, 17), f"{JLC} 李明",
     "已销号", d(10, 20), d(10, 22), ""),
    ("TJ-2026-019", "津东线", "K12+840处", "右侧", "约150米", "垃圾", "一般",
     "村民在坑塘边倾倒生活垃圾", "2026年10月19日", f"{JLC} 张伟",
     "已整改", d(10, 28), None, ""),
    ("TJ-2026-020", "津东线", "K13+600", "左侧", "约三十米", "挖沙取土", "较大",
     "路基坡脚附近挖沙取土", d(10, 22), f"{JLC} 张伟",
     "整改中", None, None, "距离未实测"),
    ("TJ-2026-021", "津东线", "K14+300", "右侧", "18", "地膜", "一般",
     "田间地膜残片挂在护网上", d(10, 25), f"{JLC} 李明",
     "未整改", None, None, ""),
    ("TJ-2026-022", "津东线", "K15+500~K15+600", "上行", "约35米", "彩钢瓦", "重大",
     "养殖棚彩钢瓦屋面大面积松动，距接触网较近", d(10, 28), f"{JLC} 张伟",
     "未整改", None, None, "已通知街道"),
    ("TJ-2026-023", "津东线", "K16+200", "左侧", "25米", "鸟窝", "一般",
     "接触网支柱附近树上有鸟窝", d(10, 30), f"{JLC} 李明",
     "未整改", None, None, ""),
    ("TJ-2026-024", "津东线", "K16+800", "下行", "90米", "大棚膜", "一般",
     "大棚压膜线断裂", d(11, 1), f"{JLC} 李明",
     "整改中", None, None, ""),
    ("TJ-2026-025", "津东线", "K17+650", "左侧", "15米", "违章建筑", "较大",
     "保护区内私搭简易仓房", d(11, 4), f"{JLC} 张伟",
     "未整改", None, None, ""),
    ("TJ-2026-026", "津东线", "K18+900", "右侧", "约60m", "焚烧秸秆", "一般",
     "田间焚烧秸秆", d(11, 6), f"{JLC} 李明",
     "已销号", d(11, 7), d(11, 9), ""),
    ("TJ-2026-027", "津东线", "K19+700", "左侧", "0.4公里", "无人机", "一般",
     "有人在线路旁操控无人机航拍", d(11, 10), f"{JLC} 张伟",
     "已销号", d(11, 10), d(11, 12), "已批评教育"),
    ("TJ-2026-028", "津东线", "K20+600", "右侧", "25米", "垃圾堆积", "一般",
     "路边堆放废弃建材", d(11, 14), f"{JLC} 李明",
     "未整改", None, None, ""),
    ("TJ-2026-029", "津东线", "K21+800", "左侧", "70米", "防尘网", "一般",
     "工地防尘网固定不牢", d(11, 18), f"{JLC} 张伟",
     "未整改", None, None, ""),
    ("TJ-2026-030", "津东线", "K22+350", "下行", "45米", "树木", "一般",
     "枯树有倒向线路的危险", d(11, 19), f"{JLC} 李明",
     "未整改", None, None, ""),
]
# fmt: on

#: refs of the rows that must be rejected, and why
BAD = {
    "TJ-2026-006": "unknown line 京山线",
    "TJ-2026-014": "K25+300 is beyond the end of the line (K22+637)",
    "TJ-2026-017": "K11+640 lies inside the short chain K11+620-K11+660",
    "TJ-2026-020": "the distance 约三十米 cannot be read",
    "TJ-2026-023": "鸟窝 is not a category of the register",
}

#: a good row whose responsible unit in the sheet is not the one the register finds
WRONG_UNIT = {"TJ-2026-016": "张贵庄街道"}


def responsible_units() -> dict[str, str]:
    """The unit a station would write for each good row: the lead party the sample
    network gives for its place (street office and community, works section and work
    area, or police station)."""
    from linerisk.io.mapping import DEFAULT_SIDES
    from linerisk.io.spreadsheet import _chainage, parse_category, parse_distance, parse_side
    from linerisk.model import Vertical
    from linerisk.sample import load_sample_network
    from linerisk.settings import Settings

    net = load_sample_network()
    catalog = Settings().categories
    out = {}
    for row in ROWS:
        ref, _line, chainage, side, distance, category = row[:6]
        if ref in BAD:
            continue
        metres, _range, _text = _chainage(chainage)
        ref_ = net.place(
            ["JD"], [metres], [parse_side(side, DEFAULT_SIDES)], [parse_distance(distance)]
        )
        p = ref_.parties(0)
        lead = catalog.get(parse_category(category, catalog, {})).lead
        out[ref] = {
            Vertical.LOCAL: f"{p.street_office}{p.community}",
            Vertical.RAILWAY: f"{p.works_section}{p.work_area}",
            Vertical.POLICE: p.police or "",
        }[lead]
    out.update(WRONG_UNIT)
    return out


def write(path: Path = OUT) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    units = responsible_units()
    wb = Workbook()
    ws = wb.active
    ws.title = "隐患台账"
    n = len(HEADERS)
    ws.cell(row=1, column=1, value=TITLE).font = Font(bold=True, size=16)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(row=2, column=1, value=SUBTITLE)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for j, head in enumerate(HEADERS, start=1):
        c = ws.cell(row=3, column=j, value=head)
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", wrap_text=True)
        c.border = border
    for i, row in enumerate(ROWS, start=1):
        ref, line, chainage, side, distance, category, severity, description = row[:8]
        found, finder, status, rectified, cleared, note = row[8:]
        written = distance if isinstance(distance, str) else f"{distance}米"
        values = (
            i,
            ref,
            line,
            chainage,
            side,
            distance,
            category,
            severity,
            f"{chainage}{side}{written}处{description}",
            found,
            finder,
            units.get(ref, ""),
            status,
            rectified,
            cleared,
            note or None,
        )
        for j, value in enumerate(values, start=1):
            c = ws.cell(row=3 + i, column=j, value=value)
            c.border = border
            if isinstance(value, dt.datetime):
                c.number_format = "yyyy-mm-dd"
    widths = (5, 13, 8, 16, 9, 11, 10, 9, 48, 12, 20, 26, 10, 13, 12, 12)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "A4"
    wb.properties.creator = "天津站派出所"
    wb.properties.created = STAMP
    wb.properties.modified = STAMP
    buf = io.BytesIO()
    wb.save(buf)
    _rezip(buf.getvalue(), path)
    return path


def _rezip(data: bytes, path: Path) -> None:
    """The workbook again with fixed zip entry times, so that reruns are identical."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=STAMP.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*",
                    rb"\g<1>" + STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                    body,
                )
            zf.writestr(info, body)
    path.write_bytes(out.getvalue())


def self_check(path: Path = OUT) -> None:
    """Import the workbook into a register of the sample network and into the sample
    register; exactly the rows of ``BAD`` must be rejected."""
    from linerisk.io.importing import import_layer
    from linerisk.register import Register
    from linerisk.sample import build_sample_register, load_sample_network

    with tempfile.TemporaryDirectory() as tmp:
        empty = Register.create(Path(tmp) / "empty.gpkg", network=load_sample_network())
        sample = build_sample_register(Path(tmp) / "sample.gpkg")
        for reg in (empty, sample):
            with reg:
                report = import_layer(reg, "risks", path, by="天津站派出所 王磊")
                refs = {r.record["隐患编号"] for r in report.rejected}
                assert refs == set(BAD), (refs, [r.problem for r in report.rejected])
                assert report.added == len(ROWS) - len(BAD), report.summary()
                assert reg.verify().ok
                print(report.summary())
        for r in report.rejected:
            print(f"  row {r.row} ({r.record['隐患编号']}): {r.problem}")
        for m in report.messages:
            print(f"  {m.en}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    write()
    print(f"wrote {OUT}")
    self_check()
