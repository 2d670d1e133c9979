//! Every read-model metric against a hand-worked fixture (docs/METRICS.md). The expected
//! numbers are worked out in the comments; each is checked with the views (after a refresh), and
//! where it matters also live (no refresh) and raw (`use_views = false`).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::{DepartmentCode, PlantScope};
use app::read_models::{
    BucketSize, GetDashboardSummary, GetJobFlowMetrics, GetMachineUtilization, GetOperatorWorkload,
    HealthBand, OverloadThresholds, Page, Severity, TimeRange, ViewCoverage,
};
use common::{another_task, minimal_plant, Plant};
use takt_server::read::roster::{shift_slots, ShiftDefinition};
use takt_server::read::{dashboard, job_flow, machine_utilization, operator_workload, ReadContext};

/// "2026-11-10T20:00Z" (minutes precision, as in the comments) to a moment.
fn at(s: &str) -> DateTime<Utc> {
    let full = if s.matches(':').count() == 1 {
        s.replace('Z', ":00Z")
    } else {
        s.to_string()
    };
    full.parse().unwrap()
}

fn ctx(pool: &PgPool, now: &str) -> ReadContext {
    let now = at(now);
    ReadContext::new(
        pool.clone(),
        chrono_tz::Europe::Berlin,
        Arc::new(move || now),
    )
}

fn close(a: Option<f64>, b: f64) {
    let a = a.unwrap_or(f64::NAN);
    assert!((a - b).abs() < 1e-6, "got {a}, expected {b}");
}

#[allow(clippy::too_many_arguments)]
async fn assign(
    pool: &PgPool,
    p: &Plant,
    task: i64,
    start: &str,
    end: &str,
    setup_s: i32,
    actual: Option<(&str, &str)>,
    qty: Option<(i32, i32)>,
    operator: Option<i64>,
) {
    sqlx::query(
        "INSERT INTO assignments (schedule_id, task_id, machine_id, operator_id, scheduled_start, scheduled_end, setup_s,
                                  actual_start, actual_end, good_qty, scrap_qty)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(p.schedule)
    .bind(task)
    .bind(p.machine)
    .bind(operator)
    .bind(at(start))
    .bind(at(end))
    .bind(setup_s)
    .bind(actual.map(|a| at(a.0)))
    .bind(actual.map(|a| at(a.1)))
    .bind(qty.map(|q| q.0))
    .bind(qty.map(|q| q.1))
    .execute(pool)
    .await
    .unwrap();
}

/// Plant zone Europe/Berlin (UTC+1 in November). Local 10 Nov = [09T23:00Z, 10T23:00Z).
/// - A1: planned 10T20:00Z–11T01:00Z (5 h) with 30 min setup, crossing local midnight (23:00Z);
///   ran 20:00Z–11T01:30Z (5.5 h), 40 good, 8 scrap.
/// - A3: planned 11T02:00Z–04:00Z (2 h), ran 02:00Z–03:00Z (1 h), 12 good.
/// - A2: planned 11T08:00Z–12:00Z (4 h), not run.
/// - Downtime on 11 Nov: breakdown 12:00–15:00Z and maintenance 14:00–16:00Z overlap → 4 h.
async fn fixture(pool: &PgPool) -> Plant {
    let p = minimal_plant(pool).await;
    let t2 = another_task(pool, &p, 2).await;
    let t3 = another_task(pool, &p, 3).await;
    assign(
        pool,
        &p,
        p.task,
        "2026-11-10T20:00Z",
        "2026-11-11T01:00Z",
        1800,
        Some(("2026-11-10T20:00Z", "2026-11-11T01:30Z")),
        Some((40, 8)),
        None,
    )
    .await;
    assign(
        pool,
        &p,
        t3,
        "2026-11-11T02:00Z",
        "2026-11-11T04:00Z",
        0,
        Some(("2026-11-11T02:00Z", "2026-11-11T03:00Z")),
        Some((12, 0)),
        None,
    )
    .await;
    assign(
        pool,
        &p,
        t2,
        "2026-11-11T08:00Z",
        "2026-11-11T12:00Z",
        0,
        None,
        None,
        None,
    )
    .await;
    sqlx::query(
        "INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at) VALUES
         ($1, 'breakdown', '2026-11-11T12:00Z', '2026-11-11T15:00Z'),
         ($1, 'planned_maintenance', '2026-11-11T14:00Z', '2026-11-11T16:00Z')",
    )
    .bind(p.machine)
    .execute(pool)
    .await
    .unwrap();
    p
}

fn two_days() -> TimeRange {
    TimeRange::new(at("2026-11-09T23:00Z"), at("2026-11-11T23:00Z")).unwrap()
}

fn query(range: TimeRange, bucket: BucketSize) -> GetMachineUtilization {
    GetMachineUtilization::new(PlantScope::WholePlant, None, range, bucket, Page::default())
        .unwrap()
}

