//! A safe, typed builder over CP-SAT's model protobuf.
//!
//! Why typed handles: variable indices, literals and interval indices are all `i32` on the wire;
//! mixing them up produces a model CP-SAT rejects (or worse, a different model). `IntVar`,
//! `BoolVar` and `IntervalVar` are distinct types, and negated literals are built only through
//! `!literal`.

use std::ops::{Add, Mul, Neg, Sub};

use prost::Message;

use crate::error::OptimizerError;
use crate::ffi::{self, StopHandle};
use crate::proto::{self, Constraint, ConstraintProto, CpSolverStatus};

/// An integer variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntVar(i32);

/// A Boolean literal: a 0/1 variable or its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoolVar(i32);

/// An interval (a constraint index on the wire), possibly optional.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IntervalVar {
    index: i32,
    start: IntVar,
    end: IntVar,
}

/// Handle to an added constraint, used to attach enforcement literals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConstraintRef(usize);

impl BoolVar {
    fn is_positive(self) -> bool {
        self.0 >= 0
    }

    fn var_index(self) -> i32 {
        if self.0 >= 0 {
            self.0
        } else {
            -self.0 - 1
        }
    }

    /// The raw literal as CP-SAT numbers it (used to map assumption cores back).
    pub fn raw(self) -> i32 {
        self.0
    }
}

impl std::ops::Not for BoolVar {
    type Output = BoolVar;
    /// The negated literal.
    fn not(self) -> BoolVar {
        BoolVar(-self.0 - 1)
    }
}

impl IntervalVar {
    /// The start variable.
    pub fn start(&self) -> IntVar {
        self.start
    }
    /// The end variable.
    pub fn end(&self) -> IntVar {
        self.end
    }
}

/// A linear expression `sum(coeff * var) + offset`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinearExpr {
    vars: Vec<i32>,
    coeffs: Vec<i64>,
    offset: i64,
}

impl LinearExpr {
    /// The constant expression.
    pub fn constant(value: i64) -> Self {
        Self {
            offset: value,
            ..Self::default()
        }
    }

    /// `sum(coeff * var)` over the given terms.
    pub fn weighted_sum<V: Into<LinearExpr>>(terms: impl IntoIterator<Item = (V, i64)>) -> Self {
        let mut e = LinearExpr::default();
        for (v, c) in terms {
            e = e + v.into() * c;
        }
        e
    }

    /// `sum(var)`.
    pub fn sum<V: Into<LinearExpr>>(terms: impl IntoIterator<Item = V>) -> Self {
        Self::weighted_sum(terms.into_iter().map(|v| (v, 1)))
    }

    /// Adds `coeff * var` in place (cheaper than `+` for long sums).
    pub fn add_term(&mut self, var: IntVar, coeff: i64) {
        if coeff != 0 {
            self.vars.push(var.0);
            self.coeffs.push(coeff);
        }
    }

    /// Adds `coeff * literal` in place.
    pub fn add_bool_term(&mut self, lit: BoolVar, coeff: i64) {
        if lit.is_positive() {
            self.add_term(IntVar(lit.0), coeff);
        } else {
            self.offset += coeff;
            self.add_term(IntVar(lit.var_index()), -coeff);
        }
    }

    /// Adds a constant in place.
    pub fn add_constant(&mut self, c: i64) {
        self.offset += c;
    }

    /// The constant part.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    fn to_proto(&self) -> proto::LinearExpressionProto {
        proto::LinearExpressionProto {
            vars: self.vars.clone(),
            coeffs: self.coeffs.clone(),
            offset: self.offset,
        }
    }

    /// Evaluates the expression on a solution vector.
    pub fn evaluate(&self, solution: &[i64]) -> i64 {
        self.vars
            .iter()
            .zip(&self.coeffs)
            .map(|(v, c)| {
                let idx = usize::try_from(*v).unwrap_or(usize::MAX);
                solution.get(idx).copied().unwrap_or(0) * c
            })
            .sum::<i64>()
            + self.offset
    }
}

