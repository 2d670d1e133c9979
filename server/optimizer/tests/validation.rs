//! Every validation rule rejects bad data with an error naming the task and the rule.

use serde_json::{json, Value};
use takt_optimizer::formats::{parse_fjs, parse_jobshop, FormatError};
use takt_optimizer::problem::{Problem, ProblemError, ProblemSpec};

fn base() -> Value {
    json!({
        "machines": [{"id": "M1"}, {"id": "M2"}],
        "operators": [{"id": "ann", "skills": {"weld": 3}}],
        "jobs": [{"id": "J1"}],
        "tasks": [
            {"id": "A", "job": "J1", "modes": [{"machine": "M1", "duration": 5}]},
            {"id": "B", "job": "J1", "modes": [{"machine": "M2", "duration": 4}], "after": [{"task": "A"}]}
        ]
    })
}

fn validate(v: Value) -> Result<Problem, ProblemError> {
    let spec: ProblemSpec = serde_json::from_value(v).expect("shape");
    Problem::new(spec)
}

fn err_with(f: impl FnOnce(&mut Value)) -> ProblemError {
    let mut v = base();
    f(&mut v);
    validate(v).expect_err("must be rejected")
}

#[test]
fn the_base_problem_is_valid() {
    assert!(validate(base()).is_ok());
}

#[test]
fn no_tasks() {
    assert_eq!(err_with(|v| v["tasks"] = json!([])), ProblemError::NoTasks);
}

#[test]
fn duplicate_ids() {
    let e = err_with(|v| v["tasks"][1]["id"] = json!("A"));
    assert!(
        matches!(&e, ProblemError::DuplicateId { kind: "task", id } if id == "A"),
        "{e}"
    );
    let e = err_with(|v| v["machines"][1]["id"] = json!("M1"));
    assert!(matches!(
        e,
        ProblemError::DuplicateId {
            kind: "machine",
            ..
        }
    ));
}

#[test]
fn a_task_no_machine_can_run() {
    let e = err_with(|v| v["tasks"][0]["modes"] = json!([]));
    assert_eq!(
        e.to_string(),
        "task `A`: no machine can run it (no modes listed)"
    );
}

#[test]
fn unknown_machine() {
    let e = err_with(|v| v["tasks"][0]["modes"][0]["machine"] = json!("M9"));
    assert!(matches!(e, ProblemError::UnknownMachine { .. }));
    assert!(e.to_string().contains("task `A`") && e.to_string().contains("M9"));
}

#[test]
fn zero_and_negative_durations() {
    for d in [0, -3] {
        let e = err_with(|v| v["tasks"][1]["modes"][0]["duration"] = json!(d));
        assert!(matches!(e, ProblemError::NonPositiveDuration { .. }), "{e}");
        assert!(e.to_string().starts_with("task `B`"));
    }
}

#[test]
fn unknown_job_and_predecessor() {
    let e = err_with(|v| v["tasks"][0]["job"] = json!("J9"));
    assert!(matches!(e, ProblemError::UnknownJob { .. }));
    let e = err_with(|v| v["tasks"][1]["after"][0]["task"] = json!("Z"));
    assert!(matches!(e, ProblemError::UnknownPredecessor { .. }));
    assert!(e.to_string().contains("task `B`: unknown predecessor `Z`"));
}

#[test]
fn cyclic_precedence_names_the_cycle() {
    let e = err_with(|v| v["tasks"][0]["after"] = json!([{"task": "B"}]));
    let ProblemError::CyclicPrecedence { cycle } = &e else {
        panic!("{e}")
    };
    assert_eq!(cycle.len(), 3);
    assert_eq!(cycle.first(), cycle.last());
    assert!(e.to_string().starts_with("cyclic precedence: "), "{e}");
}

#[test]
fn no_qualified_operator() {
    let e = err_with(|v| v["tasks"][0]["skill"] = json!({"skill": "weld", "min_level": 4}));
    assert_eq!(
        e.to_string(),
        "task `A`: no operator has skill `weld` at level 4 or above"
    );
    let e = err_with(|v| v["tasks"][0]["skill"] = json!({"skill": "paint", "min_level": 1}));
    assert!(matches!(e, ProblemError::NoQualifiedOperator { .. }));
}

#[test]
fn skill_levels_outside_1_to_5() {
    let e = err_with(|v| v["operators"][0]["skills"]["weld"] = json!(6));
    assert!(matches!(e, ProblemError::InvalidLevel { level: 6, .. }));
    let e = err_with(|v| v["tasks"][0]["skill"] = json!({"skill": "weld", "min_level": 0}));
    assert!(matches!(e, ProblemError::InvalidLevel { level: 0, .. }));
}

#[test]
fn release_after_deadline_and_too_short_windows() {
    let e = err_with(|v| {
        v["tasks"][0]["release"] = json!(50);
        v["tasks"][0]["deadline"] = json!(40);
    });
    assert_eq!(
        e.to_string(),
        "task `A`: release t=50 is after its deadline t=40"
    );
    let e = err_with(|v| {
        v["jobs"][0]["release"] = json!(10);
        v["jobs"][0]["deadline"] = json!(13);
    });
    assert!(matches!(e, ProblemError::WindowTooShort { .. }), "{e}");
}

