"""The ``linerisk`` command line, driven as a user drives it.

Successful commands run in process through click's CliRunner; errors run
through ``linerisk.cli.main`` (the console entry point, which turns user
errors into one line on stderr); a few checks start a real process.
Every command works on a fresh copy of the sample register.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from linerisk.cli import COMMANDS, cli, main
from linerisk.cli.output import HEADERS
from linerisk.cli.records import RISK_TABLE_COLUMNS

#: the day the sample data was cut (as in conftest)
SAMPLE_DAY = "2026-11-25"
OFFICER = "天津站派出所 王磊"
STREET = "张贵庄街道 综治办 刘敏"
SAMPLE_RISKS = 48
NEW_ID = SAMPLE_RISKS + 1

#: the keys every risk record in JSON carries (issue 4)
RISK_KEYS = {
    "id",
    "category",
    "severity",
    "status",
    "line",
    "chainage",
    "chainage_m",
    "side",
    "offset_m",
    "zone",
    "works_section",
    "workshop",
    "work_area",
    "police",
    "district",
    "street_office",
    "community",
    "lead_party",
    "found_at",
    "found_by",
    "deadline",
    "overdue",
    "lon",
    "lat",
    "note",
}
OPEN = {"reported", "assigned", "rectifying", "awaiting_recheck"}
PARTY_FIELDS = (
    "police",
    "works_section",
    "workshop",
    "work_area",
    "district",
    "street_office",
    "community",
)


@pytest.fixture
def reg(sample_register_path) -> Path:
    return sample_register_path


# ----------------------------------------------------------------------------- helpers


class Run(NamedTuple):
    code: int
    out: str
    err: str


def ok(*args: object, env: dict[str, str] | None = None) -> str:
    """Run a command that must succeed; return its stdout."""
    result = CliRunner().invoke(
        cli, [str(a) for a in args], env=env, catch_exceptions=False, prog_name="linerisk"
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def okj(*args: object, env: dict[str, str] | None = None):
    """Run a command with ``--format json`` and parse what it prints."""
    return json.loads(ok(*args, "--format", "json", env=env))


def run(*args: object, env: dict[str, str] | None = None) -> Run:
    """Run through the console entry point, as the installed ``linerisk`` does.

    Messages are asked for in English (LINERISK_LANG=en) unless ``env`` says otherwise;
    the Chinese wording is tested separately.
    """
    runner = CliRunner()
    env = {"LINERISK_LANG": "en", **(env or {})}
    with runner.isolation(env=env) as (out, err, _mixed):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()
        sys.stderr.flush()
        return Run(code, out.getvalue().decode(), err.getvalue().decode())


def assert_user_error(result: Run, needle: str) -> None:
    """Exit 1, nothing on stdout, one sentence on stderr, no traceback."""
    assert result.code == 1, result
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("linerisk: ")
    assert needle in lines[0]
    assert "Traceback" not in result.err


def snapshot(path: Path) -> tuple[list[str], bytes, str]:
    """Files next to the register, its bytes, and a dump of every table."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    return sorted(p.name for p in path.parent.iterdir()), path.read_bytes(), dump


def rows_of_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def add_by_chainage(reg: Path, *extra: object, at: str = "K6+100", category="轻质飘浮物"):
    return okj(
        "--register",
        reg,
        "risk",
        "add",
        "--line",
        "JD",
        "--at",
        at,
        "--side",
        "left",
        "--offset",
        "40",
        "--category",
        category,
        "--severity",
        "较大",
        "--by",
        OFFICER,
        "--found-at",
        "2026-11-26T09:30+08:00",
        *extra,
    )[0]


# ----------------------------------------------------------------------------- entry point


def test_entry_points_in_a_real_process(tmp_path):
    exe = Path(sys.executable).with_name("linerisk")
    assert exe.exists()

    def proc(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
        )

    for argv in ([str(exe), "--help"], [sys.executable, "-m", "linerisk", "--help"]):
        done = proc(*argv)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Usage: linerisk")
        for name in COMMANDS:
            assert f"  {name} " in done.stdout
    done = proc(str(exe), "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"linerisk, version {version('linerisk')}"

    missing = tmp_path / "missing.gpkg"
    done = proc(str(exe), "--lang", "en", "--register", str(missing), "risk", "list")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [f"linerisk: register {missing} does not exist"]
    assert not missing.exists()

    done = proc(str(exe), "--debug", "--register", str(missing), "risk", "list")
    assert done.returncode == 1
    assert "Traceback" in done.stderr

    done = proc(str(exe), "risk", "show", "not-a-number")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


#: modules a command touching one risk or one range must not load (issue 4, speed)
HEAVY_MODULES = (
    "geopandas",
    "pandas",
    "folium",
    "pyproj",
    "pyogrio",
    "concurrent.futures",
    "numpy.ma",  # np.median imports it: 40 ms
)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(
            (
                "risk",
                "add",
                *("--line", "JD", "--at", "K6+432", "--side", "left", "--offset", "44"),
                *("--category", "garbage", "--force"),
            ),
            id="add-by-chainage",
        ),
        pytest.param(
            ("risk", "add", "--lon", "117.3", "--lat", "39.112", "--category", "cable_theft"),
            id="add-by-lonlat",
        ),
        pytest.param(("risk", "show", "7"), id="show"),
        pytest.param(("risk", "reopen", "3", "--note", "复查发现复发"), id="transition"),
        pytest.param(
            (
                "patrol",
                "set",
                *("--line", "JD", "--from", "K5+800", "--to", "K6+500", "--per-week", "14"),
                *("--by", "张贵庄线路工区 韩卫东"),
            ),
            id="patrol-set",
        ),
    ],
)
def test_single_risk_commands_stay_light(sample_register_path, argv):
    """Interactive commands import neither geopandas/folium nor pyproj (issue 4)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linerisk", "--lang", "en", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("LINERISK_")},
            "LINERISK_REGISTER": str(sample_register_path),
            "LINERISK_BY": "张贵庄线路工区 韩卫东",
        },
    )
    assert done.returncode == 0, done.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "linerisk.register" in imported
    assert sorted(m for m in HEAVY_MODULES if m in imported) == []


def test_attrs_converters_are_python_functions():
    """A built-in converter (``float``) makes attrs parse its text signature,
    which compiles the tokenizer's regular expressions at every start-up."""
    import importlib
    import pkgutil
    import types

    import attrs

    import linerisk

    checked = 0
    for info in pkgutil.walk_packages(linerisk.__path__, "linerisk."):
        if info.name in ("linerisk.__main__", "linerisk.io.osm"):
            continue  # runs the command line / needs the optional osmium extra
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and attrs.has(obj)) or obj.__module__ != info.name:
                continue
            for field in attrs.fields(obj):
                if field.converter is not None:
                    checked += 1
                    conv = getattr(field.converter, "converter", field.converter)
                    assert not isinstance(conv, (type, types.BuiltinFunctionType)), (
                        f"{obj.__name__}.{field.name}"
                    )
    assert checked > 20


