"""Several objectives solved level by level (language.md §5): each later level is optimised with the earlier
levels held at their optimum within a relative tolerance.

HiGHS takes the levels natively (:func:`highs_objectives`); every other backend solves one problem per level
here, with one extra row per level already optimised.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from formulate.ir.bigm import _NamedBlock
from formulate.ir.flat import FlatProblem, ObjectiveLevel
from formulate.solvers.base import SolveOptions, SolverBackend, SolverResult
from formulate.solvers.status import Termination

#: an earlier level may lose this much (relative, at least this much absolute) while later levels improve
REL_TOLERANCE = 0.0


def slack(value: float) -> float:
    """How far a level may move from its optimum ``value``."""
    return REL_TOLERANCE * max(1.0, abs(value))


def level_values(problem: FlatProblem, x: np.ndarray) -> list[float]:
    """The value of every level at ``x``."""
    return [level.value(x) for level in problem.objective_levels]


def with_objective(problem: FlatProblem, level: ObjectiveLevel, held: list[tuple[ObjectiveLevel, float]]) -> FlatProblem:
    """``problem`` optimising ``level``, with each earlier level held within its slack of its optimum."""
    n = problem.num_cols
    start, index, value = [problem.row_start], [problem.row_index], [problem.row_value]
    lower, upper = [problem.row_lower], [problem.row_upper]
    nnz = int(problem.row_start[-1])
    names = []
    for k, (earlier, best) in enumerate(held):
        coefs = earlier.coefficients(n)
        cols = np.flatnonzero(coefs)
        nnz += len(cols)
        start.append(np.array([nnz], dtype=np.int64))
        index.append(cols.astype(np.int64))
        value.append(coefs[cols])
        target = best - earlier.constant
        if earlier.sense == "minimize":
            lower.append(np.array([-np.inf]))
            upper.append(np.array([target + slack(best)]))
        else:
            lower.append(np.array([target - slack(best)]))
            upper.append(np.array([np.inf]))
        names.append(f"_objective_level_{k + 1}")
    blocks = list(problem.row_blocks)
    if held:
        m = problem.num_rows
        blocks.append(_NamedBlock("_objective_levels", m, m + len(held), names))
    return replace(problem, sense=level.sense, obj_linear=level.coefficients(n), obj_constant=level.constant,
                   row_start=np.concatenate(start), row_index=np.concatenate(index), row_value=np.concatenate(value),
                   row_lower=np.concatenate(lower), row_upper=np.concatenate(upper), row_blocks=blocks,
                   objective_levels=[])


def solve_levels(backend: SolverBackend, problem: FlatProblem, options: SolveOptions) -> SolverResult:
    """Solve level by level; the result carries the last solve's point and every level's value."""
    held: list[tuple[ObjectiveLevel, float]] = []
    result: SolverResult | None = None
    seconds = 0.0
    for k, level in enumerate(problem.objective_levels):
        result = backend.solve(with_objective(problem, level, held), options)
        seconds += result.solve_seconds
        if result.termination != Termination.OPTIMAL or result.x is None:
            if k:
                result.message = (f"objective level {k + 1} (priority {level.priority}): {result.termination.value}"
                                  + (f"; {result.message}" if result.message else ""))
            break
        held.append((level, level.value(result.x)))
    assert result is not None
    result.solve_seconds = seconds
    return finish(problem, result)


def finish(problem: FlatProblem, result: SolverResult) -> SolverResult:
    """Report the first level's value as the objective and every level's value beside it."""
    if result.x is not None and result.has_solution:
        values = level_values(problem, result.x)
        result.objectives = values
        result.objective = values[0]
        result.bound = None if len(values) > 1 else result.bound
    return result


def highs_objectives(h: Any, problem: FlatProblem) -> None:
    """Hand every level to HiGHS as a lexicographic linear objective (minimised; maximised levels negated)."""
    import highspy

    n = problem.num_cols
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    count = len(problem.objective_levels)
    for k, level in enumerate(problem.objective_levels):
        sign = 1.0 if level.sense == "minimize" else -1.0
        objective = highspy.HighsLinearObjective()
        objective.coefficients = (sign * level.coefficients(n)).tolist()
        objective.offset = sign * level.constant
        objective.weight = 1.0
        objective.priority = count - k  # distinct, highest first
        objective.rel_tolerance = REL_TOLERANCE
        objective.abs_tolerance = REL_TOLERANCE
        h.addLinearObjective(objective)
    h.setOptionValue("blend_multi_objectives", False)
