"""A county's own value words (values.yaml beside its warehouse) merged over the package's:
rows that used the county's words load once the file names them; no package file is edited."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from etl.load import load_file
from etl.rules import county_values
from etl.rules.kinds import VALUES

C2 = Path(__file__).parent / "data" / "county2"
NOW = datetime(2024, 6, 1)
ORDERS = ("工单编号,事件类型,工单来源,网格编码,上报时间,办理时限,满意度,是否解决\n"
          "V1,邻里纠纷,一企来,320831001001001,2024-03-05 08:00,3工作天,差评,已办\n"
          "V2,邻里纠纷,电话,320831001001001,2024-03-05 09:00,5个工作日,未反馈,未办\n"
          "V3,邻里纠纷,电话,320831001001001,2024-03-05 10:00,5个工作日,满意,是\n")


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv("ETL_VALUES", raising=False)
    wh = tmp_path / "wh.duckdb"
    assert load_file(C2 / "01_区划代码_320831.csv", "areas", wh, now=NOW).outcome == "ok"
    return wh


def test_county_words_load_rows_the_package_words_quarantine(warehouse, tmp_path):
    package_file = Path(county_values.__file__).with_name("values.yaml").read_bytes()
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    before = load_file(orders, "cases", warehouse, now=NOW)
    # V1: channel, duration unit, satisfaction and yes/no all unknown (every reason at once); V2: 未反馈, 未办
    assert (before.rows_read, before.loaded, before.quarantined_total) == (3, 1, 2), before.quarantined
    (tmp_path / "values.yaml").write_text(  # beside the warehouse
        'channels: {"12345": [一企来]}\nsatisfaction: {不满意: [差评]}\nblank: {satisfaction: [未反馈]}\n'
        "true_words: [已办]\nfalse_words: [未办]\nduration_units: {workdays: [工作天]}\n", encoding="utf-8")
    orders.write_text(ORDERS, encoding="gbk")  # other bytes (a repeat of the same file would be skipped)
    after = load_file(orders, "cases", warehouse, now=NOW)
    assert (after.rows_read, after.loaded + after.updated, after.quarantined) == (3, 3, {}), after.message
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = {r[0]: r[1:] for r in con.sql("SELECT case_id, source_channel, satisfaction, citizen_resolved, "
                                         "deadline_at FROM cases").fetchall()}
    con.close()
    assert rows["V1"] == ("12345", "不满意", True, datetime(2024, 3, 8, 8))  # Tue + 3 working days
    assert rows["V2"][1:3] == (None, False)
    assert Path(county_values.__file__).with_name("values.yaml").read_bytes() == package_file
    assert "一企来" not in VALUES["channels"]["12345"]  # the package's table is not changed in memory


def test_any_choice_field_by_name_and_a_wrong_word_refuses_the_load(warehouse, tmp_path):
    (tmp_path / "values.yaml").write_text("enums: {residence_type: {流动: [外地户籍]}}\n", encoding="utf-8")
    merged = county_values.merged(warehouse)
    spec = county_values.with_words(county_values.KINDS["persons"], merged)
    assert spec.field("residence_type").values["外地户籍"] == "流动"
    (tmp_path / "values.yaml").write_text('channels: {"12346": [一企来]}\n', encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    res = load_file(orders, "cases", warehouse, now=NOW)
    assert res.outcome == "failed" and "values.yaml" in res.message and "'12346'" in res.message