def _all_commands() -> list[tuple[str, ...]]:
    import click

    paths: list[tuple[str, ...]] = []
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        paths.append((name,))
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in command.commands]
    return paths


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_every_command_has_help(path):
    text = ok(*path, "--help")
    assert text.startswith(f"Usage: linerisk {' '.join(path)}")
    assert "--help" in text


def test_every_documented_command_exists():
    wanted = {
        ("init",),
        ("demo",),
        ("stats",),
        ("verify",),
        *[("risk", c) for c in ("add", "list", "show", "assign", "start", "submit")],
        *[("risk", c) for c in ("clear", "withdraw", "reopen", "move")],
        *[("patrol", c) for c in ("set", "list", "history", "advise")],
        ("config", "show"),
        ("config", "set"),
    }
    assert wanted <= set(_all_commands())


def test_no_register_is_a_usage_error():
    result = run("risk", "list")
    assert result.code == 2
    assert "LINERISK_REGISTER" in result.err


def test_register_from_the_environment(reg):
    records = json.loads(ok("risk", "list", env={"LINERISK_REGISTER": str(reg)}))
    assert len(records) == SAMPLE_RISKS


def test_debug_shows_the_exception(reg):
    from linerisk.errors import UnknownRiskError

    with pytest.raises(UnknownRiskError):
        main(["--debug", "--register", str(reg), "risk", "show", "999"])


# ----------------------------------------------------------------------------- init, demo


def test_init_from_layer_files(tmp_path):
    from linerisk.sample import sample_dir

    path = tmp_path / "new.gpkg"
    text = ok("init", path, "--from", sample_dir())
    assert "区段 10 个" in text
    assert f"台账已创建：{path}（EPSG:4548）" in text
    assert okj("--register", path, "risk", "list") == []
    assert len(okj("--register", path, "patrol", "list")) == 10
    again = run("init", path, "--from", sample_dir())
    assert_user_error(again, "already exists")


def test_init_empty_with_crs(tmp_path):
    path = tmp_path / "empty.gpkg"
    assert ok("--lang", "en", "init", path, "--crs", "EPSG:4548").strip() == (
        f"created {path} (EPSG:4548)"
    )
    assert ok("--register", path, "--lang", "en", "risk", "list", "--format", "table") == (
        "(none)\n"
    )
    settings = json.loads(ok("--register", path, "config", "show"))
    assert settings["lang"] == "zh"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "needs a metric CRS"),
        (("--crs", "EPSG:4326"), "must be projected"),
        (("--crs", "FOO"), "unknown coordinate reference system"),
    ],
)
def test_init_refusals_leave_no_file(tmp_path, args, needle):
    path = tmp_path / "x.gpkg"
    assert_user_error(run("init", path, *args), needle)
    assert list(tmp_path.iterdir()) == []


def test_demo_builds_the_sample_register(tmp_path):
    out = tmp_path / "out"
    text = ok("demo", out, "--on", SAMPLE_DAY)
    target = out / "register.gpkg"
    assert target.exists()
    assert not (out / "register.gpkg.building").exists()
    lines = text.splitlines()
    assert lines[0] == "三纵责任分段"
    assert lines[1] == "津东线（JD）K2+350—K22+637"
    assert f"隐患统计（截至 {SAMPLE_DAY}）" in lines
    overdue = len(okj("--register", target, "risk", "list", "--overdue", "--on", SAMPLE_DAY))
    assert f"  合计：在办 26，超期 {overdue}，已销号 18" in lines
    assert f"台账已写入 {target}" in lines
    # The uncovered stretch (police gap K11+000-K11+300) is named as such.
    assert any(line.startswith("  K11+000-K11+300") and "公安: 未覆盖" in line for line in lines)

    english = ok("--lang", "en", "demo", out, "--on", SAMPLE_DAY).splitlines()
    assert english[0] == "Responsibility along the line (three verticals)"
    assert f"  Total: 26 open, {overdue} overdue, 18 cleared" in english


# ----------------------------------------------------------------------------- risk add


def test_add_by_chainage_prints_where_it_landed(reg):
    text = ok(
        "--register",
        reg,
        "risk",
        "add",
        "--line",
        "JD",
        "--at",
        "K6+100",
        "--side",
        "left",
        "--offset",
        "40",
        "--category",
        "轻质飘浮物",
        "--severity",
        "major",
        "--by",
        OFFICER,
        "--found-at",
        "2026-11-26T09:30+08:00",
        "--note",
        "大棚薄膜破损",
    )
    assert text.splitlines() == [
        f"隐患 {NEW_ID}  轻质飘浮物 · 较大 · 已登记",
        "  位置: JD K6+100 左侧 距线路中心40米",
        "  距离带: 200米内 (保护区宽 10 米，距路基边缘 32 米)",
        "  公安: 天津站派出所",
        "  铁路: 天津工务段 天津东线路车间 张贵庄线路工区",
        "  地方: 东丽区 张贵庄街道 驯海路社区",
        "  牵头: 地方 张贵庄街道",
        "  整改期限: 2026-12-03T09:30+08:00",
        "  备注: 大棚薄膜破损",
    ]


def test_add_in_english_and_as_json(reg):
    text = ok(
        "--register",
        reg,
        "--lang",
        "en",
        "risk",
        "add",
        "--line",
        "JD",
        "--at",
        "K11+150",
        "--side",
        "right",
        "--offset",
        "12",
        "--category",
        "fence_damage",
        "--severity",
        "critical",
        "--by",
        OFFICER,
        "--found-at",
        "2026-11-26T09:30+08:00",
    )
    lines = text.splitlines()
    assert lines[0] == f"Risk {NEW_ID}  fence damage · critical · reported"
    assert lines[1] == "  where: JD K11+150, right side, 12 m off the track"
    assert "  police: not covered" in lines  # the police coverage gap
    assert "  deadline: 2026-11-27T09:30+08:00" in lines

    rec = add_by_chainage(reg, "--note", "大棚薄膜破损")
    assert set(rec) >= RISK_KEYS
    assert rec["id"] == NEW_ID + 1
    assert rec["category"] == "light_floating_object"  # from the Chinese name
    assert rec["severity"] == "major"  # from 较大
    assert rec["status"] == "reported"
    assert (rec["line"], rec["chainage"], rec["chainage_m"]) == ("JD", "K6+100", 6100.0)
    assert (rec["side"], rec["offset_m"], rec["zone"]) == ("left", 40.0, "within_200m")
    assert rec["street_office"] == rec["lead_party"] == "张贵庄街道"
    assert rec["work_area"] == "张贵庄线路工区"
    assert rec["police"] == "天津站派出所"
    assert rec["found_at"] == "2026-11-26T09:30:00+08:00"
    assert rec["deadline"] == "2026-12-03T09:30:00+08:00"
    assert (rec["found_by"], rec["note"]) == (OFFICER, "大棚薄膜破损")
    assert rec["located_by"] == "chainage"


