//! Builds the CP-SAT model of a validated [`Problem`], one named function per constraint family
//! (in the style of PyJobShop), so each rule of the factory can be read — and tested — alone.
//!
//! Variables per task: `start`, `end`, one presence literal per eligible machine and one per
//! qualified operator. Machine and operator intervals are optional intervals sharing the task's
//! start and end, so resource constraints stay plain `no_overlap`s.
//!
//! In *explain* mode every constraint family that can make a plant infeasible (deadlines,
//! releases, calendars, precedences, pins, the frozen window, the horizon) is guarded by one
//! assumption literal per group; CP-SAT's `sufficient_assumptions_for_infeasibility` then names
//! the groups in conflict (see [`crate::explain`]).

use std::collections::HashMap;

use crate::cpsat::{BoolVar, CpModelBuilder, IntVar, IntervalVar, LinearExpr};
use crate::problem::{
    effective_duration, merge_windows, JobIx, MachineIx, OperatorIx, Problem, TaskIx,
};

/// One criterion of the objective.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectiveTerm {
    /// End of the last task.
    Makespan,
    /// Σ job weight × max(0, job end − due date).
    WeightedTardiness,
    /// Σ (job end − job release); tasks without a job count alone.
    FlowTime,
    /// Scheduled work inside the problem's `utilization_window`, maximised (minimised negated).
    WindowUtilization,
    /// Σ |start − baseline start| + reassignment penalty per task moved to another machine.
    MinimalChange,
}

/// The objective: weighted terms, combined as a weighted sum or lexicographically (in order).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Objective {
    /// Terms with integer weights (weights are ignored in lexicographic mode).
    pub terms: Vec<(ObjectiveTerm, i64)>,
    /// Optimise terms one after another, each keeping the optimum of the ones before.
    pub lexicographic: bool,
}

impl Default for Objective {
    fn default() -> Self {
        Self {
            terms: vec![(ObjectiveTerm::Makespan, 1)],
            lexicographic: false,
        }
    }
}

/// A group of constraints that explain mode can switch off as one assumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConstraintGroup {
    /// The job's hard deadline.
    JobDeadline(JobIx),
    /// A task's own deadline.
    TaskDeadline(TaskIx),
    /// The job's release date.
    JobRelease(JobIx),
    /// A task's own release date.
    TaskRelease(TaskIx),
    /// `before` must finish (plus lag) before `after` starts.
    Precedence {
        /// Predecessor.
        before: TaskIx,
        /// Successor.
        after: TaskIx,
    },
    /// Maintenance and breakdowns of a machine.
    MachineCalendar(MachineIx),
    /// Shifts and absences of an operator.
    OperatorCalendar(OperatorIx),
    /// A task's pinned (frozen, in-progress, done) placement.
    Pin(TaskIx),
    /// No new work starts in the frozen window.
    FrozenWindow,
    /// The planning horizon.
    Horizon,
    /// A task's maximum elapsed span.
    MaxSpan(TaskIx),
}

/// Options for [`build`].
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Objective to post (lexicographic stages are posted by the caller via `terms`).
    pub objective: Objective,
    /// Guard constraint groups with assumption literals.
    pub explain: bool,
    /// Add solution hints (baseline, else `plan`, else a dispatching-rule schedule).
    pub warm_start: bool,
    /// A schedule to hint when there is no baseline.
    pub plan: Option<Vec<crate::dispatch::Placement>>,
    /// A known upper bound on every task end (the makespan of a checked feasible schedule);
    /// only valid when the objective is the makespan alone.
    pub end_upper_bound: Option<i64>,
}

/// Variables of one task.
#[derive(Clone, Debug)]
pub struct TaskVars {
    /// Start.
    pub start: IntVar,
    /// End.
    pub end: IntVar,
    /// Machine presence literals.
    pub machines: Vec<(MachineIx, BoolVar)>,
    /// Operator presence literals.
    pub operators: Vec<(OperatorIx, BoolVar)>,
}

/// The built model and the handles needed to read a solution back.
pub struct BuiltModel {
    /// The CP-SAT model.
    pub cp: CpModelBuilder,
    /// Per task variables, indexed like `Problem::tasks`.
    pub tasks: Vec<TaskVars>,
    /// Horizon used for domains.
    pub horizon: i64,
    /// Makespan variable.
    pub makespan: IntVar,
    /// Each requested objective term as an expression to minimise.
    pub terms: Vec<(ObjectiveTerm, LinearExpr)>,
    /// Assumption literals (explain mode).
    pub groups: Vec<(BoolVar, ConstraintGroup)>,
}

