"""Export targets `lp` and `mps`: the grounded model as a file, written by the solvers' model-file writer.

`when:` / `either:` rows become big-M rows first (M from the variables' bounds, as for HiGHS and CBC) and
products with a binary factor their exact linearisation; other quadratic or nonlinear constraints cannot be
written to these formats.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from formulate.codegen.common import ExportError
from formulate.ir.bigm import linearize
from formulate.ir.flat import FlatProblem
from formulate.ir.ground import Grounder
from formulate.ir.model import Formulation
from formulate.ir.products import linearize_products


def flat_for_file(formulation: Formulation, fmt: str) -> FlatProblem:
    """The grounded problem, indicators replaced by big-M rows; refuse what LP/MPS cannot hold."""
    problem = Grounder(formulation).ground().problem
    if problem.objective_levels:
        raise ExportError(f"{fmt} cannot express several objectives (lexicographic priorities); export to "
                          "gurobipy, highspy, pyomo or pulp")
    problem = linearize_products(problem) or problem  # binary x bounded products: exact linear rows
    rows = problem.nonlinear_rows or problem.quadratic_rows
    if rows:
        kind = "nonlinear" if problem.nonlinear_rows else "quadratic"
        name = rows[0].name
        where = "the objective" if name.startswith("_objective") else f"constraint row `{name}`"
        raise ExportError(f"{fmt} cannot express a {kind} row ({where}); export to pyomo or gurobipy")
    if problem.indicators:
        problem, _ = linearize(problem, solver=f"an {fmt.upper()} file", strict=True)
    return problem


def write_model(formulation: Formulation, fmt: str, path: str | Path) -> dict[str, str]:
    """Write the model file; returns {name in the file: name in the model}."""
    from formulate.solvers.files import write_model_file

    return write_model_file(flat_for_file(formulation, fmt), path, fmt)


def model_file_text(formulation: Formulation, fmt: str) -> str:
    """The model file's text."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{formulation.name or 'model'}.{fmt}"
        write_model(formulation, fmt, path)
        return path.read_text(encoding="utf-8")
