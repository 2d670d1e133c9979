//! The deterministic demo-factory generator. Pure: no I/O, no clock. Given the same options it
//! returns the same factory, row for row, so tests and benchmarks can rely on it.
//!
//! How the history is made: jobs arrive over the year at a rate that loads the busiest machine
//! type to about two thirds of its shift capacity; each job's tasks are placed in release order
//! (first come, first served) on the earliest free eligible machine and the earliest qualified
//! operator whose shift, absences and the machine's downtimes allow the whole task. The floor
//! then "executes" that plan with realistic variance (slower or faster runs, late starts,
//! scrap); whatever has not finished by `now` is in progress or still planned.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::catalog::{self, FamilyKind, DEPARTMENTS, MACHINE_TYPES, SHIFTS};
use super::{DemoSize, GenerateOptions};

/// Seconds since the Unix epoch, UTC.
pub type Ts = i64;

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
const HISTORY_DAYS: i64 = 365;
const ORDER_BOOK_DAYS: i64 = 21;
/// Share of shift capacity the busiest machine type is loaded to.
const TARGET_LOAD: f64 = 0.62;

pub struct DepartmentRow {
    pub id: i64,
    pub code: &'static str,
    pub name: &'static str,
}
pub struct MachineRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub machine_type: &'static str,
    pub ideal_units_per_hour: f64,
    pub status: &'static str,
    pub commissioned_on: NaiveDate,
}
pub struct DowntimeRow {
    pub id: i64,
    pub machine_id: i64,
    pub kind: &'static str,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub reason: &'static str,
}
pub struct ShiftRow {
    pub code: &'static str,
    pub name: &'static str,
    pub starts_local: NaiveTime,
    pub ends_local: NaiveTime,
}
pub struct SkillRow {
    pub id: i64,
    pub code: &'static str,
    pub name: &'static str,
    pub department_id: i64,
}
pub struct OperatorRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub department_id: i64,
    pub shift_pattern: &'static str,
    pub contracted_hours_per_week: f64,
    pub overtime_eligible: bool,
}
pub struct OperatorSkillRow {
    pub operator_id: i64,
    pub skill_id: i64,
    pub level: i16,
}
pub struct AbsenceRow {
    pub id: i64,
    pub operator_id: i64,
    pub kind: &'static str,
    pub starts_at: Ts,
    pub ends_at: Ts,
}
pub struct ProductRow {
    pub id: i64,
    pub code: String,
    pub name: String,
}
pub struct JobRow {
    pub id: i64,
    pub code: String,
    pub product_id: i64,
    pub quantity: i32,
    pub released_at: Ts,
    pub due_at: Ts,
    pub priority: i16,
    pub is_rush: bool,
    pub status: &'static str,
    pub completed_at: Option<Ts>,
}
pub struct TaskRow {
    pub id: i64,
    pub job_id: i64,
    pub sequence: i32,
    pub name: String,
    pub department_id: i64,
    pub required_skill_id: i64,
    pub min_skill_level: i16,
    pub setup_family: &'static str,
    pub preemptible: bool,
    pub status: &'static str,
}
pub struct TaskMachineOptionRow {
    pub task_id: i64,
    pub machine_id: i64,
    pub duration_s: i32,
}
pub struct PrecedenceRow {
    pub predecessor_id: i64,
    pub successor_id: i64,
    pub min_lag_s: i32,
}
pub struct SetupTimeRow {
    pub machine_type: &'static str,
    pub from_family: &'static str,
    pub to_family: &'static str,
    pub setup_s: i32,
}
pub struct AssignmentRow {
    pub id: i64,
    pub task_id: i64,
    pub machine_id: i64,
    pub operator_id: i64,
    pub scheduled_start: Ts,
    pub scheduled_end: Ts,
    pub setup_s: i32,
    pub actual_start: Option<Ts>,
    pub actual_end: Option<Ts>,
    pub good_qty: Option<i32>,
    pub scrap_qty: Option<i32>,
}

