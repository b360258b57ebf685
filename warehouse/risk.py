"""Grid risk index (风险研判): explainable, INFORM-style, with sensitivity and a backtest.

Every choice lives in `risk_config.yaml`. For grid g in month m:

1. Drivers x_{g,i}: event counts summed over the driver's window (the month and the months
   before it), rates per 1,000 residents, and the current registers (special groups, 1+2
   staffing); definitions in the YAML and on the page. Only complete months are scored.
2. Outliers: x is clipped to [P_lower, P_upper] of all grids in month m (winsorising); if
   P_upper equals the minimum (a rare event), the maximum is used instead.
3. Normalisation to 0–10, across all grids of the warehouse in month m (so a town's
   grids keep the same scores when an analyst drills into the town):
       minmax:  n = 10 · (x − min) / (max − min)           (0 when max = min)
       zscore:  n = 10 · clip((x − mean) / sd, 0, z_cap) / z_cap   (sensitivity alternative)
   A driver with direction −1 is reversed: n → 10 − n.
4. Dimensions (hazard, vulnerability, lack of coping capacity):
       D_{g,d} = Σ_{i∈d} w_i · n_{g,i}  with Σ_{i∈d} w_i = 1
5. Index:  S_g = Σ_d W_d · D_{g,d}  with Σ_d W_d = 1, so S ∈ [0, 10]. Linear aggregation
   (INFORM uses a geometric mean) keeps the contributions additive:
       c_{g,i} = W_{d(i)} · w_i · n_{g,i},   Σ_i c_{g,i} = S_g.
6. Levels 蓝 < 黄 < 橙 < 红 from the YAML thresholds; rank 1 = highest score in the month.
   Early warning: S rose by more than `warning_rise` since the previous month, or the grid
   entered 橙/红 from a lower level.

Sensitivity: Monte Carlo over weights (each × U(1 − j, 1 + j), renormalised) and the
normalisation (min-max or z-score) gives each grid's rank band (p5–p95) and the share of
grids whose level changes. Backtest: does S in month m rank the grids that have a collective
incident or an escalated case in month m + 1 (AUC, top-decile capture)?
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from warehouse import areas as wa
from warehouse import db, marts, meta, yamlfile
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.definitions import (
    DISPUTE,
    EVER_LATE,
    FEELS_SAFE,
    OPEN_OVERDUE_AS_OF,
    PETITION,
    SAFETY_ANSWERED,
    SUPPRESS_BELOW,
    sql,
)
from warehouse.periods import Period, period_of, shift
from warehouse.pymap import mapped

CONFIG_PATH = Path(__file__).with_name("risk_config.yaml")
LEVELS = ("蓝", "黄", "橙", "红")
DIMENSIONS = ("hazard", "vulnerability", "coping")
ONE_DAY = timedelta(days=1)


# ---------------------------------------------------------------- configuration


@functools.lru_cache(maxsize=4)
def config(path: str | None = None) -> dict:
    cfg = yamlfile.read(path or CONFIG_PATH)
    for key, d in cfg["drivers"].items():
        if d["dimension"] not in cfg["dimensions"]:
            raise ValueError(f"driver {key}: unknown dimension {d['dimension']}")
    lv = cfg["levels"]
    if not lv["yellow"] < lv["orange"] < lv["red"]:
        raise ValueError("level thresholds must rise: yellow < orange < red")
    return cfg


def driver_keys(cfg: dict | None = None) -> list[str]:
    return list((cfg or config())["drivers"])


def effective_weights(cfg: dict | None = None) -> np.ndarray:
    """W_{d(i)} · w_i per driver (dimension weights and within-dimension weights normalised)."""
    cfg = cfg or config()
    keys = driver_keys(cfg)
    dims = [cfg["drivers"][k]["dimension"] for k in keys]
    w = np.array([cfg["drivers"][k]["weight"] for k in keys], dtype=float)
    dim_w = {d: v["weight"] for d, v in cfg["dimensions"].items()}
    dim_total = sum(dim_w[d] for d in set(dims))
    within = {d: w[[i for i, x in enumerate(dims) if x == d]].sum() for d in set(dims)}
    return np.array([dim_w[d] / dim_total * w[i] / within[d] for i, d in enumerate(dims)])


# ---------------------------------------------------------------- normalisation (pure)


def winsorise(x: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Clip to the [lower, upper] percentiles; a degenerate upper percentile falls back to max."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return x
    lo, hi = np.quantile(x, [lower, upper])
    if hi <= x.min():
        hi = x.max()
    return np.clip(x, lo, hi)


def minmax10(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return x
    span = x.max() - x.min()
    return np.zeros_like(x) if span <= 0 else 10.0 * (x - x.min()) / span


def zscore10(x: np.ndarray, z_cap: float = 3.0) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return x
    sd = x.std()
    return np.zeros_like(x) if sd <= 0 else 10.0 * np.clip((x - x.mean()) / sd, 0, z_cap) / z_cap


def normalise(x: np.ndarray, method: str, cfg: dict, direction: int = 1) -> np.ndarray:
    """Winsorise, then scale to 0–10 by `method`; reversed for direction −1."""
    w = winsorise(x, cfg["winsorise"]["lower"], cfg["winsorise"]["upper"])
    n = minmax10(w) if method == "minmax" else zscore10(w, cfg["z_cap"])
    return n if direction >= 0 else 10.0 - n


def level_of(score: np.ndarray, cfg: dict | None = None) -> np.ndarray:
    """0 蓝, 1 黄, 2 橙, 3 红 from the thresholds."""
    lv = (cfg or config())["levels"]
    return np.digitize(score, [lv["yellow"], lv["orange"], lv["red"]])


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann–Whitney with average ranks for ties); None if one class."""
    labels = np.asarray(labels, dtype=bool)
    npos, nneg = labels.sum(), (~labels).sum()
    if npos == 0 or nneg == 0:
        return None
    ranks = pl.Series(np.asarray(scores, dtype=float)).rank("average").to_numpy()
    return float((ranks[labels].sum() - npos * (npos + 1) / 2) / (npos * nneg))


