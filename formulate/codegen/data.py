"""The data section of an exported script: sets as lists, parameters as dicts keyed by member or tuple.

Given data (inline values and CSV files) is written out as literals, so a script runs on its own.
Derived sets and parameters are computed in the script with the same comprehension as in the
formulation, so editing a number (say `max_km`) changes what is derived from it, as it would in the
formulation. Everything is emitted in dependency order.
"""

from __future__ import annotations

import ast
import re

from formulate.codegen.common import ScriptContext, member_text, number_text, unparse, wrap_items
from formulate.codegen.translate import Caps, Scope, Translator
from formulate.ir.expr import parse_expression

_DATA_CAPS = Caps(target="data", quicksum="sum")


def data_lines(ctx: ScriptContext) -> list[str]:
    """Python lines defining every set and parameter, dependencies first."""
    out: list[str] = []
    for kind, name in _dependency_order(ctx):
        out.extend(_set_lines(ctx, name) if kind == "set" else _param_lines(ctx, name))
    return out


def _names_in(text: str) -> set[str]:
    try:
        tree = parse_expression(text)
    except Exception:  # noqa: BLE001 - grounding already accepted the text; fall back to a scan
        return set(re.findall(r"[A-Za-z_]\w*", text))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _dependencies(ctx: ScriptContext, kind: str, name: str) -> list[tuple[str, str]]:
    f = ctx.formulation
    names: set[str] = set()
    if kind == "set":
        spec = f.sets[name]
        if isinstance(spec, str):
            names = _names_in(spec)
    else:
        spec = f.parameters[name]
        if isinstance(spec, str):
            names = _names_in(spec)
        elif spec is not None and not isinstance(spec, int | float):
            names = set(spec.index or [])
    deps = []
    for n in sorted(names - {name}):
        if n in f.sets:
            deps.append(("set", n))
        elif n in f.parameters:
            deps.append(("param", n))
    return deps


def _dependency_order(ctx: ScriptContext) -> list[tuple[str, str]]:
    f = ctx.formulation
    literal_sets = [("set", n) for n, s in f.sets.items() if not isinstance(s, str)]
    derived_sets = [("set", n) for n, s in f.sets.items() if isinstance(s, str)]
    params = [("param", n) for n in f.parameters if n not in f.sets]
    order: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def visit(item: tuple[str, str]) -> None:
        if item in seen:
            return
        seen.add(item)
        for dep in _dependencies(ctx, *item):
            visit(dep)
        order.append(item)

    for item in literal_sets + params + derived_sets:
        visit(item)
    return order


# ------------------------------------------------------------------ sets
def _set_lines(ctx: ScriptContext, name: str) -> list[str]:
    spec = ctx.formulation.sets[name]
    py = ctx.py(name)
    data = ctx.set_data(name)
    if isinstance(spec, str):
        derived = _derived_set(ctx, name, spec)
        if derived is not None:
            return [f"# {name}: {' '.join(spec.split())}", f"{py} = {derived}"] if _differs(derived, spec) \
                else [f"{py} = {derived}"]
    return [wrap_items(f"{py} = [", [member_text(m) for m in data.members], "]")]


def _differs(python: str, original: str) -> bool:
    """Whether the Python differs from the formulation's text (beyond spacing and a list() around a range)."""
    squashed = python.replace(" ", "")
    if squashed.startswith("list(range(") and squashed.endswith("))"):
        squashed = squashed[5:-1]
    return squashed != " ".join(original.split()).replace(" ", "")


def _derived_set(ctx: ScriptContext, name: str, text: str) -> str | None:
    tree = parse_expression(text, f"set `{name}`")
    tr = Translator(ctx, _DATA_CAPS, f"set `{name}`", name)
    if isinstance(tree, ast.Call) and getattr(tree.func, "id", "") == "range":
        return f"list({unparse(tr.data(tree, Scope()))})"
    if isinstance(tree, ast.SetComp | ast.ListComp | ast.GeneratorExp):
        gens, inner = tr.clauses(tree.generators, Scope())
        elt = _flat_tuple(tr, tree.elt, inner)
        if _injective(ctx, tree):
            return unparse(ast.ListComp(elt, gens))
        return f"list(dict.fromkeys({unparse(ast.GeneratorExp(elt, gens))}))"
    if isinstance(tree, ast.Name) and ctx.is_set(tree.id):
        return f"list({ctx.py(tree.id)})"
    return None


