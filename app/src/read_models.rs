//! The read side's questions and answers: typed queries (parsed at construction, so a query
//! value is always valid) and the shapes of their results. Shared by the browser and the server;
//! definitions of every figure are in `docs/METRICS.md`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::PlantScope;
use crate::error::AppError;

/// The longest range a read-model query may cover: a bit over a year, so "a year weekly" fits
/// and nobody asks the server for a decade of hourly buckets.
pub const MAX_RANGE_DAYS: i64 = 400;
/// How many rows a list returns at most per page.
pub const MAX_PAGE_LIMIT: u32 = 500;
/// Hourly buckets are for short ranges only (31 days = 744 buckets).
pub const MAX_HOURLY_DAYS: i64 = 31;

/// The size of a time bucket. Days, weeks (ISO, Monday first) and months follow the plant's
/// local calendar, so a DST day lasts 23 or 25 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BucketSize {
    Hour,
    Day,
    Week,
    Month,
}

impl BucketSize {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "hour" => Ok(Self::Hour),
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            _ => Err(AppError::invalid(
                "bucket",
                "must be one of hour, day, week, month",
            )),
        }
    }

    /// The name Postgres' `date_trunc` and the SQL functions use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// A half-open time range `[from, to)` with `from < to`, at most [`MAX_RANGE_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTimeRange", into = "RawTimeRange")]
