"""In-process solving versus running exported scripts in fresh Python processes (design §6).

Fifty small benchmark-sized formulations (random production-mix, transportation and knapsack
instances with 5 to 30 variables) are solved

  (a) in process: ``formulate.api.solve(formulation)``, end to end (grounding and solving), and
  (b) as the research pipelines of the field do: the exported pyomo and gurobipy scripts, each run in
      a fresh Python process (``python script.py --json``), timed from start to exit.

The scripts are written before timing (exporting is reported apart). Objectives are checked to agree.
Targets: in-process at least 50x faster than the pyomo scripts and 20x faster than the gurobipy ones.

    python benchmarks/bench_inprocess.py [--count 50] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from formulate.api import ground, solve
from formulate.codegen import export
from formulate.ir.model import Formulation


def production_mix(rng: np.random.Generator, k: int) -> Formulation:
    """Products sharing resources, integer amounts: maximise profit."""
    n, m = int(rng.integers(5, 21)), int(rng.integers(2, 6))
    products, resources = [f"p{i}" for i in range(n)], [f"r{j}" for j in range(m)]
    use = rng.integers(1, 10, size=(m, n)).tolist()
    return Formulation.model_validate({
        "name": f"mix{k}",
        "sets": {"P": products, "R": resources},
        "parameters": {
            "profit": {"index": ["P"], "values": rng.integers(5, 60, size=n).tolist()},
            "use": {"index": ["R", "P"], "values": use},
            "stock": {"index": ["R"], "values": [int(sum(row) * rng.uniform(2, 6)) for row in use]},
            "cap": {"index": ["P"], "values": rng.integers(5, 30, size=n).tolist()},
        },
        "variables": {"make": {"index": ["P"], "type": "integer", "upper": "cap"}},
        "objective": {"sense": "maximize", "expr": "sum(profit[p] * make[p] for p in P)"},
        "constraints": {"resource": "sum(use[r, p] * make[p] for p in P) <= stock[r] for r in R"},
    })


def transport(rng: np.random.Generator, k: int) -> Formulation:
    """Plants ship to markets at least cost, meeting every demand."""
    s, d = int(rng.integers(2, 6)), int(rng.integers(3, 7))
    demand = rng.integers(10, 60, size=d)
    supply = rng.dirichlet(np.ones(s)) * demand.sum() * 1.3 + 5
    return Formulation.model_validate({
        "name": f"transport{k}",
        "sets": {"I": [f"s{i}" for i in range(s)], "J": [f"d{j}" for j in range(d)]},
        "parameters": {
            "supply": {"index": ["I"], "values": np.round(supply, 1).tolist()},
            "demand": {"index": ["J"], "values": demand.tolist()},
            "cost": {"index": ["I", "J"], "values": rng.integers(1, 20, size=(s, d)).tolist()},
        },
        "variables": {"ship": {"index": ["I", "J"]}},
        "objective": {"sense": "minimize", "expr": "sum(cost[i, j] * ship[i, j] for i in I for j in J)"},
        "constraints": {
            "supply_limit": "sum(ship[i, j] for j in J) <= supply[i] for i in I",
            "meet_demand": "sum(ship[i, j] for i in I) >= demand[j] for j in J",
        },
    })


def knapsack(rng: np.random.Generator, k: int) -> Formulation:
    """Take items whole, within a weight limit: maximise value."""
    n = int(rng.integers(5, 31))
    weight = rng.integers(1, 30, size=n)
    return Formulation.model_validate({
        "name": f"knapsack{k}",
        "sets": {"I": f"range(1, {n + 1})"},
        "parameters": {
            "weight": {"index": ["I"], "values": weight.tolist()},
            "value": {"index": ["I"], "values": rng.integers(1, 50, size=n).tolist()},
            "capacity": int(weight.sum() * 0.4),
        },
        "variables": {"take": {"index": ["I"], "type": "binary"}},
        "objective": {"sense": "maximize", "expr": "sum(value[i] * take[i] for i in I)"},
        "constraints": {"weight_limit": "sum(weight[i] * take[i] for i in I) <= capacity"},
    })


def instances(count: int, seed: int) -> list[Formulation]:
    rng = np.random.default_rng(seed)
    makers = (production_mix, transport, knapsack)
    return [makers[k % 3](rng, k) for k in range(count)]


def run_script(path: Path) -> tuple[float, float | None]:
    """Seconds from process start to exit, and the objective the script printed."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, path.name, "--json"], cwd=path.parent, capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{path.name} failed: {proc.stderr[-500:]}")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])["objective"]


