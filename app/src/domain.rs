//! Types shared by the browser and the server: identifiers in the factory's words and the
//! shapes that server functions return. Parsing happens at construction, so a value of one of
//! these types is already valid wherever it travels.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A department's short code as planners type it (`machining`, `paint`, …): lowercase ASCII
/// letters, digits and `-`, 1–32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DepartmentCode(String);

impl DepartmentCode {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let ok_len = (1..=32).contains(&raw.len());
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok_len && ok_chars {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::invalid(
                "department",
                "must be 1-32 lowercase letters, digits or '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DepartmentCode {
    type Error = AppError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DepartmentCode> for String {
    fn from(value: DepartmentCode) -> Self {
        value.0
    }
}

impl std::fmt::Display for DepartmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which part of the plant a question is about: the whole plant or one department.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum PlantScope {
    #[default]
    WholePlant,
    Department(DepartmentCode),
}

impl PlantScope {
    /// Reads the value of the department picker: empty means the whole plant.
    pub fn from_picker(raw: &str) -> Result<Self, AppError> {
        if raw.is_empty() {
            Ok(Self::WholePlant)
        } else {
            DepartmentCode::parse(raw).map(Self::Department)
        }
    }

    pub fn department(&self) -> Option<&DepartmentCode> {
        match self {
            PlantScope::WholePlant => None,
            PlantScope::Department(code) => Some(code),
        }
    }
}

/// A department as the pickers list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
}

/// The person on whose behalf a request acts. Until sign-in lands every request acts as the
/// configured local planner; the type is already threaded through so sign-in changes only who
/// fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingUser {
    pub username: String,
    pub display_name: String,
    pub role: UserRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserRole {
    Planner,
    Supervisor,
    PlantManager,
}

/// The first figures a supervisor looks at, counted live from the system of record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorSnapshot {
    pub scope: PlantScope,
    /// The moment the counts were taken (server clock).
    pub as_of: DateTime<Utc>,
    /// Jobs released or in progress, not yet completed or cancelled.
    pub open_jobs: i64,
    /// Open jobs whose due date has passed.
    pub late_jobs: i64,
    /// Machines out of service or inside a breakdown or maintenance window right now.
    pub machines_down_now: i64,
    /// Machines in scope that are not retired.
    pub machines_in_service: i64,
    /// Tasks that have started on the floor and have not finished.
    pub tasks_running_now: i64,
    /// Active operators with an absence covering this moment.
    pub operators_absent_now: i64,
}