struct Builder<'p> {
    p: &'p Problem,
    cp: CpModelBuilder,
    tasks: Vec<TaskVars>,
    horizon: i64,
    explain: bool,
    guards: HashMap<ConstraintGroup, BoolVar>,
    group_order: Vec<(BoolVar, ConstraintGroup)>,
    /// Per machine: (interval, preemptible).
    machine_intervals: Vec<Vec<(IntervalVar, bool)>>,
    /// Per operator: (interval, preemptible).
    operator_intervals: Vec<Vec<(IntervalVar, bool)>>,
    /// Elapsed-size expression per task.
    sizes: Vec<LinearExpr>,
}

/// Builds the model.
pub fn build(p: &Problem, opts: &BuildOptions) -> BuiltModel {
    let computed = compute_horizon(p);
    let horizon = match p.horizon() {
        Some(user) if !opts.explain => user.max(1),
        Some(user) => user.max(computed),
        None => computed,
    };
    // A dispatching-rule upper bound only bounds the makespan. Tightening every time domain
    // with it cost mk10 223 vs 213 and kept ft10's proof out of reach (bound stuck near 830 at
    // 30 s, against a proof in 17–27 s without it).
    let makespan_bound = opts.end_upper_bound.filter(|_| !opts.explain);
    let mut b = Builder {
        p,
        cp: CpModelBuilder::new(),
        tasks: Vec::with_capacity(p.tasks().len()),
        horizon,
        explain: opts.explain,
        guards: HashMap::new(),
        group_order: Vec::new(),
        machine_intervals: vec![Vec::new(); p.machines().len()],
        operator_intervals: vec![Vec::new(); p.operators().len()],
        sizes: Vec::with_capacity(p.tasks().len()),
    };
    add_task_variables(&mut b);
    add_machine_choice(&mut b);
    add_operator_assignment(&mut b);
    add_durations_and_breaks(&mut b);
    add_machine_no_overlap_and_calendars(&mut b);
    add_operator_no_overlap_and_calendars(&mut b);
    add_precedences(&mut b);
    add_release_dates(&mut b);
    add_deadlines(&mut b);
    add_max_spans(&mut b);
    add_setup_times(&mut b);
    add_frozen_work(&mut b);
    add_horizon(&mut b);
    let makespan = add_makespan(&mut b);
    if let Some(ub) = makespan_bound {
        b.cp.add_le(makespan, ub);
    }
    let terms: Vec<(ObjectiveTerm, LinearExpr)> = opts
        .objective
        .terms
        .iter()
        .map(|(t, _)| (*t, objective_term(&mut b, *t, makespan)))
        .collect();
    if opts.objective.lexicographic {
        if let Some((_, e)) = terms.first() {
            b.cp.minimize(e.clone());
        }
    } else {
        let mut obj = LinearExpr::default();
        for ((_, w), (_, e)) in opts.objective.terms.iter().zip(&terms) {
            obj = obj + e.clone() * *w;
        }
        b.cp.minimize(obj);
    }
    if opts.warm_start {
        add_warm_start(&mut b, opts.plan.as_deref());
    }
    for (lit, _) in &b.group_order {
        b.cp.add_assumption(*lit);
    }
    BuiltModel {
        cp: b.cp,
        tasks: b.tasks,
        horizon,
        makespan,
        terms,
        groups: b.group_order,
    }
}

/// Serial upper bound: after the latest release, pin, frozen window and calendar event, every
/// resource is free, so running all tasks one after another (slowest machine, largest lag and
/// setup) fits. A user horizon replaces it in normal mode; explain mode keeps the larger one and
/// guards the user's.
pub fn compute_horizon(p: &Problem) -> i64 {
    let max_setup = p
        .machines()
        .iter()
        .flat_map(|m| m.setups.values().copied())
        .max()
        .unwrap_or(0);
    let mut quiet_from = p.frozen_until();
    let mut serial: i64 = 0;
    for t in p.tasks() {
        quiet_from = quiet_from.max(t.release);
        if let Some(pin) = t.pin {
            quiet_from = quiet_from.max(pin.start);
        }
        let longest = t.modes.iter().map(|m| m.duration).max().unwrap_or(0);
        let lag = t.after.iter().map(|a| a.1).max().unwrap_or(0);
        serial = serial.saturating_add(longest + lag + max_setup);
    }
    for m in p.machines() {
        quiet_from = quiet_from.max(m.unavailable.last().map_or(0, |w| w.1));
    }
    for o in p.operators() {
        quiet_from = quiet_from.max(o.absences.last().map_or(0, |w| w.1));
        if let Some(sh) = &o.shifts {
            quiet_from = quiet_from.max(sh.last().map_or(0, |w| w.1));
        }
    }
    quiet_from.saturating_add(serial).max(1)
}