pub struct TimeRange {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct RawTimeRange {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl TryFrom<RawTimeRange> for TimeRange {
    type Error = AppError;
    fn try_from(raw: RawTimeRange) -> Result<Self, Self::Error> {
        TimeRange::new(raw.from, raw.to)
    }
}

impl From<TimeRange> for RawTimeRange {
    fn from(r: TimeRange) -> Self {
        RawTimeRange {
            from: r.from,
            to: r.to,
        }
    }
}

impl TimeRange {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, AppError> {
        if from >= to {
            return Err(AppError::invalid("range", "'from' must be before 'to'"));
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(AppError::invalid(
                "range",
                format!("must span at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    /// Parses two RFC 3339 timestamps as typed into a form.
    pub fn parse(from: &str, to: &str) -> Result<Self, AppError> {
        let from = DateTime::parse_from_rfc3339(from)
            .map_err(|_| AppError::invalid("from", "must be an RFC 3339 timestamp"))?;
        let to = DateTime::parse_from_rfc3339(to)
            .map_err(|_| AppError::invalid("to", "must be an RFC 3339 timestamp"))?;
        Self::new(from.with_timezone(&Utc), to.with_timezone(&Utc))
    }

    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    pub fn days(&self) -> f64 {
        (self.to - self.from).num_seconds() as f64 / 86_400.0
    }
}

/// One page of a list: `offset` rows skipped, at most `limit` (1..=[`MAX_PAGE_LIMIT`]) returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPage", into = "RawPage")]
pub struct Page {
    offset: u32,
    limit: u32,
}

#[derive(Serialize, Deserialize)]
struct RawPage {
    offset: u32,
    limit: u32,
}

impl TryFrom<RawPage> for Page {
    type Error = AppError;
    fn try_from(raw: RawPage) -> Result<Self, Self::Error> {
        Page::new(raw.offset, raw.limit)
    }
}

impl From<Page> for RawPage {
    fn from(p: Page) -> Self {
        RawPage {
            offset: p.offset,
            limit: p.limit,
        }
    }
}

impl Page {
    pub fn new(offset: u32, limit: u32) -> Result<Self, AppError> {
        if limit == 0 || limit > MAX_PAGE_LIMIT {
            return Err(AppError::invalid(
                "limit",
                format!("must be from 1 to {MAX_PAGE_LIMIT}"),
            ));
        }
        Ok(Self { offset, limit })
    }

    pub fn offset(&self) -> u32 {
        self.offset
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 50,
        }
    }
}

/// How urgent a finding is; ordered, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

/// As of when an answer is true: the last domain event it reflects, the moment it was
/// computed, and which days came from the materialized views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsOf {
    pub event_id: i64,
    pub computed_at: DateTime<Utc>,
    pub views: ViewCoverage,
    /// True when the answer came out of the cache (it is still as of `event_id`).
    pub from_cache: bool,
}

/// Which whole local days an answer read from the materialized views (the rest: live SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewCoverage {
    /// Not refreshed yet, or the plant's time zone changed: every figure was computed live.
    Nothing,
    /// Days before this local midnight came from the views; later days were live, because an
    /// event changed them after the last refresh.
    Before(DateTime<Utc>),
    /// Nothing changed since the last refresh: every whole day came from the views.
    Everything,
}

// ----- Machine utilization -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GetMachineUtilization {
    pub scope: PlantScope,
    /// One machine's code, or all machines in scope.
    pub machine: Option<String>,
    pub range: TimeRange,
    pub bucket: BucketSize,
    /// Page of the per-machine list (ordered by actual utilization, highest first).
    pub page: Page,
}

impl GetMachineUtilization {
    pub fn new(
        scope: PlantScope,
        machine: Option<String>,
        range: TimeRange,
        bucket: BucketSize,
        page: Page,
    ) -> Result<Self, AppError> {
        if bucket == BucketSize::Hour && range.days() > MAX_HOURLY_DAYS as f64 {
            return Err(AppError::invalid(
                "bucket",
                format!("hourly buckets cover at most {MAX_HOURLY_DAYS} days"),
            ));
        }
        if let Some(code) = &machine {
            if code.is_empty() || code.len() > 64 {
                return Err(AppError::invalid("machine", "must be 1-64 characters"));
            }
        }
        Ok(Self {
            scope,
            machine,
            range,
            bucket,
            page,
        })
    }
}

/// Figures of one bucket (or one machine over the range); hours and ratios (0.85 = 85 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UtilizationFigures {
    pub available_h: f64,
    pub downtime_h: f64,
    pub scheduled_h: f64,
    pub setup_h: f64,
    pub actual_h: f64,
    pub scheduled_utilization: Option<f64>,
    pub actual_utilization: Option<f64>,
    pub efficiency: Option<f64>,
    pub setup_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UtilizationBucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub machines: i64,
    pub figures: UtilizationFigures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trend {
    Improving,
    Declining,
    Stable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineSummary {
    pub code: String,
    pub name: String,
    pub department: String,
    pub machine_type: String,
    pub figures: UtilizationFigures,
    /// Hours finished runs ended after their planned end.
    pub delay_h: f64,
    pub trend: Trend,
    /// Slope of daily actual utilization, per day (0.01 = +1 point a day).
    pub trend_slope: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    pub machine: String,
    pub department: String,
    pub severity: Severity,
    pub scheduled_utilization: f64,
    pub delay_h: f64,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityInsight {
    pub department: String,
    pub machine_type: String,
    pub machines: i64,
    /// Planned plus unplanned open work over available time in the next four weeks.
    pub demand_ratio: f64,
    pub severity: Severity,
    pub recommendation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineUtilization {
    pub as_of: AsOf,
    pub buckets: Vec<UtilizationBucket>,
    pub total: UtilizationFigures,
    pub machines: Vec<MachineSummary>,
    pub machines_total: i64,
    pub top_machines: Vec<MachineSummary>,
    pub bottlenecks: Vec<Bottleneck>,
    pub capacity: Vec<CapacityInsight>,
}

// ----- Operator workload ---------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GetOperatorWorkload {
    pub scope: PlantScope,
    pub range: TimeRange,
    pub page: Page,
    pub thresholds: OverloadThresholds,
}

/// Load ratios (assigned / capacity) at which an operator counts as overloaded, in per mille
/// so the query stays hashable: 1000 = 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OverloadThresholds {
    pub medium_permille: u32,
    pub high_permille: u32,
    pub critical_permille: u32,
}

impl OverloadThresholds {
    pub fn new(medium: u32, high: u32, critical: u32) -> Result<Self, AppError> {
        if !(medium < high && high < critical) || medium == 0 || critical > 5000 {
            return Err(AppError::invalid(
                "thresholds",
                "must rise strictly (medium < high < critical) within 1..=5000 per mille",
            ));
        }
        Ok(Self {
            medium_permille: medium,
            high_permille: high,
            critical_permille: critical,
        })
    }

    pub fn severity(&self, load: f64) -> Option<Severity> {
        let permille = load * 1000.0;
        if permille >= self.critical_permille as f64 {
            Some(Severity::Critical)
        } else if permille >= self.high_permille as f64 {
            Some(Severity::High)
        } else if permille >= self.medium_permille as f64 {
            Some(Severity::Medium)
        } else {
            None
        }
    }
}

impl Default for OverloadThresholds {
    fn default() -> Self {
        Self {
            medium_permille: 900,
            high_permille: 1000,
            critical_permille: 1200,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorLoad {
    pub code: String,
    pub name: String,
    pub department: String,
    pub shift_pattern: String,
    pub assigned_h: f64,
    pub capacity_h: f64,
    pub absence_h: f64,
    pub load: Option<f64>,
    pub overload: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupLoad {
    /// Shift pattern or department code.
    pub key: String,
    pub operators: i64,
    pub assigned_h: f64,
    pub capacity_h: f64,
    pub load: Option<f64>,
    pub overloaded: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailabilityDay {
    pub day: chrono::NaiveDate,
    /// Rostered shift hours minus absences.
    pub available_h: f64,
    pub absent_h: f64,
    /// Extra hours overtime-eligible operators could add (see METRICS.md).
    pub overtime_h: f64,
    pub operators_available: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillBalance {
    pub skill: String,
    pub department: Option<String>,
    /// Hours of open work needing the skill.
    pub demand_h: f64,
    /// Available hours of qualified operators over the next 30 days.
    pub supply_h: f64,
    pub qualified_operators: i64,
    pub shortage_h: f64,
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossTraining {
    pub operator: String,
    pub department: String,
    pub skill: String,
    /// The shortage of that skill the training would relieve, hours.
    pub relieves_h: f64,
    pub operator_load: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorWorkload {
    pub as_of: AsOf,
    pub operators: Vec<OperatorLoad>,
    pub operators_total: i64,
    pub by_shift_pattern: Vec<GroupLoad>,
    pub by_department: Vec<GroupLoad>,
    pub forecast: Vec<AvailabilityDay>,
    pub skills: Vec<SkillBalance>,
    pub overloaded: Vec<OperatorLoad>,
    pub cross_training: Vec<CrossTraining>,
}

// ----- Job flow ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GetJobFlowMetrics {
    pub scope: PlantScope,
    pub range: TimeRange,
    /// Page of open jobs with makespan and critical path.
    pub page: Page,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeBreakdown {
    pub queue_h: f64,
    pub setup_h: f64,
    pub processing_h: f64,
    pub wait_h: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowBottleneck {
    pub department: String,
    /// Mean hours a task waited for its machine after its predecessor finished (or release).
    pub mean_wait_h: f64,
    pub tasks: i64,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPlan {
    pub code: String,
    pub due_at: DateTime<Utc>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    pub makespan_h: Option<f64>,
    /// Task sequence numbers of the chain that decides the job's end.
    pub critical_path: Vec<i32>,
    pub late_by_h: f64,
    pub unplanned_tasks: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFlowMetrics {
    pub as_of: AsOf,
    pub jobs_completed: i64,
    pub tasks_completed: i64,
    pub jobs_per_hour: f64,
    pub tasks_per_hour: f64,
    /// Lead time (release to completion) of completed jobs, hours.
    pub cycle_time_h: Option<Percentiles>,
    /// Mean per completed job, hours.
    pub lead_time: Option<LeadTimeBreakdown>,
    pub flow_efficiency: Option<f64>,
    pub first_pass_yield: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub wip_jobs: i64,
    pub bottlenecks: Vec<FlowBottleneck>,
    /// 100 × (1 − coefficient of variation of department utilization), clamped 0..100.
    pub resource_balance_score: Option<f64>,
    /// Hours of precedence lag (cooling, curing, transport) in open jobs' plans.
    pub constraint_lag_h: f64,
    pub jobs: Vec<JobPlan>,
    pub open_jobs_total: i64,
}

// ----- Dashboard -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GetDashboardSummary {
    pub scope: PlantScope,
    /// Days back from now the OEE and delivery figures cover (1..=90).
    pub window_days: u32,
}

impl GetDashboardSummary {
    pub fn new(scope: PlantScope, window_days: u32) -> Result<Self, AppError> {
        if !(1..=90).contains(&window_days) {
            return Err(AppError::invalid("window_days", "must be from 1 to 90"));
        }
        Ok(Self { scope, window_days })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Oee {
    pub availability: Option<f64>,
    pub performance: Option<f64>,
    pub quality: Option<f64>,
    pub oee: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    pub oee: Oee,
    pub on_time_delivery: Option<f64>,
    pub scheduled_utilization_next_7d: Option<f64>,
    pub open_jobs: i64,
    pub late_jobs: i64,
    pub machines_down: i64,
    pub machines_in_service: i64,
    pub running_now: i64,
    pub late_tasks: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthBand {
    Green,
    Amber,
    Red,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthComponent {
    pub name: String,
    pub weight: f64,
    /// 0..=1
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthScore {
    pub score: f64,
    pub band: HealthBand,
    pub components: Vec<HealthComponent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub severity: Severity,
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub recommended_action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentSummary {
    pub department: String,
    pub machines: i64,
    pub machines_down: i64,
    pub running_now: i64,
    pub scheduled_utilization_next_7d: Option<f64>,
    pub oee: Option<f64>,
    pub late_tasks: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusItem {
    pub machine: String,
    pub department: String,
    /// Job code (running or late) or downtime kind (down).
    pub what: String,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealTimeStatus {
    pub running: Vec<StatusItem>,
    pub late: Vec<StatusItem>,
    pub down: Vec<StatusItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub as_of: AsOf,
    pub kpis: Kpis,
    pub health: HealthScore,
    pub alerts: Vec<Alert>,
    pub departments: Vec<DepartmentSummary>,
    pub status: RealTimeStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_must_run_forward() {
        let t = Utc::now();
        let err = TimeRange::new(t, t).expect_err("empty");
        assert!(err.to_string().contains("'from' must be before 'to'"));
    }

    #[test]
    fn pages_are_bounded() {
        assert!(Page::new(0, 0).is_err());
        assert!(Page::new(0, MAX_PAGE_LIMIT + 1).is_err());
        assert!(Page::new(10, 20).is_ok());
    }

    #[test]
    fn thresholds_rise() {
        assert!(OverloadThresholds::new(1000, 900, 1200).is_err());
        let t = OverloadThresholds::default();
        assert_eq!(t.severity(0.95), Some(Severity::Medium));
        assert_eq!(t.severity(1.0), Some(Severity::High));
        assert_eq!(t.severity(1.3), Some(Severity::Critical));
        assert_eq!(t.severity(0.5), None);
    }

    #[test]
    fn serde_reparses() {
        let bad = r#"{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}"#;
        assert!(serde_json::from_str::<TimeRange>(bad).is_err());
    }
}
