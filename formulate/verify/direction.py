"""`direction`: a constraint whose direction contradicts the words of the text before its right-hand side
("at most 40" written as `>= 40`), found even when the model still solves."""

from __future__ import annotations

from formulate.verify.describe import constraint_text, direction_hint, quote, row_sense, source_sentence
from formulate.verify.findings import Finding
from formulate.verify.subject import Subject

#: rows of one constraint looked at (their bounds usually repeat one number of the text)
_ROWS = 5


def check_direction(subject: Subject) -> list[Finding]:
    f, problem = subject.formulation, subject.problem
    if f is None or problem is None or not subject.text or subject.status == "infeasible":
        return []  # an infeasible model gets the same note inside its IIS finding
    out: list[Finding] = []
    for block in problem.row_blocks:
        if block.name not in f.constraints:
            continue
        senses = [row_sense(problem, row) for row in range(block.start, min(block.stop, block.start + _ROWS))]
        # the whole text: the bound's number must occur in it exactly once, so the words before it are its own
        found = next(((h, bound) for sense, bound in senses
                      if bound is not None and (h := direction_hint(subject.text, bound, sense))), None)
        if found is None:
            continue
        hint, bound = found
        span = source_sentence(f, subject.text, block.name, [bound])
        written = constraint_text(f, block.name) or ""
        message = (f"Constraint `{block.name}` ({written}) may have the wrong direction: {hint}. Write the "
                   f"direction the text states.\n{quote(span)}")
        out.append(Finding("direction", "warning", f"constraint `{block.name}`", message,
                           f"`{block.name}`: {hint}", span))
    return out
