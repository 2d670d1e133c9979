-- The query side: indexes the read models use, materialized views of closed days, SQL
-- functions for time buckets and utilization, the refresh machinery and monitoring views.
-- Definitions of every figure: docs/METRICS.md.
--
-- Freshness model. The materialized views hold whole *closed* local days. A watermark
-- (`read_model_state.mv_covers_before`, a local midnight) says up to where they may be trusted;
-- everything from the watermark on (today and the plan ahead) is computed live from the tables.
-- A domain event that touches history lowers the watermark at once (reads go live for those
-- days) and asks for a debounced refresh, which raises it again. So an answer is never staler
-- than the event stream, however long a refresh takes.

-- ---------------------------------------------------------------------------------------------
-- State of the read side: the plant time zone the views were built in, and the watermark.
CREATE TABLE read_model_state (
    singleton           BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    -- IANA zone; days, weeks and months follow it (the server writes its configured zone).
    plant_tz            TEXT NOT NULL DEFAULT 'Europe/Berlin',
    -- The views cover local days strictly before this moment (a local midnight).
    mv_covers_before    TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    refreshed_at        TIMESTAMPTZ,
    refresh_ms          DOUBLE PRECISION,
    -- The last domain event the views had seen when they were refreshed.
    refreshed_through_event BIGINT NOT NULL DEFAULT 0
);
INSERT INTO read_model_state DEFAULT VALUES;

CREATE FUNCTION read_model_tz() RETURNS TEXT LANGUAGE sql STABLE AS
$$ SELECT plant_tz FROM read_model_state $$;

-- ---------------------------------------------------------------------------------------------
-- Indexes. Each names the query that needs it.

-- Live schedule by time (machine utilization live part, dashboard load ahead): the scan is
-- "ends after `from`", so the range lower bound is selective for today and the plan ahead.
-- Covering: the utilization query reads nothing else from the row.
CREATE INDEX assignments_schedule_end_cover ON assignments (schedule_id, scheduled_end)
    INCLUDE (scheduled_start, machine_id, operator_id, setup_s, task_id);
