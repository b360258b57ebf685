"""社会稳定风险评估 register: coverage (应评尽评), level × decision, time to decision, lessons.

Definitions (one place):
- required: every row of `ssra` (the register lists decisions that required an assessment);
  assessed: `assessed = TRUE`; 应评未评: `assessed = FALSE`.
- coverage = assessed / required, target 100% (seed 000).
- days to decision = decided_at − submitted_at, for decided rows.
- lessons: assessed 低 and decided, whose area (the project's village or town, by code
  prefix) had a collective incident (cases.is_collective) within LESSON_DAYS after the
  decision.
Periods filter by submitted_at.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse import db
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.periods import during

LESSON_DAYS = 180
COVERAGE_TARGET = 1.0
LEVELS = ("高", "中", "低")
DECISIONS = ("实施", "暂缓", "不实施", "未决策")


def _where(scope: Scope, area: str | None, start: date | None, end: date | None) -> tuple[str, list]:
    when, params = during("s.submitted_at", start, end)
    return " AND ".join([scope.within(area, "s.area_code"), *when]), params


def register(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
             path=None) -> pl.DataFrame:
    """Every register row in scope, with area name, days to decision and later collective incidents."""
    where, params = _where(scope, area, start, end)
    df = db.query(f"""
        SELECT s.ssra_id, s.project_name, s.project_type, s.area_code, a.name AS area_name,
               s.submitted_at, s.decided_at, s.assessed, s.legality, s.rationality, s.feasibility,
               s.controllability, s.risk_level, coalesce(s.decision, '未决策') AS decision, s.status,
               date_diff('day', s.submitted_at, s.decided_at) AS days_to_decision,
               (SELECT count(*) FROM cases c
                WHERE c.is_collective AND starts_with(c.area_code, s.area_code)
                  AND c.reported_at >= s.decided_at
                  AND c.reported_at < s.decided_at + INTERVAL {LESSON_DAYS} DAY) AS collective_after
        FROM ssra s LEFT JOIN area a ON a.code = s.area_code
        WHERE {where}
        ORDER BY s.submitted_at DESC""", params, path)
    return df


def coverage(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
             path=None) -> dict:
    """required, assessed, not assessed (应评未评), coverage and the gap to the 100% target."""
    where, params = _where(scope, area, start, end)
    required, assessed = db.reader(path).sql(
        f"SELECT count(*), count(*) FILTER (WHERE s.assessed) FROM ssra s WHERE {where}",
        params=params).fetchall()[0]
    cov = assessed / required if required else None
    return {"required": required, "assessed": assessed, "not_assessed": required - assessed,
            "coverage": cov, "target": COVERAGE_TARGET,
            "gap": None if cov is None else COVERAGE_TARGET - cov}


def coverage_by_town(scope: Scope, area: str | None = None, start: date | None = None,
                     end: date | None = None, path=None) -> pl.DataFrame:
    where, params = _where(scope, area, start, end)
    return db.query(f"""
        SELECT left(s.area_code, 9) AS town_code, any_value(t.name) AS town_name, count(*) AS required,
               count(*) FILTER (WHERE s.assessed) AS assessed,
               count(*) FILTER (WHERE s.assessed) / count(*) AS coverage
        FROM ssra s LEFT JOIN area t ON t.code = left(s.area_code, 9)
        WHERE {where} GROUP BY 1 ORDER BY coverage, town_code""", params, path)


def matrix(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
           path=None) -> pl.DataFrame:
    """Assessed projects by risk level (rows 高/中/低) × decision (实施/暂缓/不实施/未决策)."""
    where, params = _where(scope, area, start, end)
    counts = db.query(f"""
        SELECT s.risk_level, coalesce(s.decision, '未决策') AS decision, count(*) AS n
        FROM ssra s WHERE {where} AND s.assessed GROUP BY ALL""", params, path)
    rows = []
    for lv in LEVELS:
        row = {"risk_level": lv}
        for d in DECISIONS:
            hit = counts.filter((pl.col("risk_level") == lv) & (pl.col("decision") == d))
            row[d] = int(hit["n"][0]) if hit.height else 0
        rows.append(row)
    return pl.DataFrame(rows)


def decision_time(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
                  path=None) -> dict:
    """Days from submission to decision among decided rows: count, median, p90, mean, max."""
    where, params = _where(scope, area, start, end)
    n, med, p90, mean, mx = db.reader(path).sql(f"""
        SELECT count(*), median(d), quantile_cont(d, 0.9), avg(d), max(d)
        FROM (SELECT date_diff('day', s.submitted_at, s.decided_at) AS d FROM ssra s
              WHERE {where} AND s.decided_at IS NOT NULL)""", params=params).fetchall()[0]
    return {"decided": n, "median": med, "p90": p90, "mean": mean, "max": mx}


def lessons(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
            path=None) -> pl.DataFrame:
    """Projects assessed 低 and decided whose area had a collective incident within LESSON_DAYS."""
    df = register(scope, area, start, end, path)
    return (df.filter((pl.col("risk_level") == "低") & pl.col("decided_at").is_not_null()
                      & (pl.col("collective_after") > 0))
            .select("ssra_id", "project_name", "project_type", "area_code", "area_name", "decided_at",
                    "decision", "collective_after")
            .sort("collective_after", "decided_at", descending=[True, True]))


@dataset("ssra", "社会稳定风险评估 register: one row per decision/project that required an assessment")
def ssra_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return register(scope, area, start, end, path)
