"""The case closed loop (事件闭环): funnel, dwell times, overdue, 三率, resolution level,
rework, satisfaction, process variants, channels, the case list and one case's timeline.

Everything is computed here, once, from `mart_case_flow` (one row per case, built from
`case_event` by warehouse/marts/20_case_flow.sql) and, for per-transition times, from
`mart_case_transition` (one row per consecutive event pair, 20_case_transition.sql). A selection is: the viewer's scope, an area (code prefix), cases
REPORTED in [start, end) (half-open, like periods.Period), and optional case types,
categories and source channels. "Now" (open, stuck, overdue) is meta.data_now().

Stage entry (one definition for funnel, dwell, status and overdue; SQL in the mart): a case
ENTERS a stage at its first event of that stage (activities are mapped to stages by the
process definition, warehouse/process.py). It counts at a stage once however often it loops,
and it has PASSED a stage when it entered that stage or any later one, so the funnel never
grows from one stage to the next (conversion <= 1, drop-off >= 0). Dwell at a stage = time
from entering it to the first later event of a higher stage; ties and out-of-order
timestamps are counted (ties, out_of_order), never turned into durations, so a dwell is
never negative. A case that entered close is closed whatever follows; otherwise it is open
at the stage it last entered (open_stage) and overdue only against that stage's deadline
(stage_deadline_at). Only completed stages count in dwell, so open cases do not drag
medians down.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from warehouse import db, meta
from warehouse import definitions as d
from warehouse.datasets import dataset
from warehouse.db import OutOfScope, Scope

STEPS = ("report", "accept", "dispatch", "handle", "verify", "close")
STATUS_OF_STEP = {"report": "reported", "accept": "accepted", "dispatch": "dispatched",
                  "handle": "handled", "verify": "verified", "close": "closed"}
REACHED_COLUMN = {"report": "reported_at", "accept": "accepted_at", "dispatch": "dispatched_at",
                  "handle": "handled_at", "verify": "verified_at", "close": "closed_at"}
# the five steps a case can dwell at, with the next main step it waits for
DWELL_STEPS = ("report", "accept", "dispatch", "handle", "verify")
NEXT_STEP = dict(zip(STEPS, STEPS[1:]))
LOCAL_TARGET = 0.95  # 小事不出村、大事不出镇: ≥ 95% resolved at town level or below
CHANNELS = ("网格员巡查", "12345", "110联动", "信访", "来访", "视频巡查", "网络")
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意")
LEVELS = ("village", "town", "county")
SORTABLE = ("reported_at", "case_type", "category", "source_channel", "town_name", "status",
            "deadline_at", "duration_h", "returned_count", "satisfaction")
MART = "mart_case_flow"
# only the masked person columns of `cases`, so the mart's columns stay unambiguous
REPORTER = "(SELECT case_id, reporter_masked, phone_masked, description FROM cases)"


def _tuple(v) -> tuple[str, ...]:
    if v is None or v == "":
        return ()
    return (v,) if isinstance(v, str) else tuple(v)


def _selection(scope: Scope, area: str | None, start, end, case_types=(), categories=(),
               channels=(), period: bool = True, table: str = "") -> tuple[str, list]:
    """WHERE clause and params for a selection (table: optional alias prefix like 'f.')."""
    where = [scope.within(area, f"{table}area_code")]
    params: list = []
    if period and start is not None:
        where.append(f"{table}reported_at >= ?")
        params.append(_ts(start))
    if period and end is not None:
        where.append(f"{table}reported_at < ?")
        params.append(_ts(end))
    for col, values in (("case_type", case_types), ("category", categories), ("source_channel", channels)):
        values = _tuple(values)
        if values:
            where.append(f"list_contains(?, {table}{col})")
            params.append(list(values))
    return " AND ".join(where), params


def _ts(v) -> datetime:
    return v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)


def _now(path) -> datetime:
    return meta.data_now(path)


# ---------------------------------------------------------------- funnel


def funnel(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
           path=None) -> pl.DataFrame:
    """One row per stage: the selection's cases that reached it (entered it or a later stage:
    furthest_stage), those that entered it themselves (entered; the rest skipped it), share
    of reported, conversion from and drop-off since the previous stage, and the selection's
    cases open at the stage now (the stage they last entered) with how many are past that
    stage's deadline and the median hours since they entered it.
    open_now_all / open_overdue_now_all: every open case at the stage now, whenever reported
    (same area and filters): the operational picture."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    where_all, params_all = _selection(scope, area, None, None, case_types, categories, channels)
    now = _now(path)
    con = db.reader(path)
    reach = ", ".join(f"count(*) FILTER (WHERE furthest_stage >= {i + 1}), count(entry_{s}_at)"
                      for i, s in enumerate(STEPS))
    row = con.sql(f"SELECT {reach} FROM {MART} WHERE {where}", params=params).fetchall()[0]
    reached, entered = row[0::2], row[1::2]

    def stuck(w: str, p: list) -> dict:
        cols = ", ".join(
            f"count(*) FILTER (WHERE open_stage = '{s}'), "
            f"count(*) FILTER (WHERE open_stage = '{s}' AND {d.sql(d.STAGE_OVERDUE)}), "
            f"median((epoch_us(?::TIMESTAMP) - epoch_us(open_since)) / 3.6e9) "
            f"FILTER (WHERE open_stage = '{s}')" for s in STEPS[:-1])
        row = con.sql(f"SELECT {cols} FROM {MART} WHERE {w} AND {d.OPEN_AT_STAGE}",
                      params=[now] * 2 * (len(STEPS) - 1) + p).fetchall()[0]
        return {s: row[3 * i:3 * i + 3] for i, s in enumerate(STEPS[:-1])} | {"close": (0, 0, None)}

    sel, every = stuck(where, params), stuck(where_all, params_all)
    rows = []
    for i, s in enumerate(STEPS):
        n, prev = reached[i], reached[i - 1] if i else None
        rows.append({
            "step": s, "reached": n, "share_of_reported": n / reached[0] if reached[0] else None,
            "conversion": (n / prev if prev else None) if i else None, "drop_off": (prev - n) if i else None,
            "stuck_now": sel[s][0], "stuck_overdue_now": sel[s][1], "stuck_median_hours": sel[s][2],
            "open_now_all": every[s][0], "open_overdue_now_all": every[s][1],
            "entered": entered[i], "skipped": n - entered[i],
        })
    return pl.DataFrame(rows, schema={"step": pl.Utf8, "reached": pl.Int64, "share_of_reported": pl.Float64,
                                      "conversion": pl.Float64, "drop_off": pl.Int64, "stuck_now": pl.Int64,
                                      "stuck_overdue_now": pl.Int64, "stuck_median_hours": pl.Float64,
                                      "open_now_all": pl.Int64, "open_overdue_now_all": pl.Int64,
                                      "entered": pl.Int64, "skipped": pl.Int64})


