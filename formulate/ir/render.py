"""Render a formulation as mathematics: Markdown (Unicode math in code spans) or LaTeX.

Sets, parameters (summarised), variables with their domains, the objective and every constraint,
with `forall` as "∀ i ∈ I:", sums as Σ, `when:` as "b = 1 ⇒ ...", `either:` as "∨", data-only
conditionals as cases, and pwl with its breakpoints. Rendering reads the expression trees the
grounder reads; data summaries (counts, ranges, breakpoints) come from grounding the data when it
builds, and fall back to the declarations when it does not.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Literal

from formulate.errors import FormulateError
from formulate.ir.expr import normalise_constraint, parse_expression
from formulate.ir.model import Formulation, Parameter

Format = Literal["markdown", "latex"]
_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class _Style:
    """The symbols of one output format."""

    latex: bool
    forall: str
    in_: str
    not_in: str
    sum: str
    times: str
    le: str
    ge: str
    eq: str
    ne: str
    implies: str
    lor: str
    land: str
    lnot: str
    inf: str
    ellipsis: str


MARKDOWN = _Style(False, "∀", "∈", "∉", "Σ", " · ", " ≤ ", " ≥ ", " = ", " ≠ ", " ⇒ ", " ∨ ", " ∧ ", "¬", "∞", "…")
LATEX = _Style(True, "\\forall", "\\in", "\\notin", "\\sum", " \\cdot ", " \\le ", " \\ge ", " = ", " \\neq ",
               " \\Rightarrow ", " \\lor ", " \\land ", "\\lnot ", "\\infty", "\\ldots")
_CMP = {ast.LtE: "le", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "<", ast.Gt: ">"}


def render(formulation: Formulation, fmt: Format = "markdown") -> str:
    """The model as mathematics in `fmt` ("markdown" or "latex")."""
    if fmt not in ("markdown", "latex"):
        raise FormulateError(f"unknown render format `{fmt}`; use markdown or latex")
    return _Renderer(formulation, LATEX if fmt == "latex" else MARKDOWN).document()


class _Renderer:
    def __init__(self, formulation: Formulation, style: _Style) -> None:
        self.f = formulation
        self.s = style
        self.grounder = _data_grounder(formulation)

    # ------------------------------------------------------------ names
    def name(self, text: str) -> str:
        if not self.s.latex:
            return text
        escaped = text.replace("_", "\\_")
        return escaped if len(text) == 1 else f"\\mathrm{{{escaped}}}"

    def member(self, value: Any) -> str:
        if isinstance(value, tuple):
            return "(" + ", ".join(self.member(v) for v in value) + ")"
        if isinstance(value, str):
            return f"\\text{{{value}}}" if self.s.latex else value
        return str(value)

    def number(self, value: float | int) -> str:
        return _number(value, self.s.inf)

    def math(self, text: str) -> str:
        return f"${text}$" if self.s.latex else f"`{text}`"

    def text(self, text: str) -> str:
        if not self.s.latex:
            return text
        for a, b in (("\\", "\\textbackslash{}"), ("_", "\\_"), ("%", "\\%"), ("&", "\\&"), ("#", "\\#"),
                     ("$", "\\$"), ("{", "\\{"), ("}", "\\}")):
            text = text.replace(a, b)
        return text

    def subscript(self, base: str, parts: list[str], simple: bool) -> str:
        if not parts:
            return base
        if simple and not self.s.latex and "_" not in base:
            return f"{base}_{parts[0]}"
        return f"{base}_{{{','.join(parts)}}}"

    # ------------------------------------------------------- expressions
    def expr(self, node: ast.AST) -> str:
        return self._expr(node)[0]

    def _wrap(self, node: ast.AST, level: int) -> str:
        text, prec = self._expr(node)
        if prec < level:
            return f"\\left({text}\\right)" if self.s.latex else f"({text})"
        return text

    def _expr(self, node: ast.AST) -> tuple[str, int]:
        method = getattr(self, "_r_" + type(node).__name__, None)
        if method is None:
            return (self.text(ast.unparse(node)), _ATOM)
        return method(node)

    def _r_Constant(self, node: ast.Constant) -> tuple[str, int]:
        if isinstance(node.value, bool):
            return (self.text(str(node.value)), _ATOM)
        if isinstance(node.value, int | float):
            return (self.number(node.value), _ATOM)
        return (self.member(node.value), _ATOM)

    def _r_Name(self, node: ast.Name) -> tuple[str, int]:
        if node.id in ("inf", "infinity") and node.id not in self.f.parameters:
            return (self.s.inf, _ATOM)
        return (self.name(node.id), _ATOM)

    def _r_Subscript(self, node: ast.Subscript) -> tuple[str, int]:
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        texts = [self.expr(p) for p in parts]
        simple = len(parts) == 1 and isinstance(parts[0], ast.Name)
        return (self.subscript(self.name(node.value.id), texts, simple), _ATOM)  # type: ignore[attr-defined]

    def _r_Tuple(self, node: ast.Tuple) -> tuple[str, int]:
        return ("(" + ", ".join(self.expr(e) for e in node.elts) + ")", _ATOM)

    def _r_List(self, node: ast.List) -> tuple[str, int]:
        inner = ", ".join(self.expr(e) for e in node.elts)
        return (f"\\{{{inner}\\}}" if self.s.latex else f"{{{inner}}}", _ATOM)

    def _r_UnaryOp(self, node: ast.UnaryOp) -> tuple[str, int]:
        if isinstance(node.op, ast.Not):
            return (self.s.lnot + self._wrap(node.operand, _ATOM), _NEG)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return (sign + self._wrap(node.operand, _NEG), _NEG)

    def _r_BinOp(self, node: ast.BinOp) -> tuple[str, int]:
        op = node.op
        if isinstance(op, ast.Add | ast.Sub):
            right = self._wrap(node.right, _ADD + (1 if isinstance(op, ast.Sub) else 0))
            return (f"{self._wrap(node.left, _ADD)} {'+' if isinstance(op, ast.Add) else '-'} {right}", _ADD)
        if isinstance(op, ast.Mult):
            return (self._wrap(node.left, _MUL) + self.s.times + self._wrap(node.right, _MUL + 1), _MUL)
        if isinstance(op, ast.Div):
            if self.s.latex:
                return (f"\\frac{{{self.expr(node.left)}}}{{{self.expr(node.right)}}}", _ATOM)
            return (f"{self._wrap(node.left, _MUL)} / {self._wrap(node.right, _MUL + 1)}", _MUL)
        if isinstance(op, ast.Pow):
            exponent = self.expr(node.right)
            base = self._wrap(node.left, _ATOM)
            return ((f"{{{base}}}^{{{exponent}}}" if self.s.latex else f"{base}^{exponent}"), _POW)
        if isinstance(op, ast.Mod):
            mod = " \\bmod " if self.s.latex else " mod "
            return (self._wrap(node.left, _MUL) + mod + self._wrap(node.right, _MUL + 1), _MUL)
        floor = self._wrap(node.left, _MUL) + " / " + self._wrap(node.right, _MUL + 1)
        return ((f"\\lfloor {floor} \\rfloor" if self.s.latex else f"⌊{floor}⌋"), _ATOM)

    def _r_BoolOp(self, node: ast.BoolOp) -> tuple[str, int]:
        joiner = self.s.land if isinstance(node.op, ast.And) else self.s.lor
        return (joiner.join(self._wrap(v, _ATOM) if isinstance(v, ast.BoolOp) else self.expr(v) for v in node.values),
                0)

    def _r_Compare(self, node: ast.Compare) -> tuple[str, int]:
        out = self._wrap(node.left, _ADD)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            out += self.comparator(op) + self._wrap(comp, _ADD)
        return (out, 0)

    def comparator(self, op: ast.cmpop) -> str:
        if isinstance(op, ast.In):
            return f" {self.s.in_} "
        if isinstance(op, ast.NotIn):
            return f" {self.s.not_in} "
        key = _CMP[type(op)]
        return getattr(self.s, key) if key in ("le", "ge", "eq", "ne") else f" {key} "

    def _r_IfExp(self, node: ast.IfExp) -> tuple[str, int]:
        body, test, orelse = self.expr(node.body), self.expr(node.test), self.expr(node.orelse)
        if self.s.latex:
            return (f"\\begin{{cases}} {body} & \\text{{if }} {test} \\\\ {orelse} & \\text{{otherwise}} "
                    "\\end{cases}", _ATOM)
        return (f"{{{body} if {test}; {orelse} otherwise}}", _ATOM)

    # ------------------------------------------------------------- calls
    def binders(self, generators: list[ast.comprehension], condition_sep: str = " : ") -> str:
        parts, conditions = [], []
        for gen in generators:
            parts.append(f"{self.expr(gen.target)} {self.s.in_} {self.domain(gen.iter)}")
            conditions += [self.expr(c) for c in gen.ifs]
        text = ", ".join(parts)
        if conditions:
            joined = self.s.land.join(conditions)
            text += (condition_sep if not self.s.latex else ", ") + joined
        return text

    def domain(self, node: ast.AST) -> str:
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "range":
            return self.range_text(node.args)
        return self.expr(node)

    def range_text(self, args: list[ast.expr]) -> str:
        lo = self.expr(args[0]) if len(args) == 2 else "0"
        stop = args[-1]
        if isinstance(stop, ast.Constant) and isinstance(stop.value, int):
            hi = str(stop.value - 1)
        elif isinstance(stop, ast.BinOp) and isinstance(stop.op, ast.Add) and \
                isinstance(stop.right, ast.Constant) and stop.right.value == 1:
            hi = self.expr(stop.left)  # range(1, n + 1) is 1..n
        else:
            hi = f"{self._wrap(stop, _ADD)} - 1"
        inner = f"{lo}, {self.s.ellipsis}, {hi}"
        return f"\\{{{inner}\\}}" if self.s.latex else f"{{{inner}}}"

    def _r_Call(self, node: ast.Call) -> tuple[str, int]:
        name = node.func.id  # type: ignore[attr-defined]
        gen = node.args[0] if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp) \
            else None
        if name == "sum":
            if gen is None:
                return (" + ".join(self._wrap(a, _ADD) for a in node.args), _ADD)
            body = self._wrap(gen.elt, _MUL)
            return (f"{self.s.sum}_{{{self.binders(gen.generators)}}} {body}", _ADD)
        if name in ("min", "max"):
            op = f"\\{name}" if self.s.latex else name
            if gen is not None:
                return (f"{op}_{{{self.binders(gen.generators)}}} {self._wrap(gen.elt, _MUL)}", _ADD)
            return (self.call_text(op, [self.expr(a) for a in _plain_args(node)]), _ATOM)
        if name == "abs":
            inner = self.expr(node.args[0])
            return ((f"\\left|{inner}\\right|" if self.s.latex else f"|{inner}|"), _ATOM)
        if name == "sqrt":
            inner = self.expr(node.args[0])
            return ((f"\\sqrt{{{inner}}}" if self.s.latex else f"√({inner})"), _ATOM)
        if name in ("exp", "log"):
            op = ("\\exp" if name == "exp" else "\\ln") if self.s.latex else name
            return (self.call_text(op, [self.expr(node.args[0])]), _ATOM)
        if name == "len":
            return (f"|{self.expr(node.args[0])}|", _ATOM)
        if name == "range":
            return (self.range_text(node.args), _ATOM)
        if name == "pwl":
            return (self.pwl_text(node), _ATOM)
        args = [self.expr(a) for a in node.args] + [self.text("wrap") for kw in node.keywords if kw.arg == "wrap"]
        op = f"\\operatorname{{{name}}}" if self.s.latex else name
        return (self.call_text(op, args), _ATOM)

    def call_text(self, op: str, args: list[str]) -> str:
        inner = ", ".join(args)
        return f"{op}\\left({inner}\\right)" if self.s.latex else f"{op}({inner})"

    def pwl_text(self, node: ast.Call) -> str:
        x, xs, ys = node.args
        points = _breakpoints(self.grounder, xs), _breakpoints(self.grounder, ys)
        op = "\\operatorname{pwl}" if self.s.latex else "pwl"
        if points[0] is not None and points[1] is not None and len(points[0]) == len(points[1]):
            pairs = ", ".join(f"({self.number(a)}, {self.number(b)})" for a, b in zip(*points, strict=True))
            return self.call_text(op, [f"{self.expr(x)}; {pairs}"])
        return self.call_text(op, [self.expr(x), self.expr(xs), self.expr(ys)])

    # ---------------------------------------------------------- sections
    def document(self) -> str:
        sections = [("Sets", self.sets()), ("Parameters", self.parameters()), ("Variables", self.variables()),
                    ("Objective", self.objective()), ("Constraints", self.constraints())]
        if self.s.latex:
            out = [f"\\section*{{{self.text(self.f.name)}}}"]
            if self.f.description:
                out.append(self.text(self.f.description.strip()))
            for title, items in sections:
                if items:
                    out.append(f"\\subsection*{{{title}}}\n\\begin{{itemize}}\n" +
                               "\n".join(f"  \\item {item}" for item in items) + "\n\\end{itemize}")
            return "\n\n".join(out) + "\n"
        out = [f"# {self.f.name}"]
        if self.f.description:
            out.append(self.f.description.strip())
        for title, items in sections:
            if items:
                out.append(f"## {title}\n\n" + "\n".join(f"- {item}" for item in items))
        return "\n\n".join(out) + "\n"

    def sets(self) -> list[str]:
        out = []
        for name, spec in self.f.sets.items():
            out.append(self.math(f"{self.name(name)} = {self.set_text(name, spec)}"))
        return out

    def set_text(self, name: str, spec: Any) -> str:
        if isinstance(spec, list):
            return self.braces([self.member(tuple(m) if isinstance(m, list) else m) for m in spec])
        try:
            tree = parse_expression(str(spec), f"set `{name}`")
        except FormulateError:
            return self.text(str(spec))
        if isinstance(tree, ast.SetComp | ast.ListComp | ast.GeneratorExp):
            inner = f"{self.expr(tree.elt)} : {self.binders(tree.generators, ', ')}"
            return f"\\{{{inner}\\}}" if self.s.latex else f"{{{inner}}}"
        return self.expr(tree)

    def braces(self, items: list[str], limit: int = 8) -> str:
        if len(items) > limit:
            items = items[: limit - 2] + [self.s.ellipsis, items[-1]]
        inner = ", ".join(items)
        return f"\\{{{inner}\\}}" if self.s.latex else f"{{{inner}}}"

    def index_names(self, sets: list[str]) -> list[list[str]]:
        """Index names per set: one letter from the set's name, or i, j, ... for the parts of tuple members."""
        taken: set[str] = set(self.f.parameters) | set(self.f.variables) | set(self.f.sets)
        out = []
        for s in sets:
            arity = _arity(self.grounder, s)
            bases = [s[0].lower() if s[:1].isalpha() else "i"] if arity == 1 else list("ijklmn"[:arity])
            names = []
            for base in bases:
                candidate, k = base, 1
                while candidate in taken:
                    k += 1
                    candidate = f"{base}{k}"
                taken.add(candidate)
                names.append(candidate)
            out.append(names)
        return out

    def over(self, sets: list[str]) -> tuple[str, str]:
        """Index text (`p,m`) and its range (`p ∈ Plants, m ∈ Markets`) for an item over `sets`."""
        groups = self.index_names(sets)
        ranges = ", ".join(f"{g[0] if len(g) == 1 else '(' + ', '.join(g) + ')'} {self.s.in_} {self.name(s)}"
                           for g, s in zip(groups, sets, strict=True))
        return ",".join(n for g in groups for n in g), ranges

    def parameters(self) -> list[str]:
        out = []
        for name, spec in self.f.parameters.items():
            if isinstance(spec, int | float):
                out.append(self.math(f"{self.name(name)} = {self.number(spec)}"))
            elif isinstance(spec, str):
                out.append(self.derived_parameter(name, spec))
            else:
                out.append(self.table(name, spec))
        return out

    def derived_parameter(self, name: str, text: str) -> str:
        try:
            tree = parse_expression(text, f"parameter `{name}`")
        except FormulateError:
            return self.math(f"{self.name(name)} = {self.text(text)}")
        if isinstance(tree, ast.DictComp):
            keys = tree.key.elts if isinstance(tree.key, ast.Tuple) else [tree.key]
            head = self.subscript(self.name(name), [self.expr(k) for k in keys], len(keys) == 1)
            return self.math(f"{head} = {self.expr(tree.value)}") + " for " + \
                self.math(self.binders(tree.generators))
        if isinstance(tree, ast.Name) and tree.id not in self.f.parameters and tree.id not in self.f.sets:
            return self.math(f"{self.name(name)} = {self.member(tree.id)}")
        return self.math(f"{self.name(name)} = {self.expr(tree)}")

    def table(self, name: str, spec: Parameter) -> str:
        sets = spec.index or []
        if not sets:
            value = spec.values
            shown = self.number(value) if isinstance(value, int | float) else self.member(value)
            return self.math(f"{self.name(name)} = {shown}")
        index, ranges = self.over(sets)
        head = self.math(self.subscript(self.name(name), index.split(","), "," not in index) + f", {ranges}")
        notes = [_summary(self.grounder, name, self.s)]
        if spec.default is not None:
            notes.append(f"default {spec.default}")
        if spec.file:
            notes.append(f"from {self.text(spec.file)}")
        if spec.description:
            notes.append(self.text(spec.description))
        notes = [n for n in notes if n]
        return head + (": " + "; ".join(notes) if notes else "")

    def variables(self) -> list[str]:
        out = []
        for name, var in self.f.variables.items():
            sets = var.index or []
            index, ranges = self.over(sets)
            symbol = self.subscript(self.name(name), index.split(",") if sets else [], "," not in index)
            domain = {"continuous": "\\mathbb{R}" if self.s.latex else "ℝ",
                      "integer": "\\mathbb{Z}" if self.s.latex else "ℤ",
                      "binary": "\\{0, 1\\}" if self.s.latex else "{0, 1}"}[var.type]
            text = f"{symbol} {self.s.in_} {domain}"
            if var.type != "binary":
                lower = self.bound(var.lower, "0", sets, index)
                upper = self.bound(var.upper, None, sets, index)
                if lower is not None and upper is not None:
                    text += f", {lower}{self.s.le}{symbol}{self.s.le}{upper}"
                elif lower is not None:
                    text += f", {symbol}{self.s.ge}{lower}"
                elif upper is not None:
                    text += f", {symbol}{self.s.le}{upper}"
            if sets:
                text += (f", \\quad {self.s.forall} {ranges}" if self.s.latex else f"  {self.s.forall} {ranges}")
            item = self.math(text)
            if var.description:
                item += f": {self.text(var.description)}"
            out.append(item)
        return out

    def bound(self, value: Any, default: str | None, sets: list[str], index: str) -> str | None:
        """A bound as text; an indexed parameter is shown at the variable's indices (its own sets' ones)."""
        if value is None:
            return default
        if isinstance(value, int | float):
            return None if value in (float("inf"), float("-inf")) else self.number(value)
        text = str(value).strip()
        if text.lower().lstrip("+-.") in ("inf", "infinity"):
            return None
        if not text.isidentifier():
            return self.text(text)
        spec = self.f.parameters.get(text)
        own = spec.index if isinstance(spec, Parameter) and spec.index else []
        if not own or not sets:
            return self.name(text)
        names = index.split(",")
        if len(own) != len(sets) and all(s in sets for s in own):
            groups = self.index_names(sets)
            names = [n for s in own for n in groups[sets.index(s)]]
        return self.subscript(self.name(text), names, len(names) == 1)

    def objective(self) -> list[str]:
        items = self.f.objectives()
        out = []
        for obj in items:
            word = ("\\min" if obj.sense == "minimize" else "\\max") if self.s.latex else obj.sense
            try:
                body = self.expr(parse_expression(obj.expr, "objective"))
            except FormulateError:
                body = self.text(obj.expr)
            item = self.math(f"{word}\\ {body}" if self.s.latex else f"{word} {body}")
            notes = [f"priority {obj.priority}" if obj.priority is not None else "",
                     f"weight {obj.weight}" if obj.weight is not None else ""]
            note = ", ".join(n for n in notes if n)
            item += f" ({self.text(note)})" if note and len(items) > 1 else ""
            out.append(item + (f": {self.text(obj.description)}" if obj.description else ""))
        return out

    def constraints(self) -> list[str]:
        out = []
        for name in self.f.constraints:
            item = self.f.constraint(name)
            label = f"\\textbf{{{self.text(name)}}}" if self.s.latex else f"**{name}**"
            try:
                form = normalise_constraint(name, item.forall, item.expr, item.when, item.either, item.description)
                text = self.constraint_text(form)
            except FormulateError:
                text = self.text(item.expr or "; ".join(item.either or []))
            line = f"{label}: {self.math(text)}"
            if item.description:
                line += f": {self.text(item.description)}"
            out.append(line)
        return out

    def constraint_text(self, form) -> str:
        if form.either:
            body = self.s.lor.join(self.expr(alt) for alt in form.either)
        else:
            body = self.expr(form.expr)
        if form.when is not None:
            body = f"{self.expr(form.when)}{self.s.eq}{0 if form.when_negated else 1}{self.s.implies}{body}"
        if form.forall:
            sep = ":\\ " if self.s.latex else ": "
            body = f"{self.s.forall} {self.binders(form.forall, ', ')}{sep}{body}"
        return body