/// Day 10: available 24 h, scheduled 3 h (20:00–23:00Z), setup 0.5 h, actual 3 h; nothing
/// finished → no efficiency. Day 11: downtime 4 h (union) → available 20 h; scheduled
/// 2 + 2 + 4 = 8 h → 0.4; actual 2.5 + 1 = 3.5 h → 0.175; efficiency = planned 7 h / actual
/// 6.5 h = 1.076923; setup share 0. Whole range: 11/44 = 0.25, 6.5/44 = 0.147727, setup share
/// 0.5/11 = 0.045455.
async fn check_days(c: &ReadContext, use_views: bool) {
    let m = machine_utilization::run(c, &query(two_days(), BucketSize::Day), use_views)
        .await
        .unwrap();
    assert_eq!(m.buckets.len(), 2);
    let d10 = &m.buckets[0].figures;
    assert_eq!(m.buckets[0].start, at("2026-11-09T23:00Z"));
    assert_eq!(m.buckets[0].end, at("2026-11-10T23:00Z"));
    assert_eq!(d10.available_h, 24.0);
    assert_eq!(d10.scheduled_h, 3.0);
    assert_eq!(d10.setup_h, 0.5);
    assert_eq!(d10.actual_h, 3.0);
    close(d10.scheduled_utilization, 0.125);
    close(d10.actual_utilization, 0.125);
    assert_eq!(d10.efficiency, None);
    close(d10.setup_share, 0.5 / 3.0);
    let d11 = &m.buckets[1].figures;
    assert_eq!(d11.downtime_h, 4.0);
    assert_eq!(d11.available_h, 20.0);
    assert_eq!(d11.scheduled_h, 8.0);
    assert_eq!(d11.actual_h, 3.5);
    close(d11.scheduled_utilization, 0.4);
    close(d11.actual_utilization, 0.175);
    close(d11.efficiency, 7.0 / 6.5);
    close(d11.setup_share, 0.0);
    close(m.total.scheduled_utilization, 0.25);
    close(m.total.actual_utilization, 6.5 / 44.0);
    close(m.total.setup_share, 0.5 / 11.0);
    assert_eq!(m.machines_total, 1);
    assert_eq!(m.machines[0].code, "LATHE-01");
    close(m.machines[0].figures.scheduled_utilization, 0.25);
    // Delay: A1 ended 30 min after plan, A3 early → 0.5 h.
    assert_eq!(m.machines[0].delay_h, 0.5);
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn utilization_days_by_hand_from_views_live_and_raw(pool: PgPool) {
    fixture(&pool).await;
    let c = ctx(&pool, "2026-11-20T12:00Z");
    // No refresh yet: the watermark is -infinity, everything is live.
    check_days(&c, true).await;
    check_days(&c, false).await;
    // After the refresh every whole day comes from the views.
    let r = c.refresh().await.unwrap();
    assert_eq!(r.views, ViewCoverage::Everything);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM mv_daily_machine_utilization")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2, "one row per machine and active day");
    check_days(&c, true).await;
    let m = machine_utilization::run(&c, &query(two_days(), BucketSize::Day), true)
        .await
        .unwrap();
    assert_eq!(m.as_of.views, ViewCoverage::Everything);
}

/// Hourly: A1's scheduled hour 20–21Z holds the 30 min setup; every hour 20Z–01Z is fully
/// planned (1.0); actual runs to 01:30Z so the 01Z hour has 0.5 h.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn hourly_buckets_split_at_hours(pool: PgPool) {
    fixture(&pool).await;
    let c = ctx(&pool, "2026-11-20T12:00Z");
    let range = TimeRange::new(at("2026-11-10T19:00Z"), at("2026-11-11T02:00Z")).unwrap();
    for refresh in [false, true] {
        if refresh {
            c.refresh().await.unwrap();
        }
        let m = machine_utilization::run(&c, &query(range, BucketSize::Hour), true)
            .await
            .unwrap();
        assert_eq!(m.buckets.len(), 7);
        let sched: Vec<f64> = m.buckets.iter().map(|b| b.figures.scheduled_h).collect();
        assert_eq!(sched, vec![0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
        let setup: Vec<f64> = m.buckets.iter().map(|b| b.figures.setup_h).collect();
        assert_eq!(setup, vec![0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let actual: Vec<f64> = m.buckets.iter().map(|b| b.figures.actual_h).collect();
        assert_eq!(actual, vec![0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]);
    }
}

/// 25 Oct 2026: Berlin falls back; the local day is [24T22:00Z, 25T23:00Z) = 25 h. A 5 h run
/// that day is 5/25 = 0.2 of it. An empty day has utilization 0 and no efficiency.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_dst_day_has_25_hours_and_empty_days_are_zero(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    assign(
        &pool,
        &p,
        p.task,
        "2026-10-25T00:00Z",
        "2026-10-25T05:00Z",
        0,
        None,
        None,
        None,
    )
    .await;
    let c = ctx(&pool, "2026-11-20T12:00Z");
    let range = TimeRange::new(at("2026-10-25T10:00Z"), at("2026-10-26T10:00Z")).unwrap();
    for refresh in [false, true] {
        if refresh {
            c.refresh().await.unwrap();
        }
        let m = machine_utilization::run(&c, &query(range, BucketSize::Day), true)
            .await
            .unwrap();
        // Rounded out to local midnights: 25 Oct (25 h) and 26 Oct (24 h).
        assert_eq!(m.buckets.len(), 2);
        assert_eq!(m.buckets[0].start, at("2026-10-24T22:00Z"));
        assert_eq!(m.buckets[0].end, at("2026-10-25T23:00Z"));
        assert_eq!(m.buckets[0].figures.available_h, 25.0);
        close(m.buckets[0].figures.scheduled_utilization, 0.2);
        assert_eq!(m.buckets[1].figures.available_h, 24.0);
        close(m.buckets[1].figures.scheduled_utilization, 0.0);
        assert_eq!(m.buckets[1].figures.efficiency, None);
        assert_eq!(m.buckets[1].figures.setup_share, None);
    }
    // Weekly buckets follow local Mondays: 19 Oct 00:00 local (CEST) = 18T22:00Z.
    let week = TimeRange::new(at("2026-10-19T00:00Z"), at("2026-10-26T00:00Z")).unwrap();
    let m = machine_utilization::run(&c, &query(week, BucketSize::Week), true)
        .await
        .unwrap();
    assert_eq!(m.buckets[0].start, at("2026-10-18T22:00Z"));
    // 7 days + 1 h of fall-back = 169 h; 5 h planned.
    assert_eq!(m.buckets[0].figures.available_h, 169.0);
}

/// Dashboard at 11 Nov 13:00Z, window 1 day (local 11 Nov from 10T23:00Z). Finished in the
/// window: A1 (planned 5 h, ran 5.5 h, setup 0.5 h → operating 5 h, 48 units) and A3 (planned
/// 2 h, operating 1 h, 12 units). P = 7 h, O = 6 h → availability 6/7 = 0.857143; ideal time =
/// 60 units / 12 per h = 5 h → performance 5/6; quality 52/60; OEE = 0.619048.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn dashboard_oee_alerts_and_health_by_hand(pool: PgPool) {
    fixture(&pool).await;
    let c = ctx(&pool, "2026-11-11T13:00Z");
    let q = GetDashboardSummary::new(PlantScope::WholePlant, 1).unwrap();
    for (use_views, refresh_first) in [(true, false), (true, true), (false, false)] {
        if refresh_first {
            c.refresh().await.unwrap();
        }
        let d = dashboard::run(&c, &q, use_views).await.unwrap();
        close(d.kpis.oee.availability, 6.0 / 7.0);
        close(d.kpis.oee.performance, 5.0 / 6.0);
        close(d.kpis.oee.quality, 52.0 / 60.0);
        close(d.kpis.oee.oee, 6.0 / 7.0 * 5.0 / 6.0 * 52.0 / 60.0);
        // J-1 released, due 10 Nov: open and late. The breakdown 12–15Z is on now. A2 was
        // planned to end at 12:00Z and has not run: one late task.
        assert_eq!(d.kpis.open_jobs, 1);
        assert_eq!(d.kpis.late_jobs, 1);
        assert_eq!(d.kpis.machines_down, 1);
        assert_eq!(d.kpis.late_tasks, 1);
        assert_eq!(d.kpis.running_now, 0);
        assert_eq!(d.kpis.on_time_delivery, None);
        // Next 7 days: nothing planned, 3 h down (13–16Z union) of 168 h → 0.
        close(d.kpis.scheduled_utilization_next_7d, 0.0);
        let kinds: Vec<(Severity, &str)> = d
            .alerts
            .iter()
            .map(|a| (a.severity, a.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Severity::Critical, "late_jobs"),
                (Severity::High, "breakdown"),
                (Severity::Medium, "late_tasks"),
            ]
        );
        assert!(d.alerts[1]
            .recommended_action
            .contains("dispatch maintenance"));
        // Health: on-time has no data (dropped). OEE 0.25 × (0.619048/0.85); late 0.20 × 0;
        // load fit 0.15 × (1 − 0.85/0.85) = 0; machines up 0.10 × 0. Over weights 0.7:
        // 100 × 0.25 × 0.728291 / 0.7 = 26.010404 → red.
        assert!(
            (d.health.score - 26.010404).abs() < 1e-4,
            "{}",
            d.health.score
        );
        assert_eq!(d.health.band, HealthBand::Red);
        assert_eq!(d.departments.len(), 1);
        assert_eq!(d.departments[0].machines_down, 1);
        assert_eq!(d.status.down.len(), 1);
        assert_eq!(
            (
                d.status.down[0].machine.as_str(),
                d.status.down[0].what.as_str()
            ),
            ("LATHE-01", "breakdown")
        );
        let late = &d.status.late[0];
        assert_eq!(
            (
                late.what.as_str(),
                late.machine.as_str(),
                late.department.as_str()
            ),
            ("J-1", "LATHE-01", "machining")
        );
    }
    // Out of service and in a breakdown: one machine down, not two (METRICS.md).
    sqlx::query("UPDATE machines SET status = 'out_of_service'")
        .execute(&pool)
        .await
        .unwrap();
    let d = dashboard::run(&c, &q, true).await.unwrap();
    assert_eq!(d.kpis.machines_down, 1);
    assert_eq!(d.departments[0].machines_down, 1);
}

