-- Operator load summed ~12,000 daily rows for a 30-day range (600 operators), 5–8 ms of its
-- statement. Whole local weeks and months per operator, like the machines' roll-up, cut that
-- to a few thousand: the daily rows serve only a range's edge days. Keyed by the bucket's
-- first local date (the server tiles ranges into dates).
CREATE MATERIALIZED VIEW mv_operator_workload_rollup AS
SELECT g.grain, v.operator_id, v.department_id,
       CASE g.grain WHEN 'week' THEN date_trunc('week', v.day::timestamp)::date
                    ELSE date_trunc('month', v.day::timestamp)::date END AS bucket_day,
       sum(v.assigned_s)::float8 AS assigned_s
FROM mv_daily_operator_workload v CROSS JOIN (VALUES ('week'), ('month')) g (grain)
GROUP BY 1, 2, 3, 4;

CREATE UNIQUE INDEX mv_operator_workload_rollup_key
    ON mv_operator_workload_rollup (grain, bucket_day, operator_id);

-- The refresh of migration 3, with the roll-up after the daily view it sums.
CREATE OR REPLACE FUNCTION refresh_scheduling_read_models() RETURNS TABLE (
    covers_before TIMESTAMPTZ, through_event BIGINT, took_ms DOUBLE PRECISION)
LANGUAGE plpgsql
SET jit = off
AS $$
DECLARE
    t0 TIMESTAMPTZ := clock_timestamp();
    last_event BIGINT := coalesce((SELECT max(id) FROM domain_events), 0);
    tz TEXT := read_model_tz();
    -- The watermark when the refresh began: lowerings up to here are covered by this refresh.
    before_refresh TIMESTAMPTZ := (SELECT mv_covers_before FROM read_model_state);
BEGIN
    -- CONCURRENTLY needs a populated view; the first refresh of an empty one is plain.
    IF (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'mv_machine_utilization_rollup') THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_machine_utilization;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_machine_utilization_rollup;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_department_utilization_rollup;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_hourly_department_utilization;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_operator_workload;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_operator_workload_rollup;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_job_flow_metrics;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_unplanned_demand;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_open_job_constraints;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_task_waits;
    ELSE
        REFRESH MATERIALIZED VIEW mv_daily_machine_utilization;
        REFRESH MATERIALIZED VIEW mv_machine_utilization_rollup;
        REFRESH MATERIALIZED VIEW mv_department_utilization_rollup;
        REFRESH MATERIALIZED VIEW mv_hourly_department_utilization;
        REFRESH MATERIALIZED VIEW mv_daily_operator_workload;
        REFRESH MATERIALIZED VIEW mv_operator_workload_rollup;
        REFRESH MATERIALIZED VIEW mv_daily_job_flow_metrics;
        REFRESH MATERIALIZED VIEW mv_unplanned_demand;
        REFRESH MATERIALIZED VIEW mv_open_job_constraints;
        REFRESH MATERIALIZED VIEW mv_task_waits;
    END IF;
    -- Events after `last_event` may be missing from the views: one with `affects_from` keeps
    -- them untrusted from its local day on (one without changes no figure). A lowering that
    -- happened while the refresh ran is kept; one from before it is now covered.
    UPDATE read_model_state st
       SET mv_covers_before = least(
               coalesce((SELECT min(date_trunc('day', (e.payload ->> 'affects_from')::timestamptz AT TIME ZONE tz) AT TIME ZONE tz)
                         FROM domain_events e
                         WHERE e.id > last_event AND e.payload ? 'affects_from'), 'infinity'),
               CASE WHEN st.mv_covers_before < before_refresh THEN st.mv_covers_before ELSE 'infinity' END),
           refreshed_at = clock_timestamp(),
           refresh_ms = extract(epoch FROM clock_timestamp() - t0) * 1000,
           refreshed_through_event = last_event
     WHERE st.plant_tz = tz;
    RETURN QUERY SELECT st.mv_covers_before, last_event, extract(epoch FROM clock_timestamp() - t0)::float8 * 1000
                 FROM read_model_state st;
END;
$$;
