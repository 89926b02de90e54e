"""`feasibility`: an independent re-check of the returned point against every ground row, indicator and bound
of the problem as grounded (before big-M), and of the objective recomputed from the point."""

from __future__ import annotations

from formulate.verify.findings import Finding
from formulate.verify.point import objective_value, violations
from formulate.verify.subject import Subject

#: a violation above this (relative above 1) is an error; below it a warning (solver tolerance)
ERROR_TOLERANCE = 1e-4
_SHOWN = 6


def check_feasibility(subject: Subject) -> list[Finding]:
    problem, x = subject.problem, subject.point
    if problem is None or x is None or x.shape[0] < problem.num_cols:
        return []
    found = violations(problem, x, tol=1e-6)
    out: list[Finding] = []
    if found:
        worst = found[0]
        scale = max(1.0, abs(worst.upper if worst.activity > worst.upper else worst.lower)
                    if worst.kind != "integrality" else 1.0)
        severe = worst.amount > ERROR_TOLERANCE * scale
        lines = "\n".join(f"- {v.text()}" for v in found[:_SHOWN])
        more = f"\n- ... and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
        conditional = bool(problem.indicators) or any(
            subject.formulation is not None and (subject.formulation.constraint(n).when or
                                                  subject.formulation.constraint(n).either)
            for n in (subject.formulation.constraints if subject.formulation is not None else []))
        cause = (" The model has `when:`/`either:` rows: a big-M that is too small or too large for the variables' "
                 "bounds is the usual cause; give the variables in those rows finite, tight bounds."
                 if conditional else " Badly scaled data (very large and very small numbers together) is the usual "
                 "cause; state the data in units that keep numbers moderate.")
        message = ("I re-checked the solver's point against your formulation and it breaks "
                   f"{'these' if len(found) > 1 else 'this'}:\n{lines}{more}\n{cause.strip()}")
        out.append(Finding("feasibility", "error" if severe else "warning", worst.name, message,
                           f"the returned point breaks {len(found)} row(s)/bound(s); worst: {worst.text()}"))
    sol = subject.solution
    if sol is not None and sol.objective is not None and not problem.nonlinear_rows:
        recomputed = objective_value(problem, x)
        if abs(recomputed - sol.objective) > 1e-6 * max(1.0, abs(recomputed)):
            out.append(Finding("feasibility", "warning", "objective",
                               f"The solver reported objective {sol.objective:.10g}, but it evaluates to "
                               f"{recomputed:.10g} at the returned point.",
                               f"objective {sol.objective:.10g} vs {recomputed:.10g} recomputed"))
    return out
