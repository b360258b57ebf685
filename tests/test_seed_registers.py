"""The v6 registers from a county's own files: 衔接/帮教 flags, village and centre posts, survey
items and the 排查 / 调解 of disputes load with their Chinese words, bad words are quarantined."""

from __future__ import annotations

import duckdb

from etl.load import load_file
from tests.load_fixture import G1, load_fixture
from tests.test_load_behaviour import idn

VILLAGE, TOWN = "320813001001", "320813001"


def _rows(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_v6_registers_load_from_chinese_files(tmp_path):
    wh = load_fixture(tmp_path / "wh.duckdb")
    staff = tmp_path / "力量.csv"
    staff.write_text("区划代码,岗位,人数,统计日期\n"
                     f"{VILLAGE},综治专干,1,2026-11-01\n{VILLAGE},社区民警,1,2026-11-01\n"
                     f"{VILLAGE},保安员,2,2026-11-01\n{VILLAGE},社工,0,2026-11-01\n"
                     f"{TOWN},综治中心工作人员,12,2026-11-01\n{TOWN},厨师,1,2026-11-01\n", encoding="utf-8")
    res = load_file(staff, "grid_staff", wh)
    assert (res.rows_read, res.loaded, res.quarantined) == (6, 5, {"bad_value": 1})  # 厨师 is no post
    assert _rows(wh, "SELECT role, staff_count FROM grid_staff ORDER BY role") == [
        ("centre_staff", 12), ("community_police", 1), ("political_officer", 1), ("security_guard", 2),
        ("social_worker", 0)]

    people = tmp_path / "人口.csv"
    people.write_text("公民身份号码,姓名,人口类型,网格编码,刑释解教人员,是否衔接管控,是否帮教\n"
                      f"{idn(1)},张三,户籍,{G1},是,是,否\n{idn(2)},李四,户籍,{G1},否,,\n", encoding="utf-8")
    assert load_file(people, "persons", wh).loaded == 2
    assert sorted(_rows(wh, "SELECT is_released, is_linked, is_helped FROM person"), key=str) == [
        (False, None, None), (True, True, False)]

    survey = tmp_path / "问卷.csv"
    survey.write_text("问卷编号,调查季度,网格编码,安全感,治安满意度,是否知晓,是否参与\n"
                      f"Q1,2026Q3,{G1},安全,基本满意,是,否\nQ2,2026Q3,{G1},安全,很好,是,是\n", encoding="utf-8")
    res = load_file(survey, "surveys", wh)
    assert (res.loaded, res.quarantined) == (1, {"bad_value": 1})  # 很好 is no 治安满意度 answer
    assert _rows(wh, "SELECT security_satisfaction, aware, participated FROM survey_response") == [
        ("基本满意", True, False)]

    cases = tmp_path / "事件.csv"
    cases.write_text("事件编号,事件类型,来源渠道,网格编码,上报时间,排查类型,调解类型\n"
                     f"D1,邻里纠纷,网格员巡查,{G1},2025-03-06 08:00,专项,人民调解\n", encoding="utf-8")
    assert load_file(cases, "cases", wh).loaded == 1
    assert _rows(wh, "SELECT sweep_type, mediation_kind FROM cases WHERE case_id = 'D1'") == [("专项排查", "人民调解")]


def test_dispute_sweeps_by_hand(tmp_path):
    from datetime import date, datetime

    from tests.fixtures import insert
    from warehouse import disputes
    from warehouse.db import FULL

    wh = load_fixture(tmp_path / "wh.duckdb")

    def case(cid, category, sweep, level, kind, day=5):
        return {"case_id": cid, "case_type": "邻里纠纷", "category": category, "source_channel": "网格员巡查",
                "area_code": G1, "reported_at": datetime(2026, 10, day, 8), "deadline_at": datetime(2026, 10, 9),
                "status": "closed" if level else "reported", "resolved_level": level, "sweep_type": sweep,
                "mediation_kind": kind, "is_collective": False}

    insert(wh, "cases", [
        case("D1", "矛盾纠纷", "日常排查", "village", "人民调解"), case("D2", "矛盾纠纷", "日常排查", "county", "司法调解"),
        case("D3", "矛盾纠纷", "日常排查", None, None), case("D4", "矛盾纠纷", "专项排查", "town", None),
        case("D5", "矛盾纠纷", None, "town", "行政调解"),
        case("X1", "治安隐患", "日常排查", "village", "人民调解"),        # not a dispute
        case("D6", "矛盾纠纷", "日常排查", "village", "人民调解", day=1) | {"reported_at": datetime(2026, 9, 30)},
    ])
    df = disputes.sweeps(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=wh)
    got = {r["sweep_type"]: r for r in df.iter_rows(named=True)}
    assert list(got) == ["日常排查", "专项排查", "未注明", None]
    d = got["日常排查"]
    assert (d["disputes"], d["resolved"], d["resolved_local"], d["people_mediation"], d["judicial_mediation"],
            d["mediation_not_stated"]) == (3, 2, 1, 1, 1, 0)
    assert d["local_share"] == 0.5
    assert got["专项排查"]["mediation_not_stated"] == 1 and got["未注明"]["admin_mediation"] == 1
    total = got[None]
    assert (total["disputes"], total["resolved"], total["resolved_local"]) == (5, 4, 3)


def test_case_page_shows_the_sweeps(small_db):
    from tests.apptest import open_page

    at = open_page("cases", area="320813", grain="month", period="2026-10", cl_tab="三率与化解层级")
    assert not at.exception, at.exception
    assert "矛盾纠纷排查与调解" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "排查方式" in d.value.columns)
    assert list(table["排查方式"]) == ["日常排查", "集中排查", "重点排查", "专项排查", "合计"]


