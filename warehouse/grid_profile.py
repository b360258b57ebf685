"""One grid on one page (网格画像): residents, groups, staffing, cases, opinion and risk drivers.

Aggregates are open to every scope; case-level rows need person-level scope and carry the
reporter's masked name only (no phone, no case text). Special and care groups are counts
with cells below SUPPRESS_BELOW shown as NULL.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse import areas as wa
from warehouse import db, definitions, meta
from warehouse.datasets import dataset
from warehouse.db import Scope, _digits
from warehouse.geo import RULE_VOLUNTEERS, RULE_WORKERS
from warehouse.periods import Period
from warehouse.pymap import mapped
from warehouse.suppression import is_small

AGE_BANDS = ((0, 18, "0-17"), (18, 35, "18-34"), (35, 60, "35-59"), (60, 80, "60-79"), (80, 200, "80+"))


def _grid(scope: Scope, grid: str) -> str:
    if wa.level_of(_digits(grid)) != "grid":
        raise ValueError(f"not a grid code: {grid}")
    scope.check_area(grid, "grid")
    return grid


def summary(scope: Scope, grid: str, path=None) -> dict | None:
    """Name, lineage names, kind, km², residents and households of one grid (None: unknown)."""
    g = _grid(scope, grid)
    info = wa.area(g, scope, path=path)
    if info is None:
        return None
    n, h = db.reader(path).sql("SELECT count(*), count(DISTINCT household_key) FROM person "
                               "WHERE area_code = ?", params=[g]).fetchall()[0]
    return info | {"residents": n, "households": h, "lineage": wa.lineage(g, path=path)}


def residents_by_type_age(scope: Scope, grid: str, path=None) -> pl.DataFrame:
    """residence_type × age band → residents (ages at the data's now)."""
    g = _grid(scope, grid)
    age = definitions.sql(definitions.AGE, "$now")
    band = "CASE " + " ".join(f"WHEN {age} < {hi} THEN '{label}'" for _, hi, label in AGE_BANDS) + " END"
    return db.query(f"""
        SELECT residence_type, {band} AS age_band, count(*) AS residents
        FROM person WHERE area_code = $g GROUP BY ALL ORDER BY residence_type, age_band""",
        {"g": g, "now": meta.data_now(path)}, path)


def groups(scope: Scope, grid: str, path=None) -> pl.DataFrame:
    """Special groups and care groups: kind (special|care), group (Chinese name), count.

    count is NULL when 1..SUPPRESS_BELOW-1 (suppression.is_small); zero is shown as 0.
    """
    g = _grid(scope, grid)
    age = definitions.sql(definitions.AGE, "$now")
    cols = [(f"count(*) FILTER (WHERE {c})", "special", name)
            for c, name in definitions.SPECIAL_GROUP_COLUMNS.items()]
    cols += [(f"count(*) FILTER (WHERE {age} >= 60)", "care", "60岁以上"),
             (f"count(*) FILTER (WHERE {age} >= 80)", "care", "80岁以上")]
    cols += [(f"count(*) FILTER (WHERE {c})", "care", name) for c, name in definitions.CARE_GROUP_COLUMNS.items()]
    row = list(db.reader(path).sql(f"SELECT {', '.join(c for c, _, _ in cols)} FROM person WHERE area_code = $g",
                                   params={"g": g, "now": meta.data_now(path)}).fetchall()[0])
    # special groups exactly as the village's table publishes this grid's row: a cell hidden
    # there as a complement (≥ 5) must not show here, or the village table's totals give the
    # small cell it protects away
    from warehouse import population

    village = population.special_groups(Scope(person_level=False, name="published"), g[:12], path)
    mine = village.filter(pl.col("area_code") == g)
    special = list(definitions.SPECIAL_GROUP_COLUMNS)
    if mine.height == 1:
        row[:len(special)] = [mine[c][0] for c in special]
    return pl.DataFrame({"kind": [k for _, k, _ in cols], "group": [n for _, _, n in cols],
                         "count": [None if is_small(v) else v for v in row]},
                        schema={"kind": pl.Utf8, "group": pl.Utf8, "count": pl.Int64})


def staffing(scope: Scope, grid: str, path=None) -> pl.DataFrame:
    """role (grid_worker | grid_volunteer), staff, required by the 1+2 rule, met."""
    g = _grid(scope, grid)
    df = db.query("SELECT role, sum(staff_count)::INTEGER AS staff FROM grid_staff WHERE area_code = ? "
                  "GROUP BY role", [g], path)
    have = dict(zip(df["role"], df["staff"]))
    rows = [{"role": r, "staff": have.get(r, 0), "required": n}
            for r, n in (("grid_worker", RULE_WORKERS), ("grid_volunteer", RULE_VOLUNTEERS))]
    return pl.DataFrame(rows).with_columns(met=pl.col("staff") >= pl.col("required"))


def cases_by_month(scope: Scope, grid: str, start: date, end: date, path=None) -> pl.DataFrame:
    """month (first day) × category → cases reported, within [start, end)."""
    g = _grid(scope, grid)
    return db.query("""
        SELECT date_trunc('month', reported_at)::DATE AS month, category, count(*) AS cases
        FROM cases WHERE area_code = ? AND reported_at >= ? AND reported_at < ?
        GROUP BY ALL ORDER BY month, category""", [g, start, end], path)


def open_cases(scope: Scope, grid: str, path=None) -> pl.DataFrame:
    """Case-level rows: every open case of the grid, overdue first (person-level scope only)."""
    scope.require_person_level()
    g = _grid(scope, grid)
    now = meta.data_now(path)
    return db.query(f"""
        SELECT f.case_id, f.case_type, f.category, f.source_channel, f.reported_at,
               f.stage_deadline_at AS deadline_at, f.status, f.responsible_unit, c.reporter_masked,
               {definitions.sql(definitions.OPEN_OVERDUE, "$now")} AS overdue,
               CASE WHEN {definitions.sql(definitions.OPEN_OVERDUE, "$now")}
                    THEN round(date_diff('minute', f.stage_deadline_at, $now) / 60.0, 1) END AS hours_overdue
        FROM mart_case_flow f JOIN cases c USING (case_id)
        WHERE f.area_code = $g AND {definitions.OPEN.replace('status', 'f.status')}
        ORDER BY overdue DESC, f.stage_deadline_at, f.case_id""", {"g": g, "now": now}, path)


def open_counts(scope: Scope, grid: str, path=None) -> dict:
    """Open and open-overdue case counts (aggregates: fine for every scope)."""
    g = _grid(scope, grid)
    now = meta.data_now(path)
    o, od = db.reader(path).sql(f"""
        SELECT count(*), count(*) FILTER (WHERE {definitions.sql(definitions.OPEN_OVERDUE, "$now")})
        FROM mart_case_flow WHERE area_code = $g AND {definitions.OPEN}""", params={"g": g, "now": now}).fetchall()[0]
    return {"open": o, "open_overdue": od}


def posts(scope: Scope, grid: str, start: date, end: date, path=None) -> pl.DataFrame:
    """Opinion posts linked to the grid or, as posts rarely name a grid, to its village."""
    scope.require_person_level()
    g = _grid(scope, grid)
    return db.query(f"""
        SELECT published_at, platform, sentiment, topic, content, engagement, handling_status,
               area_code = ? AS linked_to_grid
        FROM opinion_post WHERE area_code IN (?, ?) AND published_at >= ? AND published_at < ?
          AND {scope.area_clause()}
        ORDER BY published_at DESC""", [g, g, g[:12], start, end], path)


def risk_drivers(scope: Scope, grid: str, period: Period, path=None) -> pl.DataFrame | None:
    """The risk module's per-driver contributions for this grid (None when it has none)."""
    g = _grid(scope, grid)
    try:
        from warehouse import risk
        df = risk.contributions(scope, period, g, path=path)
        drivers = risk.config()["drivers"]
    except (ImportError, AttributeError, KeyError):
        return None
    if df is None or df.height == 0:
        return None
    return df.with_columns(
        driver_zh=mapped(df, "driver", lambda k: drivers.get(k, {}).get("zh", k)),
        driver_en=mapped(df, "driver", lambda k: drivers.get(k, {}).get("en", k)),
    ).sort("contribution", descending=True)


@dataset("grid_profile", "网格画像: one grid (--area GRID): residents, groups (suppressed < 5), staffing, "
         "open cases, as key/value rows")
def grid_profile_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    if not area:
        raise ValueError("grid_profile needs --area with a 15-digit grid code")
    s = summary(scope, area, path=path) or {}
    rows = [("residents", s.get("residents")), ("households", s.get("households"))]
    rows += [(f"{r['kind']}:{r['group']}", r["count"]) for r in groups(scope, area, path=path).iter_rows(named=True)]
    rows += [(f"staff:{r['role']}", r["staff"]) for r in staffing(scope, area, path=path).iter_rows(named=True)]
    rows += list(open_counts(scope, area, path=path).items())
    return pl.DataFrame({"item": [k for k, _ in rows], "value": [v for _, v in rows]},
                        schema={"item": pl.Utf8, "value": pl.Int64})
