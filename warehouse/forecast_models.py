"""Forecast models (statsforecast) and their rolling-origin backtest, for many series at once.

Input: Y, a (series × periods) array of counts, all series on the same calendar. Output:
point forecasts and 80% / 95% prediction intervals, (series × h) arrays.

Candidates per series, each one statsforecast model (Nixtla; C++ ETS and Theta):
- `snaive`: SeasonalNaive — the baseline every model must beat;
- `mean`: HistoricAverage — what white noise is best forecast by;
- `ets`: AutoETS(model="ANZ") — additive errors, no trend, additive season or none, the form
  chosen per series by AICc and the parameters by maximum likelihood;
- `theta`: Theta — the standard Theta method on an additively deseasonalised series.
Intervals are each model's own (normal) 80% and 95% prediction intervals; counts cannot be
negative, so every bound is clipped at zero.

春节: with the Spring Festival regressors x (warehouse/spring_festival.py), the effect is
estimated per series on seasonal differences (`festival_effect`); where it is clear
(|t| ≥ 2) `ets` and `theta` are fitted to the series with the effect taken out and it is
added back to their forecasts, so a festival in January one year and February the next is
forecast in the right month. Seasonal naive and the mean stay as they are: they are baselines.

Backtest: statsforecast's cross_validation, `origins` windows of h periods ending at the last
period (step h); at each origin o the models are fitted on Y[:, :o] (refit=False: fitted once at
the first origin and run forward with those parameters — the cheap setting for big builds).
MASE divides the mean absolute error by the in-sample mean absolute error of seasonal naive on
Y[:, :o] (Hyndman & Koehler 2006), so a model with a lower MASE than seasonal naive's beat it on
the same origins. Coverage: share of actuals inside the 80% / 95% intervals. A series keeps the
model with the lowest MASE only if that is below seasonal naive's; otherwise it uses seasonal
naive and says so.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

BASELINE = "snaive"
CANDIDATES = ("snaive", "mean", "ets", "theta")
ADJUSTED = ("ets", "theta")   # the models fitted to the series with the 春节 effect taken out
LEVELS = (80, 95)
FESTIVAL_T = 2.0   # |t| of a 春节 coefficient that counts as a clear effect
# worker processes for the fits; 1 (in process) unless FORECAST_JOBS says otherwise
N_JOBS = int(os.environ.get("FORECAST_JOBS", "1"))


@dataclass
class Forecast:
    """Arrays of shape (series, h)."""

    point: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray


def model(name: str, season: int):
    """The statsforecast model behind a candidate name."""
    from statsforecast.models import AutoETS, HistoricAverage, SeasonalNaive, Theta

    return {"snaive": lambda: SeasonalNaive(season_length=season, alias="snaive"),
            "mean": lambda: HistoricAverage(alias="mean"),
            "ets": lambda: AutoETS(season_length=season, model="ANZ", alias="ets"),
            "theta": lambda: Theta(season_length=season, decomposition_type="additive", alias="theta"),
            }[name]()


def _engine(names, season: int, n_jobs: int | None = None):
    from statsforecast import StatsForecast

    return StatsForecast([model(n, season) for n in names], freq=1, n_jobs=n_jobs or N_JOBS,
                         fallback_model=model("snaive", season))


def _long(Y: np.ndarray) -> pl.DataFrame:
    """statsforecast's long form: unique_id (row number), ds (period index), y."""
    S, T = Y.shape
    return pl.DataFrame({"unique_id": np.repeat(np.arange(S), T), "ds": np.tile(np.arange(T), S),
                         "y": Y.ravel()})


def _bands(df: pl.DataFrame, name: str, S: int, shift: np.ndarray | None) -> Forecast:
    """(series × points) arrays of one model's columns, in (unique_id, [cutoff,] ds) order,
    with the 春节 shift added back and clipped at zero."""
    cols = [name, f"{name}-lo-80", f"{name}-hi-80", f"{name}-lo-95", f"{name}-hi-95"]
    arrs = [df[c].to_numpy().astype(float).reshape(S, -1) for c in cols]
    if shift is not None:
        arrs = [a + shift for a in arrs]
    return Forecast(*(np.maximum(a, 0.0) for a in arrs))


