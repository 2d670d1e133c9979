//! `GetOperatorWorkload`: assigned hours against rostered capacity per operator, shift pattern
//! and department; the 30-day availability forecast; skill demand vs supply; overloads and
//! cross-training. Assigned time of closed days comes from `mv_daily_operator_workload`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use app::error::AppError;
use app::read_models::{
    AsOf, AvailabilityDay, BucketSize, CrossTraining, GetOperatorWorkload, GroupLoad, OperatorLoad,
    OperatorWorkload, Severity, SkillBalance,
};

use super::roster::{
    shift_slots, AbsentRange, Roster, RosteredOperator, RosteredTime, ShiftDefinition, Window,
};
use super::{coverage, hours, live_from, ratio, round6, views_cover, ReadContext, COVERAGE_SQL};
use crate::floor::store_error;

/// Overtime an eligible operator may add per rostered shift, hours (METRICS.md).
pub const OVERTIME_H_PER_SHIFT: f64 = 2.0;
/// Days the availability forecast and the skill supply look ahead.
pub const FORECAST_DAYS: i64 = 30;

/// The absences in scope that overlap [$2, $3), as recorded ($1 department), as three
/// parallel arrays in one row rather than a row each (~1,250 for the large factory's 60 days),
/// which the client receives and decodes with less work. Not joined to the operators for
/// `active`: `Roster::new` keeps only the absences of the operators it is given (the active
/// ones in scope), and the join was half of this statement's time (0.26 → 0.14 ms, generic
/// plan, large factory). It also merges an operator's overlapping ones.
const ABSENCES_SQL: &str = r#"
    SELECT coalesce(array_agg(ab.operator_id), '{}'), coalesce(array_agg(ab.starts_at), '{}'),
           coalesce(array_agg(ab.ends_at), '{}')
    FROM operator_absences ab
    WHERE ab.ends_at > $2 AND ab.starts_at < $3
      AND ($1::BIGINT IS NULL
           OR ab.operator_id IN (SELECT o.id FROM operators o WHERE o.department_id = $1))
"#;

#[derive(Debug)]
struct OperatorRow {
    id: i64,
    code: String,
    name: String,
    department: String,
    shift_pattern: String,
    overtime_eligible: bool,
    assigned_s: f64,
    /// The last event and the views' coverage, read in the rows' own snapshot: only the
    /// views-only statement selects them (`assigned_rows`).
    stamp: Option<(i64, Option<DateTime<Utc>>, bool)>,
}

