"""Problem class (LP, MILP, QP, MIQP, QCP, NLP, MINLP) and convexity of a grounded problem."""

from __future__ import annotations

import numpy as np

from formulate.ir.flat import FlatProblem, QuadraticRow

_DENSE_LIMIT = 1500


def _psd(n_idx: np.ndarray, qi: np.ndarray, qj: np.ndarray, qv: np.ndarray, sign: float) -> bool | None:
    """Whether sign * (sum qv x_qi x_qj) is convex; None when too large to check."""
    cols = np.unique(np.concatenate([qi, qj]))
    if len(cols) > _DENSE_LIMIT:
        return None
    pos = {c: k for k, c in enumerate(cols.tolist())}
    q = np.zeros((len(cols), len(cols)))
    for a, b, v in zip(qi.tolist(), qj.tolist(), qv.tolist(), strict=True):
        if a == b:
            q[pos[a], pos[a]] += 2 * v
        else:
            q[pos[a], pos[b]] += v
            q[pos[b], pos[a]] += v
    eig = np.linalg.eigvalsh(sign * q)
    return bool(eig.min() >= -1e-9 * max(1.0, abs(eig).max()))


def _row_convex(row: QuadraticRow) -> bool:
    """`q(x) <= u` is convex when q is convex; `>= l` when q is concave; equality never (unless linear)."""
    convex_up = np.isfinite(row.upper)
    convex_down = np.isfinite(row.lower)
    ok = True
    if convex_up:
        ok &= bool(_psd(None, row.qi, row.qj, row.qv, 1.0))
    if convex_down:
        ok &= bool(_psd(None, row.qi, row.qj, row.qv, -1.0))
    return ok


def _cone_warning(problem: FlatProblem, row: QuadraticRow) -> str | None:
    """`sum y^2 <= t^2` is a second-order cone only when t >= 0."""
    if not np.isfinite(row.upper) or np.isfinite(row.lower) or len(row.lin_idx) or row.upper != 0:
        return None
    diag = row.qi == row.qj
    if not diag.all():
        return None
    negative = row.qv < 0
    if negative.sum() != 1 or (row.qv > 0).sum() < 1:
        return None
    t = int(row.qi[negative][0])
    if problem.col_lower[t] < 0:
        name = problem.col_name(t)
        return (f"constraint `{row.name}`: `y'y <= t**2` is nonconvex unless t >= 0; did you mean `lower: 0` on "
                f"`{name.split('[')[0]}`?")
    return None


def classify(problem: FlatProblem, warnings: list[str]) -> None:
    """Set ``problem_class`` and ``convex``; add cone warnings."""
    integer = problem.is_mip()
    convex = True
    if problem.obj_qv.size:
        sign = 1.0 if problem.sense == "minimize" else -1.0
        psd = _psd(None, problem.obj_qi, problem.obj_qj, problem.obj_qv, sign)
        convex = psd is not False
    for row in problem.quadratic_rows:
        warning = _cone_warning(problem, row)
        if warning:
            warnings.append(warning)
        if not _row_convex(row):
            convex = False
    if problem.nonlinear_rows:
        convex = False
        cls = "MINLP" if integer else "NLP"
    elif problem.quadratic_rows:
        cls = "MINLP" if integer else "QCP"
    elif problem.obj_qv.size:
        cls = "MIQP" if integer else "QP"
    else:
        cls = "MILP" if integer or problem.indicators else "LP"
    problem.problem_class = cls
    problem.convex = convex
