"""Translate expression trees of the formulation language into Python trees of an exported script.

The script's data are dicts and lists named as in the formulation, so most of the language is
already Python: subscripts, arithmetic, comparisons, conditionals and generators translate node by
node. What is not: `sum` over variables (the target's quicksum), min/max/abs of variables and `pwl`
(helper calls that add auxiliary variables and rows), exp/log/sqrt of variables (the target's
nonlinear functions), ord/prev/next (small helpers emitted in the script), subscripts of a
parameter with a default (`.get`), and keys built from tuple members (flattened).

Two static analyses drive it, both mirroring the grounder: the *kind* of a subexpression (data,
linear, quadratic or nonlinear) and the *sign* with which it enters a minimisation, which decides
whether min/max/abs/pwl sit in a convex position (an epigraph) or need binaries.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from formulate.codegen.common import RESERVED, ExportError, ScriptContext, call, const, py_name
from formulate.ir.products import linearizable as _linearizable

DATA, LIN, QUAD, NL = 0, 1, 2, 3
_KIND_TEXT = {QUAD: "quadratic", NL: "nonlinear"}
_MATH = ("exp", "log", "sqrt")


@dataclass(frozen=True)
class Binding:
    """An index bound by a loop: its Python name, the set it iterates (for ord/prev/next), its arity."""

    py: str
    members: ast.expr | None = None
    arity: int = 1


@dataclass
class Caps:
    """What a target can express in expressions, and how it spells sums and nonlinear functions."""

    target: str
    quicksum: str
    quadratic_objective: bool = True
    quadratic_rows: bool = True
    nonlinear: bool = True
    math_prefix: str = "math."  # prefix of exp/log/sqrt applied to variables
    wrap_nonlinear: bool = False  # gurobipy: each nonlinear term becomes nl(...), a variable
    quad_wrapper: str | None = None  # highspy: variables of a quadratic objective wrapped in Q(...)
    alternative: str = "pyomo"
    linear_products: bool = False  # products with a binary factor become product(...) rows (pulp, highspy)


@dataclass
class Row:
    """One row of a constraint: `lhs op rhs`, or `lo <= mid <= hi` when `op` is 'range'."""

    op: str  # '<=', '>=', '==', 'range'
    lhs: ast.expr
    rhs: ast.expr
    mid: ast.expr | None = None
    shift: float = 0.0  # strict rows: `lhs - rhs <= -1` / `>= 1`
    trivial: bool = False  # no variables at all
    rhs_data: bool = False  # the right side is data


@dataclass
class Scope:
    """Bindings in force: formulation index name -> Binding."""

    binds: dict[str, Binding] = field(default_factory=dict)

    def with_(self, name: str, binding: Binding) -> Scope:
        return Scope({**self.binds, name: binding})


class Translator:
    """Translates the trees of one place (the objective or a constraint) for one target."""

    def __init__(self, ctx: ScriptContext, caps: Caps, where: str, label: str) -> None:
        self.ctx = ctx
        self.caps = caps
        self.where = where  # "objective" or "constraint `c`"
        self.label = label  # the string passed to helpers as a name
        self.in_objective = where == "objective"
        self._quad_mode = False
        self._inside_nl = False
        # a model whose every product has a binary factor and a bounded other factor is linear here
        self.products = caps.linear_products and getattr(ctx, "problem", None) is not None and \
            _linearizable(ctx.problem)

    # ------------------------------------------------------------ bindings
    def index_name(self, name: str) -> str:
        taken = set(RESERVED) | set(self.ctx.names.values())
        return py_name(name, taken) if name in taken else name

    def clauses(self, generators: list[ast.comprehension], scope: Scope) -> tuple[list[ast.comprehension], Scope]:
        """Comprehension clauses with their bindings; filters are data."""
        out = []
        for gen in generators:
            iter_node = self.iterable(gen.iter, scope)
            target, scope = self.bind_target(gen.target, gen.iter, iter_node, scope)
            ifs = [self.data(cond, scope) for cond in gen.ifs]
            out.append(ast.comprehension(target, iter_node, ifs, 0))
        return out, scope

    def iterable(self, node: ast.expr, scope: Scope) -> ast.expr:
        if isinstance(node, ast.Name) and self.ctx.is_set(node.id) and node.id not in scope.binds:
            return ast.Name(self.ctx.py(node.id), ast.Load())
        return self.data(node, scope)

    def bind_target(self, target: ast.expr, iter_src: ast.expr, iter_node: ast.expr,
                    scope: Scope) -> tuple[ast.expr, Scope]:
        if isinstance(target, ast.Name):
            arity = 1
            if isinstance(iter_src, ast.Name) and self.ctx.is_set(iter_src.id):
                arity = self.ctx.set_arity(iter_src.id)
            binding = Binding(self.index_name(target.id), iter_node, arity)
            return ast.Name(binding.py, ast.Store()), scope.with_(target.id, binding)
        assert isinstance(target, ast.Tuple | ast.List)
        elts = []
        for elt in target.elts:
            node, scope = self.bind_target(elt, ast.Constant(None), ast.Constant(None), scope)
            elts.append(node)
        cleaned = Scope({k: (Binding(v.py, None, v.arity) if isinstance(v.members, ast.Constant) else v)
                         for k, v in scope.binds.items()})
        return ast.Tuple(elts, ast.Store()), cleaned

    # ------------------------------------------------------------- analyses
    def kind(self, node: ast.AST, scope: Scope) -> int:
        """DATA, LIN, QUAD or NL: how the expression depends on variables."""
        if isinstance(node, ast.Name):
            return LIN if node.id not in scope.binds and self.ctx.is_var(node.id) else DATA
        if isinstance(node, ast.Subscript):
            name = node.value.id  # type: ignore[attr-defined]
            return LIN if name not in scope.binds and self.ctx.is_var(name) else DATA
        if isinstance(node, ast.UnaryOp):
            return DATA if isinstance(node.op, ast.Not) else self.kind(node.operand, scope)
        if isinstance(node, ast.BinOp):
            return self._binop_kind(node, scope)
        if isinstance(node, ast.IfExp):
            return max(self.kind(node.body, scope), self.kind(node.orelse, scope))
        if isinstance(node, ast.Call):
            return self._call_kind(node, scope)
        return DATA

    def _binop_kind(self, node: ast.BinOp, scope: Scope) -> int:
        a, b = self.kind(node.left, scope), self.kind(node.right, scope)
        op = node.op
        if isinstance(op, ast.Add | ast.Sub):
            return max(a, b)
        if isinstance(op, ast.Mult):
            if a == DATA or b == DATA:
                return max(a, b)
            if a == LIN and b == LIN:
                return LIN if self.products else QUAD
            return NL
        if isinstance(op, ast.Div):
            return a if b == DATA else NL
        if isinstance(op, ast.Pow):
            if a == DATA:
                return DATA if b == DATA else NL
            p = node.right.value if isinstance(node.right, ast.Constant) else None
            if p == 1:
                return a
            if p == 0:
                return DATA
            if p == 2 and a == LIN:
                return LIN if self.products else QUAD
            return NL
        return DATA

    def _call_kind(self, node: ast.Call, scope: Scope) -> int:
        name = node.func.id  # type: ignore[attr-defined]
        parts = self._arg_kinds(node, scope)
        if name == "sum":
            return max(parts, default=DATA)
        if name in ("min", "max", "abs"):
            top = max(parts, default=DATA)
            if top == DATA:
                return DATA
            return LIN if top == LIN else NL
        if name in _MATH:
            return DATA if max(parts, default=DATA) == DATA else NL
        if name == "pwl":
            return LIN if self.kind(node.args[0], scope) != DATA else DATA
        return DATA

    def _arg_kinds(self, node: ast.Call, scope: Scope) -> list[int]:
        if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
            gen = node.args[0]
            inner = scope
            for clause in gen.generators:
                inner = self._bind_names(clause.target, inner)
            return [self.kind(gen.elt, inner)]
        args = node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], ast.List) else node.args
        return [self.kind(a, scope) for a in args]

    def _bind_names(self, target: ast.expr, scope: Scope) -> Scope:
        if isinstance(target, ast.Name):
            return scope.with_(target.id, Binding(target.id))
        for elt in getattr(target, "elts", []):
            scope = self._bind_names(elt, scope)
        return scope

    def data_sign(self, node: ast.AST, scope: Scope) -> int:
        """+1 if the data expression is surely >= 0, -1 if surely <= 0, 0 if unknown."""
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return 1 if node.value >= 0 else -1
        if isinstance(node, ast.Name):
            if node.id in scope.binds:
                return 0
            if self.ctx.is_param(node.id):
                return self.ctx.param_sign(node.id)
            return 1 if node.id in ("inf", "infinity") else 0
        if isinstance(node, ast.Subscript):
            name = node.value.id  # type: ignore[attr-defined]
            return self.ctx.param_sign(name) if self.ctx.is_param(name) and name not in scope.binds else 0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.data_sign(node.operand, scope)
        if isinstance(node, ast.BinOp):
            a, b = self.data_sign(node.left, scope), self.data_sign(node.right, scope)
            if isinstance(node.op, ast.Add):
                return a if a == b else 0
            if isinstance(node.op, ast.Sub):
                return a if a == -b else 0
            if isinstance(node.op, ast.Mult | ast.Div):
                return a * b
            if isinstance(node.op, ast.Pow):
                return 1 if a == 1 else 0
            return 0
        if isinstance(node, ast.IfExp):
            a, b = self.data_sign(node.body, scope), self.data_sign(node.orelse, scope)
            return a if a == b else 0
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]
            if name in ("len", "ord", "abs", "exp", "sqrt"):
                return 1
            if name in ("sum", "min", "max"):
                if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
                    gen = node.args[0]
                    inner = scope
                    for clause in gen.generators:
                        inner = self._bind_names(clause.target, inner)
                    return self.data_sign(gen.elt, inner)
                signs = {self.data_sign(a, scope) for a in node.args}
                return signs.pop() if len(signs) == 1 else 0
        return 0

    # ----------------------------------------------------------------- data
    def data(self, node: ast.AST, scope: Scope) -> ast.expr:
        """A data-only expression as Python."""
        method = getattr(self, "_data_" + type(node).__name__, None)
        if method is None:
            raise ExportError(f"{self.where}: cannot export `{ast.unparse(node)}`")
        return method(node, scope)

    def _data_Constant(self, node: ast.Constant, scope: Scope) -> ast.expr:
        return ast.Constant(node.value)

    def _data_Name(self, node: ast.Name, scope: Scope) -> ast.expr:
        if node.id in scope.binds:
            return ast.Name(scope.binds[node.id].py, ast.Load())
        if node.id in ("inf", "infinity") and node.id not in self.ctx.names:
            return ast.Name("INF", ast.Load())
        return ast.Name(self.ctx.py(node.id), ast.Load())

    def _data_Subscript(self, node: ast.Subscript, scope: Scope) -> ast.expr:
        name = node.value.id  # type: ignore[attr-defined]
        key = self.key(node, scope)
        default = self.ctx.param_default(name) if self.ctx.is_param(name) else None
        base = ast.Name(self.ctx.py(name), ast.Load())
        if default is not None:
            value = const(default) if not isinstance(default, str) else ast.Constant(default)
            return ast.Call(ast.Attribute(base, "get", ast.Load()), [key, value], [])
        return ast.Subscript(base, key, ast.Load())

    def key(self, node: ast.Subscript, scope: Scope) -> ast.expr:
        """The dict key of a subscript: one part as is, several as a tuple, tuple members flattened."""
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        translated = [self.data(p, scope) for p in parts]
        if len(parts) == 1:
            return translated[0]
        elts: list[ast.expr] = []
        for p, t in zip(parts, translated, strict=True):
            elts.append(ast.Starred(t, ast.Load()) if self.arity(p, scope) > 1 else t)
        return ast.Tuple(elts, ast.Load())

    def arity(self, node: ast.AST, scope: Scope) -> int:
        if isinstance(node, ast.Name) and node.id in scope.binds:
            return scope.binds[node.id].arity
        if isinstance(node, ast.Tuple):
            return sum(self.arity(e, scope) for e in node.elts)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("first", "last") and node.args \
                and isinstance(node.args[0], ast.Name) and self.ctx.is_set(node.args[0].id):
            return self.ctx.set_arity(node.args[0].id)
        return 1

    def _data_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> ast.expr:
        return ast.UnaryOp(node.op, self.data(node.operand, scope))

    def _data_BinOp(self, node: ast.BinOp, scope: Scope) -> ast.expr:
        return ast.BinOp(self.data(node.left, scope), node.op, self.data(node.right, scope))

    def _data_BoolOp(self, node: ast.BoolOp, scope: Scope) -> ast.expr:
        return ast.BoolOp(node.op, [self.data(v, scope) for v in node.values])

    def _data_Compare(self, node: ast.Compare, scope: Scope) -> ast.expr:
        comparators = []
        for op, comp in zip(node.ops, node.comparators, strict=True):
            comparators.append(self.iterable(comp, scope) if isinstance(op, ast.In | ast.NotIn) else
                               self.data(comp, scope))
        return ast.Compare(self.data(node.left, scope), list(node.ops), comparators)

    def _data_IfExp(self, node: ast.IfExp, scope: Scope) -> ast.expr:
        return ast.IfExp(self.data(node.test, scope), self.data(node.body, scope), self.data(node.orelse, scope))

    def _data_Tuple(self, node: ast.Tuple, scope: Scope) -> ast.expr:
        return ast.Tuple([self.data(e, scope) for e in node.elts], ast.Load())

    def _data_List(self, node: ast.List, scope: Scope) -> ast.expr:
        return ast.List([self.data(e, scope) for e in node.elts], ast.Load())

    def _data_GeneratorExp(self, node: ast.GeneratorExp, scope: Scope) -> ast.expr:
        gens, inner = self.clauses(node.generators, scope)
        return ast.GeneratorExp(self.data(node.elt, inner), gens)

    def _data_ListComp(self, node: ast.ListComp, scope: Scope) -> ast.expr:
        gens, inner = self.clauses(node.generators, scope)
        return ast.ListComp(self.data(node.elt, inner), gens)

    def _data_Call(self, node: ast.Call, scope: Scope) -> ast.expr:
        name = node.func.id  # type: ignore[attr-defined]
        if name in ("sum", "min", "max"):
            if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
                gens, inner = self.clauses(node.args[0].generators, scope)
                return call(name, ast.GeneratorExp(self.data(node.args[0].elt, inner), gens))
            args = self._plain_args(node)
            if name == "sum":
                return self._add_all([self.data(a, scope) for a in args])
            return call(name, *[self.data(a, scope) for a in args])
        if name == "abs":
            return call("abs", self.data(node.args[0], scope))
        if name in _MATH:
            return call("math." + name, self.data(node.args[0], scope))
        if name == "len":
            return call("len", self.iterable(node.args[0], scope))
        if name in ("first", "last"):
            index = const(0) if name == "first" else const(-1)
            return ast.Subscript(self.iterable(node.args[0], scope), index, ast.Load())
        if name in ("ord", "prev", "next"):
            return self._position_call(node, scope)
        if name == "range":
            return call("range", *[self.data(a, scope) for a in node.args])
        if name == "pwl":
            x, xs, ys = node.args
            return call("interpolate", self.data(x, scope), self.breakpoints(xs, scope), self.breakpoints(ys, scope))
        raise ExportError(f"{self.where}: cannot export `{ast.unparse(node)}`")

    def _plain_args(self, node: ast.Call) -> list[ast.expr]:
        if len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple):
            return list(node.args[0].elts)
        return list(node.args)

    @staticmethod
    def _add_all(items: list[ast.expr]) -> ast.expr:
        if not items:
            return ast.Constant(0)
        total = items[0]
        for item in items[1:]:
            total = ast.BinOp(total, ast.Add(), item)
        return total

    def _position_call(self, node: ast.Call, scope: Scope) -> ast.expr:
        name = node.func.id  # type: ignore[attr-defined]
        index = node.args[0]
        members = self._members_of(index, scope)
        item = self.data(index, scope)
        if name == "ord":
            return call("position", members, item)
        args = [members, item] + [self.data(a, scope) for a in node.args[1:]]
        keywords = {kw.arg: self.data(kw.value, scope) for kw in node.keywords if kw.arg}
        return call("prev_member" if name == "prev" else "next_member", *args, **keywords)

    def _members_of(self, index: ast.expr, scope: Scope) -> ast.expr:
        """The ordered set an index moves in (the set it is bound to, or the set of first/last/prev/next)."""
        if isinstance(index, ast.Name) and index.id in scope.binds and scope.binds[index.id].members is not None:
            return scope.binds[index.id].members  # type: ignore[return-value]
        if isinstance(index, ast.Call) and getattr(index.func, "id", "") in ("first", "last", "prev", "next"):
            inner = index.args[0]
            if getattr(index.func, "id", "") in ("first", "last"):
                return self.iterable(inner, scope)
            return self._members_of(inner, scope)
        raise ExportError(f"{self.where}: `{ast.unparse(index)}` is not an index bound to a set, so its "
                          "position is not defined")

    def breakpoints(self, node: ast.expr, scope: Scope) -> ast.expr:
        """pwl breakpoints: a one-set parameter as a list in set order, or a literal list."""
        if isinstance(node, ast.Name) and self.ctx.is_param(node.id):
            sets = self.ctx.param_index(node.id)
            k = self.index_name("b")
            sub = ast.Subscript(ast.Name(node.id, ast.Load()), ast.Name(k, ast.Load()), ast.Load())
            comp = ast.comprehension(ast.Name(k, ast.Store()), ast.Name(self.ctx.py(sets[0]), ast.Load()), [], 0)
            inner = scope.with_(k, Binding(k))
            return ast.ListComp(self._data_Subscript(sub, inner), [comp])
        return self.data(node, scope)

    # ---------------------------------------------------------------- model
    def expr(self, node: ast.expr, scope: Scope, sign: int) -> ast.expr:
        """A model expression (it may contain variables); `sign` is its sign in a minimisation."""
        k = self.kind(node, scope)
        if k == DATA:
            return self.data(node, scope)
        if k >= QUAD:
            self._check_capability(node, scope, k)
            if k == NL and self.caps.wrap_nonlinear and not self._inside_nl and self._nonlinear_op(node, scope):
                self._inside_nl = True
                try:
                    inner = self._expr(node, scope, sign)
                finally:
                    self._inside_nl = False
                return call("nl", ast.Constant(self.label), inner)
        return self._expr(node, scope, sign)

    def _nonlinear_op(self, node: ast.expr, scope: Scope) -> bool:
        """Whether the node itself is the nonlinear operation (not a sum of nonlinear terms)."""
        if isinstance(node, ast.Call):
            return getattr(node.func, "id", "") in _MATH
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Mult):
                return self.kind(node.left, scope) != DATA and self.kind(node.right, scope) != DATA
            if isinstance(node.op, ast.Div):
                return self.kind(node.right, scope) != DATA
            return isinstance(node.op, ast.Pow)
        return False

    def quadratic_objective(self, node: ast.expr, scope: Scope, sign: int) -> ast.expr:
        """The objective with each variable wrapped (highspy builds a quadratic objective this way)."""
        self._quad_mode = True
        try:
            return self.expr(node, scope, sign)
        finally:
            self._quad_mode = False

    def _expr(self, node: ast.expr, scope: Scope, sign: int) -> ast.expr:
        if isinstance(node, ast.Name):
            return self._wrap(ast.Name(self.ctx.py(node.id), ast.Load()))
        if isinstance(node, ast.Subscript):
            base = ast.Name(self.ctx.py(node.value.id), ast.Load())  # type: ignore[attr-defined]
            return self._wrap(ast.Subscript(base, self.key(node, scope), ast.Load()))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return ast.UnaryOp(ast.USub(), self.expr(node.operand, scope, -sign))
            return self.expr(node.operand, scope, sign)
        if isinstance(node, ast.BinOp):
            return self._binop(node, scope, sign)
        if isinstance(node, ast.IfExp):
            return ast.IfExp(self.data(node.test, scope), self.expr(node.body, scope, sign),
                             self.expr(node.orelse, scope, sign))
        if isinstance(node, ast.Call):
            return self._call(node, scope, sign)
        raise ExportError(f"{self.where}: cannot export `{ast.unparse(node)}`")

    def _wrap(self, node: ast.expr) -> ast.expr:
        if self._quad_mode and self.caps.quad_wrapper:
            return call(self.caps.quad_wrapper, node)
        return node

    def _binop(self, node: ast.BinOp, scope: Scope, sign: int) -> ast.expr:
        op = node.op
        if isinstance(op, ast.Add):
            return ast.BinOp(self.expr(node.left, scope, sign), op, self.expr(node.right, scope, sign))
        if isinstance(op, ast.Sub):
            return ast.BinOp(self.expr(node.left, scope, sign), op, self.expr(node.right, scope, -sign))
        if isinstance(op, ast.Mult):
            left_data = self.kind(node.left, scope) == DATA
            right_data = self.kind(node.right, scope) == DATA
            if left_data:
                return ast.BinOp(self.data(node.left, scope), op,
                                 self.expr(node.right, scope, sign * self.data_sign(node.left, scope)))
            if right_data:
                return ast.BinOp(self.expr(node.left, scope, sign * self.data_sign(node.right, scope)), op,
                                 self.data(node.right, scope))
            if self.products:
                return call("product", ast.Constant(self.label), self.expr(node.left, scope, 0),
                            self.expr(node.right, scope, 0))
            return ast.BinOp(self.expr(node.left, scope, 0), op, self.expr(node.right, scope, 0))
        if isinstance(op, ast.Div):
            if self.kind(node.right, scope) == DATA:
                return ast.BinOp(self.expr(node.left, scope, sign * self.data_sign(node.right, scope)), op,
                                 self.data(node.right, scope))
            return ast.BinOp(self.expr(node.left, scope, 0), op, self.expr(node.right, scope, 0))
        if isinstance(op, ast.Pow):
            if self.products and isinstance(node.right, ast.Constant) and node.right.value == 2:
                base = self.expr(node.left, scope, 0)
                return call("product", ast.Constant(self.label), base, base)
            return ast.BinOp(self.expr(node.left, scope, 0), op, self.data(node.right, scope))
        raise ExportError(f"{self.where}: `{ast.unparse(node)}` applies `%` or `//` to variables")

    def _call(self, node: ast.Call, scope: Scope, sign: int) -> ast.expr:
        name = node.func.id  # type: ignore[attr-defined]
        label = ast.Constant(self.label)
        if name == "sum":
            if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
                gens, inner = self.clauses(node.args[0].generators, scope)
                total = "sum" if self._quad_mode else self.caps.quicksum
                return call(total, ast.GeneratorExp(self.expr(node.args[0].elt, inner, sign), gens))
            return self._add_all([self.expr(a, scope, sign) for a in self._plain_args(node)])
        if name in ("min", "max"):
            convex = (name == "max" and sign > 0) or (name == "min" and sign < 0)
            if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
                gens, inner = self.clauses(node.args[0].generators, scope)
                items: ast.expr = ast.ListComp(self.expr(node.args[0].elt, inner, sign), gens)
            else:
                items = ast.List([self.expr(a, scope, sign) for a in self._plain_args(node)], ast.Load())
            return call(f"{name}_of", label, items, exact=ast.Constant(not convex))
        if name == "abs":
            return call("abs_of", label, self.expr(node.args[0], scope, 0), exact=ast.Constant(sign <= 0))
        if name in _MATH:
            return call(self.caps.math_prefix + name, self.expr(node.args[0], scope, 0))
        if name == "pwl":
            x, xs, ys = node.args
            return call("pwl", label, self.expr(x, scope, 0), self.breakpoints(xs, scope),
                        self.breakpoints(ys, scope), const(sign))
        raise ExportError(f"{self.where}: cannot export `{ast.unparse(node)}`")

    # ------------------------------------------------------- capabilities
    def _check_capability(self, node: ast.expr, scope: Scope, kind: int) -> None:
        caps = self.caps
        allowed = caps.nonlinear if kind == NL else (
            caps.quadratic_objective if self.in_objective else caps.quadratic_rows)
        if self.kind(node, scope) == QUAD and (self._quad_mode and caps.quad_wrapper):
            allowed = True
        if allowed:
            return
        culprit = self.culprit(node, scope)
        place = "the objective" if self.in_objective else self.where
        what = _KIND_TEXT[max(self.kind(culprit, scope), QUAD)]
        raise ExportError(f"{caps.target} cannot express `{ast.unparse(culprit)}` ({what}) in {place}; "
                          f"export to {caps.alternative}")

    def culprit(self, node: ast.expr, scope: Scope) -> ast.expr:
        """The innermost subexpression that makes `node` quadratic or nonlinear."""
        inner = scope
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
            for clause in node.args[0].generators:
                inner = self._bind_names(clause.target, inner)
            children: list[ast.expr] = [node.args[0].elt]
        elif isinstance(node, ast.Call):
            children = list(node.args)
        else:
            children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        for child in children:
            if self.kind(child, inner) >= QUAD:
                return self.culprit(child, inner)
        return node

    # ------------------------------------------------------------------ rows
    def rows(self, node: ast.Compare, scope: Scope) -> list[Row]:
        """The rows of a comparison: a data-bounded chain is one range row, other chains one row per pair."""
        operands = [node.left, *node.comparators]
        ops = list(node.ops)
        upward = all(isinstance(o, ast.LtE | ast.Lt) for o in ops)
        downward = all(isinstance(o, ast.GtE | ast.Gt) for o in ops)
        if len(ops) == 2 and (upward or downward) and self.kind(operands[0], scope) == DATA \
                and self.kind(operands[2], scope) == DATA:
            lo_node, hi_node, lo_op, hi_op = (operands[0], operands[2], ops[0], ops[1]) if upward else \
                (operands[2], operands[0], ops[1], ops[0])
            lo, hi = self.data(lo_node, scope), self.data(hi_node, scope)
            if isinstance(lo_op, ast.Lt | ast.Gt):
                lo = ast.BinOp(lo, ast.Add(), ast.Constant(1))
            if isinstance(hi_op, ast.Lt | ast.Gt):
                hi = ast.BinOp(hi, ast.Sub(), ast.Constant(1))
            mid = self.expr(operands[1], scope, 0)
            return [Row("range", lo, hi, mid, trivial=self.kind(operands[1], scope) == DATA)]
        out = []
        for k, op in enumerate(ops):
            left, right = operands[k], operands[k + 1]
            if isinstance(op, ast.LtE | ast.Lt):
                ls, rs, text = 1, -1, "<="
            elif isinstance(op, ast.GtE | ast.Gt):
                ls, rs, text = -1, 1, ">="
            else:
                ls, rs, text = 0, 0, "=="
            shift = -1.0 if isinstance(op, ast.Lt) else 1.0 if isinstance(op, ast.Gt) else 0.0
            trivial = self.kind(left, scope) == DATA and self.kind(right, scope) == DATA
            out.append(Row(text, self.expr(left, scope, ls), self.expr(right, scope, rs), shift=shift,
                           trivial=trivial, rhs_data=self.kind(right, scope) == DATA))
        return out


def relation(row: Row) -> ast.expr:
    """`lhs <= rhs` (strict rows as `lhs <= rhs - 1`) as a Python comparison."""
    rhs = row.rhs
    if row.shift:
        rhs = ast.BinOp(rhs, ast.Sub() if row.shift < 0 else ast.Add(), ast.Constant(1))
    op = {"<=": ast.LtE(), ">=": ast.GtE(), "==": ast.Eq()}[row.op]
    return ast.Compare(row.lhs, [op], [rhs])


def difference(row: Row) -> tuple[ast.expr, str, ast.expr | None]:
    """(expression, sense, right-hand side or None for 0) of an indicator row (`when:`, `either:`).

    A data right side stays a right side (`sum(...) >= min_parcels`); otherwise both sides move left."""
    shift = None if not row.shift else const(row.shift)
    if row.rhs_data:
        rhs = row.rhs if shift is None else ast.BinOp(row.rhs, ast.Add(), shift)
        if isinstance(rhs, ast.Constant) and rhs.value == 0:
            return row.lhs, row.op, None
        return row.lhs, row.op, rhs
    return ast.BinOp(row.lhs, ast.Sub(), row.rhs), row.op, shift
