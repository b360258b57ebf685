"""Grid risk index: normalisation, aggregation and drivers checked by hand; sensitivity, backtest, page."""

import copy
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from tests.apptest import open_page
from tests.fixtures import empty_warehouse, insert
from warehouse import db, risk
from warehouse.datasets import all_datasets
from warehouse.db import FULL, Scope

# ------------------------------------------------------------------ pure functions


def test_winsorise_clips_to_percentiles_by_hand():
    # P95 of [0, 0, 0, 0, 10] (linear): position 0.95 × 4 = 3.8 → 0 + 0.8 × 10 = 8
    assert risk.winsorise(np.array([0, 0, 0, 0, 10.0]), 0.0, 0.95).tolist() == pytest.approx([0, 0, 0, 0, 8])
    # a rare event: P95 of twenty 0s and one 3 is 0, so the maximum is kept instead
    x = np.array([0.0] * 20 + [3.0])
    assert risk.winsorise(x, 0.0, 0.95).tolist() == x.tolist()


def test_minmax_and_zscore_by_hand():
    assert risk.minmax10(np.array([2.0, 4, 6])).tolist() == pytest.approx([0, 5, 10])
    assert risk.minmax10(np.array([3.0, 3, 3])).tolist() == [0, 0, 0]
    # mean 2, sd sqrt(2/3): z = −1.2247, 0, 1.2247 → clip at 0 → × 10 / 3
    assert risk.zscore10(np.array([1.0, 2, 3]), 3.0).tolist() == pytest.approx([0, 0, 10 / 3 * 1.5 ** 0.5])
    assert risk.zscore10(np.array([1.0, 1, 1])).tolist() == [0, 0, 0]
    cfg = {"winsorise": {"lower": 0.0, "upper": 1.0}, "z_cap": 3.0}
    assert risk.normalise(np.array([4.0, 2, 0]), "minmax", cfg, direction=-1).tolist() == pytest.approx([0, 5, 10])


def test_auc_by_hand():
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered right
    assert risk.auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert risk.auc(np.array([1.0, 1.0]), np.array([0, 1])) == pytest.approx(0.5)
    assert risk.auc(np.array([1.0, 2.0]), np.array([1, 1])) is None


HAND_CFG = {
    "drivers": {
        "a": {"dimension": "hazard", "weight": 2, "direction": 1},
        "b": {"dimension": "hazard", "weight": 2, "direction": 1},
        "c": {"dimension": "coping", "weight": 1, "direction": -1},
    },
    "dimensions": {"hazard": {"weight": 0.6}, "coping": {"weight": 0.4}},
    "winsorise": {"lower": 0.0, "upper": 1.0}, "normalisation": "minmax", "z_cap": 3.0,
    "levels": {"yellow": 2.0, "orange": 3.5, "red": 5.0}, "warning_rise": 1.0,
    "main_drivers": {"top": 2, "min_share": 0.15},
}


def test_index_equals_hand_computation():
    values = pl.DataFrame({
        "area_code": ["g1", "g2", "g3"] * 2,
        "month": [date(2026, 1, 1)] * 3 + [date(2026, 2, 1)] * 3,
        "a": [0.0, 5, 10, 10, 5, 0], "b": [1.0, 1, 3, 1, 1, 3], "c": [4.0, 2, 0, 4, 2, 0]})
    out = risk.index_from_drivers(values, HAND_CFG).sort("month", "area_code")
    # effective weights: a = b = 0.6 × 2/4 = 0.3, c = 0.4. January:
    #   g1: a 0, b 0, c reversed(10) = 0           → 0
    #   g2: a 5, b 0, c reversed(5) = 5  → 1.5 + 2.0 = 3.5  (橙: ≥ 3.5)
    #   g3: a 10, b 10, c reversed(0) = 10 → 3 + 3 + 4 = 10 (红)
    jan = out.filter(pl.col("month") == date(2026, 1, 1))
    assert jan["score"].to_list() == pytest.approx([0.0, 3.5, 10.0])
    assert jan["level"].to_list() == ["蓝", "橙", "红"]
    assert jan["rank"].to_list() == [3, 2, 1]
    assert jan["dim_hazard"].to_list() == pytest.approx([0, 2.5, 10])
    assert jan["dim_coping"].to_list() == pytest.approx([0, 5, 10])
    # February: a reversed across grids → g1: 3 + 0 + 0 = 3, g3: 0 + 3 + 4 = 7
    feb = out.filter(pl.col("month") == date(2026, 2, 1))
    assert feb["score"].to_list() == pytest.approx([3.0, 3.5, 7.0])
    assert feb["change"].to_list() == pytest.approx([3.0, 0.0, -3.0])
    assert feb["warning"].to_list() == [True, False, False]     # g1 rose by 3 > 1
    assert feb["main"][0] == "a"                                 # a is g1's only contributor
    assert feb["main"][2] == "c,b"                               # 4 from c, then 3 from b
    contrib = out.select(pl.sum_horizontal(pl.col("^c_.*$"))).to_series()
    assert contrib.to_list() == pytest.approx(out["score"].to_list())


