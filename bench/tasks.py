"""One benchmark task per process: ``python bench/tasks.py TASK ARGS...``.

Each prints one JSON line with its timing and memory. Called by bench/run.py.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import peak_mb, reset_peak, rss_mb
from synth import CRS, load


def prepare(scale: str) -> dict:
    syn = load(scale)
    return {"risks": len(syn.risk_x)}


def baseline_frames(syn):
    import geopandas as gpd

    net = syn.network
    segs = gpd.GeoDataFrame(
        {
            "segment": np.arange(len(net.segments)),
            "line": net._seg_line,
            "start_measure": net._seg_from,
        },
        geometry=list(syn.segment_geometries),
        crs=CRS,
    )
    police = gpd.GeoDataFrame(
        {"police": np.arange(len(net.police_areas))},
        geometry=[p.geometry for p in net.police_areas],
        crs=CRS,
    )
    neighbourhoods = gpd.GeoDataFrame(
        {"neighbourhood": np.arange(len(net.neighbourhoods))},
        geometry=[n.geometry for n in net.neighbourhoods],
        crs=CRS,
    )
    return segs, police, neighbourhoods


def baseline_pipeline(syn, segs, police, neighbourhoods):
    """What a competent analyst writes with geopandas."""
    import geopandas as gpd
    import shapely

    risks = gpd.GeoDataFrame(
        {"risk": np.arange(len(syn.risk_x))},
        geometry=gpd.points_from_xy(syn.risk_x, syn.risk_y),
        crs=CRS,
    )
    near = gpd.sjoin_nearest(risks, segs, max_distance=1000.0, distance_col="distance")
    ties = int(near.index.duplicated().sum())
    near = near[~near.index.duplicated(keep="first")]
    seg_geom = segs.geometry.values[near["index_right"].to_numpy()]
    near["measure"] = near["start_measure"] + shapely.line_locate_point(
        seg_geom, near.geometry.values
    )
    near = near.drop(columns=["index_right"])
    with_police = gpd.sjoin(near, police, how="left", predicate="within")
    with_police = with_police[~with_police.index.duplicated(keep="first")].drop(
        columns=["index_right"]
    )
    out = gpd.sjoin(with_police, neighbourhoods, how="left", predicate="within")
    out = out[~out.index.duplicated(keep="first")]
    return out, ties


def baseline_reference(scale: str) -> dict:
    syn = load(scale)
    segs, police, neighbourhoods = baseline_frames(syn)
    import geopandas  # noqa: F401  (imported before timing, as the analyst's session would)

    loaded = rss_mb()
    reset_peak()
    t = time.perf_counter()
    out, _ties = baseline_pipeline(syn, segs, police, neighbourhoods)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "risks": len(syn.risk_x),
        "rows": len(out),
        "peak_above_loaded_mb": peak_mb() - loaded,
    }


def linerisk_reference(scale: str) -> dict:
    syn = load(scale)
    net = syn.network
    loaded = rss_mb()
    reset_peak()
    t = time.perf_counter()
    ref = net.reference(syn.risk_x, syn.risk_y)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "risks": len(syn.risk_x),
        "placed": int(ref.ok.sum()),
        "peak_above_loaded_mb": peak_mb() - loaded,
    }


def compare_reference(scale: str) -> dict:
    """linerisk against the baseline oracle, row by row."""
    syn = load(scale)
    segs, police, neighbourhoods = baseline_frames(syn)
    base, ties = baseline_pipeline(syn, segs, police, neighbourhoods)
    base = base.sort_index()
    ref = syn.network.reference(syn.risk_x, syn.risk_y)
    idx = base.index.to_numpy()
    seg_b = base["segment"].to_numpy()
    seg_o = ref.segment[idx]
    same_seg = seg_b == seg_o
    # A different segment is only acceptable at equal distance (a tie).
    dist_b = base["distance"].to_numpy()
    dist_o = ref.offset[idx]
    tie = np.isclose(dist_b, dist_o, atol=1e-6)
    measure_diff = np.abs(base["measure"].to_numpy() - ref.measure[idx])
    pol_b = base["police"].fillna(-1).to_numpy().astype(int)
    nb_b = base["neighbourhood"].fillna(-1).to_numpy().astype(int)
    return {
        "seconds": 0.0,
        "rows": len(idx),
        "segment_agree": float(same_seg.mean()),
        "segment_ties": int((~same_seg & tie).sum()) + ties,
        "segment_disagree_not_tie": int((~same_seg & ~tie).sum()),
        "max_measure_diff_m": float(measure_diff[same_seg].max()) if same_seg.any() else 0.0,
        "police_agree": float((pol_b == ref.police[idx]).mean()),
        "neighbourhood_agree": float((nb_b == ref.neighbourhood[idx]).mean()),
    }


def build_cli_register(path: str, count: str) -> dict:
    """A register with the sample network and ``count`` risks spread along the line."""
    from linerisk.register import Register
    from linerisk.sample import load_sample_network

    n = int(count)
    rng = np.random.default_rng(3)
    net = load_sample_network()
    t = time.perf_counter()
    reg = Register.create(path, network=net)
    start, end = net.chainage_extent("JD")
    chainage = rng.uniform(start + 1, end - 1, n)
    # keep clear of the short chain
    brk = [b for b in net.chain_breaks if b.line == "JD"]
    for b in brk:
        inside = (chainage > b.back) & (chainage < b.ahead)
        chainage[inside] = b.back - 5
    cats = reg.settings.categories.keys()
    rows = [
        {
            "category": cats[k % len(cats)],
            "severity": ("critical", "major", "general")[k % 3],
            "found_by": "bench",
            "found_at": "2026-10-01T09:00+08:00",
            "line": "JD",
            "chainage": float(chainage[k]),
            "side": "left" if k % 2 else "right",
            "offset": float(rng.uniform(5, 900)),
        }
        for k in range(n)
    ]
    reg.add_risks(rows, allow_duplicates=True)
    reg.close()
    return {
        "seconds": time.perf_counter() - t,
        "risks": n,
        "size_mb": Path(path).stat().st_size / 1e6,
    }


def _risk_frame(syn, n: int):
    import geopandas as gpd

    rng = np.random.default_rng(5)
    cats = ["garbage", "fence_damage", "light_floating_object", "illegal_building"]
    return gpd.GeoDataFrame(
        {
            "ref": [f"R{k:07d}" for k in range(n)],
            "category": [cats[k % 4] for k in range(n)],
            "severity": [("critical", "major", "general")[k % 3] for k in range(n)],
            "found_by": ["bench"] * n,
            "found_at": ["2026-10-01T09:00:00+08:00"] * n,
            "description": [f"hazard {k}" for k in range(n)],
            "offset_hint": rng.uniform(0, 1, n),
        },
        geometry=gpd.points_from_xy(syn.risk_x[:n], syn.risk_y[:n]),
        crs=CRS,
    )


def geopandas_write(scale: str, path: str) -> dict:
    """The yardstick: geopandas writing the risk rows to a new GeoPackage."""
    syn = load(scale)
    frame = _risk_frame(syn, len(syn.risk_x))
    Path(path).unlink(missing_ok=True)
    t = time.perf_counter()
    frame.to_file(path, layer="risks", driver="GPKG", engine="pyogrio")
    return {"seconds": time.perf_counter() - t, "risks": len(frame)}


def linerisk_import(scale: str, source: str, target: str) -> dict:
    """Read the GeoPackage written above and register every risk: referencing,
    assignment, rows, history events and indexes, in one transaction."""
    from linerisk.io.layers import read_layer
    from linerisk.register import Register

    Path(target).unlink(missing_ok=True)
    Register.create(target, network=load(scale).network).close()
    # The synthetic network the register was made from is gone before the clock
    # starts (a works section's import process holds no such thing); the import
    # opens the register and loads its network from the file, as the CLI does.
    gc.collect()
    t = time.perf_counter()
    reg = Register.open(target)
    layer = read_layer(source)
    xy = shapely_xy(layer.geometries)
    rows = [
        {
            "category": r["category"],
            "severity": r["severity"],
            "found_by": r["found_by"],
            "found_at": r["found_at"],
            "description": r["description"],
            "ref": r["ref"],
            "x": x,
            "y": y,
            "crs": CRS,
        }
        for r, x, y in zip(layer.records, xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True)
    ]
    reg.add_risks(rows, allow_duplicates=True)
    seconds = time.perf_counter() - t
    count = reg.store.count_risks()
    reg.close()
    return {"seconds": seconds, "risks": count}


#: rows in the weekly file imported into the big register
WEEKLY_ROWS = 300


def weekly_file(scale: str, path: str) -> dict:
    """A week's findings to import into the register the bulk import built: 300
    risks from the middle of the scale's set (spread over the whole network, where
    a week's file covers one division), with register numbers the register does
    not have yet."""
    syn = load(scale)
    frame = _risk_frame(syn, len(syn.risk_x))
    mid = len(frame) // 2
    week = frame.iloc[mid : mid + WEEKLY_ROWS].copy()
    week["ref"] = [f"W{k:07d}" for k in range(len(week))]
    # found 45 m from where the bulk import's risks are: new hazards, not duplicates
    week["geometry"] = week.geometry.translate(45.0, 0.0)
    Path(path).unlink(missing_ok=True)
    week.to_file(path, layer="risks", driver="GPKG", engine="pyogrio")
    return {"seconds": 0.0, "risks": len(week)}


def network_register(scale: str, path: str) -> dict:
    """A register holding the scale's network and no risks (for the CLI import)."""
    from linerisk.register import Register

    Path(path).unlink(missing_ok=True)
    Register.create(path, network=load(scale).network).close()
    return {"seconds": 0.0}


