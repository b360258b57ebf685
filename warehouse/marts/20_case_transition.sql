-- mart_case_transition: directly-follows transitions of the case event log, for the case
-- closed-loop page's process view (warehouse/caseloop.py transitions()).
-- Grain: one row per pair of consecutive events of a case at stage level (an event and the next
-- one by seq, events of unmapped activities left out),
-- with the hours between them and the case's filter columns (area, type, category, channel,
-- reported_at) copied from mart_case_flow, so a selection's performance DFG is one filtered
-- group-by instead of a window over the whole event log. Rows follow mart_case_flow's order
-- (reported_at), so period filters skip row groups.
-- How (for load speed; the old window over string keys + join + ORDER BY of 6 M wide rows
-- took ~7 s at city scale): events are keyed by their case's row number in mart_case_flow
-- (rowid: an integer, cheap to partition and join on) and steps travel through the window
-- as 1-byte codes. A step outside the list (schema.sql's CHECK forbids one) stops the
-- build with an error rather than losing transitions: add it to the three lists. The wide columns
-- are joined last with mart_case_flow scanned in its stored order on the probe side, which
-- keeps that order without sorting the wide rows again (tests/test_case_marts_equivalence.py
-- checks the clustering).
-- depends on: case_event, mart_case_flow
CREATE OR REPLACE TABLE mart_case_transition AS
WITH coded AS (
    SELECT f.rid, e.seq, e.occurred_at,
           coalesce(list_position(['report', 'accept', 'dispatch', 'handle', 'verify', 'close', 'return', 'escalate', 'delay',
       'supervise', 'cancel', 'other'],
                                  e.step)::UTINYINT,
                    error('mart_case_transition: step outside the list in 20_case_transition.sql: ' || e.step)) AS code
    FROM case_event e
    JOIN (SELECT rowid::UINTEGER AS rid, case_id FROM mart_case_flow) f USING (case_id)
    WHERE e.step IS NOT NULL  -- stage level: an activity the process definition does not map is left out
),
pairs AS (
    SELECT rid, code AS from_code, lead(code) OVER w AS to_code,
           (epoch_us(lead(occurred_at) OVER w) - epoch_us(occurred_at)) / 3.6e9 AS hours
    FROM coded
    WINDOW w AS (PARTITION BY rid ORDER BY seq)
)
SELECT f.case_id, f.area_code, f.case_type, f.category, f.source_channel, f.reported_at,
       ['report', 'accept', 'dispatch', 'handle', 'verify', 'close', 'return', 'escalate', 'delay',
       'supervise', 'cancel', 'other'][p.from_code] AS from_step,
       ['report', 'accept', 'dispatch', 'handle', 'verify', 'close', 'return', 'escalate', 'delay',
       'supervise', 'cancel', 'other'][p.to_code] AS to_step,
       p.hours
FROM (SELECT rowid::UINTEGER AS rid, case_id, area_code, case_type, category, source_channel, reported_at
      FROM mart_case_flow) f
JOIN pairs p USING (rid)
WHERE p.to_code IS NOT NULL;
