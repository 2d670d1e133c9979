//! The query bus and the freshness loop: cache hits, invalidation per department, answers
//! that reflect a command within 2 s, and the index proof (no sequential scan of assignments
//! for a dashboard answer).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::{DepartmentCode, PlantScope};
use app::ports::ReadQueries;
use app::read_models::{
    BucketSize, GetDashboardSummary, GetMachineUtilization, Page, TimeRange, ViewCoverage,
};
use common::minimal_plant;
use takt_server::read::bus::QueryKind;
use takt_server::read::{
    explain, freshness, generic_plan_pool, system_clock, QueryBus, ReadConfig, ReadContext,
};

fn dept(code: &str) -> PlantScope {
    PlantScope::Department(DepartmentCode::parse(code).unwrap())
}

async fn two_departments(pool: &PgPool) -> (i64, i64) {
    let p = minimal_plant(pool).await;
    let paint: i64 = sqlx::query_scalar(
        "INSERT INTO departments (code, name) VALUES ('paint', 'Paint') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on)
         VALUES ('BOOTH-01', 'Booth 1', $1, 'paint-booth', 20, '2021-01-01')",
    )
    .bind(paint)
    .execute(pool)
    .await
    .unwrap();
    (p.machine, p.department)
}

fn stats(bus: &QueryBus) -> (u64, u64) {
    let s = bus
        .stats()
        .into_iter()
        .find(|s| s.kind == QueryKind::Dashboard)
        .unwrap();
    (s.hits, s.misses)
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn invalidation_drops_one_department_and_the_plant_not_the_others(pool: PgPool) {
    let (lathe, _) = two_departments(&pool).await;
    let now: DateTime<Utc> = "2026-11-11T13:00:00Z".parse().unwrap();
    let ctx = ReadContext::new(
        pool.clone(),
        chrono_tz::Europe::Berlin,
        Arc::new(move || now),
    );
    let bus = QueryBus::new(ctx, ReadConfig::default());
    let q = |scope| GetDashboardSummary::new(scope, 7).unwrap();
    for scope in [dept("machining"), dept("paint"), PlantScope::WholePlant] {
        let d = bus.dashboard(q(scope)).await.unwrap();
        assert!(!d.as_of.from_cache);
        assert_eq!(d.kpis.machines_down, 0);
    }
    assert_eq!(stats(&bus), (0, 3));
    for scope in [dept("machining"), dept("paint"), PlantScope::WholePlant] {
        assert!(bus.dashboard(q(scope)).await.unwrap().as_of.from_cache);
    }
    assert_eq!(stats(&bus), (3, 3));

    // A command in machining: the lathe breaks down now.
    sqlx::query("INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at) VALUES ($1, 'breakdown', '2026-11-11T12:00Z', '2026-11-11T18:00Z')")
        .bind(lathe)
        .execute(&pool)
        .await
        .unwrap();
    bus.invalidate(Some(&DepartmentCode::parse("machining").unwrap()));

    let paint = bus.dashboard(q(dept("paint"))).await.unwrap();
    assert!(
        paint.as_of.from_cache,
        "paint was not touched and stays cached"
    );
    let machining = bus.dashboard(q(dept("machining"))).await.unwrap();
    assert!(!machining.as_of.from_cache, "machining is recomputed");
    assert_eq!(machining.kpis.machines_down, 1);
    let plant = bus.dashboard(q(PlantScope::WholePlant)).await.unwrap();
    assert!(
        !plant.as_of.from_cache,
        "the whole plant includes machining"
    );
    assert_eq!(plant.kpis.machines_down, 1);
    assert_eq!(stats(&bus), (4, 5));
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_command_shows_in_every_read_model_within_two_seconds(pool: PgPool) {
    let (lathe, machining) = two_departments(&pool).await;
    let ctx = ReadContext::new(pool.clone(), chrono_tz::Europe::Berlin, system_clock());
    ctx.refresh().await.unwrap();
    let bus = Arc::new(QueryBus::new(ctx.clone(), ReadConfig::default()));
    let loop_handle = freshness::spawn(bus.clone());
    // Let the loop subscribe (and do its start-up refresh).
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Today: a breakdown starting now, as a command would record it with its event.
    let q = GetDashboardSummary::new(dept("machining"), 7).unwrap();
    assert_eq!(
        bus.dashboard(q.clone()).await.unwrap().kpis.machines_down,
        0
    );
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at) VALUES ($1, 'breakdown', now() - interval '1 minute', now() + interval '1 hour')")
        .bind(lathe)
        .execute(&mut *tx)
        .await
        .unwrap();
    let event: i64 = sqlx::query_scalar("INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, department_id, actor, payload) VALUES ('machine', 'LATHE-01', 'MachineBrokeDown', $1, 'test', jsonb_build_object('affects_from', now() - interval '1 minute')) RETURNING id")
        .bind(machining)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let seen = loop {
        let d = bus.dashboard(q.clone()).await.unwrap();
        if d.kpis.machines_down == 1 {
            break d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not fresh within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        seen.as_of.event_id >= event,
        "the answer says it reflects the event"
    );

    // History: a breakdown two days ago recorded after the fact. The views hold that day; the
    // event lowers the watermark so the answer is live at once, then a refresh follows.
    let today = ctx.local_midnight(Utc::now());
    let range = TimeRange::new(today - chrono::Duration::days(4), today).unwrap();
    let mq = GetMachineUtilization::new(
        dept("machining"),
        None,
        range,
        BucketSize::Day,
        Page::default(),
    )
    .unwrap();
    let before = bus.machine_utilization(mq.clone()).await.unwrap();
    assert_eq!(before.total.downtime_h, 0.0);
    assert_ne!(before.as_of.views, ViewCoverage::Nothing);
    let starts = today - chrono::Duration::days(2) + chrono::Duration::hours(10);
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at) VALUES ($1, 'breakdown', $2, $2 + interval '3 hours')")
        .bind(lathe)
        .bind(starts)
        .execute(&mut *tx)
        .await
        .unwrap();
    let event: i64 = sqlx::query_scalar("INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, department_id, actor, payload) VALUES ('machine', 'LATHE-01', 'DowntimeRecorded', $1, 'test', jsonb_build_object('affects_from', $2::timestamptz)) RETURNING id")
        .bind(machining)
        .bind(starts)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    loop {
        let m = bus.machine_utilization(mq.clone()).await.unwrap();
        if m.total.downtime_h == 3.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "history not fresh within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The debounced refresh catches the views up and raises the watermark again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (through, everything): (i64, bool) = sqlx::query_as(
            "SELECT refreshed_through_event, mv_covers_before = 'infinity' FROM read_model_state",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if through >= event && everything {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no refresh after the history event"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let view: f64 = sqlx::query_scalar("SELECT coalesce(sum(downtime_s), 0)::float8 FROM mv_daily_machine_utilization WHERE machine_id = $1 AND day_start < $2")
        .bind(lathe)
        .bind(today)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        view,
        3.0 * 3600.0,
        "the view now holds the recorded breakdown"
    );
    let after = bus.machine_utilization(mq).await.unwrap();
    assert_eq!(after.total.downtime_h, 3.0);
    loop_handle.abort();
}

/// The demo generator's smallest factory; with `enable_seqscan = off` the planner takes any
/// usable index, so a sequential scan of assignments would mean no index can serve the query.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_dashboard_answer_reads_assignments_only_through_indexes(pool: PgPool) {
    let now: DateTime<Utc> = "2026-11-11T13:00:00Z".parse().unwrap();
    let options = takt_server::demo::GenerateOptions {
        size: takt_server::demo::DemoSize::Machines(8),
        seed: 7,
        now,
        plant_tz: chrono_tz::Europe::Berlin,
    };
    takt_server::demo::seed_if_empty(&pool, &options)
        .await
        .unwrap();
    let ctx = ReadContext::new(
        pool.clone(),
        chrono_tz::Europe::Berlin,
        Arc::new(move || now),
    );
    ctx.refresh().await.unwrap();
    let single = explain::single_connection(&pool, true).await.unwrap();
    let on_one = explain::context_on(single.clone(), chrono_tz::Europe::Berlin, now);
    let q = GetDashboardSummary::new(PlantScope::WholePlant, 7).unwrap();
    let (answer, scans) = explain::scans_during(&single, || {
        takt_server::read::dashboard::run(&on_one, &q, true)
    })
    .await
    .unwrap();
    let answer = answer.unwrap();
    assert!(
        answer.kpis.oee.oee.is_some(),
        "the demo plant has finished runs in the window"
    );
    let a = scans.get("assignments").copied().unwrap_or_default();
    assert_eq!(a.seq, 0, "sequential scans of assignments: {scans:?}");
    assert!(
        a.index > 0,
        "the dashboard reads assignments through indexes: {scans:?}"
    );
}

/// The generic-plan sessions keep generic plans and the rest of the session settings; the
/// main pool's sessions are left as they were.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn generic_plan_sessions_keep_generic_plans(pool: PgPool) {
    let options = (*pool.connect_options())
        .clone()
        .options(takt_server::db::SESSION_SETTINGS);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let generic = generic_plan_pool(&pool);
    async fn show(pool: &PgPool, sql: &str) -> String {
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    }
    assert_eq!(
        show(&generic, "SHOW plan_cache_mode").await,
        "force_generic_plan"
    );
    assert_ne!(
        show(&pool, "SHOW plan_cache_mode").await,
        "force_generic_plan"
    );
    assert_eq!(show(&generic, "SHOW jit").await, "off");
    assert_eq!(
        show(&generic, "SELECT current_database()").await,
        show(&pool, "SELECT current_database()").await
    );
}
