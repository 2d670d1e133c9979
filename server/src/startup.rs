//! Builds the application: state, router, middleware; and serves it.

use std::sync::Arc;

use axum::{extract::FromRef, routing::get, Extension, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

use app::ports::Services;
use app::{shell, App};

use crate::config::Settings;
use crate::floor::PgFloor;
use crate::read::{QueryBus, ReadConfig, ReadContext};

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
}

/// The adapters behind the app's ports, built once and shared by every request.
pub fn services(state: &AppState) -> Services {
    services_with(state, read_bus(state, ReadConfig::default()))
}

/// The read side's query bus on the state's pool, clock and plant zone.
pub fn read_bus(state: &AppState, config: ReadConfig) -> Arc<QueryBus> {
    let ctx = ReadContext::new(
        state.pool.clone(),
        state.settings.plant_tz,
        crate::read::system_clock(),
    );
    Arc::new(QueryBus::new(ctx, config))
}

pub fn services_with(state: &AppState, read: Arc<QueryBus>) -> Services {
    Services {
        floor: Arc::new(PgFloor::new(state.pool.clone())),
        read,
    }
}

pub fn build_router(state: AppState) -> Router {
    let services = services(&state);
    build_router_with(state, services)
}

pub fn build_router_with(state: AppState, services: Services) -> Router {
    let routes = generate_route_list(App);
    let provide_services = move || provide_context(services.clone());
    let options = state.leptos_options.clone();
    Router::new()
        .route("/health", get(crate::health::health))
        .leptos_routes_with_context(&state, routes, provide_services, move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Sign-in will replace this with a middleware that resolves the user from a session.
        .layer(Extension(state.settings.local_user.clone()))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Connects, migrates and serves until Ctrl-C.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let conf = get_configuration(None)?;
    let mut leptos_options = conf.leptos_options;
    if let Some(addr) = settings.bind_addr {
        leptos_options.site_addr = addr;
    }
    let addr = leptos_options.site_addr;
    let pool = crate::db::connect_and_migrate(&settings).await?;
    let state = AppState {
        leptos_options,
        pool,
        settings: Arc::new(settings),
    };
    // The read side: plant zone into the views' state, the query bus, and the freshness loop
    // that follows domain events (it also refreshes the views at start-up).
    let bus = read_bus(&state, ReadConfig::from_env()?);
    bus.context().sync_time_zone().await?;
    crate::read::freshness::spawn(bus.clone());
    let services = services_with(&state, bus);
    let app = build_router_with(state, services);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("Takt listening on http://{addr}");
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
