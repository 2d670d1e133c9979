//! Hand-written protobuf messages for the subset of CP-SAT's wire format that Takt uses.
//!
//! Why by hand: we want no vendored `.proto` and no build script; prost's derive macros let us
//! declare exactly the fields we send and read. Field numbers are those of the public
//! `ortools/sat/cp_model.proto` and `ortools/sat/sat_parameters.proto` (OR-Tools 9.15); fields we
//! do not declare are skipped by the decoder, so a newer library stays compatible.
//! `cp_model.proto` is proto3 (packed repeated scalars, implicit presence) while
//! `sat_parameters.proto` is proto2, hence `Option`s there so unset parameters keep CP-SAT's
//! defaults.

#![allow(missing_docs)]

use prost::{Message, Oneof};

#[derive(Clone, PartialEq, Message)]
pub struct IntegerVariableProto {
    #[prost(string, tag = "1")]
    pub name: String,
    /// Sorted list of disjoint closed intervals `[lo0, hi0, lo1, hi1, ...]`.
    #[prost(int64, repeated, tag = "2")]
    pub domain: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct BoolArgumentProto {
    #[prost(int32, repeated, tag = "1")]
    pub literals: Vec<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct LinearExpressionProto {
    #[prost(int32, repeated, tag = "1")]
    pub vars: Vec<i32>,
    #[prost(int64, repeated, tag = "2")]
    pub coeffs: Vec<i64>,
    #[prost(int64, tag = "3")]
    pub offset: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct LinearArgumentProto {
    #[prost(message, optional, tag = "1")]
    pub target: Option<LinearExpressionProto>,
    #[prost(message, repeated, tag = "2")]
    pub exprs: Vec<LinearExpressionProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct IntervalConstraintProto {
    #[prost(message, optional, tag = "4")]
    pub start: Option<LinearExpressionProto>,
    #[prost(message, optional, tag = "5")]
    pub end: Option<LinearExpressionProto>,
    #[prost(message, optional, tag = "6")]
    pub size: Option<LinearExpressionProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NoOverlapConstraintProto {
    #[prost(int32, repeated, tag = "1")]
    pub intervals: Vec<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CumulativeConstraintProto {
    #[prost(message, optional, tag = "1")]
    pub capacity: Option<LinearExpressionProto>,
    #[prost(int32, repeated, tag = "2")]
    pub intervals: Vec<i32>,
    #[prost(message, repeated, tag = "3")]
    pub demands: Vec<LinearExpressionProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct LinearConstraintProto {
    #[prost(int32, repeated, tag = "1")]
    pub vars: Vec<i32>,
    #[prost(int64, repeated, tag = "2")]
    pub coeffs: Vec<i64>,
    #[prost(int64, repeated, tag = "3")]
    pub domain: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CircuitConstraintProto {
    #[prost(int32, repeated, tag = "3")]
    pub tails: Vec<i32>,
    #[prost(int32, repeated, tag = "4")]
    pub heads: Vec<i32>,
    #[prost(int32, repeated, tag = "5")]
    pub literals: Vec<i32>,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum Constraint {
    #[prost(message, tag = "3")]
    BoolOr(BoolArgumentProto),
    #[prost(message, tag = "4")]
    BoolAnd(BoolArgumentProto),
    #[prost(message, tag = "26")]
    AtMostOne(BoolArgumentProto),
    #[prost(message, tag = "29")]
    ExactlyOne(BoolArgumentProto),
    #[prost(message, tag = "27")]
    LinMax(LinearArgumentProto),
    #[prost(message, tag = "12")]
    Linear(LinearConstraintProto),
    #[prost(message, tag = "15")]
    Circuit(CircuitConstraintProto),
    #[prost(message, tag = "19")]
    Interval(IntervalConstraintProto),
    #[prost(message, tag = "20")]
    NoOverlap(NoOverlapConstraintProto),
    #[prost(message, tag = "22")]
    Cumulative(CumulativeConstraintProto),
}

#[derive(Clone, PartialEq, Message)]
pub struct ConstraintProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(int32, repeated, tag = "2")]
    pub enforcement_literal: Vec<i32>,
    #[prost(oneof = "Constraint", tags = "3, 4, 26, 29, 27, 12, 15, 19, 20, 22")]
    pub constraint: Option<Constraint>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CpObjectiveProto {
    #[prost(int32, repeated, tag = "1")]
    pub vars: Vec<i32>,
    #[prost(int64, repeated, tag = "4")]
    pub coeffs: Vec<i64>,
    #[prost(double, tag = "2")]
    pub offset: f64,
    #[prost(double, tag = "3")]
    pub scaling_factor: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct PartialVariableAssignment {
    #[prost(int32, repeated, tag = "1")]
    pub vars: Vec<i32>,
    #[prost(int64, repeated, tag = "2")]
    pub values: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CpModelProto {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, repeated, tag = "2")]
    pub variables: Vec<IntegerVariableProto>,
    #[prost(message, repeated, tag = "3")]
    pub constraints: Vec<ConstraintProto>,
    #[prost(message, optional, tag = "4")]
    pub objective: Option<CpObjectiveProto>,
    #[prost(message, optional, tag = "6")]
    pub solution_hint: Option<PartialVariableAssignment>,
    #[prost(int32, repeated, tag = "7")]
    pub assumptions: Vec<i32>,
}

/// `CpSolverStatus` of cp_model.proto.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum CpSolverStatus {
    Unknown = 0,
    ModelInvalid = 1,
    Feasible = 2,
    Infeasible = 3,
    Optimal = 4,
}

#[derive(Clone, PartialEq, Message)]
pub struct CpSolverResponse {
    #[prost(enumeration = "CpSolverStatus", tag = "1")]
    pub status: i32,
    #[prost(int64, repeated, tag = "2")]
    pub solution: Vec<i64>,
    #[prost(double, tag = "3")]
    pub objective_value: f64,
    #[prost(double, tag = "4")]
    pub best_objective_bound: f64,
    #[prost(int32, repeated, tag = "23")]
    pub sufficient_assumptions_for_infeasibility: Vec<i32>,
    #[prost(double, tag = "15")]
    pub wall_time: f64,
    #[prost(double, tag = "16")]
    pub user_time: f64,
    #[prost(string, tag = "20")]
    pub solution_info: String,
    #[prost(string, tag = "26")]
    pub solve_log: String,
}

/// The proto2 `SatParameters` subset; every field optional so unset ones keep the defaults.
#[derive(Clone, PartialEq, Message)]
pub struct SatParameters {
    #[prost(double, optional, tag = "36")]
    pub max_time_in_seconds: Option<f64>,
    #[prost(double, optional, tag = "159")]
    pub absolute_gap_limit: Option<f64>,
    #[prost(double, optional, tag = "160")]
    pub relative_gap_limit: Option<f64>,
    #[prost(int32, optional, tag = "31")]
    pub random_seed: Option<i32>,
    #[prost(bool, optional, tag = "41")]
    pub log_search_progress: Option<bool>,
    #[prost(bool, optional, tag = "186")]
    pub log_to_stdout: Option<bool>,
    #[prost(bool, optional, tag = "187")]
    pub log_to_response: Option<bool>,
    #[prost(int32, optional, tag = "206")]
    pub num_workers: Option<i32>,
    #[prost(bool, optional, tag = "167")]
    pub repair_hint: Option<bool>,
    #[prost(int32, optional, tag = "90")]
    pub linearization_level: Option<i32>,
    #[prost(bool, optional, tag = "35")]
    pub use_optimization_hints: Option<bool>,
    #[prost(string, repeated, tag = "219")]
    pub extra_subsolvers: Vec<String>,
}
