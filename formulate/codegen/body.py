"""The model section of an exported script: variables, objective and constraints, in the formulation's order.

Each constraint's `forall` becomes nested `for`/`if` statements over the script's sets, so an indexed
constraint reads as one loop, not as a flattened list of rows. Rows are added through the target
(`model.addConstr`, `model += ...`, a Pyomo `Constraint(Any)`); `when:` and `either:` rows go through
the script's `implies` helper.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from formulate.codegen.common import (
    RESERVED,
    ExportError,
    ScriptContext,
    label_text,
    number_text,
    py_name,
    unparse,
)
from formulate.codegen.translate import DATA, LIN, QUAD, Caps, Row, Scope, Translator, difference, relation
from formulate.ir.expr import ConstraintForm, normalise_constraint, parse_expression

_TUPLE_NAMES = "ijklmnuvw"


@dataclass
class VarSpec:
    """A variable as the script declares it."""

    name: str  # formulation name (also the name the solver sees)
    py: str  # Python name in the script
    sets: list[str]  # Python names of the index sets
    comps: list[str]  # one loop name per key component (flattened)
    loops: str  # comprehension clauses over the index: "for p in P for (i, j) in Arcs"
    key: str  # the dict key: "p" or "(p, i, j)"
    label: str  # f-string naming one entry: 'f"x[{p},{i},{j}]"' (or '"x"' for a scalar)
    lower: str
    upper: str
    vtype: str  # continuous, integer, binary
    description: str | None
    constant_bounds: bool


@dataclass
class RowKey:
    """Where a row sits: its constraint's name, the loop names in its key, and the key as Python (None: one row)."""

    name: str
    parts: list[str]
    key: str | None

    @property
    def label(self) -> str:
        """The row's name as Python source: `"c"` or `f"c[{i},{j}]"`."""
        return label_text(self.name, self.parts)

    def renamed(self, name: str) -> RowKey:
        return RowKey(name, self.parts, self.key)


class Target:
    """What one export target contributes; the shared generator calls these."""

    name = ""
    caps: Caps

    def check(self, ctx: ScriptContext) -> None:
        """Refuse (ExportError) what the target's solver cannot take at all."""

    def model_init(self, ctx: ScriptContext) -> list[str]:
        raise NotImplementedError

    def declare_variable(self, ctx: ScriptContext, var: VarSpec) -> list[str]:
        """Default: a ``new_var(label, lower, upper, type)`` helper the script defines (pulp, highspy)."""
        head = [f"# {var.name}: {var.description}"] if var.description else []
        call = f'new_var({var.label}, {var.lower}, {var.upper}, "{var.vtype}")'
        if not var.comps:
            return head + [f"{var.py} = {call}"]
        return head + [f"{var.py} = {{{var.key}: {call} {var.loops}}}"]

    def set_objective(self, ctx: ScriptContext, expr: str, sense: str, kind: int) -> list[str]:
        raise NotImplementedError

    def declare_constraint(self, ctx: ScriptContext, py: str, indexed: bool) -> list[str]:
        return []

    def declare_conditional(self, ctx: ScriptContext, name: str, py: str) -> list[str]:
        """Before the loop of a `when:`/`either:` constraint."""
        return []

    def add_row(self, ctx: ScriptContext, py: str, name: str, key: RowKey, rel: str) -> str:
        raise NotImplementedError

    def add_range(self, ctx: ScriptContext, py: str, name: str, key: RowKey, lo: str, mid: str, hi: str) -> list[str]:
        raise NotImplementedError


# ---------------------------------------------------------------- variables
def _component_names(ctx: ScriptContext, sets: list[str], avoid: set[str]) -> list[list[str]]:
    taken = set(avoid)
    out = []
    for s in sets:
        arity = ctx.set_arity(s)
        if arity == 1:
            base = s[0].lower() if s[:1].isalpha() else "i"
            names = [py_name(base, taken)]
        else:
            names = []
            for k in range(arity):
                names.append(py_name(_TUPLE_NAMES[k % len(_TUPLE_NAMES)], taken))
                taken.add(names[-1])
        taken.update(names)
        out.append(names)
    return out


