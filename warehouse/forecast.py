"""预测: case volume forecasts per county, town and major case class, with their backtest.

Series: monthly and weekly counts of cases reported, for the county (and each county at city
scale) and each town, for all cases (`全部`) and each category (矛盾纠纷, 治安隐患, …); only
complete periods. Every series is backtested by rolling origin (warehouse/forecast_models.py)
on seasonal naive, the historical mean, ETS and Theta (statsforecast), with the 春节 regressors
(warehouse/spring_festival.py); the model with the lowest MASE is used only if it beats
seasonal naive, else seasonal naive is used and the series says so (`beats_naive` false).

The fits run once per warehouse build or load, as marts (warehouse/marts.py):
- mart_forecast: one row per series and future period: point, 80% and 95% bounds, model;
- mart_forecast_backtest: one row per series and candidate model: MASE, coverage, chosen;
- mart_forecast_actual: one row per series and past period: the count.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import numpy as np
import polars as pl

from warehouse import db, marts, meta
from warehouse import forecast_models as fm
from warehouse import spring_festival as sf
from warehouse.datasets import dataset
from warehouse.db import Scope

ALL = "全部"
# season length, horizon, and backtest origins (step = horizon): the last 12 months, 24 weeks;
# refit: ETS/Theta refitted at every origin (months: cheap) or fitted at the first origin and
# run forward with those parameters (weeks: a 52-period season makes each fit ~4× dearer)
FREQS = {"month": {"season": 12, "h": 3, "origins": 4, "refit": True},
         "week": {"season": 52, "h": 4, "origins": 6, "refit": False}}
MART_FORECAST, MART_BACKTEST, MART_ACTUAL = "mart_forecast", "mart_forecast_backtest", "mart_forecast_actual"


# ---------------------------------------------------------------- calendar


def _month_add(d: date, n: int) -> date:
    k = d.year * 12 + d.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def period_starts(freq: str, first: date, last_end: date) -> list[date]:
    """Starts of the complete periods inside [first, last_end): months or ISO weeks."""
    out = []
    if freq == "month":
        d = first if first.day == 1 else _month_add(first, 1)
        while _month_add(d, 1) <= last_end:
            out.append(d)
            d = _month_add(d, 1)
    else:
        d = first + timedelta(days=(7 - first.weekday()) % 7)
        while d + timedelta(days=7) <= last_end:
            out.append(d)
            d += timedelta(days=7)
    return out


def period_end(freq: str, start: date) -> date:
    return _month_add(start, 1) if freq == "month" else start + timedelta(days=7)


def period_label(freq: str, start: date) -> str:
    """2026-12 for a month, 2026-W49 for an ISO week."""
    if freq == "month":
        return f"{start:%Y-%m}"
    y, w, _ = start.isocalendar()
    return f"{y}-W{w:02d}"


def series_name(freq: str, area_code: str, klass: str) -> str:
    return f"{freq}/{area_code}/{klass}"


# ---------------------------------------------------------------- counts from the warehouse


def counts(con, freq: str) -> tuple[pl.DataFrame, list[date]]:
    """(series × complete periods) counts in long form (series, area_code, level, class,
    period_start, actual; zeros included) and the period starts."""
    now = meta.data_now_of(con)
    span = con.sql("SELECT min(reported_at)::DATE FROM cases").fetchall()[0][0]
    if span is None:
        return pl.DataFrame(), []
    current = (date(now.year, now.month, 1) if freq == "month"
               else now.date() - timedelta(days=now.weekday()))
    starts = period_starts(freq, span, current)
    if not starts:
        return pl.DataFrame(), []
    unit = "month" if freq == "month" else "week"
    raw = con.sql(f"""
        SELECT substr(area_code, 1, 6) AS county, substr(area_code, 1, 9) AS town, category AS class,
               date_trunc('{unit}', reported_at)::DATE AS period_start, count(*) AS n
        FROM cases WHERE reported_at >= ? AND reported_at < ?
        GROUP BY ALL""", params=[starts[0], period_end(freq, starts[-1])]).pl()
    areas = con.sql("SELECT code AS area_code, level FROM area WHERE level IN ('county', 'town')").pl()
    classes = sorted(con.sql("SELECT DISTINCT category FROM cases").pl()["category"].to_list())
    parts = []
    for level, col in (("county", "county"), ("town", "town")):
        by = raw.rename({col: "area_code"})
        parts.append(by.group_by("area_code", "class", "period_start").agg(pl.col("n").sum())
                     .with_columns(pl.lit(level).alias("level")))
        parts.append(by.group_by("area_code", "period_start").agg(pl.col("n").sum())
                     .with_columns(pl.lit(ALL).alias("class"), pl.lit(level).alias("level")))
    long = pl.concat(parts, how="diagonal_relaxed")
    grid = (areas.join(pl.DataFrame({"class": [ALL, *classes]}), how="cross")
            .join(pl.DataFrame({"period_start": starts}), how="cross"))
    full = (grid.join(long.drop("level"), on=["area_code", "class", "period_start"], how="left")
            .with_columns(pl.col("n").fill_null(0).cast(pl.Float64).alias("actual"))
            .drop("n")
            .with_columns((pl.lit(f"{freq}/") + pl.col("area_code") + "/" + pl.col("class")).alias("series"))
            .sort("series", "period_start"))
    return full, starts


# ---------------------------------------------------------------- fitting (pure on arrays)


def fit_all(Y: np.ndarray, starts: list[date], freq: str) -> dict:
    """Backtest every candidate on every row of Y, pick per series, forecast h periods."""
    p = FREQS[freq]
    season, h = p["season"], p["h"]
    ends = [period_end(freq, s) for s in starts]
    future = [ends[-1]]
    for _ in range(h - 1):
        future.append(period_end(freq, future[-1]))
    x = sf.regressors(starts, ends)
    x_future = sf.regressors(future, [period_end(freq, s) for s in future])
    scores = fm.backtest(Y, season, h, p["origins"], x=x, refit=p["refit"])
    chosen, beats = fm.choose(scores)
    used = [name for name in fm.CANDIDATES if np.any(chosen == name)]
    out = fm.forecast_all(used, Y, season, h, x, x_future)
    return {"scores": scores, "chosen": chosen, "beats": beats,
            "forecasts": {n: out[n][0] for n in used}, "festival": {n: out[n][1] for n in used},
            "future": future}


# ---------------------------------------------------------------- marts


def compute_tables(con) -> dict[str, pl.DataFrame]:
    """The three forecast tables (see the module doc), or {} without enough complete periods."""
    fc_parts, bt_parts, act_parts = [], [], []
    for freq in FREQS:
        long, starts = counts(con, freq)
        if long.height == 0 or len(starts) < FREQS[freq]["season"] + 4:
            continue
        keys = long.select("series", "area_code", "level", "class").unique(maintain_order=True)
        Y = long["actual"].to_numpy().reshape(keys.height, len(starts))
        res = fit_all(Y, starts, freq)
        chosen, beats = res["chosen"], res["beats"]
        model_label = chosen.astype(object).copy()
        point = np.zeros((keys.height, FREQS[freq]["h"]))
        bands = {k: np.zeros_like(point) for k in ("lo80", "hi80", "lo95", "hi95")}
        for name, fc in res["forecasts"].items():
            rows = chosen == name
            point[rows] = fc.point[rows]
            for k in bands:
                bands[k][rows] = getattr(fc, k)[rows]
            model_label[rows & res["festival"][name]] = f"{name}+春节"
        h = point.shape[1]
        fc_parts.append(pl.DataFrame({
            "series": np.repeat(keys["series"].to_numpy(), h),
            "freq": freq,
            "area_code": np.repeat(keys["area_code"].to_numpy(), h),
            "level": np.repeat(keys["level"].to_numpy(), h),
            "class": np.repeat(keys["class"].to_numpy(), h),
            "period_start": np.tile(np.array(res["future"], dtype="datetime64[D]"), keys.height),
            "point": point.ravel(), **{k: v.ravel() for k, v in bands.items()},
            "model": np.repeat(model_label, h).tolist(),
            "beats_naive": np.repeat(beats, h),
        }).with_columns(pl.col("period_start").cast(pl.Date)))
        for s in res["scores"]:
            bt_parts.append(keys.with_columns(
                pl.lit(freq).alias("freq"), pl.lit(s.model).alias("model"),
                pl.Series("mase", s.mase), pl.Series("coverage_80", s.coverage_80),
                pl.Series("coverage_95", s.coverage_95), pl.lit(s.n).alias("points"),
                pl.Series("festival_share", s.festival),
                pl.Series("chosen", chosen == s.model), pl.Series("beats_naive", beats)))
        act_parts.append(long.select("series", pl.lit(freq).alias("freq"), "area_code", "level", "class",
                                     "period_start", "actual"))
    if not fc_parts:
        return {}
    return {name: pl.concat(parts, how="vertical_relaxed")
            for name, parts in ((MART_FORECAST, fc_parts), (MART_BACKTEST, bt_parts), (MART_ACTUAL, act_parts))}


def build_marts(con) -> list[str]:
    """mart_forecast, mart_forecast_backtest, mart_forecast_actual (see the module doc)."""
    return marts.replace_tables(con, compute_tables(con), (MART_FORECAST, MART_BACKTEST, MART_ACTUAL))


# what counts() reads (case_event: the data's now)
build_marts.depends_on = ("cases", "area", "case_event")


# ---------------------------------------------------------------- reading (cached per version)


@functools.lru_cache(maxsize=8)
def _tables(live: str, ver: str | None) -> dict[str, pl.DataFrame]:
    con = db.reader(live)
    if not db.has_tables(con, MART_FORECAST, MART_BACKTEST, MART_ACTUAL):
        # a warehouse built before these marts existed: fit here (about a second at county
        # scale), once per warehouse version; its next build or load stores them
        return compute_tables(con)
    return {name: con.sql(f"SELECT * FROM {name}").pl() for name in (MART_FORECAST, MART_BACKTEST, MART_ACTUAL)}


def tables(path=None) -> dict[str, pl.DataFrame]:
    live = str(db.db_path(path))
    return _tables(live, db.version(live))


def _in_scope(df: pl.DataFrame, scope: Scope, area: str | None) -> pl.DataFrame:
    scope.check_area(area)
    df = scope.frame(df)  # a town leader sees the town's series, not the county's totals
    if area:  # the area's series and those of the areas above it (within the scope)
        df = df.filter(pl.col("area_code").str.starts_with(area) | pl.lit(area).str.starts_with(pl.col("area_code")))
    return df


def _dates(df: pl.DataFrame, start: date | None, end: date | None) -> pl.DataFrame:
    if start:
        df = df.filter(pl.col("period_start") >= start)
    if end:
        df = df.filter(pl.col("period_start") < end)
    return df


def forecasts(scope: Scope, area: str | None = None, freq: str | None = None, path=None) -> pl.DataFrame:
    t = tables(path)
    if not t:
        return pl.DataFrame()
    df = _in_scope(t[MART_FORECAST], scope, area)
    return df.filter(pl.col("freq") == freq) if freq else df


def actuals(scope: Scope, series: str, path=None) -> pl.DataFrame:
    t = tables(path)
    if not t:
        return pl.DataFrame()
    return _in_scope(t[MART_ACTUAL].filter(pl.col("series") == series), scope, None).sort("period_start")


def series_options(scope: Scope, area: str | None = None, freq: str = "month", path=None) -> pl.DataFrame:
    """series, area_code, level, class, model, beats_naive for the series in scope."""
    df = forecasts(scope, area, freq, path)
    if df.height == 0:
        return df
    return (df.group_by("series", maintain_order=True)
            .agg(pl.col("area_code", "level", "class", "model", "beats_naive").first())
            .sort("level", "area_code", "class"))


def backtest_table(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """One row per series and model (MASE, coverage), then the `all` rows: per model, the mean
    MASE over series and the pooled coverage, overall and per frequency and level; model
    `selected` is each series' chosen model."""
    t = tables(path)
    if not t:
        return pl.DataFrame()
    bt = _in_scope(t[MART_BACKTEST], scope, area)
    if bt.height == 0:
        return bt
    selected = bt.filter(pl.col("chosen")).with_columns(pl.lit("selected").alias("model"))
    rows = pl.concat([bt, selected], how="vertical_relaxed")
    metrics = [pl.col("mase").mean(), pl.col("coverage_80").mean(), pl.col("coverage_95").mean(),
               pl.len().alias("n_series"), pl.col("beats_naive").mean().alias("share_beats_naive")]
    groups = [rows.group_by("model").agg(metrics).with_columns(pl.lit("all").alias("series")),
              rows.group_by("model", "freq").agg(metrics)
              .with_columns(("all/" + pl.col("freq")).alias("series")),
              rows.group_by("model", "freq", "level").agg(metrics)
              .with_columns(("all/" + pl.col("freq") + "/" + pl.col("level")).alias("series"))]
    per_series = rows.select("series", "freq", "area_code", "level", "class", "model", "mase",
                             "coverage_80", "coverage_95", "chosen", "beats_naive", "festival_share")
    summary = pl.concat(groups, how="diagonal_relaxed")
    order = {m: i for i, m in enumerate(("selected", *fm.CANDIDATES))}
    return (pl.concat([summary, per_series], how="diagonal_relaxed")
            .with_columns(pl.col("model").replace_strict(order, default=9).alias("_o"))
            .sort(pl.col("series").str.starts_with("all").not_(), "series", "_o").drop("_o")
            .select("series", "model", "mase", "coverage_80", "coverage_95", "freq", "level", "class",
                    "area_code", "chosen", "beats_naive", "festival_share", "n_series", "share_beats_naive"))