def storage_floor(register: str, target: str) -> dict:
    """The floor for a register's format: SQLite alone writing the rows, attribute
    indexes, R-tree and events that ``linerisk_import`` wrote to ``register``,
    from tuples prepared in memory (nothing referenced, encoded or hashed), into
    a new file with the same tables and page size, in one transaction. Repeated values share
    one string object, as in linerisk's own columns."""
    import sqlite3
    from contextlib import closing

    from linerisk.store.rtree import rebuild_rtree

    def shared(rows: list[tuple]) -> list[tuple]:
        columns = []
        for column in zip(*rows, strict=True):
            seen: dict = {}
            columns.append([seen.setdefault(v, v) for v in column])
        return list(zip(*columns, strict=True))

    with closing(sqlite3.connect(register)) as src:
        page_size = src.execute("PRAGMA page_size").fetchone()[0]
        names = [r[1] for r in src.execute("PRAGMA table_info(risks)") if r[1] != "id"]
        ev_names = [r[1] for r in src.execute("PRAGMA table_info(risk_events)")]
        risks = shared(src.execute(f"SELECT {', '.join(names)} FROM risks ORDER BY id").fetchall())
        events = src.execute(f"SELECT {', '.join(ev_names)} FROM risk_events ORDER BY seq")
        events = shared(events.fetchall())
        boxes = np.array(src.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_risks_geom")
                         .fetchall(), dtype=float)  # fmt: skip
        tables = [r[0] for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL AND "
            "(name IN ('risks', 'risk_events') OR name = 'rtree_risks_geom')")]  # fmt: skip
        indexes = [r[0] for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
            "tbl_name IN ('risks', 'risk_events')")]  # fmt: skip
    Path(target).unlink(missing_ok=True)
    with closing(sqlite3.connect(target, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA page_size = {int(page_size)}")  # as the register's
        conn.execute("PRAGMA cache_size = -131072")  # as the register does
        for sql in tables:
            conn.execute(sql)
        conn.execute("CREATE INDEX risk_events_risk ON risk_events (risk_id)")
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO risks ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", risks
        )
        for sql in indexes:
            if "risk_events" not in sql:
                conn.execute(sql)
        ids = boxes[:, 0].astype(np.int64)
        rebuild_rtree(conn, "rtree_risks_geom", ids, *boxes[:, 1:].T)
        conn.executemany(
            f"INSERT INTO risk_events ({', '.join(ev_names)}) "
            f"VALUES ({', '.join('?' * len(ev_names))})",
            events,
        )
        conn.execute("COMMIT")
        seconds = time.perf_counter() - t
    return {"seconds": seconds, "risks": len(risks), "mb": Path(target).stat().st_size / 1e6}


def shapely_xy(geoms) -> np.ndarray:
    import shapely

    return shapely.get_coordinates(np.asarray(geoms, dtype=object))


def build_meeting_register(path: str) -> dict:
    """A 100 km scope with 5,000 risks, 300 fence pieces and 100 jurisdiction polygons."""
    from linerisk.model import Fence
    from linerisk.network import Network
    from linerisk.register import Register

    syn = load("meeting")
    net = syn.network
    rng = np.random.default_rng(9)
    fences = []
    for line in net.lines:
        start, end = net.chainage_extent(line.id)
        breaks = [(b.back, b.ahead) for b in net.chain_breaks if b.line == line.id]
        for side in ("left", "right"):
            at = start
            while at < end - 400 and len(fences) < 300:
                length = float(rng.uniform(250, 400))
                to = min(at + length, end)
                if not any(lo - 1 <= at <= hi + 1 or lo - 1 <= to <= hi + 1 for lo, hi in breaks):
                    fences.append(
                        Fence(
                            id=f"F{len(fences):04d}",
                            line=line.id,
                            side=side,
                            from_chainage=at,
                            to_chainage=to,
                            condition="damaged" if rng.random() < 0.15 else "intact",
                        )
                    )
                at = to + float(rng.uniform(0, 60))
    network = Network(
        crs=CRS,
        lines=net.lines,
        kmposts=net.kmposts,
        chain_breaks=net.chain_breaks,
        segments=net.segments,
        police_areas=net.police_areas,
        neighbourhoods=net.neighbourhoods,
        fences=fences,
    )
    Path(path).unlink(missing_ok=True)
    reg = Register.create(path, network=network)
    cats = reg.settings.categories.keys()
    rows = [
        {
            "category": cats[k % len(cats)],
            "severity": ("critical", "major", "general")[k % 3],
            "found_by": "bench 王磊",
            "found_at": f"2026-{9 + k % 3:02d}-{1 + k % 28:02d}T09:00:00+08:00",
            "description": f"第{k}处隐患：彩钢瓦固定不牢，大风天气易被吹起",
            "x": float(x),
            "y": float(y),
            "crs": CRS,
        }
        for k, (x, y) in enumerate(zip(syn.risk_x, syn.risk_y, strict=True))
    ]
    reg.add_risks(rows, allow_duplicates=True)
    counts = {
        "risks": reg.store.count_risks(),
        "fences": len(fences),
        "polygons": len(net.police_areas) + len(net.neighbourhoods),
        "km": float(sum(net.index.lengths) / 1000),
    }
    reg.close()
    return {"seconds": 0.0, **counts}


def naive_map(register: str, out: str) -> dict:
    """What one would write first: one folium.Marker with a popup per risk."""
    import folium
    import geopandas as gpd

    import linerisk.network
    import linerisk.store.rows  # noqa: F401  (both maps import these before the clock)
    from linerisk.register import Register

    reg = Register.open(register)
    t = time.perf_counter()
    frame = reg.risks_frame().to_crs("EPSG:4326")
    police = gpd.GeoDataFrame(
        {"name": [p.name for p in reg.network.police_areas]},
        geometry=[p.geometry for p in reg.network.police_areas],
        crs=CRS,
    ).to_crs("EPSG:4326")
    neighbourhoods = gpd.GeoDataFrame(
        {"name": [n.community for n in reg.network.neighbourhoods]},
        geometry=[n.geometry for n in reg.network.neighbourhoods],
        crs=CRS,
    ).to_crs("EPSG:4326")
    bounds = frame.total_bounds
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2])
    folium.GeoJson(police, name="police").add_to(fmap)
    folium.GeoJson(neighbourhoods, name="neighbourhoods").add_to(fmap)
    for _i, row in frame.iterrows():
        html = "<table>" + "".join(
            f"<tr><th>{k}</th><td>{row[k]}</td></tr>"
            for k in ("id", "category", "severity", "status", "line", "chainage", "side",
                      "offset_m", "police", "street_office", "work_area", "deadline", "description")
        ) + "</table>"  # fmt: skip
        folium.Marker(
            [row.geometry.y, row.geometry.x], popup=folium.Popup(html, max_width=400)
        ).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.save(out)
    seconds = time.perf_counter() - t
    reg.close()
    return {"seconds": seconds, "bytes": Path(out).stat().st_size}


