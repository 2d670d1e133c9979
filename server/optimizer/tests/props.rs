//! Property tests on random small problems: the checker accepts every schedule the solver
//! returns, and for ≤ 6 tasks the optimum equals a brute-force search.

mod common;

use proptest::prelude::*;
use serde_json::{json, Value};
use takt_optimizer::cpsat::SolveStatus;
use takt_optimizer::ffi::StopHandle;
use takt_optimizer::solve::{solve_in_process, SolveParams};
use takt_optimizer::Problem;

/// One random task: (modes as (machine, duration), setup family, lag after the previous task).
type RandTask = (Vec<(usize, i64)>, usize, i64);

/// A random job shop with flexible machines, releases, lags and setups.
#[derive(Clone, Debug)]
struct Small {
    machines: usize,
    /// Per job: tasks, each (modes (machine, duration), family, lag after previous).
    jobs: Vec<(i64, Vec<RandTask>)>,
    /// setup[m][from][to]
    setup: Vec<[[i64; 2]; 2]>,
}

fn small(max_tasks: usize) -> impl Strategy<Value = Small> {
    (1usize..=3).prop_flat_map(move |machines| {
        let task = (
            prop::collection::btree_map(0..machines, 1i64..=6, 1..=2usize)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
            0usize..2,
            0i64..=3,
        );
        let job = (0i64..=4, prop::collection::vec(task, 1..=3));
        (
            Just(machines),
            prop::collection::vec(job, 1..=3).prop_filter("task count", move |jobs| {
                jobs.iter().map(|j| j.1.len()).sum::<usize>() <= max_tasks
            }),
            prop::collection::vec(
                (0i64..=3, 0i64..=3).prop_map(|(a, b)| [[0, a], [b, 0]]),
                machines,
            ),
        )
            .prop_map(|(machines, jobs, setup)| Small {
                machines,
                jobs,
                setup,
            })
    })
}

fn to_json(s: &Small) -> Value {
    let fam = ["x", "y"];
    let machines: Vec<Value> = (0..s.machines)
        .map(|m| {
            let mut setups = Vec::new();
            for (i, f) in fam.iter().enumerate() {
                for (j, g) in fam.iter().enumerate() {
                    if s.setup[m][i][j] > 0 {
                        setups.push(json!({"from": f, "to": g, "duration": s.setup[m][i][j]}));
                    }
                }
            }
            json!({"id": format!("M{m}"), "setups": setups})
        })
        .collect();
    let mut jobs = Vec::new();
    let mut tasks = Vec::new();
    for (j, (release, ts)) in s.jobs.iter().enumerate() {
        jobs.push(json!({"id": format!("J{j}"), "release": release}));
        for (k, (modes, f, lag)) in ts.iter().enumerate() {
            let after = if k == 0 {
                json!([])
            } else {
                json!([{"task": format!("J{j}-{}", k - 1), "min_lag": lag}])
            };
            tasks.push(json!({
                "id": format!("J{j}-{k}"), "job": format!("J{j}"), "setup_family": fam[*f],
                "modes": modes.iter().map(|(m, d)| json!({"machine": format!("M{m}"), "duration": d})).collect::<Vec<_>>(),
                "after": after
            }));
        }
    }
    json!({"machines": machines, "jobs": jobs, "tasks": tasks})
}

/// Flattened task list for brute force: (job, index in job, modes, family, lag, release).
type Flat = (usize, usize, Vec<(usize, i64)>, usize, i64, i64);

