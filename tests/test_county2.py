"""A second county (金湖县 320831, not 洪泽) loaded from its own files: headers picked per
column, forgiving values, areas by name, every reason of a bad row; counts reconcile."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from etl import boundaries, profiles
from etl.__main__ import main as etl_main
from etl.load import load_file
from etl.rules.parse import parse_datetime

C2 = Path(__file__).parent / "data" / "county2"
MANIFEST = yaml.safe_load((C2 / "manifest.yaml").read_text(encoding="utf-8"))
NOW = datetime(2024, 6, 1)


@pytest.fixture(scope="module")
def county2(tmp_path_factory):
    """The manifest's files loaded in order into an empty warehouse: (path, results)."""
    wh = tmp_path_factory.mktemp("county2") / "wh.duckdb"
    return wh, [boundaries.load(C2 / e["file"], wh, datum=e["datum"], now=NOW) if e["kind"] == "boundaries"
                else load_file(C2 / e["file"], e["kind"], wh, now=NOW) for e in MANIFEST]


def sql(wh: Path, q: str, params=None) -> pl.DataFrame:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.sql(q, params=params).pl()
    finally:
        con.close()


@pytest.mark.parametrize("i", range(len(MANIFEST)), ids=[e["file"] for e in MANIFEST])
def test_every_file_gives_its_expected_outcome_and_reconciles(county2, i):
    res, exp = county2[1][i], MANIFEST[i]["expect"]
    assert res.exit_code == exp["exit"], res.message
    assert (res.rows_read, res.loaded + res.updated, res.quarantined) == \
        (exp["rows_read"], exp["loaded"], exp["quarantined"])
    assert res.rows_read == res.loaded + res.updated + res.quarantined_total
    if "profile" in exp:
        assert res.profile == exp["profile"]


def test_values_are_normalised_not_quarantined(county2):
    wh = county2[0]
    got = {r["case_id"]: r for r in sql(wh, "SELECT * FROM cases").iter_rows(named=True)}
    one = got["JH2403050001"]
    assert one["reported_at"] == datetime(2024, 3, 5, 8, 5)          # +08:00 kept as local time
    assert got["JH2403050008"]["reported_at"] == datetime(2024, 3, 8, 9, 0)  # Z → Asia/Shanghai
    assert one["deadline_at"] == datetime(2024, 3, 12, 8, 5)          # Tue + 5 working days
    assert got["JH2403050003"]["deadline_at"] == datetime(2024, 3, 9, 10)   # 3天
    assert got["JH2403050004"]["deadline_at"] == datetime(2024, 3, 7, 11)   # 24小时
    assert got["JH2403050008"]["deadline_at"] == datetime(2024, 3, 11, 9)   # a date stays a date
    assert {r["source_channel"] for r in got.values()} == {"12345"}  # 电话/网站/微信/APP/市长信箱
    assert got["JH2403050002"]["satisfaction"] is None and got["JH2403050003"]["satisfaction"] is None
    assert got["JH2403050008"]["satisfaction"] == "满意"               # 非常满意
    assert got["JH2403050003"]["citizen_resolved"] is True            # 已解决


def test_areas_resolved_by_name_and_village_code(county2):
    got = dict(sql(county2[0], "SELECT case_id, area_code FROM cases").iter_rows())
    assert got["JH2403050002"] == "320831001001"  # 黎城街道 + 城南居委会 = 城南社区
    assert got["JH2403050003"] == "320831103202"  # a village code where no grid is known
    assert got["JH2403050004"] == "320831101"     # 金南 = 金南镇 (no village named)
    assert got["JH2403050006"] == "320831103201"  # 新建 inside 塔集镇, though 戴楼街道 has one too
    assert "JH2403050005" not in got              # 新建村 alone: two villages, not a guess


def test_a_bad_row_lists_every_reason(county2):
    q = sql(county2[0], "SELECT line_no, column_name, reason_key, reason_zh, raw_row FROM quarantine "
                        "WHERE file_name LIKE '03_%' ORDER BY line_no")
    rows = {r["line_no"]: r for r in q.iter_rows(named=True)}
    two = rows[8]  # bad date and an unknown community, both named at once
    assert two["reason_key"] == "bad_date" and two["column_name"] == "reported_at, village_name"
    assert "（reported_at）" in two["reason_zh"] and "找不到" in two["reason_zh"] and two["reason_zh"].endswith("（village_name）")
    assert rows[6]["reason_key"] == "ambiguous_area" and "多个区划" in rows[6]["reason_zh"]
    assert json.loads(rows[6]["raw_row"])["所属社区"] == "新建村"


