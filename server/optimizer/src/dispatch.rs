//! A greedy dispatching rule used as a warm start: list scheduling that repeatedly places the
//! ready task with the earliest possible completion on its best (machine, operator) pair.
//!
//! Why: on flexible job shops CP-SAT's first solutions can be poor; a reasonable complete hint
//! lets its LNS workers start improving at once. Calendars and setups are ignored (a hint need
//! not be feasible: CP-SAT repairs or drops it).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::checker::Schedule;
use crate::problem::{
    effective_duration, Assignment, MachineIx, OperatorIx, Problem, TaskIx, Time,
};

/// One task placed by the dispatching rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Task.
    pub task: TaskIx,
    /// Machine.
    pub machine: MachineIx,
    /// Operator.
    pub operator: Option<OperatorIx>,
    /// Start.
    pub start: i64,
    /// End.
    pub end: i64,
}

/// The latest end of a plan (0 for an empty one).
pub fn makespan(plan: &[Placement]) -> i64 {
    plan.iter().map(|pl| pl.end).max().unwrap_or(0)
}

/// A dispatching or local-search plan as a schedule the independent checker can judge.
pub fn schedule(p: &Problem, plan: &[Placement]) -> Schedule {
    Schedule {
        tasks: plan
            .iter()
            .map(|pl| Assignment {
                task: p.task(pl.task).id.clone(),
                machine: p.machine(pl.machine).id.clone(),
                operator: pl.operator.map(|o| p.operator(o).id.clone()),
                start: Time(pl.start),
                end: Some(Time(pl.end)),
            })
            .collect(),
    }
}

/// A placement per task, in dispatch order.
pub fn greedy(p: &Problem) -> Vec<Placement> {
    let n = p.tasks().len();
    let mut succ: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
    let mut missing = vec![0usize; n];
    for (i, t) in p.tasks().iter().enumerate() {
        for (pr, lag) in &t.after {
            succ[pr.0].push((i, *lag));
            missing[i] += 1;
        }
    }
    let mut ready_at: Vec<i64> = p
        .tasks()
        .iter()
        .map(|t| {
            if t.pin.is_some() {
                t.release
            } else {
                t.release.max(p.frozen_until())
            }
        })
        .collect();
    let mut machine_free = vec![0i64; p.machines().len()];
    let mut op_free = vec![0i64; p.operators().len()];
    let pct = p.proficiency_speedup_percent();
    // Best (completion, start, machine, operator) for a task given the current resource state.
    let best = |i: usize, ready: i64, mf: &[i64], of: &[i64]| {
        let t = &p.tasks()[i];
        if let Some(pin) = t.pin {
            let level = pin
                .operator
                .and_then(|o| t.operators.iter().find(|(x, _)| *x == o).map(|x| x.1));
            let d = t
                .modes
                .iter()
                .find(|m| m.machine == pin.machine)
                .map_or(1, |m| {
                    effective_duration(m.duration, t.skill.as_ref().map(|s| s.1), level, pct)
                });
            return (pin.start + d, pin.start, pin.machine, pin.operator);
        }
        let mut out: Option<(i64, i64, MachineIx, Option<OperatorIx>)> = None;
        for m in &t.modes {
            let ops: Vec<(Option<OperatorIx>, Option<u8>)> = if t.operators.is_empty() {
                vec![(None, None)]
            } else {
                t.operators
                    .iter()
                    .map(|(o, l)| (Some(*o), Some(*l)))
                    .collect()
            };
            for (o, l) in ops {
                let d = effective_duration(m.duration, t.skill.as_ref().map(|s| s.1), l, pct);
                let s = ready.max(mf[m.machine.0]).max(o.map_or(0, |o| of[o.0]));
                let cand = (s + d, s, m.machine, o);
                if out.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                    out = Some(cand);
                }
            }
        }
        out.unwrap_or((ready, ready, MachineIx(0), None))
    };
    let mut heap: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    for i in 0..n {
        if missing[i] == 0 {
            let (c, ..) = best(i, ready_at[i], &machine_free, &op_free);
            heap.push(Reverse((c, i)));
        }
    }
    let mut plan = Vec::with_capacity(n);
    while let Some(Reverse((key, i))) = heap.pop() {
        let (c, s, m, o) = best(i, ready_at[i], &machine_free, &op_free);
        if c > key {
            // Resources moved on since this entry was queued: requeue with the fresh estimate.
            heap.push(Reverse((c, i)));
            continue;
        }
        machine_free[m.0] = machine_free[m.0].max(c);
        if let Some(o) = o {
            op_free[o.0] = op_free[o.0].max(c);
        }
        plan.push(Placement {
            task: TaskIx(i),
            machine: m,
            operator: o,
            start: s,
            end: c,
        });
        for (j, lag) in &succ[i] {
            ready_at[*j] = ready_at[*j].max(c + lag);
            missing[*j] -= 1;
            if missing[*j] == 0 {
                let (cj, ..) = best(*j, ready_at[*j], &machine_free, &op_free);
                heap.push(Reverse((cj, *j)));
            }
        }
    }
    plan
}
