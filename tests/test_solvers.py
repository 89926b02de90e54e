"""Solver adapters, registry, IIS and LP/MPS files on small hand-built flat problems."""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from formulate.errors import FormulateError, SolverUnavailable
from formulate.ir.flat import Block, FlatProblem, Indicator, NonlinearRow, QuadraticRow
from formulate.solvers.base import CAPABILITIES, SolveOptions
from formulate.solvers.registry import (
    SolverCapabilityError,
    all_backends,
    available_solvers,
    capable,
    choose_solver,
    get_solver,
    solve_flat,
)
from formulate.solvers.status import Termination

INF = math.inf
ROOT = Path(__file__).resolve().parents[1]
HAVE_SCIP = importlib.util.find_spec("pyscipopt") is not None
HAVE_PYOMO = importlib.util.find_spec("pyomo") is not None
EXACT = SolveOptions(mip_gap=0.0, time_limit=20)


def flat(obj, rows=(), *, lb=0.0, ub=INF, integer=(), sense="minimize", const=0.0, quad=(), keys=None,
         var="x", row_names=None, row_blocks=None, problem_class=None, convex=True, **extra) -> FlatProblem:
    """A FlatProblem from dense rows ``(coefficients, lower, upper)``; one variable block ``var``."""
    n = len(obj)
    lower = np.broadcast_to(np.asarray(lb, float), (n,)).copy()
    upper = np.broadcast_to(np.asarray(ub, float), (n,)).copy()
    integrality = np.zeros(n, dtype=np.int8)
    integrality[list(integer)] = 1
    start, index, value, rlo, rup = [0], [], [], [], []
    for coefs, lo, up in rows:
        for j, a in enumerate(coefs):
            if a:
                index.append(j)
                value.append(float(a))
        start.append(len(index))
        rlo.append(lo)
        rup.append(up)
    blocks = [Block(var, 0, n, [(k,) for k in (keys or range(n))])]
    if row_blocks is None:
        names = row_names or [f"c{i}" for i in range(len(rows))]
        row_blocks = [Block(name, i, i + 1) for i, name in enumerate(names)]
    problem = FlatProblem(
        "test", sense, lower, upper, integrality, np.asarray(obj, float), const, np.asarray(start, np.int64),
        np.asarray(index, np.int64), np.asarray(value, float), np.asarray(rlo, float), np.asarray(rup, float),
        blocks, row_blocks, np.array([q[0] for q in quad], np.int64), np.array([q[1] for q in quad], np.int64),
        np.array([q[2] for q in quad], float), convex=convex, **extra)
    if problem_class is None:
        mip = problem.is_mip()
        if problem.nonlinear_rows or (problem.quadratic_rows and mip):
            problem_class = "MINLP" if mip else "NLP"
        elif problem.quadratic_rows:
            problem_class = "QCP"
        elif problem.obj_qv.size:
            problem_class = "MIQP" if mip else "QP"
        else:
            problem_class = "MILP" if mip else "LP"
    problem.problem_class = problem_class
    return problem


# --- the known-answer table ------------------------------------------------------------------------------

def furniture(integer: bool = True) -> FlatProblem:
    """max 30 chair + 50 table, wood 2c + 5t <= 100, chair >= 2 table, both <= 40."""
    return flat([30, 50], [([2, 5], -INF, 100), ([1, -2], 0, INF)], ub=40, integer=[0, 1] if integer else [],
                sense="maximize", keys=["chair", "table"], row_names=["wood", "ratio"], const=7)


KNAPSACK_V = [12, 11, 9, 8, 7, 6, 5, 3]
KNAPSACK_W = [7, 6, 5, 5, 4, 3, 3, 1]


def knapsack() -> FlatProblem:
    return flat(KNAPSACK_V, [(KNAPSACK_W, -INF, 17)], ub=1, integer=range(8), sense="maximize")