-- Per machine over time (one machine's buckets, machine detail).
CREATE INDEX assignments_machine_time ON assignments (machine_id, schedule_id, scheduled_start)
    INCLUDE (scheduled_end, setup_s);
-- Operators' load: partial, only assignments that have an operator.
CREATE INDEX assignments_operator_time ON assignments (schedule_id, operator_id, scheduled_end)
    INCLUDE (scheduled_start, setup_s)
    WHERE operator_id IS NOT NULL;
-- Finished runs by finish time (OEE, efficiency, actual utilization): partial and covering.
CREATE INDEX assignments_finished_cover ON assignments (actual_end)
    INCLUDE (actual_start, schedule_id, machine_id, scheduled_start, scheduled_end, setup_s, good_qty, scrap_qty)
    WHERE actual_end IS NOT NULL;
-- What is late: scheduled to have finished but not finished (dashboard real-time status).
CREATE INDEX assignments_unfinished_end ON assignments (schedule_id, scheduled_end)
    INCLUDE (machine_id, task_id, actual_start)
    WHERE actual_end IS NULL;
-- Open work by department and skill (skill demand).
CREATE INDEX tasks_open_department_skill ON tasks (department_id, required_skill_id)
    INCLUDE (job_id, min_skill_level)
    WHERE status IN ('pending', 'ready', 'in_progress');
-- Active resources.
CREATE INDEX machines_active_department ON machines (department_id)
    INCLUDE (ideal_units_per_hour, machine_type, code)
    WHERE status <> 'retired';
CREATE INDEX operators_active_department ON operators (department_id)
    INCLUDE (shift_pattern, contracted_hours_per_week, overtime_eligible)
    WHERE active;
-- Completed jobs by completion (job flow, on-time delivery).
CREATE INDEX jobs_completed_at ON jobs (completed_at)
    INCLUDE (released_at, due_at, quantity)
    WHERE status = 'completed';
-- Downtime now / in a window across machines (dashboard "what is down").
CREATE INDEX machine_downtimes_ends ON machine_downtimes (ends_at) INCLUDE (starts_at, machine_id, kind);
CREATE INDEX operator_absences_ends ON operator_absences (ends_at) INCLUDE (starts_at, operator_id);
-- Events by department since an id (invalidation replay).
CREATE INDEX domain_events_department ON domain_events (department_id, id);

-- ---------------------------------------------------------------------------------------------
-- Time buckets in the plant's zone.

-- The buckets (hour, day, week (ISO, Monday), month) that overlap [p_from, p_to), in local time
-- of p_tz. bucket_start/bucket_end are the whole bucket; span_start/span_end the part inside the
-- range. Days, weeks and months step in local wall time (a DST day lasts 23 or 25 hours); hours
-- step in absolute time, so the repeated hour of a fall-back night is two buckets.
CREATE FUNCTION generate_time_buckets(
    p_from TIMESTAMPTZ, p_to TIMESTAMPTZ, p_bucket TEXT, p_tz TEXT DEFAULT NULL)
RETURNS TABLE (bucket_start TIMESTAMPTZ, bucket_end TIMESTAMPTZ,
               span_start TIMESTAMPTZ, span_end TIMESTAMPTZ)
LANGUAGE sql STABLE AS $$
    SELECT b.s, b.e, greatest(b.s, p_from), least(b.e, p_to)
    FROM (
        SELECT g AS s, g + interval '1 hour' AS e
        FROM generate_series(date_trunc('hour', p_from, coalesce(p_tz, read_model_tz())),
                             p_to - interval '1 microsecond', interval '1 hour') g
        WHERE p_bucket = 'hour'
        UNION ALL
        SELECT g AT TIME ZONE coalesce(p_tz, read_model_tz()),
               (g + ('1 ' || p_bucket)::interval) AT TIME ZONE coalesce(p_tz, read_model_tz())
        FROM generate_series(date_trunc(p_bucket, p_from AT TIME ZONE coalesce(p_tz, read_model_tz())),
                             (p_to - interval '1 microsecond') AT TIME ZONE coalesce(p_tz, read_model_tz()),
                             ('1 ' || p_bucket)::interval) g
        WHERE p_bucket IN ('day', 'week', 'month')
    ) b
    WHERE p_to > p_from
$$;

-- The seconds of [p_start, p_end) that fall into each bucket (key: the bucket's start).
CREATE FUNCTION time_bucket_pieces(
    p_start TIMESTAMPTZ, p_end TIMESTAMPTZ, p_bucket TEXT, p_tz TEXT)
RETURNS TABLE (bucket_start TIMESTAMPTZ, seconds DOUBLE PRECISION)
LANGUAGE sql STABLE AS $$
    SELECT bucket_start, extract(epoch FROM span_end - span_start)::float8
    FROM generate_time_buckets(p_start, p_end, p_bucket, p_tz)
$$;

-- The local day containing a moment, as a date.
CREATE FUNCTION local_day(p_at TIMESTAMPTZ, p_tz TEXT) RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (p_at AT TIME ZONE p_tz)::date $$;

-- ---------------------------------------------------------------------------------------------
-- Materialized views: closed history, one row per resource and local day with any activity.

-- Per machine and local day of the live schedule: scheduled, setup and actual (finished) time
-- split at local midnights, downtime as the union of overlapping windows, and the finished runs
-- (attributed to the day they finished) with their planned time, operating time, quantities,
-- the ideal time for those quantities and the delay against the plan.
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
)
SELECT coalesce(b.machine_id, f.machine_id) AS machine_id,
       m.department_id,
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
JOIN machines m ON m.id = coalesce(b.machine_id, f.machine_id);

CREATE UNIQUE INDEX mv_daily_machine_utilization_key ON mv_daily_machine_utilization (machine_id, day);
CREATE INDEX mv_daily_machine_utilization_day ON mv_daily_machine_utilization (day_start, department_id);

-- The same figures per department and hour (hourly buckets over weeks without touching
-- assignments). Kept per department, not per machine, to stay small.
CREATE MATERIALIZED VIEW mv_hourly_department_utilization AS
WITH tz AS (SELECT read_model_tz() AS tz),
live AS (
    SELECT a.*, m.department_id FROM assignments a
    JOIN schedules s ON s.id = a.schedule_id AND s.is_live
    JOIN machines m ON m.id = a.machine_id
),
pieces AS (
    SELECT a.department_id, p.bucket_start AS hour_start, p.seconds AS scheduled_s,
           0::float8 AS setup_s, 0::float8 AS actual_s, 0::float8 AS downtime_s
    FROM live a, tz, time_bucket_pieces(a.scheduled_start, a.scheduled_end, 'hour', tz.tz) p
    UNION ALL
    SELECT a.department_id, p.bucket_start, 0, p.seconds, 0, 0
    FROM live a, tz,
         time_bucket_pieces(a.scheduled_start, a.scheduled_start + make_interval(secs => a.setup_s), 'hour', tz.tz) p
    WHERE a.setup_s > 0
    UNION ALL
    SELECT a.department_id, p.bucket_start, 0, 0, p.seconds, 0
    FROM live a, tz, time_bucket_pieces(a.actual_start, a.actual_end, 'hour', tz.tz) p
    WHERE a.actual_end IS NOT NULL
    UNION ALL
    SELECT m.department_id, p.bucket_start, 0, 0, 0, p.seconds
    FROM (SELECT machine_id, unnest(range_agg(tstzrange(starts_at, ends_at))) AS r
          FROM machine_downtimes GROUP BY machine_id) d
    JOIN machines m ON m.id = d.machine_id, tz,
         time_bucket_pieces(lower(d.r), upper(d.r), 'hour', tz.tz) p
)
SELECT department_id, hour_start, sum(scheduled_s) AS scheduled_s, sum(setup_s) AS setup_s,
       sum(actual_s) AS actual_s, sum(downtime_s) AS downtime_s
FROM pieces GROUP BY 1, 2;

CREATE UNIQUE INDEX mv_hourly_department_utilization_key
    ON mv_hourly_department_utilization (hour_start, department_id);

-- Per operator and local day of the live schedule: assigned time (split at midnight), its setup
-- part, and how many assignments start that day.
CREATE MATERIALIZED VIEW mv_daily_operator_workload AS
WITH tz AS (SELECT read_model_tz() AS tz),
live AS (
    SELECT a.* FROM assignments a JOIN schedules s ON s.id = a.schedule_id AND s.is_live
    WHERE a.operator_id IS NOT NULL
),
pieces AS (
    SELECT a.operator_id, p.bucket_start AS day_start, p.seconds AS assigned_s, 0::float8 AS setup_s,
           CASE WHEN p.bucket_start <= a.scheduled_start THEN 1 ELSE 0 END AS starts
    FROM live a, tz, time_bucket_pieces(a.scheduled_start, a.scheduled_end, 'day', tz.tz) p
    UNION ALL
    SELECT a.operator_id, p.bucket_start, 0, p.seconds, 0
    FROM live a, tz,
         time_bucket_pieces(a.scheduled_start, a.scheduled_start + make_interval(secs => a.setup_s), 'day', tz.tz) p
    WHERE a.setup_s > 0
)
SELECT p.operator_id, o.department_id, local_day(p.day_start, (SELECT tz FROM tz)) AS day,
       p.day_start, sum(p.assigned_s) AS assigned_s, sum(p.setup_s) AS setup_s,
       sum(p.starts)::bigint AS assignments
FROM pieces p JOIN operators o ON o.id = p.operator_id
GROUP BY p.operator_id, o.department_id, p.day_start;

CREATE UNIQUE INDEX mv_daily_operator_workload_key ON mv_daily_operator_workload (operator_id, day);
CREATE INDEX mv_daily_operator_workload_day ON mv_daily_operator_workload (day_start, department_id);

-- One row per job completed in [p_from, p_to), keyed by its local completion day: the lead time
-- and its breakdown (queue before the first run, setup, processing, wait between runs),
-- quantities and whether it passed first time. The view holds all of history; the live read of
-- today uses the same function with a narrow range.
CREATE FUNCTION job_flow_facts(p_from TIMESTAMPTZ, p_to TIMESTAMPTZ)
RETURNS TABLE (job_id BIGINT, day DATE, released_at TIMESTAMPTZ, completed_at TIMESTAMPTZ,
               due_at TIMESTAMPTZ, quantity INTEGER, department_ids BIGINT[], tasks BIGINT,
               tasks_finished BIGINT, lead_s DOUBLE PRECISION, queue_s DOUBLE PRECISION,
               setup_s DOUBLE PRECISION, processing_s DOUBLE PRECISION, good_qty BIGINT,
               scrap_qty BIGINT, first_pass BOOLEAN, on_time BOOLEAN)
LANGUAGE sql STABLE AS $$
WITH tz AS (SELECT read_model_tz() AS tz),
done AS (
    SELECT j.* FROM jobs j
    WHERE j.status = 'completed' AND j.completed_at >= p_from AND j.completed_at < p_to
),
runs AS (
    SELECT t.job_id,
           array_agg(DISTINCT t.department_id) AS department_ids,
           count(*) AS tasks,
           count(a.actual_end) AS tasks_finished,
           min(a.actual_start) AS first_start,
           sum(CASE WHEN a.actual_end IS NOT NULL THEN a.setup_s ELSE 0 END)::float8 AS setup_s,
           sum(greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s))::float8 AS processing_s,
           sum(coalesce(a.good_qty, 0))::bigint AS good_qty,
           sum(coalesce(a.scrap_qty, 0))::bigint AS scrap_qty
    FROM done j
    JOIN tasks t ON t.job_id = j.id
    LEFT JOIN (assignments a JOIN schedules s ON s.id = a.schedule_id AND s.is_live) ON a.task_id = t.id
    GROUP BY t.job_id
)
SELECT j.id, local_day(j.completed_at, tz.tz),
       j.released_at, j.completed_at, j.due_at, j.quantity,
       r.department_ids, r.tasks, r.tasks_finished,
       extract(epoch FROM j.completed_at - j.released_at)::float8,
       greatest(0, coalesce(extract(epoch FROM r.first_start - j.released_at), 0))::float8,
       coalesce(r.setup_s, 0),
       coalesce(r.processing_s, 0),
       r.good_qty, r.scrap_qty,
       (r.scrap_qty = 0),
       (j.completed_at <= j.due_at)
