"""The offline formulator's entry point: the tagged reader and the template reader, the surer one answers."""

from __future__ import annotations

import logging
import re

from formulate.formulators.offline.patterns import Row
from formulate.formulators.offline.sanity import conflicting_rows, empty_rows, integer_infeasible, lp_status
from formulate.formulators.offline.tagged import Reading, Unread, counted, read_tagged, template_reading
from formulate.formulators.offline.tagger import Tagger
from formulate.formulators.offline.templates import (
    _FALLBACK,
    THRESHOLD,
    RulesResult,
    _constraint_name,
    _fmt,
    _linear_text,
    _obviously_broken,
    _origin_optimal,
    formulate_templates,
)
from formulate.ir.model import Constraint, Formulation, Objective, Variable

log = logging.getLogger(__name__)

#: the template reader's answer stands over a tagged refusal of a prose text only at this confidence
SURE = 0.9


def formulation_of(reading: Reading, text: str) -> RulesResult:
    """A Formulation (with its confidence) from what the tagged reader read."""
    names = [_safe(name) for name in reading.names]
    variables = {name: Variable(type="integer" if reading.integer else "continuous", lower=0, description=label)
                 for name, label in zip(names, reading.labels, strict=True)}
    constraints: dict[str, Constraint | str] = {}
    notes = list(reading.notes)
    seen: set[tuple] = set()
    for row in reading.rows:
        key = (tuple(sorted(row.coefs.items())), row.op, row.rhs)
        if key in seen:
            continue
        seen.add(key)
        name = _constraint_name(row, row.clause, names, constraints)
        expr = f"{_linear_text(row.coefs, names)} {row.op} {_fmt(row.rhs)}"
        constraints[name] = Constraint(expr=expr, description=row.clause)
        notes.append(f"{name}: {expr} <- '{row.clause}'")
    penalty = reading.penalty
    doubts = list(reading.doubts)
    rows: list[Row] = reading.rows
    if _origin_optimal(reading.objective, reading.sense, rows):
        penalty += 0.5
        doubts.insert(0, "doing nothing (all quantities 0) is already optimal: a constraint was probably misread")
    trouble = _obviously_broken(reading.objective, reading.sense, rows, names) or _lp_trouble(
        reading.objective, reading.sense, rows, len(names), reading.integer)
    if trouble:
        penalty += 0.5
        doubts.insert(0, trouble)
    confidence = round(max(0.0, min(0.9, 0.9 - penalty)), 3)
    formulation = Formulation(
        name="rules_model", problem=text, meta={"formulator": "rules", "reader": "tagged", "confidence": confidence},
        variables=variables, objective=Objective(sense=reading.sense, expr=_linear_text(reading.objective, names)),
        constraints=constraints)
    reason = "; ".join(doubts[:3])
    if confidence < THRESHOLD:
        reason = f"too unsure to answer ({reason or 'several clauses were read with low confidence'}); {_FALLBACK}"
    return RulesResult(formulation, confidence, reason, notes)


def _lp_trouble(objective: dict[int, float], sense: str, rows: list[Row], n: int, integer: bool = False) -> str:
    empty = empty_rows(rows)
    if empty:
        return f"'{empty[0].clause}' reads as a row that says nothing or forces zero: a comparison was misread"
    status = lp_status(objective, sense, rows, n)
    if status == "infeasible":
        clauses = list(dict.fromkeys(f"'{r.clause}'" for r in conflicting_rows(rows, n)))
        if len(clauses) > 1:
            return (f"the model read is infeasible: {', '.join(clauses[:-1])} and {clauses[-1]} cannot all hold; "
                    "the text may have no solution as written, or a limit was misread")
    if status != "optimal":
        return f"the model read is {status}: a limit was probably misread"
    if integer and integer_infeasible(rows, n):
        return "no whole-number choice meets every limit: a limit was probably misread"
    return ""


def _safe(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_") or "x"
    return out if out[0].isalpha() else f"x_{out}"


def formulate_tagged(text: str, tagger: Tagger | None = None) -> RulesResult:
    """The tagged reader alone: a formulation, or a refusal naming what it could not read."""
    try:
        reading = read_tagged(text, tagger)
    except Unread as exc:
        return RulesResult(None, 0.0, f"{exc}; {_FALLBACK}", ["early refusal"] if exc.early else [])
    return formulation_of(reading, text)


def formulate_rules(text: str) -> RulesResult:
    """Formulate ``text`` with no model, or refuse with the reason.

    The tagged reader answers when it is sure; otherwise the template reader, whose answer goes through
    the same checks (the model solves, no row is empty, counted things are whole).
    """
    tagged = formulate_tagged(text)
    if tagged.formulation is not None and tagged.confidence >= THRESHOLD:
        return tagged
    templ = _checked(formulate_templates(text), text)
    # a prose text the tagged reader could not fit: the template reader must be sure, unless the
    # quantities have symbolic names (X, Y, x1), the phrasing the template reader was built for
    bar = THRESHOLD if "early refusal" in tagged.notes or _symbolic(templ) else SURE
    if templ.formulation is not None and templ.confidence >= bar:
        return templ
    if tagged.formulation is not None or "early refusal" not in tagged.notes:
        return tagged          # below the threshold, or a refusal naming what did not fit
    return templ


def _symbolic(result: RulesResult) -> bool:
    f = result.formulation
    return f is not None and all(re.fullmatch(r"(?:[a-z]+_)?[a-z]\d{0,2}", name) for name in f.variables)


def _checked(result: RulesResult, text: str) -> RulesResult:
    """The template reader's answer, re-checked: refused when its model cannot be what the text meant."""
    f = result.formulation
    if f is None:
        return result
    try:
        reading = template_reading(f)
    except ValueError:
        return result
    names = list(f.variables)
    trouble = _lp_trouble(reading[0], f.objective.sense, reading[1], len(names),
                          any(v.type == "integer" for v in f.variables.values()))
    if trouble:
        return RulesResult(f, 0.0, f"too unsure to answer ({trouble}); {_FALLBACK}", result.notes)
    labels = [v.description or k for k, v in f.variables.items()]
    if all(v.type == "continuous" for v in f.variables.values()) and all(
            len(label) > 2 for label in labels) and counted(text, labels):
        for v in f.variables.values():
            v.type = "integer"
        result.notes.append("integer variables <- the quantities are counted things")
    return result


class RulesFormulator:
    """The offline default formulator (no model)."""

    name = "rules"

    def formulate(self, text: str) -> RulesResult:
        """Formulate ``text``; see :func:`formulate_rules`."""
        return formulate_rules(text)


__all__ = ["RulesFormulator", "RulesResult", "THRESHOLD", "formulate_rules", "formulate_tagged"]