def _plain_args(node: ast.Call) -> list[ast.expr]:
    if len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple):
        return list(node.args[0].elts)
    return list(node.args)


def _data_grounder(formulation: Formulation):
    """A grounder whose sets and parameters build (for summaries), or None."""
    from formulate.ir.ground import Grounder

    try:
        grounder = Grounder(formulation)
        for name in formulation.sets:
            grounder.get_set(name)
        return grounder
    except Exception:  # noqa: BLE001 - rendering never fails on data it cannot build
        return None


def _arity(grounder, name: str) -> int:
    if grounder is None:
        return 1
    try:
        data = grounder.get_set(name)
    except Exception:  # noqa: BLE001
        return 1
    return data.arity if data is not None else 1


def _param(grounder, name: str):
    if grounder is None:
        return None
    try:
        return grounder.get_param(name)
    except Exception:  # noqa: BLE001
        return None


def _summary(grounder, name: str, style: _Style) -> str:
    data = _param(grounder, name)
    if data is None:
        return ""
    given = int(data.present.sum())
    if data.is_member:
        return f"{given} entries (set members)"
    if given == 0:
        return "no entries given"
    values = data.values[data.present]
    lo, hi = _number(float(values.min()), style.inf), _number(float(values.max()), style.inf)
    shown = lo if lo == hi else f"{lo} to {hi}"
    return f"{given} value{'s' if given != 1 else ''}, {shown}"


def _number(value: float | int, inf: str) -> str:
    if isinstance(value, float):
        if value in (float("inf"), float("-inf")):
            return ("-" if value < 0 else "") + inf
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    return repr(value)


def _breakpoints(grounder, node: ast.expr) -> list[float] | None:
    if isinstance(node, ast.List | ast.Tuple):
        values = []
        for e in node.elts:
            try:
                values.append(float(ast.literal_eval(e)))
            except (ValueError, TypeError, SyntaxError):
                return None
        return values
    if isinstance(node, ast.Name):
        data = _param(grounder, node.id)
        if data is not None and len(data.domain.sets) == 1 and not data.is_member and data.present.all():
            return [float(v) for v in data.values]
    return None


__all__ = ["render"]
