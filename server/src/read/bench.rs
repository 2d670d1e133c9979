//! `takt bench-read`: times the read models on the database at hand (meant for the large demo
//! factory) and prints a table: p50/p95 with the views and from raw tables (the ratio is the
//! point), cache-hit latency, the freshness delay after a command and the refresh time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::{DepartmentCode, PlantScope};
use app::error::AppError;
use app::ports::ReadQueries;
use app::read_models::{
    BucketSize, GetDashboardSummary, GetJobFlowMetrics, GetMachineUtilization, GetOperatorWorkload,
    OverloadThresholds, Page, TimeRange,
};

use super::{
    dashboard, freshness, job_flow, machine_utilization, operator_workload, system_clock, QueryBus,
    ReadConfig, ReadContext,
};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Timed runs per query with the views (raw runs: a fifth, at least 3).
    pub iterations: usize,
    /// Also time the raw-table baseline.
    pub raw: bool,
    /// Skip vacuum, the refresh (unless the views are behind) and the freshness probes.
    pub queries_only: bool,
    /// Only the queries whose name contains this (tuning one of them; implies `queries_only`).
    pub only: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Timing {
    pub p50_ms: f64,
    pub p95_ms: f64,
}

pub fn percentiles(mut ms: Vec<f64>) -> Timing {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if ms.is_empty() {
            return f64::NAN;
        }
        let i = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms[i.min(ms.len() - 1)]
    };
    Timing {
        p50_ms: at(0.5),
        p95_ms: at(0.95),
    }
}

/// Untimed runs before the timed ones, with the views: the reads fan out over two pools of up
/// to ten connections each, and each connection prepares (and, on the generic-plan sessions,
/// plans) a statement the first time it runs it. Five runs left the first ten timed
/// dashboards at twice the steady state's time. From raw tables (seconds each) a warm-up run
/// only warms the buffers.
const WARM_UP_RUNS: usize = 20;
const RAW_WARM_UP_RUNS: usize = 2;

async fn time<F, Fut, T>(n: usize, warm_up: usize, mut f: F) -> Result<Timing, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    // Untimed runs warm Postgres' buffers and, on every pooled connection a query fans out
    // to, the prepared statements and catalog caches (a running server's steady state).
    for _ in 0..warm_up {
        f().await?;
    }
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    if std::env::var_os("TAKT_BENCH_TRACE").is_some() {
        eprintln!("{ms:.1?}");
    }
    Ok(percentiles(ms))
}

struct Row {
    name: &'static str,
    target_ms: Option<f64>,
    views: Timing,
    raw: Option<Timing>,
}

