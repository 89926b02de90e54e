"""`infeasible`: the irreducible infeasible set as named constraints and bounds, written out, each with
the sentence of the text it most likely comes from."""

from __future__ import annotations

from formulate.verify.describe import (
    constraint_text,
    direction_hint,
    find_row,
    quote,
    row_numbers,
    row_sense,
    row_text,
    source_sentence,
    split_label,
)
from formulate.verify.findings import Finding
from formulate.verify.subject import Subject

_MAX_ROWS_SHOWN = 3
DECLARE_INFEASIBLE = (" If every one of them is exactly what the text states (the problem as written has no "
                      "solution), keep them all and set `meta.expected_status: infeasible`.")


def check_infeasible(subject: Subject) -> list[Finding]:
    if subject.status != "infeasible" or subject.formulation is None:
        return []
    iis = list(subject.solution.iis or []) if subject.solution is not None else []
    if not iis:
        return [Finding("infeasible", "error", "model", (
            "The solver proved your formulation infeasible: no point satisfies all of its constraints and bounds "
            "together (no irreducible subset could be computed for this problem class). Compare every constraint "
            "with the sentence of the text it comes from: its direction (`<=` or `>=`), its right-hand side, its "
            "units, and whether it should hold for every index. Fix the one that misreads the text; do not drop a "
            "condition the text states." + DECLARE_INFEASIBLE), "the model is infeasible")]
    groups: dict[str, list[str]] = {}
    notes: list[str] = []
    bounds: list[str] = []
    for label in iis:
        if label.startswith("integrality of"):
            notes.append(label)
            continue
        if any(op in label for op in ("<=", ">=", "==")):
            bounds.append(label)
            continue
        groups.setdefault(split_label(label)[0], []).append(label)
    lines: list[str] = []
    spans: list[str] = []
    f, problem, text = subject.formulation, subject.problem, subject.text
    for name, labels in groups.items():
        written = constraint_text(f, name)
        head = f"- constraint `{name}`" + (f": {written}" if written else "")
        rows = []
        numbers: list[float] = []
        senses: list[tuple[str, float | None]] = []
        for label in labels[:_MAX_ROWS_SHOWN]:
            row = find_row(problem, label) if problem is not None else None
            if row is not None:
                rows.append(f"{label}: {row_text(problem, row)}" if label != name else row_text(problem, row))
                numbers += row_numbers(problem, row)
                senses.append(row_sense(problem, row))
        if len(labels) > _MAX_ROWS_SHOWN:
            rows.append(f"... and {len(labels) - _MAX_ROWS_SHOWN} more rows of `{name}`")
        lines.append(head)
        if rows:
            lines.append(("    rows: " if len(rows) > 1 else "    row: ") + "; ".join(rows))
        span = source_sentence(f, text, name, numbers) if text else None
        if span:
            spans.append(span)
            lines.append("    " + quote(span))
            hint = next((h for sense, bound in senses if bound is not None
                         and (h := direction_hint(text, bound, sense))), None)
            if hint:
                lines.append(f"    Note: {hint}.")
    for label in bounds:
        var = split_label(label.split()[0])[0]
        lines.append(f"- the bound {label} of variable `{var}`" + _bound_origin(f, var, label))
    for note in notes:
        lines.append(f"- the {note}")
    names = [f"`{n}`" for n in groups] + [f"`{b}`" for b in bounds]
    message = ("The solver proved your formulation infeasible: no point satisfies all of its constraints and bounds "
               "together. These conflict (an irreducible set: drop any one of them and the rest can be met):\n"
               + "\n".join(lines) + "\n"
               "At least one of them misreads the text. Compare each with the sentence it comes from: the direction "
               "(`<=` or `>=`), the right-hand side, the units, and whether it should hold for every index. Fix the "
               "one that is wrong; do not drop a condition the text states." + DECLARE_INFEASIBLE)
    person = "infeasible; conflicting: " + ", ".join(names + [n.split(" (")[0] for n in notes])
    return [Finding("infeasible", "error", ", ".join(list(groups) + bounds) or "model", message, person,
                    spans[0] if spans else None)]


def _bound_origin(f, var: str, label: str) -> str:
    spec = f.variables.get(var)
    if spec is None:
        return ""
    if ">=" in label and spec.lower == 0 and "lower" not in spec.model_fields_set:
        return " (the default lower bound 0: write `lower: -inf` if it may be negative)"
    return ""
