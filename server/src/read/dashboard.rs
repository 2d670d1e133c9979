//! `GetDashboardSummary`: KPI tiles with OEE, the schedule health score, prioritised alerts
//! with recommended actions, department summaries and the real-time status. The window's OEE
//! reads closed days from the views; "now" and the next seven days are live.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use app::error::AppError;
use app::read_models::{
    Alert, AsOf, DashboardSummary, DepartmentSummary, GetDashboardSummary, HealthBand,
    HealthComponent, HealthScore, Kpis, Oee, RealTimeStatus, Severity, StatusItem, ViewCoverage,
};

use super::machine_utilization::Seconds;
use super::{live_from, ratio, round6, views_cover, ReadContext};
use crate::floor::store_error;

/// How many items each real-time list shows.
pub const STATUS_LIMIT: i64 = 20;

/// OEE from the window's finished runs (METRICS.md, "OEE"). Availability = operating time
/// (actual run minus setup) / planned production time (the runs' scheduled time), capped at 1
/// with any excess charged to performance; performance = ideal time for all units / operating
/// time; quality = good / (good + scrap). OEE = A × P × Q, with Q taken as 1 when no unit was
/// counted (performance is then 0, so OEE is 0).
pub fn oee(s: &Seconds) -> Oee {
    let planned = s.planned;
    if planned <= 0.0 {
        return Oee {
            availability: None,
            performance: None,
            quality: None,
            oee: None,
        };
    }
    let operating = s.operating.min(planned);
    let availability = operating / planned;
    let performance = ratio(s.ideal, operating);
    let units = (s.good + s.scrap) as f64;
    let quality = ratio(s.good as f64, units);
    let oee = performance.map(|p| availability * p * quality.unwrap_or(1.0));
    Oee {
        availability: Some(round6(availability)),
        performance: performance.map(round6),
        quality: quality.map(round6),
        oee: oee.map(round6),
    }
}

/// Health score weights (sum 1). Components without data drop out and the rest renormalise.
pub const HEALTH_WEIGHTS: [(&str, f64); 5] = [
    ("on_time_delivery", 0.30),
    ("oee", 0.25),
    ("open_jobs_not_late", 0.20),
    ("load_fit_next_7d", 0.15),
    ("machines_up_now", 0.10),
];

/// OEE counts fully at the 85 % world-class mark; load fits best at 85 % scheduled utilization.
pub fn health(
    on_time: Option<f64>,
    oee: Option<f64>,
    open_jobs: i64,
    late_jobs: i64,
    load_next_7d: Option<f64>,
    machines: i64,
    down: i64,
) -> HealthScore {
    let parts: [Option<f64>; 5] = [
        on_time,
        oee.map(|o| (o / 0.85).min(1.0)),
        (open_jobs > 0).then(|| 1.0 - late_jobs as f64 / open_jobs as f64),
        load_next_7d.map(|u| (1.0 - (u - 0.85).abs() / 0.85).clamp(0.0, 1.0)),
        (machines > 0).then(|| 1.0 - down as f64 / machines as f64),
    ];
    let mut components = Vec::new();
    let (mut sum, mut weights) = (0.0, 0.0);
    for ((name, w), part) in HEALTH_WEIGHTS.iter().zip(parts) {
        if let Some(score) = part {
            let score = score.clamp(0.0, 1.0);
            sum += w * score;
            weights += w;
            components.push(HealthComponent {
                name: (*name).to_string(),
                weight: *w,
                score: round6(score),
            });
        }
    }
    let score = if weights > 0.0 {
        100.0 * sum / weights
    } else {
        100.0
    };
    HealthScore {
        score: round6(score),
        band: band(score),
        components,
    }
}

/// Green from 80, amber from 60, red below.
pub fn band(score: f64) -> HealthBand {
    if score >= 80.0 {
        HealthBand::Green
    } else if score >= 60.0 {
        HealthBand::Amber
    } else {
        HealthBand::Red
    }
}

#[derive(Debug, sqlx::FromRow)]
struct MachineRow {
    id: i64,
    code: String,
    department: String,
    status: String,
}

