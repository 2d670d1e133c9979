//! The crate's error type for everything except problem validation (see `problem::ProblemError`).

use std::path::PathBuf;

/// What can go wrong between problem data and a solved schedule.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OptimizerError {
    /// None of the lookup locations holds the library.
    #[error("CP-SAT library libortools.so.9 not found; set ORTOOLS_LIB_DIR or run the setup script (tried: {})", .tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    LibraryNotFound {
        /// Every path that was probed.
        tried: Vec<PathBuf>,
    },
    /// The file exists but could not be loaded or lacks an entry point.
    #[error("could not load CP-SAT library {}: {message}", .path.display())]
    LibraryLoad {
        /// The library path.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The encoded model exceeds the C API's `int` length.
    #[error("model too large for the CP-SAT C API (over 2 GiB encoded)")]
    ModelTooLarge,
    /// The native call failed without a response.
    #[error("native solver failure: {0}")]
    Native(String),
    /// The response bytes could not be decoded.
    #[error("could not decode the solver response: {0}")]
    Decode(String),
    /// The worker child process failed (crashed, exited early, or broke the protocol).
    #[error("solver worker failed: {0}")]
    Worker(String),
    /// A problem could not be turned into a model (e.g. a horizon overflow).
    #[error("model building failed: {0}")]
    Model(String),
}
