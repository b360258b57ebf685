"""The mapping step on the 数据管理 page, as a clerk goes through it: upload the second
county's GBK 12345 export, see its first rows and the pre-filled columns, dry run (the rows
the load would quarantine, every reason, nothing written), change a column, save the mapping
as a named profile beside the warehouse, start from it, load; and only an administrator can."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from etl.load import load_file
from tests.apptest import open_page

C2 = Path(__file__).parent / "data" / "county2"
ORDERS = C2 / "03_12345工单_GBK.csv"


@pytest.fixture
def county(tmp_path, monkeypatch):
    wh = tmp_path / "wh.duckdb"
    assert load_file(C2 / "01_区划代码_320831.csv", "areas", wh, now=datetime(2024, 6, 1)).outcome == "ok"
    monkeypatch.setenv("WAREHOUSE_DB", str(wh))
    monkeypatch.delenv("ETL_PROFILE_DIR", raising=False)
    return wh


def cases(wh: Path) -> int:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.sql("SELECT count(*) FROM cases").fetchall()[0][0]
    finally:
        con.close()


def step(at):
    return next(e for e in at.expander if e.label == "导入文件：表头对应、试导入、保存方案")


def box(at, label):
    return next(s for s in at.selectbox if s.label == label)


def test_upload_map_dry_run_save_and_load(county):
    at = open_page("data")
    assert not at.exception, at.exception
    assert box(at, "数据种类").value == "cases"
    step(at).file_uploader[0].set_value((ORDERS.name, ORDERS.read_bytes(), "text/csv")).run()
    assert not at.exception, at.exception
    # the first rows as read (GBK decoded), and each field pre-filled from the known headers
    first = step(at).dataframe[0].value
    assert first["工单编号"].tolist()[:2] == ["JH2403050001", "JH2403050002"] and len(first) == 5
    assert box(at, "*事件编号").value == "工单编号" and box(at, "所属街道").value == "所属街道"
    assert box(at, "满意度").value == "满意度" and box(at, "*来源渠道").value == "工单来源"
    # dry run: three rows, each with every reason; nothing written
    at.button(key="dm_check").click().run()
    assert "试导入：读入 10 行，可导入 7 行，将隔离 3 行。" in [m.value for m in at.markdown]
    bad = step(at).dataframe[1].value
    assert bad["行号"].tolist() == [6, 8, 10]
    assert "多个区划" in bad["全部原因"].iloc[0] and "（reported_at）" in bad["全部原因"].iloc[1] \
        and bad["全部原因"].iloc[1].endswith("（village_name）")
    assert cases(county) == 0
    # the clerk decides the satisfaction column is not to be loaded: the result is stale until run again
    box(at, "满意度").select_index(0).run()
    assert "对应关系已改动，请重新试导入。" in [i.value for i in at.info]
    at.button(key="dm_check").click().run()
    assert "试导入：读入 10 行，可导入 8 行，将隔离 2 行。" in [m.value for m in at.markdown]
    # saved beside the warehouse, where --save-profile writes; offered as a starting point
    at.text_input(key="dm_profile_name").set_value("jinhu_12345").run()
    at.button(key="dm_save").click().run()
    saved = county.parent / "profiles" / "jinhu_12345.yaml"
    doc = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert doc["columns"]["case_id"] == ["工单编号"] and "satisfaction" not in doc["columns"]
    assert "satisfaction" in doc["skip"]  # left out on purpose: not matched automatically next time
    assert any("已保存方案 jinhu_12345" in s.value for s in at.success)
    at.run()  # the next run offers it (the select box is drawn above the save button)
    box(at, "表头对应方案").set_value("jinhu_12345").run()
    assert box(at, "满意度").value is None and box(at, "*事件编号").value == "工单编号"
    at.button(key="dm_load").click().run()
    assert not at.exception, at.exception
    assert any("读入 10 行，新增 8 行，更新 0 行，隔离 2 行" in s.value for s in at.success), \
        [s.value for s in at.success] + [e.value for e in at.error]
    assert cases(county) == 8


def test_only_an_administrator_gets_the_step(county):
    from streamlit.testing.v1 import AppTest

    def page():
        from ui.data_mapping import mapping_step
        from warehouse.scope import for_role

        mapping_step(for_role("town", ["320831001"]))

    at = AppTest.from_function(page).run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == ["仅系统管理员可导入数据。"] and not at.get("file_uploader")


def test_dry_run_equals_the_load(county, tmp_path):
    """The dry run's counts are the loader's, for each county file (the loader is the one doing both)."""
    from etl import dry_run

    for name, expect in (("03_12345工单_GBK.csv", (10, 7, 3)), ("04_12345_表头混合.csv", (3, 3, 0))):
        raw = dry_run.read(C2 / name, "cases")
        got = dry_run.dry_run(raw, "cases", dry_run.suggest(raw, "cases"), now=datetime(2024, 6, 1))
        assert (got.rows_read, got.would_load, got.quarantined) == expect
        f = tmp_path / name
        shutil.copy(C2 / name, f)
        res = load_file(f, "cases", county, now=datetime(2024, 6, 1))
        assert (res.rows_read, res.loaded, res.quarantined_total) == expect
