//! The independent schedule checker.
//!
//! Why independent: it judges the solver's schedules *and* a planner's manual edits, so it must
//! not inherit a modelling mistake. It shares no code with the model builder: it reads only the
//! validated problem data and recomputes every rule (durations with proficiency, calendars,
//! setups) on its own, by direct simulation over the schedule's numbers.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::problem::{Assignment, Problem, TaskStatus};

/// A schedule to check: one assignment per task (`end` is required here).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Assignments.
    pub tasks: Vec<Assignment>,
}

/// Which rule a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Task missing from the schedule.
    Unscheduled,
    /// Task listed twice or unknown.
    UnknownOrDuplicate,
    /// Machine cannot run the task.
    IneligibleMachine,
    /// Operator missing, unknown or without the skill level.
    Operator,
    /// End − start does not match the processing time.
    Duration,
    /// Two tasks (plus setup) overlap on a machine.
    MachineOverlap,
    /// Sequence-dependent setup gap too short.
    Setup,
    /// An operator does two tasks at once.
    OperatorOverlap,
    /// Work during machine maintenance or breakdown.
    MachineUnavailable,
    /// Work outside an operator's shifts or during an absence.
    OperatorUnavailable,
    /// Successor starts before predecessor end + lag.
    Precedence,
    /// Start before release.
    Release,
    /// End after hard deadline.
    Deadline,
    /// Outside `[0, horizon]`.
    Horizon,
    /// Pinned task moved.
    Pinned,
    /// New work starting in the frozen window.
    FrozenWindow,
    /// Elapsed span above the task's limit.
    MaxSpan,
}

/// One violated rule with the task, the resource and the times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The task concerned.
    pub task: String,
    /// A second task (overlaps, precedences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_task: Option<String>,
    /// Machine or operator concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Start of the offending time span.
    pub start: i64,
    /// End of the offending time span.
    pub end: i64,
    /// Human-readable message.
    pub message: String,
}

