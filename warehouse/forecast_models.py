"""Forecast models and their rolling-origin backtest, vectorised over many series at once.

Input: Y, a (series × periods) array of counts, all series on the same calendar. Output:
point forecasts and 80% / 95% prediction intervals, (series × h) arrays.

Candidates per series:
- `snaive`: seasonal naive (the value one season ago) — the baseline every model must beat;
- `mean`: the historical mean (what white noise is best forecast by);
- `ets`: exponential smoothing with additive errors, ETS(A,N,A) or ETS(A,N,N), the form
  chosen per series by AICc and the smoothing parameters by least squares over a grid;
- `theta`: the Theta method (Assimakopoulos & Nikolopoulos 2000, as in Hyndman & Billah
  2003 and statsmodels' ThetaModel): classical additive seasonal adjustment, simple
  exponential smoothing plus half the linear trend's slope.

Why own numpy and not a library's fit per series: statsforecast 2.1 requires pandas < 3 (the
app pins 3.1), and statsmodels' ETSModel takes ~0.4 s of CPU per ETS(A,N,A) fit (1.7 s with
a damped trend) — a city's 1,500 series × 5 backtest origins would take most of an hour. The
recursions here are the textbook ones (Hyndman & Athanasopoulos, FPP2 §7), run for every
series and every grid point at once; tests check them against statsmodels' Holt-Winters and
ThetaModel on the same parameters.

春节: with the Spring Festival regressors x (warehouse/spring_festival.py), the effect is
estimated per series on seasonal differences (`festival_effect`); where it is clear
(|t| ≥ 2) `ets` and `theta` are fitted to the series with the effect taken out and it is
added back to their forecasts, so a festival in January one year and February the next is
forecast in the right month. Seasonal naive stays as it is: it is the baseline.

Backtest: for each origin o (the last `origins` × `step` periods), fit on Y[:, :o],
forecast h periods and compare with Y[:, o:o+h]. MASE divides the mean absolute error by the
in-sample mean absolute error of seasonal naive on Y[:, :o] (Hyndman & Koehler 2006), so a
model with a lower MASE than seasonal naive's beat it on the same origins. Coverage: share
of actuals inside the 80% / 95% intervals. A series keeps the model with the lowest MASE only
if that is below seasonal naive's; otherwise it uses seasonal naive and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASELINE = "snaive"
CANDIDATES = ("snaive", "mean", "ets", "theta")
Z80, Z95 = 1.2815515655446004, 1.959963984540054
FESTIVAL_T = 2.0   # |t| of a 春节 coefficient that counts as a clear effect
ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.65, 0.8, 0.95])
GAMMAS = np.array([0.0, 0.05, 0.1, 0.2, 0.35])


@dataclass
class Forecast:
    """Arrays of shape (series, h)."""

    point: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray


def _normal(point: np.ndarray, sd: np.ndarray) -> Forecast:
    return Forecast(point, point - Z80 * sd, point + Z80 * sd, point - Z95 * sd, point + Z95 * sd)


def _clip(fc: Forecast) -> Forecast:
    """Counts cannot be negative."""
    return Forecast(*(np.maximum(a, 0.0) for a in (fc.point, fc.lo80, fc.hi80, fc.lo95, fc.hi95)))


# ---------------------------------------------------------------- benchmarks


def seasonal_naive(Y: np.ndarray, season: int, h: int) -> Forecast:
    """y[t] = y[t − m]; sd from the in-sample seasonal differences, × √(seasons ahead)
    (FPP3 §5.5)."""
    Y = np.atleast_2d(np.asarray(Y, float))
    m = season if Y.shape[1] > season else 1
    idx = np.arange(h) % m
    point = Y[:, -m:][:, idx]
    d = Y[:, m:] - Y[:, :-m]
    sd = np.sqrt((d ** 2).mean(axis=1)) if d.shape[1] else np.zeros(Y.shape[0])
    k = np.arange(h) // m + 1
    return _normal(point, sd[:, None] * np.sqrt(k)[None, :])


def historic_mean(Y: np.ndarray, season: int, h: int) -> Forecast:
    Y = np.atleast_2d(np.asarray(Y, float))
    n = Y.shape[1]
    sd = Y.std(axis=1, ddof=1) * np.sqrt(1 + 1 / n) if n > 1 else np.zeros(Y.shape[0])
    return _normal(np.repeat(Y.mean(axis=1, keepdims=True), h, axis=1),
                   np.repeat(sd[:, None], h, axis=1))


# ---------------------------------------------------------------- exponential smoothing


def _initial_season(Y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial level and seasonal states from the first two seasons (mean of each position
    minus the overall mean); seasonal states ordered oldest first (s_{1−m} … s_0)."""
    first = Y[:, : 2 * m]
    level = first.mean(axis=1)
    s = first.reshape(Y.shape[0], 2, m).mean(axis=1) - level[:, None]
    return level, s


