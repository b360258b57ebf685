"""Indicator catalogue, ranking and what-changed on a hand-built warehouse, checked by hand.

The fixture: county 洪泽区 with towns A (高良涧街道), B (朱坝街道) and C (黄集街道), one village
and one grid each; a handful of cases in September and October 2026, 20 residents, staff,
two survey quarters and four risk assessments. Every expected figure below is counted from
the rows in this file, not computed by the code under test.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

from tests.fixtures import build_case_flow, empty_warehouse, insert
from warehouse import changes, datasets, db, ranking
from warehouse import indicators as wi
from warehouse.db import FULL, Scope
from warehouse.periods import parse

COUNTY, A, B, C = "320813", "320813001", "320813002", "320813003"
GRID = {t: t + "001001" for t in (A, B, C)}
OCT = parse("2026-10")
NOW = datetime(2026, 11, 24, 10, 0)


def _case(case_id, town, reported, **kw):
    reported = datetime.fromisoformat(reported)
    row = {"case_id": case_id, "case_type": "治安隐患", "category": "治安隐患", "source_channel": "网格员巡查",
           "area_code": GRID[town], "reported_at": reported, "accepted_at": reported + timedelta(hours=1),
           "handled_at": reported + timedelta(days=1), "closed_at": reported + timedelta(days=2),
           "deadline_at": reported + timedelta(days=3), "status": "closed", "resolved_level": None,
           "satisfaction": None, "citizen_resolved": None, "is_collective": False}
    for k, v in kw.items():
        row[k] = datetime.fromisoformat(v) if isinstance(v, str) and k.endswith("_at") else v
    return row


CASES = [
    # town A, October
    _case("A1", A, "2026-10-05 09:00", source_channel="12345", accepted_at="2026-10-05 10:00",
          satisfaction="满意", citizen_resolved=True),
    _case("A2", A, "2026-10-10 09:00", source_channel="12345", accepted_at="2026-10-10 13:00",  # 4 h: not responded
          handled_at="2026-10-15 09:00", closed_at="2026-10-16 09:00", deadline_at="2026-10-12 09:00",  # overdue
          satisfaction="不满意", citizen_resolved=False),
    _case("A3", A, "2026-10-03 09:00", category="矛盾纠纷", resolved_level="village"),
    _case("A4", A, "2026-10-20 09:00", category="矛盾纠纷", resolved_level="county", is_collective=True,
          handled_at="2026-10-25 09:00", closed_at="2026-10-26 09:00", deadline_at="2026-10-22 09:00"),  # overdue
    _case("A5", A, "2026-10-12 09:00", source_channel="信访", status="dispatched", handled_at=None,
          closed_at=None, deadline_at="2026-10-15 09:00"),  # open past its deadline: overdue
    # town A, September (A7 is closed in October)
    _case("A6", A, "2026-09-10 09:00", source_channel="12345", satisfaction="满意", citizen_resolved=True),
    _case("A7", A, "2026-09-28 09:00", source_channel="12345", accepted_at="2026-09-28 09:30",
          handled_at="2026-09-29 09:00", closed_at="2026-10-02 09:00", deadline_at="2026-10-01 09:00",
          satisfaction="基本满意", citizen_resolved=True),
    # town B, October
    _case("B1", B, "2026-10-08 09:00", source_channel="12345", satisfaction="满意", citizen_resolved=True),
    _case("B2", B, "2026-10-11 09:00", category="矛盾纠纷", resolved_level="town"),
]


def _person(key, town, **flags):
    return {"person_key": key, "sex": "M", "birth_month": date(1980, 1, 1), "residence_type": "户籍",
            "household_key": key, "area_code": GRID[town], "is_corrections": False, "is_released": False,
            "is_mental": False, "is_drug": False, "is_youth": False, "lives_alone": False, "is_dibao": False,
            "is_disabled": False, "is_left_behind": False, "is_placed": None, "reoffended": None,
            "is_linked": None, "is_helped": None} | flags


PERSONS = (
    [_person(f"a{i}", A, is_released=True, is_placed=i < 5, reoffended=i == 0, is_linked=True, is_helped=i > 0)
     for i in range(6)]
    + [_person(f"a{i}", A) for i in range(6, 8)]
    + [_person(f"a{i}", A, residence_type="流动") for i in range(8, 12)]
    + [_person(f"b{i}", B, is_corrections=True, reoffended=False) for i in range(5)]
    + [_person("b5", B)]
    + [_person(f"b{i}", B, residence_type="流动") for i in range(6, 8)]
)
STAFF = [
    {"area_code": A, "role": "patrol", "staff_count": 1}, {"area_code": B, "role": "patrol", "staff_count": 0},
    {"area_code": A, "role": "patrol_volunteer", "staff_count": 1},
    {"area_code": A, "role": "floating_warden", "staff_count": 1},
    {"area_code": GRID[A], "role": "grid_worker", "staff_count": 1},
    {"area_code": GRID[A], "role": "grid_volunteer", "staff_count": 2},  # 1+2 met
    {"area_code": GRID[B], "role": "grid_worker", "staff_count": 1},
    {"area_code": GRID[B], "role": "grid_volunteer", "staff_count": 1},  # 1+1: not met; C has no staff rows
    # village posts: A's village has all five, B's no social worker; C's reported none (left out)
    *[{"area_code": A + "001", "role": r, "staff_count": 1}
      for r in ("political_officer", "community_police", "mediator", "security_guard", "social_worker")],
    *[{"area_code": B + "001", "role": r, "staff_count": 1}
      for r in ("political_officer", "community_police", "mediator", "security_guard")],
    {"area_code": B + "001", "role": "social_worker", "staff_count": 0},
    # town centres: 12 and 11 meet "11 or more", 10 does not
    {"area_code": A, "role": "centre_staff", "staff_count": 12}, {"area_code": B, "role": "centre_staff", "staff_count": 11},
    {"area_code": C, "role": "centre_staff", "staff_count": 10},
]
Q3, Q2 = date(2026, 7, 1), date(2026, 4, 1)
SURVEYS = [  # quarter, town, 安全感, 网格员满意, 治安满意度, 知晓, 参与
    (Q3, A, "安全", "满意", "满意", True, False), (Q3, A, "基本安全", "不满意", "不满意", False, False),
    (Q3, A, "基本安全", "基本满意", "基本满意", True, True), (Q3, A, "不安全", None, None, True, None),
    (Q3, B, "安全", "满意", "满意", True, True), (Q3, B, "安全", "满意", "满意", None, False),
    (Q2, A, "不安全", "不满意", "满意", True, True),  # an older quarter: not the latest survey for October
]
SSRA = [  # window for October: submitted in [2025-11-01, 2026-11-01)
    ("S1", A + "001", date(2026, 3, 1), True), ("S2", A + "001", date(2026, 8, 1), False),
    ("S3", A + "001", date(2025, 6, 1), True),  # older than 12 months
    ("S4", B, date(2026, 10, 9), True),
]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    path = empty_warehouse(tmp_path_factory.mktemp("ind") / "hand.duckdb")
    names = {COUNTY: "洪泽区", A: "高良涧街道", B: "朱坝街道", C: "黄集街道"}
    area_rows = [{"code": COUNTY, "name": "洪泽区", "level": "county", "parent_code": None}]
    for t in (A, B, C):
        area_rows += [{"code": t, "name": names[t], "level": "town", "parent_code": COUNTY},
                      {"code": t + "001", "name": names[t][:2] + "村", "level": "village", "parent_code": t},
                      {"code": GRID[t], "name": names[t][:2] + "一网格", "level": "grid", "parent_code": t + "001"}]
    insert(path, "area", area_rows, rebuild_marts=False)
    insert(path, "cases", CASES, rebuild_marts=False)
    # the data's clock (meta.data_now) is the latest case event: a side event, so A1's stages stay
    # those of its row (a case without stage events is read from its step times)
    insert(path, "case_event", [{"case_id": "A1", "seq": 1, "step": "other", "occurred_at": NOW}],
           rebuild_marts=False)
    insert(path, "person", PERSONS, rebuild_marts=False)
    insert(path, "grid_staff", [s | {"as_of": date(2026, 11, 1)} for s in STAFF], rebuild_marts=False)
    insert(path, "survey_response", [
        {"response_id": f"R{i}", "survey_period": q, "area_code": GRID[t], "sense_of_security": s,
         "grid_satisfaction": g, "security_satisfaction": ss, "aware": aw, "participated": pa}
        for i, (q, t, s, g, ss, aw, pa) in enumerate(SURVEYS)], rebuild_marts=False)
    insert(path, "ssra", [{"ssra_id": i, "project_name": i, "project_type": "重大项目", "area_code": a,
                           "submitted_at": d, "assessed": ok} for i, a, d, ok in SSRA],
           rebuild_marts=False)  # the catalogue reads base tables only
    insert(path, "petition", [
        {"petition_id": pid, "area_code": GRID[t], "petitioner_key": who, "received_at": at, "form": "来访",
         "issue_type": "征地拆迁", "level_reached": level, "irregular": level == "进京", "collective": False,
         "status": "办理中", "settled_at": None} for pid, t, who, at, level in PETITIONS], rebuild_marts=False)
    build_case_flow(path)  # overdue_rate reads the one overdue rule's mart
    return path


# 信访 register: P2 repeats P1 (same petitioner 15 days before); P4 is 404 days before P3, no repeat
PETITIONS = [("P1", A, "p1", datetime(2026, 10, 5, 9), "进京"), ("P2", A, "p1", datetime(2026, 10, 20, 9), "县内"),
             ("P3", B, "p2", datetime(2026, 10, 10, 9), "县内"), ("P4", B, "p2", datetime(2025, 9, 1, 9), "县内")]


# Every catalogue indicator for the county in October 2026, counted by hand from the rows above.
COUNTY_OCT = {
    "security": 5 / 6,                   # A 3 of 4 (安全, 基本安全 ×2) + B 2 of 2, Q3 survey only
    "grid_satisfaction": 4 / 5,          # A 2 of 3 answered + B 2 of 2
    "disputes_local": 2 / 3,             # handled in Oct: A3 village, A4 county, B2 town
    "hotline_response": 2 / 3,           # 12345 reported in Oct: A1 yes, A2 4 h no, B1 yes
    "hotline_solved": 3 / 4,             # 12345 closed in Oct: A1, A2 (no), A7, B1
    "hotline_satisfied": 3 / 4,          # the same four: 满意, 不满意, 基本满意, 满意
    "overdue_rate": 3 / 7,               # reported in Oct: 7; overdue A2, A4, A5 (open)
    "released_placed": None,             # 5 of 6: the complement (1 not placed) is a cell under 5
    "released_linked": 1.0,              # 6 of 6 (a complement of 0 is shown)
    "released_helped": None,             # 5 of 6: suppressed like 安置
    "village_staffing": 1 / 2,           # A's village has all five posts, B's lacks a social worker; C reported none
    "centre_staffing": 2 / 3,            # A 12, B 11 meet "11 or more"; C 10 does not
    "security_satisfaction": 4 / 5,      # Q3: A 满意, 不满意, 基本满意 (one blank) + B 满意 ×2
    "awareness": 4 / 5,                  # Q3: A 3 of 4 + B 1 of 1 answered
    "participation": 2 / 5,              # Q3: A 1 of 3 answered + B 1 of 2
    "released_reoffend": None,           # 1 of 6: a cell under 5 → suppressed
    "corrections_reoffend": 0.0,         # 0 of 5
    "patrol_per_10k": 1 / 20 * 10_000,   # 1 patrol, 20 residents
    "volunteer_share": 1 / 20,
    "warden_coverage": 1 / 6 * 400,      # 1 warden, 6 floating residents
    "grid_staffing": 1 / 3,              # only A's grid has 1 worker + 2 volunteers
    "ssra_coverage": 2 / 3,              # S1 yes, S2 no, S4 yes (S3 too old)
    "collective_incidents": 1.0,         # A4
    "petitions_per_10k": 1 / 20 * 10_000 * 365.25 / 31,  # A5, annualised over October's 31 days
    "petitions_beijing_irregular": 1.0,  # P1
    "petition_repeat_share": 1 / 3,      # P2 of P1, P2, P3
}
TOWN_A_OCT = {"village_staffing": 1.0, "centre_staffing": 1.0, "participation": 1 / 3, "overdue_rate": 3 / 5, "hotline_response": 1 / 2, "hotline_solved": 2 / 3,
              "security": 3 / 4, "ssra_coverage": 1 / 2, "collective_incidents": 1.0,
              "volunteer_share": 1 / 12, "warden_coverage": 1 / 4 * 400, "grid_staffing": 1.0}
TOWN_B_OCT = {"village_staffing": 0.0, "centre_staffing": 1.0, "overdue_rate": 0.0, "security": 1.0, "ssra_coverage": 1.0, "collective_incidents": 0.0,
              "patrol_per_10k": 0.0, "warden_coverage": 0.0, "corrections_reoffend": 0.0,
              "disputes_local": 1.0, "grid_staffing": 0.0}


def test_catalogue_covers_every_target_the_data_supports():
    assert set(wi.catalogue()) == set(COUNTY_OCT)
    for ind in wi.catalogue().values():
        assert ind.zh and ind.en and ind.target_source and ind.sql
        assert (ind.green is None) == (ind.target is None)


def test_every_indicator_for_the_county_by_hand(wh):
    vals = {r["key"]: r for r in wi.values(FULL, COUNTY, OCT, path=wh).iter_rows(named=True)}
    assert list(vals) == list(wi.catalogue())
    for key, expected in COUNTY_OCT.items():
        got = vals[key]["value"]
        assert got == pytest.approx(expected) if expected is not None else got is None, key
    reoffend = vals["released_reoffend"]
    # no colour either: with 安置率's published denominator a colour band pins the count (#18)
    assert reoffend["suppressed"] and reoffend["numerator"] is None and reoffend["rag"] is None


@pytest.mark.parametrize("town, expected", [(A, TOWN_A_OCT), (B, TOWN_B_OCT)])
def test_indicators_for_towns_by_hand(wh, town, expected):
    vals = {r["key"]: r["value"] for r in wi.values(FULL, town, OCT, path=wh).iter_rows(named=True)}
    for key, want in expected.items():
        assert vals[key] == pytest.approx(want), key


def test_changes_history_and_rag_on_values(wh):
    vals = {r["key"]: r for r in wi.values(FULL, COUNTY, OCT, path=wh).iter_rows(named=True)}
    overdue = vals["overdue_rate"]
    assert overdue["prev_value"] == pytest.approx(0.0)      # September: A6, A7 both in time
    assert overdue["change_prev"] == pytest.approx(3 / 7)
    assert overdue["yoy_value"] is None                      # no cases in October 2025
    assert len(overdue["history"]) == 12 and overdue["history_periods"][-1] == "2026-10"
    assert overdue["history"][-2:] == pytest.approx([0.0, 3 / 7])
    assert overdue["rag"] == "red"                           # 42.9% > amber 8%
    assert vals["security"]["change_prev"] is None           # same Q3 survey as September
    assert vals["collective_incidents"]["rag"] == "amber"    # 1: above 0, within 2
    assert vals["petitions_per_10k"]["rag"] is None          # no target
    assert vals["patrol_per_10k"]["history"] == []           # snapshot register


def test_rag_thresholds():
    assert wi.rag(96 / 100, "higher", 0.96, 0.94) == "green"
    assert wi.rag(0.9599, "higher", 0.96, 0.94) == "amber"
    assert wi.rag(0.94, "higher", 0.96, 0.94) == "amber"
    assert wi.rag(0.9399, "higher", 0.96, 0.94) == "red"
    assert wi.rag(0.05, "lower", 0.05, 0.08) == "green"
    assert wi.rag(0.08, "lower", 0.05, 0.08) == "amber"
    assert wi.rag(0.0801, "lower", 0.05, 0.08) == "red"
    assert wi.rag(None, "lower", 0.05, 0.08) is None
    assert wi.rag(3.0, "lower", None, None) is None


def test_indicators_dataset_and_scope(wh):
    df = datasets.get("indicators", FULL, area=COUNTY, start=date(2026, 10, 1), end=date(2026, 10, 31), path=wh)
    assert set(df["area_code"]) == {COUNTY, A, B, C}
    row = df.filter((df["area_code"] == A) & (df["key"] == "overdue_rate")).row(0, named=True)
    assert row["value"] == pytest.approx(0.6) and row["rag"] == "red" and row["target"] == 0.05
    town_scope = Scope((A,), name="town A")
    with pytest.raises(PermissionError):
        wi.values(town_scope, COUNTY, OCT, path=wh)
    mine = wi.values(town_scope, A, OCT, path=wh)
    assert mine.filter(mine["key"] == "overdue_rate")["value"][0] == pytest.approx(0.6)


# ---------------------------------------------------------------- ranking


def test_min_rank_ties():
    assert ranking.min_rank({"a": 90.0, "b": 80.0, "c": 80.0, "d": 70.0}) == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_scores_normalise_and_tie_by_hand():
    import polars as pl

    long = pl.DataFrame({"key": ["x"] * 4 + ["y"] * 4, "area_code": ["t1", "t2", "t3", "t4"] * 2,
                         "value": [10.0, 20.0, 20.0, 30.0, 5.0, 5.0, 5.0, None]})
    out = ranking.scores(long, {"x": 3.0, "y": 1.0}, {"x": "higher", "y": "lower"})
    got = {r["area_code"]: (r["score"], r["rank"]) for r in out.iter_rows(named=True)}
    # x: (v − 10) / 20 → 0, .5, .5, 1; y: all equal → 1, t4 missing → mean 1
    assert got == {"t1": (25.0, 4), "t2": (62.5, 2), "t3": (62.5, 2), "t4": (100.0, 1)}


@pytest.fixture()
def two_indicators(monkeypatch):
    """A catalogue of overdue_rate (weight 2) and collective_incidents (weight 1), no min_base."""
    full = wi.catalogue()
    small = {"overdue_rate": dataclasses.replace(full["overdue_rate"], weight=2, min_base=0),
             "collective_incidents": dataclasses.replace(full["collective_incidents"], weight=1, min_base=0)}
    monkeypatch.setattr(wi, "catalogue", lambda path=None: small)
    return small


def test_town_ranking_by_hand(wh, two_indicators):
    rk = ranking.town_ranking(FULL, COUNTY, OCT, path=wh)
    got = {r["area_code"]: r for r in rk.iter_rows(named=True)}
    # overdue (lower better): A .6 → 0, B 0 → 1, C none → mean .5; collective: A 1 → 0, B, C 0 → 1
    assert got[B]["score"] == 100.0 and got[B]["rank"] == 1
    assert got[C]["score"] == pytest.approx(round(100 * (2 * 0.5 + 1) / 3, 2)) and got[C]["rank"] == 2
    assert got[A]["score"] == 0.0 and got[A]["rank"] == 3
    # September: overdue only A (0/2), collective all 0 → every town 100: a three-way tie at 1
    assert [got[t]["prev_rank"] for t in (A, B, C)] == [1, 1, 1]
    assert [got[t]["rank_change"] for t in (A, B, C)] == [-2, 0, -1]
    # contributions against the average town: B +33.3 (overdue), +11.1 (collective)
    assert got[B]["up_keys"] == ["overdue_rate", "collective_incidents"] and got[B]["down_keys"] == []
    assert got[A]["down_keys"] == ["overdue_rate", "collective_incidents"]
    assert rk["area_code"].to_list() == [B, C, A]


def test_deductions_by_hand(wh, two_indicators):
    got = {r["area_code"]: r for r in ranking.town_ranking(FULL, COUNTY, OCT, path=wh).iter_rows(named=True)}
    # points lost against full marks, 100 × w / Σw × (1 − s): A loses 66.67 (overdue) and 33.33
    # (collective); C loses half of overdue's 66.67; B loses nothing
    assert got[A]["deduction_keys"] == ["overdue_rate", "collective_incidents"]
    assert got[A]["deduction_points"] == [66.67, 33.33]
    assert got[C]["deduction_keys"] == ["overdue_rate"] and got[C]["deduction_points"] == [33.33]
    assert got[B]["deduction_keys"] == [] and not any(got[t]["vetoed"] for t in (A, B, C))


def test_apply_veto_drops_a_town_below_all_others():
    import polars as pl

    ranked = pl.DataFrame({"area_code": ["t1", "t2", "t3", "t4", "t5"], "score": [90.0, 80.0, 80.0, 99.0, 10.0],
                           "rank": [2, 3, 3, 1, 5]})
    out = ranking.apply_veto(ranked, {"t4": ["petitions_beijing_irregular"], "t5": ["collective_incidents"]})
    got = {r["area_code"]: (r["rank"], r["vetoed"], r["veto_keys"]) for r in out.iter_rows(named=True)}
    assert got == {"t1": (1, False, []), "t2": (2, False, []), "t3": (2, False, []),
                   "t4": (4, True, ["petitions_beijing_irregular"]), "t5": (5, True, ["collective_incidents"])}


def test_town_ranking_veto_whatever_the_score(wh, two_indicators, monkeypatch):
    """B has the best score but reaches a veto figure (here: an overdue rate of 0 or more, a
    figure only a test would set), so it ranks below A and C."""
    vetoing = dict(two_indicators) | {"overdue_rate": dataclasses.replace(two_indicators["overdue_rate"], veto=0.0)}
    monkeypatch.setattr(wi, "catalogue", lambda path=None: vetoing)
    rk = ranking.town_ranking(FULL, COUNTY, OCT, path=wh)
    got = {r["area_code"]: r for r in rk.iter_rows(named=True)}
    assert got[B]["score"] == 100.0 and got[B]["vetoed"] and got[B]["veto_keys"] == ["overdue_rate"]
    # A (overdue .6) is vetoed too; C has no overdue value: C first, then the vetoed by score
    assert rk["area_code"].to_list() == [C, B, A] and rk["rank"].to_list() == [1, 2, 3]
    ds = ranking.town_ranking_dataset(FULL, COUNTY, OCT.start, OCT.end, path=wh)
    assert dict(zip(ds["area_code"], ds["veto_zh"]))[B] == "逾期率"


def test_what_changed_sentences(wh, two_indicators):
    df = changes.what_changed(FULL, COUNTY, OCT, path=wh)
    # A overdue 0/2 → 3/5 (+60 pp, 30 notable steps), county 0/2 → 3/7 (+42.9 pp);
    # B has no September cases; collective +1 is under its notable step of 2
    assert df["sentence_zh"].to_list() == [
        "高良涧街道 逾期率 上升 60.0 个百分点（0.0% → 60.0%），变差",
        "洪泽区 逾期率 上升 42.9 个百分点（0.0% → 42.9%），变差"]
    assert df["sentence_en"][0] == "高良涧街道 Overdue rate up 60.0 pp (0.0% → 60.0%), worse"


@pytest.mark.parametrize("levels, root, scope", [
    (["county", "town"], "320813", FULL),
    (["village", "grid"], "320813103", FULL),
    (["town", "village"], "320813103", Scope(("320813103", "320813104"), name="two towns")),
])
def test_indicator_mart_gives_what_the_base_tables_give(small_db, levels, root, scope):
    """For month periods every indicator rolled up from mart_indicator_month equals the live
    queries over the base tables; a quarter is computed live (snapshots still from the mart)."""
    months = [parse("2026-10"), parse("2026-09"), parse("2025-10"), parse("2026-11")]
    kw = dict(keys=None, path=small_db, suppress=True)
    held = wi._mart_periods(str(small_db), db.version(small_db), wi._mart_tag())
    assert held is not None and {"2026-10", "2025-10", wi.SNAPSHOT} <= held  # the mart is used
    marted = wi.evaluate(scope, root, levels, months, **kw)
    live = wi.evaluate(scope, root, levels, months, **kw, use_mart=False)
    order = ["key", "period", "area_code"]
    assert marted.height == live.height > 0
    assert marted.sort(order).equals(live.sort(order))
    assert marted["value"].drop_nulls().len() > marted.height // 3  # not a comparison of nulls
    quarter = [parse("2026Q3")]
    assert wi.evaluate(scope, root, levels, quarter, **kw).sort(order).equals(
        wi.evaluate(scope, root, levels, quarter, **kw, use_mart=False).sort(order))