impl Builder<'_> {
    /// In explain mode, the assumption literal of a group; `None` in normal mode.
    fn guard(&mut self, g: ConstraintGroup) -> Option<BoolVar> {
        if !self.explain {
            return None;
        }
        if let Some(l) = self.guards.get(&g) {
            return Some(*l);
        }
        let l = self.cp.new_bool_var("");
        self.guards.insert(g, l);
        self.group_order.push((l, g));
        Some(l)
    }

    fn guarded(&mut self, c: crate::cpsat::ConstraintRef, g: Option<BoolVar>) {
        if let Some(l) = g {
            self.cp.only_enforce_if(c, &[l]);
        }
    }

    fn depends_on_operator(&self, ti: usize) -> bool {
        let t = &self.p.tasks()[ti];
        self.p.proficiency_speedup_percent() > 0
            && t.skill
                .as_ref()
                .is_some_and(|(_, min)| t.operators.iter().any(|(_, l)| l > min))
    }

    /// Effective processing time on `machine_duration` with operator level `level`.
    fn eff(&self, ti: usize, base: i64, level: Option<u8>) -> i64 {
        let t = &self.p.tasks()[ti];
        effective_duration(
            base,
            t.skill.as_ref().map(|s| s.1),
            level,
            self.p.proficiency_speedup_percent(),
        )
    }
}

/// Start/end variables with domains from release, pins, the horizon and the precedence
/// graph: a task cannot start before its longest chain of predecessors (shortest durations
/// plus lags) is done, nor end later than the horizon minus its longest chain of successors.
/// Releases and deadlines go into the domains directly in normal mode (tightest form); explain
/// mode posts them as guarded constraints instead (see [`add_release_dates`],
/// [`add_deadlines`]) and skips the chain bounds, which rely on them.
fn add_task_variables(b: &mut Builder<'_>) {
    let h = b.horizon;
    let n = b.p.tasks().len();
    let min_dur: Vec<i64> =
        b.p.tasks()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.modes
                    .iter()
                    .map(|m| b.eff(i, m.duration, t.operators.iter().map(|o| o.1).max()))
                    .min()
                    .unwrap_or(1)
            })
            .collect();
    let (head, tail) = if b.explain {
        (vec![0; n], vec![0; n])
    } else {
        chain_bounds(b.p, &min_dur)
    };
    for (i, t) in b.p.tasks().iter().enumerate() {
        let md = min_dur[i];
        let (mut lb, mut ub_end) = (0, h);
        if !b.explain {
            lb = t.release.max(head[i]);
            if t.pin.is_none() {
                lb = lb.max(b.p.frozen_until());
            }
            if let Some(d) = t.deadline {
                ub_end = ub_end.min(d);
            }
            ub_end = ub_end.min(h - (tail[i] - md));
        }
        if let Some(pin) = t.pin.filter(|_| !b.explain) {
            lb = pin.start;
        }
        let start = b.cp.new_int_var(lb, (ub_end - md).max(lb), "");
        let end = b.cp.new_int_var(lb + md, ub_end.max(lb + md), "");
        b.tasks.push(TaskVars {
            start,
            end,
            machines: Vec::new(),
            operators: Vec::new(),
        });
    }
}

/// Longest chains through the precedence graph with shortest durations: `head[i]` is the
/// earliest start of task i, `tail[i]` the least time from its start to the end of its last
/// successor (including itself).
fn chain_bounds(p: &Problem, min_dur: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let n = p.tasks().len();
    let mut succ: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for (i, t) in p.tasks().iter().enumerate() {
        for (pr, lag) in &t.after {
            succ[pr.0].push((i, *lag));
            indeg[i] += 1;
        }
    }
    let mut order: Vec<usize> = (0..n).filter(|i| indeg[*i] == 0).collect();
    let mut k = 0;
    while k < order.len() {
        let i = order[k];
        k += 1;
        for (j, _) in &succ[i] {
            indeg[*j] -= 1;
            if indeg[*j] == 0 {
                order.push(*j);
            }
        }
    }
    let mut head: Vec<i64> = p.tasks().iter().map(|t| t.release).collect();
    for &i in &order {
        for (j, lag) in &succ[i] {
            head[*j] = head[*j].max(head[i] + min_dur[i] + lag);
        }
    }
    let mut tail = min_dur.to_vec();
    for &i in order.iter().rev() {
        for (j, lag) in &succ[i] {
            tail[i] = tail[i].max(min_dur[i] + lag + tail[*j]);
        }
    }
    (head, tail)
}

