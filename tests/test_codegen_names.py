"""A formulation may name its items anything the language allows: an exported script never lets them clash
with its own names (helpers, module aliases, tables, builtins it calls, keywords).

The script's own names are read from generated scripts themselves (every known-answer problem and shared
example, plus the probe below, exported to every script target) with `ast`, so the test follows template
changes. Each of those names is then given, in turn, to the probe's set, parameter, variable, constraint and
loop variable; names the language rejects are skipped. The probe is exported, its items' Python names must
avoid the script's names, and the script must run and print formulate's own objective.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from functools import cache
from pathlib import Path

import pytest

import formulate.api as api
from formulate.codegen import export
from formulate.codegen.common import ScriptContext
from formulate.errors import FormulateError
from formulate.ir.model import Formulation
from tests.test_codegen import EXAMPLES, PROBLEMS, RELATIVE, SKIPS, TARGETS, _run_batch

#: one slot of the probe: a set, an indexed parameter, an indexed variable, a plain constraint (with a loop
#: variable), and, around them, a `when:` and an `either:` constraint so the script's helpers run too
SLOT = {
    "sets": {"{S}": ["a", "b", "c"]},
    "parameters": {"{P}": {"index": ["{S}"], "values": [2, 3, 1]}},
    "variables": {"{V}": {"index": ["{S}"], "type": "integer", "upper": 4},
                  "o{k}": {"index": ["{S}"], "type": "binary"}},
    "constraints": {"{C}": {"forall": "{L} in {S}", "expr": "{V}[{L}] <= {P}[{L}]"},
                    "idle{k}": {"forall": "{L} in {S}", "when": "not o{k}[{L}]", "expr": "{V}[{L}] <= 1"},
                    "apart{k}": {"either": ["{V}['a'] <= 1", "{V}['b'] <= 1", "{V}['c'] <= 1"]}},
    "objective": "sum(2 * {V}[{L}] - o{k}[{L}] for {L} in {S})",
}
ROLES = {"S": "set", "P": "parameter", "V": "variable", "C": "constraint", "L": "loop variable"}
NEUTRAL = {"S": "G{k}", "P": "r{k}", "V": "t{k}", "C": "c{k}", "L": "g{k}"}
#: slots per probe (the objective has a length limit)
CHUNK = 60


def _fill(value, names: dict[str, str]):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if not isinstance(value, dict):
        return value
    return {_fill(k, names): _fill(v, names) for k, v in value.items()}


def probe(role: str, names: list[str]) -> Formulation:
    """One slot per name, the name in `role` and neutral names elsewhere."""
    model: dict = {"name": "probe", "sets": {}, "parameters": {}, "variables": {}, "constraints": {}}
    terms = []
    for k, name in enumerate(names):
        slot = {key: text.format(k=k) for key, text in NEUTRAL.items()} | {"k": str(k), role: name}
        filled = _fill(SLOT, slot)
        for section in ("sets", "parameters", "variables", "constraints"):
            model[section].update(filled[section])
        terms.append(filled["objective"])
    model["objective"] = {"sense": "maximize", "expr": _balanced(terms)}
    return api.as_formulation(model)


def _balanced(terms: list[str]) -> str:
    """`(a + b) + (c + d)`: a sum of many terms that nests only log2(n) deep."""
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return f"({_balanced(terms[:half])}) + ({_balanced(terms[half:])})"


def _accepted(role: str, name: str) -> bool:
    """Whether the language takes `name` in `role` (a keyword does not parse, `__x` is refused as a set...)."""
    try:
        return api.check(probe(role, [name])).ok
    except FormulateError:
        return False


# ------------------------------------------------------------------ the script's own names
def _module_bindings(tree: ast.Module) -> dict[str, set[str]]:
    """Names bound at module level (also inside module-level for/if/with/try) -> how: def, import, assign, for."""
    out: dict[str, set[str]] = {}

    def bind(node: ast.expr, how: str) -> None:
        if isinstance(node, ast.Name):
            out.setdefault(node.id, set()).add(how)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                bind(element, how)
        elif isinstance(node, ast.Starred):
            bind(node.value, how)

    def visit(statements: list[ast.stmt]) -> None:
        for stmt in statements:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.setdefault(stmt.name, set()).add("def")
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for alias in stmt.names:
                    out.setdefault(alias.asname or alias.name.split(".")[0], set()).add("import")
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    bind(target, "assign")
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
                bind(stmt.target, "assign")
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                bind(stmt.target, "for")
                visit(stmt.body + stmt.orelse)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        bind(item.optional_vars, "assign")
                visit(stmt.body)
            elif isinstance(stmt, (ast.If, ast.While)):
                visit(stmt.body + stmt.orelse)
            elif isinstance(stmt, ast.Try):
                visit(stmt.body + stmt.orelse + stmt.finalbody + [s for h in stmt.handlers for s in h.body])
    visit(tree.body)
    return out


def own_names(text: str, formulation: Formulation) -> set[str]:
    """The names a script defines, imports or calls as builtins, less those that come from the formulation:
    its items' Python names and the loop variables of its constraints."""
    tree = ast.parse(text)
    derived = set(ScriptContext.build(formulation).names.values())
    words: set[str] = set()
    for name in formulation.constraints:
        item = formulation.constraint(name)
        words |= set(re.findall(r"\w+", " ".join([item.forall or "", item.expr or "", item.when or "",
                                                  *(item.either or [])])))
    names, bindings = set(), _module_bindings(tree)
    for name, how in bindings.items():
        if name in derived or (how == {"for"} and name.rstrip("_") in words):
            continue
        names.add(name)
    loaded = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return names | {name for name in loaded - set(bindings) if hasattr(builtins, name)}


