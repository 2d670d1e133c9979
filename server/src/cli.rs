//! The `takt` command line: one binary serves the app and runs the operator's tools.

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::demo::{DemoSize, GenerateOptions};

#[derive(Debug, Parser)]
#[command(name = "takt", version, about = "Takt manufacturing scheduling")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Create the database if needed and apply migrations.
    Migrate,
    /// Generate the demo factory into an empty database.
    Seed {
        /// `demo` (40 machines), `large` (200 machines, over a million assignments) or a machine count.
        #[arg(long, default_value = "demo")]
        size: DemoSize,
        /// Seed of the generator: the same seed and anchor give the same factory.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The moment that counts as "now" (RFC 3339); default the current time.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Only when the database holds no factory yet (used by the run script).
        #[arg(long)]
        if_empty: bool,
    },
    /// Refresh the read models' materialized views now (the server also does it on events).
    RefreshReadModels,
    /// Print the access paths of the read models' core statements, the scans a dashboard query
    /// causes per table, and index recommendations.
    ReadExplain {
        /// The moment that counts as "now" (RFC 3339); default the current time.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Time the read models (p50/p95, views vs raw, cache hit, freshness) and print a table.
    BenchRead {
        /// Timed runs per query.
        #[arg(long, default_value_t = 30)]
        iterations: usize,
        /// Skip the raw-table baseline (minutes on a large factory) while tuning.
        #[arg(long)]
        no_raw: bool,
        /// Only the query timings: no vacuum, no refresh while the views cover everything, no
        /// freshness probes (which leave the views partly stale).
        #[arg(long)]
        queries_only: bool,
        /// Only the queries whose name contains this text (implies --queries-only).
        #[arg(long)]
        only: Option<String>,
    },
    /// Solve a scheduling problem file with CP-SAT and print the schedule.
    Solve(takt_optimizer::cli::SolveArgs),
    /// Internal: runs one solve for a parent process (model on stdin, progress and result on stdout).
    #[command(hide = true)]
    SolveWorker,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    // The solver commands need neither the database nor a runtime.
    match cli.command {
        Some(Command::SolveWorker) => return takt_optimizer::worker::run_worker(),
        Some(Command::Solve(args)) => {
            let worker = takt_optimizer::worker::WorkerCommand::new(
                std::env::current_exe()?,
                &["solve-worker"],
            );
            return takt_optimizer::cli::run_solve(args, worker);
        }
        _ => {}
    }
    crate::telemetry::init();
    let settings = Settings::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(crate::startup::serve(settings)),
        Command::Migrate => runtime.block_on(async {
            crate::db::connect_and_migrate(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }),
        Command::Seed {
            size,
            seed,
            now,
            if_empty,
        } => runtime.block_on(async {
            let pool = crate::db::connect_and_migrate(&settings).await?;
            let options = GenerateOptions {
                size,
                seed,
                now: now.unwrap_or_else(chrono::Utc::now),
                plant_tz: settings.plant_tz,
            };
            match crate::demo::seed_if_empty(&pool, &options).await? {
                crate::demo::SeedOutcome::Seeded(counts) => {
                    println!("{counts}");
                    Ok(())
                }
                crate::demo::SeedOutcome::AlreadyHasFactory { jobs } if if_empty => {
                    println!("database already holds a factory ({jobs} jobs); not seeding");
                    Ok(())
                }
                crate::demo::SeedOutcome::AlreadyHasFactory { jobs } => anyhow::bail!(
                    "database already holds a factory ({jobs} jobs); seed into an empty database (set DATABASE_URL)"
                ),
            }
        }),
        Command::RefreshReadModels => runtime.block_on(async {
            let pool = crate::db::connect_and_migrate(&settings).await?;
            let ctx = crate::read::ReadContext::new(pool, settings.plant_tz, crate::read::system_clock());
            ctx.sync_time_zone().await?;
            let outcome = ctx.refresh().await?;
            println!(
                "read models refreshed in {:.0} ms; views: {:?}; through event {}",
                outcome.took_ms, outcome.views, outcome.through_event
            );
            Ok(())
        }),
        Command::ReadExplain { now } => runtime.block_on(async {
            let pool = crate::db::connect_and_migrate(&settings).await?;
            crate::read::explain::run_command(&pool, settings.plant_tz, now.unwrap_or_else(chrono::Utc::now)).await
        }),
        Command::BenchRead { iterations, no_raw, queries_only, only } => runtime.block_on(async {
            let pool = crate::db::connect_and_migrate(&settings).await?;
            let opts = crate::read::bench::BenchOptions {
                iterations,
                raw: !no_raw,
                queries_only,
                only,
            };
            crate::read::bench::run(pool, settings.plant_tz, opts).await
        }),
        Command::Solve(_) | Command::SolveWorker => Ok(()),
    }
}
