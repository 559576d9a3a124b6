"""The joint-meeting agenda (issue 5): what each party leads, what is overdue, what was
cleared and what changed in the period, the ground nobody answers for, and the four
renderings, all on real sample registers."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter

import pytest
from click.testing import CliRunner

from linerisk.cli import cli, main
from linerisk.errors import LineriskError
from linerisk.maps.agenda import (
    agenda_csv,
    agenda_html,
    agenda_markdown,
    build_agenda,
    write_agenda,
    write_agenda_xlsx,
)
from linerisk.maps.scope import resolve_scope
from linerisk.model import Side, Status, Vertical
from linerisk.patrol import set_patrol

#: the day the sample data was cut (as in conftest)
SAMPLE_DAY = "2026-11-25"

#: fence gaps of the sample line (geodata/README.md): (side, range, nominal length)
SAMPLE_FENCE_GAPS = {
    ("left", "K7+420-K7+480", 60),
    ("right", "K7+420-K7+480", 60),
    ("right", "K9+100-K9+320", 220),
    ("left", "K14+800-K14+980", 180),
    ("right", "K14+830-K15+030", 200),
    ("right", "K17+100-K17+170", 70),
    ("left", "K17+700-K17+820", 120),
    ("left", "K20+900-K20+990", 90),
    ("right", "K21+500-K21+620", 120),
}
DAMAGED_FENCES = {
    "JD-FL02", "JD-FL08", "JD-FL21", "JD-FL26", "JD-FR03", "JD-FR08", "JD-FR10", "JD-FR21",
}  # fmt: skip
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _counts(agenda) -> dict[tuple[Vertical, str | None], tuple[int, int, int]]:
    return {(p.vertical, p.party): (p.open, p.overdue, p.cleared) for p in agenda.parties}


def _independent(reg, scope, on: str, since: str) -> Counter:
    """Open, overdue and cleared-in-period counts per lead party, straight from
    ``register.risks()``."""
    on_at, since_at = reg.end_of_day(on), reg.start_of_day(since)
    counts: dict = {}
    for r in scope.select(reg.risks()):
        c = counts.setdefault((r.lead, r.lead_party), [0, 0, 0])
        if r.is_open:
            c[0] += 1
            c[1] += r.is_overdue(on_at)
        elif r.status is Status.CLEARED and since_at <= r.cleared_at <= on_at:
            c[2] += 1
    return {k: tuple(v) for k, v in counts.items() if any(v)}


def _ids(items) -> set[str]:
    return {i.ref for i in items}


# ----------------------------------------------------------------------------- counts, order


@pytest.mark.parametrize("since", ["2026-10-26", "2026-09-01"])
def test_counts_per_party_match_the_register(sample_register, since):
    reg = sample_register
    scope = resolve_scope(reg.network)
    agenda = build_agenda(reg, scope, on=SAMPLE_DAY, since=since)
    counts = _counts(agenda)
    assert {k: v for k, v in counts.items() if any(v)} == _independent(
        reg, scope, SAMPLE_DAY, since
    )
    # The register's own summary agrees for the whole line.
    summary = {
        (s.vertical, s.party): (s.open, s.overdue, s.cleared)
        for s in reg.summary(on=SAMPLE_DAY, since=since)
    }
    assert {k: v for k, v in summary.items() if any(v)} == {
        k: v for k, v in counts.items() if any(v)
    }
    assert agenda.totals[:2] == (26, 10)
    # Parties with nothing open still get a line: every one answering for ground.
    assert counts[(Vertical.LOCAL, "大王庄街道")] == (0, 0, 0)
    # The uncovered ground (S025 in the police gap) is a party of its own, not dropped.
    assert counts[(Vertical.POLICE, None)] == (1, 1, 0)
    # The counts open the Markdown, before the first vertical.
    md = agenda_markdown(agenda)
    top = md.split("\n## 公安", 1)[0]
    for p in agenda.parties:
        row = (
            f"| {p.vertical.label('zh')} | {p.name('zh')} | {p.open} | {p.overdue} | {p.cleared} |"
        )
        assert row in top


def test_overdue_items_come_first_within_a_party(sample_register):
    agenda = build_agenda(sample_register, on=SAMPLE_DAY)
    mixed = 0
    for party in agenda.parties:
        flags = [i.overdue for i in party.open_items]
        assert flags == sorted(flags, reverse=True), party.party
        mixed += len(set(flags)) == 2
        overdue = [i for i in party.open_items if i.overdue]
        assert [i.deadline for i in overdue] == sorted(i.deadline for i in overdue)
        assert all(i.is_open for i in party.open_items)
        assert all(i.status is Status.CLEARED for i in party.cleared_items)
    assert mixed >= 3
    lead = agenda.party("local", "新立街道")
    assert [i.ref for i in lead.open_items[:2]] == ["S022", "S026"]
    assert lead.open_items[0].days_overdue == 65


def test_cleared_since_respects_the_period(sample_register):
    reg = sample_register
    cleared = lambda a: _ids(i for p in a.parties for i in p.cleared_items)  # noqa: E731
    # Default period: the 30 days up to --on (S042 10-27, S012 10-30, S028 11-15).
    assert cleared(build_agenda(reg, on=SAMPLE_DAY)) == {"S012", "S028", "S042"}
    assert cleared(build_agenda(reg, on=SAMPLE_DAY, since="2026-10-27")) == {
        "S012",
        "S028",
        "S042",
    }
    assert cleared(build_agenda(reg, on=SAMPLE_DAY, since="2026-10-28")) == {"S012", "S028"}
    assert cleared(build_agenda(reg, on=SAMPLE_DAY, since="2026-11-16")) == set()
    agenda = build_agenda(reg, on=SAMPLE_DAY, since="2026-10-28")
    assert "2026-10-28 以来销号" in agenda_markdown(agenda)
    with pytest.raises(LineriskError, match="since"):
        build_agenda(reg, on=SAMPLE_DAY, since="2026-12-01")


def test_an_earlier_as_of_day_shows_the_state_recorded_then(sample_register):
    reg = sample_register
    # S012 was cleared on 30 October: on the 29th it was still open, and S048
    # (found in November) was not yet in the register.
    agenda = build_agenda(reg, on="2026-10-29")
    items = {i.ref: i for i in agenda.items}
    assert items["S012"].is_open
    assert items["S012"].last_event.at <= reg.end_of_day("2026-10-29")
    assert "S048" not in items
    # S033 was cleared on 8 November and reopened on the 19th with a fresh deadline.
    before = {i.ref: i for i in build_agenda(reg, on="2026-11-10").items}
    assert before["S033"].status is Status.CLEARED
    assert before["S033"].cleared_at.date().isoformat() == "2026-11-08"
    assert before["S033"].deadline.date().isoformat() == "2026-11-21"
    now = {i.ref: i for i in build_agenda(reg, on=SAMPLE_DAY).items}
    risks = {r.ref: r for r in reg.risks()}
    for ref, item in now.items():
        assert item.status is risks[ref].status
        assert item.deadline == risks[ref].deadline


# ----------------------------------------------------------------------------- patrols, gaps


def test_patrol_changes_appear_in_their_period_only(sample_register):
    reg = sample_register
    set_patrol(
        reg,
        line="JD",
        start="K5+000",
        end="K6+000",
        per_week=14,
        by="天津工务段",
        reason="张贵庄段垃圾堆积超期未清",
        at="2026-11-20T09:00:00+08:00",
    )
    agenda = build_agenda(reg, on=SAMPLE_DAY)
    # One change per segment touched (JD-02 up to K5+600, then JD-03).
    assert [p.range_label for p in agenda.patrol_changes] == ["K5+000-K5+600", "K5+600-K6+000"]
    assert [(p.change.old_per_week, p.change.new_per_week) for p in agenda.patrol_changes] == [
        (12.0, 14.0),
        (7.0, 14.0),
    ]
    assert "张贵庄段垃圾堆积超期未清" in agenda_markdown(agenda)
    assert "12 → 14" in agenda_html(agenda)
    # Not before it was made, not when the period starts after it.
    assert build_agenda(reg, on="2026-11-19").patrol_changes == ()
    assert build_agenda(reg, on=SAMPLE_DAY, since="2026-11-21").patrol_changes == ()
    # Only where it overlaps the scope.
    here = resolve_scope(reg.network, police="天津站派出所")
    there = resolve_scope(reg.network, police="军粮城站派出所")
    assert len(build_agenda(reg, here, on=SAMPLE_DAY).patrol_changes) == 2
    assert build_agenda(reg, there, on=SAMPLE_DAY).patrol_changes == ()


def test_the_police_coverage_gap_is_listed(sample_register):
    agenda = build_agenda(sample_register, on=SAMPLE_DAY)
    (gap,) = agenda.coverage_gaps
    assert (gap.vertical, gap.line, gap.label) == (Vertical.POLICE, "JD", "K11+000-K11+300")
    assert gap.length_m == pytest.approx(300, abs=3)
    assert "| 无派出所辖区 | JD | K11+000-K11+300 |" in agenda_markdown(agenda)
    # A scope beside the gap has none.
    scope = resolve_scope(sample_register.network, line="JD", start="K5+000", end="K8+000")
    assert build_agenda(sample_register, scope, on=SAMPLE_DAY).coverage_gaps == ()


def test_fence_gaps_and_damaged_fence_with_their_lengths(sample_register):
    agenda = build_agenda(sample_register, on=SAMPLE_DAY)
    found = {(g.side.value, g.label, g.length_m) for g in agenda.fence_gaps}
    assert {(s, r) for s, r, _ in found} == {(s, r) for s, r, _ in SAMPLE_FENCE_GAPS}
    nominal = {(s, r): n for s, r, n in SAMPLE_FENCE_GAPS}
    for side, rng, length in found:
        assert length == pytest.approx(nominal[(side, rng)], abs=2)
    assert {d.id for d in agenda.damaged_fences} == DAMAGED_FENCES
    assert all(300 <= d.length_m <= 1200 for d in agenda.damaged_fences)
    md = agenda_markdown(agenda)
    assert "| JD | 右侧 | K9+100-K9+320 | 221 |" in md
    # Only gaps longer than the threshold.
    wide = build_agenda(sample_register, on=SAMPLE_DAY, min_fence_gap_m=100)
    assert {g.label for g in wide.fence_gaps} == {r for _s, r, n in SAMPLE_FENCE_GAPS if n > 100}
    # Clipped to the scope: K7+000-K8+000 holds the level-crossing gap on both sides
    # and no damaged fence.
    scope = resolve_scope(sample_register.network, line="JD", start="K7+000", end="K8+000")
    small = build_agenda(sample_register, scope, on=SAMPLE_DAY)
    assert {(g.side, g.label) for g in small.fence_gaps} == {
        (Side.LEFT, "K7+420-K7+480"),
        (Side.RIGHT, "K7+420-K7+480"),
    }
    assert small.damaged_fences == ()


# ----------------------------------------------------------------------------- scope


def test_a_police_scope_narrows_the_items(sample_register):
    reg = sample_register
    everything = build_agenda(reg, on=SAMPLE_DAY)
    scope = resolve_scope(reg.network, police="天津站派出所")
    agenda = build_agenda(reg, scope, on=SAMPLE_DAY)
    assert agenda.header.scope_title == "天津站派出所"
    assert _ids(agenda.items) < _ids(everything.items)
    assert [p.party for p in agenda.verticals[0].parties] == ["天津站派出所"]
    assert "S025" not in _ids(agenda.items)  # in the gap, beyond this station's ground
    expected = {
        r.ref
        for r in scope.select(reg.risks())
        if r.is_open or r.ref in _ids(i for p in everything.parties for i in p.cleared_items)
    }
    assert _ids(agenda.items) == expected
    assert {k: v for k, v in _counts(agenda).items() if any(v)} == _independent(
        reg, scope, SAMPLE_DAY, "2026-10-26"
    )
    assert agenda.coverage_gaps == ()


def test_a_neighbourhood_scope_narrows_the_items(sample_register):
    reg = sample_register
    scope = resolve_scope(reg.network, neighbourhood="张贵庄街道")
    agenda = build_agenda(reg, scope, on=SAMPLE_DAY)
    local = agenda.verticals[2].parties
    assert [p.party for p in local] == ["张贵庄街道"]
    assert _ids(local[0].open_items) == {"S008", "S010", "S014"}
    assert all(i.risk.parties.street_office == "张贵庄街道" for i in agenda.items)
    assert len(agenda.items) < len(build_agenda(reg, on=SAMPLE_DAY).items)


def test_unknown_names_are_refused(sample_register):
    with pytest.raises(LineriskError, match="no police area is called"):
        resolve_scope(sample_register.network, police="不存在派出所")
    with pytest.raises(LineriskError, match="language"):
        build_agenda(sample_register, lang="fr")


# ----------------------------------------------------------------------------- renderings


def test_header_and_footer_anchor_the_audit_log(sample_register):
    reg = sample_register
    head = reg.store.get_meta("events_head")
    agenda = build_agenda(reg, on=SAMPLE_DAY)
    assert agenda.header.chain_seq == head["seq"]
    assert agenda.header.chain_hash == head["hash"][:16]
    anchor = f"第 {head['seq']} 条 {head['hash'][:16]}"
    md, html = agenda_markdown(agenda), agenda_html(agenda)
    for text in (md, html):
        assert text.count(anchor) >= 2  # header and footer
        assert "津东线 K2+350-K22+637" in text
        assert SAMPLE_DAY in text
    footer = html.split('<footer class="lr-footer">', 1)[1]
    assert anchor in footer and SAMPLE_DAY in footer


def test_html_is_offline_printable_and_chinese(sample_register):
    html = agenda_html(build_agenda(sample_register, on=SAMPLE_DAY))
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert '<html lang="zh-CN">' in html
    assert "Noto Sans CJK SC" in html and "Microsoft YaHei" in html
    # Nothing is loaded from anywhere: no external scripts, styles, fonts or images.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "<script" not in html
    # Printable: A4, a page break before every vertical, table headers repeat.
    assert "size:A4" in html
    assert html.count('class="lr-vertical lr-pagebreak"') == 3
    assert "thead{display:table-header-group}" in html
    assert html.count("<thead>") == html.count("<table")
    assert "公安" in html and "铁路" in html and "地方" in html


def test_user_text_is_escaped_everywhere(sample_register):
    reg = sample_register
    risk = reg.add_risk(
        category="garbage",
        severity="general",
        line="JD",
        chainage="K5+300",
        side="left",
        offset=40,
        found_by="天津站派出所 <b>王磊</b>",
        found_at="2026-11-20T10:00:00+08:00",
        description=f"{IMG} 垃圾 | 堆积 *多* [链接](http://x)",
        note=SCRIPT,
    )
    reg.assign(risk.id, by="天津站派出所 王磊", note=f"交办 {SCRIPT}", at="2026-11-21T09:00+08:00")
    agenda = build_agenda(reg, on=SAMPLE_DAY)
    html = agenda_html(agenda)
    assert "<script" not in html and "<img" not in html and "<b>王磊" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    md = agenda_markdown(agenda)
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "垃圾 \\| 堆积 \\*多\\* \\[链接\\](http://x)" in md
    # Every table row has as many cells as its header: no pipe broke out of a cell.
    cells = None
    for line in md.splitlines():
        if not line.startswith("|"):
            cells = None
            continue
        n = len(re.findall(r"(?<!\\)\|", line))
        cells = cells or n
        assert n == cells, line
    # CSV and XLSX keep the text as text.
    rows = list(csv.DictReader(io.StringIO(agenda_csv(agenda))))
    (row,) = [r for r in rows if r["编号"] == str(risk.id)]
    assert row["备注"] == SCRIPT


def test_formulas_stay_text_in_csv_and_xlsx(sample_register, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    reg = sample_register
    risk = reg.add_risk(
        category="garbage",
        severity="general",
        line="JD",
        chainage="K5+300",
        side="left",
        offset=40,
        found_by="天津站派出所 王磊",
        found_at="2026-11-20T10:00:00+08:00",
        note='=HYPERLINK("http://x","y")',
    )
    agenda = build_agenda(reg, on=SAMPLE_DAY)
    rows = list(csv.DictReader(io.StringIO(agenda_csv(agenda))))
    (row,) = [r for r in rows if r["编号"] == str(risk.id)]
    assert row["备注"] == "'" + risk.note
    path = write_agenda_xlsx(agenda, tmp_path / "a.xlsx")
    sheet = openpyxl.load_workbook(path)["地方"]
    heads = [c.value for c in sheet[1]]
    col = heads.index("备注") + 1
    notes = [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]
    (cell,) = [c for c in notes if c.value == risk.note]
    assert cell.data_type == "s"


def test_every_format_is_written(sample_register, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    agenda = build_agenda(sample_register, on=SAMPLE_DAY)
    paths = {fmt: write_agenda(agenda, tmp_path / f"agenda.{fmt}") for fmt in ("md", "html")}
    paths["csv"] = write_agenda(agenda, tmp_path / "agenda.csv")
    paths["xlsx"] = write_agenda(agenda, tmp_path / "agenda.xlsx")
    assert paths["md"].read_text(encoding="utf-8") == agenda_markdown(agenda)
    assert paths["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob("*.part"))
    # CSV: one row per item, with its section columns first.
    rows = list(csv.reader(io.StringIO(paths["csv"].read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["条线", "单位", "栏目", "编号"]
    assert len(rows) - 1 == len(agenda.items)
    assert [int(r[3]) for r in rows[1:]] == [i.id for i in agenda.items]
    assert Counter(r[2] for r in rows[1:]) == {"在办": 26, "期内销号": 3}
    # XLSX: a summary sheet and one sheet per vertical, Chinese headers.
    book = openpyxl.load_workbook(paths["xlsx"])
    assert book.sheetnames == ["汇总", "公安", "铁路", "地方"]
    summary = book["汇总"]
    assert summary["A1"].value == agenda.header.title
    values = [c.value for row in summary.iter_rows() for c in row if c.value is not None]
    assert "各单位统计" in values and "K11+000-K11+300" in values
    for section in agenda.verticals:
        sheet = book[section.vertical.label("zh")]
        heads = [c.value for c in sheet[1]]
        assert heads[:4] == ["单位", "栏目", "编号", "原编号"]
        assert "整改期限" in heads and "最近处置人" in heads
        n_items = sum(p.open + p.cleared for p in section.parties)
        assert sheet.max_row - 1 == n_items


def test_english_labels(sample_register, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    agenda = build_agenda(sample_register, on=SAMPLE_DAY, lang="en")
    md = agenda_markdown(agenda)
    assert md.startswith("# Joint meeting agenda · Jindong Line K2+350-K22+637")
    for text in (
        "## Counts per party",
        "## police",
        "## railway",
        "## local government",
        "#### Open items (overdue first)",
        "Cleared since 2026-10-26",
        "not covered (no police station)",
        "Coverage gaps",
        "Fence gaps longer than 50 m",
        "left",
        "days overdue",
        "audit chain",
    ):
        assert text in md, text
    # Labels are English; names (parties, people, descriptions) stay as registered.
    top = md.split("\n## police", 1)[0]
    assert "| local government | 张贵庄街道 | 3 | 1 | 1 |" in top
    assert not re.search(r"[\u4e00-\u9fff]", top.split("\n## Counts per party", 1)[0])
    html = agenda_html(agenda)
    assert '<html lang="en">' in html and "Counts per party" in html
    rows = list(csv.reader(io.StringIO(agenda_csv(agenda))))
    assert rows[0][:4] == ["vertical", "party", "section", "id"]
    book = openpyxl.load_workbook(write_agenda_xlsx(agenda, tmp_path / "en.xlsx"))
    assert book.sheetnames == ["Summary", "police", "railway", "local government"]
    zh = agenda_markdown(build_agenda(sample_register, on=SAMPLE_DAY))
    assert zh.startswith("# 联席会议议程 · 津东线 K2+350-K22+637")
    assert "## 各单位统计" in zh and "#### 在办隐患（超期在前）" in zh


# ----------------------------------------------------------------------------- CLI


def _ok(*args: object) -> str:
    result = CliRunner().invoke(
        cli, [str(a) for a in args], catch_exceptions=False, prog_name="linerisk"
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _refused(*args: object) -> str:
    with CliRunner().isolation(env={"LINERISK_LANG": "en"}) as (out, err, _mixed):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        sys.stdout.flush()
        sys.stderr.flush()
        assert exc.value.code == 1
        assert out.getvalue() == b""
        return err.getvalue().decode()


def test_cli_writes_each_format(sample_register_path, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    reg = ("--register", sample_register_path)
    md = _ok(*reg, "agenda", "--police", "天津站派出所", "--on", SAMPLE_DAY)
    assert md.startswith("# 联席会议议程 · 天津站派出所")
    assert "| 地方 | 张贵庄街道 | 3 | 1 | 1 |" in md
    out = tmp_path / "议程.html"
    text = _ok(
        *reg,
        "agenda",
        "--line",
        "JD",
        "--from",
        "K5+000",
        "--to",
        "K12+000",
        "--on",
        SAMPLE_DAY,
        "-o",
        out,
    )
    assert text.strip() == f"已写入 {out}"
    html = out.read_text(encoding="utf-8")
    assert "津东线 K5+000-K12+000" in html and "K11+000-K11+300" in html
    csv_path = tmp_path / "agenda.csv"
    _ok(
        *reg,
        "--lang",
        "en",
        "agenda",
        "--neighbourhood",
        "张贵庄街道",
        "--since",
        "2026-11-01",
        "--on",
        SAMPLE_DAY,
        "-o",
        csv_path,
    )
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert {r["ref"] for r in rows if r["vertical"] == "local government"} == {
        "S008",
        "S010",
        "S014",
    }
    assert {r["section"] for r in rows} == {"open"}  # S012 was cleared before --since
    xlsx = tmp_path / "agenda.xlsx"
    _ok(*reg, "agenda", "--on", SAMPLE_DAY, "-o", xlsx)
    assert openpyxl.load_workbook(xlsx).sheetnames == ["汇总", "公安", "铁路", "地方"]
    # --format wins over the suffix, and CSV prints to the terminal too.
    printed = _ok(*reg, "agenda", "--on", SAMPLE_DAY, "--format", "csv", "--lang", "en")
    assert printed.splitlines()[0].startswith("vertical,party,section,id")
    other = tmp_path / "agenda.txt"
    _ok(*reg, "-q", "agenda", "--on", SAMPLE_DAY, "--format", "html", "-o", other)
    assert other.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_refusals_are_one_sentence(sample_register_path, tmp_path):
    reg = ("--register", sample_register_path)
    err = _refused(*reg, "agenda", "--police", "不存在派出所")
    assert err.startswith("linerisk: no police area is called '不存在派出所'")
    assert len(err.splitlines()) == 1
    err = _refused(*reg, "agenda", "--format", "xlsx")
    assert err.strip() == "linerisk: XLSX is a binary format: give the file to write with -o"
    err = _refused(*reg, "agenda", "--on", SAMPLE_DAY, "--since", "2026-12-01")
    assert "since" in err and len(err.splitlines()) == 1
    assert not list(tmp_path.glob("*.part"))
