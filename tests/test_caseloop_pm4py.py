"""Process-mining figures of warehouse/caseloop.py against PM4Py's own on the same event log.

A random event log (returns, repeated returns, escalations, cases still open at every step)
is loaded into a fixture warehouse; variants with their counts and mean durations, every
case's duration, and the count, mean and median of every directly-follows transition must
match PM4Py (test-only dependency, imported only in this module: it is slow to import).
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.fixtures import empty_warehouse, insert
from tests.test_caseloop import CATEGORY, DEADLINE, T1, T2, _case
from warehouse import caseloop as cl
from warehouse.db import FULL

N_CASES = 400


def _random_path(rng) -> list[str]:
    path = ["report", "accept", "dispatch"]
    if rng.random() < 0.15:
        path += ["escalate", "dispatch"]
    path.append("handle")
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        path += ["return", "handle"]
    path += ["verify", "close"]
    cut = len(path) if rng.random() < 0.8 else int(rng.integers(1, len(path)))  # 20% still open
    return path[:cut]


@pytest.fixture(scope="module")
def log_db(tmp_path_factory):
    rng = np.random.default_rng(7)
    cases = []
    for i in range(N_CASES):
        t0 = datetime(2026, 10, 1) + timedelta(minutes=int(rng.integers(0, 30 * 24 * 60)))
        hours = np.cumsum(rng.lognormal(1.5, 1.2, 12)).round(4)
        steps = list(zip(_random_path(rng), [0.0, *hours]))
        closed = steps[-1][0] == "close"
        ctype = "邻里纠纷" if i % 2 else "治安隐患"
        cases.append(_case(f"C{i:04d}", ctype, "12345" if i % 3 else "网格员巡查", T1 if i % 5 else T2, t0,
                           steps, "village", "满意" if closed else None, True if closed else None))
    path = empty_warehouse(tmp_path_factory.mktemp("pm4py") / "log.duckdb")
    insert(path, "area", [{"code": "320813", "name": "洪泽区", "level": "county", "parent_code": None}],
           rebuild_marts=False)
    insert(path, "case_type", [{"case_type": t, "category": CATEGORY[t], "deadline_hours": h}
                               for t, h in DEADLINE.items()], rebuild_marts=False)
    insert(path, "cases", [c for c, _ in cases], rebuild_marts=False)
    events = [e for _, ev in cases for e in ev]
    insert(path, "case_event", events)
    return path, pd.DataFrame(events)


@pytest.fixture(scope="module")
def pm4py_log(log_db):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py
    _, events = log_db
    log = pm4py.format_dataframe(events.copy(), case_id="case_id", activity_key="step",
                                 timestamp_key="occurred_at")
    return pm4py, log


def test_variants_match_pm4py(log_db, pm4py_log):
    pm4py, log = pm4py_log
    ours = cl.variants(FULL, "320813", path=log_db[0])
    theirs = {">".join(k): v for k, v in pm4py.get_variants(log).items()}
    assert dict(zip(ours["variant"], ours["cases"])) == theirs
    assert ours["cases"].sum() == N_CASES and len(theirs) > 10   # a log with real variety
    # mean duration per variant from PM4Py's per-case durations
    durations = _pm4py_case_durations(pm4py, log)
    variant_of = log.groupby("case:concept:name")["concept:name"].agg(">".join)
    expected = pd.Series(durations).groupby(variant_of).mean() / 3600
    for v, mean_h in zip(ours["variant"], ours["mean_hours"]):
        assert mean_h == pytest.approx(expected[v], rel=1e-9)


def _pm4py_case_durations(pm4py, log) -> dict[str, float]:
    """Seconds from first to last event per case, via PM4Py's case statistics."""
    from pm4py.statistics.traces.generic.pandas import case_statistics

    stats = case_statistics.get_cases_description(log)
    return {cid: s["caseDuration"] for cid, s in stats.items()}


def test_case_durations_match_pm4py(log_db, pm4py_log):
    pm4py, log = pm4py_log
    ours = cl.case_durations(FULL, "320813", path=log_db[0])
    theirs = _pm4py_case_durations(pm4py, log)
    assert len(theirs) == ours.height == N_CASES
    for cid, hours in zip(ours["case_id"], ours["duration_h"]):
        assert hours * 3600 == pytest.approx(theirs[cid], abs=1e-3)
    assert sorted(ours["duration_h"] * 3600) == pytest.approx(sorted(pm4py.get_all_case_durations(log)), abs=1e-3)


def test_transitions_match_pm4py_performance_dfg(log_db, pm4py_log):
    pm4py, log = pm4py_log
    ours = {(r["from_step"], r["to_step"]): r for r in cl.transitions(FULL, "320813", path=log_db[0]).to_dicts()}
    counts, _, _ = pm4py.discover_dfg(log)
    perf, _, _ = pm4py.discover_performance_dfg(log)
    assert {k: r["n"] for k, r in ours.items()} == dict(counts)
    for pair, stats in perf.items():
        assert ours[pair]["mean_hours"] * 3600 == pytest.approx(stats["mean"], rel=1e-9)
        assert ours[pair]["median_hours"] * 3600 == pytest.approx(stats["median"], rel=1e-9)


def test_messy_stage_log_matches_pm4py(tmp_path):
    """Loops, skipped stages, repeats, side events, simultaneous timestamps and post-close
    events (tests/test_caseloop_stages.py's random log, the cases whose timestamps follow
    their order: PM4Py orders by time): variants and transitions equal PM4Py's."""
    from tests.test_caseloop_stages import T0 as S0
    from tests.test_caseloop_stages import build, random_log

    log = {c: evs for c, evs in random_log(500, seed=5).items()
           if all(a[1] <= b[1] for a, b in zip(evs, evs[1:]))}
    path = build(tmp_path / "messy.duckdb", log)
    events = pd.DataFrame([{"case_id": c, "step": s, "occurred_at": S0 + timedelta(hours=h)}
                           for c, evs in log.items() for s, h in evs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py
    pm = pm4py.format_dataframe(events, case_id="case_id", activity_key="step", timestamp_key="occurred_at")
    ours = cl.variants(FULL, path=path)
    assert dict(zip(ours["variant"], ours["cases"])) == {">".join(k): v for k, v in pm4py.get_variants(pm).items()}
    got = {(r["from_step"], r["to_step"]): r for r in cl.transitions(FULL, path=path).to_dicts()}
    counts, _, _ = pm4py.discover_dfg(pm)
    perf, _, _ = pm4py.discover_performance_dfg(pm)
    assert {k: r["n"] for k, r in got.items()} == dict(counts)
    for pair, stats in perf.items():
        assert got[pair]["mean_hours"] * 3600 == pytest.approx(stats["mean"], rel=1e-9, abs=1e-6)
        assert got[pair]["median_hours"] * 3600 == pytest.approx(stats["median"], rel=1e-9, abs=1e-6)
