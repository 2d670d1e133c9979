//! `GetMachineUtilization`: buckets of scheduled vs actual utilization, the per-machine list with
//! trend, bottlenecks and capacity insights. The buckets come from
//! `get_machine_utilization_buckets` (views for covered days, live for the rest: see the
//! migration's header); the per-machine list straight from the views while they cover the
//! range, else from the same function.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc, Weekday};

use app::error::AppError;
use app::read_models::{
    Bottleneck, BucketSize, CapacityInsight, GetMachineUtilization, MachineSummary,
    MachineUtilization, Severity, Trend, UtilizationBucket, UtilizationFigures,
};

use super::{hours, live_from, paginate, ratio, round6, ReadContext};
use crate::floor::store_error;

/// Capacity planning looks this many whole days past today.
pub const CAPACITY_DAYS: i64 = 28;

/// One row of `get_machine_utilization_buckets`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BucketRow {
    pub bucket_start: DateTime<Utc>,
    pub bucket_end: DateTime<Utc>,
    pub span_start: DateTime<Utc>,
    pub span_end: DateTime<Utc>,
    pub machine_id: Option<i64>,
    pub machines: i64,
    pub calendar_s: f64,
    #[sqlx(flatten)]
    pub sums: RowSums,
}

/// The sums a utilization row carries besides its calendar time, named as the SQL names them:
/// the bucket function and the per-machine view read return the same ones.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RowSums {
    pub downtime_s: f64,
    pub scheduled_s: f64,
    pub setup_s: f64,
    pub actual_s: f64,
    pub runs_finished: i64,
    pub planned_s: f64,
    pub actual_run_s: f64,
    pub operating_s: f64,
    pub good_qty: i64,
    pub scrap_qty: i64,
    pub ideal_s: f64,
    pub ideal_good_s: f64,
    pub delay_s: f64,
}

impl RowSums {
    pub fn seconds(&self, calendar: f64) -> Seconds {
        Seconds {
            calendar,
            downtime: self.downtime_s,
            scheduled: self.scheduled_s,
            setup: self.setup_s,
            actual: self.actual_s,
            planned: self.planned_s,
            actual_run: self.actual_run_s,
            operating: self.operating_s,
            ideal: self.ideal_s,
            ideal_good: self.ideal_good_s,
            good: self.good_qty,
            scrap: self.scrap_qty,
            delay: self.delay_s,
            runs: self.runs_finished,
        }
    }
}

/// Sums of seconds from which every figure follows (METRICS.md, "Machine utilization").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Seconds {
    pub calendar: f64,
    pub downtime: f64,
    pub scheduled: f64,
    pub setup: f64,
    pub actual: f64,
    pub planned: f64,
    pub actual_run: f64,
    pub operating: f64,
    pub ideal: f64,
    pub ideal_good: f64,
    pub good: i64,
    pub scrap: i64,
    pub delay: f64,
    pub runs: i64,
}

impl From<&BucketRow> for Seconds {
    fn from(r: &BucketRow) -> Self {
        r.sums.seconds(r.calendar_s)
    }
}

impl Seconds {
    pub fn add_row(&mut self, r: &BucketRow) {
        self.add(&Seconds::from(r));
    }

    pub fn add(&mut self, o: &Seconds) {
        self.calendar += o.calendar;
        self.downtime += o.downtime;
        self.scheduled += o.scheduled;
        self.setup += o.setup;
        self.actual += o.actual;
        self.planned += o.planned;
        self.actual_run += o.actual_run;
        self.operating += o.operating;
        self.ideal += o.ideal;
        self.ideal_good += o.ideal_good;
        self.good += o.good;
        self.scrap += o.scrap;
        self.delay += o.delay;
        self.runs += o.runs;
    }

    pub fn available(&self) -> f64 {
        (self.calendar - self.downtime).max(0.0)
    }

    pub fn figures(&self) -> UtilizationFigures {
        let available = self.available();
        UtilizationFigures {
            available_h: round6(hours(available)),
            downtime_h: round6(hours(self.downtime)),
            scheduled_h: round6(hours(self.scheduled)),
            setup_h: round6(hours(self.setup)),
            actual_h: round6(hours(self.actual)),
            scheduled_utilization: ratio(self.scheduled, available).map(round6),
            actual_utilization: ratio(self.actual, available).map(round6),
            efficiency: ratio(self.planned, self.actual_run).map(round6),
            setup_share: ratio(self.setup, self.scheduled).map(round6),
        }
    }
}

