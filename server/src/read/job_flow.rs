//! `GetJobFlowMetrics`: throughput, cycle-time percentiles, lead-time breakdown, flow
//! efficiency, first-pass yield, WIP, flow bottlenecks, resource balance and open jobs' plans
//! with their critical path. Completed jobs of closed days come from `mv_daily_job_flow_metrics`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use app::error::AppError;
use app::read_models::{
    BucketSize, FlowBottleneck, GetJobFlowMetrics, JobFlowMetrics, JobPlan, LeadTimeBreakdown,
    Percentiles, Severity, ViewCoverage,
};

use super::{hours, live_from, ratio, round6, views_cover, ReadContext};
use crate::floor::store_error;

#[derive(Debug, sqlx::FromRow)]
struct Summary {
    jobs: i64,
    /// Lead-time percentiles 50, 90, 95 (one sort for the three); NULL without jobs.
    cycle: Option<Vec<Option<f64>>>,
    lead_s: Option<f64>,
    queue_s: Option<f64>,
    setup_s: Option<f64>,
    processing_s: Option<f64>,
    with_qty: i64,
    first_pass: i64,
    on_time: i64,
}

pub async fn run(
    ctx: &ReadContext,
    q: &GetJobFlowMetrics,
    use_views: bool,
) -> Result<JobFlowMetrics, AppError> {
    let as_of = ctx.as_of().await?;
    let now = ctx.now();
    let department = ctx.department_id(&q.scope).await?;
    let (from, to) = ctx.align(&q.range, BucketSize::Day);

    // Jobs completed in the range: from the job-flow view up to the watermark read with
    // `as_of` (the split matches the answer's stated coverage), live after it. With fresh
    // views the live part is left out of the statement (its inlined job facts cost
    // milliseconds to plan).
    let live_from = live_from(use_views, as_of.views, from, to);
    let live_part = if live_from.is_some_and(|f| f < to) {
        "UNION ALL
            SELECT f.lead_s, f.queue_s, f.setup_s, f.processing_s, f.quantity, f.first_pass, f.on_time
            FROM job_flow_facts($4, $3) f
            WHERE ($1::BIGINT IS NULL OR $1 = ANY (f.department_ids))"
    } else {
        ""
    };
    let summary_sql = format!(
        r#"
        WITH facts AS (
            SELECT v.lead_s, v.queue_s, v.setup_s, v.processing_s, v.quantity, v.first_pass, v.on_time
            FROM mv_daily_job_flow_metrics v
            WHERE v.completed_at >= $2 AND v.completed_at < $4
              AND ($1::BIGINT IS NULL OR $1 = ANY (v.department_ids))
            {live_part}
        )
        SELECT count(*) AS jobs,
               percentile_cont(ARRAY[0.5, 0.9, 0.95]::float8[]) WITHIN GROUP (ORDER BY lead_s) AS cycle,
               sum(lead_s) AS lead_s, sum(queue_s) AS queue_s, sum(setup_s) AS setup_s,
               sum(processing_s) AS processing_s,
               count(*) FILTER (WHERE quantity > 0) AS with_qty,
               count(*) FILTER (WHERE quantity > 0 AND first_pass) AS first_pass,
               count(*) FILTER (WHERE on_time) AS on_time
        FROM facts
        "#
    );
    let summary_q = sqlx::query_as::<_, Summary>(&summary_sql)
        .bind(department)
        .bind(from)
        .bind(to)
        .bind(live_from.unwrap_or(to))
        .fetch_one(&ctx.pool);

    // Tasks finished in the range (machines of the scope): from the views up to the split the
    // summary uses (whole months and weeks from the machines' roll-up, edge days from the
    // daily rows: ~2,400 rows for a quarter instead of 18,000), live after it.
    let view_to = live_from.unwrap_or(to);
    let tiling = ctx.tile(from, view_to);
    let tasks_completed_q = sqlx::query_scalar::<_, i64>(
        r#"
        SELECT (SELECT coalesce(sum(x.n), 0) FROM (
                    SELECT r.runs_finished AS n FROM mv_machine_utilization_rollup r
                    WHERE r.grain = 'week' AND r.bucket_start = ANY ($4)
                      AND ($1::BIGINT IS NULL OR r.department_id = $1)
                    UNION ALL
                    SELECT r.runs_finished FROM mv_machine_utilization_rollup r
                    WHERE r.grain = 'month' AND r.bucket_start = ANY ($5)
                      AND ($1::BIGINT IS NULL OR r.department_id = $1)
                    UNION ALL
                    SELECT v.runs_finished FROM mv_daily_machine_utilization v
                    WHERE v.day_start = ANY ($6) AND ($1::BIGINT IS NULL OR v.department_id = $1)
                ) x)::BIGINT
             + (SELECT count(*) FROM assignments a JOIN machines m ON m.id = a.machine_id
                WHERE a.actual_end IS NOT NULL AND a.actual_end >= $2 AND a.actual_end < $3
                  AND a.schedule_id = (SELECT id FROM schedules WHERE is_live)
                  AND ($1::BIGINT IS NULL OR m.department_id = $1))
        "#,
    )
    .bind(department)
    .bind(view_to)
    .bind(to)
    .bind(tiling.starts(&tiling.weeks, ctx))
    .bind(tiling.starts(&tiling.months, ctx))
    .bind(tiling.starts(&tiling.days, ctx))
    .fetch_one(&ctx.pool);

    let wip_jobs_q = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM jobs j WHERE j.status = 'in_progress'
           AND ($1::BIGINT IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.department_id = $1))",
    )
    .bind(department)
    .fetch_one(&ctx.pool);

    // Independent reads, side by side on the pool.
    let (
        s,
        tasks_completed,
        wip_jobs,
        bottlenecks,
        resource_balance_score,
        (jobs, open_jobs_total, constraint_lag_h),
    ) = tokio::try_join!(
        async { summary_q.await.map_err(store_error) },
        async { tasks_completed_q.await.map_err(store_error) },
        async { wip_jobs_q.await.map_err(store_error) },
        flow_bottlenecks(ctx, department, to.min(now), use_views),
        balance(
            ctx,
            department,
            (from, to),
            (use_views, views_cover(use_views, as_of.views, to)),
        ),
        open_jobs(ctx, q, department, now, (use_views, as_of.views)),
    )?;

    // Throughput over the part of the range that has passed (the future produces nothing yet).
    let elapsed_h = hours((to.min(now) - from).num_seconds().max(0) as f64);
    let n = s.jobs as f64;
    let lead = s.lead_s.unwrap_or(0.0);
    let queue = s.queue_s.unwrap_or(0.0);
    let setup = s.setup_s.unwrap_or(0.0);
    let processing = s.processing_s.unwrap_or(0.0);
    Ok(JobFlowMetrics {
        as_of,
        jobs_completed: s.jobs,
        tasks_completed,
        jobs_per_hour: round6(ratio(n, elapsed_h).unwrap_or(0.0)),
        tasks_per_hour: round6(ratio(tasks_completed as f64, elapsed_h).unwrap_or(0.0)),
        cycle_time_h: match s.cycle.as_deref() {
            Some([Some(a), Some(b), Some(c)]) => Some(Percentiles {
                p50: round6(hours(*a)),
                p90: round6(hours(*b)),
                p95: round6(hours(*c)),
            }),
            _ => None,
        },
        lead_time: (s.jobs > 0).then(|| LeadTimeBreakdown {
            queue_h: round6(hours(queue / n)),
            setup_h: round6(hours(setup / n)),
            processing_h: round6(hours(processing / n)),
            wait_h: round6(hours((lead - queue - setup - processing).max(0.0) / n)),
        }),
        flow_efficiency: ratio(processing, lead).map(round6),
        first_pass_yield: ratio(s.first_pass as f64, s.with_qty as f64).map(round6),
        on_time_rate: ratio(s.on_time as f64, n).map(round6),
        wip_jobs,
        bottlenecks,
        resource_balance_score,
        constraint_lag_h,
        jobs,
        open_jobs_total,
    })
}

