//! The query side: read models over Postgres (materialized views for closed days, live SQL for
//! today and the plan ahead), a query bus with caching and timing, and the freshness loop that
//! follows the domain events. Definitions of every figure: `docs/METRICS.md`.

pub mod bench;
pub mod bus;
pub mod dashboard;
pub mod explain;
pub mod freshness;
pub mod job_flow;
pub mod machine_utilization;
pub mod operator_workload;
pub mod roster;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use app::domain::PlantScope;
use app::error::AppError;
use app::read_models::{AsOf, BucketSize, TimeRange, ViewCoverage};

use crate::floor::store_error;

pub use bus::{QueryBus, ReadConfig};

/// Where "now" comes from: the server clock in production, a fixed moment in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What every read-model query needs: the pools, the plant zone and the clock.
#[derive(Clone)]
pub struct ReadContext {
    pub pool: PgPool,
    /// Sessions on the same database that keep generic plans, for the statements whose best
    /// plan does not depend on their parameters (the main pool's sessions plan every execution
    /// anew, see `db::SESSION_SETTINGS`): planning cost such statements 0.2–2 ms each, more
    /// than running them, and a transaction switching the mode cost three round trips.
    pub generic: PgPool,
    pub tz: Tz,
    pub clock: Clock,
}

impl ReadContext {
    pub fn new(pool: PgPool, tz: Tz, clock: Clock) -> Self {
        let generic = generic_plan_pool(&pool);
        Self {
            pool,
            generic,
            tz,
            clock,
        }
    }

    /// Runs the generic-plan statements on `generic` instead (one connection for everything,
    /// when counting a backend's scans).
    pub fn with_generic_pool(mut self, generic: PgPool) -> Self {
        self.generic = generic;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Writes the plant zone into the read side's state (a change empties the views' trust,
    /// see `set_read_model_time_zone`). Called at start-up.
    pub async fn sync_time_zone(&self) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT set_read_model_time_zone($1)")
            .bind(self.tz.name())
            .fetch_one(&self.pool)
            .await
    }

    /// Refreshes the materialized views and raises the watermark; returns the refresh time.
    pub async fn refresh(&self) -> Result<RefreshOutcome, sqlx::Error> {
        let (before, everything, through_event, took_ms): (Option<DateTime<Utc>>, bool, i64, f64) =
            sqlx::query_as(&format!(
                "SELECT {COVERAGE_SQL}, through_event, took_ms
                 FROM refresh_scheduling_read_models() AS r (mv_covers_before, through_event, took_ms)"
            ))
            .fetch_one(&self.pool)
            .await?;
        Ok(RefreshOutcome {
            views: coverage(before, everything),
            through_event,
            took_ms,
        })
    }

    /// The last event and the views' watermark, read together so an answer can say as of when.
    pub async fn as_of(&self) -> Result<AsOf, AppError> {
        let (event_id, before, everything): (i64, Option<DateTime<Utc>>, bool) =
            sqlx::query_as(&format!(
                "SELECT coalesce((SELECT max(id) FROM domain_events), 0)::BIGINT, {COVERAGE_SQL}
                 FROM read_model_state"
            ))
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(AsOf {
            event_id,
            computed_at: self.now(),
            views: coverage(before, everything),
            from_cache: false,
        })
    }

