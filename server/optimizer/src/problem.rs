//! Solver-independent factory scheduling data, validated on construction.
//!
//! Parse, don't validate: [`ProblemSpec`] is the raw JSON shape; [`Problem::new`] checks every
//! rule once and resolves string ids into indices, so the model builder and the checker can rely
//! on a consistent problem (every task has a machine, every skill a qualified operator, the
//! precedence graph is acyclic, ...). Errors name the task (or resource) and the rule broken.
//!
//! Time is an integer count of the plant's time unit (minutes in the UI); `0` is the start of the
//! planning horizon.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A task (operation) id.
    TaskId
);
string_id!(
    /// A job (order) id; a job groups tasks and carries due dates.
    JobId
);
string_id!(
    /// A machine id.
    MachineId
);
string_id!(
    /// An operator (worker) id.
    OperatorId
);
string_id!(
    /// A skill name, e.g. `welding`.
    SkillId
);
string_id!(
    /// A setup family: changing between families on a machine costs setup time.
    SetupFamily
);

/// A point in time, in the plant's time unit from the horizon start.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Time(pub i64);

/// A length of time, in the plant's time unit.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct Duration(pub i64);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", self.0)
    }
}
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A half-open time window `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First instant inside.
    pub start: Time,
    /// First instant after.
    pub end: Time,
    /// Free text shown in explanations, e.g. `planned maintenance`, `day shift`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Index of a task in [`Problem::tasks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskIx(pub usize);
/// Index of a machine in [`Problem::machines`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MachineIx(pub usize);
/// Index of an operator in [`Problem::operators`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperatorIx(pub usize);
/// Index of a job in [`Problem::jobs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobIx(pub usize);

// ---------------------------------------------------------------------------------------------
// Raw JSON shape
// ---------------------------------------------------------------------------------------------

/// The JSON problem format (see `PROBLEM_FORMAT.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemSpec {
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Latest allowed end of any task; computed from the data when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<Time>,
    /// Frozen window `[0, frozen_until)`: tasks of the baseline starting inside it keep their
    /// baseline machine, operator and start; no other task may start inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen_until: Option<Time>,
    /// Per skill level above a task's minimum, the operator works this many percent faster
    /// (durations are stated for an operator at exactly the minimum level). 0 = no effect.
    #[serde(default)]
    pub proficiency_speedup_percent: u32,
    /// Cost, in time units, of moving a task to another machine than in the baseline (used by
    /// the minimal-change objective).
    #[serde(default = "default_reassignment_penalty")]
    pub reassignment_penalty: i64,
    /// Window whose scheduled work the window-utilization objective maximises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_window: Option<Window>,
    /// Machines.
    pub machines: Vec<MachineSpec>,
    /// Operators (may be empty when no task requires a skill).
    #[serde(default)]
    pub operators: Vec<OperatorSpec>,
    /// Jobs (orders).
    #[serde(default)]
    pub jobs: Vec<JobSpec>,
    /// Tasks.
    pub tasks: Vec<TaskSpec>,
    /// The previous schedule, for re-plans (frozen window, minimal change, warm start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baseline: Vec<Assignment>,
}

fn default_reassignment_penalty() -> i64 {
    60
}
fn default_weight() -> i64 {
    1
}

/// A machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineSpec {
    /// Id.
    pub id: MachineId,
    /// Planned maintenance, breakdowns: no work in these windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<Window>,
    /// Sequence-dependent setup times between families on this machine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setups: Vec<SetupSpec>,
}

/// Setup time when a task of family `to` directly follows one of family `from`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupSpec {
    /// Family of the preceding task.
    pub from: SetupFamily,
    /// Family of the following task.
    pub to: SetupFamily,
    /// Setup length; the machine is occupied during it.
    pub duration: Duration,
}

/// An operator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSpec {
    /// Id.
    pub id: OperatorId,
    /// Skill name → proficiency level 1 (novice) to 5 (expert).
    #[serde(default)]
    pub skills: BTreeMap<SkillId, u8>,
    /// Shift windows (day, evening, night, flexible); empty means always available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shifts: Vec<Window>,
    /// Absences (leave, sickness, training) inside shifts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absences: Vec<Window>,
}

