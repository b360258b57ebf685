"""Names instead of codes in every kind that carries an area (residents, grid staff, SSRA,
surveys), through the resolver the 12345 work orders use: town / village / grid names, full
or short; ambiguity and unknown names quarantined with their reason, never guessed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl import area_names
from etl.identity import check_digit
from etl.load import load_file

C2 = Path(__file__).parent / "data" / "county2"
NOW = datetime(2024, 6, 1)


def idn(seq: int) -> str:
    f = f"32083119800101{seq:03d}"
    return f + check_digit(f)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    wh = tmp_path_factory.mktemp("names") / "wh.duckdb"
    assert load_file(C2 / "01_区划代码_320831.csv", "areas", wh, now=NOW).outcome == "ok"
    return wh


def load(wh: Path, kind: str, text: str):
    f = wh.parent / f"{kind}.csv"
    f.write_text(text, encoding="utf-8")
    return load_file(f, kind, wh, now=NOW)


def table(wh: Path, sql: str) -> dict:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return dict(con.sql(sql).fetchall())
    finally:
        con.close()


def test_residents_by_grid_name(warehouse):
    res = load(warehouse, "persons",
               "身份证号,人口类型,所属街道,所属社区,网格名称\n"
               f"{idn(1)},户籍,黎城街道,城南社区,城南社区第一网格\n"   # full grid name
               f"{idn(2)},户籍,黎城,城南居委会,第二网格\n"             # short names, grid inside its 社区
               f"{idn(3)},户籍,,塔集村,第一网格\n"                   # 塔集村 alone: unique in the county
               f"{idn(4)},户籍,,,第一网格\n"                         # two 第一网格 in the county
               f"{idn(5)},户籍,黎城街道,城南社区,\n")                 # a 社区, but residents live in grids
    assert (res.rows_read, res.loaded) == (5, 3), res.quarantined
    assert res.quarantined == {"ambiguous_area": 1, "bad_area_code": 1}
    assert sorted(table(warehouse, "SELECT area_code, count(*) FROM person GROUP BY 1")) == \
        ["320831001001001", "320831001001002", "320831103202001"]


def test_ssra_staff_and_surveys_by_town_or_village_name(warehouse):
    ssra = load(warehouse, "ssra",
                "评估编号,项目名称,事项类型,所属镇街,所属村居,提交日期,是否开展评估\n"
                "S1,城南旧改,征地拆迁,黎城街道,城南社区,2024-03-01,是\n"
                "S2,塔集码头,重大工程,塔集镇,,2024-03-02,是\n"
                "S3,新建道路,重大工程,,新建村,2024-03-03,是\n"         # two 新建村: not a guess
                "S4,不存在项目,重大工程,不存在镇,,2024-03-04,是\n")
    assert (ssra.loaded, ssra.quarantined) == (2, {"ambiguous_area": 1, "unknown_area_name": 1})
    assert table(warehouse, "SELECT ssra_id, area_code FROM ssra") == {"S1": "320831001001", "S2": "320831103"}
    staff = load(warehouse, "grid_staff", "所属镇街,所属村居,岗位,人数,统计日期\n"
                                          "塔集镇,新建村,网格员,2,2024-05-01\n金南镇,,调解员,3,2024-05-01\n")
    assert (staff.loaded, staff.quarantined_total) == (2, 0), staff.quarantined
    assert table(warehouse, "SELECT area_code, staff_count FROM grid_staff") == {"320831103201": 2, "320831101": 3}
    survey = load(warehouse, "surveys", "问卷编号,调查季度,所属村居,网格名称,安全感\nQ1,2024Q1,塔集村,第一网格,安全\n")
    assert (survey.loaded, survey.quarantined_total) == (1, 0), survey.quarantined
    assert table(warehouse, "SELECT response_id, area_code FROM survey_response") == {"Q1": "320831103202001"}


def test_a_given_code_wins_over_names():
    areas = pl.DataFrame({"code": ["320831001", "320831001001"], "name": ["黎城街道", "城南社区"],
                          "level": ["town", "village"], "parent_code": ["320831", "320831001"]})
    frame = pl.DataFrame({"__line": [2, 3], "area_code": ["320831001", None], "village_name": ["城南社区", "城南"]})
    got = area_names.resolve(frame, areas)
    assert got["area_code"].to_list() == ["320831001", "320831001001"]
