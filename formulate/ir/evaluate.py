"""Evaluate expression trees over a table of bindings, vectorised with numpy (language.md §4, §6).

A constraint with ``forall: i in I`` is evaluated once over a table with one row per binding; a
``sum(... for j in J)`` expands the table, evaluates its body once and aggregates back. Nothing is
``eval``ed: every node kind is interpreted here.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from formulate.errors import FormulationError, NumberError, did_you_mean
from formulate.ir.data import Domain, ParamData, SetData
from formulate.ir.limits import check_elements
from formulate.ir.members import MAX_MEMBER, MemberCodec
from formulate.ir.values import NL, Data, Lin, Mem, as_nl

Value = Data | Mem | Lin | NL
#: the largest power of a variable expression (a solver cannot use x ** 387420489, and evaluating it overflows)
MAX_EXPONENT = 100


@dataclass
class VarData:
    """A declared variable: its domain and the offset of its first column."""

    name: str
    domain: Domain
    offset: int
    vtype: str


class Context(Protocol):
    """What the evaluator needs from the model being grounded."""

    codec: MemberCodec

    def get_set(self, name: str) -> SetData | None: ...
    def get_param(self, name: str) -> ParamData | None: ...
    def get_var(self, name: str) -> VarData | None: ...
    def all_names(self) -> list[str]: ...
    def col_bounds(self) -> tuple[np.ndarray, np.ndarray]: ...
    def col_is_integer(self) -> np.ndarray: ...
    def new_columns(self, label: str, n: int, lower: np.ndarray, upper: np.ndarray, integer: bool) -> np.ndarray: ...
    def add_rows(self, label: str, lin: Lin, lower: np.ndarray, upper: np.ndarray) -> None: ...
    def add_indicators(self, label: str, binaries: np.ndarray, active: int, lin: Lin,
                       lower: np.ndarray, upper: np.ndarray, condition: str) -> None: ...


@dataclass
class Table:
    """Rows of bindings: each bound name maps to member codes, one per row."""

    n: int
    binds: dict[str, Mem] = field(default_factory=dict)

    def take(self, rows: np.ndarray) -> Table:
        binds = {}
        for name, mem in self.binds.items():
            binds[name] = Mem(mem.codes[rows], mem.set, None if mem.pos is None else mem.pos[rows])
        return Table(len(rows), binds)


class VariableInData(Exception):
    """A variable appeared where only data is allowed (filters, conditions, subscripts)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _unparse(node: ast.AST) -> str:
    return ast.unparse(node)


def _first_variable(node: ast.AST, ctx: Context) -> str | None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and ctx.get_var(sub.id) is not None:
            return sub.id
    return None