def variable_spec(ctx: ScriptContext, name: str) -> VarSpec:
    var = ctx.formulation.variables[name]
    sets = var.index or []
    avoid = set(RESERVED) | set(ctx.names.values())
    groups = _component_names(ctx, sets, avoid)
    comps = [c for g in groups for c in g]
    loops = " ".join(f"for {g[0] if len(g) == 1 else '(' + ', '.join(g) + ')'} in {ctx.py(s)}"
                     for g, s in zip(groups, sets, strict=True))
    key = comps[0] if len(comps) == 1 else f"({', '.join(comps)})"
    lower, lower_const = _bound(ctx, name, var.lower, "lower", groups, sets)
    upper, upper_const = _bound(ctx, name, var.upper, "upper", groups, sets)
    if var.type == "binary":
        lower = lower if var.lower not in (None, 0) else "0"
        upper = upper if var.upper is not None else "1"
    return VarSpec(name, ctx.py(name), [ctx.py(s) for s in sets], comps, loops, key, label_text(name, comps),
                   lower, upper, var.type, var.description, lower_const and upper_const)


def _bound(ctx: ScriptContext, var: str, spec, side: str, groups: list[list[str]],
           sets: list[str]) -> tuple[str, bool]:
    """Python source of a bound (per key when it reads an indexed parameter) and whether it is constant."""
    if spec is None:
        return ("0" if side == "lower" else "INF"), True
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return number_text(spec), True
    text = str(spec).strip()
    if text.lower() in ("inf", "+inf", ".inf", "infinity", "none"):
        return "INF", True
    if text.lower() in ("-inf", "-.inf", "-infinity"):
        return "-INF", True
    if ctx.is_param(text):
        data = ctx.param_data(text)
        if data.scalar:
            return ctx.py(text), True
        psets = [s.name for s in data.domain.sets]
        comps = [c for g in groups for c in g]
        if sum(ctx.set_arity(s) for s in psets) != len(comps):
            picked: list[str] = []
            for s in psets:
                picked.extend(groups[sets.index(s)])
            comps = picked
        key = comps[0] if len(comps) == 1 else f"({', '.join(comps)})" if len(comps) > 1 else ""
        default = ctx.param_default(text)
        if default is not None:
            return f"{ctx.py(text)}.get({key}, {number_text(float(default))})", False
        return f"{ctx.py(text)}[{key.strip('()') if len(comps) > 1 else key}]", False
    tr = Translator(ctx, Caps(target="data", quicksum="sum"), f"variable `{var}`", var)
    return unparse(tr.data(parse_expression(text), Scope())), True


# ---------------------------------------------------------------- objective
def objective_lines(ctx: ScriptContext, target: Target) -> list[str]:
    obj = ctx.formulation.objective
    if obj is None:
        return ["# no objective: any feasible point will do"] + target.set_objective(ctx, "0", "minimize", DATA)
    if len(ctx.formulation.objectives()) > 1:
        return _several_objectives(ctx, target)
    tr = Translator(ctx, target.caps, "objective", "objective")
    tree = parse_expression(obj.expr, "objective")
    sign = 1 if obj.sense == "minimize" else -1
    kind = tr.kind(tree, Scope())
    node = tr.quadratic_objective(tree, Scope(), sign) if kind == QUAD and target.caps.quad_wrapper else \
        tr.expr(tree, Scope(), sign)
    expr = unparse(node)
    lines = [f"# objective: {obj.sense} {obj.description}" if obj.description else f"# objective: {obj.sense}"]
    if _squash(expr) != _squash(obj.expr):
        lines.append(f"#   {' '.join(obj.expr.split())}")
    return lines + target.set_objective(ctx, expr, obj.sense, kind)