#[derive(Debug, sqlx::FromRow)]
struct WaitRow {
    department: String,
    mean_wait_s: f64,
    tasks: i64,
}

/// Flow bottlenecks: mean wait of tasks started in the seven days before `until` between being
/// ready (job release, or predecessor's finish plus its lag) and starting, per department.
/// Severity by mean wait: critical ≥ 24 h, high ≥ 8 h, medium ≥ 2 h, else low.
async fn flow_bottlenecks(
    ctx: &ReadContext,
    department: Option<i64>,
    until: DateTime<Utc>,
    use_views: bool,
) -> Result<Vec<FlowBottleneck>, AppError> {
    let rows: Vec<WaitRow> = sqlx::query_as(
        r#"
        WITH cfg AS (
            SELECT CASE WHEN $3 THEN least(greatest(mv_covers_before, $2 - interval '7 days'), $2)
                        ELSE $2 - interval '7 days' END AS live_from
            FROM read_model_state
        ),
        -- Finished before the watermark: the precomputed waits.
        kept AS (
            SELECT w.department_id, w.wait_s
            FROM mv_task_waits w, cfg
            WHERE w.actual_end > $2 - interval '7 days' AND w.actual_end <= $2 AND w.actual_end < cfg.live_from
              AND w.actual_start >= $2 - interval '7 days'
              AND ($1::BIGINT IS NULL OR w.department_id = $1)
        ),
        started AS (
            SELECT a.task_id, a.actual_start, t.department_id, j.released_at
            FROM assignments a
            JOIN tasks t ON t.id = a.task_id
            JOIN jobs j ON j.id = t.job_id, cfg
            WHERE a.schedule_id = (SELECT id FROM schedules WHERE is_live)
              AND a.actual_end IS NOT NULL AND a.actual_end >= cfg.live_from AND a.actual_end <= $2
              AND a.actual_end > $2 - interval '7 days'
              AND a.actual_start >= $2 - interval '7 days'
              AND ($1::BIGINT IS NULL OR t.department_id = $1)
        ),
        ready AS (
            SELECT s.department_id, s.actual_start,
                   greatest(s.released_at, coalesce(max(pa.actual_end + make_interval(secs => p.min_lag_s)), s.released_at)) AS ready_at
            FROM started s
            LEFT JOIN task_precedences p ON p.successor_id = s.task_id
            LEFT JOIN assignments pa ON pa.task_id = p.predecessor_id
                 AND pa.schedule_id = (SELECT id FROM schedules WHERE is_live)
            GROUP BY s.task_id, s.department_id, s.actual_start, s.released_at
        ),
        waits AS (
            SELECT department_id, wait_s FROM kept
            UNION ALL
            SELECT department_id, greatest(0, extract(epoch FROM actual_start - ready_at))::float8 FROM ready
        )
        SELECT d.code AS department, avg(w.wait_s)::float8 AS mean_wait_s, count(*) AS tasks
        FROM waits w JOIN departments d ON d.id = w.department_id
        GROUP BY d.code
        ORDER BY mean_wait_s DESC, d.code
        "#,
    )
    .bind(department)
    .bind(until)
    .bind(use_views)
    .fetch_all(&ctx.pool)
    .await
    .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|r| FlowBottleneck {
            department: r.department,
            mean_wait_h: round6(hours(r.mean_wait_s)),
            tasks: r.tasks,
            severity: wait_severity(hours(r.mean_wait_s)),
        })
        .collect())
}