class Evaluator:
    """Interprets one expression tree; ``where`` names the constraint or objective for errors."""

    def __init__(self, ctx: Context, where: str) -> None:
        self.ctx = ctx
        self.where = where
        self.codec = ctx.codec
        self._aux_count = 0
        #: index name -> (its tuple target, the set it iterates), for the error of ord/prev/next on a component
        self.tuple_targets: dict[str, tuple[list[str], str]] = {}

    # ----------------------------------------------------------------- errors
    def binding_text(self, table: Table, row: int) -> str:
        names = [n for n in table.binds]
        if not names or row < 0 or row >= table.n:
            return ""
        vals = []
        for n in names:
            codes = table.binds[n].codes[row]
            if np.ndim(codes) == 0:
                vals.append(repr(self.codec.decode(codes)))
            else:
                vals.append("(" + ", ".join(repr(self.codec.decode(c)) for c in codes) + ")")
        if len(names) == 1:
            return f" at {names[0]}={vals[0]}"
        return f" at ({', '.join(names)})=({', '.join(vals)})"

    def error(self, what: str, table: Table | None = None, row: int = -1, fix: str | None = None) -> FormulationError:
        where = self.where + (self.binding_text(table, row) if table is not None else "")
        return FormulationError(what, where, fix)

    def finite(self, result: np.ndarray, operands: tuple[np.ndarray, ...], node: ast.AST, table: Table) -> Data:
        """``result`` of data arithmetic, refusing an overflow to infinity or a NaN from finite operands."""
        with np.errstate(all="ignore"):
            bad = ~np.isfinite(result)
            if bad.any():
                for operand in operands:
                    bad &= np.broadcast_to(np.isfinite(operand), bad.shape)
                nan = np.isnan(result)
                for operand in operands:
                    nan &= ~np.broadcast_to(np.isnan(operand), nan.shape)
                bad |= nan
        if bad.any():
            row = int(np.argmax(bad))
            kind = "is not a number (NaN)" if np.isnan(result[row]) else "is infinite (an overflow or a division by zero)"
            raise NumberError(f"`{_unparse(node)}` {kind}", self.where + self.binding_text(table, row)
                              if table.n == len(result) else self.where,
                              "check the data and the expression (a power, a product or a division by zero)")
        return Data(result)

    def check_rows(self, count: int, node: ast.AST, table: Table) -> None:
        """Refuse a generator clause (or range) that would make more rows than the element limit."""
        what = f"`for ... in {_unparse(node)}`" if table.n > 1 else f"`{_unparse(node)}`"
        check_elements(count * (len(table.binds) + 1), what, self.where)  # one code per row and bound name

    # -------------------------------------------------------------- conversion
    def full(self, table: Table, value: float) -> Data:
        return Data(np.full(table.n, value, dtype=float))

    def to_data(self, value: Value, node: ast.AST, table: Table) -> Data:
        if isinstance(value, Data):
            return value if value.v.dtype != bool else Data(value.v.astype(float))
        if isinstance(value, Mem):
            if value.codes.ndim != 1:
                raise self.error(f"`{_unparse(node)}` is a tuple of members, not a number", table, 0)
            strings = (value.codes & 1) == 1
            if strings.any():
                row = int(np.argmax(strings))
                raise self.error(f"`{_unparse(node)}` is the member {self.codec.decode(value.codes[row])!r}, "
                                 "a string, used as a number", table, row,
                                 "use a parameter indexed by the set, or ord(i) for its position")
            return Data((value.codes >> 1).astype(float))
        raise VariableInData(_first_variable(node, self.ctx) or _unparse(node))

    def to_lin(self, value: Value, node: ast.AST, table: Table) -> Lin | NL:
        if isinstance(value, Lin | NL):
            return value
        return Lin.constant(self.to_data(value, node, table).v)

    def to_codes(self, value: Value, node: ast.AST, table: Table) -> Mem:
        if isinstance(value, Mem):
            return value
        if isinstance(value, Data):
            v = value.v
            if v.dtype == bool:
                raise self.error(f"`{_unparse(node)}` is a condition, not a member", table, 0)
            if not np.all(np.isfinite(v)) or not np.all(v == np.round(v)):
                bad = int(np.argmax(~np.isfinite(v) | (v != np.round(v))))
                raise self.error(f"subscript `{_unparse(node)}` is {v[bad]}, not a member", table, bad,
                                 "subscripts are members (integers or strings); index arithmetic moves by whole steps")
            return Mem(v.astype(np.int64) * 2)
        raise VariableInData(_first_variable(node, self.ctx) or _unparse(node))

    # ------------------------------------------------------------------- eval
    def eval(self, node: ast.AST, table: Table, sign: int = 0) -> Value:
        method: Callable[[Any, Table, int], Value] | None = getattr(self, "_eval_" + type(node).__name__, None)
        if method is None:
            raise self.error(f"`{_unparse(node)}` cannot be used here")
        return method(node, table, sign)

    def eval_data(self, node: ast.AST, table: Table) -> Data:
        return self.to_data(self.eval(node, table), node, table)

    def eval_condition(self, node: ast.AST, table: Table, kind: str = "the filter",
                       outer: tuple[Table, np.ndarray] | None = None) -> np.ndarray:
        """A data-only condition as a boolean mask; a variable in it is the error of language.md §7.

        ``outer`` (the table a generator expanded, and each row's parent) locates the error at the
        binding of the enclosing row rather than at the generator's own indices.
        """
        try:
            value = self.eval(node, table)
            if isinstance(value, Data):
                return value.v.astype(bool)
            if isinstance(value, Mem):
                raise self.error(f"{kind} `{_unparse(node)}` is a member, not a condition", table, 0)
            raise VariableInData(_first_variable(node, self.ctx) or "?")
        except VariableInData as exc:
            where_table, row = (outer[0], int(outer[1][0]) if len(outer[1]) else -1) if outer else (table, 0)
            raise self.error(
                f"{kind} `{_unparse(node)}` depends on variable `{exc.name}`; filters select indices from data",
                where_table, row, "for a row that holds only when a binary is 1, use `when:`") from None

    def _eval_Constant(self, node: ast.Constant, table: Table, sign: int) -> Value:
        value = node.value
        if isinstance(value, bool):
            return Data(np.full(table.n, value, dtype=bool))
        if isinstance(value, str):
            return Mem(np.full(table.n, self.codec.encode(value), dtype=np.int64))
        try:
            number = float(value)
        except OverflowError:
            raise NumberError(f"the integer literal of {len(str(abs(value)))} digits is too large for a number",
                              self.where, "write a smaller number") from None
        if number in (np.inf, -np.inf):
            raise NumberError(f"the number literal `{_unparse(node)}` is too large (it would be infinite)", self.where,
                              "write `inf` if infinity is meant")
        return self.full(table, number)

    def _eval_Name(self, node: ast.Name, table: Table, sign: int) -> Value:
        name = node.id
        if name in table.binds:
            return table.binds[name]
        param = self.ctx.get_param(name)
        if param is not None:
            if not param.scalar:
                raise self.error(f"parameter `{name}` is indexed by [{param.domain.names()}]; subscript it",
                                 table, 0, f"write {name}[{', '.join(s.name.lower()[:1] for s in param.domain.sets)}]")
            return self._param_values(param, np.zeros(table.n, dtype=np.int64))
        var = self.ctx.get_var(name)
        if var is not None:
            if var.domain.sets:
                raise self.error(f"variable `{name}` is indexed by [{var.domain.names()}]; subscript it", table, 0,
                                 f"write e.g. sum({name}[i] for i in {var.domain.sets[0].name})")
            return Lin.columns(np.full(table.n, var.offset, dtype=np.int64))
        if name in ("inf", "infinity"):
            return self.full(table, np.inf)
        if self.ctx.get_set(name) is not None:
            raise self.error(f"set `{name}` is used as a value", table, 0,
                             f"iterate it (`for i in {name}`) or count it (`len({name})`)")
        raise self.undefined(name, table)

    def undefined(self, name: str, table: Table | None) -> FormulationError:
        names = self.ctx.all_names() + (list(table.binds) if table else [])
        for candidate in names:
            s = self.ctx.get_set(candidate)
            if s is not None and len(name) <= 3 and candidate.lower().startswith(name.lower()):
                return self.error(f"name `{name}` is not defined", None, -1, f"is a `for {name} in {candidate}` missing?")
        hint = did_you_mean(name, names)
        if hint:
            return self.error(f"name `{name}` is not defined", None, -1, hint)
        return self.error(f"name `{name}` is not defined", None, -1,
                          "declare it under `sets`, `parameters` or `variables`, or bind it with `for`")

    # -------------------------------------------------------------- subscripts
    def _eval_Subscript(self, node: ast.Subscript, table: Table, sign: int) -> Value:
        name = node.value.id  # type: ignore[attr-defined]
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        param = self.ctx.get_param(name)
        var = self.ctx.get_var(name) if param is None else None
        if param is None and var is None:
            if self.ctx.get_set(name) is not None:
                raise self.error(f"set `{name}` cannot be subscripted", table, 0, "subscript variables or parameters")
            if name in table.binds:
                raise self.error(f"index `{name}` cannot be subscripted", table, 0)
            raise self.undefined(name, table)
        domain = param.domain if param is not None else var.domain  # type: ignore[union-attr]
        mems = [self.to_codes(self.eval(p, table), p, table) for p in parts]
        components: list[np.ndarray] = []
        for m in mems:
            components.extend(m.components())
        if len(components) != domain.arity:
            kind = "parameter" if param is not None else "variable"
            raise self.error(f"`{_unparse(node)}`: {kind} `{name}` has {domain.arity} "
                             f"ind{'ex' if domain.arity == 1 else 'ices'} ({domain.names()}), got {len(components)}",
                             table, 0, f"write {name}[{', '.join('…' for _ in range(domain.arity))}]"
                             if domain.arity else f"write {name} without a subscript")
        known: list[np.ndarray | None] = []
        if len(mems) == len(domain.sets):
            for m, s in zip(mems, domain.sets, strict=True):
                known.append(m.pos if m.set is s and m.pos is not None else None)
        flat = domain.flat_positions(components, known)
        if flat.size and flat.min() < 0:
            self._raise_outside(node, name, domain, components, flat, table, parts)
        if param is not None:
            return self._param_values(param, flat, node, table, parts)
        return Lin.columns(var.offset + flat)  # type: ignore[union-attr]

    def _raise_outside(self, node: ast.Subscript, name: str, domain: Domain, components: list[np.ndarray],
                       flat: np.ndarray, table: Table, parts: list[ast.expr]) -> None:
        row = int(np.argmax(flat < 0))
        key = [self.codec.decode(c[row]) for c in components]
        shown = f"{name}[{', '.join(repr(k) if isinstance(k, str) else str(k) for k in key)}]"
        c = 0
        for s in domain.sets:
            comp = [col[row:row + 1] for col in components[c:c + s.arity]]
            if s.positions(comp)[0] < 0:
                member_kinds = {type(m) for m in (s.members[:1] if s.arity == 1 else [])}
                given = key[c]
                if s.arity == 1 and member_kinds and type(given) not in member_kinds:
                    kind = "integers" if int in member_kinds else "strings"
                    fixed = repr(str(given)) if kind == "strings" else str(given).strip("'")
                    raise self.error(f"`{_unparse(node)}`: the members of {s.name} are {kind}", table, row,
                                     f"write {name}[{fixed}]")
                arithmetic = any(isinstance(p, ast.BinOp) or (isinstance(p, ast.Call) and getattr(p.func, "id", "")
                                 in ("prev", "next")) for p in parts)
                fix = "restrict the loop with an `if` filter, or check the members"
                if arithmetic:
                    guard = self._arith_example(node, parts, s)
                    fix = f"restrict the loop or write `{guard}`" if guard else \
                        "restrict the loop or guard the subscript with a data-only conditional `(... if ... else ...)`"
                raise self.error(f"`{_unparse(node)}` is {shown}, outside {s.name} = {s.preview()}", table, row, fix)
            c += s.arity
        raise self.error(f"`{_unparse(node)}` is {shown}, which is not a key of `{name}`", table, row)

    def _arith_example(self, node: ast.Subscript, parts: list[ast.expr], s: SetData) -> str | None:
        for p in parts:
            if isinstance(p, ast.BinOp) and isinstance(p.left, ast.Name):
                index = p.left.id
                test = f"{index} > first({s.name})" if isinstance(p.op, ast.Sub) else f"{index} < last({s.name})"
                other = self._boundary_value_name(node)
                return f"({_unparse(node)} if {test} else {other})"
        return None

    def _boundary_value_name(self, node: ast.Subscript) -> str:
        base = node.value.id  # type: ignore[attr-defined]
        for candidate in self.ctx.all_names():
            if candidate.startswith(("initial", "init", "start")) and self.ctx.get_param(candidate) is not None:
                return candidate
        return f"initial_{base}"

    def _param_values(self, param: ParamData, flat: np.ndarray, node: ast.AST | None = None,
                      table: Table | None = None, parts: list[ast.expr] | None = None) -> Value:
        present = param.present[flat]
        values = param.values[flat]
        if not present.all():
            if param.default is None:
                row = int(np.argmax(~present))
                key = param.domain.key(int(flat[row])) if param.domain.sets else ()
                shown = f"{param.name}[{', '.join(map(str, key))}]"
                fix = "give the entry, or declare `default: 0`"
                if parts and len(parts) == 2 and all(isinstance(p, ast.Name) for p in parts):
                    a, b = parts[0].id, parts[1].id  # type: ignore[attr-defined]
                    fix = f"add `if {a} != {b}` to the loop, give the entry, or declare `default: 0`"
                elif parts:
                    fix = "add an `if` filter to the loop, give the entry, or declare `default: 0`"
                raise self.error(f"parameter `{param.name}` has no entry {shown}", table, row, fix)
            values = np.where(present, values, param.default)
        if param.is_member:
            return Mem(values.astype(np.int64))
        return Data(values.astype(float))

    # --------------------------------------------------------------- operators
    def _eval_UnaryOp(self, node: ast.UnaryOp, table: Table, sign: int) -> Value:
        if isinstance(node.op, ast.Not):
            return Data(~self.eval_condition(node.operand, table, "the condition"))
        value = self.eval(node.operand, table, -sign if isinstance(node.op, ast.USub) else sign)
        if isinstance(node.op, ast.UAdd):
            return value
        return self.negate(value, node.operand, table)

    def negate(self, value: Value, node: ast.AST, table: Table) -> Value:
        if isinstance(value, Lin):
            return value.scaled(np.full(value.n, -1.0))
        if isinstance(value, NL):
            return NL([("prod", [("const", -1.0), t]) for t in value.trees])
        return Data(-self.to_data(value, node, table).v)

    def _eval_BinOp(self, node: ast.BinOp, table: Table, sign: int) -> Value:
        op = node.op
        if isinstance(op, ast.Add | ast.Sub):
            left = self.eval(node.left, table, sign)
            if isinstance(left, Mem) and isinstance(op, ast.Add | ast.Sub):
                right = self.eval(node.right, table)
                if isinstance(right, Data) and np.all(right.v == np.round(right.v)):
                    return self.shift_member(left, right, -1 if isinstance(op, ast.Sub) else 1, node, table)
                # a fractional offset is plain arithmetic on the member's value (data, never a subscript)
            else:
                right = self.eval(node.right, table, -sign if isinstance(op, ast.Sub) else sign)
            if isinstance(op, ast.Sub):
                right = self.negate(right, node.right, table)
            return self.add(left, right, node, table)
        if isinstance(op, ast.Mult):
            return self.multiply(node, table, sign)
        if isinstance(op, ast.Div):
            right = self.eval(node.right, table)
            if isinstance(right, Lin | NL):
                left = self.eval(node.left, table, 0)
                ln, rn = as_nl(self.to_lin(left, node.left, table)), as_nl(right)
                return NL([("div", a, b) for a, b in zip(ln.trees, rn.trees, strict=True)])
            d = self.to_data(right, node.right, table).v
            if np.any(d == 0):
                row = int(np.argmax(d == 0))
                raise self.error(f"division by zero in `{_unparse(node)}`", table, row, "check the data")
            left = self.eval(node.left, table, self._sign_times(sign, d))
            return self.scale(left, 1.0 / d, node.left, table)
        if isinstance(op, ast.Pow):
            return self.power(node, table, sign)
        if isinstance(op, ast.BitOr | ast.BitAnd):
            symbol = "|" if isinstance(op, ast.BitOr) else "&"
            raise self.error(f"`{_unparse(node)}`: `{symbol}` combines sets in a set definition "
                             "(`Nodes: \"Depots | Stores\"`)", table, 0,
                             "in a condition write `or` / `and`")
        if isinstance(op, ast.Mod | ast.FloorDiv):
            a = self.eval_data(node.left, table).v
            b = self.eval_data(node.right, table).v
            if np.any(b == 0):
                raise self.error(f"modulo by zero in `{_unparse(node)}`", table, int(np.argmax(b == 0)))
            with np.errstate(all="ignore"):
                return self.finite(np.mod(a, b) if isinstance(op, ast.Mod) else np.floor_divide(a, b), (a, b), node,
                                   table)
        raise self.error(f"operator in `{_unparse(node)}` is not supported", table, 0)  # pragma: no cover

    def shift_member(self, mem: Mem, delta: Data, direction: int, node: ast.AST, table: Table) -> Mem:
        if mem.codes.ndim != 1 or ((mem.codes & 1) == 1).any():
            row = int(np.argmax((mem.codes & 1) == 1)) if mem.codes.ndim == 1 else 0
            raise self.error(f"`{_unparse(node)}`: index arithmetic needs integer members", table, row,
                             "on string members use prev(i) / next(i)")
        d = delta.v
        codes = mem.codes + 2 * direction * d.astype(np.int64)
        return Mem(codes, mem.set)

    def add(self, left: Value, right: Value, node: ast.AST, table: Table) -> Value:
        if isinstance(left, Data | Mem) and isinstance(right, Data | Mem):
            a, b = self.to_data(left, node, table).v, self.to_data(right, node, table).v
            with np.errstate(all="ignore"):
                return self.finite(a + b, (a, b), node, table)
        if isinstance(left, NL) or isinstance(right, NL):
            a, b = as_nl(self.to_lin(left, node, table)), as_nl(self.to_lin(right, node, table))
            return NL([("sum", [x, y]) for x, y in zip(a.trees, b.trees, strict=True)])
        a, b = self.to_lin(left, node, table), self.to_lin(right, node, table)
        return a.plus(b)  # type: ignore[union-attr]

    def scale(self, value: Value, factor: np.ndarray, node: ast.AST, table: Table) -> Value:
        if isinstance(value, Lin | NL) and not np.all(np.isfinite(factor)):
            row = int(np.argmax(~np.isfinite(factor)))
            raise NumberError(f"a coefficient of `{_unparse(node)}` is {factor[row]}", self.where +
                              (self.binding_text(table, row) if table.n == len(factor) else ""),
                              "an infinite or NaN coefficient cannot go to a solver; check the data")
        if isinstance(value, Lin):
            return value.scaled(factor)
        if isinstance(value, NL):
            return NL([("prod", [("const", float(f)), t]) for f, t in zip(factor.tolist(), value.trees, strict=True)])
        v = self.to_data(value, node, table).v
        with np.errstate(all="ignore"):
            return self.finite(v * factor, (v, factor), node, table)

    def multiply(self, node: ast.BinOp, table: Table, sign: int) -> Value:
        left = self.eval(node.left, table, 0)
        if isinstance(left, Data | Mem):
            d = self.to_data(left, node.left, table).v
            right = self.eval(node.right, table, self._sign_times(sign, d))
            if not isinstance(right, Data | Mem):
                return self.scale(right, d, node.right, table)
            r = self.to_data(right, node.right, table).v
            with np.errstate(all="ignore"):
                return self.finite(d * r, (d, r), node, table)
        right = self.eval(node.right, table, 0)
        if isinstance(right, Data | Mem):
            d = self.to_data(right, node.right, table).v
            if sign and self._sign_times(sign, d) != sign:
                left = self.eval(node.left, table, self._sign_times(sign, d))
            return self.scale(left, d, node.left, table)
        if isinstance(left, Lin) and isinstance(right, Lin) and not left.has_quadratic and not right.has_quadratic:
            return quadratic_product(left, right)
        a, b = as_nl(left), as_nl(right)
        return NL([("prod", [x, y]) for x, y in zip(a.trees, b.trees, strict=True)])

    @staticmethod
    def _sign_times(sign: int, d: np.ndarray) -> int:
        if sign == 0 or d.size == 0:
            return sign
        if np.all(d >= 0):
            return sign
        if np.all(d <= 0):
            return -sign
        return 0

    def power(self, node: ast.BinOp, table: Table, sign: int) -> Value:
        base = self.eval(node.left, table, 0)
        exponent = self.eval(node.right, table)
        if isinstance(exponent, Lin | NL):
            raise self.error(f"`{_unparse(node)}`: the exponent must be a constant", table, 0,
                             "write x ** 2 or exp(...)")
        p = self.to_data(exponent, node.right, table).v
        if isinstance(base, Data | Mem):
            b = self.to_data(base, node.left, table).v
            with np.errstate(all="ignore"):
                return self.finite(np.power(b, p), (b, p), node, table)
        if not np.all(np.isfinite(p)) or np.any(np.abs(p) > MAX_EXPONENT):
            raise NumberError(f"`{_unparse(node)}`: the exponent of a variable expression must be a finite number "
                              f"of at most {MAX_EXPONENT} in size", self.where, "write x ** 2, x ** 0.5 or exp(...)")
        if np.all(p == 1):
            return base
        if np.all(p == 0):
            return self.full(table, 1.0)
        if np.all(p == 2) and isinstance(base, Lin) and not base.has_quadratic:
            return quadratic_product(base, base)
        b = as_nl(base)
        return NL([("pow", t, float(e)) for t, e in zip(b.trees, p.tolist(), strict=True)])

    def _eval_BoolOp(self, node: ast.BoolOp, table: Table, sign: int) -> Value:
        masks = [self.eval_condition(v, table, "the condition") for v in node.values]
        result = masks[0]
        for m in masks[1:]:
            result = (result & m) if isinstance(node.op, ast.And) else (result | m)
        return Data(result)

    def _eval_Compare(self, node: ast.Compare, table: Table, sign: int) -> Value:
        result = np.ones(table.n, dtype=bool)
        left_node = node.left
        left = self.eval(left_node, table)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                inside = self.membership(left, left_node, right_node, table)
                result &= inside if isinstance(op, ast.In) else ~inside
                left_node, left = right_node, None  # type: ignore[assignment]
                continue
            right = self.eval(right_node, table)
            result &= self.compare_pair(op, left, right, left_node, right_node, node, table)
            left_node, left = right_node, right
        return Data(result)

    def compare_pair(self, op: ast.cmpop, left: Value, right: Value, ln: ast.AST, rn: ast.AST,
                     node: ast.AST, table: Table) -> np.ndarray:
        if isinstance(left, Lin | NL) or isinstance(right, Lin | NL):
            raise VariableInData(_first_variable(node, self.ctx) or "?")
        if isinstance(op, ast.Eq | ast.NotEq) and (isinstance(left, Mem) or isinstance(right, Mem)):
            a, b = self.to_codes(left, ln, table), self.to_codes(right, rn, table)
            if a.codes.shape[1:] != b.codes.shape[1:]:  # a member and a tuple, or tuples of other lengths
                raise self.error(f"`{_unparse(node)}` compares members with different numbers of parts", table, 0,
                                 "compare a member with a member, or a tuple with a tuple of the same length")
            equal = np.all(a.codes == b.codes, axis=-1) if a.codes.ndim > 1 else a.codes == b.codes
            return equal if isinstance(op, ast.Eq) else ~equal
        for value, sub in ((left, ln), (right, rn)):
            if isinstance(value, Mem) and value.codes.ndim == 1 and ((value.codes & 1) == 1).any():
                set_name = value.set.name if value.set is not None else "its set"
                fix = f"write `ord({_unparse(ln)}) {_CMP_TEXT[type(op)]} ord({_unparse(rn)})`" \
                    if isinstance(left, Mem) and isinstance(right, Mem) else \
                    f"compare positions with `ord({_unparse(sub)})`"
                raise self.error(f"`{_unparse(node)}` compares members of `{set_name}`, which are strings", None, -1,
                                 fix)
        a = self.to_data(left, ln, table).v
        b = self.to_data(right, rn, table).v
        return _CMP_FUNCS[type(op)](a, b)

    def membership(self, left: Value | None, left_node: ast.AST, right_node: ast.AST, table: Table) -> np.ndarray:
        if left is None:
            raise self.error(f"`{_unparse(right_node)}`: chained `in` is not supported", table, 0)
        mem = self.to_codes(left, left_node, table) if not isinstance(left, Mem) else left
        if isinstance(left_node, ast.Tuple):
            parts = [self.to_codes(self.eval(e, table), e, table) for e in left_node.elts]
            columns = [c for p in parts for c in p.components()]
        else:
            columns = mem.components()
        if isinstance(right_node, ast.Name) and self.ctx.get_set(right_node.id) is not None:
            s = self.ctx.get_set(right_node.id)
            if s.arity != len(columns):  # type: ignore[union-attr]
                raise self.error(f"`in {right_node.id}`: members of {right_node.id} have {s.arity} parts, "  # type: ignore[union-attr]
                                 f"got {len(columns)}", table, 0)
            return s.positions(columns) >= 0  # type: ignore[union-attr]
        if isinstance(right_node, ast.List | ast.Tuple):
            options = [self.to_codes(self.eval(e, table), e, table) for e in right_node.elts]
            inside = np.zeros(table.n, dtype=bool)
            for o in options:
                oc = o.components()
                if len(oc) == len(columns):
                    inside |= np.all([a == b for a, b in zip(columns, oc, strict=True)], axis=0)
            return inside
        raise self.error(f"`in {_unparse(right_node)}`: membership tests take a set name or a list", table, 0)

    def _eval_IfExp(self, node: ast.IfExp, table: Table, sign: int) -> Value:
        mask = self.eval_condition(node.test, table, "the condition")
        yes = np.flatnonzero(mask)
        no = np.flatnonzero(~mask)
        if len(no) == 0:
            return self.eval(node.body, table, sign)
        if len(yes) == 0:
            return self.eval(node.orelse, table, sign)
        a = self.eval(node.body, table.take(yes), sign)
        b = self.eval(node.orelse, table.take(no), sign)
        return self.merge(a, b, yes, no, table, node)

    def merge(self, a: Value, b: Value, yes: np.ndarray, no: np.ndarray, table: Table, node: ast.AST) -> Value:
        if isinstance(a, Mem) and isinstance(b, Mem):
            codes = np.zeros((table.n,) + a.codes.shape[1:], dtype=np.int64)
            codes[yes], codes[no] = a.codes, b.codes
            return Mem(codes, a.set if a.set is b.set else None)
        if isinstance(a, Data | Mem) and isinstance(b, Data | Mem):
            av, bv = self.to_data(a, node, table).v, self.to_data(b, node, table).v
            out = np.zeros(table.n, dtype=np.result_type(av, bv))
            out[yes], out[no] = av, bv
            return Data(out)
        la, lb = self.to_lin(a, node, table), self.to_lin(b, node, table)
        if isinstance(la, NL) or isinstance(lb, NL):
            ta, tb = as_nl(la), as_nl(lb)
            trees: list = [None] * table.n
            for i, t in zip(yes.tolist(), ta.trees, strict=True):
                trees[i] = t
            for i, t in zip(no.tolist(), tb.trees, strict=True):
                trees[i] = t
            return NL(trees)
        return la.spread(yes, table.n).plus(lb.spread(no, table.n))

    def _eval_Tuple(self, node: ast.Tuple, table: Table, sign: int) -> Value:
        if not node.elts:
            raise self.error("`()` is an empty tuple, not a value", table, 0, "remove it or write a number")
        mems = [self.to_codes(self.eval(e, table), e, table) for e in node.elts]
        columns = [c for m in mems for c in m.components()]
        return Mem(np.stack(columns, axis=1))

    # -------------------------------------------------------------- generators
    def expand(self, generators: list[ast.comprehension], table: Table) -> tuple[Table, np.ndarray]:
        """Expand a table by comprehension clauses; returns the new table and each row's parent row."""
        parent = np.arange(table.n, dtype=np.int64)
        current = table
        for gen in generators:
            current, rows = self._expand_one(gen, current)
            parent = parent[rows]
            for cond in gen.ifs:
                mask = self.eval_condition(cond, current, outer=(table, parent))
                if not mask.all():
                    keep = np.flatnonzero(mask)
                    current = current.take(keep)
                    parent = parent[keep]
        return current, parent

    def iterable(self, node: ast.AST, table: Table) -> tuple[SetData | None, np.ndarray, np.ndarray, np.ndarray | None]:
        """What a clause iterates: (set, row of each new binding, its codes, its positions in the set)."""
        if isinstance(node, ast.Name):
            s = self.ctx.get_set(node.id)
            if s is None:
                if self.ctx.get_param(node.id) is not None or self.ctx.get_var(node.id) is not None:
                    raise self.error(f"`for ... in {node.id}`: `{node.id}` is not a set", table, 0,
                                     "iterate over a set name, range(a, b) or a list")
                raise self.undefined(node.id, table)
            k = len(s)
            self.check_rows(table.n * k, node, table)
            rows = np.repeat(np.arange(table.n, dtype=np.int64), k)
            pos = np.tile(np.arange(k, dtype=np.int64), table.n)
            codes = s.codes[pos]
            return s, rows, codes, pos
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "range":
            if node.keywords or not 1 <= len(node.args) <= 2:
                raise self.error("range takes (stop) or (start, stop)", table, 0)
            args = [self.eval_data(a, table).v for a in node.args]
            start, stop = (np.zeros(table.n), args[0]) if len(args) == 1 else (args[0], args[1])
            for bound in (start, stop):
                bad = ~np.isfinite(bound) | (bound != np.round(bound)) | (np.abs(bound) > MAX_MEMBER)
                if bad.any():
                    row = int(np.argmax(bad))
                    raise self.error(f"`{_unparse(node)}` needs integer bounds of at most 18 digits; a bound is "
                                     f"{bound[row]:g}", table, row, "write range(a, b) with whole numbers a <= b")
            start, stop = start.astype(np.int64), stop.astype(np.int64)
            counts = np.maximum(stop - start, 0)
            self.check_rows(int(min(counts.sum(dtype=np.float64), 2.0**62)), node, table)
            rows = np.repeat(np.arange(table.n, dtype=np.int64), counts)
            offsets = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
            values = start[rows] + offsets
            s = None
            if table.n and np.all(start == start[0]) and np.all(stop == stop[0]):
                s = SetData.build(_unparse(node), list(range(int(start[0]), int(stop[0]))), self.codec)
                return s, rows, values * 2, offsets
            return s, rows, values * 2, None
        if isinstance(node, ast.List | ast.Tuple):
            members = []
            for e in node.elts:
                if isinstance(e, ast.Constant) and isinstance(e.value, int | str) and not isinstance(e.value, bool):
                    members.append(e.value)
                else:
                    raise self.error(f"`{_unparse(node)}`: a literal list to iterate holds numbers or strings", table, 0)
            s = SetData.build(_unparse(node), members, self.codec)
            k = len(s)
            self.check_rows(table.n * k, node, table)
            rows = np.repeat(np.arange(table.n, dtype=np.int64), k)
            pos = np.tile(np.arange(k, dtype=np.int64), table.n)
            return s, rows, s.codes[pos], pos
        raise self.error(f"cannot iterate over `{_unparse(node)}`", table, 0, "iterate over a set name, range(a, b) or a list")

    def _expand_one(self, gen: ast.comprehension, table: Table) -> tuple[Table, np.ndarray]:
        s, rows, codes, pos = self.iterable(gen.iter, table)
        new = table.take(rows)
        target = gen.target
        if isinstance(target, ast.Name):
            new.binds[target.id] = Mem(codes, s, pos)
        else:
            names = [e.id for e in target.elts]  # type: ignore[attr-defined]
            width = 1 if codes.ndim == 1 else codes.shape[1]
            if width != len(names):
                raise self.error(f"`for {_unparse(target)} in {_unparse(gen.iter)}`: members have {width} parts, "
                                 f"the target names {len(names)}", table, 0)
            for c, name in enumerate(names):
                new.binds[name] = Mem(codes[:, c], None)
                self.tuple_targets[name] = (names, _unparse(gen.iter))
        return new, rows

    def generator_parts(self, node: ast.Call) -> tuple[ast.expr, list[ast.comprehension]] | None:
        if len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp):
            g = node.args[0]
            return g.elt, g.generators
        return None

    def _eval_Call(self, node: ast.Call, table: Table, sign: int) -> Value:
        from formulate.ir import functions

        name = node.func.id  # type: ignore[attr-defined]
        handler = getattr(functions, "call_" + name, None)
        if handler is None:
            raise self.error(f"`{name}(...)` cannot be used here", table, 0)
        return handler(self, node, table, sign)

    def _eval_GeneratorExp(self, node: ast.GeneratorExp, table: Table, sign: int) -> Value:
        raise self.error(f"a generator `{_unparse(node)}` needs sum(...), min(...) or max(...) around it", table, 0)

    _eval_ListComp = _eval_GeneratorExp

    def _eval_List(self, node: ast.List, table: Table, sign: int) -> Value:
        raise self.error(f"a list `{_unparse(node)}` can only appear in pwl(...), min/max(...) or `in`", table, 0)


