//! From a [`Problem`] to a checked [`SolveResult`]: builds the model, runs it on a backend (in
//! this process or in the worker child), reads the schedule back, computes KPIs and runs the
//! independent checker on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checker::{self, Schedule, Violation};
use crate::cpsat::{CpModelBuilder, CpSolution, LinearExpr, SatParams, SolveStatus, Strategy};
use crate::error::OptimizerError;
use crate::ffi::StopHandle;
use crate::model::{self, BuildOptions, BuiltModel, Objective};
use crate::problem::{Assignment, MachineId, OperatorId, Problem, TaskId, Time};

/// Solve parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolveParams {
    /// Wall-clock limit in seconds (split across stages of a lexicographic objective).
    pub time_limit_s: f64,
    /// Stop once the relative gap is below this (e.g. 0.01).
    pub relative_gap: Option<f64>,
    /// Parallel workers (≥ 1).
    pub workers: u32,
    /// Random seed.
    pub seed: Option<i32>,
    /// Warm start from the baseline, else from a dispatching rule.
    pub warm_start: bool,
    /// The objective.
    pub objective: Objective,
}

impl Default for SolveParams {
    fn default() -> Self {
        Self {
            time_limit_s: 10.0,
            relative_gap: None,
            workers: 2,
            seed: None,
            warm_start: true,
            objective: Objective::default(),
        }
    }
}

/// One point of the search progress: the best objective and the best bound at a time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressPoint {
    /// Seconds since the solve started.
    pub time_s: f64,
    /// Best objective so far (None before the first solution).
    pub objective: Option<f64>,
    /// Best proven bound.
    pub bound: Option<f64>,
}

/// A scheduled task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduledTask {
    /// Task id.
    pub task: TaskId,
    /// Job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Machine.
    pub machine: MachineId,
    /// Operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorId>,
    /// Start.
    pub start: i64,
    /// End.
    pub end: i64,
    /// Setup time right before this task on its machine.
    pub setup: i64,
}

/// Schedule KPIs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Latest end.
    pub makespan: i64,
    /// Σ weight × tardiness over jobs with due dates.
    pub total_weighted_tardiness: i64,
    /// Jobs finishing after their due date.
    pub late_jobs: usize,
    /// Σ (job completion − release).
    pub total_flow_time: i64,
    /// Busy (processing + setup) time / makespan per machine.
    pub machine_utilization: BTreeMap<String, f64>,
    /// Busy time per operator.
    pub operator_load: BTreeMap<String, i64>,
    /// Work inside the utilization window, if one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_work: Option<i64>,
}

/// The result of a solve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolveResult {
    /// Outcome.
    pub status: SolveStatus,
    /// Objective value (of the last lexicographic stage).
    pub objective: Option<f64>,
    /// Best bound.
    pub bound: Option<f64>,
    /// (objective − bound) / max(1, |objective|); from the bound, since a gap-limit stop is
    /// still reported as OPTIMAL by CP-SAT.
    pub gap: Option<f64>,
    /// Wall time in seconds (build + solve + read back).
    pub wall_time_s: f64,
    /// Makespan of the schedule.
    pub makespan: Option<i64>,
    /// The schedule, sorted by start.
    pub tasks: Vec<ScheduledTask>,
    /// KPIs.
    pub kpis: Kpis,
    /// The independent checker's findings (empty for a valid schedule).
    pub violations: Vec<Violation>,
    /// Progress points (objective, bound over time) when available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<ProgressPoint>,
}

/// Runs an encoded model: in this process or in a worker child.
pub trait Backend {
    /// Solves `model` with `params`.
    fn run(
        &mut self,
        model: &CpModelBuilder,
        params: &SatParams,
    ) -> Result<CpSolution, OptimizerError>;
    /// Whether a stop was requested (lexicographic stages stop early then).
    fn cancelled(&self) -> bool {
        false
    }
}

/// In-process backend (tests, benchmarks; the server uses the child).
pub struct InProcess {
    /// Stop handle for cancellation from another thread.
    pub stop: StopHandle,
}

impl Backend for InProcess {
    fn run(
        &mut self,
        model: &CpModelBuilder,
        params: &SatParams,
    ) -> Result<CpSolution, OptimizerError> {
        model.solve(params, &self.stop)
    }
    fn cancelled(&self) -> bool {
        self.stop.is_requested()
    }
}

/// Solves in this process.
pub fn solve_in_process(
    p: &Problem,
    params: &SolveParams,
    stop: StopHandle,
) -> Result<SolveResult, OptimizerError> {
    solve_with(p, params, &mut InProcess { stop })
}

