"""formulate: natural-language-to-solver modeling assistant.

    >>> import formulate
    >>> sol = formulate.solve("examples/furniture.yaml")
    >>> sol.objective, sol["x"]["chair"]
"""

from formulate.api import CheckReport, as_formulation, check, ground, solve
from formulate.errors import FormulateError, FormulationError, ModelError, SolverError, SolverUnavailable
from formulate.ir.io import load, loads, save, to_json, to_yaml
from formulate.ir.model import Constraint, Formulation, Objective, Parameter, Variable
from formulate.solution import Solution
from formulate.solvers.status import Termination

__version__ = "0.1.0"

__all__ = [
    "CheckReport", "Constraint", "Formulation", "FormulateError", "FormulationError", "ModelError", "Objective",
    "Parameter", "Solution", "SolverError", "SolverUnavailable", "Termination", "Variable", "__version__",
    "as_formulation", "check", "ground", "load", "loads", "save", "solve", "to_json", "to_yaml",
]