/// Exactly one eligible machine per task (a constant-true literal when there is only one).
fn add_machine_choice(b: &mut Builder<'_>) {
    for (i, t) in b.p.tasks().iter().enumerate() {
        let lits: Vec<(MachineIx, BoolVar)> = if t.modes.len() == 1 {
            let tl = b.cp.true_lit();
            vec![(t.modes[0].machine, tl)]
        } else {
            t.modes
                .iter()
                .map(|m| (m.machine, b.cp.new_bool_var("")))
                .collect()
        };
        if lits.len() > 1 {
            let l: Vec<BoolVar> = lits.iter().map(|x| x.1).collect();
            b.cp.add_exactly_one(&l);
        }
        b.tasks[i].machines = lits;
    }
}

/// Exactly one qualified operator per task that requires a skill.
fn add_operator_assignment(b: &mut Builder<'_>) {
    for (i, t) in b.p.tasks().iter().enumerate() {
        if t.skill.is_none() {
            continue;
        }
        let lits: Vec<(OperatorIx, BoolVar)> = if t.operators.len() == 1 {
            let tl = b.cp.true_lit();
            vec![(t.operators[0].0, tl)]
        } else {
            t.operators
                .iter()
                .map(|(o, _)| (*o, b.cp.new_bool_var("")))
                .collect()
        };
        if lits.len() > 1 {
            let l: Vec<BoolVar> = lits.iter().map(|x| x.1).collect();
            b.cp.add_exactly_one(&l);
        }
        b.tasks[i].operators = lits;
    }
}

/// Links start, end and the processing time of the chosen machine (and operator, when skill
/// levels change the speed), and creates the resource intervals.
///
/// Non-preemptible tasks: `end − start` equals the processing time. Preemptible tasks: for
/// each (machine, operator) pair and each unavailable period of that pair after the release,
/// the task ends before it, starts after it, or spans it; the elapsed time grows by the length
/// of every spanned period, so the work done equals the processing time.
fn add_durations_and_breaks(b: &mut Builder<'_>) {
    let h = b.horizon;
    for i in 0..b.p.tasks().len() {
        let t = b.p.tasks()[i].clone();
        let tv = b.tasks[i].clone();
        let by_op = b.depends_on_operator(i);
        let op_levels: HashMap<OperatorIx, u8> = t.operators.iter().copied().collect();
        // Interval sizes may hold at most one variable, so the elapsed time gets its own.
        let len = b.cp.new_int_var(1, h, "");
        b.cp.add_eq(LinearExpr::from(tv.end) - tv.start, len);
        let elapsed = LinearExpr::from(len);
        if !t.preemptible {
            // Work expression (exact because exactly one literal is true).
            let size: LinearExpr = if !by_op {
                if tv.machines.len() == 1 {
                    LinearExpr::constant(t.modes[0].duration)
                } else {
                    LinearExpr::weighted_sum(
                        tv.machines
                            .iter()
                            .zip(&t.modes)
                            .map(|((_, l), m)| (*l, m.duration)),
                    )
                }
            } else {
                let durs: Vec<i64> = t
                    .modes
                    .iter()
                    .flat_map(|m| t.operators.iter().map(move |(_, l)| (m.duration, *l)))
                    .map(|(d, l)| b.eff(i, d, Some(l)))
                    .collect();
                let lo = durs.iter().copied().min().unwrap_or(1);
                let hi = durs.iter().copied().max().unwrap_or(1);
                let dur = b.cp.new_int_var(lo, hi, "");
                for ((_, ml), m) in tv.machines.iter().zip(&t.modes) {
                    for (o, ol) in &tv.operators {
                        let e = b.eff(i, m.duration, op_levels.get(o).copied());
                        let c = b.cp.add_eq(dur, e);
                        b.cp.only_enforce_if(c, &[*ml, *ol]);
                    }
                }
                LinearExpr::from(dur)
            };
            b.cp.add_eq(elapsed.clone(), size.clone());
            for ((m, ml), mode) in tv.machines.iter().zip(&t.modes) {
                let msize = if by_op {
                    size.clone()
                } else {
                    LinearExpr::constant(mode.duration)
                };
                let iv = if tv.machines.len() == 1 {
                    b.cp.new_interval(tv.start, msize, tv.end)
                } else {
                    b.cp.new_optional_interval(tv.start, msize, tv.end, *ml)
                };
                b.machine_intervals[m.0].push((iv, false));
            }
            for (o, ol) in &tv.operators {
                let iv =
                    b.cp.new_optional_interval(tv.start, elapsed.clone(), tv.end, *ol);
                b.operator_intervals[o.0].push((iv, false));
            }
        } else {
            let ops: Vec<Option<(OperatorIx, BoolVar)>> = if tv.operators.is_empty() {
                vec![None]
            } else {
                tv.operators.iter().copied().map(Some).collect()
            };
            for ((m, ml), mode) in tv.machines.iter().zip(&t.modes) {
                for op in &ops {
                    let pair = match op {
                        None => *ml,
                        Some((_, ol)) => {
                            let z = b.cp.new_bool_var("");
                            b.cp.add_implication(z, *ml);
                            b.cp.add_implication(z, *ol);
                            b.cp.add_bool_or(&[!*ml, !*ol, z]);
                            z
                        }
                    };
                    let mut breaks: Vec<(i64, i64)> = b.p.machine(*m).unavailable.clone();
                    if let Some((o, _)) = op {
                        breaks.extend(b.p.operator_unavailable(*o, h));
                    }
                    let breaks: Vec<(i64, i64)> = merge_windows(breaks)
                        .into_iter()
                        .filter(|(_, e)| *e > t.release.min(t.pin.map_or(i64::MAX, |p| p.start)))
                        .filter(|(s, _)| *s < h)
                        .collect();
                    let work = b.eff(
                        i,
                        mode.duration,
                        op.and_then(|(o, _)| op_levels.get(&o).copied()),
                    );
                    let mut stretched = LinearExpr::from(tv.end) - tv.start;
                    for (bs, be) in breaks {
                        let before = b.cp.new_bool_var("");
                        let after = b.cp.new_bool_var("");
                        let span = b.cp.new_bool_var("");
                        let c = b.cp.add_eq(LinearExpr::sum([before, after, span]), 1);
                        b.cp.only_enforce_if(c, &[pair]);
                        let c = b.cp.add_le(tv.end, bs);
                        b.cp.only_enforce_if(c, &[pair, before]);
                        let c = b.cp.add_ge(tv.start, be);
                        b.cp.only_enforce_if(c, &[pair, after]);
                        let c = b.cp.add_le(tv.start, bs - 1);
                        b.cp.only_enforce_if(c, &[pair, span]);
                        let c = b.cp.add_ge(tv.end, be + 1);
                        b.cp.only_enforce_if(c, &[pair, span]);
                        stretched.add_bool_term(span, -(be - bs));
                    }
                    let c = b.cp.add_eq(stretched, work);
                    b.cp.only_enforce_if(c, &[pair]);
                }
                let iv = if tv.machines.len() == 1 {
                    b.cp.new_interval(tv.start, elapsed.clone(), tv.end)
                } else {
                    b.cp.new_optional_interval(tv.start, elapsed.clone(), tv.end, *ml)
                };
                b.machine_intervals[m.0].push((iv, true));
            }
            for (o, ol) in &tv.operators {
                let iv =
                    b.cp.new_optional_interval(tv.start, elapsed.clone(), tv.end, *ol);
                b.operator_intervals[o.0].push((iv, true));
            }
        }
        b.sizes.push(elapsed);
    }
}