/// Calls the SQL function; `use_views = false` is the all-raw baseline.
#[allow(clippy::too_many_arguments)]
pub async fn buckets(
    ctx: &ReadContext,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: BucketSize,
    department: Option<i64>,
    machine: Option<i64>,
    per_machine: bool,
    use_views: bool,
) -> Result<Vec<BucketRow>, AppError> {
    sqlx::query_as::<_, BucketRow>(
        "SELECT * FROM get_machine_utilization_buckets($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(from)
    .bind(to)
    .bind(bucket.as_str())
    .bind(department)
    .bind(machine)
    .bind(per_machine)
    .bind(use_views)
    .fetch_all(&ctx.pool)
    .await
    .map_err(store_error)
}

#[derive(Debug, sqlx::FromRow)]
struct MachineRow {
    id: i64,
    code: String,
    name: String,
    department: String,
    machine_type: String,
}

pub async fn run(
    ctx: &ReadContext,
    q: &GetMachineUtilization,
    use_views: bool,
) -> Result<MachineUtilization, AppError> {
    let as_of = ctx.as_of().await?;
    let now = ctx.now();
    let department = ctx.department_id(&q.scope).await?;
    let machine = match &q.machine {
        None => None,
        Some(code) => Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM machines WHERE code = $1 AND ($2::BIGINT IS NULL OR department_id = $2)",
            )
            .bind(code)
            .bind(department)
            .fetch_optional(&ctx.pool)
            .await
            .map_err(store_error)?
            .ok_or_else(|| AppError::NotFound {
                what: format!("machine '{code}'"),
            })?,
        ),
    };
    let (from, to) = ctx.align(&q.range, q.bucket);
    // Per machine: hourly asks are summarised by day (the views hold days).
    let per_bucket = if q.bucket == BucketSize::Hour {
        BucketSize::Day
    } else {
        q.bucket
    };
    let (pfrom, pto) = ctx.align(&q.range, per_bucket);
    let machines_q = async {
        sqlx::query_as::<_, MachineRow>(
            "SELECT m.id, m.code, m.name, d.code AS department, m.machine_type
             FROM machines m JOIN departments d ON d.id = m.department_id
             WHERE m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
               AND ($2::BIGINT IS NULL OR m.id = $2)
             ORDER BY m.id",
        )
        .bind(department)
        .bind(machine)
        .fetch_all(&ctx.pool)
        .await
        .map_err(store_error)
    };
    let trend_from = trend_window_start(ctx, pfrom, pto, per_bucket);
    // Per machine: totals over the range and the trend's buckets. While the views cover the
    // range, one plain statement over the roll-ups and daily rows (`per_machine_from_views`);
    // else the bucket function, which adds the live part.
    let views_cover = live_from(use_views, as_of.views, pfrom, pto).is_none_or(|f| f >= pto);
    let per_machine = async {
        if views_cover {
            per_machine_from_views(ctx, pfrom, pto, trend_from, per_bucket, department, machine)
                .await
        } else {
            per_machine_from_function(
                ctx, pfrom, pto, trend_from, per_bucket, department, machine, use_views,
            )
            .await
        }
    };
    // Independent reads, side by side on the pool.
    let (rows, (totals, mut trend_points), machines, capacity) = tokio::try_join!(
        buckets(ctx, from, to, q.bucket, department, machine, false, use_views),
        per_machine,
        machines_q,
        capacity(ctx, department, now, use_views),
    )?;
    let mut total = Seconds::default();
    let bucket_list = rows
        .iter()
        .map(|r| {
            total.add_row(r);
            let mut s = Seconds::default();
            s.add_row(r);
            UtilizationBucket {
                start: r.bucket_start,
                end: r.bucket_end,
                machines: r.machines,
                figures: s.figures(),
            }
        })
        .collect();

    let mut summaries: Vec<(MachineSummary, Seconds)> = machines
        .iter()
        .map(|m| {
            let mine = trend_points.remove(&m.id).unwrap_or_default();
            // A machine without a row in the range was idle and up all along.
            let s = totals.get(&m.id).copied().unwrap_or(Seconds {
                calendar: (pto - pfrom).num_seconds() as f64,
                ..Seconds::default()
            });
            let (trend, slope) = trend_of(&mine, now);
            (
                MachineSummary {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    department: m.department.clone(),
                    machine_type: m.machine_type.clone(),
                    figures: s.figures(),
                    delay_h: round6(hours(s.delay)),
                    trend,
                    trend_slope: round6(slope),
                },
                s,
            )
        })
        .collect();
    summaries.sort_by(|a, b| {
        b.0.figures
            .actual_utilization
            .unwrap_or(0.0)
            .total_cmp(&a.0.figures.actual_utilization.unwrap_or(0.0))
            .then_with(|| a.0.code.cmp(&b.0.code))
    });
    let list: Vec<MachineSummary> = summaries.iter().map(|(m, _)| m.clone()).collect();
    let bottlenecks = bottlenecks(&summaries);
    Ok(MachineUtilization {
        as_of,
        buckets: bucket_list,
        total: total.figures(),
        machines_total: list.len() as i64,
        machines: paginate(&list, q.page),
        top_machines: list.iter().take(5).cloned().collect(),
        bottlenecks,
        capacity,
    })
}