def summary(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
            path=None) -> dict:
    """Headline figures of the selection: cases, closed share, overdue share (OVERDUE at now),
    local resolution share (RESOLVED_LOCAL among RESOLVED) and satisfaction (SATISFIED among
    RATED); plus open_now and open_overdue_now (OPEN, STAGE_OVERDUE: past the deadline of the
    stage it is open at) over every open case in the area and filters, whenever reported."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    where_all, params_all = _selection(scope, area, None, None, case_types, categories, channels)
    now = _now(path)
    row = db.query(f"""
        SELECT count(*) AS cases, count(closed_at) / nullif(count(*), 0) AS closed_share,
               count(*) FILTER (WHERE {d.sql(d.OVERDUE)}) / nullif(count(*), 0) AS overdue_share,
               count(*) FILTER (WHERE {d.RESOLVED_LOCAL}) / nullif(count(*) FILTER (WHERE {d.RESOLVED}), 0)
                 AS local_share,
               count(*) FILTER (WHERE {d.SATISFIED}) / nullif(count(*) FILTER (WHERE {d.RATED}), 0)
                 AS satisfaction_rate
        FROM {MART} WHERE {where}""", [now, *params], path).row(0, named=True)
    open_now, open_overdue = db.reader(path).sql(
        f"SELECT count(*) FILTER (WHERE {d.OPEN}), count(*) FILTER (WHERE {d.sql(d.STAGE_OVERDUE)}) "
        f"FROM {MART} WHERE {where_all}", params=[now, *params_all]).fetchall()[0]
    return row | {"open_now": open_now, "open_overdue_now": open_overdue, "local_target": LOCAL_TARGET,
                  "as_of": now}


# ---------------------------------------------------------------- dwell and deadlines


def dwell(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
          by: str | None = "case_type", path=None) -> pl.DataFrame:
    """Median and p90 hours a case spends at each stage (from entering it to entering a
    higher one), per case type or responsible unit (by=None: one row per stage for the whole
    selection). n = completed stages measured; ties = stages left at the very moment they
    were entered and out_of_order = stages whose next stage carries an earlier timestamp:
    both reported, neither counted as a duration, so no dwell is negative."""
    if by not in (None, "case_type", "responsible_unit"):
        raise ValueError(f"dwell by {by!r}")
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    key = f"{by}, " if by else ""
    steps = ", ".join(f"'{s}'" for s in DWELL_STEPS)
    gaps = ", ".join(f"gap_{s}_h" for s in DWELL_STEPS)
    order = f"list_position([{steps}], step){', ' + by if by else ''}"
    return db.query(f"""
        SELECT step, {key}count(h) FILTER (WHERE h > 0) AS n,
               quantile_cont(h, 0.5) FILTER (WHERE h > 0) AS median_hours,
               quantile_cont(h, 0.9) FILTER (WHERE h > 0) AS p90_hours,
               avg(h) FILTER (WHERE h > 0) AS mean_hours,
               count(*) FILTER (WHERE h = 0) AS ties, count(*) FILTER (WHERE h < 0) AS out_of_order
        FROM (SELECT {key}unnest([{steps}]) AS step, unnest([{gaps}]) AS h FROM {MART} WHERE {where})
        WHERE h IS NOT NULL
        GROUP BY {key}step ORDER BY {order}""", params, path)


def overdue_by_type(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(),
                    channels=(), path=None) -> pl.DataFrame:
    """Per case type: its deadline (限时办结), cases, overdue cases (definitions.OVERDUE at now)
    and the share over deadline, worst first."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels, table="f.")
    return db.query(f"""
        SELECT f.case_type, any_value(t.deadline_hours) AS deadline_hours, count(*) AS cases,
               count(*) FILTER (WHERE {d.sql(d.OVERDUE)}) AS overdue,
               count(*) FILTER (WHERE {d.sql(d.OVERDUE)}) / count(*) AS overdue_share
        FROM {MART} f LEFT JOIN case_type t USING (case_type)
        WHERE {where} GROUP BY f.case_type ORDER BY overdue_share DESC, cases DESC""",
                    [_now(path), _now(path), *params], path)


