"""`trivial`: an optimum where every decision is zero, a maximize problem whose rewarded terms are all zero,
or a constraint slack by orders of magnitude (often a flipped sense or a unit slip)."""

from __future__ import annotations

import numpy as np

from formulate.verify.describe import quote, source_sentence
from formulate.verify.findings import Finding
from formulate.verify.point import row_activity
from formulate.verify.subject import Subject

#: a row whose bound is this many times its activity is "slack by orders of magnitude"
SLACK_RATIO = 1000.0


def check_trivial(subject: Subject) -> list[Finding]:
    problem, x, f = subject.problem, subject.point, subject.formulation
    if problem is None or x is None or f is None or f.objective is None or subject.status != "optimal":
        return []
    user = _user_columns(problem)
    if user.size == 0:
        return []
    out: list[Finding] = []
    if np.all(np.abs(x[user]) <= 1e-9):
        what = "maximizes" if f.objective.sense == "maximize" else "minimizes"
        message = (f"At the optimum every decision variable is zero (objective {subject.solution.objective:.10g}): "
                   f"doing nothing is what your formulation {what}. That is rarely the answer to a word problem. "
                   "Check the objective sense (profit is maximized, cost minimized), that every requirement of the "
                   "text (demand to meet, minimum amounts, tasks to cover) is a constraint, and that no `>=` was "
                   "written as `<=`. If doing nothing is truly optimal, keep the formulation.")
        out.append(Finding("trivial", "warning", "objective", message, "every decision is zero at the optimum"))
    elif f.objective.sense == "maximize":
        rewarded = user[problem.obj_linear[user] > 0]
        if rewarded.size and np.all(np.abs(x[rewarded]) <= 1e-9):
            message = ("At the optimum every term the objective rewards is zero, so nothing profitable is done "
                       f"(objective {subject.solution.objective:.10g}). Check the signs of the objective's "
                       "coefficients, the constraints that keep those variables at zero, and their directions.")
            out.append(Finding("trivial", "warning", "objective", message,
                               "every rewarded term of the maximize objective is zero"))
    out += _slack(subject, x)
    return out


def _user_columns(problem) -> np.ndarray:
    cols = [np.arange(b.start, b.stop) for b in problem.var_blocks if not b.name.startswith("_")]
    return np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)


def _slack(subject: Subject, x: np.ndarray) -> list[Finding]:
    problem, f = subject.problem, subject.formulation
    if problem.num_rows == 0:
        return []
    activity = row_activity(problem, x)
    out: list[Finding] = []
    for block in problem.row_blocks:
        if block.name.startswith("_") or block.name not in f.constraints:
            continue
        rows = np.arange(block.start, block.stop)
        act, up, lo = activity[rows], problem.row_upper[rows], problem.row_lower[rows]
        upper_only = np.isfinite(up) & ~np.isfinite(lo)
        if upper_only.all() and np.all(up > 0) and np.all(act > 0):
            ratio = float(np.min(up / act))
            if ratio >= SLACK_RATIO:
                out.append(_slack_finding(subject, block.name, "uses", float(np.max(act)), float(np.min(up)), ratio))
        lower_only = np.isfinite(lo) & ~np.isfinite(up)
        if lower_only.all() and np.all(lo > 0) and np.all(act > 0):
            ratio = float(np.min(act / lo))
            if ratio >= SLACK_RATIO:
                out.append(_slack_finding(subject, block.name, "exceeds", float(np.min(act)), float(np.max(lo)),
                                          ratio))
    return out[:3]


def _slack_finding(subject: Subject, name: str, verb: str, act: float, bound: float, ratio: float) -> Finding:
    span = source_sentence(subject.formulation, subject.text, name, [bound]) if subject.text else None
    if verb == "uses":
        what = f"the optimum uses at most {act:.6g} of a limit of {bound:.6g}"
    else:
        what = f"the optimum reaches {act:.6g} against a requirement of {bound:.6g}"
    message = (f"Constraint `{name}` is slack by a factor of {ratio:.0f}: {what}. A limit that far from the "
               "optimum often means a unit slip (thousands vs units, hours vs minutes) or a flipped direction."
               + (f"\n{quote(span)}" if span else ""))
    return Finding("trivial", "info", name, message, f"`{name}` slack by a factor of {ratio:.0f}", span)
