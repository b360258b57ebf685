"""Public opinion (网络舆情): volume and sentiment over time, hot topics and keywords, spike
warnings with their posts and places, handling status, and the post list.

Spike rule (one definition, used by the page, the wall and the exports): posts are rolled up
to town × topic × day. A day is abnormal when its volume, or its count of negative posts, is
far above that series' own trailing 28-day baseline: robust z = (x − median) / scale ≥ 4,
scale = max(1.4826 × MAD, √max(median, 1)) (the Poisson floor keeps quiet series from firing
on noise), with at least 5 posts that day. A series with an abnormal day in the last 14 days
is a warning; its level follows the peak z and the posts since it started (LEVELS).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from warehouse import db, meta
from warehouse.datasets import dataset
from warehouse.db import Scope
from warehouse.definitions import NEGATIVE_POST

STATUS_FLOW = ("未研判", "研判", "预警", "处置", "引导", "办结")
BASELINE_DAYS = 28
WINDOW_DAYS = 14
Z_FIRE = 4.0
MIN_POSTS = 5
# level: (minimum peak z, or minimum posts since the warning started), most severe first
LEVELS = (("红", 12.0, 100), ("橙", 8.0, 50), ("黄", 6.0, 20), ("蓝", Z_FIRE, 0))
WARNING_COLUMNS = ["topic", "area_code", "area_name", "level", "posts", "negative_share", "started_at"]
UNLOCATED = "未定位"


def _filters(scope: Scope, area: str | None, start, end) -> tuple[str, list]:
    # a county also owns the posts that name no place
    where = [scope.within(area, "area_code", unlocated=True)]
    params: list = []
    if start is not None:
        where.append("published_at >= ?")
        params.append(_ts(start))
    if end is not None:
        where.append("published_at < ?")
        params.append(_ts(end))
    return " AND ".join(where), params


def _ts(d: date | datetime) -> datetime:
    return d if isinstance(d, datetime) else datetime(d.year, d.month, d.day)


def _previous(start: date, end: date) -> tuple[date, date]:
    span = end - start
    return start - span, start


# ---------------------------------------------------------------- volume and sentiment


def summary(scope: Scope, area: str | None, start: date, end: date, path=None) -> dict:
    """Posts, negative share, mean sentiment score and located share, this period and previous."""
    out: dict = {}
    for key, (s, e) in {"now": (start, end), "prev": _previous(start, end)}.items():
        where, params = _filters(scope, area, s, e)
        posts, neg, avg, located = db.reader(path).sql(f"""
            SELECT count(*), count(*) FILTER (WHERE {NEGATIVE_POST}), avg(sentiment_score),
                   count(area_code) FROM opinion_post WHERE {where}""", params=params).fetchall()[0]
        out[key] = {"posts": posts, "negative_share": neg / posts if posts else None,
                    "avg_sentiment": avg, "located_share": located / posts if posts else None}
    return out


def trend(scope: Scope, area: str | None, start: date, end: date, by: str = "platform",
          path=None) -> pl.DataFrame:
    """One row per day and group (platform, or the child area of `area`): posts, negative
    share, mean sentiment score that day and over the 7 days ending that day (within the
    period). Posts naming no place group as 未定位."""
    where, params = _filters(scope, area, start, end)
    if by == "platform":
        group, n = "platform", 9
    elif by == "area":
        n = {6: 9, 9: 12}.get(len(area or "000000"), 12)
        group = f"coalesce(a.name, '{UNLOCATED}')"
    else:
        raise ValueError("by must be 'platform' or 'area'")
    # avg_sentiment_7d: mean score of the group's posts in the 7 days ending that day (a day's
    # few posts swing the daily mean from 0 to 1; the trend is what a reader looks for)
    return db.query(f"""
        WITH d AS (
            SELECT published_at::DATE AS day, {group} AS "group", count(*) AS posts,
                   count(*) FILTER (WHERE {NEGATIVE_POST}) AS negative,
                   sum(sentiment_score) AS score_sum, count(sentiment_score) AS scored
            FROM opinion_post p LEFT JOIN area a ON a.code = substr(p.area_code, 1, {n})
            WHERE {where} GROUP BY ALL)
        SELECT day, "group", posts, negative / posts AS negative_share, score_sum / scored AS avg_sentiment,
               sum(score_sum) OVER w / sum(scored) OVER w AS avg_sentiment_7d
        FROM d WINDOW w AS (PARTITION BY "group" ORDER BY day
                            RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW)
        ORDER BY day, "group" """, params, path)


# ---------------------------------------------------------------- topics and keywords


def hot_topics(scope: Scope, area: str | None, start: date, end: date, path=None) -> pl.DataFrame:
    """topic, posts, prev_posts, change (ratio vs previous equal-length period), negative_share."""
    where, params = _filters(scope, area, start, end)
    pwhere, pparams = _filters(scope, area, *_previous(start, end))
    return db.query(f"""
        WITH cur AS (SELECT topic, count(*) AS posts,
                            count(*) FILTER (WHERE {NEGATIVE_POST}) / count(*) AS negative_share,
                            avg(sentiment_score) AS avg_sentiment
                     FROM opinion_post WHERE {where} GROUP BY topic),
             prev AS (SELECT topic, count(*) AS prev_posts FROM opinion_post WHERE {pwhere} GROUP BY topic)
        SELECT cur.topic, posts, coalesce(prev_posts, 0) AS prev_posts,
               CASE WHEN prev_posts > 0 THEN posts / prev_posts - 1 END AS change,
               negative_share, avg_sentiment
        FROM cur LEFT JOIN prev USING (topic) ORDER BY posts DESC, topic""", params + pparams, path)


def hot_keywords(scope: Scope, area: str | None, start: date, end: date, limit: int = 20,
                 path=None) -> pl.DataFrame:
    """keyword, posts (posts carrying it), prev_posts, change: the period's top keywords."""
    where, params = _filters(scope, area, start, end)
    pwhere, pparams = _filters(scope, area, *_previous(start, end))
    words = "unnest(string_split(keywords, ' ')) AS keyword"
    return db.query(f"""
        WITH cur AS (SELECT keyword, count(*) AS posts FROM
                       (SELECT {words} FROM opinion_post WHERE {where} AND keywords <> '') GROUP BY keyword),
             prev AS (SELECT keyword, count(*) AS prev_posts FROM
                       (SELECT {words} FROM opinion_post WHERE {pwhere} AND keywords <> '') GROUP BY keyword)
        SELECT keyword, posts, coalesce(prev_posts, 0) AS prev_posts,
               CASE WHEN prev_posts > 0 THEN posts / prev_posts - 1 END AS change
        FROM cur LEFT JOIN prev USING (keyword) WHERE keyword <> ''
        ORDER BY posts DESC, keyword LIMIT {int(limit)}""", params + pparams, path)