def knapsack_answer() -> float:
    best = 0
    for pick in itertools.product([0, 1], repeat=8):
        if sum(w * p for w, p in zip(KNAPSACK_W, pick, strict=True)) <= 17:
            best = max(best, sum(v * p for v, p in zip(KNAPSACK_V, pick, strict=True)))
    return float(best)


def convex_qp() -> FlatProblem:
    """min x^2 + y^2 + xy - 2x - 4y + 5 on [-10, 10]^2: 1 at (0, 2)."""
    return flat([-2, -4], lb=-10, ub=10, quad=[(0, 0, 1), (1, 1, 1), (0, 1, 1)], const=5)


def miqp() -> FlatProblem:
    """min (x - 1.4)^2 + (y - 2.6)^2 over integers: 0.32 at (1, 3)."""
    return flat([-2.8, -5.2], lb=-10, ub=10, integer=[0, 1], quad=[(0, 0, 1), (1, 1, 1)], const=1.4**2 + 2.6**2)


def qcp() -> FlatProblem:
    """max x + y on the disk x^2 + y^2 <= 2: 2 at (1, 1)."""
    disk = QuadraticRow("disk", np.zeros(0, np.int64), np.zeros(0), np.array([0, 1]), np.array([0, 1]),
                        np.array([1.0, 1.0]), -INF, 2.0)
    return flat([1, 1], lb=-10, ub=10, sense="maximize", quadratic_rows=[disk])


def nlp_exp_log() -> FlatProblem:
    """min x + y, exp(x) + log(y) >= 3, x in [0, 5], y in [1, 10]: 1 + ln 3 at (ln 3, 1)."""
    tree = ("sum", [("exp", ("var", 0)), ("log", ("var", 1))])
    return flat([1, 1], lb=[0, 1], ub=[5, 10], nonlinear_rows=[NonlinearRow("nl", tree, 3.0, INF)])


def nlp_tree_kinds() -> FlatProblem:
    """min x + y, x*y >= 4 (plus inactive rows using pow, div, sqrt, abs): 4 at (2, 2)."""
    rows = [
        NonlinearRow("prod", ("prod", [("var", 0), ("var", 1)]), 4.0, INF),
        NonlinearRow("powdiv", ("sum", [("pow", ("var", 0), 1.5), ("div", ("const", 1.0), ("var", 1))]), -INF, 100.0),
        NonlinearRow("sqrtabs", ("sum", [("sqrt", ("var", 0)), ("abs", ("sum", [("var", 1), ("const", -10.0)]))]),
                     0.0, INF),
    ]
    return flat([1, 1], lb=0.5, ub=10, nonlinear_rows=rows)


def indicator_off() -> FlatProblem:
    """min x + y + 3b, x + y >= 1, (b == 0) -> x >= 3: 3 with b = 0 (b = 1 costs 4)."""
    ind = Indicator("need", 2, 0, np.array([0]), np.array([1.0]), 3.0, INF)
    return flat([1, 1, 3], [([1, 1, 0], 1, INF)], ub=[10, 10, 1], integer=[2], indicators=[ind],
                problem_class="MILP")


def indicator_equal() -> FlatProblem:
    """max 5b - x - 2y, (b == 1) -> x + y == 4: 1 with b = 1, x = 4."""
    ind = Indicator("tie", 2, 1, np.array([0, 1]), np.array([1.0, 1.0]), 4.0, 4.0)
    return flat([-1, -2, 5], ub=[10, 10, 1], integer=[2], sense="maximize", indicators=[ind], problem_class="MILP")


KNOWN: dict[str, tuple[Callable[[], FlatProblem], float]] = {
    "lp": (lambda: furniture(False), 1407.0),  # (40, 4) is also the LP optimum
    "milp": (furniture, 1407.0),
    "knapsack": (knapsack, knapsack_answer()),
    "convex_qp": (convex_qp, 1.0),
    "miqp": (miqp, 0.32),
    "qcp": (qcp, 2.0),
    "nlp_exp_log": (nlp_exp_log, 1.0 + math.log(3.0)),
    "nlp_tree_kinds": (nlp_tree_kinds, 4.0),
    "indicator_off": (indicator_off, 3.0),
    "indicator_equal": (indicator_equal, 1.0),
}
BACKENDS = ["highs", "cbc", "pyomo", "pyomo:highs", "scip"]