def test_add_by_coordinates_in_three_crs(reg):
    from pyproj import Transformer

    placed = add_by_chainage(reg, at="K9+100")
    lon, lat = placed["lon"], placed["lat"]
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(lon, lat)
    cases = [
        ("garbage", ()),  # WGS 84 by default
        ("burning", ("--crs", "EPSG:4490")),  # CGCS2000, within centimetres of WGS 84
        ("livestock", ("--crs", "EPSG:4548")),  # Gauss-Krüger x/y
    ]
    for category, crs in cases:
        a, b = (x, y) if "EPSG:4548" in crs else (lon, lat)
        rec = okj(
            "--register",
            reg,
            "risk",
            "add",
            "--lon",
            a,
            "--lat",
            b,
            *crs,
            "--category",
            category,
            "--by",
            OFFICER,
        )[0]
        assert rec["category"] == category
        assert rec["located_by"] == "coordinates"
        assert rec["side"] == "left"
        assert rec["chainage_m"] == pytest.approx(9100.0, abs=0.5)
        assert rec["offset_m"] == pytest.approx(40.0, abs=0.2)
        assert rec["lon"] == pytest.approx(lon, abs=1e-6)
        assert rec["lat"] == pytest.approx(lat, abs=1e-6)


def test_add_refuses_a_likely_duplicate_unless_forced(reg):
    first = add_by_chainage(reg)
    before = snapshot(reg)
    again = run(
        "--register",
        reg,
        "risk",
        "add",
        "--line",
        "JD",
        "--at",
        "K6+110",
        "--side",
        "left",
        "--offset",
        "40",
        "--category",
        "light_floating_object",
        "--by",
        OFFICER,
    )
    assert_user_error(again, f"open risk {first['id']}")
    assert "--force" in again.err
    assert snapshot(reg) == before
    forced = add_by_chainage(reg, "--force", at="K6+110")
    assert forced["id"] == first["id"] + 1


def test_actor_from_linerisk_by(reg):
    result = CliRunner().invoke(
        cli,
        ["--register", str(reg), "risk", "assign", "5", "--format", "json"],
        env={"LINERISK_BY": "天津站派出所 周涛"},
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == "linerisk: recording the change as 天津站派出所 周涛 (LINERISK_BY)\n"
    history = okj("--register", reg, "risk", "show", "5")["history"]
    assert history[-1]["actor"] == "天津站派出所 周涛"


def test_actor_from_the_register_default_or_refused(reg):
    args = ("--register", reg, "risk", "add", "--line", "JD", "--at", "K9+100")
    args += ("--side", "left", "--offset", "30", "--category", "garbage", "--format", "json")
    before = snapshot(reg)
    assert_user_error(run(*args), "who made this change?")
    assert snapshot(reg) == before

    assert ok("--register", reg, "config", "set", "default_actor", OFFICER).strip() == (
        f'{{"default_actor": "{OFFICER}"}}'
    )
    result = run(*args)
    assert result.code == 0
    assert result.err == f"linerisk: recording the change as {OFFICER} (register default)\n"
    assert json.loads(result.out)[0]["found_by"] == OFFICER
    # --by wins over both defaults, silently.
    result = run(*args[:-2], "--by", "军粮城站派出所 李强", "--force", "--format", "json")
    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out)[0]["found_by"] == "军粮城站派出所 李强"


# ----------------------------------------------------------------------------- risk list


def test_list_status_filters(reg):
    everything = okj("--register", reg, "risk", "list")
    assert [r["id"] for r in everything] == list(range(1, SAMPLE_RISKS + 1))
    open_ = okj("--register", reg, "risk", "list", "--status", "open")
    assert {r["status"] for r in open_} == OPEN
    assert len(open_) == sum(r["status"] in OPEN for r in everything) == 26
    closed = okj("--register", reg, "risk", "list", "--status", "cleared", "--status", "已撤销")
    assert Counter(r["status"] for r in closed) == {"cleared": 18, "withdrawn": 4}
    assert_user_error(run("--register", reg, "risk", "list", "--status", "bogus"), "bogus")


def test_list_overdue_on_a_date(reg):
    on_day = okj("--register", reg, "risk", "list", "--overdue", "--on", SAMPLE_DAY)
    assert on_day
    assert all(r["overdue"] and r["status"] in OPEN for r in on_day)
    assert all(r["deadline"] < f"{SAMPLE_DAY}T23:59:59+08:00" for r in on_day)
    # The same answer from the overdue column of the full list, taken on the same day.
    everything = okj("--register", reg, "risk", "list", "--on", SAMPLE_DAY)
    assert [r["id"] for r in on_day] == [r["id"] for r in everything if r["overdue"]]
    assert okj("--register", reg, "risk", "list", "--overdue", "--on", "2026-08-01") == []
    assert_user_error(
        run("--register", reg, "risk", "list", "--overdue", "--on", "2026-13-01"),
        "cannot read date",
    )


def test_list_by_line_range_category_party_since(reg):
    everything = okj("--register", reg, "risk", "list")

    ranged = okj(
        "--register", reg, "risk", "list", "--line", "JD", "--from", "K5+000", "--to", "K7+000"
    )
    expected = [r["id"] for r in everything if 5000 <= r["chainage_m"] <= 7000]
    assert [r["id"] for r in ranged] == expected
    assert len(expected) >= 3

    cats = okj("--register", reg, "risk", "list", "--category", "garbage", "--category", "护网破损")
    assert {r["category"] for r in cats} == {"garbage", "fence_damage"}
    assert len(cats) == sum(r["category"] in ("garbage", "fence_damage") for r in everything)

    for party in ("新立线路工区", "张贵庄街道", "军粮城站派出所"):
        mine = okj("--register", reg, "risk", "list", "--party", party)
        expected = [r["id"] for r in everything if party in [r[f] for f in PARTY_FIELDS]]
        assert [r["id"] for r in mine] == expected
        assert expected

    station = "军粮城站派出所"
    open_here = okj("--register", reg, "risk", "list", "--police", station, "--status", "open")
    expected = [r["id"] for r in everything if r["police"] == station and r["status"] in OPEN]
    assert [r["id"] for r in open_here] == expected
    assert expected

    since = okj("--register", reg, "risk", "list", "--since", "2026-11-01")
    assert [r["id"] for r in since] == [
        r["id"] for r in everything if r["found_at"] >= "2026-11-01T00:00:00+08:00"
    ]


def test_list_unknown_line_and_bad_chainage(reg):
    assert_user_error(run("--register", reg, "risk", "list", "--line", "XX"), "unknown line 'XX'")
    assert_user_error(
        run("--register", reg, "risk", "list", "--line", "JD", "--from", "K5"),
        "malformed chainage 'K5'",
    )


def test_list_json_is_the_default_when_piped(reg):
    piped = json.loads(ok("--register", reg, "risk", "list", "--status", "open"))
    assert piped == okj("--register", reg, "risk", "list", "--status", "open")
    for rec in piped:
        assert set(rec) >= RISK_KEYS
        assert isinstance(rec["overdue"], bool)
        assert rec["side"] in ("left", "right")


