"""``linerisk import`` and :func:`linerisk.io.importing.import_layer`: any file GDAL reads
into any layer, columns matched or mapped, coordinates checked before anything is
written, and every refusal one sentence."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from cli_run import run_cli as run

from linerisk.crs import transform_xy
from linerisk.errors import LineriskError
from linerisk.gcj02 import wgs84_to_bd09, wgs84_to_gcj02
from linerisk.io.importing import import_layer, read_source
from linerisk.io.mapping import FieldMapping, MappingError, resolve_columns
from linerisk.sample import sample_dir

OFFICER = "天津站派出所 王磊"
CRS = "EPSG:4548"


def refused(result, needle: str) -> str:
    """Exit 1, nothing on stdout, one sentence on stderr containing ``needle``."""
    code, out, err = result
    assert code == 1, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("linerisk: ") and "Traceback" not in err
    assert needle in lines[0], lines[0]
    return lines[0]


def _points(net, chainages, side="left", offset=30.0):
    """Register-CRS x, y of points at chainages of line JD."""
    n = len(chainages)
    ref = net.place(["JD"] * n, chainages, [side] * n, [offset] * n)
    return ref.x, ref.y


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _layer_bytes(reg, kind: str) -> str:
    rows, geoms = reg.store.read_layer(kind)
    return json.dumps([rows, [g.wkt if g is not None else None for g in geoms]], default=str)


# ----------------------------------------------------------------------------- mapping


def test_columns_are_matched_by_name_short_name_and_chinese_header():
    cols = resolve_columns(
        "risks", ["里程", "类别", "责任单位", "方位", "距线路距离（米）", "descr"]
    )
    assert cols == {
        "category": "类别",
        "chainage": "里程",
        "description": "descr",
        "offset_m": "距线路距离（米）",
        "responsible_unit": "责任单位",
        "side": "方位",
    }
    seg = resolve_columns("segments", ["编号", "from_ch", "终点里程", "工务段", "车间", "工区"])
    assert seg["from_chainage"] == "from_ch" and seg["to_chainage"] == "终点里程"
    m = FieldMapping.from_pairs(["chainage=桩号", "category=分类"])
    assert resolve_columns("risks", ["桩号", "分类", "里程"], m) == {
        "category": "分类",
        "chainage": "桩号",
    }
    with pytest.raises(MappingError, match="unknown field 'chainge' for risks"):
        resolve_columns("risks", ["a"], FieldMapping.from_pairs(["chainge=a"]))
    with pytest.raises(MappingError, match=r"column '桩号' \(for chainage\) is not in the file"):
        resolve_columns("risks", ["a"], FieldMapping.from_pairs(["chainage=桩号"]))
    with pytest.raises(MappingError, match="a mapping is written FIELD=COLUMN"):
        FieldMapping.from_pairs(["chainage"])


def test_mapping_files_in_toml_and_json(tmp_path):
    toml = tmp_path / "m.toml"
    toml.write_text(
        'sheet = "台账"\n[fields]\nchainage = "桩号"\n[categories]\n"铁皮房" = '
        '"hard_floating_object"\n[sides]\n"上行" = "right"\n"下行" = "left"\n'
        '[statuses]\n"已处理" = "cleared"\n[defaults]\nline = "JD"\n',
        encoding="utf-8",
    )
    m = FieldMapping.from_file(toml)
    assert m.sheet == "台账" and m.fields == {"chainage": "桩号"}
    assert m.side_words()["上行"] == "right" and m.defaults == {"line": "JD"}
    plain = tmp_path / "m.json"
    plain.write_text(json.dumps({"chainage": "桩号", "category": "分类"}), encoding="utf-8")
    assert FieldMapping.from_file(plain).fields == {"chainage": "桩号", "category": "分类"}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(MappingError, match="cannot read mapping file"):
        FieldMapping.from_file(bad)


# ----------------------------------------------------------------------------- Shapefile


def _zipped_shapefile(tmp_path, sample_network, cpg: bool = True) -> Path:
    """Risk points in a zipped Shapefile with Chinese column names, in EPSG:4527
    (CGCS2000 Gauss-Krüger zone 39, zone number in the easting), encoded in GBK as
    Chinese desktop GIS writes them (a column name has at most 10 bytes: five
    Chinese characters in GBK, three in UTF-8)."""
    import geopandas as gpd

    x, y = _points(sample_network, [4300.0, 9300.0, 16300.0], "right", 40.0)
    ex, ey = transform_xy(x, y, CRS, "EPSG:4527")
    frame = gpd.GeoDataFrame(
        {
            "桩号": ["K4+300", "K9+300", "K16+300"],
            "隐患分类": ["彩钢瓦", "地膜", "垃圾"],
            "责任单位": ["东新街道", "丰年村街道", "无瑕街道"],
            "发现人": [OFFICER] * 3,
            "整改状态": ["未整改", "整改中", "已销号"],
            "发现日期": ["2026-09-01", "2026-09-02", "2026-09-03"],
            "销号日期": [None, None, "2026-09-10"],
        },
        geometry=gpd.points_from_xy(ex, ey),
        crs="EPSG:4527",
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "隐患.shp", engine="pyogrio", encoding="GBK")
    out = tmp_path / "隐患.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for part in folder.iterdir():
            if cpg or part.suffix != ".cpg":
                zf.write(part, f"隐患/{part.name}")
    return out


@pytest.fixture
def zipped_shapefile(tmp_path, sample_network) -> Path:
    return _zipped_shapefile(tmp_path, sample_network)


def test_zipped_shapefile_with_chinese_columns_imports_with_map(zipped_shapefile, empty_register):
    reg = empty_register
    source = read_source(zipped_shapefile)
    assert source.crs == "EPSG:4527" and "隐患分类" in source.columns
    mapping = FieldMapping.from_pairs(["category=隐患分类", "chainage=桩号"])
    report = import_layer(reg, "risks", zipped_shapefile, mapping=mapping, by=OFFICER)
    assert (report.added, report.rejected) == (3, ())
    assert report.columns["responsible_unit"] == "责任单位"  # recognised without --map
    risks = reg.risks()
    assert [r.category for r in risks] == [
        "hard_floating_object",
        "light_floating_object",
        "garbage",
    ]
    assert [r.status.value for r in risks] == ["assigned", "rectifying", "cleared"]
    # placed by its coordinates (the file's CRS), which agree with the stated chainage
    assert [r.location.chainage for r in risks] == ["K4+300", "K9+300", "K16+300"]
    assert all(r.location.side.value == "right" for r in risks)
    assert [r.located_by for r in risks] == ["coordinates"] * 3


def test_a_shapefile_without_its_code_page_file_needs_the_encoding(
    tmp_path, sample_network, empty_register
):
    path = _zipped_shapefile(tmp_path, sample_network, cpg=False)
    source = read_source(path, encoding="GBK")
    assert "隐患分类" in source.columns and source.records[0]["隐患分类"] == "彩钢瓦"
    mapping = FieldMapping.from_pairs(["category=隐患分类"])
    report = import_layer(
        empty_register, "risks", path, mapping=mapping, encoding="GBK", by=OFFICER
    )
    assert report.added == 3


def test_chinese_columns_via_cli_and_by_chainage(zipped_shapefile, sample_register_path):
    code, out, err = run(
        "--register", sample_register_path, "import", "risks", zipped_shapefile,
        "--map", "category=隐患分类", "--map", "chainage=桩号", "--by", OFFICER, "--dry-run",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("dry run, nothing written: risks, 3 read, 3 added, 0 updated")
    # placed by chainage, the file lacks the side and the distance: each row says so
    code, out, err = run(
        "--register", sample_register_path, "import", "risks", zipped_shapefile,
        "--map", "category=隐患分类", "--map", "chainage=桩号", "--locate-by", "chainage",
        "--by", OFFICER,
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("imported: risks, 3 read, 0 added, 0 updated, 0 unchanged")
    assert "  0: no side given (左侧/右侧 or 上行/下行)" in out


# ----------------------------------------------------------------------------- coordinates


@pytest.fixture
def risk_points(sample_network):
    x, y = _points(sample_network, [5200.0, 8000.0, 15000.0])
    lon, lat = transform_xy(x, y, CRS, "EPSG:4326")
    return x, y, lon, lat


def test_cgcs2000_and_its_gauss_kruger_projections(tmp_path, sample_register, risk_points):
    x, y, _lon, _lat = risk_points
    reg = sample_register
    before = {r.id for r in reg.risks()}
    header = ["x", "y", "category", "found_by"]
    for crs in ("EPSG:4490", "EPSG:4527", "EPSG:4548"):
        ex, ey = transform_xy(x, y, CRS, crs)
        path = _write_csv(
            tmp_path / "p.csv",
            header,
            [[a, b, "burning", "甲"] for a, b in zip(ex, ey, strict=True)],
        )
        report = import_layer(reg, "risks", path, crs=crs, dry_run=True, by=OFFICER)
        assert report.added == 3, (crs, report.rejected)
    ex, ey = transform_xy(x, y, CRS, "EPSG:4527")
    path = _write_csv(
        tmp_path / "z.csv", header, [[a, b, "burning", "甲"] for a, b in zip(ex, ey, strict=True)]
    )
    report = import_layer(reg, "risks", path, crs="EPSG:4527", by=OFFICER)
    added = [r for r in reg.risks() if r.id not in before]
    assert [r.location.chainage for r in added] == ["K5+200", "K8+000", "K15+000"]
    assert [round(r.location.offset_m, 2) for r in added] == [30.0, 30.0, 30.0]


def test_projected_numbers_without_a_crs_are_refused_with_the_fix(
    tmp_path, sample_register_path, risk_points
):
    x, y, _lon, _lat = risk_points
    header = ["x", "y", "category", "found_by"]
    plain = _write_csv(
        tmp_path / "p.csv", header, [[a, b, "burning", "甲"] for a, b in zip(x, y, strict=True)]
    )
    zoned = _write_csv(
        tmp_path / "z.csv",
        header,
        [[a + 39e6, b, "burning", "甲"] for a, b in zip(x, y, strict=True)],
    )
    reg = sample_register_path
    line = refused(
        run("--register", reg, "import", "risks", plain, "--by", OFFICER),
        "p.csv: the coordinates look projected (metres), not longitude/latitude",
    )
    assert line.endswith("give --crs EPSG:4548")
    line = refused(
        run("--register", reg, "import", "risks", zoned, "--by", OFFICER),
        "not longitude/latitude",
    )
    assert line.endswith("give --crs EPSG:4527")
    refused(
        run("--register", reg, "import", "risks", zoned, "--by", OFFICER, "--crs", "EPSG:4548"),
        "z.csv: the eastings carry a zone number (e.g. 39,523,7",
    )
    refused(
        run("--register", reg, "import", "risks", zoned, "--by", OFFICER, "--crs", "EPSG:4548"),
        "but EPSG:4548 expects none; try --crs EPSG:4527",
    )
    refused(
        run("--register", reg, "import", "risks", plain, "--by", OFFICER, "--crs", "EPSG:4527"),
        "the eastings have no zone number",
    )
    refused(
        run("--register", reg, "import", "risks", plain, "--by", OFFICER, "--crs", "EPSG:99999"),
        "unknown coordinate reference system 'EPSG:99999'",
    )
    zh = refused(
        run("--register", reg, "import", "risks", plain, "--by", OFFICER, lang="zh"), "p.csv："
    )
    assert "坐标像是投影坐标（米），不是经纬度；请加 --crs EPSG:4548" in zh


def test_swapped_and_far_away_coordinates_are_refused(tmp_path, sample_register_path, risk_points):
    _x, _y, lon, lat = risk_points
    header = ["经度", "纬度", "类别", "发现人"]
    swapped = _write_csv(
        tmp_path / "s.csv", header, [[b, a, "垃圾", "甲"] for a, b in zip(lon, lat, strict=True)]
    )
    far = _write_csv(
        tmp_path / "f.csv",
        header,
        [[a + 0.8, b, "垃圾", "甲"] for a, b in zip(lon, lat, strict=True)],
    )
    reg = sample_register_path
    refused(
        run("--register", reg, "import", "risks", swapped, "--by", OFFICER),
        "s.csv: longitude and latitude look swapped (a point has longitude 39.",
    )
    refused(
        run("--register", reg, "import", "risks", far, "--by", OFFICER),
        "f.csv lies far from every line of the register: its nearest feature is 53.0 km",
    )
    zh = refused(
        run("--register", reg, "import", "risks", far, "--by", OFFICER, lang="zh"), "f.csv"
    )
    assert "距台账中所有线路都很远" in zh and "--crs gcj02" in zh
    # GeoJSON says WGS 84; metres in it are refused all the same
    gj = tmp_path / "m.geojson"
    gj.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"category": "garbage", "found_by": "甲"},
                        "geometry": {"type": "Point", "coordinates": [523729.0, 4331000.0]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    refused(
        run("--register", reg, "import", "risks", gj, "--by", OFFICER),
        "not longitude/latitude though the file says EPSG:4326",
    )


def test_gcj02_and_bd09_are_converted_first(tmp_path, empty_register, risk_points):
    _x, _y, lon, lat = risk_points
    header = ["经度", "纬度", "类别", "发现人"]
    glon, glat = wgs84_to_gcj02(lon, lat)
    blon, blat = wgs84_to_bd09(lon, lat)
    gcj = _write_csv(
        tmp_path / "g.csv", header, [[a, b, "垃圾", "甲"] for a, b in zip(glon, glat, strict=True)]
    )
    bd = _write_csv(
        tmp_path / "b.csv", header, [[a, b, "垃圾", "甲"] for a, b in zip(blon, blat, strict=True)]
    )
    report = import_layer(empty_register, "risks", gcj, crs="gcj02", by=OFFICER)
    assert "converted from GCJ-02" in report.messages[0].en
    got = [r.location for r in empty_register.risks()]
    assert [loc.chainage for loc in got] == ["K5+200", "K8+000", "K15+000"]
    assert [loc.side.value for loc in got] == ["left"] * 3
    report = import_layer(
        empty_register, "risks", bd, crs="bd09", by=OFFICER, allow_duplicates=True
    )
    assert [r.location.chainage for r in empty_register.risks()[3:]] == [
        "K5+200",
        "K8+000",
        "K15+000",
    ]
    # read as WGS 84, the same GCJ-02 positions land a few hundred metres off
    plain = import_layer(
        empty_register, "risks", gcj, by=OFFICER, dry_run=True, allow_duplicates=True
    )
    assert "read as WGS 84" in plain.messages[0].en and "--crs gcj02" in plain.messages[0].en


def test_kilometre_posts_in_gcj02_are_recognised(tmp_path, sample_register_path):
    src = json.loads((sample_dir() / "kmposts.geojson").read_text(encoding="utf-8"))
    for f in src["features"]:
        lon, lat = f["geometry"]["coordinates"]
        f["geometry"]["coordinates"] = [float(v) for v in wgs84_to_gcj02(lon, lat)]
    path = tmp_path / "posts.geojson"
    path.write_text(json.dumps(src), encoding="utf-8")
    reg = sample_register_path
    refused(
        run("--register", reg, "import", "kmposts", path, "--mode", "replace"),
        "they look like GCJ-02 (phone map) coordinates: import with --crs gcj02",
    )
    code, out, err = run(
        "--register", reg, "import", "kmposts", path, "--mode", "replace", "--crs", "gcj02"
    )
    assert code == 0, err
    assert out.startswith("imported: kmposts, 20 read, 0 added, 0 updated, 20 unchanged")


# ----------------------------------------------------------------------------- geometry


def _neighbourhoods(tmp_path: Path, change) -> Path:
    data = json.loads((sample_dir() / "neighbourhoods.geojson").read_text(encoding="utf-8"))
    change(data["features"])
    path = tmp_path / "nb.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_invalid_geometries_are_named_and_repaired_on_request(tmp_path, sample_register_path):
    def bow_tie(features):
        ring = features[0]["geometry"]["coordinates"][0]
        ring[1], ring[2] = ring[2], ring[1]

    path = _neighbourhoods(tmp_path, bow_tie)
    reg = sample_register_path
    refused(
        run("--register", reg, "import", "neighbourhoods", path, "--mode", "upsert"),
        "nb.geojson: feature NB01 has an invalid geometry (feature NB01: Self-intersection",
    )
    zh = refused(
        run("--register", reg, "import", "neighbourhoods", path, "--mode", "upsert", lang="zh"),
        "nb.geojson：要素 NB01 的几何无效",
    )
    assert "可加 --repair 用 make_valid 修复" in zh
    code, out, err = run(
        "--register", reg, "import", "neighbourhoods", path, "--mode", "upsert", "--repair"
    )
    assert code == 0, err
    assert "1 updated, 23 unchanged" in out and "1 geometries repaired" in out
    assert "feature NB01: Self-intersection" in out and "repaired as a MultiPolygon" in out
    assert "linerisk check --fix" in out  # the risks keep their old parties


def test_empty_and_null_geometries_are_reported(tmp_path, sample_register_path, sample_register):
    def empty(features):
        features[2]["geometry"] = None
        features[5]["geometry"] = {"type": "Polygon", "coordinates": []}

    path = _neighbourhoods(tmp_path, empty)
    refused(
        run("--register", sample_register_path, "import", "neighbourhoods", path),
        "nb.geojson: features NB03, NB06 have no geometry (null or empty); neighbourhoods need one",
    )
    # segments may have none: theirs is cut from the line by chainage
    seg = json.loads((sample_dir() / "segments.geojson").read_text(encoding="utf-8"))
    seg["features"][0]["geometry"] = None
    seg_path = tmp_path / "seg.geojson"
    seg_path.write_text(json.dumps(seg, ensure_ascii=False), encoding="utf-8")
    report = import_layer(sample_register, "segments", seg_path, mode="replace", dry_run=True)
    assert "1 features have no geometry (JD-01)" in report.messages[0].en
    assert report.unchanged == 10


# ----------------------------------------------------------------------------- modes


def test_append_upsert_and_replace_of_a_network_layer(tmp_path, sample_register):
    reg = sample_register
    seg = json.loads((sample_dir() / "segments.geojson").read_text(encoding="utf-8"))
    seg["features"][3]["properties"]["patrol_per_week"] = 9
    path = tmp_path / "seg.geojson"
    path.write_text(json.dumps(seg, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(LineriskError, match="segments JD-01 already exists in the register"):
        import_layer(reg, "segments", path)
    report = import_layer(reg, "segments", path, mode="upsert")
    assert (report.added, report.updated, report.unchanged) == (0, 1, 9)
    assert next(s for s in reg.network.segments if s.id == "JD-04").patrol_per_week == 9
    posts = json.loads((sample_dir() / "kmposts.geojson").read_text(encoding="utf-8"))
    posts["features"] = posts["features"][:10]
    path = tmp_path / "posts.geojson"
    path.write_text(json.dumps(posts), encoding="utf-8")
    report = import_layer(reg, "kmposts", path, mode="replace")
    assert (report.added, report.unchanged, report.removed) == (0, 10, 10)
    assert len(reg.network.kmposts) == 10
    report = import_layer(reg, "kmposts", sample_dir() / "kmposts.geojson", mode="upsert")
    assert (report.added, report.unchanged) == (10, 10)
    assert reg.verify().ok


def test_refusals_leave_the_register_as_it_was(tmp_path, sample_register_path, sample_register):
    before = {k: _layer_bytes(sample_register, k) for k in ("lines", "segments", "kmposts")}
    reg = sample_register_path
    lines = json.loads((sample_dir() / "lines.geojson").read_text(encoding="utf-8"))
    lines["features"][0]["properties"]["id"] = "JX"
    path = tmp_path / "lines.geojson"
    path.write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    refused(
        run("--register", reg, "import", "lines", path, "--mode", "replace"),
        "line JD has 48 risks in the register and cannot be removed",
    )
    refused(
        run("--register", reg, "import", "risks", path, "--mode", "replace", "--by", OFFICER),
        "risks cannot be replaced: a risk leaves the register only by being cleared or withdrawn",
    )
    posts = json.loads((sample_dir() / "kmposts.geojson").read_text(encoding="utf-8"))
    posts["features"][0]["properties"]["line"] = "XX"
    ppath = tmp_path / "posts.geojson"
    ppath.write_text(json.dumps(posts), encoding="utf-8")
    refused(
        run("--register", reg, "import", "kmposts", ppath, "--mode", "replace"),
        "posts.geojson: kilometre post refers to unknown line 'XX'",
    )
    refused(
        run("--register", reg, "import", "kmposts", tmp_path / "missing.geojson"),
        "cannot read missing.geojson: no such file",
    )
    refused(
        run("--register", reg, "import", "risks", path, "--map", "chainge=id", "--by", OFFICER),
        "unknown field 'chainge' for risks",
    )
    after = {k: _layer_bytes(sample_register, k) for k in before}
    assert after == before
    assert sample_register.verify().ok


def test_geopackage_layers_and_kml(tmp_path, sample_register, empty_register):
    import pyogrio.raw

    gpkg = tmp_path / "net.gpkg"
    for kind in ("kmposts", "chain_breaks"):
        layer = read_source(sample_dir() / f"{kind}.geojson")
        wkb = shapely.to_wkb(layer.geometries)
        cols = list(layer.columns)
        data = [np.array([r[c] for r in layer.records], dtype=object) for c in cols]
        pyogrio.raw.write(
            str(gpkg), wkb, data, cols, layer=f"{kind}_v2", crs="EPSG:4326", geometry_type="Point"
        )
    with pytest.raises(LineriskError, match=r"has several layers \(kmposts_v2, chain_breaks_v2\)"):
        import_layer(sample_register, "kmposts", gpkg)
    report = import_layer(sample_register, "kmposts", gpkg, layer="kmposts_v2", mode="upsert")
    assert report.unchanged == 20
    # KML: names only; the chainage comes from the placemark name, the line by default
    kml = tmp_path / "posts.kml"
    layer = read_source(sample_dir() / "kmposts.geojson")
    pyogrio.raw.write(
        str(kml),
        shapely.to_wkb(layer.geometries),
        [np.array([r["chainage"] for r in layer.records], dtype=object)],
        ["Name"],
        driver="KML",
        crs="EPSG:4326",
        geometry_type="Point",
    )
    report = import_layer(
        sample_register,
        "kmposts",
        kml,
        mapping=FieldMapping.from_pairs(["chainage=Name"]),
        mode="replace",
    )
    assert report.unchanged == 20
    assert "the register's only line" in report.messages[0].en


def test_a_new_register_from_files_one_layer_at_a_time(tmp_path):
    from linerisk.register import Register

    reg = Register.create(tmp_path / "new.gpkg", crs=CRS)
    with pytest.raises(LineriskError, match="the register has no lines yet"):
        import_layer(reg, "kmposts", sample_dir() / "kmposts.geojson")
    for kind in ("lines", "kmposts", "chain_breaks", "segments", "police_areas"):
        report = import_layer(reg, kind, sample_dir() / f"{kind}.geojson")
        assert report.added > 0 and not report.rejected
    shutil.copy(sample_dir() / "neighbourhoods.geojson", tmp_path / "社区.geojson")
    import_layer(reg, "neighbourhoods", tmp_path / "社区.geojson")
    net = reg.network
    assert (len(net.kmposts), len(net.segments), len(net.neighbourhoods)) == (20, 10, 24)
    risk = reg.add_risk(
        category="garbage", severity="general", found_by="甲", line="JD", chainage="K5+200",
        side="left", offset=30,
    )  # fmt: skip
    assert risk.parties.street_office == "张贵庄街道"
    reg.close()


# ----------------------------------------------------------------------------- two readers


def _fields_file(tmp_path: Path) -> Path:
    """A GeoPackage with the values readers trip over: nulls, NaN, JSON text, dates."""
    import pyogrio

    path = tmp_path / "fields.gpkg"
    n = 4
    pts = shapely.points([117.1, 117.2, 117.3, 117.4], [39.1, 39.1, 39.2, 39.2])
    pyogrio.raw.write(
        str(path),
        geometry=shapely.to_wkb(pts),
        field_data=[
            np.array(["a", None, '{"k": [1, 2]}', "[3]"], dtype=object),
            np.array([1.5, np.nan, 2.0, -0.25]),
            np.array([1, 2, 3, 4], dtype=np.int64),
            np.array(["2026-11-25T09:30:00+08:00"] * n, dtype=object),
        ],
        fields=["text", "real", "count", "found_at"],
        geometry_type="Point",
        crs="EPSG:4326",
        driver="GPKG",
        layer="risks",
    )
    return path


def _geojson_with_id(tmp_path: Path) -> Path:
    """GeoJSON whose "id" property GDAL also takes as the feature id."""
    path = tmp_path / "ids.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"id": 10 + k, "name": f"p{k}"},
            "geometry": {"type": "Point", "coordinates": [117.0 + k / 10, 39.0]},
        }
        for k in range(3)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize("sample", [None, "ids", "risks.geojson", "segments.geojson"])
def test_arrow_and_feature_readers_agree(tmp_path, monkeypatch, sample):
    """read_fields gives the same names, values, fids and geometries whether
    pyarrow is installed (column-wise read) or not (feature by feature)."""
    from linerisk.io import layers

    if sample is None:
        path = str(_fields_file(tmp_path))
    elif sample == "ids":
        path = str(_geojson_with_id(tmp_path))
    else:
        path = str(sample_dir() / sample)
    results = {}
    for arrow in (True, False):
        monkeypatch.setattr(layers, "USE_ARROW", arrow)
        meta, fids, wkb, names, columns = layers.read_fields(
            path, return_fids=True, datetime_as_string=True
        )
        results[arrow] = (meta["crs"], fids.tolist(), shapely.from_wkb(wkb), names, columns)
    (crs_a, fids_a, geoms_a, names_a, cols_a), (crs_f, fids_f, geoms_f, names_f, cols_f) = (
        results[True],
        results[False],
    )
    assert crs_a == crs_f and fids_a == fids_f and names_a == names_f
    assert shapely.to_wkb(geoms_a).tolist() == shapely.to_wkb(geoms_f).tolist()
    assert cols_a == cols_f
    if sample is None:
        text, real, count, _found = cols_a
        assert text == ["a", None, {"k": [1, 2]}, [3]]
        assert real == [1.5, None, 2.0, -0.25]
        assert count == [1, 2, 3, 4]
    if sample == "ids":
        assert names_a == ["id", "name"] and cols_a[0] == [10, 11, 12]


def _file_bytes(path: Path) -> bytes:
    return Path(path).read_bytes()


def test_a_large_import_builds_its_history_in_a_child(tmp_path, sample_register_path, child_events):
    """Through the command line: 400 risks, events built by a child process, some
    with a recorded status whose history is replayed after the report events."""
    rows = []
    for i in range(400):
        m = 3000 + (i * 7919) % 8000  # K3+000 .. K10+999, clear of the chain break
        status = "assigned" if i % 4 == 0 else ""
        rows.append(["JD", f"K{m // 1000}+{m % 1000:03d}", "left" if i % 2 else "right",
                     20 + i % 300, "garbage", "甲", status])  # fmt: skip
    path = _write_csv(
        tmp_path / "big.csv",
        ["line", "chainage", "side", "offset_m", "category", "found_by", "status"],
        rows,
    )
    # a dry run goes through the child too, and leaves the register as it was; the
    # rows lie closer than the duplicate radius, on purpose
    before = _file_bytes(sample_register_path)
    code, out, err = run(
        "--register", sample_register_path, "import", "risks", path, "--by", OFFICER,
        "--dry-run", "--allow-duplicates",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("dry run, nothing written: risks, 400 read, 400 added")
    assert len(child_events) == 1 and not child_events[0].path.exists()
    assert _file_bytes(sample_register_path) == before
    code, _out, err = run(
        "--register", sample_register_path, "import", "risks", path, "--by", OFFICER,
        "--allow-duplicates",
    )  # fmt: skip
    assert code == 0, err
    assert len(child_events) == 2 and child_events[1]._proc.exitcode == 0
    assert not child_events[1].path.exists()
    from linerisk.register import Register

    with Register.open(sample_register_path) as reg:
        assert reg.store.count_risks() == 48 + 400
        report = reg.verify()
        assert report.ok, report.problems
        new = [r for r in reg.risks() if r.found_by == "甲"]
        assert sum(r.status.value == "assigned" for r in new) == 100
        # each new risk's history starts with its report, then the replayed assignment
        actions = [e["action"] for e in reg.store.iter_events(new[0].id)]
        assert actions[0] == "report"