/// Measure of `[a, b)` covered by a union of (possibly overlapping) windows.
fn covered(a: i64, b: i64, windows: &[(i64, i64)]) -> i64 {
    let mut clipped: Vec<(i64, i64)> = windows
        .iter()
        .map(|&(s, e)| (s.max(a), e.min(b)))
        .filter(|(s, e)| s < e)
        .collect();
    clipped.sort_unstable();
    let mut total = 0;
    let mut cur: Option<(i64, i64)> = None;
    for (s, e) in clipped {
        match cur {
            Some((cs, ce)) if s <= ce => cur = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                cur = Some((s, e));
            }
            None => cur = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = cur {
        total += ce - cs;
    }
    total
}

fn inside(t: i64, windows: &[(i64, i64)]) -> bool {
    windows.iter().any(|&(s, e)| s <= t && t < e)
}

/// Unavailable windows of an operator: before/between/after shifts, and absences.
fn operator_off(p: &Problem, o: usize, until: i64) -> Vec<(i64, i64)> {
    let op = &p.operators()[o];
    let mut off: Vec<(i64, i64)> = op.absences.clone();
    if let Some(shifts) = &op.shifts {
        let mut sorted = shifts.clone();
        sorted.sort_unstable();
        let mut t = i64::MIN / 4;
        for (s, e) in sorted {
            if s > t {
                off.push((t, s));
            }
            t = t.max(e);
        }
        off.push((t, until.max(t) + 1));
    }
    off
}

/// Lists every violated rule of `schedule` (empty for a valid schedule).
pub fn check(p: &Problem, schedule: &Schedule) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut push = |rule: Rule,
                    task: &str,
                    other: Option<&str>,
                    res: Option<&str>,
                    s: i64,
                    e: i64,
                    msg: String| {
        v.push(Violation {
            rule,
            task: task.to_owned(),
            other_task: other.map(str::to_owned),
            resource: res.map(str::to_owned),
            start: s,
            end: e,
            message: msg,
        });
    };
    let latest_end = schedule
        .tasks
        .iter()
        .map(|a| a.end.map_or(a.start.0, |e| e.0))
        .max()
        .unwrap_or(0);
    // Resolve each line: (task idx, machine idx, operator idx, start, end).
    let mut placed: HashMap<usize, (usize, Option<usize>, i64, i64)> = HashMap::new();
    for a in &schedule.tasks {
        let Some(ti) = p.task_ix(&a.task) else {
            push(
                Rule::UnknownOrDuplicate,
                &a.task.0,
                None,
                None,
                a.start.0,
                a.start.0,
                format!("unknown task `{}`", a.task),
            );
            continue;
        };
        if placed.contains_key(&ti.0) {
            push(
                Rule::UnknownOrDuplicate,
                &a.task.0,
                None,
                None,
                a.start.0,
                a.start.0,
                format!("task `{}` is scheduled twice", a.task),
            );
            continue;
        }
        let t = p.task(ti);
        let start = a.start.0;
        let Some(end) = a.end.map(|e| e.0) else {
            push(
                Rule::Duration,
                &a.task.0,
                None,
                None,
                start,
                start,
                format!("task `{}` has no end time", a.task),
            );
            continue;
        };
        let Some(m) = p
            .machine_ix(&a.machine)
            .filter(|m| t.modes.iter().any(|md| md.machine == *m))
        else {
            push(
                Rule::IneligibleMachine,
                &a.task.0,
                None,
                Some(&a.machine.0),
                start,
                end,
                format!("task `{}` cannot run on machine `{}`", a.task, a.machine),
            );
            continue;
        };
        let mut op = None;
        let mut level = None;
        match (&t.skill, &a.operator) {
            (None, None) => {}
            (None, Some(o)) => {
                // An operator on a task that needs none is harmless but must exist.
                if p.operator_ix(o).is_none() {
                    push(
                        Rule::Operator,
                        &a.task.0,
                        None,
                        Some(&o.0),
                        start,
                        end,
                        format!("unknown operator `{o}`"),
                    );
                }
            }
            (Some((skill, min)), None) => push(
                Rule::Operator,
                &a.task.0,
                None,
                None,
                start,
                end,
                format!(
                    "task `{}` needs an operator with `{skill}` level {min}",
                    a.task
                ),
            ),
            (Some((skill, min)), Some(o)) => match p.operator_ix(o) {
                None => push(
                    Rule::Operator,
                    &a.task.0,
                    None,
                    Some(&o.0),
                    start,
                    end,
                    format!("unknown operator `{o}`"),
                ),
                Some(oi) => {
                    let lv = p.operator(oi).skills.get(skill).copied();
                    if lv.is_none_or(|l| l < *min) {
                        push(
                            Rule::Operator,
                            &a.task.0,
                            None,
                            Some(&o.0),
                            start,
                            end,
                            format!(
                                "operator `{o}` lacks `{skill}` at level {min} (has {})",
                                lv.map_or("none".to_owned(), |l| l.to_string())
                            ),
                        );
                    } else {
                        op = Some(oi.0);
                        level = lv;
                    }
                }
            },
        }
        // Expected processing time, recomputed here on purpose (see module docs).
        let base = t
            .modes
            .iter()
            .find(|md| md.machine == m)
            .map_or(0, |md| md.duration);
        let expected = match (&t.skill, level) {
            (Some((_, min)), Some(l)) if l > *min => {
                let pct = i64::from(p.proficiency_speedup_percent()) * i64::from(l - *min);
                ((base * (100 - pct) + 99) / 100).max(1)
            }
            _ => base,
        };
        let machine = &p.machines()[m.0];
        let mut off: Vec<(i64, i64)> = machine.unavailable.clone();
        let op_off = op
            .map(|o| operator_off(p, o, latest_end))
            .unwrap_or_default();
        off.extend(op_off.iter().copied());
        if end <= start {
            push(
                Rule::Duration,
                &a.task.0,
                None,
                Some(&a.machine.0),
                start,
                end,
                format!(
                    "task `{}` ends at {end}, not after its start {start}",
                    a.task
                ),
            );
        } else if t.preemptible {
            let work = (end - start) - covered(start, end, &off);
            if work != expected {
                push(Rule::Duration, &a.task.0, None, Some(&a.machine.0), start, end, format!("task `{}` gets {work} of work between {start} and {end} outside breaks, needs {expected}", a.task));
            }
            if inside(start, &off) || inside(end - 1, &off) {
                push(
                    Rule::MachineUnavailable,
                    &a.task.0,
                    None,
                    Some(&a.machine.0),
                    start,
                    end,
                    format!(
                        "preemptible task `{}` starts or ends inside unavailable time",
                        a.task
                    ),
                );
            }
        } else {
            if end - start != expected {
                push(
                    Rule::Duration,
                    &a.task.0,
                    None,
                    Some(&a.machine.0),
                    start,
                    end,
                    format!(
                        "task `{}` lasts {} but needs {expected} on `{}`",
                        a.task,
                        end - start,
                        a.machine
                    ),
                );
            }
            let mc = covered(start, end, &machine.unavailable);
            if mc > 0 {
                push(
                    Rule::MachineUnavailable,
                    &a.task.0,
                    None,
                    Some(&a.machine.0),
                    start,
                    end,
                    format!(
                        "task `{}` runs {mc} time units while machine `{}` is unavailable",
                        a.task, a.machine
                    ),
                );
            }
            let oc = covered(start, end, &op_off);
            if let (true, Some(o)) = (oc > 0, &a.operator) {
                push(Rule::OperatorUnavailable, &a.task.0, None, Some(&o.0), start, end, format!("task `{}` runs {oc} time units while operator `{o}` is off shift or absent", a.task));
            }
        }
        if start < t.release {
            push(
                Rule::Release,
                &a.task.0,
                None,
                None,
                start,
                t.release,
                format!(
                    "task `{}` starts at {start}, before its release {}",
                    a.task, t.release
                ),
            );
        }
        if let Some(d) = t.deadline {
            if end > d {
                push(
                    Rule::Deadline,
                    &a.task.0,
                    None,
                    None,
                    d,
                    end,
                    format!("task `{}` ends at {end}, after its deadline {d}", a.task),
                );
            }
        }
        if start < 0 || p.horizon().is_some_and(|h| end > h) {
            push(
                Rule::Horizon,
                &a.task.0,
                None,
                None,
                start,
                end,
                format!("task `{}` lies outside the horizon", a.task),
            );
        }
        if let Some(ms) = t.max_span {
            if end - start > ms {
                push(
                    Rule::MaxSpan,
                    &a.task.0,
                    None,
                    None,
                    start,
                    end,
                    format!(
                        "task `{}` spans {} but may span at most {ms}",
                        a.task,
                        end - start
                    ),
                );
            }
        }
        match t.pin {
            Some(pin) => {
                let same_op = pin.operator.is_none_or(|o| Some(o.0) == op);
                if pin.start != start || pin.machine != m || !same_op {
                    let what = match t.status {
                        TaskStatus::Planned => "pinned",
                        TaskStatus::InProgress => "in progress",
                        TaskStatus::Done => "done",
                    };
                    push(
                        Rule::Pinned,
                        &a.task.0,
                        None,
                        Some(&a.machine.0),
                        start,
                        end,
                        format!(
                            "task `{}` is {what} at {} on `{}` but was moved",
                            a.task,
                            pin.start,
                            p.machine(pin.machine).id
                        ),
                    );
                }
            }
            None => {
                if start < p.frozen_until() {
                    push(
                        Rule::FrozenWindow,
                        &a.task.0,
                        None,
                        None,
                        start,
                        p.frozen_until(),
                        format!(
                            "task `{}` starts at {start}, inside the frozen window ending {}",
                            a.task,
                            p.frozen_until()
                        ),
                    );
                }
            }
        }
        placed.insert(ti.0, (m.0, op, start, end));
    }
    for (i, t) in p.tasks().iter().enumerate() {
        if !placed.contains_key(&i) && !schedule.tasks.iter().any(|a| a.task == t.id) {
            push(
                Rule::Unscheduled,
                &t.id.0,
                None,
                None,
                0,
                0,
                format!("task `{}` is not scheduled", t.id),
            );
        }
    }
    // Precedences.
    for (i, t) in p.tasks().iter().enumerate() {
        let Some(&(_, _, s, _)) = placed.get(&i) else {
            continue;
        };
        for (pred, lag) in &t.after {
            if let Some(&(_, _, _, pe)) = placed.get(&pred.0) {
                if s < pe + lag {
                    push(
                        Rule::Precedence,
                        &t.id.0,
                        Some(&p.task(*pred).id.0),
                        None,
                        pe,
                        s,
                        format!(
                            "task `{}` starts at {s}, before `{}` ends at {pe} plus lag {lag}",
                            t.id,
                            p.task(*pred).id
                        ),
                    );
                }
            }
        }
    }
    // Machines: overlaps and setups between consecutive tasks.
    let mut by_machine: HashMap<usize, Vec<(i64, i64, usize)>> = HashMap::new();
    let mut by_op: HashMap<usize, Vec<(i64, i64, usize)>> = HashMap::new();
    for (&ti, &(m, o, s, e)) in &placed {
        by_machine.entry(m).or_default().push((s, e, ti));
        if let Some(o) = o {
            by_op.entry(o).or_default().push((s, e, ti));
        }
    }
    for (m, list) in by_machine {
        let machine = &p.machines()[m];
        sweep(list, |s2, b, step| {
            let tb = &p.tasks()[b];
            match step {
                Step::Overlap { earlier, until } => {
                    let ta = &p.tasks()[earlier];
                    push(
                        Rule::MachineOverlap,
                        &tb.id.0,
                        Some(&ta.id.0),
                        Some(&machine.id.0),
                        s2,
                        until,
                        format!(
                            "tasks `{}` and `{}` overlap on machine `{}` from {s2} to {until}",
                            ta.id, tb.id, machine.id
                        ),
                    );
                }
                Step::Follows { prev, prev_end } => {
                    let ta = &p.tasks()[prev];
                    let setup = match (&ta.setup_family, &tb.setup_family) {
                        (Some(x), Some(y)) => machine
                            .setups
                            .get(&(x.clone(), y.clone()))
                            .copied()
                            .unwrap_or(0),
                        _ => 0,
                    };
                    if s2 - prev_end < setup {
                        push(
                            Rule::Setup,
                            &tb.id.0,
                            Some(&ta.id.0),
                            Some(&machine.id.0),
                            prev_end,
                            s2,
                            format!(
                                "machine `{}` needs {setup} setup between `{}` and `{}`, has {}",
                                machine.id,
                                ta.id,
                                tb.id,
                                s2 - prev_end
                            ),
                        );
                    }
                }
            }
        });
    }
    for (o, list) in by_op {
        let op = &p.operators()[o];
        sweep(list, |s2, b, step| {
            if let Step::Overlap { earlier, until } = step {
                let (ta, tb) = (&p.tasks()[earlier], &p.tasks()[b]);
                push(
                    Rule::OperatorOverlap,
                    &tb.id.0,
                    Some(&ta.id.0),
                    Some(&op.id.0),
                    s2,
                    until,
                    format!(
                        "operator `{}` works on `{}` and `{}` at once from {s2} to {until}",
                        op.id, ta.id, tb.id
                    ),
                );
            }
        });
    }
    v.sort_by(|a, b| (a.start, &a.task, a.end).cmp(&(b.start, &b.task, b.end)));
    v
}

