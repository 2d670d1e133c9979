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
