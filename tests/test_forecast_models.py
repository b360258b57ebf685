"""The forecast machinery on series with known answers, and against statsmodels."""

from __future__ import annotations

import warnings
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
    fc, _ = fm.fit_predict("ets", Y, 12, 12)
    np.testing.assert_allclose(fc.point[0], PATTERN, atol=1e-6)


def test_white_noise_does_not_beat_the_mean():
    rng = np.random.default_rng(3)
    Y = rng.normal(50, 5, (300, 48))
    scores = {s.model: float(np.mean(s.mase)) for s in fm.backtest(Y, 12, 3, 4)}
    # nothing to learn: no model is meaningfully better than the historical mean, and
    # seasonal naive (which doubles the noise) is clearly worse
    assert min(scores["ets"], scores["theta"]) >= scores["mean"] - 0.02
    assert scores["snaive"] > scores["mean"] * 1.2


def test_white_noise_intervals_cover_as_stated():
    rng = np.random.default_rng(5)
    Y = rng.normal(50, 5, (400, 48))
    s = {x.model: x for x in fm.backtest(Y, 12, 3, 4)}["mean"]
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


def test_ets_matches_statsmodels_on_the_same_parameters_and_initial_states():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(1)
    t = np.arange(36)
    y = 50 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 36)
    level0, season0 = fm._initial_season(y[None, :], 12)
    sse, level, seas = fm.holt_winters_sse(y[None, :], [0.3], [0.1], 12, level0, season0)
    mine = level[0, 0] + seas[0, 0][np.arange(15) % 12]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ETSModel(y, error="add", seasonal="add", seasonal_periods=12, initialization_method="known",
                       initial_level=level0[0], initial_seasonal=season0[0]).smooth([0.3, 0.1])
    np.testing.assert_allclose(mine, ref.forecast(15), rtol=1e-9)
    assert sse[0, 0] == pytest.approx(ref.sse)


def test_theta_close_to_statsmodels_on_a_non_seasonal_series():
    from statsmodels.tsa.forecasting.theta import ThetaModel

    rng = np.random.default_rng(2)
    y = 100 + 0.8 * np.arange(40) + rng.normal(0, 4, 40)
    ref = ThetaModel(y, deseasonalize=False).fit().forecast(6)
    mine = fm.theta(y[None, :], 1, 6).point[0]
    # α comes from a grid here and by maximum likelihood there: close, not equal
    np.testing.assert_allclose(mine, ref, rtol=0.03)


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
