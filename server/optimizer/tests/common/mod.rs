//! Shared test helpers.
#![allow(dead_code)]

use std::path::PathBuf;

use takt_optimizer::problem::Problem;
use takt_optimizer::worker::WorkerCommand;

/// `../shared/data` next to the repository (as laid out for developers and CI).
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn worker() -> WorkerCommand {
    WorkerCommand::new(env!("CARGO_BIN_EXE_takt-solve-worker"), &[])
}

pub fn problem(json: serde_json::Value) -> Problem {
    serde_json::from_value(json).unwrap_or_else(|e| panic!("problem: {e}"))
}
