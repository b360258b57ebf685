"""Editing a process definition on the data page (ui/data_process.py, etl/reprocess.py) and the
per-stage deadlines of the one overdue rule.

A small 12345 log is loaded with a definition that leaves 回访 unmapped. On the page an
administrator maps 回访 to verify and gives verify a 1-hour deadline, then saves and applies:
the county's file is written beside the warehouse (never in the package), the log is read
again, and the funnel moves by hand-computed amounts (entered verify 0 → 5; the two open
tickets move from handle, which has no deadline by default, to verify, where they are overdue).

Hours after T0 per ticket (deadline of every ticket: 120 h; the data's now = 300 h):
  A1–A3 closed:  派单 0, 签收 1, 办理 2, 回访 50, 办结 51, 打印 52 (打印 unmapped throughout)
  B1–B2 open:    派单 0, 签收 1, 办理 2, 回访 200
  C clock:       派单 300
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl
import pytest

from etl.load import load_file
from tests.fixtures import empty_warehouse, insert
from warehouse import caseloop as cl
from warehouse import db, definitions, process
from warehouse.db import FULL

T0 = datetime(2026, 9, 1, 8)
FLOW = "12345热线工单"
YAML = f"""name: {FLOW}
stages: {{派单: dispatch, 签收: accept, 办理: handle, 办结: close}}
source_channel: '12345'
case_type: 12345工单
deadline_hours: 120
"""
CLOSED = [("派单", 0), ("签收", 1), ("办理", 2), ("回访", 50), ("办结", 51), ("打印", 52)]
OPEN = [("派单", 0), ("签收", 1), ("办理", 2), ("回访", 200)]


def _log() -> pl.DataFrame:
    rows = [(f"A{i}", a, T0 + timedelta(hours=h)) for i in (1, 2, 3) for a, h in CLOSED]
    rows += [(f"B{i}", a, T0 + timedelta(hours=h)) for i in (1, 2) for a, h in OPEN]
    rows += [("C", "派单", T0 + timedelta(hours=300))]
    return pl.DataFrame(rows, schema=["工单编号", "环节", "时间"], orient="row")


@pytest.fixture
def hotline(tmp_path):
    (tmp_path / "w").mkdir()
    path = empty_warehouse(tmp_path / "w" / "warehouse.duckdb")
    insert(path, "area", [{"code": "320813", "name": "洪泽区", "level": "county", "parent_code": None}])
    csv = tmp_path / "log.csv"
    _log().with_columns(pl.col("时间").dt.strftime("%Y-%m-%d %H:%M")).rename(
        {"工单编号": "case:concept:name", "环节": "concept:name", "时间": "time:timestamp"}).write_csv(csv)
    (tmp_path / "flow.yaml").write_text(YAML, encoding="utf-8")
    res = load_file(csv, "event_log", path, process=tmp_path / "flow.yaml", now=datetime(2026, 12, 1))
    assert res.outcome == "ok" and sorted(res.unmapped) == ["回访", "打印"], res
    return path


def _funnel(path) -> dict:
    return {r["step"]: r for r in cl.funnel(FULL, path=path).to_dicts()}


def test_edit_save_apply_moves_the_funnel(hotline, monkeypatch):
    from tests.apptest import open_page

    before = _funnel(hotline)
    assert before["verify"]["entered"] == 0 and before["verify"]["reached"] == 3
    assert (before["handle"]["stuck_now"], before["handle"]["stuck_overdue_now"]) == (2, 0)  # no deadline
    assert before["verify"]["stuck_now"] == 0

    monkeypatch.setenv("WAREHOUSE_DB", str(hotline))
    monkeypatch.setenv("ALERT_STATE", str(hotline.with_name("no_alerts.sqlite")))
    at = open_page("data")
    assert not at.exception
    assert any("回访" in w.value and "打印" in w.value for w in at.warning)     # unmapped, listed
    at.selectbox(key="proc_edit_flow").set_value(FLOW).run()
    stage = next(s for s in at.selectbox if s.label.startswith("回访"))
    assert stage.value == ""                                                # unmapped now
    stage.set_value("verify")
    at.selectbox(key="proc_rule_0_stored_verify").set_value("hours")
    at.number_input(key="proc_hours_0_stored_verify").set_value(1.0)
    next(b for b in at.button if b.label == "保存并应用").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("已应用" in s.value for s in at.success)

    own = hotline.parent / "processes" / f"{FLOW}.yaml"
    saved = process.load(own)
    assert saved.stages["回访"] == "verify" and saved.deadlines["verify"] == 1.0
    assert not (process.DEFAULT_PATH.parent / own.name).exists()        # never inside the package
    after = _funnel(hotline)
    assert after["verify"]["entered"] == 5 and after["verify"]["reached"] == 3 + 2
    assert (after["handle"]["stuck_now"], after["handle"]["stuck_overdue_now"]) == (0, 0)
    assert (after["verify"]["stuck_now"], after["verify"]["stuck_overdue_now"]) == (2, 2)  # 300 > 200 + 1
    assert process.unmapped(hotline)["activity"].to_list() == ["打印"]
    cases = db.query("SELECT case_id, status, verified_at FROM cases ORDER BY case_id", path=hotline)
    assert cases.filter(pl.col("case_id").str.starts_with("B"))["status"].to_list() == ["verified"] * 2

    # the page reopened starts from the applied definition: 回访 is verify
    at = open_page("data")
    at.selectbox(key="proc_edit_flow").set_value(FLOW).run()
    assert next(s for s in at.selectbox if s.label.startswith("回访")).value == "verify"


def test_check_refuses_a_zero_hour_deadline(hotline, monkeypatch):
    from tests.apptest import open_page

    monkeypatch.setenv("WAREHOUSE_DB", str(hotline))
    monkeypatch.setenv("ALERT_STATE", str(hotline.with_name("no_alerts.sqlite")))
    at = open_page("data")
    at.selectbox(key="proc_edit_flow").set_value(FLOW).run()
    at.selectbox(key="proc_rule_0_stored_accept").set_value("hours")
    at.number_input(key="proc_hours_0_stored_accept").set_value(0.0)
    next(b for b in at.button if b.label == "校验").click().run()
    assert any("定义无效" in e.value for e in at.error)
    assert not (hotline.parent / "processes").exists()


# ---------------------------------------------------------------- one overdue rule

# Deadline 72 h after report; now = 240 h; the default deadlines (the case deadline at report …
# dispatch, none at handle and verify). Hours per case, in log order:
#   H handle loop:  report 0, accept 1, dispatch 2, handle 50, return 60, handle 80, verify 90, close 91
#     old rule: handled_at = the last handle, 80 > 72 → overdue; stage rule: entered handle at 50 → on time
#   S no handle:    report 0, accept 1, close 5
#     old rule: never handled → overdue for ever; stage rule: every stage left on time
#   R sent back:    report 0, accept 1, dispatch 2, handle 10, return 11, dispatch 12   (open at dispatch)
#     old rule: handled at 10 → neither overdue nor open-overdue; stage rule: open at dispatch,
#     past the case deadline → overdue
#   W at handle:    report 0, accept 1, dispatch 2, handle 3                             (open at handle)
#     both: not overdue (handled in time; handle has no deadline of its own by default)
#   L late:         report 0, accept 1, dispatch 2, handle 100, verify 101, close 102
#     both: overdue (handled at 100 > 72; left dispatch at 100 > 72)
#   K clock:        report 240
# With `deadlines: {accept: 30m, handle: case}`: every case that entered accept at 1 h and left
# it later than 1.5 h is late at accept; W, open at handle past 72 h, is overdue there.
OLD = {"H": True, "S": True, "R": False, "W": False, "L": True, "K": False}
OLD_OPEN = {"H": False, "S": False, "R": False, "W": False, "L": False, "K": False}
STAGE = {"H": False, "S": False, "R": True, "W": False, "L": True, "K": False}


def _build(path, deadlines=None):
    from tests.test_caseloop_stages import build

    log = {"H": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 50), ("return", 60), ("handle", 80),
                 ("verify", 90), ("close", 91)],
           "S": [("report", 0), ("accept", 1), ("close", 5)],
           "R": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 10), ("return", 11), ("dispatch", 12)],
           "W": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 3)],
           "L": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 100), ("verify", 101), ("close", 102)],
           "K": [("report", 240)]}
    build(path, log)
    # the step times as a loader derives them from the log (the old rule read these)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TEMP TABLE _touched AS SELECT case_id FROM cases")
        from etl import case_sync

        case_sync.rederive(con, counts_too=True)
        if deadlines is not None:
            d = process.parse({"name": process.default().name, "stages": process.default().stages,
                               "deadlines": deadlines})
            process.save_deadlines(con, d)
        from warehouse import marts

        marts.rebuild(con)
    finally:
        con.close()
    return path


def test_old_rule_and_stage_rule_disagree_and_every_figure_uses_the_stage_rule(tmp_path):
    path = _build(tmp_path / "w.duckdb")
    now = datetime(2026, 10, 1, 8) + timedelta(hours=240)
    old = db.query("SELECT case_id, coalesce(handled_at, ?) > deadline_at AS overdue, "
                   "status <> 'closed' AND handled_at IS NULL AND deadline_at < ? AS open_overdue FROM cases",
                   [now, now], path)
    assert {r["case_id"]: r["overdue"] for r in old.to_dicts()} == OLD      # the rules figures used to read
    assert {r["case_id"]: r["open_overdue"] for r in old.to_dicts()} == OLD_OPEN
    page = {r["case_id"]: r["overdue"] for r in cl.case_list(FULL, limit=None, path=path).to_dicts()}
    assert page == STAGE
    s = cl.summary(FULL, path=path)
    assert s["overdue_share"] == pytest.approx(2 / 6)
    assert (s["open_now"], s["open_overdue_now"]) == (3, 1)    # R (dispatch, past 72 h); W, K are not
    assert cl.overdue_open(FULL, path=path)["case_id"].to_list() == ["R"]
    # the other readers of the rule: wall, grid profile, home, indicators' SQL
    from warehouse import grid_profile, home, wall
    from warehouse.db import WALL

    assert wall.headline(WALL, path=path)["open_overdue"] == 1
    assert grid_profile.open_counts(FULL, "320813001001001", path=path) == {"open": 3, "open_overdue": 1}
    rows = grid_profile.open_cases(FULL, "320813001001001", path=path)
    assert rows.filter(pl.col("overdue"))["case_id"].to_list() == ["R"]
    assert home.headline(FULL, path=path)["open_overdue"] == 1
    con = db.reader(path)
    n = con.sql(f"SELECT count(*) FILTER (WHERE {definitions.sql(definitions.OVERDUE)}) FROM mart_case_flow",
                params=[now]).fetchall()[0][0]
    assert n == 2


def test_stage_deadlines_from_the_definition(tmp_path):
    path = _build(tmp_path / "w.duckdb", deadlines={"accept": "30m", "handle": "case"})
    page = {r["case_id"]: r["overdue"] for r in cl.case_list(FULL, limit=None, path=path).to_dicts()}
    assert page == {"H": True, "S": True, "R": True, "W": True, "L": True, "K": False}
    flow = db.query("SELECT case_id, deadline_accept_at, exit_accept_at, left_late, stage_deadline_at "
                    "FROM mart_case_flow ORDER BY case_id", path=path)
    w = flow.filter(pl.col("case_id") == "W").row(0, named=True)
    assert w["deadline_accept_at"] == datetime(2026, 10, 1, 9, 30) and w["left_late"]
    assert w["stage_deadline_at"] == datetime(2026, 10, 4, 8)     # open at handle: the case deadline
    s = cl.summary(FULL, path=path)
    assert s["open_overdue_now"] == 2                              # R at dispatch, W at handle


def test_overdue_as_of_a_past_moment(tmp_path):
    path = _build(tmp_path / "w.duckdb")
    t0 = datetime(2026, 10, 1, 8)

    def at(h):
        lit = f"TIMESTAMP '{t0 + timedelta(hours=h):%Y-%m-%d %H:%M:%S}'"
        return sorted(r[0] for r in db.reader(path).sql(
            f"SELECT case_id FROM mart_case_flow WHERE {definitions.sql(definitions.OPEN_OVERDUE_AS_OF, lit)}"
        ).fetchall())

    assert at(70) == []
    assert at(80) == ["L", "R"]                # L still at dispatch (left at 100), R back at dispatch since 12
    assert at(101) == ["R"]                    # L entered handle at 100
    assert at(239) == ["R"]