def test_list_csv_headers_follow_lang(reg):
    args = ("--register", reg)
    zh = rows_of_csv(ok(*args, "risk", "list", "--status", "open", "--format", "csv"))
    en = rows_of_csv(
        ok(*args, "--lang", "en", "risk", "list", "--status", "open", "--format", "csv")
    )
    assert zh[0] == [HEADERS[c][0] for c in RISK_TABLE_COLUMNS]
    assert zh[0][:4] == ["编号", "类别", "等级", "状态"]
    assert en[0] == [HEADERS[c][1] for c in RISK_TABLE_COLUMNS]
    assert en[0][:4] == ["id", "category", "severity", "status"]
    assert len(zh) == len(en) == 27
    by_id_zh = {row[0]: dict(zip(zh[0], row, strict=True)) for row in zh[1:]}
    by_id_en = {row[0]: dict(zip(en[0], row, strict=True)) for row in en[1:]}
    assert by_id_zh["7"]["类别"] == "护网破损"
    assert by_id_en["7"]["category"] == "fence damage"
    assert (by_id_zh["7"]["侧别"], by_id_en["7"]["side"]) == ("右侧", "right")
    assert (by_id_zh["7"]["状态"], by_id_en["7"]["status"]) == ("待复查", "awaiting re-inspection")
    assert by_id_zh["25"]["牵头单位"] == "未覆盖"
    assert by_id_en["25"]["lead party"] == "not covered"


def test_list_geojson_points_at_lon_lat(reg):
    records = okj("--register", reg, "risk", "list")
    fc = json.loads(ok("--register", reg, "risk", "list", "--format", "geojson"))
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == len(records)
    for feature, rec in zip(fc["features"], records, strict=True):
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]}
        assert feature["properties"]["id"] == rec["id"]
        assert set(feature["properties"]) == set(rec) - {"lon", "lat"}
        # The sample line runs east of Tianjin: lon about 117.2-117.45, lat 39.05-39.15.
        assert 117.2 < rec["lon"] < 117.45
        assert 39.05 < rec["lat"] < 39.15


def test_list_table_labels_follow_lang(reg):
    zh = ok("--register", reg, "risk", "list", "--status", "open", "--format", "table")
    en = ok(
        "--register", reg, "--lang", "en", "risk", "list", "--status", "open", "--format", "table"
    )
    assert zh.splitlines()[0].split() == [HEADERS[c][0] for c in RISK_TABLE_COLUMNS]
    assert en.splitlines()[0].startswith("id  category")
    assert "待复查" in zh and "awaiting re-inspection" not in zh
    assert "awaiting re-inspection" in en and "待复查" not in en
    empty = ("--register", reg, "risk", "list", "--since", "2030-01-01", "--format", "table")
    assert ok(*empty) == "（无）\n"


def test_register_language_setting_is_the_default(reg):
    ok("--register", reg, "config", "set", "lang", "en")
    table = ok("--register", reg, "risk", "list", "--status", "open", "--format", "table")
    assert table.startswith("id  category")
    table = ok("--register", reg, "--lang", "zh", "risk", "list", "--format", "table")
    assert table.startswith("编号")


# ----------------------------------------------------------------------------- risk show


def test_show_record_and_full_history(reg):
    text = ok("--register", reg, "risk", "show", "13")
    lines = text.splitlines()
    assert lines[0] == "隐患 13  垃圾堆积 · 一般 · 已撤销"
    assert "重复登记" in text
    assert any(line.startswith("序号  时间") for line in lines)

    en = ok("--register", reg, "--lang", "en", "risk", "show", "13")
    assert en.splitlines()[0] == "Risk 13  rubbish · general · withdrawn"
    assert "seq  at" in en

    shown = okj("--register", reg, "risk", "show", "13")
    assert set(shown) >= RISK_KEYS
    assert [e["action"] for e in shown["history"]] == ["report", "withdraw"]
    withdraw = shown["history"][-1]
    assert (withdraw["from_status"], withdraw["to_status"]) == ("reported", "withdrawn")
    assert withdraw["reason"] == "duplicate"
    assert set(withdraw) == {
        "seq",
        "at",
        "actor",
        "action",
        "from_status",
        "to_status",
        "note",
        "reason",
        "hash",
    }

    fc = json.loads(ok("--register", reg, "risk", "show", "13", "--format", "geojson"))
    point = fc["features"][0]["geometry"]["coordinates"]
    assert point == [shown["lon"], shown["lat"]]
    rows = rows_of_csv(ok("--register", reg, "risk", "show", "13", "--format", "csv"))
    assert rows[0][0] == "编号" and rows[1][0] == "13"


def test_show_unknown_id(reg):
    assert_user_error(run("--register", reg, "risk", "show", "999"), "no risk with id 999")


# ----------------------------------------------------------------------------- lifecycle


def test_closed_loop_through_the_cli(reg):
    rid = add_by_chainage(reg)["id"]
    steps = [
        ("assign", OFFICER, "2026-11-26T10:00+08:00", "assigned"),
        ("start", STREET, "2026-11-27T09:00+08:00", "rectifying"),
        ("submit", STREET, "2026-11-28T16:00+08:00", "awaiting_recheck"),
        ("rework", OFFICER, "2026-11-28T18:00+08:00", "rectifying"),
        ("submit", STREET, "2026-11-29T08:00+08:00", "awaiting_recheck"),
        ("clear", OFFICER, "2026-11-29T10:00+08:00", "cleared"),
        ("reopen", OFFICER, "2026-12-10T08:00+08:00", "assigned"),
    ]
    for action, actor, at, status in steps:
        rec = okj(
            "--register",
            reg,
            "risk",
            action,
            rid,
            "--by",
            actor,
            "--at",
            at,
            "--note",
            f"{action} note",
        )[0]
        assert rec["status"] == status
        if action == "clear":
            assert rec["cleared_at"] == "2026-11-29T10:00:00+08:00"
    assert rec["cleared_at"] is None
    assert rec["deadline"] == "2026-12-17T08:00:00+08:00"  # a fresh deadline on reopening

    history = okj("--register", reg, "risk", "show", rid)["history"]
    assert [(e["action"], e["actor"], e["at"], e["note"]) for e in history[1:]] == [
        (a, actor, at, f"{a} note") for a, actor, at, _s in steps
    ]
    assert history[0]["actor"] == OFFICER

    withdraw = ("withdraw", rid, "--reason", "not_a_hazard", "--at", "2026-12-11T08:00+08:00")
    withdrawn = okj("--register", reg, "risk", *withdraw, "--by", OFFICER)[0]
    assert withdrawn["status"] == "withdrawn"
    assert okj("--register", reg, "risk", "show", rid)["history"][-1]["reason"] == "not_a_hazard"
    assert "审计链完整" in ok("--register", reg, "verify")


def test_rework_without_a_note_is_refused_in_one_sentence_and_writes_nothing(reg):
    rid = add_by_chainage(reg)["id"]
    for action in ("assign", "start", "submit"):
        okj("--register", reg, "risk", action, rid, "--by", OFFICER)
    before = snapshot(reg)
    assert_user_error(
        run("--register", reg, "--lang", "en", "risk", "rework", rid, "--by", OFFICER),
        "returning a risk for rework needs a note of what the re-inspection found",
    )
    assert_user_error(
        run("--register", reg, "--lang", "zh", "risk", "rework", rid, "--by", OFFICER),
        "退回整改须填写备注",
    )
    assert snapshot(reg) == before
    text = ok(
        "--register", reg, "risk", "rework", rid, "--by", OFFICER, "--note", "护网缺口仍未封堵"
    )
    assert "整改中" in text.splitlines()[0]
    shown = ok("--register", reg, "risk", "show", rid)
    assert "退回整改" in shown and "护网缺口仍未封堵" in shown