/// Today's finished runs for OEE come from the hourly view for whole hours and live for the
/// rest; runs ending exactly on a boundary count once. Now 11 Nov 13:20Z, window local 11 Nov
/// from 10T23:00Z; each run ran 1 h (no setup), 2 good units, planned P h and scrap P units:
/// R0 ends 10T22:59Z (yesterday, P 16), R1 at 10T23:00Z (local midnight, P 1), R2 at 13:00Z
/// (the last whole hour's end, P 2), R3 at 13:10Z (this hour, P 4), R4 at 13:30Z (after now,
/// P 8); the planned slots lie apart in [1 Nov + P h, 1 Nov + 2P h). Counted R1–R3:
/// availability 3/7; 13 units / 12 per h ideal over 3 h operating → performance 13/36; quality
/// 6/13. Counting R2 twice would give 4/9, dropping R1 2/6.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn todays_oee_splits_at_hours_and_counts_boundary_runs_once(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    for (sequence, end, planned_h) in [
        (1, "2026-11-10T22:59Z", 16),
        (2, "2026-11-10T23:00Z", 1),
        (3, "2026-11-11T13:00Z", 2),
        (4, "2026-11-11T13:10Z", 4),
        (5, "2026-11-11T13:30Z", 8),
    ] {
        let task = if sequence == 1 {
            p.task
        } else {
            another_task(&pool, &p, sequence).await
        };
        // Planned slots one after another from 1 Nov (the machine's plan must not overlap).
        let planned_from = at("2026-11-01T00:00Z") + chrono::Duration::hours(planned_h);
        let planned_to = planned_from + chrono::Duration::hours(planned_h);
        let ran_from = (at(end) - chrono::Duration::hours(1)).to_rfc3339();
        assign(
            &pool,
            &p,
            task,
            &planned_from.to_rfc3339(),
            &planned_to.to_rfc3339(),
            0,
            Some((&ran_from, end)),
            Some((2, planned_h as i32)),
            None,
        )
        .await;
    }
    let c = ctx(&pool, "2026-11-11T13:20Z");
    let q = GetDashboardSummary::new(PlantScope::WholePlant, 1).unwrap();
    // Live, from the views after a refresh (hours of today from the hourly view), with today
    // lowered by an event (live again), and raw.
    for (use_views, step) in [(true, ""), (true, "refresh"), (true, "lower"), (false, "")] {
        match step {
            "refresh" => {
                c.refresh().await.unwrap();
            }
            "lower" => {
                sqlx::query("SELECT lower_read_model_watermark('2026-11-11T09:00Z')")
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        let d = dashboard::run(&c, &q, use_views).await.unwrap();
        close(d.kpis.oee.availability, 3.0 / 7.0);
        close(d.kpis.oee.performance, 13.0 / 36.0);
        close(d.kpis.oee.quality, 6.0 / 13.0);
        close(d.departments[0].oee, 3.0 / 7.0 * 13.0 / 36.0 * 6.0 / 13.0);
    }
}

/// A job of the fixture's product, with one task in its department unless `routed` is false.
async fn job(
    pool: &PgPool,
    p: &Plant,
    code: &str,
    status: &str,
    due: &str,
    completed: Option<&str>,
    routed: bool,
) {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at, status, completed_at)
         VALUES ($1, $2, 5, '2026-11-01T00:00Z', $3, $4, $5) RETURNING id",
    )
    .bind(code)
    .bind(p.product)
    .bind(at(due))
    .bind(status)
    .bind(completed.map(at))
    .fetch_one(pool)
    .await
    .unwrap();
    if routed {
        sqlx::query(
            "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family)
             VALUES ($1, 1, 'Op', $2, $3, 1, 'steel')",
        )
        .bind(id)
        .bind(p.department)
        .bind(p.skill)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Dashboard at 11 Nov 13:20Z, 7-day window (local 5–11 Nov, from 04T23:00Z). Open: J-1 (due
/// 10 Nov, late), J-4 (due 13:05Z today: late, in the hour now running), J-5 (due 13:40Z: not
/// yet), J-6 (due tomorrow, no tasks yet: the plant's, no department's) → plant 4 open, 2
/// late; machining 3 and 2. Completed: J-7 on 6 Nov on time, J-8 today late, J-9 before the
/// window → 2 completed, 1 on time. Load: one run planned 12:30–13:30Z; the horizon is the
/// 168 hours from 13:00Z → 0.5 h / 168 h. The same from live reads, from the roll-ups after a
/// refresh, and raw.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn order_book_completions_and_load_from_roll_ups_by_hand(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    job(&pool, &p, "J-4", "planned", "2026-11-11T13:05Z", None, true).await;
    job(
        &pool,
        &p,
        "J-5",
        "released",
        "2026-11-11T13:40Z",
        None,
        true,
    )
    .await;
    job(
        &pool,
        &p,
        "J-6",
        "planned",
        "2026-11-12T10:00Z",
        None,
        false,
    )
    .await;
    let done = |code, due, at| job(&pool, &p, code, "completed", due, Some(at), true);
    done("J-7", "2026-11-07T00:00Z", "2026-11-06T10:00Z").await;
    done("J-8", "2026-11-11T08:00Z", "2026-11-11T09:00Z").await;
    done("J-9", "2026-11-05T00:00Z", "2026-11-04T20:00Z").await;
    assign(
        &pool,
        &p,
        p.task,
        "2026-11-11T12:30Z",
        "2026-11-11T13:30Z",
        0,
        None,
        None,
        None,
    )
    .await;
    let c = ctx(&pool, "2026-11-11T13:20Z");
    let plant = GetDashboardSummary::new(PlantScope::WholePlant, 7).unwrap();
    let machining = GetDashboardSummary::new(
        PlantScope::Department(DepartmentCode::parse("machining").unwrap()),
        7,
    )
    .unwrap();
    for (use_views, refresh_first) in [(true, false), (true, true), (false, false)] {
        if refresh_first {
            c.refresh().await.unwrap();
        }
        let d = dashboard::run(&c, &plant, use_views).await.unwrap();
        if refresh_first {
            assert_eq!(d.as_of.views, ViewCoverage::Everything);
        }
        assert_eq!((d.kpis.open_jobs, d.kpis.late_jobs), (4, 2));
        close(d.kpis.on_time_delivery, 0.5);
        close(d.kpis.scheduled_utilization_next_7d, 0.5 / 168.0);
        let m = dashboard::run(&c, &machining, use_views).await.unwrap();
        assert_eq!((m.kpis.open_jobs, m.kpis.late_jobs), (3, 2));
        close(m.kpis.on_time_delivery, 0.5);
    }
}

/// Zero quantities: a run with no units has availability but performance 0 and no quality, so
/// OEE is 0, not absent.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_run_without_units_has_zero_oee(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    assign(
        &pool,
        &p,
        p.task,
        "2026-11-11T08:00Z",
        "2026-11-11T10:00Z",
        0,
        Some(("2026-11-11T08:00Z", "2026-11-11T10:00Z")),
        Some((0, 0)),
        None,
    )
    .await;
    let c = ctx(&pool, "2026-11-11T13:00Z");
    let d = dashboard::run(
        &c,
        &GetDashboardSummary::new(PlantScope::WholePlant, 1).unwrap(),
        true,
    )
    .await
    .unwrap();
    close(d.kpis.oee.availability, 1.0);
    close(d.kpis.oee.performance, 0.0);
    assert_eq!(d.kpis.oee.quality, None);
    close(d.kpis.oee.oee, 0.0);
}

