"""Solver backends (HiGHS, CBC, Pyomo, SCIP), their registry, IIS and LP/MPS files.

Importing this package imports no solver package; backends import theirs when they solve.
"""

from formulate.solvers.base import CAPABILITIES, SolveOptions, SolverBackend, SolverResult
from formulate.solvers.registry import (
    SolverCapabilityError,
    all_backends,
    available_solvers,
    choose_solver,
    get_solver,
    solve_flat,
)
from formulate.solvers.status import Termination

__all__ = [
    "CAPABILITIES", "SolveOptions", "SolverBackend", "SolverCapabilityError", "SolverResult", "Termination",
    "all_backends", "available_solvers", "choose_solver", "get_solver", "solve_flat",
]
