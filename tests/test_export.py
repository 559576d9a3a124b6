"""``linerisk export`` and :func:`linerisk.io.export.export_layer`: every layer and any
filtered risk list to GeoJSON, GeoPackage, Shapefile, CSV and XLSX, and back again."""

from __future__ import annotations

import csv
import shutil

import pytest
from cli_run import run_cli as run

from linerisk.io.export import RISK_COLUMNS, export_layer, format_of
from linerisk.io.importing import import_layer, read_source
from linerisk.io.mapping import FIELDS, SHORT_NAMES, SYNONYMS, ZH_HEADERS, norm_header
from linerisk.register import Register

SAMPLE_DAY = "2026-11-25"
#: what a risk is, apart from its id and the history of how it got there
COMPARED = (
    "ref",
    "category",
    "severity",
    "status",
    "found_at",
    "found_by",
    "cleared_at",
    "description",
    "note",
    "located_by",
    "parties",
)


def _same_risks(a: Register, b: Register) -> None:
    """The two registers hold the same risks, keyed by ref."""
    old = {r.ref: r for r in a.risks()}
    new = {r.ref: r for r in b.risks()}
    assert old.keys() == new.keys()
    for ref, x in old.items():
        y = new[ref]
        for name in COMPARED:
            assert getattr(x, name) == getattr(y, name), (ref, name)
        assert x.location.line == y.location.line
        assert x.location.side == y.location.side, ref
        assert x.location.chainage_m == pytest.approx(y.location.chainage_m, abs=0.11), ref
        assert x.location.offset_m == pytest.approx(y.location.offset_m, abs=0.06), ref
        assert x.zone.band == y.zone.band


@pytest.mark.parametrize(
    ("name", "lang"),
    [
        ("risks.geojson", "en"),
        ("risks.gpkg", "en"),
        ("risks.shp", "en"),
        ("risks.zip", "en"),
        ("risks.csv", "en"),
        ("risks.csv", "zh"),
        ("risks.xlsx", "en"),
        ("risks.xlsx", "zh"),
    ],
)
def test_risks_round_trip_through_every_format(
    name, lang, sample_register, tmp_path, sample_network
):
    out = tmp_path / name
    report = export_layer(sample_register, "risks", out, lang=lang, on=SAMPLE_DAY)
    assert report.count == 48
    fresh = Register.create(tmp_path / "fresh.gpkg", network=sample_network)
    back = import_layer(fresh, "risks", out, by="导入员", allow_duplicates=True)
    assert (back.added, back.rejected) == (48, ())
    _same_risks(sample_register, fresh)
    assert fresh.verify().ok
    fresh.close()


LAYER_CASES = [(kind, fmt) for kind in FIELDS if kind != "risks" for fmt in ("gpkg", "csv")]
LAYER_CASES += [
    (kind, fmt)
    for kind in ("kmposts", "segments", "police_areas")
    for fmt in ("geojson", "shp", "xlsx")
]


@pytest.mark.parametrize(("kind", "fmt"), LAYER_CASES)
def test_layers_round_trip(kind, fmt, sample_register_path, tmp_path):
    copy = tmp_path / "copy.gpkg"
    shutil.copy(sample_register_path, copy)
    with Register.open(sample_register_path) as reg, Register.open(copy) as other:
        lang = "zh" if fmt in ("csv", "xlsx") else "en"
        out = tmp_path / f"{kind}.{fmt}"
        n = export_layer(reg, kind, out, lang=lang).count
        report = import_layer(other, kind, out, mode="replace")
        assert (report.read, report.unchanged, report.removed) == (n, n, 0), report.messages
        assert report.added == report.updated == 0


