"""早期预警模型: will a grid have an event of class X next month? A learned model per class,
tested against the naive ways and the composite risk index, honestly.

Classes (targets, from the risk panel warehouse/risk.py builds per grid and month):
- `dispute`: a 矛盾纠纷 case reported in the grid next month;
- `incident`: a 群体性 (collective) or escalated case next month (群体性事件 precursors, the
  event the risk index's own backtest uses);
- `petition`: a 信访 case next month.

Features of grid g at the end of month m (nothing from after m): each class's count and cases
in m, m−1, m−2, the sums over 3 and 12 months, the count in the target month a year earlier
(m−11); the other grids of the same village in m (neighbours); open overdue cases at the end of
m; negative posts in m and over 3 months; special-group density, 1+2 staffing gap, survey
insecurity, residents (log); the target month's season (sin, cos).

Models (scikit-learn): logistic regression on standardised features, and histogram gradient
boosting. Backtest, time-ordered: for each of the last `TEST_MONTHS` feature months t, a model
trained only on rows whose outcome month is ≤ t (refitted every `REFIT_EVERY` months) scores
the grids; pooled AUC, precision among the top 10% of grids each month (averaged), and lift =
that precision / the event rate. Baselines scored the same way: last month's count of the
class, the count in the same month a year ago, and the composite risk index.

Served per class: the model with the higher backtest AUC, trained on every labelled month,
scoring the latest complete month. Explanations in logit units: for logistic regression the
exact additive terms coef_j · (x_j − mean_j) / sd_j; for boosting, the change in the logit
when a feature is set to its training mean (not additive).
"""

from __future__ import annotations

import functools
import math
from datetime import date

import numpy as np
import polars as pl

from warehouse import db, marts, risk
from warehouse.datasets import dataset
from warehouse.db import Scope

TARGETS = {"dispute": "disputes", "incident": "incidents", "petition": "petitions"}
MODELS = ("logistic",)               # served; "boosting" is compared in benchmarks/forecast.py
ALL_MODELS = ("logistic", "boosting")
BASELINES = ("last_month", "last_month_cases", "same_month_last_year", "risk_index")
TEST_MONTHS, REFIT_EVERY, TOP_SHARE = 12, 3, 0.10
HISTORY = 12     # months of history a row needs (the 12-month sums, the year-ago count)
SEED = 20261124


# ---------------------------------------------------------------- features (from the risk panel)


def panel(values: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """One row per grid and month: features at the month's end, next month's outcomes
    (y_<target>, null for the last month) and the risk index score."""
    base = values.select(
        "area_code", "village", "month", "cases", "disputes", "petitions",
        (pl.col("collective") + pl.col("escalated")).alias("incidents"),
        pl.col("overdue_open").cast(pl.Float64), pl.col("negative_posts").cast(pl.Float64),
        pl.col("special_density"), pl.col("staffing_gap").cast(pl.Float64).alias("staffing_gap"),
        pl.col("insecurity_v").alias("insecurity"), pl.col("pop").cast(pl.Float64).log1p().alias("log_pop"),
    ).join(scores.select("area_code", "month", pl.col("score").alias("risk_index")),
           on=["area_code", "month"], how="left").sort("area_code", "month")
    counts = ["cases", "disputes", "petitions", "incidents"]
    over = {"partition_by": "area_code", "order_by": "month"}
    feats = []
    for c in counts:
        feats += [pl.col(c).cast(pl.Float64).alias(f"{c}_m0"),
                  pl.col(c).shift(1).over(**over).cast(pl.Float64).alias(f"{c}_m1"),
                  pl.col(c).shift(2).over(**over).cast(pl.Float64).alias(f"{c}_m2"),
                  pl.col(c).rolling_sum(3).over(**over).cast(pl.Float64).alias(f"{c}_3m"),
                  pl.col(c).rolling_sum(12).over(**over).cast(pl.Float64).alias(f"{c}_12m"),
                  pl.col(c).shift(11).over(**over).cast(pl.Float64).alias(f"{c}_year_ago")]
    neighbours = [((pl.col(c).sum().over("village", "month") - pl.col(c))
                   / (pl.len().over("village", "month") - 1).clip(1)).cast(pl.Float64).alias(f"{c}_village")
                  for c in ("disputes", "petitions", "incidents")]
    target_month = pl.col("month").dt.month().cast(pl.Float64) % 12 + 1   # next month, 1..12
    outcomes = [(pl.col(c).shift(-1).over(**over) > 0).alias(f"y_{t}") for t, c in TARGETS.items()]
    nxt = pl.col("month").shift(-1).over(**over)
    df = base.with_columns(
        *feats, *neighbours, *outcomes,
        pl.col("negative_posts").rolling_sum(3).over(**over).alias("negative_posts_3m"),
        (2 * math.pi * target_month / 12).sin().alias("season_sin"),
        (2 * math.pi * target_month / 12).cos().alias("season_cos"),
        pl.col("month").rank("dense").over("area_code").alias("month_no"),
        nxt.is_null().alias("_last"))
    return df.with_columns(pl.when(pl.col("_last")).then(None).otherwise(pl.col(f"y_{t}"))
                           .alias(f"y_{t}") for t in TARGETS).drop("_last")


def feature_names() -> list[str]:
    names = [f"{c}_{s}" for c in ("cases", "disputes", "petitions", "incidents")
             for s in ("m0", "m1", "m2", "3m", "12m", "year_ago")]
    return names + ["disputes_village", "petitions_village", "incidents_village", "overdue_open",
                    "negative_posts", "negative_posts_3m", "special_density", "staffing_gap",
                    "insecurity", "log_pop", "season_sin", "season_cos"]


BASELINE_COLUMN = {"last_month": "{c}_m0", "last_month_cases": "cases_m0", "same_month_last_year": "{c}_year_ago",
                   "risk_index": "risk_index"}


# ---------------------------------------------------------------- models (scikit-learn)


def make_model(name: str):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500))
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.06, max_leaf_nodes=15,
                                          min_samples_leaf=40, l2_regularization=1.0, random_state=SEED)


