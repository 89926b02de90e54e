"""Batch evaluation: a concurrent, resumable runner, named scoring rules, and side-by-side reports.

Names are imported on first use, so ``formulate.eval.cli`` (mounted in the CLI) stays cheap to import.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AttemptView": "attempts", "Formulator": "attempts", "make_formulator": "attempts", "view_attempt": "attempts",
    "Summary": "report", "summarize": "report", "to_html": "report", "to_markdown": "report",
    "RunLog": "runlog", "read_log": "runlog",
    "STAGES": "runner", "EvalConfig": "runner", "RunResult": "runner", "run_eval": "runner",
    "DEFAULT_RULE": "scoring", "RULES": "scoring", "Rule": "scoring", "get_rule": "scoring",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'formulate.eval' has no attribute {name!r}")
    return getattr(import_module(f"formulate.eval.{module}"), name)


def __dir__() -> list[str]:
    return sorted(_EXPORTS)


__all__ = sorted(_EXPORTS)
