"""Export a formulation: standalone solver scripts (pyomo, pulp, highspy, gurobipy) or LP/MPS files.

    >>> from formulate.codegen import export
    >>> print(export("examples/furniture.yaml", "pulp"))

Each script carries its data, mirrors the formulation's sets and `forall` loops, and prints the result in
one format shared by all targets. A target that cannot express a construct raises `ExportError` naming
the construct and a target that can.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from formulate.codegen.common import ExportError

if TYPE_CHECKING:
    from formulate.ir.model import Formulation

SCRIPT_TARGETS = ("pyomo", "pulp", "highspy", "gurobipy")
FILE_TARGETS = ("lp", "mps")
EXPORT_TARGETS = SCRIPT_TARGETS + FILE_TARGETS
SUFFIXES = {"pyomo": ".py", "pulp": ".py", "highspy": ".py", "gurobipy": ".py", "lp": ".lp", "mps": ".mps"}


def _script_target(name: str):
    if name == "pulp":
        from formulate.codegen.pulp import PulpTarget

        return PulpTarget()
    if name == "pyomo":
        from formulate.codegen.pyomo import PyomoTarget

        return PyomoTarget()
    if name == "highspy":
        from formulate.codegen.highspy import HighspyTarget

        return HighspyTarget()
    from formulate.codegen.gurobipy import GurobipyTarget

    return GurobipyTarget()


def _formulation(source: Formulation | str | Path) -> Formulation:
    from formulate.api import as_formulation

    return as_formulation(source)


def export(formulation: Formulation | str | Path, target: str) -> str:
    """The formulation as a script (or LP/MPS text) for `target`, one of EXPORT_TARGETS."""
    key = target.strip().lower()
    if key not in EXPORT_TARGETS:
        raise ExportError(f"unknown export target `{target}`; choose one of {', '.join(EXPORT_TARGETS)}")
    model = _formulation(formulation)
    if key in FILE_TARGETS:
        from formulate.codegen.files import model_file_text

        return model_file_text(model, key)
    from formulate.codegen.common import ScriptContext

    return _script_target(key).generate(ScriptContext.build(model))


def export_to_file(formulation: Formulation | str | Path, target: str, path: str | Path) -> Path:
    """Write `export(formulation, target)` to `path`; returns the path."""
    path = Path(path)
    key = target.strip().lower()
    if key in FILE_TARGETS:
        from formulate.codegen.files import write_model

        write_model(_formulation(formulation), key, path)
        return path
    path.write_text(export(formulation, target), encoding="utf-8")
    return path


__all__ = ["EXPORT_TARGETS", "ExportError", "export", "export_to_file"]