# ---------------------------------------------------------------- spike detection


def robust_z(x: np.ndarray, baseline: np.ndarray) -> float:
    """How far x sits above its baseline: (x − median) / max(1.4826·MAD, √max(median, 1))."""
    med = float(np.median(baseline))
    mad = float(np.median(np.abs(baseline - med)))
    scale = max(1.4826 * mad, np.sqrt(max(med, 1.0)))
    return (x - med) / scale


def level_of(peak_z: float, posts: int) -> str:
    for name, z, n in LEVELS:
        if peak_z >= max(z, Z_FIRE) or (n and posts >= n and peak_z >= Z_FIRE):
            return name
    return LEVELS[-1][0]


def detect_spikes(daily: pl.DataFrame, today: date, window: int = WINDOW_DAYS,
                  baseline: int = BASELINE_DAYS) -> pl.DataFrame:
    """Warnings from daily counts (area_code, topic, day, posts, negative).

    Missing days count as zero. Returns one row per series with an abnormal day in the
    window: area_code, topic, kind (volume/negative), started_at (first abnormal day),
    last_at, peak_z, baseline_median, posts and negative since started_at, level.
    """
    days = [today - timedelta(days=i) for i in range(window + baseline - 1, -1, -1)]
    index = {d: i for i, d in enumerate(days)}
    rows = []
    for (area_code, topic), g in daily.group_by(["area_code", "topic"], maintain_order=True):
        vol = np.zeros(len(days))
        neg = np.zeros(len(days))
        for d, p, n in g.select("day", "posts", "negative").iter_rows():
            if d in index:
                vol[index[d]] += p
                neg[index[d]] += n
        hits = []
        for i in range(baseline, len(days)):
            if vol[i] < MIN_POSTS:
                continue
            zv = robust_z(vol[i], vol[i - baseline:i])
            zn = robust_z(neg[i], neg[i - baseline:i]) if neg[i] >= MIN_POSTS else 0.0
            z = max(zv, zn)
            if z >= Z_FIRE:
                hits.append((i, z, "volume" if zv >= zn else "negative"))
        if not hits:
            continue
        first, last = hits[0][0], hits[-1][0]
        peak = max(hits, key=lambda h: h[1])
        posts = int(vol[first:].sum())
        rows.append({"area_code": area_code, "topic": topic, "kind": peak[2],
                     "started_at": days[first], "last_at": days[last], "peak_z": round(peak[1], 1),
                     "baseline_median": float(np.median(vol[first - baseline:first])),
                     "posts": posts, "negative": int(neg[first:].sum()),
                     "level": level_of(peak[1], posts)})
    schema = {"area_code": pl.Utf8, "topic": pl.Utf8, "kind": pl.Utf8, "started_at": pl.Date,
              "last_at": pl.Date, "peak_z": pl.Float64, "baseline_median": pl.Float64,
              "posts": pl.Int64, "negative": pl.Int64, "level": pl.Utf8}
    return pl.DataFrame(rows, schema=schema)