/// One bucket of a machine's trend: its span within the range, available and actual seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    pub span_start: DateTime<Utc>,
    pub span_end: DateTime<Utc>,
    pub available_s: f64,
    pub actual_s: f64,
}

/// Slope of actual utilization over the last (up to) eight buckets that have ended, per day;
/// improving above +0.5 points a day, declining below −0.5, else stable.
pub fn trend_of(points: &[TrendPoint], now: DateTime<Utc>) -> (Trend, f64) {
    let mut past: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.span_end <= now && p.available_s > 0.0)
        .map(|p| {
            (
                p.span_start.timestamp() as f64 / 86_400.0,
                p.actual_s / p.available_s,
            )
        })
        .collect();
    if past.len() > 8 {
        past.drain(..past.len() - 8);
    }
    let slope = slope(&past);
    let trend = if slope > TREND_SLOPE_PER_DAY {
        Trend::Improving
    } else if slope < -TREND_SLOPE_PER_DAY {
        Trend::Declining
    } else {
        Trend::Stable
    };
    (trend, slope)
}

/// Per machine: range totals and trend points (a machine without any row has neither).
type PerMachine = (HashMap<i64, Seconds>, HashMap<i64, Vec<TrendPoint>>);

/// Per machine through the bucket function (views and live part): totals from coarse buckets
/// over the range, the trend from the window's buckets.
#[allow(clippy::too_many_arguments)]
async fn per_machine_from_function(
    ctx: &ReadContext,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    trend_from: DateTime<Utc>,
    bucket: BucketSize,
    department: Option<i64>,
    machine: Option<i64>,
    use_views: bool,
) -> Result<PerMachine, AppError> {
    // Up to a quarter by weeks: a month bucket there is mostly edge days, read day by day.
    let totals_bucket = if to - from <= Duration::days(TOTALS_BY_WEEK_UP_TO_DAYS) {
        BucketSize::Week
    } else {
        BucketSize::Month
    };
    let (coarse, window) = tokio::try_join!(
        buckets(
            ctx,
            from,
            to,
            totals_bucket,
            department,
            machine,
            true,
            use_views
        ),
        buckets(ctx, trend_from, to, bucket, department, machine, true, use_views),
    )?;
    let mut totals: HashMap<i64, Seconds> = HashMap::new();
    for r in &coarse {
        if let Some(id) = r.machine_id {
            totals.entry(id).or_default().add_row(r);
        }
    }
    let mut trend: HashMap<i64, Vec<TrendPoint>> = HashMap::new();
    for r in &window {
        if let Some(id) = r.machine_id {
            trend.entry(id).or_default().push(TrendPoint {
                span_start: r.span_start,
                span_end: r.span_end,
                available_s: r.calendar_s - r.sums.downtime_s,
                actual_s: r.sums.actual_s,
            });
        }
    }
    Ok((totals, trend))
}

/// Whole local days, weeks and months tiling a range of dates (`to` exclusive).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tiling {
    pub days: Vec<NaiveDate>,
    pub weeks: Vec<NaiveDate>,
    pub months: Vec<NaiveDate>,
}

impl Tiling {
    fn push(&mut self, grain: BucketSize, start: NaiveDate) {
        match grain {
            BucketSize::Month => self.months.push(start),
            BucketSize::Week => self.weeks.push(start),
            BucketSize::Hour | BucketSize::Day => self.days.push(start),
        }
    }

    /// The local midnights starting `dates` (the view rows' `day_start` / `bucket_start`).
    pub fn starts(&self, dates: &[NaiveDate], ctx: &ReadContext) -> Vec<DateTime<Utc>> {
        dates.iter().map(|d| ctx.midnight_of(*d)).collect()
    }
}

/// Tiles [from, to) with as few view rows per machine as it can: a whole month where one fits,
/// else a whole week where one fits before the next whole month, else a day. (A year from the
/// middle of a month: 11 months, a few weeks and at most a dozen days, not 365 days.)
pub fn tile(from: NaiveDate, to: NaiveDate) -> Tiling {
    let mut tiling = Tiling::default();
    let month_after = |d: NaiveDate| d.checked_add_months(Months::new(1));
    let fits = |end: Option<NaiveDate>| end.is_some_and(|e| e <= to);
    let mut at = from;
    while at < to {
        let next_month = if at.day() == 1 {
            Some(at)
        } else {
            at.with_day(1).and_then(month_after)
        };
        let (grain, end) = if at.day() == 1 && fits(month_after(at)) {
            (BucketSize::Month, month_after(at))
        } else {
            // A week may not cross the start of a month that will be taken whole.
            let limit = match next_month {
                Some(m) if fits(month_after(m)) => m,
                _ => to,
            };
            let week_end = at + Duration::days(7);
            if at.weekday() == Weekday::Mon && week_end <= limit {
                (BucketSize::Week, Some(week_end))
            } else {
                (BucketSize::Day, at.succ_opt())
            }
        };
        tiling.push(grain, at);
        match end {
            Some(e) => at = e,
            None => break,
        }
    }
    tiling
}