def overdue_open(scope: Scope, area=None, case_types=(), categories=(), channels=(), limit: int = 200,
                 path=None) -> pl.DataFrame:
    """Cases open now and past the deadline of the stage they are open at (STAGE_OVERDUE),
    whenever reported,
    oldest first. Case-level: needs a person-level scope; the reporter is masked."""
    scope.require_person_level()
    now = _now(path)
    where, params = _selection(scope, area, None, None, case_types, categories, channels, table="f.")
    return db.query(f"""
        SELECT f.case_id, f.case_type, a.name AS town_name, f.area_code, f.source_channel,
               f.reported_at, f.deadline_at, f.status, f.open_stage, f.responsible_unit,
               (epoch_us(?::TIMESTAMP) - epoch_us(f.stage_deadline_at)) / 3.6e9 AS hours_over,
               c.reporter_masked
        FROM {MART} f JOIN {REPORTER} c USING (case_id) LEFT JOIN area a ON a.code = f.town_code
        WHERE {where} AND {d.sql(d.STAGE_OVERDUE)}
        ORDER BY f.reported_at, f.case_id LIMIT {int(limit)}""", [now, *params, now], path)


# ---------------------------------------------------------------- 三率, resolution, rework, satisfaction


def rates_12345(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(),
                per_town: bool = True, path=None) -> pl.DataFrame:
    """12345 三率 per town and month (month of the call): 响应率 RESPONDED_12345 among calls,
    解决率 SOLVED among closed calls with an answer, 满意率 SATISFIED among rated calls.
    per_town=False: one row per month for the whole selection (town_code NULL)."""
    where, params = _selection(scope, area, start, end, case_types, categories, ("12345",), table="f.")
    town = "f.town_code" if per_town else "NULL::VARCHAR"
    return db.query(f"""
        SELECT {town} AS town_code, any_value(a.name) AS town_name, f.month, count(*) AS calls,
               count(*) FILTER (WHERE {d.RESPONDED_12345}) / count(*) AS response_rate,
               count(*) FILTER (WHERE f.closed_at IS NOT NULL AND {d.SOLVED})
                 / nullif(count(*) FILTER (WHERE f.closed_at IS NOT NULL AND citizen_resolved IS NOT NULL), 0)
                 AS solve_rate,
               count(*) FILTER (WHERE {d.SATISFIED}) / nullif(count(*) FILTER (WHERE {d.RATED}), 0)
                 AS satisfaction_rate
        FROM {MART} f LEFT JOIN area a ON a.code = f.town_code
        WHERE {where} GROUP BY ALL ORDER BY f.month, town_code""", params, path
                    ).with_columns(pl.col("town_name") if per_town else pl.lit(None, pl.Utf8).alias("town_name"))


