"""HiGHS through highspy's arrays API: LP, MILP and convex QP, in-process (the default backend).

Besides the backend, this module has the loaders :mod:`formulate.solvers.iis`, :mod:`.files` and
:mod:`.cbc` reuse: :func:`new_highs`, :func:`load_problem` and :func:`feasibility`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.solvers.base import SolveOptions, SolverBackend, SolverResult
from formulate.solvers.common import native_options, ray_message
from formulate.solvers.status import Termination

log = logging.getLogger(__name__)

_banner_lock = threading.Lock()
_banner_done = False
_scheduler_threads: int | None = None


def _highspy() -> Any:
    import highspy

    return highspy


def new_highs(verbose: bool = False) -> Any:
    """A ``highspy.Highs`` with output off unless ``verbose``.

    HiGHS prints a licence banner to the C-level stdout on the first construction in a process,
    before any option can be set; it is swallowed here so that stdout stays clean (JSON output).
    """
    global _banner_done
    hs = _highspy()
    if _banner_done or verbose:
        h = hs.Highs()
    else:
        with _banner_lock:
            h = _construct_silently(hs)
            _banner_done = True
    h.setOptionValue("output_flag", bool(verbose))
    return h


def _construct_silently(hs: Any) -> Any:
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):
        return hs.Highs()
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        h = hs.Highs()
        _flush_c_stdout()
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
    return h


def _flush_c_stdout() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # pragma: no cover - platforms without a C runtime handle
        pass


def load_problem(
    h: Any,
    problem: FlatProblem,
    *,
    relax: bool = False,
    zero_objective: bool = False,
    names: bool = False,
    col_lower: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
    row_mask: np.ndarray | None = None,
) -> None:
    """Pass the linear (and quadratic-objective) part of ``problem`` to ``h``.

    ``relax`` drops integrality, ``zero_objective`` keeps only the constraints, ``row_mask`` keeps
    a subset of rows (deletion filters), ``names`` passes column and row names (costly on big models).
    """
    hs = _highspy()
    n = problem.num_cols
    lower = np.asarray(problem.col_lower if col_lower is None else col_lower, dtype=np.float64)
    upper = np.asarray(problem.col_upper if col_upper is None else col_upper, dtype=np.float64)
    cost = np.zeros(n) if zero_objective else np.asarray(problem.obj_linear, dtype=np.float64)
    offset = 0.0 if zero_objective else float(problem.obj_constant)
    sense = -1 if problem.sense == "maximize" and not zero_objective else 1
    integrality = np.zeros(n, dtype=np.int32) if relax else np.asarray(problem.integrality, dtype=np.int32)
    start, index, value, rlo, rup, kept = _rows(problem, row_mask)
    m = int(rlo.shape[0])
    if problem.obj_qv.size and not zero_objective:
        q_start, q_index, q_value = hessian(problem)
        status = h.passModel(
            n, m, int(index.shape[0]), int(q_value.shape[0]), 2, 1, sense, offset, cost, lower, upper, rlo, rup,
            start, index, value, q_start, q_index, q_value, integrality)
    else:
        status = h.passModel(
            n, m, int(index.shape[0]), 2, sense, offset, cost, lower, upper, rlo, rup, start, index, value,
            integrality)
    if status == hs.HighsStatus.kError:
        from formulate.errors import SolverError

        raise SolverError(f"HiGHS rejected problem `{problem.name}` (passModel failed)")
    if names:
        for j, name in enumerate(problem.col_names()):
            h.passColName(j, name)
        row_names = problem.row_names()
        for new_i, old_i in enumerate(kept):
            h.passRowName(new_i, row_names[old_i] if old_i < len(row_names) else f"#{old_i}")


def _rows(problem: FlatProblem, row_mask: np.ndarray | None) -> tuple[np.ndarray, ...]:
    start = np.asarray(problem.row_start, dtype=np.int32)
    index = np.asarray(problem.row_index, dtype=np.int32)
    value = np.asarray(problem.row_value, dtype=np.float64)
    rlo = np.asarray(problem.row_lower, dtype=np.float64)
    rup = np.asarray(problem.row_upper, dtype=np.float64)
    m = problem.num_rows
    if start.shape[0] == 0:
        start = np.zeros(1, dtype=np.int32)
    if row_mask is None:
        return start, index, value, rlo, rup, np.arange(m)
    kept = np.flatnonzero(row_mask)
    lengths = (start[1:] - start[:-1])[kept]
    pick = np.concatenate([np.arange(start[i], start[i + 1]) for i in kept]) if kept.size else np.zeros(0, int)
    new_start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return new_start, index[pick], value[pick], rlo[kept], rup[kept], kept


def hessian(problem: FlatProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HiGHS Hessian (``1/2 x'Qx``, lower triangle, column-wise) of the flat quadratic objective.

    Each pair comes once with ``qv * x[qi] * x[qj]``, so diagonal entries double; duplicates add up.
    """
    qi = np.asarray(problem.obj_qi, dtype=np.int64)
    qj = np.asarray(problem.obj_qj, dtype=np.int64)
    qv = np.asarray(problem.obj_qv, dtype=np.float64)
    rows, cols = np.maximum(qi, qj), np.minimum(qi, qj)
    vals = np.where(qi == qj, 2.0 * qv, qv)
    n = problem.num_cols
    keys, inverse = np.unique(cols * n + rows, return_inverse=True)
    sums = np.zeros(keys.shape[0])
    np.add.at(sums, inverse, vals)
    keep = sums != 0.0
    keys, sums = keys[keep], sums[keep]
    col_of, row_of = keys // n, keys % n
    start = np.searchsorted(col_of, np.arange(n + 1)).astype(np.int32)
    return start, row_of.astype(np.int32), sums