FROM done j JOIN runs r ON r.job_id = j.id, tz
$$;

CREATE MATERIALIZED VIEW mv_daily_job_flow_metrics AS
SELECT * FROM job_flow_facts('-infinity', 'infinity');

CREATE UNIQUE INDEX mv_daily_job_flow_metrics_key ON mv_daily_job_flow_metrics (job_id);
CREATE INDEX mv_daily_job_flow_metrics_completed ON mv_daily_job_flow_metrics (completed_at)
    INCLUDE (lead_s, queue_s, setup_s, processing_s, quantity, first_pass, on_time, tasks_finished, department_ids);

-- ---------------------------------------------------------------------------------------------
-- Utilization per bucket: closed days (up to the watermark) from the views, the rest live.
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
LANGUAGE sql STABLE AS $$
WITH cfg AS (
    SELECT st.plant_tz AS tz,
           -- Where live computation starts: the watermark when views may be used, else p_from.
           CASE
               WHEN NOT p_use_views THEN p_from
               WHEN p_bucket = 'hour' AND (p_machine_id IS NOT NULL OR p_per_machine) THEN p_from
               -- A day (hour) cut by p_to is computed live: the views hold whole ones.
               ELSE greatest(p_from, least(st.mv_covers_before,
                    CASE WHEN p_bucket = 'hour' THEN date_trunc('hour', p_to, st.plant_tz)
                         ELSE date_trunc('day', p_to AT TIME ZONE st.plant_tz) AT TIME ZONE st.plant_tz END))
           END AS live_from,
           (SELECT id FROM schedules WHERE is_live) AS live_schedule
    FROM read_model_state st
),
b AS (SELECT g.* FROM cfg, generate_time_buckets(p_from, p_to, p_bucket, cfg.tz) g),
sm AS (
    SELECT m.id, m.ideal_units_per_hour FROM machines m
    WHERE m.status <> 'retired'
      AND (p_department_id IS NULL OR m.department_id = p_department_id)
      AND (p_machine_id IS NULL OR m.id = p_machine_id)
),
-- Closed days from the daily view, rolled into their bucket by the bucket's local start.
from_days AS (
    SELECT (date_trunc(p_bucket, v.day::timestamp) AT TIME ZONE cfg.tz) AS bucket_start,
           CASE WHEN p_per_machine THEN v.machine_id END AS machine_id,
           v.downtime_s, v.scheduled_s, v.setup_s, v.actual_s, v.runs_finished, v.planned_s,
           v.actual_run_s, v.operating_s, v.good_qty, v.scrap_qty, v.ideal_s, v.ideal_good_s, v.delay_s
    FROM cfg, mv_daily_machine_utilization v
    WHERE p_bucket <> 'hour' AND p_use_views
      AND v.day_start >= p_from AND v.day_start < (SELECT live_from FROM cfg)
      AND (p_department_id IS NULL OR v.department_id = p_department_id)
      AND (p_machine_id IS NULL OR v.machine_id = p_machine_id)
      AND v.machine_id IN (SELECT id FROM sm)
),
-- Closed hours from the hourly department view (whole plant or one department).
from_hours AS (
    SELECT v.hour_start AS bucket_start, NULL::bigint AS machine_id,
           v.downtime_s, v.scheduled_s, v.setup_s, v.actual_s, 0::bigint AS runs_finished,
           0::float8 AS planned_s, 0::float8 AS actual_run_s, 0::float8 AS operating_s,
           0::bigint AS good_qty, 0::bigint AS scrap_qty, 0::float8 AS ideal_s, 0::float8 AS ideal_good_s,
           0::float8 AS delay_s
    FROM mv_hourly_department_utilization v
    WHERE p_bucket = 'hour' AND p_use_views
      AND v.hour_start >= p_from AND v.hour_start < (SELECT live_from FROM cfg)
      AND (p_department_id IS NULL OR v.department_id = p_department_id)
),
-- Finished runs of closed hours: the hourly view has no quantities, so these come from the
-- finished-runs index (small: only runs that finished inside the range).
hour_finished AS (
    SELECT p.bucket_start, NULL::bigint AS machine_id, 0::float8 AS downtime_s, 0::float8 AS scheduled_s,
           0::float8 AS setup_s, 0::float8 AS actual_s, 1::bigint AS runs_finished,
           extract(epoch FROM a.scheduled_end - a.scheduled_start)::float8 AS planned_s,
           extract(epoch FROM a.actual_end - a.actual_start)::float8 AS actual_run_s,
           greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s)::float8 AS operating_s,
           coalesce(a.good_qty, 0)::bigint AS good_qty, coalesce(a.scrap_qty, 0)::bigint AS scrap_qty,
           ((coalesce(a.good_qty, 0) + coalesce(a.scrap_qty, 0)) * 3600.0 / sm.ideal_units_per_hour)::float8 AS ideal_s,
           (coalesce(a.good_qty, 0) * 3600.0 / sm.ideal_units_per_hour)::float8 AS ideal_good_s,
           greatest(0, extract(epoch FROM a.actual_end - a.scheduled_end))::float8 AS delay_s
    FROM cfg, assignments a JOIN sm ON sm.id = a.machine_id,
         LATERAL (SELECT date_trunc('hour', a.actual_end - interval '1 microsecond', cfg.tz) AS bucket_start) p
    WHERE p_bucket = 'hour' AND p_use_views
      AND a.actual_end IS NOT NULL AND a.actual_end > p_from AND a.actual_end <= (SELECT live_from FROM cfg)
      AND a.schedule_id = (SELECT live_schedule FROM cfg)
),
-- Live: everything from live_from to p_to, straight from the tables.
live_sched AS (
    SELECT a.machine_id, a.scheduled_start, a.scheduled_end, a.setup_s
    FROM assignments a JOIN sm ON sm.id = a.machine_id
    WHERE a.schedule_id = (SELECT live_schedule FROM cfg)
      AND a.scheduled_end > (SELECT live_from FROM cfg) AND a.scheduled_start < p_to
),
live_actual AS (
    SELECT a.machine_id, a.actual_start, a.actual_end, a.scheduled_start, a.scheduled_end, a.setup_s,
           a.good_qty, a.scrap_qty, sm.ideal_units_per_hour
    FROM assignments a JOIN sm ON sm.id = a.machine_id
    WHERE a.schedule_id = (SELECT live_schedule FROM cfg) AND a.actual_end IS NOT NULL
      AND a.actual_end > (SELECT live_from FROM cfg) AND a.actual_start < p_to
),
live_down AS (
    SELECT d.machine_id, unnest(range_agg(tstzrange(d.starts_at, d.ends_at))) AS r
    FROM machine_downtimes d JOIN sm ON sm.id = d.machine_id
    WHERE d.ends_at > (SELECT live_from FROM cfg) AND d.starts_at < p_to
    GROUP BY d.machine_id
),
live AS (
    SELECT p.bucket_start, CASE WHEN p_per_machine THEN a.machine_id END AS machine_id,
           0::float8 AS downtime_s, p.seconds AS scheduled_s, 0::float8 AS setup_s, 0::float8 AS actual_s,
           0::bigint AS runs_finished, 0::float8 AS planned_s, 0::float8 AS actual_run_s, 0::float8 AS operating_s,
           0::bigint AS good_qty, 0::bigint AS scrap_qty, 0::float8 AS ideal_s, 0::float8 AS ideal_good_s, 0::float8 AS delay_s
    FROM cfg, live_sched a,
         time_bucket_pieces(greatest(a.scheduled_start, cfg.live_from), least(a.scheduled_end, p_to), p_bucket, cfg.tz) p
    UNION ALL
    SELECT p.bucket_start, CASE WHEN p_per_machine THEN a.machine_id END,
           0, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM cfg, live_sched a,
         time_bucket_pieces(greatest(a.scheduled_start, cfg.live_from),
                            least(a.scheduled_start + make_interval(secs => a.setup_s), p_to), p_bucket, cfg.tz) p
    WHERE a.setup_s > 0
    UNION ALL
    SELECT p.bucket_start, CASE WHEN p_per_machine THEN a.machine_id END,
           0, 0, 0, p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM cfg, live_actual a,
         time_bucket_pieces(greatest(a.actual_start, cfg.live_from), least(a.actual_end, p_to), p_bucket, cfg.tz) p
    UNION ALL
    SELECT (SELECT g.bucket_start FROM generate_time_buckets(a.actual_end - interval '1 microsecond', a.actual_end, p_bucket, cfg.tz) g),
           CASE WHEN p_per_machine THEN a.machine_id END,
           0, 0, 0, 0, 1,
           extract(epoch FROM a.scheduled_end - a.scheduled_start)::float8,
           extract(epoch FROM a.actual_end - a.actual_start)::float8,
           greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s)::float8,
           coalesce(a.good_qty, 0), coalesce(a.scrap_qty, 0),
           ((coalesce(a.good_qty, 0) + coalesce(a.scrap_qty, 0)) * 3600.0 / a.ideal_units_per_hour)::float8,
           (coalesce(a.good_qty, 0) * 3600.0 / a.ideal_units_per_hour)::float8,
           greatest(0, extract(epoch FROM a.actual_end - a.scheduled_end))::float8
    FROM cfg, live_actual a
    WHERE a.actual_end <= p_to
    UNION ALL
    SELECT p.bucket_start, CASE WHEN p_per_machine THEN d.machine_id END,
           p.seconds, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM cfg, live_down d,
         time_bucket_pieces(greatest(lower(d.r), cfg.live_from), least(upper(d.r), p_to), p_bucket, cfg.tz) p
),
pieces AS (
    SELECT * FROM from_days UNION ALL SELECT * FROM from_hours
    UNION ALL SELECT * FROM hour_finished UNION ALL SELECT * FROM live
),
sums AS (
    SELECT bucket_start, machine_id,
           sum(downtime_s) AS downtime_s, sum(scheduled_s) AS scheduled_s, sum(setup_s) AS setup_s,
           sum(actual_s) AS actual_s, sum(runs_finished)::bigint AS runs_finished,
           sum(planned_s) AS planned_s, sum(actual_run_s) AS actual_run_s, sum(operating_s) AS operating_s,
           sum(good_qty)::bigint AS good_qty, sum(scrap_qty)::bigint AS scrap_qty, sum(ideal_s) AS ideal_s,
           sum(ideal_good_s) AS ideal_good_s, sum(delay_s) AS delay_s
    FROM pieces GROUP BY 1, 2
),
keys AS (
    SELECT b.*, k.machine_id FROM b
    CROSS JOIN (SELECT id AS machine_id FROM sm WHERE p_per_machine
                UNION ALL SELECT NULL WHERE NOT p_per_machine) k
)
SELECT k.bucket_start, k.bucket_end, k.span_start, k.span_end, k.machine_id,
       CASE WHEN p_per_machine THEN 1 ELSE (SELECT count(*) FROM sm) END AS machines,
       (CASE WHEN p_per_machine THEN 1 ELSE (SELECT count(*) FROM sm) END)
           * extract(epoch FROM k.span_end - k.span_start)::float8 AS calendar_s,
       coalesce(s.downtime_s, 0), coalesce(s.scheduled_s, 0), coalesce(s.setup_s, 0),
       coalesce(s.actual_s, 0), coalesce(s.runs_finished, 0), coalesce(s.planned_s, 0),
       coalesce(s.actual_run_s, 0), coalesce(s.operating_s, 0), coalesce(s.good_qty, 0),
       coalesce(s.scrap_qty, 0), coalesce(s.ideal_s, 0), coalesce(s.ideal_good_s, 0), coalesce(s.delay_s, 0)