    /// The department's id for a scope (`None` for the whole plant).
    pub async fn department_id(&self, scope: &PlantScope) -> Result<Option<i64>, AppError> {
        match scope.department() {
            None => Ok(None),
            Some(code) => sqlx::query_scalar("SELECT id FROM departments WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?
                .map(Some)
                .ok_or_else(|| AppError::NotFound {
                    what: format!("department '{code}'"),
                }),
        }
    }

    /// The plant's local date at `at`.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The local midnight that starts the day containing `at`.
    pub fn local_midnight(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.midnight_of(self.local_date(at))
    }

    /// The roll-up rows (whole local months and weeks, then days) that tile [from, to).
    pub fn tile(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> machine_utilization::Tiling {
        machine_utilization::tile(self.local_date(from), self.local_date(to))
    }

    /// The start of the local hour containing `at` (in zones offset by part of an hour it is
    /// not a UTC hour), at the offset in force at `at`.
    pub fn hour_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let offset_s = i64::from(at.with_timezone(&self.tz).offset().fix().local_minus_utc());
        let into_hour = (at.timestamp() + offset_s).rem_euclid(3600);
        let floored = at - Duration::seconds(into_hour);
        floored - Duration::nanoseconds(i64::from(floored.timestamp_subsec_nanos()))
    }

    pub fn midnight_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.tz
            .from_local_datetime(&naive)
            .earliest()
            // Zones whose DST jump skips midnight: the first valid moment an hour later.
            .or_else(|| {
                self.tz
                    .from_local_datetime(&(naive + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
    }

    /// Rounds a range outwards to whole buckets' edges that the views can serve: whole local
    /// days for day, week and month buckets, whole hours for hour buckets.
    pub fn align(&self, range: &TimeRange, bucket: BucketSize) -> (DateTime<Utc>, DateTime<Utc>) {
        match bucket {
            BucketSize::Hour => {
                let floor = |t: DateTime<Utc>| {
                    t.with_minute(0)
                        .and_then(|t| t.with_second(0))
                        .and_then(|t| t.with_nanosecond(0))
                        .unwrap_or(t)
                };
                let from = floor(range.from());
                let to_floor = floor(range.to());
                let to = if to_floor == range.to() {
                    to_floor
                } else {
                    to_floor + Duration::hours(1)
                };
                (from, to)
            }
            _ => {
                let from = self.local_midnight(range.from());
                let to_mid = self.local_midnight(range.to());
                let to = if to_mid == range.to() {
                    to_mid
                } else {
                    let next = range.to().with_timezone(&self.tz).date_naive() + Duration::days(1);
                    self.midnight_of(next)
                };
                (from, to)
            }
        }
    }
}

/// The watermark `mv_covers_before` as (finite moment, is +infinity) columns.
pub const COVERAGE_SQL: &str = "CASE WHEN isfinite(mv_covers_before) THEN mv_covers_before END,
     mv_covers_before = 'infinity'::timestamptz";

/// Where a read of [from, to) switches from a view to live SQL, given the coverage its `as_of`
/// reported (so the split matches the answer's stated coverage): `None` when the views cover
/// the whole range, the range start when they are not to be used or cover nothing.
pub fn live_from(
    use_views: bool,
    views: ViewCoverage,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match (use_views, views) {
        (true, ViewCoverage::Everything) => None,
        (true, ViewCoverage::Before(t)) => Some(t.clamp(from, to)),
        _ => Some(from),
    }
}

/// Whether a read up to `to` is served by the views alone, given the coverage its `as_of`
/// reported: statements for that case drop their live part (and may keep generic plans).
pub fn views_cover(use_views: bool, views: ViewCoverage, to: DateTime<Utc>) -> bool {
    use_views
        && match views {
            ViewCoverage::Everything => true,
            ViewCoverage::Before(t) => t >= to,
            ViewCoverage::Nothing => false,
        }
}

/// A lazily connected pool like `pool` (same database and session settings, as many
/// connections) whose sessions keep generic plans: `plan_cache_mode` given last wins. It only
/// reads, so it skips the ping before handing out a connection (a round trip per statement,
/// 8 % of operator load's client time): a connection that died since is an error for one
/// read, and is then replaced.
pub fn generic_plan_pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(pool.options().get_max_connections())
        .test_before_acquire(false)
        .connect_lazy_with(options)
}

/// What the watermark means for an answer: -infinity nothing, +infinity everything.
pub fn coverage(before: Option<DateTime<Utc>>, everything: bool) -> ViewCoverage {
    match (before, everything) {
        (Some(at), _) => ViewCoverage::Before(at),
        (None, true) => ViewCoverage::Everything,
        (None, false) => ViewCoverage::Nothing,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshOutcome {
    pub views: ViewCoverage,
    pub through_event: i64,
    pub took_ms: f64,
}

/// `num / den`, or `None` when the denominator is not positive (no time, no units).
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

pub fn hours(seconds: f64) -> f64 {
    seconds / 3600.0
}

/// Rounds for display-stable answers (tests compare exact values of hand-worked fixtures).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub fn paginate<T: Clone>(items: &[T], page: app::read_models::Page) -> Vec<T> {
    items
        .iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_in(tz: Tz) -> ReadContext {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://localhost/unused")
            .expect("a lazy pool parses its URL");
        ReadContext::new(pool, tz, system_clock())
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("an RFC 3339 time")
    }

    #[tokio::test]
    async fn hour_start_follows_the_plant_zone() {
        let berlin = ctx_in(chrono_tz::Europe::Berlin);
        assert_eq!(
            berlin.hour_start(at("2026-11-11T13:59:59.5Z")),
            at("2026-11-11T13:00:00Z")
        );
        assert_eq!(
            berlin.hour_start(at("2026-11-11T13:00:00Z")),
            at("2026-11-11T13:00:00Z")
        );
        // Fall-back night: 02:30 CEST and 02:30 CET are different hours.
        assert_eq!(
            berlin.hour_start(at("2026-10-25T00:30:00Z")),
            at("2026-10-25T00:00:00Z")
        );
        assert_eq!(
            berlin.hour_start(at("2026-10-25T01:30:00Z")),
            at("2026-10-25T01:00:00Z")
        );
        // India is UTC+05:30: local hours start at half past UTC hours.
        let kolkata = ctx_in(chrono_tz::Asia::Kolkata);
        assert_eq!(
            kolkata.hour_start(at("2026-11-11T13:10:00Z")),
            at("2026-11-11T12:30:00Z")
        );
    }
}
