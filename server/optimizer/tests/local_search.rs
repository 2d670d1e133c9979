//! The job-shop tabu search alone (no CP-SAT): what it applies to, that its schedules pass
//! the independent checker, and that it finds known optima of small shops.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use takt_optimizer::checker::check;
use takt_optimizer::dispatch::{greedy, schedule, Placement};
use takt_optimizer::formats::parse_jobshop;
use takt_optimizer::local_search::{improve, Budget, JobShop};
use takt_optimizer::problem::Problem;

fn makespan(plan: &[Placement]) -> i64 {
    plan.iter().map(|pl| pl.end).max().unwrap_or(0)
}

/// A run bounded by moves, not by the clock, so it is the same on every machine.
fn search(p: &Problem, moves: u64, seed: u64) -> Vec<Placement> {
    let shop = JobShop::of(p).expect("a pure job shop");
    let budget = Budget {
        until: Instant::now() + Duration::from_secs(600),
        max_moves: moves,
        seed,
    };
    improve(&shop, &greedy(p), budget, &|| false).expect("a complete start")
}

#[test]
fn ft06_reaches_its_optimum_55_from_the_dispatching_rule() {
    let p = parse_jobshop(&common::read("jobshop/ft06.txt")).expect("parse");
    assert!(
        makespan(&greedy(&p)) > 55,
        "the start is not already optimal"
    );
    for seed in 0..3 {
        let plan = search(&p, 5_000, seed);
        assert_eq!(check(&p, &schedule(&p, &plan)), vec![], "seed {seed}");
        assert_eq!(makespan(&plan), 55, "seed {seed}");
    }
}

#[test]
fn la01_improves_on_the_dispatching_rule_and_passes_the_checker() {
    let p = parse_jobshop(&common::read("jobshop/la01.txt")).expect("parse");
    let start = makespan(&greedy(&p));
    let plan = search(&p, 20_000, 1);
    assert_eq!(check(&p, &schedule(&p, &plan)), vec![]);
    // la01's optimum is 666.
    assert!(makespan(&plan) < start, "{} vs {start}", makespan(&plan));
    assert!(makespan(&plan) >= 666);
    assert!(makespan(&plan) <= 680, "{}", makespan(&plan));
}

#[test]
fn releases_lags_and_the_frozen_window_are_kept() {
    // Two jobs on two machines; B2 waits 4 after B1; A1 is released at 3; nothing before 1.
    let p = common::problem(json!({
        "frozen_until": 1,
        "machines": [{"id": "M"}, {"id": "N"}],
        "tasks": [
            {"id": "A1", "release": 3, "modes": [{"machine": "M", "duration": 5}]},
            {"id": "A2", "modes": [{"machine": "N", "duration": 2}], "after": [{"task": "A1"}]},
            {"id": "B1", "modes": [{"machine": "N", "duration": 3}]},
            {"id": "B2", "modes": [{"machine": "M", "duration": 4}], "after": [{"task": "B1", "min_lag": 4}]}
        ]
    }));
    let plan = search(&p, 1_000, 0);
    assert_eq!(check(&p, &schedule(&p, &plan)), vec![]);
    // B1 1–4, B2 8–12 after its lag, A1 3–8 before it on M, A2 8–10: 12 is optimal.
    assert_eq!(makespan(&plan), 12);
}

#[test]
fn only_pure_job_shops_are_searched() {
    let choice = common::problem(json!({
        "machines": [{"id": "M"}, {"id": "N"}],
        "tasks": [{"id": "A", "modes": [{"machine": "M", "duration": 5}, {"machine": "N", "duration": 6}]}]
    }));
    assert!(JobShop::of(&choice).is_none(), "a machine choice");
    let calendar = common::problem(json!({
        "machines": [{"id": "M", "unavailable": [{"start": 5, "end": 10}]}],
        "tasks": [{"id": "A", "modes": [{"machine": "M", "duration": 5}]}]
    }));
    assert!(JobShop::of(&calendar).is_none(), "a machine calendar");
    let operator = common::problem(json!({
        "machines": [{"id": "M"}],
        "operators": [{"id": "o", "skills": {"s": 2}}],
        "tasks": [{"id": "A", "skill": {"skill": "s", "min_level": 1}, "modes": [{"machine": "M", "duration": 5}]}]
    }));
    assert!(JobShop::of(&operator).is_none(), "an operator");
    let plain = common::problem(json!({
        "machines": [{"id": "M"}],
        "tasks": [{"id": "A", "modes": [{"machine": "M", "duration": 5}]}]
    }));
    assert!(JobShop::of(&plain).is_some());
}
