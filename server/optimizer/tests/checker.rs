//! The independent checker reports each broken rule with task, resource and times.

mod common;

use serde_json::json;
use takt_optimizer::checker::{check, Rule, Schedule};
use takt_optimizer::problem::{Assignment, Time};

fn a(task: &str, machine: &str, op: Option<&str>, start: i64, end: i64) -> Assignment {
    Assignment {
        task: task.into(),
        machine: machine.into(),
        operator: op.map(Into::into),
        start: Time(start),
        end: Some(Time(end)),
    }
}

fn rules(v: &[takt_optimizer::Violation]) -> Vec<Rule> {
    v.iter().map(|x| x.rule).collect()
}

#[test]
fn valid_and_invalid_manual_edits() {
    let p = common::problem(json!({
        "proficiency_speedup_percent": 10,
        "machines": [
            {"id": "M", "unavailable": [{"start": 100, "end": 110, "label": "maintenance"}],
             "setups": [{"from": "x", "to": "y", "duration": 5}]},
            {"id": "N"}
        ],
        "operators": [{"id": "o", "skills": {"s": 3}, "shifts": [{"start": 0, "end": 200}]},
                      {"id": "p", "skills": {"s": 1}}],
        "jobs": [{"id": "J", "deadline": 150, "release": 2}],
        "tasks": [
            {"id": "A", "job": "J", "setup_family": "x", "skill": {"skill": "s", "min_level": 1},
             "modes": [{"machine": "M", "duration": 10}]},
            {"id": "B", "job": "J", "setup_family": "y", "modes": [{"machine": "M", "duration": 10}, {"machine": "N", "duration": 20}],
             "after": [{"task": "A", "min_lag": 3}]}
        ]
    }));
    // Operator o is 2 levels above the minimum: 10 × 0.8 = 8.
    let good = Schedule {
        tasks: vec![a("A", "M", Some("o"), 2, 10), a("B", "M", None, 15, 25)],
    };
    assert!(check(&p, &good).is_empty(), "{:?}", check(&p, &good));

    let cases: Vec<(Schedule, Rule)> = vec![
        (
            Schedule {
                tasks: vec![a("A", "M", Some("o"), 2, 10), a("B", "M", None, 12, 22)],
            },
            Rule::Setup,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("p"), 2, 12), a("B", "M", None, 8, 18)],
            },
            Rule::MachineOverlap,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("p"), 2, 12), a("B", "N", None, 13, 33)],
            },
            Rule::Precedence,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("o"), 2, 12), a("B", "M", None, 15, 25)],
            },
            Rule::Duration,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("p"), 0, 10), a("B", "N", None, 15, 35)],
            },
            Rule::Release,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("p"), 2, 12), a("B", "M", None, 102, 112)],
            },
            Rule::MachineUnavailable,
        ),
        (
            Schedule {
                tasks: vec![
                    a("A", "M", Some("o"), 195, 203),
                    a("B", "N", None, 210, 230),
                ],
            },
            Rule::OperatorUnavailable,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("p"), 2, 12), a("B", "N", None, 140, 160)],
            },
            Rule::Deadline,
        ),
        (
            Schedule {
                tasks: vec![a("A", "N", Some("p"), 2, 12), a("B", "N", None, 20, 40)],
            },
            Rule::IneligibleMachine,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", None, 2, 12), a("B", "N", None, 20, 40)],
            },
            Rule::Operator,
        ),
        (
            Schedule {
                tasks: vec![a("A", "M", Some("p"), 2, 12)],
            },
            Rule::Unscheduled,
        ),
    ];
    for (s, rule) in cases {
        let v = check(&p, &s);
        assert!(rules(&v).contains(&rule), "expected {rule:?}, got {v:?}");
        let hit = v.iter().find(|x| x.rule == rule).expect("hit");
        assert!(!hit.task.is_empty() && !hit.message.is_empty());
    }
}

#[test]
fn operator_double_booking_and_long_task_overlap() {
    let p = common::problem(json!({
        "machines": [{"id": "M"}, {"id": "N"}],
        "operators": [{"id": "o", "skills": {"s": 1}}],
        "tasks": [
            {"id": "A", "skill": {"skill": "s", "min_level": 1}, "modes": [{"machine": "M", "duration": 10}]},
            {"id": "B", "skill": {"skill": "s", "min_level": 1}, "modes": [{"machine": "N", "duration": 10}]},
            {"id": "C", "modes": [{"machine": "M", "duration": 30}]},
            {"id": "D", "modes": [{"machine": "M", "duration": 1}]}
        ]
    }));
    let s = Schedule {
        tasks: vec![
            a("A", "M", Some("o"), 0, 10),
            a("B", "N", Some("o"), 5, 15),
            a("C", "M", None, 10, 40),
            a("D", "M", None, 35, 36),
        ],
    };
    let v = check(&p, &s);
    assert!(rules(&v).contains(&Rule::OperatorOverlap), "{v:?}");
    let overlap = v
        .iter()
        .find(|x| x.rule == Rule::MachineOverlap)
        .expect("C covers D");
    assert_eq!(
        (overlap.task.as_str(), overlap.other_task.as_deref()),
        ("D", Some("C"))
    );
    assert_eq!(overlap.resource.as_deref(), Some("M"));
}
