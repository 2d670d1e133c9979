//! The one error type that crosses the wire between server functions and the browser.
//!
//! Server code maps its own failures (database, optimizer, validation) into these variants so
//! that the browser never sees SQL text or internal details, yet a bad input still names the
//! field and the rule that it broke.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input broke a rule; `field` names the input, `rule` says what was expected.
    #[error("{field}: {rule}")]
    InvalidInput { field: String, rule: String },
    /// The thing asked for does not exist (for example an unknown department code).
    #[error("{what} not found")]
    NotFound { what: String },
    /// The data store could not answer; details are in the server log, not here.
    #[error("the plant database is unavailable right now; try again in a moment")]
    StoreUnavailable,
    /// Anything else that went wrong on the server; details are in the server log.
    #[error("internal error: {0}")]
    Internal(String),
    /// Transport-level failures of the server-function machinery itself.
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        AppError::InvalidInput {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}
