"""Case volume forecasts on the demo: marts, datasets, scope and the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import polars as pl
import pytest

from warehouse import db
from warehouse import forecast as wf
from warehouse.datasets import all_datasets
from warehouse.db import FULL, Scope


def test_periods_are_complete_months_and_iso_weeks():
    assert wf.period_starts("month", date(2023, 11, 24), date(2024, 2, 1)) == [date(2023, 12, 1), date(2024, 1, 1)]
    weeks = wf.period_starts("week", date(2026, 11, 4), date(2026, 11, 23))   # Wed → the Mon before 23rd
    assert weeks == [date(2026, 11, 9), date(2026, 11, 16)]
    assert wf.period_label("week", date(2026, 11, 16)) == "2026-W47"
    assert wf.period_label("month", date(2026, 12, 1)) == "2026-12"


def test_counts_add_up_to_the_cases_table(small_db):
    con = db.reader(small_db)
    long, starts = wf.counts(con, "month")
    first, end = starts[0], wf.period_end("month", starts[-1])
    n = con.sql("SELECT count(*) FROM cases WHERE reported_at >= ? AND reported_at < ?",
                params=[first, end]).fetchall()[0][0]
    county = long.filter((pl.col("level") == "county") & (pl.col("class") == wf.ALL))
    assert county["actual"].sum() == n
    towns = long.filter((pl.col("level") == "town") & (pl.col("class") != wf.ALL))
    assert towns["actual"].sum() == n
    # every series has every period, zeros included
    assert long.group_by("series").len()["len"].unique().to_list() == [len(starts)]


def test_marts_hold_forecasts_with_ordered_bands(small_db):
    t = wf.tables(small_db)
    fc = t[wf.MART_FORECAST]
    assert set(fc["freq"].unique()) == {"month", "week"}
    assert fc.filter(~((pl.col("lo95") <= pl.col("lo80")) & (pl.col("lo80") <= pl.col("point"))
                       & (pl.col("point") <= pl.col("hi80")) & (pl.col("hi80") <= pl.col("hi95")))).height == 0
    assert fc["lo95"].min() >= 0
    # a series that does not beat seasonal naive uses it
    assert (fc.filter(~pl.col("beats_naive"))["model"] == "snaive").all()
    assert (fc.filter(pl.col("beats_naive"))["model"] != "snaive").all()
    # the first forecast period follows the last actual one
    act = t[wf.MART_ACTUAL]
    for freq in ("month", "week"):
        last = act.filter(pl.col("freq") == freq)["period_start"].max()
        first = fc.filter(pl.col("freq") == freq)["period_start"].min()
        assert first == wf.period_end(freq, last)


def test_datasets_have_the_named_columns(small_db):
    ds = all_datasets()
    fc = ds["forecast"].fn(FULL, path=small_db)
    assert fc.columns == ["series", "period", "point", "lo80", "hi80", "lo95", "hi95", "model"]
    assert fc.filter(pl.col("series") == "month/320813/全部").height == wf.FREQS["month"]["h"]
    bt = ds["forecast_backtest"].fn(FULL, path=small_db)
    assert bt.columns[:5] == ["series", "model", "mase", "coverage_80", "coverage_95"]
    alls = bt.filter(pl.col("series") == "all")
    assert {"snaive", "mean", "ets", "theta", "selected"} == set(alls["model"])
    one = bt.filter(pl.col("series") == "month/320813/全部")
    assert {"snaive", "mean", "ets", "theta", "selected"} == set(one["model"])
    # `all` is the mean of the per-series MASE
    per = bt.filter(~pl.col("series").str.starts_with("all") & (pl.col("model") == "ets"))
    assert alls.filter(pl.col("model") == "ets")["mase"][0] == pytest.approx(per["mase"].mean(), rel=1e-12)


def test_town_scope_sees_its_town_only(small_db):
    town = Scope(("320813103",), name="town")
    fc = wf.forecasts(town, path=small_db)
    assert fc.height and fc["area_code"].unique().to_list() == ["320813103"]
    bt = wf.backtest_table(town, path=small_db)
    assert bt.filter(pl.col("area_code").is_not_null())["area_code"].unique().to_list() == ["320813103"]


def test_export_cli(small_db):
    out = subprocess.run([sys.executable, "-m", "warehouse", "export", "forecast_backtest", "--db", str(small_db),
                          "--lang", "raw"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0].startswith("series,model,mase,coverage_80,coverage_95")


def test_expected_range_by_hand():
    # a constant history: ETS(A,N,N) fits it exactly, the range collapses on the constant
    lo, hi = wf.expected_range([5.0] * 8 + [5.0])
    assert lo == pytest.approx(5.0) and hi == pytest.approx(5.0)
    # too little history, or no value this period: no range
    assert wf.expected_range([1.0, 2.0, 3.0]) is None
    assert wf.expected_range([1.0] * 10 + [None]) is None
    # noise around 10 with sd 1: the range is about 10 ± 2 and 20 falls outside it
    hist = [10 + d for d in (1, -1, 0.5, -0.5, 1.5, -1.5, 0, 1, -1, 0.2, -0.2)]
    lo, hi = wf.expected_range([*hist, 20.0])
    assert 6 < lo < 9 and 11 < hi < 14


def test_expected_ranges_on_the_overview_indicators(small_db):
    from warehouse.periods import parse

    df = wf.expected_ranges(FULL, "320813", parse("2026-10"), path=small_db)
    assert df.height > 5 and df["expected_lo"].drop_nulls().len() > 3
    ok = df.drop_nulls("expected_lo")
    assert (ok["expected_lo"] <= ok["expected_hi"]).all()


def test_overview_flags_outside_expected(small_db):
    from tests.apptest import open_page

    at = open_page("overview", period="2026-10")
    assert not at.exception
    texts = [c.value for c in at.caption] + [m.value for m in at.markdown]
    assert any("预期区间" in x or "超出预期" in x for x in texts)


def test_risk_page_forecast_tab(small_db):
    from tests.apptest import open_page

    at = open_page("risk", period="2026-10")
    at.query_params["risk_tab"] = "预测预警"
    at.run()
    assert not at.exception
    assert any("季节性朴素" in c.value for c in at.caption)          # which model, honestly
    assert len(at.dataframe) >= 2                                   # backtest tables
    assert any("AUC" in (a.value or "") for a in [*at.success, *at.warning])


def test_a_warehouse_without_the_marts_is_fitted_on_read(small_db, tmp_path):
    import shutil

    import duckdb

    copy = tmp_path / "old.duckdb"
    shutil.copy(small_db, copy)
    con = duckdb.connect(str(copy))
    for name in (wf.MART_FORECAST, wf.MART_BACKTEST, wf.MART_ACTUAL):
        con.execute(f"DROP TABLE {name}")
    con.close()
    got = wf.tables(copy)
    want = wf.tables(small_db)
    assert got[wf.MART_FORECAST].sort("series", "period_start").equals(want[wf.MART_FORECAST].sort("series", "period_start"))


@pytest.mark.parametrize("name", ["forecast", "forecast_backtest", "early_warning_backtest", "early_warning"])
def test_forecast_and_early_warning_exports_have_chinese_headers(small_db, name):
    from warehouse.export_format import header, present

    sheet = present(ds_get(name, small_db), name)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c) for c in sheet.frame.columns), sheet.frame.columns
    if name == "early_warning_backtest":
        f = sheet.frame
        assert set(f["预警对象"]) == {"矛盾纠纷", "群体性事件苗头", "信访"}
        assert set(f["类别"]) == {"模型", "基线"}
        assert "基线：上月同类事件" in set(f["模型"])
        assert header("target")[0] == "目标值"        # an indicator's target elsewhere
    if name == "forecast_backtest":
        assert {"季节性朴素", "各序列所选模型"} <= set(sheet.frame["模型"])


def ds_get(name, path):
    return all_datasets()[name].fn(FULL, path=path)
