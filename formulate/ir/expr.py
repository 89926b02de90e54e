"""The expression language: Python syntax parsed with ``ast`` against a whitelist (language.md §4).

Nothing here evaluates anything. The parsed trees are plain ``ast`` nodes, so the grounder, the
renderer and the code generators all walk the same validated tree.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

from formulate.errors import FormulationError

MAX_LENGTH = 10_000
_YAML_INF = re.compile(r"(?<![\w.])\.inf\b")  # YAML's `.inf` written inside an expression means `inf`
MAX_DEPTH = 100

#: functions an expression may call, with what they are for (the prompt and the schema read this)
FUNCTIONS: dict[str, str] = {
    "sum": "sum over a generator or a list of arguments",
    "min": "minimum of arguments or a generator (epigraph in convex positions, binaries elsewhere)",
    "max": "maximum of arguments or a generator",
    "abs": "absolute value",
    "exp": "exponential (data, or nonlinear on variables)",
    "log": "natural logarithm",
    "sqrt": "square root",
    "pwl": "pwl(x, xs, ys): piecewise-linear function of an affine x through breakpoints xs -> ys",
    "len": "len(S): number of members of a set",
    "first": "first(S): first member of an ordered set",
    "last": "last(S): last member",
    "prev": "prev(i[, k], wrap=False): member k places before i in the set i is bound to",
    "next": "next(i[, k], wrap=False): member k places after i",
    "ord": "ord(i): 1-based position of i in its set",
    "range": "range(a, b): integers a..b-1 (in set definitions and generators)",
}

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.BitOr, ast.BitAnd)  # | & on sets
_UNARY = (ast.USub, ast.UAdd, ast.Not)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_OP_TEXT = {ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
            ast.RShift: ">>", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not"}
_NODE_HINTS = {
    ast.Attribute: "attribute access (`a.b`) is not part of the language; use names and subscripts",
    ast.Lambda: "lambdas are not allowed",
    ast.NamedExpr: "`:=` is not allowed",
    ast.Starred: "`*args` is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Await: "`await` is not allowed",
    ast.Yield: "`yield` is not allowed",
    ast.Slice: "slices (`a:b`) are not allowed; use a generator with a filter",
    ast.Dict: "dict literals are only allowed in data files; write a parameter",
}


def _fail(what: str, where: str | None, fix: str | None = None) -> FormulationError:
    return FormulationError(what, where, fix)


def _snippet(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a valid tree does not fail
        return type(node).__name__


class _Validator(ast.NodeVisitor):
    """Walk a parsed tree and reject every node outside the whitelist."""

    def __init__(self, where: str | None) -> None:
        self.where = where

    def generic_visit(self, node: ast.AST) -> None:
        hint = _NODE_HINTS.get(type(node))
        raise _fail(f"`{_snippet(node)}` is not allowed in an expression", self.where,
                    hint or "use numbers, names, subscripts, + - * / **, comparisons, sum/min/max and generators")

    def _children(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr_context | ast.cmpop | ast.operator | ast.boolop | ast.unaryop):
                continue
            self.visit(child)

    def visit_Expression(self, node: ast.Expression) -> None:
        self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, int | float | str | bool) or isinstance(node.value, complex):
            raise _fail(f"constant `{node.value!r}` is not allowed", self.where, "use a number or a quoted member")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            raise _fail(f"name `{node.id}` is not allowed", self.where, "names may not start with `__`")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if not isinstance(node.op, _BINOPS):
            raise _fail(f"operator `{_OP_TEXT.get(type(node.op), type(node.op).__name__)}` in `{_snippet(node)}` "
                        "is not allowed", self.where, "use + - * / ** or %")
        self._children(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, _UNARY):
            raise _fail(f"operator `{_OP_TEXT.get(type(node.op), '?')}` is not allowed", self.where, "use unary minus")
        self._children(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self._children(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if not isinstance(op, _CMPOPS):
                raise _fail(f"comparison `{_OP_TEXT.get(type(op), '?')}` is not allowed", self.where,
                            "use <= >= == (or < > != in filters)")
        self._children(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._children(node)

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            self.visit(node.func)
            raise _fail(f"`{_snippet(node)}`: only the language's functions can be called", self.where,
                        f"available: {', '.join(FUNCTIONS)}")
        if node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else _snippet(node.func)
            from formulate.errors import did_you_mean

            hint = did_you_mean(name, FUNCTIONS)
            raise _fail(f"function `{name}` is not available", self.where,
                        hint or f"available: {', '.join(FUNCTIONS)}")
        for kw in node.keywords:
            if kw.arg != "wrap":
                raise _fail(f"keyword `{kw.arg}` in `{_snippet(node)}` is not allowed", self.where,
                            "only `wrap=True` (in prev/next) takes a keyword")
            self.visit(kw.value)
        for arg in node.args:
            self.visit(arg)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.value, ast.Name):
            raise _fail(f"`{_snippet(node)}`: only names can be subscripted", self.where,
                        "write `x[i, j]` with x a variable or parameter")
        self.visit(node.slice)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        self._children(node)

    def visit_List(self, node: ast.List) -> None:
        self._children(node)

    def _comprehension(self, node: ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp) -> None:
        for gen in node.generators:
            if gen.is_async:
                raise _fail("async comprehensions are not allowed", self.where)
            self._target(gen.target)
            self.visit(gen.iter)
            for cond in gen.ifs:
                self.visit(cond)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)

    visit_GeneratorExp = _comprehension
    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_DictComp = _comprehension

    def _target(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.visit_Name(node)
        elif isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                self._target(elt)
        else:
            raise _fail(f"loop target `{_snippet(node)}` must be a name or a tuple of names", self.where)


def _depth(node: ast.AST, limit: int) -> int:
    """Nesting depth of a tree, iteratively (no recursion on hostile input)."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return depth
        best = max(best, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return best


def _bracket_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def _parse_raw(text: str, where: str | None) -> ast.expr:
    if not isinstance(text, str):
        raise _fail(f"expected an expression string, got {type(text).__name__} `{text!r}`", where,
                    "write the expression as text, e.g. `x + y <= 10`")
    if len(text) > MAX_LENGTH:
        raise _fail(f"expression is {len(text)} characters long (limit {MAX_LENGTH})", where,
                    "move data into parameters and sum over sets")
    stripped = _YAML_INF.sub("inf", " ".join(text.strip().splitlines()))
    if not stripped:
        raise _fail("empty expression", where, "write an expression such as `x + y <= 10`")
    if _bracket_depth(stripped) > MAX_DEPTH:
        raise _fail(f"expression nests deeper than {MAX_DEPTH} levels", where, "simplify the expression")
    errors: list[str] = []
    for candidate in (stripped, f"({stripped})"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(candidate, mode="eval")
        except SyntaxError as exc:
            errors.append(exc.msg or "invalid syntax")
            continue
        except (MemoryError, RecursionError, ValueError, OverflowError):
            raise _fail(f"expression nests deeper than {MAX_DEPTH} levels or is malformed", where,
                        "simplify the expression") from None
        if _depth(tree, MAX_DEPTH) > MAX_DEPTH:
            raise _fail(f"expression nests deeper than {MAX_DEPTH} levels", where, "simplify the expression")
        try:
            _Validator(where).visit(tree)
        except RecursionError:
            raise _fail(f"expression nests deeper than {MAX_DEPTH} levels", where, "simplify the expression") from None
        return tree.body
    hint = "check brackets and operators"
    if "=" in stripped and "==" not in stripped and "<=" not in stripped and ">=" not in stripped:
        hint = "write equality as `==`"
    if "^" in stripped:
        hint = "write powers as `**`"
    raise _fail(f"cannot parse `{stripped[:200]}`: {errors[0]}", where, hint)


def parse_expression(text: str, where: str | None = None) -> ast.expr:
    """Parse and validate one expression; raise FormulationError (never anything else) on bad input.

    Trees are cached by (text, where): grounding, checks, rendering and export read the same strings,
    and nothing mutates a parsed tree.
    """
    if not isinstance(text, str):
        return _parse_raw(text, where)
    try:
        return _parse_cached(text, where)
    except FormulationError:
        raise
    except (RecursionError, MemoryError):
        raise _fail("expression is too deeply nested", where, "simplify the expression") from None


@lru_cache(maxsize=4096)
def _parse_cached(text: str, where: str | None) -> ast.expr:
    return _parse_raw(text, where)


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def parse_forall(text: str, where: str | None = None) -> list[ast.comprehension]:
    """Parse a `forall` clause (`i in I, j in J if cond`) into comprehension clauses."""
    if not isinstance(text, str) or not text.strip():
        raise _fail("empty `forall`", where, "write e.g. `forall: i in I, j in J`")
    clause = " ".join(text.strip().splitlines())
    if clause.startswith("for "):
        clause = clause[4:]
    pieces = split_top_level(clause)
    body = " for ".join(p[4:] if p.startswith("for ") else p for p in pieces if p)
    source = f"[0 for {body}]"
    try:
        tree = parse_expression(source, where)
    except FormulationError as exc:
        raise _fail(f"cannot parse `forall: {text}`", where,
                    "write `i in I, j in J if cond` (tuple targets as `(i, j) in Arcs`)") from exc
    if not isinstance(tree, ast.ListComp):  # pragma: no cover - the template guarantees a ListComp
        raise _fail(f"cannot parse `forall: {text}`", where)
    return tree.generators


@dataclass
class ConstraintForm:
    """A constraint normalised to the block form: clauses, comparison(s), condition."""

    name: str
    forall: list[ast.comprehension] = field(default_factory=list)
    expr: ast.expr | None = None
    when: ast.expr | None = None
    when_negated: bool = False
    either: list[ast.expr] = field(default_factory=list)
    description: str | None = None


def _is_comparison(node: ast.expr) -> bool:
    return isinstance(node, ast.Compare) and all(
        isinstance(op, ast.LtE | ast.GtE | ast.Eq | ast.Lt | ast.Gt) for op in node.ops)


def _check_comparison(node: ast.expr, where: str) -> ast.expr:
    if not _is_comparison(node):
        raise _fail(f"`{_snippet(node)}` is not a comparison", where,
                    "a constraint compares two sides with <=, >= or ==, e.g. `x + y <= 10`")
    return node


def normalise_constraint(name: str, forall: str | None, expr: str | None, when: str | None,
                         either: list[str] | None, description: str | None = None) -> ConstraintForm:
    """Parse a constraint's parts; the inline `EXPR for i in I` form becomes the block form."""
    where = f"constraint `{name}`"
    form = ConstraintForm(name=name, description=description)
    if forall is not None:
        form.forall = parse_forall(forall, where)
    if expr is None and not either:
        raise _fail("has neither `expr` nor `either`", where, "give the comparison in `expr:`")
    if expr is not None and either:
        raise _fail("has both `expr` and `either`", where, "put every alternative in `either:` and drop `expr:`")
    if expr is not None:
        tree = parse_expression(expr, where)
        if isinstance(tree, ast.GeneratorExp) and _is_comparison(tree.elt):
            if form.forall:
                raise _fail("gives both `forall:` and an inline `for` clause", where,
                            "keep one: the `forall:` key or the inline form")
            form.forall = tree.generators
            tree = tree.elt
        form.expr = _check_comparison(tree, where)
    if either:
        if isinstance(either, str):
            either = [either]
        if len(either) < 2:
            raise _fail("`either:` needs at least two alternatives", where, "use `expr:` for a single row")
        for alt in either:
            tree = parse_expression(alt, where)
            if isinstance(tree, ast.Compare) and len(tree.ops) > 1:
                raise _fail(f"`either:` alternative `{alt}` must be one comparison", where,
                            "split a range `a <= e <= b` into two alternatives or two constraints")
            form.either.append(_check_comparison(tree, where))
    if when is not None:
        if either:
            raise _fail("`when:` and `either:` do not nest", where, "write them as two constraints")
        tree = parse_expression(str(when), where)
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
            form.when_negated, tree = True, tree.operand
        if not isinstance(tree, ast.Name | ast.Subscript):
            raise _fail(f"`when: {when}` must name a binary variable or `not` one", where,
                        "write e.g. `when: open[d]` or `when: not open[d]`")
        form.when = tree
    return form
