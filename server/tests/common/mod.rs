//! Shared test set-up: a router built exactly as in production, on the test's own database,
//! and a minimal plant to hang rows on.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use takt_server::config::Settings;
use takt_server::startup::{build_router, AppState};

pub fn settings() -> Settings {
    Settings::from_lookup(|_| None).expect("default settings are valid")
}

pub fn router(pool: PgPool) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("takt")
        .site_root("target/site")
        .build();
    build_router(AppState {
        leptos_options,
        pool,
        settings: Arc::new(settings()),
    })
}

/// Ids of a one-machine, one-operator plant with one job of one task and a live schedule.
pub struct Plant {
    pub department: i64,
    pub machine: i64,
    pub skill: i64,
    pub operator: i64,
    pub product: i64,
    pub job: i64,
    pub task: i64,
    pub schedule: i64,
}

pub async fn minimal_plant(pool: &PgPool) -> Plant {
    let department: i64 = sqlx::query_scalar(
        "INSERT INTO departments (code, name) VALUES ('machining', 'Machining') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("department");
    let machine: i64 = sqlx::query_scalar(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on)
         VALUES ('LATHE-01', 'Lathe 1', $1, 'lathe', 12, '2020-01-01') RETURNING id",
    )
    .bind(department)
    .fetch_one(pool)
    .await
    .expect("machine");
    let skill: i64 = sqlx::query_scalar(
        "INSERT INTO skills (code, name, department_id) VALUES ('turning', 'CNC turning', $1) RETURNING id",
    )
    .bind(department)
    .fetch_one(pool)
    .await
    .expect("skill");
    let operator: i64 = sqlx::query_scalar(
        "INSERT INTO operators (code, name, department_id, shift_pattern, contracted_hours_per_week)
         VALUES ('OP-0001', 'Anna Weber', $1, 'day', 40) RETURNING id",
    )
    .bind(department)
    .fetch_one(pool)
    .await
    .expect("operator");
    let product: i64 = sqlx::query_scalar(
        "INSERT INTO products (code, name) VALUES ('P-001', 'Housing') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("product");
    let job: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at, status)
         VALUES ('J-1', $1, 10, '2026-11-01T08:00:00Z', '2026-11-10T16:00:00Z', 'released') RETURNING id",
    )
    .bind(product)
    .fetch_one(pool)
    .await
    .expect("job");
    let task: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family)
         VALUES ($1, 1, 'Turn', $2, $3, 2, 'steel') RETURNING id",
    )
    .bind(job)
    .bind(department)
    .bind(skill)
    .fetch_one(pool)
    .await
    .expect("task");
    let schedule: i64 = sqlx::query_scalar(
        "INSERT INTO schedules (name, is_live, created_by) VALUES ('Live plan', TRUE, 'planner') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("schedule");
    Plant {
        department,
        machine,
        skill,
        operator,
        product,
        job,
        task,
        schedule,
    }
}

/// Adds another task to the plant's job, for tests that need two.
pub async fn another_task(pool: &PgPool, plant: &Plant, sequence: i32) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family)
         VALUES ($1, $2, 'Turn again', $3, $4, 1, 'steel') RETURNING id",
    )
    .bind(plant.job)
    .bind(sequence)
    .bind(plant.department)
    .bind(plant.skill)
    .fetch_one(pool)
    .await
    .expect("task")
}

/// The constraint name a database error reports, for asserting which rule rejected a row.
pub fn constraint_of(err: sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db
            .constraint()
            .map(str::to_string)
            .unwrap_or_else(|| db.message().to_string()),
        other => panic!("expected a database error, got {other}"),
    }
}