FROM keys k
LEFT JOIN sums s ON s.bucket_start = k.bucket_start AND s.machine_id IS NOT DISTINCT FROM k.machine_id
ORDER BY k.machine_id NULLS FIRST, k.bucket_start
$$;

-- ---------------------------------------------------------------------------------------------
-- Refresh: all views concurrently (readers never block), then raise the watermark to the
-- start of the current local day and record which event the views have seen.
CREATE FUNCTION refresh_scheduling_read_models() RETURNS TABLE (
    covers_before TIMESTAMPTZ, through_event BIGINT, took_ms DOUBLE PRECISION)
LANGUAGE plpgsql AS $$
DECLARE
    t0 TIMESTAMPTZ := clock_timestamp();
    last_event BIGINT := coalesce((SELECT max(id) FROM domain_events), 0);
    tz TEXT := read_model_tz();
    midnight TIMESTAMPTZ := date_trunc('day', clock_timestamp() AT TIME ZONE read_model_tz()) AT TIME ZONE read_model_tz();
BEGIN
    -- CONCURRENTLY needs a populated view; the first refresh of an empty one is plain.
    IF (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'mv_daily_machine_utilization') THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_machine_utilization;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_hourly_department_utilization;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_operator_workload;
        REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_job_flow_metrics;
    ELSE
        REFRESH MATERIALIZED VIEW mv_daily_machine_utilization;
        REFRESH MATERIALIZED VIEW mv_hourly_department_utilization;
        REFRESH MATERIALIZED VIEW mv_daily_operator_workload;
        REFRESH MATERIALIZED VIEW mv_daily_job_flow_metrics;
    END IF;
    -- An event that changed history after the refresh began may be missing from the views:
    -- then the watermark stays where the listener put it, and a next refresh follows.
    UPDATE read_model_state
       SET mv_covers_before = CASE
               WHEN EXISTS (SELECT 1 FROM domain_events e
                            WHERE e.id > last_event AND (e.payload ->> 'affects_from')::timestamptz < midnight)
               THEN least(mv_covers_before, midnight)
               ELSE midnight END,
           refreshed_at = clock_timestamp(),
           refresh_ms = extract(epoch FROM clock_timestamp() - t0) * 1000,
           refreshed_through_event = last_event
     WHERE plant_tz = tz;
    RETURN QUERY SELECT midnight, last_event, extract(epoch FROM clock_timestamp() - t0)::float8 * 1000;