/// Posts one resource's no-overlap: tasks never overlap each other; unavailable periods block
/// non-preemptible tasks. Preemptible tasks may span those periods (their breaks were handled
/// in [`add_durations_and_breaks`]), so when a resource has any, the periods go into a second
/// no-overlap with the non-preemptible tasks only.
fn post_resource(
    b: &mut Builder<'_>,
    ivs: &[(IntervalVar, bool)],
    breaks: &[(i64, i64)],
    g: Option<BoolVar>,
) {
    let fixed: Vec<IntervalVar> = breaks
        .iter()
        .filter(|(s, _)| *s < b.horizon)
        .map(|(s, e)| b.cp.new_fixed_interval(*s, *e, g))
        .collect();
    let all: Vec<IntervalVar> = ivs.iter().map(|x| x.0).collect();
    if ivs.iter().any(|x| x.1) && !fixed.is_empty() {
        if all.len() > 1 {
            b.cp.add_no_overlap(&all);
        }
        let mut np: Vec<IntervalVar> = ivs.iter().filter(|x| !x.1).map(|x| x.0).collect();
        np.extend(fixed);
        b.cp.add_no_overlap(&np);
    } else {
        let mut list = all;
        list.extend(fixed);
        if list.len() > 1 {
            b.cp.add_no_overlap(&list);
        }
    }
}

/// Machine capacity 1, planned maintenance and breakdowns.
fn add_machine_no_overlap_and_calendars(b: &mut Builder<'_>) {
    for m in 0..b.p.machines().len() {
        let ivs = std::mem::take(&mut b.machine_intervals[m]);
        if ivs.is_empty() {
            continue;
        }
        let breaks = b.p.machines()[m].unavailable.clone();
        let g = if breaks.is_empty() {
            None
        } else {
            b.guard(ConstraintGroup::MachineCalendar(MachineIx(m)))
        };
        post_resource(b, &ivs, &breaks, g);
        b.machine_intervals[m] = ivs;
    }
}