impl From<IntVar> for LinearExpr {
    fn from(v: IntVar) -> Self {
        let mut e = LinearExpr::default();
        e.add_term(v, 1);
        e
    }
}
impl From<BoolVar> for LinearExpr {
    fn from(v: BoolVar) -> Self {
        let mut e = LinearExpr::default();
        e.add_bool_term(v, 1);
        e
    }
}
impl From<i64> for LinearExpr {
    fn from(v: i64) -> Self {
        LinearExpr::constant(v)
    }
}
impl From<&LinearExpr> for LinearExpr {
    fn from(v: &LinearExpr) -> Self {
        v.clone()
    }
}
impl<T: Into<LinearExpr>> Add<T> for LinearExpr {
    type Output = LinearExpr;
    fn add(mut self, rhs: T) -> LinearExpr {
        let r = rhs.into();
        self.vars.extend(r.vars);
        self.coeffs.extend(r.coeffs);
        self.offset += r.offset;
        self
    }
}
impl<T: Into<LinearExpr>> Sub<T> for LinearExpr {
    type Output = LinearExpr;
    fn sub(self, rhs: T) -> LinearExpr {
        self + (-rhs.into())
    }
}
impl Neg for LinearExpr {
    type Output = LinearExpr;
    fn neg(self) -> LinearExpr {
        self * -1
    }
}
impl Mul<i64> for LinearExpr {
    type Output = LinearExpr;
    fn mul(mut self, rhs: i64) -> LinearExpr {
        if rhs == 0 {
            return LinearExpr::default();
        }
        for c in &mut self.coeffs {
            *c *= rhs;
        }
        self.offset *= rhs;
        self
    }
}
impl<T: Into<LinearExpr>> Add<T> for IntVar {
    type Output = LinearExpr;
    fn add(self, rhs: T) -> LinearExpr {
        LinearExpr::from(self) + rhs
    }
}
impl<T: Into<LinearExpr>> Sub<T> for IntVar {
    type Output = LinearExpr;
    fn sub(self, rhs: T) -> LinearExpr {
        LinearExpr::from(self) - rhs
    }
}
impl Mul<i64> for IntVar {
    type Output = LinearExpr;
    fn mul(self, rhs: i64) -> LinearExpr {
        LinearExpr::from(self) * rhs
    }
}
impl Mul<i64> for BoolVar {
    type Output = LinearExpr;
    fn mul(self, rhs: i64) -> LinearExpr {
        LinearExpr::from(self) * rhs
    }
}

/// Solver parameters we expose (the rest keep CP-SAT's defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct SatParams {
    /// Wall-clock limit in seconds.
    pub max_time_in_seconds: f64,
    /// Parallel search workers; always sent, because 0 means "all cores".
    pub num_workers: i32,
    /// Random seed for reproducible runs.
    pub random_seed: Option<i32>,
    /// Stop when (objective − bound)/|objective| falls below this.
    pub relative_gap_limit: Option<f64>,
    /// Ask CP-SAT to print its search log (to stdout), which the worker parses into progress.
    pub log_search_progress: bool,
    /// How much of the model goes into the LP relaxation: 0 none, 1 (CP-SAT's default) the
    /// linear constraints, 2 also the relaxations of the others (no-overlap, exactly-one, …).
    pub linearization_level: Option<i32>,
    /// Whether CP-SAT's search follows the hint's values in its decisions (its default). A
    /// feasible hint is CP-SAT's first solution either way (the job-shop searches' hint leaves
    /// the elapsed times and the makespan out, and CP-SAT's feasibility jump completes it at
    /// the hint's makespan within milliseconds); `false` leaves the search after it free to go
    /// elsewhere (see `solve::solve_with` for when Takt does so).
    pub follow_hint_in_search: bool,
    /// A strategy put at the head of CP-SAT's portfolio (`None`: CP-SAT's own order). With two
    /// workers CP-SAT runs one full search, the portfolio's first, and its large
    /// neighbourhoods on the other; with more, CP-SAT's own portfolio follows (in which the
    /// strategy then runs a second time, with another seed).
    pub lead_strategy: Option<Strategy>,
}

/// A strategy of CP-SAT's portfolio of full searches, by the name CP-SAT gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `no_lp`: CP-SAT's full search without an LP relaxation (`linearization_level` 0).
    NoLp,
}

