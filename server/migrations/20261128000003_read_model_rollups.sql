-- Read models at a million assignments. Measured on the large factory, utilization answers took
-- seconds: per-row time-zone arithmetic over a year of daily rows, a raw scan of every finished
-- run for hourly buckets, and the live computation of today and the plan ahead on every ask.
-- This migration
--   * lets the views cover every day, history and plan: after a clean refresh the watermark is
--     +infinity, an event lowers it to the first local day it touched (METRICS.md, "Freshness");
--   * stores each day's local week and month start in the daily view, so rolling days into
--     buckets needs no per-row zone conversion;
--   * adds roll-ups per machine (weeks, months) and per department (days, weeks, months), and
--     the finished runs' figures to the hourly department view;
--   * rewrites get_machine_utilization_buckets in PL/pgSQL with custom plans (its branches fold
--     away on the actual arguments) and without JIT (its row estimates are far too high for JIT
--     to pay: compiling took a second, executing under 0.1 s).

DROP FUNCTION get_machine_utilization_buckets(TIMESTAMPTZ, TIMESTAMPTZ, TEXT, BIGINT, BIGINT, BOOLEAN, BOOLEAN);
DROP FUNCTION refresh_scheduling_read_models();
DROP MATERIALIZED VIEW mv_hourly_department_utilization;
DROP MATERIALIZED VIEW mv_daily_machine_utilization;

-- What runs now, oldest first (dashboard real-time status): only started, unfinished runs.
CREATE INDEX assignments_running_since ON assignments (schedule_id, actual_start)
    INCLUDE (machine_id, task_id, scheduled_end)
    WHERE actual_start IS NOT NULL AND actual_end IS NULL;

-- A bucket list has one or a few rows per call, not the default estimate of 1000.
ALTER FUNCTION generate_time_buckets(TIMESTAMPTZ, TIMESTAMPTZ, TEXT, TEXT) ROWS 2;
ALTER FUNCTION time_bucket_pieces(TIMESTAMPTZ, TIMESTAMPTZ, TEXT, TEXT) ROWS 2;

