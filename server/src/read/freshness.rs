//! Keeps the read side fresh. Listens to `takt_domain_events` (a trigger announces every new
//! domain event) and, per event:
//! - invalidates the cache entries of the event's department (and the whole plant's);
//! - when the event says it changed history (`payload.affects_from` before today), lowers the
//!   views' watermark at once, so reads of those days go live, and schedules a refresh;
//! - after `refresh_debounce` without further such events, refreshes the views concurrently,
//!   raises the watermark, drops the cache and warms the dashboards.
//!
//! A minute timer refreshes after local midnight (yesterday becomes a closed day). A lost
//! connection drops the whole cache, since notifications may have been missed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use app::domain::DepartmentCode;

use super::QueryBus;

pub const CHANNEL: &str = "takt_domain_events";

#[derive(Debug, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub department_id: Option<i64>,
    pub event_type: String,
    pub affects_from: Option<DateTime<Utc>>,
}

/// Starts the loop in the background; it lives as long as the runtime.
pub fn spawn(bus: Arc<QueryBus>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(err) = run(bus.clone()).await {
                tracing::error!(error = %err, "read-model freshness loop failed; restarting in 1 s");
                bus.invalidate_all();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

async fn run(bus: Arc<QueryBus>) -> Result<(), sqlx::Error> {
    let ctx = bus.context().clone();
    let mut listener = PgListener::connect_with(&ctx.pool).await?;
    listener.listen(CHANNEL).await?;
    let mut refresh_at: Option<Instant> = None;
    // Refreshes run beside the loop, so events keep being handled (and the cache kept
    // honest) while the views rebuild; at most one runs at a time.
    let mut refreshing: Option<JoinHandle<()>> = None;
    // The first tick is immediate: views built for another zone or before today refresh now.
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        let deadline = refresh_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            message = listener.try_recv() => match message? {
                Some(n) => {
                    let notice: Notice = match serde_json::from_str(n.payload()) {
                        Ok(x) => x,
                        Err(err) => {
                            tracing::warn!(error = %err, payload = n.payload(), "unreadable domain event notice");
                            bus.invalidate_all();
                            continue;
                        }
                    };
                    if handle(&bus, &notice).await? {
                        refresh_at = Some(Instant::now() + bus.config().refresh_debounce);
                    }
                }
                None => {
                    tracing::warn!("lost the domain event listener; dropping the read cache");
                    bus.invalidate_all();
                }
            },
            _ = tokio::time::sleep_until(deadline), if refresh_at.is_some() => {
                if refreshing.as_ref().is_some_and(|h| !h.is_finished()) {
                    // Try again once the running refresh is likely done.
                    refresh_at = Some(Instant::now() + bus.config().refresh_debounce);
                } else {
                    refresh_at = None;
                    let b = bus.clone();
                    refreshing = Some(tokio::spawn(async move { refresh_and_warm(&b).await }));
                }
            }
            _ = tick.tick() => {
                if views_behind(&bus).await? {
                    refresh_at = Some(Instant::now());
                }
            }
        }
    }
}

/// Applies one event; true when it asks for a refresh of the views.
pub async fn handle(bus: &QueryBus, notice: &Notice) -> Result<bool, sqlx::Error> {
    let ctx = bus.context();
    let mut needs_refresh = false;
    // The views hold every day, history and plan: any change of figures makes them stale
    // from its first local day on until the refresh this asks for.
    if let Some(from) = notice.affects_from {
        sqlx::query("SELECT lower_read_model_watermark($1)")
            .bind(from)
            .execute(&ctx.pool)
            .await?;
        needs_refresh = true;
    }
    let department = match notice.department_id {
        None => None,
        Some(id) => sqlx::query_scalar::<_, String>("SELECT code FROM departments WHERE id = $1")
            .bind(id)
            .fetch_optional(&ctx.pool)
            .await?
            .and_then(|c| DepartmentCode::parse(&c).ok()),
    };
    // An event naming a department we cannot resolve invalidates everything.
    if notice.department_id.is_some() && department.is_none() {
        bus.invalidate_all();
    } else {
        bus.invalidate(department.as_ref());
    }
    tracing::debug!(event = notice.id, kind = %notice.event_type, refresh = needs_refresh, "read side saw event");
    Ok(needs_refresh)
}

/// True when the views do not cover every day: never refreshed, or an earlier refresh failed
/// or was overtaken by events (the periodic tick retries).
async fn views_behind(bus: &QueryBus) -> Result<bool, sqlx::Error> {
    let ctx = bus.context();
    sqlx::query_scalar("SELECT mv_covers_before <> 'infinity'::timestamptz FROM read_model_state")
        .fetch_one(&ctx.pool)
        .await
}

/// Refreshes the views, then drops and warms the cache. Failures are logged; reads stay
/// correct (live) because the watermark only rises on success.
pub async fn refresh_and_warm(bus: &QueryBus) {
    match bus.context().refresh().await {
        Ok(outcome) => {
            tracing::info!(
                took_ms = outcome.took_ms,
                through_event = outcome.through_event,
                "read models refreshed"
            );
            bus.invalidate_all();
            if let Err(err) = bus.warm().await {
                tracing::warn!(error = %err, "warming the dashboard cache failed");
            }
        }
        Err(err) => tracing::error!(error = %err, "refreshing the read models failed"),
    }
}
