"""What every solver adapter declares and returns."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.solvers.status import Termination

#: problem classes and features an adapter may declare
CAPABILITIES = ("LP", "MILP", "QP", "MIQP", "QCP", "NLP", "MINLP", "nonconvex", "indicator")


@dataclass
class SolveOptions:
    """Options every backend understands; ``extra`` goes to the solver as native options."""

    time_limit: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    verbose: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SolverResult:
    """What an adapter returns: termination, a primal point if any, objective and bound."""

    termination: Termination
    has_solution: bool
    solver: str
    x: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    solve_seconds: float = 0.0
    message: str = ""
    iis: list[str] | None = None
    objectives: list[float] | None = None  # every level's value, for several objectives


class SolverBackend(ABC):
    """One backend: a name, declared capabilities, an availability check and an install hint."""

    name: str = ""
    capabilities: frozenset[str] = frozenset()
    install_hint: str = ""

    @abstractmethod
    def available(self) -> bool:
        """True when the backend's package imports."""

    def solve(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        """Solve a flat problem; never raise for a model property (infeasible etc.), only for failures.

        Checks capabilities, answers the trivial cases (no columns, a violated row without variables)
        without a solver, and times the backend's own ``_solve``.
        """
        from formulate.solvers.common import empty_result

        self.check(problem, options)
        trivial = empty_result(problem, self.name)
        if trivial is not None:
            return trivial
        start = time.perf_counter()
        result = self._solve(problem, options)
        result.solve_seconds = time.perf_counter() - start
        return result

    def check(self, problem: FlatProblem, options: SolveOptions) -> None:
        """Raise when the problem is outside what this backend declares it can solve."""
        from formulate.solvers.common import check_supported

        check_supported(self.name, frozenset(self.capabilities), problem)

    @abstractmethod
    def _solve(self, problem: FlatProblem, options: SolveOptions) -> SolverResult:
        """The backend's solve of a non-trivial problem that passed ``check``."""

    def can_solve(self, problem: FlatProblem) -> bool:
        """Whether the declared capabilities cover the problem's class."""
        if problem.problem_class not in self.capabilities:
            return False
        if problem.indicators and "indicator" not in self.capabilities:
            return False
        return problem.convex or "nonconvex" in self.capabilities
