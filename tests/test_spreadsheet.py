"""The existing spreadsheet register (隐患台账 in Excel) comes into the register: cells as
stations write them, placement by chainage, statuses replayed through the lifecycle,
and the rows that cannot be placed listed for the user to fix."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
from cli_run import run_cli as _run

from linerisk.io.importing import import_layer
from linerisk.io.mapping import FieldMapping
from linerisk.io.spreadsheet import (
    parse_category,
    parse_date,
    parse_distance,
    parse_side,
    parse_status,
    read_table,
    status_path,
)
from linerisk.model import CategoryCatalog, Status
from linerisk.sample import sample_dir

WORKBOOK = sample_dir() / "sample_register.xlsx"
OFFICER = "天津站派出所 王磊"
TZ = dt.timezone(dt.timedelta(hours=8))
#: spreadsheet rows of the sample workbook's bad rows, and what each must say
BAD_ROWS = {
    9: "unknown line '京山线'",
    17: "chainage K25+300 is outside line JD",
    20: "chainage K11+640 does not exist on line JD: it lies inside a short chain",
    23: "cannot read distance '约三十米'",
    26: "unknown category '鸟窝'",
}


def _write_xlsx(path: Path, rows: list[list], title: str | None = "某站隐患台账") -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


HEAD = ["序号", "隐患编号", "线别", "里程", "方位", "距线路距离", "隐患类别", "隐患等级"]
HEAD += ["隐患描述", "发现日期", "发现人", "责任单位", "整改状态", "整改完成日期", "销号日期"]


# ----------------------------------------------------------------------------- cells


def test_distances_as_stations_write_them():
    assert parse_distance("30米") == 30
    assert parse_distance("约30m") == 30
    assert parse_distance("30") == 30
    assert parse_distance(12.5) == 12.5
    assert parse_distance(" 25 m ") == 25
    assert parse_distance("0.4公里") == 400
    assert parse_distance("约120米左右") == 120
    for bad in ("约三十米", "路基坡脚外", "30-50米", -3):
        with pytest.raises(ValueError, match="cannot read distance"):
            parse_distance(bad)


def test_dates_as_stations_write_them():
    day = dt.datetime(2026, 8, 3, tzinfo=TZ)
    for value in (
        dt.datetime(2026, 8, 3),
        dt.date(2026, 8, 3),
        "2026-08-03",
        "2026/8/3",
        "2026.8.3",
        "2026年8月3日",
        46237,  # Excel's serial number for 2026-08-03
        20260803,
    ):
        assert parse_date(value, TZ) == day, value
    assert parse_date("2026/8/3 14:20", TZ) == day.replace(hour=14, minute=20)
    assert parse_date("2026-08-03T14:20+00:00", TZ).utcoffset() == dt.timedelta(0)
    with pytest.raises(ValueError, match="cannot read date '8月3日'"):
        parse_date("8月3日", TZ)


def test_sides_and_the_configurable_up_down_mapping():
    words = FieldMapping().side_words()
    assert [parse_side(v, words) for v in ("左侧", "右", "线路右侧", "left", "R")] == [
        "left",
        "right",
        "right",
        "left",
        "right",
    ]
    # 上行/下行 (up/down track side): by default left/right of increasing chainage
    assert parse_side("上行", words) == "left"
    assert parse_side("下行线", words) == "right"
    flipped = FieldMapping(sides={"上行": "right", "下行": "left"}).side_words()
    assert parse_side("上行", flipped) == "right"
    with pytest.raises(ValueError, match="unknown side '东侧'"):
        parse_side("东侧", words)


def test_categories_by_name_and_synonym():
    catalog = CategoryCatalog.default()
    assert parse_category("彩钢瓦", catalog, {}) == "hard_floating_object"
    assert parse_category("地膜", catalog, {}) == "light_floating_object"
    assert parse_category("大棚膜", catalog, {}) == "light_floating_object"
    assert parse_category("垃圾堆积", catalog, {}) == "garbage"
    assert parse_category("garbage", catalog, {}) == "garbage"
    assert parse_category("焚烧秸秆", catalog, {}) == "burning"  # contains one synonym
    assert parse_category("鸟窝", catalog, {"鸟窝": "flood_geology"}) == "flood_geology"
    with pytest.raises(ValueError, match="matches several categories"):
        parse_category("彩钢瓦和地膜", catalog, {})
    with pytest.raises(ValueError, match="unknown category '鸟窝'"):
        parse_category("鸟窝", catalog, {})


def test_statuses_map_to_the_lifecycle():
    assert parse_status("未整改", {}) == (Status.ASSIGNED, None)
    assert parse_status("整改中", {}) == (Status.RECTIFYING, None)
    assert parse_status("已整改", {}) == (Status.AWAITING_RECHECK, None)
    assert parse_status("已销号", {}) == (Status.CLEARED, None)
    assert parse_status("重复登记", {}) == (Status.WITHDRAWN, "duplicate")
    assert parse_status("cleared", {}) == (Status.CLEARED, None)
    assert parse_status("已处理", {"已处理": "cleared"}) == (Status.CLEARED, None)
    with pytest.raises(ValueError, match="unknown status '待定'"):
        parse_status("待定", {})
    assert status_path(Status.REPORTED, Status.CLEARED) == ["assign", "start", "submit", "clear"]
    assert status_path(Status.CLEARED, Status.RECTIFYING) == ["reopen", "start"]
    assert status_path(Status.AWAITING_RECHECK, Status.RECTIFYING) == ["rework"]
    assert status_path(Status.ASSIGNED, Status.WITHDRAWN) == ["withdraw"]
    assert status_path(Status.WITHDRAWN, Status.ASSIGNED) is None


def test_tables_find_their_header_below_a_title(tmp_path):
    path = _write_xlsx(
        tmp_path / "t.xlsx", [["填报单位：天津站派出所"], HEAD, [1, "A1", "津东线"], [], [2]]
    )
    table = read_table(path)
    assert table.columns[:3] == ("序号", "隐患编号", "线别")
    assert table.rows == [4, 6]  # the spreadsheet's own row numbers; empty rows skipped
    assert table.records[0]["线别"] == "津东线"
    with pytest.raises(Exception, match="has no sheet 'x'; its sheets are"):
        read_table(path, sheet="x")


def test_csv_in_utf8_and_in_gbk(tmp_path):
    text = "里程,侧别,距离,类别\nK5+200,左侧,30米,垃圾\n"
    for name, enc in (("u.csv", "utf-8-sig"), ("g.csv", "gbk")):
        (tmp_path / name).write_bytes(text.encode(enc))
        table = read_table(tmp_path / name)
        assert table.columns == ("里程", "侧别", "距离", "类别"), name
        assert table.records == [{"里程": "K5+200", "侧别": "左侧", "距离": "30米", "类别": "垃圾"}]
        assert table.rows == [2]


# ----------------------------------------------------------------------------- the sample


def test_sample_workbook_is_what_its_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_workbook", sample_dir() / "make_workbook.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.write(tmp_path / "again.xlsx")
    assert out.read_bytes() == WORKBOOK.read_bytes(), "run geodata/make_workbook.py"
    assert len(module.ROWS) == 30 and len(module.BAD) == 5


def test_sample_workbook_imports_with_its_bad_rows_reported(empty_register):
    reg = empty_register
    report = import_layer(reg, "risks", WORKBOOK, by=OFFICER)
    assert (report.read, report.added, len(report.rejected)) == (30, 25, 5)
    assert {r.row: r.problem for r in report.rejected}.keys() == BAD_ROWS.keys()
    for r in report.rejected:
        assert BAD_ROWS[r.row] in r.problem
        assert r.record["隐患编号"]  # the original row comes with it
    assert reg.store.count_risks() == 25
    assert reg.verify().ok
    by_ref = {r.ref: r for r in reg.risks()}
    assert not {f"TJ-2026-{n:03d}" for n in (6, 14, 17, 20, 23)} & set(by_ref)
    counts = {s: sum(r.status.value == s for r in by_ref.values()) for s in ("assigned", "cleared")}
    assert counts == {"assigned": 10, "cleared": 8}
    # 整改状态 已销号 with its dates: found, submitted on the rectification date, cleared
    r = by_ref["TJ-2026-001"]
    assert r.status is Status.CLEARED
    assert r.category == "hard_floating_object"  # 彩钢瓦
    assert r.found_at == dt.datetime(2026, 9, 2, tzinfo=TZ)
    assert r.cleared_at == dt.datetime(2026, 9, 8, tzinfo=TZ)
    history = reg.history(r.id)
    assert [e.action.value for e in history] == ["report", "assign", "start", "submit", "clear"]
    assert history[3].at == dt.datetime(2026, 9, 6, tzinfo=TZ)
    assert history[1].actor == OFFICER and "sample_register.xlsx" in history[1].note
    # 上行 is the left side of increasing chainage; 下行 the right
    assert by_ref["TJ-2026-004"].location.side.value == "left"
    assert by_ref["TJ-2026-005"].location.side.value == "right"
    assert by_ref["TJ-2026-005"].location.offset_m == pytest.approx(120)


def test_a_range_is_placed_at_its_midpoint_and_kept_in_provenance(empty_register):
    reg = empty_register
    import_layer(reg, "risks", WORKBOOK, by=OFFICER)
    r = next(r for r in reg.risks() if r.ref == "TJ-2026-003")
    assert r.location.chainage == "K3+920"  # K3+880~K3+960
    row = reg.store.find_risks(reg.query(category="fence_damage"))
    source = json.loads(next(x["source"] for x in row if x["ref"] == "TJ-2026-003"))
    assert source["chainage_range"] == "K3+880~K3+960"
    assert source["file"] == "sample_register.xlsx" and source["sheet"] == "隐患台账"
    assert source["row"] == 6
    assert source["record"]["里程"] == "K3+880~K3+960"
    assert source["record"]["责任单位"] == "天津工务段天津东线路工区"


def test_a_range_across_the_chain_break_uses_the_midpoint_on_the_ground(tmp_path, empty_register):
    # K11+600~K11+700 has its nominal midpoint K11+650 inside the short chain
    # K11+620=K11+660. On the ground the range is 20 m + 40 m long, so its
    # midpoint lies 10 m past the break: K11+670.
    path = _write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["里程", "侧别", "距离", "类别", "发现人"],
            ["K11+600~K11+700", "左侧", "20米", "垃圾", "甲"],
        ],
    )
    report = import_layer(empty_register, "risks", path, by=OFFICER)
    assert report.added == 1, report.rejected
    risk = empty_register.risks()[0]
    assert risk.location.chainage_m == pytest.approx(11670, abs=0.5)
    bad = _write_xlsx(
        tmp_path / "b.xlsx",
        [
            ["里程", "侧别", "距离", "类别", "发现人"],
            ["K11+630~K11+900", "左侧", "20米", "垃圾", "甲"],
        ],
    )
    report = import_layer(empty_register, "risks", bad, by=OFFICER)
    assert "starts or ends inside a short chain" in report.rejected[0].problem


def test_a_row_is_imported_whole_or_not_at_all(tmp_path, empty_register):
    rows = [
        HEAD,
        [1, "A1", "津东线", "K5+200", "左侧", "30米", "垃圾", "一般", "x", "2026-09-01", "甲", "",
         "已销号", "2026-08-20", "2026-09-05"],
        [2, "A2", "津东线", "K6+200", "左侧", "30米", "垃圾", "一般", "x", "2026-13-01", "甲", "",
         "未整改", None, None],
        [3, "A3", "津东线", "K7+200", "左侧", "30米", "垃圾", "一般", "x", "2026-09-01", "甲", "",
         "已撤销", None, None],
        [4, "A4", "津东线", "K8+200", None, "30米", "垃圾", "一般", "x", "2026-09-01", "甲", "",
         "未整改", None, None],
        [5, "A5", "津东线", "K9+200", "右侧", "30米", "垃圾", "一般", "x", "2026-09-01", "甲", "",
         "未整改", None, None],
    ]  # fmt: skip
    report = import_layer(empty_register, "risks", _write_xlsx(tmp_path / "w.xlsx", rows), by="乙")
    problems = {r.row: r.problem for r in report.rejected}
    assert problems == {
        3: "the rectification date 2026-08-20 is before the date found 2026-09-01",
        4: "cannot read date '2026-13-01'; use YYYY-MM-DD",
        5: "a withdrawn risk needs a reason (撤销原因): duplicate, not_a_hazard or outside_scope",
        6: "no side given (左侧/右侧 or 上行/下行)",
    }
    assert [r.ref for r in empty_register.risks()] == ["A5"]
    assert empty_register.store.count_risks() == 1


def test_strict_and_dry_run_write_nothing(empty_register):
    from linerisk.errors import LineriskError

    with pytest.raises(LineriskError, match=r"5 rows cannot be imported \(first, row 9: unknown"):
        import_layer(empty_register, "risks", WORKBOOK, by=OFFICER, strict=True)
    report = import_layer(empty_register, "risks", WORKBOOK, by=OFFICER, dry_run=True)
    assert report.dry_run and report.added == 25 and report.ids == ()
    assert empty_register.store.count_risks() == 0
    assert empty_register.verify().ok


def test_importing_again_is_refused_row_by_row_then_upsert_updates(tmp_path, empty_register):
    reg = empty_register
    import_layer(reg, "risks", WORKBOOK, by=OFFICER)
    again = import_layer(reg, "risks", WORKBOOK, by=OFFICER)
    assert again.added == 0
    assert "ref TJ-2026-001 is already in the register" in again.rejected[0].problem
    # the station's next edition: TJ-2026-005 has been rectified and cleared, and
    # TJ-2026-010 was measured again (60 m → 70 m)
    from openpyxl import load_workbook

    wb = load_workbook(WORKBOOK)
    ws = wb.active
    for row in ws.iter_rows(min_row=4):
        if row[1].value == "TJ-2026-005":
            row[12].value, row[13].value, row[14].value = "已销号", "2026-10-01", "2026-10-03"
        if row[1].value == "TJ-2026-010":
            row[5].value = "70米"
    wb.save(tmp_path / "next.xlsx")
    report = import_layer(reg, "risks", tmp_path / "next.xlsx", by=OFFICER, mode="upsert")
    assert (report.added, report.updated, report.unchanged) == (0, 2, 23)
    by_ref = {r.ref: r for r in reg.risks()}
    assert by_ref["TJ-2026-005"].status is Status.CLEARED
    assert by_ref["TJ-2026-005"].cleared_at == dt.datetime(2026, 10, 3, tzinfo=TZ)
    assert by_ref["TJ-2026-010"].location.offset_m == pytest.approx(70)
    assert reg.history(by_ref["TJ-2026-010"].id)[-1].action.value == "move"
    assert reg.verify().ok


def test_an_item_back_in_rectification_in_the_next_edition_is_returned_for_rework(
    tmp_path, empty_register
):
    """已整改 in one edition, 整改中 in the next: the re-inspection failed. The
    upsert returns the risk for rework, the import noted as what was found."""
    reg = empty_register
    head = ["隐患编号", "里程", "侧别", "距离", "类别", "发现人", "状态", "发现日期"]
    row = ["TJ-9", "K5+000", "右侧", "40米", "垃圾", "甲", "已整改", "2026-10-01"]
    import_layer(reg, "risks", _write_xlsx(tmp_path / "a.xlsx", [head, row]), by=OFFICER)
    (risk,) = reg.risks()
    assert risk.status is Status.AWAITING_RECHECK
    row[6] = "整改中"
    path = _write_xlsx(tmp_path / "b.xlsx", [head, row])
    report = import_layer(reg, "risks", path, by=OFFICER, mode="upsert")
    assert (report.added, report.updated, len(report.rejected)) == (0, 1, 0)
    last = reg.history(risk.id)[-1]
    assert (last.action.value, reg.get(risk.id).status) == ("rework", Status.RECTIFYING)
    assert "b.xlsx" in last.note
    assert reg.verify().ok


def test_open_duplicates_are_rejected_unless_allowed(tmp_path, empty_register):
    reg = empty_register
    import_layer(reg, "risks", WORKBOOK, by=OFFICER)
    rows = [["里程", "侧别", "距离", "类别", "发现人"], ["K5+060", "右侧", "118米", "大棚膜", "甲"]]
    path = _write_xlsx(tmp_path / "d.xlsx", rows)
    report = import_layer(reg, "risks", path, by=OFFICER)
    assert report.added == 0
    assert "is 10 m away; use risk" in report.rejected[0].problem
    report = import_layer(reg, "risks", path, by=OFFICER, allow_duplicates=True)
    assert report.added == 1


def test_rows_of_one_file_describing_the_same_open_hazard_are_rejected(tmp_path, empty_register):
    """Two rows of the file for one open hazard (same category, within the
    duplicate radius) are refused as two open risks are: the later row is
    rejected naming the earlier; another category, a cleared row or a row out
    of reach is kept; --allow-duplicates keeps them all."""
    header = [
        "里程",
        "侧别",
        "距离",
        "类别",
        "发现人",
        "状态",
        "整改完成日期",
        "销号日期",
        "发现日期",
    ]
    rows = [
        header,
        ["K5+000", "右侧", "40米", "垃圾", "甲", "", "", "", "2026-10-01"],  # row 3: kept
        [
            "K5+012",
            "右侧",
            "40米",
            "垃圾",
            "乙",
            "",
            "",
            "",
            "2026-10-01",
        ],  # row 4: 12 m from row 3
        ["K5+000", "右侧", "45米", "彩钢瓦", "甲", "", "", "", "2026-10-01"],  # another category
        [
            "K5+005",
            "右侧",
            "40米",
            "垃圾",
            "甲",
            "已销号",
            "2026-10-02",
            "2026-10-03",
            "2026-10-01",
        ],  # cleared
        ["K5+200", "右侧", "40米", "垃圾", "甲", "", "", "", "2026-10-01"],  # out of reach
        ["K5+205", "右侧", "40米", "垃圾", "丙", "", "", "", "2026-10-01"],  # row 8: 5 m from row 7
        [
            "K5+004",
            "右侧",
            "40米",
            "垃圾",
            "丁",
            "",
            "",
            "",
            "2026-10-01",
        ],  # row 9: nearest is row 3
    ]
    path = _write_xlsx(tmp_path / "twice.xlsx", rows)
    report = import_layer(empty_register, "risks", path, by=OFFICER, dry_run=True)
    assert report.added == 4
    problems = {r.row: r.problem for r in report.rejected}
    assert sorted(problems) == [4, 8, 9]
    assert problems[4].startswith("the same garbage as row 3 of this file, 12 m away;")
    assert problems[8].startswith("the same garbage as row 7 of this file, 5 m away;")
    assert problems[9].startswith("the same garbage as row 3 of this file, 4 m away;")
    report = import_layer(empty_register, "risks", path, by=OFFICER, allow_duplicates=True)
    assert report.added == 7 and not report.rejected
    assert empty_register.verify().ok


def test_the_command_line_names_a_row_repeated_in_the_file_in_both_languages(
    tmp_path, empty_register
):
    rows = [
        ["里程", "侧别", "距离", "类别", "发现人"],
        ["K5+000", "右侧", "40米", "垃圾", "甲"],
        ["K5+012", "右侧", "40米", "垃圾", "乙"],
    ]
    path = _write_xlsx(tmp_path / "twice.xlsx", rows)
    register = empty_register.store.path
    empty_register.close()
    code, out, err = _run(
        "--register", register, "import", "risks", path, "--by", OFFICER, "--dry-run"
    )
    assert code == 0, err
    assert "the same garbage as row 3 of this file, 12 m away; keep one of the two rows" in out
    code, out, err = _run(
        "--register",
        register,
        "--lang",
        "zh",
        "import",
        "risks",
        path,
        "--by",
        OFFICER,
        "--dry-run",
    )
    assert code == 0, err
    assert "与文件第 3 行是同类隐患（garbage），相距 12 米" in out


def test_cli_imports_the_workbook_and_writes_the_rejects(sample_register_path, tmp_path):
    rejects = tmp_path / "rejects.csv"
    code, out, err = _run(
        "--register", sample_register_path, "import", "risks", WORKBOOK,
        "--by", OFFICER, "--rejects", rejects,
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0].startswith("imported: risks, 30 read, 25 added")
    assert "  26: unknown category '鸟窝'" in out
    with rejects.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in rows] == sorted(BAD_ROWS)
    assert rows[0]["线别"] == "京山线" and rows[0]["隐患编号"] == "TJ-2026-006"
    assert rows[0]["发现日期"] == "2026-09-16"
    # in Chinese, and the up/down mapping flipped from the command line
    code, out, err = _run(
        "--register", sample_register_path, "import", "risks", WORKBOOK, "--by", OFFICER,
        "--mode", "upsert", "--up-side", "right", "--rejects", rejects, lang="zh",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("导入完成：隐患，读取 30 条，新增 0，更新 7，未变 18")  # 7 上行/下行 rows
    assert "  第 26 行：未知隐患类别 '鸟窝'" in out
    with rejects.open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh))[:2] == ["行号", "问题"]


def test_cli_needs_to_know_who_imports(sample_register_path):
    code, out, err = _run("--register", sample_register_path, "import", "risks", WORKBOOK)
    assert code == 1 and out == ""
    assert err.startswith("linerisk: who made this change?")


def test_rows_by_coordinates_and_by_chainage_keep_their_order_and_their_cells(empty_register):
    """A register mixing rows placed by coordinates and by chainage, with one
    point too far from every line between them: the placed rows come back in
    the file's order with their coordinates, the far one is refused in one
    sentence, and every cell (dates, numbers, empty numbers, a numbered column)
    is kept in the provenance as JSON holds it."""
    import math

    import shapely

    from linerisk.io.report import jsonable
    from linerisk.io.spreadsheet import risk_rows

    net = empty_register.network
    on_line = net.place(["JD"], [5000.0], ["left"], [30.0])
    x, y = float(on_line.x[0]), float(on_line.y[0])
    when = dt.datetime(2026, 11, 3, 9, 30)
    base = {"类别": "垃圾", "发现人": OFFICER}
    records = [
        base | {"note": when, "n": 3, "f": 2.5, 7: "seven", "history": "x"},
        base
        | {
            "线路": "JD",
            "里程": "K6+200",
            "侧别": "左侧",
            "距离": 40,
            "f": math.nan,
            "g": -math.inf,
        },
        base | {"note": True},
        base | {"线路": "JD", "里程": "K7+000", "侧别": "右侧", "距离": 25.0},
        base | {"note": dt.date(2026, 1, 2)},
    ]
    points = [shapely.Point(x, y), None, shapely.Point(x + 90_000, y), None, shapely.Point(x, y)]
    columns = {"category": "类别", "found_by": "发现人", "line": "线路", "chainage": "里程"}
    columns |= {"side": "侧别", "offset_m": "距离"}
    parsed = risk_rows(
        records,
        [2, 3, 4, 5, 6],
        columns,
        network=net,
        settings=empty_register.settings,
        points=_point_array(points),
        source={"file": "t.xlsx", "sheet": None},
    )
    assert [it.label for it in parsed.items] == [2, 3, 5, 6]
    assert [r.row for r in parsed.rejects] == [4]
    assert "from the nearest line JD" in parsed.rejects[0].problem
    first, by_chainage = parsed.items[0], parsed.items[1]
    assert (type(first.x), type(first.y)) == (float, float)
    assert math.hypot(first.x - x, first.y - y) < 1e-6
    assert by_chainage.row["chainage"] == 6200.0 and "x" not in by_chainage.row
    assert (by_chainage.x, by_chainage.y) != (x, y)
    kept = [records[0], records[1], records[3], records[4]]
    for it, record in zip(parsed.items, kept, strict=True):
        prov = it.row["source"]
        assert prov["file"] == "t.xlsx" and "sheet" not in prov and prov["row"] == it.label
        expected = {str(k): jsonable(v) for k, v in record.items() if k != "history"}
        assert prov["record"] == expected
        json.dumps(prov)
    assert parsed.items[0].row["source"]["record"]["note"] == "2026-11-03T09:30:00"
    assert parsed.items[0].row["source"]["record"]["7"] == "seven"
    assert parsed.items[1].row["source"]["record"]["f"] is None
    assert parsed.items[1].row["source"]["record"]["g"] is None  # JSON has no infinity
    assert parsed.items[3].row["source"]["record"]["note"] == "2026-01-02"


def _point_array(points):
    import numpy as np

    out = np.empty(len(points), dtype=object)
    out[:] = points
    return out


def test_an_import_places_each_row_once_and_registers_what_placing_again_gives(
    tmp_path, sample_network, monkeypatch
):
    """The import places every row to reject those it cannot, and hands that
    placing to add_risks instead of placing the rows again: the register is the
    same as when add_risks places them itself (rows by coordinates and by
    chainage, mixed, with a rejected row between them)."""
    from linerisk.register import Register
    from linerisk.store.schema import RISKS

    net = sample_network
    on_line = net.place(["JD"] * 3, [5000.0, 5500.0, 9000.0], ["left"] * 3, [30.0, 60.0, 90.0])
    header = ["x", "y", "线路", "里程", "侧别", "距离", "类别", "发现人"]
    rows = [header]
    for i in range(3):
        rows.append([float(on_line.x[i]), float(on_line.y[i]), "", "", "", "", "垃圾", "甲"])
        rows.append(["", "", "JD", f"K{6 + i}+100", "右侧", f"{40 + i}米", "彩钢瓦", "乙"])
    rows.append([float(on_line.x[0]) + 90_000, float(on_line.y[0]), "", "", "", "", "垃圾", "甲"])
    rows.append(["", "", "JD", "K7+500-K7+600", "左侧", "20米", "违章建筑", "丙"])
    path = _write_xlsx(tmp_path / "mixed.xlsx", rows, title=None)
    placed_again: list[int] = []
    real = Register._reference_rows

    def counting(self, rows):
        placed_again.append(len(rows))
        return real(self, rows)

    monkeypatch.setattr(Register, "_reference_rows", counting)
    add = Register.add_risks
    dumps = []
    for name, hand_over in (("once", True), ("twice", False)):
        if not hand_over:
            monkeypatch.setattr(
                Register,
                "add_risks",
                lambda self, rows, **kw: add(self, rows, **kw | {"referenced": None}),
            )
        reg = Register.create(tmp_path / f"{name}.gpkg", network=net)
        report = import_layer(reg, "risks", path, by=OFFICER, crs=net.crs)
        assert report.added == 7 and len(report.rejected) == 1
        assert placed_again == ([] if hand_over else [7])
        placed_again.clear()
        # the rows give no date found: both imports take the time they run
        cols = [c for c in RISKS.column_names if c not in ("updated_at", "found_at", "deadline")]
        dumps.append(
            reg.store._conn.execute(f"SELECT {', '.join(cols)} FROM risks ORDER BY id").fetchall()
        )
        assert reg.verify().ok
        reg.close()
    assert [tuple(r) for r in dumps[0]] == [tuple(r) for r in dumps[1]]
