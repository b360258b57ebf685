"""信访 (petitions): weekly new vs backlog (周周清), outcomes, level reached, matter types,
repeat petitions and the key-petitioner register, from `petition` and `key_petitioner`.

Definitions (one place):
- received in a period: start <= received_at < end; the area is the petition's area_code.
- settled: an outcome was given (status in SETTLED, settled_at set); open: 办理中 / 正在化解.
- 化解率: among petitions received in the period and settled, the share 已化解, 息诉罢访 or
  三级终结 (RESOLVED) — the same words as the monthly report's 信访 section.
- weeks are ISO weeks, Monday 00:00 to the next Monday, labelled 'YYYY-Www' (ISO year).
- backlog at an instant T: received before T and not settled before T. For every week
  backlog_end = backlog_start + new − settled (settled_at >= received_at makes it exact).
- 周清率 (weekly clearance): settled in the week / (backlog at its start + new in it).
- 越级 (above the county: 赴市, 赴省, 进京), 进京非正常 (进京 and irregular) and repeat petitions: warehouse/definitions.py (BEYOND_COUNTY, BEIJING_IRREGULAR,
  REPEAT_PETITION: another petition of the same petitioner in the 365 days before).
  重复信访率 = repeat petitions / petitions with a known petitioner, received in the period.
- key petitioners (重点信访稳控人员): the register as it stands, by matter type and control
  status; counts of 1–4 are hidden like special-group figures (warehouse/suppression.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from warehouse import db, meta, suppression
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.definitions import BEIJING_IRREGULAR, BEYOND_COUNTY, REPEAT_PETITION
from warehouse.periods import during

SETTLED = ("已化解", "息诉罢访", "三级终结", "引导诉讼", "移交", "无法化解")
RESOLVED = ("已化解", "息诉罢访", "三级终结")
STATUSES = ("办理中", "正在化解", *SETTLED)
LEVELS = ("县内", "赴市", "赴省", "进京")
CONTROL = ("稳控中", "已化解", "息诉罢访", "三级终结")
WEEKS_SHOWN = 13  # a quarter of weeks up to the period's end


def _where(scope: Scope, area: str | None, start, end, alias: str = "p.") -> tuple[str, list]:
    """Scope and area on area_code, the period on received_at."""
    when, params = during(f"{alias}received_at", start, end)
    return " AND ".join([scope.within(area, f"{alias}area_code"), *when]), params


def _monday(d: date | datetime) -> date:
    d = d.date() if isinstance(d, datetime) else d
    return d - timedelta(days=d.weekday())


@dataset("petition_weekly", "信访周周清: per ISO week, backlog at start, new, settled, backlog at end, clearance")
def weekly(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
           path=None) -> pl.DataFrame:
    """One row per ISO week whose Monday falls in [start, end) (default: the WEEKS_SHOWN weeks
    up to the data's now); a week still running counts up to now."""
    end = end or (meta.data_now(path).date() + timedelta(days=1))
    start = start or (_monday(end) - timedelta(weeks=WEEKS_SHOWN - 1))
    first, stop = _monday(start), end
    if first < start:
        first += timedelta(weeks=1)
    where, params = _where(scope, area, None, None)
    return db.query(f"""
        WITH w AS (SELECT ws::TIMESTAMP AS week_start, ws::TIMESTAMP + INTERVAL 7 DAY AS week_end
                   FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 7 DAY) t(ws)),
             p AS (SELECT p.received_at, p.settled_at FROM petition p WHERE {where})
        SELECT strftime(w.week_start, '%G-W%V') AS week, w.week_start::DATE AS week_start,
               count(p.received_at) FILTER (WHERE p.received_at < w.week_start
                   AND (p.settled_at IS NULL OR p.settled_at >= w.week_start)) AS backlog_start,
               count(p.received_at) FILTER (WHERE p.received_at >= w.week_start
                   AND p.received_at < w.week_end) AS new_petitions,
               count(p.received_at) FILTER (WHERE p.settled_at >= w.week_start
                   AND p.settled_at < w.week_end) AS settled_petitions,
               count(p.received_at) FILTER (WHERE p.received_at < w.week_end
                   AND (p.settled_at IS NULL OR p.settled_at >= w.week_end)) AS backlog_end
        FROM w LEFT JOIN p ON p.received_at < w.week_end
        GROUP BY w.week_start ORDER BY w.week_start""", [first, stop, *params], path).with_columns(
        (pl.col("settled_petitions") / (pl.col("backlog_start") + pl.col("new_petitions"))).alias("clearance"))


@dataset("petition_outcomes", "信访事项 received in the period by outcome (status)")
def outcomes(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
             path=None) -> pl.DataFrame:
    where, params = _where(scope, area, start, end)
    got = db.query(f"SELECT p.status AS petition_status, count(*) AS petition_count FROM petition p "
                   f"WHERE {where} GROUP BY 1", params, path)
    return (pl.DataFrame({"petition_status": list(STATUSES)})
            .join(got, on="petition_status", how="left").with_columns(pl.col("petition_count").fill_null(0)))


@dataset("petition_levels", "信访事项 received in the period by level reached, with 非正常上访 and 集体访")
def levels(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
           path=None) -> pl.DataFrame:
    where, params = _where(scope, area, start, end)
    got = db.query(f"""
        SELECT p.level_reached, count(*) AS petition_count, count(*) FILTER (WHERE p.irregular) AS irregular_count,
               count(*) FILTER (WHERE p.collective) AS collective_count
        FROM petition p WHERE {where} GROUP BY 1""", params, path)
    return (pl.DataFrame({"level_reached": list(LEVELS)}).join(got, on="level_reached", how="left")
            .with_columns(pl.col("petition_count", "irregular_count", "collective_count").fill_null(0)))


@dataset("petition_issues", "信访事项 received in the period by matter type (征地拆迁, 劳动社保, 涉军 …)")
def issues(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
           path=None) -> pl.DataFrame:
    where, params = _where(scope, area, start, end)
    return db.query(f"""
        SELECT p.issue_type, count(*) AS petition_count,
               count(*) FILTER (WHERE p.status IN {RESOLVED}) AS resolved_count,
               count(*) FILTER (WHERE p.status IN {SETTLED}) AS settled_count
        FROM petition p WHERE {where} GROUP BY 1 ORDER BY petition_count DESC, issue_type""", params, path)


def summary(scope: Scope, area: str | None = None, start: date | None = None, end: date | None = None,
            path=None) -> dict:
    """The page's headline figures for petitions received in [start, end)."""
    where, params = _where(scope, area, start, end, alias="x.")
    row = db.reader(path).sql(f"""
        SELECT count(*) AS petitions,
               count(*) FILTER (WHERE status IN {SETTLED}) AS settled,
               count(*) FILTER (WHERE status IN {RESOLVED}) AS resolved,
               count(*) FILTER (WHERE {BEYOND_COUNTY}) AS beyond_county,
               count(*) FILTER (WHERE {BEIJING_IRREGULAR}) AS beijing_irregular,
               count(*) FILTER (WHERE collective) AS collective,
               count(petitioner_key) AS with_petitioner,
               count(*) FILTER (WHERE {REPEAT_PETITION}) AS repeats
        FROM petition x WHERE {where}""", params=params).fetchall()[0]
    n, settled, resolved, beyond, beijing, collective, known, repeats = row
    return {"petitions": n, "settled": settled, "resolved": resolved,
            "resolution_rate": resolved / settled if settled else None,
            "beyond_county": beyond, "beijing_irregular": beijing, "collective": collective,
            "repeats": repeats, "repeat_rate": repeats / known if known else None}


@dataset("key_petitioners", "重点信访稳控人员 by matter type and control status (aggregates; 1–4 hidden)")
def key_petitioners(scope: Scope, area: str | None = None, start: date | None = None,
                    end: date | None = None, path=None) -> pl.DataFrame:
    """The register as it stands (no period), suppressed like special-group figures: the
    numeric columns are null where hidden and `suppressed` names those cells."""
    return suppression.export(key_petitioner_table(scope, area, path))


def key_petitioner_table(scope: Scope, area: str | None = None, path=None) -> pl.DataFrame:
    """suppress() form (hidden flags kept) for the page: one row per matter type, one column
    per control status, with margins."""
    where = scope.within(area, "k.area_code")
    cols = ", ".join(f"count(*) FILTER (WHERE k.control_status = '{c}') AS \"{c}\"" for c in CONTROL)
    raw = db.query(f"SELECT k.issue_type, {cols} FROM key_petitioner k WHERE {where} "
                   "GROUP BY 1 ORDER BY 1", None, path)
    return suppression.suppress(raw, list(CONTROL), "issue_type")
