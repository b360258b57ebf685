"""Early-warning model: metrics by hand, no look-ahead in the features, backtest and datasets."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from warehouse import early_warning as ew
from warehouse import risk
from warehouse.datasets import all_datasets
from warehouse.db import FULL, Scope


def test_top_flags_and_precision_by_hand():
    # month 1: 10 grids, top 10% = 1 grid (score 9, an event); month 2: 20 grids, top 2
    score = np.r_[np.arange(10.0), np.arange(20.0)]
    month = np.r_[np.zeros(10), np.ones(20)]
    y = np.zeros(30, bool)
    y[9] = True            # month 1's best grid
    y[29] = True           # month 2's best grid; its second (28) has no event
    y[10] = True           # and a low-scored grid with an event
    top = ew.top_flags(score, month)
    assert top.sum() == 3 and top[9] and top[29] and top[28]
    r = ew.evaluate(score, y, month)
    # precision: month 1 = 1/1, month 2 = 1/2 → 0.75; base rate: 1/10 and 2/20 → 0.1
    assert r["precision_top10"] == pytest.approx(0.75)
    assert r["base_rate"] == pytest.approx(0.1)
    assert r["lift_top10"] == pytest.approx(7.5)


def test_ties_are_broken_at_random_not_by_row_order():
    score = np.zeros(100)
    month = np.zeros(100)
    top = ew.top_flags(score, month)
    assert top.sum() == 10 and not top[:10].all()


def _values(months: int = 30, grids: int = 6) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    ms = pl.date_range(date(2024, 1, 1), date(2024 + (months - 1) // 12, (months - 1) % 12 + 1, 1), "1mo", eager=True)
    rows = []
    for g in range(grids):
        for m in ms:
            rows.append({"area_code": f"32081310100{g}", "village": "320813101001", "month": m,
                         "cases": int(rng.poisson(5)), "disputes": int(rng.poisson(1)),
                         "petitions": int(rng.poisson(0.3)), "collective": int(rng.poisson(0.1)),
                         "escalated": int(rng.poisson(0.1)), "overdue_open": 0, "negative_posts": 0.0,
                         "special_density": 1.0, "staffing_gap": 0, "insecurity_v": 0.1, "pop": 500})
    return pl.DataFrame(rows)


def test_features_do_not_look_ahead():
    values = _values()
    scores = values.select("area_code", "month", pl.lit(1.0).alias("score"))
    a = ew.panel(values, scores)
    # change everything after 2025-06: features up to 2025-06 must not move, outcomes of 2025-06 may
    later = values.with_columns(pl.when(pl.col("month") > date(2025, 6, 1)).then(pl.col("disputes") + 7)
                                .otherwise(pl.col("disputes")).alias("disputes"))
    b = ew.panel(later, scores)
    cut = pl.col("month") <= date(2025, 6, 1)
    feats = ew.feature_names()
    assert a.filter(cut).select(feats).equals(b.filter(cut).select(feats))
    # the last month has no outcome yet
    assert a.filter(pl.col("month") == a["month"].max())["y_dispute"].null_count() == 6


def test_backtest_on_small_demo(small_db):
    bt = ew.backtest(small_db)
    assert set(bt["target"]) == set(ew.TARGETS)
    assert set(bt["model"]) == {*ew.MODELS, *ew.BASELINES}
    assert bt["auc"].is_between(0, 1).all()
    # the test months come after the training months: 12 of them, ending at the month before the last
    months = risk.months(small_db)
    assert bt["last"].max() == months[-2] and bt["months"].max() == ew.TEST_MONTHS


def test_logistic_contributions_add_up_to_the_logit(small_db):
    r = ew.run(small_db)
    s = r["scores"].filter((pl.col("target") == "dispute") & (pl.col("model") == "logistic"))
    if s.height == 0:
        pytest.skip("boosting served")
    c = r["contributions"].filter(pl.col("target") == "dispute").group_by("area_code").agg(pl.col("contribution").sum())
    j = s.join(c, on="area_code")
    logit = np.log(j["probability"] / (1 - j["probability"]))
    # logit = intercept + Σ contributions: the same intercept for every grid
    diff = logit.to_numpy() - j["contribution"].to_numpy()
    assert np.ptp(diff) < 1e-6


def test_datasets_and_scope(small_db):
    ds = all_datasets()
    bt = ds["early_warning_backtest"].fn(FULL, path=small_db)
    assert bt.columns[:5] == ["target", "model", "auc", "precision_top10", "lift_top10"]
    town = ew.top_grids(Scope(("320813103",), name="t"), "dispute", path=small_db)
    assert town.height and town["area_code"].str.starts_with("320813103").all()
