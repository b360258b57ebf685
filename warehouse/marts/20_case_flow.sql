-- mart_case_flow: one row per case (事件), for the case closed-loop page (warehouse/caseloop.py).
-- Grain: one row per case_id. Carries the columns the page filters and groups by, the step
-- timestamps (same names as `cases`, so warehouse/definitions.py applies verbatim), the case
-- duration (first to last event, as process-mining tools measure it) and the stage-level
-- process variant (stages and side events joined by '>'; unmapped activities left out).
-- Stage entry (one definition, warehouse/caseloop.py's header explains it): a case ENTERS a
-- stage at its first event of that stage in log order (seq); entry_<stage>_at. furthest_stage
-- = the highest stage entered (1 report … 6 close; 0 none): a case that entered a later stage
-- has passed the earlier ones, so the funnel counts furthest_stage >= k and never grows.
-- gap_<stage>_h = hours from entering the stage to the first later event of a HIGHER stage
-- (entering the next stage; loops back and side events in between count as time at the
-- stage); at_<stage>_h = that gap only when positive: a tie (0) or an out-of-order pair (< 0)
-- is reported by the dwell figures, never used as a duration. Status comes from the log: a
-- case that entered close is closed whatever follows (post-close events do not reopen it);
-- otherwise it is open at the stage of its last stage event (open_stage), since open_since
-- (when it last entered that stage). stage_deadline_at: the deadline that stage is held to:
-- the case's 限时办结 deadline at report … handle, none at verify (handling is done).
-- Pre-computing these makes p50/p90 and variants over a selection one scan of this table
-- instead of a window over the whole event log. Ordered by reported_at so period filters
-- skip row groups.
-- How (for load speed: an ordered string_agg over every event took ~7 s at city scale):
-- each event's step becomes a 4-bit code put at nibble `seq` of a HUGEINT, so one
-- order-free bit_or per case encodes the whole step sequence (gaps in seq leave empty
-- nibbles, skipped); only the few distinct codes are decoded to 'report>accept>…'. A case
-- whose code does not account for all its events (seq outside 1..31, two events with one
-- seq, a step outside the list) takes the old ordered string_agg instead, so the variant
-- is always exactly the steps joined in seq order.
-- depends on: cases, case_event
CREATE OR REPLACE TABLE mart_case_flow AS
WITH ev AS (
    SELECT case_id,
           bit_or(CASE WHEN seq BETWEEN 1 AND 31
                       THEN list_position(['report', 'accept', 'dispatch', 'handle', 'verify', 'close',
                                           'return', 'escalate', 'delay', 'supervise', 'cancel', 'other'], step)::HUGEINT << (4 * (seq - 1)) END) AS steps_code,
           count(*)::INTEGER AS n_events,
           min(occurred_at) AS first_at,
           max(occurred_at) AS last_at
    FROM case_event
    GROUP BY case_id
),
decoded AS (  -- one row per distinct step sequence: its non-empty nibbles, in seq order
    SELECT steps_code,
           list_filter([((steps_code >> (4 * i)) & 15)::INTEGER for i in range(31)], lambda x: x > 0) AS codes
    FROM (SELECT DISTINCT steps_code FROM ev)
),
fast AS (
    SELECT ev.*,
           CASE WHEN len(d.codes) = ev.n_events  -- every event is in the code
                THEN array_to_string([['report', 'accept', 'dispatch', 'handle', 'verify', 'close', 'return',
                                       'escalate', 'delay', 'supervise', 'cancel', 'other'][x] for x in d.codes], '>') END AS variant
    FROM ev LEFT JOIN decoded d USING (steps_code)
),
st AS (  -- stage events with, per event, the time of the first later event of a higher stage
    SELECT case_id, seq, occurred_at, k, lag(k) OVER w IS DISTINCT FROM k AS is_entry,
           [first_value(CASE WHEN k > 1 THEN occurred_at END IGNORE NULLS) OVER later,
            first_value(CASE WHEN k > 2 THEN occurred_at END IGNORE NULLS) OVER later,
            first_value(CASE WHEN k > 3 THEN occurred_at END IGNORE NULLS) OVER later,
            first_value(CASE WHEN k > 4 THEN occurred_at END IGNORE NULLS) OVER later,
            first_value(CASE WHEN k > 5 THEN occurred_at END IGNORE NULLS) OVER later][k] AS next_at
    FROM (SELECT case_id, seq, occurred_at,
                 list_position(['report', 'accept', 'dispatch', 'handle', 'verify', 'close'], step) AS k
          FROM case_event WHERE step IN ('report', 'accept', 'dispatch', 'handle', 'verify', 'close'))
    WINDOW w AS (PARTITION BY case_id ORDER BY seq),
           later AS (PARTITION BY case_id ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
),
stage AS (
    SELECT case_id, max(k) AS furthest_stage,
           arg_min(occurred_at, seq) FILTER (WHERE k = 1) AS entry_report_at,
           arg_min(occurred_at, seq) FILTER (WHERE k = 2) AS entry_accept_at,
           arg_min(occurred_at, seq) FILTER (WHERE k = 3) AS entry_dispatch_at,
           arg_min(occurred_at, seq) FILTER (WHERE k = 4) AS entry_handle_at,
           arg_min(occurred_at, seq) FILTER (WHERE k = 5) AS entry_verify_at,
           arg_min(occurred_at, seq) FILTER (WHERE k = 6) AS entry_close_at,
           arg_min(next_at, seq) FILTER (WHERE k = 1) AS next_report_at,
           arg_min(next_at, seq) FILTER (WHERE k = 2) AS next_accept_at,
           arg_min(next_at, seq) FILTER (WHERE k = 3) AS next_dispatch_at,
           arg_min(next_at, seq) FILTER (WHERE k = 4) AS next_handle_at,
           arg_min(next_at, seq) FILTER (WHERE k = 5) AS next_verify_at,
           arg_max(k, seq) AS last_k,
           arg_max(occurred_at, seq) FILTER (WHERE is_entry) AS last_entry_at
    FROM st GROUP BY case_id
),
gaps AS (
    SELECT *,
           (epoch_us(next_report_at) - epoch_us(entry_report_at)) / 3.6e9 AS gap_report_h,
           (epoch_us(next_accept_at) - epoch_us(entry_accept_at)) / 3.6e9 AS gap_accept_h,
           (epoch_us(next_dispatch_at) - epoch_us(entry_dispatch_at)) / 3.6e9 AS gap_dispatch_h,
           (epoch_us(next_handle_at) - epoch_us(entry_handle_at)) / 3.6e9 AS gap_handle_h,
           (epoch_us(next_verify_at) - epoch_us(entry_verify_at)) / 3.6e9 AS gap_verify_h,
           CASE WHEN entry_close_at IS NULL
                THEN ['report', 'accept', 'dispatch', 'handle', 'verify'][last_k] END AS open_stage
    FROM stage
),
slow AS (  -- the rare cases the code cannot hold (none in the demo): the ordered aggregate
    SELECT case_id, string_agg(step, '>' ORDER BY seq) AS variant
    FROM case_event
    WHERE case_id IN (SELECT case_id FROM fast WHERE variant IS NULL)
    GROUP BY case_id
)
SELECT c.case_id, c.area_code, left(c.area_code, 9) AS town_code,
       c.case_type, c.category, c.source_channel, c.responsible_unit, c.resolved_level,
       CASE WHEN g.case_id IS NULL THEN c.status WHEN g.entry_close_at IS NOT NULL THEN 'closed'
            ELSE ['reported', 'accepted', 'dispatched', 'handled', 'verified'][g.last_k] END AS status,
       c.reported_at, date_trunc('month', c.reported_at)::DATE AS month,
       c.accepted_at, c.dispatched_at, c.handled_at, c.verified_at, c.closed_at, c.deadline_at,
       c.returned_count, c.escalated, c.satisfaction, c.citizen_resolved,
       coalesce(g.furthest_stage, 0)::TINYINT AS furthest_stage,
       g.entry_report_at, g.entry_accept_at, g.entry_dispatch_at, g.entry_handle_at, g.entry_verify_at,
       g.entry_close_at,
       g.gap_report_h, g.gap_accept_h, g.gap_dispatch_h, g.gap_handle_h, g.gap_verify_h,
       CASE WHEN g.gap_report_h > 0 THEN g.gap_report_h END AS at_report_h,
       CASE WHEN g.gap_accept_h > 0 THEN g.gap_accept_h END AS at_accept_h,
       CASE WHEN g.gap_dispatch_h > 0 THEN g.gap_dispatch_h END AS at_dispatch_h,
       CASE WHEN g.gap_handle_h > 0 THEN g.gap_handle_h END AS at_handle_h,
       CASE WHEN g.gap_verify_h > 0 THEN g.gap_verify_h END AS at_verify_h,
       o.open_stage, o.open_since,
       CASE WHEN o.open_stage IN ('report', 'accept', 'dispatch', 'handle') THEN c.deadline_at END
         AS stage_deadline_at,
       (epoch_us(f.last_at) - epoch_us(f.first_at)) / 3.6e9 AS duration_h,
       coalesce(f.variant, s.variant) AS variant,
       coalesce(f.n_events, 0) AS n_events
FROM cases c
LEFT JOIN fast f USING (case_id)
LEFT JOIN slow s USING (case_id)
LEFT JOIN gaps g USING (case_id)
-- a case without stage events (none logged yet) is open at the step its status names
CROSS JOIN LATERAL (
    SELECT CASE WHEN g.case_id IS NOT NULL THEN g.open_stage
                WHEN c.status <> 'closed' THEN ['report', 'accept', 'dispatch', 'handle', 'verify'][k] END AS open_stage,
           CASE WHEN g.case_id IS NOT NULL THEN (CASE WHEN g.open_stage IS NOT NULL THEN g.last_entry_at END)
                WHEN c.status <> 'closed' THEN [c.reported_at, c.accepted_at, c.dispatched_at, c.handled_at,
                                                 c.verified_at][k] END AS open_since
    FROM (SELECT list_position(['reported', 'accepted', 'dispatched', 'handled', 'verified'], c.status) AS k)
) o
ORDER BY c.reported_at;
