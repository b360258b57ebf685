"""Facts about the warehouse itself: its data 'now', freshness per domain, schema version."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from warehouse import db
from warehouse.periods import Period, period_of

DOMAINS = ("areas", "population", "cases", "opinion", "ssra", "surveys")
STALE_AFTER_DAYS = {"areas": 365, "population": 90, "cases": 2, "opinion": 2, "ssra": 60,
                    "surveys": 120}


def data_now(path=None) -> datetime:
    """The latest moment the case log knows about: 'now' for open/overdue figures.

    Using the data's own clock keeps a demo or a restored backup consistent; on a live
    warehouse loaded daily it is within a day of the wall clock.
    """
    return data_now_of(db.reader(path))


def data_now_of(con) -> datetime:
    """data_now on an open connection (a load's private copy, before it is swapped in)."""
    v = con.sql("SELECT max(occurred_at) FROM case_event").fetchall()[0][0]
    return v or datetime.now()


def default_period(grain: str = "month", path=None) -> Period:
    """The last complete period before the data's now (a fair comparison for leaders)."""
    current = period_of(grain, data_now(path).date())
    return current.previous()


def data_range(path=None) -> tuple[date, date]:
    lo, hi = db.reader(path).sql("SELECT min(reported_at)::DATE, max(reported_at)::DATE FROM cases").fetchall()[0]
    return lo, hi


def freshness(path=None, now: datetime | None = None) -> pl.DataFrame:
    """One row per domain: latest successful load, its kind, and whether it is stale."""
    df = db.query("""
        SELECT domain, max(finished_at) AS last_loaded, arg_max(kind, finished_at) AS kind
        FROM etl_run WHERE outcome IN ('ok', 'partial') GROUP BY domain""", path=path)
    now = now or datetime.now()
    rows = []
    for d in DOMAINS:
        hit = df.filter(pl.col("domain") == d)
        last = hit["last_loaded"][0] if hit.height else None
        stale = last is None or now - last > timedelta(days=STALE_AFTER_DAYS[d])
        rows.append({"domain": d, "last_loaded": last, "kind": hit["kind"][0] if hit.height else None,
                     "stale": stale})
    return pl.DataFrame(rows, schema={"domain": pl.Utf8, "last_loaded": pl.Datetime("us"),
                                      "kind": pl.Utf8, "stale": pl.Boolean})
