//! Connecting to Postgres: create the database if it is missing, then apply migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::Settings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Settings of every pooled session. The read models are analytic queries over parameters that
/// change the best plan (a day or a year; views fresh or stale): a custom plan per execution
/// costs about a millisecond, while a cached generic plan was measured 5–15× slower. JIT never
/// paid off: the planner's estimates for set-returning functions made it compile for a second
/// queries that run in milliseconds. Parallel workers: on two cores their start-up cost more than
/// they saved on dashboard-sized queries, and they take the cores other requests need.
pub const SESSION_SETTINGS: [(&str, &str); 3] = [
    ("plan_cache_mode", "force_custom_plan"),
    ("jit", "off"),
    ("max_parallel_workers_per_gather", "0"),
];

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("DATABASE_URL is not a Postgres URL: {0}")]
    BadUrl(sqlx::Error),
    #[error("cannot reach Postgres at {url}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens a pool on the configured database, creating the database first when the server
/// answers but the database does not exist yet (a fresh machine).
pub async fn connect_and_migrate(settings: &Settings) -> Result<PgPool, DbSetupError> {
    let options = PgConnectOptions::from_str(&settings.database_url)
        .map_err(DbSetupError::BadUrl)?
        .log_statements(tracing::log::LevelFilter::Debug)
        // Migrations and refreshes are slow by nature; their whole text at WARN drowned the log.
        .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(1))
        .options(SESSION_SETTINGS);
    create_database_if_missing(&options, &settings.database_url).await?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.db_max_connections)
        .connect_with(options)
        .await
        .map_err(|source| DbSetupError::Unreachable {
            url: redact(&settings.database_url),
            source,
        })?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

async fn create_database_if_missing(
    options: &PgConnectOptions,
    url: &str,
) -> Result<(), DbSetupError> {
    let name = options.get_database().unwrap_or("postgres").to_string();
    let admin = options.clone().database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .map_err(|source| DbSetupError::Unreachable {
            url: redact(url),
            source,
        })?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .map_err(|source| DbSetupError::Unreachable {
                url: redact(url),
                source,
            })?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut conn)
            .await
            .map_err(|source| DbSetupError::Unreachable {
                url: redact(url),
                source,
            })?;
        tracing::info!(database = %name, "created database");
    }
    conn.close().await.ok();
    Ok(())
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/d"),
            "postgres://u:***@h:5432/d"
        );
        assert_eq!(
            super::redact("postgres://u@h:5432/d"),
            "postgres://u@h:5432/d"
        );
    }
}
