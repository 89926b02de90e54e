"""One service behind `formulate solve --json`, the web page and the MCP server: plain JSON-able dicts.

Every function takes text or a Formulation and returns a dict ready for ``json.dumps``; user mistakes
raise :class:`~formulate.errors.FormulateError` with one line. Text from a client is untrusted: it is
parsed with :func:`load_text` (never treated as a path), and a formulation that names a data ``file:``
is refused unless it was loaded from a folder, where the file must stay inside that folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from formulate.errors import FormulateError

if TYPE_CHECKING:
    from formulate.ir.model import Formulation
    from formulate.solution import Solution

log = logging.getLogger(__name__)

#: the offline formulator's spec, always offered beside the configured model
OFFLINE_MODEL = "rules"
RoundCallback = Callable[[dict[str, Any]], None]


class ServiceError(FormulateError):
    """A request the service cannot serve (bad input, unknown target, missing model)."""


# ------------------------------------------------------------------------------------------ loading
def load_text(text: str) -> Formulation:
    """Parse YAML/JSON text from a client; `file:` data is refused (it would read the server's disk)."""
    from formulate.ir.io import loads

    if not isinstance(text, str) or not text.strip():
        raise ServiceError("the formulation is empty; paste or write its YAML")
    formulation = loads(text)
    formulation.meta.pop("_base_dir", None)
    for name, spec in formulation.parameters.items():
        if getattr(spec, "file", None):
            raise ServiceError(f"parameter `{name}` reads data from a file; give its values inline "
                               "(the service reads no files named by a formulation text)")
    return formulation


def load_path(path: str | Path) -> Formulation:
    """Load a formulation file; its `file:` data must stay inside the formulation's folder."""
    from formulate.ir.io import load

    p = Path(path).expanduser()
    if p.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ServiceError(f"`{path}` is not a formulation file; give a .yaml, .yml or .json path")
    if not p.is_file():
        raise ServiceError(f"file `{path}` does not exist; check the path")
    formulation = load(p)
    folder = p.parent.resolve()
    formulation.meta["_base_dir"] = str(folder)
    for name, spec in formulation.parameters.items():
        data = getattr(spec, "file", None)
        if data and not _inside((folder / data).resolve(), folder):
            raise ServiceError(f"parameter `{name}` reads `{data}`, outside the formulation's folder; "
                               "keep data files beside the formulation")
    return formulation


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def to_yaml(formulation: Formulation) -> str:
    from formulate.ir.io import to_yaml as dump

    return dump(formulation)


# ---------------------------------------------------------------------------------------- formulate
def model_choices(configured: str | None = None) -> list[str]:
    """The configured model (``--model``, else FORMULATE_MODEL) and the offline formulator, in that order."""
    spec = configured or os.environ.get("FORMULATE_MODEL")
    choices = [spec] if spec and spec.strip().lower() != OFFLINE_MODEL else []
    return [*choices, OFFLINE_MODEL]


def formulate(problem_text: str, model: str | None = None, *, mode: str = "ir", rounds: int = 3,
              samples: int = 1, solver: str | None = None, time_limit: float | None = None,
              on_round: RoundCallback | None = None, use_cache: bool = True) -> dict[str, Any]:
    """Problem text -> formulation (YAML and data), solved and checked, with one record per round.

    ``on_round`` receives ``{"round": n, "status": ..., "findings": [...]}`` as each round ends.
    """
    from formulate.formulators.dispatch import error_line, formulator_for

    if not isinstance(problem_text, str) or not problem_text.strip():
        raise ServiceError("the problem text is empty; describe the problem in words")
    rounds = max(1, int(rounds))
    samples = max(1, int(samples))
    spec = model or OFFLINE_MODEL
    options: dict[str, Any] = {} if spec == OFFLINE_MODEL or mode == "code" else {"max_repairs": rounds - 1}
    formulator = formulator_for(spec, mode=mode, use_cache=use_cache, **options)
    attempt = formulator.formulate(problem_text)
    records = _round_records(attempt)
    for record in records:
        if on_round is not None:
            on_round(record)
    out: dict[str, Any] = {"model": spec, "mode": mode, "rounds": records, "samples": samples,
                           "formulator": attempt.to_dict(), "readings": [], "findings": []}
    if attempt.formulation is None:
        if attempt.extra.get("code"):
            out.update(status="code", code=attempt.extra.get("code"), objective=attempt.extra.get("objective"))
            return out
        out.update(status="failed", error=error_line(attempt))
        return out
    formulation = attempt.formulation
    verified = verify(formulation, problem_text, solver=solver, time_limit=time_limit)
    out.update(status="ok", yaml=to_yaml(formulation), formulation=formulation.to_dict(),
               solution=verified["solution"], findings=verified["findings"], readings=verified["readings"],
               math=verified["math"], check=verified["check"])
    return out


def _round_records(attempt: Any) -> list[dict[str, Any]]:
    """One line per model call: its status and the errors fed back (the rules formulator: one round)."""
    if not attempt.history:
        findings = [] if attempt.status == "ok" else list(attempt.warnings[-1:])
        return [{"round": 1, "status": attempt.status, "findings": findings}]
    return [{"round": i, "status": r.status, "findings": list(r.errors)}
            for i, r in enumerate(attempt.history, start=1)]


# ----------------------------------------------------------------------------- check, solve, export
def check(formulation: Formulation) -> dict[str, Any]:
    """Static checks: ok, every error (one per item), warnings, class and size."""
    from formulate.api import check as check_formulation

    return check_formulation(formulation).to_dict()


def solve_json(solution: Solution, formulation: Formulation | None = None, attempt: Any = None) -> dict[str, Any]:
    """The JSON of `formulate solve --json`: the solution, plus the formulation and formulator when text was given."""
    out: dict[str, Any] = {"solution": solution.to_dict()}
    if attempt is not None and formulation is not None:
        out["formulation"] = formulation.to_dict()
        out["formulator"] = attempt.to_dict()
    return out


def solve(formulation: Formulation, *, solver: str | None = None, time_limit: float | None = None,
          mip_gap: float | None = None) -> dict[str, Any]:
    """Solve a formulation; the same dict as `formulate solve FILE --json`."""
    return solve_json(_solve(formulation, solver, time_limit, mip_gap))


def solve_problem(problem_text: str, model: str | None = None, *, mode: str = "ir", solver: str | None = None,
                  time_limit: float | None = None, mip_gap: float | None = None,
                  use_cache: bool = True) -> dict[str, Any]:
    """Formulate problem text and solve it; the same dict as `formulate solve TEXT --json`."""
    from formulate.formulators.dispatch import error_line, formulator_for

    if not isinstance(problem_text, str) or not problem_text.strip():
        raise ServiceError("the problem text is empty; describe the problem in words")
    attempt = formulator_for(model or OFFLINE_MODEL, mode=mode, use_cache=use_cache).formulate(problem_text)
    if attempt.formulation is None:
        if attempt.formulator == "code" and attempt.status == "ok":
            return {"formulator": attempt.to_dict()}
        raise ServiceError(error_line(attempt))
    solution = _solve(attempt.formulation, solver, time_limit, mip_gap)
    return solve_json(solution, attempt.formulation, attempt)


def _solve(formulation: Formulation, solver: str | None, time_limit: float | None,
           mip_gap: float | None = None) -> Solution:
    from formulate.api import solve as solve_formulation

    return solve_formulation(formulation, solver=solver, time_limit=time_limit, mip_gap=mip_gap)


def export(formulation: Formulation, target: str) -> dict[str, Any]:
    """A standalone script (or LP/MPS text) for `target`, with a file name to save it under."""
    from formulate.codegen import EXPORT_TARGETS, SUFFIXES
    from formulate.codegen import export as export_formulation
    from formulate.errors import did_you_mean

    key = (target or "").strip().lower()
    if key not in EXPORT_TARGETS:
        hint = did_you_mean(key, EXPORT_TARGETS)
        raise ServiceError(f"unknown export target `{target}`; {hint + ' ' if hint else ''}"
                           f"choose one of {', '.join(EXPORT_TARGETS)}")
    stem = "".join(c if c.isalnum() or c in "_-" else "_" for c in formulation.name) or "model"
    suffix = SUFFIXES[key]
    filename = f"{stem}_{key}{suffix}" if suffix == ".py" else f"{stem}{suffix}"
    return {"target": key, "filename": filename, "content": export_formulation(formulation, key)}


def export_targets() -> list[str]:
    from formulate.codegen import EXPORT_TARGETS

    return list(EXPORT_TARGETS)


# --------------------------------------------------------------------------------- verify, explain
def verify(formulation: Formulation, problem_text: str | None = None, *, solver: str | None = None,
           time_limit: float | None = None) -> dict[str, Any]:
    """Check, solve and explain: the check report, the solution, findings, readings and the math.

    Findings here are what check and the solver say (errors, warnings, an IIS, unbounded rays).
    """
    report = check(formulation)
    findings: list[dict[str, Any]] = [_finding("check", "error", e) for e in report["errors"]]
    findings += [_finding("check", "warning", w) for w in report["warnings"]]
    solution: dict[str, Any] | None = None
    iis: list[str] = []
    if report["ok"]:
        solved = _solve(formulation, solver, time_limit)
        solution = solved.to_dict()
        iis = list(solved.iis or [])
        words = explain_solution(solved)
        if words["kind"] != "optimal":
            findings.append(_finding(words["kind"], "error" if words["kind"] != "limit" else "warning",
                                     words["text"]))
    return {"check": report, "solution": solution, "findings": findings, "readings": [],
            "math": render_math(formulation, highlight=iis)}


def _finding(kind: str, severity: str, text: str) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "where": None, "for_model": text, "for_person": text,
            "span": None}


