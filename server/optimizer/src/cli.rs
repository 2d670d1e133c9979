//! The `takt solve` command.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::explain::{self, Explanation};
use crate::formats::{self, Format};
use crate::model::{Objective, ObjectiveTerm};
use crate::solve::{SolveParams, SolveResult};
use crate::worker::{self, CancelHandle, ChildBackend, WorkerCommand};

/// `takt solve FILE [--format jobshop|fjs|json] [--time-limit S] [--workers N] [--seed N]
/// [--objective makespan,...] [--lexicographic] [--gap G] [--no-warm-start] [--json]`.
#[derive(Clone, Debug, clap::Args)]
pub struct SolveArgs {
    /// Instance file.
    pub file: PathBuf,
    /// Input format; guessed from the extension when absent (.fjs, .json, else jobshop).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Time limit in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Parallel search workers.
    #[arg(long, default_value_t = 2)]
    pub workers: u32,
    /// Random seed.
    #[arg(long)]
    pub seed: Option<i32>,
    /// Objective terms, comma separated; summed (optionally weighted with --weights) or, with
    /// --lexicographic, optimised in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "makespan")]
    pub objective: Vec<ObjectiveTerm>,
    /// Integer weights for the objective terms (same order; default 1 each).
    #[arg(long, value_delimiter = ',')]
    pub weights: Vec<i64>,
    /// Optimise the objective terms lexicographically.
    #[arg(long)]
    pub lexicographic: bool,
    /// Stop at this relative gap (e.g. 0.01).
    #[arg(long)]
    pub gap: Option<f64>,
    /// Do not warm-start from the baseline or a dispatching rule.
    #[arg(long)]
    pub no_warm_start: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl SolveArgs {
    /// The solve parameters these arguments describe.
    pub fn params(&self) -> SolveParams {
        SolveParams {
            time_limit_s: self.time_limit,
            relative_gap: self.gap,
            workers: self.workers.max(1),
            seed: self.seed,
            warm_start: !self.no_warm_start,
            objective: Objective {
                terms: self
                    .objective
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (*t, self.weights.get(i).copied().unwrap_or(1)))
                    .collect(),
                lexicographic: self.lexicographic,
            },
        }
    }
}

/// Output of `--json`.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    instance: String,
    #[serde(flatten)]
    result: &'a SolveResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a Explanation>,
}

/// Runs `takt solve`: parses the file, solves in a worker child, checks, prints.
pub fn run_solve(args: SolveArgs, worker_exe: WorkerCommand) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let format = args.format.unwrap_or_else(|| Format::from_path(&args.file));
    let problem =
        formats::parse(&text, format).with_context(|| format!("{}", args.file.display()))?;
    let params = args.params();
    let json = args.json;
    let mut stderr = std::io::stderr();
    let result = worker::solve_in_child(
        &worker_exe,
        &problem,
        &params,
        |p| {
            if !json {
                let _ = writeln!(
                    stderr,
                    "  {:>7.2}s  best {:>10}  bound {:>10}",
                    p.time_s,
                    p.objective.map_or("-".into(), |v| format!("{v}")),
                    p.bound.map_or("-".into(), |v| format!("{v}"))
                );
            }
        },
        CancelHandle::new(),
    )?;
    let explanation = if result.status == crate::cpsat::SolveStatus::Infeasible {
        let mut sink = |_| {};
        let mut backend = ChildBackend::new(&worker_exe, &mut sink, CancelHandle::new());
        Some(explain::explain_infeasibility(
            &problem,
            params.time_limit_s.max(1.0),
            &mut backend,
        )?)
    } else {
        None
    };
    let instance = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(
            &mut out,
            &JsonOut {
                instance,
                result: &result,
                explanation: explanation.as_ref(),
            },
        )?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &instance, &result, explanation.as_ref())?;
    }
    Ok(())
}

fn print_table(
    out: &mut impl Write,
    instance: &str,
    r: &SolveResult,
    explanation: Option<&Explanation>,
) -> std::io::Result<()> {
    writeln!(out, "instance   {instance}")?;
    writeln!(out, "status     {:?}", r.status)?;
    let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v}"));
    writeln!(out, "objective  {}", f(r.objective))?;
    writeln!(out, "bound      {}", f(r.bound))?;
    writeln!(
        out,
        "gap        {}",
        r.gap.map_or("-".into(), |g| format!("{:.2}%", g * 100.0))
    )?;
    writeln!(
        out,
        "makespan   {}",
        r.makespan.map_or("-".into(), |m| m.to_string())
    )?;
    writeln!(out, "wall time  {:.2}s", r.wall_time_s)?;
    if !r.tasks.is_empty() {
        writeln!(
            out,
            "\n{:<14} {:<8} {:<10} {:>8} {:>8} {:>6}",
            "task", "machine", "operator", "start", "end", "setup"
        )?;
        for t in &r.tasks {
            writeln!(
                out,
                "{:<14} {:<8} {:<10} {:>8} {:>8} {:>6}",
                t.task.0,
                t.machine.0,
                t.operator.as_ref().map_or("-", |o| o.0.as_str()),
                t.start,
                t.end,
                t.setup
            )?;
        }
        writeln!(out, "\nmachine utilization:")?;
        for (m, u) in &r.kpis.machine_utilization {
            writeln!(out, "  {m:<10} {:>5.1}%", u * 100.0)?;
        }
        writeln!(
            out,
            "weighted tardiness {}  flow time {}",
            r.kpis.total_weighted_tardiness, r.kpis.total_flow_time
        )?;
    }
    if r.violations.is_empty() {
        if !r.tasks.is_empty() {
            writeln!(out, "checker: schedule is valid")?;
        }
    } else {
        writeln!(out, "checker: {} violation(s)", r.violations.len())?;
        for v in &r.violations {
            writeln!(out, "  {:?}: {}", v.rule, v.message)?;
        }
    }
    if let Some(e) = explanation {
        writeln!(out, "infeasible: {}", e.summary)?;
    }
    Ok(())
}