/// One generated factory, in the order its tables are loaded.
pub struct Factory {
    pub now: Ts,
    pub departments: Vec<DepartmentRow>,
    pub machines: Vec<MachineRow>,
    pub downtimes: Vec<DowntimeRow>,
    pub shifts: Vec<ShiftRow>,
    pub skills: Vec<SkillRow>,
    pub operators: Vec<OperatorRow>,
    pub operator_skills: Vec<OperatorSkillRow>,
    pub absences: Vec<AbsenceRow>,
    pub products: Vec<ProductRow>,
    pub jobs: Vec<JobRow>,
    pub tasks: Vec<TaskRow>,
    pub task_machine_options: Vec<TaskMachineOptionRow>,
    pub precedences: Vec<PrecedenceRow>,
    pub setup_times: Vec<SetupTimeRow>,
    pub assignments: Vec<AssignmentRow>,
}

/// A product's route step: which machine type, how long per unit, which changeover family.
struct RouteStep {
    machine_type: usize,
    seconds_per_unit: f64,
    family: &'static str,
    min_level: i16,
    lag_s: i32,
}
struct Product {
    route: Vec<RouteStep>,
}

/// Rosters an operator can work: fixed shifts, or flexible alternating day and evening weeks.
#[derive(Clone, Copy)]
enum Roster {
    Fixed(usize),
    FlexEven,
    FlexOdd,
}

struct OperatorState {
    roster: Roster,
    free_at: Ts,
    busy_s: i64,
    absences: Vec<(Ts, Ts)>,
}
struct MachineState {
    speed: f64,
    free_at: Ts,
    last_family: Option<&'static str>,
    downtimes: Vec<(Ts, Ts)>,
    scrap_rate: f64,
}

