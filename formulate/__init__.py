"""formulate: natural-language-to-solver modeling assistant.

    >>> import formulate
    >>> sol = formulate.solve("examples/furniture.yaml")
    >>> sol.objective, sol["x"]["chair"]

Names are imported on first use, so `import formulate` (and `formulate --help`) stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CheckReport": "formulate.api", "as_formulation": "formulate.api", "check": "formulate.api",
    "ground": "formulate.api", "solve": "formulate.api", "export": "formulate.codegen",
    "render": "formulate.ir.render",
    "FormulateError": "formulate.errors", "FormulationError": "formulate.errors", "ModelError": "formulate.errors",
    "SolverError": "formulate.errors", "SolverUnavailable": "formulate.errors",
    "load": "formulate.ir.io", "loads": "formulate.ir.io", "save": "formulate.ir.io", "to_json": "formulate.ir.io",
    "to_yaml": "formulate.ir.io",
    "Constraint": "formulate.ir.model", "Formulation": "formulate.ir.model", "Objective": "formulate.ir.model",
    "Parameter": "formulate.ir.model", "Variable": "formulate.ir.model",
    "Solution": "formulate.solution", "Termination": "formulate.solvers.status",
    "formulator_for": "formulate.formulators.dispatch", "load_model": "formulate.llm.registry",
}

__all__ = [
    "CheckReport", "Constraint", "Formulation", "FormulateError", "FormulationError", "ModelError", "Objective",
    "Parameter", "Solution", "SolverError", "SolverUnavailable", "Termination", "Variable", "__version__",
    "as_formulation", "check", "export", "formulator_for", "ground", "load", "load_model", "loads", "render", "save",
    "solve", "to_json", "to_yaml",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'formulate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from formulate.api import CheckReport, as_formulation, check, ground, solve
    from formulate.codegen import export
    from formulate.errors import FormulateError, FormulationError, ModelError, SolverError, SolverUnavailable
    from formulate.formulators.dispatch import formulator_for
    from formulate.ir.io import load, loads, save, to_json, to_yaml
    from formulate.ir.model import Constraint, Formulation, Objective, Parameter, Variable
    from formulate.ir.render import render
    from formulate.llm.registry import load_model
    from formulate.solution import Solution
    from formulate.solvers.status import Termination