/// An operator does one task at a time, only inside shifts, never while absent.
fn add_operator_no_overlap_and_calendars(b: &mut Builder<'_>) {
    for o in 0..b.p.operators().len() {
        let ivs = std::mem::take(&mut b.operator_intervals[o]);
        if ivs.is_empty() {
            continue;
        }
        let breaks = b.p.operator_unavailable(OperatorIx(o), b.horizon);
        let g = if breaks.is_empty() {
            None
        } else {
            b.guard(ConstraintGroup::OperatorCalendar(OperatorIx(o)))
        };
        post_resource(b, &ivs, &breaks, g);
        b.operator_intervals[o] = ivs;
    }
}

/// Finish-to-start with minimum lag.
fn add_precedences(b: &mut Builder<'_>) {
    for i in 0..b.p.tasks().len() {
        for (pred, lag) in b.p.tasks()[i].after.clone() {
            let g = b.guard(ConstraintGroup::Precedence {
                before: pred,
                after: TaskIx(i),
            });
            let c = b.cp.add_ge(
                b.tasks[i].start,
                LinearExpr::from(b.tasks[pred.0].end) + lag,
            );
            b.guarded(c, g);
        }
    }
}

/// Release dates (already in the domains in normal mode).
fn add_release_dates(b: &mut Builder<'_>) {
    if !b.explain {
        return;
    }
    for i in 0..b.p.tasks().len() {
        let t = &b.p.tasks()[i];
        let job_release = t.job.map(|j| (j, b.p.jobs()[j.0].release));
        let own = b.p.spec().tasks[i].release.map(|r| r.0);
        if let Some((j, r)) = job_release.filter(|(_, r)| *r > 0) {
            let g = b.guard(ConstraintGroup::JobRelease(j));
            let c = b.cp.add_ge(b.tasks[i].start, r);
            b.guarded(c, g);
        }
        if let Some(r) = own.filter(|r| *r > 0) {
            let g = b.guard(ConstraintGroup::TaskRelease(TaskIx(i)));
            let c = b.cp.add_ge(b.tasks[i].start, r);
            b.guarded(c, g);
        }
    }
}

/// Hard deadlines (already in the domains in normal mode).
fn add_deadlines(b: &mut Builder<'_>) {
    if !b.explain {
        return;
    }
    for i in 0..b.p.tasks().len() {
        let t = &b.p.tasks()[i];
        let job_deadline = t.job.and_then(|j| b.p.jobs()[j.0].deadline.map(|d| (j, d)));
        let own = b.p.spec().tasks[i].deadline.map(|d| d.0);
        if let Some((j, d)) = job_deadline {
            let g = b.guard(ConstraintGroup::JobDeadline(j));
            let c = b.cp.add_le(b.tasks[i].end, d);
            b.guarded(c, g);
        }
        if let Some(d) = own {
            let g = b.guard(ConstraintGroup::TaskDeadline(TaskIx(i)));
            let c = b.cp.add_le(b.tasks[i].end, d);
            b.guarded(c, g);
        }
    }
}

/// Upper limits on elapsed time (duration limits).
fn add_max_spans(b: &mut Builder<'_>) {
    for i in 0..b.p.tasks().len() {
        if let Some(ms) = b.p.tasks()[i].max_span {
            let g = b.guard(ConstraintGroup::MaxSpan(TaskIx(i)));
            let c = b.cp.add_le(b.sizes[i].clone(), ms);
            b.guarded(c, g);
        }
    }
}