/// The local date starting the bucket (day, week from Monday, month) that holds `d`.
pub fn bucket_start_of(d: NaiveDate, bucket: BucketSize) -> NaiveDate {
    match bucket {
        BucketSize::Hour | BucketSize::Day => d,
        BucketSize::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        BucketSize::Month => d.with_day(1).unwrap_or(d),
    }
}

fn next_bucket_start(b: NaiveDate, bucket: BucketSize) -> Option<NaiveDate> {
    match bucket {
        BucketSize::Hour | BucketSize::Day => b.succ_opt(),
        BucketSize::Week => Some(b + Duration::days(7)),
        BucketSize::Month => b.checked_add_months(Months::new(1)),
    }
}

/// The buckets of a grid over [from, to) as (bucket start, span start, span end): the first and
/// last may be cut by the range.
pub fn bucket_spans(
    from: NaiveDate,
    to: NaiveDate,
    bucket: BucketSize,
) -> Vec<(NaiveDate, NaiveDate, NaiveDate)> {
    let mut spans = Vec::new();
    let mut b = bucket_start_of(from, bucket);
    while b < to {
        let Some(e) = next_bucket_start(b, bucket) else {
            break;
        };
        spans.push((b, b.max(from), e.min(to)));
        b = e;
    }
    spans
}

/// One row of `per_machine_from_views`: a machine's totals (no grain) or one trend piece.
#[derive(Debug, sqlx::FromRow)]
struct PieceRow {
    machine_id: i64,
    grain: Option<String>,
    piece_start: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    sums: RowSums,
}

/// The 14 sums of a view row, in `Seconds` order.
const PIECE_SUMS: &str = "downtime_s, scheduled_s, setup_s, actual_s, runs_finished, planned_s, \
     actual_run_s, operating_s, good_qty, scrap_qty, ideal_s, ideal_good_s, delay_s";