def _groups(names, Y: np.ndarray, x: np.ndarray | None, beta: np.ndarray | None):
    """The models in groups fitted on the same data: the baselines on Y, ETS/Theta on Y less
    the 春节 effect (beta @ x) where one is clear. Per group: (names, data, beta or None,
    whether the adjustment was used per series)."""
    S = Y.shape[0]
    used = np.zeros(S, bool) if beta is None else np.abs(beta).sum(axis=1) > 0
    raw = [n for n in names if n not in ADJUSTED]
    adj = [n for n in names if n in ADJUSTED]
    groups = [(raw, Y, None, np.zeros(S, bool))] if raw else []
    if adj:
        groups.append((adj, Y - beta @ x.T, beta, used) if used.any() else (adj, Y, None, used))
    return groups


def fit_predict(name: str, Y: np.ndarray, season: int, h: int, x: np.ndarray | None = None,
                x_future: np.ndarray | None = None) -> tuple[Forecast, np.ndarray]:
    """Forecast h periods after Y with model `name`; returns the forecast (clipped at zero)
    and, per series, whether the 春节 adjustment was used."""
    out = forecast_all([name], Y, season, h, x, x_future)
    return out[name]


def forecast_all(names, Y: np.ndarray, season: int, h: int, x: np.ndarray | None = None,
                 x_future: np.ndarray | None = None) -> dict[str, tuple[Forecast, np.ndarray]]:
    """{name: (forecast, 春节 used per series)} for h periods after Y."""
    Y = np.atleast_2d(np.asarray(Y, float))
    S = Y.shape[0]
    if x_future is None:
        x = None
    beta = festival_effect(Y, x, season) if x is not None else None
    out = {}
    for group, data, b, used in _groups(names, Y, x, beta):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = _engine(group, season).forecast(df=_long(data), h=h, level=list(LEVELS)).sort("unique_id", "ds")
        shift = None if b is None else b @ x_future[:h].T
        for n in group:
            out[n] = (_bands(df, n, S, shift), used)
    return out


# ---------------------------------------------------------------- 春节


def festival_effect(Y: np.ndarray, x: np.ndarray, season: int) -> np.ndarray:
    """(series × k) coefficients of the 春节 regressors x (periods × k); rows of zeros where
    no coefficient is clear (|t| < FESTIVAL_T) or the data are too short.

    Least squares on seasonal differences (y_t − y_{t−m} on x_t − x_{t−m}): the festival
    moves between the same calendar periods, so differencing removes the level and the fixed
    seasonal pattern and leaves the festival's own effect.
    """
    Y = np.atleast_2d(np.asarray(Y, float))
    S, T = Y.shape
    k = x.shape[1]
    m = season
    beta = np.zeros((S, k))
    if T < m + 4:
        return beta
    dx = x[m:T] - x[:T - m]
    used = np.abs(dx).sum(axis=0) > 0
    if used.sum() == 0 or np.count_nonzero(np.abs(dx).sum(axis=1)) < used.sum() + 2:
        return beta
    dx = dx[:, used]
    dy = Y[:, m:] - Y[:, :-m]
    xtx = dx.T @ dx
    if np.linalg.cond(xtx) > 1e8:
        return beta
    inv = np.linalg.inv(xtx)
    b = dy @ dx @ inv                                  # series × used
    resid = dy - b @ dx.T
    dof = max(dy.shape[1] - dx.shape[1], 1)
    s2 = (resid ** 2).sum(axis=1) / dof
    se = np.sqrt(np.maximum(s2[:, None] * np.diag(inv)[None, :], 1e-12))
    clear = (np.abs(b / se) >= FESTIVAL_T).any(axis=1)
    beta[:, used] = np.where(clear[:, None], b, 0.0)
    return beta


# ---------------------------------------------------------------- backtest


