//! Stand-alone binary for this crate's tests and the benchmark. With no arguments it is the
//! solve worker (the server embeds the same code as its hidden `takt solve-worker`
//! subcommand); `takt-solve-worker solve FILE ...` runs the `takt solve` command, spawning
//! itself as the worker; `build-bench FILE.json` times validation, model build and encoding.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use takt_optimizer::cli::{run_solve, SolveArgs};
use takt_optimizer::model::{self, BuildOptions};
use takt_optimizer::problem::{Problem, ProblemSpec};
use takt_optimizer::worker::{run_worker, WorkerCommand};

#[derive(Parser)]
enum Cmd {
    /// Solve an instance.
    Solve(SolveArgs),
    /// Time problem validation, model build and protobuf encoding of a JSON problem.
    BuildBench {
        /// Problem file (JSON format).
        file: PathBuf,
        /// Repetitions; the best time of each phase is reported.
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
}

fn main() -> anyhow::Result<()> {
    if std::env::args_os().len() <= 1 {
        return run_worker();
    }
    match Cmd::parse() {
        Cmd::Solve(args) => run_solve(args, WorkerCommand::new(std::env::current_exe()?, &[])),
        Cmd::BuildBench { file, repeat } => build_bench(&file, repeat),
    }
}

fn build_bench(file: &PathBuf, repeat: u32) -> anyhow::Result<()> {
    let spec: ProblemSpec = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let (mut validate, mut build, mut encode) = (f64::MAX, f64::MAX, f64::MAX);
    let mut stats = (0, 0, 0);
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let p = Problem::new(spec.clone())?;
        validate = validate.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let built = model::build(&p, &BuildOptions::default());
        build = build.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let bytes = built.cp.encode();
        encode = encode.min(t.elapsed().as_secs_f64());
        stats = (built.cp.num_vars(), built.cp.num_constraints(), bytes.len());
    }
    println!(
        "{}",
        serde_json::json!({
            "tasks": spec.tasks.len(),
            "validate_s": validate,
            "build_s": build,
            "encode_s": encode,
            "total_s": validate + build + encode,
            "variables": stats.0,
            "constraints": stats.1,
            "bytes": stats.2,
        })
    );
    Ok(())
}
