"""Pyomo: build a ``ConcreteModel`` from the flat problem and solve it with any Pyomo solver.

``appsi_highs`` by default; ``options.extra["pyomo_solver"]`` or the registry spec ``pyomo:NAME``
picks another (``scip``, ``cbc``, ``ipopt``, ``gurobi``...). Capabilities follow the chosen solver.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from formulate.errors import SolverError, SolverUnavailable
from formulate.ir.flat import FlatProblem
from formulate.solvers.base import SolveOptions, SolverBackend, SolverResult
from formulate.solvers.common import (
    build_tree,
    check_supported,
    finite,
    native_options,
    objective_value,
)
from formulate.solvers.status import Termination

log = logging.getLogger(__name__)

DEFAULT_SOLVER = "appsi_highs"

_LINEAR = frozenset({"LP", "MILP"})
_ALL = frozenset({"LP", "MILP", "QP", "MIQP", "QCP", "NLP", "MINLP", "nonconvex"})
#: what each known Pyomo solver handles; unknown names are trusted with everything but indicators
SOLVER_CAPABILITIES: dict[str, frozenset[str]] = {
    "appsi_highs": _LINEAR,  # its objective must be linear (DegreeError otherwise)
    "highs": _LINEAR | {"QP"},
    "cbc": _LINEAR,
    "appsi_cbc": _LINEAR,
    "glpk": _LINEAR,
    "ipopt": frozenset({"LP", "QP", "QCP", "NLP"}),
    "appsi_ipopt": frozenset({"LP", "QP", "QCP", "NLP"}),
    "gurobi": _LINEAR | {"QP", "MIQP", "QCP", "nonconvex"},
    "gurobi_direct": _LINEAR | {"QP", "MIQP", "QCP", "nonconvex"},
    "gurobi_persistent": _LINEAR | {"QP", "MIQP", "QCP", "nonconvex"},
    "appsi_gurobi": _LINEAR | {"QP", "MIQP", "QCP", "nonconvex"},
    "cplex": _LINEAR | {"QP", "MIQP", "QCP"},
    "scip": _ALL,
    "bonmin": _ALL - {"nonconvex"},
    "couenne": _ALL,
}

#: native names of (time limit, relative gap, threads) for legacy (shell/direct) Pyomo solvers
_LEGACY_OPTIONS: dict[str, tuple[str | None, str | None, str | None]] = {
    "cbc": ("sec", "ratioGap", "threads"),
    "glpk": ("tmlim", "mipgap", None),
    "scip": ("limits/time", "limits/gap", None),
    "ipopt": ("max_cpu_time", None, None),
    "gurobi": ("TimeLimit", "MIPGap", "Threads"),
    "gurobi_direct": ("TimeLimit", "MIPGap", "Threads"),
    "gurobi_persistent": ("TimeLimit", "MIPGap", "Threads"),
    "cplex": ("timelimit", "mip_tolerances_mipgap", "threads"),
    "bonmin": ("bonmin.time_limit", "bonmin.allowable_fraction_gap", None),
    "couenne": ("couenne.time_limit", "couenne.allowable_fraction_gap", None),
}


def _pyo() -> Any:
    import pyomo.environ as pyo

    return pyo


class _DropRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextlib.contextmanager
def _quiet_pyomo() -> Iterator[None]:
    """Drop what Pyomo logs while probing a solver name: for an unknown name it prints a warning and a whole
    traceback to stdout (its own handler), which would break `--json`; the caller reports one line instead."""
    loggers = [logging.getLogger(name) for name in ("pyomo.opt", "pyomo.solvers", "pyomo.common")]
    quiet = _DropRecords()
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def build(problem: FlatProblem) -> tuple[Any, Any]:
    """A Pyomo ``ConcreteModel`` (``x[j]``, ``rows``, ``obj``) for the flat problem."""
    pyo = _pyo()
    n = problem.num_cols
    m = pyo.ConcreteModel(name=problem.name)
    m.x = pyo.Var(range(n), within=pyo.Reals)
    x = m.x
    for j in range(n):
        lo, up = problem.col_lower[j], problem.col_upper[j]
        if problem.integrality[j]:
            x[j].domain = pyo.Integers
        x[j].setlb(float(lo) if finite(lo) else None)
        x[j].setub(float(up) if finite(up) else None)
    obj: Any = float(problem.obj_constant) + pyo.quicksum(
        float(problem.obj_linear[j]) * x[j] for j in np.flatnonzero(problem.obj_linear))
    if problem.obj_qv.size:
        obj = obj + pyo.quicksum(float(v) * x[int(i)] * x[int(k)]
                                 for i, k, v in zip(problem.obj_qi, problem.obj_qj, problem.obj_qv, strict=True))
    m.obj = pyo.Objective(expr=obj, sense=pyo.maximize if problem.sense == "maximize" else pyo.minimize)
    m.rows = pyo.ConstraintList()
    for i in range(problem.num_rows):
        a, b = int(problem.row_start[i]), int(problem.row_start[i + 1])
        expr = pyo.quicksum((float(v) * x[int(j)] for j, v in zip(problem.row_index[a:b], problem.row_value[a:b],
                                                                  strict=True)))
        _add(m.rows, expr, problem.row_lower[i], problem.row_upper[i])
    for q in problem.quadratic_rows:
        expr = pyo.quicksum(float(v) * x[int(j)] for j, v in zip(q.lin_idx, q.lin_val, strict=True)) + pyo.quicksum(
            float(v) * x[int(i)] * x[int(k)] for i, k, v in zip(q.qi, q.qj, q.qv, strict=True))
        _add(m.rows, expr, q.lower, q.upper)
    funcs = {"exp": pyo.exp, "log": pyo.log, "sqrt": pyo.sqrt, "abs": abs}
    for row in problem.nonlinear_rows:
        _add(m.rows, build_tree(row.tree, lambda j: x[j], funcs), row.lower, row.upper)
    return m, x


def _add(rows: Any, expr: Any, lower: float, upper: float) -> None:
    lo = float(lower) if finite(lower) else None
    up = float(upper) if finite(upper) else None
    if isinstance(expr, int | float):
        return  # constant row: empty rows are checked before building
    if lo is not None and up is not None and lo == up:
        rows.add(expr == lo)
    elif lo is not None or up is not None:
        rows.add((lo, expr, up))


def _termination(tc: Any, options: SolveOptions) -> Termination:
    from pyomo.opt import TerminationCondition as TC

    limit = Termination.TIME_LIMIT if options.time_limit is not None else Termination.ITERATION_LIMIT
    table = {
        TC.optimal: Termination.OPTIMAL, TC.globallyOptimal: Termination.OPTIMAL,
        TC.locallyOptimal: Termination.OPTIMAL, TC.infeasible: Termination.INFEASIBLE,
        TC.unbounded: Termination.UNBOUNDED, TC.infeasibleOrUnbounded: Termination.INFEASIBLE_OR_UNBOUNDED,
        TC.maxTimeLimit: Termination.TIME_LIMIT, TC.maxIterations: Termination.ITERATION_LIMIT,
        TC.maxEvaluations: Termination.ITERATION_LIMIT, TC.minStepLength: Termination.NUMERICAL_ERROR,
        TC.feasible: limit, TC.intermediateNonInteger: limit, TC.userInterrupt: limit,
        TC.resourceInterrupt: limit,
    }
    return table.get(tc, Termination.ERROR)


class PyomoBackend(SolverBackend):
    """Any Pyomo solver (``appsi_highs`` unless another is named)."""

    name = "pyomo"
    install_hint = 'pip install "formulate-opt[pyomo]"'

    def __init__(self, solver: str | None = None) -> None:
        self.solver = solver or DEFAULT_SOLVER
        self.capabilities = SOLVER_CAPABILITIES.get(self.solver, _ALL)

    def __repr__(self) -> str:
        return f"PyomoBackend({self.solver!r})"

    def available(self) -> bool:
        try:
            _pyo()
        except ImportError:
            return False
        return True

    def solver_available(self, solver: str | None = None) -> bool:
        """Whether Pyomo finds ``solver`` (default: this backend's)."""
        if not self.available():
            return False
        try:
            with _quiet_pyomo():
                opt = _pyo().SolverFactory(solver or self.solver)
                return bool(opt is not None and opt.available(exception_flag=False))
        except Exception:  # noqa: BLE001 - unknown names and broken plugins mean "not available"
            return False

    def check(self, problem: FlatProblem, options: SolveOptions) -> None:
        solver = str(options.extra.get("pyomo_solver", self.solver))
        check_supported(f"pyomo:{solver}", SOLVER_CAPABILITIES.get(solver, _ALL), problem)
        if not self.solver_available(solver):
            raise SolverUnavailable(f"Pyomo cannot find solver `{solver}`; install it or pick another with "
                                    f"--solver pyomo:appsi_highs")

    def _solve(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        solver = str(options.extra.get("pyomo_solver", self.solver))
        model, x = build(problem)
        opt = _pyo().SolverFactory(solver)
        self._configure(opt, solver, options)
        try:
            results = opt.solve(model, load_solutions=False, tee=bool(options.verbose))
        except Exception as exc:  # noqa: BLE001 - any plugin failure becomes one error type
            raise SolverError(f"Pyomo solver `{solver}` failed on `{problem.name}`: {exc}") from exc
        from pyomo.opt import TerminationCondition

        tc = results.solver.termination_condition
        term = _termination(tc, options)
        point = self._load(model, x, results, problem, term)
        message = "" if tc == TerminationCondition.optimal else f"Pyomo/{solver}: {tc}"
        if term in (Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED) and problem.is_linear():
            from formulate.solvers import highs

            term, message = highs.decide_unbounded(problem, options.time_limit)
        has = point is not None and term not in (
            Termination.INFEASIBLE, Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED)
        result = SolverResult(term, has, f"{self.name}:{solver}", message=message)
        if has and point is not None:
            result.x = point
            result.objective = objective_value(problem, point)
            result.bound = self._bound(results, problem, term)
        return result

    def _configure(self, opt: Any, solver: str, options: SolveOptions) -> None:
        config = getattr(opt, "config", None)
        if config is not None and hasattr(config, "time_limit"):
            if options.time_limit is not None:
                config.time_limit = float(options.time_limit)
            if options.mip_gap is not None and hasattr(config, "mip_gap"):
                config.mip_gap = float(options.mip_gap)
            if options.threads is not None and hasattr(config, "threads"):
                config.threads = int(options.threads)
        else:
            names = _LEGACY_OPTIONS.get(solver, (None, None, None))
            for key, value in zip(names, (options.time_limit, options.mip_gap, options.threads), strict=True):
                if key is not None and value is not None:
                    opt.options[key] = value
        for key, value in native_options(options).items():
            try:
                opt.options[key] = value
            except Exception:  # noqa: BLE001 - options are advisory
                log.warning("Pyomo solver %s ignored option %s=%r", solver, key, value)

    def _load(self, model: Any, x: Any, results: Any, problem: FlatProblem, term: Termination) -> np.ndarray | None:
        if term in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED, Termination.ERROR):
            return None
        if len(results.solution) == 0:
            return None
        try:
            model.solutions.load_from(results)
        except (ValueError, RuntimeError) as exc:
            log.debug("no solution loaded: %s", exc)
            return None
        values = np.array([x[j].value if x[j].value is not None else np.nan for j in range(problem.num_cols)])
        unused = np.isnan(values)  # columns no row or objective mentions: any value in the bounds
        values[unused] = np.clip(0.0, problem.col_lower[unused], problem.col_upper[unused])
        return values

    def _bound(self, results: Any, problem: FlatProblem, term: Termination) -> float | None:
        side = results.problem.upper_bound if problem.sense == "maximize" else results.problem.lower_bound
        try:
            value = float(side)
        except (TypeError, ValueError):
            value = float("nan")
        if np.isfinite(value):
            return value
        return None
