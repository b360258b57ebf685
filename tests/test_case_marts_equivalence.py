"""The case marts (20_case_flow.sql, 20_case_transition.sql) are built the fast way (step codes
packed into one integer per case; an integer-keyed window; no re-sort of the wide rows). Their
content must equal what the plain SQL gives: an ordered string_agg per case and a lead()
window over the event log joined to the cases. Checked on a hand-built log with the edge
cases (returns, escalations, a case without events, gaps in seq, seq outside the packed
range, events stored out of order) against values worked out by hand, and on the small demo
against the plain SQL. Also: the rows stay clustered by reported_at (zone maps)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl
import pytest

from tests.fixtures import empty_warehouse, insert
from warehouse import marts, schema

FLOW_SQL = marts.MARTS_DIR / "20_case_flow.sql"
TRANSITION_SQL = marts.MARTS_DIR / "20_case_transition.sql"

# the plain definitions (the marts' SQL before it was made fast): the reference
PLAIN_FLOW = """
WITH ev AS (
    SELECT case_id, string_agg(step, '>' ORDER BY seq) AS variant, count(*)::INTEGER AS n_events,
           min(occurred_at) AS first_at, max(occurred_at) AS last_at
    FROM case_event GROUP BY case_id
)
SELECT c.case_id, c.area_code, left(c.area_code, 9) AS town_code,
       c.case_type, c.category, c.source_channel, c.responsible_unit, c.resolved_level,
       c.reported_at, date_trunc('month', c.reported_at)::DATE AS month,
       c.accepted_at, c.dispatched_at, c.handled_at, c.verified_at, c.closed_at, c.deadline_at,
       c.returned_count, c.escalated, c.satisfaction, c.citizen_resolved,
       (epoch_us(ev.last_at) - epoch_us(ev.first_at)) / 3.6e9 AS duration_h,
       ev.variant, coalesce(ev.n_events, 0) AS n_events
FROM cases c LEFT JOIN ev USING (case_id)
"""
# the stage-entry columns (status, entries, dwell) have their own hand-computed tests
# (tests/test_caseloop_stages.py); here the mart's other columns are compared
PLAIN_TRANSITION = """
WITH pairs AS (
    SELECT case_id, step AS from_step, lead(step) OVER w AS to_step,
           (epoch_us(lead(occurred_at) OVER w) - epoch_us(occurred_at)) / 3.6e9 AS hours
    FROM case_event WINDOW w AS (PARTITION BY case_id ORDER BY seq)
)
SELECT f.case_id, f.area_code, f.case_type, f.category, f.source_channel, f.reported_at,
       p.from_step, p.to_step, p.hours
