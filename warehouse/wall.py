"""The wall display's only data path: aggregates and de-identified case headers, nothing else.

Every function takes the viewer's scope and refuses any scope that may read person-level rows
(the wall runs with `warehouse.db.WALL`). Results pass `assert_aggregate_only`, which rejects
any column that could carry a person (keys, masked names and phones, case text, post text),
so a later edit that selects one fails loudly instead of putting it on a public screen.
"""

from __future__ import annotations

import importlib
import inspect
from datetime import datetime, timedelta

import polars as pl

from warehouse import db, meta
from warehouse import definitions as d
from warehouse.datasets import dataset
from warehouse.db import Scope

# Columns that identify or describe a person, or carry free text written by one.
PERSON_COLUMNS = frozenset({
    "person_key", "household_key", "name_masked", "phone_masked", "reporter_masked", "description",
    "content", "author_hash", "case_id", "post_id", "response_id", "place_text", "keywords", "lon", "lat",
    "birth_month", "grid_code", "area_code",
})
MAP_METRICS = ("cases_7d", "open", "open_overdue", "risk")
RATE_WINDOW_DAYS = 30   # 12345 三率 over the last 30 days of the data's clock
TICKER_ROWS = 10
RISK_LEVELS_SHOWN = ("红", "橙", "red", "orange")


class AggregateOnlyViolation(PermissionError):
    """A wall query tried to return a person-level column."""


def require_wall_scope(scope: Scope) -> None:
    """The wall may only ever hold an aggregate-only scope (WALL or a town-limited copy)."""
    if not isinstance(scope, Scope) or scope.person_level:
        raise PermissionError("the wall reads with an aggregate-only scope (warehouse.db.WALL), "
                              f"not {getattr(scope, 'name', scope)!r}")


def assert_aggregate_only(df: pl.DataFrame | dict) -> pl.DataFrame | dict:
    """Return df unchanged, or raise when it has a person-level column."""
    cols = set(df.keys() if isinstance(df, dict) else df.columns)
    bad = sorted(cols & PERSON_COLUMNS)
    if bad:
        raise AggregateOnlyViolation(f"person-level columns may not reach the wall: {bad}")
    return df


def _now(path) -> datetime:
    return meta.data_now(path)


# ---------------------------------------------------------------- headline numbers


def headline(scope: Scope, path=None) -> dict:
    """Today's cases, open, open and overdue, 12345 三率 (30 days), 安全感 (latest quarter)."""
    require_wall_scope(scope)
    now = _now(path)
    con = db.reader(path)
    where = scope.area_clause()
    today, open_, overdue, week = con.sql(f"""
        SELECT count(*) FILTER (WHERE reported_at >= ?::DATE),
               count(*) FILTER (WHERE {d.OPEN}),
               count(*) FILTER (WHERE {d.sql(d.OPEN_OVERDUE)}),
               count(*) FILTER (WHERE reported_at >= ?)
        FROM mart_case_flow WHERE {where}""", params=[now.date(), now, now - timedelta(days=7)]).fetchall()[0]
    since = now - timedelta(days=RATE_WINDOW_DAYS)
    before = since - timedelta(days=RATE_WINDOW_DAYS)  # the window before, for the change shown

    def rates(a, b):
        return con.sql(f"""
            SELECT count(*) FILTER (WHERE reported_at >= ? AND reported_at < ?),
                   count(*) FILTER (WHERE reported_at >= ? AND reported_at < ? AND {d.RESPONDED_12345}),
                   count(*) FILTER (WHERE closed_at >= ? AND closed_at < ? AND citizen_resolved IS NOT NULL),
                   count(*) FILTER (WHERE closed_at >= ? AND closed_at < ? AND {d.SOLVED}),
                   count(*) FILTER (WHERE closed_at >= ? AND closed_at < ? AND {d.RATED}),
                   count(*) FILTER (WHERE closed_at >= ? AND closed_at < ? AND {d.SATISFIED})
            FROM cases WHERE source_channel = '12345' AND {where}""", params=[a, b] * 6).fetchall()[0]

    calls, responded, closed, solved, rated, satisfied = rates(since, now + timedelta(days=1))
    p_calls, p_responded, p_closed, p_solved, p_rated, p_satisfied = rates(before, since)
    surveys = con.sql(f"""
        WITH q AS (SELECT DISTINCT survey_period FROM survey_response WHERE {where}
                   ORDER BY survey_period DESC LIMIT 2)
        SELECT survey_period, count(*) FILTER (WHERE {d.SAFETY_ANSWERED}),
               count(*) FILTER (WHERE {d.FEELS_SAFE})
        FROM survey_response WHERE {where} AND survey_period IN (SELECT survey_period FROM q)
        GROUP BY 1 ORDER BY 1 DESC""").fetchall()
    quarter, answered, safe = surveys[0] if surveys else (None, 0, 0)
    _, p_answered, p_safe = surveys[1] if len(surveys) > 1 else (None, 0, 0)
    share = lambda num, den: num / den if den else None  # noqa: E731
    return assert_aggregate_only({
        "as_of": now, "cases_today": today, "cases_7d": week, "open": open_, "open_overdue": overdue,
        "rate_response": share(responded, calls), "rate_solved": share(solved, closed),
        "rate_satisfied": share(satisfied, rated), "safety": share(safe, answered),
        "safety_quarter": quarter,
        "prev_rate_response": share(p_responded, p_calls), "prev_rate_solved": share(p_solved, p_closed),
        "prev_rate_satisfied": share(p_satisfied, p_rated), "prev_safety": share(p_safe, p_answered)})


