//! Proof that the read models use their indexes, and index recommendations.
//!
//! Two instruments:
//! - `scans_during` runs read-model queries on one dedicated connection and reports, per
//!   table, how many sequential and index scans they caused (Postgres' own counters, which also
//!   see inside the SQL functions);
//! - `explain_statements` runs `EXPLAIN (FORMAT JSON)` on the read side's core statements and
//!   lists the access path of every table; a sequential scan of a large table becomes a
//!   recommendation naming the filter it evaluated row by row.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};

use super::{Clock, ReadContext};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scans {
    pub seq: i64,
    pub index: i64,
}

/// A pool of exactly one connection on the same database, so every statement's counters land
/// in one backend that can be flushed on demand. `seqscan_off` makes the planner prefer any
/// usable index (for small test databases, where a sequential scan is cheaper but the
/// question is whether an index *could* serve).
pub async fn single_connection(pool: &PgPool, seqscan_off: bool) -> Result<PgPool, sqlx::Error> {
    let options = (*pool.connect_options()).clone();
    PgPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if seqscan_off {
                    conn.execute("SET enable_seqscan = off").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

async fn counters(pool: &PgPool) -> Result<BTreeMap<String, Scans>, sqlx::Error> {
    // Flush this backend's pending counters, then read a fresh snapshot.
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(pool)
        .await?;
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(pool)
        .await?;
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT relname::text, coalesce(seq_scan, 0), coalesce(idx_scan, 0) FROM pg_stat_user_tables",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(t, seq, index)| (t, Scans { seq, index }))
        .collect())
}

/// Runs `work` on `single` (a pool from [`single_connection`]) and returns the scans it caused
/// per table (tables without any are left out).
pub async fn scans_during<T, F, Fut>(
    single: &PgPool,
    work: F,
) -> Result<(T, BTreeMap<String, Scans>), sqlx::Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    let before = counters(single).await?;
    let out = work().await;
    // The first read flushes what `work` left pending; the second sees it.
    counters(single).await?;
    let after = counters(single).await?;
    let delta = after
        .into_iter()
        .filter_map(|(t, a)| {
            let b = before.get(&t).copied().unwrap_or_default();
            let d = Scans {
                seq: a.seq - b.seq,
                index: a.index - b.index,
            };
            (d != Scans::default()).then_some((t, d))
        })
        .collect();
    Ok((out, delta))
}

/// A read context on a single connection with a fixed clock.
pub fn context_on(single: PgPool, tz: chrono_tz::Tz, now: DateTime<Utc>) -> ReadContext {
    let clock: Clock = std::sync::Arc::new(move || now);
    ReadContext::new(single.clone(), tz, clock).with_generic_pool(single)
}

/// One access path found in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub node: String,
    pub table: String,
    pub index: Option<String>,
    pub filter: Option<String>,
    pub rows: f64,
}

fn walk(plan: &Value, out: &mut Vec<Access>) {
    if let Some(table) = plan.get("Relation Name").and_then(Value::as_str) {
        out.push(Access {
            node: plan
                .get("Node Type")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            table: table.to_string(),
            index: plan
                .get("Index Name")
                .and_then(Value::as_str)
                .map(str::to_string),
            filter: plan
                .get("Filter")
                .or_else(|| plan.get("Index Cond"))
                .and_then(Value::as_str)
                .map(str::to_string),
            rows: plan.get("Plan Rows").and_then(Value::as_f64).unwrap_or(0.0),
        });
    }
    if let Some(children) = plan.get("Plans").and_then(Value::as_array) {
        for c in children {
            walk(c, out);
        }
    }
}

/// The access paths of one statement's plan.
pub async fn access_paths(pool: &PgPool, sql: &str) -> Result<Vec<Access>, sqlx::Error> {
    let plan: Value = sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {sql}"))
        .fetch_one(pool)
        .await?;
    let mut out = Vec::new();
    if let Some(root) = plan.get(0).and_then(|p| p.get("Plan")) {
        walk(root, &mut out);
    }
    Ok(out)
}

