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
    """``for p in P: `x[p] <= 40``` as the formulation writes constraint ``name`` (None if it has none)."""
    if name not in formulation.constraints:
        return None
    c = formulation.constraint(name)
    body = f"`{c.expr}`" if c.expr else ("either " + " or ".join(f"`{e}`" for e in c.either or []))
    if c.when:
        body += f" when `{c.when}`"
    return f"for {c.forall}: {body}" if c.forall else body


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
