//! The demo factory generator: deterministic, internally consistent, and loadable.
// A failing test panics with the value it got; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use takt_server::demo::{generate, seed_if_empty, DemoSize, Factory, GenerateOptions, SeedOutcome};

fn options(seed: u64) -> GenerateOptions {
    GenerateOptions {
        size: DemoSize::Demo,
        seed,
        now: "2026-11-28T12:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        plant_tz: chrono_tz::Europe::Berlin,
    }
}

fn digest(f: &Factory) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for a in &f.assignments {
        (
            a.task_id,
            a.machine_id,
            a.operator_id,
            a.scheduled_start,
            a.scheduled_end,
            a.setup_s,
            a.actual_start,
            a.actual_end,
            a.good_qty,
            a.scrap_qty,
        )
            .hash(&mut h);
    }
    for j in &f.jobs {
        (
            &j.code,
            j.quantity,
            j.released_at,
            j.due_at,
            j.priority,
            j.status,
            j.completed_at,
        )
            .hash(&mut h);
    }
    for d in &f.downtimes {
        (d.machine_id, d.starts_at, d.ends_at).hash(&mut h);
    }
    for a in &f.absences {
        (a.operator_id, a.starts_at, a.ends_at).hash(&mut h);
    }
    h.finish()
}

#[test]
fn the_same_seed_gives_the_same_factory() {
    let a = generate(&options(7));
    let b = generate(&options(7));
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(a.assignments.len(), b.assignments.len());
    let c = generate(&options(8));
    assert_ne!(digest(&a), digest(&c), "another seed gives another factory");
}

#[test]
fn the_demo_factory_has_the_promised_shape_and_history() {
    let f = generate(&options(42));
    assert_eq!(f.departments.len(), 4);
    assert_eq!(f.machines.len(), 40);
    assert_eq!(f.operators.len(), 120);
    let now = f.now;
    let year_ago = now - 365 * 86_400;
    assert!(
        f.assignments
            .iter()
            .any(|a| a.scheduled_start < year_ago + 7 * 86_400),
        "history starts a year back"
    );
    assert!(
        f.assignments
            .iter()
            .any(|a| a.scheduled_start > now + 7 * 86_400),
        "an order book for the coming weeks"
    );
    let done = f
        .assignments
        .iter()
        .filter(|a| a.actual_end.is_some())
        .count();
    assert!(done > 10_000, "a year of executed work, got {done}");
    assert!(f.jobs.iter().any(|j| j.is_rush), "rush orders");
    assert!(
        f.jobs
            .iter()
            .any(|j| j.completed_at.is_some_and(|c| c > j.due_at)),
        "some jobs finished late"
    );
    assert!(
        f.downtimes.iter().any(|d| d.kind == "breakdown"),
        "breakdowns"
    );
    assert!(f.absences.iter().any(|a| a.kind == "sick"), "absences");
    assert!(
        f.assignments
            .iter()
            .any(|a| a.scrap_qty.is_some_and(|s| s > 0)),
        "scrap"
    );
    let variance = f
        .assignments
        .iter()
        .filter_map(|a| {
            Some(
                (a.actual_end? - a.actual_start?) as f64
                    / (a.scheduled_end - a.scheduled_start) as f64,
            )
        })
        .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(r), hi.max(r)));
    assert!(
        variance.0 < 0.95 && variance.1 > 1.1,
        "actual vs planned varies: {variance:?}"
    );
}

