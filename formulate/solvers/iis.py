"""Irreducible infeasible subsets, by name.

LP (or a MILP whose LP relaxation is infeasible): HiGHS's IIS with ``iis_strategy=4``
(irreducible), reported as row names (``wood_limit``, ``demand[chair]``) and bounds
(``x[chair] <= 40``). A MILP whose relaxation is feasible has no LP IIS; then a deletion filter over
the named constraint groups (row blocks) finds an irreducible set of groups, time-bounded, and the
integrality of the integer columns they touch is named as part of the conflict.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from formulate.errors import SolverError
from formulate.ir.flat import FlatProblem
from formulate.solvers import highs
from formulate.solvers.common import finite
from formulate.solvers.status import Termination

log = logging.getLogger(__name__)

#: HiGHS IisStrategy kIisStrategyIrreducible
IRREDUCIBLE = 4
_LOWER, _UPPER, _BOXED = 2, 3, 4


def compute_iis(problem: FlatProblem, time_limit: float = 10.0) -> list[str]:
    """Names of an irreducible infeasible set of rows/bounds (or constraint groups) of ``problem``.

    Returns ``[]`` when the problem turns out feasible. Raises SolverError for problems with
    quadratic, nonlinear or indicator parts (no IIS is computed for those).
    """
    if not problem.is_linear() and not _only_quadratic_objective(problem):
        raise SolverError(f"an IIS is computed for linear problems only, not {problem.problem_class}")
    deadline = time.perf_counter() + max(float(time_limit), 0.1)
    names = _lp_iis(problem, deadline)
    if names is not None:
        return names
    if not problem.is_mip():
        return []
    return _group_filter(problem, deadline)


def _only_quadratic_objective(problem: FlatProblem) -> bool:
    return not (problem.quadratic_rows or problem.nonlinear_rows or problem.indicators)


def _remaining(deadline: float) -> float:
    return max(deadline - time.perf_counter(), 0.05)


def _lp_iis(problem: FlatProblem, deadline: float) -> list[str] | None:
    """The LP relaxation's IIS by name, or None when the relaxation is feasible (or no valid IIS)."""
    h = highs.new_highs()
    h.setOptionValue("iis_strategy", IRREDUCIBLE)
    h.setOptionValue("time_limit", _remaining(deadline))
    highs.load_problem(h, problem, relax=True, zero_objective=True)
    h.run()
    if highs.termination(h.getModelStatus()) != Termination.INFEASIBLE:
        return None
    status, iis = h.getIis()
    if not iis.valid_:
        log.info("HiGHS returned no valid IIS (%s)", status)
        return None
    rows = [int(i) for i in iis.row_index_]
    bounds = [(int(j), int(b)) for j, b in zip(iis.col_index_, iis.col_bound_, strict=True)]
    return _iis_names(problem, *_against_default_bounds(problem, rows, bounds, deadline))


def _default_bounds(problem: FlatProblem) -> tuple[np.ndarray, np.ndarray]:
    """The bounds a column falls back to when a bound of the set is dropped: the language's default lower
    bound 0 for a column whose lower bound is not negative (a binary keeps its [0, 1]), else none."""
    lower = np.where(problem.col_lower >= 0, 0.0, -np.inf)
    binary = problem.integrality.astype(bool) & (problem.col_lower == 0) & (problem.col_upper == 1)
    upper = np.where(binary, 1.0, np.inf)
    return lower, upper


def _against_default_bounds(problem: FlatProblem, rows: list[int], bounds: list[tuple[int, int]],
                            deadline: float) -> tuple[list[int], list[tuple[int, int]]]:
    """Reduce HiGHS's IIS (irreducible when a dropped bound means no bound at all) to one that is irreducible
    when a dropped bound falls back to its default: "at least 15 radio ads" dropped leaves "at least 0", so
    it is not part of the conflict when 35 social-media ads alone break the budget. Then name the default
    lower bounds 0 the conflict needs (a variable that should have been free). A deletion filter, time-bounded."""
    lower, upper = _default_bounds(problem)
    mask = np.zeros(problem.num_rows, dtype=bool)
    mask[rows] = True
    kept_bounds = list(bounds)

    def infeasible(lo: np.ndarray, up: np.ndarray) -> bool | None:
        if time.perf_counter() >= deadline:
            return None
        return _infeasible(problem, mask, deadline, relax=True, col_lower=lo, col_upper=up)

    def with_bounds(chosen: list[tuple[int, int]], lo0: np.ndarray = lower) -> tuple[np.ndarray, np.ndarray]:
        lo, up = lo0.copy(), upper.copy()
        for j, kind in chosen:
            if kind in (_LOWER, _BOXED):
                lo[j] = problem.col_lower[j]
            if kind in (_UPPER, _BOXED):
                up[j] = problem.col_upper[j]
        return lo, up

    if infeasible(*with_bounds(kept_bounds)) is not True:
        return rows, bounds  # not a conflict under default bounds (or undecided): keep HiGHS's set as it is
    for member in list(kept_bounds):
        trial = [b for b in kept_bounds if b != member]
        if infeasible(*with_bounds(trial)) is True:
            kept_bounds = trial
    kept_rows = list(rows)
    for i in rows:
        mask[i] = False
        if infeasible(*with_bounds(kept_bounds)) is True:
            kept_rows.remove(i)
        else:
            mask[i] = True
    zeros = _needed_zero_lowers(problem, kept_bounds, lower, upper,
                                lambda lo: infeasible(*with_bounds(kept_bounds, lo)))
    return kept_rows, kept_bounds + zeros