def explain(formulation: Formulation, *, solver: str | None = None, time_limit: float | None = None) -> dict[str, Any]:
    """Solve and say in words why there is no optimum: the IIS of an infeasible model, the rays of an unbounded one."""
    report = check(formulation)
    if not report["ok"]:
        return {"kind": "check", "status": None, "iis": [], "text": "the formulation does not check: " +
                "; ".join(report["errors"][:5])}
    solution = _solve(formulation, solver, time_limit)
    return {**explain_solution(solution), "status": solution.status}


def explain_solution(solution: Solution) -> dict[str, Any]:
    """`{"kind", "text", "iis"}`: optimal, infeasible (the IIS in words), unbounded (the rays), limit, error."""
    status = solution.status
    iis = list(solution.iis or [])
    if status == "optimal":
        return {"kind": "optimal", "iis": [], "text": f"optimal; objective {solution.objective:.10g}"}
    if status == "infeasible" or (status == "infeasible_or_unbounded" and iis):
        if iis:
            groups = [n for n in iis if " " not in n]
            bounds = [n for n in iis if " " in n]
            parts = []
            if groups:
                parts.append("constraints " + ", ".join(f"`{g}`" for g in groups))
            if bounds:
                parts.append("the bounds " + ", ".join(f"`{b}`" for b in bounds))
            text = ("infeasible: " + " and ".join(parts) + " cannot all hold at once; relax or remove one of them "
                    "(removing any one makes this set feasible)")
        else:
            text = "infeasible: " + (solution.message or "the solver found no point satisfying every constraint")
        return {"kind": "infeasible", "iis": iis, "text": text}
    if status in ("unbounded", "infeasible_or_unbounded"):
        detail = solution.message or f"{status.replace('_', ' ')}: the objective can improve without limit"
        return {"kind": "unbounded" if status == "unbounded" else "infeasible_or_unbounded", "iis": [],
                "text": f"{detail}; " + ("bound the variables named or add the constraint that limits them"
                                         if "run away" in detail else "bound the variables or add the missing limits")}
    if status in ("time_limit", "iteration_limit"):
        return {"kind": "limit", "iis": [], "text": f"stopped at the {status.replace('_', ' ')}"
                + (f" with objective {solution.objective:.10g}" if solution.has_solution else " with no solution")}
    return {"kind": "error", "iis": [], "text": f"{status}: {solution.message or 'the solver failed'}"}