def _fit(name: str, X: np.ndarray, y: np.ndarray):
    model = make_model(name)
    if y.min() == y.max():       # one class only: predict the rate
        return None
    return model.fit(X, y)


def _predict(model, X: np.ndarray, y_train_rate: float) -> np.ndarray:
    return np.full(len(X), y_train_rate) if model is None else model.predict_proba(X)[:, 1]


# ---------------------------------------------------------------- metrics (pure)


def top_flags(score: np.ndarray, month: np.ndarray, share: float = TOP_SHARE, seed: int = SEED) -> np.ndarray:
    """True for the top ⌈share × grids⌉ rows of each month by score; ties broken at random
    (seeded) so a baseline with many equal scores (zeros) is not flattered or punished by
    the order of the rows."""
    rng = np.random.default_rng(seed)
    jitter = rng.random(len(score))
    out = np.zeros(len(score), bool)
    for m in np.unique(month):
        idx = np.nonzero(month == m)[0]
        k = math.ceil(share * len(idx))
        order = np.lexsort((-jitter[idx], -score[idx]))
        out[idx[order[:k]]] = True
    return out


def evaluate(score: np.ndarray, y: np.ndarray, month: np.ndarray) -> dict:
    """auc (pooled), precision_top10 (mean over months), base_rate, lift_top10."""
    top = top_flags(score, month)
    precisions = [y[top & (month == m)].mean() for m in np.unique(month)]
    rates = [y[month == m].mean() for m in np.unique(month)]
    p, r = float(np.mean(precisions)), float(np.mean(rates))
    return {"auc": risk.auc(score, y), "precision_top10": p, "base_rate": r,
            "lift_top10": p / r if r else None}


# ---------------------------------------------------------------- backtest and current scores


def _usable(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("month_no") > HISTORY).fill_null(strategy="zero")


def backtest_rows(df: pl.DataFrame, test_months: int = TEST_MONTHS, refit_every: int = REFIT_EVERY,
                  models: tuple[str, ...] = MODELS) -> pl.DataFrame:
    """One row per target and model or baseline: auc, precision_top10, lift_top10, base_rate,
    months, grid_months, first, last (the test feature months)."""
    feats = feature_names()
    rows = []
    for target, col in TARGETS.items():
        ycol = f"y_{target}"
        lab = df.filter(pl.col(ycol).is_not_null() & (pl.col("month_no") > HISTORY))
        lab = lab.with_columns(pl.col(feats).fill_null(0.0), pl.col("risk_index").fill_null(0.0))
        months = sorted(lab["month"].unique().to_list())
        tests = months[-test_months:]
        if len(months) - len(tests) < 3 or not tests:
            continue
        test = lab.filter(pl.col("month").is_in(tests)).sort("month", "area_code")
        month_arr = test["month"].to_numpy()
        y = test[ycol].to_numpy().astype(bool)
        scored: dict[str, np.ndarray] = {}
        for name in models:
            pred = np.zeros(test.height)
            for i in range(0, len(tests), refit_every):
                block = tests[i:i + refit_every]
                # outcome month of a training row (m + 1) must be ≤ the first test month
                train = lab.filter(pl.col("month") < block[0])
                Xtr, ytr = train.select(feats).to_numpy(), train[ycol].to_numpy().astype(int)
                model = _fit(name, Xtr, ytr)
                sel = np.isin(month_arr, np.array(block, dtype=month_arr.dtype))
                pred[sel] = _predict(model, test.filter(pl.Series(sel)).select(feats).to_numpy(), ytr.mean())
            scored[name] = pred
        for b in BASELINES:
            scored[b] = test[BASELINE_COLUMN[b].format(c=col)].to_numpy().astype(float)
        for name, s in scored.items():
            rows.append({"target": target, "model": name, **evaluate(s, y, month_arr),
                         "kind": "baseline" if name in BASELINES else "model",
                         "months": len(tests), "grid_months": test.height,
                         "first": tests[0], "last": tests[-1]})
    return pl.DataFrame(rows)