#[test]
fn the_demo_factory_is_internally_consistent() {
    let f = generate(&options(42));
    // No two scheduled assignments overlap on a machine or an operator.
    for key in [0, 1] {
        let mut by: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for a in &f.assignments {
            by.entry(if key == 0 {
                a.machine_id
            } else {
                a.operator_id
            })
            .or_default()
            .push((a.scheduled_start, a.scheduled_end));
        }
        for (id, mut spans) in by {
            spans.sort_unstable();
            for w in spans.windows(2) {
                assert!(
                    w[0].1 <= w[1].0,
                    "overlap on {} {id}: {w:?}",
                    if key == 0 { "machine" } else { "operator" }
                );
            }
        }
    }
    // Actual runs never overlap on a machine either.
    let mut actual: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    for a in &f.assignments {
        if let (Some(s), Some(e)) = (a.actual_start, a.actual_end) {
            actual.entry(a.machine_id).or_default().push((s, e));
        }
    }
    for spans in actual.values_mut() {
        spans.sort_unstable();
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
    }
    // Work starts after release, the operator holds the skill at the level, precedence holds.
    let job_release: HashMap<i64, i64> = f.jobs.iter().map(|j| (j.id, j.released_at)).collect();
    let task = |id: i64| &f.tasks[(id - 1) as usize];
    let skills: HashSet<(i64, i64, i16)> = f
        .operator_skills
        .iter()
        .map(|s| (s.operator_id, s.skill_id, s.level))
        .collect();
    let by_task: HashMap<i64, &takt_server::demo::generate::AssignmentRow> =
        f.assignments.iter().map(|a| (a.task_id, a)).collect();
    let eligible: HashSet<(i64, i64)> = f
        .task_machine_options
        .iter()
        .map(|o| (o.task_id, o.machine_id))
        .collect();
    for a in &f.assignments {
        let t = task(a.task_id);
        let release = job_release[&t.job_id];
        assert!(a.scheduled_start >= release);
        if let Some(s) = a.actual_start {
            assert!(s >= release, "actual start before release");
        }
        let qualified = (t.min_skill_level..=5)
            .any(|l| skills.contains(&(a.operator_id, t.required_skill_id, l)));
        assert!(
            qualified,
            "operator {} lacks skill {} at level {}",
            a.operator_id, t.required_skill_id, t.min_skill_level
        );
        assert!(
            eligible.contains(&(a.task_id, a.machine_id)),
            "machine not eligible"
        );
    }
    for p in &f.precedences {
        if let (Some(a), Some(b)) = (by_task.get(&p.predecessor_id), by_task.get(&p.successor_id)) {
            assert!(
                a.scheduled_end + p.min_lag_s as i64 <= b.scheduled_start,
                "precedence {} -> {}",
                p.predecessor_id,
                p.successor_id
            );
        }
    }
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn seeding_loads_everything_once(pool: PgPool) {
    let opts = GenerateOptions {
        size: DemoSize::Machines(12),
        ..options(3)
    };
    let expected = generate(&opts);
    let counts = match seed_if_empty(&pool, &opts).await.unwrap() {
        SeedOutcome::Seeded(c) => c,
        SeedOutcome::AlreadyHasFactory { .. } => panic!("database was empty"),
    };
    assert_eq!(counts.assignments, expected.assignments.len());
    let in_db: i64 = sqlx::query_scalar("SELECT count(*) FROM assignments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(in_db as usize, expected.assignments.len());
    // Skills match in the database too.
    let unqualified: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id
         LEFT JOIN operator_skills s ON s.operator_id = a.operator_id AND s.skill_id = t.required_skill_id AND s.level >= t.min_skill_level
         WHERE s.operator_id IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unqualified, 0);
    let before_release: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN jobs j ON j.id = t.job_id WHERE a.actual_start < j.released_at",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(before_release, 0);
    // New rows continue after the loaded ids.
    sqlx::query("INSERT INTO products (code, name) VALUES ('P-NEW', 'New')")
        .execute(&pool)
        .await
        .unwrap();
    // A second seed never overwrites the plant.
    assert!(matches!(
        seed_if_empty(&pool, &opts).await.unwrap(),
        SeedOutcome::AlreadyHasFactory { .. }
    ));
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM domain_events WHERE event_type = 'DemoFactorySeeded'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events, 1);
}