/// J-2: released 9 Nov 08:00Z, runs 10 Nov 08–10Z (0.5 h setup) and 14–15Z, completed 11 Nov
/// 06:00Z (lead 46 h), due 12 Nov, 10 units, no scrap. Queue 24 h, setup 0.5 h, processing
/// 1.5 + 1 = 2.5 h, wait 19 h. J-3: quantity 0, released 10 Nov 00:00Z, run 02–03Z with 1
/// scrap, completed 12:00Z (lead 12 h), due 06:00Z (late). Queue 2, processing 1, wait 9.
/// P50 of (12, 46) = 29, P90 = 42.6, P95 = 44.3. Means: queue 13, setup 0.25, processing 1.75,
/// wait 14. Flow efficiency 3.5/58. FPY: J-3 has no quantity → excluded → 1/1. On time 1/2.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn job_flow_by_hand(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let job2: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at, status, completed_at)
         VALUES ('J-2', $1, 10, '2026-11-09T08:00Z', '2026-11-12T00:00Z', 'completed', '2026-11-11T06:00Z') RETURNING id",
    )
    .bind(p.product)
    .fetch_one(&pool)
    .await
    .unwrap();
    let job3: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at, status, completed_at)
         VALUES ('J-3', $1, 0, '2026-11-10T00:00Z', '2026-11-10T06:00Z', 'completed', '2026-11-10T12:00Z') RETURNING id",
    )
    .bind(p.product)
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for (job, seq) in [(job2, 1), (job2, 2), (job3, 1)] {
        let t: i64 = sqlx::query_scalar(
            "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family, status)
             VALUES ($1, $2, 'Op', $3, $4, 1, 'steel', 'done') RETURNING id",
        )
        .bind(job)
        .bind(seq)
        .bind(p.department)
        .bind(p.skill)
        .fetch_one(&pool)
        .await
        .unwrap();
        tasks.push(t);
    }
    sqlx::query(
        "INSERT INTO task_precedences (predecessor_id, successor_id, min_lag_s) VALUES ($1, $2, 0)",
    )
    .bind(tasks[0])
    .bind(tasks[1])
    .execute(&pool)
    .await
    .unwrap();
    assign(
        &pool,
        &p,
        tasks[0],
        "2026-11-10T08:00Z",
        "2026-11-10T10:00Z",
        1800,
        Some(("2026-11-10T08:00Z", "2026-11-10T10:00Z")),
        Some((10, 0)),
        None,
    )
    .await;
    assign(
        &pool,
        &p,
        tasks[1],
        "2026-11-10T14:00Z",
        "2026-11-10T15:00Z",
        0,
        Some(("2026-11-10T14:00Z", "2026-11-10T15:00Z")),
        Some((10, 0)),
        None,
    )
    .await;
    assign(
        &pool,
        &p,
        tasks[2],
        "2026-11-10T02:00Z",
        "2026-11-10T03:00Z",
        0,
        Some(("2026-11-10T02:00Z", "2026-11-10T03:00Z")),
        Some((0, 1)),
        None,
    )
    .await;
    let c = ctx(&pool, "2026-11-20T12:00Z");
    let q = GetJobFlowMetrics {
        scope: PlantScope::Department(DepartmentCode::parse("machining").unwrap()),
        range: TimeRange::new(at("2026-11-08T23:00Z"), at("2026-11-11T23:00Z")).unwrap(),
        page: Page::default(),
    };
    for refresh in [false, true] {
        if refresh {
            c.refresh().await.unwrap();
        }
        let f = job_flow::run(&c, &q, true).await.unwrap();
        assert_eq!(f.jobs_completed, 2);
        assert_eq!(f.tasks_completed, 3);
        let ct = f.cycle_time_h.clone().unwrap();
        assert_eq!((ct.p50, ct.p90, ct.p95), (29.0, 42.6, 44.3));
        let lt = f.lead_time.clone().unwrap();
        assert_eq!(
            (lt.queue_h, lt.setup_h, lt.processing_h, lt.wait_h),
            (13.0, 0.25, 1.75, 14.0)
        );
        close(f.flow_efficiency, 3.5 / 58.0);
        close(f.first_pass_yield, 1.0);
        close(f.on_time_rate, 0.5);
        // 2 jobs over 72 h.
        close(Some(f.jobs_per_hour), 2.0 / 72.0);
        // J-1 is the one open job: one task, unplanned, due 10 Nov → late by now − due.
        assert_eq!(f.open_jobs_total, 1);
        assert_eq!(f.jobs[0].unplanned_tasks, 1);
        assert_eq!(f.jobs[0].late_by_h, 236.0);
    }
    // A paint oven ran J-3's second task for 8 h. Local October and November whole: the tasks
    // come from the machines' month roll-up rows, and raw from the runs. Resource balance:
    // machining ran 4 h, paint 8 h, on one machine each over the same calendar → mean 6,
    // standard deviation 2 → 100 × (1 − 1/3).
    let paint: i64 = sqlx::query_scalar(
        "INSERT INTO departments (code, name) VALUES ('paint', 'Paint') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let oven: i64 = sqlx::query_scalar(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on)
         VALUES ('OVEN-01', 'Oven 1', $1, 'oven', 10, '2020-01-01') RETURNING id",
    )
    .bind(paint)
    .fetch_one(&pool)
    .await
    .unwrap();
    let coat: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family, status)
         VALUES ($1, 2, 'Coat', $2, $3, 1, 'steel', 'done') RETURNING id",
    )
    .bind(job3)
    .bind(paint)
    .bind(p.skill)
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO assignments (schedule_id, task_id, machine_id, scheduled_start, scheduled_end,
                                  actual_start, actual_end, good_qty, scrap_qty)
         VALUES ($1, $2, $3, '2026-11-10T03:00Z', '2026-11-10T11:00Z', '2026-11-10T03:00Z', '2026-11-10T11:00Z', 5, 0)",
    )
    .bind(p.schedule)
    .bind(coat)
    .bind(oven)
    .execute(&pool)
    .await
    .unwrap();
    c.refresh().await.unwrap();
    let months = GetJobFlowMetrics {
        scope: PlantScope::WholePlant,
        range: TimeRange::new(at("2026-09-30T22:00Z"), at("2026-11-30T23:00Z")).unwrap(),
        page: Page::default(),
    };
    for use_views in [true, false] {
        let f = job_flow::run(&c, &months, use_views).await.unwrap();
        assert_eq!((f.jobs_completed, f.tasks_completed), (2, 4));
        close(f.resource_balance_score, 100.0 * (1.0 - 1.0 / 3.0));
    }
}

