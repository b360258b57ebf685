"""Keep `cases` consistent with `case_event` after a load (the log is the source of truth).

- A cases file: for the touched cases, every step time the file gives that the case's log
  lacks is appended to the log (report, accept, dispatch, handle, verify, close; returns and
  escalations only come from a log). Then step times and status are re-derived from the log.
  A case's returned_count and escalated stay as the file gave them.
- A case_events file replaces the whole log of each case it touches; then step times,
  status, returned_count and escalated are re-derived from the log.
Derivation matches the schema comment: report/accept/dispatch = first such event, handle =
last, verify/close = first; status = closed once the log holds a close (later events do not
reopen a case), else the stage of the last stage event (side events and unmapped activities
do not move a case: see warehouse/caseloop.py's stage entry).
"""

from __future__ import annotations

import polars as pl

from warehouse import process

STEP_COLUMNS = [("report", "reported_at"), ("accept", "accepted_at"), ("dispatch", "dispatched_at"),
                ("handle", "handled_at"), ("verify", "verified_at"), ("close", "closed_at")]
STATUS = "CASE WHEN d.closed THEN 'closed' ELSE CASE d.s WHEN 'report' THEN 'reported' WHEN 'accept' THEN 'accepted' WHEN 'dispatch' THEN " \
         "'dispatched' WHEN 'handle' THEN 'handled' WHEN 'verify' THEN 'verified' END END"


def append_missing_steps(con, touched: str = "_touched") -> None:
    """Add the file's step times to the logs of touched cases where the log lacks that step."""
    union = " UNION ALL ".join(
        f"SELECT c.case_id, '{step}' AS step, {i} AS k, c.{col} AS occurred_at, "
        f"{'c.responsible_unit' if step in ('dispatch', 'handle') else 'NULL'} AS unit, "
        f"{'c.satisfaction' if step == 'close' else 'NULL'} AS outcome "
        f"FROM cases c JOIN {touched} t USING (case_id) WHERE c.{col} IS NOT NULL"
        for i, (step, col) in enumerate(STEP_COLUMNS))
    con.execute(f"""
        INSERT INTO case_event (case_id, seq, step, occurred_at, unit, outcome, activity, process)
        SELECT n.case_id,
               coalesce(m.max_seq, 0) + row_number() OVER (PARTITION BY n.case_id ORDER BY n.occurred_at, n.k),
               n.step, n.occurred_at, n.unit, n.outcome, {process.default_activity_sql("n.step")},
               '{process.default().name}'
        FROM ({union}) n
        LEFT JOIN (SELECT case_id, max(seq) AS max_seq FROM case_event
                   WHERE case_id IN (SELECT case_id FROM {touched}) GROUP BY case_id) m USING (case_id)
        ANTI JOIN (SELECT DISTINCT case_id, step FROM case_event
                   WHERE case_id IN (SELECT case_id FROM {touched})) e USING (case_id, step)
    """)


def rederive(con, touched: str = "_touched", counts_too: bool = False) -> None:
    """Step times and status (and returns/escalation when counts_too) from the log."""
    extra = (", returned_count = d.returned_count, escalated = d.escalated" if counts_too else "")
    con.execute(f"""
        UPDATE cases SET reported_at = coalesce(d.reported_at, cases.reported_at),
               accepted_at = d.accepted_at, dispatched_at = d.dispatched_at, handled_at = d.handled_at,
               verified_at = d.verified_at, closed_at = d.closed_at,
               status = coalesce({STATUS}, cases.status){extra}
        FROM (
            SELECT case_id,
                   arg_min(occurred_at, seq) FILTER (WHERE step = 'report') AS reported_at,
                   arg_min(occurred_at, seq) FILTER (WHERE step = 'accept') AS accepted_at,
                   arg_min(occurred_at, seq) FILTER (WHERE step = 'dispatch') AS dispatched_at,
                   arg_max(occurred_at, seq) FILTER (WHERE step = 'handle') AS handled_at,
                   arg_min(occurred_at, seq) FILTER (WHERE step = 'verify') AS verified_at,
                   arg_min(occurred_at, seq) FILTER (WHERE step = 'close') AS closed_at,
                   count(*) FILTER (WHERE step = 'return')::INTEGER AS returned_count,
                   coalesce(bool_or(step = 'escalate'), FALSE) AS escalated,
                   coalesce(bool_or(step = 'close'), FALSE) AS closed,
                   arg_max(step, seq) FILTER (WHERE step IN ('report', 'accept', 'dispatch', 'handle', 'verify'))
                     AS s
            FROM case_event WHERE case_id IN (SELECT case_id FROM {touched})
            GROUP BY case_id
        ) d
        WHERE cases.case_id = d.case_id
    """)


def new_logs(cases: pl.DataFrame) -> pl.DataFrame:
    """The log of cases that have none yet, straight from their step columns (vectorised):
    one event per step time given, numbered in time order, rows in the cases' order.

    Validation guarantees a case's step times never decrease in step order (steps_out_of_order),
    so time order is step order: an event's seq is 1 + the steps given before it, and the
    per-step parts are merged on (case row, step) instead of sorting millions of rows."""
    base = cases.lazy().with_row_index("_row")
    seq = pl.lit(1, pl.Int32)
    parts = []
    for k, (step, col) in enumerate(STEP_COLUMNS):
        if col not in cases.columns:
            continue
        unit = pl.col("responsible_unit") if step in ("dispatch", "handle") and "responsible_unit" in cases.columns \
            else pl.lit(None, pl.Utf8)
        outcome = pl.col("satisfaction") if step == "close" and "satisfaction" in cases.columns \
            else pl.lit(None, pl.Utf8)
        parts.append(base.filter(pl.col(col).is_not_null()).select(
            (pl.col("_row").cast(pl.Int64) * len(STEP_COLUMNS) + k).alias("_order"), "case_id",
            seq.alias("seq"), pl.lit(step).alias("step"), pl.col(col).alias("occurred_at"),
            unit.alias("unit"), outcome.alias("outcome")))
        seq = seq + pl.col(col).is_not_null().cast(pl.Int32)
    events = parts[0]
    for part in parts[1:]:
        events = events.merge_sorted(part, "_order")
    return process.with_default_activity(events.drop("_order").collect())