@dataclass
class Scores:
    """Per series (arrays of length S) for one model."""

    model: str
    mase: np.ndarray
    coverage_80: np.ndarray
    coverage_95: np.ndarray
    n: int                   # forecast points scored per series
    festival: np.ndarray     # share of origins at which the 春节 adjustment was used


def mase_scale(Y: np.ndarray, season: int) -> np.ndarray:
    """In-sample mean absolute error of seasonal naive per series (naive if too short)."""
    m = season if Y.shape[1] > season else 1
    d = np.abs(Y[:, m:] - Y[:, :-m])
    return d.mean(axis=1) if d.shape[1] else np.zeros(Y.shape[0])


def origins_of(T: int, season: int, h: int, origins: int) -> list[int]:
    """The last `origins` origins, h periods apart, that leave a season and a bit to learn from."""
    starts = [T - h * k for k in range(origins, 0, -1)]
    return [o for o in starts if o > season + 3]


def backtest(Y: np.ndarray, season: int, h: int, origins: int, x: np.ndarray | None = None,
             models=CANDIDATES, refit: bool = False) -> list[Scores]:
    """Rolling-origin evaluation of each model (statsforecast's cross_validation): one Scores
    per model. The 春节 effect is estimated on the data before the first origin."""
    Y = np.atleast_2d(np.asarray(Y, float))
    S, T = Y.shape
    starts = origins_of(T, season, h, origins)
    if not starts:
        nan = np.full(S, np.nan)
        return [Scores(n, nan, nan, nan, 0, np.zeros(S)) for n in models]
    first = starts[0]
    actual = np.concatenate([Y[:, o:o + h] for o in starts], axis=1)
    scale = np.concatenate([np.repeat(mase_scale(Y[:, :o], season)[:, None], h, axis=1) for o in starts], axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    beta = festival_effect(Y[:, :first], x[:first], season) if x is not None else None
    points = np.concatenate([np.arange(o, o + h) for o in starts])
    out = {}
    for group, data, b, used in _groups(models, Y, x, beta):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = (_engine(group, season)
                  .cross_validation(df=_long(data), h=h, n_windows=len(starts), step_size=h,
                                    level=list(LEVELS), refit=refit or group[0] not in ADJUSTED)
                  .sort("unique_id", "cutoff", "ds"))   # baselines are cheap: refitted at every origin
        shift = None if b is None else (b @ x.T)[:, points]
        for n in group:
            fc = _bands(cv, n, S, shift)
            out[n] = Scores(n, (np.abs(actual - fc.point) / scale).mean(axis=1),
                            ((actual >= fc.lo80) & (actual <= fc.hi80)).mean(axis=1),
                            ((actual >= fc.lo95) & (actual <= fc.hi95)).mean(axis=1),
                            actual.shape[1], used.astype(float))
    return [out[n] for n in models]


def choose(scores: list[Scores]) -> tuple[np.ndarray, np.ndarray]:
    """Per series: (model name to use, whether it beats seasonal naive). The lowest MASE wins,
    but only a model whose MASE is below seasonal naive's replaces it."""
    base = next(s for s in scores if s.model == BASELINE)
    others = [s for s in scores if s.model != BASELINE]
    S = len(base.mase)
    if not others:
        return np.full(S, BASELINE, dtype=object), np.zeros(S, bool)
    mat = np.vstack([np.where(np.isfinite(s.mase), s.mase, np.inf) for s in others])
    best = mat.argmin(axis=0)
    best_mase = mat[best, np.arange(S)]
    beats = best_mase < np.where(np.isfinite(base.mase), base.mase, -np.inf)
    names = np.array([s.model for s in others], dtype=object)[best]
    return np.where(beats, names, BASELINE), beats


def one_step_range(y: np.ndarray, level: int = 95) -> tuple[float, float]:
    """The level% interval of the next value after y from simple exponential smoothing
    (statsforecast AutoETS, ETS(A,N,N))."""
    from statsforecast.models import AutoETS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = AutoETS(model="ANN").forecast(y=np.asarray(y, float), h=1, level=[level])
    return float(r[f"lo-{level}"][0]), float(r[f"hi-{level}"][0])