def backend_or_skip(spec: str):
    if spec.startswith("pyomo"):
        pytest.importorskip("pyomo.environ", reason="pyomo is not installed")
    if spec == "scip":
        pytest.importorskip("pyscipopt", reason="pyscipopt is not installed")
    backend = get_solver(spec)
    if spec.startswith("pyomo") and not backend.solver_available():
        pytest.skip(f"Pyomo cannot find {backend.solver}")
    return backend


@pytest.mark.parametrize("spec", BACKENDS)
@pytest.mark.parametrize("case", list(KNOWN))
def test_every_capable_backend_agrees(case: str, spec: str) -> None:
    build, expected = KNOWN[case]
    problem = build()
    backend = backend_or_skip(spec)
    if not capable(backend, problem):
        pytest.skip(f"{spec} does not solve {problem.problem_class}")
    result = backend.solve(problem, EXACT)
    assert result.termination == Termination.OPTIMAL, result.message
    assert result.has_solution and result.x is not None and result.x.shape == (problem.num_cols,)
    assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_lp_and_milp_solutions() -> None:
    lp = solve_flat(furniture(False), options=EXACT)
    assert lp.solver == "highs" and lp.termination == Termination.OPTIMAL
    assert lp.x == pytest.approx([40, 4]) and lp.bound == pytest.approx(1407.0)
    milp = solve_flat(furniture(), options=EXACT)
    assert milp.objective == pytest.approx(1407.0) and milp.bound == pytest.approx(1407.0)
    assert solve_flat(knapsack(), options=EXACT).objective == knapsack_answer()


# --- infeasible, unbounded, IIS -------------------------------------------------------------------------

def infeasible_lp() -> FlatProblem:
    """chair + table >= 10 with chair <= 3 (a row) and table <= 4 (a bound); `space` is irrelevant."""
    return flat([1, 1, 1], [([1, 1, 0], 10, INF), ([1, 0, 0], -INF, 3), ([0, 1, 0], -INF, 100),
                            ([0, 0, 1], -INF, 100)],
                ub=[INF, 4, INF], keys=["chair", "table", "desk"], row_names=["demand", "wood", "labor", "space"])


def integral_conflict() -> FlatProblem:
    """2x + 2y == 3 (group `parity`, 2 rows with z >= 1) has no integer point; the relaxation is feasible."""
    blocks = [Block("parity", 0, 2, [("a",), ("b",)]), Block("cap", 2, 3), Block("other", 3, 4)]
    return flat([1, 1, 1], [([2, 2, 0], 3, 3), ([0, 0, 1], 1, INF), ([1, 0, 0], -INF, 5), ([0, 1, 1], -INF, 50)],
                ub=10, integer=[0, 1], row_blocks=blocks)


@pytest.mark.parametrize("spec", ["highs", "cbc", "pyomo", "scip"])
def test_infeasible_lp_with_iis(spec: str) -> None:
    backend_or_skip(spec)
    result = solve_flat(infeasible_lp(), spec)
    assert result.termination == Termination.INFEASIBLE and not result.has_solution
    assert result.iis is not None
    assert {"demand", "wood", "x[table] <= 4"} == set(result.iis)


def test_iis_option_off() -> None:
    result = solve_flat(infeasible_lp(), options=SolveOptions(extra={"iis": False}))
    assert result.termination == Termination.INFEASIBLE and result.iis is None