def quadratic_product(a: Lin, b: Lin) -> Lin:
    """(a) * (b) for affine a, b, row by row: constants, linear cross terms and quadratic pairs."""
    n = a.n
    ar, ac, av = a.terms()
    br, bc, bv = b.terms()
    result = Lin(n, a.const * b.const)
    for rows, cols, vals, const in ((ar, ac, av, b.const), (br, bc, bv, a.const)):
        scaled = vals * const[rows]
        keep = scaled != 0
        if keep.any():
            result.chunks.append((rows[keep], cols[keep], scaled[keep]))
    if len(ar) and len(br):
        oa, ob = np.argsort(ar, kind="stable"), np.argsort(br, kind="stable")
        ar_s, ac_s, av_s = ar[oa], ac[oa], av[oa]
        br_s, bc_s, bv_s = br[ob], bc[ob], bv[ob]
        cb = np.bincount(br_s, minlength=n)
        start_b = np.cumsum(cb) - cb
        reps = cb[ar_s]
        check_elements(int(reps.sum(dtype=np.float64)), "a product of two sums (its quadratic terms)")
        ia = np.repeat(np.arange(len(ar_s)), reps)
        within = np.arange(len(ia)) - np.repeat(np.cumsum(reps) - reps, reps)
        ib = start_b[ar_s[ia]] + within
        c1, c2 = ac_s[ia], bc_s[ib]
        lo, hi = np.minimum(c1, c2), np.maximum(c1, c2)
        result.qchunks.append((ar_s[ia], lo, hi, av_s[ia] * bv_s[ib]))
    return result


_CMP_FUNCS = {
    ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
    ast.Eq: np.equal, ast.NotEq: np.not_equal,
}
_CMP_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
