//! Server functions: the browser's typed door into the server. Each body is a few lines that
//! parse the input, take a service from the request context and call it.

use leptos::prelude::*;

use crate::domain::{ActingUser, Department, FloorSnapshot};
use crate::error::AppError;

/// Live floor counts for the whole plant (`department` empty) or one department.
#[server(endpoint = "floor_snapshot")]
pub async fn get_floor_snapshot(department: String) -> Result<FloorSnapshot, AppError> {
    let scope = crate::domain::PlantScope::from_picker(&department)?;
    crate::ports::services()?.floor.floor_snapshot(&scope).await
}

/// The plant's departments, for pickers.
#[server(endpoint = "departments")]
pub async fn list_departments() -> Result<Vec<Department>, AppError> {
    crate::ports::services()?.floor.departments().await
}

/// Who the app acts for (shown in the header; sign-in will fill this in later).
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<ActingUser, AppError> {
    crate::ports::acting_user()
}