def test_rework_can_give_a_new_deadline_and_a_bad_one_writes_nothing(reg):
    rid = add_by_chainage(reg)["id"]
    for action in ("assign", "start", "submit"):
        okj("--register", reg, "risk", action, rid, "--by", OFFICER)
    before = snapshot(reg)
    back = ("risk", "rework", rid, "--by", OFFICER, "--note", "护网缺口仍未封堵")
    assert_user_error(
        run("--register", reg, "--lang", "en", *back, "--deadline", "soon"),
        "cannot read deadline 'soon'; give a day (2026-12-20) or a time",
    )
    assert_user_error(
        run("--register", reg, "--lang", "zh", *back, "--deadline", "2020-01-01"),
        "新的整改期限 2020-01-01T23:59:59+08:00 不晚于退回整改时间",
    )
    other = run(
        "--register",
        reg,
        "risk",
        "withdraw",
        rid,
        "--by",
        OFFICER,
        "--reason",
        "duplicate",
        "--deadline",
        "2099-01-01",
    )
    assert other.code == 2 and "No such option '--deadline'" in other.err
    assert snapshot(reg) == before
    out = okj("--register", reg, *back, "--deadline", "2099-01-31")[0]
    assert (out["status"], out["deadline"]) == ("rectifying", "2099-01-31T23:59:59+08:00")
    last = okj("--register", reg, "risk", "show", rid)["history"][-1]
    assert last["action"] == "rework"
    assert "审计链完整" in ok("--register", reg, "verify")


def test_transition_prints_the_risk(reg):
    text = ok("--register", reg, "--lang", "en", "risk", "assign", "5", "--by", OFFICER)
    assert text.splitlines()[0].startswith("Risk 5 ")
    assert "assigned" in text.splitlines()[0]


def test_refused_transitions_write_nothing(reg):
    before = snapshot(reg)
    # Risk 1 is cleared; clearing it again is refused.
    assert_user_error(
        run("--register", reg, "risk", "clear", "1", "--by", OFFICER), "cannot clear a risk"
    )
    assert_user_error(
        run("--register", reg, "risk", "start", "5", "--by", OFFICER), "cannot start a risk"
    )
    # A change dated before the risk's last event is refused.
    assert_user_error(
        run("--register", reg, "risk", "assign", "5", "--by", OFFICER, "--at", "2020-01-01"),
        "earlier than the risk's last recorded event",
    )
    assert_user_error(
        run("--register", reg, "risk", "assign", "999", "--by", OFFICER), "no risk with id 999"
    )
    # Withdrawing needs a reason: a usage error.
    result = run("--register", reg, "risk", "withdraw", "5", "--by", OFFICER)
    assert result.code == 2
    assert "--reason" in result.err
    assert snapshot(reg) == before


def test_move_recomputes_place_and_parties(reg):
    rid = add_by_chainage(reg)["id"]
    moved = okj(
        "--register",
        reg,
        "risk",
        "move",
        rid,
        "--line",
        "JD",
        "--at",
        "K10+500",
        "--side",
        "right",
        "--offset",
        "25",
        "--by",
        OFFICER,
        "--note",
        "里程记错，更正",
    )[0]
    assert (moved["chainage"], moved["side"], moved["offset_m"]) == ("K10+500", "right", 25.0)
    assert moved["work_area"] == "新立线路工区"
    assert moved["lead_party"] == moved["street_office"] != "张贵庄街道"
    assert moved["status"] == "reported"
    last = okj("--register", reg, "risk", "show", rid)["history"][-1]
    assert (last["action"], last["actor"], last["note"]) == ("move", OFFICER, "里程记错，更正")

    back = okj(
        "--register",
        reg,
        "risk",
        "move",
        rid,
        "--lon",
        moved["lon"],
        "--lat",
        moved["lat"],
        "--by",
        OFFICER,
    )[0]
    assert back["chainage_m"] == pytest.approx(10500, abs=0.5)
    assert back["located_by"] == "coordinates"
    before = snapshot(reg)
    assert_user_error(
        run("--register", reg, "risk", "move", rid, "--lon", "39.1", "--lat", "117.3", "--by", "x"),
        "look swapped",
    )
    assert snapshot(reg) == before


# ----------------------------------------------------------------------------- user errors

ADD = ("risk", "add", "--by", OFFICER)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(
            (*ADD, "--line", "XX", "--at", "K6+100", "--side", "left", "--category", "garbage"),
            "unknown line 'XX'; the register has JD",
            id="unknown-line",
        ),
        pytest.param(
            (*ADD, "--line", "JD", "--at", "K6+1000", "--side", "left", "--category", "garbage"),
            "malformed chainage 'K6+1000'",
            id="malformed-chainage",
        ),
        pytest.param(
            (*ADD, "--line", "JD", "--at", "K11+640", "--side", "left", "--category", "garbage"),
            "K11+640",
            id="chainage-inside-the-short-chain",
        ),
        pytest.param(
            (*ADD, "--line", "JD", "--at", "K6+100", "--side", "left", "--category", "foo"),
            "unknown category 'foo'",
            id="unknown-category",
        ),
        pytest.param(
            (*ADD, "--lon", "117.8", "--lat", "39.3", "--category", "garbage"),
            "m from the nearest line JD",
            id="point-40-km-away",
        ),
        pytest.param(
            (*ADD, "--lon", "39.11", "--lat", "117.30", "--category", "garbage"),
            "longitude and latitude look swapped",
            id="swapped-lon-lat",
        ),
        pytest.param(
            (*ADD, "--lon", "1", "--lat", "2", "--crs", "FOO", "--category", "garbage"),
            "unknown coordinate reference system 'FOO'",
            id="unknown-crs",
        ),
        pytest.param(
            (*ADD, "--lon", "117.3", "--lat", "39.11", "--category", "garbage", "--found-at", "x"),
            "cannot read time 'x'",
            id="bad-time",
        ),
        pytest.param(
            (*ADD, "--lon", "117.3", "--lat", "39.11", "--category", "garbage", "--severity", "?"),
            "unknown severity",
            id="unknown-severity",
        ),
        pytest.param(("risk", "show", "999"), "there is no risk with id 999", id="unknown-id"),
        pytest.param(
            ("risk", "submit", "999", "--by", OFFICER), "no risk with id 999", id="unknown-id-move"
        ),
        pytest.param(
            ("risk", "assign", "1", "--by", OFFICER), "cannot assign", id="refused-transition"
        ),
        pytest.param(
            ("patrol", "set", "--line", "JD", "--from", "K11+000", "--to", "K13+000"),
            "belongs to",
            id="patrol-not-owned",
        ),
        pytest.param(
            ("stats", "--since", "2026-12-01", "--on", "2026-11-01"), "after its end", id="period"
        ),
        pytest.param(("config", "set", "nope", "1"), "unknown setting 'nope'", id="bad-setting"),
        pytest.param(("config", "set", "lang", "fr"), "language must be zh or en", id="bad-lang"),
    ],
)
def test_user_errors_are_one_sentence_and_write_nothing(reg, args, needle):
    if args[0] == "patrol":
        args = (*args, "--per-week", "5", "--by", "新立线路工区")
    before = snapshot(reg)
    assert_user_error(run("--register", reg, *args), needle)
    assert snapshot(reg) == before


