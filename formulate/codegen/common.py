"""Shared pieces of every export target: the error, Python names, literals and the model context.

An export first grounds the formulation (so every exported script comes from a model that checks) and
keeps the grounder: it holds the built sets and parameter tables the data section is written from.
"""

from __future__ import annotations

import ast
import keyword
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formulate.errors import FormulateError
from formulate.ir.data import ParamData, SetData
from formulate.ir.flat import FlatProblem
from formulate.ir.ground import Grounder
from formulate.ir.model import Formulation, Parameter

#: names every exported script defines or imports itself (helpers, tables, module aliases, the `pick`/`picks`
#: binaries of `either:` rows); a formulation name that collides gets a trailing `_`. tests/test_codegen_names.py
#: reads the names back from generated scripts and fails when one is missing here.
SCRIPT_NAMES = frozenset({
    "INF", "VARIABLES", "model", "solver", "main", "solve", "report", "entries", "value_of", "key_text",
    "nonzero_values", "new_var", "add_row", "bounds_of", "missing_bound", "terms_of", "var_bounds", "var_name",
    "implies", "max_of", "min_of", "abs_of", "pwl", "interpolate", "position", "prev_member", "next_member", "nl",
    "as_var", "Q", "QuadExpr", "set_objective", "pass_hessian", "new_highs", "unique_name", "quicksum", "math",
    "json", "sys", "os", "re", "pyo", "pulp", "gp", "GRB", "nlfunc", "highspy", "SolverFactory", "SOLVER", "STATUS",
    "SOLUTION", "env", "compute_bounds_on_expr", "generate_standard_repn", "first", "last", "row_or_skip",
    "product", "is_binary", "var_of", "OBJECTIVES", "solve_level", "run_highs", "run_cbc", "run_solver", "run_gurobi", "pick", "picks",
    "_POSITIONS", "_PRODUCTS", "_ORIGINAL_NAMES", "_BOUNDS", "_NAMES", "_KINDS", "_VARS", "_HESSIAN", "_extremum",
})
#: builtins the scripts call: a formulation name never shadows these (others, like `open`, may be shadowed)
SCRIPT_BUILTINS = frozenset({
    "sum", "min", "max", "abs", "len", "range", "list", "dict", "set", "tuple", "float", "int", "str", "bool", "round",
    "print", "zip", "enumerate", "isinstance", "hasattr", "getattr", "classmethod", "format", "id", "all", "any",
    "sorted", "map", "ValueError", "IndexError", "KeyError", "Exception", "True", "False", "None", "__name__",
})
RESERVED = SCRIPT_NAMES | frozenset(keyword.kwlist) | SCRIPT_BUILTINS


class ExportError(FormulateError):
    """A target cannot express a construct of the formulation; the message names it and a target that can."""


def py_name(name: str, taken: frozenset[str] | set[str] = RESERVED) -> str:
    """A Python identifier for a formulation name: itself, or with `_` appended while it collides."""
    out = name if name.isidentifier() else "_" + "".join(c if c.isalnum() else "_" for c in name)
    if out.startswith("__") and out.endswith("__"):  # `__name__` and the like are the module's own
        out = out.strip("_") + "_"
    while out in taken or keyword.iskeyword(out):
        out += "_"
    return out


def label_text(name: str, parts: list[str] | None = None) -> str:
    """Python source of a row or column name: `"name"`, or `f"name[{i},{j}]"` with `parts` = ["i", "j"]."""
    literal = name.replace("\\", "\\\\").replace('"', '\\"')
    if not parts:
        return f'"{literal}"'
    literal = literal.replace("{", "{{").replace("}", "}}")
    return f'f"{literal}[{",".join("{" + p + "}" for p in parts)}]"'


def number_text(value: float) -> str:
    """A number as Python source: integers without `.0`, infinities as `INF`."""
    value = float(value)
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def member_text(member: Any) -> str:
    """A set member (int, str or tuple of them) as Python source."""
    if isinstance(member, tuple):
        inner = ", ".join(member_text(m) for m in member)
        return f"({inner},)" if len(member) == 1 else f"({inner})"
    if isinstance(member, (int, np.integer)):
        return str(int(member))
    return repr(str(member))