@pytest.mark.parametrize("integer", [(), (0, 1)])
def test_a_dropped_bound_falls_back_to_the_default_lower_bound_0_not_to_none(integer) -> None:
    """Budget 5000 r + 9150 s <= 250000 with r >= 15, s >= 35: 35 social-media ads alone break the budget, so
    the set is the budget and s >= 35. HiGHS's own IIS also names r >= 15 (irreducible only if dropping it
    left r free to go negative); dropping a bound of the set returns it to the default 0."""
    from formulate.solvers.iis import compute_iis

    problem = flat([-60500, -50000], [([5000, 9150], -INF, 250000)], lb=[15, 35], ub=[40, INF], integer=integer,
                   keys=["radio", "social"], row_names=["budget"])
    assert compute_iis(problem) == ["budget", "x[social] >= 35"]


def test_a_default_lower_bound_the_conflict_needs_is_named() -> None:
    """x + y <= -5 with both at their default lower bound 0: the conflict is the row and both bounds 0 (one of
    them should have been free); a third variable's bound 0 plays no part."""
    from formulate.solvers.iis import compute_iis

    problem = flat([1, 1, 1], [([1, 1, 0], -INF, -5), ([0, 0, 1], -INF, 3)], keys=["a", "b", "c"],
                   row_names=["short", "other"])
    assert set(compute_iis(problem)) == {"short", "x[a] >= 0", "x[b] >= 0"}


def test_infeasible_milp_with_feasible_relaxation() -> None:
    from formulate.solvers.iis import compute_iis

    result = solve_flat(integral_conflict())
    assert result.termination == Termination.INFEASIBLE
    assert result.iis is not None and result.iis[0] == "parity"
    assert "other" not in result.iis and "cap" not in result.iis
    assert "conflict is integral" in result.iis[-1] and "x[0]" in result.iis[-1]
    bounds_only = compute_iis(flat([1], lb=0.2, ub=0.8, integer=[0]))
    assert len(bounds_only) == 1 and "integrality of x[0]" in bounds_only[0]
    assert compute_iis(furniture()) == []


def unbounded_lp(integer: bool = False) -> FlatProblem:
    return flat([1, 1], [([1, -1], -INF, 1)], sense="maximize", keys=["a", "b"], integer=[0, 1] if integer else [])


@pytest.mark.parametrize("spec", ["highs", "cbc", "pyomo", "scip"])
@pytest.mark.parametrize("integer", [False, True])
def test_unbounded_names_the_variables(spec: str, integer: bool) -> None:
    backend = backend_or_skip(spec)
    result = backend.solve(unbounded_lp(integer), SolveOptions())
    assert result.termination == Termination.UNBOUNDED and not result.has_solution
    assert "x[a] (+)" in result.message and "x[b] (+)" in result.message


def test_infeasible_or_unbounded_is_resolved() -> None:
    highs = get_solver("highs")
    raw = highs.solve(unbounded_lp(True), SolveOptions(extra={"resolve": False}))
    assert raw.termination == Termination.INFEASIBLE_OR_UNBOUNDED  # HiGHS MIP presolve's answer
    assert highs.solve(unbounded_lp(True), SolveOptions()).termination == Termination.UNBOUNDED


def test_cbc_unbounded_integer_infeasible_is_infeasible() -> None:
    # CBC (via PuLP) answers "Unbounded" here; 2x - 2y == 1 has no integer point
    problem = flat([1, 1], [([2, -2], 1, 1)], sense="maximize", integer=[0, 1])
    result = get_solver("cbc").solve(problem, SolveOptions(time_limit=10))
    assert result.termination == Termination.INFEASIBLE
    assert "no feasible point" in result.message


# --- options, errors, registry -------------------------------------------------------------------------