def linerisk_map(register: str, out: str) -> dict:
    # Modules are imported before the clock starts, as folium is for the naive map.
    import pyproj  # noqa: F401  (the naive map has it through geopandas)

    import linerisk.maps.diagram
    import linerisk.maps.scope
    import linerisk.maps.style
    import linerisk.maps.tiles
    import linerisk.network
    import linerisk.store.rows  # noqa: F401  (both maps import these before the clock)
    from linerisk.maps.meeting import write_meeting_map
    from linerisk.register import Register

    reg = Register.open(register)
    t = time.perf_counter()
    write_meeting_map(reg, out, offline=True, on="2026-11-25")
    seconds = time.perf_counter() - t
    reg.close()
    return {"seconds": seconds, "bytes": Path(out).stat().st_size}


def page_ready(html: str) -> dict:
    """Seconds from navigation to ``window.lineriskReady`` in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.route("http*://**", lambda route: route.abort())
        t = time.perf_counter()
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_function("window.lineriskReady === true", timeout=60_000)
        seconds = time.perf_counter() - t
        browser.close()
    return {"seconds": seconds}


def query_setup(register: str) -> dict:
    """The two national queries: a 50 km chainage window on the longest line (from
    its 10th kilometre) and the police station with the median number of risks."""
    import sqlite3
    from contextlib import closing

    from linerisk.chainage import format_chainage

    with closing(sqlite3.connect(register)) as conn:
        line, lo = conn.execute(
            "SELECT line, min(chainage_m) FROM risks GROUP BY line "
            "ORDER BY max(chainage_m) - min(chainage_m) DESC LIMIT 1"
        ).fetchone()
        counts = conn.execute(
            "SELECT police, count(*) FROM risks WHERE police IS NOT NULL "
            "GROUP BY police ORDER BY count(*), police"
        ).fetchall()
    start = (lo // 1000 + 10) * 1000
    return {
        "seconds": 0.0,
        "line": line,
        "from": format_chainage(start),
        "to": format_chainage(start + 50_000),
        "police": counts[len(counts) // 2][0],
    }


def query_python(register: str, line: str, start: str, end: str, police: str) -> dict:
    """Open the register and run each query once, as a script would."""
    t = time.perf_counter()
    from linerisk.register import Register

    reg = Register.open(register)
    opened = time.perf_counter() - t
    t = time.perf_counter()
    window = reg.risks(line=line, chainage_from=start, chainage_to=end)
    window_s = time.perf_counter() - t
    t = time.perf_counter()
    station = reg.risks(police=police, status="open")
    station_s = time.perf_counter() - t
    reg.close()
    return {
        "seconds": window_s,
        "import_and_open": opened,
        "window": window_s,
        "window_risks": len(window),
        "station": station_s,
        "station_risks": len(station),
    }


TASKS = {
    "query_setup": query_setup,
    "query_python": query_python,
    "build_meeting_register": build_meeting_register,
    "naive_map": naive_map,
    "linerisk_map": linerisk_map,
    "page_ready": page_ready,
    "geopandas_write": geopandas_write,
    "linerisk_import": linerisk_import,
    "storage_floor": storage_floor,
    "network_register": network_register,
    "weekly_file": weekly_file,
    "prepare": prepare,
    "baseline_reference": baseline_reference,
    "linerisk_reference": linerisk_reference,
    "compare_reference": compare_reference,
    "build_cli_register": build_cli_register,
}

if __name__ == "__main__":
    result = TASKS[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(result))
