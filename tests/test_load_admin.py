"""数据管理: warehouse/admin.py queries on a hand-built fixture, the page in AppTest and Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl.load import load_file
from tests.load_fixture import load_fixture
from warehouse import admin
from warehouse.db import FULL, WALL, Scope

BAD = Path(__file__).parent / "data" / "bad"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    """Fixture warehouse after three loads: one clean, one partial, one failed."""
    path = load_fixture(tmp_path_factory.mktemp("admin") / "wh.duckdb")
    for name, kind in [("persons_utf8.csv", "persons"), ("cases_bad_dates.csv", "cases"),
                       ("empty.csv", "persons")]:
        load_file(BAD / name, kind, path)
    return path


def test_runs_newest_first_with_counts(loaded):
    runs = admin.recent_runs(FULL, path=loaded)
    assert runs["file_name"].to_list() == ["empty.csv", "cases_bad_dates.csv", "persons_utf8.csv"]
    assert runs["outcome"].to_list() == ["failed", "partial", "ok"]
    assert runs.filter(runs["file_name"] == "cases_bad_dates.csv").select(
        "rows_read", "rows_loaded", "rows_quarantined").row(0) == (3, 1, 2)


def test_run_summary_counts_the_runs_the_table_lists(loaded):
    """The 30-day headline counts by the wall clock every run the table shows (issue 21: it said
    0 next to six loads made today, counting by the data's clock and leaving demo builds out)."""
    from datetime import datetime, timedelta

    runs = admin.recent_runs(FULL, path=loaded)
    s = admin.run_summary(FULL, path=loaded)
    assert s["runs"] == runs.height >= 3
    assert s["rows_read"] == int(runs["rows_read"].sum())
    assert s["failed"] == 1 and s["rows_quarantined"] >= 2
    later = datetime.now() + timedelta(days=31)
    assert admin.run_summary(FULL, now=later, path=loaded)["runs"] == 0


def test_quarantine_by_file_and_reason_and_raw_rows(loaded):
    summary = admin.quarantine_summary(FULL, path=loaded)
    assert summary.select("file_name", "reason_key", "rows", "first_line", "last_line").rows() == [
        ("cases_bad_dates.csv", "bad_date", 2, 3, 4)]
    table = admin.quarantine_table(FULL, "cases_bad_dates.csv", "bad_date", path=loaded)
    assert table["line_no"].to_list() == [3, 4]
    assert table["上报时间"].to_list() == ["三月五日", "2025-03-05 08:05"]  # the file's own columns
    assert table["受理时间"].to_list()[1] == "2025-13-45"
    assert table["column_name"].to_list() == ["reported_at", "accepted_at"]


def test_quarantine_needs_a_county_wide_person_level_scope(loaded):
    with pytest.raises(PermissionError):
        admin.quarantine_summary(WALL, path=loaded)
    with pytest.raises(PermissionError):
        admin.quarantine_rows(Scope(("320813001",)), path=loaded)


def test_freshness_per_table(loaded):
    fresh = admin.freshness_by_table(FULL, path=loaded)
    row = dict(zip(fresh["table_name"], fresh.iter_rows(named=True)))
    assert row["person"]["rows"] == 3 and row["person"]["last_outcome"] == "failed"
    assert row["cases"]["rows"] == 2 and row["cases"]["last_outcome"] == "partial"
    assert str(row["cases"]["newest_data"]) == "2025-03-05 08:05:00"
    assert row["ssra"]["last_loaded"] is None and row["ssra"]["rows"] == 0


def test_datasets_registered():
    from warehouse.datasets import all_datasets

    ds = all_datasets()
    assert "etl_runs" in ds and "quarantine" in ds and ds["quarantine"].person_level


@pytest.fixture(scope="module")
def admin_db(small_db, tmp_path_factory) -> Path:
    """The small demo plus one partial load, so the page has quarantined rows to show."""
    path = tmp_path_factory.mktemp("admin_page") / "wh.duckdb"
    shutil.copy(small_db, path)
    load_file(BAD / "cases_bad_dates.csv", "cases", path)
    load_file(BAD / "persons_bad_check_digit.csv", "persons", path)
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_shows_runs_quarantine_and_freshness(admin_db, monkeypatch, lang):
    from tests.apptest import open_page

    monkeypatch.setenv("WAREHOUSE_DB", str(admin_db))
    monkeypatch.setenv("ALERT_STATE", str(admin_db.with_name("no_alerts_yet.sqlite")))
    at = open_page("data")
    if lang == "en":  # switch with the sidebar radio, as a user would
        at.radio(key="lang").set_value("en").run()
    assert not at.exception, at.exception
    # the reasons guide (getting started), freshness, runs, audit log (demo mode reads as an administrator),
    # process map, quarantine summary, raw rows
    assert len(at.dataframe) == 7
    assert "missing_value" in at.dataframe[0].value.iloc[:, 0].tolist()  # every quarantine reason explained
    heads = [s.value for s in at.subheader]
    assert (["数据新鲜度（按表）", "最近导入记录", "审计日志（只读）", "预警记录（已推送的预警）", "流程定义与活动映射",
             "隔离数据（按文件和原因）"]
            if lang == "zh" else
            ["Data freshness by table", "Recent load runs", "Audit log (read-only)", "Alert history (alerts sent)",
             "Process definitions and activity map", "Quarantined rows by file and reason"]) == heads
    assert ("用户" if lang == "zh" else "User") in at.dataframe[3].value.columns  # audit headers in the page's language
    stages = at.dataframe[4].value.iloc[:, 2].tolist()   # the demo flow's map, in the reader's language
    assert ("评价归档" if lang == "zh" else "Closed") in stages
    labels = [b.label for b in at.get("download_button")]
    assert ("下载 Excel" if lang == "zh" else "Download Excel") in labels
    assert len(at.selectbox(key="data_pick").options) == 2  # one entry per file and reason
    raw = at.dataframe[6].value
    assert "行号" in raw.columns or "Line" in raw.columns


def test_page_in_chromium(admin_db, chromium, artifacts):
    from tests.browser import shot, streamlit_server

    with streamlit_server(admin_db) as url:
        out = artifacts / "data_admin_1440x1400.png"
        page = shot(chromium, url + "/data?lang=zh", out, size=(1440, 1400))
        page.wait_for_selector("h1:has-text('数据管理')", timeout=120_000)
        page.keyboard.press("Escape")  # a stray "page not found" dialog from the app shell, if any
        page.wait_for_selector('[data-testid="stDataFrame"] canvas', timeout=60_000)
        page.wait_for_timeout(2500)  # the data grids draw on canvas after the script run
        page.screenshot(path=str(out))
        assert page.locator('[data-testid="stDataFrame"]').count() == 7  # + the audit log (demo mode is admin) and the quarantine reasons
        page.close()