def hard_knapsack() -> FlatProblem:
    rng = np.random.default_rng(7)
    w = rng.integers(10**5, 10**6, 60)
    v = w + rng.integers(0, 1000, 60)
    return flat(v, [(w, -INF, float(w.sum() // 2))], ub=1, integer=range(60), sense="maximize")


@pytest.mark.parametrize("spec", ["highs", "cbc", "pyomo", "scip"])
def test_time_limit_is_accepted(spec: str) -> None:
    backend = backend_or_skip(spec)
    result = backend.solve(hard_knapsack(), SolveOptions(time_limit=0.2, threads=1))
    assert result.termination in (Termination.OPTIMAL, Termination.TIME_LIMIT)
    if result.has_solution:
        assert result.objective is not None and result.objective > 0


def test_native_options_pass_through() -> None:
    result = get_solver("highs").solve(furniture(), SolveOptions(extra={"presolve": "off", "mip_rel_gap": 0.0}))
    assert result.objective == pytest.approx(1407.0)


def test_unknown_solver_did_you_mean() -> None:
    with pytest.raises(SolverUnavailable, match="did you mean `highs`"):
        get_solver("hihgs")
    with pytest.raises(FormulateError, match="unknown solver"):
        solve_flat(furniture(), "gurobix")


def test_capability_error() -> None:
    with pytest.raises(SolverCapabilityError, match="solver `cbc` cannot solve a QP problem; use --solver highs"):
        solve_flat(convex_qp(), "cbc")
    with pytest.raises(SolverCapabilityError, match="`highs` cannot solve a MIQP problem; use --solver scip"):
        choose_solver(miqp(), "highs")


def test_uninstalled_solver_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    from formulate.solvers.scip import ScipBackend

    monkeypatch.setattr(ScipBackend, "available", lambda self: False)
    with pytest.raises(SolverUnavailable, match=r'pip install "formulate-opt\[scip\]"'):
        get_solver("scip")
    with pytest.raises(SolverUnavailable, match="needs SCIP"):
        choose_solver(miqp())
    assert available_solvers()["scip"] is False


def test_automatic_choice_by_class() -> None:
    assert choose_solver(furniture(False)).name == "highs"
    assert choose_solver(furniture()).name == "highs"
    assert choose_solver(convex_qp()).name == "highs"
    if HAVE_SCIP:
        for build in (miqp, qcp, nlp_exp_log, indicator_off):
            assert choose_solver(build()).name == "scip"
        nonconvex = dataclasses.replace(convex_qp(), obj_qv=np.array([-1.0, 1.0, 1.0]), convex=False)
        assert choose_solver(nonconvex).name == "scip"


def test_registry_names_and_capabilities() -> None:
    names = [b.name for b in all_backends()]
    assert names == ["highs", "cbc", "pyomo", "scip"]
    for backend in all_backends():
        assert backend.capabilities <= set(CAPABILITIES) and backend.install_hint
    if HAVE_PYOMO:
        assert get_solver("pyomo:highs").solver == "highs"
        assert get_solver("pyomo").solver == "appsi_highs"
    with pytest.raises(SolverUnavailable, match="only pyomo"):
        get_solver("cbc:foo")


def test_empty_problem() -> None:
    empty = flat([], const=3.0)
    for spec in ("highs", "cbc"):
        result = get_solver(spec).solve(empty, SolveOptions())
        assert result.termination == Termination.OPTIMAL and result.objective == 3.0


def test_importing_the_registry_imports_no_solver() -> None:
    code = ("import sys, formulate.solvers, formulate.solvers.registry, formulate.solvers.iis, "
            "formulate.solvers.files; print(sorted(m for m in ('highspy', 'pulp', 'pyomo', 'pyscipopt') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stdout_stays_clean() -> None:
    code = ("import numpy as np; from formulate.solvers.registry import get_solver; "
            "from tests.test_solvers import furniture; from formulate.solvers.base import SolveOptions; "
            "get_solver('highs').solve(furniture(), SolveOptions()); get_solver('cbc').solve(furniture(), SolveOptions())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout == ""


# --- LP/MPS files ----------------------------------------------------------------------------------------

def named_problem(integer: bool) -> FlatProblem:
    blocks = [Block("wood limit", 0, 1), Block("ratio", 1, 2), Block("cap", 2, 4, [("a", "b"), ("c", "d")])]
    return flat([30, 50, -2], [([2, 5, 0], -INF, 100), ([1, -2, 0], 0, INF), ([0, 0, 1], 1, 7), ([1, 0, 1], -3, 3)],
                lb=[0, 0, -INF], ub=[40, 40, INF], integer=[0, 1] if integer else [], sense="maximize",
                keys=["chair", "table", "e1"], row_blocks=blocks, const=7,
                quad=[] if integer else [(2, 2, -1.0)])


@pytest.mark.parametrize("fmt", ["lp", "mps"])
@pytest.mark.parametrize("integer", [False, True])
def test_model_file_round_trip(tmp_path, fmt: str, integer: bool) -> None:
    from formulate.solvers import highs
    from formulate.solvers.files import write_model_file

    problem = named_problem(integer)
    path = tmp_path / f"model.{fmt}"
    mapping = write_model_file(problem, path, fmt)
    assert mapping["x(chair)"] == "x[chair]" and mapping["cap(a_b)"] == "cap[a,b]"
    assert mapping["wood_limit"] == "wood limit"
    text = path.read_text()
    assert "x(table)" in text and "c0" not in text.split()
    h = highs.new_highs()
    h.readModel(str(path))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    expected = get_solver("highs").solve(problem, EXACT).objective
    assert h.getInfo().objective_function_value == pytest.approx(expected, rel=1e-9)


def test_file_names_are_unique_and_legal() -> None:
    from formulate.solvers.files import file_name, file_names

    assert file_name("x[a,b]") == "x(a_b)"
    assert file_name("1st") == "_1st" and file_name("e1") == "_e1" and file_name("free") == "_free"
    problem = flat([1, 1], keys=["a b", "a,b"])
    cols, _, mapping = file_names(problem)
    assert cols == ["x(a_b)", "x(a_b)_2"] and mapping["x(a_b)_2"] == "x[a,b]"


def test_hessian_layout() -> None:
    from formulate.solvers.highs import hessian

    # 3 x0^2 + 2 x0 x2 + x2 x0 (a duplicate pair given reversed) - x1^2 + 0 x1 x2
    problem = flat([0, 0, 0], quad=[(0, 0, 3.0), (0, 2, 2.0), (2, 0, 1.0), (1, 1, -1.0), (1, 2, 0.0)])
    start, index, value = hessian(problem)
    dense = np.zeros((3, 3))
    for col in range(3):
        for k in range(start[col], start[col + 1]):
            assert index[k] >= col  # lower triangle, column-wise
            dense[index[k], col] = value[k]
    assert dense.tolist() == [[6.0, 0, 0], [0, -2.0, 0], [3.0, 0, 0]]


def test_backends_refuse_what_they_cannot_solve() -> None:
    from formulate.errors import SolverError

    with pytest.raises(SolverError, match="lacks MIQP"):
        get_solver("highs").solve(miqp(), SolveOptions())
    with pytest.raises(SolverError, match="lacks QCP"):
        get_solver("cbc").solve(qcp(), SolveOptions())
    if HAVE_PYOMO:
        with pytest.raises(SolverError, match="pyomo:appsi_highs"):
            get_solver("pyomo").solve(convex_qp(), SolveOptions())


def test_pyomo_builds_nonlinear_rows() -> None:
    pyo = pytest.importorskip("pyomo.environ", reason="pyomo is not installed")
    from formulate.solvers.pyomo_backend import build

    model, x = build(nlp_tree_kinds())
    x[0].value, x[1].value = 4.0, 1.0
    bodies = [pyo.value(c.body) for c in model.rows.values()]
    assert bodies == pytest.approx([4.0, 4.0**1.5 + 1.0, 2.0 + 9.0])
    model, x = build(nlp_exp_log())
    x[0].value, x[1].value = 0.0, math.e
    assert pyo.value(model.rows[1].body) == pytest.approx(2.0)