# ------------------------------------------------------------------------------------------- math
def render_math(formulation: Formulation, highlight: list[str] | None = None) -> dict[str, Any]:
    """The formulation as HTML with MathML (server-side, no internet), IIS members marked."""
    try:
        from formulate.web.mathml import formulation_html

        return {"html": formulation_html(formulation, highlight or []), "error": None}
    except FormulateError as exc:
        return {"html": "", "error": str(exc)}


# ------------------------------------------------------------------------------------- dispatch
def _formulation_arg(args: dict[str, Any], allow_path: bool) -> Formulation:
    text = args.get("formulation")
    path = args.get("path")
    if path and allow_path:
        return load_path(path)
    if path:
        raise ServiceError("this service reads no paths; send the formulation's YAML as `formulation`")
    if text is None:
        raise ServiceError("give the formulation's YAML as `formulation`")
    return load_text(text)


def run_operation(name: str, args: dict[str, Any], *, allow_path: bool = False,
                  on_round: RoundCallback | None = None) -> dict[str, Any]:
    """Run one operation by name on plain arguments (what a door received); returns a plain dict.

    ``formulate`` and ``solve`` with a ``problem`` take problem text; the others a formulation's YAML
    (``formulation``) or, where ``allow_path``, a file (``path``).
    """
    solver = args.get("solver") or None
    time_limit = args.get("time_limit")
    if name == "formulate":
        return formulate(args.get("problem", ""), args.get("model"), mode=args.get("mode") or "ir",
                         rounds=args.get("rounds") or 3, samples=args.get("samples") or 1, solver=solver,
                         time_limit=time_limit, on_round=on_round)
    if name == "solve" and args.get("problem") is not None and args.get("formulation") is None \
            and not args.get("path"):
        return solve_problem(args["problem"], args.get("model"), mode=args.get("mode") or "ir", solver=solver,
                             time_limit=time_limit, mip_gap=args.get("gap"))
    if name not in OPERATIONS:
        raise ServiceError(f"unknown operation `{name}`; use one of formulate, {', '.join(OPERATIONS)}")
    formulation = _formulation_arg(args, allow_path)
    if name == "check":
        return {**check(formulation), "math": render_math(formulation)}
    if name == "solve":
        return solve(formulation, solver=solver, time_limit=time_limit, mip_gap=args.get("gap"))
    if name == "verify":
        return verify(formulation, args.get("problem"), solver=solver, time_limit=time_limit)
    if name == "export":
        return export(formulation, args.get("target") or "")
    if name == "explain":
        return explain(formulation, solver=solver, time_limit=time_limit)
    return {**render_math(formulation, args.get("highlight") or []), "yaml": to_yaml(formulation)}


OPERATIONS = ("check", "solve", "verify", "export", "explain", "render")
