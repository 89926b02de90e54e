"""`verify()`: solve (unless a solution is given), run every check, solve the readings; one report."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from formulate.errors import FormulateError, FormulationError
from formulate.verify.findings import Finding, rank, summary
from formulate.verify.readings import Reading, solve_readings
from formulate.verify.subject import Subject

log = logging.getLogger(__name__)


@dataclass
class VerifyReport:
    """What the verifier found about one formulation: findings, the solution it checked, and the readings."""

    findings: list[Finding] = field(default_factory=list)
    solution: Any = None  # formulate.solution.Solution
    readings: list[Reading] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No error finding."""
        return all(f.severity != "error" for f in self.findings)

    @property
    def rank(self) -> int:
        """0 optimal and clean, 1 warnings, 2 errors (lower is better)."""
        r = rank(self.findings)
        if r == 0 and (self.solution is None or not self.solution.optimal):
            return 1
        return r

    def summary(self) -> str:
        return summary(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary(), "findings": [f.to_dict() for f in self.findings],
                "solution": self.solution.to_dict() if self.solution is not None else None,
                "readings": [r.to_dict() for r in self.readings], "seconds": round(self.seconds, 6)}


def verify(formulation: Any = None, problem_text: str | None = None, solution: Any = None, *,
           solver: str | None = None, time_limit: float | None = None, mip_gap: float | None = None,
           readings: bool = True, code: Any = None, checks: list | None = None) -> VerifyReport:
    """Verify a formulation (a Formulation, a path or YAML text) against its problem text.

    Solves it when ``solution`` is None; a code-mode attempt goes in ``code`` (no formulation). Every
    check in ``checks`` (default :data:`formulate.verify.checks.CHECKS`) runs; one that crashes is
    logged and skipped, never the end of the loop.
    """
    from formulate.verify.checks import CHECKS

    started = time.perf_counter()
    report = VerifyReport()
    if formulation is not None:
        from formulate.api import as_formulation, solve

        try:
            formulation = as_formulation(formulation)
        except FormulationError as exc:
            report.findings.append(Finding("check", "error", "formulation", str(exc), str(exc)))
            report.seconds = time.perf_counter() - started
            return report
        if solution is None:
            try:
                solution = solve(formulation, solver=solver, time_limit=time_limit, mip_gap=mip_gap)
            except FormulationError as exc:
                report.findings.append(Finding("check", "error", exc.where or "formulation", str(exc), str(exc)))
            except FormulateError as exc:
                report.findings.append(Finding("solve", "error", "solver",
                                               f"The solve failed: {exc}", f"solve failed: {exc}"))
    report.solution = solution
    text = problem_text if problem_text is not None else getattr(formulation, "problem", None)
    subject = Subject(formulation=formulation, problem_text=text, solution=solution, code=code, solver=solver,
                      time_limit=time_limit)
    if formulation is not None or code is not None:
        for check in checks if checks is not None else CHECKS:
            try:
                report.findings.extend(check(subject))
            except Exception:  # a crash in one check must not lose the others
                log.exception("verifier check %s crashed", getattr(check, "__name__", check))
    if readings and formulation is not None and solution is not None:
        report.readings = solve_readings(formulation, solution, solver=solver, time_limit=time_limit,
                                         mip_gap=mip_gap)
        report.findings.extend(_reading_findings(report.readings))
    report.seconds = time.perf_counter() - started
    return report


def _reading_findings(readings: list[Reading]) -> list[Finding]:
    out = []
    for position, reading in enumerate(readings):
        if reading.error is None:
            continue
        out.append(Finding("readings", "warning", f"meta.alternatives[{position}]",
                           f"Your alternative reading \"{reading.reading}\" could not be solved: {reading.error}. "
                           "Fix its `changes` (items by name, `null` deletes) so that the patched formulation checks.",
                           f"reading \"{reading.reading}\" failed: {reading.error}"))
    return out
