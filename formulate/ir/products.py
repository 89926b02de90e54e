"""Exact linearisation of products with a binary factor, for linear solvers (language.md §6).

``b * c`` (both binary) and ``b * x`` (b binary, x with finite bounds [L, U]) are each replaced by one
auxiliary column z with the rows that make z equal to the product at every integer point of b:

- binary x binary:  z <= b,  z <= c,  z >= b + c - 1
- binary x [L, U]:  L b <= z <= U b,  x - U (1 - b) <= z <= x - L (1 - b)

``b * b`` is ``b``. A model whose every quadratic term has this form (in the objective and in rows)
becomes an LP/MILP; any other product leaves it to SCIP unchanged.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from formulate.ir.bigm import _NamedBlock
from formulate.ir.classify import classify
from formulate.ir.flat import FlatProblem

INF = np.inf


def _is_binary(j: int, lo: np.ndarray, hi: np.ndarray, ints: np.ndarray) -> bool:
    return bool(ints[j]) and lo[j] >= 0 and hi[j] <= 1


def linearizable(problem: FlatProblem) -> bool:
    """Whether every quadratic term has a binary factor and a binary or finitely bounded other factor."""
    if problem.nonlinear_rows or not (problem.obj_qv.size or problem.quadratic_rows):
        return False
    lo, hi, ints = problem.col_lower, problem.col_upper, problem.integrality
    pairs = [(problem.obj_qi, problem.obj_qj)] + [(r.qi, r.qj) for r in problem.quadratic_rows]
    for qi, qj in pairs:
        for a, b in zip(qi.tolist(), qj.tolist(), strict=True):
            if not _pair_ok(a, b, lo, hi, ints):
                return False
    return True


def _pair_ok(a: int, b: int, lo: np.ndarray, hi: np.ndarray, ints: np.ndarray) -> bool:
    if a == b:
        return _is_binary(a, lo, hi, ints)
    for bin_col, other in ((a, b), (b, a)):
        if _is_binary(bin_col, lo, hi, ints) and np.isfinite(lo[other]) and np.isfinite(hi[other]):
            return True
    return False


class _Builder:
    """Collects the auxiliary columns and rows of one linearisation."""

    def __init__(self, problem: FlatProblem) -> None:
        self.p = problem
        self.lo, self.hi, self.ints = problem.col_lower, problem.col_upper, problem.integrality
        self.n0 = problem.num_cols
        self.z_of: dict[tuple[int, int], int] = {}
        self.z_lo: list[float] = []
        self.z_hi: list[float] = []
        self.z_int: list[int] = []
        self.z_names: list[str] = []
        self.rows: list[tuple[list[int], list[float], float, float, str]] = []

    def term(self, a: int, b: int) -> int:
        """The column standing for x[a] * x[b]: x[a] itself for a binary squared, else a new z."""
        if a == b:
            return a
        key = (min(a, b), max(a, b))
        if key in self.z_of:
            return self.z_of[key]
        a, b = key
        bin_col, other = (a, b) if _is_binary(a, self.lo, self.hi, self.ints) and \
            np.isfinite(self.lo[b]) and np.isfinite(self.hi[b]) else (b, a)
        z = self.n0 + len(self.z_lo)
        self.z_of[key] = z
        name = f"{self.p.col_name(bin_col)}*{self.p.col_name(other)}"
        self.z_names.append(name)
        low, high = float(self.lo[other]), float(self.hi[other])
        label = f"_product[{name}]"
        if _is_binary(other, self.lo, self.hi, self.ints):
            self.z_lo.append(0.0)
            self.z_hi.append(1.0)
            self.z_int.append(0)
            self.rows.append(([z, bin_col], [1.0, -1.0], -INF, 0.0, label))
            self.rows.append(([z, other], [1.0, -1.0], -INF, 0.0, label))
            self.rows.append(([z, bin_col, other], [1.0, -1.0, -1.0], -1.0, INF, label))
            return z
        self.z_lo.append(min(0.0, low))
        self.z_hi.append(max(0.0, high))
        self.z_int.append(0)  # z = b * x is determined by b and x
        # L b <= z <= U b
        self.rows.append(([z, bin_col], [1.0, -low], 0.0, INF, label))
        self.rows.append(([z, bin_col], [1.0, -high], -INF, 0.0, label))
        # x - U (1 - b) <= z <= x - L (1 - b)
        self.rows.append(([z, other, bin_col], [1.0, -1.0, -high], -high, INF, label))
        self.rows.append(([z, other, bin_col], [1.0, -1.0, -low], -INF, -low, label))
        return z


def linearize_products(problem: FlatProblem, warnings: list[str] | None = None) -> FlatProblem | None:
    """The problem with every product replaced exactly, or None when some product has no exact form."""
    if not linearizable(problem):
        return None
    p = problem
    build = _Builder(p)
    obj_extra: dict[int, float] = {}
    for a, b, v in zip(p.obj_qi.tolist(), p.obj_qj.tolist(), p.obj_qv.tolist(), strict=True):
        col = build.term(a, b)
        obj_extra[col] = obj_extra.get(col, 0.0) + v
    converted: list[tuple[list[int], list[float], float, float, str]] = []
    for row in p.quadratic_rows:
        terms: dict[int, float] = {}
        for c, v in zip(row.lin_idx.tolist(), row.lin_val.tolist(), strict=True):
            terms[c] = terms.get(c, 0.0) + v
        for a, b, v in zip(row.qi.tolist(), row.qj.tolist(), row.qv.tolist(), strict=True):
            col = build.term(a, b)
            terms[col] = terms.get(col, 0.0) + v
        converted.append((list(terms), list(terms.values()), row.lower, row.upper, row.name))
    n_new = len(build.z_lo)
    n = p.num_cols + n_new
    obj = np.concatenate([p.obj_linear, np.zeros(n_new)])
    for col, v in obj_extra.items():
        obj[col] += v
    extra = converted + build.rows
    index, value, start = [p.row_index], [p.row_value], list(p.row_start)
    nnz = int(p.row_start[-1])
    for cols, coefs, _, _, _ in extra:
        nnz += len(cols)
        start.append(nnz)
        index.append(np.asarray(cols, dtype=np.int64))
        value.append(np.asarray(coefs, dtype=float))
    m0 = p.num_rows
    row_blocks = list(p.row_blocks)
    if converted:
        row_blocks.append(_NamedBlock("_quadratic", m0, m0 + len(converted), [r[4] for r in converted]))
    if build.rows:
        row_blocks.append(_NamedBlock("_product", m0 + len(converted), m0 + len(extra), [r[4] for r in build.rows]))
    var_blocks = list(p.var_blocks)
    if n_new:
        var_blocks.append(_NamedBlock("_product", p.num_cols, n, build.z_names))
    linear = replace(
        p, col_lower=np.concatenate([p.col_lower, build.z_lo]), col_upper=np.concatenate([p.col_upper, build.z_hi]),
        integrality=np.concatenate([p.integrality, np.asarray(build.z_int, dtype=p.integrality.dtype)]),
        obj_linear=obj, row_start=np.asarray(start, dtype=np.int64), row_index=np.concatenate(index),
        row_value=np.concatenate(value),
        row_lower=np.concatenate([p.row_lower, [r[2] for r in extra]]),
        row_upper=np.concatenate([p.row_upper, [r[3] for r in extra]]),
        row_blocks=row_blocks, var_blocks=var_blocks, obj_qi=np.zeros(0, dtype=np.int64),
        obj_qj=np.zeros(0, dtype=np.int64), obj_qv=np.zeros(0), quadratic_rows=[])
    classify(linear, warnings if warnings is not None else [])
    return linear


__all__ = ["linearizable", "linearize_products"]