/// A job (customer order): its tasks share release, due date and deadline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Id.
    pub id: JobId,
    /// No task of the job starts before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Time>,
    /// Soft due date: finishing later costs `weight` per time unit of tardiness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Time>,
    /// Hard deadline: every task of the job ends by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Time>,
    /// Tardiness weight (priority), ≥ 1.
    #[serde(default = "default_weight")]
    pub weight: i64,
}

/// One way to run a task: on `machine`, taking `duration`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSpec {
    /// Machine id.
    pub machine: MachineId,
    /// Processing time on that machine (at the minimum skill level).
    pub duration: Duration,
}

/// Required operator skill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillRequirement {
    /// Skill name.
    pub skill: SkillId,
    /// Minimum proficiency level, 1–5.
    pub min_level: u8,
}

/// Finish-to-start precedence: this task starts at least `min_lag` after `task` ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecedenceSpec {
    /// The predecessor.
    pub task: TaskId,
    /// Minimum waiting time (curing, cooling, transport); may be 0.
    #[serde(default)]
    pub min_lag: Duration,
}

/// Execution state of a task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started: free to schedule.
    #[default]
    Planned,
    /// Running: must keep its `fixed` assignment.
    InProgress,
    /// Finished: must keep its `fixed` assignment.
    Done,
}

/// A task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Id.
    pub id: TaskId,
    /// Owning job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobId>,
    /// Eligible machines with their durations.
    pub modes: Vec<ModeSpec>,
    /// Required operator skill; no operator is assigned when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<SkillRequirement>,
    /// Setup family for sequence-dependent setups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_family: Option<SetupFamily>,
    /// Whether work may pause over unavailable time of its machine and operator (the task then
    /// spans the break and its elapsed time grows by the break); if false it must fit entirely
    /// into available time.
    #[serde(default)]
    pub preemptible: bool,
    /// Predecessors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<PrecedenceSpec>,
    /// Earliest start (in addition to the job's release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Time>,
    /// Latest end (in addition to the job's deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Time>,
    /// Upper limit on elapsed time start→end (relevant for preemptible tasks spanning breaks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_span: Option<Duration>,
    /// Execution state.
    #[serde(default)]
    pub status: TaskStatus,
    /// Pinned assignment: required for in-progress and done tasks, optional (a planner's pin)
    /// for planned ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Assignment>,
}

/// A task placed on a machine (with an operator) at a time: one line of a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Task id.
    pub task: TaskId,
    /// Machine id.
    pub machine: MachineId,
    /// Operator id, if the task requires a skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorId>,
    /// Start.
    pub start: Time,
    /// End (for a preemptible task, including the breaks it spans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Time>,
}

// ---------------------------------------------------------------------------------------------
// Validation errors
// ---------------------------------------------------------------------------------------------