/// The day shift, 06:00–14:00 local, Monday to Friday.
async fn day_shift_monday_to_friday(pool: &PgPool) {
    sqlx::query("INSERT INTO shift_definitions (code, name, starts_local, ends_local, weekdays) VALUES ('day', 'Day', '06:00', '14:00', '{1,2,3,4,5}')")
        .execute(pool)
        .await
        .unwrap();
}

/// Operator load of the whole plant over the local week of Mon 9 Nov 2026.
fn whole_plant_week_of_9_nov() -> GetOperatorWorkload {
    GetOperatorWorkload {
        scope: PlantScope::WholePlant,
        range: TimeRange::new(at("2026-11-08T23:00Z"), at("2026-11-15T23:00Z")).unwrap(),
        page: Page::default(),
        thresholds: OverloadThresholds::default(),
    }
}

/// Shifts: day 06:00–14:00 local, Mon–Fri. Week of Mon 9 Nov local: 5 shifts × 8 h = 40 h; sick
/// all of Wed 11 Nov (local) → capacity 32 h. Assigned: 10 Nov 06:00–10:00Z = 4 h → load 0.125.
/// The same operator with 36 h assigned would be at 1.125 → high (≥ 1.0, < 1.2).
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn operator_capacity_and_load_by_hand(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    day_shift_monday_to_friday(&pool).await;
    sqlx::query("INSERT INTO operator_absences (operator_id, kind, starts_at, ends_at) VALUES ($1, 'sick', '2026-11-10T23:00Z', '2026-11-11T23:00Z')")
        .bind(p.operator)
        .execute(&pool)
        .await
        .unwrap();
    // In the forecast: all of Mon 23 Nov, and 08:00–10:00 local on Tue 24 Nov.
    sqlx::query("INSERT INTO operator_absences (operator_id, kind, starts_at, ends_at) VALUES ($1, 'vacation', '2026-11-22T23:00Z', '2026-11-23T23:00Z'), ($1, 'other', '2026-11-24T07:00Z', '2026-11-24T09:00Z')")
        .bind(p.operator)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE operators SET overtime_eligible = TRUE WHERE id = $1")
        .bind(p.operator)
        .execute(&pool)
        .await
        .unwrap();
    assign(
        &pool,
        &p,
        p.task,
        "2026-11-10T06:00Z",
        "2026-11-10T10:00Z",
        0,
        None,
        None,
        Some(p.operator),
    )
    .await;
    let c = ctx(&pool, "2026-11-20T12:00Z");
    let q = whole_plant_week_of_9_nov();
    // Live, from the views after a refresh, and raw (demand from the tasks themselves).
    for (use_views, refresh) in [(true, false), (true, true), (false, false)] {
        if refresh {
            c.refresh().await.unwrap();
        }
        let w = operator_workload::run(&c, &q, use_views).await.unwrap();
        let o = &w.operators[0];
        assert_eq!(o.capacity_h, 32.0);
        assert_eq!(o.absence_h, 8.0);
        assert_eq!(o.assigned_h, 4.0);
        close(o.load, 0.125);
        assert_eq!(o.overload, None);
        assert_eq!(w.by_shift_pattern[0].key, "day");
        assert_eq!(w.by_department[0].capacity_h, 32.0);
        // Forecast from Fri 20 Nov: 30 days hold 21 weekdays (20 Nov … 19 Dec) × 8 h, less the
        // whole of Mon 23 Nov (vacation) and 2 h on Tue 24 Nov.
        let total: f64 = w.forecast.iter().map(|d| d.available_h).sum();
        assert_eq!(total, 21.0 * 8.0 - 8.0 - 2.0);
        assert_eq!(w.forecast.len(), 21, "a row per rostered day");
        let day = |d: &str| {
            let d: chrono::NaiveDate = d.parse().unwrap();
            let f = w.forecast.iter().find(|f| f.day == d).unwrap();
            (
                f.available_h,
                f.absent_h,
                f.operators_available,
                f.overtime_h,
            )
        };
        // Overtime-eligible: 2 h per shift the operator is there for at all.
        assert_eq!(day("2026-11-20"), (8.0, 0.0, 1, 2.0));
        assert_eq!(day("2026-11-23"), (0.0, 8.0, 0, 0.0));
        assert_eq!(day("2026-11-24"), (6.0, 2.0, 1, 2.0));
        // The one open task (J-1 Turn) has no machine options → no demand hours; supply 0.
        assert!(w.skills.iter().all(|s| s.shortage_h == 0.0));
    }
    let strict = OverloadThresholds::new(50, 100, 1000).unwrap();
    assert_eq!(strict.severity(0.125), Some(Severity::High));
}

