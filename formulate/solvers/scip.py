"""SCIP through pyscipopt: LP, MILP, QP, MIQP, QCP, NLP/MINLP, nonconvex, native indicators.

A quadratic objective goes in through an epigraph column (SCIP objectives are linear); nonlinear
rows are built from the flat ``NonlinearTree`` tuples; ``binary == 0`` indicators use
``addConsIndicator(..., activeone=False)`` and two-sided indicator rows are split in two.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from formulate.ir.flat import FlatProblem, Indicator
from formulate.solvers.base import SolveOptions, SolverBackend, SolverResult
from formulate.solvers.common import (
    build_tree,
    finite,
    native_options,
    objective_value,
)
from formulate.solvers.status import Termination

log = logging.getLogger(__name__)

_STATUS = {
    "optimal": Termination.OPTIMAL,
    "gaplimit": Termination.OPTIMAL,
    "infeasible": Termination.INFEASIBLE,
    "unbounded": Termination.UNBOUNDED,
    "inforunbd": Termination.INFEASIBLE_OR_UNBOUNDED,
    "timelimit": Termination.TIME_LIMIT,
    "nodelimit": Termination.ITERATION_LIMIT,
    "totalnodelimit": Termination.ITERATION_LIMIT,
    "stallnodelimit": Termination.ITERATION_LIMIT,
    "sollimit": Termination.ITERATION_LIMIT,
    "bestsollimit": Termination.ITERATION_LIMIT,
    "restartlimit": Termination.ITERATION_LIMIT,
    "primallimit": Termination.ITERATION_LIMIT,
    "duallimit": Termination.ITERATION_LIMIT,
    "userinterrupt": Termination.ITERATION_LIMIT,
    "terminate": Termination.ITERATION_LIMIT,
    "memlimit": Termination.ERROR,
}


def _pyscipopt() -> Any:
    import pyscipopt

    return pyscipopt


def _side(value: float) -> float | None:
    return float(value) if finite(value) else None


def _vtype(integer: int, lo: float, up: float) -> str:
    if not integer:
        return "C"
    return "B" if lo >= 0 and up <= 1 else "I"


def build(problem: FlatProblem) -> tuple[Any, list[Any]]:
    """A ``pyscipopt.Model`` with columns ``x0..`` and every row kind of the flat problem."""
    scip = _pyscipopt()
    from pyscipopt.scip import ExprCons

    model = scip.Model(problem.name or "formulate")
    cols = [
        model.addVar(f"x{j}", _vtype(problem.integrality[j], lo, up), lb=_side(lo), ub=_side(up))
        for j, (lo, up) in enumerate(zip(problem.col_lower, problem.col_upper, strict=True))]
    for i in range(problem.num_rows):
        a, b = int(problem.row_start[i]), int(problem.row_start[i + 1])
        lo, up = _side(problem.row_lower[i]), _side(problem.row_upper[i])
        if a == b or (lo is None and up is None):
            continue
        expr = scip.quicksum(float(v) * cols[int(j)]
                             for j, v in zip(problem.row_index[a:b], problem.row_value[a:b], strict=True))
        model.addCons(ExprCons(expr, lhs=lo, rhs=up), name=f"r{i}")
    for k, q in enumerate(problem.quadratic_rows):
        expr = _linear(scip, cols, q.lin_idx, q.lin_val) + scip.quicksum(
            float(v) * cols[int(i)] * cols[int(j)] for i, j, v in zip(q.qi, q.qj, q.qv, strict=True))
        model.addCons(ExprCons(expr, lhs=_side(q.lower), rhs=_side(q.upper)), name=f"q{k}")
    funcs = {"exp": scip.exp, "log": scip.log, "sqrt": scip.sqrt, "abs": abs,
             "pow": lambda base, power: scip.exp(power * scip.log(base))}
    for k, row in enumerate(problem.nonlinear_rows):
        expr = build_tree(row.tree, lambda j: cols[j], funcs)
        if isinstance(expr, float):
            continue  # a constant row; grounding reports those
        model.addCons(ExprCons(expr, lhs=_side(row.lower), rhs=_side(row.upper)), name=f"n{k}")
    for k, ind in enumerate(problem.indicators):
        _indicator(model, cols, ind, k)
    _objective(model, problem, cols)
    return model, cols


def _linear(scip: Any, cols: list[Any], idx: np.ndarray, val: np.ndarray) -> Any:
    return scip.quicksum(float(v) * cols[int(j)] for j, v in zip(idx, val, strict=True))


def _indicator(model: Any, cols: list[Any], ind: Indicator, k: int) -> None:
    """``cols[binary] == active -> lower <= a'x <= upper``, one SCIP indicator per finite side."""
    scip = _pyscipopt()
    expr = _linear(scip, cols, ind.lin_idx, ind.lin_val)
    binary = cols[int(ind.binary)]
    active_one = bool(ind.active)
    if finite(ind.upper):
        model.addConsIndicator(expr <= float(ind.upper), binary, activeone=active_one, name=f"ind{k}_up")
    if finite(ind.lower):
        model.addConsIndicator(expr >= float(ind.lower), binary, activeone=active_one, name=f"ind{k}_lo")


