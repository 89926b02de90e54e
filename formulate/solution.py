"""A solve's result mapped back to indexed names: ``sol["x"]["chair"]`` or ``sol.x["chair"]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formulate.ir.flat import FlatProblem
from formulate.solvers.status import Termination


@dataclass
class Solution:
    """Status on two axes, objective, best bound, values by variable and key, timings, diagnostics."""

    termination: Termination
    has_solution: bool
    solver: str
    objective: float | None = None
    bound: float | None = None
    values: dict[str, Any] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)
    message: str = ""
    iis: list[str] | None = None
    warnings: list[str] = field(default_factory=list)
    problem_class: str = ""
    #: several objectives: one entry per level, highest priority first ({priority, sense, expr, value})
    objectives: list[dict[str, Any]] | None = None
    #: the column vector as solved (integer columns rounded when still feasible) and the problem as
    #: grounded (before big-M); the verifier re-checks one against the other; not part of ``to_dict``
    point: np.ndarray | None = field(default=None, repr=False, compare=False)
    flat: FlatProblem | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> str:
        return self.termination.value

    @property
    def optimal(self) -> bool:
        return self.termination == Termination.OPTIMAL

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(name)

    def nonzero(self, tol: float = 1e-9) -> list[tuple[str, float]]:
        """(name, value) of every variable entry whose magnitude exceeds ``tol``."""
        rows: list[tuple[str, float]] = []
        for name, value in self.values.items():
            if isinstance(value, dict):
                for key, v in value.items():
                    if abs(v) > tol:
                        label = ",".join(map(str, key)) if isinstance(key, tuple) else str(key)
                        rows.append((f"{name}[{label}]", v))
            elif abs(value) > tol:
                rows.append((name, value))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: status, objective, bound, solver, times, values (keys joined by commas)."""
        values: dict[str, Any] = {}
        for name, value in self.values.items():
            if isinstance(value, dict):
                values[name] = {
                    (",".join(map(str, k)) if isinstance(k, tuple) else str(k)): v for k, v in value.items()}
            else:
                values[name] = value
        return {
            "status": self.status, "has_solution": self.has_solution, "objective": self.objective,
            "bound": self.bound, "solver": self.solver, "problem_class": self.problem_class,
            "times": self.times, "message": self.message, "iis": self.iis, "warnings": self.warnings,
            "values": values, **({"objectives": self.objectives} if self.objectives else {}),
        }


def _clean(v: float) -> float:
    r = round(v)
    return float(r) if abs(v - r) < 1e-9 else float(v)


def map_values(problem: FlatProblem, x: np.ndarray) -> dict[str, Any]:
    """Column values -> {variable: value or {key: value}}; one-set keys are plain members."""
    out: dict[str, Any] = {}
    for block in problem.var_blocks:
        if block.name.startswith("_"):
            continue  # auxiliary columns (epigraphs, pwl weights, disjunction binaries)
        segment = x[block.start:block.stop]
        if block.keys is None:
            out[block.name] = _clean(float(segment[0]))
        else:
            out[block.name] = {
                (k[0] if len(k) == 1 else k): _clean(float(v)) for k, v in zip(block.keys, segment, strict=True)}
    return out