/// Builds, solves (stage by stage for lexicographic objectives), reads back and checks.
pub fn solve_with(
    p: &Problem,
    params: &SolveParams,
    backend: &mut dyn Backend,
) -> Result<SolveResult, OptimizerError> {
    let t0 = std::time::Instant::now();
    // A dispatching-rule schedule: when the independent checker accepts it and the objective
    // is the makespan alone, its makespan bounds every end, which tightens all time domains.
    // (The warm start proper is the baseline of a re-plan; see `model::add_warm_start`.)
    let plan = params.warm_start.then(|| crate::dispatch::greedy(p));
    let makespan_only = makespan_only(&params.objective);
    let checked_makespan = |plan: &[crate::dispatch::Placement]| {
        checker::check(p, &crate::dispatch::schedule(p, plan))
            .is_empty()
            .then(|| crate::dispatch::makespan(plan))
    };
    let end_upper_bound = match &plan {
        Some(plan) if makespan_only => checked_makespan(plan),
        _ => None,
    };
    // On a pure job shop of LOCAL_SEARCH_FROM_TASKS tasks or more, a tabu search improves the
    // dispatching rule's schedule first; a schedule the checker accepts becomes CP-SAT's hint.
    // Not its makespan bound: a bound that tight, without the hint, left CP-SAT with no
    // solution at all in 30 s on la27 and la29.
    let mut hint = None;
    let shop =
        (makespan_only && p.baseline().is_empty() && p.tasks().len() >= LOCAL_SEARCH_FROM_TASKS)
            .then(|| crate::local_search::JobShop::of(p))
            .flatten();
    if let (Some(plan), Some(shop)) = (&plan, shop) {
        let budget = crate::local_search::Budget {
            until: t0
                + std::time::Duration::from_secs_f64(params.time_limit_s * LOCAL_SEARCH_SHARE),
            max_moves: u64::MAX,
            seed: params.seed.map_or(0, |s| u64::from(s.unsigned_abs())),
        };
        let searches = usize::try_from(params.workers.max(1)).unwrap_or(1);
        hint = crate::local_search::improve_in_parallel(&shop, plan, budget, searches, &|| {
            backend.cancelled()
        })
        .filter(|improved| checked_makespan(improved).is_some());
    }
    // CP-SAT does not follow the searches' hint in its decisions. The hint is still CP-SAT's
    // first solution, which its large neighbourhoods go on to improve; its own search is left
    // free to look elsewhere. On la40 (30 s, 2 workers, seeds 1–8) the solve then reached the
    // optimum 1222 from the searches' 1224–1228 with 7 seeds instead of 5; on la24, with the
    // five seeds of 16 whose searches alone missed the optimum 935, it ended at 935 with 3
    // instead of 2 (bench/solver/README.md, probes after run U).
    let follow_hint_in_search = hint.is_none();
    let opts = BuildOptions {
        objective: params.objective.clone(),
        explain: false,
        warm_start: params.warm_start,
        plan: hint,
        end_upper_bound,
    };
    let mut built = model::build(p, &opts);
    let stages = if params.objective.lexicographic {
        params.objective.terms.len().max(1)
    } else {
        1
    };
    let linearization_level = lp_level(p);
    let lead_strategy = lead_strategy(p, &params.objective);
    let mut last: Option<CpSolution> = None;
    let mut stage_hint: Option<Vec<i64>> = None;
    for stage in 0..stages {
        if stage > 0 {
            // Keep every earlier term at its optimum (or best found), optimise the next one,
            // warm-started from the previous stage's solution.
            let Some(prev) = &last else { break };
            if !prev.status().has_solution() || backend.cancelled() {
                break;
            }
            let value = prev.expr_value(&built.terms[stage - 1].1);
            let e: LinearExpr = built.terms[stage - 1].1.clone();
            built.cp.add_le(e, value);
            built.cp.minimize(built.terms[stage].1.clone());
            if let Some(h) = &stage_hint {
                hint_all(&mut built, h);
            }
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let remaining = (params.time_limit_s - elapsed).max(0.05);
        let share = remaining / (stages - stage) as f64;
        let sat = SatParams {
            max_time_in_seconds: share,
            num_workers: i32::try_from(params.workers.max(1)).unwrap_or(1),
            random_seed: params.seed,
            relative_gap_limit: params.relative_gap,
            log_search_progress: false,
            linearization_level,
            follow_hint_in_search,
            lead_strategy,
        };
        let sol = backend.run(&built.cp, &sat)?;
        if sol.status() == SolveStatus::ModelInvalid {
            return Err(OptimizerError::Model(sol.response.solution_info.clone()));
        }
        if sol.status().has_solution() {
            stage_hint = Some(sol.response.solution.clone());
            last = Some(sol);
        } else if last.is_none() || stage == 0 {
            last = Some(sol);
            break;
        } else {
            break;
        }
    }
    let sol = last.ok_or_else(|| OptimizerError::Native("no solve was run".into()))?;
    let mut result = read_back(p, &built, &sol);
    result.wall_time_s = t0.elapsed().as_secs_f64();
    Ok(result)
}

/// Whether the objective is the makespan alone.
fn makespan_only(objective: &Objective) -> bool {
    !objective.terms.is_empty()
        && objective
            .terms
            .iter()
            .all(|(t, _)| *t == model::ObjectiveTerm::Makespan)
}

/// The strategy CP-SAT's portfolio starts with: `no_lp` for the makespan of a pure job shop
/// (one machine per task, no operators, setups, calendars or pins), CP-SAT's own order
/// otherwise. Why: with 2 workers CP-SAT runs one full search, by default `default_lp`, and on
/// job shops the search without the LP relaxation proved optima far sooner (30 s, 2 workers):
/// ft10 in 3.9–5.7 s with seeds 1–4, where `default_lp` proved it with one of the four (29.0
/// s); la19 in 1.3–2.0 s instead of 7.5–11.6 s; la36 in 8.9 s instead of 20.1 s. It also found
/// more optima: la40's 1222 with all of seeds 1–8 (three proven; six of eight before), la24's
/// 935 with six of eight seeds against four (bench/solver/README.md, probes after run Y).
/// Plants with choices keep `default_lp`, whose LP guides the assignment (see [`lp_level`]).
pub fn lead_strategy(p: &Problem, objective: &Objective) -> Option<Strategy> {
    (makespan_only(objective) && crate::local_search::JobShop::of(p).is_some())
        .then_some(Strategy::NoLp)
}

/// Plants up to this many tasks with a machine choice get the fuller LP relaxation.
pub const FULL_LP_UP_TO_TASKS: usize = 1_000;

/// CP-SAT's LP relaxation level for a problem. Why: with a choice of machines, level 2 also
/// relaxes the exactly-one machine choice and each machine's no-overlap into the LP, which
/// guides the assignment; on Brandimarte's mk05, mk07 and mk10 (30 s, 2 workers, seeds 1–4) it
/// found shorter schedules in every run (mk10: 211–215 against 220–224) and never longer ones.
/// A pure job shop has no choice and only pays for the bigger LP (la27, la38 a little worse),
/// and plants beyond the measured sizes keep CP-SAT's default (`None`).
pub fn lp_level(p: &Problem) -> Option<i32> {
    let flexible = p.tasks().iter().any(|t| t.modes.len() > 1);
    (flexible && p.tasks().len() <= FULL_LP_UP_TO_TASKS).then_some(2)
}

/// The share of the time limit the job-shop tabu search may take before CP-SAT starts. Why a
/// fifth: with N6 moves, 6 s of 30 brought la21 to its optimum 1046 in all six solves of seeds
/// 1–3 (two runs) where 3 s left CP-SAT at 1047 from the hint in two of three; elsewhere the
/// two shares were alike within the seeds' noise, and the thirteen shops of la21–la40 that
/// CP-SAT proves stayed proven (bench/solver/README.md, runs O and P).
pub const LOCAL_SEARCH_SHARE: f64 = 0.2;

/// Job shops from this size get the tabu search's hint. Why not smaller ones: CP-SAT proves
/// the classic 10×10 shops within 30 s by itself, and with the hint it proved ft10 less often
/// (30 s, 2 workers, `default_lp` leading: proven in 1 of 4 runs with the hint, 4 of 7
/// without; with `no_lp` leading, see [`lead_strategy`], it is proven in 4–7 s without one).
/// From la21 (15×10) up, where proofs run out of time, the hint paid (bench/solver/README.md).
pub const LOCAL_SEARCH_FROM_TASKS: usize = 150;

fn hint_all(built: &mut BuiltModel, values: &[i64]) {
    built.cp.set_full_hint(values);
}

/// Turns a solver response into a result: schedule, setups, KPIs, checker findings.
pub fn read_back(p: &Problem, built: &BuiltModel, sol: &CpSolution) -> SolveResult {
    let status = sol.status();
    let mut tasks = Vec::new();
    if status.has_solution() {
        for (i, tv) in built.tasks.iter().enumerate() {
            let t = p.task(crate::problem::TaskIx(i));
            let machine = tv
                .machines
                .iter()
                .find(|(_, l)| sol.bool_value(*l))
                .map(|(m, _)| p.machine(*m).id.clone())
                .unwrap_or_else(|| p.machine(t.modes[0].machine).id.clone());
            let operator = tv
                .operators
                .iter()
                .find(|(_, l)| sol.bool_value(*l))
                .map(|(o, _)| p.operator(*o).id.clone());
            tasks.push(ScheduledTask {
                task: t.id.clone(),
                job: t.job.map(|j| p.jobs()[j.0].id.0.clone()),
                machine,
                operator,
                start: sol.value(tv.start),
                end: sol.value(tv.end),
                setup: 0,
            });
        }
        fill_setups(p, &mut tasks);
        tasks.sort_by(|a, b| (a.start, &a.machine, &a.task).cmp(&(b.start, &b.machine, &b.task)));
    }
    let schedule = to_schedule(&tasks);
    let violations = if status.has_solution() {
        checker::check(p, &schedule)
    } else {
        Vec::new()
    };
    let kpis = kpis(p, &tasks);
    let (objective, bound, gap) = if status.has_solution() {
        let o = sol.objective();
        let b = sol.bound();
        (
            Some(o),
            Some(b),
            Some(((o - b).abs() / o.abs().max(1.0)).max(0.0)),
        )
    } else {
        (None, None, None)
    };
    // CP-SAT reports OPTIMAL when it stops at the relative gap limit; only a closed gap is
    // reported as optimal here.
    let status = match gap {
        Some(g) if status == SolveStatus::Optimal && g > 1e-9 => SolveStatus::Feasible,
        _ => status,
    };
    SolveResult {
        status,
        objective,
        bound,
        gap,
        wall_time_s: sol.wall_time(),
        makespan: status.has_solution().then_some(kpis.makespan),
        tasks,
        kpis,
        violations,
        progress: Vec::new(),
    }
}

/// The checker's view of a result.
pub fn to_schedule(tasks: &[ScheduledTask]) -> Schedule {
    Schedule {
        tasks: tasks
            .iter()
            .map(|t| Assignment {
                task: t.task.clone(),
                machine: t.machine.clone(),
                operator: t.operator.clone(),
                start: Time(t.start),
                end: Some(Time(t.end)),
            })
            .collect(),
    }
}

fn fill_setups(p: &Problem, tasks: &mut [ScheduledTask]) {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by(|&a, &b| {
        (&tasks[a].machine, tasks[a].start).cmp(&(&tasks[b].machine, tasks[b].start))
    });
    for w in order.windows(2) {
        let (a, b) = (w[0], w[1]);
        if tasks[a].machine != tasks[b].machine {
            continue;
        }
        let (Some(ma), Some(ta), Some(tb)) = (
            p.machine_ix(&tasks[a].machine),
            p.task_ix(&tasks[a].task),
            p.task_ix(&tasks[b].task),
        ) else {
            continue;
        };
        let m = p.machine(ma);
        if let (Some(fa), Some(fb)) = (&p.task(ta).setup_family, &p.task(tb).setup_family) {
            tasks[b].setup = m
                .setups
                .get(&(fa.clone(), fb.clone()))
                .copied()
                .unwrap_or(0);
        }
    }
}

/// KPIs of a schedule.
pub fn kpis(p: &Problem, tasks: &[ScheduledTask]) -> Kpis {
    let makespan = tasks.iter().map(|t| t.end).max().unwrap_or(0);
    let mut k = Kpis {
        makespan,
        ..Default::default()
    };
    let mut job_end: BTreeMap<&str, i64> = BTreeMap::new();
    for t in tasks {
        if let Some(j) = &t.job {
            let e = job_end.entry(j.as_str()).or_insert(0);
            *e = (*e).max(t.end);
        }
        *k.machine_utilization
            .entry(t.machine.0.clone())
            .or_insert(0.0) += (t.end - t.start + t.setup) as f64;
        if let Some(o) = &t.operator {
            *k.operator_load.entry(o.0.clone()).or_insert(0) += t.end - t.start;
        }
    }
    for m in p.machines() {
        let busy = k.machine_utilization.entry(m.id.0.clone()).or_insert(0.0);
        *busy = if makespan > 0 {
            *busy / makespan as f64
        } else {
            0.0
        };
    }
    for o in p.operators() {
        k.operator_load.entry(o.id.0.clone()).or_insert(0);
    }
    for j in p.jobs() {
        let Some(&c) = job_end.get(j.id.0.as_str()) else {
            continue;
        };
        k.total_flow_time += c - j.release;
        if let Some(d) = j.due {
            if c > d {
                k.total_weighted_tardiness += j.weight * (c - d);
                k.late_jobs += 1;
            }
        }
    }
    for t in tasks {
        if t.job.is_none() {
            if let Some(ti) = p.task_ix(&t.task) {
                k.total_flow_time += t.end - p.task(ti).release;
            }
        }
    }
    if let Some((w0, w1)) = p.utilization_window() {
        k.window_work = Some(
            tasks
                .iter()
                .map(|t| (t.end.min(w1) - t.start.max(w0)).max(0))
                .sum(),
        );
    }
    k
}
