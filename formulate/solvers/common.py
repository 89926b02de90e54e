"""Small helpers shared by the solver adapters (no solver imports here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    """A result without calling a solver: no columns, or a row without variables that is violated; else None."""
    lengths = np.diff(problem.row_start) if problem.num_rows else np.zeros(0, dtype=np.int64)
    empty = np.flatnonzero(lengths == 0)
    if np.any(problem.row_lower[empty] > 1e-9) or np.any(problem.row_upper[empty] < -1e-9):
        return SolverResult(Termination.INFEASIBLE, False, solver, message="a constraint without variables is violated")
    if problem.num_cols:
        return None
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


def build_tree(tree: tuple, var: Callable[[int], Any], funcs: Mapping[str, Callable[[Any], Any]]) -> Any:
    """Turn a flat ``NonlinearTree`` into a solver expression.

    ``var(j)`` gives column ``j``; ``funcs`` maps ``exp``, ``log``, ``sqrt`` and ``abs`` (and, if the
    solver has no native general power, ``pow`` taking ``(base, exponent)``) to solver functions.
    """
    kind = tree[0]
    if kind == "const":
        return float(tree[1])
    if kind == "var":
        return var(int(tree[1]))
    if kind in ("sum", "prod"):
        parts = [build_tree(t, var, funcs) for t in tree[1]]
        if not parts:
            return 0.0 if kind == "sum" else 1.0
        out = parts[0]
        for p in parts[1:]:
            out = out + p if kind == "sum" else out * p
        return out
    if kind == "pow":
        base = build_tree(tree[1], var, funcs)
        exponent = tree[2]
        if isinstance(exponent, tuple):
            power = build_tree(exponent, var, funcs)
            return funcs["pow"](base, power) if "pow" in funcs else base ** power
        exponent = float(exponent)
        return base ** (int(exponent) if exponent.is_integer() else exponent)
    if kind == "div":
        return build_tree(tree[1], var, funcs) / build_tree(tree[2], var, funcs)
    if kind in ("exp", "log", "sqrt", "abs"):
        return funcs[kind](build_tree(tree[1], var, funcs))
    raise ValueError(f"unknown nonlinear node `{kind}`")



def missing_capabilities(capabilities: frozenset[str], problem: FlatProblem) -> list[str]:
    """Capability words ``problem`` needs that ``capabilities`` lacks (empty: it can be solved)."""
    needs = {problem.problem_class}
    if problem.indicators:
        needs.add("indicator")
    if not problem.convex:
        needs.add("nonconvex")
    if problem.quadratic_rows:
        needs.add("QCP")
    if problem.nonlinear_rows and not {"NLP", "MINLP"} & capabilities:
        needs.add("NLP")
    if problem.obj_qv.size and not {"QP", "MIQP"} & capabilities:
        needs.add("QP")
    return sorted(needs - capabilities)


def check_supported(name: str, capabilities: frozenset[str], problem: FlatProblem) -> None:
    """Raise SolverError when a backend is handed a problem outside its capabilities."""
    missing = missing_capabilities(capabilities, problem)
    if missing:
        from formulate.errors import SolverError

        raise SolverError(f"solver `{name}` cannot solve problem `{problem.name}` ({problem.problem_class}): "
                          f"it lacks {', '.join(missing)}")