def test_a_filtered_risk_list(sample_register, tmp_path):
    out = tmp_path / "open.csv"
    filters = {"status": "open", "line": "JD", "chainage_from": "K5+000", "chainage_to": "K12+000"}
    report = export_layer(sample_register, "risks", out, filters=filters, on=SAMPLE_DAY)
    expected = sample_register.risks(**filters)
    assert 0 < report.count == len(expected) < 48
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [str(r.id) for r in expected]
    assert list(rows[0]) == list(RISK_COLUMNS)
    # chainage and the three verticals' parties are columns
    first = expected[0]
    assert rows[0]["chainage"] == first.location.chainage
    assert rows[0]["police"] == (first.parties.police or "")
    assert rows[0]["workshop"] == first.parties.workshop
    assert rows[0]["street_office"] == first.parties.street_office


def test_xlsx_is_laid_out_like_a_station_register(sample_register, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "台账.xlsx"
    export_layer(sample_register, "risks", out, lang="zh", on=SAMPLE_DAY)
    ws = load_workbook(out).active
    assert ws.title == "隐患台账"
    assert ws["A1"].value.startswith("铁路沿线隐患台账")
    heads = [c.value for c in ws[2]]
    assert heads[:8] == ["编号", "原编号", "线路", "里程", "侧别", "距中心(米)", "类别", "等级"]
    for head in ("派出所", "工务段", "车间", "工区", "区县", "街道/镇", "社区/村", "整改期限"):
        assert head in heads
    assert ws.freeze_panes == "A3"
    row = {h: c.value for h, c in zip(heads, ws[3], strict=True)}
    first = sample_register.risks()[0]
    assert row["里程"] == first.location.chainage and row["侧别"] in ("左侧", "右侧")
    assert row["类别"] == "垃圾堆积" and row["状态"] == "已销号"
    assert row["发现时间"].year == 2026  # a date cell
    assert ws.max_row == 2 + 48


def test_shapefile_names_are_short_and_documented(sample_register, tmp_path):
    names = set(RISK_COLUMNS)
    from linerisk.store.schema import LAYERS

    for table in LAYERS.values():
        names.update(table.column_names)
    short = {SHORT_NAMES.get(n, n) for n in names}
    assert len(short) == len(names)  # one short name per column
    assert all(len(s) <= 10 for s in short)
    assert all(len(n) > 10 for n in SHORT_NAMES if n in names)
    out = tmp_path / "r.shp"
    export_layer(sample_register, "risks", out)
    columns = read_source(out).columns
    assert "zone_d_m" in columns and "street_off" in columns and "descr" in columns
    assert all(len(c) <= 10 for c in columns)


def test_headers_agree_with_the_cli_and_import_back():
    from linerisk.cli.output import HEADERS

    for key, zh in ZH_HEADERS.items():
        if key in HEADERS:
            assert HEADERS[key][0] == zh, key
    # every Chinese header and short name written for a field is read back as that field
    for kind, fields in FIELDS.items():
        for field in fields:
            known = {norm_header(w) for w in SYNONYMS[kind].get(field, ())}
            if field in ZH_HEADERS and field not in ("id",):
                assert norm_header(ZH_HEADERS[field]) in known | {field}, (kind, field)


def test_format_is_taken_from_the_suffix():
    assert format_of("a.geojson") == "geojson" and format_of("a.json") == "geojson"
    assert format_of("a.zip") == "shp" and format_of("a.XLSX") == "xlsx"
    assert format_of("a.txt", "csv") == "csv"


def test_cli_export_and_its_refusals(sample_register_path, tmp_path):
    reg = sample_register_path
    out = tmp_path / "overdue.csv"
    code, stdout, err = run(
        "--register", reg, "export", "risks", "-o", out, "--overdue", "--on", SAMPLE_DAY
    )
    assert code == 0, err
    assert stdout.strip() == f"exported 10 risks to {out}"
    code, stdout, err = run("--register", reg, "export", "segments", "-o", tmp_path / "s.zip")
    assert code == 0, err
    assert stdout.startswith("exported 10 segments")
    code, stdout, err = run(
        "--register", reg, "export", "risks", "-o", tmp_path / "台账.xlsx", lang="zh"
    )
    assert code == 0 and stdout.startswith("已导出隐患 48 条到")
    # the filters are for risks only; a file needs a known format
    code, stdout, err = run(
        "--register", reg, "export", "segments", "-o", tmp_path / "x.csv", "--status", "open"
    )
    assert code == 2 and "the risk filters apply only to" in err
    code, stdout, err = run("--register", reg, "export", "risks", "-o", tmp_path / "x.dat")
    assert code == 1 and stdout == ""
    assert err.strip() == (
        "linerisk: cannot tell the format of x.dat from its suffix; give one of geojson, gpkg, "
        "shp, csv, xlsx"
    )
    code, stdout, err = run("--register", reg, "export", "risks", "-o", tmp_path / "no" / "x.csv")
    assert code == 1 and err.strip() == f"linerisk: folder {tmp_path / 'no'} does not exist"
    assert not (tmp_path / "no").exists()


def test_export_replaces_a_file_whole(sample_register, tmp_path):
    out = tmp_path / "r.gpkg"
    export_layer(sample_register, "risks", out)
    export_layer(sample_register, "risks", out, filters={"status": "cleared"})
    assert len(read_source(out)) == 18
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.gpkg", "register.gpkg"]


@pytest.fixture(params=["by id", "whole log"])
def events_read(request, monkeypatch):
    """Both ways an export reads its risks' events: by id through the log's
    index (a station's export) and the whole log once (a large share of it)."""
    import linerisk.io.export

    if request.param == "whole log":
        monkeypatch.setattr(linerisk.io.export, "_EVENTS_BY_ID", 0)


def test_withdraw_reasons_and_rectification_dates_either_way(sample_register, events_read):
    from linerisk.io.export import risk_export_records

    reg = sample_register
    risks = reg.risks()
    records = risk_export_records(reg, risks, reg.end_of_day("2026-11-25"))
    by_id = {r.id: r for r in risks}
    withdrawn = [rec for rec in records if by_id[rec["id"]].status.value == "withdrawn"]
    assert withdrawn and all(rec["reason"] for rec in withdrawn)
    for rec in withdrawn:
        (last,) = [e for e in reg.history(rec["id"]) if e.action.value == "withdraw"]
        assert rec["reason"] == last.data["reason"]
    waiting = [rec for rec in records if by_id[rec["id"]].status.value == "awaiting_recheck"]
    assert waiting and all(rec["rectified_at"] for rec in waiting)


def test_the_rectification_date_is_the_last_submission_still_standing(empty_register, events_read):
    """An export's rectification date (整改完成日期) is when the risk was last
    submitted for re-inspection; a failed re-inspection (rework) takes it back,
    and the next submission sets it again."""
    import datetime as dt

    from linerisk.io.export import risk_export_records

    reg = empty_register
    tz = dt.timezone(dt.timedelta(hours=8))
    day = dt.datetime(2026, 11, 2, 9, 0, tzinfo=tz)
    risk = reg.add_risk(
        category="garbage", severity="general", found_by="王磊", found_at=day,
        line="JD", chainage="K5+000", side="left", offset=30,
    )  # fmt: skip
    reg.assign(risk.id, by="王磊", at=day + dt.timedelta(hours=1))
    reg.start(risk.id, by="刘敏", at=day + dt.timedelta(hours=2))

    def rectified_at() -> str | None:
        return risk_export_records(reg, [reg.get(risk.id)], day)[0]["rectified_at"]

    assert rectified_at() is None
    reg.submit(risk.id, by="刘敏", at=day + dt.timedelta(days=1))
    assert rectified_at() == "2026-11-03T09:00:00+08:00"
    reg.rework(risk.id, by="王磊", at=day + dt.timedelta(days=2), note="垃圾未清运完")
    assert rectified_at() is None
    reg.submit(risk.id, by="刘敏", at=day + dt.timedelta(days=3))
    assert rectified_at() == "2026-11-05T09:00:00+08:00"