-- ---------------------------------------------------------------------------------------------
-- Per machine and local day (unchanged figures; see migration 2), plus the day's local week and
-- month starts.
CREATE MATERIALIZED VIEW mv_daily_machine_utilization AS
WITH tz AS (SELECT read_model_tz() AS tz),
live AS (
    SELECT a.* FROM assignments a JOIN schedules s ON s.id = a.schedule_id AND s.is_live
),
pieces AS (
    SELECT a.machine_id, p.bucket_start AS day_start, p.seconds AS scheduled_s,
           0::float8 AS setup_s, 0::float8 AS actual_s, 0::float8 AS downtime_s
    FROM live a, tz, time_bucket_pieces(a.scheduled_start, a.scheduled_end, 'day', tz.tz) p
    UNION ALL
    SELECT a.machine_id, p.bucket_start, 0, p.seconds, 0, 0
    FROM live a, tz,
         time_bucket_pieces(a.scheduled_start, a.scheduled_start + make_interval(secs => a.setup_s), 'day', tz.tz) p
    WHERE a.setup_s > 0
    UNION ALL
    SELECT a.machine_id, p.bucket_start, 0, 0, p.seconds, 0
    FROM live a, tz, time_bucket_pieces(a.actual_start, a.actual_end, 'day', tz.tz) p
    WHERE a.actual_end IS NOT NULL
    UNION ALL
    SELECT d.machine_id, p.bucket_start, 0, 0, 0, p.seconds
    FROM (SELECT machine_id, unnest(range_agg(tstzrange(starts_at, ends_at))) AS r
          FROM machine_downtimes GROUP BY machine_id) d, tz,
         time_bucket_pieces(lower(d.r), upper(d.r), 'day', tz.tz) p
),
finished AS (
    SELECT a.machine_id,
           (local_day(a.actual_end, tz.tz)::timestamp AT TIME ZONE tz.tz) AS day_start,
           count(*) AS runs_finished,
           sum(extract(epoch FROM a.scheduled_end - a.scheduled_start))::float8 AS planned_s,
           sum(extract(epoch FROM a.actual_end - a.actual_start))::float8 AS actual_run_s,
           sum(greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s))::float8 AS operating_s,
           sum(coalesce(a.good_qty, 0))::bigint AS good_qty,
           sum(coalesce(a.scrap_qty, 0))::bigint AS scrap_qty,
           sum((coalesce(a.good_qty, 0) + coalesce(a.scrap_qty, 0)) * 3600.0 / m.ideal_units_per_hour)::float8 AS ideal_s,
           sum(coalesce(a.good_qty, 0) * 3600.0 / m.ideal_units_per_hour)::float8 AS ideal_good_s,
           sum(greatest(0, extract(epoch FROM a.actual_end - a.scheduled_end)))::float8 AS delay_s
    FROM live a JOIN machines m ON m.id = a.machine_id, tz
    WHERE a.actual_end IS NOT NULL
    GROUP BY 1, 2
),
busy AS (
    SELECT machine_id, day_start, sum(scheduled_s) AS scheduled_s, sum(setup_s) AS setup_s,
           sum(actual_s) AS actual_s, sum(downtime_s) AS downtime_s
    FROM pieces GROUP BY 1, 2
),
days AS (
    SELECT coalesce(b.machine_id, f.machine_id) AS machine_id,
           local_day(coalesce(b.day_start, f.day_start), (SELECT tz FROM tz)) AS day,
           coalesce(b.day_start, f.day_start) AS day_start,
           coalesce(b.scheduled_s, 0) AS scheduled_s,
           coalesce(b.setup_s, 0) AS setup_s,
           coalesce(b.actual_s, 0) AS actual_s,
           coalesce(b.downtime_s, 0) AS downtime_s,
           coalesce(f.runs_finished, 0) AS runs_finished,
           coalesce(f.planned_s, 0) AS planned_s,
           coalesce(f.actual_run_s, 0) AS actual_run_s,
           coalesce(f.operating_s, 0) AS operating_s,
           coalesce(f.good_qty, 0) AS good_qty,
           coalesce(f.scrap_qty, 0) AS scrap_qty,
           coalesce(f.ideal_s, 0) AS ideal_s,
           coalesce(f.ideal_good_s, 0) AS ideal_good_s,
           coalesce(f.delay_s, 0) AS delay_s
    FROM busy b
    FULL JOIN finished f ON f.machine_id = b.machine_id AND f.day_start = b.day_start
)
SELECT d.machine_id, m.department_id, d.day, d.day_start,
       (date_trunc('week', d.day::timestamp) AT TIME ZONE (SELECT tz FROM tz)) AS week_start,
       (date_trunc('month', d.day::timestamp) AT TIME ZONE (SELECT tz FROM tz)) AS month_start,
       d.scheduled_s, d.setup_s, d.actual_s, d.downtime_s, d.runs_finished, d.planned_s,
       d.actual_run_s, d.operating_s, d.good_qty, d.scrap_qty, d.ideal_s, d.ideal_good_s, d.delay_s
FROM days d JOIN machines m ON m.id = d.machine_id;

CREATE UNIQUE INDEX mv_daily_machine_utilization_key ON mv_daily_machine_utilization (machine_id, day);
CREATE INDEX mv_daily_machine_utilization_day ON mv_daily_machine_utilization (day_start, department_id);

-- Whole local weeks and months per machine (a year of one plant: 200 machines × 53 weeks).
CREATE MATERIALIZED VIEW mv_machine_utilization_rollup AS
SELECT g.grain, v.machine_id, v.department_id,
       CASE g.grain WHEN 'week' THEN v.week_start ELSE v.month_start END AS bucket_start,
       sum(v.scheduled_s)::float8 AS scheduled_s, sum(v.setup_s)::float8 AS setup_s,
       sum(v.actual_s)::float8 AS actual_s, sum(v.downtime_s)::float8 AS downtime_s,
       sum(v.runs_finished)::bigint AS runs_finished, sum(v.planned_s)::float8 AS planned_s,
       sum(v.actual_run_s)::float8 AS actual_run_s, sum(v.operating_s)::float8 AS operating_s,
       sum(v.good_qty)::bigint AS good_qty, sum(v.scrap_qty)::bigint AS scrap_qty,
       sum(v.ideal_s)::float8 AS ideal_s, sum(v.ideal_good_s)::float8 AS ideal_good_s,
       sum(v.delay_s)::float8 AS delay_s
FROM mv_daily_machine_utilization v CROSS JOIN (VALUES ('week'), ('month')) g (grain)
GROUP BY 1, 2, 3, 4;