def holt_winters_sse(Y: np.ndarray, alpha, gamma, m: int, level0: np.ndarray,
                     season0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run ETS(A,N,A) (ETS(A,N,N) when season0 is None) over every series for every
    parameter pair at once. alpha, gamma: (G,) grids. Returns, per grid point and series, the
    sum of squared one-step errors (G × S), the final level (G × S) and the final seasonal
    states (G × S × m, column 0 = the season position of the next period)."""
    S, T = Y.shape
    alpha = np.atleast_1d(np.asarray(alpha, float))[:, None]
    gamma = np.atleast_1d(np.asarray(gamma, float))[:, None]
    G = alpha.shape[0]
    level = np.repeat(level0[None, :], G, axis=0)
    # seasonal states position-major (m × G × S): each step touches one contiguous block
    seas = None if season0 is None else np.repeat(season0.T[:, None, :], G, axis=1)
    sse = np.zeros((G, S))
    for t in range(T):
        if seas is None:
            e = Y[None, :, t] - level
        else:
            j = t % m
            e = Y[None, :, t] - level - seas[j]
            seas[j] += gamma * e
        sse += e * e
        level = level + alpha * e
    if seas is not None:
        seas = np.roll(seas.transpose(1, 2, 0), -(T % m), axis=2)
    return sse, level, seas


def _best(sse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per series, the grid index with the least squared error (first on ties)."""
    g = sse.argmin(axis=0)
    return g, sse[g, np.arange(sse.shape[1])]


def ets(Y: np.ndarray, season: int, h: int) -> Forecast:
    """ETS(A,N,A) or ETS(A,N,N) per series (AICc), parameters by least squares on a grid."""
    Y = np.atleast_2d(np.asarray(Y, float))
    S, T = Y.shape
    m = season
    cols = np.arange(S)
    steps = np.arange(1, h + 1)
    fits = []
    # ETS(A,N,N)
    sse, lvl, _ = holt_winters_sse(Y, ALPHAS, np.zeros_like(ALPHAS), 1, Y[:, 0].copy(), None)
    g, sse_b = _best(sse)
    a = ALPHAS[g]
    k = 2
    sigma2 = sse_b / max(T - k, 1)
    fits.append((np.repeat(lvl[g, cols][:, None], h, axis=1),
                 np.sqrt(sigma2[:, None] * (1 + a[:, None] ** 2 * (steps - 1))), _aicc(sse_b, T, k)))
    # ETS(A,N,A), when two seasons are there to start it
    if m > 1 and T >= 2 * m + 2:
        pairs = np.array([(x, y) for x in ALPHAS for y in GAMMAS if y <= 1 - x])
        level0, season0 = _initial_season(Y, m)
        sse, lvl, seas = holt_winters_sse(Y, pairs[:, 0], pairs[:, 1], m, level0, season0)
        g, sse_b = _best(sse)
        a, gm = pairs[g, 0], pairs[g, 1]
        k = m + 2
        sigma2 = sse_b / max(T - k, 1)
        kk = (steps - 1) // m
        point = lvl[g, cols][:, None] + seas[g, cols][:, (steps - 1) % m]
        sd = np.sqrt(sigma2[:, None] * (1 + a[:, None] ** 2 * (steps - 1) + (gm * (2 * a + gm))[:, None] * kk))
        fits.append((point, sd, _aicc(sse_b, T, k)))
    if len(fits) == 1:
        return _normal(fits[0][0], fits[0][1])
    seasonal = (fits[1][2] < fits[0][2])[:, None]
    return _normal(np.where(seasonal, fits[1][0], fits[0][0]), np.where(seasonal, fits[1][1], fits[0][1]))


def _aicc(sse: np.ndarray, T: int, k: int) -> np.ndarray:
    aic = T * np.log(np.maximum(sse / T, 1e-12)) + 2 * k
    return aic + (2 * k * (k + 1) / (T - k - 1) if T - k - 1 > 0 else np.inf)


# ---------------------------------------------------------------- theta


def classical_seasonal(Y: np.ndarray, m: int) -> np.ndarray:
    """Additive seasonal indices (series × m, position t % m) from a centred moving average,
    as in statsmodels' seasonal_decompose; zero when the series is shorter than two seasons."""
    S, T = Y.shape
    if m <= 1 or T < 2 * m:
        return np.zeros((S, max(m, 1)))
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = len(w) // 2
    trend = np.full((S, T), np.nan)
    for i in range(half, T - half):
        trend[:, i] = Y[:, i - half:i + half + 1] @ w
    detr = Y - trend
    idx = np.array([np.nanmean(detr[:, p::m], axis=1) for p in range(m)]).T
    return idx - idx.mean(axis=1, keepdims=True)


def theta(Y: np.ndarray, season: int, h: int) -> Forecast:
    """Theta(θ = 2) on the seasonally adjusted series, reseasonalised; SES α by least squares
    on the grid, intervals as an ETS(A,N,N) of the adjusted series."""
    Y = np.atleast_2d(np.asarray(Y, float))
    S, T = Y.shape
    m = season if T >= 2 * season else 1
    idx = classical_seasonal(Y, m)
    seas = idx[:, np.arange(T) % m] if m > 1 else 0.0
    X = Y - seas
    sse, lvl, _ = holt_winters_sse(X, ALPHAS, np.zeros_like(ALPHAS), 1, X[:, 0].copy(), None)
    g, sse_best = _best(sse)
    a_best, lv_best = ALPHAS[g], lvl[g, np.arange(S)]
    t = np.arange(T)
    b0 = ((X - X.mean(axis=1, keepdims=True)) @ (t - t.mean())) / ((t - t.mean()) ** 2).sum()
    steps = np.arange(h)
    a = a_best[:, None]
    drift = 0.5 * b0[:, None] * (steps[None, :] + 1 / a - (1 - a) ** T / a)
    point = lv_best[:, None] + drift
    if m > 1:
        point = point + idx[:, (T + steps) % m]
    sigma2 = sse_best / max(T - 2, 1)
    sd = np.sqrt(sigma2[:, None] * (1 + a ** 2 * steps[None, :]))
    return _normal(point, sd)


# ---------------------------------------------------------------- 春节


def festival_effect(Y: np.ndarray, x: np.ndarray, season: int) -> np.ndarray:
    """(series × k) coefficients of the 春节 regressors x (periods × k); rows of zeros where
    no coefficient is clear (|t| < FESTIVAL_T) or the data are too short.

    Estimated on seasonal differences (y_t − y_{t−m} on x_t − x_{t−m}): the festival moves
    between the same calendar periods, so differencing removes the level and the fixed
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


# ---------------------------------------------------------------- one call for every model


def fit_predict(name: str, Y: np.ndarray, season: int, h: int, x: np.ndarray | None = None,
                x_future: np.ndarray | None = None) -> tuple[Forecast, np.ndarray]:
    """Forecast h periods after Y with model `name`; returns the forecast (clipped at zero)
    and, per series, whether the 春节 adjustment was used."""
    Y = np.atleast_2d(np.asarray(Y, float))
    none = np.zeros(Y.shape[0], bool)
    if name == "snaive":
        return _clip(seasonal_naive(Y, season, h)), none
    if name == "mean":
        return _clip(historic_mean(Y, season, h)), none
    fn = {"ets": ets, "theta": theta}[name]
    if x is None or x_future is None:
        return _clip(fn(Y, season, h)), none
    beta = festival_effect(Y, x, season)
    fc = fn(Y - beta @ x.T, season, h)
    shift = beta @ x_future.T
    out = Forecast(fc.point + shift, fc.lo80 + shift, fc.hi80 + shift, fc.lo95 + shift, fc.hi95 + shift)
    return _clip(out), np.abs(beta).sum(axis=1) > 0


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


def origins_of(T: int, season: int, h: int, origins: int, step: int | None = None) -> list[int]:
    step = step or h
    starts = [T - step * k for k in range(origins, 0, -1)]
    return [o for o in starts if o > season + 3]   # at least a season and a bit to learn from


def backtest(Y: np.ndarray, season: int, h: int, origins: int, step: int | None = None,
             x: np.ndarray | None = None, models=CANDIDATES) -> list[Scores]:
    """Rolling-origin evaluation of each model: one Scores per model."""
    Y = np.atleast_2d(np.asarray(Y, float))
    S, T = Y.shape
    starts = origins_of(T, season, h, origins, step)
    out = []
    for name in models:
        abs_err, in80, in95, fest = [], [], [], np.zeros(S)
        for o in starts:
            hh = min(h, T - o)
            train, actual = Y[:, :o], Y[:, o:o + hh]
            scale = mase_scale(train, season)
            scale = np.where(scale > 0, scale, 1.0)
            fc, used = fit_predict(name, train, season, hh, None if x is None else x[:o],
                                   None if x is None else x[o:o + hh])
            abs_err.append(np.abs(actual - fc.point) / scale[:, None])
            in80.append((actual >= fc.lo80) & (actual <= fc.hi80))
            in95.append((actual >= fc.lo95) & (actual <= fc.hi95))
            fest += used
        if not starts:
            nan = np.full(S, np.nan)
            out.append(Scores(name, nan, nan, nan, 0, np.zeros(S)))
            continue
        e = np.concatenate(abs_err, axis=1)
        out.append(Scores(name, e.mean(axis=1), np.concatenate(in80, axis=1).mean(axis=1),
                          np.concatenate(in95, axis=1).mean(axis=1), e.shape[1], fest / len(starts)))
    return out


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
