//! The HTTP surface, in-process: the health endpoint and the server-rendered dashboard.
// A failing test panics with the value it got; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use common::router;

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn health_reports_a_reachable_database(pool: PgPool) {
    let response = router(pool)
        .oneshot(http::Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["database"], "reachable");
    assert!(json["migration"].as_i64().is_some());
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn health_says_so_when_the_database_is_gone(pool: PgPool) {
    let app = router(pool.clone());
    pool.close().await;
    let response = app
        .oneshot(http::Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn the_dashboard_is_rendered_on_the_server(pool: PgPool) {
    common::minimal_plant(&pool).await;
    let response = router(pool)
        .oneshot(http::Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("Dashboard"), "{html}");
    assert!(
        html.contains("Open jobs"),
        "server-rendered tiles missing: {html}"
    );
    assert!(html.contains("Machining"), "department picker missing");
}
