"""Named scoring rules: when a predicted objective (or status) counts as matching a label.

Every score is printed with its rule's name and statement. The default is ``rel1e-4``.
Labels that mark infeasibility ('No Best Solution', -9999, 'infeasible', ``{"status": "infeasible"}``)
match only a solve that proves infeasibility (``infeasible`` or ``infeasible_or_unbounded``); unbounded
labels match ``unbounded`` or ``infeasible_or_unbounded``; a predicted objective never matches them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from formulate.datasets.answers import label_decimals
from formulate.errors import FormulateError, did_you_mean

DEFAULT_RULE = "rel1e-4"
#: the project's strict rule, reported beside a dataset's own looser rule (C3-Bench: rel2e-3)
STRICT_RULE = DEFAULT_RULE
INFEASIBLE_MARKER = ("infeasible_marker: a label marking infeasible/unbounded matches only a solve that proves it "
                     "(infeasible_or_unbounded matches either)")

_MATCHING_STATUS = {
    "infeasible": {"infeasible", "infeasible_or_unbounded"},
    "unbounded": {"unbounded", "infeasible_or_unbounded"},
    "infeasible_or_unbounded": {"infeasible", "unbounded", "infeasible_or_unbounded"},
}


def _rel(tol: float) -> Callable[[float, float, Any], bool]:
    def compare(pred: float, ans: float, raw: Any) -> bool:
        return abs(pred - ans) <= tol * max(1.0, abs(ans))

    return compare


def _round_to_label(pred: float, ans: float, raw: Any) -> bool:
    decimals = label_decimals(raw)
    if decimals is None:
        return _rel(1e-6)(pred, ans, raw)
    return abs(round(pred, decimals) - ans) <= 1e-9 * max(1.0, abs(ans))


@dataclass(frozen=True)
class Rule:
    """A named comparison of a prediction with a label; ``statement`` is printed beside every score."""

    name: str
    statement: str
    compare: Callable[[float, float, Any], bool]

    def correct(self, predicted: float | None, predicted_status: str | None, expected: float | None,
                expected_status: str | None, raw: Any = None) -> bool:
        """Whether the prediction matches the label (see the module docstring for status labels)."""
        if expected_status in _MATCHING_STATUS:
            return predicted_status in _MATCHING_STATUS[expected_status]
        if expected is None or predicted is None:
            return False
        if not (math.isfinite(predicted) and math.isfinite(expected)):
            return False
        return self.compare(float(predicted), float(expected), raw)

    def describe(self) -> str:
        """``name: statement``."""
        return f"{self.name}: {self.statement}"


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("rel1e-4", "|pred-ans| <= 1e-4*max(1,|ans|)", _rel(1e-4)),
        Rule("rel1e-6", "|pred-ans| <= 1e-6*max(1,|ans|)", _rel(1e-6)),
        Rule("rel2e-3", "|pred-ans| <= 2e-3*max(1,|ans|) (C3-Bench's own relative 0.2%)", _rel(2e-3)),
        Rule("abs_rel_1e-2", "|pred-ans| <= 1e-2*max(1,|ans|) (absolute 0.01 below 1, relative 1% above)",
             _rel(1e-2)),
        Rule("round_to_label", "round pred to the label's written decimals, then equal (labels without "
             "decimals: integers); unknown decimals fall back to rel1e-6", _round_to_label),
    )
}


def get_rule(name: str | None) -> Rule:
    """The rule named ``name`` (the default when None); FormulateError with a suggestion otherwise."""
    key = name or DEFAULT_RULE
    if key in RULES:
        return RULES[key]
    hint = did_you_mean(key, RULES)
    raise FormulateError(f"unknown scoring rule `{key}`; {hint or 'choose one of ' + ', '.join(RULES)}")


__all__ = ["DEFAULT_RULE", "INFEASIBLE_MARKER", "RULES", "Rule", "STRICT_RULE", "get_rule"]
