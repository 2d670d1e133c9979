//! `takt solve` through the stand-alone binary: JSON output fields and error reporting.

mod common;

use std::process::Command;

fn solve(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_takt-solve-worker"))
        .arg("solve")
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run")
}

#[test]
fn json_output_has_the_documented_fields() {
    let ft06 = common::data("jobshop/ft06.txt");
    let out = solve(&[
        ft06.to_str().expect("path"),
        "--json",
        "--time-limit",
        "10",
        "--workers",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["makespan"], 55);
    assert_eq!(v["objective"], 55.0);
    assert_eq!(v["bound"], 55.0);
    assert_eq!(v["gap"], 0.0);
    assert!(v["wall_time_s"].as_f64().is_some_and(|t| t > 0.0));
    assert_eq!(v["tasks"].as_array().map(Vec::len), Some(36));
    assert_eq!(v["violations"], serde_json::json!([]));
    assert!(v["kpis"]["machine_utilization"]["M1"].as_f64().is_some());
}

#[test]
fn fjs_table_output_and_objective_flags() {
    let mk01 = common::data("fjsp/brandimarte01.fjs");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/factory.json");
    let out = solve(&[mk01.to_str().expect("path"), "--time-limit", "5"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("checker: schedule is valid"), "{text}");
    let out = solve(&[
        example,
        "--json",
        "--time-limit",
        "5",
        "--objective",
        "weighted-tardiness,makespan",
        "--lexicographic",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kpis"]["total_weighted_tardiness"], 0);
    assert_eq!(v["violations"], serde_json::json!([]));
}

#[test]
fn bad_files_fail_with_the_line_number() {
    let dir = std::env::temp_dir().join(format!("takt-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "2 2\n0 3 1 2\n0 3 1\n").expect("write");
    let out = solve(&[bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3: odd number of values"), "{err}");
    let infeasible = dir.join("inf.json");
    std::fs::write(
        &infeasible,
        r#"{"machines": [{"id": "M", "unavailable": [{"start": 0, "end": 50, "label": "planned maintenance"}]}],
            "jobs": [{"id": "J-1", "deadline": 40}],
            "tasks": [{"id": "T", "job": "J-1", "modes": [{"machine": "M", "duration": 5}]}]}"#,
    )
    .expect("write");
    let out = solve(&[infeasible.to_str().expect("path"), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "infeasible");
    let summary = v["explanation"]["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("planned maintenance of machine M")
            && summary.contains("deadline of job J-1"),
        "{summary}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
