"""Batch evaluation: a concurrent, resumable runner, named scoring rules, and side-by-side reports."""

from formulate.eval.attempts import AttemptView, Formulator, make_formulator, view_attempt
from formulate.eval.report import Summary, summarize, to_html, to_markdown
from formulate.eval.runlog import RunLog, read_log
from formulate.eval.runner import STAGES, EvalConfig, RunResult, run_eval
from formulate.eval.scoring import DEFAULT_RULE, RULES, Rule, get_rule

__all__ = [
    "AttemptView",
    "DEFAULT_RULE",
    "EvalConfig",
    "Formulator",
    "RULES",
    "Rule",
    "RunLog",
    "RunResult",
    "STAGES",
    "Summary",
    "get_rule",
    "make_formulator",
    "read_log",
    "run_eval",
    "summarize",
    "to_html",
    "to_markdown",
    "view_attempt",
]