def _several_objectives(ctx: ScriptContext, target: Target) -> list[str]:
    """`OBJECTIVES = [(sense, expression), ...]`, one per priority (highest first), each the weighted sum of its
    objectives; the first is also set as the model's objective. One priority is a single weighted objective."""
    items = ctx.formulation.objectives()
    priorities = sorted({o.priority or 0 for o in items}, reverse=True)
    levels: list[tuple[int, str, str, int, str]] = []
    for priority in priorities:
        group = [(k, o) for k, o in enumerate(items) if (o.priority or 0) == priority]
        sense = group[0][1].sense
        parts, kind, sources = [], DATA, []
        for k, o in group:
            tr = Translator(ctx, target.caps, f"objective {k + 1}", "objective")
            tree = parse_expression(o.expr, f"objective {k + 1}")
            sign = (1 if sense == "minimize" else -1) * (1 if o.sense == sense else -1)
            kind = max(kind, tr.kind(tree, Scope()))
            text = unparse(tr.expr(tree, Scope(), sign))
            factor = (1.0 if o.weight is None else float(o.weight)) * (1 if o.sense == sense else -1)
            parts.append(text if factor == 1 else f"{number_text(factor)} * ({text})")
            text_source = " ".join(o.expr.split())
            sources.append(text_source if o.weight is None else f"{o.weight} * ({text_source})")
        expr = " + ".join(parts).replace("+ -1 * ", "- ")
        levels.append((priority, sense, expr, kind, " + ".join(sources)))
    if len(levels) == 1:
        priority, sense, expr, kind, source = levels[0]
        return [f"# objective: {sense} (a weighted sum)", f"#   {source}"] + target.set_objective(ctx, expr, sense, kind)
    if any(kind > LIN for *_, kind, _ in levels):
        raise ExportError("several objectives must each be linear to export")
    lines = ["# objectives, highest priority first (lexicographic): each level is optimised with the earlier",
             "# levels held at their optimum", "OBJECTIVES = ["]
    for priority, sense, expr, _, source in levels:
        lines.append(f"    ({sense!r}, {expr}),  # priority {priority}: {source}")
    lines.append("]")
    return lines + target.set_objective(ctx, "OBJECTIVES[0][1]", levels[0][1], LIN)


def _squash(text: str) -> str:
    return "".join(text.split()).replace('"', "'")


# -------------------------------------------------------------- constraints
def constraint_lines(ctx: ScriptContext, target: Target, name: str) -> list[str]:
    item = ctx.formulation.constraint(name)
    form = normalise_constraint(name, item.forall, item.expr, item.when, item.either, item.description)
    py = _constraint_py(ctx, target, name)
    tr = Translator(ctx, target.caps, f"constraint `{name}`", name)
    lines = [f"# {name}: {item.description}" if item.description else f"# {name}"]
    lines += [f"#   {line}" for line in _source_lines(item)]
    if form.forall:
        gens, scope = tr.clauses(form.forall, Scope())
    else:
        gens, scope = [], Scope()
    key = _row_key(name, gens, scope)
    if not form.when and not form.either:
        rows = tr.rows(form.expr, scope)  # type: ignore[arg-type]
        for k in range(len(rows)):
            lines += target.declare_constraint(ctx, py if k == 0 else f"{py}_{k + 1}", bool(gens))
        body = _plain_rows(ctx, target, form, py, key, rows)
    else:
        lines += target.declare_conditional(ctx, name, py)
        body = _conditional_rows(tr, form, key, scope)
    indent = ""
    for gen in gens:
        lines.append(f"{indent}for {unparse(gen.target)} in {unparse(gen.iter)}:")
        indent += "    "
        if gen.ifs:
            cond = gen.ifs[0] if len(gen.ifs) == 1 else ast.BoolOp(ast.And(), gen.ifs)
            lines.append(f"{indent}if {unparse(cond)}:")
            indent += "    "
    lines += [indent + line for line in body]
    return lines


