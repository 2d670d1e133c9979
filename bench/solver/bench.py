#!/usr/bin/env python3
"""Side-by-side solver benchmark: Takt vs. the same model in OR-Tools' Python cp_model vs. PyJobShop.

Same instances, same time limit, same workers, one run. Also times model build + encoding of a
generated 10,000-task factory against PyJobShop's model build on the same data.

Usage: bench.py --takt PATH [--time-limit S] [--workers N] [--data DIR] [--build-tasks N] [INSTANCE ...]
`PATH solve FILE --json ...` must work (the `takt` server binary or the optimizer's test binary).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ortools.sat.python import cp_model

DEFAULT = (
    ["ft06", "ft10"]
    + [f"la{i:02d}" for i in range(1, 41)]
    + [f"brandimarte{i:02d}" for i in range(1, 11)]
)


# ------------------------------------------------------------------------------------------------
# Instances
# ------------------------------------------------------------------------------------------------


def read_instance(path: Path) -> list[list[list[tuple[int, int]]]]:
    """Jobs -> operations -> alternatives (machine from 0, duration)."""
    lines = [l.split() for l in path.read_text().splitlines() if l.strip()]
    jobs = []
    if path.suffix == ".fjs":
        for toks in lines[1:]:
            vals = list(map(int, toks))
            n, i, ops = vals[0], 1, []
            for _ in range(n):
                k = vals[i]
                i += 1
                ops.append([(vals[i + 2 * a] - 1, vals[i + 2 * a + 1]) for a in range(k)])
                i += 2 * k
            jobs.append(ops)
    else:
        for toks in lines[1:]:
            vals = list(map(int, toks))
            jobs.append([[(vals[i], vals[i + 1])] for i in range(0, len(vals), 2)])
    return jobs


def find_instance(data: Path, name: str) -> tuple[Path, int | None]:
    for sub, ext, col in (("jobshop", ".txt", "optimum"), ("fjsp", ".fjs", "best_known")):
        p = data / sub / f"{name}{ext}"
        if p.exists():
            best = None
            with open(data / sub / "bounds.csv") as f:
                for row in csv.DictReader(f):
                    if row["instance"] == name:
                        v = row.get(col) or row.get("upper_bound")
                        best = int(v) if v else None
            return p, best
    raise SystemExit(f"unknown instance {name}")


# ------------------------------------------------------------------------------------------------
# The three solvers
# ------------------------------------------------------------------------------------------------


def run_takt(takt: str, path: Path, limit: float, workers: int, seed: int) -> dict:
    t = time.perf_counter()
    out = subprocess.run(
        [takt, "solve", str(path), "--json", "--time-limit", str(limit), "--workers", str(workers), "--seed", str(seed)],
        capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - t
    if out.returncode != 0:
        return {"makespan": None, "time": wall, "status": "error: " + out.stderr.strip()[-200:]}
    r = json.loads(out.stdout)
    if r["violations"]:
        return {"makespan": None, "time": wall, "status": f"{len(r['violations'])} violations"}
    return {"makespan": r["makespan"], "time": wall, "status": r["status"], "bound": r["bound"]}


def run_python_cpsat(jobs, limit: float, workers: int, seed: int) -> dict:
    """The equivalent model in cp_model: optional intervals per eligible machine, no_overlap,
    precedence chains, makespan = max of job ends."""
    t = time.perf_counter()
    m = cp_model.CpModel()
    horizon = sum(max(d for _, d in op) for job in jobs for op in job)
    per_machine: dict[int, list] = {}
    ends = []
    for job in jobs:
        prev = None
        for op in job:
            lo = min(d for _, d in op)
            hi = max(d for _, d in op)
            s = m.new_int_var(0, horizon, "")
            e = m.new_int_var(0, horizon, "")
            if len(op) == 1:
                mach, d = op[0]
                per_machine.setdefault(mach, []).append(m.new_interval_var(s, d, e, ""))
            else:
                size = m.new_int_var(lo, hi, "")
                m.new_interval_var(s, size, e, "")
                lits = []
                for mach, d in op:
                    l = m.new_bool_var("")
                    lits.append(l)
                    per_machine.setdefault(mach, []).append(m.new_optional_interval_var(s, d, e, l, ""))
                    m.add(size == d).only_enforce_if(l)
                m.add_exactly_one(lits)
            if prev is not None:
                m.add(s >= prev)
            prev = e
        ends.append(prev)
    for ivs in per_machine.values():
        m.add_no_overlap(ivs)
    mk = m.new_int_var(0, horizon, "")
    m.add_max_equality(mk, ends)
    m.minimize(mk)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    st = solver.solve(m)
    wall = time.perf_counter() - t
    ok = st in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {"makespan": int(solver.objective_value) if ok else None, "time": wall,
            "status": solver.status_name(st).lower()}


def pyjobshop_model(jobs):
    import pyjobshop

    model = pyjobshop.Model()
    n_mach = 1 + max(mach for job in jobs for op in job for mach, _ in op)
    machines = [model.add_machine(name=f"M{i}") for i in range(n_mach)]
    for job in jobs:
        j = model.add_job()
        prev = None
        for op in job:
            task = model.add_task(job=j)
            for mach, d in op:
                model.add_mode(task, machines[mach], d)
            if prev is not None:
                model.add_end_before_start(prev, task)
            prev = task
    model.set_objective(weight_makespan=1)
    return model


def run_pyjobshop(jobs, limit: float, workers: int, seed: int) -> dict:
    t = time.perf_counter()
    model = pyjobshop_model(jobs)
    res = model.solve(solver="ortools", time_limit=limit, display=False, num_workers=workers, random_seed=seed)
    wall = time.perf_counter() - t
    ok = res.status.name in ("OPTIMAL", "FEASIBLE")
    return {"makespan": int(res.objective) if ok else None, "time": wall, "status": res.status.name.lower()}


# ------------------------------------------------------------------------------------------------
# 10,000-task factory: build + encode
# ------------------------------------------------------------------------------------------------


def generate_factory(n_tasks: int, seed: int = 7) -> dict:
    """A plant: 50 machines, 30 operators with 4 skills, jobs of 5 chained tasks with lags,
    2–3 eligible machines per task, half the tasks need a skilled operator, releases and due
    dates. Features both Takt and PyJobShop model (no calendars, no setups)."""
    rnd = random.Random(seed)
    n_machines, n_ops, skills = 50, 30, ["weld", "paint", "assembly", "inspection"]
    machines = [{"id": f"M{i}"} for i in range(n_machines)]
    operators = []
    for i in range(n_ops):
        sk = {s: rnd.randint(1, 5) for s in rnd.sample(skills, 2)}
        operators.append({"id": f"O{i}", "skills": sk})
    jobs, tasks = [], []
    per_job = 5
    for j in range(n_tasks // per_job):
        release = rnd.randint(0, 2000)
        jobs.append({"id": f"J{j}", "release": release, "due": release + rnd.randint(300, 1500),
                     "weight": rnd.randint(1, 5)})
        for k in range(per_job):
            t = {"id": f"J{j}-{k}", "job": f"J{j}",
                 "modes": [{"machine": f"M{m}", "duration": rnd.randint(5, 60)}
                           for m in rnd.sample(range(n_machines), rnd.randint(2, 3))]}
            if rnd.random() < 0.5:
                skill = rnd.choice(skills)
                qualified = [o for o in operators if o["skills"].get(skill, 0) >= 2]
                if qualified:
                    t["skill"] = {"skill": skill, "min_level": 2}
            if k > 0:
                t["after"] = [{"task": f"J{j}-{k - 1}", "min_lag": rnd.randint(0, 10)}]
            tasks.append(t)
    return {"name": f"generated factory {n_tasks}", "machines": machines, "operators": operators,
            "jobs": jobs, "tasks": tasks}


def pyjobshop_factory_build(fac: dict) -> tuple[float, float]:
    """Model construction, then conversion to an OR-Tools CpModel (PyJobShop's own build)."""
    import pyjobshop
    from pyjobshop.solvers.ortools.CPModel import CPModel

    t0 = time.perf_counter()
    model = pyjobshop.Model()
    machines = {m["id"]: model.add_machine(name=m["id"]) for m in fac["machines"]}
    ops = {o["id"]: model.add_machine(name=o["id"]) for o in fac["operators"]}
    jobs = {}
    for j in fac["jobs"]:
        jobs[j["id"]] = model.add_job(weight=j["weight"], release_date=j["release"], due_date=j["due"])
    tasks = {}
    for t in fac["tasks"]:
        task = model.add_task(job=jobs[t["job"]])
        tasks[t["id"]] = task
        qualified = []
        if "skill" in t:
            s = t["skill"]
            qualified = [ops[o["id"]] for o in fac["operators"]
                         if o["skills"].get(s["skill"], 0) >= s["min_level"]]
        for mode in t["modes"]:
            if qualified:
                for op in qualified:
                    model.add_mode(task, [machines[mode["machine"]], op], mode["duration"])
            else:
                model.add_mode(task, machines[mode["machine"]], mode["duration"])
        for a in t.get("after", []):
            model.add_end_before_start(tasks[a["task"]], task, a["min_lag"])
    model.set_objective(weight_makespan=1)
    t1 = time.perf_counter()
    # In OR-Tools 9.15 the Python model is a C++-backed proto handed to the solver without a
    # serialisation step, so building the CpModel is the whole cost here.
    CPModel(model.data())
    t2 = time.perf_counter()
    return t1 - t0, t2 - t0


def python_cpsat_factory_build(fac: dict) -> float:
    """The Takt formulation written with cp_model, for reference."""
    t0 = time.perf_counter()
    m = cp_model.CpModel()
    horizon = 2000 + sum(max(x["duration"] for x in t["modes"]) + 10 for t in fac["tasks"])
    machine_iv: dict[str, list] = {}
    op_iv: dict[str, list] = {}
    ends: dict[str, cp_model.IntVar] = {}
    rel = {j["id"]: j["release"] for j in fac["jobs"]}
    for t in fac["tasks"]:
        s = m.new_int_var(rel[t["job"]], horizon, "")
        e = m.new_int_var(0, horizon, "")
        size = m.new_int_var(1, horizon, "")
        m.add(e == s + size)
        lits = []
        for mode in t["modes"]:
            l = m.new_bool_var("")
            lits.append(l)
            machine_iv.setdefault(mode["machine"], []).append(
                m.new_optional_interval_var(s, mode["duration"], e, l, ""))
            m.add(size == mode["duration"]).only_enforce_if(l)
        m.add_exactly_one(lits)
        if "skill" in t:
            sk = t["skill"]
            ol = []
            for o in fac["operators"]:
                if o["skills"].get(sk["skill"], 0) >= sk["min_level"]:
                    l = m.new_bool_var("")
                    ol.append(l)
                    op_iv.setdefault(o["id"], []).append(m.new_optional_interval_var(s, size, e, l, ""))
            m.add_exactly_one(ol)
        for a in t.get("after", []):
            m.add(s >= ends[a["task"]] + a["min_lag"])
        ends[t["id"]] = e
    for ivs in list(machine_iv.values()) + list(op_iv.values()):
        m.add_no_overlap(ivs)
    mk = m.new_int_var(0, horizon, "")
    m.add_max_equality(mk, list(ends.values()))
    m.minimize(mk)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------


def fmt(v, spec=""):
    return "-" if v is None else format(v, spec)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--takt", required=True)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1, help="CP-SAT random seed for all three (runs vary by seed)")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[3] / "shared" / "data"))
    ap.add_argument("--build-tasks", type=int, default=10000)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--json-out")
    ap.add_argument("instances", nargs="*")
    a = ap.parse_args()
    data = Path(a.data)
    names = a.instances or DEFAULT

    rows = []
    print(f"time limit {a.time_limit}s, {a.workers} workers, seed {a.seed}, data {data}", flush=True)
    head = f"{'instance':<15}{'best':>7} {'takt':>7} {'t(s)':>6} {'py-cpsat':>9} {'t(s)':>6} {'pyjobshop':>10} {'t(s)':>6} {'gap%':>6} {'ratio':>6}"
    print(head)
    print("-" * len(head), flush=True)
    for name in names:
        path, best = find_instance(data, name)
        jobs = read_instance(path)
        tk = run_takt(a.takt, path, a.time_limit, a.workers, a.seed)
        py = run_python_cpsat(jobs, a.time_limit, a.workers, a.seed)
        pj = run_pyjobshop(jobs, a.time_limit, a.workers, a.seed)
        peers = [x["makespan"] for x in (py, pj) if x["makespan"] is not None]
        ratio = tk["makespan"] / min(peers) if tk["makespan"] and peers else None
        gap = 100.0 * (tk["makespan"] - best) / best if tk["makespan"] and best else None
        rows.append({"instance": name, "best": best, "takt": tk, "python": py, "pyjobshop": pj,
                     "gap_pct": gap, "ratio": ratio})
        print(f"{name:<15}{fmt(best):>7} {fmt(tk['makespan']):>7} {tk['time']:>6.1f} {fmt(py['makespan']):>9} "
              f"{py['time']:>6.1f} {fmt(pj['makespan']):>10} {pj['time']:>6.1f} {fmt(gap, '.2f'):>6} {fmt(ratio, '.3f'):>6}"
              + ("" if tk["status"] in ("optimal", "feasible") else f"  takt: {tk['status']}"), flush=True)

    def mean_gap(key, fam):
        vals = []
        for r in rows:
            if r["instance"].startswith(fam) and r["best"] and r[key]["makespan"]:
                vals.append(100.0 * (r[key]["makespan"] - r["best"]) / r["best"])
        return sum(vals) / len(vals) if vals else None

    for fam in ("brandimarte", "la", "ft"):
        g = [mean_gap(k, fam) for k in ("takt", "python", "pyjobshop")]
        if g[0] is not None:
            print(f"mean gap {fam:<12} takt {fmt(g[0], '.2f')}%  python {fmt(g[1], '.2f')}%  pyjobshop {fmt(g[2], '.2f')}%")
    proven = [r["instance"] for r in rows if r["takt"]["status"] == "optimal"]
    print(f"takt proven optimal: {len(proven)}/{len(rows)}")
    worse = [r["instance"] for r in rows if r["ratio"] and r["ratio"] > 1.0]
    print(f"instances where takt is worse than the better peer: {worse or 'none'}")

    build = None
    if not a.skip_build:
        fac = generate_factory(a.build_tasks)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(fac, f)
            fpath = f.name
        try:
            out = subprocess.run([a.takt, "build-bench", fpath, "--repeat", "3"], capture_output=True, text=True,
                                 check=False)
            takt_b = json.loads(out.stdout) if out.returncode == 0 else None
            if takt_b is None:
                print("takt build-bench failed (the binary must be the optimizer's takt-solve-worker):",
                      out.stderr.strip()[-300:])
            py_b = python_cpsat_factory_build(fac)
            pj_model, pj_total = pyjobshop_factory_build(fac)
        finally:
            os.unlink(fpath)
        print(f"\nbuild + encode, generated factory of {a.build_tasks} tasks:")
        if takt_b:
            print(f"  takt       {takt_b['total_s']:.3f}s (validate {takt_b['validate_s']:.3f}, build {takt_b['build_s']:.3f}, "
                  f"encode {takt_b['encode_s']:.3f}; {takt_b['variables']} vars, {takt_b['constraints']} constraints)")
        print(f"  py-cpsat   {py_b:.3f}s (same formulation in cp_model)")
        print(f"  pyjobshop  {pj_total:.3f}s (Model {pj_model:.3f}s + CPModel build)")
        if takt_b:
            print(f"  speed-up vs pyjobshop: {pj_total / takt_b['total_s']:.1f}x")
        build = {"takt": takt_b, "python": py_b, "pyjobshop": pj_total}
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"rows": rows, "build": build}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
