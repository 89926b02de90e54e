"""What every check reads: the formulation, the problem text, the solution and what grounding made of them.

Derived pieces (the grounded problem, the text's numbers and sentences) are computed once, on first
use, so the checks stay pure functions of one ``Subject``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from formulate.ir.flat import FlatProblem
    from formulate.ir.model import Formulation
    from formulate.solution import Solution
    from formulate.text.numbers import TextNumber


#: what ``meta.expected_status`` may declare
DECLARABLE_STATUSES = ("infeasible", "unbounded")


@dataclass
class Subject:
    """One attempt as the checks see it. ``code`` is a code-mode attempt (then there is no formulation)."""

    formulation: Formulation | None = None
    problem_text: str | None = None
    solution: Solution | None = None
    code: Any = None  # formulate.formulators.code.CodeAttempt
    solver: str | None = None
    time_limit: float | None = None
    ground_warnings: list[str] = field(default_factory=list)

    @cached_property
    def problem(self) -> FlatProblem | None:
        """The problem as grounded (before big-M), from the solution or by grounding again."""
        if self.solution is not None and self.solution.flat is not None:
            return self.solution.flat
        if self.formulation is None:
            return None
        from formulate.errors import FormulateError
        from formulate.ir.ground import Grounder

        try:
            result = Grounder(self.formulation).ground()
        except FormulateError:
            return None
        self.ground_warnings = list(result.warnings)
        return result.problem

    @property
    def point(self) -> np.ndarray | None:
        if self.solution is None or not self.solution.has_solution:
            return None
        return self.solution.point

    @property
    def status(self) -> str | None:
        return self.solution.status if self.solution is not None else None

    @property
    def declared_status(self) -> str | None:
        """``infeasible`` or ``unbounded`` when the formulation's ``meta.expected_status`` says the text itself
        has no optimum (its conditions contradict, or leave the objective unlimited); None otherwise."""
        meta = self.formulation.meta if self.formulation is not None else {}
        declared = meta.get("expected_status") if isinstance(meta, dict) else None
        if isinstance(declared, str) and declared.strip().lower() in DECLARABLE_STATUSES:
            return declared.strip().lower()
        return None

    @cached_property
    def text(self) -> str:
        return self.problem_text or (self.formulation.problem if self.formulation is not None else None) or ""

    @cached_property
    def text_numbers(self) -> list[TextNumber]:
        from formulate.verify.text import numbers_in_text

        return numbers_in_text(self.text)

    @cached_property
    def sentences(self) -> list[str]:
        from formulate.verify.text import sentences

        return sentences(self.text)

    @cached_property
    def warnings(self) -> list[str]:
        """Grounding warnings (from the solution when there is one)."""
        if self.solution is not None:
            return list(self.solution.warnings)
        _ = self.problem
        return list(self.ground_warnings)