CREATE UNIQUE INDEX mv_machine_utilization_rollup_key
    ON mv_machine_utilization_rollup (grain, bucket_start, machine_id);

-- Local days, weeks and months per department, over the machines in service at the refresh
-- (retiring a machine is a command whose event lowers the watermark to its first active day).
-- A day row carries its week and month so the edges of a range roll up without zone arithmetic.
CREATE MATERIALIZED VIEW mv_department_utilization_rollup AS
SELECT g.grain, v.department_id,
       CASE g.grain WHEN 'day' THEN v.day_start WHEN 'week' THEN v.week_start ELSE v.month_start END AS bucket_start,
       min(v.week_start) AS week_start, min(v.month_start) AS month_start,
       sum(v.scheduled_s)::float8 AS scheduled_s, sum(v.setup_s)::float8 AS setup_s,
       sum(v.actual_s)::float8 AS actual_s, sum(v.downtime_s)::float8 AS downtime_s,
       sum(v.runs_finished)::bigint AS runs_finished, sum(v.planned_s)::float8 AS planned_s,
       sum(v.actual_run_s)::float8 AS actual_run_s, sum(v.operating_s)::float8 AS operating_s,
       sum(v.good_qty)::bigint AS good_qty, sum(v.scrap_qty)::bigint AS scrap_qty,
       sum(v.ideal_s)::float8 AS ideal_s, sum(v.ideal_good_s)::float8 AS ideal_good_s,
       sum(v.delay_s)::float8 AS delay_s
FROM mv_daily_machine_utilization v
JOIN machines m ON m.id = v.machine_id AND m.status <> 'retired'
CROSS JOIN (VALUES ('day'), ('week'), ('month')) g (grain)
GROUP BY 1, 2, 3;

CREATE UNIQUE INDEX mv_department_utilization_rollup_key
    ON mv_department_utilization_rollup (grain, bucket_start, department_id);

-- Per department and hour: time figures as in migration 2, plus the runs that finished in the
-- hour (attributed to the hour holding their last instant), so hourly asks never scan runs.
CREATE MATERIALIZED VIEW mv_hourly_department_utilization AS
WITH tz AS (SELECT read_model_tz() AS tz),
live AS (
    SELECT a.*, m.department_id, m.ideal_units_per_hour FROM assignments a
    JOIN schedules s ON s.id = a.schedule_id AND s.is_live
    JOIN machines m ON m.id = a.machine_id AND m.status <> 'retired'
),
pieces AS (
    SELECT a.department_id, p.bucket_start AS hour_start, p.seconds AS scheduled_s,
           0::float8 AS setup_s, 0::float8 AS actual_s, 0::float8 AS downtime_s,
           0::bigint AS runs_finished, 0::float8 AS planned_s, 0::float8 AS actual_run_s,
           0::float8 AS operating_s, 0::bigint AS good_qty, 0::bigint AS scrap_qty,
           0::float8 AS ideal_s, 0::float8 AS ideal_good_s, 0::float8 AS delay_s
    FROM live a, tz, time_bucket_pieces(a.scheduled_start, a.scheduled_end, 'hour', tz.tz) p
    UNION ALL
    SELECT a.department_id, p.bucket_start, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM live a, tz,
         time_bucket_pieces(a.scheduled_start, a.scheduled_start + make_interval(secs => a.setup_s), 'hour', tz.tz) p
    WHERE a.setup_s > 0
    UNION ALL
    SELECT a.department_id, p.bucket_start, 0, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM live a, tz, time_bucket_pieces(a.actual_start, a.actual_end, 'hour', tz.tz) p
    WHERE a.actual_end IS NOT NULL
    UNION ALL
    SELECT m.department_id, p.bucket_start, 0, 0, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM (SELECT machine_id, unnest(range_agg(tstzrange(starts_at, ends_at))) AS r
          FROM machine_downtimes GROUP BY machine_id) d
    JOIN machines m ON m.id = d.machine_id AND m.status <> 'retired', tz,
         time_bucket_pieces(lower(d.r), upper(d.r), 'hour', tz.tz) p
    UNION ALL
    SELECT a.department_id, date_trunc('hour', a.actual_end - interval '1 microsecond', tz.tz),
           0, 0, 0, 0, 1,
           extract(epoch FROM a.scheduled_end - a.scheduled_start)::float8,
           extract(epoch FROM a.actual_end - a.actual_start)::float8,
           greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s)::float8,
           coalesce(a.good_qty, 0), coalesce(a.scrap_qty, 0),
           ((coalesce(a.good_qty, 0) + coalesce(a.scrap_qty, 0)) * 3600.0 / a.ideal_units_per_hour)::float8,
           (coalesce(a.good_qty, 0) * 3600.0 / a.ideal_units_per_hour)::float8,
           greatest(0, extract(epoch FROM a.actual_end - a.scheduled_end))::float8
    FROM live a, tz
    WHERE a.actual_end IS NOT NULL
)
SELECT department_id, hour_start,
       sum(scheduled_s)::float8 AS scheduled_s, sum(setup_s)::float8 AS setup_s,
       sum(actual_s)::float8 AS actual_s, sum(downtime_s)::float8 AS downtime_s,
       sum(runs_finished)::bigint AS runs_finished, sum(planned_s)::float8 AS planned_s,
       sum(actual_run_s)::float8 AS actual_run_s, sum(operating_s)::float8 AS operating_s,
       sum(good_qty)::bigint AS good_qty, sum(scrap_qty)::bigint AS scrap_qty,
       sum(ideal_s)::float8 AS ideal_s, sum(ideal_good_s)::float8 AS ideal_good_s,
       sum(delay_s)::float8 AS delay_s