/// Why a problem was rejected; each names the offending task or resource and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    /// The problem has no tasks.
    #[error("the problem has no tasks")]
    NoTasks,
    /// Two entities share an id.
    #[error("duplicate {kind} id `{id}`")]
    DuplicateId {
        /// machine, operator, job or task.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A task lists no eligible machine.
    #[error("task `{task}`: no machine can run it (no modes listed)")]
    NoMachine {
        /// Task.
        task: TaskId,
    },
    /// A mode names a machine that does not exist.
    #[error("task `{task}`: unknown machine `{machine}`")]
    UnknownMachine {
        /// Task.
        task: TaskId,
        /// Machine.
        machine: MachineId,
    },
    /// A duration is zero or negative.
    #[error("task `{task}`: duration {duration} on machine `{machine}` must be positive")]
    NonPositiveDuration {
        /// Task.
        task: TaskId,
        /// Machine.
        machine: MachineId,
        /// Given duration.
        duration: Duration,
    },
    /// A task names a job that does not exist.
    #[error("task `{task}`: unknown job `{job}`")]
    UnknownJob {
        /// Task.
        task: TaskId,
        /// Job.
        job: JobId,
    },
    /// A precedence names an unknown task.
    #[error("task `{task}`: unknown predecessor `{predecessor}`")]
    UnknownPredecessor {
        /// Task.
        task: TaskId,
        /// Predecessor.
        predecessor: TaskId,
    },
    /// The precedence graph has a cycle.
    #[error("cyclic precedence: {}", .cycle.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(" -> "))]
    CyclicPrecedence {
        /// The tasks on the cycle, first repeated at the end.
        cycle: Vec<TaskId>,
    },
    /// No operator has the skill at the level.
    #[error("task `{task}`: no operator has skill `{skill}` at level {min_level} or above")]
    NoQualifiedOperator {
        /// Task.
        task: TaskId,
        /// Skill.
        skill: SkillId,
        /// Level.
        min_level: u8,
    },
    /// A skill level outside 1–5.
    #[error("{owner}: skill level {level} is outside 1–5")]
    InvalidLevel {
        /// `task X` or `operator Y`.
        owner: String,
        /// Given level.
        level: u8,
    },
    /// Release later than deadline.
    #[error("task `{task}`: release {release} is after its deadline {deadline}")]
    ReleaseAfterDeadline {
        /// Task.
        task: TaskId,
        /// Effective release.
        release: Time,
        /// Effective deadline.
        deadline: Time,
    },
    /// Not even the fastest mode fits between release and deadline.
    #[error("task `{task}`: shortest duration {duration} does not fit between release {release} and deadline {deadline}")]
    WindowTooShort {
        /// Task.
        task: TaskId,
        /// Release.
        release: Time,
        /// Deadline.
        deadline: Time,
        /// Shortest duration.
        duration: Duration,
    },
    /// A window with end ≤ start, or before time 0.
    #[error("{owner}: window [{start}, {end}) is empty or starts before 0")]
    InvalidWindow {
        /// Owner description.
        owner: String,
        /// Start.
        start: Time,
        /// End.
        end: Time,
    },
    /// A pinned assignment on a machine the task cannot use.
    #[error("task `{task}`: pinned to machine `{machine}`, which is not one of its machines")]
    PinnedToIneligibleMachine {
        /// Task.
        task: TaskId,
        /// Machine.
        machine: MachineId,
    },
    /// A pinned operator who is unknown or lacks the skill.
    #[error("task `{task}`: pinned operator `{operator}` is unknown or lacks the required skill")]
    PinnedOperatorUnqualified {
        /// Task.
        task: TaskId,
        /// Operator.
        operator: String,
    },
    /// A pinned skilled task without operator.
    #[error("task `{task}`: pinned without an operator but requires skill `{skill}`")]
    PinnedWithoutOperator {
        /// Task.
        task: TaskId,
        /// Skill.
        skill: SkillId,
    },
    /// In-progress or done without a pinned assignment.
    #[error("task `{task}`: status {status:?} requires a `fixed` assignment")]
    StatusWithoutAssignment {
        /// Task.
        task: TaskId,
        /// Status.
        status: TaskStatus,
    },
    /// Pinned assignment for a different task id.
    #[error("task `{task}`: its `fixed` assignment names task `{other}`")]
    PinnedMismatch {
        /// Task.
        task: TaskId,
        /// Other id.
        other: TaskId,
    },
    /// Negative setup time.
    #[error("machine `{machine}`: setup {from} -> {to} has negative duration {duration}")]
    NegativeSetup {
        /// Machine.
        machine: MachineId,
        /// From family.
        from: SetupFamily,
        /// To family.
        to: SetupFamily,
        /// Duration.
        duration: Duration,
    },
    /// A baseline line for a task that does not exist, or on an unknown machine/operator.
    #[error("baseline: {0}")]
    InvalidBaseline(String),
    /// A job weight below 1.
    #[error("job `{job}`: weight {weight} must be at least 1")]
    NonPositiveWeight {
        /// Job.
        job: JobId,
        /// Weight.
        weight: i64,
    },
    /// A speed-up that would make durations vanish.
    #[error("proficiency_speedup_percent {0} must be at most 20 (levels 1–5 would otherwise cut durations by 80% or more)")]
    SpeedupTooLarge(u32),
    /// A negative `max_span` or `min_lag` below zero.
    #[error("task `{task}`: {rule}")]
    InvalidTaskValue {
        /// Task.
        task: TaskId,
        /// What is wrong.
        rule: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Validated problem
// ---------------------------------------------------------------------------------------------

/// A validated machine.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Id.
    pub id: MachineId,
    /// Sorted, merged unavailable windows.
    pub unavailable: Vec<(i64, i64)>,
    /// Labels of the raw windows (for explanations).
    pub unavailable_labels: Vec<String>,
    /// Setup matrix: (from, to) → duration.
    pub setups: HashMap<(SetupFamily, SetupFamily), i64>,
}

/// A validated operator.
#[derive(Clone, Debug)]
pub struct Operator {
    /// Id.
    pub id: OperatorId,
    /// Skills and levels.
    pub skills: BTreeMap<SkillId, u8>,
    /// Sorted available windows after removing absences; `None` = always available.
    pub shifts: Option<Vec<(i64, i64)>>,
    /// Sorted, merged absences.
    pub absences: Vec<(i64, i64)>,
}

/// A validated job.
#[derive(Clone, Debug)]
pub struct Job {
    /// Id.
    pub id: JobId,
    /// Release.
    pub release: i64,
    /// Due date.
    pub due: Option<i64>,
    /// Deadline.
    pub deadline: Option<i64>,
    /// Weight.
    pub weight: i64,
    /// Tasks of the job, in input order.
    pub tasks: Vec<TaskIx>,
}

/// A validated mode.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    /// Machine.
    pub machine: MachineIx,
    /// Duration at the minimum skill level.
    pub duration: i64,
}

