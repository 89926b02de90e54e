"""Small helpers shared by the solver adapters (no solver imports here)."""

from __future__ import annotations

from typing import Any

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.solvers.base import SolveOptions, SolverResult
from formulate.solvers.status import Termination

#: keys of ``SolveOptions.extra`` that formulate itself reads; every other key is a native solver option
FORMULATE_KEYS = frozenset({"iis", "iis_time_limit", "pyomo_solver", "resolve"})

#: magnitudes at or beyond this are treated as infinite bounds
INF = 1e20


def native_options(options: SolveOptions) -> dict[str, Any]:
    """The ``extra`` entries meant for the solver itself."""
    return {k: v for k, v in options.extra.items() if k not in FORMULATE_KEYS}


def finite(value: float) -> bool:
    return bool(np.isfinite(value)) and abs(value) < INF


def row_slice(problem: FlatProblem, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and coefficients of linear row ``i``."""
    a, b = int(problem.row_start[i]), int(problem.row_start[i + 1])
    return problem.row_index[a:b], problem.row_value[a:b]


def objective_value(problem: FlatProblem, x: np.ndarray) -> float:
    """The flat objective at ``x`` (constant, linear and quadratic parts)."""
    value = float(problem.obj_constant) + float(problem.obj_linear @ x)
    if problem.obj_qv.size:
        value += float(np.sum(problem.obj_qv * x[problem.obj_qi] * x[problem.obj_qj]))
    return value


def empty_result(problem: FlatProblem, solver: str) -> SolverResult | None:
    """A result for a problem without columns (nothing to solve), else None."""
    if problem.num_cols:
        return None
    feasible = bool(np.all(problem.row_lower <= 1e-9) and np.all(problem.row_upper >= -1e-9))
    if not feasible:
        return SolverResult(Termination.INFEASIBLE, False, solver, message="a constraint without variables is violated")
    x = np.zeros(0)
    obj = float(problem.obj_constant)
    return SolverResult(Termination.OPTIMAL, True, solver, x=x, objective=obj, bound=obj)


def ray_message(problem: FlatProblem, ray: np.ndarray, limit: int = 8) -> str:
    """``"unbounded along: x[a] (+), y (-)"`` from a primal ray, largest components first."""
    ray = np.asarray(ray, dtype=float)
    if ray.size == 0 or not np.any(np.abs(ray) > 1e-9):
        return ""
    scale = float(np.max(np.abs(ray)))
    order = [int(j) for j in np.argsort(-np.abs(ray)) if abs(ray[j]) > 1e-7 * scale]
    parts = [f"{problem.col_name(j)} ({'+' if ray[j] > 0 else '-'})" for j in order[:limit]]
    more = f" and {len(order) - limit} more" if len(order) > limit else ""
    return "objective is unbounded; these variables run away: " + ", ".join(parts) + more
