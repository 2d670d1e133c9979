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

/// Machine utilization per bucket, per machine (paged), bottlenecks and capacity insights.
/// `from`/`to` are RFC 3339; `bucket` is hour, day, week or month; `machine` empty means all.
#[server(endpoint = "read/machine_utilization")]
pub async fn get_machine_utilization(
    department: String,
    machine: String,
    from: String,
    to: String,
    bucket: String,
    offset: u32,
    limit: u32,
) -> Result<crate::read_models::MachineUtilization, AppError> {
    use crate::read_models::{BucketSize, GetMachineUtilization, Page, TimeRange};
    let query = GetMachineUtilization::new(
        crate::domain::PlantScope::from_picker(&department)?,
        (!machine.is_empty()).then_some(machine),
        TimeRange::parse(&from, &to)?,
        BucketSize::parse(&bucket)?,
        Page::new(offset, limit)?,
    )?;
    crate::ports::services()?
        .read
        .machine_utilization(query)
        .await
}

/// Operator load over a range, the 30-day availability forecast, skills and overloads.
#[server(endpoint = "read/operator_workload")]
pub async fn get_operator_workload(
    department: String,
    from: String,
    to: String,
    offset: u32,
    limit: u32,
) -> Result<crate::read_models::OperatorWorkload, AppError> {
    use crate::read_models::{GetOperatorWorkload, OverloadThresholds, Page, TimeRange};
    let query = GetOperatorWorkload {
        scope: crate::domain::PlantScope::from_picker(&department)?,
        range: TimeRange::parse(&from, &to)?,
        page: Page::new(offset, limit)?,
        thresholds: OverloadThresholds::default(),
    };
    crate::ports::services()?
        .read
        .operator_workload(query)
        .await
}

/// Job flow over a range (throughput, cycle time, lead-time breakdown) and open jobs' plans.
#[server(endpoint = "read/job_flow")]
pub async fn get_job_flow_metrics(
    department: String,
    from: String,
    to: String,
    offset: u32,
    limit: u32,
) -> Result<crate::read_models::JobFlowMetrics, AppError> {
    use crate::read_models::{GetJobFlowMetrics, Page, TimeRange};
    let query = GetJobFlowMetrics {
        scope: crate::domain::PlantScope::from_picker(&department)?,
        range: TimeRange::parse(&from, &to)?,
        page: Page::new(offset, limit)?,
    };
    crate::ports::services()?.read.job_flow(query).await
}

/// The dashboard: KPI tiles with OEE, health score, alerts, departments, real-time status.
#[server(endpoint = "read/dashboard")]
pub async fn get_dashboard_summary(
    department: String,
    window_days: u32,
) -> Result<crate::read_models::DashboardSummary, AppError> {
    let query = crate::read_models::GetDashboardSummary::new(
        crate::domain::PlantScope::from_picker(&department)?,
        window_days,
    )?;
    crate::ports::services()?.read.dashboard(query).await
}
