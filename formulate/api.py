"""The public Python API: load, check, ground, solve, render, export (pinned by tests/test_api.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formulate.errors import FormulateError, FormulationError, guard_internal
from formulate.ir.flat import FlatProblem
from formulate.ir.ground import Grounder, GroundResult
from formulate.ir.io import load as load_file
from formulate.ir.io import loads, with_data_dir
from formulate.ir.model import Formulation
from formulate.solution import Solution, map_values

FormulationLike = Formulation | str | Path


def as_formulation(source: FormulationLike, data_dir: str | Path | None = None) -> Formulation:
    """A Formulation from itself, a path to a .yaml/.yml/.json file, or YAML/JSON text.

    `file:` tables may be read from a file's own folder only; text (a model's reply) may read none
    unless ``data_dir`` names the folder they may come from.
    """
    if isinstance(source, Formulation):
        formulation = source if data_dir is None else source.model_copy()
    elif isinstance(source, Path):
        formulation = load_file(source)
    else:
        text = str(source)
        if "\n" not in text and text.strip().endswith((".yaml", ".yml", ".json")):
            formulation = load_file(text.strip())
        else:
            formulation = loads(text)
    return with_data_dir(formulation, data_dir) if data_dir is not None else formulation


@dataclass
class CheckReport:
    """Static checks: every error found (one per item), warnings, the problem class and its size."""

    errors: list[FormulationError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problem_class: str | None = None
    num_variables: int = 0
    num_constraints: int = 0
    num_nonzeros: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": [str(e) for e in self.errors], "warnings": self.warnings,
                "problem_class": self.problem_class, "variables": self.num_variables,
                "constraints": self.num_constraints, "nonzeros": self.num_nonzeros}


@guard_internal("checking")
def check(source: FormulationLike, data_dir: str | Path | None = None) -> CheckReport:
    """Load (if needed) and check a formulation; collect one error per set, parameter and constraint."""
    report = CheckReport()
    try:
        formulation = as_formulation(source, data_dir)
    except FormulationError as exc:
        report.errors.extend(getattr(exc, "errors", [exc]))
        return report
    report.errors.extend(_alternative_errors(formulation))
    grounder = Grounder(formulation, collect_errors=True)
    try:
        result = grounder.ground()
    except FormulationError as exc:
        report.errors.extend(grounder.errors or getattr(exc, "errors", [exc]))
        report.warnings.extend(grounder.warnings)
        return report
    p = result.problem
    report.warnings = result.warnings
    report.problem_class = p.problem_class
    report.num_variables = sum(b.size for b in p.var_blocks if not b.name.startswith("_"))
    report.num_constraints = p.num_rows + len(p.quadratic_rows) + len(p.nonlinear_rows) + len(p.indicators)
    report.num_nonzeros = p.num_nonzeros
    return report


def _alternative_errors(formulation: Formulation) -> list[FormulationError]:
    """``meta.alternatives`` entries that are neither a sentence nor a well-formed ``{reading, changes}`` patch."""
    from formulate.verify.readings import alternatives, read_alternative

    errors = []
    for position, entry in enumerate(alternatives(formulation)):
        try:
            read_alternative(entry, position)
        except FormulationError as exc:
            errors.append(exc)
    return errors


@guard_internal("grounding")
def ground(source: FormulationLike, data_dir: str | Path | None = None) -> GroundResult:
    """Ground a formulation to a FlatProblem (raises FormulationError)."""
    formulation = as_formulation(source, data_dir)
    return Grounder(formulation).ground()


def prepare_for_solver(problem: FlatProblem, solver: str | None, warnings: list[str]) -> tuple[FlatProblem, str | None]:
    """Decide what happens to indicator rows: big-M for linear solvers, native for SCIP.

    With the automatic choice, a model whose indicators all have finite big-M goes to HiGHS; one
    without goes to SCIP, and a warning names the variable whose missing bound sent it there.
    """
    from formulate.ir.bigm import linearize
    from formulate.solvers.registry import get_solver

    problem = _linear_products(problem, solver, warnings)
    if not problem.indicators:
        return problem, solver
    if solver is not None:
        backend = get_solver(solver)
        if "indicator" in backend.capabilities:
            return problem, solver
        linear, report = linearize(problem, solver=_display_name(solver), strict=True)
        warnings.extend(report.warnings or [])
        return linear, solver
    linear, report = linearize(problem, strict=False)
    warnings.extend(report.warnings or [])
    if report.unbounded:
        ind, variable, side = report.unbounded[0]
        warnings.append(f"{ind.where}: {ind.condition} has no finite big-M because `{variable.split('[')[0]}` has no "
                        f"{side} bound; solved with SCIP's native indicator constraints")
        return problem, "scip"
    return linear, None


def _linear_products(problem: FlatProblem, solver: str | None, warnings: list[str]) -> FlatProblem:
    """Products with a binary factor, linearised exactly unless the named solver takes the product itself."""
    from formulate.ir.products import linearizable, linearize_products
    from formulate.solvers.registry import get_solver

    if not linearizable(problem):
        return problem
    if solver is not None and get_solver(solver).can_solve(problem):
        return problem  # SCIP (or a Pyomo solver that declares the class) solves the products as written
    return linearize_products(problem, warnings) or problem


def _display_name(solver: str) -> str:
    return {"highs": "HiGHS", "cbc": "CBC", "pyomo": "Pyomo"}.get(solver.split(":")[0], solver)


@guard_internal("solving")
def solve(source: FormulationLike, solver: str | None = None, time_limit: float | None = None,
          mip_gap: float | None = None, verbose: bool = False, data_dir: str | Path | None = None,
          **options: Any) -> Solution:
    """Load, ground and solve; the Solution maps values back to indexed names (``sol["x"]["chair"]``).

    ``data_dir``: the folder `file:` tables may come from when ``source`` is not a file (see as_formulation).
    """
    from formulate.solvers.base import SolveOptions
    from formulate.solvers.registry import solve_flat

    started = time.perf_counter()
    formulation = as_formulation(source, data_dir)
    loaded = time.perf_counter()
    grounded = Grounder(formulation).ground()
    warnings = list(grounded.warnings)
    problem, chosen = prepare_for_solver(grounded.problem, solver, warnings)
    opts = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, verbose=verbose, extra=options)
    solve_start = time.perf_counter()
    result = solve_flat(problem, chosen, opts)
    finished = time.perf_counter()
    point, objective = _rounded(grounded.problem, result.x, result.objective, result.has_solution)
    values = map_values(problem, point) if point is not None else {}
    if result.message and result.termination.value != "optimal":
        warnings.append(result.message)
    return Solution(
        termination=result.termination, has_solution=result.has_solution, solver=result.solver,
        objective=objective, bound=result.bound, values=values,
        times={"load": loaded - started, "ground": grounded.seconds, "solve": finished - solve_start,
               "total": finished - started},
        message=result.message, iis=result.iis, warnings=warnings, problem_class=problem.problem_class,
        point=point, flat=grounded.problem, objectives=_levels(grounded.problem, point))


def _levels(problem: FlatProblem, point: Any) -> list[dict[str, Any]] | None:
    """Several objectives: every level's priority, sense, expression and value at the reported point."""
    if not problem.objective_levels or point is None:
        return None
    return [{"priority": level.priority, "sense": level.sense, "expr": level.text, "value": level.value(point)}
            for level in problem.objective_levels]


def _rounded(problem: FlatProblem, x: Any, objective: float | None, has_solution: bool
             ) -> tuple[Any, float | None]:
    """The solver's point with integer columns rounded when that stays feasible, and its objective.

    A pure-integer model then reports 7, not 6.9999994: the objective is recomputed from the rounded point.
    """
    if x is None or not has_solution:
        return None, objective
    from formulate.verify.point import objective_value, round_integral

    x = x[:problem.num_cols] if x.shape[0] > problem.num_cols else x
    rounded = None if problem.nonlinear_rows else round_integral(problem, x)
    if rounded is None:
        return x, objective
    return rounded, (objective_value(problem, rounded) if objective is not None else None)


__all__ = ["CheckReport", "FormulateError", "FormulationError", "Solution", "as_formulation", "check", "ground",
           "load_file", "loads", "solve"]