def town_daily(scope: Scope, first: date, end: date, path=None) -> pl.DataFrame:
    """Posts and negative posts per town × topic × day (posts naming no place are left out)."""
    where, params = _filters(scope, None, first, end)
    return db.query(f"""
        SELECT substr(area_code, 1, 9) AS area_code, topic, published_at::DATE AS day,
               count(*) AS posts, count(*) FILTER (WHERE {NEGATIVE_POST}) AS negative
        FROM opinion_post WHERE {where} AND length(area_code) >= 9 GROUP BY ALL""", params, path)


def warnings(scope: Scope, area: str | None = None, now: datetime | None = None, path=None) -> pl.DataFrame:
    """Spike warnings for the 14 days up to the data's now, most severe first (aggregates)."""
    now = now or meta.data_now(path)
    today = now.date()
    first = today - timedelta(days=WINDOW_DAYS + BASELINE_DAYS - 1)
    scope.check_area(area)
    found = detect_spikes(town_daily(scope, first, today + timedelta(days=1), path), today)
    if area and len(area) >= 9:  # warnings are per town: a village shows its town's
        found = found.filter(pl.col("area_code") == area[:9])
    elif area:
        found = found.filter(pl.col("area_code").str.starts_with(area))
    names = db.query("SELECT code AS area_code, name AS area_name FROM area WHERE length(code) = 9", path=path)
    order = {name: i for i, (name, _, _) in enumerate(LEVELS)}
    return (found.join(names, on="area_code", how="left")
            .with_columns(negative_share=pl.col("negative") / pl.col("posts"),
                          _order=pl.col("level").replace_strict(order, return_dtype=pl.Int64))
            .sort(["_order", "posts"], descending=[False, True]).drop("_order"))


def current_warnings(scope: Scope, path=None) -> pl.DataFrame:
    """The wall's feed: topic, area_code, area_name, level, posts, negative_share, started_at."""
    return warnings(scope, path=path).select(WARNING_COLUMNS)


def warning_places(scope: Scope, topic: str, area_code: str, started_at: date, path=None) -> pl.DataFrame:
    """Where a warning's posts point: place_text, area_code, lon, lat, posts (aggregate)."""
    where, params = _filters(scope, area_code, started_at, None)
    return db.query(f"""
        SELECT place_text, area_code, any_value(lon) AS lon, any_value(lat) AS lat, count(*) AS posts,
               count(*) FILTER (WHERE {NEGATIVE_POST}) / count(*) AS negative_share
        FROM opinion_post WHERE {where} AND topic = ? AND lon IS NOT NULL
        GROUP BY place_text, area_code ORDER BY posts DESC""", params + [topic], path)


# ---------------------------------------------------------------- handling (舆情处置台账)

# (key, stage, column): the column holds when the stage was reached; the time a stage took is
# from reaching the previous one (the record's opened_at for 研判) to reaching it.
HANDLING_STAGES = (("assess", "研判", "assessed_at"), ("warn", "预警", "warned_at"),
                   ("handle", "处置", "handled_at"), ("guide", "引导", "guided_at"),
                   ("close", "办结", "closed_at"))
HANDLING_WINDOW_DAYS = 365
HANDLING_COLUMNS = {"opinion_case_id": pl.Utf8, "area_code": pl.Utf8, "area_name": pl.Utf8,
                    "topic": pl.Utf8, "level": pl.Utf8, "posts": pl.Int64, "opened_at": pl.Datetime("us"),
                    "stage": pl.Utf8, "is_open": pl.Boolean,
                    **{f"{k}_hours": pl.Float64 for k, _, _ in HANDLING_STAGES},
                    "waiting_hours": pl.Float64, "total_hours": pl.Float64}