def _needed_zero_lowers(problem: FlatProblem, kept: list[tuple[int, int]], lower: np.ndarray, upper: np.ndarray,
                        conflict: Callable[[np.ndarray], bool | None]) -> list[tuple[int, int]]:
    """The default lower bounds 0 (of columns not already in the set) without which the conflict goes away;
    ``conflict(lower bounds)`` tells whether the kept rows and bounds still conflict under them."""
    free = np.flatnonzero((lower == 0) & (problem.col_lower == 0) & np.isinf(upper))  # not binaries
    free = free[~np.isin(free, [j for j, _ in kept])]
    if not free.size or free.size > 64:
        return []
    relaxed = lower.copy()
    relaxed[free] = -np.inf
    if conflict(relaxed) is not False:
        return []  # the conflict holds without them
    needed = [int(j) for j in free]
    for j in free:
        trial = [k for k in needed if k != j]
        lo = relaxed.copy()
        lo[trial] = 0.0
        if conflict(lo) is True:
            needed = trial
    return [(j, _LOWER) for j in needed]


def _iis_names(problem: FlatProblem, rows: list[int], bounds: list[tuple[int, int]]) -> list[str]:
    out = [problem.row_name(i) for i in rows]
    for j, bound in bounds:
        name = problem.col_name(j)
        lo, up = float(problem.col_lower[j]), float(problem.col_upper[j])
        if bound == _BOXED and finite(lo) and finite(up):
            out.append(f"{name} == {lo:g}" if lo == up else f"{lo:g} <= {name} <= {up:g}")
        elif bound in (_LOWER, _BOXED) and finite(lo):
            out.append(f"{name} >= {lo:g}")
        elif bound in (_UPPER, _BOXED) and finite(up):
            out.append(f"{name} <= {up:g}")
    return out


def _groups(problem: FlatProblem) -> list[tuple[str, np.ndarray]]:
    """(name, row indices) per row block; rows outside every block are groups of their own."""
    covered = np.zeros(problem.num_rows, dtype=bool)
    groups: list[tuple[str, np.ndarray]] = []
    for block in problem.row_blocks:
        rows = np.arange(block.start, min(block.stop, problem.num_rows))
        if rows.size:
            covered[rows] = True
            groups.append((block.name, rows))
    for i in np.flatnonzero(~covered):
        groups.append((problem.row_name(int(i)), np.array([i])))
    return groups


def _infeasible(problem: FlatProblem, mask: np.ndarray, deadline: float, **load: Any) -> bool | None:
    """True/False for infeasible/feasible with only the ``mask`` rows; None when undecided in time. ``load``:
    :func:`formulate.solvers.highs.load_problem`'s options (``relax``, other column bounds)."""
    term = highs.feasibility(problem, _remaining(deadline), row_mask=mask, **load)
    if term == Termination.INFEASIBLE:
        return True
    if term == Termination.OPTIMAL:
        return False
    return None


def _group_filter(problem: FlatProblem, deadline: float) -> list[str]:
    """Deletion filter over constraint groups for a MILP whose LP relaxation is feasible."""
    groups = _groups(problem)
    mask = np.ones(problem.num_rows, dtype=bool)
    full = _infeasible(problem, mask, deadline)
    if full is False:
        return []
    if full is None:
        return [_integral_note(problem, mask, reduced=False)]
    kept: list[tuple[str, np.ndarray]] = []
    timed_out = False
    for position, (name, rows) in enumerate(groups):
        if time.perf_counter() >= deadline:
            kept.extend(groups[position:])
            timed_out = True
            break
        mask[rows] = False
        still = _infeasible(problem, mask, deadline)
        if still is not True:  # needed (or undecided: keep it to stay safe)
            mask[rows] = True
            kept.append((name, rows))
            timed_out = timed_out or still is None
    names = [name for name, _ in kept]
    names.append(_integral_note(problem, mask, reduced=not timed_out))
    return names


def _integral_note(problem: FlatProblem, mask: np.ndarray, reduced: bool) -> str:
    """Name the integer columns the kept rows touch: the conflict needs their integrality."""
    rows = np.flatnonzero(mask)
    touched = np.unique(np.concatenate(
        [problem.row_index[problem.row_start[i]:problem.row_start[i + 1]] for i in rows])) if rows.size else []
    integer = [int(j) for j in touched if problem.integrality[int(j)]]
    if not integer:  # no rows needed: some integer column has no integer value inside its bounds
        lo, up = np.ceil(problem.col_lower - 1e-9), np.floor(problem.col_upper + 1e-9)
        integer = [int(j) for j in np.flatnonzero(problem.integrality.astype(bool) & (lo > up))]
    if not integer:
        integer = [int(j) for j in np.flatnonzero(problem.integrality)]
    shown = ", ".join(problem.col_name(j) for j in integer[:8])
    more = f" and {len(integer) - 8} more" if len(integer) > 8 else ""
    note = f"integrality of {shown}{more} (the LP relaxation is feasible: the conflict is integral)"
    if not reduced:
        note += "; time limit reached before the set was reduced to an irreducible one"
    return note