/// A validated, pinned assignment.
#[derive(Clone, Copy, Debug)]
pub struct Pin {
    /// Machine.
    pub machine: MachineIx,
    /// Operator.
    pub operator: Option<OperatorIx>,
    /// Start.
    pub start: i64,
}

/// A validated task.
#[derive(Clone, Debug)]
pub struct Task {
    /// Id.
    pub id: TaskId,
    /// Job.
    pub job: Option<JobIx>,
    /// Modes.
    pub modes: Vec<Mode>,
    /// Skill requirement.
    pub skill: Option<(SkillId, u8)>,
    /// Qualified operators with their level (empty if no skill is required).
    pub operators: Vec<(OperatorIx, u8)>,
    /// Setup family.
    pub setup_family: Option<SetupFamily>,
    /// Preemptible across breaks.
    pub preemptible: bool,
    /// Predecessors with min lag.
    pub after: Vec<(TaskIx, i64)>,
    /// Effective release (max of task, job).
    pub release: i64,
    /// Effective deadline (min of task, job).
    pub deadline: Option<i64>,
    /// Max elapsed span.
    pub max_span: Option<i64>,
    /// Status.
    pub status: TaskStatus,
    /// Pinned assignment (explicit, or from the baseline inside the frozen window).
    pub pin: Option<Pin>,
}

/// A validated problem. Construct with [`Problem::new`] or deserialize from JSON (which runs
/// the same validation).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "ProblemSpec", into = "ProblemSpec")]
pub struct Problem {
    spec: ProblemSpec,
    machines: Vec<Machine>,
    operators: Vec<Operator>,
    jobs: Vec<Job>,
    tasks: Vec<Task>,
    baseline: HashMap<TaskIx, Pin>,
    task_index: HashMap<TaskId, TaskIx>,
    machine_index: HashMap<MachineId, MachineIx>,
    operator_index: HashMap<OperatorId, OperatorIx>,
    frozen_until: i64,
    utilization_window: Option<(i64, i64)>,
}

impl TryFrom<ProblemSpec> for Problem {
    type Error = ProblemError;
    fn try_from(spec: ProblemSpec) -> Result<Self, ProblemError> {
        Problem::new(spec)
    }
}

impl From<Problem> for ProblemSpec {
    fn from(p: Problem) -> Self {
        p.spec
    }
}

fn check_window(owner: &str, w: &Window) -> Result<(i64, i64), ProblemError> {
    if w.start.0 < 0 || w.end.0 <= w.start.0 {
        return Err(ProblemError::InvalidWindow {
            owner: owner.to_owned(),
            start: w.start,
            end: w.end,
        });
    }
    Ok((w.start.0, w.end.0))
}

