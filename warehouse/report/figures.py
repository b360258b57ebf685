"""The figures of the monthly 《治安形势分析》: one number per fact, with its comparisons.

Each section's figures are counts or rates for the report month, the previous month and the
same month last year, plus a breakdown by the child areas (towns of a county, villages of a
town) so the text can name the places that stand out. The composer only formats these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from warehouse import areas as wa
from warehouse import db, meta, taxonomy
from warehouse.db import Scope
from warehouse.definitions import (
    BEIJING_IRREGULAR,
    BEYOND_COUNTY,
    DISPUTE,
    OVERDUE,
    RATED,
    REPEAT_PETITION,
    RESOLVED,
    RESOLVED_LOCAL,
    SATISFIED,
    sql,
)
from warehouse.periods import Period
from warehouse.petition import RESOLVED as PETITION_RESOLVED
from warehouse.petition import SETTLED as PETITION_OUTCOMES

# Case-based measures: (key, SQL filter on cases, what is counted)
PUBLIC_SECURITY = "category = '治安隐患'"
PETITION = "source_channel = '信访'"
ACCIDENT = taxonomy.accident_sql()  # the case types warehouse/taxonomy.yaml lists, not fixed names
HAZARD = taxonomy.hazard_sql()
GRID_REPORTED = "source_channel = '网格员巡查'"
# 化解率 as the register defines it (warehouse/petition.py): resolved among those given an outcome,
# so 办理中 / 正在化解 stay out of the denominator
PETITION_SETTLED = f"petition_status IN {PETITION_RESOLVED}"
PETITION_OUTCOME = f"petition_status IN {PETITION_OUTCOMES}"


@dataclass
class Measure:
    """A value this month, last month and the same month last year; by child area."""

    key: str
    unit: str  # 'count' | 'rate' | 'per10k'
    current: float | None
    previous: float | None
    year_ago: float | None
    by_child: pl.DataFrame = field(default_factory=pl.DataFrame)  # code, name, current, previous


# key -> (unit, table, numerator filter, denominator filter or None for a count)
def _definitions(now_lit: str) -> dict[str, tuple[str, str, str, str | None]]:
    return {
        "cases_total": ("count", "cases", "TRUE", None),
        "public_security": ("count", "cases", PUBLIC_SECURITY, None),
        "disputes": ("count", "cases", DISPUTE, None),
        "disputes_resolved_local": ("rate", "cases", f"{DISPUTE} AND {RESOLVED_LOCAL}", f"{DISPUTE} AND {RESOLVED}"),
        "collective": ("count", "cases", "is_collective", None),
        "petitions": ("count", "cases", PETITION, None),
        "petitions_settled": ("rate", "cases", f"{PETITION} AND {PETITION_SETTLED}",
                              f"{PETITION} AND {PETITION_OUTCOME}"),
        "accidents": ("count", "cases", ACCIDENT, None),
        "hazards": ("count", "cases", HAZARD, None),
        "grid_reported": ("count", "cases", GRID_REPORTED, None),
        "overdue_rate": ("rate", "mart_case_flow", sql(OVERDUE, now_lit), "TRUE"),  # the one rule: on the mart
        "satisfaction": ("rate", "cases", SATISFIED, RATED),
        "ssra_submitted": ("count", "ssra", "TRUE", None),
        "ssra_assessed": ("count", "ssra", "assessed", None),
        "ssra_high": ("count", "ssra", "risk_level = '高'", None),
        "posts": ("count", "opinion_post", "TRUE", None),
        "negative_share": ("rate", "opinion_post", "sentiment = 'negative'", "TRUE"),
        # the 信访 register (warehouse/petition.py), by the day a petition was received
        "register_petitions": ("count", "petition", "TRUE", None),
        "petitions_beyond": ("count", "petition", BEYOND_COUNTY, None),
        "petitions_beijing": ("count", "petition", BEIJING_IRREGULAR, None),
        "petitions_repeat": ("rate", "petition", REPEAT_PETITION, "petitioner_key IS NOT NULL"),
    }


TIME_COLUMN = {"cases": "reported_at", "mart_case_flow": "reported_at", "ssra": "submitted_at", "opinion_post": "published_at",
               "petition": "received_at"}
# Rates whose breakdown by child area the report does not state (kept out of the charts)
NO_CHILDREN = {"disputes_resolved_local", "petitions_settled", "satisfaction", "negative_share",
               "ssra_submitted", "ssra_assessed", "ssra_high", "petitions_repeat"}


def _grouped(scope: Scope, area: str, p: Period, table: str, defs: dict, path) -> pl.DataFrame:
    """One query per table and period: numerator/denominator of every measure, by child area
    and for the whole area (child = NULL)."""
    n = len(area) + 3 if len(area) < 12 else len(area)
    cols = []
    for key, (_, _, num, den) in defs.items():
        cols.append(f"count(*) FILTER (WHERE {num}) AS \"{key}__n\"")
        if den is not None:
            cols.append(f"count(*) FILTER (WHERE {den}) AS \"{key}__d\"")
    t = TIME_COLUMN[table]
    return db.query(
        f"""SELECT CASE WHEN length(area_code) >= {n} THEN substr(area_code, 1, {n}) END AS child,
                   grouping(child) AS is_total, {", ".join(cols)}
            FROM {table} x WHERE {scope.within(area)} AND {t} >= ? AND {t} < ?
            GROUP BY GROUPING SETS ((child), ())""", [p.start, p.end], path)


def _value(row: dict | None, key: str, den: str | None) -> float | None:
    if row is None:
        return 0.0 if den is None else None
    num = row[f"{key}__n"]
    if den is None:
        return float(num)
    d = row[f"{key}__d"]
    return num / d if d else None


def monthly(scope: Scope, area: str, month: Period, path=None) -> dict[str, Measure]:
    """Every figure of the report for one area and month (three periods, a few queries)."""
    now = meta.data_now(path)
    defs = _definitions(f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}'")
    kids = wa.areas(scope, parent=area, path=path).select("code", "name")
    periods = {"current": month, "previous": month.previous(), "year_ago": month.year_ago()}
    frames: dict[tuple[str, str], pl.DataFrame] = {}
    for table in TIME_COLUMN:
        tdefs = {k: v for k, v in defs.items() if v[1] == table}
        for label, p in periods.items():
            frames[(table, label)] = _grouped(scope, area, p, table, tdefs, path)
    out: dict[str, Measure] = {}
    for key, (unit, table, _, den) in defs.items():
        vals, by_child = {}, {}
        for label in periods:
            df = frames[(table, label)]
            total = df.filter(pl.col("is_total") == 1)
            vals[label] = _value(total.row(0, named=True) if total.height else None, key, den)
            by_child[label] = {r["child"]: _value(r, key, den) for r in df.filter(pl.col("is_total") == 0).iter_rows(named=True)}
        children = pl.DataFrame()
        if key not in NO_CHILDREN and kids.height and len(area) < 12:
            children = kids.with_columns(
                pl.col("code").replace_strict(by_child["current"], default=0.0, return_dtype=pl.Float64).alias("current"),
                pl.col("code").replace_strict(by_child["previous"], default=0.0, return_dtype=pl.Float64).alias("previous"))
        out[key] = Measure(key, unit, vals["current"], vals["previous"], vals["year_ago"], children)
    return out


def case_count(scope: Scope, area: str, p: Period, where: str, path=None) -> int:
    """A plain count of cases reported in the period (the tests recompute figures with it)."""
    return db.reader(path).sql(
        f"""SELECT count(*) FROM cases WHERE {scope.within(area)} AND ({where})
            AND reported_at >= ? AND reported_at < ?""", params=[p.start, p.end]).fetchall()[0][0]


def top_topic(scope: Scope, area: str, p: Period, path=None) -> tuple[str, int] | None:
    """The most discussed negative topic of the month, with its post count."""
    rows = db.reader(path).sql(
        f"""SELECT topic, count(*) n FROM opinion_post WHERE {scope.within(area)}
            AND published_at >= ? AND published_at < ? AND sentiment = 'negative' AND topic IS NOT NULL
            GROUP BY topic ORDER BY n DESC, topic LIMIT 1""", params=[p.start, p.end]).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def top_types(scope: Scope, area: str, p: Period, where: str, k: int = 3, path=None) -> list[tuple[str, int]]:
    return db.reader(path).sql(
        f"""SELECT case_type, count(*) n FROM cases WHERE {scope.within(area)} AND ({where})
            AND reported_at >= ? AND reported_at < ? GROUP BY case_type ORDER BY n DESC, case_type
            LIMIT {int(k)}""", params=[p.start, p.end]).fetchall()


def trend(scope: Scope, area: str, p: Period, path=None, months: int = 13) -> pl.DataFrame:
    """Monthly counts of all cases, disputes and public-security cases, for the trend chart."""
    first = p.history(months)[0].start
    return db.query(
        f"""SELECT date_trunc('month', reported_at)::DATE AS month, count(*) AS cases,
                   count(*) FILTER (WHERE {DISPUTE}) AS disputes,
                   count(*) FILTER (WHERE {PUBLIC_SECURITY}) AS public_security
            FROM cases WHERE {scope.within(area)} AND reported_at >= ? AND reported_at < ?
            GROUP BY 1 ORDER BY 1""", [first, p.end], path)