FROM pieces GROUP BY 1, 2;

CREATE UNIQUE INDEX mv_hourly_department_utilization_key
    ON mv_hourly_department_utilization (hour_start, department_id);

-- Open work the live plan does not hold yet, each task at its fastest option, summed per
-- department and machine type of that option (capacity planning's unplanned demand; read
-- while nothing changed since the refresh, else computed live with the same query).
CREATE MATERIALIZED VIEW mv_unplanned_demand AS
SELECT department_id, machine_type, sum(s)::float8 AS demand_s, count(*) AS tasks
FROM (
    SELECT DISTINCT ON (t.id) m.department_id, m.machine_type, o.duration_s AS s
    FROM tasks t
    JOIN task_machine_options o ON o.task_id = t.id
    JOIN machines m ON m.id = o.machine_id AND m.status <> 'retired'
    WHERE t.status IN ('pending', 'ready')
      AND NOT EXISTS (SELECT 1 FROM assignments a JOIN schedules s ON s.id = a.schedule_id AND s.is_live
                      WHERE a.task_id = t.id)
    ORDER BY t.id, o.duration_s, m.id
) x
GROUP BY 1, 2;

CREATE UNIQUE INDEX mv_unplanned_demand_key ON mv_unplanned_demand (department_id, machine_type);

-- Open jobs with the departments their tasks run in and the sum of the minimum lags between
-- their tasks (job flow's "impact of flow constraints"; read while nothing changed since the
-- refresh, else computed live with the same joins).
CREATE MATERIALIZED VIEW mv_open_job_constraints AS
SELECT j.id AS job_id, j.due_at, array_agg(DISTINCT t.department_id) AS department_ids,
       coalesce(sum(p.min_lag_s), 0)::float8 AS lag_s
FROM jobs j
JOIN tasks t ON t.job_id = j.id
LEFT JOIN task_precedences p ON p.successor_id = t.id
WHERE j.status IN ('planned', 'released', 'in_progress')
GROUP BY j.id, j.due_at;

CREATE UNIQUE INDEX mv_open_job_constraints_key ON mv_open_job_constraints (job_id);

-- Each finished run of the live plan with its wait: from the moment it could start (job release,
-- or its latest predecessor's actual end plus lag) to its actual start (job flow's bottlenecks).
CREATE MATERIALIZED VIEW mv_task_waits AS
SELECT a.task_id, t.department_id, a.actual_start, a.actual_end,
       greatest(0, extract(epoch FROM a.actual_start - greatest(j.released_at,
           coalesce(max(pa.actual_end + make_interval(secs => p.min_lag_s)), j.released_at))))::float8 AS wait_s