/// Sorts and merges overlapping or touching windows.
pub(crate) fn merge_windows(mut w: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    w.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(w.len());
    for (s, e) in w {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn index_ids<K: Clone + Eq + std::hash::Hash + fmt::Display, I>(
    kind: &'static str,
    ids: impl Iterator<Item = K>,
    make: impl Fn(usize) -> I,
) -> Result<HashMap<K, I>, ProblemError> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        if map.contains_key(&id) {
            return Err(ProblemError::DuplicateId {
                kind,
                id: id.to_string(),
            });
        }
        map.insert(id, make(i));
    }
    Ok(map)
}

impl Problem {
    /// Validates `spec` and resolves ids.
    pub fn new(spec: ProblemSpec) -> Result<Self, ProblemError> {
        if spec.tasks.is_empty() {
            return Err(ProblemError::NoTasks);
        }
        if spec.proficiency_speedup_percent > 20 {
            return Err(ProblemError::SpeedupTooLarge(
                spec.proficiency_speedup_percent,
            ));
        }
        let machine_index = index_ids(
            "machine",
            spec.machines.iter().map(|m| m.id.clone()),
            MachineIx,
        )?;
        let operator_index = index_ids(
            "operator",
            spec.operators.iter().map(|o| o.id.clone()),
            OperatorIx,
        )?;
        let job_index = index_ids("job", spec.jobs.iter().map(|j| j.id.clone()), JobIx)?;
        let task_index = index_ids("task", spec.tasks.iter().map(|t| t.id.clone()), TaskIx)?;

        let machines = spec
            .machines
            .iter()
            .map(|m| {
                let owner = format!("machine `{}` unavailable", m.id);
                let win = m
                    .unavailable
                    .iter()
                    .map(|w| check_window(&owner, w))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut setups = HashMap::new();
                for s in &m.setups {
                    if s.duration.0 < 0 {
                        return Err(ProblemError::NegativeSetup {
                            machine: m.id.clone(),
                            from: s.from.clone(),
                            to: s.to.clone(),
                            duration: s.duration,
                        });
                    }
                    setups.insert((s.from.clone(), s.to.clone()), s.duration.0);
                }
                Ok(Machine {
                    id: m.id.clone(),
                    unavailable: merge_windows(win),
                    unavailable_labels: m
                        .unavailable
                        .iter()
                        .filter_map(|w| w.label.clone())
                        .collect(),
                    setups,
                })
            })
            .collect::<Result<Vec<_>, ProblemError>>()?;

        let operators = spec
            .operators
            .iter()
            .map(|o| {
                for (skill, level) in &o.skills {
                    if !(1..=5).contains(level) {
                        return Err(ProblemError::InvalidLevel {
                            owner: format!("operator `{}` skill `{skill}`", o.id),
                            level: *level,
                        });
                    }
                }
                let shifts = o
                    .shifts
                    .iter()
                    .map(|w| check_window(&format!("operator `{}` shift", o.id), w))
                    .collect::<Result<Vec<_>, _>>()?;
                let absences = o
                    .absences
                    .iter()
                    .map(|w| check_window(&format!("operator `{}` absence", o.id), w))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Operator {
                    id: o.id.clone(),
                    skills: o.skills.clone(),
                    shifts: (!shifts.is_empty()).then(|| merge_windows(shifts)),
                    absences: merge_windows(absences),
                })
            })
            .collect::<Result<Vec<_>, ProblemError>>()?;

