-- Runs overlapping a time window, for the live parts of the read models (this hour, today, the
-- days an unrefreshed event touched). The exclusion constraints' GiST indexes lead with
-- schedule and machine, so a window search without a machine visited hundreds of pages even
-- when nothing overlapped (3 ms on the large factory); a GiST index on the span alone reads
-- only the window's own runs (0.04 ms).
CREATE INDEX IF NOT EXISTS assignments_scheduled_span
    ON assignments USING gist (tstzrange(scheduled_start, scheduled_end));

-- Work in progress (job flow's WIP count): the open-jobs index holds every planned job too, so
-- counting the few in progress read thousands of heap rows; this one is read alone.
CREATE INDEX IF NOT EXISTS jobs_in_progress ON jobs (id) WHERE status = 'in_progress';

-- Operator load's assigned hours over a range come from the index alone (the heap rows of a
-- month of days sat on a thousand pages).
CREATE INDEX IF NOT EXISTS mv_daily_operator_workload_day_cover
    ON mv_daily_operator_workload (day_start, department_id) INCLUDE (operator_id, assigned_s);