impl Strategy {
    /// The name CP-SAT knows it by (in `SatParameters.subsolvers` and `extra_subsolvers`).
    pub fn name(self) -> &'static str {
        match self {
            Strategy::NoLp => "no_lp",
        }
    }
}

impl Default for SatParams {
    fn default() -> Self {
        Self {
            max_time_in_seconds: 10.0,
            num_workers: 1,
            random_seed: None,
            relative_gap_limit: None,
            log_search_progress: false,
            linearization_level: None,
            follow_hint_in_search: true,
            lead_strategy: None,
        }
    }
}

impl SatParams {
    /// The protobuf encoding sent to the library.
    pub fn encode(&self) -> Vec<u8> {
        proto::SatParameters {
            max_time_in_seconds: Some(self.max_time_in_seconds.max(0.0)),
            num_workers: Some(self.num_workers.max(1)),
            random_seed: self.random_seed,
            relative_gap_limit: self.relative_gap_limit,
            log_search_progress: Some(self.log_search_progress),
            log_to_stdout: Some(self.log_search_progress),
            linearization_level: self.linearization_level,
            use_optimization_hints: (!self.follow_hint_in_search).then_some(false),
            extra_subsolvers: self
                .lead_strategy
                .map(|s| s.name().to_owned())
                .into_iter()
                .collect(),
            ..Default::default()
        }
        .encode_to_vec()
    }
}

/// Builds a CP-SAT model.
#[derive(Clone, Debug, Default)]
pub struct CpModelBuilder {
    model: proto::CpModelProto,
    constants: std::collections::HashMap<i64, IntVar>,
    hinted: std::collections::HashSet<i32>,
}

impl CpModelBuilder {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of variables so far.
    pub fn num_vars(&self) -> usize {
        self.model.variables.len()
    }

    /// Number of constraints so far.
    pub fn num_constraints(&self) -> usize {
        self.model.constraints.len()
    }

    fn next_var_index(&self) -> i32 {
        i32::try_from(self.model.variables.len()).unwrap_or(i32::MAX)
    }

    /// A new integer variable with domain `[lb, ub]`.
    pub fn new_int_var(&mut self, lb: i64, ub: i64, name: &str) -> IntVar {
        self.new_int_var_in(&[(lb, ub)], name)
    }

    /// A new integer variable whose domain is the union of the sorted, disjoint closed ranges.
    pub fn new_int_var_in(&mut self, ranges: &[(i64, i64)], name: &str) -> IntVar {
        let idx = self.next_var_index();
        self.model.variables.push(proto::IntegerVariableProto {
            name: name.to_owned(),
            domain: ranges.iter().flat_map(|&(a, b)| [a, b]).collect(),
        });
        IntVar(idx)
    }

    /// A new Boolean variable.
    pub fn new_bool_var(&mut self, name: &str) -> BoolVar {
        BoolVar(self.new_int_var(0, 1, name).0)
    }

    /// A variable fixed to `value` (shared per value).
    pub fn new_constant(&mut self, value: i64) -> IntVar {
        if let Some(v) = self.constants.get(&value) {
            return *v;
        }
        let v = self.new_int_var(value, value, "");
        self.constants.insert(value, v);
        v
    }

    /// A literal that is always true.
    pub fn true_lit(&mut self) -> BoolVar {
        BoolVar(self.new_constant(1).0)
    }

    fn push(&mut self, c: Constraint) -> ConstraintRef {
        self.model.constraints.push(ConstraintProto {
            name: String::new(),
            enforcement_literal: Vec::new(),
            constraint: Some(c),
        });
        ConstraintRef(self.model.constraints.len() - 1)
    }

    /// Makes a constraint hold only when all `lits` are true.
    pub fn only_enforce_if(&mut self, c: ConstraintRef, lits: &[BoolVar]) -> ConstraintRef {
        if let Some(ct) = self.model.constraints.get_mut(c.0) {
            ct.enforcement_literal.extend(lits.iter().map(|l| l.0));
        }
        c
    }