/// By position, in the order `operator_rows` selects them: 600 rows of seven columns looked up
/// by name were 14 % of operator load's client time.
impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for OperatorRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(Self {
            id: row.try_get(0)?,
            code: row.try_get(1)?,
            name: row.try_get(2)?,
            department: row.try_get(3)?,
            shift_pattern: row.try_get(4)?,
            overtime_eligible: row.try_get(5)?,
            assigned_s: row.try_get(6)?,
            stamp: if row.len() > 7 {
                Some((row.try_get(7)?, row.try_get(8)?, row.try_get(9)?))
            } else {
                None
            },
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct SkillRow {
    skill: String,
    department: Option<String>,
    /// `None`: no open task needs the skill.
    demand_s: Option<f64>,
    /// Every operator who holds the skill, in scope or not (`skills` keeps those in scope).
    qualified: Vec<i64>,
}

pub async fn run(
    ctx: &ReadContext,
    q: &GetOperatorWorkload,
    use_views: bool,
) -> Result<OperatorWorkload, AppError> {
    let now = ctx.now();
    let department = ctx.department_id(&q.scope).await?;
    let (from, to) = ctx.align(&q.range, BucketSize::Day);
    // Forecast and skill supply: the next 30 local days from today.
    let f_from = ctx.local_midnight(now);
    let f_to = ctx.midnight_of(ctx.local_date(now) + Duration::days(FORECAST_DAYS));
    // The roster's inputs cover both windows.
    let (r_from, r_to) = (from.min(f_from), to.max(f_to));
    // Only the assigned hours depend on the views' coverage. The shift definitions and the
    // absences plan alike whatever the parameters (custom plans cost 0.2 ms of planning each,
    // about half of running them; generic ones 0.02–0.05 ms on the large factory), so the
    // generic-plan sessions read them.
    let assigned = assigned_rows(ctx, department, (from, to), use_views);
    let ((as_of, rows), definitions, absences, skill_rows) = tokio::try_join!(
        assigned,
        shift_definitions(&ctx.generic),
        absences(&ctx.generic, department, r_from, r_to),
        skill_rows(ctx, department, use_views),
    )?;
    let roster = Roster::new(
        shift_slots(&definitions, ctx.tz, r_from, r_to),
        rows.iter()
            .map(|r| RosteredOperator::new(r.id, &r.shift_pattern, r.overtime_eligible))
            .collect(),
        absences,
    );
    let capacity = roster.per_operator(from, to);
    let ahead = roster.window(f_from, f_to);
    let forecast = forecast(&ahead);
    let skills = skills(skill_rows, &ahead.per_operator());

    let mut entries: Vec<Entry> = rows
        .into_iter()
        .map(|r| {
            let time = capacity.get(&r.id).copied().unwrap_or_default();
            let capacity_s = time.available_s();
            let load = ratio(r.assigned_s, capacity_s);
            Entry {
                id: r.id,
                assigned_s: r.assigned_s,
                capacity_s,
                load: OperatorLoad {
                    code: r.code,
                    name: r.name,
                    department: r.department,
                    shift_pattern: r.shift_pattern,
                    assigned_h: round6(hours(r.assigned_s)),
                    capacity_h: round6(hours(capacity_s)),
                    absence_h: round6(hours(time.absent_s)),
                    load: load.map(round6),
                    // Assigned work with no capacity at all is the worst overload.
                    overload: match load {
                        Some(l) => q.thresholds.severity(l),
                        None if r.assigned_s > 0.0 => Some(Severity::Critical),
                        None => None,
                    },
                },
            }
        })
        .collect();
    // Groups sum in the operators' id order (the rows' order), before the sort by load.
    let by_shift_pattern = group(&entries, |l| &l.shift_pattern);
    let by_department = group(&entries, |l| &l.department);
    entries.sort_by(|a, b| {
        load_key(&b.load)
            .total_cmp(&load_key(&a.load))
            .then_with(|| a.load.code.cmp(&b.load.code))
    });
    let mut overloaded: Vec<OperatorLoad> = entries
        .iter()
        .filter(|e| e.load.overload.is_some())
        .map(|e| e.load.clone())
        .collect();
    overloaded.sort_by(|a, b| {
        a.overload
            .cmp(&b.overload)
            .then_with(|| load_key(b).total_cmp(&load_key(a)))
    });

    let cross_training = cross_training(&skills, &entries);
    let skills = skills.into_iter().map(|f| f.balance).collect();

    Ok(OperatorWorkload {
        as_of,
        operators_total: entries.len() as i64,
        operators: entries
            .iter()
            .skip(q.page.offset() as usize)
            .take(q.page.limit() as usize)
            .map(|e| e.load.clone())
            .collect(),
        by_shift_pattern,
        by_department,
        forecast,
        skills,
        overloaded,
        cross_training,
    })
}

/// One operator's line with the exact seconds behind its rounded hours.
struct Entry {
    id: i64,
    assigned_s: f64,
    capacity_s: f64,
    load: OperatorLoad,
}

/// The operators in scope with their assigned time over [from, to), and the `as_of` they are
/// read under. With the views, one statement reads the rows from the views alone together
/// with the last event and the views' coverage, in one snapshot (a refresh raises the
/// watermark in the transaction that refreshes the views, so the two agree): the usual
/// answer costs one round trip, not an `as_of` and then the rows. Only when that coverage
/// stops short of `to` are the rows read again with their live part, under that earlier
/// stamp, which is the order `as_of` and then the rows would have had.
async fn assigned_rows(
    ctx: &ReadContext,
    department: Option<i64>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    use_views: bool,
) -> Result<(AsOf, Vec<OperatorRow>), AppError> {
    let as_of = if use_views {
        let rows = operator_rows(ctx, department, (from, to), None).await?;
        let Some((event_id, before, everything)) = rows.first().and_then(|r| r.stamp) else {
            // No operator in scope, whatever the views cover.
            return Ok((ctx.as_of().await?, rows));
        };
        let as_of = AsOf {
            event_id,
            computed_at: ctx.now(),
            views: coverage(before, everything),
            from_cache: false,
        };
        if views_cover(true, as_of.views, to) {
            return Ok((as_of, rows));
        }
        as_of
    } else {
        ctx.as_of().await?
    };
    let live = live_from(use_views, as_of.views, from, to);
    Ok((
        as_of,
        operator_rows(ctx, department, (from, to), live).await?,
    ))
}

/// The operators in scope with their assigned time over [from, to): from the views up to
/// `live_from` (`None`: all of it, and the rows carry the stamp `assigned_rows` reads), whole
/// weeks and months from the roll-up and edge days from the daily rows, live after. Their
/// capacity comes from the roster.
async fn operator_rows(
    ctx: &ReadContext,
    department: Option<i64>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    live_from: Option<DateTime<Utc>>,
) -> Result<Vec<OperatorRow>, AppError> {
    let live_from = live_from.unwrap_or(to);
    let tiling = ctx.tile(from, live_from);
    // With the views covering the range there is no live part to plan, and one plan fits
    // every ask: the generic-plan sessions read it.
    let views_only = live_from >= to;
    let (stamp, stamp_columns, stamp_join) = if views_only {
        (
            format!(
                "stamp (event_id, before, everything) AS (
                    SELECT coalesce((SELECT max(id) FROM domain_events), 0)::BIGINT, {COVERAGE_SQL}
                    FROM read_model_state
                ),"
            ),
            ", st.event_id, st.before, st.everything",
            "CROSS JOIN stamp st",
        )
    } else {
        (String::new(), "", "")
    };
    let live_part = if views_only {
        ""
    } else {
        r#"UNION ALL
                SELECT a.operator_id,
                       extract(epoch FROM least(a.scheduled_end, $3) - greatest(a.scheduled_start, $2))
                FROM assignments a
                -- The span's GiST index reads the live window's own runs, not every
                -- operator's planned weeks ahead (71,000 index entries, 10 ms).
                WHERE a.schedule_id = (SELECT id FROM schedules WHERE is_live)
                  AND tstzrange(a.scheduled_start, a.scheduled_end) && tstzrange($2, $3)
                  AND a.scheduled_end > $2 AND a.scheduled_start < $3
                  AND a.operator_id IS NOT NULL"#
    };
    let sql = format!(
        r#"
        WITH {stamp} assigned AS (
            SELECT operator_id, sum(s)::float8 AS assigned_s FROM (
                SELECT r.operator_id, r.assigned_s AS s
                FROM mv_operator_workload_rollup r
                WHERE r.grain = 'week' AND r.bucket_day = ANY ($4) AND ($1::BIGINT IS NULL OR r.department_id = $1)
                UNION ALL
                -- Apart, each grain is one range of the covering index (an OR of the two was
                -- a bitmap scan of the heap).
                SELECT r.operator_id, r.assigned_s
                FROM mv_operator_workload_rollup r
                WHERE r.grain = 'month' AND r.bucket_day = ANY ($5) AND ($1::BIGINT IS NULL OR r.department_id = $1)
                UNION ALL
                SELECT v.operator_id, v.assigned_s
                FROM mv_daily_operator_workload v
                WHERE v.day_start = ANY ($6) AND ($1::BIGINT IS NULL OR v.department_id = $1)
                {live_part}
            ) x GROUP BY operator_id
        )
        SELECT o.id, o.code, o.name, d.code AS department, o.shift_pattern, o.overtime_eligible,
               coalesce(a.assigned_s, 0)::float8 AS assigned_s {stamp_columns}
        FROM operators o
        JOIN departments d ON d.id = o.department_id
        LEFT JOIN assigned a ON a.operator_id = o.id
        {stamp_join}
        -- On the operators themselves, not joined to a CTE of them: a hash join of 600 rows
        -- less (0.65 → 0.51 ms, generic plan, large factory).
        WHERE o.active AND ($1::BIGINT IS NULL OR o.department_id = $1)
        ORDER BY o.id"#
    );
    sqlx::query_as(&sql)
        .bind(department)
        .bind(live_from)
        .bind(to)
        .bind(&tiling.weeks)
        .bind(&tiling.months)
        .bind(tiling.starts(&tiling.days, ctx))
        .fetch_all(if views_only { &ctx.generic } else { &ctx.pool })
        .await
        .map_err(store_error)
}

async fn shift_definitions(generic: &sqlx::PgPool) -> Result<Vec<ShiftDefinition>, AppError> {
    sqlx::query_as("SELECT code, starts_local, ends_local, weekdays FROM shift_definitions")
        .fetch_all(generic)
        .await
        .map_err(store_error)
}

async fn absences(
    generic: &sqlx::PgPool,
    department: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AbsentRange>, AppError> {
    let (operators, starts, ends): (Vec<i64>, Vec<DateTime<Utc>>, Vec<DateTime<Utc>>) =
        sqlx::query_as(ABSENCES_SQL)
            .bind(department)
            .bind(from)
            .bind(to)
            .fetch_one(generic)
            .await
            .map_err(store_error)?;
    Ok(operators
        .into_iter()
        .zip(starts)
        .zip(ends)
        .map(|((operator_id, starts_at), ends_at)| AbsentRange {
            operator_id,
            starts_at,
            ends_at,
        })
        .collect())
}

fn load_key(l: &OperatorLoad) -> f64 {
    l.load.unwrap_or(if l.assigned_h > 0.0 {
        f64::INFINITY
    } else {
        0.0
    })
}

fn group<'a>(entries: &'a [Entry], key: impl Fn(&'a OperatorLoad) -> &'a str) -> Vec<GroupLoad> {
    let mut groups: HashMap<&str, (i64, f64, f64, i64)> = HashMap::new();
    for e in entries {
        let g = groups.entry(key(&e.load)).or_default();
        g.0 += 1;
        g.1 += e.assigned_s;
        g.2 += e.capacity_s;
        g.3 += i64::from(e.load.overload.is_some());
    }
    let mut out: Vec<GroupLoad> = groups
        .into_iter()
        .map(|(key, (n, a, c, o))| GroupLoad {
            key: key.to_owned(),
            operators: n,
            assigned_h: round6(hours(a)),
            capacity_h: round6(hours(c)),
            load: ratio(a, c).map(round6),
            overloaded: o,
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn forecast(ahead: &Window<'_>) -> Vec<AvailabilityDay> {
    ahead
        .per_day()
        .into_iter()
        .map(|d| AvailabilityDay {
            day: d.day,
            available_h: round6(hours(d.available_s)),
            absent_h: round6(hours(d.absent_s)),
            overtime_h: round6(d.overtime_shifts as f64 * OVERTIME_H_PER_SHIFT),
            operators_available: d.operators_available,
        })
        .collect()
}

/// Shortage severity from demand over supply (METRICS.md): critical when demand exceeds
/// supply, high from 85 %, medium from 70 %.
pub fn shortage_severity(demand_s: f64, supply_s: f64) -> Option<Severity> {
    if demand_s <= 0.0 {
        return None;
    }
    match ratio(demand_s, supply_s) {
        None => Some(Severity::Critical),
        Some(r) if r > 1.0 => Some(Severity::Critical),
        Some(r) if r >= 0.85 => Some(Severity::High),
        Some(r) if r >= 0.7 => Some(Severity::Medium),
        Some(_) => None,
    }
}

/// Demand (the fastest machine option of every open task) and the qualified operators in
/// scope per skill, for the skills with either. Demand comes from the `open_skill_demand`
/// projection, or (raw) from the open tasks themselves.
async fn skill_rows(
    ctx: &ReadContext,
    department: Option<i64>,
    use_views: bool,
) -> Result<Vec<SkillRow>, AppError> {
    // Each path its own text, so neither plans the other's branch; the projection's plan
    // fits every ask (generic-plan sessions), the raw one's does not (a generic plan of it ran
    // 13 ms for a department against 3.8 ms custom).
    let demand = if use_views {
        "SELECT p.skill_id, sum(p.demand_s)::float8 AS s FROM open_skill_demand p
            WHERE p.priced_tasks > 0 AND ($1::BIGINT IS NULL OR p.department_id = $1)
            GROUP BY 1"
    } else {
        "SELECT t.required_skill_id AS skill_id, sum(t.fastest_option_s)::float8 AS s FROM tasks t
            WHERE t.status IN ('pending', 'ready', 'in_progress')
              AND ($1::BIGINT IS NULL OR t.department_id = $1)
            GROUP BY 1 HAVING count(t.fastest_option_s) > 0"
    };
    let sql = format!(
        r#"
        WITH demand AS ({demand}),
        -- Every holder: the operators in scope are known to the client (the roster), and
        -- joining the 760 skills to the 600 operators was half of this statement's time.
        qualified AS (
            SELECT os.skill_id, array_agg(os.operator_id) AS operators
            FROM operator_skills os
            GROUP BY os.skill_id
        )
        SELECT sk.code AS skill, d.code AS department,
               dm.s::float8 AS demand_s,
               coalesce(q.operators, '{{}}'::BIGINT[]) AS qualified
        FROM skills sk LEFT JOIN departments d ON d.id = sk.department_id
        LEFT JOIN demand dm ON dm.skill_id = sk.id
        LEFT JOIN qualified q ON q.skill_id = sk.id
        WHERE dm.s IS NOT NULL OR q.operators IS NOT NULL
        ORDER BY sk.code"#
    );
    sqlx::query_as(&sql)
        .bind(department)
        .fetch_all(if use_views { &ctx.generic } else { &ctx.pool })
        .await
        .map_err(store_error)
}

/// A skill's balance with the operators in scope who hold it (cross-training picks among the
/// rest).
struct SkillFacts {
    qualified: HashSet<i64>,
    balance: SkillBalance,
}

/// Skill balance: supply is the qualified operators' available hours over the forecast window.
/// `available` lists every operator in scope: the skills neither in demand nor held by one
/// of them are left out.
fn skills(rows: Vec<SkillRow>, available: &HashMap<i64, RosteredTime>) -> Vec<SkillFacts> {
    rows.into_iter()
        .filter_map(|r| {
            let qualified: Vec<i64> = r
                .qualified
                .into_iter()
                .filter(|id| available.contains_key(id))
                .collect();
            if r.demand_s.is_none() && qualified.is_empty() {
                return None;
            }
            let demand_s = r.demand_s.unwrap_or(0.0);
            let supply_s: f64 = qualified
                .iter()
                .filter_map(|id| available.get(id))
                .map(RosteredTime::available_s)
                .sum();
            Some(SkillFacts {
                balance: SkillBalance {
                    skill: r.skill,
                    department: r.department,
                    demand_h: round6(hours(demand_s)),
                    supply_h: round6(hours(supply_s)),
                    qualified_operators: qualified.len() as i64,
                    shortage_h: round6(hours((demand_s - supply_s).max(0.0))),
                    severity: shortage_severity(demand_s, supply_s),
                },
                qualified: qualified.into_iter().collect(),
            })
        })
        .collect()
}

/// For each skill in high or critical shortage: up to three operators of the skill's
/// department who lack it and carry the least load (below 80 %), with the hours of the
/// shortage (or of the gap to 85 % coverage) each could take over. Every candidate is an
/// operator in scope, and `qualified` holds every one of them with the skill, so who lacks it
/// needs no further read.
fn cross_training(skills: &[SkillFacts], entries: &[Entry]) -> Vec<CrossTraining> {
    let mut out = Vec::new();
    for f in skills {
        let s = &f.balance;
        if !matches!(s.severity, Some(Severity::Critical | Severity::High)) {
            continue;
        }
        let gap_h = (s.demand_h - 0.85 * s.supply_h).max(s.shortage_h);
        let mut candidates: Vec<&OperatorLoad> = entries
            .iter()
            .filter(|e| {
                !f.qualified.contains(&e.id)
                    && s.department
                        .as_ref()
                        .is_none_or(|d| *d == e.load.department)
                    && e.load.load.is_some_and(|x| x < 0.8)
            })
            .map(|e| &e.load)
            .collect();
        candidates.sort_by(|a, b| {
            load_key(a)
                .total_cmp(&load_key(b))
                .then_with(|| a.code.cmp(&b.code))
        });
        for l in candidates.into_iter().take(3) {
            let free_h = l.capacity_h - l.assigned_h;
            out.push(CrossTraining {
                operator: l.code.clone(),
                department: l.department.clone(),
                skill: s.skill.clone(),
                relieves_h: round6(gap_h.min(free_h).max(0.0)),
                operator_load: l.load,
            });
        }
    }
    out
}
