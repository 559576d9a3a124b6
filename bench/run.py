"""Run linerisk's benchmarks and write docs/performance.md.

    python bench/run.py                     # everything (national scale included)
    python bench/run.py --quick             # station and division only, fewer repeats
    python bench/run.py --only cli          # one section: cli, referencing, map, import, queries

Every measurement runs in a fresh subprocess so that its time and peak memory
are its own; each is repeated and the median reported. Baselines are measured in
the same run, on the same data, so ratios hold on any machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
DOC = ROOT / "docs" / "performance.md"


# ----------------------------------------------------------------------------- helpers


def rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Reset the peak RSS counter so that later peaks exclude loading (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def worker(task: str, *args: str) -> dict:
    """Run one task in a fresh interpreter; returns its JSON result.

    Files written by earlier tasks are flushed to disk first, so that the
    kernel's write-back does not run during this task's measurement.
    """
    os.sync()
    out = subprocess.run(
        [PY, str(HERE / "tasks.py"), task, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def repeat(task: str, args: list[str], n: int) -> dict:
    runs = [worker(task, *args) for _ in range(n)]
    result = dict(runs[-1])
    result["seconds"] = statistics.median(r["seconds"] for r in runs)
    result["runs"] = [round(r["seconds"], 3) for r in runs]
    if "peak_above_loaded_mb" in runs[0]:
        result["peak_above_loaded_mb"] = max(r["peak_above_loaded_mb"] for r in runs)
    return result


def time_command(argv: list[str], n: int, env: dict | None = None) -> list[float]:
    os.sync()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
    return times


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


# ----------------------------------------------------------------------------- sections


def bench_cli(repeats: int) -> list[tuple[str, ...]]:
    """CLI start-up and single-risk commands on a register of 100,000 risks."""
    linerisk = str(Path(PY).with_name("linerisk"))
    work = Path(tempfile.mkdtemp(prefix="linerisk-bench-"))
    try:
        reg = work / "big.gpkg"
        built = worker("build_cli_register", str(reg), "100000")
        env = {**os.environ, "LINERISK_REGISTER": str(reg), "LINERISK_BY": "bench"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # users have cached bytecode
        # warm the bytecode cache once
        subprocess.run([linerisk, "--help"], check=True, capture_output=True, env=env)
        rows = [("python -c pass (interpreter start, for reference)", "-", "")]
        base = statistics.median(time_command([PY, "-c", "pass"], repeats, env))
        rows[0] = ("`python -c pass` (interpreter start, for reference)", f"{base:.3f}", "")
        cases = [
            ("`linerisk --help`", [linerisk, "--help"], 0.2),
            (
                "`linerisk risk add --line JD --at ... --category garbage`",
                [
                    linerisk,
                    "risk",
                    "add",
                    "--line",
                    "JD",
                    "--at",
                    "K6+432",
                    "--side",
                    "left",
                    "--offset",
                    "44",
                    "--category",
                    "garbage",
                    "--force",
                ],
                0.5,
            ),
            (
                "`linerisk risk add --lon ... --lat ...` (with reprojection)",
                [
                    linerisk,
                    "risk",
                    "add",
                    "--lon",
                    "117.3",
                    "--lat",
                    "39.112",
                    "--category",
                    "cable_theft",
                    "--force",
                ],
                0.5,
            ),
            ("`linerisk risk show 50000`", [linerisk, "risk", "show", "50000"], 0.5),
        ]
        for label, argv, target in cases:
            t = statistics.median(time_command(argv, repeats, env))
            rows.append((label, f"{t:.3f}", f"< {target}", "✔" if t < target else "✘"))
        # Transitions: a fresh id each run (assign works once per risk).
        times = []
        for k in range(repeats):
            argv = [linerisk, "risk", "assign", str(60000 + k), "--by", "bench"]
            times += time_command(argv, 1, env)
        t = statistics.median(times)
        rows.append(("`linerisk risk assign ID`", f"{t:.3f}", "< 0.5", "✔" if t < 0.5 else "✘"))
        rows.insert(
            0,
            (
                f"register: {built['risks']:,} risks on the sample line, "
                f"{built['size_mb']:.0f} MB, built in {built['seconds']:.1f} s",
                "",
                "",
                "",
            ),
        )
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_referencing(scales: list[str], repeats: int) -> list[tuple[str, ...]]:
    rows = []
    for scale in scales:
        worker("prepare", scale)  # build the cached data outside the timings
        base = repeat("baseline_reference", [scale], repeats)
        ours = repeat("linerisk_reference", [scale], repeats)
        agree = worker("compare_reference", scale)
        n = ours["risks"]
        rows.append(
            (
                scale,
                f"{n:,}",
                f"{base['seconds']:.2f}",
                f"{ours['seconds']:.2f}",
                f"{base['seconds'] / ours['seconds']:.1f}×",
                f"{ours['seconds'] / n * 1e6:.1f}",
                f"{base['peak_above_loaded_mb']:.0f}",
                f"{ours['peak_above_loaded_mb']:.0f}",
                f"{agree['segment_agree']:.4%} ({agree['segment_ties']} ties)",
                f"{agree['police_agree']:.4%} / {agree['neighbourhood_agree']:.4%}",
                f"{agree['max_measure_diff_m']:.3f}",
            )
        )
    return rows


def bench_map(repeats: int) -> list[tuple[str, ...]]:
    """The joint-meeting map for a 100 km scope against one folium.Marker per risk."""
    work = Path(tempfile.mkdtemp(prefix="linerisk-map-"))
    try:
        reg = work / "meeting.gpkg"
        built = worker("build_meeting_register", str(reg))
        # Naive and linerisk runs alternate and the speed-up is taken per pair,
        # so that the machine's slower and faster spells fall on both alike.
        pairs = [
            (
                worker("naive_map", str(reg), str(work / "naive.html")),
                worker("linerisk_map", str(reg), str(work / "meeting.html")),
            )
            for _ in range(repeats)
        ]
        naive = {
            "seconds": statistics.median(a["seconds"] for a, _b in pairs),
            "bytes": pairs[-1][0]["bytes"],
        }
        ours = {
            "seconds": statistics.median(b["seconds"] for _a, b in pairs),
            "bytes": pairs[-1][1]["bytes"],
        }
        speed = statistics.median(a["seconds"] / b["seconds"] for a, b in pairs)
        ready = repeat("page_ready", [str(work / "meeting.html")], repeats)
        size = ours["bytes"] / naive["bytes"]
        return [
            (
                f"scope: {built['km']:.0f} km of line, {built['risks']:,} risks, "
                f"{built['fences']} fence pieces, {built['polygons']} jurisdiction polygons",
                "",
                "",
                "",
            ),
            ("naive folium (one `folium.Marker` with a popup per risk): generation",
             f"{naive['seconds']:.2f} s", "", ""),
            ("linerisk `write_meeting_map(..., offline=True)`: generation (speed-up: "
             "median of the per-pair ratios)",
             f"{ours['seconds']:.2f} s", "≥ 10× faster",
             f"{speed:.1f}× {'✔' if speed >= 10 else '✘'}"),
            ("naive HTML size", f"{naive['bytes'] / 1e6:.2f} MB", "", ""),
            ("linerisk HTML size (offline, Leaflet inlined)", f"{ours['bytes'] / 1e6:.2f} MB",
             "≤ ¼ of naive", f"{size:.2f} {'✔' if size <= 0.25 else '✘'}"),
            ("linerisk page ready in headless Chromium (network blocked)",
             f"{ready['seconds']:.2f} s", "< 3 s", "✔" if ready["seconds"] < 3 else "✘"),
        ]  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_import(
    scale: str, repeats: int, keep: Path | None = None, baseline: bool = True
) -> list[tuple[str, ...]]:
    """Bulk import of risks from a GeoPackage against geopandas writing them.
    The register built is moved to ``keep`` when given (for the queries)."""
    work = Path(tempfile.mkdtemp(prefix="linerisk-import-"))
    try:
        worker("prepare", scale)
        source = work / "risks.gpkg"
        base = repeat("geopandas_write", [scale, str(source)], repeats if baseline else 1)
        ours = repeat("linerisk_import", [scale, str(source), str(work / "reg.gpkg")], repeats)
        floor = (
            repeat("storage_floor", [str(work / "reg.gpkg"), str(work / "floor.gpkg")], repeats)
            if baseline
            else None
        )
        if keep is not None:
            shutil.move(work / "reg.gpkg", keep)
        ratio = ours["seconds"] / base["seconds"]
        if floor is None:
            return []
        # The same file through the command line, as a works section runs it (one
        # run: the whole process, reading the mapping, checks and report included).
        worker("network_register", scale, str(work / "cli.gpkg"))
        linerisk = str(Path(PY).with_name("linerisk"))
        argv = [linerisk, "--register", str(work / "cli.gpkg"), "import", "risks", str(source),
                "--by", "bench", "--allow-duplicates"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cli = time_command(argv, 1, env)[0]
        return [
            (
                scale,
                f"{ours['risks']:,}",
                f"{base['seconds']:.2f}",
                f"{ours['seconds']:.2f}",
                f"{ratio:.1f}× {'✔' if ratio <= 2 else '✘'}",
                f"{ours['seconds'] / ours['risks'] * 1e6:.0f}",
                f"{floor['seconds']:.2f} ({floor['seconds'] / base['seconds']:.1f}×, "
                f"{floor['mb']:,.0f} MB)",
                f"{cli:.1f} ({cli / base['seconds']:.1f}×)",
            )
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_queries(register: Path, repeats: int, scale: str) -> list[tuple[str, ...]]:
    """The two national queries, from Python and from the CLI; and, for reference,
    a week's file imported into the same register by the CLI (a dry run, so that
    every run finds the register as it was)."""
    q = worker("query_setup", str(register))
    runs = [
        worker("query_python", str(register), q["line"], q["from"], q["to"], q["police"])
        for _ in range(repeats)
    ]
    linerisk = str(Path(PY).with_name("linerisk"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base = [linerisk, "--register", str(register), "--lang", "en", "risk", "list"]
    window_cli = [*base, "--line", q["line"], "--from", q["from"], "--to", q["to"]]
    station_cli = [*base, "--police", q["police"], "--status", "open"]
    rows = []
    for label, key, argv in (
        (f"risks of line {q['line']} from {q['from']} to {q['to']}", "window", window_cli),
        (f"open risks of police station {q['police']}", "station", station_cli),
    ):
        py = statistics.median(r[key] for r in runs)
        cli = statistics.median(time_command([*argv, "--format", "json"], repeats, env))
        count = runs[0][f"{key}_risks"]
        met = "✔" if py < 0.3 and cli < 0.8 else "✘"
        rows.append((label, f"{count:,}", f"{py:.3f}", f"{cli:.3f}", met))
    opened = statistics.median(r["import_and_open"] for r in runs)
    rows.append(
        ("(for reference) importing linerisk and opening the register", "", f"{opened:.3f}", "", "")
    )
    # the commands of a joint meeting on one police station, and a works section's
    # change of patrol frequency (which writes, so it runs last)
    agenda = [linerisk, "--register", str(register), "agenda", "--police", q["police"],
              "-o", str(register.with_name("agenda.md"))]  # fmt: skip
    meeting = [linerisk, "--register", str(register), "map", "--police", q["police"],
               "-o", str(register.with_name("map.html"))]  # fmt: skip
    export = [linerisk, "--register", str(register), "export", "risks", "--police",
              q["police"], "-o", str(register.with_name("export.csv"))]  # fmt: skip
    stats = [linerisk, "--register", str(register), "stats", "--format", "json"]
    patrols = [linerisk, "--register", str(register), "patrol", "list", "--line", q["line"],
               "--format", "json"]  # fmt: skip
    for label, argv in (
        (f"(for reference) agenda of police station {q['police']}: `linerisk agenda`", agenda),
        (f"(for reference) map of police station {q['police']}: `linerisk map`", meeting),
        (f"(for reference) risks of police station {q['police']}: `linerisk export`", export),
        ("(for reference) counts of every party: `linerisk stats`", stats),
        (
            f"(for reference) patrol frequencies of line {q['line']}: `linerisk patrol list`",
            patrols,
        ),
    ):
        seconds = statistics.median(time_command(argv, repeats, env))
        rows.append((label, "", "", f"{seconds:.3f}", ""))
    week = register.with_name("week.gpkg")
    count = worker("weekly_file", scale, str(week))["risks"]
    argv = [linerisk, "--register", str(register), "import", "risks", str(week),
            "--by", "bench", "--dry-run"]  # fmt: skip
    weekly = statistics.median(time_command(argv, repeats, env))
    rows.append(
        (
            "(for reference) a week's file imported: `linerisk import risks FILE --dry-run`",
            f"{count:,}",
            "",
            f"{weekly:.3f}",
            "",
        )
    )
    from linerisk.chainage import format_chainage

    with sqlite3.connect(register) as conn:
        line, lo, hi, section = conn.execute(
            "SELECT line, from_chainage_m, to_chainage_m, works_section FROM segments "
            "WHERE line = ? ORDER BY from_chainage_m LIMIT 1 OFFSET 5",
            (q["line"],),
        ).fetchone()
    patrol = [linerisk, "--register", str(register), "patrol", "set", "--line", line,
              "--from", format_chainage(lo + 100.0), "--to", format_chainage(hi - 100.0),
              "--per-week", "14",
              "--by", section, "--reason", "bench"]  # fmt: skip
    seconds = statistics.median(time_command(patrol, repeats, env))
    rows.append(("(for reference) a change of patrol frequency: `linerisk patrol set`", "", "",
                 f"{seconds:.3f}", ""))  # fmt: skip
    return rows


# ----------------------------------------------------------------------------- report


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


SUMMARY = "Where the targets stand"


def merge_sections(
    sections: dict[str, str], keep_only: tuple[str, ...] | None = None
) -> dict[str, str]:
    """Keep the sections of the existing report that this run did not measure
    (only those named in ``keep_only``, when given)."""
    if not DOC.exists():
        return sections
    old: dict[str, str] = {}
    for chunk in DOC.read_text(encoding="utf-8").split("\n## ")[1:]:
        title, _nl, body = chunk.partition("\n")
        old[title.strip()] = body.strip()
    # A re-measured section takes the place of its earlier figures; new ones go last.
    merged = {
        t: sections.get(t, b)
        for t, b in old.items()
        if t in sections or keep_only is None or t in keep_only
    }
    merged.update((t, b) for t, b in sections.items() if t not in merged)
    return merged


def write_report(sections: dict[str, str], command: str) -> None:
    partial = "--only" in command
    text = [
        "# Performance",
        "",
        "Measured by `bench/run.py` (`python bench/run.py` runs every section;",
        "`--only SECTION` re-runs one and keeps the others). The latest run was",
        "",
        f"```sh\n{command}\n```",
        "",
        f"on {machine()}, {dt.date.today().isoformat()}."
        + (" Sections it did not run keep the figures of earlier runs." if partial else ""),
        "Times are medians of repeated runs, each run in a fresh process; peak memory",
        "is the peak resident set size of the process above what it held once its",
        "input was loaded. Baselines are measured in the same run on the same data, so",
        "the ratios carry over to other machines.",
        "",
    ]
    order = [SUMMARY] + [t for t in sections if t != SUMMARY]
    for title in order:
        if title in sections:
            text += [f"## {title}", "", sections[title], ""]
    DOC.write_text("\n".join(text).rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the national scale")
    parser.add_argument(
        "--only", choices=["cli", "referencing", "map", "import", "queries"], default=None
    )
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    command = "python bench/run.py" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {args.only}"
    if args.repeats:
        command += f" --repeats {args.repeats}"
    sections: dict[str, str] = {}
    # The interactive timings first: the national sections write gigabytes, and
    # the kernel flushing them would slow whatever runs next.
    if args.only in (None, "cli"):
        rows = bench_cli(args.repeats or 11)
        sections["Command line on a 100,000-risk register (issue: the command line)"] = (
            "Wall time of the whole process, bytecode cached as after installation.\n\n"
            + table(("command", "seconds", "target", "met"), rows)
        )
    if args.only in (None, "map"):
        rows = bench_map(args.repeats or 5)
        sections["Joint-meeting map (issue: the joint-meeting map, target 6)"] = table(
            ("", "measured", "target", "met"), rows
        )
    if args.only in (None, "referencing"):
        scales = ["station", "division"] + ([] if args.quick else ["national"])
        rows = bench_referencing(scales, args.repeats or 3)
        sections["Bulk referencing and assignment (issue: national scale, target 1 and 3)"] = (
            "Every risk gets line, calibrated chainage, side, offset, segment (works "
            "section), police area, neighbourhood and zone band. The baseline is the "
            "geopandas pipeline an analyst would write: `sjoin_nearest` of risks to "
            "segments, `line_locate_point` on the matched segment, then `sjoin` with police "
            "areas and with neighbourhoods. Agreement compares linerisk with the baseline "
            "(segment; police / neighbourhood; largest difference in measure along the "
            "line); ties at equal distance are counted, not failed.\n\n"
            + table(
                (
                    "scale",
                    "risks",
                    "baseline s",
                    "linerisk s",
                    "speed-up",
                    "µs per risk",
                    "baseline peak MB",
                    "linerisk peak MB",
                    "segment agrees",
                    "police / neighbourhood agree",
                    "max Δ measure m",
                ),
                rows,
            )
        )
    scale = "division" if args.quick else "national"
    keep = Path(tempfile.mkdtemp(prefix="linerisk-queries-")) / "register.gpkg"
    if args.only in (None, "import"):
        rows = bench_import(scale, args.repeats or 1, keep=keep)
        sections["Bulk import of risks (issue: national scale, target 2)"] = (
            "Reading a GeoPackage of risks and registering every one (referencing, "
            "assignment, rows, one hash-chained history event each, spatial and attribute "
            "indexes, one transaction), against geopandas writing the same rows to a new "
            "GeoPackage. Target: at most 2× the geopandas time. Includes opening the "
            "register (a file holding the network and no risks yet) and loading its "
            "network (2,000 lines, 160,000 segments) from it, as a separate process would. "
            "Layer files are read through GDAL's Arrow stream (the `arrow` extra). The "
            "last column is SQLite alone writing what the import wrote (risk rows, "
            "attribute indexes, R-tree, events) from tuples prepared in memory, in one "
            "process: the time no referencing, encoding or hashing could go below if one "
            "process wrote everything (ratio to the geopandas write in brackets). The "
            "import builds and writes its events in a second process while the risk rows "
            "are written, so its own writing takes less wall time than this. The last "
            "column is the same file imported by the command line (`linerisk import risks "
            "FILE --by ... --allow-duplicates`, one run of the whole process), which also "
            "maps and checks every row as it would a spreadsheet and records where each "
            "risk came from.\n\n"
            + table(
                (
                    "scale",
                    "risks",
                    "geopandas write s",
                    "linerisk import s",
                    "ratio",
                    "µs per risk",
                    "SQLite writing alone, one process s",
                    "`linerisk import` command s",
                ),
                rows,
            )
        )
    if args.only in (None, "queries"):
        if not keep.exists():
            bench_import(scale, 1, keep=keep, baseline=False)
        rows = bench_queries(keep, args.repeats or 5, scale)
        sections[f"Queries on the {scale} register (issue: national scale, target 4)"] = (
            f"The register built by the import above ({scale} scale). Python: a fresh "
            "process opens the register and runs the query once (median over runs; "
            "opening is listed separately). CLI: the whole `linerisk risk list ... --format "
            "json` process. Targets: under 0.3 s from Python, under 0.8 s from the CLI. "
            "For reference, not targets: the whole processes of the agenda, the map and "
            "the export of one police station, the counts of every party, one line's patrol "
            "frequencies, a week's file imported (a dry run) and a change of patrol "
            "frequency (which writes, so it runs last), on the same register.\n\n"
            + table(("query", "risks", "Python s", "CLI s", "met"), rows)
        )
    shutil.rmtree(keep.parent, ignore_errors=True)
    # A partial run replaces its own section and keeps the others; every run keeps
    # the hand-written summary of where the targets stand.
    sections = merge_sections(sections, keep_only=None if args.only else (SUMMARY,))
    write_report(sections, command)
    print(DOC.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