/// Per machine straight from the views, for a range they cover: the totals from the range's
/// tiling (month and week roll-ups, daily rows at the edges) and the trend window's buckets
/// (whole weeks and months from the roll-up, cut ones and days from the daily rows), in one
/// plain statement. Why: the bucket function re-plans its many-branched query on every call
/// (about 3 ms each on the large factory), and it was called twice here.
async fn per_machine_from_views(
    ctx: &ReadContext,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    trend_from: DateTime<Utc>,
    bucket: BucketSize,
    department: Option<i64>,
    machine: Option<i64>,
) -> Result<PerMachine, AppError> {
    let totals_tiling = ctx.tile(from, to);
    // The trend's buckets, each a whole roll-up row or its days; pieces know their bucket.
    let spans = bucket_spans(ctx.local_date(trend_from), ctx.local_date(to), bucket);
    let mut trend_tiling = Tiling::default();
    let mut bucket_of: HashMap<(BucketSize, NaiveDate), usize> = HashMap::new();
    for (i, &(b, s, e)) in spans.iter().enumerate() {
        let whole = s == b && next_bucket_start(b, bucket) == Some(e);
        if whole && matches!(bucket, BucketSize::Week | BucketSize::Month) {
            trend_tiling.push(bucket, b);
            bucket_of.insert((bucket, b), i);
            continue;
        }
        let mut d = s;
        while d < e {
            trend_tiling.days.push(d);
            bucket_of.insert((BucketSize::Day, d), i);
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
    }
    let sums = PIECE_SUMS;
    let sql = format!(
        r#"
        WITH sm AS (
            SELECT id FROM machines
            WHERE status <> 'retired' AND ($1::BIGINT IS NULL OR department_id = $1)
              AND ($2::BIGINT IS NULL OR id = $2)
        ),
        totals AS (
            SELECT r.machine_id, {sums}
            FROM mv_machine_utilization_rollup r
            WHERE ((r.grain = 'week' AND r.bucket_start = ANY ($3))
                   OR (r.grain = 'month' AND r.bucket_start = ANY ($4)))
              AND ($1::BIGINT IS NULL OR r.department_id = $1) AND r.machine_id IN (SELECT id FROM sm)
            UNION ALL
            SELECT v.machine_id, {sums}
            FROM mv_daily_machine_utilization v
            WHERE v.day_start = ANY ($5)
              AND ($1::BIGINT IS NULL OR v.department_id = $1) AND v.machine_id IN (SELECT id FROM sm)
        )
        SELECT machine_id, NULL::text AS grain, NULL::timestamptz AS piece_start,
               sum(downtime_s) AS downtime_s, sum(scheduled_s) AS scheduled_s, sum(setup_s) AS setup_s,
               sum(actual_s) AS actual_s, sum(runs_finished::float8)::bigint AS runs_finished,
               sum(planned_s) AS planned_s, sum(actual_run_s) AS actual_run_s,
               sum(operating_s) AS operating_s, sum(good_qty::float8)::bigint AS good_qty,
               sum(scrap_qty::float8)::bigint AS scrap_qty, sum(ideal_s) AS ideal_s,
               sum(ideal_good_s) AS ideal_good_s, sum(delay_s) AS delay_s
        FROM totals GROUP BY machine_id
        UNION ALL
        SELECT r.machine_id, r.grain, r.bucket_start, r.downtime_s, 0::float8, 0::float8, r.actual_s,
               0::bigint, 0::float8, 0::float8, 0::float8, 0::bigint, 0::bigint, 0::float8, 0::float8, 0::float8
        FROM mv_machine_utilization_rollup r
        WHERE ((r.grain = 'week' AND r.bucket_start = ANY ($6))
               OR (r.grain = 'month' AND r.bucket_start = ANY ($7)))
          AND ($1::BIGINT IS NULL OR r.department_id = $1) AND r.machine_id IN (SELECT id FROM sm)
        UNION ALL
        SELECT v.machine_id, 'day', v.day_start, v.downtime_s, 0, 0, v.actual_s, 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM mv_daily_machine_utilization v
        WHERE v.day_start = ANY ($8)
          AND ($1::BIGINT IS NULL OR v.department_id = $1) AND v.machine_id IN (SELECT id FROM sm)
        "#
    );
    let rows: Vec<PieceRow> = sqlx::query_as(&sql)
        .bind(department)
        .bind(machine)
        .bind(totals_tiling.starts(&totals_tiling.weeks, ctx))
        .bind(totals_tiling.starts(&totals_tiling.months, ctx))
        .bind(totals_tiling.starts(&totals_tiling.days, ctx))
        .bind(trend_tiling.starts(&trend_tiling.weeks, ctx))
        .bind(trend_tiling.starts(&trend_tiling.months, ctx))
        .bind(trend_tiling.starts(&trend_tiling.days, ctx))
        .fetch_all(&ctx.pool)
        .await
        .map_err(store_error)?;

    let calendar = (to - from).num_seconds() as f64;
    let mut totals: HashMap<i64, Seconds> = HashMap::new();
    // Per machine, (actual, downtime) seconds per trend bucket.
    let mut pieces: HashMap<i64, Vec<(f64, f64)>> = HashMap::new();
    for r in &rows {
        let Some(grain) = r.grain.as_deref() else {
            totals.insert(r.machine_id, r.sums.seconds(calendar));
            continue;
        };
        let grain = match grain {
            "week" => BucketSize::Week,
            "month" => BucketSize::Month,
            _ => BucketSize::Day,
        };
        let Some(start) = r.piece_start.map(|t| ctx.local_date(t)) else {
            continue;
        };
        if let Some(&i) = bucket_of.get(&(grain, start)) {
            let slots = pieces
                .entry(r.machine_id)
                .or_insert_with(|| vec![(0.0, 0.0); spans.len()]);
            slots[i].0 += r.sums.actual_s;
            slots[i].1 += r.sums.downtime_s;
        }
    }
    let span_times: Vec<(DateTime<Utc>, DateTime<Utc>)> = spans
        .iter()
        .map(|&(_, s, e)| (ctx.midnight_of(s), ctx.midnight_of(e)))
        .collect();
    let trend = pieces
        .into_iter()
        .map(|(id, slots)| {
            let points = slots
                .iter()
                .zip(&span_times)
                .map(|(&(actual, downtime), &(s, e))| TrendPoint {
                    span_start: s,
                    span_end: e,
                    available_s: (e - s).num_seconds() as f64 - downtime,
                    actual_s: actual,
                })
                .collect();
            (id, points)
        })
        .collect();
    Ok((totals, trend))
}

/// Ranges up to this many days sum per-machine totals from week buckets, longer ones from months.
pub const TOTALS_BY_WEEK_UP_TO_DAYS: i64 = 92;

/// How many buckets back the per-machine trend looks for its (up to) eight ended buckets.
pub const TREND_WINDOW: u32 = 16;

/// The start of the bucket TREND_WINDOW buckets before `to` (on the same local grid as a call
/// over the whole range, so the buckets are identical), not before `from`.
pub fn trend_window_start(
    ctx: &ReadContext,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: BucketSize,
) -> DateTime<Utc> {
    let end = ctx.local_date(to);
    let n = i64::from(TREND_WINDOW);
    let start = match bucket {
        BucketSize::Hour | BucketSize::Day => end - Duration::days(n),
        BucketSize::Week => {
            let d = end - Duration::weeks(n);
            d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
        }
        BucketSize::Month => end
            .checked_sub_months(Months::new(TREND_WINDOW))
            .and_then(|d| d.with_day(1))
            .unwrap_or(end),
    };
    ctx.midnight_of(start).max(from)
}

/// ±0.5 percentage points per day.
pub const TREND_SLOPE_PER_DAY: f64 = 0.005;

/// Least-squares slope of y over x; 0 with fewer than two points.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

/// Bottleneck score 0–100: 70 % from scheduled utilization (full at 120 %), 30 % from delay
/// share (delay hours over available hours, full at 10 %). Listed when utilization ≥ 75 % or
/// delay share ≥ 2 %; severity critical ≥ 80, high ≥ 65, medium ≥ 50, else low.
pub fn bottleneck_score(scheduled_utilization: f64, delay_share: f64) -> f64 {
    100.0
        * (0.7 * (scheduled_utilization / 1.2).clamp(0.0, 1.0)
            + 0.3 * (delay_share / 0.1).clamp(0.0, 1.0))
}

pub fn score_severity(score: f64) -> Severity {
    if score >= 80.0 {
        Severity::Critical
    } else if score >= 65.0 {
        Severity::High
    } else if score >= 50.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

fn bottlenecks(summaries: &[(MachineSummary, Seconds)]) -> Vec<Bottleneck> {
    let mut list: Vec<Bottleneck> = summaries
        .iter()
        .filter_map(|(m, s)| {
            let available = s.available();
            let u = ratio(s.scheduled, available)?;
            let delay_share = ratio(s.delay, available).unwrap_or(0.0);
            (u >= 0.75 || delay_share >= 0.02).then(|| {
                let score = bottleneck_score(u, delay_share);
                Bottleneck {
                    machine: m.code.clone(),
                    department: m.department.clone(),
                    severity: score_severity(score),
                    scheduled_utilization: round6(u),
                    delay_h: round6(hours(s.delay)),
                    score: round6(score),
                }
            })
        })
        .collect();
    list.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.machine.cmp(&b.machine))
    });
    list.truncate(10);
    list
}