/// Assigned time over ranges the views serve as month and week roll-ups plus edge days, with
/// the watermark at +infinity, lowered inside a range, and absent; live and raw agree. One
/// operator (Berlin is UTC+1 from 25 Oct): A 28 Oct 22:30Z–29 Oct 00:30Z (0.5 h on local 28
/// Oct, 1.5 h on 29 Oct), B Mon 2 Nov 3 h, C 10 Nov 4 h, D 18 Nov 5 h, E 30 Nov 22:00Z–1 Dec
/// 00:00Z (1 h on local 30 Nov, 1 h on 1 Dec), F 2 Dec 1 h.
/// - [Thu 29 Oct, Thu 3 Dec): days 29–31 Oct, November whole, days 1–2 Dec → 1.5 + 3 + 4 + 5
///   + 2 + 1 = 16.5 h.
/// - [Mon 2 Nov, Mon 30 Nov): four whole weeks → 3 + 4 + 5 = 12 h.
/// - [Wed 28 Oct, Tue 17 Nov): days 28 Oct – 1 Nov, weeks of 2 and 9 Nov, day 16 Nov → 2 + 3
///   + 4 = 9 h.
///
/// After the refresh, G (Fri 20 Nov, 1 h) is added and the watermark lowered to 20 Nov, as its
/// event would: the first two ranges gain 1 h, read live from 20 Nov.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn assigned_time_from_roll_ups_edge_days_and_live_by_hand(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    for (sequence, start, end) in [
        (1, "2026-10-28T22:30Z", "2026-10-29T00:30Z"),
        (2, "2026-11-02T08:00Z", "2026-11-02T11:00Z"),
        (3, "2026-11-10T06:00Z", "2026-11-10T10:00Z"),
        (4, "2026-11-18T12:00Z", "2026-11-18T17:00Z"),
        (5, "2026-11-30T22:00Z", "2026-12-01T00:00Z"),
        (6, "2026-12-02T09:00Z", "2026-12-02T10:00Z"),
    ] {
        let task = if sequence == 1 {
            p.task
        } else {
            another_task(&pool, &p, sequence).await
        };
        assign(&pool, &p, task, start, end, 0, None, None, Some(p.operator)).await;
    }
    let c = ctx(&pool, "2026-12-10T12:00Z");
    let ranges = [
        ("2026-10-28T23:00Z", "2026-12-02T23:00Z", 16.5),
        ("2026-11-01T23:00Z", "2026-11-29T23:00Z", 12.0),
        ("2026-10-27T23:00Z", "2026-11-16T23:00Z", 9.0),
    ];
    for (use_views, step) in [(true, ""), (true, "refresh"), (true, "lower"), (false, "")] {
        match step {
            "refresh" => {
                // An event the refresh covers, so the stamp has one to name.
                sqlx::query("INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, actor) VALUES ('operator', 'OP-0001', 'OperatorNoted', 'test')")
                    .execute(&pool)
                    .await
                    .unwrap();
                c.refresh().await.unwrap();
            }
            "lower" => {
                let g = another_task(&pool, &p, 7).await;
                assign(
                    &pool,
                    &p,
                    g,
                    "2026-11-20T08:00Z",
                    "2026-11-20T09:00Z",
                    0,
                    None,
                    None,
                    Some(p.operator),
                )
                .await;
                sqlx::query("SELECT lower_read_model_watermark('2026-11-20T08:00Z')")
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        let with_g = matches!(step, "lower") || !use_views;
        for (i, (from, to, expected_h)) in ranges.into_iter().enumerate() {
            let expected_h = expected_h + if with_g && i < 2 { 1.0 } else { 0.0 };
            let q = GetOperatorWorkload {
                scope: PlantScope::WholePlant,
                range: TimeRange::new(at(from), at(to)).unwrap(),
                page: Page::default(),
                thresholds: OverloadThresholds::default(),
            };
            let w = operator_workload::run(&c, &q, use_views).await.unwrap();
            if step == "lower" {
                assert_eq!(w.as_of.views, ViewCoverage::Before(at("2026-11-19T23:00Z")));
            }
            // With the views the stamp rides on the rows' own statement: it says what a
            // separate `as_of` says.
            let stamp = c.as_of().await.unwrap();
            assert_eq!(
                (w.as_of.event_id, w.as_of.views),
                (stamp.event_id, stamp.views),
                "{step}"
            );
            assert_eq!(
                w.as_of.event_id,
                i64::from(!step.is_empty() || !use_views),
                "{step}"
            );
            assert_eq!(
                w.operators[0].assigned_h, expected_h,
                "{from}..{to}, views {use_views}, {step}: {:?}",
                w.as_of.views
            );
        }
    }
}

/// Skill balance and cross-training (METRICS.md). Day shift 06:00–14:00 local, Mon–Fri.
/// Demand: the one open task needs turning, 200 h on its only machine. Supply: OP-0001 alone
/// holds turning; from Fri 20 Nov the 30-day forecast has 21 weekdays × 8 h = 168 h → demand /
/// supply 1.19 → critical, shortage 32 h, gap max(32, 200 − 0.85 × 168) = 57.2 h.
/// Machining operators without turning, loads in the week of 9 Nov (40 h capacity each):
/// OP-0002 0 h (0.0), OP-0004 36 h (0.9, too loaded), OP-0005 10 h (0.25), OP-0006 20 h (0.5),
/// OP-0007 30 h (0.75, fourth, past the limit of three); OP-0003 is idle but in assembly.
/// → OP-0002 relieves min(57.2, 40) = 40 h, OP-0005 30 h, OP-0006 20 h.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn skill_shortage_and_cross_training_by_hand(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    day_shift_monday_to_friday(&pool).await;
    sqlx::query("INSERT INTO task_machine_options (task_id, machine_id, duration_s) VALUES ($1, $2, 720000)")
        .bind(p.task)
        .bind(p.machine)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO operator_skills (operator_id, skill_id, level) VALUES ($1, $2, 3)")
        .bind(p.operator)
        .bind(p.skill)
        .execute(&pool)
        .await
        .unwrap();
    let assembly: i64 = sqlx::query_scalar(
        "INSERT INTO departments (code, name) VALUES ('assembly', 'Assembly') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut ids = std::collections::HashMap::new();
    for (code, department) in [
        ("OP-0002", p.department),
        ("OP-0003", assembly),
        ("OP-0004", p.department),
        ("OP-0005", p.department),
        ("OP-0006", p.department),
        ("OP-0007", p.department),
    ] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO operators (code, name, department_id, shift_pattern, contracted_hours_per_week)
             VALUES ($1, $1, $2, 'day', 40) RETURNING id",
        )
        .bind(code)
        .bind(department)
        .fetch_one(&pool)
        .await
        .unwrap();
        ids.insert(code, id);
    }
    // A machining operator who holds turning but has left: no supply, not counted.
    let gone: i64 = sqlx::query_scalar(
        "INSERT INTO operators (code, name, department_id, shift_pattern, contracted_hours_per_week, active)
         VALUES ('OP-0008', 'OP-0008', $1, 'day', 40, FALSE) RETURNING id",
    )
    .bind(p.department)
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO operator_skills (operator_id, skill_id, level) VALUES ($1, $2, 5)")
        .bind(gone)
        .bind(p.skill)
        .execute(&pool)
        .await
        .unwrap();
    // Finished work (no demand left) that loads the operators.
    for (sequence, code, start, end) in [
        (2, "OP-0004", "2026-11-09T00:00Z", "2026-11-10T12:00Z"),
        (3, "OP-0005", "2026-11-10T12:00Z", "2026-11-10T22:00Z"),
        (4, "OP-0006", "2026-11-10T22:00Z", "2026-11-11T18:00Z"),
        (5, "OP-0007", "2026-11-11T18:00Z", "2026-11-13T00:00Z"),
    ] {
        let done = another_task(&pool, &p, sequence).await;
        sqlx::query("UPDATE tasks SET status = 'done' WHERE id = $1")
            .bind(done)
            .execute(&pool)
            .await
            .unwrap();
        assign(&pool, &p, done, start, end, 0, None, None, Some(ids[code])).await;
    }
    let c = ctx(&pool, "2026-11-20T12:00Z");
    let q = whole_plant_week_of_9_nov();
    // Live, from the views after a refresh, and raw (demand from the tasks themselves).
    for (use_views, refresh) in [(true, false), (true, true), (false, false)] {
        if refresh {
            c.refresh().await.unwrap();
        }
        let w = operator_workload::run(&c, &q, use_views).await.unwrap();
        assert_eq!(w.skills.len(), 1);
        let s = &w.skills[0];
        assert_eq!(s.skill, "turning");
        assert_eq!((s.demand_h, s.supply_h, s.shortage_h), (200.0, 168.0, 32.0));
        assert_eq!(s.qualified_operators, 1);
        assert_eq!(s.severity, Some(Severity::Critical));
        let got: Vec<(&str, &str, f64, Option<f64>)> = w
            .cross_training
            .iter()
            .map(|t| {
                (
                    t.operator.as_str(),
                    t.skill.as_str(),
                    t.relieves_h,
                    t.operator_load,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("OP-0002", "turning", 40.0, Some(0.0)),
                ("OP-0005", "turning", 30.0, Some(0.25)),
                ("OP-0006", "turning", 20.0, Some(0.5)),
            ]
        );
        assert!(w.cross_training.iter().all(|t| t.department == "machining"));
        // The whole plant lists all seven operators; machining alone, the six of machining
        // (OP-0003 is in assembly), with OP-0004's 36 of 40 h first.
        assert_eq!(w.operators_total, 7);
        let machining = GetOperatorWorkload {
            scope: PlantScope::Department(DepartmentCode::parse("machining").unwrap()),
            ..whole_plant_week_of_9_nov()
        };
        let m = operator_workload::run(&c, &machining, use_views)
            .await
            .unwrap();
        assert_eq!(m.operators_total, 6, "views {use_views}");
        assert_eq!(
            (m.skills[0].qualified_operators, m.skills[0].supply_h),
            (1, 168.0)
        );
        assert!(m.operators.iter().all(|o| o.department == "machining"));
        assert_eq!(
            (m.operators[0].code.as_str(), m.operators[0].assigned_h),
            ("OP-0004", 36.0)
        );
    }
}