def test_entering_orange_is_a_warning():
    values = pl.DataFrame({"area_code": ["g1", "g2"] * 2,
                           "month": [date(2026, 1, 1)] * 2 + [date(2026, 2, 1)] * 2,
                           "a": [0.0, 10, 0, 10], "b": [0.0, 10, 0, 10], "c": [1.0, 0, 0, 0]})
    cfg = HAND_CFG | {"warning_rise": 5.0}
    out = risk.index_from_drivers(values, cfg).sort("month", "area_code")
    # Jan: c reversed → g1 0, g2 10, so g1 = 0 and g2 = 3 + 3 + 4 = 10.
    # Feb: c all equal → 0, reversed 10 for both: g1 = 4 (橙), g2 = 10 (红).
    assert out["score"].to_list() == pytest.approx([0.0, 10.0, 4.0, 10.0])
    assert out["level"].to_list() == ["蓝", "红", "橙", "红"]
    # g1 rose by 4 (< 5) but entered 橙 from 蓝: a warning; g2 stayed 红: none
    assert out["warning"].to_list() == [False, False, True, False]


def test_effective_weights_sum_to_one():
    w = risk.effective_weights()
    assert w.sum() == pytest.approx(1.0)
    assert risk.effective_weights(HAND_CFG).tolist() == pytest.approx([0.3, 0.3, 0.4])


def test_monte_carlo_reproducible_with_seed():
    rng = np.random.default_rng(1)
    mm, zs = rng.uniform(0, 10, (50, 9)), rng.uniform(0, 10, (50, 9))
    a = risk.monte_carlo(mm, zs, runs=200, seed=7)
    b = risk.monte_carlo(mm, zs, runs=200, seed=7)
    c = risk.monte_carlo(mm, zs, runs=200, seed=8)
    assert np.array_equal(a["ranks"], b["ranks"]) and np.array_equal(a["levels"], b["levels"])
    assert not np.array_equal(a["ranks"], c["ranks"])
    assert a["ranks"].shape == (50, 200)
    assert sorted(a["ranks"][:, 0]) == list(range(1, 51))     # every run is a permutation of ranks


# ------------------------------------------------------------------ drivers on a hand-built warehouse

G1, G2, G3 = "320813001001001", "320813001001002", "320813001001003"


def _person(key, grid, **flags):
    return {"person_key": key, "sex": "M", "birth_month": date(1980, 1, 1), "residence_type": "户籍",
            "household_key": key, "area_code": grid, "is_drug": False, **flags}