@pytest.mark.parametrize(
    ("args", "chinese"),
    [
        (("risk", "show", "999"), "没有编号为 999 的隐患"),
        (("risk", "list", "--line", "XX"), "未知线路 'XX'"),
        (("risk", "list", "--from", "K12+3456"), "里程格式错误 'K12+3456'"),
        ((*ADD, "--lon", "117.8", "--lat", "39.3", "--category", "garbage"), "米；距所有线路超过"),
        ((*ADD, "--lon", "39.11", "--lat", "117.30", "--category", "garbage"), "经纬度似乎颠倒了"),
        ((*ADD, "--lon", "117.3", "--lat", "39.11", "--category", "foo"), "未知隐患类别 'foo'"),
        (("risk", "assign", "1", "--by", OFFICER), "不能对已销号的隐患执行“交办”"),
        (("config", "set", "lang", "fr"), "语言只能是 zh 或 en"),
    ],
)
def test_user_errors_speak_chinese_by_default(reg, args, chinese):
    result = run("--register", reg, *args, env={"LINERISK_LANG": ""})
    assert result.code == 1, result
    assert result.err.startswith("linerisk: ")
    assert chinese in result.err
    assert len(result.err.splitlines()) == 1


def test_every_listed_error_has_a_chinese_wording(reg):
    from linerisk.errors_zh import translate_error

    english = [
        "there is no risk with id 5",
        "register /x.gpkg does not exist",
        "chainage K11+640 does not exist on line JD: it lies inside a short chain (断链)",
        "the change at 2026-01-01T00:00:00+08:00 is earlier than the risk's last recorded "
        "event at 2026-02-01T00:00:00+08:00",
        "row 3: unknown severity 'x'; choose one of critical (重大), major (较大), general (一般)",
        "the process writing the history stopped unexpectedly (exit code -9); "
        "nothing was registered",
        "the process writing the history failed: cannot pickle 'x'",
        "cannot write the history to the scratch file /tmp/linerisk-events-1-x.sqlite: "
        "database or disk is full; nothing was registered",
        "new risks were numbered from 7, not 5",
        "event 4 is missing (the next event found is 6)",
        "event 6 does not follow event 5: the chain is broken there",
        "event 67 (risk 7) was altered after it was written",
        "the last 2 event(s) of the log are missing",
        "the log does not end where the register recorded it",
        "risk 3 has no history",
        "risk 3 is cleared but its history ends at assigned",
        "risk 3 has a history but is missing from the risks layer",
        "risk 3: its police is '派出所2' in the risks layer but '派出所1' in its history "
        "(changed without an event)",
        "12 more risks have columns that differ from their history",
        "could not write to the register /x.gpkg: database or disk is full; nothing was changed",
        "the same garbage as row 3 of this file, 12 m away; keep one of the two rows, or import "
        "both "
        "with --allow-duplicates if they are different hazards",
        "returning a risk for rework needs a note of what the re-inspection found",
        "a new deadline can be given only when a risk is sent back for rework",
        "the new deadline 2026-01-01T23:59:59+08:00 is not after the rework at "
        "2026-01-02T09:00:00+08:00",
        "cannot read deadline 'soon'; give a day (2026-12-20) or a time (2026-12-20T18:00+08:00)",
        "row 4: the same garbage as row 1, 20 m away; keep one of the two rows, or register "
        "both with allow_duplicates=True if they are different hazards",
    ]
    for message in english:
        zh = translate_error(message, "zh")
        assert zh != message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.split("：")[0] + zh)


