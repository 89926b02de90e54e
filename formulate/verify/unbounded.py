"""`unbounded`: which variables run away, in which direction, and which constraints they appear in."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.verify.describe import quote, source_sentence, split_label
from formulate.verify.findings import Finding
from formulate.verify.subject import Subject

log = logging.getLogger(__name__)

#: the box the fallback re-solve puts around every column
BOX = 1e7
_SHOWN = 8
DECLARE_UNBOUNDED = (" If the text really sets no such limit (the problem as written has no optimum), keep the "
                     "formulation and set `meta.expected_status: unbounded`.")


def check_unbounded(subject: Subject) -> list[Finding]:
    if subject.status != "unbounded" or subject.formulation is None:
        return []
    problem = subject.problem
    direction = runaway(problem) if problem is not None else {}
    f = subject.formulation
    sense = f.objective.sense if f.objective else "minimize"
    objective = f"{sense} `{f.objective.expr}`" if f.objective else "the objective"
    if not direction:
        message = (f"The solver found your formulation unbounded: the objective ({objective}) improves without "
                   "limit. Some variable the objective rewards is not limited by any constraint in that direction. "
                   "Look in the text for the limit (a capacity, demand, budget or availability) that is missing or "
                   "written with the wrong direction, and check the objective sense (maximize vs minimize)."
                   + DECLARE_UNBOUNDED)
        return [Finding("unbounded", "error", "objective", message, "unbounded objective")]
    shown = list(direction.items())[:_SHOWN]
    names = [f"{problem.col_name(j)} ({'grows' if d > 0 else 'falls'} without limit)" for j, d in shown]
    more = f" and {len(direction) - _SHOWN} more" if len(direction) > _SHOWN else ""
    variables = list(dict.fromkeys(split_label(problem.col_name(j))[0] for j in direction))
    rows = constraints_with(problem, np.array(list(direction)))
    where_rows = (f" Constraints that contain them: {', '.join(f'`{r}`' for r in rows)}; none of them limits them in "
                  "that direction." if rows else " No constraint contains them.")
    lower_free = [v for v in variables if v in f.variables and f.variables[v].lower in ("-inf", float("-inf"))]
    free_note = (f" `{'`, `'.join(lower_free)}` {'is' if len(lower_free) == 1 else 'are'} declared free "
                 "(`lower: -inf`); should it be nonnegative?" if lower_free and any(d < 0 for d in direction.values())
                 else "")
    span = next((s for v in variables if (s := source_sentence(f, subject.text, v))), None) if subject.text else None
    message = (f"The solver found your formulation unbounded: the objective ({objective}) improves without limit. "
               f"These variables run away: {', '.join(names)}{more}.{where_rows}{free_note} Look in the text for the "
               "limit on them (a capacity, demand, budget or availability) that is missing or written with the wrong "
               "direction, and check the objective sense (maximize vs minimize)." + DECLARE_UNBOUNDED
               + (f"\n{quote(span)}" if span else ""))
    person = f"unbounded: {', '.join(problem.col_name(j) for j, _ in shown)}{more} run away"
    return [Finding("unbounded", "error", ", ".join(variables), message, person, span)]


def runaway(problem: FlatProblem) -> dict[int, float]:
    """``{column: +1 or -1}`` for the columns that run away: the LP relaxation's primal ray, else a boxed re-solve."""
    try:
        ray = _ray(problem)
    except Exception as exc:  # noqa: BLE001 - the fallback below still names them
        log.debug("no primal ray: %s", exc)
        ray = None
    if ray is not None and np.any(np.abs(ray) > 1e-9):
        scale = float(np.max(np.abs(ray)))
        order = [int(j) for j in np.argsort(-np.abs(ray)) if abs(ray[j]) > 1e-7 * scale]
        return {j: float(np.sign(ray[j])) for j in order}
    return _boxed(problem)


def _ray(problem: FlatProblem) -> np.ndarray | None:
    if not (problem.is_linear() or (not problem.quadratic_rows and not problem.nonlinear_rows
                                    and not problem.indicators)):
        return None
    from formulate.solvers import highs
    from formulate.solvers.base import SolveOptions
    from formulate.solvers.status import Termination

    empty = np.zeros(0, dtype=np.int64)
    lin = replace(problem, obj_qi=empty, obj_qj=empty, obj_qv=np.zeros(0))
    h, term = highs.run(lin, SolveOptions(time_limit=10.0, extra={"presolve": "off"}), relax=True)
    if term != Termination.UNBOUNDED:
        return None
    _, exists, ray = h.getPrimalRay()
    return np.asarray(ray, dtype=float) if exists else None


def _boxed(problem: FlatProblem) -> dict[int, float]:
    """Solve again with every column boxed in [-BOX, BOX]; the columns at the box run away."""
    from formulate.errors import FormulateError
    from formulate.solvers.base import SolveOptions
    from formulate.solvers.registry import solve_flat

    boxed = replace(problem, col_lower=np.maximum(problem.col_lower, -BOX), col_upper=np.minimum(problem.col_upper, BOX))
    try:
        result = solve_flat(boxed, None, SolveOptions(time_limit=10.0, extra={"iis": False}))
    except FormulateError:
        return {}
    if result.x is None:
        return {}
    x = np.asarray(result.x)[:problem.num_cols]
    hit = np.flatnonzero(np.abs(x) >= 0.5 * BOX)
    return {int(j): float(np.sign(x[j])) for j in hit[np.argsort(-np.abs(x[hit]))]}


def constraints_with(problem: FlatProblem, cols: np.ndarray) -> list[str]:
    """Names of the constraints (row blocks) whose rows contain any of ``cols``."""
    if problem.num_rows == 0 or cols.size == 0:
        return []
    positions = np.flatnonzero(np.isin(problem.row_index, cols))
    rows = np.unique(np.searchsorted(problem.row_start, positions, side="right") - 1)
    names: list[str] = []
    for block in problem.row_blocks:
        if block.name.startswith("_"):
            continue
        if np.any((rows >= block.start) & (rows < block.stop)):
            names.append(block.name)
    return names