def _case(cid, grid, ctype, category, reported, deadline_h, handled=None, **extra):
    return {"case_id": cid, "case_type": ctype, "category": category,
            "source_channel": extra.pop("channel", "网格员巡查"), "area_code": grid,
            "reported_at": reported, "deadline_at": reported + timedelta(hours=deadline_h),
            "handled_at": handled, "status": "handled" if handled else "dispatched",
            "is_collective": False, "escalated": False, "returned_count": 0, **extra}


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory):
    path = empty_warehouse(tmp_path_factory.mktemp("risk") / "hand.duckdb")
    insert(path, "area", [
        {"code": "320813", "name": "县", "level": "county"},
        {"code": "320813001", "name": "镇", "level": "town", "parent_code": "320813"},
        {"code": "320813001001", "name": "村", "level": "village", "parent_code": "320813001"},
        *[{"code": g, "name": f"网格{i}", "level": "grid", "parent_code": "320813001001"}
          for i, g in enumerate((G1, G2, G3), 1)]], rebuild_marts=False)
    insert(path, "person", [_person("p1", G1, is_drug=True), _person("p2", G1), _person("p3", G1),
                            _person("p4", G1), _person("p5", G2), _person("p6", G2)], rebuild_marts=False)
    asof = date(2026, 3, 15)
    insert(path, "grid_staff", [
        {"area_code": G1, "role": "grid_worker", "staff_count": 1, "as_of": asof},
        {"area_code": G1, "role": "grid_volunteer", "staff_count": 2, "as_of": asof},
        {"area_code": G2, "role": "grid_worker", "staff_count": 0, "as_of": asof},
        {"area_code": G2, "role": "grid_volunteer", "staff_count": 1, "as_of": asof},
        {"area_code": G3, "role": "grid_worker", "staff_count": 1, "as_of": asof},
        {"area_code": G3, "role": "grid_volunteer", "staff_count": 3, "as_of": asof}], rebuild_marts=False)
    insert(path, "case_type", [{"case_type": "邻里纠纷", "category": "矛盾纠纷", "deadline_hours": 168},
                               {"case_type": "噪声扰民", "category": "城市管理", "deadline_hours": 48}],
           rebuild_marts=False)
    d = datetime
    insert(path, "cases", [
        # G1 disputes: Jan 1, Feb 1 (31 days later: not a repeat), Feb 20 (19 days: a repeat,
        # a petition, never handled → open and overdue at the end of February)
        _case("c4", G1, "邻里纠纷", "矛盾纠纷", d(2026, 1, 1, 9), 168, d(2026, 1, 2)),
        _case("c1", G1, "邻里纠纷", "矛盾纠纷", d(2026, 2, 1, 10), 168, d(2026, 2, 2)),
        _case("c2", G1, "邻里纠纷", "矛盾纠纷", d(2026, 2, 20, 10), 168, None, channel="信访"),
        # G2: a collective, escalated noise case, handled in time
        _case("c3", G2, "噪声扰民", "城市管理", d(2026, 2, 10, 10), 48, d(2026, 2, 11),
              is_collective=True, escalated=True),
        # March (incomplete month, not scored) sets the data's clock
        _case("c5", G2, "噪声扰民", "城市管理", d(2026, 3, 15, 10), 48, None),
    ], rebuild_marts=False)
    insert(path, "case_event", [{"case_id": "c5", "seq": 1, "step": "report",
                                 "occurred_at": d(2026, 3, 15, 10)}], rebuild_marts=False)
    insert(path, "opinion_post", [
        {"post_id": "o1", "platform": "微博", "published_at": d(2026, 2, 5), "content": "x",
         "area_code": "320813001001", "sentiment": "negative"},
        {"post_id": "o2", "platform": "微博", "published_at": d(2026, 2, 6), "content": "x",
         "area_code": G1, "sentiment": "negative"},
        {"post_id": "o3", "platform": "微博", "published_at": d(2026, 2, 7), "content": "x",
         "area_code": G2, "sentiment": "positive"}], rebuild_marts=False)
    insert(path, "survey_response", [
        {"response_id": "s1", "survey_period": date(2025, 10, 1), "area_code": G1, "sense_of_security": "不安全"},
        {"response_id": "s2", "survey_period": date(2025, 10, 1), "area_code": G1, "sense_of_security": "安全"},
        {"response_id": "s3", "survey_period": date(2025, 10, 1), "area_code": G2, "sense_of_security": "基本安全"},
        {"response_id": "s4", "survey_period": date(2025, 10, 1), "area_code": G2, "sense_of_security": "安全"},
    ])
    return path


