//! `GET /health`: tells a load balancer or a supervisor's script whether the server can reach
//! its database, and which migration the database is on.

use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;
use sqlx::PgPool;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    pub migration: Option<i64>,
}

pub async fn health(State(pool): State<PgPool>) -> (StatusCode, Json<Health>) {
    let probe = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT max(version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(&pool)
    .await;
    match probe {
        Ok(migration) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "reachable",
                migration,
            }),
        ),
        Err(err) => {
            tracing::error!(error = %err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "degraded",
                    database: "unreachable",
                    migration: None,
                }),
            )
        }
    }
}