/// The roll-ups serve whole weeks and months and the daily rows the edge days of a range: every
/// combination must equal the raw computation, row by row (the fixture sits in the week of
/// 2026-11-09 and in November; the ranges start and end inside other weeks and months).
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn roll_ups_and_edge_days_equal_the_raw_tables(pool: PgPool) {
    fixture(&pool).await;
    let c = ctx(&pool, "2026-11-20T12:00Z");
    c.sync_time_zone().await.unwrap();
    c.refresh().await.unwrap();
    type Row = (
        DateTime<Utc>,
        Option<i64>,
        f64,
        f64,
        f64,
        f64,
        i64,
        f64,
        i64,
        i64,
    );
    let fetch = |from: &'static str,
                 to: &'static str,
                 bucket: &'static str,
                 per_machine: bool,
                 views: bool| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, Row>(
                "SELECT bucket_start, machine_id, calendar_s, downtime_s, scheduled_s, actual_s,
                        runs_finished, operating_s, good_qty, scrap_qty
                 FROM get_machine_utilization_buckets($1, $2, $3, NULL, NULL, $4, $5)",
            )
            .bind(at(from))
            .bind(at(to))
            .bind(bucket)
            .bind(per_machine)
            .bind(views)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    // Local midnights in Berlin (UTC+1 in November, UTC+2 in October).
    let ranges = [
        ("2026-11-03T23:00Z", "2026-11-20T23:00Z"), // Wed 4 Nov .. Sat 21 Nov
        ("2026-10-14T22:00Z", "2026-12-09T23:00Z"), // 15 Oct .. 10 Dec (a DST change inside)
        ("2026-11-10T23:00Z", "2026-11-11T23:00Z"), // one day
    ];
    let mut compared = 0;
    for (from, to) in ranges {
        for bucket in ["day", "week", "month"] {
            for per_machine in [false, true] {
                let with_views = fetch(from, to, bucket, per_machine, true).await;
                let raw = fetch(from, to, bucket, per_machine, false).await;
                assert_eq!(
                    with_views.len(),
                    raw.len(),
                    "{from}..{to} {bucket} {per_machine}"
                );
                for (v, r) in with_views.iter().zip(&raw) {
                    assert_eq!((v.0, v.1, v.6, v.8, v.9), (r.0, r.1, r.6, r.8, r.9));
                    for (a, b) in [(v.2, r.2), (v.3, r.3), (v.4, r.4), (v.5, r.5), (v.7, r.7)] {
                        assert!(
                            (a - b).abs() < 1e-6,
                            "{from}..{to} {bucket} {per_machine}: {v:?} vs {r:?}"
                        );
                    }
                }
                compared += with_views.iter().filter(|v| v.4 > 0.0).count();
            }
        }
    }
    assert!(
        compared >= 18,
        "the fixture's work shows in every combination ({compared})"
    );
}

