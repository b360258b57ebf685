"""社会稳定风险评估 register: coverage, matrix, time to decision and lessons checked by hand."""

from datetime import date, datetime, timedelta

import pytest

from tests.apptest import open_page
from tests.fixtures import empty_warehouse, insert
from warehouse import ssra
from warehouse.datasets import all_datasets
from warehouse.db import FULL, Scope

TOWN_A, TOWN_B = "320813001", "320813002"
VILLAGE_A = "320813001001"


def _row(sid, area, submitted, decided=None, assessed=True, level=None, decision=None, status="已完成"):
    return {"ssra_id": sid, "project_name": f"项目{sid}", "project_type": "重大项目", "area_code": area,
            "submitted_at": submitted, "decided_at": decided, "assessed": assessed,
            "legality": 90.0 if assessed else None, "rationality": 85.0 if assessed else None,
            "feasibility": 85.0 if assessed else None, "controllability": 80.0 if assessed else None,
            "risk_level": level, "decision": decision, "status": status}


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory):
    path = empty_warehouse(tmp_path_factory.mktemp("ssra") / "hand.duckdb")
    insert(path, "area", [
        {"code": "320813", "name": "县", "level": "county"},
        {"code": TOWN_A, "name": "甲镇", "level": "town", "parent_code": "320813"},
        {"code": TOWN_B, "name": "乙镇", "level": "town", "parent_code": "320813"},
        {"code": VILLAGE_A, "name": "甲村", "level": "village", "parent_code": TOWN_A}], rebuild_marts=False)
    insert(path, "ssra", [
        # s1: 低 → 实施 in 甲村, 10 days; a collective incident 30 days after the decision → lesson
        _row("s1", VILLAGE_A, date(2026, 1, 1), date(2026, 1, 11), level="低", decision="实施"),
        # s2: 低 → 实施 in 乙镇, 20 days; its collective incident is 200 days later → no lesson
        _row("s2", TOWN_B, date(2026, 1, 1), date(2026, 1, 21), level="低", decision="实施"),
        # s3: 高 → 暂缓 in 甲镇, 40 days
        _row("s3", TOWN_A, date(2026, 2, 1), date(2026, 3, 13), level="高", decision="暂缓"),
        # s4: 中, still undecided
        _row("s4", TOWN_A, date(2026, 3, 1), level="中", status="评估中"),
        # s5: required but not assessed (应评未评)
        _row("s5", TOWN_B, date(2026, 3, 1), assessed=False, status="应评未评"),
    ], rebuild_marts=False)
    base = {"case_type": "征地拆迁", "category": "矛盾纠纷", "source_channel": "来访", "status": "closed",
            "is_collective": True, "escalated": False, "returned_count": 0}
    insert(path, "cases", [
        base | {"case_id": "k1", "area_code": VILLAGE_A + "001", "reported_at": datetime(2026, 2, 10),
                "deadline_at": datetime(2026, 2, 25)},
        base | {"case_id": "k2", "area_code": TOWN_B + "001001", "reported_at": datetime(2026, 1, 21) +
                timedelta(days=200), "deadline_at": datetime(2026, 9, 30)},
        # not collective: never a lesson
        base | {"case_id": "k3", "area_code": TOWN_B + "001001", "reported_at": datetime(2026, 2, 1),
                "deadline_at": datetime(2026, 2, 15), "is_collective": False},
    ])
    return path


def test_coverage_by_hand(hand_db):
    c = ssra.coverage(FULL, path=hand_db)
    assert (c["required"], c["assessed"], c["not_assessed"]) == (5, 4, 1)
    assert c["coverage"] == pytest.approx(0.8) and c["gap"] == pytest.approx(0.2)
    # 乙镇 only: s2 assessed, s5 not → 50%
    assert ssra.coverage(FULL, area=TOWN_B, path=hand_db)["coverage"] == pytest.approx(0.5)
    # submitted in March: s4 assessed, s5 not
    march = ssra.coverage(FULL, start=date(2026, 3, 1), end=date(2026, 4, 1), path=hand_db)
    assert (march["required"], march["assessed"]) == (2, 1)
    towns = ssra.coverage_by_town(FULL, path=hand_db)
    assert dict(zip(towns["town_code"], towns["coverage"])) == {TOWN_B: 0.5, TOWN_A: 1.0}


def test_matrix_by_hand(hand_db):
    m = {r["risk_level"]: r for r in ssra.matrix(FULL, path=hand_db).to_dicts()}
    assert m["低"]["实施"] == 2 and m["高"]["暂缓"] == 1 and m["中"]["未决策"] == 1
    total = sum(v for r in m.values() for k, v in r.items() if k != "risk_level")
    assert total == 4                       # assessed rows only: s5 is not in the matrix


def test_decision_time_by_hand(hand_db):
    d = ssra.decision_time(FULL, path=hand_db)
    assert d["decided"] == 3                # 10, 20 and 40 days
    assert d["median"] == pytest.approx(20) and d["mean"] == pytest.approx(70 / 3) and d["max"] == 40


def test_lessons_by_hand(hand_db):
    les = ssra.lessons(FULL, path=hand_db)
    assert les["ssra_id"].to_list() == ["s1"] and les["collective_after"].to_list() == [1]


def test_scope_limits_register(hand_db):
    reg = ssra.register(Scope((TOWN_A,)), path=hand_db)
    assert sorted(reg["ssra_id"]) == ["s1", "s3", "s4"]
    with pytest.raises(PermissionError):
        ssra.register(Scope((TOWN_A,)), area=TOWN_B, path=hand_db)
    assert "ssra" in all_datasets()


def test_ssra_page_zh(small_db):
    at = open_page("ssra")
    assert not at.exception
    cov = ssra.coverage(FULL, area="320813", path=small_db)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["应评事项"] == f"{cov['required']:,}"
    assert metrics["应评尽评率"] == f"{cov['coverage'] * 100:.1f}%"
    assert len(at.dataframe) >= 1


def test_ssra_page_en(small_db):
    at = open_page("ssra")
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert "Coverage" in [m.label for m in at.metric]


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_ssra_in_chromium(app_url, chromium, artifacts):
    from tests.test_risk import click_tab, open_ready

    page = open_ready(chromium, app_url + "/ssra?area=320813&grain=month&period=2026-10&lang=zh",
                      "社会稳定风险评估")
    page.screenshot(path=str(artifacts / "ssra_1440x1000.png"), timeout=120_000)
    assert "应评尽评率" in page.inner_text("body")
    click_tab(page, "覆盖率与时效", artifacts / "ssra_coverage_1440x1000.png")
    page.close()