#[derive(Debug, sqlx::FromRow)]
struct CapacityRow {
    department: String,
    machine_type: String,
    machines: i64,
    available_s: f64,
    planned_s: f64,
    unplanned_s: f64,
}

/// Demand over the rest of today and the next 28 days per department and machine type: the live
/// plan plus open tasks not in it (at their fastest option), over calendar time minus downtime.
/// Whole days come from the daily view while the watermark allows, the rest (today's remainder,
/// days an unrefreshed event touched) live; unplanned demand from its view when nothing changed.
async fn capacity(
    ctx: &ReadContext,
    department: Option<i64>,
    now: DateTime<Utc>,
    use_views: bool,
) -> Result<Vec<CapacityInsight>, AppError> {
    let tomorrow = ctx.local_midnight(now + Duration::days(1));
    let horizon = ctx.midnight_of(ctx.local_date(tomorrow) + Duration::days(CAPACITY_DAYS));
    let rows: Vec<CapacityRow> = sqlx::query_as(
        r#"
        WITH cfg AS (
            SELECT CASE WHEN $5 THEN least(greatest(mv_covers_before, $4), $3) ELSE $4 END AS views_to,
                   $5 AND mv_covers_before = 'infinity'::timestamptz AS fresh
            FROM read_model_state
        ),
        sm AS (
            SELECT m.id, m.department_id, m.machine_type FROM machines m
            WHERE m.status <> 'retired' AND ($1::BIGINT IS NULL OR m.department_id = $1)
        ),
        live AS (SELECT id FROM schedules WHERE is_live),
        windows AS (
            SELECT w.s, w.e FROM cfg,
                 LATERAL (VALUES ($2::timestamptz, $4::timestamptz), (cfg.views_to, $3::timestamptz)) w (s, e)
            WHERE w.s < w.e
        ),
        planned AS (
            SELECT department_id, machine_type, sum(s)::float8 AS s FROM (
                SELECT sm.department_id, sm.machine_type, v.scheduled_s AS s
                FROM mv_daily_machine_utilization v JOIN sm ON sm.id = v.machine_id, cfg
                WHERE v.day_start >= $4 AND v.day_start < cfg.views_to
                UNION ALL
                SELECT sm.department_id, sm.machine_type,
                       extract(epoch FROM least(a.scheduled_end, w.e) - greatest(a.scheduled_start, w.s))
                FROM windows w
                JOIN assignments a ON a.schedule_id = (SELECT id FROM live)
                     AND tstzrange(a.scheduled_start, a.scheduled_end) && tstzrange(w.s, w.e)
                     AND a.scheduled_end > w.s AND a.scheduled_start < w.e
                JOIN sm ON sm.id = a.machine_id
            ) x GROUP BY 1, 2
        ),
        down AS (
            SELECT sm.department_id, sm.machine_type,
                   sum(extract(epoch FROM upper(r) - lower(r)))::float8 AS s
            FROM (SELECT d.machine_id,
                         unnest(range_agg(tstzrange(greatest(d.starts_at, $2), least(d.ends_at, $3)))) AS r
                  FROM machine_downtimes d WHERE d.ends_at > $2 AND d.starts_at < $3
                  GROUP BY d.machine_id) u
            JOIN sm ON sm.id = u.machine_id
            GROUP BY 1, 2
        ),
        unplanned AS (
            SELECT u.department_id, u.machine_type, u.demand_s AS s
            FROM mv_unplanned_demand u, cfg
            WHERE cfg.fresh AND ($1::BIGINT IS NULL OR u.department_id = $1)
            UNION ALL
            SELECT department_id, machine_type, sum(s)::float8 FROM (
                SELECT DISTINCT ON (t.id) m.department_id, m.machine_type, o.duration_s AS s
                FROM tasks t
                JOIN task_machine_options o ON o.task_id = t.id
                JOIN machines m ON m.id = o.machine_id AND m.status <> 'retired'
                WHERE NOT (SELECT fresh FROM cfg) AND t.status IN ('pending', 'ready')
                  AND NOT EXISTS (SELECT 1 FROM assignments a
                                  WHERE a.task_id = t.id AND a.schedule_id = (SELECT id FROM live))
                ORDER BY t.id, o.duration_s, m.id
            ) x WHERE ($1::BIGINT IS NULL OR x.department_id = $1) GROUP BY 1, 2
        ),
        kinds AS (
            SELECT department_id, machine_type, count(*) AS machines FROM sm GROUP BY 1, 2
        )
        SELECT d.code AS department, k.machine_type, k.machines,
               (k.machines * extract(epoch FROM $3 - $2) - coalesce(dn.s, 0))::float8 AS available_s,
               coalesce(p.s, 0)::float8 AS planned_s, coalesce(u.s, 0)::float8 AS unplanned_s
        FROM kinds k
        JOIN departments d ON d.id = k.department_id
        LEFT JOIN planned p ON p.department_id = k.department_id AND p.machine_type = k.machine_type
        LEFT JOIN down dn ON dn.department_id = k.department_id AND dn.machine_type = k.machine_type
        LEFT JOIN unplanned u ON u.department_id = k.department_id AND u.machine_type = k.machine_type
        ORDER BY d.code, k.machine_type
        "#,
    )
    .bind(department)
    .bind(now)
    .bind(horizon)
    .bind(tomorrow)
    .bind(use_views)
    .fetch_all(&ctx.pool)
    .await
    .map_err(store_error)?;
    let mut insights: Vec<CapacityInsight> = rows
        .into_iter()
        .filter_map(|r| {
            let demand = r.planned_s + r.unplanned_s;
            let ratio = ratio(demand, r.available_s)?;
            capacity_insight(&r.department, &r.machine_type, r.machines, ratio)
        })
        .collect();
    insights.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| b.demand_ratio.total_cmp(&a.demand_ratio))
    });
    Ok(insights)
}