FROM assignments a
JOIN schedules s ON s.id = a.schedule_id AND s.is_live
JOIN tasks t ON t.id = a.task_id
JOIN jobs j ON j.id = t.job_id
LEFT JOIN task_precedences p ON p.successor_id = a.task_id
LEFT JOIN assignments pa ON pa.task_id = p.predecessor_id AND pa.schedule_id = a.schedule_id
WHERE a.actual_end IS NOT NULL
GROUP BY a.task_id, t.department_id, a.actual_start, a.actual_end, j.released_at;

CREATE UNIQUE INDEX mv_task_waits_key ON mv_task_waits (task_id);
CREATE INDEX mv_task_waits_finished ON mv_task_waits (actual_end) INCLUDE (actual_start, department_id, wait_s);

-- ---------------------------------------------------------------------------------------------
-- Utilization per bucket. Whole buckets (days, hours) before the watermark come from the views:
-- the roll-ups for whole weeks and months, the daily rows for a range's edges; the rest (a day
-- cut by p_to, days an unrefreshed event touched) is computed live from the tables.
-- p_per_machine: one row per machine and bucket instead of one per bucket. p_use_views = false
-- computes everything from the tables (the benchmark's baseline and the tests' cross-check).
-- Ranges for day/week/month buckets must start and end at local midnights (the server rounds).
CREATE FUNCTION get_machine_utilization_buckets(
    p_from TIMESTAMPTZ, p_to TIMESTAMPTZ, p_bucket TEXT,
    p_department_id BIGINT DEFAULT NULL, p_machine_id BIGINT DEFAULT NULL,
    p_per_machine BOOLEAN DEFAULT FALSE, p_use_views BOOLEAN DEFAULT TRUE)
RETURNS TABLE (
    bucket_start TIMESTAMPTZ, bucket_end TIMESTAMPTZ, span_start TIMESTAMPTZ, span_end TIMESTAMPTZ,
    machine_id BIGINT, machines BIGINT, calendar_s DOUBLE PRECISION, downtime_s DOUBLE PRECISION,
    scheduled_s DOUBLE PRECISION, setup_s DOUBLE PRECISION, actual_s DOUBLE PRECISION,
    runs_finished BIGINT, planned_s DOUBLE PRECISION, actual_run_s DOUBLE PRECISION,
    operating_s DOUBLE PRECISION, good_qty BIGINT, scrap_qty BIGINT, ideal_s DOUBLE PRECISION,
    ideal_good_s DOUBLE PRECISION, delay_s DOUBLE PRECISION)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan
SET jit = off
AS $$
DECLARE
    v_tz TEXT;
    v_watermark TIMESTAMPTZ;
    v_schedule BIGINT;
    -- The views serve [p_from, v_views_to); live computation covers [v_views_to, p_to).
    v_views_to TIMESTAMPTZ;
    -- Whole buckets served by a roll-up: [v_whole_from, v_whole_to); other view days are edges.
    v_whole_from TIMESTAMPTZ;
    v_whole_to TIMESTAMPTZ;
    v_step INTERVAL;
    v_machine_grain BOOLEAN := p_per_machine OR p_machine_id IS NOT NULL;