/// While the views cover a range, the per-machine list (totals, delay, trend) is read from the
/// roll-ups and daily rows directly; it must equal the raw computation for ranges cut inside
/// weeks and months, a DST change, every bucket size, and an idle machine without any row.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn per_machine_figures_from_the_views_equal_the_raw_tables(pool: PgPool) {
    let p = fixture(&pool).await;
    sqlx::query(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on)
         SELECT 'LATHE-02', 'Lathe 2', department_id, 'lathe', 12, '2020-01-01' FROM machines WHERE id = $1",
    )
    .bind(p.machine)
    .execute(&pool)
    .await
    .unwrap();
    let c = ctx(&pool, "2026-11-20T12:00Z");
    c.sync_time_zone().await.unwrap();
    assert_eq!(c.refresh().await.unwrap().views, ViewCoverage::Everything);
    let ranges = [
        ("2026-11-04T10:00Z", "2026-11-20T12:00Z"),
        ("2026-10-14T22:00Z", "2026-12-09T23:00Z"),
        ("2025-11-20T12:00Z", "2026-11-20T12:00Z"),
        ("2026-11-10T23:00Z", "2026-11-11T23:00Z"),
    ];
    let mut compared = 0;
    // Now a week after the fixture's days (they are in the trend's last eight days) and later.
    for now in ["2026-11-13T12:00Z", "2026-11-20T12:00Z"] {
        let c = ctx(&pool, now);
        for (from, to) in ranges {
            for bucket in [
                BucketSize::Hour,
                BucketSize::Day,
                BucketSize::Week,
                BucketSize::Month,
            ] {
                let range = TimeRange::new(at(from), at(to)).unwrap();
                let Ok(q) = GetMachineUtilization::new(
                    PlantScope::WholePlant,
                    None,
                    range,
                    bucket,
                    Page::default(),
                ) else {
                    // Hourly buckets over more than 31 days are refused.
                    continue;
                };
                let views = machine_utilization::run(&c, &q, true).await.unwrap();
                let raw = machine_utilization::run(&c, &q, false).await.unwrap();
                assert_eq!(views.as_of.views, ViewCoverage::Everything);
                assert_eq!(views.machines.len(), 2, "{from}..{to} {bucket:?}");
                for (v, r) in views.machines.iter().zip(&raw.machines) {
                    let what = format!("{from}..{to} {bucket:?} {}", v.code);
                    assert_eq!(v.code, r.code, "{what}");
                    assert_eq!(v.trend, r.trend, "{what}");
                    assert!((v.trend_slope - r.trend_slope).abs() < 1e-6, "{what}");
                    assert!((v.delay_h - r.delay_h).abs() < 1e-6, "{what}");
                    let (fv, fr) = (&v.figures, &r.figures);
                    for (a, b) in [
                        (fv.available_h, fr.available_h),
                        (fv.downtime_h, fr.downtime_h),
                        (fv.scheduled_h, fr.scheduled_h),
                        (fv.setup_h, fr.setup_h),
                        (fv.actual_h, fr.actual_h),
                    ] {
                        assert!((a - b).abs() < 1e-6, "{what}: {fv:?} vs {fr:?}");
                    }
                    assert_eq!(fv.scheduled_utilization, fr.scheduled_utilization, "{what}");
                    assert_eq!(fv.actual_utilization, fr.actual_utilization, "{what}");
                    assert_eq!(fv.efficiency, fr.efficiency, "{what}");
                    if v.trend_slope != 0.0 {
                        compared += 1;
                    }
                }
                assert_eq!(
                    views.bottlenecks, raw.bottlenecks,
                    "{from}..{to} {bucket:?}"
                );
            }
        }
    }
    assert!(
        compared >= 4,
        "the fixture's days show in the trends ({compared})"
    );
}

/// The shift slots laid out in Rust (`roster::shift_slots`) are those Postgres's `AT TIME
/// ZONE` lays out (the statement below is the one the operator load ran before), over both DST
/// changes of three zones (Lord Howe's is half an hour), with shifts that start or end in the
/// hour the clocks skip or repeat and one that ends on the next day.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn shift_slots_match_postgres(pool: PgPool) {
    sqlx::query(
        "INSERT INTO shift_definitions (code, name, starts_local, ends_local, weekdays) VALUES
         ('day', 'Day', '02:30', '10:30', '{1,2,3,4,5,6,7}'),
         ('evening', 'Evening', '13:00', '01:45', '{1,3,5,7}'),
         ('night', 'Night', '22:00', '02:15', '{2,4,6,7}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let definitions: Vec<ShiftDefinition> =
        sqlx::query_as("SELECT code, starts_local, ends_local, weekdays FROM shift_definitions")
            .fetch_all(&pool)
            .await
            .unwrap();
    type Slot = (String, chrono::NaiveDate, DateTime<Utc>, DateTime<Utc>);
    for (zone, windows) in [
        (
            "Europe/Berlin",
            [
                ("2026-03-26T00:00Z", "2026-04-02T00:00Z"),
                ("2026-10-22T00:00Z", "2026-10-29T00:00Z"),
            ],
        ),
        (
            "America/New_York",
            [
                ("2026-03-05T00:00Z", "2026-03-12T00:00Z"),
                ("2026-10-29T00:00Z", "2026-11-05T00:00Z"),
            ],
        ),
        (
            "Australia/Lord_Howe",
            [
                ("2026-04-01T00:00Z", "2026-04-08T00:00Z"),
                ("2026-09-30T00:00Z", "2026-10-07T00:00Z"),
            ],
        ),
    ] {
        for (from, to) in windows {
            let mut want: Vec<Slot> = sqlx::query_as(
                r#"SELECT code, day, lower(r), upper(r) FROM (
                    SELECT sd.code, d::date AS day,
                           tstzrange((d + sd.starts_local) AT TIME ZONE $3,
                                     (d + sd.ends_local + CASE WHEN sd.ends_local <= sd.starts_local
                                                               THEN interval '1 day' ELSE interval '0' END)
                                     AT TIME ZONE $3) AS r
                    FROM generate_series((($1 AT TIME ZONE $3)::date - 1)::timestamp,
                                         (($2 AT TIME ZONE $3)::date)::timestamp, interval '1 day') d
                    JOIN shift_definitions sd ON extract(isodow FROM d)::smallint = ANY (sd.weekdays)
                ) x WHERE r && tstzrange($1, $2)"#,
            )
            .bind(at(from))
            .bind(at(to))
            .bind(zone)
            .fetch_all(&pool)
            .await
            .unwrap();
            let tz: chrono_tz::Tz = zone.parse().unwrap();
            let mut got: Vec<Slot> = shift_slots(&definitions, tz, at(from), at(to))
                .into_iter()
                .map(|s| (s.code, s.day, s.starts_at, s.ends_at))
                .collect();
            want.sort();
            got.sort();
            assert!(want.len() >= 15, "{zone} {from}: {}", want.len());
            assert_eq!(got, want, "{zone} {from}");
        }
    }
}