def apply_options(h: Any, options: SolveOptions) -> None:
    """Common options, then the native ones from ``options.extra`` (unknown ones are logged)."""
    if options.time_limit is not None:
        h.setOptionValue("time_limit", float(options.time_limit))
    if options.mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.threads is not None:
        _set_threads(h, int(options.threads))
    hs = _highspy()
    for key, value in native_options(options).items():
        if h.setOptionValue(key, value) == hs.HighsStatus.kError:
            log.warning("HiGHS ignored option %s=%r (unknown name or bad value)", key, value)


def _set_threads(h: Any, threads: int) -> None:
    """HiGHS's thread pool is process-wide: a new count restarts it (between solves only)."""
    global _scheduler_threads
    h.setOptionValue("threads", threads)
    if _scheduler_threads != threads:
        with _banner_lock:
            h.resetThreadScheduler(True)
            _scheduler_threads = threads


def termination(model_status: Any) -> Termination:
    """HighsModelStatus -> Termination."""
    s = _highspy().HighsModelStatus
    table = {
        s.kOptimal: Termination.OPTIMAL,
        s.kModelEmpty: Termination.OPTIMAL,
        s.kInfeasible: Termination.INFEASIBLE,
        s.kUnbounded: Termination.UNBOUNDED,
        s.kUnboundedOrInfeasible: Termination.INFEASIBLE_OR_UNBOUNDED,
        s.kTimeLimit: Termination.TIME_LIMIT,
        s.kIterationLimit: Termination.ITERATION_LIMIT,
        s.kSolutionLimit: Termination.ITERATION_LIMIT,
        s.kObjectiveBound: Termination.ITERATION_LIMIT,
        s.kObjectiveTarget: Termination.ITERATION_LIMIT,
        s.kInterrupt: Termination.ITERATION_LIMIT,
        s.kHighsInterrupt: Termination.ITERATION_LIMIT,
        s.kPresolveError: Termination.NUMERICAL_ERROR,
        s.kSolveError: Termination.NUMERICAL_ERROR,
        s.kPostsolveError: Termination.NUMERICAL_ERROR,
    }
    return table.get(model_status, Termination.ERROR)


def run(problem: FlatProblem, options: SolveOptions, **load: Any) -> tuple[Any, Termination]:
    """Load ``problem`` (see :func:`load_problem` for ``load``), solve and map the status."""
    h = new_highs(options.verbose)
    apply_options(h, options)
    load_problem(h, problem, **load)
    h.run()
    return h, termination(h.getModelStatus())


def feasibility(problem: FlatProblem, time_limit: float | None = 10.0, **load: Any) -> Termination:
    """Whether the constraints (integrality kept) admit a point: OPTIMAL means feasible."""
    _, term = run(problem, SolveOptions(time_limit=time_limit), zero_objective=True, **load)
    return term


def relaxation_ray(problem: FlatProblem, time_limit: float | None = 10.0) -> str:
    """Message naming the variables that run away, from the LP relaxation's primal ray."""
    lin = _linear_objective_only(problem)
    opts = SolveOptions(time_limit=time_limit, extra={"presolve": "off"})
    h, term = run(lin, opts, relax=True)
    if term != Termination.UNBOUNDED:
        return ""
    return _ray(h, problem)