# ---------------------------------------------------------------- drivers from the warehouse


def _raw_panel(con) -> pl.DataFrame:
    """One row per grid and complete month: monthly counts and the static registers."""
    now = meta.data_now_of(con)
    last_month = period_of("month", now.date()).start  # the current, incomplete month
    first = con.sql("SELECT min(reported_at)::DATE FROM cases").fetchall()[0][0]
    if first is None or first >= last_month:
        return pl.DataFrame()
    months = pl.date_range(date(first.year, first.month, 1), shift(last_month, -1), "1mo", eager=True)
    month_tbl = pl.DataFrame({"month": months}).with_columns(
        pl.col("month").dt.offset_by("1mo").alias("month_end"))
    con.register("_months", month_tbl.to_arrow())
    grids = con.sql("""
        WITH p AS (SELECT area_code, count(*) AS pop FROM person GROUP BY 1)
        SELECT a.code AS area_code, a.parent_code AS village, coalesce(p.pop, 0) AS pop
        FROM area a LEFT JOIN p ON p.area_code = a.code
        WHERE a.level = 'grid'""").pl()
    grids = grids.join(_published_special(con), on="area_code", how="left").with_columns(
        pl.col("special").fill_null(0.0))
    staff = con.sql("""
        SELECT area_code,
               greatest(0, 1 - sum(staff_count) FILTER (WHERE role = 'grid_worker'))
             + greatest(0, 2 - coalesce(sum(staff_count) FILTER (WHERE role = 'grid_volunteer'), 0))
               AS staffing_gap
        FROM grid_staff WHERE role IN ('grid_worker', 'grid_volunteer') GROUP BY 1""").pl()
    counts = con.sql(f"""
        SELECT area_code, date_trunc('month', reported_at)::DATE AS month, count(*) AS cases,
               count(*) FILTER (WHERE {DISPUTE}) AS disputes,
               count(*) FILTER (WHERE {PETITION}) AS petitions,
               count(*) FILTER (WHERE is_collective) AS collective,
               count(*) FILTER (WHERE escalated) AS escalated
        FROM cases GROUP BY ALL""").pl()
    # a dispute within 30 days of the previous one of the same type in the same grid; the
    # window runs over disputes only (a few hundred thousand rows at city scale, not all cases)
    repeats = con.sql(f"""
        WITH d AS (
            SELECT area_code, reported_at,
                   lag(reported_at) OVER (PARTITION BY area_code, case_type ORDER BY reported_at)
                       >= reported_at - INTERVAL 30 DAY AS repeat_dispute
            FROM cases WHERE {DISPUTE})
        SELECT area_code, date_trunc('month', reported_at)::DATE AS month, count(*) AS repeat_disputes
        FROM d WHERE repeat_dispute GROUP BY ALL""").pl()
    # open and overdue at a month's end (the one overdue rule, as of that moment): only cases
    # that were ever late can qualify, so the range join sees those alone
    overdue = con.sql(f"""
        WITH late AS (SELECT * FROM mart_case_flow WHERE {EVER_LATE})
        SELECT c.area_code, m.month, count(*) AS overdue_open
        FROM late c JOIN _months m ON {sql(OPEN_OVERDUE_AS_OF, 'm.month_end')}
        GROUP BY ALL""").pl()
    # a post placed on a grid counts there; one placed on a village is spread evenly over its
    # grids (two equi-joins: one join on "code OR parent" ran as a nested loop, 1.5 s at city)
    posts = con.sql("""
        WITH n AS (SELECT parent_code AS village, count(*) AS grids FROM area
                   WHERE level = 'grid' GROUP BY 1),
        p AS (SELECT area_code, date_trunc('month', published_at)::DATE AS month, count(*) AS k
              FROM opinion_post WHERE sentiment = 'negative' AND area_code IS NOT NULL GROUP BY ALL),
        spread AS (
            SELECT a.code AS area_code, p.month, p.k::DOUBLE AS k
            FROM p JOIN area a ON a.level = 'grid' AND a.code = p.area_code
            UNION ALL
            SELECT a.code, p.month, p.k / n.grids
            FROM p JOIN area a ON a.level = 'grid' AND a.parent_code = p.area_code
            JOIN n ON n.village = a.parent_code)
        SELECT area_code, month, sum(k) AS negative_posts FROM spread GROUP BY ALL""").pl()
    survey = con.sql(f"""
        SELECT area_code, survey_period,
               count(*) FILTER (WHERE {SAFETY_ANSWERED} AND NOT {FEELS_SAFE}) AS insecure,
               count(*) FILTER (WHERE {SAFETY_ANSWERED}) AS answered
        FROM survey_response GROUP BY ALL""").pl()
    con.unregister("_months")

    panel = (grids.join(month_tbl.select("month"), how="cross")
             .join(staff, on="area_code", how="left")
             .join(counts, on=["area_code", "month"], how="left")
             .join(repeats, on=["area_code", "month"], how="left")
             .join(overdue, on=["area_code", "month"], how="left")
             .join(posts, on=["area_code", "month"], how="left"))
    return (panel.with_columns(pl.col(c).fill_null(0) for c in
                               ("staffing_gap", "cases", "disputes", "repeat_disputes", "petitions",
                                "collective", "escalated", "overdue_open", "negative_posts"))
            .join(_insecurity(survey, month_tbl), on=["area_code", "month"], how="left")
            .sort("area_code", "month"))