# The wall's rate cards and the catalogue indicator whose target and RAG rule they use.
KPI_INDICATORS = {"rate_response": "hotline_response", "rate_solved": "hotline_solved",
                  "rate_satisfied": "hotline_satisfied", "safety": "security"}


def kpi_status(h: dict) -> dict[str, dict]:
    """Per rate card: its target, red/amber/green against the catalogue's thresholds, and the
    change from the window before (30 days, or the previous survey quarter)."""
    from warehouse.indicators import catalogue

    cat = catalogue()
    out = {}
    for key, ind_key in KPI_INDICATORS.items():
        ind = cat.get(ind_key)
        value, prev = h.get(key), h.get(f"prev_{key}")
        out[key] = {"target": ind.target if ind else None, "rag": ind.rag(value) if ind else None,
                    "direction": ind.direction if ind else "higher",
                    "change": value - prev if value is not None and prev is not None else None}
    return out


# ---------------------------------------------------------------- map


def shapes(scope: Scope, path=None) -> pl.DataFrame:
    """Outlines to draw: county, towns and villages in scope (code, name, level, parent, geometry)."""
    require_wall_scope(scope)
    return assert_aggregate_only(db.query(f"""
        SELECT code, name, level, parent_code, geometry FROM area
        WHERE level IN ('county', 'town', 'village') AND geometry IS NOT NULL
          AND {scope.area_clause('code')}
        ORDER BY code""", path=path))


def village_heat(scope: Scope, metric: str = "cases_7d", path=None) -> pl.DataFrame:
    """One row per village: its code, name, town and the metric (cases in 7 days, open, overdue)."""
    require_wall_scope(scope)
    if metric not in MAP_METRICS:
        raise ValueError(f"metric must be one of {MAP_METRICS}")
    if metric == "risk":
        return village_risk(scope, path=path)
    now = _now(path)
    cond = {"cases_7d": "c.reported_at >= ?::TIMESTAMP - INTERVAL 7 DAY", "open": d.OPEN,
            "open_overdue": d.sql(d.OPEN_OVERDUE)}[metric]
    return assert_aggregate_only(db.query(f"""
        SELECT v.code, v.name, v.parent_code AS town_code,
               count(c.reported_at) FILTER (WHERE {cond})::BIGINT AS value
        FROM area v LEFT JOIN mart_case_flow c ON substr(c.area_code, 1, 12) = v.code
        WHERE v.level = 'village' AND {scope.area_clause('v.code')}
        GROUP BY ALL ORDER BY v.code""", params=[now] * cond.count("?"), path=path))


def village_risk(scope: Scope, path=None) -> pl.DataFrame | None:
    """One row per village: the highest grid risk score in it and that grid's level (蓝黄橙红).

    None while warehouse.risk does not provide grid_scores.
    """
    require_wall_scope(scope)
    try:
        grid_scores = importlib.import_module("warehouse.risk").grid_scores
    except (ImportError, AttributeError):
        return None
    grids = grid_scores(scope, None, path=path)
    villages = db.query(f"""SELECT code, name, parent_code AS town_code FROM area WHERE level = 'village'
        AND {scope.area_clause('code')} ORDER BY code""", path=path)
    per_village = (grids.group_by(pl.col("area_code").str.slice(0, 12).alias("code"))
                   .agg(pl.col("score").max().alias("value"),
                        pl.col("level").sort_by("score").last().alias("level")))
    return assert_aggregate_only(villages.join(per_village, on="code", how="left")
                                 .with_columns(pl.col("value").fill_null(0.0)))


def town_cases(scope: Scope, days: int = 7, path=None) -> pl.DataFrame:
    """One row per town: cases reported in the last `days` days and those still open."""
    require_wall_scope(scope)
    now = _now(path)
    return assert_aggregate_only(db.query(f"""
        SELECT t.code, t.name,
               count(c.reported_at) FILTER (WHERE c.reported_at >= ?)::BIGINT AS cases,
               count(c.reported_at) FILTER (WHERE {d.OPEN})::BIGINT AS open
        FROM area t LEFT JOIN cases c ON substr(c.area_code, 1, 9) = t.code
        WHERE t.level = 'town' AND {scope.area_clause('t.code')}
        GROUP BY ALL ORDER BY cases DESC, t.code""", params=[now - timedelta(days=days)], path=path))