/// How a task relates to the tasks before it on one resource.
enum Step {
    /// It starts before `earlier` (the latest-ending task so far) ends; they overlap until `until`.
    Overlap { earlier: usize, until: i64 },
    /// It starts after every earlier task ended; `prev` (started just before it) ended at `prev_end`.
    Follows { prev: usize, prev_end: i64 },
}

/// Visits a resource's tasks `(start, end, task)` in start order, each after the first with
/// its relation to those before it. Comparing with the latest-ending task so far (not only
/// the previous one) catches a long task covering several short ones.
fn sweep(mut list: Vec<(i64, i64, usize)>, mut visit: impl FnMut(i64, usize, Step)) {
    list.sort_unstable();
    let mut reach: Option<(i64, usize)> = None;
    for w in list.windows(2) {
        let (_, e1, a) = w[0];
        if reach.is_none_or(|(re, _)| e1 > re) {
            reach = Some((e1, a));
        }
        let (s2, e2, b) = w[1];
        match reach.filter(|(re, _)| s2 < *re) {
            Some((re, ra)) => visit(
                s2,
                b,
                Step::Overlap {
                    earlier: ra,
                    until: re.min(e2),
                },
            ),
            None => visit(
                s2,
                b,
                Step::Follows {
                    prev: a,
                    prev_end: e1,
                },
            ),
        }
    }
}
