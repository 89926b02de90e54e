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
    if _names_a_file(formulation.meta.get("alternatives")):
        raise ServiceError("an alternative reading in `meta.alternatives` names a data `file` or `_base_dir`; "
                           "give its values inline")
    return formulation


def _names_a_file(data: Any) -> bool:
    """Whether nested data (an alternative reading's changes) has a `file` or `_base_dir` key."""
    return bool(_file_values(data))


def _file_values(data: Any) -> list[Any]:
    """Every value under a `file` or `_base_dir` key in nested data (`_base_dir` itself never passes)."""
    if isinstance(data, dict):
        found = [v if k == "file" else "/" for k, v in data.items() if k in ("file", "_base_dir")]
        return found + [x for v in data.values() for x in _file_values(v)]
    if isinstance(data, list):
        return [x for v in data for x in _file_values(v)]
    return []


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
    named = [(f"parameter `{name}`", getattr(spec, "file", None)) for name, spec in formulation.parameters.items()
             if getattr(spec, "file", None)]
    named += [("an alternative reading", value) for value in _file_values(formulation.meta.get("alternatives"))]
    for who, data in named:
        if not isinstance(data, str) or not _inside((folder / data).resolve(), folder):
            raise ServiceError(f"{who} reads `{data}`, outside the formulation's folder; "
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
    """Problem text -> formulation through the verifier's loop: YAML, math, solution, findings, readings, rounds.

    ``status`` is ``ok``, ``draft`` (a formulation that still fails its checks: YAML and ``error`` given),
    ``failed`` (no formulation; ``error`` says why) or ``code`` (code mode: a script and its objective).

    ``on_round`` receives each round as it ends (:func:`round_line`: round, sample, stage, status,
    objective, findings, feedback).
    """
    from formulate.formulators.dispatch import formulator_for
    from formulate.verify.loop import run_verified

    if not isinstance(problem_text, str) or not problem_text.strip():
        raise ServiceError("the problem text is empty; describe the problem in words")
    spec = model or OFFLINE_MODEL
    formulator = formulator_for(spec, mode=mode, use_cache=use_cache)
    run = run_verified(problem_text, formulator, rounds=max(1, int(rounds)), samples=max(1, int(samples)),
                       solver=solver, time_limit=time_limit,
                       on_round=None if on_round is None else (lambda r: on_round(round_line(r))))
    data = run.to_dict()
    out: dict[str, Any] = {"model": spec, "mode": mode, "rounds": [round_line(r) for r in run.rounds],
                           "vote": data["vote"], "formulator": data["attempt"], "findings": data["findings"],
                           "readings": data["readings"], "solution": data["solution"]}
    formulation = run.formulation
    if formulation is None:
        best = run.best_round
        if best is not None and best.code is not None and best.code.ok:
            out.update(status="code", code=getattr(best.code, "code", None), objective=run.objective)
            return out
        errors = [f["for_person"] for f in data["findings"] if f["severity"] == "error"]
        out.update(status="failed", error=f"no usable formulation after {len(run.rounds)} round(s)"
                   + (f": {errors[0]}" if errors else ""))
        return out
    report = check(formulation)
    out.update(status="ok" if report["ok"] else "draft", yaml=to_yaml(formulation), formulation=data["formulation"],
               check=report, math=render_math(formulation, highlight=list((run.solution and run.solution.iis) or [])))
    if not report["ok"]:
        out["error"] = (f"the formulation still has errors after {len(run.rounds)} round(s): {report['errors'][0]}; "
                        "edit the YAML and re-solve")
    return out


def round_line(result: Any) -> dict[str, Any]:
    """One round of the verifier's loop as plain data for a progress line (the model's reply left out)."""
    data = result.to_dict()
    data.pop("reply", None)
    data.pop("readings", None)
    return data


# ----------------------------------------------------------------------------- check, solve, export
def check(formulation: Formulation) -> dict[str, Any]:
    """Static checks: ok, every error (one per item), warnings, class and size."""
    from formulate.api import check as check_formulation

    return check_formulation(formulation).to_dict()


def solution_json(solution: Solution, readings: list[Any] | None = None) -> dict[str, Any]:
    """The JSON of `formulate solve FILE --json`: the solution and the solved alternative readings."""
    return {"solution": solution.to_dict(), "readings": [r.to_dict() for r in readings or []]}


def verified_json(run: Any) -> dict[str, Any]:
    """The JSON of `formulate solve TEXT --json`: the best solution and formulation, the formulator's attempt
    and the verifier's whole run (rounds, findings, readings, vote)."""
    return {"solution": run.solution.to_dict() if run.solution is not None else None,
            "formulation": run.formulation.to_dict() if run.formulation is not None else None,
            "formulator": run.best.to_dict(), "verified": run.to_dict()}


def solve(formulation: Formulation, *, solver: str | None = None, time_limit: float | None = None,
          mip_gap: float | None = None) -> dict[str, Any]:
    """Solve a formulation and its alternative readings; the same dict as `formulate solve FILE --json`."""
    from formulate.verify.readings import solve_readings

    solution = _solve(formulation, solver, time_limit, mip_gap)
    readings = solve_readings(formulation, solution, solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    return solution_json(solution, readings)


def solve_problem(problem_text: str, model: str | None = None, *, mode: str = "ir", rounds: int = 3,
                  samples: int = 1, solver: str | None = None, time_limit: float | None = None,
                  mip_gap: float | None = None, use_cache: bool = True) -> dict[str, Any]:
    """Formulate problem text through the verifier's loop and solve it; the same dict as
    `formulate solve TEXT --json` (``solution`` and ``formulation`` are None when no formulation came out)."""
    from formulate.formulators.dispatch import formulator_for
    from formulate.verify.loop import run_verified

    if not isinstance(problem_text, str) or not problem_text.strip():
        raise ServiceError("the problem text is empty; describe the problem in words")
    formulator = formulator_for(model or OFFLINE_MODEL, mode=mode, use_cache=use_cache)
    run = run_verified(problem_text, formulator, rounds=max(1, int(rounds)), samples=max(1, int(samples)),
                       solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    return verified_json(run)


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
    """The verifier's report (findings, solution, readings) with the check report and the math, IIS marked."""
    from formulate.verify import verify as run_verifier

    report = check(formulation)
    verified = run_verifier(formulation, problem_text or None, solver=solver, time_limit=time_limit).to_dict()
    solution = verified["solution"]
    return {**verified, "check": report,
            "math": render_math(formulation, highlight=list((solution or {}).get("iis") or []))}


#: the verifier's findings that say why there is no optimum
EXPLAINED = ("check", "solve", "infeasible", "unbounded", "time_limit", "feasibility")


def explain(formulation: Formulation, *, solver: str | None = None, time_limit: float | None = None) -> dict[str, Any]:
    """Why there is no optimum, in the verifier's words: the IIS of an infeasible model, the runaway rays of an
    unbounded one, a limit hit, or the check errors. ``text`` is the full explanation, ``summary`` one line."""
    from formulate.verify import verify as run_verifier

    report = run_verifier(formulation, solver=solver, time_limit=time_limit, readings=False)
    solution = report.solution
    status = solution.status if solution is not None else None
    chosen = [f for f in report.findings if f.kind in EXPLAINED and f.severity != "info"]
    if not chosen:
        objective = f"; objective {solution.objective:.10g}" if solution is not None and solution.has_solution else ""
        line = f"{status or 'not solved'}{objective}; nothing to explain"
        return {"kind": status or "none", "status": status, "iis": [], "text": line, "summary": line, "findings": []}
    return {"kind": chosen[0].kind, "status": status, "iis": list((solution.iis if solution else None) or []),
            "text": "\n\n".join(f.for_model for f in chosen), "summary": "; ".join(f.for_person for f in chosen),
            "findings": [f.to_dict() for f in chosen]}


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
        return solve_problem(args["problem"], args.get("model"), mode=args.get("mode") or "ir",
                             rounds=args.get("rounds") or 3, samples=args.get("samples") or 1, solver=solver,
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
