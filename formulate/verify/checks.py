"""The list of checks the verifier runs, in order; each is a pure function ``Subject -> list[Finding]``."""

from __future__ import annotations

from collections.abc import Callable

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

CHECKS: list[Check] = [
    check_code,
    check_status,
    check_infeasible,
    check_unbounded,
    check_time_limit,
    check_feasibility,
    check_trivial,
    check_direction,
    check_integrality,
    check_numbers,
]