/// Sequence-dependent setups: on each machine with a setup matrix, a circuit over the tasks
/// present on it (node 0 is the idle machine) orders them; an arc i→j forces
/// `start_j ≥ end_i + setup(family_i, family_j)`, so the setup occupies the machine between
/// the two tasks.
fn add_setup_times(b: &mut Builder<'_>) {
    for m in 0..b.p.machines().len() {
        let machine = &b.p.machines()[m];
        if machine.setups.values().all(|d| *d == 0) {
            continue;
        }
        let on_m: Vec<(usize, BoolVar)> = b
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(i, tv)| {
                tv.machines
                    .iter()
                    .find(|(mi, _)| mi.0 == m)
                    .map(|(_, l)| (i, *l))
            })
            .collect();
        if on_m.len() < 2 {
            continue;
        }
        let setup = |a: usize, c: usize| -> i64 {
            let fa = b.p.tasks()[a].setup_family.clone();
            let fc = b.p.tasks()[c].setup_family.clone();
            match (fa, fc) {
                (Some(x), Some(y)) => machine.setups.get(&(x, y)).copied().unwrap_or(0),
                _ => 0,
            }
        };
        let mut arcs = Vec::new();
        let idle = b.cp.new_bool_var("");
        arcs.push((0, 0, idle));
        let mut posts = Vec::new();
        for (k, (i, li)) in on_m.iter().enumerate() {
            let node = i32::try_from(k + 1).unwrap_or(i32::MAX);
            let first = b.cp.new_bool_var("");
            let last = b.cp.new_bool_var("");
            arcs.push((0, node, first));
            arcs.push((node, 0, last));
            arcs.push((node, node, !*li));
            for (k2, (j, _)) in on_m.iter().enumerate() {
                if k == k2 {
                    continue;
                }
                let lit = b.cp.new_bool_var("");
                let node2 = i32::try_from(k2 + 1).unwrap_or(i32::MAX);
                arcs.push((node, node2, lit));
                posts.push((lit, *i, *j, setup(*i, *j)));
            }
        }
        b.cp.add_circuit(&arcs);
        for (lit, i, j, s) in posts {
            let c =
                b.cp.add_ge(b.tasks[j].start, LinearExpr::from(b.tasks[i].end) + s);
            b.cp.only_enforce_if(c, &[lit]);
        }
    }
}

/// Pinned tasks (in progress, done, planner pins, baseline inside the frozen window) keep
/// machine, operator and start; other tasks start after the frozen window.
fn add_frozen_work(b: &mut Builder<'_>) {
    let frozen = b.p.frozen_until();
    for i in 0..b.p.tasks().len() {
        let t = &b.p.tasks()[i];
        match t.pin {
            Some(pin) => {
                let g = b.guard(ConstraintGroup::Pin(TaskIx(i)));
                let c = b.cp.add_eq(b.tasks[i].start, pin.start);
                b.guarded(c, g);
                let ml = b.tasks[i]
                    .machines
                    .iter()
                    .find(|(m, _)| *m == pin.machine)
                    .map(|x| x.1);
                if let Some(ml) = ml {
                    let tl = b.cp.true_lit();
                    let c = b.cp.add_eq(ml, tl);
                    b.guarded(c, g);
                }
                if let Some(o) = pin.operator {
                    let ol = b.tasks[i]
                        .operators
                        .iter()
                        .find(|(x, _)| *x == o)
                        .map(|x| x.1);
                    if let Some(ol) = ol {
                        let tl = b.cp.true_lit();
                        let c = b.cp.add_eq(ol, tl);
                        b.guarded(c, g);
                    }
                }
            }
            None if frozen > 0 && b.explain => {
                let g = b.guard(ConstraintGroup::FrozenWindow);
                let c = b.cp.add_ge(b.tasks[i].start, frozen);
                b.guarded(c, g);
            }
            None => {}
        }
    }
}

/// The user's horizon (explain mode only: in normal mode it bounds the domains).
fn add_horizon(b: &mut Builder<'_>) {
    let Some(user) = b.p.horizon() else { return };
    if !b.explain {
        return;
    }
    let g = b.guard(ConstraintGroup::Horizon);
    for i in 0..b.tasks.len() {
        let c = b.cp.add_le(b.tasks[i].end, user);
        b.guarded(c, g);
    }
}

/// Makespan = the latest end among tasks without successors.
fn add_makespan(b: &mut Builder<'_>) -> IntVar {
    let mut has_succ = vec![false; b.tasks.len()];
    for t in b.p.tasks() {
        for (p, _) in &t.after {
            has_succ[p.0] = true;
        }
    }
    let ends: Vec<LinearExpr> = b
        .tasks
        .iter()
        .zip(&has_succ)
        .filter(|(_, s)| !**s)
        .map(|(tv, _)| LinearExpr::from(tv.end))
        .collect();
    let mk = b.cp.new_int_var(0, b.horizon, "makespan");
    b.cp.add_max_equality(mk, ends);
    mk
}

/// Completion variable per job: `C_j ≥ end` of each of its tasks (exact under minimisation).
fn job_completions(b: &mut Builder<'_>) -> Vec<IntVar> {
    let h = b.horizon;
    let mut out = Vec::with_capacity(b.p.jobs().len());
    for j in b.p.jobs() {
        let c = b.cp.new_int_var(0, h, "");
        for t in &j.tasks {
            b.cp.add_ge(c, b.tasks[t.0].end);
        }
        out.push(c);
    }
    out
}

/// The expression (to minimise) of one objective term.
fn objective_term(b: &mut Builder<'_>, term: ObjectiveTerm, makespan: IntVar) -> LinearExpr {
    match term {
        ObjectiveTerm::Makespan => makespan.into(),
        ObjectiveTerm::WeightedTardiness => weighted_tardiness(b),
        ObjectiveTerm::FlowTime => flow_time(b),
        ObjectiveTerm::WindowUtilization => -window_work(b),
        ObjectiveTerm::MinimalChange => minimal_change(b),
    }
}

