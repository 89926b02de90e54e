"""`code`: a code-mode script that raised, printed no objective, or ended in a status other than optimal."""

from __future__ import annotations

from formulate.verify.findings import Finding
from formulate.verify.subject import Subject


def check_code(subject: Subject) -> list[Finding]:
    code = subject.code
    if code is None:
        return []
    from formulate.formulators.code import feedback_message

    status = getattr(code, "status", None)
    message = feedback_message(code)
    if status in ("error", "timeout"):
        return [Finding("code", "error", "script", message, f"script {status}: {code.error or 'no detail'}")]
    if status == "no_objective":
        return [Finding("code", "error", "script", message, "the script printed no objective value")]
    if status in ("infeasible", "unbounded", "infeasible_or_unbounded"):
        return [Finding("code", "error", "script", message, f"the script's model is {status.replace('_', ' ')}")]
    if status == "feasible":
        return [Finding("code", "warning", "script",
                        "Your script stopped before proving optimality (time limit or a suboptimal status). Make "
                        "the model tighter or smaller so it solves to optimality, and print the optimal value. "
                        "Reply with the complete corrected script in one ```python block.",
                        "the script's solve is not proven optimal")]
    if message:  # an objective was printed and then the script failed
        return [Finding("code", "warning", "script", message, f"the script failed after printing: {code.error}")]
    return []