def test_drivers_by_hand(hand_db):
    values, scores = risk.scored(hand_db)
    assert sorted(values["month"].unique().to_list()) == [date(2026, 1, 1), date(2026, 2, 1)]
    feb = values.filter(pl.col("month") == date(2026, 2, 1)).sort("area_code")
    # 3 disputes in Jan–Feb among 4 residents → 750 per 1,000
    assert feb["dispute_rate"].to_list() == pytest.approx([750.0, 0.0, 0.0])
    assert feb["repeat_disputes_w"].to_list() == [1, 0, 0]
    assert feb["petitions_w"].to_list() == [1, 0, 0]
    assert feb["collective_w"].to_list() == [0, 1, 0]
    assert feb["overdue_open_w"].to_list() == [1, 0, 0]
    # the village post is shared among 3 grids; the positive post does not count
    assert feb["negative_posts_w"].to_list() == pytest.approx([1 + 1 / 3, 1 / 3, 1 / 3])
    # G1's 1 special-group resident is hidden (so is its village's total): the index uses the
    # published stand-in, the middle of 1–4, never the count itself (issue #18)
    assert feb["special_density"].to_list() == pytest.approx([risk.HIDDEN_SPECIAL_STAND_IN * 1000 / 4, 0.0, 0.0])
    assert feb["staffing_gap_w"].to_list() == [0, 2, 0]
    # G1 1 of 2 insecure; G2 0 of 2; G3 has no respondents → county share 1 of 4
    assert feb["insecurity_v"].to_list() == pytest.approx([0.5, 0.0, 0.25])
    jan = values.filter(pl.col("month") == date(2026, 1, 1)).sort("area_code")
    assert jan["dispute_rate"].to_list() == pytest.approx([250.0, 0.0, 0.0])
    assert jan["overdue_open_w"].to_list() == [0, 0, 0]
    # contributions add up to the score for every grid and month
    total = scores.select(pl.sum_horizontal(pl.col("^c_.*$"))).to_series()
    assert total.to_list() == pytest.approx(scores["score"].to_list())


def test_public_interface_on_hand_db(hand_db):
    g = risk.grid_scores(FULL, "2026-02", path=hand_db)
    assert g.columns == ["area_code", "score", "level", "rank"]
    assert g.height == 3 and g["rank"].to_list() == sorted(g["rank"].to_list())
    w = risk.current_warnings(FULL, path=hand_db)
    assert w.columns == ["area_code", "area_name", "level", "score", "previous_score", "main_drivers"]
    # a scope outside the county sees nothing; a grid scope sees its grid only
    assert risk.grid_scores(Scope(("320814",)), "2026-02", path=hand_db).height == 0
    assert risk.grid_scores(Scope((G2,)), "2026-02", path=hand_db)["area_code"].to_list() == [G2]


# ------------------------------------------------------------------ on the small demo


def test_index_on_small_demo(small_db):
    g = risk.grid_scores(FULL, None, path=small_db)
    assert g.height > 700
    assert g["score"].min() >= 0 and g["score"].max() <= 10
    assert set(g["level"].unique()) <= set(risk.LEVELS)
    w = risk.current_warnings(FULL, path=small_db)
    assert w.height > 0 and set(w["level"]) | {"蓝", "黄"} >= set(w["level"])
    assert all(w["main_drivers"].str.len_chars() > 0)
    town = risk.grid_scores(FULL, None, area="320813103", path=small_db)
    assert town.height and all(town["area_code"].str.starts_with("320813103"))


def test_sensitivity_on_small_demo(small_db):
    s1 = risk.sensitivity(FULL, None, path=small_db)
    s2 = risk.sensitivity(FULL, None, path=small_db)
    assert s1.equals(s2)                                  # seeded: the same run twice
    assert (s1["rank_p5"] <= s1["rank_p95"]).all()
    summary = risk.sensitivity_summary(FULL, None, path=small_db)
    assert summary["runs"] == risk.config()["sensitivity"]["runs"]
    assert 0 <= summary["mean_level_change"] <= 1


