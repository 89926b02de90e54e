"""Pick, check and run a solver backend for a flat problem.

Importing this module imports no solver package: backends import highspy, pulp, pyomo and
pyscipopt only when they solve or are asked whether they are available.
"""

from __future__ import annotations

import logging
import time

from formulate.errors import FormulateError, SolverUnavailable, did_you_mean
from formulate.ir.flat import FlatProblem
from formulate.solvers.base import SolveOptions, SolverBackend, SolverResult
from formulate.solvers.cbc import CbcBackend
from formulate.solvers.common import missing_capabilities
from formulate.solvers.highs import HighsBackend
from formulate.solvers.pyomo_backend import PyomoBackend
from formulate.solvers.scip import ScipBackend
from formulate.solvers.status import Termination

log = logging.getLogger(__name__)

BACKENDS: dict[str, type[SolverBackend]] = {
    "highs": HighsBackend,
    "cbc": CbcBackend,
    "pyomo": PyomoBackend,
    "scip": ScipBackend,
}

#: classes HiGHS handles, tried first by the automatic choice
_HIGHS_CLASSES = frozenset({"LP", "MILP", "QP"})


class SolverCapabilityError(FormulateError):
    """The named solver cannot handle the problem's class or features."""


def get_solver(name: str) -> SolverBackend:
    """A backend by name (``highs``, ``cbc``, ``pyomo``, ``scip``, or ``pyomo:SOLVER``).

    Raises SolverUnavailable for unknown names (with a did-you-mean) and for backends whose package
    is not installed (with the install command).
    """
    spec = name.strip()
    base, _, sub = spec.partition(":")
    base = base.lower()
    if base not in BACKENDS:
        hint = did_you_mean(base, [*BACKENDS, "pyomo:appsi_highs"])
        known = ", ".join(BACKENDS)
        raise SolverUnavailable(f"unknown solver `{spec}`; {hint + ' ' if hint else ''}known solvers: {known}")
    if sub and base != "pyomo":
        raise SolverUnavailable(f"solver `{spec}`: only pyomo takes a sub-solver (`pyomo:appsi_highs`)")
    backend = PyomoBackend(sub or None) if base == "pyomo" else BACKENDS[base]()
    if not backend.available():
        raise SolverUnavailable(f"solver `{base}` is not installed; install it with: {backend.install_hint}")
    return backend


def all_backends() -> list[SolverBackend]:
    """One instance of every backend (installed or not), in preference order."""
    return [cls() for cls in BACKENDS.values()]


def available_solvers() -> dict[str, bool]:
    """``{name: installed}`` for every backend."""
    return {name: cls().available() for name, cls in BACKENDS.items()}


def problem_features(problem: FlatProblem) -> list[str]:
    """The capability words a problem needs: its class plus ``nonconvex``/``indicator``."""
    needs = [problem.problem_class]
    if problem.indicators:
        needs.append("indicator")
    if not problem.convex:
        needs.append("nonconvex")
    return needs


def capable(backend: SolverBackend, problem: FlatProblem) -> bool:
    """Whether ``backend`` declares every capability ``problem`` needs."""
    return backend.can_solve(problem) and not missing_capabilities(frozenset(backend.capabilities), problem)


def choose_solver(problem: FlatProblem, preferred: str | None = None) -> SolverBackend:
    """The preferred backend when it can solve ``problem``, else automatic by problem class.

    LP, MILP and convex QP go to HiGHS; MIQP, QCP, NLP, MINLP, nonconvex models and native
    indicators go to SCIP.
    """
    if preferred:
        backend = get_solver(preferred)
        if not capable(backend, problem):
            raise SolverCapabilityError(_capability_message(backend, problem))
        return backend
    order = ["highs", "scip", "cbc"] if _highs_kind(problem) else ["scip"]
    for name in order:
        backend = BACKENDS[name]()
        if backend.available() and capable(backend, problem):
            return backend
    scip = ScipBackend()
    if not scip.available():
        raise SolverUnavailable(
            f"a {_describe(problem)} problem needs SCIP, which is not installed; install it with: "
            f"{scip.install_hint}")
    raise SolverCapabilityError(f"no installed solver can solve a {_describe(problem)} problem")


def _highs_kind(problem: FlatProblem) -> bool:
    return (problem.problem_class in _HIGHS_CLASSES and problem.convex and not problem.indicators
            and not problem.quadratic_rows and not problem.nonlinear_rows)


def _describe(problem: FlatProblem) -> str:
    words = [problem.problem_class]
    if not problem.convex:
        words.insert(0, "nonconvex")
    if problem.indicators:
        words.append("with indicator constraints")
    return " ".join(words)


def _capability_message(backend: SolverBackend, problem: FlatProblem) -> str:
    name = backend.name if not isinstance(backend, PyomoBackend) else f"pyomo:{backend.solver}"
    fits = [n for n, cls in BACKENDS.items() if n != backend.name and capable(cls(), problem)]
    if isinstance(backend, PyomoBackend) and capable(PyomoBackend("highs"), problem):
        fits.append("pyomo:highs")
    use = f"; use --solver {' or '.join(fits)}" if fits else ""
    return f"solver `{name}` cannot solve a {_describe(problem)} problem{use}"


def solve_flat(problem: FlatProblem, solver: str | None = None, options: SolveOptions | None = None) -> SolverResult:
    """Choose (or check) a backend, solve, and attach an IIS to infeasible LP/MILP results.

    ``options.extra["iis"]`` (default True) turns the IIS off; ``options.extra["iis_time_limit"]``
    bounds it (default 10 s).
    """
    options = options or SolveOptions()
    backend = choose_solver(problem, solver)
    log.debug("solving %s (%s) with %s", problem.name, problem.problem_class, backend.name)
    t0 = time.perf_counter()
    if problem.objective_levels and backend.name != "highs":
        from formulate.solvers.lexicographic import solve_levels

        result = solve_levels(backend, problem, options)  # HiGHS takes the levels natively
    else:
        result = backend.solve(problem, options)
    if not result.solve_seconds:
        result.solve_seconds = time.perf_counter() - t0
    if (result.termination == Termination.INFEASIBLE and problem.is_linear()
            and options.extra.get("iis", True) and result.iis is None):
        result.iis = _iis(problem, float(options.extra.get("iis_time_limit", 10.0)), result)
    return result


def _iis(problem: FlatProblem, time_limit: float, result: SolverResult) -> list[str] | None:
    from formulate.solvers.iis import compute_iis

    try:
        return compute_iis(problem, time_limit=time_limit)
    except (ImportError, FormulateError) as exc:
        log.info("no IIS for %s: %s", problem.name, exc)
        result.message = (result.message + "; " if result.message else "") + f"no IIS: {exc}"
        return None
