"""Case closed loop: every figure of warehouse/caseloop.py checked on a hand-built event log.

Six cases reported in October 2026 plus one in September (outside the period):
  A 邻里纠纷 网格员巡查 town 001: report 0h, accept 1, dispatch 3, handle 27, verify 30, close 40
  B 邻里纠纷 12345      town 001: 0, accept 3, dispatch 4, handle 20, RETURN 22, handle 30, verify 32, close 42
  C 治安隐患 12345      town 002: 0, accept 1, dispatch 2, ESCALATE 10, dispatch 12, handle 100, verify 104, close 110
  D 治安隐患 网格员巡查 town 002: 0, accept 0.5, dispatch 2.5               (open, stuck at dispatch, overdue)
  E 邻里纠纷 12345      town 001: 0, accept 1                              (open, stuck at accept; its accept is "now")
  F 治安隐患 网格员巡查 town 002: 0, accept 1, dispatch 2, handle 5, verify 6, close 8
  G 邻里纠纷 网格员巡查 town 001, September: not in the October selection
  H 邻里纠纷 网格员巡查 town 001, September 20: 0, accept 1 (open, overdue, outside the period)
Deadlines: 邻里纠纷 168 h, 治安隐患 72 h. Every expected value below was worked out by hand.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.fixtures import empty_warehouse, insert
from warehouse import caseloop as cl
from warehouse import datasets
from warehouse.db import FULL, WALL, OutOfScope, Scope

T1, T2 = "320813001001001", "320813002001001"
DEADLINE = {"邻里纠纷": 168, "治安隐患": 72}
CATEGORY = {"邻里纠纷": "矛盾纠纷", "治安隐患": "治安隐患"}
OCT = {"start": date(2026, 10, 1), "end": date(2026, 11, 1)}
NOW = datetime(2026, 10, 30, 9, 0)


def _case(cid, ctype, channel, grid, t0, steps, level=None, sat=None, solved=None):
    """A cases row and its events; the case's timestamps follow the schema's derivation rule."""
    events = [{"case_id": cid, "seq": i + 1, "step": s, "occurred_at": t0 + timedelta(hours=h),
               "unit": "unit-" + cid, "outcome": None} for i, (s, h) in enumerate(steps)]
    at = {s: [e["occurred_at"] for e in events if e["step"] == s] for s in cl.STEPS}
    main = [s for s, _ in steps if s in cl.STEPS]
    closed = "close" in main
    row = {"case_id": cid, "case_type": ctype, "category": CATEGORY[ctype], "source_channel": channel,
           "area_code": grid, "reporter_masked": "张*三", "phone_masked": "138****0000",
           "description": "测试", "reported_at": t0, "accepted_at": (at["accept"] or [None])[0],
           "dispatched_at": (at["dispatch"] or [None])[0], "handled_at": (at["handle"] or [None])[-1],
           "verified_at": (at["verify"] or [None])[0], "closed_at": (at["close"] or [None])[0],
           "deadline_at": t0 + timedelta(hours=DEADLINE[ctype]), "status": cl.STATUS_OF_STEP[main[-1]],
           "responsible_unit": "unit-" + cid if at["dispatch"] else None,
           "resolved_level": level if at["handle"] else None,
           "returned_count": sum(s == "return" for s, _ in steps),
           "escalated": any(s == "escalate" for s, _ in steps),
           "satisfaction": sat if closed else None, "citizen_resolved": solved if closed else None}
    return row, events


FULL_PATH = [("report", 0), ("accept", 1), ("dispatch", 3), ("handle", 27), ("verify", 30), ("close", 40)]
CASES = [
    _case("A", "邻里纠纷", "网格员巡查", T1, datetime(2026, 10, 1, 8), FULL_PATH, "village", "满意", True),
    _case("B", "邻里纠纷", "12345", T1, datetime(2026, 10, 2, 8),
          [("report", 0), ("accept", 3), ("dispatch", 4), ("handle", 20), ("return", 22), ("handle", 30),
           ("verify", 32), ("close", 42)], "town", "不满意", False),
    _case("C", "治安隐患", "12345", T2, datetime(2026, 10, 5, 8),
          [("report", 0), ("accept", 1), ("dispatch", 2), ("escalate", 10), ("dispatch", 12), ("handle", 100),
           ("verify", 104), ("close", 110)], "county", "基本满意", True),
    _case("D", "治安隐患", "网格员巡查", T2, datetime(2026, 10, 20, 8),
          [("report", 0), ("accept", 0.5), ("dispatch", 2.5)]),
    _case("E", "邻里纠纷", "12345", T1, datetime(2026, 10, 30, 8), [("report", 0), ("accept", 1)]),
    _case("F", "治安隐患", "网格员巡查", T2, datetime(2026, 10, 10, 8),
          [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 5), ("verify", 6), ("close", 8)],
          "village", "满意", True),
    _case("G", "邻里纠纷", "网格员巡查", T1, datetime(2026, 9, 10, 8), FULL_PATH, "village", "满意", True),
    _case("H", "邻里纠纷", "网格员巡查", T1, datetime(2026, 9, 20, 8), [("report", 0), ("accept", 1)]),
]


@pytest.fixture(scope="module")
def loop_db(tmp_path_factory):
    path = empty_warehouse(tmp_path_factory.mktemp("loop") / "loop.duckdb")
    area = [{"code": "320813", "name": "洪泽区", "level": "county", "parent_code": None}]
    for town, name in (("320813001", "甲街道"), ("320813002", "乙镇")):
        area += [{"code": town, "name": name, "level": "town", "parent_code": "320813"},
                 {"code": town + "001", "name": name + "村", "level": "village", "parent_code": town},
                 {"code": town + "001001", "name": name + "网格", "level": "grid", "parent_code": town + "001"}]
    insert(path, "area", area, rebuild_marts=False)
    insert(path, "case_type", [{"case_type": t, "category": CATEGORY[t], "deadline_hours": h}
                               for t, h in DEADLINE.items()], rebuild_marts=False)
    insert(path, "cases", [c for c, _ in CASES], rebuild_marts=False)
    insert(path, "case_event", [e for _, ev in CASES for e in ev])
    return path


def by(df, key):
    return {r[key]: r for r in df.to_dicts()}


def test_funnel_counts_conversion_and_stuck_now(loop_db):
    f = by(cl.funnel(FULL, "320813", **OCT, path=loop_db), "step")
    assert [f[s]["reached"] for s in cl.STEPS] == [6, 6, 5, 4, 4, 4]
    assert f["dispatch"]["conversion"] == pytest.approx(5 / 6)
    assert f["handle"]["conversion"] == pytest.approx(4 / 5)
    assert [f[s]["drop_off"] for s in cl.STEPS[1:]] == [0, 1, 1, 0, 0]
    assert [f[s]["stuck_now"] for s in cl.STEPS] == [0, 1, 1, 0, 0, 0]       # E at accept, D at dispatch
    assert f["dispatch"]["stuck_overdue_now"] == 1 and f["accept"]["stuck_overdue_now"] == 0
    # D dispatched 10-20 10:30, now 10-30 09:00 → 10 days − 1.5 h; E accepted exactly "now"
    assert f["dispatch"]["stuck_median_hours"] == pytest.approx(238.5)
    assert f["accept"]["stuck_median_hours"] == pytest.approx(0.0)
    # every open case now, whenever reported: H (September) also waits at accept, and is overdue
    assert [f[s]["open_now_all"] for s in cl.STEPS] == [0, 2, 1, 0, 0, 0]
    assert [f[s]["open_overdue_now_all"] for s in cl.STEPS] == [0, 1, 1, 0, 0, 0]


def test_summary_by_hand(loop_db):
    s = cl.summary(FULL, "320813", **OCT, path=loop_db)
    assert (s["cases"], s["open_now"], s["open_overdue_now"]) == (6, 3, 2)     # D, E, H open; D, H overdue
    assert s["closed_share"] == pytest.approx(4 / 6) and s["overdue_share"] == pytest.approx(2 / 6)
    assert (s["local_share"], s["satisfaction_rate"]) == (0.75, 0.75)           # A,B,F of 4; A,C,F of 4


def test_funnel_filters_scope_and_period(loop_db):
    assert cl.funnel(FULL, "320813", **OCT, channels=("12345",), path=loop_db)["reached"].to_list() == \
        [3, 3, 2, 2, 2, 2]
    assert cl.funnel(FULL, "320813", **OCT, case_types="治安隐患", path=loop_db)["reached"][0] == 3
    assert cl.funnel(FULL, "320813", **OCT, categories=["矛盾纠纷"], path=loop_db)["reached"][0] == 3
    town2 = Scope(("320813002",), name="town")
    assert cl.funnel(town2, None, **OCT, path=loop_db)["reached"][0] == 3   # C, D, F
    sept = cl.funnel(FULL, "320813", date(2026, 9, 1), date(2026, 10, 1), path=loop_db)
    assert sept["reached"].to_list() == [2, 2, 1, 1, 1, 1]                # G and H


def test_dwell_median_and_p90_by_hand(loop_db):
    d = by(cl.dwell(FULL, "320813", **OCT, by=None, path=loop_db), "step")
    # report→accept [0.5,1,1,1,1,3]: median 1, p90 at position 4.5 → 1 + 0.5·2 = 2
    assert (d["report"]["n"], d["report"]["median_hours"], d["report"]["p90_hours"]) == (6, 1.0, pytest.approx(2.0))
    assert (d["accept"]["median_hours"], d["accept"]["p90_hours"]) == (1.0, pytest.approx(2.0))
    # entering dispatch → entering handle (the first handle) [A 24, B 16, C 98, F 3]: median 20,
    # p90 at position 2.7 → 24 + 0.7·74
    assert d["dispatch"]["median_hours"] == pytest.approx(20.0)
    assert d["dispatch"]["p90_hours"] == pytest.approx(75.8)
    # entering handle → verify, B's return and second handle included [A 3, B 12, C 4, F 1]
    assert (d["handle"]["median_hours"], d["handle"]["p90_hours"]) == (pytest.approx(3.5), pytest.approx(9.6))
    assert all(d[s]["ties"] == 0 and d[s]["out_of_order"] == 0 for s in cl.DWELL_STEPS)
    assert (d["verify"]["median_hours"], d["verify"]["p90_hours"]) == (pytest.approx(8.0), pytest.approx(10.0))
    t = cl.dwell(FULL, "320813", **OCT, path=loop_db)
    row = t.filter((t["step"] == "dispatch") & (t["case_type"] == "治安隐患")).to_dicts()[0]
    assert (row["n"], row["median_hours"]) == (2, pytest.approx(50.5))   # C 98, F 3
    u = cl.dwell(FULL, "320813", **OCT, by="responsible_unit", path=loop_db)
    assert u.filter((u["step"] == "dispatch") & (u["responsible_unit"] == "unit-C"))["median_hours"][0] == \
        pytest.approx(98.0)


def test_variants_by_hand(loop_db):
    v = by(cl.variants(FULL, "320813", **OCT, path=loop_db), "variant")
    assert len(v) == 5
    happy = v["report>accept>dispatch>handle>verify>close"]
    assert (happy["cases"], happy["mean_hours"]) == (2, pytest.approx(24.0))     # A 40, F 8
    assert v["report>accept>dispatch>handle>return>handle>verify>close"]["mean_hours"] == pytest.approx(42)
    assert v["report>accept>dispatch>escalate>dispatch>handle>verify>close"]["mean_hours"] == pytest.approx(110)
    assert v["report>accept>dispatch"]["mean_hours"] == pytest.approx(2.5)
    assert v["report>accept"]["closed"] is False
    first = cl.variants(FULL, "320813", **OCT, limit=1, path=loop_db)
    assert first["variant"].to_list() == ["report>accept>dispatch>handle>verify>close"]


def test_transitions_by_hand(loop_db):
    t = {(r["from_step"], r["to_step"]): r for r in cl.transitions(FULL, "320813", **OCT, path=loop_db).to_dicts()}
    assert t[("report", "accept")]["n"] == 6 and t[("accept", "dispatch")]["n"] == 5
    dh = t[("dispatch", "handle")]                    # A 24, B 16, C 88 (after the 2nd dispatch), F 3
    assert (dh["n"], dh["mean_hours"], dh["median_hours"]) == (4, pytest.approx(32.75), pytest.approx(20.0))
    assert t[("dispatch", "escalate")]["mean_hours"] == pytest.approx(8)
    assert t[("return", "handle")]["mean_hours"] == pytest.approx(8)


def test_overdue_by_type_and_open_overdue(loop_db):
    o = by(cl.overdue_by_type(FULL, "320813", **OCT, path=loop_db), "case_type")
    assert (o["治安隐患"]["overdue"], o["治安隐患"]["cases"]) == (2, 3)   # C handled at 100 h > 72, D open
    assert o["邻里纠纷"]["overdue_share"] == 0
    open_ = cl.overdue_open(FULL, "320813", path=loop_db)
    assert open_["case_id"].to_list() == ["H", "D"]                       # oldest first
    assert open_["hours_over"][1] == pytest.approx(169.0)              # 10-23 08:00 → 10-30 09:00
    assert open_["reporter_masked"][0] == "张*三"
    with pytest.raises(PermissionError):
        cl.overdue_open(WALL, "320813", path=loop_db)


def test_rates_12345_per_town_and_month(loop_db):
    r = by(cl.rates_12345(FULL, "320813", **OCT, path=loop_db), "town_code")
    a = r["320813001"]                     # B (accepted after 3 h, not solved, 不满意) and E (1 h, open)
    assert (a["calls"], a["response_rate"], a["solve_rate"], a["satisfaction_rate"]) == (2, 0.5, 0.0, 0.0)
    b = r["320813002"]                     # C: 1 h, solved, 基本满意
    assert (b["calls"], b["response_rate"], b["solve_rate"], b["satisfaction_rate"]) == (1, 1.0, 1.0, 1.0)
    assert a["town_name"] == "甲街道" and str(a["month"]) == "2026-10-01"
    total = cl.rates_12345(FULL, "320813", **OCT, per_town=False, path=loop_db).to_dicts()
    assert len(total) == 1 and total[0]["calls"] == 3 and total[0]["response_rate"] == pytest.approx(2 / 3)


def test_resolution_rework_satisfaction(loop_db):
    res = cl.resolution(FULL, "320813", **OCT, path=loop_db)
    total = res.filter(res["town_code"].is_null()).to_dicts()[0]
    assert (total["resolved"], total["village"], total["town"], total["county"]) == (4, 2, 1, 1)
    assert total["local_share"] == pytest.approx(0.75) and total["meets_target"] is False
    assert by(res.drop_nulls("town_code"), "town_code")["320813001"]["local_share"] == 1.0
    rw = cl.rework(FULL, "320813", **OCT, path=loop_db)
    tot = rw.filter(rw["case_type"].is_null()).to_dicts()[0]
    assert (tot["return_rate"], tot["escalation_rate"], tot["returns"]) == (0.25, 0.2, 1)
    s = by(cl.satisfaction_mix(FULL, "320813", **OCT, path=loop_db), "satisfaction")
    assert [s[k]["cases"] for k in cl.SATISFACTION_LEVELS] == [2, 1, 1]
    assert s["满意"]["share"] == 0.5


def test_channels(loop_db):
    c = by(cl.channels(FULL, "320813", **OCT, path=loop_db), "source_channel")
    g = c["网格员巡查"]                     # A, D, F
    assert (g["cases"], g["share"], g["closed_share"]) == (3, 0.5, pytest.approx(2 / 3))
    assert (g["overdue_share"], g["median_hours_to_close"]) == (pytest.approx(1 / 3), pytest.approx(24))
    h = c["12345"]                          # B, C, E
    assert (h["median_hours_to_close"], h["satisfaction_rate"], h["local_share"], h["return_rate"]) == \
        (pytest.approx(76), 0.5, 0.5, 0.5)
    assert c["信访"]["cases"] == 0 and len(c) == 7


def test_case_list_timeline_and_scope(loop_db):
    assert cl.case_count(FULL, "320813", **OCT, path=loop_db) == 6
    page = cl.case_list(FULL, "320813", **OCT, sort="duration_h", descending=True, limit=2, path=loop_db)
    assert page["case_id"].to_list() == ["C", "B"]
    page2 = cl.case_list(FULL, "320813", **OCT, sort="duration_h", descending=True, offset=2, limit=2,
                         path=loop_db)
    assert page2["case_id"].to_list() == ["A", "F"]
    assert "description" not in page.columns and "phone_masked" not in page.columns
    with pytest.raises(PermissionError):
        cl.case_list(WALL, "320813", **OCT, path=loop_db)
    with pytest.raises(ValueError):
        cl.case_list(FULL, "320813", **OCT, sort="description; DROP", path=loop_db)
    tl = cl.case_timeline(FULL, "B", path=loop_db)
    assert tl["step"].to_list() == ["report", "accept", "dispatch", "handle", "return", "handle", "verify", "close"]
    assert tl["hours_since_previous"].to_list()[1:] == pytest.approx([3, 1, 16, 2, 8, 2, 10])
    with pytest.raises(OutOfScope):  # refused, not passed off as missing
        cl.case_timeline(Scope(("320813002",)), "B", path=loop_db)
    with pytest.raises(OutOfScope):
        cl.case_detail(Scope(("320813002",)), "B", path=loop_db)
    assert cl.case_detail(FULL, "no-such-case", path=loop_db) is None
    assert cl.case_detail(FULL, "C", path=loop_db)["overdue"] is True


def test_datasets_exact_names_and_shapes(loop_db):
    kw = {"area": "320813", "start": date(2026, 10, 1), "end": date(2026, 10, 31), "path": loop_db}  # --to inclusive
    assert datasets.get("funnel", FULL, **kw)["reached"].to_list() == [6, 6, 5, 4, 4, 4]
    dw = datasets.get("dwell", FULL, **kw)
    assert dw.columns == ["step", "case_type", "median_hours", "p90_hours", "n", "ties", "out_of_order"]
    va = datasets.get("variants", FULL, **kw)
    assert va.columns == ["variant", "cases", "mean_hours"] and va["cases"].sum() == 6
    assert datasets.all_datasets()["cases"].person_level
    with pytest.raises(PermissionError):
        datasets.get("cases", WALL, **kw)