def test_categories_become_analytic_classes_and_unmapped_ones_are_listed(county2, tmp_path, monkeypatch):
    from warehouse import taxonomy

    wh = county2[0]
    got = dict(sql(wh, "SELECT case_id, category FROM cases").iter_rows())
    assert got["JH2403050003"] == "治安隐患"  # 12345 大类 社会治安 → the class the report counts
    assert got["JH2403100002"] == "治安隐患"  # no 大类 in the file: the type's class
    assert got["JH2403050010"] == "自然资源"  # unknown: kept as written …
    assert taxonomy.unmapped(wh).rows() == [("自然资源", 1)]  # … and listed
    assert "自然资源（1件）" in taxonomy.data_note(wh)
    # a county's own words beside its warehouse extend the table
    (tmp_path / "taxonomy.yaml").write_text("classes: {公共服务: [自然资源]}\naccidents: [塌方]\n", encoding="utf-8")
    monkeypatch.setenv("CASE_TAXONOMY", str(tmp_path / "taxonomy.yaml"))
    assert taxonomy.class_of(wh)["自然资源"] == "公共服务" and "'塌方'" in taxonomy.accident_sql(wh)
    assert taxonomy.unmapped(wh).rows() == [("自然资源", 1)]  # stored cases change when loaded again


def test_header_matching_normalises_and_picks_per_column():
    heads = ["工单编号 ", "事件类型（小类）", "网格编码【必填】", "*上报时间", "受理时间", "办结时间", "满意度", "诉求内容"]
    got = profiles.pick("cases", heads).match(heads)
    assert got == {"case_id": "工单编号 ", "case_type": "事件类型（小类）", "area_code": "网格编码【必填】",
                   "reported_at": "*上报时间", "accepted_at": "受理时间", "closed_at": "办结时间",
                   "satisfaction": "满意度", "description": "诉求内容"}
    assert profiles.pick("cases", heads).defaults == {"source_channel": "12345"}  # 工单编号 → 12345
    assert profiles.pick("areas", ["区划代码", "名称", "面积（平方公里）"]).match(
        ["区划代码", "名称", "面积（平方公里）"])["area_km2"] == "面积（平方公里）"
    assert profiles.normalise_header("ＡＢＣ　编号") == "abc编号"


def test_outlines_set_geometry_only_and_bounds_are_queryable(county2):
    from warehouse.areas import bounds

    wh = county2[0]
    county = sql(wh, "SELECT name, level, parent_code, geometry, area_km2 FROM area WHERE code = '320831'").row(0)
    assert county[:3] == ("金湖县", "county", "320800")  # parent and kind untouched
    assert json.loads(county[3])["type"] == "MultiPolygon" and 1300 < county[4] < 1500  # 金湖县 ≈ 1393 km²
    assert bounds(path=wh) == pytest.approx((118.814312, 32.798908, 119.364171, 33.212555))
    town = sql(wh, "SELECT geometry FROM area WHERE code = '320831001'")["geometry"][0]
    lon, lat = json.loads(town)["coordinates"][0][0]
    assert (lon, lat) == pytest.approx(boundaries.wgs84_to_gcj02(119.0, 33.0))  # shifted to GCJ-02 …
    # … by the published formula (reference value of the coordtransform library for 116.404, 39.915)
    assert boundaries.wgs84_to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164))
    assert (lon - 119.0, lat - 33.0) == (pytest.approx(0.00534, abs=1e-5), pytest.approx(-0.00180, abs=1e-5))
    assert sql(wh, "SELECT count(*) AS n FROM area WHERE code = '320831103' AND geometry IS NOT NULL")["n"][0] == 1
    q = sql(wh, "SELECT raw_row FROM quarantine WHERE file_name LIKE '02_%'")
    assert json.loads(q["raw_row"][0]) == {"名称": "不存在镇"}


def test_a_zipped_shapefile_loads_and_geojson_is_refused_as_a_table(tmp_path):
    import io
    import zipfile

    import shapefile

    wh = tmp_path / "wh.duckdb"
    load_file(C2 / MANIFEST[0]["file"], "areas", wh, now=NOW)
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding="gbk") as w:
        w.field("XZQDM", "C", 12)
        w.field("XZQMC", "C", 40)
        w.poly([[[119.0, 33.0], [119.0, 33.1], [119.1, 33.1], [119.1, 33.0], [119.0, 33.0]]])
        w.record("320831107", "吕良镇")
    z = tmp_path / "towns.zip"
    with zipfile.ZipFile(z, "w") as f:
        for ext, buf in (("shp", shp), ("shx", shx), ("dbf", dbf)):
            f.writestr(f"towns.{ext}", buf.getvalue())
    res = boundaries.load(z, wh, now=NOW)
    assert (res.outcome, res.rows_read, res.updated) == ("ok", 1, 1), res.message
    refused = load_file(C2 / "outline_320831_jinhu.geojson", "areas", wh, now=NOW)
    assert refused.exit_code == 2 and "--kind boundaries" in refused.message


def test_refused_file_still_counts_its_rows(tmp_path):
    f = tmp_path / "no_ids.csv"
    f.write_text("姓名,网格编码\n张三,1\n李四,2\n", encoding="utf-8")
    res = load_file(f, "persons", tmp_path / "wh.duckdb")
    assert res.outcome == "failed" and res.rows_read == 2 and "--map" in res.message