END;
$$;

-- Sets the plant zone the views are built in. A change invalidates every view (days move), so
-- the watermark drops to -infinity until the next refresh.
CREATE FUNCTION set_read_model_time_zone(p_tz TEXT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    PERFORM now() AT TIME ZONE p_tz; -- rejects an unknown zone
    IF (SELECT plant_tz FROM read_model_state) = p_tz THEN
        RETURN FALSE;
    END IF;
    UPDATE read_model_state SET plant_tz = p_tz, mv_covers_before = '-infinity';
    RETURN TRUE;
END;
$$;

-- History changed from p_from on: the views are not trusted from that local midnight on.
CREATE FUNCTION lower_read_model_watermark(p_from TIMESTAMPTZ) RETURNS TIMESTAMPTZ
LANGUAGE sql AS $$
    UPDATE read_model_state
       SET mv_covers_before = least(mv_covers_before,
           date_trunc('day', p_from AT TIME ZONE plant_tz) AT TIME ZONE plant_tz)
    RETURNING mv_covers_before
$$;

-- Every new domain event is announced to listeners (the read side's freshness loop).
CREATE FUNCTION domain_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('takt_domain_events', json_build_object(
        'id', NEW.id, 'department_id', NEW.department_id, 'event_type', NEW.event_type,
        'occurred_at', NEW.occurred_at,
        'affects_from', NEW.payload ->> 'affects_from')::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER domain_events_notify AFTER INSERT ON domain_events
    FOR EACH ROW EXECUTE FUNCTION domain_events_notify();

-- ---------------------------------------------------------------------------------------------
-- Monitoring.

-- How often each index of the scheduling tables is used, and how large it is; unused large
-- indexes are candidates for removal, busy tables with many sequential scans for new ones.
CREATE VIEW read_model_index_usage AS
SELECT s.relname AS table_name, s.indexrelname AS index_name, s.idx_scan AS scans,
       s.idx_tup_read AS tuples_read, s.idx_tup_fetch AS tuples_fetched,
       pg_relation_size(s.indexrelid) AS size_bytes,
       t.seq_scan AS table_seq_scans, t.idx_scan AS table_index_scans
FROM pg_stat_user_indexes s
JOIN pg_stat_user_tables t ON t.relid = s.relid
ORDER BY s.relname, s.idx_scan DESC;

-- Tables read mostly by sequential scans (a missing index shows here first).
CREATE VIEW read_model_table_scans AS
SELECT relname AS table_name, seq_scan, seq_tup_read, idx_scan, n_live_tup,
       CASE WHEN seq_scan + coalesce(idx_scan, 0) = 0 THEN NULL
            ELSE round(100.0 * seq_scan / (seq_scan + coalesce(idx_scan, 0)), 1) END AS seq_scan_pct
FROM pg_stat_user_tables
ORDER BY seq_tup_read DESC;

-- Statements running now for longer than a second (pg_stat_statements is not assumed to be
-- installed; this works on a stock server).
CREATE VIEW read_model_slow_queries AS
SELECT pid, now() - query_start AS running_for, state, wait_event_type, left(query, 500) AS query
FROM pg_stat_activity
WHERE state <> 'idle' AND query_start < now() - interval '1 second' AND pid <> pg_backend_pid()
ORDER BY query_start;