BEGIN
    IF p_bucket IS NULL OR p_bucket NOT IN ('hour', 'day', 'week', 'month') THEN
        RAISE EXCEPTION 'bucket must be hour, day, week or month, not %', p_bucket
            USING ERRCODE = '22023';
    END IF;
    SELECT st.plant_tz, st.mv_covers_before INTO v_tz, v_watermark FROM read_model_state st;
    SELECT s.id INTO v_schedule FROM schedules s WHERE s.is_live;
    v_step := ('1 ' || p_bucket)::interval;

    IF NOT p_use_views OR (p_bucket = 'hour' AND v_machine_grain) THEN
        v_views_to := p_from;
    ELSIF p_bucket = 'hour' THEN
        v_views_to := greatest(p_from, least(v_watermark, date_trunc('hour', p_to, v_tz)));
    ELSE
        v_views_to := greatest(p_from, least(v_watermark,
                          date_trunc('day', p_to AT TIME ZONE v_tz) AT TIME ZONE v_tz));
    END IF;

    IF p_bucket IN ('week', 'month') AND v_views_to > p_from THEN
        v_whole_from := date_trunc(p_bucket, p_from AT TIME ZONE v_tz) AT TIME ZONE v_tz;
        IF v_whole_from < p_from THEN
            v_whole_from := (date_trunc(p_bucket, p_from AT TIME ZONE v_tz) + v_step) AT TIME ZONE v_tz;
        END IF;
        v_whole_to := greatest(v_whole_from,
                          date_trunc(p_bucket, v_views_to AT TIME ZONE v_tz) AT TIME ZONE v_tz);
    ELSIF p_bucket = 'day' AND NOT v_machine_grain THEN
        -- Department days are whole buckets of the department roll-up.
        v_whole_from := p_from;
        v_whole_to := v_views_to;
    ELSE
        v_whole_from := p_from;
        v_whole_to := p_from;
    END IF;

    RETURN QUERY
    WITH b AS (SELECT g.* FROM generate_time_buckets(p_from, p_to, p_bucket, v_tz) g),
    sm AS (
        SELECT m.id, m.ideal_units_per_hour FROM machines m
        WHERE m.status <> 'retired'
          AND (p_department_id IS NULL OR m.department_id = p_department_id)
          AND (p_machine_id IS NULL OR m.id = p_machine_id)
    ),
    -- Machine grain, whole weeks or months.
    m_whole AS (
        SELECT r.bucket_start, CASE WHEN p_per_machine THEN r.machine_id END AS machine_id,
               r.downtime_s, r.scheduled_s, r.setup_s, r.actual_s, r.runs_finished, r.planned_s,
               r.actual_run_s, r.operating_s, r.good_qty, r.scrap_qty, r.ideal_s, r.ideal_good_s, r.delay_s
        FROM mv_machine_utilization_rollup r
        WHERE v_machine_grain AND r.grain = p_bucket
          AND r.bucket_start >= v_whole_from AND r.bucket_start < v_whole_to
          AND (p_machine_id IS NULL OR r.machine_id = p_machine_id)
          AND (p_department_id IS NULL OR r.department_id = p_department_id)
          AND r.machine_id IN (SELECT id FROM sm)
    ),
    -- Machine grain, days (day buckets, or the edges of week and month ranges).
    m_days AS (
        SELECT CASE p_bucket WHEN 'week' THEN v.week_start WHEN 'month' THEN v.month_start
                             ELSE v.day_start END AS bucket_start,
               CASE WHEN p_per_machine THEN v.machine_id END AS machine_id,
               v.downtime_s, v.scheduled_s, v.setup_s, v.actual_s, v.runs_finished, v.planned_s,
               v.actual_run_s, v.operating_s, v.good_qty, v.scrap_qty, v.ideal_s, v.ideal_good_s, v.delay_s
        FROM mv_daily_machine_utilization v
        WHERE v_machine_grain AND p_bucket <> 'hour'
          AND v.day_start >= p_from AND v.day_start < v_views_to
          AND NOT (v.day_start >= v_whole_from AND v.day_start < v_whole_to)
          AND (p_machine_id IS NULL OR v.machine_id = p_machine_id)
          AND (p_department_id IS NULL OR v.department_id = p_department_id)
          AND v.machine_id IN (SELECT id FROM sm)
    ),
    -- Department grain (whole plant or one department), whole buckets.
    d_whole AS (
        SELECT r.bucket_start, NULL::bigint AS machine_id,
               r.downtime_s, r.scheduled_s, r.setup_s, r.actual_s, r.runs_finished, r.planned_s,
               r.actual_run_s, r.operating_s, r.good_qty, r.scrap_qty, r.ideal_s, r.ideal_good_s, r.delay_s
        FROM mv_department_utilization_rollup r
        WHERE NOT v_machine_grain AND p_bucket <> 'hour' AND r.grain = p_bucket
          AND r.bucket_start >= v_whole_from AND r.bucket_start < v_whole_to
          AND (p_department_id IS NULL OR r.department_id = p_department_id)
    ),
    -- Department grain, the edge days of week and month ranges.
    d_days AS (
        SELECT CASE p_bucket WHEN 'week' THEN r.week_start ELSE r.month_start END AS bucket_start,
               NULL::bigint AS machine_id,
               r.downtime_s, r.scheduled_s, r.setup_s, r.actual_s, r.runs_finished, r.planned_s,
               r.actual_run_s, r.operating_s, r.good_qty, r.scrap_qty, r.ideal_s, r.ideal_good_s, r.delay_s
        FROM mv_department_utilization_rollup r
        WHERE NOT v_machine_grain AND p_bucket IN ('week', 'month') AND r.grain = 'day'
          AND r.bucket_start >= p_from AND r.bucket_start < v_views_to
          AND NOT (r.bucket_start >= v_whole_from AND r.bucket_start < v_whole_to)
          AND (p_department_id IS NULL OR r.department_id = p_department_id)
    ),
    -- Department grain, hours.
    d_hours AS (
        SELECT v.hour_start AS bucket_start, NULL::bigint AS machine_id,
               v.downtime_s, v.scheduled_s, v.setup_s, v.actual_s, v.runs_finished, v.planned_s,
               v.actual_run_s, v.operating_s, v.good_qty, v.scrap_qty, v.ideal_s, v.ideal_good_s, v.delay_s
        FROM mv_hourly_department_utilization v
        WHERE NOT v_machine_grain AND p_bucket = 'hour'
          AND v.hour_start >= p_from AND v.hour_start < v_views_to
          AND (p_department_id IS NULL OR v.department_id = p_department_id)
    ),
    -- Live: everything from v_views_to to p_to, straight from the tables.
    live_sched AS (
        SELECT a.machine_id, a.scheduled_start, a.scheduled_end, a.setup_s
        FROM assignments a JOIN sm ON sm.id = a.machine_id
        WHERE v_views_to < p_to AND a.schedule_id = v_schedule
          -- The overlap test uses the no-double-booking GiST index: a narrow live window
          -- (today) reads only its own runs, not the whole plan that ends after it.
          AND tstzrange(a.scheduled_start, a.scheduled_end) && tstzrange(v_views_to, p_to)
          AND a.scheduled_end > v_views_to AND a.scheduled_start < p_to
    ),
    live_actual AS (
        SELECT a.machine_id, a.actual_start, a.actual_end, a.scheduled_start, a.scheduled_end, a.setup_s,
               a.good_qty, a.scrap_qty, sm.ideal_units_per_hour
        FROM assignments a JOIN sm ON sm.id = a.machine_id
        WHERE v_views_to < p_to AND a.schedule_id = v_schedule AND a.actual_end IS NOT NULL
          AND a.actual_end > v_views_to AND a.actual_start < p_to
    ),
    live_down AS (
        SELECT d.machine_id, unnest(range_agg(tstzrange(d.starts_at, d.ends_at))) AS r
        FROM machine_downtimes d JOIN sm ON sm.id = d.machine_id
        WHERE v_views_to < p_to AND d.ends_at > v_views_to AND d.starts_at < p_to
        GROUP BY d.machine_id
    ),
    live AS (
        SELECT p.bucket_start, CASE WHEN p_per_machine THEN a.machine_id END AS machine_id,
               0::float8 AS downtime_s, p.seconds AS scheduled_s, 0::float8 AS setup_s, 0::float8 AS actual_s,
               0::bigint AS runs_finished, 0::float8 AS planned_s, 0::float8 AS actual_run_s, 0::float8 AS operating_s,
               0::bigint AS good_qty, 0::bigint AS scrap_qty, 0::float8 AS ideal_s, 0::float8 AS ideal_good_s,
               0::float8 AS delay_s
        FROM live_sched a,
             time_bucket_pieces(greatest(a.scheduled_start, v_views_to), least(a.scheduled_end, p_to), p_bucket, v_tz) p
        UNION ALL
        SELECT p.bucket_start, CASE WHEN p_per_machine THEN a.machine_id END,
               0, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM live_sched a,
             time_bucket_pieces(greatest(a.scheduled_start, v_views_to),
                                least(a.scheduled_start + make_interval(secs => a.setup_s), p_to), p_bucket, v_tz) p
        WHERE a.setup_s > 0
        UNION ALL
        SELECT p.bucket_start, CASE WHEN p_per_machine THEN a.machine_id END,
               0, 0, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM live_actual a,
             time_bucket_pieces(greatest(a.actual_start, v_views_to), least(a.actual_end, p_to), p_bucket, v_tz) p
        UNION ALL
        SELECT CASE WHEN p_bucket = 'hour'
                    THEN date_trunc('hour', a.actual_end - interval '1 microsecond', v_tz)
                    ELSE date_trunc(p_bucket, (a.actual_end - interval '1 microsecond') AT TIME ZONE v_tz) AT TIME ZONE v_tz
               END,
               CASE WHEN p_per_machine THEN a.machine_id END,
               0, 0, 0, 0, 1,
               extract(epoch FROM a.scheduled_end - a.scheduled_start)::float8,
               extract(epoch FROM a.actual_end - a.actual_start)::float8,
               greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s)::float8,
               coalesce(a.good_qty, 0)::bigint, coalesce(a.scrap_qty, 0)::bigint,
               ((coalesce(a.good_qty, 0) + coalesce(a.scrap_qty, 0)) * 3600.0 / a.ideal_units_per_hour)::float8,
               (coalesce(a.good_qty, 0) * 3600.0 / a.ideal_units_per_hour)::float8,
               greatest(0, extract(epoch FROM a.actual_end - a.scheduled_end))::float8
        FROM live_actual a
        WHERE a.actual_end <= p_to
        UNION ALL
        SELECT p.bucket_start, CASE WHEN p_per_machine THEN d.machine_id END,
               p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM live_down d,
             time_bucket_pieces(greatest(lower(d.r), v_views_to), least(upper(d.r), p_to), p_bucket, v_tz) p
    ),
    pieces AS (
        SELECT * FROM m_whole UNION ALL SELECT * FROM m_days UNION ALL SELECT * FROM d_whole
        UNION ALL SELECT * FROM d_days UNION ALL SELECT * FROM d_hours UNION ALL SELECT * FROM live
    ),
    sums AS (
        SELECT x.bucket_start, coalesce(x.machine_id, 0) AS machine_key,
               sum(x.downtime_s) AS downtime_s, sum(x.scheduled_s) AS scheduled_s, sum(x.setup_s) AS setup_s,
               -- Counts summed as float8 (exact far beyond any plant's counts): sum(bigint)
               -- accumulates in numeric, which made this aggregate the slowest step.
               sum(x.actual_s) AS actual_s, sum(x.runs_finished::float8)::bigint AS runs_finished,
               sum(x.planned_s) AS planned_s, sum(x.actual_run_s) AS actual_run_s,
               sum(x.operating_s) AS operating_s, sum(x.good_qty::float8)::bigint AS good_qty,
               sum(x.scrap_qty::float8)::bigint AS scrap_qty, sum(x.ideal_s) AS ideal_s,
               sum(x.ideal_good_s) AS ideal_good_s, sum(x.delay_s) AS delay_s
        FROM pieces x GROUP BY 1, 2
    ),
    keys AS (
        SELECT b.*, k.machine_id FROM b
        CROSS JOIN (SELECT sm.id AS machine_id FROM sm WHERE p_per_machine
                    UNION ALL SELECT NULL::bigint WHERE NOT p_per_machine) k
    ),
    n AS (SELECT CASE WHEN p_per_machine THEN 1 ELSE (SELECT count(*) FROM sm) END AS machines)
    SELECT k.bucket_start, k.bucket_end, k.span_start, k.span_end, k.machine_id,
           n.machines,
           n.machines * extract(epoch FROM k.span_end - k.span_start)::float8,
           coalesce(s.downtime_s, 0)::float8, coalesce(s.scheduled_s, 0)::float8, coalesce(s.setup_s, 0)::float8,
           coalesce(s.actual_s, 0)::float8, coalesce(s.runs_finished, 0)::bigint, coalesce(s.planned_s, 0)::float8,
           coalesce(s.actual_run_s, 0)::float8, coalesce(s.operating_s, 0)::float8, coalesce(s.good_qty, 0)::bigint,
           coalesce(s.scrap_qty, 0)::bigint, coalesce(s.ideal_s, 0)::float8, coalesce(s.ideal_good_s, 0)::float8,
           coalesce(s.delay_s, 0)::float8
    FROM keys k CROSS JOIN n
    LEFT JOIN sums s ON s.bucket_start = k.bucket_start AND s.machine_key = coalesce(k.machine_id, 0)
    ORDER BY k.machine_id NULLS FIRST, k.bucket_start;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Refresh: every view concurrently (readers never block; roll-ups after the daily view they
-- sum), then raise the watermark to +infinity — the views now hold every day, history and plan
-- — unless an event arrived meanwhile: then it stays at the first day such an event touched
-- (the listener lowered it already) and a next refresh follows.
CREATE FUNCTION refresh_scheduling_read_models() RETURNS TABLE (
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
