"""The public Python API: load, check, ground, solve, render, export (pinned by tests/test_api.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formulate.errors import FormulateError, FormulationError
from formulate.ir.flat import FlatProblem
from formulate.ir.ground import Grounder, GroundResult
from formulate.ir.io import load as load_file
from formulate.ir.io import loads
from formulate.ir.model import Formulation
from formulate.solution import Solution, map_values

FormulationLike = Formulation | str | Path


def as_formulation(source: FormulationLike) -> Formulation:
    """A Formulation from itself, a path to a .yaml/.yml/.json file, or YAML/JSON text."""
    if isinstance(source, Formulation):
        return source
    if isinstance(source, Path):
        return load_file(source)
    text = str(source)
    if "\n" not in text and text.strip().endswith((".yaml", ".yml", ".json")):
        return load_file(text.strip())
    return loads(text)


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


def check(source: FormulationLike) -> CheckReport:
    """Load (if needed) and check a formulation; collect one error per set, parameter and constraint."""
    report = CheckReport()
    try:
        formulation = as_formulation(source)
    except FormulationError as exc:
        report.errors.extend(getattr(exc, "errors", [exc]))
        return report
    grounder = Grounder(formulation, collect_errors=True)
    try:
        result = grounder.ground()
    except FormulationError:
        report.errors.extend(grounder.errors or [])
        report.warnings.extend(grounder.warnings)
        return report
    p = result.problem
    report.warnings = result.warnings
    report.problem_class = p.problem_class
    report.num_variables = sum(b.size for b in p.var_blocks if not b.name.startswith("_"))
    report.num_constraints = p.num_rows + len(p.quadratic_rows) + len(p.nonlinear_rows) + len(p.indicators)
    report.num_nonzeros = p.num_nonzeros
    return report


def ground(source: FormulationLike) -> GroundResult:
    """Ground a formulation to a FlatProblem (raises FormulationError)."""
    formulation = as_formulation(source)
    return Grounder(formulation).ground()


def prepare_for_solver(problem: FlatProblem, solver: str | None, warnings: list[str]) -> tuple[FlatProblem, str | None]:
    """Decide what happens to indicator rows: big-M for linear solvers, native for SCIP.

    With the automatic choice, a model whose indicators all have finite big-M goes to HiGHS; one
    without goes to SCIP, and a warning names the variable whose missing bound sent it there.
    """
    from formulate.ir.bigm import linearize
    from formulate.solvers.registry import get_solver

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


def _display_name(solver: str) -> str:
    return {"highs": "HiGHS", "cbc": "CBC", "pyomo": "Pyomo"}.get(solver.split(":")[0], solver)


def solve(source: FormulationLike, solver: str | None = None, time_limit: float | None = None,
          mip_gap: float | None = None, verbose: bool = False, **options: Any) -> Solution:
    """Load, ground and solve; the Solution maps values back to indexed names (``sol["x"]["chair"]``)."""
    from formulate.solvers.base import SolveOptions
    from formulate.solvers.registry import solve_flat

    started = time.perf_counter()
    formulation = as_formulation(source)
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
        point=point, flat=grounded.problem)


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