def wrap_items(head: str, items: list[str], tail: str, width: int = 100, indent: str = "    ") -> str:
    """`head item, item, ... tail` on one line when short, else one indented block of filled lines."""
    one = head + ", ".join(items) + tail
    if len(one) <= width:
        return one
    lines, line = [], ""
    for item in items:
        piece = item + ","
        if line and len(indent) + len(line) + 1 + len(piece) > width:
            lines.append(indent + line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    if line:
        lines.append(indent + line)
    return head + "\n" + "\n".join(lines) + "\n" + tail


@dataclass
class ScriptContext:
    """What the generators need: the formulation, its grounding, and the Python name of everything."""

    formulation: Formulation
    grounder: Grounder
    problem: FlatProblem
    names: dict[str, str] = field(default_factory=dict)  # formulation name -> Python name

    @classmethod
    def build(cls, formulation: Formulation) -> ScriptContext:
        grounder = Grounder(formulation)
        problem = grounder.ground().problem
        ctx = cls(formulation, grounder, problem)
        taken = set(RESERVED)
        for name in list(formulation.sets) + list(formulation.parameters) + list(formulation.variables):
            ctx.names[name] = py_name(name, taken)
            taken.add(ctx.names[name])
        return ctx

    # ------------------------------------------------------------ lookups
    @property
    def title(self) -> str:
        return self.formulation.name or "model"

    def py(self, name: str) -> str:
        return self.names.get(name, name)

    def is_set(self, name: str) -> bool:
        return name in self.formulation.sets

    def is_param(self, name: str) -> bool:
        return name in self.formulation.parameters and name not in self.formulation.sets

    def is_var(self, name: str) -> bool:
        return name in self.formulation.variables

    def set_data(self, name: str) -> SetData:
        data = self.grounder.get_set(name)
        assert data is not None, name
        return data

    def param_data(self, name: str) -> ParamData:
        data = self.grounder.get_param(name)
        assert data is not None, name
        return data

    def set_arity(self, name: str) -> int:
        return self.set_data(name).arity

    def param_index(self, name: str) -> list[str]:
        """Index sets of a parameter (derived dict parameters included)."""
        return [s.name for s in self.param_data(name).domain.sets]

    def var_index(self, name: str) -> list[str]:
        return list(self.formulation.variables[name].index or [])

    def index_arity(self, sets: list[str]) -> int:
        return sum(self.set_arity(s) for s in sets)

    def param_default(self, name: str) -> float | str | None:
        """The default a lookup must fall back to, or None when every entry is present (or none is declared)."""
        data = self.param_data(name)
        if data.scalar or data.present.all() or data.default is None:
            return None
        if data.is_member:
            return self.grounder.codec.decode(int(data.default))  # type: ignore[return-value]
        return float(data.default)

    def param_sign(self, name: str) -> int:
        """+1 when every value of a numeric parameter is >= 0, -1 when every one is <= 0, else 0."""
        data = self.param_data(name)
        if data.is_member:
            return 0
        values = data.values[data.present] if data.present.any() else np.zeros(0)
        if data.default is not None and not data.present.all():
            values = np.append(values, float(data.default))
        if values.size == 0 or np.all(values >= 0):
            return 1
        if np.all(values <= 0):
            return -1
        return 0

    def is_derived_param(self, name: str) -> bool:
        spec = self.formulation.parameters[name]
        return isinstance(spec, str) and _number_or_none(spec) is None

    def is_derived_set(self, name: str) -> bool:
        return isinstance(self.formulation.sets[name], str)

    def literal_param(self, name: str) -> Parameter | None:
        spec = self.formulation.parameters[name]
        return spec if isinstance(spec, Parameter) else None


def _number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class _Unparser(ast._Unparser):  # type: ignore[name-defined]
    """`ast.unparse`, but `f(x for x in s)` without the doubled parentheses."""

    def visit_Call(self, node: ast.Call) -> None:
        if len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.GeneratorExp):
            self.set_precedence(ast._Precedence.ATOM, node.func)  # type: ignore[attr-defined]
            self.traverse(node.func)
            self.traverse(node.args[0])
            return
        super().visit_Call(node)


def unparse(node: ast.AST) -> str:
    """Source text of a (generated) tree."""
    return _Unparser().visit(ast.fix_missing_locations(node))


def call(func: str, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    """A call node `func(args, key=value)`; `func` may be dotted (`pyo.exp`)."""
    target: ast.expr = ast.Name(func.split(".")[0], ast.Load())
    for part in func.split(".")[1:]:
        target = ast.Attribute(target, part, ast.Load())
    return ast.Call(target, list(args), [ast.keyword(k, v) for k, v in keywords.items()])


def const(value: Any) -> ast.expr:
    """A constant node; negative numbers as unary minus (so `ast.unparse` prints `-1`)."""
    if isinstance(value, float) and math.isinf(value):
        node: ast.expr = ast.Name("INF", ast.Load())
        return ast.UnaryOp(ast.USub(), node) if value < 0 else node
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)