pub fn generate(options: &GenerateOptions) -> Factory {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let tz = options.plant_tz;
    let now = options.now.timestamp();
    let start = now - HISTORY_DAYS * DAY;
    let end = now + ORDER_BOOK_DAYS * DAY + 28 * DAY;
    let machine_count = options.size.machines();
    // Large factories run small lots with short handling, so a year holds over a million tasks.
    let (lot_scale, handling_s, shortest_task_s) = match options.size {
        DemoSize::Large => (0.1, 300.0, 5 * 60),
        _ => (1.0, 900.0, 15 * 60),
    };

    let departments: Vec<DepartmentRow> = DEPARTMENTS
        .iter()
        .enumerate()
        .map(|(i, d)| DepartmentRow {
            id: i as i64 + 1,
            code: d.code,
            name: d.name,
        })
        .collect();

    let shifts = SHIFTS
        .iter()
        .map(|&(code, name, start_h, len_h)| ShiftRow {
            code,
            name,
            starts_local: NaiveTime::from_hms_opt(start_h, 0, 0).unwrap_or_default(),
            ends_local: NaiveTime::from_hms_opt((start_h + len_h) % 24, 0, 0).unwrap_or_default(),
        })
        .collect();

    let skills: Vec<SkillRow> = MACHINE_TYPES
        .iter()
        .enumerate()
        .map(|(i, t)| SkillRow {
            id: i as i64 + 1,
            code: t.skill,
            name: t.skill_name,
            department_id: t.department as i64 + 1,
        })
        .collect();

    // Machines: shares of the plant per type, at least one of each.
    let mut per_type: Vec<usize> = MACHINE_TYPES
        .iter()
        .map(|t| ((t.share * machine_count as f64).round() as usize).max(1))
        .collect();
    while per_type.iter().sum::<usize>() > machine_count.max(MACHINE_TYPES.len()) {
        if let Some(i) = (0..per_type.len()).max_by_key(|&i| per_type[i]) {
            per_type[i] -= 1;
        }
    }
    while per_type.iter().sum::<usize>() < machine_count {
        if let Some(i) = (0..per_type.len()).min_by(|&a, &b| {
            (per_type[a] as f64 / MACHINE_TYPES[a].share)
                .total_cmp(&(per_type[b] as f64 / MACHINE_TYPES[b].share))
        }) {
            per_type[i] += 1;
        }
    }
    let mut machines = Vec::new();
    let mut machine_state = Vec::new();
    let mut machines_of_type: Vec<Vec<usize>> = vec![Vec::new(); MACHINE_TYPES.len()];
    for (ti, &count) in per_type.iter().enumerate() {
        let spec = &MACHINE_TYPES[ti];
        for k in 0..count {
            let idx = machines.len();
            let years_old = rng.gen_range(0..15);
            machines.push(MachineRow {
                id: idx as i64 + 1,
                code: format!("{}-{:02}", spec.code.to_uppercase(), k + 1),
                name: format!("{} {}", spec.name, k + 1),
                department_id: spec.department as i64 + 1,
                machine_type: spec.code,
                ideal_units_per_hour: spec.ideal_units_per_hour,
                status: "in_service",
                commissioned_on: (DateTime::<Utc>::from_timestamp(start, 0).unwrap_or_default()
                    - Duration::days(365 * years_old + rng.gen_range(0..365)))
                .date_naive(),
            });
            machine_state.push(MachineState {
                // Older machines run a little slower than nameplate.
                speed: 1.0 + years_old as f64 * 0.01 + rng.gen_range(-0.03..0.05),
                free_at: start,
                last_family: None,
                downtimes: Vec::new(),
                scrap_rate: rng.gen_range(0.005..0.045),
            });
            machines_of_type[ti].push(idx);
        }
    }

    // Downtimes: monthly planned maintenance on Saturdays, random breakdowns.
    let mut downtimes = Vec::new();
    for (mi, ms) in machine_state.iter_mut().enumerate() {
        let mut day = local_midnight(tz, start) + rng.gen_range(0..28) * DAY;
        while day < end {
            let d = local_date(tz, day);
            let saturday = day
                + ((Weekday::Sat.num_days_from_monday() as i64
                    - d.weekday().num_days_from_monday() as i64
                    + 7)
                    % 7)
                    * DAY;
            let s = local_at(tz, local_date(tz, saturday), 7);
            let e = s + rng.gen_range(3..7) * HOUR;
            ms.downtimes.push((s, e));
            downtimes.push(DowntimeRow {
                id: 0,
                machine_id: mi as i64 + 1,
                kind: "planned_maintenance",
                starts_at: s,
                ends_at: e,
                reason: "monthly preventive maintenance",
            });
            day += 28 * DAY;
        }
        let mut t = start + exp_sample(&mut rng, 400.0 * HOUR as f64) as i64;
        while t < now {
            let len =
                (lognormal(&mut rng, 3.0 * HOUR as f64, 0.7) as i64).clamp(HOUR / 2, 30 * HOUR);
            let reason = [
                "spindle fault",
                "hydraulic leak",
                "sensor failure",
                "tool breakage",
                "control error",
            ][rng.gen_range(0..5)];
            if !overlaps_any(&ms.downtimes, t, t + len) {
                ms.downtimes.push((t, t + len));
                downtimes.push(DowntimeRow {
                    id: 0,
                    machine_id: mi as i64 + 1,
                    kind: "breakdown",
                    starts_at: t,
                    ends_at: t + len,
                    reason,
                });
            }
            t += len + exp_sample(&mut rng, 400.0 * HOUR as f64) as i64;
        }
        ms.downtimes.sort_unstable();
    }
    downtimes.sort_by_key(|d| (d.starts_at, d.machine_id));
    for (i, d) in downtimes.iter_mut().enumerate() {
        d.id = i as i64 + 1;
    }

    // Operators: three per machine (day, evening, night), one in ten on a flexible roster.
    let windows = ShiftWindows::build(tz, start - DAY, end + 14 * DAY);
    let mut operators = Vec::new();
    let mut operator_state = Vec::new();
    let mut operator_skills = Vec::new();
    let mut qualified: Vec<Vec<(usize, i16)>> = vec![Vec::new(); MACHINE_TYPES.len()];
    for (ti, &count) in per_type.iter().enumerate() {
        let spec = &MACHINE_TYPES[ti];
        for _ in 0..count {
            for (shift, &(shift_code, ..)) in SHIFTS.iter().enumerate() {
                let idx = operators.len();
                let flexible = idx % 10 == 9;
                let (pattern, roster) = if flexible {
                    (
                        "flexible",
                        if idx % 20 == 19 {
                            Roster::FlexOdd
                        } else {
                            Roster::FlexEven
                        },
                    )
                } else {
                    (shift_code, Roster::Fixed(shift))
                };
                let name = format!(
                    "{} {}",
                    catalog::FIRST_NAMES[rng.gen_range(0..catalog::FIRST_NAMES.len())],
                    catalog::LAST_NAMES[rng.gen_range(0..catalog::LAST_NAMES.len())]
                );
                operators.push(OperatorRow {
                    id: idx as i64 + 1,
                    code: format!("OP-{:04}", idx + 1),
                    name,
                    department_id: spec.department as i64 + 1,
                    shift_pattern: pattern,
                    contracted_hours_per_week: if rng.gen_bool(0.15) { 30.0 } else { 40.0 },
                    overtime_eligible: rng.gen_bool(0.6),
                });
                let primary_level = rng.gen_range(2..=5);
                operator_skills.push(OperatorSkillRow {
                    operator_id: idx as i64 + 1,
                    skill_id: ti as i64 + 1,
                    level: primary_level,
                });
                qualified[ti].push((idx, primary_level));
                // A secondary skill in the same department for some operators (cross-training).
                let siblings: Vec<usize> = (0..MACHINE_TYPES.len())
                    .filter(|&o| o != ti && MACHINE_TYPES[o].department == spec.department)
                    .collect();
                if !siblings.is_empty() && rng.gen_bool(0.35) {
                    let other = siblings[rng.gen_range(0..siblings.len())];
                    let level = rng.gen_range(1..=3);
                    operator_skills.push(OperatorSkillRow {
                        operator_id: idx as i64 + 1,
                        skill_id: other as i64 + 1,
                        level,
                    });
                    qualified[other].push((idx, level));
                }
                operator_state.push(OperatorState {
                    roster,
                    free_at: start,
                    busy_s: 0,
                    absences: Vec::new(),
                });
            }
        }
    }

    // Absences: three vacation weeks, sick days, a training day a quarter.
    let mut absences = Vec::new();
    for (oi, os) in operator_state.iter_mut().enumerate() {
        for _ in 0..3 {
            let d = local_midnight(tz, start + rng.gen_range(0..(end - start) / DAY) * DAY);
            os.absences.push((d, d + 7 * DAY));
            absences.push(AbsenceRow {
                id: 0,
                operator_id: oi as i64 + 1,
                kind: "vacation",
                starts_at: d,
                ends_at: d + 7 * DAY,
            });
        }
        let mut t = start + exp_sample(&mut rng, 60.0 * DAY as f64) as i64;
        while t < now + 2 * DAY {
            let d = local_midnight(tz, t);
            let len = rng.gen_range(1..=3) * DAY;
            if !overlaps_any(&os.absences, d, d + len) {
                os.absences.push((d, d + len));
                absences.push(AbsenceRow {
                    id: 0,
                    operator_id: oi as i64 + 1,
                    kind: "sick",
                    starts_at: d,
                    ends_at: d + len,
                });
            }
            t = d + len + exp_sample(&mut rng, 60.0 * DAY as f64) as i64;
        }
        let mut q = start + rng.gen_range(0..90) * DAY;
        while q < end {
            let d = local_at(tz, local_date(tz, q), 8);
            if !overlaps_any(&os.absences, d, d + 8 * HOUR) {
                os.absences.push((d, d + 8 * HOUR));
                absences.push(AbsenceRow {
                    id: 0,
                    operator_id: oi as i64 + 1,
                    kind: "training",
                    starts_at: d,
                    ends_at: d + 8 * HOUR,
                });
            }
            q += 91 * DAY;
        }
        os.absences.sort_unstable();
    }
    absences.sort_by_key(|a| (a.starts_at, a.operator_id));
    for (i, a) in absences.iter_mut().enumerate() {
        a.id = i as i64 + 1;
    }

    // Products and their routes.
    let product_count = 24;
    let mut products_spec = Vec::new();
    let mut products = Vec::new();
    for p in 0..product_count {
        let material = catalog::MATERIALS[rng.gen_range(0..catalog::MATERIALS.len())];
        let colour = catalog::COLOURS[rng.gen_range(0..catalog::COLOURS.len())];
        let packaging = catalog::PACKAGING[rng.gen_range(0..catalog::PACKAGING.len())];
        let mut route_types = Vec::new();
        let machining = [0usize, 1, 2];
        let first = machining[rng.gen_range(0..2)];
        route_types.push(first);
        if rng.gen_bool(0.5) {
            route_types.push(if first == 0 { 1 } else { 2 });
        }
        if rng.gen_bool(0.3) {
            route_types.push(2);
            route_types.dedup();
        }
        route_types.push(3);
        if rng.gen_bool(0.35) {
            route_types.push(4);
        }
        if rng.gen_bool(0.6) {
            route_types.push(5);
            route_types.push(6);
        }
        route_types.push(7);
        let route = route_types
            .iter()
            .map(|&ti| {
                let spec = &MACHINE_TYPES[ti];
                RouteStep {
                    machine_type: ti,
                    seconds_per_unit: 3600.0 / spec.ideal_units_per_hour * rng.gen_range(0.8..1.4),
                    family: match spec.families {
                        FamilyKind::Material => material,
                        FamilyKind::Colour => colour,
                        FamilyKind::Packaging => packaging,
                    },
                    min_level: rng.gen_range(1..=3),
                    // Paint flashes off before curing.
                    lag_s: if ti == 5 { 1800 } else { 0 },
                }
            })
            .collect();
        products_spec.push(Product { route });
        products.push(ProductRow {
            id: p as i64 + 1,
            code: format!("P-{:03}", p + 1),
            name: format!("{} {} housing {}", capitalise(material), colour, p + 1),
        });
    }

    let mut setup_times = Vec::new();
    for spec in MACHINE_TYPES.iter() {
        for &from in spec.families.families() {
            for &to in spec.families.families() {
                let s = if from == to {
                    0
                } else {
                    rng.gen_range(10..=45) * 60
                };
                setup_times.push(SetupTimeRow {
                    machine_type: spec.code,
                    from_family: from,
                    to_family: to,
                    setup_s: s,
                });
            }
        }
    }
    let setup_of = |type_index: usize, from: Option<&'static str>, to: &'static str| -> i64 {
        match from {
            None => 0,
            Some(f) if f == to => 0,
            Some(f) => setup_times
                .iter()
                .find(|s| {
                    s.machine_type == MACHINE_TYPES[type_index].code
                        && s.from_family == f
                        && s.to_family == to
                })
                .map_or(0, |s| s.setup_s as i64),
        }
    };

    // Arrival rate: load the busiest machine type to TARGET_LOAD of its weekly shift hours.
    let mean_qty = 35.0 * lot_scale;
    let mut work_per_job = vec![0.0; MACHINE_TYPES.len()];
    for p in &products_spec {
        for step in &p.route {
            work_per_job[step.machine_type] +=
                (mean_qty * step.seconds_per_unit * 1.1 + handling_s) / products_spec.len() as f64;
        }
    }
    let weekly_capacity_s = 5.0 * 24.0 * HOUR as f64;
    let jobs_per_second = (0..MACHINE_TYPES.len())
        .filter(|&t| work_per_job[t] > 0.0)
        .map(|t| {
            TARGET_LOAD * per_type[t] as f64 * weekly_capacity_s
                / work_per_job[t]
                / (7.0 * DAY as f64)
        })
        .fold(f64::INFINITY, f64::min);

    let mut jobs = Vec::new();
    let mut tasks = Vec::new();
    let mut task_machine_options = Vec::new();
    let mut precedences = Vec::new();
    let mut assignments = Vec::new();
    let mut task_job: Vec<usize> = Vec::new();
    let mut task_lag: Vec<i64> = Vec::new();

    let last_release = now + ORDER_BOOK_DAYS * DAY;
    let mut t = start as f64;
    loop {
        t += exp_sample(&mut rng, 1.0 / jobs_per_second);
        let release = t as i64;
        if release >= last_release {
            break;
        }
        let job_index = jobs.len();
        let product = rng.gen_range(0..products_spec.len());
        let is_rush = rng.gen_bool(0.07);
        let qty = ((rng.gen_range(10.0..60.0) * lot_scale * if is_rush { 0.5 } else { 1.0 })
            as i32)
            .max(1);
        let job_id = job_index as i64 + 1;
        let route = &products_spec[product].route;
        let mut prev_task: Option<usize> = None;
        let mut job_work = 0i64;
        let mut est = release;
        let mut unplanned = false;
        for (seq, step) in route.iter().enumerate() {
            let task_index = tasks.len();
            let task_id = task_index as i64 + 1;
            let spec = &MACHINE_TYPES[step.machine_type];
            tasks.push(TaskRow {
                id: task_id,
                job_id,
                sequence: seq as i32 + 1,
                name: format!("{} {}", spec.name, products[product].code),
                department_id: spec.department as i64 + 1,
                required_skill_id: step.machine_type as i64 + 1,
                min_skill_level: step.min_level,
                setup_family: step.family,
                preemptible: false,
                status: "pending",
            });
            task_job.push(job_index);
            task_lag.push(step.lag_s as i64);
            // Up to four eligible machines of the type, each with its own speed.
            let eligible = &machines_of_type[step.machine_type];
            let mut options: Vec<(usize, i64)> = Vec::new();
            let offset = rng.gen_range(0..eligible.len());
            for k in 0..eligible.len().min(4) {
                let mi = eligible[(offset + k) % eligible.len()];
                let d = ((qty as f64 * step.seconds_per_unit * machine_state[mi].speed * 1.1
                    + handling_s) as i64)
                    .clamp(shortest_task_s, 7 * HOUR);
                options.push((mi, d));
                task_machine_options.push(TaskMachineOptionRow {
                    task_id,
                    machine_id: mi as i64 + 1,
                    duration_s: d as i32,
                });
            }
            if let Some(p) = prev_task {
                precedences.push(PrecedenceRow {
                    predecessor_id: p as i64 + 1,
                    successor_id: task_id,
                    min_lag_s: task_lag[p] as i32,
                });
            }
            prev_task = Some(task_index);
            // Once a task of the job finds no slot within the horizon, the rest wait unplanned.
            if unplanned {
                continue;
            }
            // Earliest free machine (after changeover), then the earliest qualified operator.
            let (mi, dur) = options
                .iter()
                .copied()
                .min_by_key(|&(mi, d)| {
                    (
                        machine_state[mi].free_at.max(est)
                            + setup_of(
                                step.machine_type,
                                machine_state[mi].last_family,
                                step.family,
                            )
                            + d,
                        mi,
                    )
                })
                .unwrap_or((eligible[0], HOUR));
            let setup = setup_of(
                step.machine_type,
                machine_state[mi].last_family,
                step.family,
            );
            let need = setup + dur;
            let ready = est.max(machine_state[mi].free_at);
            let mut best: Option<(Ts, usize)> = None;
            for &(oi, level) in &qualified[step.machine_type] {
                if level < step.min_level {
                    continue;
                }
                if let Some(s) = earliest_fit(
                    &windows,
                    &operator_state[oi],
                    &machine_state[mi].downtimes,
                    ready,
                    need,
                    best.map(|b| b.0),
                ) {
                    let better = match best {
                        None => true,
                        Some((bs, bo)) => {
                            s < bs
                                || (s == bs
                                    && operator_state[oi].busy_s < operator_state[bo].busy_s)
                        }
                    };
                    if better {
                        best = Some((s, oi));
                    }
                }
            }
            let Some((s, oi)) = best else {
                unplanned = true;
                continue;
            };
            let e = s + need;
            machine_state[mi].free_at = e;
            machine_state[mi].last_family = Some(step.family);
            operator_state[oi].free_at = e;
            operator_state[oi].busy_s += need;
            assignments.push(AssignmentRow {
                id: assignments.len() as i64 + 1,
                task_id,
                machine_id: mi as i64 + 1,
                operator_id: oi as i64 + 1,
                scheduled_start: s,
                scheduled_end: e,
                setup_s: setup as i32,
                actual_start: None,
                actual_end: None,
                good_qty: None,
                scrap_qty: None,
            });
            job_work += need;
            est = e + step.lag_s as i64;
        }
        let slack = if is_rush {
            rng.gen_range(1.2..1.8)
        } else {
            rng.gen_range(2.0..5.0)
        };
        let due = release + (job_work as f64 * slack) as i64 + if is_rush { DAY } else { 3 * DAY };
        jobs.push(JobRow {
            id: job_id,
            code: format!("J-{:06}", job_id),
            product_id: product as i64 + 1,
            quantity: qty,
            released_at: release,
            due_at: due,
            priority: if is_rush { 5 } else { rng.gen_range(1..=4) },
            is_rush,
            status: "planned",
            completed_at: None,
        });
    }

    execute_history(
        &mut rng,
        now,
        &mut assignments,
        &mut tasks,
        &mut jobs,
        &machine_state,
        &task_job,
        &task_lag,
    );

    Factory {
        now,
        departments,
        machines,
        downtimes,
        shifts,
        skills,
        operators,
        operator_skills,
        absences,
        products,
        jobs,
        tasks,
        task_machine_options,
        precedences,
        setup_times,
        assignments,
    }
}