# A grid whose special-group total is hidden, in a village whose total is hidden too, counts
# as the middle of 1–4: the same for every such grid, so it says nothing about any of them.
HIDDEN_SPECIAL_STAND_IN = (1 + SUPPRESS_BELOW - 1) / 2


def _published_special(con) -> pl.DataFrame:
    """area_code, special: the grid's special-group count as the population page publishes it;
    for a hidden one, the village's published remainder shared over its hidden grids (or the
    stand-in). Never the raw count: the density, its normalised value and contribution, the
    score, level, rank and changes are all published, and density × residents gave the raw
    count back exactly (issue #18)."""
    from warehouse.population import published_grid_totals

    pub = published_grid_totals(con)
    return pub.select("area_code", pl.coalesce(pl.col("special_shown").cast(pl.Float64), "village_share",
                                               pl.lit(HIDDEN_SPECIAL_STAND_IN)).alias("special"))


def _insecurity(survey: pl.DataFrame, month_tbl: pl.DataFrame) -> pl.DataFrame:
    """Share insecure over the last 4 completed survey quarters before each month's end."""
    if survey.height == 0:
        return pl.DataFrame(schema={"area_code": pl.Utf8, "month": pl.Date, "insecurity": pl.Float64})
    links = []
    for m_end, m in zip(month_tbl["month_end"], month_tbl["month"]):
        # a quarter's survey is usable once the quarter is over: the 4 quarters before the
        # quarter that contains the month's last day
        current = period_of("quarter", m_end - ONE_DAY).start
        quarters = [shift(current, -3 * k) for k in range(1, 5)]
        links += [{"month": m, "survey_period": q} for q in quarters]
    link = pl.DataFrame(links)
    per = (survey.join(link, on="survey_period").group_by("area_code", "month")
           .agg(pl.col("insecure").sum(), pl.col("answered").sum()))
    county = per.group_by("month").agg(
        (pl.col("insecure").sum() / pl.col("answered").sum()).alias("county_share"))
    return (per.join(county, on="month")
            .with_columns(pl.when(pl.col("answered") > 0).then(pl.col("insecure") / pl.col("answered"))
                          .otherwise(pl.col("county_share")).alias("insecurity"))
            .select("area_code", "month", "insecurity", "county_share"))


def drivers_from_counts(panel: pl.DataFrame, cfg: dict | None = None) -> pl.DataFrame:
    """Driver values per grid-month from monthly counts: windows summed, rates per 1,000."""
    cfg = cfg or config()
    win = {k: int(d.get("window", 1)) for k, d in cfg["drivers"].items()}

    def rolled(col: str, key: str) -> pl.Expr:
        return pl.col(col).rolling_sum(win[key], min_samples=1).over("area_code", order_by="month")

    per_k = pl.when(pl.col("pop") > 0).then(1000.0 / pl.col("pop")).otherwise(0.0)
    county_share = (pl.col("county_share").first().over("month") if "county_share" in panel.columns
                    else pl.lit(0.0))
    return panel.sort("area_code", "month").with_columns(
        (rolled("disputes", "dispute_rate") * per_k).alias("dispute_rate"),
        rolled("repeat_disputes", "repeat_disputes").cast(pl.Float64).alias("repeat_disputes_w"),
        rolled("petitions", "petitions").cast(pl.Float64).alias("petitions_w"),
        rolled("collective", "collective").cast(pl.Float64).alias("collective_w"),
        rolled("negative_posts", "negative_posts").cast(pl.Float64).alias("negative_posts_w"),
        (pl.col("special") * per_k).alias("special_density"),
        pl.col("insecurity").fill_null(county_share).fill_null(0.0).alias("insecurity_v"),
        pl.col("overdue_open").cast(pl.Float64).alias("overdue_open_w"),
        pl.col("staffing_gap").cast(pl.Float64).alias("staffing_gap_w"),
    )