def resolution(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
               path=None) -> pl.DataFrame:
    """Where handled cases were resolved, per town plus a total row (town_code NULL): cases
    at village / town / county level, the local share (RESOLVED_LOCAL among RESOLVED) and
    whether it meets the 95% target."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels, table="f.")
    levels = ", ".join(f"count(*) FILTER (WHERE resolved_level = '{lv}') AS {lv}" for lv in LEVELS)
    df = db.query(f"""
        SELECT f.town_code, CASE WHEN grouping(f.town_code) = 0 THEN any_value(a.name) END AS town_name,
               count(*) AS resolved, {levels},
               count(*) FILTER (WHERE {d.RESOLVED_LOCAL}) / count(*) AS local_share
        FROM {MART} f LEFT JOIN area a ON a.code = f.town_code
        WHERE {where} AND {d.RESOLVED}
        GROUP BY GROUPING SETS ((f.town_code), ()) ORDER BY f.town_code NULLS LAST""", params, path)
    return df.with_columns((pl.col("local_share") >= LOCAL_TARGET).alias("meets_target"),
                           pl.lit(LOCAL_TARGET).alias("target"))


def rework(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
           path=None) -> pl.DataFrame:
    """Returns (退回重办) and escalations per case type plus a total row (case_type NULL).
    return_rate = cases returned at least once / cases handled; escalation_rate = escalated
    cases / cases dispatched."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    return db.query(f"""
        SELECT case_type, count(*) AS cases, count(handled_at) AS handled,
               count(*) FILTER (WHERE returned_count > 0) AS returned,
               sum(returned_count)::BIGINT AS returns,
               count(*) FILTER (WHERE returned_count > 0) / nullif(count(handled_at), 0) AS return_rate,
               count(dispatched_at) AS dispatched,
               count(*) FILTER (WHERE escalated) AS escalated,
               count(*) FILTER (WHERE escalated) / nullif(count(dispatched_at), 0) AS escalation_rate
        FROM {MART} WHERE {where}
        GROUP BY GROUPING SETS ((case_type), ()) ORDER BY case_type NULLS FIRST""", params, path)


def satisfaction_mix(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(),
                     channels=(), path=None) -> pl.DataFrame:
    """Rated cases of the selection by satisfaction level, with shares (all three levels)."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    df = db.query(f"SELECT satisfaction, count(*) AS cases FROM {MART} WHERE {where} AND {d.RATED} "
                  "GROUP BY satisfaction", params, path)
    counts = dict(zip(df["satisfaction"], df["cases"]))
    total = sum(counts.values())
    return pl.DataFrame({"satisfaction": list(SATISFACTION_LEVELS),
                         "cases": [counts.get(s, 0) for s in SATISFACTION_LEVELS],
                         "share": [counts.get(s, 0) / total if total else None for s in SATISFACTION_LEVELS]},
                        schema={"satisfaction": pl.Utf8, "cases": pl.Int64, "share": pl.Float64})


# ---------------------------------------------------------------- process mining


LEVELS_OF_DETAIL = ("stage", "activity")


