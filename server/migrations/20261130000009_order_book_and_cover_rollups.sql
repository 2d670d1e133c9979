-- The dashboard counted the open order book (15,000 open jobs through an index, 1.8 ms) and
-- the window's completed jobs (4,000 rows of the job-flow view, 1.0 ms) on every ask. Both
-- now come from small roll-ups; department 0 stands for the whole plant (department ids start
-- at 1), since a job belongs to every department its tasks run in.

-- Completed jobs per local completion day and department: whole days of a window; the day the
-- watermark or the window's end cuts still reads the job-flow rows.
CREATE MATERIALIZED VIEW mv_daily_job_completions AS
SELECT 0::bigint AS department_id, v.day, count(*)::bigint AS jobs,
       count(*) FILTER (WHERE v.on_time)::bigint AS on_time
FROM mv_daily_job_flow_metrics v
GROUP BY v.day
UNION ALL
SELECT d.department_id, v.day, count(*)::bigint, count(*) FILTER (WHERE v.on_time)::bigint
FROM mv_daily_job_flow_metrics v, unnest(v.department_ids) d (department_id)
GROUP BY d.department_id, v.day;

CREATE UNIQUE INDEX mv_daily_job_completions_key
    ON mv_daily_job_completions (department_id, day, jobs, on_time);

-- Open jobs per UTC hour of their due date and department, read while nothing changed since
-- the refresh (like `mv_open_job_constraints`, whose departments it sums; the whole plant
-- also counts jobs without tasks yet): jobs due in hours that ended are late; the hour now
-- runs in is counted live.
CREATE MATERIALIZED VIEW mv_open_jobs_by_due_hour AS
SELECT 0::bigint AS department_id, date_trunc('hour', j.due_at, 'UTC') AS due_hour, count(*)::bigint AS jobs
FROM jobs j
WHERE j.status IN ('planned', 'released', 'in_progress')
GROUP BY 2
UNION ALL
SELECT d.department_id, date_trunc('hour', c.due_at, 'UTC'), count(*)::bigint
FROM mv_open_job_constraints c, unnest(c.department_ids) d (department_id)
GROUP BY 1, 2;

CREATE UNIQUE INDEX mv_open_jobs_by_due_hour_key
    ON mv_open_jobs_by_due_hour (department_id, due_hour, jobs);

-- Operator load reads ~2,300 rows of whole weeks from the operators' roll-up for a 30-day
-- range; after a concurrent refresh they lay on ~330 pages (1.3 ms). Covered, the read is an
-- index-only scan (0.45 ms).
CREATE INDEX mv_operator_workload_rollup_cover
    ON mv_operator_workload_rollup (grain, bucket_day) INCLUDE (department_id, operator_id, assigned_s);

-- The refresh of migration 7, with the two roll-ups after the views they sum.
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
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_job_completions;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_unplanned_demand;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_open_job_constraints;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_open_jobs_by_due_hour;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_task_waits;
    ELSE
        REFRESH MATERIALIZED VIEW mv_daily_machine_utilization;
        REFRESH MATERIALIZED VIEW mv_machine_utilization_rollup;
        REFRESH MATERIALIZED VIEW mv_department_utilization_rollup;
        REFRESH MATERIALIZED VIEW mv_hourly_department_utilization;
        REFRESH MATERIALIZED VIEW mv_daily_operator_workload;
        REFRESH MATERIALIZED VIEW mv_operator_workload_rollup;
        REFRESH MATERIALIZED VIEW mv_daily_job_flow_metrics;
        REFRESH MATERIALIZED VIEW mv_daily_job_completions;
        REFRESH MATERIALIZED VIEW mv_unplanned_demand;
        REFRESH MATERIALIZED VIEW mv_open_job_constraints;
        REFRESH MATERIALIZED VIEW mv_open_jobs_by_due_hour;
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
