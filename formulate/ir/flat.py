"""The flat problem: what grounding produces and every solver adapter reads (design §2).

Columns are grouped by variable and rows by constraint, so names such as ``x[chair]`` and
``serve[chicago]`` are produced only when asked for (a million rows need no million strings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Key = tuple[Any, ...]


def format_key(key: Key) -> str:
    """``('a', 1)`` -> ``a,1`` (members joined as written)."""
    return ",".join(str(k) for k in key)


@dataclass
class Block:
    """A contiguous range of columns (one variable) or rows (one constraint) and its keys.

    ``keys`` is None for a scalar, else one tuple per column/row, in order; it may be given lazily
    as ``key_source``, a callable that builds the list on first use.
    """

    name: str
    start: int
    stop: int
    keys_given: list[Key] | None = None
    description: str | None = None
    key_source: Callable[[], list[Key]] | None = None

    @property
    def keys(self) -> list[Key] | None:
        if self.keys_given is None and self.key_source is not None:
            self.keys_given = self.key_source()
            self.key_source = None
        return self.keys_given

    @property
    def size(self) -> int:
        return self.stop - self.start

    def label(self, offset: int) -> str:
        """Name of the ``offset``-th column/row of this block: ``x[chair]`` or ``x``."""
        keys = self.keys
        if keys is None:
            return self.name if self.stop - self.start == 1 else f"{self.name}[{offset}]"
        return f"{self.name}[{format_key(keys[offset])}]"

    def labels(self) -> list[str]:
        return [self.label(i) for i in range(self.stop - self.start)]


@dataclass
class QuadraticRow:
    """``lower <= a'x + sum qv * x[qi] * x[qj] <= upper``."""

    name: str
    lin_idx: np.ndarray
    lin_val: np.ndarray
    qi: np.ndarray
    qj: np.ndarray
    qv: np.ndarray
    lower: float
    upper: float


@dataclass
class Indicator:
    """``binary == active`` implies ``lower <= a'x <= upper`` (native on SCIP; big-M elsewhere)."""

    name: str
    binary: int
    active: int
    lin_idx: np.ndarray
    lin_val: np.ndarray
    lower: float
    upper: float
    where: str = ""  # e.g. "constraint `open_min` at d='North'"
    condition: str = ""  # e.g. "`when: open[d]`"


#: a nonlinear expression tree over columns: ("const", v) | ("var", j) | ("sum", [t...]) |
#: ("prod", [t...]) | ("pow", t, p) | ("exp", t) | ("log", t) | ("sqrt", t) | ("abs", t) | ("div", t, t)
NonlinearTree = tuple


@dataclass
class NonlinearRow:
    """``lower <= tree(x) <= upper`` for a general nonlinear expression (SCIP)."""

    name: str
    tree: NonlinearTree
    lower: float
    upper: float


@dataclass
class ObjectiveLevel:
    """One level of a lexicographic objective: ``constant + linear @ x`` (``linear`` may be shorter than the
    column vector: columns added after it have coefficient 0), optimised in ``sense``."""

    priority: int
    sense: Literal["minimize", "maximize"]
    linear: np.ndarray
    constant: float
    text: str = ""

    def coefficients(self, n: int) -> np.ndarray:
        """The linear part padded to ``n`` columns."""
        out = np.zeros(n)
        out[:min(n, len(self.linear))] = self.linear[:n]
        return out

    def value(self, x: np.ndarray) -> float:
        return float(self.constant + self.coefficients(len(x)) @ x)


@dataclass
class FlatProblem:
    """A grounded problem: column vector, bounds, integrality, objective, CSR rows and extras.

    Objective: ``obj_constant + obj_linear @ x + sum(obj_qv * x[obj_qi] * x[obj_qj])`` (each pair once,
    ``qi <= qj``). Rows: ``row_lower <= A x <= row_upper`` with A in CSR (``row_start``, ``row_index``,
    ``row_value``).
    """

    name: str
    sense: Literal["minimize", "maximize"]
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray  # int8: 0 continuous, 1 integer (binary = integer in [0, 1])
    obj_linear: np.ndarray
    obj_constant: float
    row_start: np.ndarray
    row_index: np.ndarray
    row_value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    var_blocks: list[Block] = field(default_factory=list)
    row_blocks: list[Block] = field(default_factory=list)
    obj_qi: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    obj_qj: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    obj_qv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quadratic_rows: list[QuadraticRow] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    nonlinear_rows: list[NonlinearRow] = field(default_factory=list)
    #: several objectives (language.md §5), highest priority first; the main objective is the first level.
    #: Empty for a single objective.
    objective_levels: list[ObjectiveLevel] = field(default_factory=list)
    problem_class: str = "LP"  # LP, MILP, QP, MIQP, NLP, MINLP
    convex: bool = True

    @property
    def num_cols(self) -> int:
        return int(self.col_lower.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @property
    def num_nonzeros(self) -> int:
        return int(self.row_index.shape[0])

    def col_names(self) -> list[str]:
        """One name per column (``x[chair]``), built on demand."""
        names: list[str] = []
        for block in self.var_blocks:
            names.extend(block.labels())
        return names

    def row_names(self) -> list[str]:
        """One name per linear row (``serve[chicago]``), built on demand."""
        names: list[str] = []
        for block in self.row_blocks:
            names.extend(block.labels())
        return names

    def col_name(self, j: int) -> str:
        return _find(self.var_blocks, j)

    def row_name(self, i: int) -> str:
        return _find(self.row_blocks, i)

    def has_quadratic_objective(self) -> bool:
        return self.obj_qv.size > 0

    def is_mip(self) -> bool:
        return bool(self.integrality.any())

    def is_linear(self) -> bool:
        """LP or MILP: no quadratic/nonlinear parts and no native indicators."""
        return not (self.has_quadratic_objective() or self.quadratic_rows or self.nonlinear_rows or self.indicators)


def _find(blocks: list[Block], position: int) -> str:
    for block in blocks:
        if block.start <= position < block.stop:
            return block.label(position - block.start)
    return f"#{position}"
