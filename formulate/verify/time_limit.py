"""`time_limit`: the incumbent, best bound and gap when the solver stopped early, with hints a model can act on
(tighter big-M from bounds, symmetry breaking for identical members, a valid bound from the data)."""

from __future__ import annotations

from formulate.verify.findings import Finding
from formulate.verify.subject import Subject


def check_time_limit(subject: Subject) -> list[Finding]:
    if subject.status not in ("time_limit", "iteration_limit") or subject.solution is None:
        return []
    sol = subject.solution
    limit = "time limit" if subject.status == "time_limit" else "iteration limit"
    hints = _hints(subject)
    hint_text = ("\nWays to make it solve faster:\n" + "\n".join(f"- {h}" for h in hints)) if hints else ""
    if sol.has_solution and sol.objective is not None:
        gap = _gap(sol.objective, sol.bound)
        bound = f"{sol.bound:.10g}" if sol.bound is not None else "unknown"
        gap_text = f"{gap:.2%}" if gap is not None else "unknown"
        message = (f"The solver stopped at its {limit} before proving optimality: the best solution found has "
                   f"objective {sol.objective:.10g}, the best bound is {bound}, gap {gap_text}. The answer may not "
                   f"be optimal. Keep the model's meaning; tighten it so it solves faster.{hint_text}")
        person = f"{limit}: incumbent {sol.objective:.10g}, bound {bound}, gap {gap_text}"
        return [Finding("time_limit", "warning", "solve", message, person)]
    message = (f"The solver stopped at its {limit} without finding any feasible solution. The model may be too "
               f"large or too weak (large big-M, symmetric copies), or infeasible in a way that is hard to prove."
               f"{hint_text}")
    return [Finding("time_limit", "error", "solve", message, f"{limit} without a solution")]


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return abs(objective - bound) / max(1e-9, abs(objective))


def _hints(subject: Subject) -> list[str]:
    f = subject.formulation
    if f is None:
        return []
    hints: list[str] = []
    conditional = [n for n in f.constraints if f.constraint(n).when or f.constraint(n).either]
    if conditional:
        loose = _loose_variables(subject)
        bounds = (f" (`{'`, `'.join(loose)}` {'has' if len(loose) == 1 else 'have'} no finite upper bound or a wide one)"
                  if loose else "")
        hints.append(f"`{'`, `'.join(conditional[:5])}` use `when:`/`either:`, whose big-M comes from the variables' "
                     f"bounds: give those variables the tightest bounds the text allows{bounds}.")
    for set_name, variable in _symmetric_sets(subject):
        index = subject.formulation.variables[variable].index or []
        example = (f", e.g. the constraint `{variable}[b] <= {variable}[prev(b)] for b in {set_name} if ord(b) > 1` "
                   "(use the earlier members first)" if index == [set_name] else "")
        hints.append(f"the members of set `{set_name}` look identical (no data tells them apart) and `{variable}` is "
                     f"indexed by it: break the symmetry{example}.")
    hints.append("add a valid bound the data implies (total area, total demand, the horizon, a count of items) as "
                 "a constraint, and keep the number of bins, vehicles or periods no larger than the data needs.")
    return hints


def _loose_variables(subject: Subject) -> list[str]:
    f = subject.formulation
    out = []
    for name, v in f.variables.items():
        if v.type == "binary":
            continue
        upper = v.upper
        if upper is None or upper in ("inf", float("inf")) or (isinstance(upper, int | float) and upper >= 1e6):
            out.append(name)
    return out[:5]


def _symmetric_sets(subject: Subject) -> list[tuple[str, str]]:
    """Sets indexing an integer/binary variable such that no parameter over the set tells its members apart."""
    f = subject.formulation
    out: list[tuple[str, str]] = []
    for set_name, members in f.sets.items():
        if not isinstance(members, list) or len(members) < 3:
            continue
        variables = [n for n, v in f.variables.items() if v.type in ("binary", "integer") and v.index
                     and set_name in v.index]
        if not variables:
            continue
        distinct = False
        for spec in f.parameters.values():
            index = getattr(spec, "index", None)
            if index and set_name in index:
                values = spec.values
                if isinstance(values, dict | list) and len({repr(v) for v in (
                        values.values() if isinstance(values, dict) else values)}) > 1:
                    distinct = True
        if not distinct:
            alone = [n for n in variables if f.variables[n].index == [set_name]]
            out.append((set_name, (alone or variables)[0]))
    return out[:2]