FROM pairs p JOIN mart_case_flow f USING (case_id)
WHERE p.to_step IS NOT NULL
"""

T0 = datetime(2026, 10, 1, 8, 0)
GRID = "320813106001001"
# case → its events as (seq, step, hours after T0), in seq order
EVENTS = {
    "A": [(1, "report", 0), (2, "accept", 1), (3, "dispatch", 2), (4, "handle", 10), (5, "verify", 12),
          (6, "close", 13)],
    # escalated, then sent back once after handling
    "B": [(1, "report", 0), (2, "accept", 2), (3, "dispatch", 3), (4, "escalate", 5), (5, "dispatch", 6),
          (6, "handle", 20), (7, "return", 21), (8, "handle", 30), (9, "verify", 31), (10, "close", 32)],
    "C": [],                                                        # reported, no event logged
    "D": [(1, "report", 0), (3, "accept", 4), (7, "dispatch", 5)],  # gaps in seq
    "E": [(0, "report", 0), (2, "accept", 1), (40, "dispatch", 3)],  # seq outside 1..31: slow path
    "F": [(5, "report", 0)],                                        # one event: no transition
}
# by hand: variant, n_events, duration (first → last event) in hours
EXPECTED_FLOW = {
    "A": ("report>accept>dispatch>handle>verify>close", 6, 13.0),
    "B": ("report>accept>dispatch>escalate>dispatch>handle>return>handle>verify>close", 10, 32.0),
    "C": (None, 0, None),
    "D": ("report>accept>dispatch", 3, 5.0),
    "E": ("report>accept>dispatch", 3, 3.0),
    "F": ("report", 1, 0.0),
}
EXPECTED_TRANSITIONS = sorted([
    ("A", "report", "accept", 1.0), ("A", "accept", "dispatch", 1.0), ("A", "dispatch", "handle", 8.0),
    ("A", "handle", "verify", 2.0), ("A", "verify", "close", 1.0),
    ("B", "report", "accept", 2.0), ("B", "accept", "dispatch", 1.0), ("B", "dispatch", "escalate", 2.0),
    ("B", "escalate", "dispatch", 1.0), ("B", "dispatch", "handle", 14.0), ("B", "handle", "return", 1.0),
    ("B", "return", "handle", 9.0), ("B", "handle", "verify", 1.0), ("B", "verify", "close", 1.0),
    ("D", "report", "accept", 4.0), ("D", "accept", "dispatch", 1.0),
    ("E", "report", "accept", 1.0), ("E", "accept", "dispatch", 2.0),
])


def _case(cid: str, day: int) -> dict:
    return {"case_id": cid, "case_type": "矛盾纠纷", "category": "矛盾纠纷", "source_channel": "12345",
            "area_code": GRID, "reported_at": T0 + timedelta(days=day), "deadline_at": T0 + timedelta(days=day + 3),
            "status": "reported", "returned_count": 0, "escalated": False}


def _build(con) -> None:
    for sql in (FLOW_SQL, TRANSITION_SQL):
        con.execute(sql.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    path = empty_warehouse(tmp_path_factory.mktemp("case_marts") / "hand.duckdb")
    # cases reported on different days, B first, so the mart order is not the case_id order
    days = {"B": 0, "D": 1, "A": 2, "F": 3, "C": 4, "E": 5}
    insert(path, "cases", [_case(cid, day) for cid, day in days.items()], rebuild_marts=False)
    events = [{"case_id": cid, "seq": seq, "step": step, "occurred_at": T0 + timedelta(days=days[cid], hours=h)}
              for cid, evs in EVENTS.items() for seq, step, h in evs]
    insert(path, "case_event", events[::-1], rebuild_marts=False)  # stored out of seq order
    con = duckdb.connect(str(path))
    _build(con)
    yield con
    con.close()


def _differences(con, mart: str, plain: str) -> tuple[int, int]:
    """Rows in the mart and not in the plain query's result, and the other way (multisets),
    over the plain query's columns."""
    cols = ", ".join(c[0] for c in con.sql(f"DESCRIBE ({plain})").fetchall())
    mart = f"SELECT {cols} FROM {mart}"
    extra = con.sql(f"SELECT count(*) FROM (({mart}) EXCEPT ALL ({plain}))").fetchall()[0][0]
    missing = con.sql(f"SELECT count(*) FROM (({plain}) EXCEPT ALL ({mart}))").fetchall()[0][0]
    return extra, missing


def _assert_equals_plain(con) -> None:
    assert _differences(con, "mart_case_flow", PLAIN_FLOW) == (0, 0)
    assert _differences(con, "mart_case_transition", PLAIN_TRANSITION) == (0, 0)
    for mart, plain in (("mart_case_flow", PLAIN_FLOW), ("mart_case_transition", PLAIN_TRANSITION)):
        columns = {c[0]: c[1] for c in con.sql(f"DESCRIBE {mart}").fetchall()}
        assert all(columns[c[0]] == c[1] for c in con.sql(f"DESCRIBE ({plain})").fetchall())


def test_flow_by_hand(hand):
    got = {r[0]: r[1:] for r in hand.sql(
        "SELECT case_id, variant, n_events, duration_h FROM mart_case_flow").fetchall()}
    assert got == EXPECTED_FLOW


def test_transitions_by_hand(hand):
    got = hand.sql("SELECT case_id, from_step, to_step, hours FROM mart_case_transition").fetchall()
    assert sorted(got) == EXPECTED_TRANSITIONS


def test_hand_log_equals_plain_sql(hand):
    _assert_equals_plain(hand)


