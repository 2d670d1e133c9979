//! The dashboard's live floor counts: a hand-built plant with known answers, and the server
//! function over HTTP against the same counts taken with plain SQL.
// A failing test panics with the value it got; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use app::domain::{DepartmentCode, FloorSnapshot, PlantScope};
use app::error::AppError;
use common::{another_task, minimal_plant, router};
use takt_server::floor::PgFloor;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("timestamp")
}

/// Machining: one late open job (due 10 Nov), one machine broken down 09:00–12:00 on 12 Nov, a
/// task running since 08:00, an operator off sick all day. Paint: one machine, nothing else.
async fn known_plant(pool: &PgPool) {
    let p = minimal_plant(pool).await;
    let second = another_task(pool, &p, 2).await;
    sqlx::query("INSERT INTO departments (code, name) VALUES ('paint', 'Paint')")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on)
         SELECT 'BOOTH-01', 'Booth 1', id, 'paint-booth', 20, '2021-01-01' FROM departments WHERE code = 'paint'",
    )
    .execute(pool)
    .await
    .unwrap();
    // A retired machine never counts.
    sqlx::query(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on, status)
         VALUES ('LATHE-00', 'Old lathe', $1, 'lathe', 10, '1999-01-01', 'retired')",
    )
    .bind(p.department)
    .execute(pool)
    .await
    .unwrap();
    // A second job, completed: neither open nor late.
    sqlx::query(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at, status, completed_at)
         VALUES ('J-2', $1, 5, '2026-10-01T08:00Z', '2026-10-05T08:00Z', 'completed', '2026-10-06T08:00Z')",
    )
    .bind(p.product)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at) VALUES ($1, 'breakdown', '2026-11-12T09:00Z', '2026-11-12T12:00Z')")
        .bind(p.machine)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO operator_absences (operator_id, kind, starts_at, ends_at) VALUES ($1, 'sick', '2026-11-12T00:00Z', '2026-11-13T00:00Z')")
        .bind(p.operator)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO assignments (schedule_id, task_id, machine_id, scheduled_start, scheduled_end, actual_start)
         VALUES ($1, $2, $3, '2026-11-12T08:00Z', '2026-11-12T09:00Z', '2026-11-12T08:00Z')",
    )
    .bind(p.schedule)
    .bind(p.task)
    .bind(p.machine)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO assignments (schedule_id, task_id, machine_id, scheduled_start, scheduled_end)
         VALUES ($1, $2, $3, '2026-11-12T13:00Z', '2026-11-12T14:00Z')",
    )
    .bind(p.schedule)
    .bind(second)
    .bind(p.machine)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn the_snapshot_counts_what_the_floor_shows(pool: PgPool) {
    known_plant(&pool).await;
    let floor = PgFloor::new(pool.clone());
    let plant = floor
        .snapshot_at(&PlantScope::WholePlant, at("2026-11-12T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        (
            plant.open_jobs,
            plant.late_jobs,
            plant.machines_down_now,
            plant.machines_in_service,
            plant.tasks_running_now,
            plant.operators_absent_now
        ),
        (1, 1, 1, 2, 1, 1)
    );
    // After the repair and before the due date, nothing is down and nothing late.
    let earlier = floor
        .snapshot_at(&PlantScope::WholePlant, at("2026-11-09T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        (
            earlier.late_jobs,
            earlier.machines_down_now,
            earlier.operators_absent_now
        ),
        (0, 0, 0)
    );
    let paint = floor
        .snapshot_at(
            &PlantScope::Department(DepartmentCode::parse("paint").unwrap()),
            at("2026-11-12T10:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            paint.open_jobs,
            paint.late_jobs,
            paint.machines_down_now,
            paint.machines_in_service,
            paint.tasks_running_now,
            paint.operators_absent_now
        ),
        (0, 0, 0, 1, 0, 0)
    );
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn an_unknown_department_is_named_in_the_error(pool: PgPool) {
    let floor = PgFloor::new(pool);
    let err = floor
        .snapshot_at(
            &PlantScope::Department(DepartmentCode::parse("welding").unwrap()),
            Utc::now(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppError::NotFound {
            what: "department 'welding'".into()
        }
    );
}

async fn call_snapshot(pool: &PgPool, department: &str) -> (http::StatusCode, Vec<u8>) {
    let response = router(pool.clone())
        .oneshot(
            http::Request::post("/api/floor_snapshot")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("department={department}")))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body)
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn the_server_function_returns_what_sql_counts(pool: PgPool) {
    known_plant(&pool).await;
    let (status, body) = call_snapshot(&pool, "machining").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let snap: FloorSnapshot = serde_json::from_slice(&body).unwrap();
    let (open, late): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE due_at < $1) FROM jobs WHERE status NOT IN ('completed', 'cancelled')",
    )
    .bind(snap.as_of)
    .fetch_one(&pool)
    .await
    .unwrap();
    let machines: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM machines m JOIN departments d ON d.id = m.department_id WHERE d.code = 'machining' AND m.status <> 'retired'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (snap.open_jobs, snap.late_jobs, snap.machines_in_service),
        (open, late, machines)
    );
    assert_eq!(
        snap.scope,
        PlantScope::Department(DepartmentCode::parse("machining").unwrap())
    );
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_malformed_department_is_rejected_with_field_and_rule(pool: PgPool) {
    let (status, body) = call_snapshot(&pool, "Paint%20Shop").await;
    assert!(
        status.is_server_error() || status.is_client_error(),
        "{status}"
    );
    let err: AppError = serde_json::from_slice(&body).expect("a typed error crosses the wire");
    match err {
        AppError::InvalidInput { field, rule } => {
            assert_eq!(field, "department");
            assert!(rule.contains("lowercase"), "{rule}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}