/// Σ w_j · max(0, C_j − due_j) over jobs with a due date.
fn weighted_tardiness(b: &mut Builder<'_>) -> LinearExpr {
    let completions = job_completions(b);
    let mut sum = LinearExpr::default();
    for (j, c) in b.p.jobs().iter().zip(completions) {
        if let Some(due) = j.due {
            let tard = b.cp.new_int_var(0, b.horizon, "");
            b.cp.add_ge(tard, LinearExpr::from(c) - due);
            sum.add_term(tard, j.weight);
        }
    }
    sum
}

/// Σ (C_j − release_j), plus (end − release) of tasks outside jobs.
fn flow_time(b: &mut Builder<'_>) -> LinearExpr {
    let completions = job_completions(b);
    let mut sum = LinearExpr::default();
    for (j, c) in b.p.jobs().iter().zip(completions) {
        if !j.tasks.is_empty() {
            sum = sum + (LinearExpr::from(c) - j.release);
        }
    }
    for (i, t) in b.p.tasks().iter().enumerate() {
        if t.job.is_none() {
            sum = sum + (LinearExpr::from(b.tasks[i].end) - t.release);
        }
    }
    sum
}

/// Σ overlap(task, window): overlap = max(0, min(end−start, end−W0, W1−start, W1−W0)), posted
/// as upper bounds, which are tight because the term is maximised.
fn window_work(b: &mut Builder<'_>) -> LinearExpr {
    let Some((w0, w1)) = b.p.utilization_window() else {
        return LinearExpr::default();
    };
    let mut sum = LinearExpr::default();
    for i in 0..b.tasks.len() {
        let ov = b.cp.new_int_var(0, w1 - w0, "");
        let tv = b.tasks[i].clone();
        b.cp.add_le(ov, b.sizes[i].clone());
        b.cp.add_le(ov, LinearExpr::from(tv.end) - w0);
        b.cp.add_le(LinearExpr::from(ov) + tv.start, w1);
        sum.add_term(ov, 1);
    }
    sum
}

/// Σ |start − baseline start| + penalty × [machine differs from baseline].
fn minimal_change(b: &mut Builder<'_>) -> LinearExpr {
    let mut sum = LinearExpr::default();
    let pen = b.p.reassignment_penalty();
    let mut base: Vec<_> = b.p.baseline().iter().map(|(k, v)| (*k, *v)).collect();
    base.sort_by_key(|(k, _)| *k);
    for (ti, pin) in base {
        let tv = b.tasks[ti.0].clone();
        let dev = b.cp.new_int_var(0, b.horizon, "");
        b.cp.add_ge(dev, LinearExpr::from(tv.start) - pin.start);
        b.cp.add_ge(dev, LinearExpr::constant(pin.start) - tv.start);
        sum.add_term(dev, 1);
        if let Some((_, ml)) = tv.machines.iter().find(|(m, _)| *m == pin.machine) {
            // pen × (1 − x_m)
            sum.add_constant(pen);
            sum.add_bool_term(*ml, -pen);
        }
    }
    sum
}

/// Hints from the baseline (the previous schedule of a re-plan) when there is one, else from
/// an explicitly given plan. The dispatching rule's own schedule is *not* hinted by default:
/// measured on Brandimarte instances, hinting it slowed CP-SAT down badly (mk08: optimum in
/// 1.4 s without, not reached in 20 s with); it still provides the upper bound.
fn add_warm_start(b: &mut Builder<'_>, plan: Option<&[crate::dispatch::Placement]>) {
    let plan: Vec<crate::dispatch::Placement> = if !b.p.baseline().is_empty() {
        b.p.baseline()
            .iter()
            .map(|(t, pin)| crate::dispatch::Placement {
                task: *t,
                machine: pin.machine,
                operator: pin.operator,
                start: pin.start,
                end: pin.start,
            })
            .collect()
    } else if let Some(plan) = plan {
        plan.to_vec()
    } else {
        return;
    };
    for pl in plan {
        let tv = b.tasks[pl.task.0].clone();
        b.cp.add_hint(tv.start, pl.start);
        if pl.end > pl.start {
            b.cp.add_hint(tv.end, pl.end);
        }
        for (mi, l) in &tv.machines {
            b.cp.add_bool_hint(*l, *mi == pl.machine);
        }
        if let Some(o) = pl.operator {
            for (oi, l) in &tv.operators {
                b.cp.add_bool_hint(*l, *oi == o);
            }
        }
    }
}
