"""CBC through PuLP's bundled binary: LP and MILP.

CBC (2.10 via PuLP 3.3) reports some integer-infeasible MILPs as "Unbounded"; every unbounded
answer is confirmed by a zero-objective feasibility check on HiGHS (or, without highspy, a boxed
re-solve on CBC) before it is reported.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.solvers.base import SolveOptions, SolverBackend, SolverResult
from formulate.solvers.common import finite, native_options, objective_value
from formulate.solvers.status import Termination

log = logging.getLogger(__name__)

#: box used by the fallback confirmation of an "Unbounded" answer when HiGHS is missing
BOX = 1e6


def _pulp() -> Any:
    import pulp

    return pulp


def cbc_command(**kwargs: Any) -> Any:
    """PuLP's bundled CBC (``PULP_CBC_CMD``, deprecated for PuLP 4), else ``COIN_CMD`` (a CBC on PATH)."""
    pulp = _pulp()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        bundled = getattr(pulp, "PULP_CBC_CMD", None)
        if bundled is not None:
            cmd = bundled(**kwargs)
            if cmd.available():
                return cmd
    return pulp.COIN_CMD(**kwargs)


def build(problem: FlatProblem, col_lower: np.ndarray | None = None, col_upper: np.ndarray | None = None,
          zero_objective: bool = False) -> tuple[Any, list[Any]]:
    """A ``pulp.LpProblem`` with columns ``x0..`` and rows ``r0..`` (``r3_lo``/``r3_up`` for ranges)."""
    pulp = _pulp()
    sense = pulp.LpMaximize if problem.sense == "maximize" else pulp.LpMinimize
    prob = pulp.LpProblem("formulate", sense)
    lower = problem.col_lower if col_lower is None else col_lower
    upper = problem.col_upper if col_upper is None else col_upper
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable  # PuLP >= 3.3 / older
    cols = [
        new_var(f"x{j}", float(lo) if finite(lo) else None, float(up) if finite(up) else None,
                cat="Integer" if problem.integrality[j] else "Continuous")
        for j, (lo, up) in enumerate(zip(lower, upper, strict=True))]
    if zero_objective:
        prob.setObjective(pulp.LpAffineExpression(constant=0.0))
    else:
        nz = np.flatnonzero(problem.obj_linear)
        prob.setObjective(pulp.LpAffineExpression(
            [(cols[j], float(problem.obj_linear[j])) for j in nz], constant=float(problem.obj_constant)))
    for i in range(problem.num_rows):
        a, b = int(problem.row_start[i]), int(problem.row_start[i + 1])
        if a == b:
            continue  # checked by _empty_rows_feasible
        expr = pulp.LpAffineExpression(
            [(cols[int(j)], float(v)) for j, v in zip(problem.row_index[a:b], problem.row_value[a:b], strict=True)])
        lo, up = float(problem.row_lower[i]), float(problem.row_upper[i])
        if finite(lo) and finite(up) and lo == up:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", lo))
            continue
        if finite(lo):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_lo", lo))
        if finite(up):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_up", up))
    return prob, cols


def run(problem: FlatProblem, options: SolveOptions, **build_kw: Any) -> tuple[Termination, np.ndarray | None, str]:
    """Solve on CBC; the termination, the point if any and CBC's status words."""
    pulp = _pulp()
    prob, cols = build(problem, **build_kw)
    extra = [f"{k} {v}" for k, v in native_options(options).items()]
    cmd = cbc_command(msg=bool(options.verbose), timeLimit=options.time_limit, gapRel=options.mip_gap,
                      threads=options.threads, options=extra)
    prob.solve(cmd)
    status, sol_status = prob.status, prob.sol_status
    words = f"{pulp.LpStatus.get(status, status)} / solution status {sol_status}"
    x = np.array([c.varValue if c.varValue is not None else 0.0 for c in cols], dtype=np.float64)
    if status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionIntegerFeasible:
        limit = Termination.TIME_LIMIT if options.time_limit is not None else Termination.ITERATION_LIMIT
        return limit, x, words
    if status == pulp.LpStatusOptimal:
        return Termination.OPTIMAL, x, words
    if status == pulp.LpStatusInfeasible:
        return Termination.INFEASIBLE, None, words
    if status == pulp.LpStatusUnbounded:
        return Termination.UNBOUNDED, None, words
    if status == pulp.LpStatusNotSolved:
        limit = Termination.TIME_LIMIT if options.time_limit is not None else Termination.ITERATION_LIMIT
        return limit, None, words
    return Termination.ERROR, None, words


class CbcBackend(SolverBackend):
    """CBC through PuLP (LP, MILP)."""

    name = "cbc"
    capabilities = frozenset({"LP", "MILP"})
    install_hint = 'pip install pulp  (or pip install "formulate-opt")'

    def available(self) -> bool:
        try:
            _pulp()
        except ImportError:
            return False
        try:
            return bool(cbc_command(msg=False).available())
        except Exception:  # noqa: BLE001 - a broken bundled binary means "not available"
            return False

    def _solve(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        term, x, words = run(problem, options)
        message = "" if term != Termination.ERROR else f"CBC ended with {words}"
        if term == Termination.UNBOUNDED:
            term, message = self._confirm_unbounded(problem, options)
        result = SolverResult(term, x is not None, self.name, message=message)
        if x is not None:
            result.x = x
            result.objective = objective_value(problem, x)
            if term == Termination.OPTIMAL and (not problem.is_mip() or options.mip_gap == 0):
                result.bound = result.objective
        return result

    def _confirm_unbounded(self, problem: FlatProblem, options: SolveOptions) -> tuple[Termination, str]:
        """CBC said "Unbounded": check that a feasible point exists before believing it."""
        try:
            from formulate.solvers import highs

            highs._highspy()
        except ImportError:
            return self._confirm_boxed(problem, options)
        term, message = highs.decide_unbounded(problem, options.time_limit)
        if term == Termination.INFEASIBLE:
            message = "CBC reported unbounded, but no feasible point exists (checked on HiGHS)"
        return term, message

    def _confirm_boxed(self, problem: FlatProblem, options: SolveOptions) -> tuple[Termination, str]:
        lower = np.maximum(problem.col_lower, -BOX)
        upper = np.minimum(problem.col_upper, BOX)
        term, _, _ = run(problem, options, col_lower=lower, col_upper=upper, zero_objective=True)
        if term == Termination.OPTIMAL:
            return Termination.UNBOUNDED, "objective is unbounded"
        return (Termination.INFEASIBLE_OR_UNBOUNDED,
                f"CBC reported unbounded, but no feasible point was found with every |x| <= {BOX:g}")
