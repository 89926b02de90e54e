"""The verifier: solve, check the meaning, feed back, vote, and solve the other readings (design §4).

``verify(formulation, problem_text)`` returns a :class:`VerifyReport` of :class:`Finding` s (one small
module per kind, composed in :data:`CHECKS`); ``solve_readings`` solves ``meta.alternatives``;
``run_verified`` is the self-correction loop. Names are imported lazily, so ``formulate.verify.sandbox``
stays cheap to import.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "Finding": "formulate.verify.findings",
    "CHECKS": "formulate.verify.checks",
    "Subject": "formulate.verify.subject",
    "VerifyReport": "formulate.verify.report",
    "verify": "formulate.verify.report",
    "Reading": "formulate.verify.readings",
    "solve_readings": "formulate.verify.readings",
    "apply_changes": "formulate.verify.patch",
    "run_verified": "formulate.verify.loop",
    "VerifiedRun": "formulate.verify.loop",
    "RoundResult": "formulate.verify.loop",
    "feedback_message": "formulate.verify.feedback",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'formulate.verify' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
