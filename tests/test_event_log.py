"""A bare event log with the county's own activity names, loaded as a process-mining user
has it (`python -m etl load --kind event_log FILE --process PROCESS.yaml`), then described by
the warehouse exactly as PM4Py describes the same file.

The log is generated here: 10,000 12345-hotline tickets through a flow unlike the demo's
(工单登记 → 受理 → 派单 → 签收 → 办理 → 回复 → 回访 → 办结, with 退单 back to 派单, 延期,
督办, a failed 回访 looping back to 办理, 受理 skipped on one ticket in three, 打印 after
办结 that the definition does not map, simultaneous timestamps, tickets still open), written
with XES column names in shuffled row order plus an extra column. Checked:
- the load: read = loaded, cases created, the unmapped activity listed (CLI too), the
  definition stored, the extra column kept as attributes, a second load changes nothing;
- stage-entry invariants, case by case against tests/test_caseloop_stages.py's reference;
- variants (counts and mean durations), case durations and transitions (count, mean, median)
  at activity level and at stage level equal PM4Py's on the same log (stage level: PM4Py's
  log with each activity replaced by its stage, unmapped events left out).
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest

from etl.load import load_file
from tests.test_caseloop_pm4py import _pm4py_case_durations
from tests.test_caseloop_stages import check_invariants
from warehouse import caseloop as cl
from warehouse import db, process
from warehouse.db import FULL

N_CASES = 10_000
T0 = datetime(2026, 9, 1, 8)
STAGES = {"工单登记": "report", "受理": "accept", "派单": "dispatch", "签收": "dispatch", "办理": "handle",
          "回复": "handle", "回访": "verify", "办结": "close", "退单": "return", "延期": "delay", "督办": "supervise"}
PROCESS_YAML = "name: 12345热线工单\nstages:\n" + "".join(f"  {a}: {s}\n" for a, s in STAGES.items()) + \
    "source_channel: '12345'\ncase_type: 12345工单\ndeadline_hours: 120\n"


def ticket(rng) -> list[str]:
    path = ["工单登记"] + ([] if rng.random() < 0.33 else ["受理"]) + ["派单", "签收"]
    while rng.random() < 0.12:
        path += ["退单", "派单", "签收"]
    path.append("办理")
    if rng.random() < 0.1:
        path += ["延期", "办理"]
    if rng.random() < 0.08:
        path.insert(int(rng.integers(2, len(path))), "督办")
    path.append("回复")
    while rng.random() < 0.1:
        path += ["回访", "办理", "回复"]
    path += ["回访", "办结"] + (["打印"] if rng.random() < 0.3 else [])
    return path if rng.random() < 0.85 else path[:int(rng.integers(1, len(path)))]


def generate(n: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        t = T0 + timedelta(minutes=int(rng.integers(0, 60 * 24 * 60)))
        for a in ticket(rng):
            rows.append((f"GD{c:06d}", a, t, "高" if c % 7 == 0 else "普通"))
            if rng.random() > 0.08:                            # 8% share the previous event's time
                t += timedelta(seconds=int(rng.lognormal(8.5, 1.3)))
    df = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp", "priority"])
    return df.sample(frac=1, random_state=seed).reset_index(drop=True)     # rows out of order


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("event_log")
    log = generate(N_CASES)
    csv = tmp / "12345_log.csv"
    log.assign(**{"time:timestamp": log["time:timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")}).to_csv(csv, index=False)
    yaml = tmp / "12345.yaml"
    yaml.write_text(PROCESS_YAML, encoding="utf-8")
    path = tmp / "w.duckdb"
    res = load_file(csv, "event_log", path, process=yaml, now=datetime(2027, 1, 1))
    return {"path": path, "log": log, "res": res, "csv": csv, "yaml": yaml}


def test_load_counts_cases_and_unmapped(loaded):
    res, log, path = loaded["res"], loaded["log"], loaded["path"]
    assert res.outcome == "ok", res.message
    assert res.rows_read == res.loaded == len(log) and res.quarantined_total == 0
    assert res.cases_created == N_CASES and res.unmapped == ["打印"]
    con = db.reader(path)
    assert con.sql("SELECT count(*), count(DISTINCT process) FROM case_event").fetchall() == [(len(log), 1)]
    assert con.sql("SELECT count(*) FROM case_event WHERE step IS NULL").fetchall()[0][0] == \
        (log["concept:name"] == "打印").sum()
    assert con.sql("SELECT DISTINCT source_channel, case_type, area_code FROM cases").fetchall() == \
        [("12345", "12345工单", "")]
    attrs = con.sql("SELECT DISTINCT attributes FROM case_event").fetchall()
    assert sorted(json.loads(a[0])["priority"] for a in attrs) == ["普通", "高"]
    assert process.unmapped(path)["activity"].to_list() == ["打印"]
    again = load_file(loaded["csv"], "event_log", path, process=loaded["yaml"])
    assert again.outcome == "skipped"


def test_cli_lists_unmapped(loaded, tmp_path, capsys):
    from etl.__main__ import main

    small = loaded["log"].head(200).copy()
    small["concept:name"] = small["concept:name"].replace({"督办": "挂起"})
    csv = tmp_path / "small.csv"
    small.to_csv(csv, index=False)
    code = main(["load", "--kind", "event_log", str(csv), "--process", str(loaded["yaml"]),
                 "--db", str(tmp_path / "s.duckdb")])
    out = capsys.readouterr().out
    assert code == 0 and "unmapped activities" in out
    listed = out.split("unmapped activities", 1)[1]
    assert "打印" in listed or "挂起" in listed


def test_bad_definition_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages: {派单: sending}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.yaml.*派单: sending.*Allowed"):
        process.load(bad)
    res = load_file(bad, "event_log", tmp_path / "w.duckdb", process=bad)
    assert res.outcome == "failed"


def stage_log(log: pd.DataFrame) -> dict[str, list[tuple[str, float]]]:
    """The log at stage level, in PM4Py's order (time, then file order), hours after T0."""
    ordered = log.reset_index().sort_values(["case:concept:name", "time:timestamp", "index"])
    out: dict[str, list] = {}
    for cid, act, ts in zip(ordered["case:concept:name"], ordered["concept:name"], ordered["time:timestamp"]):
        evs = out.setdefault(cid, [])
        if act in STAGES:
            evs.append((STAGES[act], (ts - T0).total_seconds() / 3600))
    return out