/// Plays the plan forward on the floor up to `now`: actual starts and ends with variance,
/// never overlapping on a machine or an operator and never inside a machine's downtime.
#[allow(clippy::too_many_arguments)]
fn execute_history(
    rng: &mut ChaCha8Rng,
    now: Ts,
    assignments: &mut [AssignmentRow],
    tasks: &mut [TaskRow],
    jobs: &mut [JobRow],
    machine_state: &[MachineState],
    task_job: &[usize],
    task_lag: &[i64],
) {
    let mut order: Vec<usize> = (0..assignments.len()).collect();
    order.sort_by_key(|&i| (assignments[i].scheduled_start, i));
    let mut machine_free: Vec<Ts> = vec![i64::MIN; machine_state.len()];
    let max_operator = assignments.iter().map(|a| a.operator_id).max().unwrap_or(0) as usize;
    let mut operator_free: Vec<Ts> = vec![i64::MIN; max_operator + 1];
    // Per task: Some(actual end) when done, None when not finished.
    let mut task_done: Vec<Option<Ts>> = vec![None; tasks.len()];
    let mut task_blocked: Vec<bool> = vec![false; tasks.len()];
    for &ai in &order {
        let a = &assignments[ai];
        let ti = (a.task_id - 1) as usize;
        let mi = (a.machine_id - 1) as usize;
        let oi = a.operator_id as usize;
        let job = task_job[ti];
        let is_first = ti == 0 || task_job[ti - 1] != job;
        let pred_end = if is_first {
            Some(i64::MIN)
        } else {
            task_done[ti - 1].map(|e| e + task_lag[ti - 1])
        };
        let Some(pred_end) = pred_end else {
            task_blocked[ti] = true;
            continue;
        };
        if !is_first && task_blocked[ti - 1] {
            task_blocked[ti] = true;
            continue;
        }
        let planned = a.scheduled_end - a.scheduled_start;
        let late_start = if rng.gen_bool(0.3) {
            (rng.gen_range(0.0..0.15) * planned as f64) as i64
        } else {
            0
        };
        let mut s = (a.scheduled_start + late_start)
            .max(machine_free[mi])
            .max(operator_free[oi])
            .max(pred_end);
        let factor = lognormal(rng, 1.02, 0.09).clamp(0.8, 1.6);
        let len = ((planned as f64) * factor) as i64;
        let mut e = s + len;
        for &(ds, de) in &machine_state[mi].downtimes {
            if ds < e && de > s {
                s = de;
                e = s + len;
            }
        }
        if s > now {
            task_blocked[ti] = true;
            continue;
        }
        let a = &mut assignments[ai];
        a.actual_start = Some(s);
        machine_free[mi] = e;
        operator_free[oi] = e;
        if e <= now {
            a.actual_end = Some(e);
            let qty = jobs[job].quantity;
            let scrap = ((qty as f64) * machine_state[mi].scrap_rate * rng.gen_range(0.0..2.0))
                .round() as i32;
            a.scrap_qty = Some(scrap.min(qty));
            a.good_qty = Some(qty - scrap.min(qty));
            task_done[ti] = Some(e);
            tasks[ti].status = "done";
        } else {
            tasks[ti].status = "in_progress";
            task_blocked[ti] = true;
        }
    }
    // Job and task states follow from what has happened.
    let mut first_task_of_job = vec![usize::MAX; jobs.len()];
    for (ti, &j) in task_job.iter().enumerate() {
        if first_task_of_job[j] == usize::MAX {
            first_task_of_job[j] = ti;
        }
    }
    for (j, job) in jobs.iter_mut().enumerate() {
        let first = first_task_of_job[j];
        if first == usize::MAX {
            continue;
        }
        let mut last = first;
        while last + 1 < task_job.len() && task_job[last + 1] == j {
            last += 1;
        }
        let all_done = (first..=last).all(|ti| tasks[ti].status == "done");
        let any_started = (first..=last).any(|ti| tasks[ti].status != "pending");
        if all_done {
            job.status = "completed";
            job.completed_at = task_done[last];
        } else if any_started {
            job.status = "in_progress";
        } else if job.released_at <= now {
            job.status = "released";
        }
        if job.status != "completed" && job.released_at <= now {
            if let Some(next) = (first..=last).find(|&ti| tasks[ti].status == "pending") {
                let prev_done = next == first || tasks[next - 1].status == "done";
                if prev_done {
                    tasks[next].status = "ready";
                }
            }
        }
    }
}