_VALUE_COLUMN = {"dispute_rate": "dispute_rate", "repeat_disputes": "repeat_disputes_w",
                 "petitions": "petitions_w", "collective": "collective_w",
                 "negative_posts": "negative_posts_w", "special_density": "special_density",
                 "insecurity": "insecurity_v", "overdue_open": "overdue_open_w",
                 "staffing_gap": "staffing_gap_w"}


# ---------------------------------------------------------------- the index (pure)


def normalised_matrix(values: pl.DataFrame, method: str, cfg: dict | None = None) -> np.ndarray:
    """(rows × drivers) normalised values; normalisation is done within each month."""
    cfg = cfg or config()
    keys = driver_keys(cfg)
    out = np.zeros((values.height, len(keys)))
    months = values["month"].to_numpy()
    for m in np.unique(months):
        idx = np.nonzero(months == m)[0]
        for j, k in enumerate(keys):
            x = values[_VALUE_COLUMN.get(k, k)].to_numpy()[idx].astype(float)
            out[idx, j] = normalise(x, method, cfg, cfg["drivers"][k].get("direction", 1))
    return out


def index_from_drivers(values: pl.DataFrame, cfg: dict | None = None, method: str | None = None) -> pl.DataFrame:
    """Scores for a frame with area_code, month and one column per driver value.

    Adds n_<driver> (0–10), c_<driver> (contribution), dim_<dimension>, score, level, rank,
    previous_score, change, warning, main (driver keys, comma-separated).
    """
    cfg = cfg or config()
    keys = driver_keys(cfg)
    method = method or cfg["normalisation"]
    values = values.sort("area_code", "month")
    norm = normalised_matrix(values, method, cfg)
    contrib = norm * effective_weights(cfg)
    score = contrib.sum(axis=1)
    lv = level_of(score, cfg)
    dims: dict[str, np.ndarray] = {}
    for d, dv in cfg["dimensions"].items():
        cols = [j for j, k in enumerate(keys) if cfg["drivers"][k]["dimension"] == d]
        dims[f"dim_{d}"] = contrib[:, cols].sum(axis=1) / (dv["weight"] / sum(
            x["weight"] for x in cfg["dimensions"].values())) if cols else np.zeros(len(score))
    main = _main_drivers(contrib, score, keys, cfg)
    df = values.select("area_code", "month").with_columns(
        *[pl.Series(f"n_{k}", norm[:, j]) for j, k in enumerate(keys)],
        *[pl.Series(f"c_{k}", contrib[:, j]) for j, k in enumerate(keys)],
        *[pl.Series(name, v) for name, v in dims.items()],
        pl.Series("score", score), pl.Series("level_no", lv),
        pl.Series("level", np.array(LEVELS)[lv]), pl.Series("main", main))
    rise = cfg["warning_rise"]
    return df.with_columns(
        pl.col("score").rank("min", descending=True).over("month").cast(pl.Int32).alias("rank"),
        pl.col("score").shift(1).over("area_code", order_by="month").alias("previous_score"),
        pl.col("level_no").shift(1).over("area_code", order_by="month").alias("previous_level_no"),
    ).with_columns(
        (pl.col("score") - pl.col("previous_score")).alias("change"),
    ).with_columns(
        ((pl.col("change") > rise) | ((pl.col("level_no") >= 2) & (pl.col("previous_level_no") < 2)))
        .fill_null(False).alias("warning"),
    )


def _main_drivers(contrib: np.ndarray, score: np.ndarray, keys: list[str], cfg: dict) -> list[str]:
    """The top drivers of each row (at most `top`, each ≥ min_share of the score), comma-joined."""
    top, share = cfg["main_drivers"]["top"], cfg["main_drivers"]["min_share"]
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(contrib, order, axis=1)
    keep = (picked > 0) & (picked >= share * score[:, None])
    names = np.array(keys)[order]
    cols = [pl.Series(f"k{i}", names[:, i]).zip_with(pl.Series(keep[:, i]), pl.Series([None], dtype=pl.Utf8))
            for i in range(order.shape[1])]
    return pl.select(pl.concat_str(cols, separator=",", ignore_nulls=True)
                     .fill_null("")).to_series().to_list()


def describe_main(main: str, lang: str = "zh") -> str:
    """'dispute_rate,overdue_open' → '矛盾纠纷密度、逾期未结'."""
    if not main:
        return ""
    names = [config()["drivers"][k][lang] for k in main.split(",")]
    return ("、" if lang == "zh" else ", ").join(names)


