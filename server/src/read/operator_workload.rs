//! `GetOperatorWorkload`: assigned hours against rostered capacity per operator, shift pattern
//! and department; the 30-day availability forecast; skill demand vs supply; overloads and
//! cross-training. Assigned time of closed days comes from `mv_daily_operator_workload`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use app::error::AppError;
use app::read_models::{
    AvailabilityDay, BucketSize, CrossTraining, GetOperatorWorkload, GroupLoad, OperatorLoad,
    OperatorWorkload, Severity, SkillBalance,
};

use super::{hours, paginate, ratio, round6, ReadContext};
use crate::floor::store_error;

/// Overtime an eligible operator may add per rostered shift, hours (METRICS.md).
pub const OVERTIME_H_PER_SHIFT: f64 = 2.0;
/// Days the availability forecast and the skill supply look ahead.
pub const FORECAST_DAYS: i64 = 30;

/// `roster`: the rostered shifts of operators in scope, clipped to [$2, $3), and the absences
/// that take time off them, as rows to sum per operator or per day. $1 department. Flexible
/// operators are rostered on the day shift.
const SHIFTS_SQL: &str = r#"
    WITH tz AS MATERIALIZED (SELECT read_model_tz() AS tz),
    ops AS (
        -- code: the shift definition the operator works (flexible operators: the day shift).
        SELECT o.id, o.overtime_eligible,
               CASE WHEN o.shift_pattern = 'flexible' THEN 'day' ELSE o.shift_pattern END AS code
        FROM operators o
        WHERE o.active AND ($1::BIGINT IS NULL OR o.department_id = $1)
    ),
    -- Each shift definition's occurrences in the window, clipped to it: a few rows per day, so
    -- the time-zone arithmetic runs once per day and shift, not once per operator.
    slots AS MATERIALIZED (
        SELECT * FROM (
            SELECT sd.code, d::date AS day,
                   tstzrange((d + sd.starts_local) AT TIME ZONE tz.tz,
                             (d + sd.ends_local + CASE WHEN sd.ends_local <= sd.starts_local
                                                       THEN interval '1 day' ELSE interval '0' END)
                             AT TIME ZONE tz.tz) * tstzrange($2, $3) AS r
            FROM tz,
                 generate_series((($2 AT TIME ZONE tz.tz)::date - 1)::timestamp,
                                 (($3 AT TIME ZONE tz.tz)::date)::timestamp, interval '1 day') d
            JOIN shift_definitions sd ON extract(isodow FROM d)::smallint = ANY (sd.weekdays)
        ) x WHERE NOT isempty(r)
    ),
    -- Each operator's absences merged into disjoint ranges, so the overlaps with a shift add up
    -- to the absent time without double counting.
    -- Materialized, so the few absences meet the few slots (not every operator's shifts).
    absent AS MATERIALIZED (
        SELECT ab.operator_id, o.overtime_eligible, o.code,
               unnest(range_agg(tstzrange(ab.starts_at, ab.ends_at))) AS r
        FROM operator_absences ab JOIN ops o ON o.id = ab.operator_id
        WHERE ab.ends_at > $2 AND ab.starts_at < $3
        GROUP BY ab.operator_id, o.overtime_eligible, o.code
    ),
    -- The few shifts an absence touches, with their absent time. An operator works one shift
    -- per local day: a pattern names one shift definition.
    absent_shifts AS (
        SELECT a.operator_id, a.overtime_eligible, sl.day,
               extract(epoch FROM upper(sl.r) - lower(sl.r))::float8 AS shift_s,
               sum(extract(epoch FROM upper(a.r * sl.r) - lower(a.r * sl.r)))::float8 AS absent_s
        FROM absent a JOIN slots sl ON sl.code = a.code AND sl.r && a.r
        GROUP BY a.operator_id, a.overtime_eligible, sl.day, sl.r
    ),
    -- The roster as rows that add up: one per shift (its length, present 1) and one per shift an
    -- absence touches (its absent time, present −1 when the whole shift is missed). Sums per
    -- operator or per day then need no join of every shift with the absences.
    roster AS (
        SELECT o.id AS operator_id, o.overtime_eligible, sl.day,
               extract(epoch FROM upper(sl.r) - lower(sl.r))::float8 AS shift_s,
               0::float8 AS absent_s, 1 AS present
        FROM ops o JOIN slots sl ON sl.code = o.code
        UNION ALL
        SELECT operator_id, overtime_eligible, day, 0, absent_s,
               CASE WHEN absent_s >= shift_s THEN -1 ELSE 0 END
        FROM absent_shifts
    )
"#;

#[derive(Debug, sqlx::FromRow)]
struct OperatorRow {
    id: i64,
    code: String,
    name: String,
    department: String,
    shift_pattern: String,
    assigned_s: f64,
    capacity_s: f64,
    absent_s: f64,
}

#[derive(Debug, sqlx::FromRow)]
struct ForecastRow {
    day: NaiveDate,
    available_s: f64,
    absent_s: f64,
    overtime_shifts: i64,
    operators_available: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct SkillRow {
    skill_id: i64,
    skill: String,
    department: Option<String>,
    department_id: Option<i64>,
    demand_s: f64,
    supply_s: f64,
    qualified: i64,
}

pub async fn run(
    ctx: &ReadContext,
    q: &GetOperatorWorkload,
    use_views: bool,
) -> Result<OperatorWorkload, AppError> {
    let as_of = ctx.as_of().await?;
    let now = ctx.now();
    let department = ctx.department_id(&q.scope).await?;
    let (from, to) = ctx.align(&q.range, BucketSize::Day);
    // Forecast and skill supply: the next 30 local days from today.
    let f_from = ctx.local_midnight(now);
    let f_to =
        ctx.midnight_of(now.with_timezone(&ctx.tz).date_naive() + Duration::days(FORECAST_DAYS));
    // Three independent statements, side by side on the pool.
    let (rows, forecast, skills) = tokio::try_join!(
        operator_rows(ctx, department, from, to, use_views),
        forecast(ctx, department, f_from, f_to),
        skills(ctx, department, f_from, f_to),
    )?;

    let mut loads: Vec<(i64, OperatorLoad)> = rows
        .iter()
        .map(|r| {
            let load = ratio(r.assigned_s, r.capacity_s);
            (
                r.id,
                OperatorLoad {
                    code: r.code.clone(),
                    name: r.name.clone(),
                    department: r.department.clone(),
                    shift_pattern: r.shift_pattern.clone(),
                    assigned_h: round6(hours(r.assigned_s)),
                    capacity_h: round6(hours(r.capacity_s)),
                    absence_h: round6(hours(r.absent_s)),
                    load: load.map(round6),
                    // Assigned work with no capacity at all is the worst overload.
                    overload: match load {
                        Some(l) => q.thresholds.severity(l),
                        None if r.assigned_s > 0.0 => Some(Severity::Critical),
                        None => None,
                    },
                },
            )
        })
        .collect();
    loads.sort_by(|a, b| {
        load_key(&b.1)
            .total_cmp(&load_key(&a.1))
            .then_with(|| a.1.code.cmp(&b.1.code))
    });
    let list: Vec<OperatorLoad> = loads.iter().map(|(_, l)| l.clone()).collect();
    let by_shift_pattern = group(&rows, &list, |r| r.shift_pattern.clone());
    let by_department = group(&rows, &list, |r| r.department.clone());
    let mut overloaded: Vec<OperatorLoad> = list
        .iter()
        .filter(|l| l.overload.is_some())
        .cloned()
        .collect();
    overloaded.sort_by(|a, b| {
        a.overload
            .cmp(&b.overload)
            .then_with(|| load_key(b).total_cmp(&load_key(a)))
    });

    let cross_training = cross_training(ctx, &skills, &loads).await?;
    let skills = skills.into_iter().map(|(_, s)| s).collect();

    Ok(OperatorWorkload {
        as_of,
        operators_total: list.len() as i64,
        operators: paginate(&list, q.page),
        by_shift_pattern,
        by_department,
        forecast,
        skills,
        overloaded,
        cross_training,
    })
}

/// Assigned time (views for closed days, live after) and rostered capacity per operator in
/// scope over [from, to).
async fn operator_rows(
    ctx: &ReadContext,
    department: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    use_views: bool,
) -> Result<Vec<OperatorRow>, AppError> {
    let sql = format!(
        r#"{SHIFTS_SQL},
        cap AS (SELECT operator_id, sum(shift_s - absent_s) AS capacity_s, sum(absent_s) AS absent_s
                FROM roster GROUP BY operator_id),
        cfg AS (SELECT CASE WHEN $4 THEN least(greatest(mv_covers_before, $2), $3) ELSE $2 END AS live_from
                FROM read_model_state),
        assigned AS (
            SELECT operator_id, sum(s)::float8 AS assigned_s FROM (
                SELECT v.operator_id, v.assigned_s AS s
                FROM mv_daily_operator_workload v, cfg
                WHERE v.day_start >= $2 AND v.day_start < cfg.live_from
                  AND ($1::BIGINT IS NULL OR v.department_id = $1)
                UNION ALL
                SELECT a.operator_id,
                       extract(epoch FROM least(a.scheduled_end, $3) - greatest(a.scheduled_start, cfg.live_from))
                FROM assignments a, cfg
                WHERE a.schedule_id = (SELECT id FROM schedules WHERE is_live)
                  AND a.operator_id IN (SELECT id FROM ops)
                  AND a.scheduled_end > cfg.live_from AND a.scheduled_start < $3
            ) x GROUP BY operator_id
        )
        SELECT o.id, o.code, o.name, d.code AS department, o.shift_pattern,
               coalesce(a.assigned_s, 0)::float8 AS assigned_s,
               coalesce(c.capacity_s, 0)::float8 AS capacity_s,
               coalesce(c.absent_s, 0)::float8 AS absent_s
        FROM operators o JOIN ops ON ops.id = o.id
        JOIN departments d ON d.id = o.department_id
        LEFT JOIN cap c ON c.operator_id = o.id
        LEFT JOIN assigned a ON a.operator_id = o.id
        ORDER BY o.id"#
    );
    sqlx::query_as(&sql)
        .bind(department)
        .bind(from)
        .bind(to)
        .bind(use_views)
        .fetch_all(&ctx.pool)
        .await
        .map_err(store_error)
}

fn load_key(l: &OperatorLoad) -> f64 {
    l.load.unwrap_or(if l.assigned_h > 0.0 {
        f64::INFINITY
    } else {
        0.0
    })
}

fn group(
    rows: &[OperatorRow],
    loads: &[OperatorLoad],
    key: impl Fn(&OperatorRow) -> String,
) -> Vec<GroupLoad> {
    let overloaded: HashMap<&str, bool> = loads
        .iter()
        .map(|l| (l.code.as_str(), l.overload.is_some()))
        .collect();
    let mut groups: HashMap<String, (i64, f64, f64, i64)> = HashMap::new();
    for r in rows {
        let g = groups.entry(key(r)).or_default();
        g.0 += 1;
        g.1 += r.assigned_s;
        g.2 += r.capacity_s;
        if overloaded.get(r.code.as_str()).copied().unwrap_or(false) {
            g.3 += 1;
        }
    }
    let mut out: Vec<GroupLoad> = groups
        .into_iter()
        .map(|(key, (n, a, c, o))| GroupLoad {
            key,
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

async fn forecast(
    ctx: &ReadContext,
    department: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AvailabilityDay>, AppError> {
    let sql = format!(
        r#"{SHIFTS_SQL}
        SELECT day, sum(shift_s - absent_s)::float8 AS available_s, sum(absent_s)::float8 AS absent_s,
               -- One shift per operator and day: the shifts not wholly missed count operators.
               coalesce(sum(present) FILTER (WHERE overtime_eligible), 0)::bigint AS overtime_shifts,
               sum(present)::bigint AS operators_available
        FROM roster GROUP BY day ORDER BY day"#
    );
    let rows: Vec<ForecastRow> = sqlx::query_as(&sql)
        .bind(department)
        .bind(from)
        .bind(to)
        .fetch_all(&ctx.pool)
        .await
        .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|r| AvailabilityDay {
            day: r.day,
            available_h: round6(hours(r.available_s)),
            absent_h: round6(hours(r.absent_s)),
            overtime_h: round6(r.overtime_shifts as f64 * OVERTIME_H_PER_SHIFT),
            operators_available: r.operators_available,
        })
        .collect())
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

async fn skills(
    ctx: &ReadContext,
    department: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<((i64, Option<i64>), SkillBalance)>, AppError> {
    let sql = format!(
        r#"{SHIFTS_SQL},
        avail AS (SELECT operator_id, sum(shift_s - absent_s) AS s FROM roster GROUP BY operator_id),
        demand AS (
            SELECT t.required_skill_id AS skill_id, sum(t.fastest_option_s)::float8 AS s FROM tasks t
            WHERE t.status IN ('pending', 'ready', 'in_progress')
              AND ($1::BIGINT IS NULL OR t.department_id = $1)
            GROUP BY 1
        ),
        supply AS (
            SELECT os.skill_id, sum(coalesce(av.s, 0))::float8 AS s, count(*) AS qualified
            FROM operator_skills os JOIN ops ON ops.id = os.operator_id
            LEFT JOIN avail av ON av.operator_id = os.operator_id
            GROUP BY os.skill_id
        )
        SELECT sk.id AS skill_id, sk.code AS skill, d.code AS department, sk.department_id,
               coalesce(dm.s, 0)::float8 AS demand_s, coalesce(sp.s, 0)::float8 AS supply_s,
               coalesce(sp.qualified, 0) AS qualified
        FROM skills sk LEFT JOIN departments d ON d.id = sk.department_id
        LEFT JOIN demand dm ON dm.skill_id = sk.id
        LEFT JOIN supply sp ON sp.skill_id = sk.id
        WHERE dm.s IS NOT NULL OR sp.s IS NOT NULL
        ORDER BY sk.code"#
    );
    let rows: Vec<SkillRow> = sqlx::query_as(&sql)
        .bind(department)
        .bind(from)
        .bind(to)
        .fetch_all(&ctx.pool)
        .await
        .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r.skill_id, r.department_id),
                SkillBalance {
                    skill: r.skill,
                    department: r.department,
                    demand_h: round6(hours(r.demand_s)),
                    supply_h: round6(hours(r.supply_s)),
                    qualified_operators: r.qualified,
                    shortage_h: round6(hours((r.demand_s - r.supply_s).max(0.0))),
                    severity: shortage_severity(r.demand_s, r.supply_s),
                },
            )
        })
        .collect())
}

/// For each skill in high or critical shortage: up to three operators of the skill's
/// department who lack it and carry the least load (below 80 %), with the hours of the
/// shortage (or of the gap to 85 % coverage) each could take over.
async fn cross_training(
    ctx: &ReadContext,
    skills: &[((i64, Option<i64>), SkillBalance)],
    loads: &[(i64, OperatorLoad)],
) -> Result<Vec<CrossTraining>, AppError> {
    let short: Vec<&((i64, Option<i64>), SkillBalance)> = skills
        .iter()
        .filter(|(_, s)| matches!(s.severity, Some(Severity::Critical | Severity::High)))
        .collect();
    if short.is_empty() {
        return Ok(Vec::new());
    }
    // Who lacks each short skill, in the skill's department: one statement for all of them.
    let skill_ids: Vec<i64> = short.iter().map(|((id, _), _)| *id).collect();
    let departments: Vec<Option<i64>> = short.iter().map(|((_, d), _)| *d).collect();
    let pairs: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.skill_id, o.id FROM unnest($1::BIGINT[], $2::BIGINT[]) AS s(skill_id, department_id)
         JOIN operators o ON o.active AND (s.department_id IS NULL OR o.department_id = s.department_id)
         WHERE NOT EXISTS (SELECT 1 FROM operator_skills os
                           WHERE os.operator_id = o.id AND os.skill_id = s.skill_id)",
    )
    .bind(&skill_ids)
    .bind(&departments)
    .fetch_all(&ctx.pool)
    .await
    .map_err(store_error)?;
    let lacking: HashSet<(i64, i64)> = pairs.into_iter().collect();

    let mut out = Vec::new();
    for ((skill_id, _), s) in short {
        let gap_h = (s.demand_h - 0.85 * s.supply_h).max(s.shortage_h);
        let mut candidates: Vec<&(i64, OperatorLoad)> = loads
            .iter()
            .filter(|(id, l)| {
                lacking.contains(&(*skill_id, *id)) && l.load.is_some_and(|x| x < 0.8)
            })
            .collect();
        candidates.sort_by(|a, b| {
            load_key(&a.1)
                .total_cmp(&load_key(&b.1))
                .then_with(|| a.1.code.cmp(&b.1.code))
        });
        for (_, l) in candidates.into_iter().take(3) {
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
    Ok(out)
}
