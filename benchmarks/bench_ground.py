"""Grounding speed and memory: formulate vs Pyomo vs raw highspy arrays, measured side by side.

Two models, each built three ways in one run (build + hand-over to HiGHS; the solve is not timed):
  transport     1000 x 1000 arcs: 1M variables, 2M nonzeros
  multi_period  1000 products x 1000 periods with stock[p, t - 1]: 2M variables, 4M nonzeros
formulate reads the model as JSON text with its large table in a .npy file (`file:`), grounds it and
passes the arrays to highspy;
Pyomo builds a ConcreteModel from Python dicts and hands it to appsi_highs; raw highspy gets numpy
arrays built by hand. Each approach runs in a fresh process; peak memory is the peak RSS above the process's baseline
(data and imports loaded, before the build).

    python benchmarks/bench_ground.py [--size 1000] [--only transport|multi_period]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def transport_data(n: int) -> dict:
    rng = np.random.default_rng(0)
    return {"cost": rng.integers(1, 100, (n, n)).astype(float), "supply": np.full(n, 1.2 * n),
            "demand": np.full(n, 1.0 * n)}


def transport_json(n: int, d: dict, folder: str) -> str:
    np.save(os.path.join(folder, "cost.npy"), d["cost"])
    return json.dumps({
        "name": "transport",
        "sets": {"I": f"range(0, {n})", "J": f"range(0, {n})"},
        "parameters": {"cost": {"index": ["I", "J"], "file": "cost.npy"},
                       "supply": {"index": ["I"], "values": d["supply"].tolist()},
                       "demand": {"index": ["J"], "values": d["demand"].tolist()}},
        "variables": {"x": {"index": ["I", "J"]}},
        "objective": {"sense": "minimize", "expr": "sum(cost[i, j] * x[i, j] for i in I for j in J)"},
        "constraints": {"supply": "sum(x[i, j] for j in J) <= supply[i] for i in I",
                        "demand": "sum(x[i, j] for i in I) >= demand[j] for j in J"}})


def period_data(n: int) -> dict:
    rng = np.random.default_rng(1)
    return {"demand": rng.integers(0, 20, (n, n)).astype(float), "initial": np.full(n, 5.0),
            "cap": np.full(n, 12.0 * n)}


def period_json(n: int, d: dict, folder: str) -> str:
    np.save(os.path.join(folder, "demand.npy"), d["demand"])
    return json.dumps({
        "name": "multi_period",
        "sets": {"P": f"range(0, {n})", "T": f"range(1, {n + 1})"},
        "parameters": {"demand": {"index": ["P", "T"], "file": "demand.npy"},
                       "initial": {"index": ["P"], "values": d["initial"].tolist()},
                       "cap": {"index": ["T"], "values": d["cap"].tolist()}, "unit_cost": 3, "hold": 0.5},
        "variables": {"make": {"index": ["P", "T"]}, "stock": {"index": ["P", "T"]}},
        "objective": {"sense": "minimize",
                      "expr": "sum(unit_cost * make[p, t] + hold * stock[p, t] for p in P for t in T)"},
        "constraints": {
            "balance": {"forall": "p in P, t in T",
                        "expr": "stock[p, t] == (stock[p, t - 1] if t > first(T) else initial[p]) + make[p, t] "
                                "- demand[p, t]"},
            "capacity": "sum(make[p, t] for p in P) <= cap[t] for t in T"}})


# --------------------------------------------------------------------------- formulate
def formulate_build(text: str, folder: str):
    from formulate.ir.ground import Grounder
    from formulate.ir.io import loads
    from formulate.solvers.highs import load_problem, new_highs

    problem = Grounder(loads(text), base_dir=folder).ground().problem
    h = new_highs()
    load_problem(h, problem)
    return h


# --------------------------------------------------------------------------- raw highspy
def _pass_lp(n_cols, n_rows, cost, lower, upper, row_lo, row_hi, start, index, value):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(n_cols, n_rows, len(index), 2, 1, 0.0, cost, lower, upper, row_lo, row_hi, start, index, value,
                np.zeros(n_cols, dtype=np.int32))
    return h


def raw_transport(n: int, d: dict):
    cols = np.arange(n * n, dtype=np.int32)
    supply_index = cols  # row i: x[i, 0..n-1]
    demand_index = cols.reshape(n, n).T.reshape(-1)  # row j: x[0..n-1, j]
    start = np.arange(0, 2 * n * n + 1, n, dtype=np.int32)
    index = np.concatenate([supply_index, demand_index])
    value = np.ones(2 * n * n)
    row_lo = np.concatenate([np.full(n, -np.inf), d["demand"]])
    row_hi = np.concatenate([d["supply"], np.full(n, np.inf)])
    return _pass_lp(n * n, 2 * n, d["cost"].reshape(-1), np.zeros(n * n), np.full(n * n, np.inf), row_lo, row_hi,
                    start, index, value)


def raw_period(n: int, d: dict):
    nv = n * n
    make = np.arange(nv).reshape(n, n)
    stock = nv + make
    # balance[p, t]: stock[p, t] - stock[p, t-1] - make[p, t] == initial/-demand
    first = np.zeros((n, n), dtype=bool)
    first[:, 0] = True
    counts = np.where(first, 2, 3).reshape(-1)
    b_start = np.concatenate([[0], np.cumsum(counts)])
    idx = np.empty(int(counts.sum()), dtype=np.int64)
    val = np.empty(int(counts.sum()))
    pos = b_start[:-1]
    idx[pos], val[pos] = stock.reshape(-1), 1.0
    idx[pos + 1], val[pos + 1] = make.reshape(-1), -1.0
    rest = ~first.reshape(-1)
    prev = (stock - 1).reshape(-1)
    idx[pos[rest] + 2], val[pos[rest] + 2] = prev[rest], -1.0
    rhs = -d["demand"].copy()
    rhs[:, 0] += d["initial"]
    cap_index = make.T.reshape(-1)
    start = np.concatenate([b_start, b_start[-1] + np.arange(n, n * n + 1, n)])
    index = np.concatenate([idx, cap_index])
    value = np.concatenate([val, np.ones(n * n)])
    row_lo = np.concatenate([rhs.reshape(-1), np.full(n, -np.inf)])
    row_hi = np.concatenate([rhs.reshape(-1), d["cap"]])
    cost = np.concatenate([np.full(nv, 3.0), np.full(nv, 0.5)])
    return _pass_lp(2 * nv, nv + n, cost, np.zeros(2 * nv), np.full(2 * nv, np.inf), row_lo, row_hi,
                    start, index, value)


# --------------------------------------------------------------------------- pyomo
def pyomo_transport(n: int, d: dict):
    import pyomo.environ as pyo

    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, n - 1)
    m.J = pyo.RangeSet(0, n - 1)
    cost = {(i, j): float(d["cost"][i, j]) for i in range(n) for j in range(n)}
    m.x = pyo.Var(m.I, m.J, domain=pyo.NonNegativeReals)
    m.obj = pyo.Objective(expr=pyo.quicksum(cost[i, j] * m.x[i, j] for i in m.I for j in m.J))
    m.supply = pyo.Constraint(m.I, rule=lambda m, i: pyo.quicksum(m.x[i, j] for j in m.J) <= d["supply"][i])
    m.demand = pyo.Constraint(m.J, rule=lambda m, j: pyo.quicksum(m.x[i, j] for i in m.I) >= d["demand"][j])
    return _pyomo_hand_over(m)


def pyomo_period(n: int, d: dict):
    import pyomo.environ as pyo

    m = pyo.ConcreteModel()
    m.P = pyo.RangeSet(0, n - 1)
    m.T = pyo.RangeSet(1, n)
    demand = {(p, t + 1): float(d["demand"][p, t]) for p in range(n) for t in range(n)}
    m.make = pyo.Var(m.P, m.T, domain=pyo.NonNegativeReals)
    m.stock = pyo.Var(m.P, m.T, domain=pyo.NonNegativeReals)
    m.obj = pyo.Objective(expr=pyo.quicksum(3 * m.make[p, t] + 0.5 * m.stock[p, t] for p in m.P for t in m.T))

    def balance(m, p, t):
        before = m.stock[p, t - 1] if t > 1 else float(d["initial"][p])
        return m.stock[p, t] == before + m.make[p, t] - demand[p, t]

    m.balance = pyo.Constraint(m.P, m.T, rule=balance)
    m.capacity = pyo.Constraint(m.T, rule=lambda m, t: pyo.quicksum(m.make[p, t] for p in m.P) <= d["cap"][t - 1])
    return _pyomo_hand_over(m)


def _pyomo_hand_over(m):
    from pyomo.contrib.appsi.solvers import Highs

    solver = Highs()
    solver.set_instance(m)
    return solver


# --------------------------------------------------------------------------- harness
MODELS = {
    "transport": (transport_data, transport_json, raw_transport, pyomo_transport),
    "multi_period": (period_data, period_json, raw_period, pyomo_period),
}


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(model: str, approach: str, n: int, solve: bool) -> dict:
    """Build one model one way in this (fresh) process; time and peak memory above the baseline."""
    make_data, make_json, raw, pyomo_fn = MODELS[model]
    data = make_data(n)
    folder = tempfile.mkdtemp(prefix="bench_ground_")
    text = make_json(n, data, folder) if approach == "formulate" else ""
    import highspy  # noqa: F401  (imports are not part of the build time)

    if approach == "formulate":
        import formulate.ir.ground  # noqa: F401
        import formulate.solvers.highs  # noqa: F401
        build = lambda: formulate_build(text, folder)  # noqa: E731
    elif approach == "highspy":
        build = lambda: raw(n, data)  # noqa: E731
    else:
        import pyomo.contrib.appsi.solvers  # noqa: F401
        import pyomo.environ  # noqa: F401
        build = lambda: pyomo_fn(n, data)  # noqa: E731
    gc.collect()
    base = _rss_mib()
    start = time.perf_counter()
    built = build()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    result = {"seconds": seconds, "peak_mib": peak}
    if solve and approach != "pyomo":
        start = time.perf_counter()
        built.run()
        result["solve_seconds"] = time.perf_counter() - start
        result["objective"] = built.getInfo().objective_function_value
    return result


def run_worker(model: str, approach: str, n: int, solve: bool) -> dict:
    cmd = [sys.executable, __file__, "--worker", approach, "--only", model, "--size", str(n)]
    if solve:
        cmd.append("--solve")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_model(model: str, n: int, with_pyomo: bool, solve: bool) -> None:
    print(f"{model} (n={n})", flush=True)
    results = {}
    for approach in ["highspy", "formulate"] + (["pyomo"] if with_pyomo else []):
        r = run_worker(model, approach, n, solve)
        results[approach] = r
        extra = f"   solve {r['solve_seconds']:.2f} s, objective {r['objective']:.8g}" if "solve_seconds" in r else ""
        print(f"  {approach:10s} build {r['seconds']:7.2f} s   peak +{r['peak_mib']:6.0f} MiB{extra}", flush=True)
    fm, raw = results["formulate"], results["highspy"]
    line = f"  ratio formulate / raw highspy: {fm['seconds'] / raw['seconds']:.2f}x time"
    if "pyomo" in results:
        py = results["pyomo"]
        line += (f"; Pyomo / formulate: {py['seconds'] / fm['seconds']:.2f}x time, "
                 f"{py['peak_mib'] / max(fm['peak_mib'], 1):.2f}x memory")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--only", choices=sorted(MODELS))
    parser.add_argument("--no-pyomo", action="store_true")
    parser.add_argument("--solve", action="store_true", help="also solve (reported beside, not in the ratios)")
    parser.add_argument("--worker", choices=["formulate", "highspy", "pyomo"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.only, args.worker, args.size, args.solve)))
        return
    for model in [args.only] if args.only else list(MODELS):
        run_model(model, args.size, not args.no_pyomo, args.solve)


if __name__ == "__main__":
    main()
