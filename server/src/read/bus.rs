//! The query bus: every read-model query goes through here. Middleware, outermost first:
//! timing with a slow-query log, the result cache (moka: TTL by query type and result size, a
//! byte-weighted LRU bound, invalidation per department driven by domain events), and the
//! handler. It also warms the dashboard entries after a refresh and counts hits and misses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;
use moka::policy::EvictionPolicy;
use moka::Expiry;
use serde::Serialize;

use app::domain::{DepartmentCode, PlantScope};
use app::error::AppError;
use app::ports::ReadQueries;
use app::read_models::{
    AsOf, DashboardSummary, GetDashboardSummary, GetJobFlowMetrics, GetMachineUtilization,
    GetOperatorWorkload, JobFlowMetrics, MachineUtilization, OperatorWorkload,
};

use super::{dashboard, job_flow, machine_utilization, operator_workload, ReadContext};
use crate::floor::store_error;

/// Settings of the read side, from the environment (defaults run on a developer's machine).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadConfig {
    /// `TAKT_SLOW_QUERY_MS`: queries slower than this are logged at warn level; default 100.
    pub slow_query: Duration,
    /// `TAKT_READ_CACHE_MB`: the cache's bound in (estimated) megabytes of answers; default 64.
    pub cache_bytes: u64,
    /// `TAKT_READ_DEBOUNCE_MS`: quiet time after the last history-changing event before the
    /// views are refreshed; default 300.
    pub refresh_debounce: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {rule} (got {value:?})")]
pub struct ReadConfigError {
    pub var: &'static str,
    pub rule: &'static str,
    pub value: String,
}

impl Default for ReadConfig {
    fn default() -> Self {
        Self {
            slow_query: Duration::from_millis(100),
            cache_bytes: 64 * 1024 * 1024,
            refresh_debounce: Duration::from_millis(300),
        }
    }
}