/// The read side's core statements with literal parameters around `now` (named for the
/// report). Literal values let the planner choose as it would for a real request.
pub fn core_statements(now: DateTime<Utc>) -> Vec<(&'static str, String)> {
    let t = |d: DateTime<Utc>| format!("'{}'::timestamptz", d.to_rfc3339());
    let (now_s, week, month_ago) = (
        t(now),
        t(now + Duration::days(7)),
        t(now - Duration::days(30)),
    );
    let live = "(SELECT id FROM schedules WHERE is_live)";
    vec![
        (
            "dashboard: load of the next 7 days",
            format!(
                "SELECT a.machine_id, sum(extract(epoch FROM least(a.scheduled_end, {week}) - greatest(a.scheduled_start, {now_s})))
                 FROM assignments a WHERE a.schedule_id = {live} AND a.scheduled_end > {now_s} AND a.scheduled_start < {week}
                 GROUP BY a.machine_id"
            ),
        ),
        (
            "dashboard: late tasks",
            format!(
                "SELECT count(*) FROM assignments a WHERE a.actual_end IS NULL AND a.scheduled_end < {now_s} AND a.schedule_id = {live}"
            ),
        ),
        (
            "dashboard: running now",
            format!(
                "SELECT count(*) FROM assignments a WHERE a.actual_start IS NOT NULL AND a.actual_end IS NULL AND a.actual_start <= {now_s}"
            ),
        ),
        (
            "dashboard: OEE window (views + live)",
            format!(
                "SELECT * FROM get_machine_utilization_buckets({}, {now_s}, 'month', NULL, NULL, TRUE, TRUE)",
                t(now - Duration::days(7))
            ),
        ),
        (
            "machine utilization: 30 days hourly",
            format!("SELECT * FROM get_machine_utilization_buckets({month_ago}, {now_s}, 'hour')"),
        ),
        (
            "machine utilization: 30 days daily per machine",
            format!("SELECT * FROM get_machine_utilization_buckets({month_ago}, {now_s}, 'day', NULL, NULL, TRUE)"),
        ),
        (
            "operator load: live assignments",
            format!(
                "SELECT a.operator_id, count(*) FROM assignments a WHERE a.schedule_id = {live} AND a.operator_id IS NOT NULL
                 AND a.scheduled_end > {now_s} AND a.scheduled_start < {week} GROUP BY 1"
            ),
        ),
        (
            "job flow: completed today (live)",
            format!("SELECT count(*) FROM job_flow_facts({}, {now_s})", t(now - Duration::hours(12))),
        ),
    ]
}

/// Large tables whose sequential scan is worth an index.
pub const LARGE_TABLE_ROWS: f64 = 10_000.0;

#[derive(Debug, Clone)]
pub struct StatementReport {
    pub name: &'static str,
    pub accesses: Vec<Access>,
}

/// EXPLAINs the core statements and derives recommendations: sequential scans over large
/// tables (with the filter they evaluated), and large indexes no query has used.
pub async fn recommendations(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<(Vec<StatementReport>, Vec<String>), sqlx::Error> {
    let sizes: BTreeMap<String, f64> = sqlx::query_as::<_, (String, f64)>(
        "SELECT relname::text, greatest(reltuples, 0)::float8 FROM pg_class WHERE relkind IN ('r', 'm')",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let mut reports = Vec::new();
    let mut advice = Vec::new();
    for (name, sql) in core_statements(now) {
        let accesses = access_paths(pool, &sql).await?;
        for a in &accesses {
            let big = sizes.get(&a.table).copied().unwrap_or(0.0) >= LARGE_TABLE_ROWS;
            if a.node == "Seq Scan" && big {
                advice.push(format!(
                    "{name}: sequential scan of {} ({} rows estimated); index the columns of its filter: {}",
                    a.table,
                    a.rows,
                    a.filter.clone().unwrap_or_else(|| "(none: whole table needed)".into())
                ));
            }
        }
        reports.push(StatementReport { name, accesses });
    }
    let unused: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT table_name::text, index_name::text, size_bytes FROM read_model_index_usage
         WHERE scans = 0 AND size_bytes > 8 * 1024 * 1024 ORDER BY size_bytes DESC",
    )
    .fetch_all(pool)
    .await?;
    for (table, index, bytes) in unused {
        advice.push(format!(
            "index {index} on {table} ({} MB) has not been used since statistics were reset; drop it if that stays so",
            bytes / (1024 * 1024)
        ));
    }
    Ok((reports, advice))
}

/// Prints the report of `takt read-explain`.
pub fn print_report(reports: &[StatementReport], advice: &[String]) {
    for r in reports {
        println!("{}", r.name);
        for a in &r.accesses {
            println!(
                "    {:<18} {:<28} {}",
                a.node,
                a.table,
                a.index.clone().unwrap_or_default()
            );
        }
    }
    println!();
    if advice.is_empty() {
        println!("recommendations: none; every large table is reached through an index");
    } else {
        println!("recommendations:");
        for a in advice {
            println!("  - {a}");
        }
    }
}

/// `takt read-explain`: access paths, the scans one dashboard answer causes, recommendations.
pub async fn run_command(
    pool: &PgPool,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (reports, advice) = recommendations(pool, now).await?;
    print_report(&reports, &advice);
    let single = single_connection(pool, false).await?;
    let ctx = context_on(single.clone(), tz, now);
    let q = app::read_models::GetDashboardSummary::new(app::domain::PlantScope::WholePlant, 7)?;
    let (answer, scans) = scans_during(&single, || super::dashboard::run(&ctx, &q, true)).await?;
    answer?;
    println!();
    println!("scans caused by one dashboard summary (whole plant, 7 days):");
    for (table, s) in &scans {
        println!("    {table:<36} seq {:>3}  index {:>4}", s.seq, s.index);
    }
    let seq = scans.get("assignments").map(|s| s.seq).unwrap_or(0);
    println!(
        "assignments sequential scans: {seq} ({})",
        if seq == 0 { "ok" } else { "NOT OK" }
    );
    Ok(())
}