def floor(code: str) -> float:
    """Milliseconds for `python -c code` (best of three)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--targets", default="pyomo,gurobipy")
    args = parser.parse_args()
    models = instances(args.count, args.seed)
    targets = [t for t in args.targets.split(",") if t]
    sizes = [ground(m).problem.num_cols for m in models]

    solve(models[0], mip_gap=0)  # warm-up: imports and first-call costs are not part of a per-model comparison
    objectives: dict[str, list[float | None]] = {"in-process": []}
    per_model, ground_s, solve_s = [], [], []
    for model in models:  # best of three runs per model (the machine is shared; scripts run once)
        runs = [solve(model, mip_gap=0) for _ in range(3)]
        best = min(runs, key=lambda r: r.times["total"])
        objectives["in-process"].append(best.objective)
        per_model.append(best.times["total"])
        ground_s.append(best.times["ground"])
        solve_s.append(best.times["solve"])
    totals = {"in-process": sum(per_model)}
    classes = [ground(m).problem.problem_class for m in models]

    by_class: dict[str, list[float]] = {"in-process": per_model}
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            started = time.perf_counter()
            paths = []
            for model in models:
                path = Path(tmp) / f"{model.name}_{target}.py"
                path.write_text(export(model, target), encoding="utf-8")
                paths.append(path)
            export_seconds = time.perf_counter() - started
            times, values = [], []
            for path in paths:
                elapsed, objective = run_script(path)
                times.append(elapsed)
                values.append(objective)
            totals[f"{target} scripts"] = sum(times)
            by_class[f"{target} scripts"] = times
            objectives[f"{target} scripts"] = values
            print(f"exported {len(paths)} {target} scripts in {export_seconds:.2f} s (not timed below)")

    reference = objectives["in-process"]
    for name, values in objectives.items():
        bad = [k for k, (a, b) in enumerate(zip(values, reference, strict=True))
               if a is None or b is None or abs(a - b) > 1e-6 * max(1.0, abs(b))]
        if bad:
            print(f"WARNING: {name} disagrees with the in-process objective on {len(bad)} models: {bad[:5]}")
    print(f"\n{len(models)} models, {min(sizes)} to {max(sizes)} variables")
    base = totals["in-process"]
    print(f"{'approach':<20} {'total s':>9} {'per model ms':>13} {'vs in-process':>14}")
    for name, seconds in totals.items():
        print(f"{name:<20} {seconds:9.3f} {1000 * seconds / len(models):13.1f} {seconds / base:13.1f}x")
    print(f"in-process split: grounding {1000 * sum(ground_s) / len(models):.1f} ms, solving "
          f"{1000 * sum(solve_s) / len(models):.1f} ms per model (the scripts solve with the same HiGHS or Gurobi)")
    for cls in sorted(set(classes)):
        picked = [k for k, c in enumerate(classes) if c == cls]
        base_cls = sum(per_model[k] for k in picked)
        ratios = ", ".join(f"{name} {sum(times[k] for k in picked) / base_cls:.0f}x"
                           for name, times in by_class.items() if name != "in-process")
        print(f"  {cls} ({len(picked)} models): in-process {1000 * base_cls / len(picked):.1f} ms per model; {ratios}")
    print("fresh-process floors:", ", ".join(f"{label} {floor(code):.0f} ms" for label, code in
                                             (("python", "pass"), ("import pyomo.environ", "import pyomo.environ"),
                                              ("import gurobipy", "import gurobipy"))))
    targets_ok = {"pyomo scripts": 50, "gurobipy scripts": 20}
    for name, need in targets_ok.items():
        if name in totals:
            ratio = totals[name] / base
            print(f"target {name}: >= {need}x, measured {ratio:.0f}x: {'met' if ratio >= need else 'NOT met'}")


if __name__ == "__main__":
    main()
