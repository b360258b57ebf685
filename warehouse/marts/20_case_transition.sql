-- mart_case_transition: directly-follows transitions of the case event log, for the case
-- closed-loop page's process view (warehouse/caseloop.py transitions()).
-- Grain: one row per pair of consecutive events of a case (event seq → seq + 1), with the
-- hours between them and the case's filter columns (area, type, category, channel, reported_at)
-- copied from mart_case_flow, so a selection's performance DFG is one filtered group-by
-- instead of a window over the whole event log. Ordered by reported_at like mart_case_flow.
-- depends on: case_event, mart_case_flow
CREATE OR REPLACE TABLE mart_case_transition AS
WITH pairs AS (
    SELECT case_id, step AS from_step,
           lead(step) OVER w AS to_step,
           (epoch_us(lead(occurred_at) OVER w) - epoch_us(occurred_at)) / 3.6e9 AS hours
    FROM case_event
    WINDOW w AS (PARTITION BY case_id ORDER BY seq)
)
SELECT f.case_id, f.area_code, f.case_type, f.category, f.source_channel, f.reported_at,
       p.from_step, p.to_step, p.hours
FROM pairs p JOIN mart_case_flow f USING (case_id)
WHERE p.to_step IS NOT NULL
ORDER BY f.reported_at;