/// Minimum makespan over every machine assignment and every precedence-respecting order,
/// each placed as early as possible after its machine's previous task (plus setup), its
/// job predecessor (plus lag) and its release. Semi-active schedules contain an optimum
/// for makespan, and every semi-active schedule arises from some order.
fn brute_force(s: &Small) -> i64 {
    let flat: Vec<Flat> = s
        .jobs
        .iter()
        .enumerate()
        .flat_map(|(j, (r, ts))| {
            ts.iter()
                .enumerate()
                .map(move |(k, (modes, f, lag))| (j, k, modes.clone(), *f, *lag, *r))
        })
        .collect();
    let n = flat.len();
    let mut best = i64::MAX;
    let mut choice = vec![0usize; n];
    loop {
        let mut order: Vec<usize> = Vec::with_capacity(n);
        let mut used = vec![false; n];
        permute(&flat, s, &choice, &mut order, &mut used, &mut best);
        // next machine assignment
        let mut i = 0;
        loop {
            if i == n {
                return best;
            }
            choice[i] += 1;
            if choice[i] < flat[i].2.len() {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

fn permute(
    flat: &[Flat],
    s: &Small,
    choice: &[usize],
    order: &mut Vec<usize>,
    used: &mut [bool],
    best: &mut i64,
) {
    if order.len() == flat.len() {
        let mut end = vec![0i64; flat.len()];
        let mut mach_end: Vec<Option<(i64, usize)>> = vec![None; s.machines];
        for &t in order.iter() {
            let (j, k, modes, fam, lag, rel) = &flat[t];
            let (m, d) = modes[choice[t]];
            let mut start = *rel;
            if *k > 0 {
                let pred = flat
                    .iter()
                    .position(|x| x.0 == *j && x.1 == k - 1)
                    .unwrap_or(0);
                start = start.max(end[pred] + lag);
            }
            if let Some((e, pf)) = mach_end[m] {
                start = start.max(e + s.setup[m][pf][*fam]);
            }
            end[t] = start + d;
            mach_end[m] = Some((end[t], *fam));
        }
        *best = (*best).min(end.iter().copied().max().unwrap_or(0));
        return;
    }
    for t in 0..flat.len() {
        if used[t] {
            continue;
        }
        let (j, k, ..) = &flat[t];
        // The job predecessor must already be placed.
        if *k > 0 && !order.iter().any(|&o| flat[o].0 == *j && flat[o].1 == k - 1) {
            continue;
        }
        used[t] = true;
        order.push(t);
        permute(flat, s, choice, order, used, best);
        order.pop();
        used[t] = false;
    }
}

fn params() -> SolveParams {
    SolveParams {
        time_limit_s: 5.0,
        workers: 1,
        seed: Some(3),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn optimum_equals_brute_force_for_up_to_6_tasks(s in small(6)) {
        let p: Problem = serde_json::from_value(to_json(&s)).expect("valid");
        let r = solve_in_process(&p, &params(), StopHandle::new()).expect("solve");
        prop_assert_eq!(r.status, SolveStatus::Optimal);
        prop_assert!(r.violations.is_empty(), "{:?}", r.violations);
        prop_assert_eq!(r.makespan, Some(brute_force(&s)));
    }
}

/// Random factory problems with operators, calendars, deadlines and preemptible tasks.
fn factory() -> impl Strategy<Value = Value> {
    let task = (
        prop::collection::btree_map(0usize..3, 1i64..=8, 1..=2usize),
        prop::option::of(1u8..=3),
        any::<bool>(),
        0i64..=10,
    );
    (
        prop::collection::vec(task, 2..=8),
        prop::collection::vec((0i64..40, 1i64..10), 0..=3),
        prop::collection::vec((1u8..=5, 0i64..30, 20i64..60), 1..=3),
        0u32..=20,
    )
        .prop_map(|(tasks, breaks, ops, pct)| {
            let machines: Vec<Value> = (0..3)
                .map(|m| {
                    let un: Vec<Value> = breaks
                        .iter()
                        .filter(|(s, _)| (*s as usize) % 3 == m)
                        .map(|(s, l)| json!({"start": s, "end": s + l}))
                        .collect();
                    json!({"id": format!("M{m}"), "unavailable": un})
                })
                .collect();
            let operators: Vec<Value> = ops
                .iter()
                .enumerate()
                .map(|(i, (lvl, s, len))| {
                    json!({"id": format!("O{i}"), "skills": {"s": lvl},
                           "shifts": [{"start": s, "end": s + len}, {"start": s + len + 10, "end": 400}]})
                })
                .collect();
            let max_level = ops.iter().map(|o| o.0).max().unwrap_or(1);
            let tasks: Vec<Value> = tasks
                .iter()
                .enumerate()
                .map(|(i, (modes, skill, pre, lag))| {
                    let mut t = json!({
                        "id": format!("T{i}"),
                        "preemptible": pre,
                        "modes": modes.iter().map(|(m, d)| json!({"machine": format!("M{m}"), "duration": d})).collect::<Vec<_>>(),
                    });
                    if let Some(l) = skill {
                        t["skill"] = json!({"skill": "s", "min_level": (*l).min(max_level)});
                    }
                    if i > 0 && i % 2 == 0 {
                        t["after"] = json!([{"task": format!("T{}", i - 1), "min_lag": lag}]);
                    }
                    t
                })
                .collect();
            json!({"proficiency_speedup_percent": pct, "machines": machines, "operators": operators, "tasks": tasks})
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_checker_accepts_every_solver_schedule(v in factory()) {
        let p: Problem = serde_json::from_value(v).expect("valid");
        let mut par = params();
        par.time_limit_s = 2.0;
        let r = solve_in_process(&p, &par, StopHandle::new()).expect("solve");
        // Always feasible by construction (long second shifts, no deadlines).
        prop_assert!(r.status.has_solution(), "{:?}", r.status);
        prop_assert!(r.violations.is_empty(), "{:?}\n{:?}", r.violations, r.tasks);
    }
}
