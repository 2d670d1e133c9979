//! The Postgres adapter behind the app's `FloorQueries` port: live counts for the dashboard.
//! These are plain counts over the system of record; the heavier read models come from the
//! materialized views and projections of the read side.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use app::domain::{Department, DepartmentCode, FloorSnapshot, PlantScope};
use app::error::AppError;
use app::ports::FloorQueries;

#[derive(Clone)]
pub struct PgFloor {
    pool: PgPool,
}

impl PgFloor {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The snapshot as of `at`; the port uses the server clock, tests pass their own moment.
    pub async fn snapshot_at(
        &self,
        scope: &PlantScope,
        at: DateTime<Utc>,
    ) -> Result<FloorSnapshot, AppError> {
        let department_id = match scope.department() {
            None => None,
            Some(code) => Some(self.department_id(code).await?),
        };
        let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            r#"
            WITH open_jobs AS (
                SELECT j.id, j.due_at FROM jobs j
                WHERE j.status IN ('planned', 'released', 'in_progress')
                  AND ($1::BIGINT IS NULL OR EXISTS (
                        SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.department_id = $1))
            ),
            scoped_machines AS (
                SELECT m.id, m.status FROM machines m
                WHERE m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
            )
            SELECT
                (SELECT count(*) FROM open_jobs),
                (SELECT count(*) FROM open_jobs WHERE due_at < $2),
                (SELECT count(*) FROM scoped_machines m
                  WHERE m.status = 'out_of_service' OR EXISTS (
                        SELECT 1 FROM machine_downtimes d
                        WHERE d.machine_id = m.id AND d.starts_at <= $2 AND d.ends_at > $2)),
                (SELECT count(*) FROM scoped_machines),
                (SELECT count(*) FROM assignments a
                   JOIN schedules s ON s.id = a.schedule_id AND s.is_live
                   JOIN machines m ON m.id = a.machine_id
                  WHERE a.actual_start IS NOT NULL AND a.actual_start <= $2 AND a.actual_end IS NULL
                    AND ($1::BIGINT IS NULL OR m.department_id = $1)),
                (SELECT count(*) FROM operators o
                  WHERE o.active AND ($1::BIGINT IS NULL OR o.department_id = $1)
                    AND EXISTS (SELECT 1 FROM operator_absences ab
                                WHERE ab.operator_id = o.id AND ab.starts_at <= $2 AND ab.ends_at > $2))
            "#,
        )
        .bind(department_id)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(FloorSnapshot {
            scope: scope.clone(),
            as_of: at,
            open_jobs: row.0,
            late_jobs: row.1,
            machines_down_now: row.2,
            machines_in_service: row.3,
            tasks_running_now: row.4,
            operators_absent_now: row.5,
        })
    }

    async fn department_id(&self, code: &DepartmentCode) -> Result<i64, AppError> {
        sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound {
                what: format!("department '{code}'"),
            })
    }
}

/// Database failures are logged here with their detail and cross the wire without it.
pub fn store_error(err: sqlx::Error) -> AppError {
    tracing::error!(error = %err, "database query failed");
    AppError::StoreUnavailable
}

#[async_trait::async_trait]
impl FloorQueries for PgFloor {
    async fn floor_snapshot(&self, scope: &PlantScope) -> Result<FloorSnapshot, AppError> {
        self.snapshot_at(scope, Utc::now()).await
    }

    async fn departments(&self) -> Result<Vec<Department>, AppError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name FROM departments ORDER BY id")
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
        rows.into_iter()
            .map(|(code, name)| {
                Ok(Department {
                    code: DepartmentCode::parse(&code)?,
                    name,
                })
            })
            .collect()
    }
}