    /// Names a constraint (shows up in CP-SAT's logs and validation messages).
    pub fn set_name(&mut self, c: ConstraintRef, name: &str) {
        if let Some(ct) = self.model.constraints.get_mut(c.0) {
            ct.name = name.to_owned();
        }
    }

    /// `lb <= expr <= ub`.
    pub fn add_linear(&mut self, expr: impl Into<LinearExpr>, lb: i64, ub: i64) -> ConstraintRef {
        let e = expr.into();
        let lo = lb.saturating_sub(e.offset);
        let hi = ub.saturating_sub(e.offset);
        let lo = if lb == i64::MIN { i64::MIN } else { lo };
        let hi = if ub == i64::MAX { i64::MAX } else { hi };
        self.push(Constraint::Linear(proto::LinearConstraintProto {
            vars: e.vars,
            coeffs: e.coeffs,
            domain: vec![lo, hi],
        }))
    }

    /// `a <= b`.
    pub fn add_le(&mut self, a: impl Into<LinearExpr>, b: impl Into<LinearExpr>) -> ConstraintRef {
        self.add_linear(a.into() - b.into(), i64::MIN, 0)
    }

    /// `a >= b`.
    pub fn add_ge(&mut self, a: impl Into<LinearExpr>, b: impl Into<LinearExpr>) -> ConstraintRef {
        self.add_linear(a.into() - b.into(), 0, i64::MAX)
    }

    /// `a == b`.
    pub fn add_eq(&mut self, a: impl Into<LinearExpr>, b: impl Into<LinearExpr>) -> ConstraintRef {
        self.add_linear(a.into() - b.into(), 0, 0)
    }

    /// An interval `[start, end)` of length `size`; also posts `start + size == end`, which the
    /// interval constraint itself does not enforce.
    pub fn new_interval(
        &mut self,
        start: IntVar,
        size: impl Into<LinearExpr>,
        end: IntVar,
    ) -> IntervalVar {
        self.interval_impl(start, size.into(), end, None)
    }

    /// An interval that exists only when `presence` is true.
    pub fn new_optional_interval(
        &mut self,
        start: IntVar,
        size: impl Into<LinearExpr>,
        end: IntVar,
        presence: BoolVar,
    ) -> IntervalVar {
        self.interval_impl(start, size.into(), end, Some(presence))
    }

    /// A fixed interval `[start, end)`, optionally present only under `presence`.
    pub fn new_fixed_interval(
        &mut self,
        start: i64,
        end: i64,
        presence: Option<BoolVar>,
    ) -> IntervalVar {
        let s = self.new_constant(start);
        let e = self.new_constant(end);
        self.interval_impl(s, LinearExpr::constant(end - start), e, presence)
    }

    fn interval_impl(
        &mut self,
        start: IntVar,
        size: LinearExpr,
        end: IntVar,
        presence: Option<BoolVar>,
    ) -> IntervalVar {
        let link = self.add_eq(LinearExpr::from(start) + size.clone(), end);
        if let Some(p) = presence {
            self.only_enforce_if(link, &[p]);
        }
        let c = self.push(Constraint::Interval(proto::IntervalConstraintProto {
            start: Some(LinearExpr::from(start).to_proto()),
            end: Some(LinearExpr::from(end).to_proto()),
            size: Some(size.to_proto()),
        }));
        if let Some(p) = presence {
            self.only_enforce_if(c, &[p]);
        }
        IntervalVar {
            index: i32::try_from(c.0).unwrap_or(i32::MAX),
            start,
            end,
        }
    }

    /// No two present intervals overlap.
    pub fn add_no_overlap(&mut self, intervals: &[IntervalVar]) -> ConstraintRef {
        self.push(Constraint::NoOverlap(proto::NoOverlapConstraintProto {
            intervals: intervals.iter().map(|i| i.index).collect(),
        }))
    }

    /// At every time, the demands of present intervals sum to at most `capacity`.
    pub fn add_cumulative(
        &mut self,
        intervals: &[IntervalVar],
        demands: &[i64],
        capacity: impl Into<LinearExpr>,
    ) -> ConstraintRef {
        self.push(Constraint::Cumulative(proto::CumulativeConstraintProto {
            capacity: Some(capacity.into().to_proto()),
            intervals: intervals.iter().map(|i| i.index).collect(),
            demands: demands
                .iter()
                .map(|d| LinearExpr::constant(*d).to_proto())
                .collect(),
        }))
    }