impl ReadConfig {
    pub fn from_env() -> Result<Self, ReadConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ReadConfigError> {
        let num = |var: &'static str,
                   max: u64,
                   rule: &'static str|
         -> Result<Option<u64>, ReadConfigError> {
            match lookup(var) {
                None => Ok(None),
                Some(raw) => match raw.parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(ReadConfigError {
                        var,
                        rule,
                        value: raw,
                    }),
                },
            }
        };
        let d = Self::default();
        Ok(Self {
            slow_query: num(
                "TAKT_SLOW_QUERY_MS",
                600_000,
                "must be milliseconds from 1 to 600000",
            )?
            .map(Duration::from_millis)
            .unwrap_or(d.slow_query),
            cache_bytes: num(
                "TAKT_READ_CACHE_MB",
                16_384,
                "must be megabytes from 1 to 16384",
            )?
            .map(|mb| mb * 1024 * 1024)
            .unwrap_or(d.cache_bytes),
            refresh_debounce: num(
                "TAKT_READ_DEBOUNCE_MS",
                60_000,
                "must be milliseconds from 1 to 60000",
            )?
            .map(Duration::from_millis)
            .unwrap_or(d.refresh_debounce),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum QueryKind {
    MachineUtilization,
    OperatorWorkload,
    JobFlow,
    Dashboard,
}

pub const KINDS: [QueryKind; 4] = [
    QueryKind::MachineUtilization,
    QueryKind::OperatorWorkload,
    QueryKind::JobFlow,
    QueryKind::Dashboard,
];

impl QueryKind {
    /// Base time-to-live. Events invalidate what they touch; the TTL only bounds how long an
    /// answer may ride on the clock alone ("running now", "late" move with time), so the
    /// dashboard lives shortest and history-heavy answers longest.
    pub fn base_ttl(self) -> Duration {
        match self {
            QueryKind::Dashboard => Duration::from_secs(15),
            QueryKind::MachineUtilization | QueryKind::OperatorWorkload => Duration::from_secs(60),
            QueryKind::JobFlow => Duration::from_secs(120),
        }
    }

    fn index(self) -> usize {
        match self {
            QueryKind::MachineUtilization => 0,
            QueryKind::OperatorWorkload => 1,
            QueryKind::JobFlow => 2,
            QueryKind::Dashboard => 3,
        }
    }
}

/// Big answers cost memory that small ones could use: halve the TTL from 256 KiB, quarter it
/// from 1 MiB.
pub fn ttl_for(kind: QueryKind, bytes: usize) -> Duration {
    let base = kind.base_ttl();
    if bytes >= 1024 * 1024 {
        base / 4
    } else if bytes >= 256 * 1024 {
        base / 2
    } else {
        base
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Machine(GetMachineUtilization),
    Operator(GetOperatorWorkload),
    Job(GetJobFlowMetrics),
    Dashboard(GetDashboardSummary),
}

impl CacheKey {
    pub fn kind(&self) -> QueryKind {
        match self {
            CacheKey::Machine(_) => QueryKind::MachineUtilization,
            CacheKey::Operator(_) => QueryKind::OperatorWorkload,
            CacheKey::Job(_) => QueryKind::JobFlow,
            CacheKey::Dashboard(_) => QueryKind::Dashboard,
        }
    }

    pub fn scope(&self) -> &PlantScope {
        match self {
            CacheKey::Machine(q) => &q.scope,
            CacheKey::Operator(q) => &q.scope,
            CacheKey::Job(q) => &q.scope,
            CacheKey::Dashboard(q) => &q.scope,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Answer {
    Machine(Arc<MachineUtilization>),
    Operator(Arc<OperatorWorkload>),
    Job(Arc<JobFlowMetrics>),
    Dashboard(Arc<DashboardSummary>),
}

#[derive(Debug)]
pub struct Entry {
    answer: Answer,
    bytes: usize,
    ttl: Duration,
}

struct TtlByEntry;

impl Expiry<CacheKey, Arc<Entry>> for TtlByEntry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<Entry>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    micros: AtomicU64,
    slow: AtomicU64,
}

/// Hit rate and timing per query type since start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindStats {
    pub kind: QueryKind,
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: Option<f64>,
    pub mean_ms: Option<f64>,
    pub slow: u64,
}

/// Answers that say as of when, so a cached copy can say it came from the cache.
pub trait HasAsOf {
    fn as_of_mut(&mut self) -> &mut AsOf;
}

macro_rules! has_as_of {
    ($($t:ty),*) => {$(
        impl HasAsOf for $t {
            fn as_of_mut(&mut self) -> &mut AsOf {
                &mut self.as_of
            }
        }
    )*};
}
has_as_of!(
    MachineUtilization,
    OperatorWorkload,
    JobFlowMetrics,
    DashboardSummary
);

pub struct QueryBus {
    ctx: ReadContext,
    config: ReadConfig,
    cache: Cache<CacheKey, Arc<Entry>>,
    /// Bumped by every invalidation; an answer computed across a bump is not cached (it may
    /// predate the event).
    generation: AtomicU64,
    counters: [Counters; 4],
}

impl QueryBus {
    pub fn new(ctx: ReadContext, config: ReadConfig) -> Self {
        let cache = Cache::builder()
            .max_capacity(config.cache_bytes)
            .weigher(|_k: &CacheKey, v: &Arc<Entry>| u32::try_from(v.bytes).unwrap_or(u32::MAX))
            .expire_after(TtlByEntry)
            .eviction_policy(EvictionPolicy::lru())
            .support_invalidation_closures()
            .build();
        Self {
            ctx,
            config,
            cache,
            generation: AtomicU64::new(0),
            counters: Default::default(),
        }
    }

    pub fn context(&self) -> &ReadContext {
        &self.ctx
    }

    pub fn config(&self) -> &ReadConfig {
        &self.config
    }

    /// Drops the entries a change in `department` can affect: that department's and the whole
    /// plant's. `None` (a change without a department) drops everything.
    pub fn invalidate(&self, department: Option<&DepartmentCode>) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let Some(code) = department.cloned() else {
            self.cache.invalidate_all();
            return;
        };
        let result = self
            .cache
            .invalidate_entries_if(move |k, _| match k.scope() {
                PlantScope::WholePlant => true,
                PlantScope::Department(d) => *d == code,
            });
        if let Err(err) = result {
            tracing::error!(error = %err, "cache invalidation by predicate failed; dropping all");
            self.cache.invalidate_all();
        }
    }

    pub fn invalidate_all(&self) {
        self.invalidate(None);
    }

    pub async fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }

    pub fn stats(&self) -> Vec<KindStats> {
        KINDS
            .iter()
            .map(|&kind| {
                let c = &self.counters[kind.index()];
                let hits = c.hits.load(Ordering::Relaxed);
                let misses = c.misses.load(Ordering::Relaxed);
                let micros = c.micros.load(Ordering::Relaxed);
                let total = hits + misses;
                KindStats {
                    kind,
                    hits,
                    misses,
                    hit_rate: (total > 0).then(|| hits as f64 / total as f64),
                    mean_ms: (total > 0).then(|| micros as f64 / total as f64 / 1000.0),
                    slow: c.slow.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// The middleware chain around one handler.
    async fn dispatch<T, Fut>(
        &self,
        key: CacheKey,
        wrap: fn(Arc<T>) -> Answer,
        unwrap: fn(&Answer) -> Option<&Arc<T>>,
        handler: Fut,
    ) -> Result<T, AppError>
    where
        T: Clone + Serialize + HasAsOf,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        let kind = key.kind();
        let counters = &self.counters[kind.index()];
        let started = Instant::now();
        if let Some(entry) = self.cache.get(&key).await {
            if let Some(answer) = unwrap(&entry.answer) {
                let mut out = T::clone(answer);
                out.as_of_mut().from_cache = true;
                counters.hits.fetch_add(1, Ordering::Relaxed);
                counters
                    .micros
                    .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                return Ok(out);
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let result = handler.await;
        let elapsed = started.elapsed();
        counters.misses.fetch_add(1, Ordering::Relaxed);
        counters
            .micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        if elapsed >= self.config.slow_query {
            counters.slow.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(kind = ?kind, ms = elapsed.as_secs_f64() * 1000.0, query = ?key, "slow read-model query");
        } else {
            tracing::debug!(kind = ?kind, ms = elapsed.as_secs_f64() * 1000.0, "read-model query");
        }
        let answer = result?;
        if self.generation.load(Ordering::SeqCst) == generation {
            let bytes = serde_json::to_vec(&answer).map(|v| v.len()).unwrap_or(0);
            let entry = Entry {
                answer: wrap(Arc::new(answer.clone())),
                bytes,
                ttl: ttl_for(kind, bytes),
            };
            self.cache.insert(key, Arc::new(entry)).await;
        }
        Ok(answer)
    }

    /// Computes and caches the dashboard of the whole plant and of each department (the
    /// entries every page load asks for), after a refresh.
    pub async fn warm(&self) -> Result<usize, AppError> {
        let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM departments ORDER BY id")
            .fetch_all(&self.ctx.pool)
            .await
            .map_err(store_error)?;
        let mut scopes = vec![PlantScope::WholePlant];
        for code in codes {
            scopes.push(PlantScope::Department(DepartmentCode::parse(&code)?));
        }
        let n = scopes.len();
        for scope in scopes {
            let q = GetDashboardSummary::new(scope, DEFAULT_DASHBOARD_WINDOW_DAYS)?;
            self.dashboard(q).await?;
        }
        Ok(n)
    }
}

/// The dashboard window the app asks for by default (and the warmed entries use).
pub const DEFAULT_DASHBOARD_WINDOW_DAYS: u32 = 7;

#[async_trait::async_trait]
impl ReadQueries for QueryBus {
    async fn machine_utilization(
        &self,
        query: GetMachineUtilization,
    ) -> Result<MachineUtilization, AppError> {
        let handler = machine_utilization::run(&self.ctx, &query, true);
        self.dispatch(
            CacheKey::Machine(query.clone()),
            Answer::Machine,
            |a| match a {
                Answer::Machine(x) => Some(x),
                _ => None,
            },
            handler,
        )
        .await
    }

    async fn operator_workload(
        &self,
        query: GetOperatorWorkload,
    ) -> Result<OperatorWorkload, AppError> {
        let handler = operator_workload::run(&self.ctx, &query, true);
        self.dispatch(
            CacheKey::Operator(query.clone()),
            Answer::Operator,
            |a| match a {
                Answer::Operator(x) => Some(x),
                _ => None,
            },
            handler,
        )
        .await
    }

    async fn job_flow(&self, query: GetJobFlowMetrics) -> Result<JobFlowMetrics, AppError> {
        let handler = job_flow::run(&self.ctx, &query, true);
        self.dispatch(
            CacheKey::Job(query.clone()),
            Answer::Job,
            |a| match a {
                Answer::Job(x) => Some(x),
                _ => None,
            },
            handler,
        )
        .await
    }

    async fn dashboard(&self, query: GetDashboardSummary) -> Result<DashboardSummary, AppError> {
        let handler = dashboard::run(&self.ctx, &query, true);
        self.dispatch(
            CacheKey::Dashboard(query.clone()),
            Answer::Dashboard,
            |a| match a {
                Answer::Dashboard(x) => Some(x),
                _ => None,
            },
            handler,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_shrinks_with_size() {
        assert_eq!(ttl_for(QueryKind::Dashboard, 1000), Duration::from_secs(15));
        assert_eq!(
            ttl_for(QueryKind::JobFlow, 300 * 1024),
            Duration::from_secs(60)
        );
        assert_eq!(
            ttl_for(QueryKind::JobFlow, 2 << 20),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn config_names_the_variable() {
        let err = ReadConfig::from_lookup(|k| (k == "TAKT_SLOW_QUERY_MS").then(|| "0".into()))
            .expect_err("zero");
        assert!(err.to_string().contains("TAKT_SLOW_QUERY_MS"));
        assert_eq!(
            ReadConfig::from_lookup(|_| None).ok(),
            Some(ReadConfig::default())
        );
    }
}