def test_backtest_beats_chance_on_small_demo(small_db):
    bt = risk.backtest(FULL, path=small_db)
    assert 0 <= bt["auc"] <= 1 and bt["auc"] > 0.5
    assert bt["events"] > 0 and 0 < bt["top_capture"] <= 1
    assert bt["deciles"]["decile"].to_list() == list(range(1, 11))


def test_datasets_registered(small_db):
    ds = all_datasets()
    assert {"risk", "risk_sensitivity"} <= set(ds)
    risk_rows = ds["risk"].fn(FULL, area="320813103", start=date(2026, 10, 1), end=date(2026, 11, 1),
                              path=small_db)
    assert risk_rows["period"].unique().to_list() == ["2026-10"]
    assert {"n_dispute_rate", "c_dispute_rate", "score", "level", "rank"} <= set(risk_rows.columns)
    sens = ds["risk_sensitivity"].fn(FULL, path=small_db)
    assert {"rank_p5", "rank_p95", "level_change_share"} <= set(sens.columns)


# ------------------------------------------------------------------ page


def test_risk_page_zh(small_db):
    at = open_page("risk", period="2026-10")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "红色网格" in labels and "AUC（风险得分）" not in labels  # tabs are lazy: backtest not run
    warn = risk.warnings(FULL, date(2026, 10, 1), area="320813", path=small_db)
    assert {m.label: m.value for m in at.metric}["预警网格"] == f"{warn.height:,}"
    # every tab draws when opened (the open tab is kept in the URL)
    for label in ["单网格解读", "敏感性分析", "回测检验", "方法与权重"]:
        at.query_params["risk_tab"] = label
        at.run()
        assert not at.exception, label
        if label == "单网格解读":
            assert any("主要风险来源" in m.value for m in at.markdown)
        if label == "回测检验":
            assert "AUC（风险得分）" in [m.label for m in at.metric]


def test_risk_page_en(small_db):
    at = open_page("risk", period="2026-10")
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert "Red grids" in [m.label for m in at.metric]


def open_ready(chromium, url: str, heading: str, size=(1440, 1000)):
    """Open a page and wait until its title is drawn and no script run is in progress."""
    from tests.browser import wait_ready

    page = chromium.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url)
    page.wait_for_selector(f"h1:has-text('{heading}')", timeout=120_000)
    wait_ready(page, timeout_ms=120_000)
    return page


def click_tab(page, name: str, out) -> None:
    from tests.browser import wait_ready

    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(1500)
    wait_ready(page, timeout_ms=120_000)
    page.screenshot(path=str(out), timeout=120_000)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_risk_in_chromium(app_url, chromium, artifacts):
    page = open_ready(chromium, app_url + "/risk?area=320813&grain=month&period=2026-10&lang=zh", "风险研判")
    page.screenshot(path=str(artifacts / "risk_1440x1000.png"), timeout=120_000)
    assert "红色网格" in page.inner_text("body")
    click_tab(page, "回测检验", artifacts / "risk_backtest_1440x1000.png")
    assert "AUC" in page.inner_text("body")
    page.close()


def test_risk_marts_equal_scoring_from_the_base_tables(small_db, monkeypatch):
    """The persisted index (mart_risk_*) is exactly what scoring the base tables gives, and
    a changed configuration is not served from a mart scored with the old one."""
    con = db.reader(small_db)
    persisted = risk._from_marts(con)
    assert persisted is not None
    values = risk.drivers_from_counts(risk._raw_panel(con))
    scores = risk.index_from_drivers(values)
    assert persisted[1].height == values.height > 0
    assert persisted[0].equals(values.select(persisted[0].columns))
    assert persisted[1].equals(scores.select(persisted[1].columns))
    changed = copy.deepcopy(risk.config())
    changed["levels"]["red"] += 0.5
    monkeypatch.setattr(risk, "config", lambda path=None: changed)
    assert risk._from_marts(con) is None
