"""Headline numbers for the home page, straight from the base tables (aggregates only)."""

from __future__ import annotations

from datetime import timedelta

from warehouse import db, definitions, meta
from warehouse.db import Scope


def headline(scope: Scope, area_code: str | None = None, path=None) -> dict:
    """Residents, grids, today's cases, open and overdue-open cases, 30-day satisfaction.

    'Today' and 'open now' use the data's own clock (meta.data_now).
    """
    now = meta.data_now(path)
    where = scope.within(area_code)
    con = db.reader(path)
    residents = con.sql(f"SELECT count(*) FROM person WHERE {where}").fetchall()[0][0]
    grids = con.sql(f"SELECT count(*) FROM area WHERE level = 'grid' AND "
                    f"{scope.within(area_code, 'code')}").fetchall()[0][0]
    today, open_, overdue, cases30, satisfied30, rated30 = con.sql(f"""
        SELECT count(*) FILTER (WHERE reported_at >= ?::DATE),
               count(*) FILTER (WHERE status <> 'closed'),
               count(*) FILTER (WHERE {definitions.sql(definitions.OPEN_OVERDUE)}),
               count(*) FILTER (WHERE reported_at >= ?),
               count(*) FILTER (WHERE closed_at >= ? AND satisfaction IN ('满意', '基本满意')),
               count(*) FILTER (WHERE closed_at >= ? AND satisfaction IS NOT NULL)
        FROM mart_case_flow WHERE {where}""",  # the one overdue rule lives on the mart
        params=[now.date(), now, now - timedelta(days=30), now - timedelta(days=30),
                now - timedelta(days=30)]).fetchall()[0]
    return {"as_of": now, "residents": residents, "grids": grids, "cases_today": today,
            "cases_30d": cases30, "open": open_, "open_overdue": overdue,
            "satisfaction_30d": satisfied30 / rated30 if rated30 else None}