    /// `target == max(exprs)`.
    pub fn add_max_equality(
        &mut self,
        target: impl Into<LinearExpr>,
        exprs: Vec<LinearExpr>,
    ) -> ConstraintRef {
        self.push(Constraint::LinMax(proto::LinearArgumentProto {
            target: Some(target.into().to_proto()),
            exprs: exprs.iter().map(LinearExpr::to_proto).collect(),
        }))
    }

    /// `target == min(exprs)`, posted as `-target == max(-exprs)`.
    pub fn add_min_equality(
        &mut self,
        target: impl Into<LinearExpr>,
        exprs: Vec<LinearExpr>,
    ) -> ConstraintRef {
        self.add_max_equality(-target.into(), exprs.into_iter().map(|e| -e).collect())
    }

    /// At least one literal is true.
    pub fn add_bool_or(&mut self, lits: &[BoolVar]) -> ConstraintRef {
        self.push(Constraint::BoolOr(proto::BoolArgumentProto {
            literals: lits.iter().map(|l| l.0).collect(),
        }))
    }

    /// All literals are true (useful with enforcement: `a => b and c`).
    pub fn add_bool_and(&mut self, lits: &[BoolVar]) -> ConstraintRef {
        self.push(Constraint::BoolAnd(proto::BoolArgumentProto {
            literals: lits.iter().map(|l| l.0).collect(),
        }))
    }

    /// `a => b`.
    pub fn add_implication(&mut self, a: BoolVar, b: BoolVar) -> ConstraintRef {
        let c = self.add_bool_and(&[b]);
        self.only_enforce_if(c, &[a])
    }

    /// Exactly one literal is true.
    pub fn add_exactly_one(&mut self, lits: &[BoolVar]) -> ConstraintRef {
        self.push(Constraint::ExactlyOne(proto::BoolArgumentProto {
            literals: lits.iter().map(|l| l.0).collect(),
        }))
    }

    /// At most one literal is true.
    pub fn add_at_most_one(&mut self, lits: &[BoolVar]) -> ConstraintRef {
        self.push(Constraint::AtMostOne(proto::BoolArgumentProto {
            literals: lits.iter().map(|l| l.0).collect(),
        }))
    }

    /// A Hamiltonian circuit over nodes using the chosen arcs `(tail, head, literal)`; a self
    /// loop `(n, n, l)` with `l` true leaves node `n` out of the circuit.
    pub fn add_circuit(&mut self, arcs: &[(i32, i32, BoolVar)]) -> ConstraintRef {
        self.push(Constraint::Circuit(proto::CircuitConstraintProto {
            tails: arcs.iter().map(|a| a.0).collect(),
            heads: arcs.iter().map(|a| a.1).collect(),
            literals: arcs.iter().map(|a| a.2 .0).collect(),
        }))
    }

    /// Minimise `expr` (replaces any earlier objective).
    pub fn minimize(&mut self, expr: impl Into<LinearExpr>) {
        let e = expr.into();
        self.model.objective = Some(proto::CpObjectiveProto {
            vars: e.vars,
            coeffs: e.coeffs,
            offset: e.offset as f64,
            scaling_factor: 1.0,
        });
    }

    /// Maximise `expr`, encoded as minimising `-expr` with scaling factor −1 so the reported
    /// objective keeps its sign.
    pub fn maximize(&mut self, expr: impl Into<LinearExpr>) {
        let e = -expr.into();
        self.model.objective = Some(proto::CpObjectiveProto {
            vars: e.vars,
            coeffs: e.coeffs,
            offset: e.offset as f64,
            scaling_factor: -1.0,
        });
    }

    /// Suggests a value for a variable (warm start).
    pub fn add_hint(&mut self, var: IntVar, value: i64) {
        // CP-SAT rejects a hint that names a variable twice (e.g. a shared constant).
        if !self.hinted.insert(var.0) {
            return;
        }
        let h = self
            .model
            .solution_hint
            .get_or_insert_with(Default::default);
        h.vars.push(var.0);
        h.values.push(value);
    }

