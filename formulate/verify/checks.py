"""The list of checks the verifier runs, in order; each is a pure function ``Subject -> list[Finding]``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from formulate.verify.code import check_code
from formulate.verify.direction import check_direction
from formulate.verify.feasibility import check_feasibility
from formulate.verify.findings import Finding
from formulate.verify.infeasible import check_infeasible
from formulate.verify.integrality import check_integrality
from formulate.verify.numbers import check_numbers
from formulate.verify.status import check_status
from formulate.verify.subject import Subject
from formulate.verify.time_limit import check_time_limit
from formulate.verify.trivial import check_trivial
from formulate.verify.unbounded import check_unbounded

Check = Callable[[Subject], list[Finding]]


def as_declared(check: Check) -> Check:
    """``check`` whose finding becomes ``info`` when the formulation declares that status expected
    (``meta.expected_status``): the model has said the text itself has no optimum, so the loop stops asking it
    to fix one, while the person still sees the finding (the conflicting rows, the runaway variables)."""

    def checked(subject: Subject) -> list[Finding]:
        found = check(subject)
        if subject.declared_status is None or subject.declared_status != subject.status:
            return found
        note = f" (the formulation declares `meta.expected_status: {subject.declared_status}`)"
        return [replace(f, severity="info", for_person=f.for_person + note) for f in found]

    checked.__name__ = check.__name__
    return checked


CHECKS: list[Check] = [
    check_code,
    check_status,
    as_declared(check_infeasible),
    as_declared(check_unbounded),
    check_time_limit,
    check_feasibility,
    check_trivial,
    check_direction,
    check_integrality,
    check_numbers,
]
