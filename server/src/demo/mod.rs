//! The demo factory: a deterministic generator of a plausible plant with a year of history and
//! an open order book, and its bulk load into Postgres.

mod catalog;
pub mod generate;
mod load;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

pub use generate::{generate, Factory};

/// How big a factory to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSize {
    /// About 40 machines and 120 operators.
    Demo,
    /// 200 machines, 600 operators and over a million assignments in a year (benchmarks).
    Large,
    /// A given number of machines (three operators each).
    Machines(usize),
}

impl DemoSize {
    pub fn machines(self) -> usize {
        match self {
            DemoSize::Demo => 40,
            DemoSize::Large => 200,
            DemoSize::Machines(n) => n,
        }
    }
}

impl FromStr for DemoSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(DemoSize::Demo),
            "large" => Ok(DemoSize::Large),
            other => match other.parse::<usize>() {
                Ok(n) if (8..=2000).contains(&n) => Ok(DemoSize::Machines(n)),
                _ => Err(format!(
                    "size: expected demo, large or a machine count from 8 to 2000, got {other:?}"
                )),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub size: DemoSize,
    pub seed: u64,
    /// The moment that counts as "now": history before it, the order book after it.
    pub now: DateTime<Utc>,
    pub plant_tz: Tz,
}

/// What a seed wrote, for the operator's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCounts {
    pub machines: usize,
    pub operators: usize,
    pub jobs: usize,
    pub tasks: usize,
    pub assignments: usize,
    pub downtimes: usize,
    pub absences: usize,
}

impl std::fmt::Display for SeedCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seeded demo factory: {} machines, {} operators, {} jobs, {} tasks, {} assignments, {} downtimes, {} absences",
            self.machines, self.operators, self.jobs, self.tasks, self.assignments, self.downtimes, self.absences
        )
    }
}

pub enum SeedOutcome {
    Seeded(SeedCounts),
    AlreadyHasFactory { jobs: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("loading the demo factory failed: {0}")]
    Load(#[from] sqlx::Error),
}

/// Generates and loads the factory, unless the database already holds one (a seed never
/// overwrites a plant's data).
pub async fn seed_if_empty(
    pool: &PgPool,
    options: &GenerateOptions,
) -> Result<SeedOutcome, SeedError> {
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(pool)
        .await?;
    let machines: i64 = sqlx::query_scalar("SELECT count(*) FROM machines")
        .fetch_one(pool)
        .await?;
    if existing > 0 || machines > 0 {
        return Ok(SeedOutcome::AlreadyHasFactory { jobs: existing });
    }
    let opts = options.clone();
    let factory = tokio::task::spawn_blocking(move || generate(&opts))
        .await
        .map_err(|e| SeedError::Load(sqlx::Error::Protocol(format!("generator panicked: {e}"))))?;
    load::load(pool, &factory, options).await?;
    Ok(SeedOutcome::Seeded(SeedCounts {
        machines: factory.machines.len(),
        operators: factory.operators.len(),
        jobs: factory.jobs.len(),
        tasks: factory.tasks.len(),
        assignments: factory.assignments.len(),
        downtimes: factory.downtimes.len(),
        absences: factory.absences.len(),
    }))
}