def _level(level: str) -> str:
    if level not in LEVELS_OF_DETAIL:
        raise ValueError(f"level must be one of {', '.join(LEVELS_OF_DETAIL)}, not {level!r}")
    return level


def variants(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
             limit: int | None = None, level: str = "stage", path=None) -> pl.DataFrame:
    """Process variants: one row per distinct sequence of a case's events in log order,
    joined by '>', with its cases, share of the selection and the mean and median case
    duration in hours (first to last event), most frequent first. Open cases count with the
    path they have taken so far. level='stage': each event as its stage or side event
    (returns and escalations are steps of their own; unmapped activities left out);
    level='activity': the county's own activity names, every event."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    lim = f"LIMIT {int(limit)}" if limit else ""
    source = MART
    if _level(level) == "activity":
        source = f"""(SELECT f.*, a.activity_variant AS variant_a FROM {MART} f JOIN (
                        SELECT case_id, string_agg(activity, '>' ORDER BY seq) AS activity_variant
                        FROM case_event WHERE case_id IN (SELECT case_id FROM {MART} WHERE {where})
                        GROUP BY case_id) a USING (case_id))"""
        params = params * 2
    col = "variant_a" if level == "activity" else "variant"
    return db.query(f"""
        SELECT {col} AS variant, count(*) AS cases, count(*) / sum(count(*)) OVER () AS share,
               avg(duration_h) AS mean_hours, median(duration_h) AS median_hours,
               any_value(n_events) AS steps, bool_and(status = 'closed') AS closed
        FROM {source} WHERE {where} AND {col} IS NOT NULL
        GROUP BY {col} ORDER BY cases DESC, {col} {lim}""", params, path)


def transitions(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
                level: str = "stage", path=None) -> pl.DataFrame:
    """Directly-follows transitions between consecutive events of a case (a performance
    DFG): from_step, to_step, how often, and mean / median hours between the two events.
    level='stage' reads mart_case_transition (stages and side events, unmapped activities
    left out); level='activity' pairs the county's own activity names, every event."""
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    source = "mart_case_transition"
    if _level(level) == "activity":
        source = f"""(SELECT activity AS from_step, lead(activity) OVER w AS to_step,
                             (epoch_us(lead(occurred_at) OVER w) - epoch_us(occurred_at)) / 3.6e9 AS hours
                      FROM case_event WHERE case_id IN (SELECT case_id FROM {MART} WHERE {where})
                      WINDOW w AS (PARTITION BY case_id ORDER BY seq) QUALIFY to_step IS NOT NULL)"""
        where = "TRUE"
    return db.query(f"""
        SELECT from_step, to_step, count(*) AS n, avg(hours) AS mean_hours, median(hours) AS median_hours
        FROM {source} WHERE {where}
        GROUP BY from_step, to_step ORDER BY n DESC, from_step, to_step""", params, path)


def case_durations(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(),
                   channels=(), path=None) -> pl.DataFrame:
    """Per case: duration in hours from first to last event (process-mining case duration)."""
    scope.require_person_level()
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    return db.query(f"SELECT case_id, duration_h FROM {MART} WHERE {where} ORDER BY case_id", params, path)


# ---------------------------------------------------------------- channels


def channels(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), path=None
             ) -> pl.DataFrame:
    """How each source channel's cases fare: cases and share, closed share, overdue share,
    median hours to close, satisfaction (SATISFIED among RATED), local resolution and
    return rate. Every channel appears, with zero cases if none came through it."""
    where, params = _selection(scope, area, start, end, case_types, categories)
    df = db.query(f"""
        SELECT source_channel, count(*) AS cases,
               count(closed_at) / count(*) AS closed_share,
               count(*) FILTER (WHERE {d.sql(d.OVERDUE)}) / count(*) AS overdue_share,
               median((epoch_us(closed_at) - epoch_us(reported_at)) / 3.6e9) AS median_hours_to_close,
               count(*) FILTER (WHERE {d.SATISFIED}) / nullif(count(*) FILTER (WHERE {d.RATED}), 0)
                 AS satisfaction_rate,
               count(*) FILTER (WHERE {d.RESOLVED_LOCAL}) / nullif(count(*) FILTER (WHERE {d.RESOLVED}), 0)
                 AS local_share,
               count(*) FILTER (WHERE returned_count > 0) / nullif(count(handled_at), 0) AS return_rate
        FROM {MART} WHERE {where} GROUP BY source_channel""", [_now(path), *params], path)
    total = df["cases"].sum() or 0
    base = pl.DataFrame({"source_channel": list(CHANNELS)})
    return (base.join(df, on="source_channel", how="left")
            .with_columns(pl.col("cases").fill_null(0))
            .with_columns((pl.col("cases") / total if total else pl.lit(None, pl.Float64)).alias("share"))
            .select("source_channel", "cases", "share", *[c for c in df.columns if c not in
                                                          ("source_channel", "cases")]))