#[derive(Debug, sqlx::FromRow)]
struct FinishedRow {
    department: String,
    runs: i64,
    planned_s: f64,
    operating_s: f64,
    ideal_s: f64,
    good_qty: i64,
    scrap_qty: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct Counts {
    open_jobs: i64,
    late_jobs: i64,
    completed: i64,
    on_time: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct StatusRow {
    kind: String,
    machine_id: i64,
    /// Filled from the machines in scope (`MachineRow`), not joined in SQL.
    #[sqlx(skip)]
    machine: String,
    #[sqlx(skip)]
    department: String,
    what: String,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
struct Tally {
    kind: String,
    department: String,
    n: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct LoadRow {
    department: String,
    machines: i64,
    scheduled_s: f64,
    downtime_s: f64,
}

pub async fn run(
    ctx: &ReadContext,
    q: &GetDashboardSummary,
    use_views: bool,
) -> Result<DashboardSummary, AppError> {
    let now = ctx.now();
    let department = ctx.department_id(&q.scope).await?;
    let today = ctx.local_date(now);
    let window_from = ctx.midnight_of(today - Duration::days(i64::from(q.window_days) - 1));

    let machines_q = sqlx::query_as::<_, MachineRow>(
        "SELECT m.id, m.code, d.code AS department, m.status FROM machines m JOIN departments d ON d.id = m.department_id
         WHERE m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1) ORDER BY m.id",
    )
    .bind(department)
    .fetch_all(&ctx.generic);

    // OEE over the window from the runs that finished in it, per department: closed days from
    // the department roll-up; today's whole hours from the hourly view (runs there are keyed
    // by the hour holding their last instant, so an hour covers ends in (start, start + 1 h])
    // while the watermark lies past now; the run ending at midnight itself, the current hour
    // and days an unrefreshed event touched live.
    let finished_q = sqlx::query_as::<_, FinishedRow>(
        r#"
        WITH days AS (
            SELECT CASE WHEN $4 THEN least(greatest(mv_covers_before, $2), $5) ELSE $2 END AS views_to,
                   $4 AND mv_covers_before > $3 AS hours_fresh,
                   date_trunc('hour', $3 - interval '1 microsecond', plant_tz) AS this_hour
            FROM read_model_state
        ),
        cfg AS (
            SELECT views_to,
                   CASE WHEN hours_fresh AND views_to = $5 THEN greatest(views_to, this_hour) END AS hours_to
            FROM days
        ),
        sm AS (
            SELECT id, department_id, ideal_units_per_hour FROM machines
            WHERE status <> 'retired' AND ($1::BIGINT IS NULL OR department_id = $1)
        ),
        live_runs AS (
            SELECT a.machine_id, a.actual_start, a.actual_end, a.scheduled_start, a.scheduled_end,
                   a.setup_s, a.good_qty, a.scrap_qty, a.schedule_id
            FROM assignments a, cfg
            WHERE a.actual_end IS NOT NULL AND a.actual_end < $3
              AND a.actual_end >= coalesce(cfg.hours_to + interval '1 microsecond', cfg.views_to)
            UNION ALL
            SELECT a.machine_id, a.actual_start, a.actual_end, a.scheduled_start, a.scheduled_end,
                   a.setup_s, a.good_qty, a.scrap_qty, a.schedule_id
            FROM assignments a, cfg
            WHERE a.actual_end IS NOT NULL AND cfg.hours_to IS NOT NULL AND a.actual_end = cfg.views_to
        ),
        runs AS (
            SELECT r.department_id, r.runs_finished, r.planned_s, r.operating_s, r.ideal_s,
                   r.good_qty, r.scrap_qty
            FROM mv_department_utilization_rollup r, cfg
            WHERE r.grain = 'day' AND r.bucket_start >= $2 AND r.bucket_start < cfg.views_to
              AND ($1::BIGINT IS NULL OR r.department_id = $1)
            UNION ALL
            SELECT h.department_id, h.runs_finished, h.planned_s, h.operating_s, h.ideal_s,
                   h.good_qty, h.scrap_qty
            FROM mv_hourly_department_utilization h, cfg
            WHERE h.hour_start >= cfg.views_to AND h.hour_start < cfg.hours_to AND h.runs_finished > 0
              AND ($1::BIGINT IS NULL OR h.department_id = $1)
            UNION ALL
            SELECT sm.department_id, 1,
                   extract(epoch FROM a.scheduled_end - a.scheduled_start)::float8,
                   greatest(0, extract(epoch FROM a.actual_end - a.actual_start) - a.setup_s)::float8,
                   ((coalesce(a.good_qty, 0) + coalesce(a.scrap_qty, 0)) * 3600.0 / sm.ideal_units_per_hour)::float8,
                   coalesce(a.good_qty, 0)::bigint, coalesce(a.scrap_qty, 0)::bigint
            FROM live_runs a JOIN sm ON sm.id = a.machine_id
            WHERE a.schedule_id = (SELECT id FROM schedules WHERE is_live)
        )
        SELECT d.code AS department, sum(x.runs_finished)::bigint AS runs,
               sum(x.planned_s)::float8 AS planned_s, sum(x.operating_s)::float8 AS operating_s,
               sum(x.ideal_s)::float8 AS ideal_s, sum(x.good_qty)::bigint AS good_qty,
               sum(x.scrap_qty)::bigint AS scrap_qty
        FROM runs x JOIN departments d ON d.id = x.department_id
        GROUP BY d.code
        "#,
    )
    .bind(department)
    .bind(window_from)
    .bind(now)
    .bind(use_views)
    .bind(ctx.local_midnight(now));

    // Real-time status: what runs now, what is late (planned end passed, not finished), what is
    // down now. The lists show the first STATUS_LIMIT runs; the counts come from `tallies_q`.
    // Each branch joins only the machines in scope and takes the job's code by key: planning
    // the same lists as five-table joins cost 2.8 ms per ask, more than running them.
    let status_q = sqlx::query_as::<_, StatusRow>(
        r#"
        WITH live AS (SELECT id FROM schedules WHERE is_live)
        (SELECT 'running' AS kind, a.machine_id,
                (SELECT j.code FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = a.task_id) AS what,
                a.actual_start AS since, a.scheduled_end AS until
         FROM assignments a JOIN machines m ON m.id = a.machine_id
         WHERE a.actual_start IS NOT NULL AND a.actual_end IS NULL AND a.actual_start <= $2
           AND a.schedule_id = (SELECT id FROM live)
           AND m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
         ORDER BY a.actual_start LIMIT $3)
        UNION ALL
        (SELECT 'late', a.machine_id,
                (SELECT j.code FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = a.task_id),
                a.scheduled_end, NULL
         FROM assignments a JOIN machines m ON m.id = a.machine_id
         WHERE a.actual_end IS NULL AND a.scheduled_end < $2 AND a.schedule_id = (SELECT id FROM live)
           AND m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
         ORDER BY a.scheduled_end LIMIT $3)
        UNION ALL
        (SELECT 'down', d.machine_id, d.kind, d.starts_at, d.ends_at
         FROM machine_downtimes d JOIN machines m ON m.id = d.machine_id
         WHERE d.starts_at <= $2 AND d.ends_at > $2
           AND m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
         ORDER BY d.starts_at)
        "#,
    )
    .bind(department)
    .bind(now)
    .bind(STATUS_LIMIT);
    // Running and late runs per department, from the two partial indexes alone (no task or
    // job rows are read to count them).
    let tallies_q = sqlx::query_as::<_, Tally>(
        r#"
        WITH sm AS (
            SELECT m.id, d.code AS department FROM machines m JOIN departments d ON d.id = m.department_id
            WHERE m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
        ),
        live AS (SELECT id FROM schedules WHERE is_live),
        runs AS (
            SELECT 'running' AS kind, a.machine_id FROM assignments a
            WHERE a.actual_start IS NOT NULL AND a.actual_end IS NULL AND a.actual_start <= $2
              AND a.schedule_id = (SELECT id FROM live)
            UNION ALL
            SELECT 'late', a.machine_id FROM assignments a
            WHERE a.actual_end IS NULL AND a.scheduled_end < $2 AND a.schedule_id = (SELECT id FROM live)
        )
        SELECT r.kind, sm.department, count(*) AS n
        FROM runs r JOIN sm ON sm.id = r.machine_id
        GROUP BY r.kind, sm.department
        "#,
    )
    .bind(department)
    .bind(now);
    // The reads are independent: run them side by side; only `forward` waits for the views'
    // coverage. Finished runs, the real-time lists and their tallies plan alike whatever the
    // parameters (on the large factory, for the whole plant or a department, views or raw:
    // 1.2–2.2 ms of planning each, and a generic plan runs as fast as a custom one): they run
    // on the generic-plan sessions.
    let (
        (machines, finished, mut status, tallies),
        Forward {
            as_of,
            load_from,
            horizon,
            loads,
            counts,
        },
    ) = tokio::try_join!(
        async {
            tokio::try_join!(
                machines_q,
                finished_q.fetch_all(&ctx.generic),
                status_q.fetch_all(&ctx.generic),
                tallies_q.fetch_all(&ctx.generic),
            )
            .map_err(store_error)
        },
        forward(ctx, department, now, window_from, use_views),
    )?;
    // The statements ran side by side: a machine retired in between drops out of both.
    let in_scope: HashMap<i64, &MachineRow> = machines.iter().map(|m| (m.id, m)).collect();
    status.retain_mut(|r| match in_scope.get(&r.machine_id) {
        Some(m) => {
            r.machine.clone_from(&m.code);
            r.department.clone_from(&m.department);
            true
        }
        None => false,
    });
    let mut plant = Seconds::default();
    let mut per_dept: HashMap<&str, Seconds> = HashMap::new();
    for r in &finished {
        let s = Seconds {
            planned: r.planned_s,
            operating: r.operating_s,
            ideal: r.ideal_s,
            good: r.good_qty,
            scrap: r.scrap_qty,
            runs: r.runs,
            ..Seconds::default()
        };
        plant.add(&s);
        if let Some(d) = machines.iter().find(|m| m.department == r.department) {
            per_dept.entry(d.department.as_str()).or_default().add(&s);
        }
    }
    let plant_oee = oee(&plant);

    // Available: the machines' calendar time in the window minus their downtime (a union per
    // machine, clipped to the window).
    let horizon_s = (horizon - load_from).num_seconds() as f64;
    let mut load_plant = (0.0, 0.0);
    let mut load_dept: HashMap<&str, (f64, f64)> = HashMap::new();
    for l in &loads {
        let available = (l.machines as f64 * horizon_s - l.downtime_s).max(0.0);
        load_plant.0 += l.scheduled_s;
        load_plant.1 += available;
        load_dept.insert(l.department.as_str(), (l.scheduled_s, available));
    }

    let item = |r: &StatusRow| StatusItem {
        machine: r.machine.clone(),
        department: r.department.clone(),
        what: r.what.clone(),
        since: r.since,
        until: r.until,
    };
    let in_downtime: HashSet<i64> = of_kind(&status, "down").map(|r| r.machine_id).collect();
    let machines_down = count_machines_down(&machines, &in_downtime, None);
    let tally = |kind: &str, department: Option<&str>| -> i64 {
        tallies
            .iter()
            .filter(|t| t.kind == kind && department.is_none_or(|d| t.department == d))
            .map(|t| t.n)
            .sum()
    };
    let running = tally("running", None);
    let late_tasks = tally("late", None);

    let on_time = ratio(counts.on_time as f64, counts.completed as f64);
    let load_next = ratio(load_plant.0, load_plant.1);
    let kpis = Kpis {
        oee: plant_oee.clone(),
        on_time_delivery: on_time.map(round6),
        scheduled_utilization_next_7d: load_next.map(round6),
        open_jobs: counts.open_jobs,
        late_jobs: counts.late_jobs,
        machines_down,
        machines_in_service: machines.len() as i64,
        running_now: running,
        late_tasks,
    };
    let health = health(
        on_time,
        plant_oee.oee,
        counts.open_jobs,
        counts.late_jobs,
        load_next,
        machines.len() as i64,
        machines_down,
    );

    let mut dept_names: Vec<&str> = machines.iter().map(|m| m.department.as_str()).collect();
    dept_names.sort_unstable();
    dept_names.dedup();
    let departments: Vec<DepartmentSummary> = dept_names
        .iter()
        .map(|d| {
            let load = load_dept.get(d).copied().unwrap_or((0.0, 0.0));
            DepartmentSummary {
                department: (*d).to_string(),
                machines: machines.iter().filter(|m| m.department == *d).count() as i64,
                machines_down: count_machines_down(&machines, &in_downtime, Some(d)),
                running_now: tally("running", Some(d)),
                scheduled_utilization_next_7d: ratio(load.0, load.1).map(round6),
                oee: per_dept.get(d).and_then(|s| oee(s).oee),
                late_tasks: tally("late", Some(d)),
            }
        })
        .collect();

    let alerts = alerts(&kpis, &departments, &status);
    let limit = STATUS_LIMIT as usize;
    Ok(DashboardSummary {
        as_of,
        kpis,
        health,
        alerts,
        departments,
        status: RealTimeStatus {
            running: of_kind(&status, "running").take(limit).map(item).collect(),
            late: of_kind(&status, "late").take(limit).map(item).collect(),
            down: of_kind(&status, "down").take(limit).map(item).collect(),
        },
    })
}

/// The reads whose split between views and live SQL depends on the views' coverage (read
/// first): the next seven days' load, the open order book and the window's completed jobs.
struct Forward {
    as_of: AsOf,
    load_from: DateTime<Utc>,
    horizon: DateTime<Utc>,
    loads: Vec<LoadRow>,
    counts: Counts,
}

async fn forward(
    ctx: &ReadContext,
    department: Option<i64>,
    now: DateTime<Utc>,
    window_from: DateTime<Utc>,
    use_views: bool,
) -> Result<Forward, AppError> {
    let as_of = ctx.as_of().await?;
    // Load of the next seven days per department: the 168 local hours from the start of the
    // current one, from the hourly view while the watermark allows, live from it on.
    let load_from = ctx.hour_start(now);
    let horizon = load_from + Duration::days(7);
    // Whole hours of the views serve the horizon: no live part to plan, and one plan fits
    // every ask (on the generic-plan sessions: its custom planning cost more than its run).
    let views_cover_horizon = views_cover(use_views, as_of.views, horizon);
    let sched_sql = if views_cover_horizon {
        r#"SELECT h.department_id, h.scheduled_s AS s
            FROM mv_hourly_department_utilization h
            WHERE h.hour_start >= $2 AND h.hour_start < $3
              AND ($1::BIGINT IS NULL OR h.department_id = $1)"#
    } else {
        r#"SELECT h.department_id, h.scheduled_s AS s
            FROM mv_hourly_department_utilization h, cfg
            WHERE h.hour_start >= $2 AND h.hour_start < cfg.views_to
              AND ($1::BIGINT IS NULL OR h.department_id = $1)
            UNION ALL
            SELECT sm.department_id,
                   extract(epoch FROM least(a.scheduled_end, $3) - greatest(a.scheduled_start, cfg.views_to))
            FROM cfg
            JOIN assignments a ON a.schedule_id = (SELECT id FROM schedules WHERE is_live)
                 AND tstzrange(a.scheduled_start, a.scheduled_end) && tstzrange(cfg.views_to, $3)
                 AND a.scheduled_end > cfg.views_to AND a.scheduled_start < $3
            JOIN sm ON sm.id = a.machine_id
            WHERE cfg.views_to < $3"#
    };
    let loads_sql = format!(
        r#"
        WITH cfg AS (
            SELECT CASE WHEN $4 THEN greatest($2, least(mv_covers_before, $3)) ELSE $2 END AS views_to
            FROM read_model_state
        ),
        sm AS (SELECT id, department_id FROM machines WHERE status <> 'retired' AND ($1::BIGINT IS NULL OR department_id = $1)),
        sched AS MATERIALIZED ({sched_sql}),
        down AS (
            SELECT sm.department_id, extract(epoch FROM upper(u.r) - lower(u.r)) AS s
            FROM (SELECT d.machine_id, unnest(range_agg(tstzrange(greatest(d.starts_at, $2), least(d.ends_at, $3)))) AS r
                  FROM machine_downtimes d JOIN sm ON sm.id = d.machine_id
                  WHERE d.ends_at > $2 AND d.starts_at < $3
                  GROUP BY d.machine_id) u
            JOIN sm ON sm.id = u.machine_id
        ),
        per_sched AS MATERIALIZED (SELECT department_id, sum(s) AS s FROM sched GROUP BY 1),
        per_down AS MATERIALIZED (SELECT department_id, sum(s) AS s FROM down GROUP BY 1),
        per_machines AS (SELECT department_id, count(*) AS n FROM sm GROUP BY 1)
        SELECT d.code AS department, m.n AS machines,
               coalesce(x.s, 0)::float8 AS scheduled_s, coalesce(y.s, 0)::float8 AS downtime_s
        FROM per_machines m
        JOIN departments d ON d.id = m.department_id
        LEFT JOIN per_sched x ON x.department_id = m.department_id
        LEFT JOIN per_down y ON y.department_id = m.department_id
        "#
    );
    let loads_q = sqlx::query_as::<_, LoadRow>(&loads_sql)
        .bind(department)
        .bind(load_from)
        .bind(horizon)
        .bind(use_views)
        .fetch_all(if views_cover_horizon {
            &ctx.generic
        } else {
            &ctx.pool
        });
    // Jobs completed in the window: from the job-flow views up to the watermark (read with
    // `as_of`, so the split matches the answer's stated coverage), live after it. Whole local
    // days come from the daily roll-up, the day the split cuts from the per-job rows. With
    // fresh views the live part is not even planned (its inlined job facts cost milliseconds
    // to plan).
    let live_from = live_from(use_views, as_of.views, window_from, now);
    let view_to = live_from.unwrap_or(now);
    let whole_days_to = ctx.local_midnight(view_to).max(window_from);
    // The open order book: from its roll-up while nothing changed since the refresh (jobs due
    // in hours that have ended are late; the current hour's are counted live), else live.
    let views_fresh = use_views && as_of.views == ViewCoverage::Everything;
    let open_sql = if views_fresh {
        r#"SELECT coalesce(sum(o.jobs), 0)::bigint AS open_jobs,
                  coalesce(sum(o.jobs) FILTER (WHERE o.due_hour < date_trunc('hour', $2, 'UTC')), 0)::bigint
                  + (SELECT count(*) FROM jobs j
                     WHERE j.status IN ('planned', 'released', 'in_progress')
                       AND j.due_at >= date_trunc('hour', $2, 'UTC') AND j.due_at < $2
                       AND ($1::BIGINT IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.department_id = $1))
                    ) AS late_jobs
           FROM mv_open_jobs_by_due_hour o WHERE o.department_id = coalesce($1, 0)"#
    } else {
        r#"SELECT count(*) AS open_jobs, count(*) FILTER (WHERE j.due_at < $2) AS late_jobs FROM jobs j
           WHERE j.status IN ('planned', 'released', 'in_progress')
             AND ($1::BIGINT IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.department_id = $1))"#
    };
    let counts_sql = format!(
        r#"
        WITH open AS ({open_sql}),
        done AS (
            SELECT sum(x.n)::bigint AS completed, sum(x.on_time)::bigint AS on_time FROM (
                SELECT r.jobs AS n, r.on_time FROM mv_daily_job_completions r
                WHERE r.department_id = coalesce($1, 0) AND r.day >= $5 AND r.day < $6
                UNION ALL
                SELECT count(*), count(*) FILTER (WHERE v.on_time) FROM mv_daily_job_flow_metrics v
                WHERE v.completed_at >= $4 AND v.completed_at < $3
                  AND ($1::BIGINT IS NULL OR $1 = ANY (v.department_ids))
            ) x
        )
        SELECT o.open_jobs, o.late_jobs, d.completed, d.on_time FROM open o, done d
        "#
    );
    let counts_q = sqlx::query_as::<_, Counts>(&counts_sql)
        .bind(department)
        .bind(now)
        .bind(view_to)
        .bind(whole_days_to)
        .bind(ctx.local_date(window_from))
        .bind(ctx.local_date(whole_days_to))
        .fetch_one(if views_fresh { &ctx.generic } else { &ctx.pool });
    let live_done_q = async {
        let Some(from) = live_from.filter(|f| *f < now) else {
            return Ok((0, 0));
        };
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT count(*), count(*) FILTER (WHERE f.on_time) FROM job_flow_facts($2, $3) f
             WHERE $1::BIGINT IS NULL OR $1 = ANY (f.department_ids)",
        )
        .bind(department)
        .bind(from)
        .bind(now)
        .fetch_one(&ctx.pool)
        .await
    };
    let (loads, mut counts, live_done) =
        tokio::try_join!(loads_q, counts_q, live_done_q).map_err(store_error)?;
    counts.completed += live_done.0;
    counts.on_time += live_done.1;
    Ok(Forward {
        as_of,
        load_from,
        horizon,
        loads,
        counts,
    })
}

