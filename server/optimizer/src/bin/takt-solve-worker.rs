//! Stand-alone binary for this crate's tests and the benchmark. With no arguments it is the
//! solve worker (the server embeds the same code as its hidden `takt solve-worker`
//! subcommand); `takt-solve-worker solve FILE ...` runs the `takt solve` command, spawning
//! itself as the worker.

use clap::Parser;
use takt_optimizer::cli::{run_solve, SolveArgs};
use takt_optimizer::worker::{run_worker, WorkerCommand};

#[derive(Parser)]
enum Cmd {
    /// Solve an instance.
    Solve(SolveArgs),
}

fn main() -> anyhow::Result<()> {
    if std::env::args_os().len() <= 1 {
        return run_worker();
    }
    let Cmd::Solve(args) = Cmd::parse();
    run_solve(args, WorkerCommand::new(std::env::current_exe()?, &[]))
}