        let mut jobs = spec
            .jobs
            .iter()
            .map(|j| {
                if j.weight < 1 {
                    return Err(ProblemError::NonPositiveWeight {
                        job: j.id.clone(),
                        weight: j.weight,
                    });
                }
                Ok(Job {
                    id: j.id.clone(),
                    release: j.release.map_or(0, |t| t.0.max(0)),
                    due: j.due.map(|t| t.0),
                    deadline: j.deadline.map(|t| t.0),
                    weight: j.weight,
                    tasks: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, ProblemError>>()?;

        let resolve_pin = |t: &TaskSpec,
                           a: &Assignment,
                           modes: &[Mode],
                           operators: &[(OperatorIx, u8)]|
         -> Result<Pin, ProblemError> {
            if a.task != t.id {
                return Err(ProblemError::PinnedMismatch {
                    task: t.id.clone(),
                    other: a.task.clone(),
                });
            }
            let machine = machine_index
                .get(&a.machine)
                .copied()
                .filter(|m| modes.iter().any(|md| md.machine == *m))
                .ok_or_else(|| ProblemError::PinnedToIneligibleMachine {
                    task: t.id.clone(),
                    machine: a.machine.clone(),
                })?;
            let operator = match (&t.skill, &a.operator) {
                (None, _) => None,
                (Some(s), None) => {
                    return Err(ProblemError::PinnedWithoutOperator {
                        task: t.id.clone(),
                        skill: s.skill.clone(),
                    })
                }
                (Some(_), Some(op)) => Some(
                    operator_index
                        .get(op)
                        .copied()
                        .filter(|o| operators.iter().any(|(q, _)| q == o))
                        .ok_or_else(|| ProblemError::PinnedOperatorUnqualified {
                            task: t.id.clone(),
                            operator: op.0.clone(),
                        })?,
                ),
            };
            Ok(Pin {
                machine,
                operator,
                start: a.start.0,
            })
        };

        let mut tasks = Vec::with_capacity(spec.tasks.len());
        for (i, t) in spec.tasks.iter().enumerate() {
            if t.modes.is_empty() {
                return Err(ProblemError::NoMachine { task: t.id.clone() });
            }
            let mut modes = Vec::with_capacity(t.modes.len());
            for m in &t.modes {
                let machine =
                    *machine_index
                        .get(&m.machine)
                        .ok_or_else(|| ProblemError::UnknownMachine {
                            task: t.id.clone(),
                            machine: m.machine.clone(),
                        })?;
                if m.duration.0 <= 0 {
                    return Err(ProblemError::NonPositiveDuration {
                        task: t.id.clone(),
                        machine: m.machine.clone(),
                        duration: m.duration,
                    });
                }
                modes.push(Mode {
                    machine,
                    duration: m.duration.0,
                });
            }
            let job = match &t.job {
                None => None,
                Some(j) => Some(*job_index.get(j).ok_or_else(|| ProblemError::UnknownJob {
                    task: t.id.clone(),
                    job: j.clone(),
                })?),
            };
            let mut after = Vec::with_capacity(t.after.len());
            for p in &t.after {
                let pi =
                    *task_index
                        .get(&p.task)
                        .ok_or_else(|| ProblemError::UnknownPredecessor {
                            task: t.id.clone(),
                            predecessor: p.task.clone(),
                        })?;
                if p.min_lag.0 < 0 {
                    return Err(ProblemError::InvalidTaskValue {
                        task: t.id.clone(),
                        rule: format!(
                            "min_lag {} after `{}` must not be negative",
                            p.min_lag, p.task
                        ),
                    });
                }
                after.push((pi, p.min_lag.0));
            }
            let (skill, operators_q) = match &t.skill {
                None => (None, Vec::new()),
                Some(req) => {
                    if !(1..=5).contains(&req.min_level) {
                        return Err(ProblemError::InvalidLevel {
                            owner: format!("task `{}`", t.id),
                            level: req.min_level,
                        });
                    }
                    let q: Vec<(OperatorIx, u8)> = operators
                        .iter()
                        .enumerate()
                        .filter_map(|(oi, o)| {
                            o.skills
                                .get(&req.skill)
                                .filter(|l| **l >= req.min_level)
                                .map(|l| (OperatorIx(oi), *l))
                        })
                        .collect();
                    if q.is_empty() {
                        return Err(ProblemError::NoQualifiedOperator {
                            task: t.id.clone(),
                            skill: req.skill.clone(),
                            min_level: req.min_level,
                        });
                    }
                    (Some((req.skill.clone(), req.min_level)), q)
                }
            };
            let job_ref = job.and_then(|j| jobs.get(j.0));
            let release = t
                .release
                .map_or(0, |r| r.0)
                .max(job_ref.map_or(0, |j| j.release))
                .max(0);
            let deadline = match (t.deadline.map(|d| d.0), job_ref.and_then(|j| j.deadline)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(d) = deadline {
                if release > d {
                    return Err(ProblemError::ReleaseAfterDeadline {
                        task: t.id.clone(),
                        release: Time(release),
                        deadline: Time(d),
                    });
                }
                let shortest = modes.iter().map(|m| m.duration).min().unwrap_or(0);
                let shortest = min_effective_duration(
                    shortest,
                    skill.as_ref().map(|s| s.1),
                    operators_q.iter().map(|q| q.1).max(),
                    spec.proficiency_speedup_percent,
                );
                if release + shortest > d {
                    return Err(ProblemError::WindowTooShort {
                        task: t.id.clone(),
                        release: Time(release),
                        deadline: Time(d),
                        duration: Duration(shortest),
                    });
                }
            }
            if let Some(ms) = t.max_span {
                let longest_needed = modes.iter().map(|m| m.duration).min().unwrap_or(0);
                if ms.0 < longest_needed {
                    return Err(ProblemError::InvalidTaskValue {
                        task: t.id.clone(),
                        rule: format!(
                            "max_span {ms} is shorter than its shortest duration {longest_needed}"
                        ),
                    });
                }
            }
            let pin = match (&t.fixed, t.status) {
                (Some(a), _) => Some(resolve_pin(t, a, &modes, &operators_q)?),
                (None, TaskStatus::Planned) => None,
                (None, status) => {
                    return Err(ProblemError::StatusWithoutAssignment {
                        task: t.id.clone(),
                        status,
                    })
                }
            };
            if let Some(j) = job {
                if let Some(jm) = jobs.get_mut(j.0) {
                    jm.tasks.push(TaskIx(i));
                }
            }
            tasks.push(Task {
                id: t.id.clone(),
                job,
                modes,
                skill,
                operators: operators_q,
                setup_family: t.setup_family.clone(),
                preemptible: t.preemptible,
                after,
                release,
                deadline,
                max_span: t.max_span.map(|d| d.0),
                status: t.status,
                pin,
            });
        }

        if let Some(cycle) = find_cycle(&tasks) {
            return Err(ProblemError::CyclicPrecedence {
                cycle: cycle.into_iter().map(|i| tasks[i.0].id.clone()).collect(),
            });
        }

        let frozen_until = spec.frozen_until.map_or(0, |t| t.0);
        let mut baseline = HashMap::new();
        for a in &spec.baseline {
            let ti = *task_index.get(&a.task).ok_or_else(|| {
                ProblemError::InvalidBaseline(format!("unknown task `{}`", a.task))
            })?;
            let task = &tasks[ti.0];
            let machine = machine_index
                .get(&a.machine)
                .copied()
                .filter(|m| task.modes.iter().any(|md| md.machine == *m))
                .ok_or_else(|| {
                    ProblemError::InvalidBaseline(format!(
                        "task `{}` on machine `{}`, which is not one of its machines",
                        a.task, a.machine
                    ))
                })?;
            let operator = match &a.operator {
                Some(op) => Some(operator_index.get(op).copied().ok_or_else(|| {
                    ProblemError::InvalidBaseline(format!(
                        "task `{}`: unknown operator `{op}`",
                        a.task
                    ))
                })?),
                None => None,
            };
            baseline.insert(
                ti,
                Pin {
                    machine,
                    operator,
                    start: a.start.0,
                },
            );
        }
        // Frozen window: baseline tasks starting inside it become pinned, so the model and the
        // checker see one notion of "pinned".
        for (ti, pin) in &baseline {
            let task = &mut tasks[ti.0];
            if pin.start < frozen_until && task.pin.is_none() {
                if task.skill.is_some() && pin.operator.is_none() {
                    continue;
                }
                task.pin = Some(*pin);
            }
        }
        let utilization_window = match &spec.utilization_window {
            Some(w) => Some(check_window("utilization_window", w)?),
            None => None,
        };

        Ok(Self {
            machines,
            operators,
            jobs,
            tasks,
            baseline,
            task_index,
            machine_index,
            operator_index,
            frozen_until,
            utilization_window,
            spec,
        })
    }

    /// The raw spec.
    pub fn spec(&self) -> &ProblemSpec {
        &self.spec
    }
    /// Machines.
    pub fn machines(&self) -> &[Machine] {
        &self.machines
    }
    /// Operators.
    pub fn operators(&self) -> &[Operator] {
        &self.operators
    }
    /// Jobs.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }
    /// Tasks.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }
    /// Baseline placement per task.
    pub fn baseline(&self) -> &HashMap<TaskIx, Pin> {
        &self.baseline
    }
    /// End of the frozen window (0 if none).
    pub fn frozen_until(&self) -> i64 {
        self.frozen_until
    }
    /// Utilization window.
    pub fn utilization_window(&self) -> Option<(i64, i64)> {
        self.utilization_window
    }
    /// Per-level speed-up in percent.
    pub fn proficiency_speedup_percent(&self) -> u32 {
        self.spec.proficiency_speedup_percent
    }
    /// Machine reassignment cost for minimal change.
    pub fn reassignment_penalty(&self) -> i64 {
        self.spec.reassignment_penalty
    }
    /// User horizon.
    pub fn horizon(&self) -> Option<i64> {
        self.spec.horizon.map(|t| t.0)
    }
    /// Looks up a task.
    pub fn task_ix(&self, id: &TaskId) -> Option<TaskIx> {
        self.task_index.get(id).copied()
    }
    /// Looks up a machine.
    pub fn machine_ix(&self, id: &MachineId) -> Option<MachineIx> {
        self.machine_index.get(id).copied()
    }
    /// Looks up an operator.
    pub fn operator_ix(&self, id: &OperatorId) -> Option<OperatorIx> {
        self.operator_index.get(id).copied()
    }
    /// The task.
    pub fn task(&self, i: TaskIx) -> &Task {
        &self.tasks[i.0]
    }
    /// The machine.
    pub fn machine(&self, i: MachineIx) -> &Machine {
        &self.machines[i.0]
    }
    /// The operator.
    pub fn operator(&self, i: OperatorIx) -> &Operator {
        &self.operators[i.0]
    }

    /// Unavailable windows of an operator within `[0, horizon)`: gaps between shifts plus
    /// absences, merged.
    pub fn operator_unavailable(&self, o: OperatorIx, horizon: i64) -> Vec<(i64, i64)> {
        let op = &self.operators[o.0];
        let mut out = op.absences.clone();
        if let Some(shifts) = &op.shifts {
            let mut t = 0;
            for &(s, e) in shifts {
                if s > t {
                    out.push((t, s));
                }
                t = t.max(e);
            }
            if t < horizon {
                out.push((t, horizon));
            }
        }
        merge_windows(out)
    }
}

/// Shortest duration achievable given the fastest qualified operator (used for validation).
fn min_effective_duration(
    base: i64,
    min_level: Option<u8>,
    best_level: Option<u8>,
    pct: u32,
) -> i64 {
    match (min_level, best_level) {
        (Some(min), Some(best)) if best > min => {
            let cut = i64::from(pct) * i64::from(best - min);
            ((base * (100 - cut)) + 99) / 100
        }
        _ => base,
    }
    .max(1)
}

/// Finds a precedence cycle (iterative DFS, so deep chains cannot overflow the stack) and
/// returns it in precedence order, first task repeated at the end.
fn find_cycle(tasks: &[Task]) -> Option<Vec<TaskIx>> {
    // 0 = unvisited, 1 = on the DFS stack, 2 = done
    let mut state = vec![0u8; tasks.len()];
    for root in 0..tasks.len() {
        if state[root] != 0 {
            continue;
        }
        // Each entry: (task, next predecessor to visit); stack[k + 1] precedes stack[k].
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let node = top.0;
            if let Some(&(pred, _)) = tasks[node].after.get(top.1) {
                top.1 += 1;
                match state[pred.0] {
                    0 => {
                        state[pred.0] = 1;
                        stack.push((pred.0, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(t, _)| *t == pred.0).unwrap_or(0);
                        let mut cycle = vec![TaskIx(pred.0)];
                        cycle.extend(stack[from..].iter().rev().map(|(t, _)| TaskIx(*t)));
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    None
}

/// Processing time of `task` on a mode's duration with an operator of `level`: durations are
/// stated for an operator at exactly the task's minimum level; each level above it cuts the
/// time by `proficiency_speedup_percent`, rounded up, never below 1.
pub fn effective_duration(
    base: i64,
    task_min_level: Option<u8>,
    level: Option<u8>,
    pct: u32,
) -> i64 {
    min_effective_duration(base, task_min_level, level, pct)
}