/// The insight for one machine group (METRICS.md, "Capacity planning"): listed from 80 %.
pub fn capacity_insight(
    department: &str,
    machine_type: &str,
    machines: i64,
    demand_ratio: f64,
) -> Option<CapacityInsight> {
    let pct = (demand_ratio * 100.0).round();
    let (severity, recommendation) = if demand_ratio > 1.0 {
        let needed = (demand_ratio * machines as f64).ceil() as i64 - machines;
        let needed = needed.max(1);
        (
            Severity::Critical,
            format!(
                "add {needed} {machine_type} machine{} in {department}: {pct}% demand over the next 4 weeks",
                if needed == 1 { "" } else { "s" }
            ),
        )
    } else if demand_ratio >= 0.9 {
        (
            Severity::High,
            format!("plan overtime or move work off {machine_type} in {department}: {pct}% demand over the next 4 weeks"),
        )
    } else if demand_ratio >= 0.8 {
        (
            Severity::Medium,
            format!("watch {machine_type} in {department}: {pct}% demand over the next 4 weeks"),
        )
    } else {
        return None;
    };
    Some(CapacityInsight {
        department: department.to_string(),
        machine_type: machine_type.to_string(),
        machines,
        demand_ratio: round6(demand_ratio),
        severity,
        recommendation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_recommends_a_machine_count() {
        let i = capacity_insight("machining", "5-axis", 4, 1.18).expect("over");
        assert_eq!(i.severity, Severity::Critical);
        assert_eq!(
            i.recommendation,
            "add 1 5-axis machine in machining: 118% demand over the next 4 weeks"
        );
        assert!(capacity_insight("machining", "lathe", 4, 0.5).is_none());
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// Every date of the range exactly once, pieces whole and aligned.
    fn covered(t: &Tiling, from: NaiveDate, to: NaiveDate) -> bool {
        let mut days: Vec<NaiveDate> = t.days.clone();
        for w in &t.weeks {
            assert_eq!(w.weekday(), Weekday::Mon);
            days.extend((0..7).map(|i| *w + Duration::days(i)));
        }
        for m in &t.months {
            assert_eq!(m.day(), 1);
            let end = m.checked_add_months(Months::new(1)).expect("month");
            days.extend(m.iter_days().take_while(|d| *d < end));
        }
        days.sort();
        let expected: Vec<NaiveDate> = from.iter_days().take_while(|d| *d < to).collect();
        days == expected
    }

    #[test]
    fn a_year_from_mid_month_is_months_weeks_and_few_days() {
        let (from, to) = (date("2025-11-29"), date("2026-11-29"));
        let t = tile(from, to);
        assert!(covered(&t, from, to));
        assert_eq!(t.months.len(), 11, "{t:?}");
        assert_eq!(t.months[0], date("2025-12-01"));
        assert!(t.days.len() <= 12 && t.weeks.len() <= 8, "{t:?}");
    }

    #[test]
    fn thirty_days_are_weeks_and_edge_days() {
        let (from, to) = (date("2026-10-30"), date("2026-11-29"));
        let t = tile(from, to);
        assert!(covered(&t, from, to));
        assert!(t.months.is_empty());
        // Fri 30 Oct .. Sun 1 Nov as days, weeks from Mon 2 Nov to Mon 23 Nov, then 6 days.
        assert_eq!(t.weeks.len(), 3, "{t:?}");
        assert_eq!(t.days.len(), 9, "{t:?}");
        let short = tile(date("2026-11-04"), date("2026-11-05"));
        assert_eq!(short.days, vec![date("2026-11-04")]);
        assert_eq!(
            tile(date("2026-11-04"), date("2026-11-04")),
            Tiling::default()
        );
    }

    #[test]
    fn weeks_stop_before_a_whole_month() {
        // Mon 27 Oct 2025: the week would cross 1 Nov, and November is taken whole.
        let (from, to) = (date("2025-10-27"), date("2025-12-03"));
        let t = tile(from, to);
        assert!(covered(&t, from, to));
        assert_eq!(t.months, vec![date("2025-11-01")]);
        assert!(t.weeks.is_empty(), "{t:?}");
        assert_eq!(t.days.len(), 5 + 2);
    }

    #[test]
    fn spans_cut_the_first_and_last_bucket() {
        let spans = bucket_spans(date("2026-11-04"), date("2026-11-20"), BucketSize::Week);
        assert_eq!(
            spans.first(),
            Some(&(date("2026-11-02"), date("2026-11-04"), date("2026-11-09")))
        );
        assert_eq!(
            spans.last(),
            Some(&(date("2026-11-16"), date("2026-11-16"), date("2026-11-20")))
        );
        assert_eq!(spans.len(), 3);
        let months = bucket_spans(date("2026-01-31"), date("2026-03-01"), BucketSize::Month);
        assert_eq!(months.len(), 2);
        assert_eq!(
            months[1],
            (date("2026-02-01"), date("2026-02-01"), date("2026-03-01"))
        );
    }

    #[test]
    fn slope_of_a_line() {
        assert!((slope(&[(0.0, 0.1), (1.0, 0.2), (2.0, 0.3)]) - 0.1).abs() < 1e-12);
        assert_eq!(slope(&[(0.0, 1.0)]), 0.0);
    }

    #[test]
    fn bottleneck_score_weights() {
        assert!((bottleneck_score(1.2, 0.1) - 100.0).abs() < 1e-9);
        assert!((bottleneck_score(0.6, 0.0) - 35.0).abs() < 1e-9);
        assert_eq!(score_severity(80.0), Severity::Critical);
    }
}
