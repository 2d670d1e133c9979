//! The operators' rostered time in a window: their shifts minus their absences, per operator
//! and per local day (definitions: `docs/METRICS.md`, "Operator load").
//!
//! Why in Rust and not in SQL: Postgres reads the shift definitions and the absences; laying
//! out the shift slots (one per local day and shift definition, in the plant's zone, DST
//! included: `shift_slots`), merging an operator's overlapping absences and the rest is
//! arithmetic. Multiplied out in SQL it was one row per operator and shift (18,000 for the
//! large factory's 30 days), built three times per operator-load query; here it is one sum per
//! shift definition, a count of its operators, and a walk over the few shifts an absence
//! touches.

use std::collections::{BTreeMap, HashMap};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use chrono_tz::Tz;

/// A shift as defined: local start and end (on the next day when the end is not after the
/// start), and the ISO weekdays (1 = Monday) on which it starts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShiftDefinition {
    pub code: String,
    pub starts_local: NaiveTime,
    pub ends_local: NaiveTime,
    pub weekdays: Vec<i16>,
}

/// Each definition's occurrences (unclipped) that overlap [from, to), one per local day on
/// which it starts, from the day before `from`'s local date to `to`'s. Local times are read
/// as Postgres's `AT TIME ZONE` reads them (the test `shift_slots_match_postgres` holds the
/// two together): a time the clocks skip, with the offset in force before the change; an
/// ambiguous one, as the later instant. Why here: in SQL it was a statement of its own
/// (0.23 ms on the server for 60 days, and 250 rows to decode) in every operator-load read.
pub fn shift_slots(
    definitions: &[ShiftDefinition],
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<ShiftSlot> {
    let first = from.with_timezone(&tz).date_naive() - Duration::days(1);
    let last = to.with_timezone(&tz).date_naive();
    let mut out = Vec::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        let weekday = day.weekday().number_from_monday() as i16;
        for d in definitions.iter().filter(|d| d.weekdays.contains(&weekday)) {
            let end_day = if d.ends_local <= d.starts_local {
                day + Duration::days(1)
            } else {
                day
            };
            let starts_at = local_instant(tz, day.and_time(d.starts_local));
            let ends_at = local_instant(tz, end_day.and_time(d.ends_local));
            if starts_at < ends_at && starts_at < to && from < ends_at {
                out.push(ShiftSlot {
                    code: d.code.clone(),
                    day,
                    starts_at,
                    ends_at,
                });
            }
        }
    }
    out
}

/// A local wall-clock time as an instant, the way Postgres's `AT TIME ZONE` resolves it.
fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(_, later) => later.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: the offset of a day earlier is the one in force before the change.
            let before = tz
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix()
                .local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(before))))
        }
    }
}

