"""Writing pieces of a model out for a message: a constraint as written, a ground row with its numbers,
a variable's bounds, and the text sentence a constraint most likely came from."""

from __future__ import annotations

import re

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.ir.model import Formulation
from formulate.verify.text import best_sentence, name_words

_ITEM = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?:\[(?P<key>.*)\])?$")


def split_label(label: str) -> tuple[str, str | None]:
    """``demand[chair]`` -> (``demand``, ``chair``); ``wood_limit`` -> (``wood_limit``, None)."""
    m = _ITEM.match(label.strip())
    return (m.group("name"), m.group("key")) if m else (label, None)


def constraint_text(formulation: Formulation, name: str) -> str | None:
    """```x[p] <= 40` for p in P`` as the formulation writes constraint ``name`` (None if it has none)."""
    if name not in formulation.constraints:
        return None
    c = formulation.constraint(name)
    body = f"`{c.expr}`" if c.expr else ("either " + " or ".join(f"`{e}`" for e in c.either or []))
    if c.when:
        body += f" when `{c.when}`"
    return f"{body} for {c.forall}" if c.forall else body


_AT_MOST = re.compile(r"\b(?:at most|no more than|not more than|up to|maximum(?: of)?|max\.?|not exceed(?:ing)?|"
                      r"cannot exceed|can't exceed|limited to|less than|fewer than|under|only)\s+\$?$", re.IGNORECASE)
_AT_LEAST = re.compile(r"\b(?:at least|no less than|not less than|no fewer than|minimum(?: of)?|min\.?|"
                       r"more than|greater than|over|exceed(?:ing)?|a total of at least)\s+\$?$", re.IGNORECASE)


_CLAUSE_START = re.compile(r"[.;:\n()]|\s-\s|,\s")
_NEGATED = re.compile(r"\b(?:not|never|cannot|can't|won't|mustn't|shouldn't|doesn't|don't|no)\s+(?:[a-z]+\s+)?$",
                      re.IGNORECASE)


def direction_hint(span: str | None, bound: float, sense: str) -> str | None:
    """``the text says "at most 40" but the row reads `>=``` when the words right before ``bound`` in ``span``
    (in the same clause) contradict the row's direction (``<=`` or ``>=``); None otherwise, and None when the
    number occurs more than once in ``span`` (then it cannot tell which occurrence the row stands for)."""
    if not span or sense not in ("<=", ">=") or bound in (0.0, 1.0):
        return None
    from formulate.verify.text import close, numbers_in_text

    hits = [n for n in numbers_in_text(span) if n.data and any(close(bound, v) for v in n.values)]
    if len(hits) != 1:
        return None
    number = hits[0]
    before = _CLAUSE_START.split(span[max(0, number.start - 40):number.start])[-1]
    at_most, at_least = _AT_MOST.search(before), _AT_LEAST.search(before)
    if at_most and _NEGATED.search(before[:at_most.start()]):  # "no less than", "not under"
        at_most, at_least = None, at_most
    elif at_least and _NEGATED.search(before[:at_least.start()]):  # "must not exceed", "cannot be more than"
        at_most, at_least = at_least, None
    if re.search(r"\bby\s+\S+\s+than\s*$", before):  # "exceed Y by more than 4": a difference, unclear
        return None
    if at_most and sense == ">=":
        return f'the text says "{at_most.group(0).strip()} {number.text}" but the row reads `>=`'
    if at_least and sense == "<=":
        return f'the text says "{at_least.group(0).strip()} {number.text}" but the row reads `<=`'
    return None


def row_sense(problem: FlatProblem, row: int) -> tuple[str, float | None]:
    """(``<=``, upper) / (``>=``, lower) / (``==``, value) / (``range``, None) of a linear row."""
    lo, up = float(problem.row_lower[row]), float(problem.row_upper[row])
    if np.isfinite(lo) and np.isfinite(up):
        return ("==", lo) if lo == up else ("range", None)
    if np.isfinite(up):
        return "<=", up
    if np.isfinite(lo):
        return ">=", lo
    return "free", None


