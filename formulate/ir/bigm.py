"""Indicator rows to big-M rows, with M from interval arithmetic on the column bounds (language.md §6)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from formulate.errors import FormulationError
from formulate.ir.flat import Block, FlatProblem, Indicator
from formulate.ir.functions import term_bounds

BIG_M_WARNING = 1e6


@dataclass
class BigMReport:
    """What linearisation did: rows added, the largest M, and indicators that had no finite M."""

    rows_added: int = 0
    largest_m: float = 0.0
    unbounded: list[tuple[Indicator, str, str]] | None = None  # (indicator, variable, side)
    warnings: list[str] | None = None


def _side_bound(ind: Indicator, lo: np.ndarray, hi: np.ndarray, upper_side: bool) -> tuple[float, int | None]:
    """Max (upper side) or min (lower side) of the row's expression, and a column that makes it infinite."""
    idx = ind.lin_idx
    low, high = term_bounds(ind.lin_val, lo[idx], hi[idx])
    contrib = high if upper_side else low
    bad = ~np.isfinite(contrib)
    if bad.any():
        return (np.inf if upper_side else -np.inf), int(idx[int(np.argmax(bad))])
    return float(contrib.sum()), None


def big_m_rows(problem: FlatProblem) -> tuple[list[tuple[np.ndarray, np.ndarray, float, float, str]], BigMReport]:
    """Rows (cols, coefs, lower, upper, name) replacing each indicator; report unbounded ones."""
    lo, hi = problem.col_lower, problem.col_upper
    rows = []
    report = BigMReport(unbounded=[], warnings=[])
    for ind in problem.indicators:
        b = ind.binary
        for upper_side in (True, False):
            rhs = ind.upper if upper_side else ind.lower
            if not np.isfinite(rhs):
                continue
            extreme, culprit = _side_bound(ind, lo, hi, upper_side)
            if culprit is not None:
                report.unbounded.append((ind, problem.col_name(culprit), "upper" if upper_side else "lower"))
                continue
            m = (extreme - rhs) if upper_side else (rhs - extreme)
            if m <= 1e-12:
                continue  # the row holds whatever the binary is
            report.largest_m = max(report.largest_m, m)
            if m > BIG_M_WARNING:
                report.warnings.append(f"{ind.where}: big-M {m:.3g} for {ind.condition} is large; tighter variable "
                                       "bounds make the model solve faster and more reliably")
            # active == 1:  a'x <= rhs + M (1 - b)  ->  a'x + M b <= rhs + M      (upper side)
            #               a'x >= rhs - M (1 - b)  ->  a'x - M b >= rhs - M      (lower side)
            # active == 0:  a'x <= rhs + M b        ->  a'x - M b <= rhs
            #               a'x >= rhs - M b        ->  a'x + M b >= rhs
            sign = 1.0 if upper_side else -1.0
            if ind.active == 1:
                coef_b, shift = sign * m, sign * m
            else:
                coef_b, shift = -sign * m, 0.0
            cols = np.append(ind.lin_idx, b)
            coefs = np.append(ind.lin_val, coef_b)
            if upper_side:
                rows.append((cols, coefs, -np.inf, rhs + shift, ind.name))
            else:
                rows.append((cols, coefs, rhs + shift, np.inf, ind.name))
    report.rows_added = len(rows)
    return rows, report


def missing_bound_message(ind: Indicator, variable: str, side: str, solver: str) -> str:
    base = variable.split("[")[0]
    return (f"{ind.where}: {ind.condition} needs a big-M for {solver}, but `{base}` has no {side} bound; give "
            f"`{base}` an `{side}:`, or leave the solver choice automatic (SCIP indicators)")


def linearize(problem: FlatProblem, solver: str = "HiGHS", strict: bool = True) -> tuple[FlatProblem, BigMReport]:
    """Replace indicators by big-M rows. Where some M is infinite: raise (strict) or return unchanged."""
    if not problem.indicators:
        return problem, BigMReport(unbounded=[], warnings=[])
    rows, report = big_m_rows(problem)
    if report.unbounded:
        if strict:
            ind, variable, side = report.unbounded[0]
            raise FormulationError(missing_bound_message(ind, variable, side, solver))
        return problem, report
    m0 = problem.num_rows
    index = [problem.row_index]
    value = [problem.row_value]
    nnz = int(problem.row_start[-1])
    extra_start = []
    for cols, coefs, _, _, _ in rows:
        nnz += len(cols)
        extra_start.append(nnz)
        index.append(cols.astype(np.int64))
        value.append(coefs.astype(float))
    new_start = np.concatenate([problem.row_start, np.asarray(extra_start, dtype=np.int64)])
    lower = np.concatenate([problem.row_lower, np.array([r[2] for r in rows], dtype=float)])
    upper = np.concatenate([problem.row_upper, np.array([r[3] for r in rows], dtype=float)])
    names = [r[4] for r in rows]
    blocks = list(problem.row_blocks) + [_NamedBlock("_bigm", m0, m0 + len(rows), names)]
    linear = replace(problem, row_start=new_start, row_index=np.concatenate(index), row_value=np.concatenate(value),
                     row_lower=lower, row_upper=upper, row_blocks=blocks, indicators=[])
    return linear, report


class _NamedBlock(Block):
    """A block whose rows carry explicit names (big-M rows keep their constraint's name)."""

    def __init__(self, name: str, start: int, stop: int, names: list[str]) -> None:
        super().__init__(name, start, stop)
        self._names = names

    def label(self, offset: int) -> str:
        return self._names[offset]