pub async fn run(pool: PgPool, tz: chrono_tz::Tz, opts: BenchOptions) -> anyhow::Result<()> {
    let ctx = ReadContext::new(pool.clone(), tz, system_clock());
    ctx.sync_time_zone().await?;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM machines), (SELECT count(*) FROM operators), (SELECT count(*) FROM assignments)",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "factory: {} machines, {} operators, {} assignments",
        counts.0, counts.1, counts.2
    );
    let behind = ctx.as_of().await?.views != app::read_models::ViewCoverage::Everything;
    let queries_only = opts.queries_only || opts.only.is_some();
    if !queries_only || behind {
        println!("vacuum analyze …");
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
        let refresh = ctx.refresh().await?;
        println!(
            "refresh_scheduling_read_models(): {:.0} ms (views: {:?})",
            refresh.took_ms, refresh.views
        );
        // A concurrent refresh leaves the views' old rows dead until autovacuum comes by
        // (minutes later on a live server); time the steady state, not that window.
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    }

    let now = ctx.now();
    let n = opts.iterations.max(3);
    let n_raw = (n / 5).max(3);
    let days = |d: i64| TimeRange::new(now - chrono::Duration::days(d), now);
    let dash = GetDashboardSummary::new(PlantScope::WholePlant, 7)?;
    let mu_hour = GetMachineUtilization::new(
        PlantScope::WholePlant,
        None,
        days(30)?,
        BucketSize::Hour,
        Page::default(),
    )?;
    let mu_year = GetMachineUtilization::new(
        PlantScope::WholePlant,
        None,
        days(365)?,
        BucketSize::Week,
        Page::default(),
    )?;
    let ops = GetOperatorWorkload {
        scope: PlantScope::WholePlant,
        range: days(30)?,
        page: Page::default(),
        thresholds: OverloadThresholds::default(),
    };
    let flow = GetJobFlowMetrics {
        scope: PlantScope::WholePlant,
        range: days(91)?,
        page: Page::default(),
    };

    let mut rows = Vec::new();
    macro_rules! case {
        ($name:expr, $target:expr, $module:ident, $q:expr) => {{
            if opts.only.as_deref().is_none_or(|only| $name.contains(only)) {
                let views = time(n, WARM_UP_RUNS, || $module::run(&ctx, &$q, true)).await?;
                let raw = if opts.raw {
                    Some(time(n_raw, RAW_WARM_UP_RUNS, || $module::run(&ctx, &$q, false)).await?)
                } else {
                    None
                };
                rows.push(Row {
                    name: $name,
                    target_ms: $target,
                    views,
                    raw,
                });
            }
        }};
    }
    case!(
        "dashboard summary (7-day window)",
        Some(15.0),
        dashboard,
        dash
    );
    case!(
        "machine utilization, 30 days hourly",
        Some(30.0),
        machine_utilization,
        mu_hour
    );
    case!(
        "machine utilization, a year weekly",
        Some(30.0),
        machine_utilization,
        mu_year
    );
    case!(
        "operator load, 30 days + forecast",
        None,
        operator_workload,
        ops
    );
    case!("job flow, a quarter", Some(50.0), job_flow, flow);

    // Cache hits through the bus.
    let bus = Arc::new(QueryBus::new(ctx.clone(), ReadConfig::default()));
    bus.dashboard(dash.clone()).await?;
    let hit = time(n, WARM_UP_RUNS, || bus.dashboard(dash.clone())).await?;
    rows.push(Row {
        name: "dashboard summary, cache hit",
        target_ms: None,
        views: hit,
        raw: None,
    });

    println!();
    println!(
        "{:<40} {:>9} {:>9} {:>10} {:>10} {:>8} {:>8}",
        "query", "p50 ms", "p95 ms", "raw p50", "raw p95", "raw/mv", "target"
    );
    for r in &rows {
        let (rp50, rp95, ratio) = match &r.raw {
            Some(raw) => (
                format!("{:.1}", raw.p50_ms),
                format!("{:.1}", raw.p95_ms),
                format!("{:.1}x", raw.p50_ms / r.views.p50_ms),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let target = match r.target_ms {
            Some(t) if r.views.p95_ms <= t => format!("≤{t:.0} ok"),
            Some(t) => format!("≤{t:.0} MISS"),
            None => "-".into(),
        };
        println!(
            "{:<40} {:>9.2} {:>9.2} {:>10} {:>10} {:>8} {:>8}",
            r.name, r.views.p50_ms, r.views.p95_ms, rp50, rp95, ratio, target
        );
    }

    if queries_only {
        return Ok(());
    }
    // Freshness: a command (a breakdown starting now, with its domain event) and then the
    // dashboard of that department until it shows the machine down.
    freshness::spawn(bus.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let delay = freshness_after_breakdown(&pool, &bus, now).await?;
    println!();
    println!(
        "freshness: command → dashboard shows it: {:.0} ms (target ≤ 2000 ms)",
        delay
    );
    let delay = freshness_after_history_change(&pool, &bus, &ctx).await?;
    println!(
        "freshness: history-changing command → 7-day utilization shows it: {:.0} ms (target ≤ 2000 ms)",
        delay
    );
    for s in bus.stats() {
        println!(
            "bus {:?}: hits {} misses {} hit rate {} mean {} ms",
            s.kind,
            s.hits,
            s.misses,
            s.hit_rate
                .map(|h| format!("{:.0}%", h * 100.0))
                .unwrap_or_else(|| "-".into()),
            s.mean_ms
                .map(|m| format!("{m:.2}"))
                .unwrap_or_else(|| "-".into()),
        );
    }
    Ok(())
}

async fn freshness_after_breakdown(
    pool: &PgPool,
    bus: &QueryBus,
    now: DateTime<Utc>,
) -> anyhow::Result<f64> {
    let (machine, department_id, code): (i64, i64, String) = sqlx::query_as(
        "SELECT m.id, m.department_id, d.code FROM machines m JOIN departments d ON d.id = m.department_id
         WHERE m.status = 'in_service'
           AND NOT EXISTS (SELECT 1 FROM machine_downtimes x WHERE x.machine_id = m.id AND x.starts_at <= $1 AND x.ends_at > $1)
         ORDER BY m.id LIMIT 1",
    )
    .bind(now)
    .fetch_one(pool)
    .await?;
    let q = GetDashboardSummary::new(PlantScope::Department(DepartmentCode::parse(&code)?), 7)?;
    let before = bus.dashboard(q.clone()).await?.kpis.machines_down;
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at, reason)
         VALUES ($1, 'breakdown', now() - interval '1 second', now() + interval '2 hours', 'bench-read freshness probe')",
    )
    .bind(machine)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, department_id, actor, payload)
         VALUES ('machine', $1, 'MachineBrokeDown', $2, 'bench', jsonb_build_object('affects_from', now() - interval '1 second'))",
    )
    .bind(machine.to_string())
    .bind(department_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    loop {
        let d = bus.dashboard(q.clone()).await?;
        if d.kpis.machines_down > before {
            return Ok(started.elapsed().as_secs_f64() * 1000.0);
        }
        if started.elapsed() > Duration::from_secs(10) {
            anyhow::bail!("the dashboard did not show the breakdown within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn freshness_after_history_change(
    pool: &PgPool,
    bus: &QueryBus,
    ctx: &ReadContext,
) -> anyhow::Result<f64> {
    let now = ctx.now();
    let from = ctx.local_midnight(now) - chrono::Duration::days(3);
    let q = GetMachineUtilization::new(
        PlantScope::WholePlant,
        None,
        TimeRange::new(from, ctx.local_midnight(now))?,
        BucketSize::Day,
        Page::default(),
    )?;
    let before = bus.machine_utilization(q.clone()).await?.total.downtime_h;
    let starts = from + chrono::Duration::hours(30);
    // A machine without downtime then (earlier runs of the benchmark left their probes).
    let (machine, department_id): (i64, i64) = sqlx::query_as(
        "SELECT m.id, m.department_id FROM machines m WHERE m.status = 'in_service'
           AND NOT EXISTS (SELECT 1 FROM machine_downtimes x WHERE x.machine_id = m.id
                           AND x.starts_at < $1 + interval '5 hours' AND x.ends_at > $1)
         ORDER BY m.id DESC LIMIT 1",
    )
    .bind(starts)
    .fetch_one(pool)
    .await?;
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // A breakdown recorded after the fact, two days ago: history changes.
    sqlx::query(
        "INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at, reason)
         VALUES ($1, 'breakdown', $2, $2 + interval '5 hours', 'bench-read history probe')",
    )
    .bind(machine)
    .bind(starts)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, department_id, actor, payload)
         VALUES ('machine', $1, 'DowntimeRecorded', $2, 'bench', jsonb_build_object('affects_from', $3::timestamptz))",
    )
    .bind(machine.to_string())
    .bind(department_id)
    .bind(starts)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    loop {
        let m = bus.machine_utilization(q.clone()).await?;
        if m.total.downtime_h > before {
            return Ok(started.elapsed().as_secs_f64() * 1000.0);
        }
        if started.elapsed() > Duration::from_secs(10) {
            anyhow::bail!("utilization did not show the recorded breakdown within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