def _objective(model: Any, problem: FlatProblem, cols: list[Any]) -> None:
    scip = _pyscipopt()
    from pyscipopt.scip import ExprCons

    sense = "maximize" if problem.sense == "maximize" else "minimize"
    linear = _linear(scip, cols, np.flatnonzero(problem.obj_linear),
                     problem.obj_linear[np.flatnonzero(problem.obj_linear)])
    if problem.obj_qv.size:
        # the whole objective, constant included, in one epigraph row with objective t: SCIP (10.0)
        # proves optimality far more often this way on free variables than with a split objective
        quad = scip.quicksum(float(v) * cols[int(i)] * cols[int(j)]
                             for i, j, v in zip(problem.obj_qi, problem.obj_qj, problem.obj_qv, strict=True))
        t = model.addVar("_obj_epigraph", "C", lb=None, ub=None)
        const = float(problem.obj_constant)
        if sense == "minimize":
            model.addCons(ExprCons(linear + quad - t, lhs=None, rhs=-const), name="obj_epigraph")
        else:
            model.addCons(ExprCons(linear + quad - t, lhs=-const, rhs=None), name="obj_epigraph")
        model.setObjective(t + 0.0, sense)
        return
    model.setObjective(linear, sense)
    if problem.obj_constant:
        model.addObjoffset(float(problem.obj_constant))

def _apply(model: Any, options: SolveOptions) -> None:
    if not options.verbose:
        model.hideOutput()
    if options.time_limit is not None:
        model.setParam("limits/time", float(options.time_limit))
    if options.mip_gap is not None:
        model.setParam("limits/gap", float(options.mip_gap))
    if options.threads is not None:
        model.setParam("lp/threads", int(options.threads))
    for key, value in native_options(options).items():
        try:
            model.setParam(key, value)
        except (KeyError, LookupError, ValueError, TypeError) as exc:
            log.warning("SCIP ignored option %s=%r: %s", key, value, exc)


class ScipBackend(SolverBackend):
    """SCIP (pyscipopt): everything formulate can express, globally for nonconvex models."""

    name = "scip"
    capabilities = frozenset({"LP", "MILP", "QP", "MIQP", "QCP", "NLP", "MINLP", "nonconvex", "indicator"})
    install_hint = 'pip install "formulate-opt[scip]"'

    def available(self) -> bool:
        try:
            _pyscipopt()
        except ImportError:
            return False
        return True

    def _solve(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        model, cols = build(problem)
        _apply(model, options)
        model.optimize()
        status = str(model.getStatus())
        term = _STATUS.get(status, Termination.ERROR)
        message = "" if term == Termination.OPTIMAL else f"SCIP status {status}"
        if term in (Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED):
            term, message = self._settle(model, cols, problem, options, term)
        has = model.getNSols() > 0 and term not in (
            Termination.INFEASIBLE, Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED)
        result = SolverResult(term, has, self.name, message=message)
        if has:
            sol = model.getBestSol()
            x = np.array([model.getSolVal(sol, c) for c in cols], dtype=np.float64)
            x[problem.integrality.astype(bool)] = np.round(x[problem.integrality.astype(bool)])
            result.x = x
            result.objective = objective_value(problem, x)
            bound = float(model.getDualbound())
            result.bound = bound if np.isfinite(bound) and abs(bound) < 1e20 else None
        return result

    def _settle(self, model: Any, cols: list[Any], problem: FlatProblem, options: SolveOptions,
                term: Termination) -> tuple[Termination, str]:
        """Name the runaway variables (linear: HiGHS ray; else SCIP's ray if it has one)."""
        if problem.is_linear():
            from formulate.solvers import highs

            return highs.decide_unbounded(problem, options.time_limit)
        if term == Termination.UNBOUNDED and model.hasPrimalRay():
            from formulate.solvers.common import ray_message

            ray = np.array([model.getPrimalRayVal(c) for c in cols])
            return term, ray_message(problem, ray) or "objective is unbounded"
        if term == Termination.UNBOUNDED:
            return term, "objective is unbounded"
        return term, "SCIP could not tell whether the problem is infeasible or unbounded"