/// Shift windows in UTC for every day of the generated range, per shift.
struct ShiftWindows {
    by_shift: [Vec<(Ts, Ts)>; 3],
    flex_even: Vec<(Ts, Ts)>,
    flex_odd: Vec<(Ts, Ts)>,
}

impl ShiftWindows {
    fn build(tz: Tz, from: Ts, to: Ts) -> Self {
        let mut by_shift: [Vec<(Ts, Ts)>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        let mut flex_even = Vec::new();
        let mut flex_odd = Vec::new();
        let mut date = local_date(tz, from);
        let last = local_date(tz, to);
        while date <= last {
            if date.weekday().num_days_from_monday() < 5 {
                for (k, &(_, _, h, len)) in SHIFTS.iter().enumerate() {
                    let s = local_at(tz, date, h);
                    let e = local_at(
                        tz,
                        date + Duration::days(((h + len) / 24) as i64),
                        (h + len) % 24,
                    );
                    by_shift[k].push((s, e));
                    let even_week = date.iso_week().week().is_multiple_of(2);
                    if k == 0 && even_week || k == 1 && !even_week {
                        flex_even.push((s, e));
                    }
                    if k == 1 && even_week || k == 0 && !even_week {
                        flex_odd.push((s, e));
                    }
                }
            }
            date += Duration::days(1);
        }
        Self {
            by_shift,
            flex_even,
            flex_odd,
        }
    }

    fn of(&self, roster: Roster) -> &[(Ts, Ts)] {
        match roster {
            Roster::Fixed(k) => &self.by_shift[k],
            Roster::FlexEven => &self.flex_even,
            Roster::FlexOdd => &self.flex_odd,
        }
    }
}

/// The earliest start ≥ `ready` at which the whole task (`need` seconds) fits inside one of the
/// operator's shifts, clear of the operator's absences and the machine's downtimes.
/// Gives up once it passes `give_up_after` (a better candidate is already known).
fn earliest_fit(
    windows: &ShiftWindows,
    op: &OperatorState,
    downtimes: &[(Ts, Ts)],
    ready: Ts,
    need: i64,
    give_up_after: Option<Ts>,
) -> Option<Ts> {
    let shifts = windows.of(op.roster);
    let mut t = ready.max(op.free_at);
    let mut w = shifts.partition_point(|&(_, e)| e <= t);
    while w < shifts.len() {
        let (ws, we) = shifts[w];
        let s = t.max(ws);
        if let Some(limit) = give_up_after {
            if s > limit {
                return None;
            }
        }
        if s + need > we {
            w += 1;
            continue;
        }
        if let Some(end) = first_overlap_end(&op.absences, s, s + need)
            .or_else(|| first_overlap_end(downtimes, s, s + need))
        {
            t = end;
            w = shifts.partition_point(|&(_, e)| e <= t);
            continue;
        }
        return Some(s);
    }
    None
}

/// The end of the first interval in the sorted list that overlaps [s, e).
fn first_overlap_end(sorted: &[(Ts, Ts)], s: Ts, e: Ts) -> Option<Ts> {
    let from = sorted.partition_point(|&(_, end)| end <= s);
    sorted[from..]
        .iter()
        .take_while(|&&(start, _)| start < e)
        .map(|&(_, end)| end)
        .max()
}

fn overlaps_any(list: &[(Ts, Ts)], s: Ts, e: Ts) -> bool {
    list.iter().any(|&(a, b)| a < e && b > s)
}

fn local_date(tz: Tz, ts: Ts) -> NaiveDate {
    tz.timestamp_opt(ts, 0)
        .single()
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// `hour`:00 local time on `date`, as a timestamp (the earlier one when DST repeats it, the
/// next valid hour when DST skips it).
fn local_at(tz: Tz, date: NaiveDate, hour: u32) -> Ts {
    let mut naive = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
    for _ in 0..3 {
        if let Some(dt) = tz.from_local_datetime(&naive).earliest() {
            return dt.timestamp();
        }
        naive += Duration::hours(1);
    }
    naive.and_utc().timestamp()
}

fn local_midnight(tz: Tz, ts: Ts) -> Ts {
    local_at(tz, local_date(tz, ts), 0)
}

fn exp_sample(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    -mean * u.ln()
}

/// A log-normal sample with the given median and shape.
fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (sigma * z).exp()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