# ---------------------------------------------------------------- cached per warehouse version


MART_DRIVERS, MART_SCORES = "mart_risk_driver", "mart_risk_score"


def _config_tag() -> str:
    """Which configuration a persisted index was scored with (weights, windows, levels)."""
    return hashlib.sha256(json.dumps(config(), sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_marts(con) -> list[str]:
    """The risk marts, rebuilt with the others after every build and load (warehouse/marts.py):
    mart_risk_driver (one row per grid and complete month: counts and driver values) and
    mart_risk_score (one row per grid and complete month: normalised drivers, contributions,
    dimensions, score, level, rank, change, warning, main drivers; a `config_tag` column says
    which risk_config.yaml scored it). Scoring at city scale takes seconds, so it is done once
    per warehouse build, not per app process."""
    raw = _raw_panel(con)
    frames = {}
    if raw.height:
        values = drivers_from_counts(raw)
        frames = {MART_DRIVERS: values, MART_SCORES: index_from_drivers(values).with_columns(
            pl.lit(_config_tag()).alias("config_tag"))}
    return marts.replace_tables(con, frames, (MART_DRIVERS, MART_SCORES))


# what _raw_panel reads (case_event: the data's now; see warehouse/marts.py)
build_marts.depends_on = ("area", "person", "grid_staff", "cases", "case_event", "mart_case_flow", "opinion_post",
                          "survey_response")


def _from_marts(con) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The persisted index, when the warehouse has one scored with today's configuration."""
    if not db.has_tables(con, MART_DRIVERS, MART_SCORES):
        return None
    tag = con.sql(f"SELECT any_value(config_tag) FROM {MART_SCORES}").fetchall()[0][0]
    if tag != _config_tag():
        return None
    return (con.sql(f"SELECT * FROM {MART_DRIVERS} ORDER BY area_code, month").pl(),
            con.sql(f"SELECT * EXCLUDE (config_tag) FROM {MART_SCORES} ORDER BY area_code, month").pl())


@functools.lru_cache(maxsize=8)
def _scored(live: str, ver: str | None, method: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(drivers, scores) for every grid and complete month of the warehouse at `live`: read
    from the risk marts for the configured method, scored here for the alternative one."""
    con = db.reader(live)
    if method == config()["normalisation"] and (marts := _from_marts(con)) is not None:
        return marts
    raw = _raw_panel(con)
    if raw.height == 0:
        return raw, raw
    values = drivers_from_counts(raw)
    return values, index_from_drivers(values, method=method)


def scored(path=None, method: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    live = str(db.db_path(path))
    return _scored(live, db.version(live), method or config()["normalisation"])


def _in_scope(df: pl.DataFrame, scope: Scope, area: str | None) -> pl.DataFrame:
    return scope.frame(df, area)


def months(path=None) -> list[date]:
    """Complete months that have a score, oldest first."""
    _, s = scored(path)
    return sorted(s["month"].unique().to_list()) if s.height else []


def month_for(period: Period | str | None, path=None) -> date | None:
    """The scored month for a filter period: the month itself, or for a quarter, year or range
    its last month; clamped to the complete months the warehouse has."""
    ms = months(path)
    if not ms:
        return None
    if period is None:
        return ms[-1]
    if isinstance(period, str):
        from warehouse.periods import parse
        period = parse(period)
    if not isinstance(period, Period):  # a date: the month containing it
        period = period_of("month", period)
    want = period.start if period.grain == "month" else period_of("month", period.end - ONE_DAY).start
    return min(max(want, ms[0]), ms[-1])


# ---------------------------------------------------------------- public interface


def grid_scores(scope: Scope, period, area: str | None = None, path=None) -> pl.DataFrame:
    """area_code, score, level, rank for the grids in scope (and area) in the period's month."""
    m = month_for(period, path)
    _, s = scored(path)
    if m is None:
        return pl.DataFrame(schema={"area_code": pl.Utf8, "score": pl.Float64, "level": pl.Utf8,
                                    "rank": pl.Int32})
    return (_in_scope(s.filter(pl.col("month") == m), scope, area)
            .select("area_code", "score", "level", "rank").sort("rank", "area_code"))


def current_warnings(scope: Scope, path=None, *, lang: str = "zh") -> pl.DataFrame:
    """Grids at 橙/红 or with an early warning in the latest complete month (aggregates only)."""
    m = month_for(None, path)
    df = warnings(scope, m, path=path, lang=lang) if m else None
    cols = ["area_code", "area_name", "level", "score", "previous_score", "main_drivers"]
    if df is None or df.height == 0:
        return pl.DataFrame(schema={"area_code": pl.Utf8, "area_name": pl.Utf8, "level": pl.Utf8,
                                    "score": pl.Float64, "previous_score": pl.Float64,
                                    "main_drivers": pl.Utf8})
    return df.select(cols)


def warnings(scope: Scope, period, area: str | None = None, path=None, lang: str = "zh") -> pl.DataFrame:
    """Grids at 橙/红 or rising past the threshold: why, and their main drivers in words."""
    m = month_for(period, path)
    _, s = scored(path)
    if m is None:
        return pl.DataFrame()
    names = wa.names(path)
    df = (_in_scope(s.filter(pl.col("month") == m), scope, area)
          .filter((pl.col("level_no") >= 2) | pl.col("warning")).sort("score", descending=True))
    return df.select(
        "area_code",
        pl.col("area_code").replace_strict(names, default="").alias("area_name"),
        pl.col("area_code").str.slice(0, 12).replace_strict(names, default="").alias("village_name"),
        pl.col("area_code").str.slice(0, 9).replace_strict(names, default="").alias("town_name"),
        "level", "score", "previous_score", "change", "rank",
        pl.when(pl.col("warning") & (pl.col("change") > config()["warning_rise"])).then(pl.lit("rise"))
        .when(pl.col("warning")).then(pl.lit("entered")).otherwise(pl.lit("level")).alias("reason"),
        mapped(df, "main", lambda x: describe_main(x, lang)).alias("main_drivers"),
    )


def top_grids(scope: Scope, period, area: str | None = None, n: int = 30, path=None) -> pl.DataFrame:
    """The n highest-scoring grids with each dimension's share of the score (score units)."""
    m = month_for(period, path)
    _, s = scored(path)
    if m is None:
        return pl.DataFrame()
    cfg = config()
    names = wa.names(path)
    df = _in_scope(s.filter(pl.col("month") == m), scope, area).sort("score", descending=True).head(n)
    dims = {d: [f"c_{k}" for k in driver_keys(cfg) if cfg["drivers"][k]["dimension"] == d]
            for d in cfg["dimensions"]}
    return df.select(
        "area_code", pl.col("area_code").replace_strict(names, default="").alias("area_name"),
        pl.col("area_code").str.slice(0, 12).replace_strict(names, default="").alias("village_name"),
        "score", "level", "rank", "change",
        *[pl.sum_horizontal(cols).alias(f"part_{d}") for d, cols in dims.items()])


def method_table(lang: str = "zh") -> pl.DataFrame:
    """The drivers as configured: dimension, weights, direction, window and definition."""
    cfg = config()
    w = effective_weights(cfg)
    rows = []
    for j, k in enumerate(driver_keys(cfg)):
        d = cfg["drivers"][k]
        within = sum(x["weight"] for x in cfg["drivers"].values() if x["dimension"] == d["dimension"])
        rows.append({"driver": d[lang], "dimension": cfg["dimensions"][d["dimension"]][lang],
                     "dimension_weight": cfg["dimensions"][d["dimension"]]["weight"],
                     "weight_in_dimension": d["weight"] / within, "effective_weight": float(w[j]),
                     "direction": d.get("direction", 1), "window_months": d.get("window", 1),
                     "definition": d[f"def_{lang}"]})
    return pl.DataFrame(rows)


def grid_options(scope: Scope, period, area: str | None = None, path=None) -> list[str]:
    """Grid codes in scope and area, highest score first (for a picker)."""
    return grid_scores(scope, period, area, path)["area_code"].to_list()


def level_counts(scope: Scope, period, area: str | None = None, path=None) -> pl.DataFrame:
    """Grids per level in the month, with the change against the previous month."""
    m = month_for(period, path)
    _, s = scored(path)
    if m is None:
        return pl.DataFrame()
    df = _in_scope(s.filter(pl.col("month") == m), scope, area)
    counts = df.group_by("level").len("grids")
    prev = df.filter(pl.col("previous_level_no").is_not_null()).group_by(
        pl.col("previous_level_no").replace_strict(dict(enumerate(LEVELS)), default=None, return_dtype=pl.Utf8)
        .alias("level")
    ).len("previous")
    return (pl.DataFrame({"level": list(LEVELS)}).join(counts, on="level", how="left")
            .join(prev, on="level", how="left").fill_null(0))


def contributions(scope: Scope, period, grid: str, path=None) -> pl.DataFrame:
    """One row per driver for a grid: normalised value (0–10), weight and contribution."""
    m = month_for(period, path)
    _, s = scored(path)
    if m is None:
        return pl.DataFrame()
    row = _in_scope(s.filter((pl.col("month") == m) & (pl.col("area_code") == grid)), scope, None)
    cfg = config()
    if row.height == 0:
        return pl.DataFrame()
    r = row.row(0, named=True)
    w = effective_weights(cfg)
    return pl.DataFrame([{
        "driver": k, "dimension": cfg["drivers"][k]["dimension"], "weight": float(w[j]),
        "normalised": r[f"n_{k}"], "contribution": r[f"c_{k}"], "score": r["score"],
    } for j, k in enumerate(driver_keys(cfg))])


def grid_summary(scope: Scope, period, grid: str, path=None) -> dict | None:
    m = month_for(period, path)
    _, s = scored(path)
    if m is None:
        return None
    row = _in_scope(s.filter((pl.col("month") == m) & (pl.col("area_code") == grid)), scope, None)
    return row.select("area_code", "month", "score", "level", "rank", "previous_score", "change",
                      "warning", "main").row(0, named=True) if row.height else None


def trend(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """Grids per level per month (for a stacked trend chart)."""
    _, s = scored(path)
    if s.height == 0:
        return s
    return (_in_scope(s, scope, area).group_by("month", "level").len("grids").sort("month", "level"))


# ---------------------------------------------------------------- sensitivity


def monte_carlo(mm: np.ndarray, zs: np.ndarray, cfg: dict | None = None, runs: int | None = None,
                seed: int | None = None) -> dict[str, np.ndarray]:
    """Scores of every grid under `runs` random weight sets and normalisation choices.

    mm, zs: (grids × drivers) normalised matrices (min-max and z-score). Returns the runs'
    ranks (grids × runs), levels (grids × runs), and the base rank and level.
    """
    cfg = cfg or config()
    sc = cfg["sensitivity"]
    runs = runs or sc["runs"]
    rng = np.random.default_rng(sc["seed"] if seed is None else seed)
    keys = driver_keys(cfg)
    dim_names = list(cfg["dimensions"])
    onehot = np.array([[cfg["drivers"][k]["dimension"] == d for d in dim_names] for k in keys], float)
    w = np.array([cfg["drivers"][k]["weight"] for k in keys], float)
    dw = np.array([cfg["dimensions"][d]["weight"] for d in dim_names], float)
    j = sc["weight_jitter"]
    wi = w * rng.uniform(1 - j, 1 + j, (runs, len(keys)))
    wi /= (wi @ onehot) @ onehot.T                     # within-dimension sums back to 1
    wd = dw * rng.uniform(1 - j, 1 + j, (runs, len(dim_names)))
    wd /= wd.sum(axis=1, keepdims=True)
    weights = wi * (wd @ onehot.T)                     # runs × drivers, rows sum to 1
    use_z = rng.random(runs) < sc["zscore_share"]
    scores = np.where(use_z[None, :], zs @ weights.T, mm @ weights.T)   # grids × runs
    base = (mm if cfg["normalisation"] == "minmax" else zs) @ effective_weights(cfg)
    ranks = _ranks_desc(scores)
    return {"ranks": ranks, "levels": level_of(scores, cfg), "base_rank": _ranks_desc(base[:, None])[:, 0],
            "base_level": level_of(base, cfg), "scores": scores}


def _ranks_desc(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score, per column. Ties (rare: continuous scores) get distinct ranks in
    an arbitrary but repeatable order; a band p5–p95 does not depend on it, and quicksort is
    2.5× faster than a stable sort here (300 runs × 8,000 grids at city scale)."""
    by_run = np.ascontiguousarray(-scores.T)              # runs × grids: rows sort in cache
    order = np.argsort(by_run, axis=1, kind="quicksort")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[0] + 1)[None, :], axis=1)
    return ranks.T


def _month_matrices(m: date, path=None) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    values, _ = scored(path)
    v = values.filter(pl.col("month") == m).sort("area_code")
    cfg = config()
    return v, normalised_matrix(v, "minmax", cfg), normalised_matrix(v, "zscore", cfg)


def sensitivity(scope: Scope, period=None, area: str | None = None, path=None) -> pl.DataFrame:
    """Per grid: base rank and level, rank band p5–p95 over the Monte Carlo runs, and the share
    of runs in which its level differs from the base level. Ranks are among all grids."""
    m = month_for(period, path)
    if m is None:
        return pl.DataFrame()
    live = str(db.db_path(path))
    return _in_scope(_sensitivity_of_month(live, db.version(live), m), scope, area).sort("base_rank")


@functools.lru_cache(maxsize=16)
def _sensitivity_of_month(live: str, ver: str | None, m: date) -> pl.DataFrame:
    """All grids' bands for one month: the Monte Carlo runs once per month and warehouse."""
    v, mm, zs = _month_matrices(m, live)
    mc = monte_carlo(mm, zs)
    changed = mc["levels"] != mc["base_level"][:, None]
    return pl.DataFrame({
        "area_code": v["area_code"], "base_rank": mc["base_rank"].astype(np.int32),
        "base_level": np.array(LEVELS)[mc["base_level"]],
        "rank_p5": np.percentile(mc["ranks"], 5, axis=1), "rank_median": np.median(mc["ranks"], axis=1),
        "rank_p95": np.percentile(mc["ranks"], 95, axis=1),
        "level_change_share": changed.mean(axis=1),
    })


def sensitivity_summary(scope: Scope, period=None, area: str | None = None, path=None) -> dict:
    """Runs, share of grids whose level changes (mean per run), grids changing in most runs."""
    df = sensitivity(scope, period, area, path)
    cfg = config()["sensitivity"]
    if df.height == 0:
        return {"runs": cfg["runs"], "grids": 0}
    band = df["rank_p95"] - df["rank_p5"]
    return {"runs": cfg["runs"], "grids": df.height, "seed": cfg["seed"],
            "mean_level_change": float(df["level_change_share"].mean()),
            "majority_change": float((df["level_change_share"] > 0.5).mean()),
            "median_band": float(band.median()),
            "top10_band": float(band.head(10).median())}


# ---------------------------------------------------------------- backtest


def backtest(scope: Scope, area: str | None = None, path=None) -> dict:
    """Score in month m against 'collective incident or escalated case' in month m + 1.

    Uses the months whose driver windows are full and whose next month is complete. Returns
    pooled AUC, the AUC of a naive baseline (last month's case count), top-decile capture
    (share of next-month events in the month's top 10% of grids) and lift, plus per-month
    and per-decile tables.
    """
    values, s = scored(path)
    cfg = config()
    if s.height == 0:
        return {}
    full = max(d.get("window", 1) for d in cfg["drivers"].values())
    ms = sorted(s["month"].unique().to_list())
    usable = ms[full - 1:-1]
    nxt = (values.select("area_code", "month", (pl.col("collective") + pl.col("escalated") > 0).alias("event"))
           .with_columns(pl.col("month").dt.offset_by("-1mo")))
    df = (_in_scope(s.filter(pl.col("month").is_in(usable)), scope, area)
          .select("area_code", "month", "score")
          .join(values.select("area_code", "month", "cases"), on=["area_code", "month"])
          .join(nxt, on=["area_code", "month"]))
    if df.height == 0:
        return {}
    top = cfg["backtest"]["top_share"]
    df = df.with_columns(
        (pl.col("score").rank("ordinal", descending=True).over("month")
         <= (pl.len().over("month") * top).ceil()).alias("top"),
        (pl.col("score").rank("ordinal").over("month") * 10 / (pl.len().over("month") + 1))
        .floor().cast(pl.Int32).add(1).alias("decile"))
    y = df["event"].to_numpy()
    per_month = (df.group_by("month").agg(pl.col("score"), pl.col("event"), pl.col("cases"))
                 .sort("month"))
    # one AUC per month in plain Python (a Python callback inside polars can hang the server)
    per_month = per_month.with_columns(
        pl.Series("auc", [auc(np.array(s), np.array(e)) for s, e in
                          zip(per_month["score"].to_list(), per_month["event"].to_list())], pl.Float64),
        pl.Series("baseline_auc", [auc(np.array(c), np.array(e)) for c, e in
                                   zip(per_month["cases"].to_list(), per_month["event"].to_list())],
                  pl.Float64),
        pl.col("event").list.sum().alias("events"),
    ).select("month", "auc", "baseline_auc", "events")
    deciles = (df.group_by("decile").agg(pl.col("event").mean().alias("event_rate"), pl.len().alias("n"))
               .sort("decile"))
    captured = df.filter(pl.col("top"))["event"].sum()
    rate_top = df.filter(pl.col("top"))["event"].mean()
    return {"auc": auc(df["score"].to_numpy(), y), "baseline_auc": auc(df["cases"].to_numpy(), y),
            "months": len(usable), "first": usable[0] if usable else None,
            "last": usable[-1] if usable else None, "grid_months": df.height, "events": int(y.sum()),
            "base_rate": float(y.mean()), "top_share": top,
            "top_capture": float(captured / y.sum()) if y.sum() else None,
            "top_lift": float(rate_top / y.mean()) if y.mean() else None,
            "per_month": per_month, "deciles": deciles}


# ---------------------------------------------------------------- datasets


def _month_range(start: date | None, end: date | None) -> pl.Expr:
    expr = pl.lit(True)
    if start:
        expr &= pl.col("month") >= date(start.year, start.month, 1)
    if end:
        expr &= pl.col("month") < end
    return expr


@dataset("risk", "Grid risk index per grid and month: score, level, rank, each driver's normalised value and contribution")
def risk_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    _, s = scored(path)
    if s.height == 0:
        return s
    names = wa.names(path)
    keys = driver_keys()
    df = _in_scope(s.filter(_month_range(start, end)), scope, area)
    return df.select(
        "area_code", pl.col("area_code").replace_strict(names, default="").alias("area_name"),
        pl.col("month").dt.strftime("%Y-%m").alias("period"), "score", "level", "rank",
        "previous_score", "change", "warning", "main",
        *[f"n_{k}" for k in keys], *[f"c_{k}" for k in keys], *[c for c in df.columns if c.startswith("dim_")],
    ).sort("period", "rank")


@dataset("risk_sensitivity", "Grid risk rank band (p5–p95) and level-change share over Monte Carlo runs, latest complete month (or the month before --to)")
def risk_sensitivity_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    period = period_of("month", end - ONE_DAY) if end else None
    df = sensitivity(scope, period, area, path)
    m = month_for(period, path)
    return df.with_columns(pl.lit(m.strftime("%Y-%m") if m else None).alias("period")) if df.height else df
