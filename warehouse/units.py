"""责任单位考核: a scorecard per responsible unit (departments, town centres, villages).

Per unit, over the cases reported in the period within the viewer's scope and area:
- cases; closed_rate = closed / cases; overdue_rate = overdue (warehouse.definitions.OVERDUE, the one rule on mart_case_flow,
  against the data's now) / cases; returned_rate = cases sent back at least once / cases;
  satisfied_rate = 满意 or 基本满意 / rated (None when none rated).
- score = 100 × Σ wᵢ·sᵢ / Σ wᵢ over the measures the unit has (weights in unit_scorecard.yaml):
  s = closed_rate, 1 − overdue_rate, 1 − returned_rate, satisfied_rate; rounded to 0.01.
- rank among units of the same kind with at least min_base cases, 'min' method (1, 2, 2, 4);
  units below min_base are listed with rank None.
A unit's kind (department / town / village / other) comes from its name by the yaml's patterns.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from warehouse import db, meta
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.definitions import OVERDUE, RATED, SATISFIED, sql
from warehouse.periods import during
from warehouse.ranking import min_rank

KINDS = ("department", "town", "village", "other")
MEASURES = {"closed_rate": False, "overdue_rate": True, "returned_rate": True, "satisfied_rate": False}
_SCORED = {"closed_rate": "closed_rate", "on_time_rate": "overdue_rate", "first_time_rate": "returned_rate",
           "satisfied_rate": "satisfied_rate"}  # weight key -> measure (True above: lower is better)


@cache
def config() -> dict:
    return yaml.safe_load((Path(__file__).with_name("unit_scorecard.yaml")).read_text(encoding="utf-8"))


def kind_of(name: str) -> str:
    for kind, patterns in config()["kinds"].items():
        if any(re.search(p, name) for p in patterns):
            return kind
    return "other"


def score(row: dict) -> float | None:
    """100 × Σ w·s / Σ w over the measures present (see module doc)."""
    num = den = 0.0
    for key, weight in config()["weights"].items():
        measure = _SCORED[key]
        v = row.get(measure)
        if v is None:
            continue
        num += weight * ((1 - v) if MEASURES[measure] else v)
        den += weight
    return round(100 * num / den, 2) if den else None


@dataset("unit_scorecard", "责任单位考核: per responsible unit, cases, 办结率, 超期率, 退回率, 满意率, score and rank by kind")
def scorecard(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
              path=None) -> pl.DataFrame:
    now = meta.data_now(path)
    when, params = during("reported_at", start, end)
    where = [scope.within(area), "responsible_unit IS NOT NULL", *when]
    got = db.query(f"""
        SELECT responsible_unit, count(*) AS cases,
               count(*) FILTER (WHERE status = 'closed') AS closed_cases,
               count(*) FILTER (WHERE {sql(OVERDUE)}) AS overdue_cases,
               count(*) FILTER (WHERE returned_count > 0) AS returned,
               count(*) FILTER (WHERE {RATED}) AS rated_cases,
               count(*) FILTER (WHERE {SATISFIED}) AS satisfied
        FROM mart_case_flow WHERE {" AND ".join(where)} GROUP BY 1 ORDER BY 1""", [now, *params], path)
    rows = []
    for r in got.iter_rows(named=True):
        n = r["cases"]
        r |= {"unit_kind": kind_of(r["responsible_unit"]), "closed_rate": r["closed_cases"] / n, "overdue_rate": r["overdue_cases"] / n,
              "returned_rate": r["returned"] / n,
              "satisfied_rate": r["satisfied"] / r["rated_cases"] if r["rated_cases"] else None}
        rows.append(r | {"score": score(r)})
    ranks: dict[str, int] = {}
    for kind in KINDS:
        judged = {r["responsible_unit"]: r["score"] for r in rows
                  if r["unit_kind"] == kind and r["cases"] >= config()["min_base"] and r["score"] is not None}
        ranks |= min_rank(judged)
    schema = {"responsible_unit": pl.String, "unit_kind": pl.String, "cases": pl.Int64, "closed_cases": pl.Int64,
              "closed_rate": pl.Float64, "overdue_cases": pl.Int64, "overdue_rate": pl.Float64, "returned": pl.Int64,
              "returned_rate": pl.Float64, "rated_cases": pl.Int64, "satisfied_rate": pl.Float64,
              "score": pl.Float64, "rank": pl.Int64}
    out = pl.DataFrame([{k: r.get(k) for k in schema} | {"rank": ranks.get(r["responsible_unit"])} for r in rows],
                       schema=schema)
    return out.sort(pl.col("unit_kind").replace_strict({k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int8),
                    pl.col("rank"), pl.col("cases"), descending=[False, False, True], nulls_last=True)
