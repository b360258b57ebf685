"""责任单位考核 (warehouse/units.py) on a hand-built warehouse: every figure counted by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.fixtures import empty_warehouse, insert
from warehouse import units
from warehouse.db import FULL

GRID = "320813001001001"
NOW = datetime(2026, 11, 24, 10, 0)


def _case(cid, unit, day, *, closed=True, overdue=False, returned=0, satisfaction=None):
    reported = datetime(2026, 10, day, 9)
    deadline = reported + timedelta(days=3)
    handled = reported + timedelta(days=5 if overdue else 1) if closed else None
    return {"case_id": cid, "case_type": "治安隐患", "category": "治安隐患", "source_channel": "网格员巡查",
            "area_code": GRID, "reported_at": reported, "handled_at": handled,
            "closed_at": handled + timedelta(hours=1) if closed else None, "deadline_at": deadline,
            "status": "closed" if closed else "dispatched", "responsible_unit": unit,
            "returned_count": returned, "satisfaction": satisfaction, "is_collective": False}


# 区民政局: 10 cases, 9 closed, 2 overdue (one closed late, one open past its deadline),
# 1 returned, 4 rated of which 3 satisfied.
CASES = ([_case(f"M{i}", "区民政局", i + 1, satisfaction="满意") for i in range(2)]
         + [_case("M2", "区民政局", 3, satisfaction="基本满意"), _case("M3", "区民政局", 4, satisfaction="不满意")]
         + [_case("M4", "区民政局", 5, overdue=True, returned=2), _case("M5", "区民政局", 6, closed=False)]
         + [_case(f"M{i}", "区民政局", i + 1) for i in range(6, 10)]
         # 区司法局: 10 cases, all closed on time, none rated: scored on three measures
         + [_case(f"S{i}", "区司法局", i + 1) for i in range(10)]
         # 区城管局: 3 cases (below min_base): listed, not ranked
         + [_case(f"C{i}", "区城管局", i + 1, returned=1) for i in range(3)]
         # a village committee; a case without a unit is left out; September is outside the period
         + [_case("V1", "高涧村委会", 7), _case("N1", None, 8)]
         + [{**_case("OLD", "区民政局", 9), "reported_at": datetime(2026, 9, 30, 9)}])


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    path = empty_warehouse(tmp_path_factory.mktemp("units") / "hand.duckdb")
    insert(path, "area", [{"code": "320813", "name": "洪泽区", "level": "county"},
                          {"code": "320813001", "name": "高良涧街道", "level": "town", "parent_code": "320813"},
                          {"code": "320813001001", "name": "高涧村", "level": "village", "parent_code": "320813001"},
                          {"code": GRID, "name": "一网格", "level": "grid", "parent_code": "320813001001"}],
           rebuild_marts=False)
    insert(path, "cases", CASES, rebuild_marts=False)
    # the data's clock: a side event, so M0 keeps the stages of its row (warehouse/marts/20_case_flow.sql)
    insert(path, "case_event", [{"case_id": "M0", "seq": 1, "step": "other", "occurred_at": NOW}])
    return path


def test_kinds_from_names():
    assert [units.kind_of(n) for n in ("区民政局", "区公安分局", "区卫健委", "岔河镇综治中心", "张马社区委会",
                                       "南甸村委会", "某某合作社")] == [
        "department", "department", "department", "town", "village", "village", "other"]


def test_scorecard_by_hand(wh):
    card = units.scorecard(FULL, "320813", date(2026, 10, 1), date(2026, 11, 1), path=wh)
    rows = {r["responsible_unit"]: r for r in card.iter_rows(named=True)}
    assert set(rows) == {"区民政局", "区司法局", "区城管局", "高涧村委会"}
    m = rows["区民政局"]
    assert (m["cases"], m["closed_cases"], m["overdue_cases"], m["returned"], m["rated_cases"]) == (10, 9, 2, 1, 4)
    assert m["satisfied_rate"] == pytest.approx(3 / 4)
    # 100 × (30·0.9 + 30·(1 − 0.2) + 20·(1 − 0.1) + 20·0.75) / 100
    assert m["score"] == pytest.approx(84.0)
    s = rows["区司法局"]
    assert s["satisfied_rate"] is None and s["score"] == pytest.approx(100.0)  # 3 measures, all perfect
    assert (s["rank"], m["rank"]) == (1, 2)
    c = rows["区城管局"]
    assert c["rank"] is None and c["returned_rate"] == pytest.approx(1.0)
    assert c["score"] == pytest.approx(100 * (30 + 30 + 0) / 80)
    assert rows["高涧村委会"]["unit_kind"] == "village" and rows["高涧村委会"]["rank"] is None