def _hours(a: str, b: str) -> str:
    return f"date_diff('second', {a}, {b}) / 3600.0"


def handling(scope: Scope, area: str | None = None, start=None, end=None, now: datetime | None = None,
             path=None) -> pl.DataFrame:
    """One row per warned topic's handling record active in [start, end) (opened before end,
    not closed before start; default: the 365 days up to the data's now), newest first.

    <key>_hours: hours from the previous stage (opened_at for 研判) to reaching this one, NULL
    when not reached; waiting_hours: for open records, hours since the last stage reached;
    total_hours: opened to closed, or to now when still open. Aggregates only (no posts)."""
    now = now or meta.data_now(path)
    end = _ts(end) if end is not None else now
    start = _ts(start) if start is not None else end - timedelta(days=HANDLING_WINDOW_DAYS)
    # a warehouse built before the table existed (ui.firststart upgrades it) reads as empty
    if not db.has_tables(db.reader(path), "opinion_case"):
        return pl.DataFrame(schema=HANDLING_COLUMNS)
    scope.check_area(area)
    if area and len(area) >= 9 and scope.allows_area(area[:9]):
        area = area[:9]  # records are per town: a village shows its town's
    where = [scope.within(area, "c.area_code")]
    prev = "c.opened_at"
    spans = []
    for key, _, col in HANDLING_STAGES:
        spans.append(f"{_hours(prev, col)} AS {key}_hours")
        prev = col
    last = "coalesce(" + ", ".join(col for _, _, col in reversed(HANDLING_STAGES)) + ", c.opened_at)"
    return db.query(f"""
        SELECT c.opinion_case_id, c.area_code, a.name AS area_name, c.topic, c.level, c.posts::BIGINT AS posts,
               c.opened_at, c.stage, c.closed_at IS NULL AS is_open, {", ".join(spans)},
               CASE WHEN c.closed_at IS NULL THEN greatest({_hours(last, "$now")}, 0) END AS waiting_hours,
               {_hours("c.opened_at", "coalesce(c.closed_at, $now)")} AS total_hours
        FROM opinion_case c LEFT JOIN area a ON a.code = c.area_code
        WHERE {" AND ".join(where)} AND c.opened_at < $end AND coalesce(c.closed_at, $now) >= $start
        ORDER BY c.opened_at DESC, c.opinion_case_id""", {"now": now, "start": start, "end": end}, path)


def handling_stages(records: pl.DataFrame) -> pl.DataFrame:
    """Per stage: records that reached it, median and P90 hours it took them, and open records
    waiting for it now (their last stage is the one before)."""
    order = [name for _, name, _ in HANDLING_STAGES]
    rows = []
    for i, (key, name, _) in enumerate(HANDLING_STAGES):
        took = records[f"{key}_hours"].drop_nulls()
        before = "发现" if i == 0 else order[i - 1]
        waiting = records.filter(pl.col("is_open") & (pl.col("stage") == before)).height
        rows.append({"stage": name, "reached": took.len(),
                     "median_hours": took.median() if took.len() else None,
                     "p90_hours": took.quantile(0.9, "linear") if took.len() else None,
                     "waiting_now": waiting})
    return pl.DataFrame(rows, schema={"stage": pl.Utf8, "reached": pl.Int64, "median_hours": pl.Float64,
                                      "p90_hours": pl.Float64, "waiting_now": pl.Int64})


def handling_totals(records: pl.DataFrame) -> dict:
    """records, open (not 办结 yet), closed, and the median hours from opened to 办结 of the
    closed ones."""
    closed = records.filter(~pl.col("is_open"))["total_hours"]
    return {"records": records.height, "open": int(records["is_open"].sum()), "closed": closed.len(),
            "median_close_hours": closed.median() if closed.len() else None}


def handling_view(scope: Scope, area: str | None = None, start=None, end=None, path=None) -> dict:
    """Everything the page's handling tab draws, from one query: records (handling), stages
    (handling_stages), totals (handling_totals) and segments (handling_timeline)."""
    now = meta.data_now(path)
    records = handling(scope, area, start, end, now=now, path=path)
    return {"records": records, "stages": handling_stages(records), "totals": handling_totals(records),
            "segments": handling_timeline(records, now), "now": now}


def handling_summary(scope: Scope, area: str | None = None, start=None, end=None, path=None) -> pl.DataFrame:
    """handling_stages over the records of `handling` (same window)."""
    return handling_stages(handling(scope, area, start, end, path=path))


