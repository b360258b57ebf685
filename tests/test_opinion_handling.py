"""舆情处置台账: stage durations, open records, per-stage medians and timeline segments, checked
against values worked out by hand on a hand-built warehouse; the demo's records; migration of a
warehouse built before the table existed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.fixtures import COUNTY_TWO_TOWNS, empty_warehouse, insert
from warehouse import opinion, schema
from warehouse.db import FULL, Scope

NOW = datetime(2026, 11, 24, 7, 0)
H = timedelta(hours=1)


def record(rid, code, opened, *gaps, level="黄", topic="征地拆迁"):
    """A record reaching one stage per gap (hours after the previous stage)."""
    row = {"opinion_case_id": rid, "area_code": code, "topic": topic, "level": level, "posts": 30,
           "opened_at": opened}
    t, stage = opened, "发现"
    for (_, name, col), gap in zip(opinion.HANDLING_STAGES, gaps):
        t += gap * H
        row[col], stage = t, name
    return row | {"stage": stage}


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory) -> Path:
    path = empty_warehouse(tmp_path_factory.mktemp("handling") / "hand.duckdb")
    insert(path, "area", COUNTY_TWO_TOWNS)
    # the data's clock: the latest case event
    insert(path, "case_event", [{"case_id": "E1", "seq": 1, "step": "report", "occurred_at": NOW}])
    insert(path, "opinion_case", [
        record("A", "320813106", datetime(2026, 10, 1, 8), 2, 4, 24, 48, 12),       # closed, 90 h
        record("B", "320813106", datetime(2026, 11, 20, 0), 1, 6, 24, level="红"),   # at 处置 since 11-21 07:00
        record("C", "320813106", datetime(2025, 6, 1, 0), 1, 1, 1, 1, 1),            # closed long ago
        record("D", "320813001", datetime(2026, 3, 1, 0), 3, 5, 10, 20, 30),        # closed, 68 h
        record("E", "320813001", datetime(2026, 11, 23, 19)),                        # found, nothing else yet
    ])
    return path


def test_stage_hours_by_hand(hand_db):
    h = opinion.handling(FULL, path=hand_db)
    assert h["opinion_case_id"].to_list() == ["E", "B", "A", "D"]  # newest first; C is older than a year
    a = h.filter(pl.col("opinion_case_id") == "A").row(0, named=True)
    assert [a[f"{k}_hours"] for k, _, _ in opinion.HANDLING_STAGES] == [2, 4, 24, 48, 12]
    assert (a["stage"], a["is_open"], a["waiting_hours"], a["total_hours"]) == ("办结", False, None, 90)
    b = h.filter(pl.col("opinion_case_id") == "B").row(0, named=True)
    assert [b[f"{k}_hours"] for k, _, _ in opinion.HANDLING_STAGES] == [1, 6, 24, None, None]
    # 11-21 07:00 → 11-24 07:00 at 处置; 11-20 00:00 → 11-24 07:00 in all
    assert (b["stage"], b["is_open"], b["waiting_hours"], b["total_hours"]) == ("处置", True, 72, 103)
    e = h.filter(pl.col("opinion_case_id") == "E").row(0, named=True)
    assert (e["stage"], e["assess_hours"], e["waiting_hours"], e["total_hours"]) == ("发现", None, 12, 12)
    assert h.filter(pl.col("opinion_case_id") == "D")["area_name"][0] == "高良涧街道"


def test_stage_medians_and_waiting_by_hand(hand_db):
    s = opinion.handling_summary(FULL, path=hand_db)
    rows = {r["stage"]: r for r in s.iter_rows(named=True)}
    # 研判: A 2, B 1, D 3 → median 2; P90 (linear) of [1, 2, 3] = 2.8; E waits for it
    assert (rows["研判"]["reached"], rows["研判"]["median_hours"], rows["研判"]["waiting_now"]) == (3, 2, 1)
    assert rows["研判"]["p90_hours"] == pytest.approx(2.8)
    assert (rows["处置"]["reached"], rows["处置"]["median_hours"]) == (3, 24)  # [10, 24, 24]
    assert (rows["引导"]["reached"], rows["引导"]["median_hours"], rows["引导"]["waiting_now"]) == (2, 34, 1)
    assert (rows["办结"]["reached"], rows["办结"]["median_hours"], rows["办结"]["waiting_now"]) == (2, 21, 0)
    tot = opinion.handling_totals(opinion.handling(FULL, path=hand_db))
    assert tot == {"records": 4, "open": 2, "closed": 2, "median_close_hours": (90 + 68) / 2}


def test_window_scope_and_area(hand_db):
    # active in October 2026: A (opened 10-01) only; C counts when the window reaches 2025
    oct_ = opinion.handling(FULL, start=date(2026, 10, 1), end=date(2026, 11, 1), path=hand_db)
    assert oct_["opinion_case_id"].to_list() == ["A"]
    old = opinion.handling(FULL, start=date(2025, 6, 1), end=date(2025, 7, 1), path=hand_db)
    assert old["opinion_case_id"].to_list() == ["C"]
    town = opinion.handling(Scope(("320813001",)), path=hand_db)
    assert set(town["opinion_case_id"]) == {"D", "E"}
    village = opinion.handling(FULL, "320813106201", path=hand_db)  # a village shows its town's
    assert set(village["opinion_case_id"]) == {"A", "B"}


def test_timeline_segments_add_up(hand_db):
    seg = opinion.handling_segments(FULL, path=hand_db)
    b = seg.filter(pl.col("opinion_case_id") == "B")
    assert b["stage"].to_list() == ["研判", "预警", "处置", "引导"]
    assert b["running"].to_list() == [False, False, False, True]
    assert b["start"][0] == datetime(2026, 11, 20, 0) and b["finish"][-1] == NOW
    assert (b["finish"][:-1] == b["start"][1:]).all()  # segments are contiguous
    a = seg.filter(pl.col("opinion_case_id") == "A")
    assert a["hours"].sum() == 90 and not a["running"].any()


def test_stage_order_is_enforced(hand_db, tmp_path):
    path = empty_warehouse(tmp_path / "bad.duckdb")
    bad = record("X", "320813106", datetime(2026, 1, 1), 1, 1) | {"assessed_at": None, "stage": "预警"}
    with pytest.raises(duckdb.ConstraintException):
        insert(path, "opinion_case", [bad], rebuild_marts=False)
    wrong_stage = record("Y", "320813106", datetime(2026, 1, 1), 1) | {"stage": "办结"}
    with pytest.raises(duckdb.ConstraintException):
        insert(path, "opinion_case", [wrong_stage], rebuild_marts=False)


def test_demo_records(small_db):
    h = opinion.handling(FULL, path=small_db)
    spike = h.filter((pl.col("area_code") == "320813106") & (pl.col("topic") == "征地拆迁") & pl.col("is_open"))
    assert spike.height == 1 and spike["level"][0] == "红" and spike["stage"][0] == "处置"
    assert 30 <= h.height <= 70 and 1 < h["is_open"].sum() <= 8  # a few dozen, most closed
    s = opinion.handling_summary(FULL, path=small_db)
    med = s["median_hours"].to_list()
    assert med[0] < 12 and med[-1] > 24 and all(m > 0 for m in med)  # hours to assess, days to close


def test_old_warehouse_is_upgraded(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    schema.create(con)
    con.execute("DROP TABLE opinion_case; DELETE FROM schema_version; INSERT INTO schema_version VALUES (1, now())")
    con.close()
    assert opinion.handling(FULL, path=path).is_empty()  # readable before the upgrade
    assert schema.upgrade(path) == ["opinion_case"]
    con = duckdb.connect(str(path), read_only=True)
    assert schema.current_version(con) == schema.SCHEMA_VERSION
    assert con.sql("SELECT count(*) FROM opinion_case").fetchall() == [(0,)]
    con.close()
    assert schema.upgrade(path) == []  # already current


def test_page_shows_the_register(small_db):
    from tests.apptest import open_page

    at = open_page("opinion", area="320813", grain="month", period="2026-09",  # a past month: still now's register
                   opinion_tab="处置进度")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    h = opinion.handling(FULL, path=small_db)
    assert metrics["在办"] == str(h["is_open"].sum()) and metrics["预警话题（近12个月）"] == str(h.height)
    table = next(d.value for d in at.dataframe if "当前阶段已等待（小时）" in d.value.columns)
    spike = table[(table["地区"] == "三河镇") & (table["话题"] == "征地拆迁") & (table["状态"] == "进行中")]
    assert spike["环节"].tolist() == ["处置"]
    # the spike warning names its open handling record and stage
    assert any("处置台账" in i.value and "「处置」" in i.value for i in at.info)


def test_page_register_in_english(small_db):
    from tests.apptest import open_page
    from ui import i18n

    i18n.set_lang("en")
    try:
        at = open_page("opinion", lang="en", area="320813106", grain="month", period="2026-11", opinion_tab="Handling")
    finally:
        i18n.set_lang("zh")
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Waiting at stage (h)" in d.value.columns)
    assert "Handle" in table["Stage"].tolist() and set(table["Area"]) == {"三河镇"}


def test_exports_take_an_inclusive_to_date(hand_db):
    from warehouse import datasets

    # A opened 2026-10-01 08:00: a window ending on --to 2026-10-01 includes it
    got = datasets.get("opinion_handling", FULL, start=date(2026, 9, 1), end=date(2026, 10, 1), path=hand_db)
    assert got["opinion_case_id"].to_list() == ["A"]
    stages = datasets.get("opinion_handling_stages", FULL, path=hand_db)
    assert stages["reached"].to_list() == [3, 3, 3, 2, 2]
