"""Every known-answer problem (tests/problems) and shared example solved by every capable backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from formulate.api import prepare_for_solver, solve
from formulate.errors import FormulationError
from formulate.ir.ground import ground
from formulate.ir.io import load
from formulate.solvers.registry import get_solver

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = sorted((ROOT / "tests" / "problems").glob("*.yaml"))
SHARED = ROOT.parent / "shared" / "examples"
EXAMPLES = sorted((ROOT / "formulate" / "examples").glob("*.yaml"))
BACKENDS = ["highs", "cbc", "pyomo", "scip"]


def expected_of(meta: dict) -> tuple[str, float | None]:
    status = meta.get("expected_status", "optimal")
    return status, meta.get("expected_objective")


def run_case(path: Path, solver: str) -> None:
    backend = get_solver(solver)
    if not backend.available():
        pytest.skip(f"{solver} is not installed: {backend.install_hint}")
    formulation = load(path)
    problem = ground(formulation).problem
    try:
        prepared, _ = prepare_for_solver(problem, solver, [])
    except FormulationError as exc:
        pytest.skip(f"{solver} cannot take this model's conditional rows: {exc}")
    if not backend.can_solve(prepared):
        pytest.skip(f"{solver} does not solve {prepared.problem_class} (convex={prepared.convex})")
    status, objective = expected_of(formulation.meta)
    solution = solve(formulation, solver=solver, mip_gap=0, time_limit=60)
    if status == "infeasible_or_unbounded":
        assert solution.status in ("infeasible", "unbounded", "infeasible_or_unbounded")
    else:
        assert solution.status == status, solution.message
    if status == "optimal":
        assert solution.has_solution
        assert solution.objective == pytest.approx(objective, rel=1e-6, abs=1e-6)
        levels = formulation.meta.get("expected_objectives")  # several objectives: every level's value
        if levels is not None:
            assert [level["value"] for level in solution.objectives] == pytest.approx(levels, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_known_answer(path: Path, solver: str) -> None:
    run_case(path, solver)


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_project_example(path: Path, solver: str) -> None:
    run_case(path, solver)


SHARED_FILES = sorted(SHARED.glob("*.yaml")) if SHARED.is_dir() else []


@pytest.mark.skipif(not SHARED_FILES, reason="../shared/examples is absent in this checkout")
@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: p.stem)
def test_shared_example(path: Path, solver: str) -> None:
    run_case(path, solver)


def test_problem_set_is_large_and_varied() -> None:
    assert len(PROBLEMS) >= 25
    classes = {load(p).meta.get("class") for p in PROBLEMS}
    assert {"LP", "MILP", "QP", "MIQP"} <= classes
    statuses = {load(p).meta.get("expected_status", "optimal") for p in PROBLEMS}
    assert {"optimal", "infeasible", "unbounded"} <= statuses