def handling_timeline(records: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Segments to draw each record as a bar: opinion_case_id, stage (the stage being worked
    towards), start, finish, hours, running (the open record's current wait, up to now)."""
    rows = []
    for r in records.iter_rows(named=True):
        t = r["opened_at"]
        for key, name, _ in HANDLING_STAGES:
            h = r[f"{key}_hours"]
            if h is None:
                if r["is_open"]:
                    rows.append({"opinion_case_id": r["opinion_case_id"], "stage": name, "start": t,
                                 "finish": t + timedelta(hours=r["waiting_hours"]),
                                 "hours": r["waiting_hours"], "running": True})
                break
            finish = t + timedelta(hours=h)
            rows.append({"opinion_case_id": r["opinion_case_id"], "stage": name, "start": t,
                         "finish": finish, "hours": h, "running": False})
            t = finish
    return pl.DataFrame(rows, schema={"opinion_case_id": pl.Utf8, "stage": pl.Utf8, "start": pl.Datetime("us"),
                                      "finish": pl.Datetime("us"), "hours": pl.Float64, "running": pl.Boolean})


def handling_segments(scope: Scope, area: str | None = None, start=None, end=None, path=None) -> pl.DataFrame:
    """handling_timeline of the records of `handling` (same window), at the data's now."""
    now = meta.data_now(path)
    return handling_timeline(handling(scope, area, start, end, now=now, path=path), now)


# ---------------------------------------------------------------- posts (person-level)


def posts(scope: Scope, area: str | None, start: date | None, end: date | None,
          platform: str | None = None, topic: str | None = None, sentiment: str | None = None,
          text: str | None = None, limit: int = 500, path=None) -> pl.DataFrame:
    """The post list, newest first. Person-level: the author appears only as a short hash."""
    scope.require_person_level()
    where, params = _filters(scope, area, start, end)
    for col, value in (("platform", platform), ("topic", topic), ("sentiment", sentiment)):
        if value:
            where += f" AND {col} = ?"
            params.append(value)
    if text:
        where += " AND contains(content, ?)"
        params.append(text)
    return db.query(f"""
        SELECT post_id, published_at, platform,
               CASE WHEN author_hash IS NULL THEN NULL ELSE left(author_hash, 6) || '…' END AS author,
               content, place_text, a.name AS area_name,
               topic, sentiment, sentiment_score, engagement, handling_status
        FROM opinion_post p LEFT JOIN area a ON a.code = p.area_code WHERE {where} ORDER BY published_at DESC LIMIT {int(limit)}""", params, path)


def platforms(scope: Scope, path=None) -> list[str]:
    return db.query("SELECT DISTINCT platform FROM opinion_post ORDER BY platform", path=path)["platform"].to_list()


# ---------------------------------------------------------------- named datasets


# Dataset functions get the CLI's inclusive --to date; the functions above take a half-open end.
def _inclusive(end: date | None) -> date | None:
    return end + timedelta(days=1) if end else None


def _period(start, end, path) -> tuple[date, date]:
    """The export window: --from .. --to (inclusive), else the last complete month."""
    if start and end:
        return start, _inclusive(end)
    p = meta.default_period("month", path)
    return start or p.start, _inclusive(end) or p.end


@dataset("opinion_daily", "Opinion posts per day and platform: volume, negative share, mean sentiment")
def opinion_daily_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return trend(scope, area, *_period(start, end, path), by="platform", path=path)


@dataset("opinion_topics", "Opinion topics for the period with change vs the previous period")
def opinion_topics_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return hot_topics(scope, area, *_period(start, end, path), path=path)


@dataset("opinion_warnings", "Opinion spike warnings (town × topic) for the last 14 days, with level")
def opinion_warnings_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return warnings(scope, area, path=path)


@dataset("opinion_handling", "Warned opinion topics' handling records: hours each stage (研判 → 预警 → 处置 → "
                             "引导 → 办结) took, open ones flagged; the 365 days to --to (default now)")
def opinion_handling_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return handling(scope, area, start, _inclusive(end), path=path)


@dataset("opinion_handling_stages", "Median and P90 hours per handling stage of warned opinion topics, and "
                                    "records waiting at each now")
def opinion_handling_stages_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return handling_summary(scope, area, start, _inclusive(end), path=path)


@dataset("opinion_posts", "Opinion posts (author shown as a short hash only)", person_level=True)
def opinion_posts_dataset(scope: Scope, area=None, start=None, end=None, path=None) -> pl.DataFrame:
    return posts(scope, area, *_period(start, end, path), limit=100_000, path=path)