def test_cli_map_and_saved_profile(tmp_path, monkeypatch, capsys):
    wh = tmp_path / "wh.duckdb"
    load_file(C2 / MANIFEST[0]["file"], "areas", wh, now=NOW)
    f = tmp_path / "odd.csv"
    f.write_text("单号,类别,位置,时间,渠道\nX1,邻里纠纷,320831001001001,2024-03-05 08:00,电话\n", encoding="utf-8")
    # no profile knows these headers: refused, then mapped by hand and saved
    assert etl_main(["load", "--db", str(wh), "--kind", "cases", str(f)]) == 2
    code = etl_main(["load", "--db", str(wh), "--kind", "cases", str(f), "--json", "--save-profile", "county_x",
                     "--map", "单号=case_id,类别=case_type,位置=area_code,时间=reported_at,渠道=source_channel"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rows_read"] == 1 and out["quarantined"] == {"unknown_case_type": 1}, out
    assert code == 1
    saved = tmp_path / "profiles" / "county_x.yaml"  # beside the warehouse, not in the package
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["columns"]["case_id"] == ["单号"]
    assert "county_x" in profiles.all_profiles(tmp_path / "profiles")
    assert etl_main(["load", "--db", str(wh), "--kind", "cases", "--map", "单号=nope", str(f)]) == 2


def test_offsets_and_local_times_parse_to_the_same_instant():
    got = parse_datetime(pl.Series(["2024-03-05T08:05:00+08:00", "2024-03-05T00:05:00Z",
                                    "2024-03-05 08:05:00+0800", "2024-03-05T08:05:00.5-05:00",
                                    "2024-03-05 08:05:00", "not a date"])).to_list()
    assert got == [datetime(2024, 3, 5, 8, 5)] * 3 + [datetime(2024, 3, 5, 21, 5, 0, 500000),
                                                      datetime(2024, 3, 5, 8, 5), None]


def test_posts_link_to_the_loaded_county_without_place_columns_or_hongze_landmarks(county2, tmp_path):
    import shutil

    from etl.opinion.gazetteer import Linker, build_gazetteer

    wh = tmp_path / "wh.duckdb"
    shutil.copy(county2[0], wh)
    (tmp_path / "landmarks.csv").write_text("town_code,name\n320831103,荷花荡景区\n", encoding="utf-8")
    posts = tmp_path / "posts.csv"
    posts.write_text("信息编号,来源平台,发布时间,内容\n"
                     "P1,微博,2024-03-05 10:00,塔集村修路扬尘太大\n"
                     "P2,微博,2024-03-05 11:00,荷花荡景区停车难\n"
                     "P3,微博,2024-03-05 12:00,三河闸今天开闸放水\n", encoding="utf-8")
    res = load_file(posts, "opinion", wh, now=NOW)
    assert res.outcome == "ok", res.message
    got = dict(sql(wh, "SELECT post_id, area_code FROM opinion_post").iter_rows())
    assert got == {"P1": "320831103202", "P2": "320831103", "P3": None}  # 三河闸 is 洪泽's, not 金湖's 101
    hongze = pl.DataFrame({"code": ["320813", "320813101"], "name": ["洪泽区", "蒋坝镇"],
                           "level": ["county", "town"], "lon": [118.8, 118.8], "lat": [33.3, 33.3]})
    assert Linker(build_gazetteer(hongze)).link("三河闸放水")[1] == "320813101"  # its own county still links


def test_a_filled_template_loads(county2, tmp_path):
    import shutil

    import openpyxl

    from etl.templates import template_xlsx

    wh = tmp_path / "wh.duckdb"
    shutil.copy(county2[0], wh)
    f = tmp_path / "cases.xlsx"
    f.write_bytes(template_xlsx("cases"))
    wb = openpyxl.load_workbook(f)
    ws = wb.worksheets[0]
    heads = [c.value for c in ws[1]]
    assert heads[:2] == ["*事件编号", "*事件类型"] and "说明" in wb.sheetnames
    row = {"*事件编号": "T1", "*事件类型": "邻里纠纷", "*来源渠道": "网格员", "*网格编码": "320831001001001",
           "*上报时间": "2024-03-05 08:00"}
    ws.append([row.get(h) for h in heads])
    wb.save(f)
    res = load_file(f, "cases", wh, now=NOW)
    assert (res.outcome, res.rows_read, res.loaded) == ("ok", 1, 1), res.message


def test_data_page_for_the_second_county(county2, monkeypatch):
    from tests.apptest import open_page

    monkeypatch.setenv("WAREHOUSE_DB", str(county2[0]))
    at = open_page("data")
    assert not at.exception, at.exception
    assert "未对应分析类别的事件类别" in [s.value for s in at.subheader]  # 自然资源 listed
    assert at.expander[0].label == "开始使用：导入一个县（区）的数据"
    assert {"01 areas", "03 persons", "04 cases"} <= {b.label for b in at.get("download_button")}