    /// Suggests a value for a Boolean.
    pub fn add_bool_hint(&mut self, lit: BoolVar, value: bool) {
        let v = if lit.is_positive() { value } else { !value };
        self.add_hint(IntVar(lit.var_index()), i64::from(v));
    }

    /// Replaces all hints by a complete assignment (e.g. the previous stage's solution).
    pub fn set_full_hint(&mut self, values: &[i64]) {
        let n = self.model.variables.len().min(values.len());
        self.hinted = (0..n)
            .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
            .collect();
        self.model.solution_hint = Some(proto::PartialVariableAssignment {
            vars: (0..n)
                .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
                .collect(),
            values: values[..n].to_vec(),
        });
    }

    /// Solves under the assumption that `lit` is true; on infeasibility CP-SAT reports a subset
    /// of assumptions that suffices for the conflict.
    pub fn add_assumption(&mut self, lit: BoolVar) {
        self.model.assumptions.push(lit.0);
    }

    /// The encoded `CpModelProto`.
    pub fn encode(&self) -> Vec<u8> {
        self.model.encode_to_vec()
    }

    /// The underlying proto (for inspection in tests).
    pub fn proto(&self) -> &proto::CpModelProto {
        &self.model
    }

    /// Solves in this process.
    pub fn solve(
        &self,
        params: &SatParams,
        stop: &StopHandle,
    ) -> Result<CpSolution, OptimizerError> {
        let lib = ffi::library()?;
        let bytes = lib.solve(&self.encode(), &params.encode(), stop)?;
        CpSolution::decode(&bytes)
    }
}

/// Solver outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Proven optimal (or within the requested gap).
    Optimal,
    /// A solution, not proven optimal.
    Feasible,
    /// Proven that no solution exists.
    Infeasible,
    /// CP-SAT rejected the model.
    ModelInvalid,
    /// No solution and no proof within the limits.
    Unknown,
}

impl SolveStatus {
    /// Whether a solution vector is present.
    pub fn has_solution(self) -> bool {
        matches!(self, SolveStatus::Optimal | SolveStatus::Feasible)
    }
}

/// A decoded solver response.
#[derive(Clone, Debug)]
pub struct CpSolution {
    /// Raw response.
    pub response: proto::CpSolverResponse,
}

impl CpSolution {
    /// Decodes response bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, OptimizerError> {
        let response = proto::CpSolverResponse::decode(bytes)
            .map_err(|e| OptimizerError::Decode(e.to_string()))?;
        Ok(Self { response })
    }

    /// The status.
    pub fn status(&self) -> SolveStatus {
        match CpSolverStatus::try_from(self.response.status) {
            Ok(CpSolverStatus::Optimal) => SolveStatus::Optimal,
            Ok(CpSolverStatus::Feasible) => SolveStatus::Feasible,
            Ok(CpSolverStatus::Infeasible) => SolveStatus::Infeasible,
            Ok(CpSolverStatus::ModelInvalid) => SolveStatus::ModelInvalid,
            _ => SolveStatus::Unknown,
        }
    }

    /// Value of an integer variable (0 if no solution).
    pub fn value(&self, v: IntVar) -> i64 {
        usize::try_from(v.0)
            .ok()
            .and_then(|i| self.response.solution.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Value of a literal (false if no solution).
    pub fn bool_value(&self, l: BoolVar) -> bool {
        let v = self.value(IntVar(l.var_index())) != 0;
        if l.is_positive() {
            v
        } else {
            !v
        }
    }

    /// Value of an expression.
    pub fn expr_value(&self, e: &LinearExpr) -> i64 {
        e.evaluate(&self.response.solution)
    }

    /// Objective value.
    pub fn objective(&self) -> f64 {
        self.response.objective_value
    }

    /// Best proven bound.
    pub fn bound(&self) -> f64 {
        self.response.best_objective_bound
    }

    /// Wall time in seconds as measured by CP-SAT.
    pub fn wall_time(&self) -> f64 {
        self.response.wall_time
    }
}
