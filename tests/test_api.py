"""The public API is small and pinned: names, and that importing formulate stays light."""

from __future__ import annotations

import subprocess
import sys

import formulate

PINNED = {
    "CheckReport", "Constraint", "Formulation", "FormulateError", "FormulationError", "ModelError", "Objective",
    "Parameter", "Solution", "SolverError", "SolverUnavailable", "Termination", "Variable", "__version__",
    "as_formulation", "check", "export", "formulator_for", "ground", "load", "load_model", "loads", "render",
    "save", "solve", "to_json", "to_yaml",
}


def test_public_names_are_pinned():
    assert set(formulate.__all__) == PINNED
    assert set(formulate._EXPORTS) | {"__version__"} == PINNED
    for name in PINNED:
        assert getattr(formulate, name) is not None


def test_import_is_light():
    code = ("import sys, formulate; heavy = [m for m in ('numpy', 'highspy', 'pyomo', 'pyscipopt', 'torch', "
            "'transformers', 'gurobipy', 'pulp') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_solve_from_yaml_text():
    solution = formulate.solve("""
variables:
  x: {type: integer, upper: 7}
  y: {upper: 3.5}
objective:
  sense: maximize
  expr: 2 * x + 3 * y
constraints:
  budget: x + y <= 9
""")
    assert solution.status == "optimal"
    assert solution.objective == 21  # x = 6, y = 3 beats x = 5, y = 3.5 (20.5)
    assert solution.x == 6 and solution.y == 3