def summary(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """The `all` rows of the backtest per frequency and level, one column per model's MASE,
    with the selected models' coverage: the page's headline table."""
    bt = backtest_table(scope, area, path)
    if bt.height == 0:
        return bt
    s = bt.filter(pl.col("series").str.starts_with("all/") & (pl.col("series").str.count_matches("/") == 2))
    wide = s.pivot(on="model", index=["freq", "level"], values="mase")
    sel = s.filter(pl.col("model") == "selected").select(
        "freq", "level", "coverage_80", "coverage_95", "n_series", "share_beats_naive")
    return wide.join(sel, on=["freq", "level"]).sort("freq", "level")


# ---------------------------------------------------------------- datasets


@dataset("forecast", "Case volume forecasts per county, town and case class (monthly and weekly): point, 80% and 95% bounds, model chosen by backtest")
def forecast_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    df = forecasts(scope, area, path=path)
    if df.height == 0:
        return pl.DataFrame(schema={"series": pl.Utf8, "period": pl.Utf8, "point": pl.Float64,
                                    "lo80": pl.Float64, "hi80": pl.Float64, "lo95": pl.Float64,
                                    "hi95": pl.Float64, "model": pl.Utf8})
    df = _dates(df, start, end).sort("series", "period_start")
    return df.select(
        "series",
        pl.when(pl.col("freq") == "month").then(pl.col("period_start").dt.strftime("%Y-%m"))
        .otherwise(pl.col("period_start").dt.strftime("%G-W%V")).alias("period"),
        "point", "lo80", "hi80", "lo95", "hi95", "model")


@dataset("forecast_backtest", "Rolling-origin backtest of the case volume forecasts: MASE and 80%/95% interval coverage per series and model (seasonal naive included), and `all` rows per model")
def forecast_backtest_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    df = backtest_table(scope, area, path)
    if df.height == 0:
        return pl.DataFrame(schema={"series": pl.Utf8, "model": pl.Utf8, "mase": pl.Float64,
                                    "coverage_80": pl.Float64, "coverage_95": pl.Float64})
    return df.select("series", "model", "mase", "coverage_80", "coverage_95", "chosen", "beats_naive")


# ---------------------------------------------------------------- expected ranges (overview)

MIN_HISTORY = 6   # earlier periods needed before a range is estimated


def expected_range(history: list[float | None]) -> tuple[float, float] | None:
    """The 95% range the last value was expected in, from the values before it: the one-step
    interval of an ETS(A,N,N) (simple exponential smoothing, statsforecast) fitted to the
    earlier periods.
    None when fewer than MIN_HISTORY earlier values exist or the last one is missing."""
    if not history or history[-1] is None:
        return None
    earlier = np.array([v for v in history[:-1] if v is not None], float)
    if earlier.size < MIN_HISTORY:
        return None
    return fm.one_step_range(earlier, 95)


def expected_ranges(scope: Scope, area: str, period, path=None) -> pl.DataFrame:
    """Per indicator of the overview (warehouse.indicators.values): expected_lo, expected_hi
    and outside (the period's value left its expected range: 超出预期)."""
    from warehouse import indicators as wi

    vals = wi.values(scope, area, period, path=path)
    rows = []
    for r in vals.iter_rows(named=True):
        band = expected_range(r["history"] or [])
        lo, hi = band if band else (None, None)
        out = band is not None and not (lo <= r["value"] <= hi)
        rows.append({"key": r["key"], "expected_lo": lo, "expected_hi": hi, "outside": out})
    return pl.DataFrame(rows, schema={"key": pl.Utf8, "expected_lo": pl.Float64, "expected_hi": pl.Float64,
                                      "outside": pl.Boolean})
