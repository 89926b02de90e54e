"""`status`: solves that ended without an answer for a reason other than infeasible, unbounded or a limit."""

from __future__ import annotations

from formulate.verify.findings import Finding
from formulate.verify.subject import Subject


def check_status(subject: Subject) -> list[Finding]:
    sol = subject.solution
    if sol is None or subject.formulation is None:
        return []
    if sol.status == "infeasible_or_unbounded":
        message = ("The solver could not tell whether your formulation is infeasible or unbounded. Check both: that "
                   "every constraint has the direction and right-hand side the text gives (infeasible), and that every "
                   "variable the objective rewards is limited by a constraint (unbounded); give variables the bounds "
                   "the text implies.")
        return [Finding("infeasible", "error", "model", message, "infeasible or unbounded")]
    if sol.status in ("numerical_error", "error"):
        detail = f" ({sol.message})" if sol.message else ""
        message = (f"The solver failed on your formulation{detail}. This usually comes from badly scaled data (very "
                   "large and very small coefficients together) or huge bounds; state the data in units that keep "
                   "numbers moderate and give variables finite bounds where the text allows.")
        return [Finding("solve", "error", "solver", message, f"solver {sol.status}{detail}")]
    return []