# ---------------------------------------------------------------- case list and timeline

CASE_COLUMNS = """f.case_id, f.case_type, f.category, f.source_channel, a.name AS town_name, f.area_code,
       f.reported_at, f.status, f.responsible_unit, f.resolved_level, f.deadline_at,
       {overdue} AS overdue, f.duration_h, f.returned_count, f.escalated, f.satisfaction,
       c.reporter_masked"""


def _case_columns() -> str:
    return CASE_COLUMNS.format(overdue=d.sql(d.OVERDUE))


def case_count(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
               path=None) -> int:
    where, params = _selection(scope, area, start, end, case_types, categories, channels)
    return db.reader(path).sql(f"SELECT count(*) FROM {MART} WHERE {where}", params=params).fetchall()[0][0]


def case_list(scope: Scope, area=None, start=None, end=None, case_types=(), categories=(), channels=(),
              sort: str = "reported_at", descending: bool = True, offset: int = 0, limit: int | None = 50,
              path=None) -> pl.DataFrame:
    """The selection's cases, one row each, sorted and paged (limit=None: all). The reporter
    is masked; no description or phone. Case-level: needs a person-level scope."""
    scope.require_person_level()
    if sort not in SORTABLE:
        raise ValueError(f"cannot sort by {sort!r}")
    where, params = _selection(scope, area, start, end, case_types, categories, channels, table="f.")
    sort_col = sort if sort in ("town_name",) else f"f.{sort}"
    page = f"LIMIT {int(limit)} OFFSET {int(offset)}" if limit else ""
    return db.query(f"""
        SELECT {_case_columns()}
        FROM {MART} f JOIN {REPORTER} c USING (case_id) LEFT JOIN area a ON a.code = f.town_code
        WHERE {where}
        ORDER BY {sort_col} {'DESC' if descending else 'ASC'} NULLS LAST, f.case_id {page}""",
                    [_now(path), *params], path)


def case_detail(scope: Scope, case_id: str, path=None) -> dict | None:
    """One case (masked reporter and phone, with its description), or None if it does not
    exist; a case outside the scope is refused (OutOfScope), not passed off as missing."""
    scope.require_person_level()
    _check_case(scope, case_id, path)
    df = db.query(f"""
        SELECT {_case_columns()}, c.phone_masked, c.description, f.variant, f.accepted_at,
               f.dispatched_at, f.handled_at, f.verified_at, f.closed_at
        FROM {MART} f JOIN {REPORTER} c USING (case_id) LEFT JOIN area a ON a.code = f.town_code
        WHERE f.case_id = ? AND {scope.area_clause('f.area_code')}""", [_now(path), case_id], path)
    return df.row(0, named=True) if df.height else None


def _check_case(scope: Scope, case_id: str, path) -> None:
    found = db.query("SELECT area_code FROM cases WHERE case_id = ?", [case_id], path)
    if found.height and not scope.allows_area(found["area_code"][0] or ""):
        raise OutOfScope("case", scope, case_id=case_id)


def case_timeline(scope: Scope, case_id: str, path=None) -> pl.DataFrame:
    """The case's events in order (its own activity names and the stage each maps to), with
    hours since the previous event and since report."""
    scope.require_person_level()
    _check_case(scope, case_id, path)
    return db.query(f"""
        SELECT e.seq, e.activity, e.step, e.occurred_at, e.unit, e.outcome,
               (epoch_us(e.occurred_at) - epoch_us(lag(e.occurred_at) OVER w)) / 3.6e9 AS hours_since_previous,
               (epoch_us(e.occurred_at) - epoch_us(first_value(e.occurred_at) OVER w)) / 3.6e9
                 AS hours_since_report
        FROM case_event e JOIN cases c USING (case_id)
        WHERE e.case_id = ? AND {scope.area_clause('c.area_code')}
        WINDOW w AS (ORDER BY e.seq) ORDER BY e.seq""", [case_id], path)