def test_stage_invariants_hold_case_by_case(loaded):
    log = loaded["log"]
    now_h = (log["time:timestamp"].max() - T0).total_seconds() / 3600
    check_invariants(loaded["path"], stage_log(log), now_h)
    f = cl.funnel(FULL, path=loaded["path"])
    assert f["skipped"][1] > 0.25 * N_CASES       # 受理 skipped on one ticket in three


@pytest.fixture(scope="module")
def pm4py_logs(loaded):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py
    log = loaded["log"]
    activity = pm4py.format_dataframe(log.copy(), case_id="case:concept:name", activity_key="concept:name",
                                      timestamp_key="time:timestamp")
    staged = log[log["concept:name"].isin(list(STAGES))].copy()
    staged["concept:name"] = staged["concept:name"].map(STAGES)
    stage = pm4py.format_dataframe(staged, case_id="case:concept:name", activity_key="concept:name",
                                   timestamp_key="time:timestamp")
    return pm4py, {"activity": activity, "stage": stage}


@pytest.mark.parametrize("level", ["activity", "stage"])
def test_variants_equal_pm4py(loaded, pm4py_logs, level):
    pm4py, logs = pm4py_logs
    ours = cl.variants(FULL, level=level, path=loaded["path"])
    theirs = {">".join(k): v for k, v in pm4py.get_variants(logs[level]).items()}
    assert dict(zip(ours["variant"], ours["cases"])) == theirs
    assert len(theirs) > 50 and ours["cases"].sum() == N_CASES
    if level == "activity":   # durations: first to last event of the whole case
        durations = pd.Series(_pm4py_case_durations(pm4py, logs[level]))
        variant_of = logs[level].groupby("case:concept:name")["concept:name"].agg(">".join)
        expected = durations.groupby(variant_of).mean() / 3600
        for v, mean_h in zip(ours["variant"], ours["mean_hours"]):
            assert mean_h == pytest.approx(expected[v], rel=1e-9)


@pytest.mark.parametrize("level", ["activity", "stage"])
def test_transitions_equal_pm4py(loaded, pm4py_logs, level):
    pm4py, logs = pm4py_logs
    ours = {(r["from_step"], r["to_step"]): r for r in cl.transitions(FULL, level=level, path=loaded["path"]).to_dicts()}
    counts, _, _ = pm4py.discover_dfg(logs[level])
    perf, _, _ = pm4py.discover_performance_dfg(logs[level])
    assert {k: r["n"] for k, r in ours.items()} == dict(counts)
    for pair, stats in perf.items():
        assert ours[pair]["mean_hours"] * 3600 == pytest.approx(stats["mean"], rel=1e-9, abs=1e-6)
        assert ours[pair]["median_hours"] * 3600 == pytest.approx(stats["median"], rel=1e-9, abs=1e-6)


def test_case_page_map_and_exports(loaded):
    m = process.of_case("GD000001", loaded["path"])
    assert m["process"] == "12345热线工单"
    got = dict(zip(m["map"]["activity"], m["map"]["stage"]))
    assert got == STAGES | {"打印": None}
    from warehouse import datasets

    v = datasets.get("variants", FULL, path=loaded["path"], level="activity")
    assert v["variant"][0].startswith("工单登记>")
    t = datasets.get("transitions", FULL, path=loaded["path"], level="stage")
    assert set(t["from_step"]) <= set(process.ALL)
    assert pl.Series(datasets.get("funnel", FULL, path=loaded["path"])["conversion"]).drop_nulls().max() <= 1


def test_timestamps_with_offsets_and_a_new_definition(tmp_path):
    """ISO timestamps with offsets (as PM4Py writes them) load as Beijing time; ordering and
    gaps follow the instants, not the text."""
    csv = tmp_path / "offsets.csv"
    csv.write_text("case:concept:name,concept:name,time:timestamp\n"
                   "Z1,签收,2026-10-01T00:30:00Z\n"               # 08:30 Beijing: after 派单
                   "Z1,派单,2026-10-01T08:00:00+08:00\n"
                   "Z1,办结,2026-10-01 02:00:00+00:00\n", encoding="utf-8")
    yaml = tmp_path / "p.yaml"
    yaml.write_text(PROCESS_YAML, encoding="utf-8")
    path = tmp_path / "w.duckdb"
    res = load_file(csv, "event_log", path, process=yaml, now=datetime(2027, 1, 1))
    assert res.outcome == "ok" and res.loaded == 3, res.message
    t = cl.transitions(FULL, level="activity", path=path)
    assert {(r["from_step"], r["to_step"]): r["mean_hours"] for r in t.to_dicts()} == {
        ("派单", "签收"): 0.5, ("签收", "办结"): 1.5}
    assert cl.variants(FULL, level="stage", path=path)["variant"].to_list() == ["dispatch>dispatch>close"]