def test_petition_register_loads_from_a_county_export(tmp_path):
    """信访 register in the 信访系统's own words: IDs hashed (checked, never stored), words mapped,
    an outcome without its date (or an open item with one) quarantined with the column named."""
    from warehouse import petition
    from warehouse.db import FULL

    wh = load_fixture(tmp_path / "wh.duckdb")
    f = tmp_path / "信访登记.csv"
    f.write_text(
        "信访件编号,网格编码,信访人身份证号,登记日期,信访形式,问题类别,信访层级,是否非正常上访,办理状态,办结日期\n"
        f"X1,{G1},{idn(1)},2025-03-01,走访,征地拆迁,本县,否,化解,2025-03-10\n"
        f"X2,{G1},{idn(1)},2025-03-20,网上,征地拆迁,赴京,是,在办,\n"
        f"X3,{G1},{idn(2)},2025-03-21,来信,劳动社保,县内,否,已化解,\n"            # outcome without its date
        f"X4,{G1},32081319800101001X,2025-03-22,来信,劳动社保,县内,否,办理中,\n",  # bad check digit
        encoding="utf-8")
    res = load_file(f, "petitions", wh)
    assert (res.rows_read, res.loaded) == (4, 2)
    assert res.quarantined == {"bad_settled_at": 1, "id_check_digit": 1}
    got = _rows(wh, "SELECT petition_id, form, level_reached, irregular, status, length(petitioner_key) "
                    "FROM petition ORDER BY 1")
    assert got == [("X1", "来访", "县内", False, "已化解", 64), ("X2", "网上信访", "进京", True, "办理中", 64)]
    assert _rows(wh, "SELECT count(DISTINCT petitioner_key) FROM petition") == [(1,)]  # one petitioner twice
    assert idn(1) not in f"{_rows(wh, 'SELECT * FROM quarantine')}"  # IDs masked in quarantine too
    s = petition.summary(FULL, "320813", None, None, path=wh)
    assert (s["petitions"], s["beijing_irregular"], s["repeats"]) == (2, 1, 1)