def filter_options(scope: Scope, path=None) -> dict[str, list[str]]:
    """Values for the page's type / category / channel pickers."""
    types = db.query("SELECT case_type, category FROM case_type ORDER BY category, case_type", path=path)
    return {"case_type": types["case_type"].to_list(),
            "category": list(dict.fromkeys(types["category"].to_list())),
            "source_channel": list(CHANNELS)}


# ---------------------------------------------------------------- exportable datasets
# Dataset functions get the CLI's inclusive --to date; the functions above take a half-open end.


def _end(end: date | None) -> date | None:
    return end + timedelta(days=1) if end else None


@dataset("funnel", "事件闭环六步漏斗：到达数、转化率、流失数、当前滞留（按上报时间选取）")
def funnel_dataset(scope, area=None, start=None, end=None, path=None):
    return funnel(scope, area, start, _end(end), path=path)


@dataset("dwell", "各环节停留时长：每环节×事件类型的中位数与 P90（小时），并列与时间倒序另计")
def dwell_dataset(scope, area=None, start=None, end=None, path=None):
    return dwell(scope, area, start, _end(end), path=path).select(
        "step", "case_type", "median_hours", "p90_hours", "n", "ties", "out_of_order")


@dataset("dwell_by_unit", "各环节停留时长：每环节×责任单位的中位数与 P90（小时）")
def dwell_by_unit_dataset(scope, area=None, start=None, end=None, path=None):
    return dwell(scope, area, start, _end(end), by="responsible_unit", path=path)


@dataset("variants", "流程变体：环节序列（以 > 连接）、事件数、平均时长（小时）；--level stage|activity")
def variants_dataset(scope, area=None, start=None, end=None, path=None, level="stage"):
    return variants(scope, area, start, _end(end), level=level, path=path).select("variant", "cases", "mean_hours")


@dataset("transitions", "环节流转：相邻两步的次数与平均/中位间隔（小时）；--level stage|activity")
def transitions_dataset(scope, area=None, start=None, end=None, path=None, level="stage"):
    return transitions(scope, area, start, _end(end), level=level, path=path)


@dataset("overdue_by_type", "各事件类型超期率（限时办结）")
def overdue_by_type_dataset(scope, area=None, start=None, end=None, path=None):
    return overdue_by_type(scope, area, start, _end(end), path=path)


@dataset("overdue_open", "当前逾期未办结事件（最早上报在前，报告人脱敏）", person_level=True)
def overdue_open_dataset(scope, area=None, start=None, end=None, path=None):
    return overdue_open(scope, area, limit=100_000, path=path)


@dataset("rates_12345", "12345 三率（响应率、解决率、满意率）按镇街×月")
def rates_12345_dataset(scope, area=None, start=None, end=None, path=None):
    return rates_12345(scope, area, start, _end(end), path=path)


@dataset("resolution_level", "化解层级（村/镇/县）及镇村化解率对标 95%")
def resolution_dataset(scope, area=None, start=None, end=None, path=None):
    return resolution(scope, area, start, _end(end), path=path)


@dataset("rework", "退回重办率与提级率，按事件类型")
def rework_dataset(scope, area=None, start=None, end=None, path=None):
    return rework(scope, area, start, _end(end), path=path)


@dataset("satisfaction_mix", "满意度构成（满意/基本满意/不满意）")
def satisfaction_dataset(scope, area=None, start=None, end=None, path=None):
    return satisfaction_mix(scope, area, start, _end(end), path=path)


@dataset("channels", "来源渠道：事件数与办理情况")
def channels_dataset(scope, area=None, start=None, end=None, path=None):
    return channels(scope, area, start, _end(end), path=path)


@dataset("cases", "事件清单（报告人脱敏）", person_level=True)
def cases_dataset(scope, area=None, start=None, end=None, path=None):
    return case_list(scope, area, start, _end(end), limit=None, path=path)
