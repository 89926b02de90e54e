"""An independent check of a point against a grounded problem, and integral rounding (design §4).

The solver's point is re-checked against every linear row, quadratic row, indicator and bound of
the problem as grounded (before big-M), so tolerance surprises and big-M errors show up. Integer
columns are rounded when the rounded point is still feasible, and the objective is recomputed from
it (a pure-integer model prints 7, not 6.9999994).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formulate.ir.flat import FlatProblem

#: absolute-plus-relative feasibility tolerance of the re-check
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Violation:
    """One row or bound the point breaks: its name, the activity and the bound it misses."""

    kind: str  # row | quadratic | indicator | bound | integrality
    name: str
    activity: float
    lower: float
    upper: float

    @property
    def amount(self) -> float:
        if self.kind == "integrality":
            return abs(self.activity - round(self.activity))
        return max(self.lower - self.activity, self.activity - self.upper, 0.0)

    def text(self) -> str:
        if self.kind == "integrality":
            return f"{self.name} = {self.activity:.10g} is not integral"
        if self.activity < self.lower:
            return f"{self.name}: {self.activity:.10g} is below its lower bound {self.lower:.10g}"
        return f"{self.name}: {self.activity:.10g} is above its upper bound {self.upper:.10g}"


def _tol(bound: np.ndarray, tol: float) -> np.ndarray:
    return tol * np.maximum(1.0, np.abs(np.where(np.isfinite(bound), bound, 0.0)))


def row_activity(problem: FlatProblem, x: np.ndarray) -> np.ndarray:
    """``A @ x`` for the linear rows (CSR)."""
    if problem.num_rows == 0:
        return np.zeros(0)
    products = problem.row_value * x[problem.row_index]
    sums = np.add.reduceat(np.append(products, 0.0), problem.row_start[:-1]) if products.size else np.zeros(
        problem.num_rows)
    empty = problem.row_start[1:] == problem.row_start[:-1]
    sums = np.asarray(sums[:problem.num_rows], dtype=float)
    sums[empty] = 0.0
    return sums


def objective_value(problem: FlatProblem, x: np.ndarray) -> float:
    """The objective at ``x`` (constant, linear and quadratic parts)."""
    value = float(problem.obj_constant + problem.obj_linear @ x)
    if problem.obj_qv.size:
        value += float(np.sum(problem.obj_qv * x[problem.obj_qi] * x[problem.obj_qj]))
    return value


def violations(problem: FlatProblem, x: np.ndarray, tol: float = TOLERANCE, limit: int = 50) -> list[Violation]:
    """Rows, bounds and integrality that ``x`` breaks by more than ``tol`` (relative above 1), worst first."""
    out: list[Violation] = []
    x = np.asarray(x, dtype=float)[:problem.num_cols]
    lo, up = problem.col_lower, problem.col_upper
    bad = np.flatnonzero((x < lo - _tol(lo, tol)) | (x > up + _tol(up, tol)))
    out += [Violation("bound", problem.col_name(int(j)), float(x[j]), float(lo[j]), float(up[j])) for j in bad[:limit]]
    ints = np.flatnonzero(problem.integrality.astype(bool))
    frac = ints[np.abs(x[ints] - np.round(x[ints])) > max(tol, 1e-5)]
    out += [Violation("integrality", problem.col_name(int(j)), float(x[j]), -np.inf, np.inf) for j in frac[:limit]]
    act = row_activity(problem, x)
    rlo, rup = problem.row_lower, problem.row_upper
    bad = np.flatnonzero((act < rlo - _tol(rlo, tol)) | (act > rup + _tol(rup, tol)))
    out += [Violation("row", problem.row_name(int(i)), float(act[i]), float(rlo[i]), float(rup[i]))
            for i in bad[:limit]]
    for row in problem.quadratic_rows:
        value = float(row.lin_val @ x[row.lin_idx] + np.sum(row.qv * x[row.qi] * x[row.qj]))
        if value < row.lower - tol * max(1.0, abs(row.lower)) or value > row.upper + tol * max(1.0, abs(row.upper)):
            out.append(Violation("quadratic", row.name, value, row.lower, row.upper))
    for ind in problem.indicators:
        if abs(x[ind.binary] - ind.active) > 0.5:
            continue
        value = float(ind.lin_val @ x[ind.lin_idx])
        if value < ind.lower - tol * max(1.0, abs(ind.lower)) or value > ind.upper + tol * max(1.0, abs(ind.upper)):
            out.append(Violation("indicator", ind.name, value, ind.lower, ind.upper))
    out.sort(key=lambda v: -v.amount)
    return out


def round_integral(problem: FlatProblem, x: np.ndarray, tol: float = TOLERANCE) -> np.ndarray | None:
    """``x`` with integer columns rounded, when that point is still feasible within ``tol``; else None."""
    x = np.asarray(x, dtype=float)
    ints = problem.integrality[:x.shape[0]].astype(bool)
    if not ints.any():
        return None
    rounded = x.copy()
    rounded[ints] = np.round(x[ints])
    if np.array_equal(rounded, x):
        return None
    if np.max(np.abs(rounded[ints] - x[ints])) > 1e-4:
        return None
    if violations(problem, rounded, tol, limit=1):
        return None
    return rounded
