//! Takt's optimizer: problem data, our CP-SAT binding, the model builder and the independent
//! schedule checker.
//!
//! Layering (why): `problem` and `checker` know nothing about CP-SAT, so the checker can judge
//! any schedule, including a planner's manual edit; `cpsat` is a generic typed builder over our
//! hand-written protobuf messages (`proto`), and `ffi` is the only module with `unsafe`.

pub mod cpsat;
pub mod error;
pub mod ffi;
pub mod libpath;
pub mod proto;

pub use error::OptimizerError;
pub mod checker;
pub mod dispatch;
pub mod formats;
pub mod local_search;
pub mod model;
pub mod problem;
pub mod solve;

pub use checker::{check, Schedule, Violation};
pub use problem::{Problem, ProblemError, ProblemSpec};
pub use solve::{solve_in_process, ProgressPoint, SolveParams, SolveResult};
pub mod cli;
pub mod explain;
pub mod worker;

pub use explain::explain_infeasibility;
pub use worker::{solve_in_child, CancelHandle, WorkerCommand};