def test_unknown_register_is_not_created(tmp_path):
    missing = tmp_path / "nope.gpkg"
    assert_user_error(run("--register", missing, "risk", "list"), "does not exist")
    assert not missing.exists()
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a database")
    assert_user_error(run("--register", bad, "stats"), "is not a GeoPackage register")
    assert bad.read_text() == "not a database"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("risk", "add", "--category", "garbage", "--by", "x"), id="no-location"),
        pytest.param(
            ("risk", "add", "--lon", "117.3", "--lat", "39.1", "--line", "JD", "--at", "K5+000"),
            id="two-locations",
        ),
        pytest.param(("risk", "add", "--lon", "117.3", "--category", "garbage"), id="lon-only"),
        pytest.param(("risk", "list", "--format", "xml"), id="bad-format"),
        pytest.param(("risk", "show", "abc"), id="bad-id"),
        pytest.param(("risk", "withdraw", "5", "--reason", "bored"), id="bad-reason"),
        pytest.param(("patrol", "set", "--line", "JD"), id="missing-options"),
        pytest.param(("stats", "--by", "weather"), id="bad-grouping"),
        pytest.param(("frobnicate",), id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(reg, args):
    before = snapshot(reg)
    result = run("--register", reg, *args)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert result.err.startswith("Usage: linerisk")
    assert snapshot(reg) == before


# ----------------------------------------------------------------------------- patrol


def _segments(reg: Path) -> list[dict]:
    return okj("--register", reg, "patrol", "list")


def test_patrol_set_splits_segments_at_both_ends(reg):
    before = _segments(reg)
    assert [s["segment"] for s in before] == [f"JD-{i:02d}" for i in range(1, 11)]
    assert before[2]["from_chainage"] == "K5+600" and before[2]["to_chainage"] == "K8+300"

    changes = okj(
        "--register",
        reg,
        "patrol",
        "set",
        "--line",
        "JD",
        "--from",
        "K5+800",
        "--to",
        "K6+500",
        "--per-week",
        "14",
        "--by",
        "张贵庄线路工区 韩卫东",
        "--reason",
        "大棚薄膜隐患未消除",
        "--at",
        "2026-11-26T11:00+08:00",
    )
    assert len(changes) == 1
    change = changes[0]
    assert (change["from_chainage"], change["to_chainage"]) == ("K5+800", "K6+500")
    assert (change["old_per_week"], change["new_per_week"]) == (7.0, 14.0)
    assert change["actor"] == "张贵庄线路工区 韩卫东"

    after = _segments(reg)
    assert len(after) == len(before) + 2
    pieces = [(s["from_chainage"], s["to_chainage"], s["patrol_per_week"]) for s in after[2:5]]
    assert pieces == [
        ("K5+600", "K5+800", 7.0),
        ("K5+800", "K6+500", 14.0),
        ("K6+500", "K8+300", 7.0),
    ]
    assert change["segment"] == after[3]["segment"]
    assert {s["work_area"] for s in after[2:5]} == {"张贵庄线路工区"}
    # Everything else is as it was, and the pieces still tile the line.
    assert after[:2] == before[:2] and after[5:] == before[3:]
    for a, b in itertools.pairwise(after):
        assert a["to_chainage"] == b["from_chainage"]

    history = okj("--register", reg, "patrol", "history")
    assert history == [
        {
            "id": change["id"],
            "at": "2026-11-26T11:00+08:00",
            "actor": "张贵庄线路工区 韩卫东",
            "line": "JD",
            "segment": change["segment"],
            "from_chainage": "K5+800",
            "to_chainage": "K6+500",
            "old_per_week": 7.0,
            "new_per_week": 14.0,
            "reason": "大棚薄膜隐患未消除",
        }
    ]
    assert okj("--register", reg, "patrol", "history", "--since", "2026-11-27") == []
    table = ok("--register", reg, "patrol", "history", "--format", "table")
    assert table.splitlines()[0].split() == [
        "时间",
        "操作人",
        "区段",
        "起点里程",
        "终点里程",
        "原频次",
        "新频次",
        "原因",
    ]
    en = ok("--register", reg, "--lang", "en", "patrol", "history", "--format", "csv")
    assert rows_of_csv(en)[0] == [
        "at",
        "by",
        "segment",
        "from",
        "to",
        "old/week",
        "new/week",
        "reason",
    ]


def test_patrol_set_across_segments_records_each(reg):
    changes = okj(
        "--register",
        reg,
        "patrol",
        "set",
        "--line",
        "JD",
        "--from",
        "K5+000",
        "--to",
        "K6+000",
        "--per-week",
        "10",
        "--by",
        "张贵庄线路工区",
        "--reason",
        "加大巡线频次",
    )
    assert [(c["from_chainage"], c["to_chainage"], c["old_per_week"]) for c in changes] == [
        ("K5+000", "K5+600", 12.0),
        ("K5+600", "K6+000", 7.0),
    ]
    after = _segments(reg)
    assert len(after) == 12
    assert [s["patrol_per_week"] for s in after[1:5]] == [12.0, 10.0, 10.0, 7.0]
    assert len(okj("--register", reg, "patrol", "history")) == 2


def test_patrol_set_on_segment_ends_does_not_split(reg):
    okj(
        "--register",
        reg,
        "patrol",
        "set",
        "--line",
        "JD",
        "--from",
        "K5+600",
        "--to",
        "K8+300",
        "--per-week",
        "9",
        "--by",
        "天津工务段",
    )
    after = _segments(reg)
    assert len(after) == 10
    assert after[2]["segment"] == "JD-03" and after[2]["patrol_per_week"] == 9.0


def test_patrol_set_refused_outside_own_ground(reg):
    before_rows = _segments(reg)
    before = snapshot(reg)
    result = run(
        "--register",
        reg,
        "patrol",
        "set",
        "--line",
        "JD",
        "--from",
        "K8+000",
        "--to",
        "K8+600",
        "--per-week",
        "10",
        "--by",
        "张贵庄线路工区",
    )
    assert_user_error(result, "segment JD-04 (K8+300-K9+800) belongs to")
    assert "新立线路工区" in result.err
    assert snapshot(reg) == before
    assert _segments(reg) == before_rows
    assert okj("--register", reg, "patrol", "history") == []
    # The works section owns both work areas.
    okj(
        "--register",
        reg,
        "patrol",
        "set",
        "--line",
        "JD",
        "--from",
        "K8+000",
        "--to",
        "K8+600",
        "--per-week",
        "10",
        "--by",
        "天津工务段",
    )
    assert len(_segments(reg)) == 12


@pytest.mark.parametrize(
    ("frm", "to", "per_week", "needle"),
    [
        ("K6+000", "K5+000", "3", "must increase along the line"),
        ("K6+000", "K7+000", "-3", "must be a number >= 0"),
        ("K1+000", "K3+000", "3", "outside line JD"),
        ("K11+630", "K12+000", "3", "short chain"),
    ],
)
def test_patrol_set_bad_ranges(reg, frm, to, per_week, needle):
    before = snapshot(reg)
    args = ("patrol", "set", "--line", "JD", "--from", frm, "--to", to, "--per-week", per_week)
    assert_user_error(run("--register", reg, *args, "--by", "天津工务段"), needle)
    assert snapshot(reg) == before


def test_patrol_list_formats(reg):
    rows = _segments(reg)
    assert rows[0]["area_class"] == "urban"
    assert set(rows[0]) >= {"segment", "line", "from_chainage", "to_chainage", "patrol_per_week"}
    assert okj("--register", reg, "patrol", "list", "--line", "JD") == rows
    zh = ok("--register", reg, "patrol", "list", "--format", "table")
    assert "城市市区" in zh and zh.startswith("区段")
    en = rows_of_csv(ok("--register", reg, "--lang", "en", "patrol", "list", "--format", "csv"))
    assert en[0] == ["segment", "from", "to", "work area", "area class", "patrols/week"]
    assert en[1][4] == "city urban area"
    assert_user_error(run("--register", reg, "patrol", "list", "--line", "XX"), "unknown line")


def test_patrol_advise_and_raising_frequency(reg):
    advice = okj("--register", reg, "patrol", "advise", "--on", SAMPLE_DAY)
    assert advice
    for a in advice:
        assert a["suggested_per_week"] > a["current_per_week"]
        assert a["reasons"]
        if a["open_risks"]:
            assert a["reasons"][0].startswith("open risks: ")
        if a["overdue_risks"]:
            assert f"{a['overdue_risks']} overdue" in a["reasons"]
    target = max(advice, key=lambda a: a["open_risks"])
    okj(
        "--register",
        reg,
        "patrol",
        "set",
        "--line",
        target["line"],
        "--from",
        target["from_chainage"],
        "--to",
        target["to_chainage"],
        "--per-week",
        target["suggested_per_week"],
        "--by",
        target["work_area"],
        "--reason",
        "; ".join(target["reasons"]),
    )
    again = okj("--register", reg, "patrol", "advise", "--on", SAMPLE_DAY)
    assert [a for a in advice if a["segment"] != target["segment"]] == again

    zh = ok("--register", reg, "patrol", "advise", "--on", SAMPLE_DAY, "--format", "table")
    assert zh.startswith("区段") and "在办隐患：" in zh and "open risks" not in zh
    en = ok(
        "--register",
        reg,
        "--lang",
        "en",
        "patrol",
        "advise",
        "--on",
        SAMPLE_DAY,
        "--format",
        "table",
    )
    assert "open risks: " in en and "在办隐患" not in en


def test_patrol_advise_rule_is_a_setting(reg):
    from linerisk.patrol import DEFAULT_ADVICE_RULE

    default = okj("--register", reg, "patrol", "advise", "--on", SAMPLE_DAY)
    assert max(a["suggested_per_week"] for a in default) == DEFAULT_ADVICE_RULE["max_per_week"]
    ok("--register", reg, "config", "set", "patrol_rule", '{"max_per_week": 3}')
    capped = okj("--register", reg, "patrol", "advise", "--on", SAMPLE_DAY)
    assert capped
    assert all(a["suggested_per_week"] <= 3 for a in capped)
    assert {a["segment"] for a in capped} < {a["segment"] for a in default}
    assert all(a["current_per_week"] < 3 for a in capped)


# ----------------------------------------------------------------------------- stats


def test_stats_by_party_agrees_with_risk_list(reg):
    rows = okj("--register", reg, "stats", "--on", SAMPLE_DAY, "--since", "2026-08-01")
    open_ = okj("--register", reg, "risk", "list", "--status", "open", "--on", SAMPLE_DAY)
    overdue = okj("--register", reg, "risk", "list", "--overdue", "--on", SAMPLE_DAY)
    cleared = okj("--register", reg, "risk", "list", "--status", "cleared")

    def by_party(records):
        return Counter((r["lead_vertical"], r["lead_party"]) for r in records)

    got_open = Counter({(r["vertical"], r["key"]): r["open"] for r in rows})
    got_overdue = Counter({(r["vertical"], r["key"]): r["overdue"] for r in rows})
    got_cleared = Counter({(r["vertical"], r["key"]): r["cleared"] for r in rows})
    assert +got_open == by_party(open_)
    assert +got_overdue == by_party(overdue)
    assert +got_cleared == by_party(cleared)
    assert sum(r["found"] for r in rows) == SAMPLE_RISKS
    assert ("police", None) in got_open  # the police coverage gap
    assert [r["vertical"] for r in rows] == sorted(
        (r["vertical"] for r in rows), key=["police", "railway", "local"].index
    )
    for r in rows:
        assert set(r) == {
            "vertical",
            "key",
            "open",
            "overdue",
            "found",
            "cleared",
            "median_days_to_clear",
        }
        assert (r["median_days_to_clear"] is None) == (r["cleared"] == 0)


def test_stats_by_category_and_month(reg):
    everything = okj("--register", reg, "risk", "list")
    by_cat = okj("--register", reg, "stats", "--by", "category", "--on", SAMPLE_DAY)
    assert {r["key"]: r["open"] for r in by_cat if r["open"]} == dict(
        Counter(r["category"] for r in everything if r["status"] in OPEN)
    )
    by_month = okj(
        "--register", reg, "stats", "--by", "month", "--on", SAMPLE_DAY, "--since", "2026-01-01"
    )
    assert {r["key"]: r["found"] for r in by_month} == dict(
        Counter(r["found_at"][:7] for r in everything)
    )
    # "found" counts the period from --since to the end of --on.
    recent = okj("--register", reg, "stats", "--on", SAMPLE_DAY, "--since", "2026-11-24")
    assert sum(r["found"] for r in recent) == sum(
        r["found_at"] >= "2026-11-24T00:00:00+08:00" for r in everything
    )
    assert okj("--register", reg, "stats", "--line", "JD", "--on", SAMPLE_DAY) == okj(
        "--register", reg, "stats", "--on", SAMPLE_DAY
    )


def test_stats_labels_follow_lang(reg):
    zh = ok("--register", reg, "stats", "--on", SAMPLE_DAY, "--format", "table").splitlines()
    assert zh[0].split() == ["条线", "分组", "在办", "超期", "新发现", "已销号", "销号中位天数"]
    assert zh[2].startswith("公安  未覆盖")
    en = ok(
        "--register", reg, "--lang", "en", "stats", "--on", SAMPLE_DAY, "--format", "csv"
    ).splitlines()
    assert en[0] == "vertical,group,open,overdue,found,cleared,median days to clear"
    assert en[1].startswith("police,not covered,")
    cat = ok(
        "--register",
        reg,
        "--lang",
        "en",
        "stats",
        "--by",
        "category",
        "--on",
        SAMPLE_DAY,
        "--format",
        "table",
    )
    assert "fence damage" in cat and "fence_damage" not in cat


# ----------------------------------------------------------------------------- verify, config


def test_verify_intact_and_tampered(reg):
    assert ok("--register", reg, "verify").strip() == (
        f"审计链完整：{_event_count(reg)} 条记录，{SAMPLE_RISKS} 个隐患，均未被改动。"
    )
    assert ok("--register", reg, "--lang", "en", "verify").strip() == (
        f"audit chain intact: {_event_count(reg)} events for {SAMPLE_RISKS} risks, none altered"
    )
    con = sqlite3.connect(reg)
    with con:
        con.execute("UPDATE risk_events SET note = '没有整改' WHERE seq = 67")
    con.close()
    assert_user_error(run("--register", reg, "verify"), "event 67 (risk 7) was altered")
    assert_user_error(
        run("--register", reg, "verify", env={"LINERISK_LANG": "zh"}),
        "第 67 条履历记录（隐患 7）写入后被改动",
    )


def test_verify_names_a_column_edited_without_an_event(reg):
    from test_audit import tamper

    con = sqlite3.connect(reg)
    (old,) = con.execute("SELECT category FROM risks WHERE id = 4").fetchone()
    con.close()
    assert old != "burning"
    tamper(reg, "UPDATE risks SET category = 'burning' WHERE id = 4")
    result = run("--register", reg, "verify", env={"LINERISK_LANG": "zh"})
    assert result.code == 1 and result.out == "" and "Traceback" not in result.err
    lines = result.err.splitlines()
    assert (
        f"linerisk: 隐患 4：隐患图层中的类别为 'burning'，履历中为 '{old}'（未经履历记录被改动）"
        in lines
    )
    english = run("--register", reg, "verify").err.splitlines()
    assert (
        f"linerisk: risk 4: its category is 'burning' in the risks layer but '{old}' in its "
        "history (changed without an event)"
    ) in english


def _event_count(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM risk_events").fetchone()[0]
    finally:
        con.close()


def test_config_show_and_set(reg):
    settings = json.loads(ok("--register", reg, "config", "show"))
    assert settings["lang"] == "zh"
    assert settings["default_actor"] is None
    assert settings["deadline_days"] == {"critical": 1.0, "major": 7.0, "general": 30.0}
    assert settings["patrol_rule"] == {}
    out = ok("--register", reg, "config", "set", "deadline_days", '{"major": 5}')
    assert json.loads(out) == {"deadline_days": {"critical": 1.0, "major": 5.0, "general": 30.0}}
    rec = add_by_chainage(reg)
    assert rec["deadline"] == "2026-12-01T09:30:00+08:00"
    after = json.loads(ok("--register", reg, "config", "show"))
    assert after == {**settings, "deadline_days": {"critical": 1.0, "major": 5.0, "general": 30.0}}


_json_values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.lists(st.integers(), max_size=3)
    | st.dates()
)


@given(st.lists(st.dictionaries(st.text(max_size=8), _json_values, max_size=5), max_size=4))
def test_json_output_is_what_json_dumps_writes(records):
    """The fast JSON writer of listings is byte for byte json.dumps(indent=2)."""
    from linerisk.cli.output import render_json

    assert render_json(records) == json.dumps(records, ensure_ascii=False, indent=2, default=str)