def daily_cases(scope: Scope, days: int = 14, path=None) -> pl.DataFrame:
    """One row per day of the last `days` days (today included, zero-filled): cases reported."""
    require_wall_scope(scope)
    now = _now(path)
    first = now.date() - timedelta(days=days - 1)
    return assert_aggregate_only(db.query(f"""
        WITH days AS (SELECT unnest(generate_series(?::DATE, ?::DATE, INTERVAL 1 DAY))::DATE AS day)
        SELECT days.day, count(c.reported_at)::BIGINT AS cases
        FROM days LEFT JOIN cases c ON c.reported_at::DATE = days.day AND {scope.area_clause('c.area_code')}
        GROUP BY days.day ORDER BY days.day""", params=[first, now.date()], path=path))


# ---------------------------------------------------------------- ticker


def ticker(scope: Scope, n: int = TICKER_ROWS, path=None) -> pl.DataFrame:
    """The latest cases as headers only: type, village name, time reported, status.

    No case id, grid, coordinates, text, reporter or phone: a village and a minute are as
    precise as the wall gets.
    """
    require_wall_scope(scope)
    return assert_aggregate_only(db.query(f"""
        SELECT c.case_type, coalesce(v.name, t.name) AS village, t.name AS town,
               date_trunc('minute', c.reported_at) AS reported_at, c.status
        FROM cases c
        LEFT JOIN area v ON v.code = substr(c.area_code, 1, 12)
        LEFT JOIN area t ON t.code = substr(c.area_code, 1, 9)
        WHERE {scope.area_clause('c.area_code')}
        ORDER BY c.reported_at DESC LIMIT ?""", params=[int(n)], path=path))


# ---------------------------------------------------------------- warnings from other modules

# Display columns a warning panel may use; anything else a provider returns is dropped.
WARNING_COLUMNS = ("area_name", "name", "town_name", "village_name", "grid_name", "topic", "title",
                   "level", "color", "colour", "warning_level", "risk_level", "score", "risk_score",
                   "posts", "count", "value", "ratio", "negative_share", "reason", "main_drivers", "since", "started_at", "date", "day")


def _provider(module: str):
    try:
        return importlib.import_module(f"warehouse.{module}").current_warnings
    except (ImportError, AttributeError):
        return None


def warnings(scope: Scope, kind: str, lang: str = "zh", path=None) -> pl.DataFrame | None:
    """Current warnings from warehouse.risk (grid risk 橙/红) or warehouse.opinion (spikes).

    None when that module does not provide `current_warnings` yet. Only whitelisted display
    columns are kept, so a provider's person-level column never reaches the wall.
    """
    require_wall_scope(scope)
    if kind not in ("risk", "opinion"):
        raise ValueError("kind must be 'risk' or 'opinion'")
    fn = _provider(kind)
    if fn is None:
        return None
    takes_lang = "lang" in inspect.signature(fn).parameters
    df = fn(scope, path=path, lang=lang) if takes_lang else fn(scope, path=path)
    if df is None:
        return None
    if not isinstance(df, pl.DataFrame):
        df = pl.DataFrame(df)
    df = df.select([c for c in df.columns if c in WARNING_COLUMNS])
    if kind == "risk" and "level" in df.columns:  # the wall shows the two top colours only
        df = df.filter(pl.col("level").is_in(RISK_LEVELS_SHOWN))
    return assert_aggregate_only(df)


# ---------------------------------------------------------------- freshness


def freshness(scope: Scope, path=None) -> dict:
    """The data's own clock and the domains whose latest load is overdue."""
    require_wall_scope(scope)
    fr = meta.freshness(path)
    return {"data_now": _now(path), "stale_domains": fr.filter(pl.col("stale"))["domain"].to_list(),
            "last_loaded": fr["last_loaded"].max()}


# ---------------------------------------------------------------- named datasets


def _aggregate(scope: Scope, area: str | None = None) -> Scope:
    """The same areas (or the one asked for, already checked against the scope), aggregates only."""
    return Scope((area,) if area else scope.areas, person_level=False, name=f"{scope.name}-aggregate",
                 role="wall")


@dataset("wall_village_heat", "Wall: cases in the last 7 days per village (aggregate)")
def _ds_village_heat(scope, area=None, start=None, end=None, path=None):
    return village_heat(_aggregate(scope, area), path=path)


@dataset("wall_ticker", "Wall: latest cases as headers (type, village, minute, status)")
def _ds_ticker(scope, area=None, start=None, end=None, path=None):
    return ticker(_aggregate(scope, area), path=path)


@dataset("wall_daily_cases", "Wall: cases per day, last 14 days")
def _ds_daily(scope, area=None, start=None, end=None, path=None):
    return daily_cases(_aggregate(scope, area), path=path)