def _source_lines(item) -> list[str]:
    out = []
    if item.forall:
        out.append(f"forall: {' '.join(item.forall.split())}")
    if item.when:
        out.append(f"when: {item.when}")
    if item.expr:
        out.append(f"{'expr: ' if item.forall or item.when else ''}{' '.join(item.expr.split())}")
    for alt in item.either or []:
        out.append(f"either: {' '.join(alt.split())}")
    return out


def _constraint_py(ctx: ScriptContext, target: Target, name: str) -> str:
    taken = set(RESERVED) | set(ctx.formulation.variables) | getattr(target, "model_attributes", set())
    return py_name(name, taken)


def _row_key(name: str, gens: list[ast.comprehension], scope: Scope) -> RowKey:
    if not gens:
        return RowKey(name, [], None)
    parts: list[str] = []
    key_parts: list[str] = []
    for gen in gens:
        for node in ast.walk(gen.target):
            if not isinstance(node, ast.Name):
                continue
            arity = next((b.arity for b in scope.binds.values() if b.py == node.id), 1)
            if arity > 1:
                parts.extend(f"{node.id}[{k}]" for k in range(arity))
                key_parts.append(f"*{node.id}")
            else:
                parts.append(node.id)
                key_parts.append(node.id)
    key = key_parts[0].lstrip("*") if len(key_parts) == 1 else f"({', '.join(key_parts)})"
    return RowKey(name, parts, key)


def _plain_rows(ctx: ScriptContext, target: Target, form: ConstraintForm, py: str, key: RowKey,
                rows: list[Row]) -> list[str]:
    out: list[str] = []
    for k, row in enumerate(rows):
        row_py = py if k == 0 else f"{py}_{k + 1}"
        row_name = form.name if k == 0 else f"{form.name}_{k + 1}"
        if row.trivial:
            out.append(f"pass  # `{row_name}` has no variables here: it always holds")
            continue
        row_key = key.renamed(row_name)
        if row.op == "range":
            out += target.add_range(ctx, row_py, row_name, row_key, unparse(row.lhs), unparse(row.mid),  # type: ignore[arg-type]
                                    unparse(row.rhs))
        else:
            out.append(target.add_row(ctx, row_py, row_name, row_key, unparse(relation(row))))
    return out


def _conditional_rows(tr: Translator, form: ConstraintForm, key: RowKey, scope: Scope) -> list[str]:
    out: list[str] = []
    if form.when is not None:
        binary = unparse(tr.expr(form.when, scope, 0))
        active = 0 if form.when_negated else 1
        assert form.expr is not None
        for row in tr.rows(form.expr, scope):  # type: ignore[arg-type]
            out += _implies(key.label, binary, active, row)
        return out
    k = len(form.either)
    base = key.renamed(form.name + "_pick").label
    if k == 2:
        out.append(f'pick = new_var({base}, 0, 1, "binary")  # 1: the first alternative holds, 0: the second')
        picks = ["pick", "pick"]
        actives = [1, 0]
    else:
        out.append(f'picks = [new_var({base}, 0, 1, "binary") for _ in range({k})]  # 1: that alternative holds')
        picks = [f"picks[{j}]" for j in range(k)]
        actives = [1] * k
    for alt, pick, active in zip(form.either, picks, actives, strict=True):
        for row in tr.rows(alt, scope):  # type: ignore[arg-type]
            out += _implies(key.label, pick, active, row)
    if k > 2:
        out.append(f"add_row({key.label}, sum(picks) >= 1)")
    return out


def _implies(label: str, binary: str, active: int, row: Row) -> list[str]:
    if row.op == "range":
        mid = unparse(row.mid)  # type: ignore[arg-type]
        return [f'implies({label}, {binary}, {active}, {mid}, ">=", {unparse(row.lhs)})',
                f'implies({label}, {binary}, {active}, {mid}, "<=", {unparse(row.rhs)})']
    expr, sense, rhs = difference(row)
    tail = f", {unparse(rhs)}" if rhs is not None else ""
    return [f'implies({label}, {binary}, {active}, {unparse(expr)}, "{sense}"{tail})']