def test_rows_follow_reported_at(hand):
    for mart in ("mart_case_flow", "mart_case_transition"):
        order = [r[0] for r in hand.sql(f"SELECT case_id FROM {mart} ORDER BY rowid").fetchall()]
        firsts = list(dict.fromkeys(order))
        assert firsts[:2] == ["B", "D"] and firsts[-1] in ("E", "F"), (mart, order)


def _bare_log(events: list[tuple]) -> duckdb.DuckDBPyConnection:
    """An in-memory cases + case_event without the schema's constraints: what a looser schema
    (no primary key on case_event, another step) would let in."""
    mem = duckdb.connect()
    schema.create(mem)
    mem.register("_cases", pl.DataFrame([_case(cid, 0) for cid in dict.fromkeys(e[0] for e in events)]).to_arrow())
    mem.execute("INSERT INTO cases BY NAME FROM _cases")
    mem.execute("DROP TABLE case_event")
    mem.execute("CREATE TABLE case_event (case_id VARCHAR, seq INTEGER, step VARCHAR, occurred_at TIMESTAMP, "
                "process VARCHAR DEFAULT 'p')")
    mem.executemany("INSERT INTO case_event (case_id, seq, step, occurred_at) VALUES (?, ?, ?, ?)",
                    [[cid, seq, step, T0 + timedelta(hours=h)] for cid, seq, step, h in events])
    return mem


def test_repeated_seq_takes_the_ordered_aggregate():
    # no primary key: seq 2 twice (same step and time, so every order gives the same answer)
    mem = _bare_log([("G", 1, "report", 0), ("G", 2, "accept", 1), ("G", 2, "accept", 1), ("G", 3, "close", 5)])
    _build(mem)
    assert mem.sql("SELECT variant, n_events, duration_h FROM mart_case_flow").fetchall() == [
        ("report>accept>accept>close", 4, 5.0)]
    assert sorted(mem.sql("SELECT from_step, to_step, hours FROM mart_case_transition").fetchall()) == [
        ("accept", "accept", 0.0), ("accept", "close", 4.0), ("report", "accept", 1.0)]
    _assert_equals_plain(mem)


def test_unknown_step_stops_the_transition_mart():
    mem = _bare_log([("H", 1, "report", 0), ("H", 2, "suspend", 1), ("H", 3, "close", 2)])
    mem.execute(FLOW_SQL.read_text(encoding="utf-8"))
    assert mem.sql("SELECT variant FROM mart_case_flow").fetchall() == [("report>suspend>close",)]
    with pytest.raises(duckdb.InvalidInputException, match="suspend"):
        mem.execute(TRANSITION_SQL.read_text(encoding="utf-8"))


def test_small_demo_equals_plain_sql(small_db, tmp_path):
    con = duckdb.connect(str(small_db), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM case_event WHERE step IN ('return', 'escalate')").fetchall()[0][0] > 0
        _assert_equals_plain(con)
        # rebuilt here from the same tables (in memory), the marts are the same again
        mem = duckdb.connect()
        mem.execute(f"ATTACH '{small_db}' AS src (READ_ONLY)")
        for table in ("cases", "case_event", "process_deadline"):
            mem.execute(f"CREATE TABLE {table} AS FROM src.{table}")
        _build(mem)
        for mart in ("mart_case_flow", "mart_case_transition"):
            assert _differences(mem, mart, f"FROM src.{mart}") == (0, 0)
        mem.close()
    finally:
        con.close()


def test_small_demo_clustered_by_reported_at(small_db):
    """Period filters skip row groups by reported_at: the flow mart is sorted; the transition
    mart keeps the flow's order (within a vector of cases at most, from the hash join)."""
    con = duckdb.connect(str(small_db), read_only=True)
    try:
        def decreases(mart):
            return con.sql(f"""SELECT count(*) FILTER (WHERE d) / count(*) FROM (
                SELECT reported_at < lag(reported_at) OVER (ORDER BY rowid) AS d FROM {mart})""").fetchall()[0][0]
        assert decreases("mart_case_flow") == 0
        assert decreases("mart_case_transition") < 0.01
    finally:
        con.close()