/// One occurrence of a shift definition: shift `code` starting on local `day`, unclipped.
#[derive(Debug, Clone)]
pub struct ShiftSlot {
    pub code: String,
    pub day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// An operator in scope and the shift definition they work.
#[derive(Debug, Clone)]
pub struct RosteredOperator {
    pub id: i64,
    pub shift_code: String,
    pub overtime_eligible: bool,
}

impl RosteredOperator {
    /// Flexible operators are rostered on the day shift (METRICS.md).
    pub fn new(id: i64, shift_pattern: &str, overtime_eligible: bool) -> Self {
        let shift_code = match shift_pattern {
            "flexible" => "day",
            other => other,
        };
        Self {
            id,
            shift_code: shift_code.to_owned(),
            overtime_eligible,
        }
    }
}

/// Absent time of one operator, as recorded: an operator's ranges may overlap (`Roster::new`
/// merges them).
#[derive(Debug, Clone)]
pub struct AbsentRange {
    pub operator_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Rostered and absent seconds of one operator in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RosteredTime {
    pub shift_s: f64,
    pub absent_s: f64,
}

impl RosteredTime {
    pub fn available_s(&self) -> f64 {
        self.shift_s - self.absent_s
    }
}

/// The roster of one local day, summed over the operators in scope.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterDay {
    pub day: NaiveDate,
    pub available_s: f64,
    pub absent_s: f64,
    /// Shifts of overtime-eligible operators not wholly missed.
    pub overtime_shifts: i64,
    /// Operators with a shift that day not wholly missed (one shift per operator and day).
    pub operators_available: i64,
}

/// A span of time, [from, to).
type Span = (DateTime<Utc>, DateTime<Utc>);

pub struct Roster {
    slots: Vec<ShiftSlot>,
    /// Each slot's shift definition, as an index into the definitions seen among the slots.
    slot_shift: Vec<usize>,
    /// How many shift definitions the slots hold.
    shifts: usize,
    operators: Vec<RosteredOperator>,
    /// Each operator's shift definition (`None`: no slot of it in the window).
    operator_shift: Vec<Option<usize>>,
    /// Each operator's absences, merged and in order.
    absences: Vec<Vec<Span>>,
}

/// A slot clipped to the window: its index in `Roster::slots` and its length.
struct Clipped {
    slot: usize,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

impl Clipped {
    fn seconds(&self) -> f64 {
        seconds(self.starts_at, self.ends_at)
    }
}

/// The absent time of one operator in one clipped slot.
struct AbsentShift {
    operator: usize,
    slot: usize,
    shift_s: f64,
    absent_s: f64,
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(0) as f64 / 1e6
}

/// Sorts and merges overlapping or touching spans, so that overlaps with a shift add up
/// without counting an hour twice.
fn merge(spans: &mut Vec<Span>) {
    spans.sort_unstable();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for &(from, to) in spans.iter() {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    *spans = merged;
}

fn overlap_s(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> Option<f64> {
    let (from, to) = (a.0.max(b.0), a.1.min(b.1));
    (from < to).then(|| seconds(from, to))
}

impl Roster {
    /// Names become indexes once here: each of the three walks over the roster per operator
    /// load looked an operator's absences and shift up by hash (10 % of that query's client
    /// time).
    pub fn new(
        slots: Vec<ShiftSlot>,
        operators: Vec<RosteredOperator>,
        absences: Vec<AbsentRange>,
    ) -> Self {
        let mut shift_of: HashMap<&str, usize> = HashMap::new();
        let slot_shift: Vec<usize> = slots
            .iter()
            .map(|s| {
                let next = shift_of.len();
                *shift_of.entry(s.code.as_str()).or_insert(next)
            })
            .collect();
        let operator_shift: Vec<Option<usize>> = operators
            .iter()
            .map(|o| shift_of.get(o.shift_code.as_str()).copied())
            .collect();
        let shifts = shift_of.len();
        let position: HashMap<i64, usize> = operators
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id, i))
            .collect();
        let mut by_operator: Vec<Vec<Span>> = vec![Vec::new(); operators.len()];
        for a in absences {
            if let Some(&i) = position.get(&a.operator_id) {
                by_operator[i].push((a.starts_at, a.ends_at));
            }
        }
        for spans in &mut by_operator {
            merge(spans);
        }
        Self {
            slots,
            slot_shift,
            shifts,
            operators,
            operator_shift,
            absences: by_operator,
        }
    }

    /// The slots overlapping [from, to), clipped to it, per shift definition, each in time
    /// order (a shift definition's occurrences do not overlap one another).
    fn clipped(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Vec<Clipped>> {
        let mut by_shift: Vec<Vec<Clipped>> = (0..self.shifts).map(|_| Vec::new()).collect();
        for (i, s) in self.slots.iter().enumerate() {
            let (starts_at, ends_at) = (s.starts_at.max(from), s.ends_at.min(to));
            if starts_at < ends_at {
                by_shift[self.slot_shift[i]].push(Clipped {
                    slot: i,
                    starts_at,
                    ends_at,
                });
            }
        }
        for slots in &mut by_shift {
            slots.sort_unstable_by_key(|c| c.starts_at);
        }
        by_shift
    }

    /// Every (operator, clipped slot) pair an absence touches, with the absent time in it:
    /// for each of an operator's merged absences, a binary search finds the first of their
    /// shifts it can touch, and the walk stops at the first shift after it.
    fn absent_shifts(&self, by_shift: &[Vec<Clipped>]) -> Vec<AbsentShift> {
        let mut out: Vec<AbsentShift> = Vec::new();
        for (oi, ranges) in self.absences.iter().enumerate() {
            let Some(slots) = self.operator_shift[oi].map(|s| &by_shift[s]) else {
                continue;
            };
            for &range in ranges {
                let first = slots.partition_point(|c| c.ends_at <= range.0);
                for c in slots[first..].iter().take_while(|c| c.starts_at < range.1) {
                    let Some(absent_s) = overlap_s(range, (c.starts_at, c.ends_at)) else {
                        continue;
                    };
                    // Ranges are merged and in order: one shift's pieces arrive together.
                    match out.last_mut() {
                        Some(last) if last.operator == oi && last.slot == c.slot => {
                            last.absent_s += absent_s;
                        }
                        _ => out.push(AbsentShift {
                            operator: oi,
                            slot: c.slot,
                            shift_s: c.seconds(),
                            absent_s,
                        }),
                    }
                }
            }
        }
        out
    }

    /// Rostered and absent time per operator in [from, to); every operator in scope is listed.
    pub fn per_operator(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> HashMap<i64, RosteredTime> {
        self.window(from, to).per_operator()
    }

    /// The roster per local day in [from, to), for the days on which someone in scope is
    /// rostered, in date order. A shift belongs to the day it starts on.
    pub fn per_day(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<RosterDay> {
        self.window(from, to).per_day()
    }

    /// The shifts of [from, to) and the absences in them, worked out once for both figures
    /// (the 30-day forecast asks for the days and for the operators).
    pub fn window(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Window<'_> {
        let by_shift = self.clipped(from, to);
        let absent = self.absent_shifts(&by_shift);
        Window {
            roster: self,
            by_shift,
            absent,
        }
    }
}

/// A roster clipped to a window: see [`Roster::window`].
pub struct Window<'a> {
    roster: &'a Roster,
    by_shift: Vec<Vec<Clipped>>,
    absent: Vec<AbsentShift>,
}

impl Window<'_> {
    /// As [`Roster::per_operator`].
    pub fn per_operator(&self) -> HashMap<i64, RosteredTime> {
        let r = self.roster;
        let shift_total: Vec<f64> = self
            .by_shift
            .iter()
            .map(|slots| slots.iter().map(Clipped::seconds).sum())
            .collect();
        let mut times: Vec<RosteredTime> = r
            .operator_shift
            .iter()
            .map(|s| RosteredTime {
                shift_s: s.map_or(0.0, |s| shift_total[s]),
                absent_s: 0.0,
            })
            .collect();
        for a in &self.absent {
            times[a.operator].absent_s += a.absent_s;
        }
        r.operators.iter().map(|o| o.id).zip(times).collect()
    }

    /// As [`Roster::per_day`].
    pub fn per_day(&self) -> Vec<RosterDay> {
        let r = self.roster;
        let mut staffed: Vec<(i64, i64)> = vec![(0, 0); r.shifts];
        for (o, s) in r.operators.iter().zip(&r.operator_shift) {
            if let Some(s) = s {
                staffed[*s].0 += 1;
                staffed[*s].1 += i64::from(o.overtime_eligible);
            }
        }
        let mut days: BTreeMap<NaiveDate, RosterDay> = BTreeMap::new();
        for (slots, &(operators, eligible)) in self.by_shift.iter().zip(&staffed) {
            if operators == 0 {
                continue;
            }
            for c in slots {
                let day = r.slots[c.slot].day;
                let d = days.entry(day).or_insert_with(|| RosterDay {
                    day,
                    available_s: 0.0,
                    absent_s: 0.0,
                    overtime_shifts: 0,
                    operators_available: 0,
                });
                d.available_s += operators as f64 * c.seconds();
                d.operators_available += operators;
                d.overtime_shifts += eligible;
            }
        }
        for a in &self.absent {
            let Some(d) = days.get_mut(&r.slots[a.slot].day) else {
                continue;
            };
            d.available_s -= a.absent_s;
            d.absent_s += a.absent_s;
            if a.absent_s >= a.shift_s {
                d.operators_available -= 1;
                d.overtime_shifts -= i64::from(r.operators[a.operator].overtime_eligible);
            }
        }
        days.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .single()
            .expect("valid time")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("valid date")
    }

    fn slot(code: &str, d: u32, from: DateTime<Utc>, to: DateTime<Utc>) -> ShiftSlot {
        ShiftSlot {
            code: code.into(),
            day: day(d),
            starts_at: from,
            ends_at: to,
        }
    }

    fn absent(op: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> AbsentRange {
        AbsentRange {
            operator_id: op,
            starts_at: from,
            ends_at: to,
        }
    }

    /// Day shifts 06–14 on the 2nd and 3rd; a night shift 22–06 from the 2nd into the 3rd.
    /// Operator 1 (day, eligible) misses 10–11 and 11:30–12 on the 2nd (with a third absence
    /// inside the first, counted once) and the whole 3rd; operator 2 (flexible, so day) is
    /// always there; operator 3 (night) misses the night's first two hours; operator 4 is out
    /// of scope but has an absence row.
    fn plant() -> Roster {
        Roster::new(
            vec![
                slot("day", 2, at(2, 6), at(2, 14)),
                slot("day", 3, at(3, 6), at(3, 14)),
                slot("night", 2, at(2, 22), at(3, 6)),
                slot("evening", 2, at(2, 14), at(2, 22)),
            ],
            vec![
                RosteredOperator::new(1, "day", true),
                RosteredOperator::new(2, "flexible", false),
                RosteredOperator::new(3, "night", true),
            ],
            vec![
                absent(1, at(2, 10), at(2, 11)),
                absent(1, at(2, 10) + chrono::Duration::minutes(15), at(2, 11)),
                absent(1, at(2, 11) + chrono::Duration::minutes(30), at(2, 12)),
                absent(1, at(3, 0), at(4, 0)),
                absent(3, at(2, 20), at(3, 0)),
                absent(4, at(2, 0), at(5, 0)),
            ],
        )
    }

    #[test]
    fn per_operator_sums_shifts_and_the_absent_part_of_them() {
        let r = plant().per_operator(at(2, 0), at(4, 0));
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[&1],
            RosteredTime {
                shift_s: 16.0 * 3600.0,
                absent_s: 1.5 * 3600.0 + 8.0 * 3600.0
            }
        );
        assert_eq!(
            r[&2],
            RosteredTime {
                shift_s: 16.0 * 3600.0,
                absent_s: 0.0
            }
        );
        // The absence 20:00–24:00 takes only the shift's part from 22:00.
        assert_eq!(
            r[&3],
            RosteredTime {
                shift_s: 8.0 * 3600.0,
                absent_s: 2.0 * 3600.0
            }
        );
        assert_eq!(r[&3].available_s(), 6.0 * 3600.0);
    }

    #[test]
    fn the_window_clips_shifts_and_absences() {
        // From 04:00 on the 3rd: the night shift's last two hours and the 3rd's day shift.
        let r = plant().per_operator(at(3, 4), at(3, 12));
        assert_eq!(r[&3].shift_s, 2.0 * 3600.0);
        assert_eq!(r[&3].absent_s, 0.0);
        assert_eq!(r[&1].shift_s, 6.0 * 3600.0);
        assert_eq!(r[&1].absent_s, 6.0 * 3600.0);
        assert_eq!(r[&2].available_s(), 6.0 * 3600.0);
    }

    #[test]
    fn per_day_counts_shifts_not_wholly_missed() {
        let days = plant().per_day(at(2, 0), at(4, 0));
        assert_eq!(
            days,
            vec![
                // Day: two operators × 8 h less 1.5 h; night: 8 h less 2 h. The evening shift
                // has nobody rostered and adds nothing.
                RosterDay {
                    day: day(2),
                    available_s: (16.0 - 1.5 + 6.0) * 3600.0,
                    absent_s: 3.5 * 3600.0,
                    overtime_shifts: 2,
                    operators_available: 3,
                },
                // Operator 1 misses the whole shift: not available, no overtime.
                RosterDay {
                    day: day(3),
                    available_s: 8.0 * 3600.0,
                    absent_s: 8.0 * 3600.0,
                    overtime_shifts: 0,
                    operators_available: 1,
                },
            ]
        );
    }

    #[test]
    fn an_absence_over_several_shifts_counts_in_each_whatever_order_the_slots_came_in() {
        // Slots listed latest first; one absence from the 2nd 12:00 to the 4th 08:00 and one
        // after it on the 4th, 10:00–11:00.
        let r = Roster::new(
            vec![
                slot("day", 4, at(4, 6), at(4, 14)),
                slot("day", 3, at(3, 6), at(3, 14)),
                slot("day", 2, at(2, 6), at(2, 14)),
            ],
            vec![RosteredOperator::new(1, "day", false)],
            vec![
                absent(1, at(4, 10), at(4, 11)),
                absent(1, at(2, 12), at(4, 8)),
            ],
        );
        let t = r.per_operator(at(2, 0), at(5, 0))[&1];
        assert_eq!(t.shift_s, 24.0 * 3600.0);
        assert_eq!(t.absent_s, (2.0 + 8.0 + 2.0 + 1.0) * 3600.0);
        let absent: Vec<f64> = r
            .per_day(at(2, 0), at(5, 0))
            .iter()
            .map(|d| d.absent_s / 3600.0)
            .collect();
        assert_eq!(absent, vec![2.0, 8.0, 3.0]);
    }

    #[test]
    fn nobody_rostered_means_no_days() {
        let r = Roster::new(
            vec![slot("day", 2, at(2, 6), at(2, 14))],
            Vec::new(),
            Vec::new(),
        );
        assert!(r.per_day(at(2, 0), at(3, 0)).is_empty());
        assert!(r.per_operator(at(2, 0), at(3, 0)).is_empty());
    }
}
