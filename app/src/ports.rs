//! Ports: what server functions need from the server, as traits (hexagonal architecture).
//!
//! The `server` crate implements these against Postgres and puts them into the request
//! context; server-function bodies only look them up and call them. This keeps SQL and the
//! optimizer out of `app`, and lets tests swap an adapter without touching a component.

use std::sync::Arc;

use leptos::prelude::use_context;

use crate::domain::{ActingUser, Department, FloorSnapshot, PlantScope};
use crate::error::AppError;
use crate::read_models::{
    DashboardSummary, GetDashboardSummary, GetJobFlowMetrics, GetMachineUtilization,
    GetOperatorWorkload, JobFlowMetrics, MachineUtilization, OperatorWorkload,
};

/// Live counts from the system of record for the dashboard's first row.
#[async_trait::async_trait]
pub trait FloorQueries: Send + Sync {
    async fn floor_snapshot(&self, scope: &PlantScope) -> Result<FloorSnapshot, AppError>;
    async fn departments(&self) -> Result<Vec<Department>, AppError>;
}

/// The read models (machine utilization, operator load, job flow, dashboard), answered through
/// the server's query bus (cache, timing, freshness).
#[async_trait::async_trait]
pub trait ReadQueries: Send + Sync {
    async fn machine_utilization(
        &self,
        query: GetMachineUtilization,
    ) -> Result<MachineUtilization, AppError>;
    async fn operator_workload(
        &self,
        query: GetOperatorWorkload,
    ) -> Result<OperatorWorkload, AppError>;
    async fn job_flow(&self, query: GetJobFlowMetrics) -> Result<JobFlowMetrics, AppError>;
    async fn dashboard(&self, query: GetDashboardSummary) -> Result<DashboardSummary, AppError>;
}

/// Everything a server function may reach, provided once per request by the server.
#[derive(Clone)]
pub struct Services {
    pub floor: Arc<dyn FloorQueries>,
    pub read: Arc<dyn ReadQueries>,
}

/// The services of the current request.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>()
        .ok_or_else(|| AppError::Internal("services are not in the request context".into()))
}

/// The user the current request acts for, put into the request's extensions by the server.
pub fn acting_user() -> Result<ActingUser, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ActingUser>().cloned())
        .ok_or_else(|| AppError::Internal("no acting user on the request".into()))
}
