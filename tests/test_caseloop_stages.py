"""Funnel, dwell, status and overdue from stage entry (warehouse/caseloop.py's header) on logs
that real counties produce: loops, skipped stages, repeated activities, simultaneous
timestamps, events after close and rows whose timestamps contradict their order.

A hand-built log checks every figure against values worked out by hand; a random log of
such cases checks the mart case by case against an independent Python reading of the same
definition, plus the invariants (conversion <= 1, drop-off >= 0, no negative dwell, a
closed case stays closed, open cases sit at the stage they last entered, overdue only
against that stage's deadline: by default the case deadline at report … dispatch, none at
handle and verify).

All cases are reported at T0 (deadline 72 h); case K (report only, ten days later) sets the
data's now to T0 + 240 h. Hours after T0 per event, in log order (seq):
  L loop:          report 0, accept 1, dispatch 2, handle 5, RETURN 5.5, dispatch 6, handle 9,
                   verify 10, close 12
  S skips:         report 0, dispatch 2, handle 4, close 6          (no accept, no verify)
  R repeats:       report 0, accept 1, accept 3, dispatch 4, dispatch 4.5      (open at dispatch)
  T ties:          report 0, accept 0, dispatch 0, handle 5                    (open at handle)
  P post-close:    report 0, accept 1, dispatch 2, handle 3, verify 4, close 5, handle 7, other 8
  O out of order:  report 0, accept 3, dispatch 2, handle 10       (dispatch logged before accept's time)
  N stuck early:   report 0, accept 1                                          (open at accept)
  V late handling: report 0, accept 1, dispatch 2, handle 100, verify 101     (open at verify)
  K clock:         report 240                                                  (open at report)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.fixtures import empty_warehouse, insert
from warehouse import caseloop as cl
from warehouse.db import FULL

T0 = datetime(2026, 10, 1, 8)
GRID = "320813001001001"
STAGES = cl.STEPS
LOG = {
    "L": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 5), ("return", 5.5), ("dispatch", 6),
          ("handle", 9), ("verify", 10), ("close", 12)],
    "S": [("report", 0), ("dispatch", 2), ("handle", 4), ("close", 6)],
    "R": [("report", 0), ("accept", 1), ("accept", 3), ("dispatch", 4), ("dispatch", 4.5)],
    "T": [("report", 0), ("accept", 0), ("dispatch", 0), ("handle", 5)],
    "P": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 3), ("verify", 4), ("close", 5),
          ("handle", 7), ("other", 8)],
    "O": [("report", 0), ("accept", 3), ("dispatch", 2), ("handle", 10)],
    "N": [("report", 0), ("accept", 1)],
    "V": [("report", 0), ("accept", 1), ("dispatch", 2), ("handle", 100), ("verify", 101)],
    "K": [("report", 240)],
}


def build(path, log: dict[str, list[tuple[str, float]]], deadline_h: float = 72, reported=None):
    """A warehouse holding `log` (case → [(step, hours after its report)] in seq order)."""
    empty_warehouse(path)
    reported = reported or {}
    insert(path, "area", [{"code": "320813", "name": "洪泽区", "level": "county", "parent_code": None}],
           rebuild_marts=False)
    insert(path, "case_type", [{"case_type": "邻里纠纷", "category": "矛盾纠纷", "deadline_hours": 72}],
           rebuild_marts=False)
    cases, events = [], []
    for cid, evs in log.items():
        t0 = reported.get(cid, T0)
        first = min((h for _, h in evs), default=0)
        cases.append({"case_id": cid, "case_type": "邻里纠纷", "category": "矛盾纠纷", "source_channel": "12345",
                      "area_code": GRID, "reported_at": t0 + timedelta(hours=first),
                      "deadline_at": t0 + timedelta(hours=first + deadline_h), "status": "reported"})
        events += [{"case_id": cid, "seq": i + 1, "step": s, "occurred_at": t0 + timedelta(hours=h)}
                   for i, (s, h) in enumerate(evs)]
    insert(path, "cases", cases, rebuild_marts=False)
    insert(path, "case_event", events)
    return path


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("stages") / "hand.duckdb", LOG)


def by(df, key):
    return {r[key]: r for r in df.to_dicts()}


def test_funnel_by_hand(hand_db):
    f = by(cl.funnel(FULL, path=hand_db), "step")
    # passed = entered the stage or a later one (furthest stage L6 S6 R3 T4 P6 O4 N2 V5 K1)
    assert [f[s]["reached"] for s in STAGES] == [9, 8, 7, 6, 4, 3]
    assert [f[s]["entered"] for s in STAGES] == [9, 7, 7, 6, 3, 3]   # S skipped accept and verify
    assert [f[s]["skipped"] for s in STAGES] == [0, 1, 0, 0, 1, 0]
    assert [f[s]["drop_off"] for s in STAGES[1:]] == [1, 1, 1, 2, 1]
    assert f["verify"]["conversion"] == pytest.approx(4 / 6)
    # open at the stage last entered: K report, N accept, R dispatch, T and O handle, V verify;
    # P's handle after close does not reopen it
    assert [f[s]["stuck_now"] for s in STAGES] == [1, 1, 1, 2, 1, 0]
    # deadline 72 h, now 240 h; default deadlines (warehouse/process.py): the case deadline at
    # report … dispatch, none at handle and verify. T and O wait at handle and V at verify, past
    # the case deadline but not against their stage's (none); K was reported at now
    assert [f[s]["stuck_overdue_now"] for s in STAGES] == [0, 1, 1, 0, 0, 0]
    # hours since entering the stage now: N 239, R 236 (dispatch entered at 4), T 235 and O 230, V 139
    assert [f[s]["stuck_median_hours"] for s in STAGES[:5]] == pytest.approx([0, 239, 236, 232.5, 139])
    s = cl.summary(FULL, path=hand_db)
    assert (s["open_now"], s["open_overdue_now"]) == (6, 2)


def test_dwell_by_hand(hand_db):
    d = by(cl.dwell(FULL, by=None, path=hand_db), "step")
    # report → first higher event: L1 S2(dispatch) R1 T0(tie) P1 O3 N1 V1; K never left
    assert (d["report"]["n"], d["report"]["ties"], d["report"]["out_of_order"]) == (7, 1, 0)
    assert d["report"]["median_hours"] == 1.0
    # accept: L1 R3(first accept → dispatch) T0(tie) P1 O-1(out of order) V1
    assert (d["accept"]["n"], d["accept"]["ties"], d["accept"]["out_of_order"]) == (4, 1, 1)
    assert d["accept"]["median_hours"] == 1.0 and d["accept"]["p90_hours"] == pytest.approx(2.4)
    # dispatch: L3 (first handle; the loop back is time at handle) S2 T5 P1 O8 V98
    assert (d["dispatch"]["n"], d["dispatch"]["median_hours"]) == (6, pytest.approx(4.0))
    # handle: L5 (return and second dispatch included) S2 (straight to close) P1 V1
    assert (d["handle"]["n"], d["handle"]["median_hours"]) == (4, pytest.approx(1.5))
    assert (d["verify"]["n"], d["verify"]["median_hours"]) == (2, pytest.approx(1.5))   # L2 P1


def test_status_and_overdue_list_by_hand(hand_db):
    page = by(cl.case_list(FULL, limit=None, path=hand_db), "case_id")
    assert {c: r["status"] for c, r in page.items()} == {
        "L": "closed", "S": "closed", "P": "closed", "R": "dispatched", "T": "handled", "O": "handled",
        "N": "accepted", "V": "verified", "K": "reported"}
    over = cl.overdue_open(FULL, path=hand_db)
    assert sorted(over["case_id"]) == ["N", "R"]
    assert set(over["hours_over"]) == {168.0}                       # 240 − 72


# ---------------------------------------------------------------- an independent reading


def reference(log: dict[str, list[tuple[str, float]]], now: float, deadline: float = 72) -> dict:
    """The stage-entry definition read literally, case by case, in plain Python."""
    out = {}
    for cid, evs in log.items():
        ks = [(i, STAGES.index(s) + 1, h) for i, (s, h) in enumerate(evs) if s in STAGES]
        furthest = max((k for _, k, _ in ks), default=0)
        entry = {}
        for i, k, h in ks:
            entry.setdefault(k, (i, h))
        gaps = {}
        for k, (i, h) in entry.items():
            later = [h2 for i2, k2, h2 in ks if i2 > i and k2 > k]
            if later and k < 6:
                gaps[STAGES[k - 1]] = later[0] - h
        closed = 6 in entry
        open_stage = None if closed or not ks else STAGES[ks[-1][1] - 1]
        since = None
        if open_stage:
            runs = [h for j, (i, k, h) in enumerate(ks) if j == 0 or ks[j - 1][1] != k]
            since = runs[-1]
        overdue = open_stage in ("report", "accept", "dispatch") and now > deadline
        out[cid] = {"furthest": furthest, "entered": {STAGES[k - 1] for k in entry}, "gaps": gaps,
                    "closed": closed, "open_stage": open_stage, "since": since, "overdue": overdue}
    return out


def random_log(n: int, seed: int) -> dict[str, list[tuple[str, float]]]:
    """Cases through the six stages with loops back, skips, repeats, side events, ties,
    post-close events and (one case in 20) a timestamp out of order."""
    rng = np.random.default_rng(seed)
    log = {}
    for c in range(n):
        k, t, evs = 1, 0.0, [("report", 0.0)]
        while k < 6 and len(evs) < 25:
            r = rng.random()
            if r < 0.08:
                break                                        # still open
            if r < 0.18 and k > 1:
                k = int(rng.integers(1, k))                  # loop back
            elif r < 0.28:
                evs.append((str(rng.choice(["return", "escalate", "delay", "supervise", "other"])), t))
            elif r < 0.38:
                k = min(6, k + 2)                            # skip a stage
            elif r >= 0.45:
                k += 1                                       # (0.38–0.45: the same stage again)
            t += 0.0 if rng.random() < 0.1 else float(rng.lognormal(1, 1))   # 10% ties
            evs.append((STAGES[k - 1], round(t, 3)))
        if k == 6 and rng.random() < 0.2:
            evs += [("handle", t + 1), ("other", t + 2)]    # post-close activity
        if rng.random() < 0.05 and len(evs) > 2:
            j = int(rng.integers(1, len(evs)))
            evs[j] = (evs[j][0], evs[j][1] - 50)             # out-of-order timestamp
        log[f"X{c:05d}"] = evs
    return log


def check_invariants(path, log, now_h: float) -> None:
    """Funnel, dwell, status, open stage and overdue equal the reference for every case."""
    ref = reference(log, now_h)
    f = cl.funnel(FULL, path=path)
    reached = f["reached"].to_list()
    assert reached == [sum(r["furthest"] >= k for r in ref.values()) for k in range(1, 7)]
    assert f["entered"].to_list() == [sum(s in r["entered"] for r in ref.values()) for s in STAGES]
    assert all(a >= b for a, b in zip(reached, reached[1:]))               # never grows
    assert all(c <= 1 for c in f["conversion"].drop_nulls()) and min(f["drop_off"].drop_nulls()) >= 0
    assert (f["entered"] <= f["reached"]).all()
    open_ = {s: sum(r["open_stage"] == s for r in ref.values()) for s in STAGES}
    assert f["stuck_now"].to_list() == [open_[s] for s in STAGES]
    assert f["stuck_overdue_now"].to_list() == [
        sum(r["open_stage"] == s and r["overdue"] for r in ref.values()) for s in STAGES]
    d = by(cl.dwell(FULL, by=None, path=path), "step")
    for s in cl.DWELL_STEPS:
        gaps = [r["gaps"][s] for r in ref.values() if s in r["gaps"]]
        pos = [g for g in gaps if g > 0]
        row = d.get(s, {"n": 0, "ties": 0, "out_of_order": 0, "median_hours": None})
        assert (row["n"], row["ties"], row["out_of_order"]) == (
            len(pos), sum(g == 0 for g in gaps), sum(g < 0 for g in gaps)), s
        if pos:
            assert row["median_hours"] == pytest.approx(float(np.median(pos)), abs=1e-6)
            assert row["median_hours"] > 0
    page = by(cl.case_list(FULL, limit=None, path=path), "case_id")
    for cid, r in ref.items():
        assert (page[cid]["status"] == "closed") == r["closed"], cid


def test_random_log_matches_the_reference(tmp_path):
    log = random_log(600, seed=3)
    now_h = max(h for evs in log.values() for _, h in evs)
    path = build(tmp_path / "random.duckdb", log)
    assert sum(any(s == "close" for s, _ in evs[:-1]) and evs[-1][0] != "close" for evs in log.values()) > 10
    check_invariants(path, log, now_h)