@cache
def script_names() -> dict[str, set[str]]:
    """target -> every name its scripts define or call (over all problems, examples and a probe)."""
    sources = [api.as_formulation(path) for path in PROBLEMS + EXAMPLES] + [probe("S", ["Items"])]
    out: dict[str, set[str]] = {target: set() for target in TARGETS}
    for formulation in sources:
        for target in TARGETS:
            try:
                text = export(formulation, target)
            except FormulateError:
                continue
            out[target] |= own_names(text, formulation)
    return out


@cache
def probe_names() -> list[str]:
    """Every name some script owns, and the keywords, in a fixed order."""
    return sorted(set().union(*script_names().values()) | set(keyword.kwlist) | set(keyword.softkwlist))


@cache
def accepted(role: str) -> list[str]:
    return [name for name in probe_names() if _accepted(role, name)]


def probes(role: str) -> list[Formulation]:
    """Probes that give every accepted name the role, CHUNK names each."""
    names = accepted(role)
    return [probe(role, names[k:k + CHUNK]) for k in range(0, len(names), CHUNK)]


# ------------------------------------------------------------------ tests
def test_the_script_names_are_found() -> None:
    names = script_names()
    for target in TARGETS:
        assert {"model", "solve", "report", "nonzero_values", "sum", "print", "json", "sys"} <= names[target], target
    assert {"pyo", "SolverFactory"} <= names["pyomo"] and {"gp", "GRB"} <= names["gurobipy"]
    assert {"highspy", "pass_hessian", "SOLUTION", "run_highs", "os"} <= names["highspy"]
    assert "pulp" in names["pulp"]
    assert {"pick", "picks"} <= set().union(*names.values())  # bound at module level by `either:` rows


@pytest.mark.parametrize("role", sorted(ROLES))
def test_item_names_avoid_the_script_names(role: str) -> None:
    """Statically: no set, parameter or variable gets a Python name a script owns (loop variables and
    constraint names are checked by running the scripts)."""
    owned = set().union(*script_names().values())
    clashes = {}
    for formulation in probes(role):
        python = ScriptContext.build(formulation).names
        clashes |= {name: py for name, py in python.items() if py in owned}
    assert not clashes, clashes


@pytest.mark.parametrize("target", TARGETS)
def test_probes_named_like_script_names_solve(target: str, tmp_path: Path) -> None:
    """Each role filled with every accepted name: the exported script runs and prints formulate's objective."""
    if SKIPS.get(target):
        pytest.skip(SKIPS[target])
    scripts, expected = [], {}
    for role, part, formulation in [(r, k, f) for r in sorted(ROLES) for k, f in enumerate(probes(r))]:
        solution = api.solve(formulation, mip_gap=0)
        assert solution.status == "optimal" and solution.objective is not None
        script = tmp_path / f"probe_{ROLES[role].replace(' ', '_')}{part + 1}_{target}.py"
        script.write_text(export(formulation, target), encoding="utf-8")
        scripts.append(script)
        expected[script] = solution.objective
    for script, (status, objective, error) in _run_batch(scripts).items():
        assert error is None, (script.name, error)
        assert status == "optimal" and objective is not None, (script.name, status)
        assert abs(objective - expected[script]) <= RELATIVE * max(1.0, abs(expected[script])), \
            (script.name, objective, expected[script])


LEVEL_ROWS = """\
variables:
  x: {upper: 10}
  y: {upper: 10}
objective:
  - {sense: maximize, expr: x + y, priority: 2}
  - {sense: minimize, expr: x, priority: 1}
constraints:
  objective_levels: x + y <= 12
  objective_level_1: x >= 1
"""


@pytest.mark.parametrize("target", TARGETS)
def test_rows_named_like_the_level_rows_of_several_objectives_run(target: str, tmp_path: Path) -> None:
    """A several-objective script adds its own rows/components (`objective_levels`, `objective_level_1`):
    a formulation's rows of those names kept pyomo and pulp scripts from running."""
    from formulate.ir.io import loads

    if SKIPS.get(target):
        pytest.skip(SKIPS[target])
    formulation = loads(LEVEL_ROWS)
    solution = api.solve(formulation, mip_gap=0)
    script = tmp_path / f"levels_{target}.py"
    script.write_text(export(formulation, target), encoding="utf-8")
    status, objective, error = _run_batch([script])[script]
    assert error is None and status == "optimal" and objective == pytest.approx(solution.objective)
    assert solution.values["x"] == pytest.approx(2)  # the second level held the first at 12
