//! The binding alone: a hand-built ft06 model solved in-process must reach the optimum 55.

use takt_optimizer::cpsat::{CpModelBuilder, LinearExpr, SatParams, SolveStatus};
use takt_optimizer::ffi::StopHandle;

#[test]
fn ft06_in_process_reaches_55() {
    let text = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/jobshop/ft06.txt"),
    )
    .expect("ft06 data");
    let mut lines = text.lines();
    let _header = lines.next();
    let mut m = CpModelBuilder::new();
    let horizon = 1000;
    let mut per_machine: Vec<Vec<_>> = vec![Vec::new(); 6];
    let mut job_ends = Vec::new();
    for (j, line) in lines.filter(|l| !l.trim().is_empty()).enumerate() {
        let nums: Vec<i64> = line
            .split_whitespace()
            .map(|t| t.parse().unwrap_or(-1))
            .collect();
        let mut prev_end = None;
        for (k, pair) in nums.chunks(2).enumerate() {
            let (mach, dur) = (pair[0] as usize, pair[1]);
            let s = m.new_int_var(0, horizon, &format!("s{j}_{k}"));
            let e = m.new_int_var(0, horizon, &format!("e{j}_{k}"));
            let iv = m.new_interval(s, dur, e);
            per_machine[mach].push(iv);
            if let Some(p) = prev_end {
                m.add_le(p, s);
            }
            prev_end = Some(e);
        }
        job_ends.push(prev_end.map(LinearExpr::from).unwrap_or_default());
    }
    for ivs in &per_machine {
        m.add_no_overlap(ivs);
    }
    let mk = m.new_int_var(0, horizon, "makespan");
    m.add_max_equality(mk, job_ends);
    m.minimize(mk);
    let params = SatParams {
        max_time_in_seconds: 10.0,
        num_workers: 2,
        ..Default::default()
    };
    let sol = m.solve(&params, &StopHandle::new()).expect("solve");
    assert_eq!(sol.status(), SolveStatus::Optimal);
    assert_eq!(sol.value(mk), 55);
    assert!((sol.bound() - 55.0).abs() < 1e-9);
}

#[test]
fn optional_intervals_bools_circuit_and_assumptions() {
    // Two tasks of length 3 and 4 on one machine; circuit orders them; each must choose
    // between two machines via exactly_one; an assumption forces an infeasible deadline.
    let mut m = CpModelBuilder::new();
    let s = [m.new_int_var(0, 20, "s0"), m.new_int_var(0, 20, "s1")];
    let e = [m.new_int_var(0, 20, "e0"), m.new_int_var(0, 20, "e1")];
    let ivs = [m.new_interval(s[0], 3, e[0]), m.new_interval(s[1], 4, e[1])];
    m.add_no_overlap(&ivs);
    let a = m.new_bool_var("a");
    let b = m.new_bool_var("b");
    m.add_exactly_one(&[a, b]);
    let opt = m.new_optional_interval(s[0], 3, e[0], a);
    m.add_no_overlap(&[opt]);
    let guard = m.new_bool_var("deadline");
    let c = m.add_le(e[1], 3);
    m.only_enforce_if(c, &[guard]);
    let c2 = m.add_le(e[0], 3);
    m.only_enforce_if(c2, &[guard]);
    m.add_assumption(guard);
    let sol = m
        .solve(&SatParams::default(), &StopHandle::new())
        .expect("solve");
    assert_eq!(sol.status(), SolveStatus::Infeasible);
    assert_eq!(
        sol.response.sufficient_assumptions_for_infeasibility,
        vec![guard.raw()]
    );

    // Circuit over 3 nodes (0 = depot) and a lin_max objective.
    let mut m = CpModelBuilder::new();
    let l01 = m.new_bool_var("");
    let l12 = m.new_bool_var("");
    let l20 = m.new_bool_var("");
    let l02 = m.new_bool_var("");
    let l21 = m.new_bool_var("");
    let l10 = m.new_bool_var("");
    m.add_circuit(&[
        (0, 1, l01),
        (1, 2, l12),
        (2, 0, l20),
        (0, 2, l02),
        (2, 1, l21),
        (1, 0, l10),
    ]);
    let cost =
        LinearExpr::weighted_sum([(l01, 1), (l12, 1), (l20, 1), (l02, 5), (l21, 5), (l10, 5)]);
    m.minimize(cost);
    m.add_bool_hint(l01, true);
    let sol = m
        .solve(&SatParams::default(), &StopHandle::new())
        .expect("solve");
    assert_eq!(sol.status(), SolveStatus::Optimal);
    assert_eq!(sol.objective(), 3.0);
    assert!(sol.bool_value(l01) && !sol.bool_value(!l01));
}

#[test]
fn missing_library_is_a_typed_error() {
    let err = takt_optimizer::ffi::load_from(&["/nonexistent/takt".into()])
        .err()
        .expect("must fail");
    assert!(matches!(
        err,
        takt_optimizer::OptimizerError::LibraryNotFound { .. }
    ));
    assert!(err.to_string().contains("ORTOOLS_LIB_DIR"), "{err}");
}
