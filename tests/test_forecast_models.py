"""The backtest machinery around the statsforecast models, on series with known answers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from warehouse import forecast_models as fm
from warehouse import spring_festival as sf

PATTERN = np.array([5, 3, 8, 10, 12, 7, 6, 9, 11, 4, 2, 1], float) * 10


def test_pure_seasonal_series_is_forecast_with_near_zero_error():
    Y = np.tile(PATTERN, 4)[None, :]
    scores = {s.model: s for s in fm.backtest(Y, 12, 3, 4)}
    assert scores["snaive"].mase[0] == pytest.approx(0, abs=1e-9)
    assert scores["ets"].mase[0] < 1e-6
    assert scores["theta"].mase[0] < 1e-6
    assert scores["mean"].mase[0] > 10          # the mean cannot follow a season
    assert scores["snaive"].n == 12             # 4 origins × 3 periods scored
    for name in ("ets", "theta"):
        fc, _ = fm.fit_predict(name, Y, 12, 12)
        np.testing.assert_allclose(fc.point[0], PATTERN, atol=1e-6)


def test_white_noise_does_not_beat_the_mean():
    rng = np.random.default_rng(3)
    Y = rng.normal(50, 5, (60, 48))
    scores = {s.model: float(np.mean(s.mase)) for s in fm.backtest(Y, 12, 3, 4)}
    # nothing to learn: no model is meaningfully better than the historical mean, and
    # seasonal naive (which doubles the noise) is clearly worse
    assert min(scores["ets"], scores["theta"]) >= scores["mean"] - 0.02
    assert scores["snaive"] > scores["mean"] * 1.2


def test_white_noise_intervals_cover_as_stated():
    rng = np.random.default_rng(5)
    Y = rng.normal(50, 5, (200, 48))
    s = fm.backtest(Y, 12, 3, 4, models=("mean",))[0]
    assert 0.75 <= s.coverage_80.mean() <= 0.85
    assert 0.92 <= s.coverage_95.mean() <= 0.98


def test_mase_hand_computed():
    # training 0..11 then 12 values: seasonal naive scale = mean |y_t - y_{t-12}| on train
    y = np.r_[np.arange(12.0), np.arange(12.0) + 2][None, :]
    assert fm.mase_scale(y, 12)[0] == pytest.approx(2.0)
    # a forecast off by 1 everywhere, scaled by 2, is MASE 0.5
    s = fm.backtest(np.r_[np.arange(12.0), np.arange(12.0) + 2, np.arange(12.0) + 3][None, :],
                    12, 12, 1, models=("snaive",))[0]
    # train = first 24 (scale: |2| each -> 2), forecast = values 12..23 (+2), actual +3: |e| = 1
    assert s.mase[0] == pytest.approx(0.5)


def test_choose_keeps_seasonal_naive_unless_beaten():
    mk = lambda m, v: fm.Scores(m, np.array(v, float), np.zeros(2), np.zeros(2), 1, np.zeros(2))  # noqa: E731
    chosen, beats = fm.choose([mk("snaive", [1.0, 0.5]), mk("ets", [0.8, 0.6]), mk("theta", [0.9, 0.7])])
    assert list(chosen) == ["ets", "snaive"]
    assert list(beats) == [True, False]


def test_spring_festival_regressors_follow_the_lunar_date():
    # 2026-02-17: pre-festival window 2026-01-18 .. 02-16 (14 days in Jan, 16 in Feb)
    x = sf.regressors([date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)],
                      [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)])
    np.testing.assert_allclose(x, [[14 / 30, 0], [16 / 30, 1], [0, 0]])
    # 2025-01-29: the holiday week is 01-29 .. 02-04 (3 days in Jan, 4 in Feb)
    x = sf.regressors([date(2025, 1, 1), date(2025, 2, 1)], [date(2025, 2, 1), date(2025, 3, 1)])
    np.testing.assert_allclose(x[:, 1], [3 / 7, 4 / 7])
    with pytest.raises(ValueError, match="2099"):
        sf.regressors([date(2099, 1, 1)], [date(2099, 2, 1)])


def test_a_festival_effect_is_found_and_forecast_in_the_right_month():
    # a flat seasonal series plus +40 cases times the pre-festival share: the Gregorian
    # pattern alone puts the bump in the wrong month in years when the festival moves
    starts = [date(2019 + i // 12, i % 12 + 1, 1) for i in range(84)]
    ends = starts[1:] + [date(2026, 1, 1)]
    x = sf.regressors(starts, ends)
    rng = np.random.default_rng(4)
    y = 100 + np.tile(PATTERN, 7) / 10 + 40 * x[:, 0] + rng.normal(0, 1, 84)
    beta = fm.festival_effect(y[None, :72], x[:72], 12)
    assert beta[0, 0] == pytest.approx(40, abs=5)
    with_fest = fm.backtest(y[None, :], 12, 3, 8, x=x, models=("ets",))[0]
    without = fm.backtest(y[None, :], 12, 3, 8, models=("ets",))[0]
    assert with_fest.festival[0] == 1.0
    assert with_fest.mase[0] < without.mase[0]


def test_the_backtest_scores_what_the_library_forecasts_at_each_origin():
    # refit at every origin, the backtest's ETS errors are those of statsforecast's AutoETS
    # fitted on the data before each origin (the scoring, not the model, is ours)
    from statsforecast.models import AutoETS

    rng = np.random.default_rng(6)
    y = 40 + np.tile(PATTERN, 4) / 10 + rng.normal(0, 2, 48)
    s = fm.backtest(y[None, :], 12, 3, 2, models=("ets",), refit=True)[0]
    errs = []
    for o in (42, 45):
        fc = AutoETS(season_length=12, model="ANZ").forecast(y=y[:o], h=3)["mean"]
        errs.append(np.abs(y[o:o + 3] - np.maximum(fc, 0)) / fm.mase_scale(y[None, :o], 12)[0])
    assert s.mase[0] == pytest.approx(np.concatenate(errs).mean(), rel=1e-9)


def test_one_step_range_by_hand():
    # a constant: simple exponential smoothing fits it exactly, the range collapses on it
    lo, hi = fm.one_step_range(np.full(8, 5.0))
    assert lo == pytest.approx(5.0) and hi == pytest.approx(5.0)
