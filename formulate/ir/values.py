"""Values of expressions evaluated over a table of bindings (one entry per row).

``Data`` is numbers, ``Mem`` set members (codes), ``Lin`` affine-plus-quadratic expressions in the
columns, ``NL`` general nonlinear trees (small models only; solved by SCIP).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formulate.ir.data import SetData

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0)


@dataclass
class Data:
    """Numbers, one per row (float64), or booleans for conditions."""

    v: np.ndarray


@dataclass
class Mem:
    """Set members, one per row: codes (n,) or (n, k) for tuples; ``pos`` = position in ``set`` if known."""

    codes: np.ndarray
    set: SetData | None = None
    pos: np.ndarray | None = None

    def components(self) -> list[np.ndarray]:
        return [self.codes] if self.codes.ndim == 1 else [self.codes[:, c] for c in range(self.codes.shape[1])]


@dataclass
class Lin:
    """Per row: ``const + sum(coef * x[col]) + sum(qcoef * x[c1] * x[c2])``, terms kept in chunks."""

    n: int
    const: np.ndarray
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)  # rows, cols, coefs
    qchunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    @classmethod
    def constant(cls, values: np.ndarray) -> Lin:
        return cls(len(values), values.astype(float))

    @classmethod
    def columns(cls, cols: np.ndarray) -> Lin:
        n = len(cols)
        return cls(n, np.zeros(n), [(np.arange(n, dtype=np.int64), cols.astype(np.int64), np.ones(n))])

    def terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All linear terms (rows, cols, coefs), concatenated once."""
        if len(self.chunks) != 1:
            if not self.chunks:
                return _EMPTY_I, _EMPTY_I, _EMPTY_F
            rows = np.concatenate([c[0] for c in self.chunks])
            cols = np.concatenate([c[1] for c in self.chunks])
            coefs = np.concatenate([c[2] for c in self.chunks])
            self.chunks = [(rows, cols, coefs)]
        return self.chunks[0]

    def qterms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if len(self.qchunks) != 1:
            if not self.qchunks:
                return _EMPTY_I, _EMPTY_I, _EMPTY_I, _EMPTY_F
            self.qchunks = [tuple(np.concatenate([c[k] for c in self.qchunks]) for k in range(4))]  # type: ignore
        return self.qchunks[0]

    @property
    def has_quadratic(self) -> bool:
        return any(len(c[0]) for c in self.qchunks)

    @property
    def has_variables(self) -> bool:
        return any(len(c[0]) for c in self.chunks) or self.has_quadratic

    def scaled(self, factor: np.ndarray) -> Lin:
        """Multiply row r by factor[r]."""
        chunks = [(r, c, v * factor[r]) for r, c, v in self.chunks]
        qchunks = [(r, a, b, v * factor[r]) for r, a, b, v in self.qchunks]
        return Lin(self.n, self.const * factor, chunks, qchunks)

    def plus(self, other: Lin) -> Lin:
        return Lin(self.n, self.const + other.const, self.chunks + other.chunks, self.qchunks + other.qchunks)

    def take(self, rows: np.ndarray) -> Lin:
        """The sub-expression of the given rows, renumbered 0..len(rows)-1."""
        remap = np.full(self.n, -1, dtype=np.int64)
        remap[rows] = np.arange(len(rows), dtype=np.int64)
        chunks = []
        for r, c, v in self.chunks:
            keep = remap[r] >= 0
            chunks.append((remap[r[keep]], c[keep], v[keep]))
        qchunks = []
        for r, a, b, v in self.qchunks:
            keep = remap[r] >= 0
            qchunks.append((remap[r[keep]], a[keep], b[keep], v[keep]))
        return Lin(len(rows), self.const[rows], chunks, qchunks)

    def spread(self, rows: np.ndarray, n: int) -> Lin:
        """Place this expression's rows at ``rows`` of an n-row expression (others zero)."""
        const = np.zeros(n)
        const[rows] = self.const
        chunks = [(rows[r], c, v) for r, c, v in self.chunks]
        qchunks = [(rows[r], a, b, v) for r, a, b, v in self.qchunks]
        return Lin(n, const, chunks, qchunks)

    def aggregate(self, parent: np.ndarray, n: int) -> Lin:
        """Sum rows into groups: row r goes to row parent[r] of an n-row expression."""
        const = np.bincount(parent, weights=self.const, minlength=n) if self.n else np.zeros(n)
        chunks = [(parent[r], c, v) for r, c, v in self.chunks]
        qchunks = [(parent[r], a, b, v) for r, a, b, v in self.qchunks]
        return Lin(n, const, chunks, qchunks)

@dataclass
class NL:
    """General nonlinear expressions, one tree per row (see formulate.ir.flat.NonlinearTree)."""

    trees: list

    @property
    def n(self) -> int:
        return len(self.trees)


def lin_to_trees(lin: Lin) -> list:
    """Per-row trees of an affine/quadratic expression."""
    rows, cols, coefs = lin.terms()
    qr, qa, qb, qv = lin.qterms()
    parts: list[list] = [[] for _ in range(lin.n)]
    for r, c, v in zip(rows.tolist(), cols.tolist(), coefs.tolist(), strict=True):
        parts[r].append(("prod", [("const", v), ("var", c)]))
    for r, a, b, v in zip(qr.tolist(), qa.tolist(), qb.tolist(), qv.tolist(), strict=True):
        parts[r].append(("prod", [("const", v), ("var", a), ("var", b)]))
    trees = []
    for r in range(lin.n):
        items = parts[r]
        if lin.const[r] != 0 or not items:
            items = [("const", float(lin.const[r]))] + items
        trees.append(items[0] if len(items) == 1 else ("sum", items))
    return trees


def as_nl(value: Data | Lin | NL) -> NL:
    if isinstance(value, NL):
        return value
    if isinstance(value, Data):
        return NL([("const", float(v)) for v in value.v.tolist()])
    return NL(lin_to_trees(value))