#[test]
fn empty_windows() {
    let e = err_with(|v| v["machines"][0]["unavailable"] = json!([{"start": 10, "end": 10}]));
    assert!(matches!(e, ProblemError::InvalidWindow { .. }));
    let e = err_with(|v| v["operators"][0]["shifts"] = json!([{"start": -5, "end": 10}]));
    assert!(matches!(e, ProblemError::InvalidWindow { .. }));
}

#[test]
fn pins_must_be_possible() {
    let e =
        err_with(|v| v["tasks"][0]["fixed"] = json!({"task": "A", "machine": "M2", "start": 0}));
    assert!(matches!(e, ProblemError::PinnedToIneligibleMachine { .. }));
    let e = err_with(|v| {
        v["tasks"][0]["skill"] = json!({"skill": "weld", "min_level": 1});
        v["tasks"][0]["fixed"] =
            json!({"task": "A", "machine": "M1", "start": 0, "operator": "bob"});
    });
    assert!(matches!(e, ProblemError::PinnedOperatorUnqualified { .. }));
    let e = err_with(|v| {
        v["tasks"][0]["skill"] = json!({"skill": "weld", "min_level": 1});
        v["tasks"][0]["fixed"] = json!({"task": "A", "machine": "M1", "start": 0});
    });
    assert!(matches!(e, ProblemError::PinnedWithoutOperator { .. }));
    let e =
        err_with(|v| v["tasks"][0]["fixed"] = json!({"task": "B", "machine": "M1", "start": 0}));
    assert!(matches!(e, ProblemError::PinnedMismatch { .. }));
    let e = err_with(|v| v["tasks"][0]["status"] = json!("in_progress"));
    assert!(matches!(e, ProblemError::StatusWithoutAssignment { .. }));
}

#[test]
fn setups_weights_baseline_speedup_lag_and_span() {
    let e = err_with(|v| {
        v["machines"][0]["setups"] = json!([{"from": "a", "to": "b", "duration": -1}])
    });
    assert!(matches!(e, ProblemError::NegativeSetup { .. }));
    let e = err_with(|v| v["jobs"][0]["weight"] = json!(0));
    assert!(matches!(e, ProblemError::NonPositiveWeight { .. }));
    let e = err_with(|v| v["baseline"] = json!([{"task": "Q", "machine": "M1", "start": 0}]));
    assert!(matches!(e, ProblemError::InvalidBaseline(_)));
    let e = err_with(|v| v["proficiency_speedup_percent"] = json!(30));
    assert!(matches!(e, ProblemError::SpeedupTooLarge(30)));
    let e = err_with(|v| v["tasks"][1]["after"][0]["min_lag"] = json!(-2));
    assert!(matches!(e, ProblemError::InvalidTaskValue { .. }));
    let e = err_with(|v| v["tasks"][0]["max_span"] = json!(2));
    assert!(matches!(e, ProblemError::InvalidTaskValue { .. }));
}

#[test]
fn json_deserialization_runs_validation() {
    let mut v = base();
    v["tasks"][0]["modes"] = json!([]);
    let err = serde_json::from_value::<Problem>(v).expect_err("invalid");
    assert!(err.to_string().contains("no machine can run it"));
}

#[test]
fn format_errors_carry_line_numbers() {
    let e = parse_jobshop("2 2\n0 3 1 2\n0 x 1 4\n").expect_err("bad token");
    assert_eq!(
        e,
        FormatError::Line {
            line: 3,
            message: "`x` is not an integer".into()
        }
    );
    let e = parse_jobshop("2 2\n0 3 1\n").expect_err("odd");
    assert!(matches!(e, FormatError::Line { line: 2, .. }), "{e}");
    let e = parse_jobshop("2 2\n0 3 5 2\n0 1 1 4\n").expect_err("machine range");
    assert!(e.to_string().starts_with("line 2: machine 5"), "{e}");
    let e = parse_jobshop("2 2\n0 3 1 2\n").expect_err("missing job");
    assert!(
        e.to_string().contains("expected 2 job lines, found 1"),
        "{e}"
    );
    let e = parse_fjs("1 2 1\n2 1 1 5 2 1 3\n").expect_err("truncated");
    assert!(e.to_string().starts_with("line 2: operation 2"), "{e}");
    let e = parse_fjs("1 2 1\n\n1 1 3 5\n").expect_err("machine 3 of 2");
    assert!(e.to_string().starts_with("line 3:"), "{e}");
    let e = takt_optimizer::formats::parse(
        "{\n \"tasks\": 3\n}",
        takt_optimizer::formats::Format::Json,
    )
    .expect_err("json");
    assert!(e.to_string().starts_with("line 2:"), "{e}");
}

#[test]
fn all_shipped_instances_parse() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let mut n = 0;
    for (dir, ext) in [("jobshop", "txt"), ("fjsp", "fjs")] {
        for entry in std::fs::read_dir(root.join(dir)).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some(ext) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let r = if ext == "txt" {
                parse_jobshop(&text)
            } else {
                parse_fjs(&text)
            };
            assert!(r.is_ok(), "{}: {:?}", path.display(), r.err());
            n += 1;
        }
    }
    assert_eq!(n, 43 + 64);
}