pub fn wait_severity(mean_wait_h: f64) -> Severity {
    if mean_wait_h >= 24.0 {
        Severity::Critical
    } else if mean_wait_h >= 8.0 {
        Severity::High
    } else if mean_wait_h >= 2.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// 100 × (1 − coefficient of variation) of the departments' actual utilization over the range:
/// actual run time / (machines in service × the range − downtime), per department.
async fn balance(
    ctx: &ReadContext,
    department: Option<i64>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    (use_views, covered): (bool, bool),
) -> Result<Option<f64>, AppError> {
    let utils: Vec<Option<f64>> = if covered {
        // The views cover the range: whole months and weeks of the departments' roll-up, edge
        // days from its day rows (what the bucket function reads, without planning it once
        // per department: 22 of the quarter's 70 ms of database time).
        let tiling = ctx.tile(from, to);
        sqlx::query_scalar(
            r#"
            WITH sm AS (
                SELECT department_id, count(*) AS n FROM machines
                WHERE status <> 'retired' AND ($1::BIGINT IS NULL OR department_id = $1)
                GROUP BY department_id
            ),
            tiles AS (
                SELECT r.department_id, r.actual_s, r.downtime_s FROM mv_department_utilization_rollup r
                WHERE r.grain = 'week' AND r.bucket_start = ANY ($2)
                UNION ALL
                SELECT r.department_id, r.actual_s, r.downtime_s FROM mv_department_utilization_rollup r
                WHERE r.grain = 'month' AND r.bucket_start = ANY ($3)
                UNION ALL
                SELECT r.department_id, r.actual_s, r.downtime_s FROM mv_department_utilization_rollup r
                WHERE r.grain = 'day' AND r.bucket_start = ANY ($4)
            )
            SELECT coalesce(sum(t.actual_s), 0) / nullif(sm.n * $5 - coalesce(sum(t.downtime_s), 0), 0)
            FROM sm LEFT JOIN tiles t ON t.department_id = sm.department_id
            GROUP BY sm.department_id, sm.n
            "#,
        )
        .bind(department)
        .bind(tiling.starts(&tiling.weeks, ctx))
        .bind(tiling.starts(&tiling.months, ctx))
        .bind(tiling.starts(&tiling.days, ctx))
        .bind((to - from).num_seconds() as f64)
        .fetch_all(&ctx.pool)
        .await
    } else {
        // One department-grain call per department (their roll-ups up to the watermark, live
        // after it), not machine rows regrouped.
        sqlx::query_scalar(
            r#"
            SELECT (SELECT sum(r.actual_s) / nullif(sum(r.calendar_s - r.downtime_s), 0)
                    FROM get_machine_utilization_buckets($2, $3, 'month', d.id, NULL, FALSE, $4) r)
            FROM departments d
            WHERE ($1::BIGINT IS NULL OR d.id = $1)
              AND EXISTS (SELECT 1 FROM machines m WHERE m.department_id = d.id AND m.status <> 'retired')
            "#,
        )
        .bind(department)
        .bind(from)
        .bind(to)
        .bind(use_views)
        .fetch_all(&ctx.pool)
        .await
    }
    .map_err(store_error)?;
    let values: Vec<f64> = utils.into_iter().flatten().collect();
    Ok(balance_score(&values).map(round6))
}

pub fn balance_score(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean <= 0.0 {
        return None;
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some((100.0 * (1.0 - sd / mean)).clamp(0.0, 100.0))
}

#[derive(Debug, sqlx::FromRow)]
struct OpenJob {
    id: i64,
    code: String,
    due_at: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
struct PlanTask {
    job_id: i64,
    task_id: i64,
    sequence: i32,
    scheduled_start: Option<DateTime<Utc>>,
    scheduled_end: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
struct Edge {
    predecessor_id: i64,
    successor_id: i64,
    min_lag_s: i32,
}

/// Open jobs in scope by due date, one page, with their planned span and critical path; also
/// the total count and the precedence lag hours across open jobs in scope.
async fn open_jobs(
    ctx: &ReadContext,
    q: &GetJobFlowMetrics,
    department: Option<i64>,
    now: DateTime<Utc>,
    (use_views, views): (bool, ViewCoverage),
) -> Result<(Vec<JobPlan>, i64, f64), AppError> {
    let scope = "j.status IN ('planned', 'released', 'in_progress')
        AND ($1::BIGINT IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.department_id = $1))";
    // Count and lag from the view while nothing changed since the refresh, else live.
    let fresh = use_views && views == ViewCoverage::Everything;
    let (total, lag_s): (i64, f64) = if fresh {
        sqlx::query_as(
            "SELECT count(*), coalesce(sum(lag_s), 0)::float8 FROM mv_open_job_constraints
             WHERE $1::BIGINT IS NULL OR $1 = ANY (department_ids)",
        )
        .bind(department)
        .fetch_one(&ctx.pool)
        .await
        .map_err(store_error)?
    } else {
        sqlx::query_as(&format!(
            "SELECT count(*),
                    coalesce((SELECT sum(p.min_lag_s) FROM jobs j JOIN tasks t ON t.job_id = j.id
                              JOIN task_precedences p ON p.successor_id = t.id WHERE {scope}), 0)::float8
             FROM jobs j WHERE {scope}"
        ))
        .bind(department)
        .fetch_one(&ctx.pool)
        .await
        .map_err(store_error)?
    };
    let page: Vec<OpenJob> = sqlx::query_as(&format!(
        "SELECT j.id, j.code, j.due_at FROM jobs j WHERE {scope} ORDER BY j.due_at, j.id OFFSET $2 LIMIT $3"
    ))
    .bind(department)
    .bind(i64::from(q.page.offset()))
    .bind(i64::from(q.page.limit()))
    .fetch_all(&ctx.pool)
    .await
    .map_err(store_error)?;
    let ids: Vec<i64> = page.iter().map(|j| j.id).collect();
    // A page's tasks and precedences, side by side.
    let (tasks, edges) = tokio::try_join!(
        sqlx::query_as::<_, PlanTask>(
            "SELECT t.job_id, t.id AS task_id, t.sequence, a.scheduled_start, a.scheduled_end
             FROM tasks t
             LEFT JOIN assignments a ON a.task_id = t.id AND a.schedule_id = (SELECT id FROM schedules WHERE is_live)
             WHERE t.job_id = ANY ($1) AND t.status <> 'cancelled'
             ORDER BY t.job_id, t.sequence",
        )
        .bind(&ids)
        .fetch_all(&ctx.pool),
        sqlx::query_as::<_, Edge>(
            "SELECT p.predecessor_id, p.successor_id, p.min_lag_s FROM task_precedences p
             JOIN tasks t ON t.id = p.successor_id WHERE t.job_id = ANY ($1)",
        )
        .bind(&ids)
        .fetch_all(&ctx.pool),
    )
    .map_err(store_error)?;
    let plans = page
        .iter()
        .map(|j| {
            let mine: Vec<&PlanTask> = tasks.iter().filter(|t| t.job_id == j.id).collect();
            plan_of(j, &mine, &edges, now)
        })
        .collect();
    Ok((plans, total, round6(hours(lag_s))))
}

/// The critical path: from the task that ends last, step back each time to the predecessor
/// whose end plus lag is latest (the one that held the task back), until a task without a
/// planned predecessor.
fn plan_of(job: &OpenJob, tasks: &[&PlanTask], edges: &[Edge], now: DateTime<Utc>) -> JobPlan {
    let planned: Vec<&&PlanTask> = tasks.iter().filter(|t| t.scheduled_end.is_some()).collect();
    let start = planned.iter().filter_map(|t| t.scheduled_start).min();
    let end = planned.iter().filter_map(|t| t.scheduled_end).max();
    let by_id: HashMap<i64, &PlanTask> = tasks.iter().map(|t| (t.task_id, *t)).collect();
    let mut path = Vec::new();
    let mut current = planned
        .iter()
        .max_by_key(|t| (t.scheduled_end, t.sequence))
        .map(|t| t.task_id);
    while let Some(id) = current {
        let Some(task) = by_id.get(&id) else { break };
        path.push(task.sequence);
        current = edges
            .iter()
            .filter(|e| e.successor_id == id)
            .filter_map(|e| {
                let p = by_id.get(&e.predecessor_id)?;
                let ready = p.scheduled_end? + Duration::seconds(i64::from(e.min_lag_s));
                Some((ready, p.task_id))
            })
            .max()
            .map(|(_, id)| id);
        if path.len() > tasks.len() {
            break;
        }
    }
    path.reverse();
    // Unplanned work cannot finish before now; planned work finishes at its planned end.
    let finish = match end {
        Some(e) if tasks.iter().all(|t| t.scheduled_end.is_some()) => e,
        Some(e) => e.max(now),
        None => now,
    };
    JobPlan {
        code: job.code.clone(),
        due_at: job.due_at,
        planned_start: start,
        planned_end: end,
        makespan_h: match (start, end) {
            (Some(s), Some(e)) => Some(round6(hours((e - s).num_seconds() as f64))),
            _ => None,
        },
        critical_path: path,
        late_by_h: round6(hours((finish - job.due_at).num_seconds().max(0) as f64)),
        unplanned_tasks: tasks.iter().filter(|t| t.scheduled_end.is_none()).count() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_of_equal_loads_is_full() {
        assert_eq!(balance_score(&[0.5, 0.5]), Some(100.0));
        assert_eq!(balance_score(&[]), None);
        // mean 0.5, sd 0.25 → 50.
        assert!((balance_score(&[0.25, 0.75]).unwrap_or(0.0) - 50.0).abs() < 1e-9);
    }
}
