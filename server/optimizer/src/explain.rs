//! Explaining infeasibility in the factory's words.
//!
//! Method: the model is built in *explain* mode, where every constraint group that a planner
//! can relax — a job's deadline or release, a machine's calendar, an operator's shifts and
//! absences, a precedence, a pinned task, the frozen window, the horizon — is enforced by its
//! own literal, and all those literals are passed to CP-SAT as assumptions. When the model is
//! infeasible, CP-SAT reports `sufficient_assumptions_for_infeasibility`: a subset of groups
//! that already conflicts. We map those literals back to their groups and phrase them.
//! Structural rules (a task needs a machine, skills) are checked earlier by validation.

use serde::{Deserialize, Serialize};

use crate::cpsat::{SatParams, SolveStatus};
use crate::error::OptimizerError;
use crate::model::{self, BuildOptions, ConstraintGroup, Objective};
use crate::problem::Problem;
use crate::solve::Backend;

/// One constraint group taking part in the conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Machine-readable kind, e.g. `job_deadline`.
    pub kind: String,
    /// The factory's words, e.g. `deadline of job J-1042 (t=480)`.
    pub description: String,
}

/// The outcome of an explanation run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Whether the solver proved infeasibility under the assumptions.
    pub infeasible: bool,
    /// Groups that together conflict (empty if feasible or unknown).
    pub conflicts: Vec<Conflict>,
    /// One sentence: "X vs. Y and Z".
    pub summary: String,
}

fn describe(p: &Problem, g: ConstraintGroup) -> Conflict {
    let (kind, description) = match g {
        ConstraintGroup::JobDeadline(j) => {
            let job = &p.jobs()[j.0];
            (
                "job_deadline",
                format!(
                    "deadline of job {} (t={})",
                    job.id,
                    job.deadline.unwrap_or(0)
                ),
            )
        }
        ConstraintGroup::TaskDeadline(t) => {
            let task = p.task(t);
            (
                "task_deadline",
                format!(
                    "deadline of task {} (t={})",
                    task.id,
                    task.deadline.unwrap_or(0)
                ),
            )
        }
        ConstraintGroup::JobRelease(j) => {
            let job = &p.jobs()[j.0];
            (
                "job_release",
                format!("release of job {} (t={})", job.id, job.release),
            )
        }
        ConstraintGroup::TaskRelease(t) => {
            let task = p.task(t);
            (
                "task_release",
                format!("release of task {} (t={})", task.id, task.release),
            )
        }
        ConstraintGroup::Precedence { before, after } => (
            "precedence",
            format!(
                "task {} must wait for task {}",
                p.task(after).id,
                p.task(before).id
            ),
        ),
        ConstraintGroup::MachineCalendar(m) => {
            let mach = p.machine(m);
            let why = if mach.unavailable_labels.is_empty() {
                "unavailable periods".to_owned()
            } else {
                mach.unavailable_labels.join(", ")
            };
            ("machine_calendar", format!("{why} of machine {}", mach.id))
        }
        ConstraintGroup::OperatorCalendar(o) => (
            "operator_calendar",
            format!("shifts and absences of operator {}", p.operator(o).id),
        ),
        ConstraintGroup::Pin(t) => (
            "pinned_task",
            format!("pinned placement of task {}", p.task(t).id),
        ),
        ConstraintGroup::FrozenWindow => (
            "frozen_window",
            format!("frozen window until t={}", p.frozen_until()),
        ),
        ConstraintGroup::Horizon => (
            "horizon",
            format!("planning horizon t={}", p.horizon().unwrap_or(0)),
        ),
        ConstraintGroup::MaxSpan(t) => (
            "max_span",
            format!("duration limit of task {}", p.task(t).id),
        ),
    };
    Conflict {
        kind: kind.to_owned(),
        description,
    }
}

/// Finds constraint groups that conflict. Uses one worker, since the assumption core comes
/// from CP-SAT's sequential search.
pub fn explain_infeasibility(
    p: &Problem,
    time_limit_s: f64,
    backend: &mut dyn Backend,
) -> Result<Explanation, OptimizerError> {
    let built = model::build(
        p,
        &BuildOptions {
            objective: Objective {
                terms: Vec::new(),
                lexicographic: false,
            },
            explain: true,
            warm_start: false,
            plan: None,
            end_upper_bound: None,
        },
    );
    let sol = backend.run(
        &built.cp,
        &SatParams {
            max_time_in_seconds: time_limit_s,
            num_workers: 1,
            ..Default::default()
        },
    )?;
    if sol.status() != SolveStatus::Infeasible {
        return Ok(Explanation {
            infeasible: false,
            conflicts: Vec::new(),
            summary: match sol.status() {
                SolveStatus::Unknown => "no conflict found within the time limit".to_owned(),
                _ => "the relaxable constraints are compatible".to_owned(),
            },
        });
    }
    let core = &sol.response.sufficient_assumptions_for_infeasibility;
    let conflicts: Vec<Conflict> = built
        .groups
        .iter()
        .filter(|(lit, _)| core.contains(&lit.raw()))
        .map(|(_, g)| describe(p, *g))
        .collect();
    let summary = match conflicts.split_first() {
        None => "infeasible even without deadlines, calendars and pins".to_owned(),
        Some((first, [])) => format!("{} cannot be met", first.description),
        Some((first, rest)) => format!(
            "{} vs. {}",
            first.description,
            rest.iter()
                .map(|c| c.description.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    Ok(Explanation {
        infeasible: true,
        conflicts,
        summary,
    })
}
