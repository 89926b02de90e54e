"""`numbers`: numbers of the text that the formulation never uses, values the formulation states that the text
never gives (and that no two text numbers make), and parameters declared but never used.

A text number counts as used when it, or a form of it, appears anywhere in the formulation: parameter
values and defaults, bounds, literals in expressions, set members and sizes, or the grounded
coefficients and right-hand sides. Forms: 30% is 30 or 0.3 (and 0.7, 1.3 as complements), a scale word
gives both (2 million: 2 and 2000000), a unit factor (x60, x100, x1000 and their inverses), a sign, and
a product, quotient, sum or difference with another text number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

import numpy as np

from formulate.ir.model import Formulation, Parameter
from formulate.text.numbers import TextNumber
from formulate.verify.findings import Finding
from formulate.verify.subject import Subject
from formulate.verify.text import sentence_at

_LITERAL = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)")
_UNIT_FACTORS = (1.0, 60.0, 1 / 60, 100.0, 0.01, 1000.0, 0.001)
_SHOWN = 8
_REL = 1e-6
#: the grounded arrays are read only up to this many values
_GROUND_LIMIT = 200_000


def check_numbers(subject: Subject) -> list[Finding]:
    f = subject.formulation
    if f is None:
        return []
    out: list[Finding] = []
    text_numbers = subject.text_numbers if subject.text else []
    values = formulation_values(f, subject.problem)
    if text_numbers:
        missing = missing_numbers(text_numbers, values)
        if missing:
            out.append(_missing_finding(subject, missing))
        invented = invented_values(f, text_numbers)
        if invented:
            out.append(_invented_finding(invented))
    unused = [m.group(1) for w in subject.warnings if (m := re.match(r"parameter `(\w+)` is never used", w))]
    if unused:
        names = ", ".join(f"`{n}`" for n in unused)
        one = len(unused) == 1
        out.append(Finding("numbers", "warning", f"parameter{'' if one else 's'} {names}",
                           f"Parameter{'' if one else 's'} {names} {'is' if one else 'are'} declared but never used in "
                           "the objective or any constraint: a term or a constraint of the text that needs "
                           f"{'it' if one else 'them'} may be missing. Use {'it' if one else 'them'} where the text "
                           "says, or remove what is not data of this problem.",
                           f"never used: {names}"))
    return out


# ------------------------------------------------------------------------------------------- values


def _flatten(value: object) -> Iterator[float]:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
            stack.extend(k for k in v if isinstance(k, int | float))
        elif isinstance(v, list | tuple):
            stack.extend(v)
        elif isinstance(v, bool):
            continue
        elif isinstance(v, int | float):
            yield float(v)
        elif isinstance(v, str):
            yield from _literals(v)


def _literals(text: str) -> Iterator[float]:
    for m in _LITERAL.finditer(text):
        try:
            yield float(m.group(1))
        except ValueError:
            continue
    for m in re.finditer(r"\d+", text):  # digits inside names and members (P1, week_3)
        yield float(m.group(0))


def formulation_values(f: Formulation, problem=None) -> np.ndarray:
    """Every number the formulation states or grounds to, sorted (no duplicates)."""
    found: list[float] = []
    for members in f.sets.values():
        found.extend(_flatten(members))
        if isinstance(members, list):
            found.append(float(len(members)))
    for spec in f.parameters.values():
        if isinstance(spec, Parameter):
            table = list(_flatten(spec.values))
            found.extend(table)
            # steps of cumulative tables (cost at each breakpoint): 860 - 510 is 500 kg at $0.70
            steps = [b - a for a, b in zip(table, table[1:], strict=False)]
            if len(table) >= 3 and (all(d >= 0 for d in steps) or all(d <= 0 for d in steps)):
                found.extend(steps)
            if spec.default is not None:
                found.extend(_flatten(spec.default))
        else:
            found.extend(_flatten(spec))
    for v in f.variables.values():
        found.extend(_flatten([v.lower, v.upper]))
    # counts of things the text names ("three products", "two shifts"): declared items, columns per kind
    found += [float(len(f.variables)), float(len(f.constraints)), float(len(f.parameters))]
    if problem is not None:
        found += [float(problem.num_cols), float(problem.num_rows)]
        found += [float(b.size) for b in problem.var_blocks + problem.row_blocks]
    for level in f.objectives():  # every level of a list of objectives, with its weight
        found.extend(_literals(level.expr))
        if level.weight is not None:
            found.append(float(level.weight))
    for name in f.constraints:
        c = f.constraint(name)
        for piece in (c.forall, c.expr, c.when, *(c.either or [])):
            if piece:
                found.extend(_literals(piece))
    if problem is not None:
        for array in (problem.row_value, problem.row_lower, problem.row_upper, problem.obj_linear,
                      problem.col_lower, problem.col_upper, problem.obj_qv):
            found.extend(np.asarray(array[:_GROUND_LIMIT], dtype=float).tolist())
        found.append(float(problem.obj_constant))
        for row in problem.quadratic_rows[:1000]:
            found.extend([*row.lin_val.tolist(), *row.qv.tolist(), row.lower, row.upper])
    arr = np.asarray([v for v in found if math.isfinite(v)], dtype=float)
    arr = np.concatenate([arr, -arr])
    return np.unique(arr)


def _contains(values: np.ndarray, target: float) -> bool:
    if values.size == 0 or not math.isfinite(target):
        return False
    tol = _REL * max(1.0, abs(target))
    i = int(np.searchsorted(values, target - tol))
    return i < values.size and values[i] <= target + tol


def _forms(number: TextNumber) -> list[float]:
    forms = list(number.values)
    if number.percent:
        p = number.value / 100.0
        forms += [1 - p, 1 + p]
    return forms


def _used(number: TextNumber, values: np.ndarray, derived: np.ndarray, others: Iterable[float]) -> bool:
    """``number`` (in a form or unit) is in ``values``, or combined with another text number it makes one of
    the ``derived`` values (those that are not themselves numbers of the text)."""
    forms = _forms(number)
    for form in forms:
        for factor in _UNIT_FACTORS:
            if _contains(values, form * factor):
                return True
    if derived.size == 0:
        return False
    for form in forms:
        for other in others:
            if other == 0:
                continue
            for combo in (form * other, form / other, other / form if form else math.inf, form + other,
                          form - other, other - form):
                if _contains(derived, combo):
                    return True
    return False


def missing_numbers(text_numbers: list[TextNumber], values: np.ndarray) -> list[TextNumber]:
    """The data numbers of the text that appear nowhere in ``values`` in any form."""
    data = [n for n in text_numbers if n.data]
    plain = [v for n in data for v in n.values]
    text_forms = np.unique(np.asarray([f * s for n in text_numbers for f in _forms(n) for s in (1.0, -1.0)],
                                      dtype=float))
    derived = np.asarray([v for v in values if not _contains(text_forms, float(v))], dtype=float)
    out: list[TextNumber] = []
    seen: set[float] = set()
    for number in data:
        if number.value in seen or number.value in (0.0, 1.0):
            continue
        others = [v for v in plain if v != number.value]
        if not _used(number, values, derived, others):
            out.append(number)
            seen.add(number.value)
    return out


def invented_values(f: Formulation, text_numbers: list[TextNumber]) -> list[tuple[str, float]]:
    """(parameter, value) of scalar parameters and bounds the text never gives and no two text numbers make."""
    text_values = sorted({v for n in text_numbers for v in _forms(n)})
    arr = np.unique(np.asarray(text_values + [-v for v in text_values], dtype=float))
    pairs = [v for n in text_numbers for v in _forms(n)]
    candidates: list[tuple[str, float]] = []
    for name, spec in f.parameters.items():
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            candidates.append((f"parameter `{name}`", float(spec)))
    for name, v in f.variables.items():
        for side in ("lower", "upper"):
            bound = getattr(v, side)
            if isinstance(bound, int | float) and not isinstance(bound, bool) and math.isfinite(bound):
                candidates.append((f"the {side} bound of `{name}`", float(bound)))
    out = []
    for where, value in candidates:
        if value in (0.0, 1.0, -1.0) or _big_m_like(value):
            continue
        if any(_contains(arr, value / factor) for factor in _UNIT_FACTORS):
            continue
        if _made_of(value, pairs):
            continue
        out.append((where, value))
    return out


def _big_m_like(value: float) -> bool:
    """1e4, 1e6, 99999: a big number written as a limit, not data."""
    a = abs(value)
    if a >= 1e4 and (math.log10(a).is_integer() or str(int(a)).strip("9") == ""):
        return True
    return False


def _made_of(value: float, numbers: list[float]) -> bool:
    for i, a in enumerate(numbers):
        for b in numbers[i:]:
            for combo in (a * b, a + b, a - b, b - a, a / b if b else math.inf, b / a if a else math.inf):
                if abs(combo - value) <= _REL * max(1.0, abs(value)):
                    return True
    return False


# ----------------------------------------------------------------------------------------- findings


def _missing_finding(subject: Subject, missing: list[TextNumber]) -> Finding:
    lines = []
    for number in missing[:_SHOWN]:
        sentence = sentence_at(subject.text, number.start)
        lines.append(f'- {number.text}, in: "{sentence}"')
    more = f"\n- ... and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
    plural = len(missing) != 1
    message = (f"{'These numbers' if plural else 'This number'} of the text appear{'' if plural else 's'} nowhere in "
               f"your formulation (not as a parameter, bound or coefficient, in any unit):\n" + "\n".join(lines) + more
               + f"\nIf {'one is' if plural else 'it is'} data of the problem, use it; if it is not (an example, a "
               "name, a date), leave the formulation as it is.")
    person = "numbers of the text not used: " + ", ".join(n.text for n in missing[:_SHOWN]) + (
        f" (+{len(missing) - _SHOWN})" if len(missing) > _SHOWN else "")
    span = sentence_at(subject.text, missing[0].start) or None
    return Finding("numbers", "warning", "text numbers " + ", ".join(n.text for n in missing[:_SHOWN]), message,
                   person, span)


def _invented_finding(invented: list[tuple[str, float]]) -> Finding:
    lines = "\n".join(f"- {where} = {value:.10g}" for where, value in invented[:_SHOWN])
    message = ("These values of your formulation are not numbers of the text, and no two numbers of the text "
               f"make them:\n{lines}\nIf the text gives them (in other units, or as a sum or product), keep them and "
               "say how in `meta.assumptions`; if they are guesses, take the value the text gives.")
    return Finding("numbers", "warning", ", ".join(w for w, _ in invented[:_SHOWN]), message,
                   "values not in the text: " + ", ".join(f"{w} = {v:.6g}" for w, v in invented[:_SHOWN]))