/// Machines in scope (of one department, if given) that are out of service or in a downtime
/// now, each counted once.
fn count_machines_down(
    machines: &[MachineRow],
    in_downtime: &HashSet<i64>,
    department: Option<&str>,
) -> i64 {
    machines
        .iter()
        .filter(|m| department.is_none_or(|d| m.department == d))
        .filter(|m| m.status == "out_of_service" || in_downtime.contains(&m.id))
        .count() as i64
}

fn of_kind<'a>(status: &'a [StatusRow], kind: &'a str) -> impl Iterator<Item = &'a StatusRow> + 'a {
    status.iter().filter(move |r| r.kind == kind)
}

/// Alerts, most severe first (METRICS.md, "Alerts").
fn alerts(kpis: &Kpis, departments: &[DepartmentSummary], status: &[StatusRow]) -> Vec<Alert> {
    let mut out = Vec::new();
    for r in status.iter().filter(|r| r.kind == "down") {
        let breakdown = r.what == "breakdown";
        out.push(Alert {
            severity: if breakdown {
                Severity::High
            } else {
                Severity::Low
            },
            kind: if breakdown {
                "breakdown"
            } else {
                "maintenance"
            }
            .into(),
            subject: r.machine.clone(),
            message: format!(
                "{} {} in {}{}",
                r.machine,
                if breakdown {
                    "is broken down"
                } else {
                    "is in planned maintenance"
                },
                r.department,
                r.until
                    .map(|u| format!(" until {}", u.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ),
            recommended_action: if breakdown {
                "dispatch maintenance and re-plan its queued tasks onto alternative machines".into()
            } else {
                "check that no task is planned on it during the window".into()
            },
        });
    }
    if kpis.open_jobs > 0 && kpis.late_jobs > 0 {
        let share = kpis.late_jobs as f64 / kpis.open_jobs as f64;
        out.push(Alert {
            severity: if share >= 0.05 {
                Severity::Critical
            } else {
                Severity::High
            },
            kind: "late_jobs".into(),
            subject: "plant".into(),
            message: format!(
                "{} of {} open jobs are past their due date",
                kpis.late_jobs, kpis.open_jobs
            ),
            recommended_action:
                "re-optimize the plan with due-date weighting and agree new dates for the rest"
                    .into(),
        });
    }
    for d in departments {
        if d.late_tasks > 0 {
            out.push(Alert {
                severity: if d.late_tasks > 10 {
                    Severity::High
                } else {
                    Severity::Medium
                },
                kind: "late_tasks".into(),
                subject: d.department.clone(),
                message: format!(
                    "{} tasks in {} are past their planned end and not finished",
                    d.late_tasks, d.department
                ),
                recommended_action: "record progress or re-plan the department's queue".into(),
            });
        }
        if let Some(u) = d.scheduled_utilization_next_7d {
            if u > 0.95 {
                out.push(Alert {
                    severity: if u > 1.0 {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    kind: "overload".into(),
                    subject: d.department.clone(),
                    message: format!(
                        "{} is planned at {:.0}% of available time for the next 7 days",
                        d.department,
                        u * 100.0
                    ),
                    recommended_action:
                        "add an overtime shift or move work to alternative machines".into(),
                });
            }
        }
    }
    if let Some(o) = kpis.oee.oee {
        if o < 0.6 {
            let weakest = [
                ("availability", kpis.oee.availability),
                ("performance", kpis.oee.performance),
                ("quality", kpis.oee.quality),
            ]
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, _)| n)
            .unwrap_or("availability");
            out.push(Alert {
                severity: Severity::Medium,
                kind: "low_oee".into(),
                subject: "plant".into(),
                message: format!("OEE is {:.0}%, below 60%", o * 100.0),
                recommended_action: format!("work on {weakest}, the weakest OEE factor"),
            });
        }
    }
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_renormalises_missing_components() {
        let h = health(None, None, 0, 0, None, 10, 0);
        assert_eq!(h.score, 100.0);
        assert_eq!(h.components.len(), 1);
        let h = health(Some(0.5), Some(0.85), 10, 5, Some(0.85), 10, 5);
        // 0.3×0.5 + 0.25×1 + 0.2×0.5 + 0.15×1 + 0.1×0.5 = 0.7
        assert!((h.score - 70.0).abs() < 1e-6, "{}", h.score);
        assert_eq!(h.band, HealthBand::Amber);
    }
}