def current(df: pl.DataFrame, bt: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(scores, contributions) for the latest month: per grid and target the probability of
    an event next month from the better model; per grid, target and feature its contribution."""
    feats = feature_names()
    last = df["month"].max()
    now = df.filter(pl.col("month") == last).with_columns(pl.col(feats).fill_null(0.0)).sort("area_code")
    Xnow = now.select(feats).to_numpy()
    scores, parts = [], []
    for target in TARGETS:
        ycol = f"y_{target}"
        lab = _usable(df.filter(pl.col(ycol).is_not_null()))
        if lab.height == 0:
            continue
        mine = bt.filter((pl.col("target") == target) & (pl.col("kind") == "model")) if bt.height else bt
        name = (mine.sort("auc", descending=True, nulls_last=True)["model"][0] if mine.height else "logistic")
        X, y = lab.select(feats).to_numpy(), lab[ycol].to_numpy().astype(int)
        model = _fit(name, X, y)
        p = _predict(model, Xnow, y.mean())
        contrib = _contributions(name, model, X, Xnow)
        scores.append(now.select("area_code", "village").with_columns(
            pl.lit(target).alias("target"), pl.lit(name).alias("model"), pl.lit(last).alias("month"),
            pl.Series("probability", p), pl.lit(float(y.mean())).alias("base_rate")))
        parts.append(pl.DataFrame({
            "area_code": np.repeat(now["area_code"].to_numpy(), len(feats)),
            "target": target, "feature": np.tile(np.array(feats), now.height),
            "value": Xnow.ravel(), "contribution": contrib.ravel()}))
    if not scores:
        return pl.DataFrame(), pl.DataFrame()
    s = pl.concat(scores).with_columns(
        pl.col("probability").rank("ordinal", descending=True).over("target").cast(pl.Int32).alias("rank"))
    return s, pl.concat(parts)


def _contributions(name: str, model, X: np.ndarray, Xnow: np.ndarray) -> np.ndarray:
    """(grids × features) contributions in logit units (see the module doc)."""
    if model is None:
        return np.zeros_like(Xnow)
    if name == "logistic":
        scaler, lr = model[0], model[-1]
        return (Xnow - scaler.mean_) / scaler.scale_ * lr.coef_[0]
    mean = X.mean(axis=0)

    def logit(a):
        p = np.clip(model.predict_proba(a)[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    full = logit(Xnow)
    out = np.zeros_like(Xnow)
    for j in range(Xnow.shape[1]):
        Xj = Xnow.copy()
        Xj[:, j] = mean[j]
        out[:, j] = full - logit(Xj)
    return out


# ---------------------------------------------------------------- marts (after the risk marts)


MART_BACKTEST, MART_SCORE, MART_CONTRIB = ("mart_early_warning_backtest", "mart_early_warning_score",
                                           "mart_early_warning_contribution")


def compute(values: pl.DataFrame, scores: pl.DataFrame) -> dict[str, pl.DataFrame]:
    if values.height == 0:
        return {}
    df = panel(values, scores)
    bt = backtest_rows(df)
    s, c = current(df, bt)
    if bt.height == 0 or s.height == 0:
        return {}
    return {MART_BACKTEST: bt, MART_SCORE: s, MART_CONTRIB: c}


def build_marts(con) -> list[str]:
    """The early-warning marts, rebuilt with the others after every build and load (a minute
    of fitting at city scale is paid once per load, not per page view): the backtest (one row
    per target and model or baseline), the latest month's probabilities (one row per grid and
    target) and their feature contributions (one row per grid, target and feature)."""
    persisted = risk._from_marts(con)
    tables = compute(*persisted) if persisted else {}
    return marts.replace_tables(con, tables, (MART_BACKTEST, MART_SCORE, MART_CONTRIB))


# it reads the risk marts, which are rebuilt whenever any of these changes
build_marts.depends_on = ("mart_risk_driver", "mart_risk_score")


@functools.lru_cache(maxsize=4)
def _run(live: str, ver: str | None) -> dict:
    con = db.reader(live)
    if not db.has_tables(con, MART_BACKTEST, MART_SCORE, MART_CONTRIB):
        # a warehouse built before these marts existed: fit here, once per warehouse version
        t = compute(*risk.scored(live))
        return {"backtest": t[MART_BACKTEST], "scores": t[MART_SCORE], "contributions": t[MART_CONTRIB]} if t else {}
    return {"backtest": con.sql(f"SELECT * FROM {MART_BACKTEST}").pl(),
            "scores": con.sql(f"SELECT * FROM {MART_SCORE}").pl(),
            "contributions": con.sql(f"SELECT * FROM {MART_CONTRIB}").pl()}


def run(path=None) -> dict:
    live = str(db.db_path(path))
    return _run(live, db.version(live))


def _in_scope(df: pl.DataFrame, scope: Scope, area: str | None) -> pl.DataFrame:
    if area and not scope.allows_area(area):
        raise PermissionError(f"area {area} is outside scope '{scope.name}'")
    if scope.areas is not None:
        df = df.filter(pl.any_horizontal(pl.col("area_code").str.starts_with(a) for a in scope.areas))
    if area:
        df = df.filter(pl.col("area_code").str.starts_with(area))
    return df


# ---------------------------------------------------------------- public interface


def backtest(path=None) -> pl.DataFrame:
    """Every grid of the warehouse (the model learns across grids; a scope does not change
    what was learned), one row per target and model or baseline."""
    r = run(path)
    return r.get("backtest", pl.DataFrame())


def verdict(path=None) -> pl.DataFrame:
    """Per target: the better model, the best baseline, and whether the model wins on AUC
    and on precision at the top 10%."""
    bt = backtest(path)
    if bt.height == 0:
        return bt
    out = []
    for target in bt["target"].unique(maintain_order=True):
        t = bt.filter(pl.col("target") == target)
        m = t.filter(pl.col("kind") == "model").sort("auc", descending=True).row(0, named=True)
        b = t.filter(pl.col("kind") == "baseline").sort("auc", descending=True).row(0, named=True)
        bp = t.filter(pl.col("kind") == "baseline")["precision_top10"].max()
        out.append({"target": target, "model": m["model"], "model_auc": m["auc"],
                    "model_precision_top10": m["precision_top10"], "best_baseline": b["model"],
                    "baseline_auc": b["auc"], "baseline_precision_top10": bp,
                    "wins_auc": m["auc"] > b["auc"], "wins_precision": m["precision_top10"] > bp})
    return pl.DataFrame(out)


def top_grids(scope: Scope, target: str, area: str | None = None, n: int = 20, path=None) -> pl.DataFrame:
    """The n grids most likely to have an event of `target` next month, with their main
    contributing features."""
    r = run(path)
    if not r or r["scores"].height == 0:
        return pl.DataFrame()
    s = _in_scope(r["scores"].filter(pl.col("target") == target), scope, area).sort("probability", descending=True).head(n)
    top = (r["contributions"].filter((pl.col("target") == target) & pl.col("area_code").is_in(s["area_code"].implode()))
           .filter(pl.col("contribution") > 0).sort("contribution", descending=True)
           .group_by("area_code", maintain_order=True).agg(pl.col("feature").head(3).alias("main")))
    return s.join(top, on="area_code", how="left")


def contributions(scope: Scope, target: str, grid: str, path=None) -> pl.DataFrame:
    r = run(path)
    if not r or r["contributions"].height == 0:
        return pl.DataFrame()
    c = r["contributions"].filter((pl.col("target") == target) & (pl.col("area_code") == grid))
    return _in_scope(c, scope, None).sort(pl.col("contribution").abs(), descending=True)


# ---------------------------------------------------------------- datasets


@dataset("early_warning_backtest", "Early-warning model per grid (event of a class next month) against naive baselines and the risk index: AUC, precision and lift in the top 10% of grids, time-ordered backtest")
def early_warning_backtest_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    bt = backtest(path)
    if bt.height == 0:
        return pl.DataFrame(schema={"target": pl.Utf8, "model": pl.Utf8, "auc": pl.Float64,
                                    "precision_top10": pl.Float64, "lift_top10": pl.Float64})
    return bt.select("target", "model", "auc", "precision_top10", "lift_top10", "base_rate", "kind",
                     "months", "grid_months",
                     pl.col("first").cast(pl.Date).dt.strftime("%Y-%m"), pl.col("last").cast(pl.Date).dt.strftime("%Y-%m"))


@dataset("early_warning", "Early-warning probability per grid of an event of each class next month, latest complete month, with the model used")
def early_warning_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    r = run(path)
    if not r or r["scores"].height == 0:
        return pl.DataFrame()
    return (_in_scope(r["scores"], scope, area)
            .select("area_code", "target", "probability", "rank", "model", pl.col("month").cast(pl.Date)
                    .dt.strftime("%Y-%m").alias("period"), "base_rate").sort("target", "rank"))


def latest_month(path=None) -> date | None:
    r = run(path)
    return r["scores"]["month"].max() if r and r["scores"].height else None