def decide_unbounded(problem: FlatProblem, time_limit: float | None = 10.0) -> tuple[Termination, str]:
    """Settle an "unbounded" or "infeasible or unbounded" answer for a linear/QP ``problem``.

    A zero-objective solve (integrality kept) decides feasibility: infeasible stays infeasible; a
    feasible point plus an unbounded answer means unbounded (rational data), named by the
    relaxation's primal ray where HiGHS gives one.
    """
    feas = feasibility(problem, time_limit)
    if feas == Termination.INFEASIBLE:
        return Termination.INFEASIBLE, ""
    if feas == Termination.OPTIMAL:
        return Termination.UNBOUNDED, relaxation_ray(problem, time_limit) or "objective is unbounded"
    return Termination.INFEASIBLE_OR_UNBOUNDED, "could not tell whether the problem is infeasible or unbounded"


def _ray(h: Any, problem: FlatProblem) -> str:
    try:
        _, exists, ray = h.getPrimalRay()
    except Exception:  # noqa: BLE001 - a missing ray only loses detail
        return ""
    return ray_message(problem, np.asarray(ray)) if exists else ""


def _linear_objective_only(problem: FlatProblem) -> FlatProblem:
    if not problem.obj_qv.size:
        return problem
    from dataclasses import replace

    empty = np.zeros(0, dtype=np.int64)
    return replace(problem, obj_qi=empty, obj_qj=empty, obj_qv=np.zeros(0))


class HighsBackend(SolverBackend):
    """HiGHS (highspy): LP, MILP and convex QP objectives."""

    name = "highs"
    capabilities = frozenset({"LP", "MILP", "QP"})
    install_hint = 'pip install highspy  (or pip install "formulate-opt")'

    def available(self) -> bool:
        try:
            _highspy()
        except ImportError:
            return False
        return True

    def _solve(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        if problem.objective_levels:
            return self._solve_levels(problem, options)
        h, term = run(problem, options)
        message = ""
        resolve = options.extra.get("resolve", True)
        if term == Termination.INFEASIBLE_OR_UNBOUNDED and resolve:
            h, term, message = self._resolve(problem, options)
        elif term == Termination.UNBOUNDED and problem.is_mip() and resolve:
            term, message = decide_unbounded(problem, options.time_limit)
        elif term == Termination.UNBOUNDED:
            message = _ray(h, problem) or relaxation_ray(problem, options.time_limit) or "objective is unbounded"
        return self._result(h, problem, term, message)

    def _solve_levels(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        """Several objectives through HiGHS's lexicographic multi-objective API."""
        from formulate.solvers.lexicographic import finish, highs_objectives

        h = new_highs(options.verbose)
        apply_options(h, options)
        load_problem(h, problem)
        highs_objectives(h, problem)
        h.run()
        term = termination(h.getModelStatus())
        message = ""
        if term in (Termination.INFEASIBLE_OR_UNBOUNDED, Termination.UNBOUNDED) and options.extra.get("resolve", True):
            term, message = decide_unbounded(problem, options.time_limit)
        return finish(problem, self._result(h, problem, term, message))

    def _resolve(self, problem: FlatProblem, options: SolveOptions) -> tuple[Any, Termination, str]:
        """Decide infeasible vs unbounded: presolve off, then a zero-objective feasibility check."""
        opts = SolveOptions(options.time_limit, options.mip_gap, options.threads, options.verbose,
                            {**options.extra, "presolve": "off"})
        h, term = run(problem, opts)
        if term in (Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED):
            term, message = decide_unbounded(problem, options.time_limit)
            return h, term, message
        return h, term, ""

    def _result(self, h: Any, problem: FlatProblem, term: Termination, message: str) -> SolverResult:
        info = h.getInfo()
        has_point = int(info.primal_solution_status) == 2 and term not in (
            Termination.INFEASIBLE, Termination.UNBOUNDED, Termination.INFEASIBLE_OR_UNBOUNDED)
        result = SolverResult(term, has_point, self.name, message=message)
        if term == Termination.ERROR and not message:
            result.message = f"HiGHS model status {h.modelStatusToString(h.getModelStatus())}"
        if has_point:
            result.x = np.asarray(h.getSolution().col_value, dtype=np.float64)
            result.objective = float(info.objective_function_value)
            if problem.is_mip():
                bound = float(info.mip_dual_bound)
                result.bound = bound if np.isfinite(bound) and abs(bound) < 1e20 else None
            elif term == Termination.OPTIMAL:
                result.bound = result.objective
        return result