def _flat_tuple(tr: Translator, node: ast.expr, scope: Scope) -> ast.expr:
    """A member built from parts, tuple members flattened as the grounder does."""
    if not isinstance(node, ast.Tuple):
        return tr.data(node, scope)
    elts: list[ast.expr] = []
    for e in node.elts:
        t = tr.data(e, scope)
        elts.append(ast.Starred(t, ast.Load()) if tr.arity(e, scope) > 1 else t)
    return ast.Tuple(elts, ast.Load())


def _injective(ctx: ScriptContext, tree: ast.SetComp | ast.ListComp | ast.GeneratorExp) -> bool:
    """Whether the element is exactly the loop names over sets, so no member can repeat."""
    targets: list[str] = []
    for gen in tree.generators:
        if not (isinstance(gen.iter, ast.Name) and ctx.is_set(gen.iter.id)):
            return False
        targets.extend(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
    elt = tree.elt
    parts = elt.elts if isinstance(elt, ast.Tuple) else [elt]
    if not all(isinstance(p, ast.Name) for p in parts):
        return False
    return sorted(p.id for p in parts) == sorted(targets)  # type: ignore[attr-defined]


# ------------------------------------------------------------ parameters
def _param_lines(ctx: ScriptContext, name: str) -> list[str]:
    spec = ctx.formulation.parameters[name]
    py = ctx.py(name)
    data = ctx.param_data(name)
    literal = ctx.literal_param(name)
    comment = [f"# {name}: {literal.description}"] if literal is not None and literal.description else []
    if ctx.is_derived_param(name):
        derived = _derived_param(ctx, name, str(spec))
        if derived is not None:
            head = [f"# {name}: {' '.join(str(spec).split())}"] if _differs(derived, str(spec)) else []
            return head + [f"{py} = {derived}"]
    if data.scalar:
        return comment + [f"{py} = {_value_text(ctx, data, 0)}"]
    keys = data.domain.keys()
    entries = [(k, _value_text(ctx, data, i)) for i, k in enumerate(keys) if data.present[i]]
    return comment + [_dict_text(py, entries, len(data.domain.sets))]


def _value_text(ctx: ScriptContext, data, flat: int) -> str:
    value = data.values[flat]
    if data.is_member:
        return member_text(ctx.grounder.codec.decode(int(value)))
    return number_text(float(value))


def _key_text(key: tuple) -> str:
    return member_text(key[0]) if len(key) == 1 else member_text(tuple(key))


def _dict_text(py: str, entries: list[tuple[tuple, str]], num_sets: int) -> str:
    items = [f"{_key_text(k)}: {v}" for k, v in entries]
    one = f"{py} = {{{', '.join(items)}}}"
    if len(one) <= 100 or not items:
        return one
    if num_sets < 2 and len(entries[0][0]) < 2:
        return wrap_items(f"{py} = {{", items, "}")
    groups: dict[object, list[str]] = {}
    for (k, _), item in zip(entries, items, strict=True):
        groups.setdefault(k[0], []).append(item)
    lines = [f"{py} = {{"]
    for group in groups.values():
        line = ""
        for item in group:
            piece = item + ","
            if line and 4 + len(line) + 1 + len(piece) > 100:
                lines.append("    " + line)
                line = piece
            else:
                line = f"{line} {piece}" if line else piece
        lines.append("    " + line)
    lines.append("}")
    return "\n".join(lines)


def _derived_param(ctx: ScriptContext, name: str, text: str) -> str | None:
    tree = parse_expression(text, f"parameter `{name}`")
    tr = Translator(ctx, _DATA_CAPS, f"parameter `{name}`", name)
    if isinstance(tree, ast.DictComp):
        gens, inner = tr.clauses(tree.generators, Scope())
        return unparse(ast.DictComp(_flat_tuple(tr, tree.key, inner), tr.data(tree.value, inner), gens))
    data = ctx.param_data(name)
    if isinstance(tree, ast.Name) and data.is_member and not (ctx.is_param(tree.id) or ctx.is_set(tree.id)):
        return member_text(text.strip())
    return unparse(tr.data(tree, Scope()))