def _fmt(value: float) -> str:
    return f"{value:.10g}"


def linear_text(problem: FlatProblem, cols: np.ndarray, coefs: np.ndarray, limit: int = 8) -> str:
    terms = []
    for j, a in list(zip(cols, coefs, strict=True))[:limit]:
        name = problem.col_name(int(j))
        sign = "-" if a < 0 else "+"
        mag = abs(float(a))
        terms.append(f"{sign} {'' if mag == 1 else _fmt(mag) + ' '}{name}")
    if len(cols) > limit:
        terms.append(f"+ ... ({len(cols) - limit} more terms)")
    text = " ".join(terms) or "0"
    return text[2:] if text.startswith("+ ") else "-" + text[2:] if text.startswith("- ") else text


def bounds_text(expr: str, lower: float, upper: float) -> str:
    if np.isfinite(lower) and np.isfinite(upper):
        return f"{expr} == {_fmt(lower)}" if lower == upper else f"{_fmt(lower)} <= {expr} <= {_fmt(upper)}"
    if np.isfinite(upper):
        return f"{expr} <= {_fmt(upper)}"
    if np.isfinite(lower):
        return f"{expr} >= {_fmt(lower)}"
    return f"{expr} (free)"


def find_row(problem: FlatProblem, label: str) -> int | None:
    """The row index of ``demand[chair]`` (or ``wood_limit``), or None."""
    name, _ = split_label(label)
    for block in problem.row_blocks:
        if block.name != name and not label.startswith(block.name):
            continue
        for offset in range(block.size):
            if block.label(offset) == label:
                return block.start + offset
    return None


def row_text(problem: FlatProblem, row: int) -> str:
    """A ground row with its numbers: ``2 x[chair] + 5 x[table] <= 100``."""
    lo, hi = problem.row_start[row], problem.row_start[row + 1]
    body = linear_text(problem, problem.row_index[lo:hi], problem.row_value[lo:hi])
    return bounds_text(body, float(problem.row_lower[row]), float(problem.row_upper[row]))


def row_numbers(problem: FlatProblem, row: int) -> list[float]:
    lo, hi = problem.row_start[row], problem.row_start[row + 1]
    values = [float(v) for v in problem.row_value[lo:hi]]
    values += [float(b) for b in (problem.row_lower[row], problem.row_upper[row]) if np.isfinite(b)]
    return values


def source_sentence(formulation: Formulation, text: str, name: str, numbers: list[float] = ()) -> str | None:
    """The sentence of the problem text that constraint (or variable) ``name`` most likely comes from."""
    words = name_words(name)
    item = formulation.constraints.get(name)
    if item is not None:
        c = formulation.constraint(name)
        if c.description:
            words += name_words(c.description)
        for piece in (c.expr or "", *(c.either or [])):
            for token in re.findall(r"[A-Za-z_]\w*", piece):
                if token in formulation.parameters:
                    words += name_words(token)
                    numbers = [*numbers, *_parameter_numbers(formulation, token)]
            numbers = [*numbers, *[float(t) for t in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", piece)]]
    variable = formulation.variables.get(name)
    if variable is not None and variable.description:
        words += name_words(variable.description)
    return best_sentence(text, list(numbers), words)


def _parameter_numbers(formulation: Formulation, name: str, limit: int = 20) -> list[float]:
    spec = formulation.parameters.get(name)
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return [float(spec)]
    values = getattr(spec, "values", None)
    out: list[float] = []
    stack = [values]
    while stack and len(out) < limit:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out.append(float(v))
    return out


def quote(span: str | None, limit: int = 300) -> str:
    """``The text says: "..."`` for a span (empty when there is none)."""
    if not span:
        return ""
    span = span if len(span) <= limit else span[:limit - 3] + "..."
    return f'The text says: "{span}"'
