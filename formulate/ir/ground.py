"""Grounding: a Formulation becomes a FlatProblem (design §2, language.md §6).

Sets and parameters are built on demand in dependency order; each constraint is evaluated once over
the table of its ``forall`` bindings (vectorised); auxiliary columns and rows (epigraphs, pwl,
disjunctions) are appended; rows are assembled into CSR at the end.
"""

from __future__ import annotations

import ast
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from formulate.errors import FormulationError, did_you_mean
from formulate.ir.build_data import (
    build_parameter,
    data_number,
    evaluate_set_expression,
    set_members_from_list,
)
from formulate.ir.data import Domain, ParamData, SetData
from formulate.ir.evaluate import Evaluator, Table, VarData, VariableInData
from formulate.ir.expr import ConstraintForm, normalise_constraint, parse_expression
from formulate.ir.flat import Block, FlatProblem, Indicator, NonlinearRow, ObjectiveLevel, QuadraticRow
from formulate.ir.functions import columns_lin
from formulate.ir.limits import check_elements
from formulate.ir.members import MemberCodec
from formulate.ir.model import Formulation, Parameter
from formulate.ir.values import NL, Data, Lin, Mem, as_nl

log = logging.getLogger(__name__)
INF = np.inf
_OP_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "=="}


class AlreadyReported(FormulationError):
    """An item failed because a set or parameter it reads failed earlier; that error is the one to report."""

    def __init__(self, cause: FormulationError) -> None:
        super().__init__(cause.what, cause.where, cause.fix)
        self.cause = cause


@dataclass
class GroundResult:
    """The flat problem plus what grounding noticed."""

    problem: FlatProblem
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _RowStore:
    """Linear rows collected in chunks: (global rows, cols, coefs), bounds, blocks."""

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.coefs: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.blocks: list[Block] = []


class Grounder:
    """Implements the evaluator's Context over one Formulation."""

    def __init__(self, formulation: Formulation, base_dir: str | Path | None = None, collect_errors: bool = False):
        self.f = formulation
        self.codec = MemberCodec()
        from formulate.ir.io import data_dir_of

        self.base_dir = Path(base_dir) if base_dir is not None else data_dir_of(formulation)
        self.sets: dict[str, SetData] = {}
        self.params: dict[str, ParamData] = {}
        self.vars: dict[str, VarData] = {}
        self._building: list[str] = []
        self.collect_errors = collect_errors
        self.errors: list[FormulationError] = []
        self.warnings: list[str] = []
        # columns
        self.ncols = 0
        self.col_lo: list[np.ndarray] = []
        self.col_hi: list[np.ndarray] = []
        self.col_int: list[np.ndarray] = []
        self.var_blocks: list[Block] = []
        self._bounds_cache: tuple[np.ndarray, np.ndarray] | None = None
        self.store = _RowStore()
        self.quadratic_rows: list[QuadraticRow] = []
        self.nonlinear_rows: list[NonlinearRow] = []
        self.indicators: list[Indicator] = []
        self._names = set(formulation.sets) | set(formulation.parameters) | set(formulation.variables)
        self._current_label = ""
        self._failed: dict[tuple[str, str], FormulationError] = {}
        self._levels: list[ObjectiveLevel] = []
        self._objective_is_nonlinear = False

    # --------------------------------------------------------------- context
    def all_names(self) -> list[str]:
        return list(self.f.sets) + list(self.f.parameters) + list(self.f.variables)

    def _check_cycle(self, name: str, kind: str) -> None:
        if name in self._building:
            chain = " -> ".join(self._building[self._building.index(name):] + [name])
            raise FormulationError(f"{kind} `{name}` depends on itself ({chain})", f"{kind} `{name}`",
                                   "break the cycle: define one of them from data only")

    def _failed_before(self, kind: str, name: str) -> None:
        """A set or parameter that failed to build fails again without a second report of the same cause."""
        exc = self._failed.get((kind, name))
        if exc is not None:
            raise AlreadyReported(exc)

    def get_set(self, name: str) -> SetData | None:
        if name in self.sets:
            return self.sets[name]
        if name not in self.f.sets:
            return None
        self._failed_before("set", name)
        self._check_cycle(name, "set")
        self._building.append(name)
        try:
            self.sets[name] = self._build_set(name, self.f.sets[name])
        except FormulationError as exc:
            self._failed[("set", name)] = exc
            raise
        finally:
            self._building.pop()
        return self.sets[name]

    def _build_set(self, name: str, spec: Any) -> SetData:
        where = f"set `{name}`"
        if isinstance(spec, list):
            members = set_members_from_list(spec, where)
        elif isinstance(spec, str):
            ev = Evaluator(self, where)
            try:
                members = evaluate_set_expression(ev, spec, where)
            except VariableInData as exc:
                raise FormulationError(f"depends on variable `{exc.name}`", where,
                                       "sets are data: build them from sets and parameters only") from None
            except FormulationError as exc:
                raise exc.at(where) from None
        elif isinstance(spec, dict) and "range" in spec:
            raise FormulationError("write a range as the string `range(a, b)`", where, "e.g. `T: range(1, 13)`")
        elif isinstance(spec, int) and not isinstance(spec, bool):
            raise FormulationError(f"`{spec}` is a number, not a set", where,
                                   f"write `range(1, {spec + 1})` for the members 1..{spec}")
        else:
            raise FormulationError(f"cannot read `{spec!r}` as a set", where,
                                   "write a list, `range(a, b)` or a quoted comprehension")
        return SetData.build(name, members, self.codec)

    def get_param(self, name: str) -> ParamData | None:
        if name in self.params:
            return self.params[name]
        if name not in self.f.parameters or name in self.f.sets:
            return None
        self._failed_before("parameter", name)
        self._check_cycle(name, "parameter")
        self._building.append(name)
        try:
            ev = Evaluator(self, f"parameter `{name}`")
            self.params[name] = build_parameter(ev, name, self.f.parameters[name], self.sets_for(name), self.base_dir)
        except VariableInData as exc:
            error = FormulationError(f"depends on variable `{exc.name}`", f"parameter `{name}`",
                                     "parameters are data: compute them from sets and other parameters")
            self._failed[("parameter", name)] = error
            raise error from None
        except FormulationError as exc:
            self._failed[("parameter", name)] = exc
            raise
        finally:
            self._building.pop()
        return self.params[name]

    def sets_for(self, name: str) -> dict[str, SetData]:
        spec = self.f.parameters[name]
        if isinstance(spec, Parameter):
            for s in spec.index or []:
                self.get_set(s)
        return self.sets

    def get_var(self, name: str) -> VarData | None:
        return self.vars.get(name)

    def col_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self._bounds_cache is None or len(self._bounds_cache[0]) != self.ncols:
            lo = np.concatenate(self.col_lo) if self.col_lo else np.zeros(0)
            hi = np.concatenate(self.col_hi) if self.col_hi else np.zeros(0)
            self.col_lo, self.col_hi = [lo], [hi]
            self._bounds_cache = (lo, hi)
        return self._bounds_cache

    def col_is_integer(self) -> np.ndarray:
        ints = np.concatenate(self.col_int) if self.col_int else np.zeros(0, dtype=np.int8)
        self.col_int = [ints]
        return ints

    def new_columns(self, label: str, n: int, lower: np.ndarray, upper: np.ndarray, integer: bool) -> np.ndarray:
        start = self.ncols
        self.ncols += n
        self.col_lo.append(np.asarray(lower, dtype=float))
        self.col_hi.append(np.asarray(upper, dtype=float))
        self.col_int.append(np.full(n, 1 if integer else 0, dtype=np.int8))
        self.var_blocks.append(Block(label, start, self.ncols, keys_given=[(k,) for k in range(n)] if n > 1 else None))
        self._bounds_cache = None
        return np.arange(start, self.ncols, dtype=np.int64)

    def add_rows(self, label: str, lin: Lin, lower: np.ndarray, upper: np.ndarray, keys=None,
                 description: str | None = None) -> None:
        """Append one linear row per row of ``lin``: lower <= lin <= upper (constants moved right)."""
        if lin.has_quadratic:
            raise FormulationError("an auxiliary row became quadratic", label)  # pragma: no cover
        n = lin.n
        rows, cols, coefs = lin.terms()
        store = self.store
        store.rows.append(rows + store.count)
        store.cols.append(cols)
        store.coefs.append(coefs)
        store.lower.append(np.asarray(lower, dtype=float) - lin.const)
        store.upper.append(np.asarray(upper, dtype=float) - lin.const)
        store.blocks.append(Block(label, store.count, store.count + n, key_source=keys,
                                  keys_given=None if keys is not None or n == 1 else [(k,) for k in range(n)],
                                  description=description))
        store.count += n

    def add_indicators(self, label: str, binaries: np.ndarray, active: int, lin: Lin,
                       lower: np.ndarray, upper: np.ndarray, condition: str, where: list[str] | None = None,
                       names: list[str] | None = None) -> None:
        rows, cols, coefs = lin.terms()
        order = np.argsort(rows, kind="stable")
        rows, cols, coefs = rows[order], cols[order], coefs[order]
        bounds = np.searchsorted(rows, np.arange(lin.n + 1))
        for r in range(lin.n):
            a, b = bounds[r], bounds[r + 1]
            self.indicators.append(Indicator(
                name=names[r] if names else f"{label}[{r}]", binary=int(binaries[r]), active=active,
                lin_idx=cols[a:b].copy(), lin_val=coefs[a:b].copy(),
                lower=float(lower[r] - lin.const[r]), upper=float(upper[r] - lin.const[r]),
                where=where[r] if where else label, condition=condition))

    # ------------------------------------------------------------- variables
    def _declare_variables(self) -> None:
        for name, var in self.f.variables.items():
            where = f"variable `{name}`"
            sets = []
            for set_name in var.index or []:
                s = self.get_set(set_name)
                if s is None:
                    hint = did_you_mean(set_name, list(self.f.sets))
                    raise FormulationError(f"index set `{set_name}` is not defined", where,
                                           hint or "declare it under `sets`")
                sets.append(s)
            domain = Domain(sets)
            n = domain.size
            check_elements(n, f"the variable over [{domain.names()}]", where)
            check_elements(self.ncols + n, "the model's variables together", where)
            offset = self.ncols
            lower = self._bound(name, var.lower, domain, 0.0 if var.type != "binary" else 0.0, "lower")
            default_upper = 1.0 if var.type == "binary" else INF
            upper = self._bound(name, var.upper, domain, default_upper, "upper")
            if var.type == "binary":
                lower = np.maximum(lower, 0.0)
                upper = np.minimum(upper, 1.0)
            if (lower > upper).any():
                k = int(np.argmax(lower > upper))
                raise FormulationError(f"lower bound {lower[k]} exceeds upper bound {upper[k]}", where,
                                       "check `lower:` and `upper:`")
            self.ncols += n
            self.col_lo.append(lower)
            self.col_hi.append(upper)
            self.col_int.append(np.full(n, 0 if var.type == "continuous" else 1, dtype=np.int8))
            keys = domain.keys if sets else None
            self.var_blocks.append(Block(name, offset, offset + n, key_source=keys, description=var.description))
            self.vars[name] = VarData(name, domain, offset, var.type)
        self._bounds_cache = None

    def _bound(self, var_name: str, spec: Any, domain: Domain, default: float, side: str) -> np.ndarray:
        where = f"variable `{var_name}`"
        n = domain.size
        if spec is None:
            return np.full(n, default)
        if isinstance(spec, bool):
            raise FormulationError(f"`{side}: {spec}` is a boolean", where, "give a number or a parameter name")
        if isinstance(spec, int | float):
            return np.full(n, data_number(spec, f"{where} {side} bound"))
        text = str(spec).strip()
        if text.lower() in ("inf", "+inf", ".inf", "infinity", "none"):
            return np.full(n, INF)
        if text.lower() in ("-inf", "-.inf", "-infinity"):
            return np.full(n, -INF)
        param = self.get_param(text) if text.isidentifier() else None
        if param is None:
            try:
                tree = parse_expression(text, where)
                value = Evaluator(self, where).eval(tree, Table(1))
            except VariableInData:
                raise FormulationError(f"`{side}: {text}` depends on a variable", where,
                                       "bounds are data; write the relation as a constraint") from None
            except FormulationError as exc:
                hint = did_you_mean(text, list(self.f.parameters))
                raise FormulationError(f"`{side}: {text}` is not a number or a parameter", where,
                                       hint or exc.fix or "declare the parameter") from None
            if not isinstance(value, Data):
                raise FormulationError(f"`{side}: {text}` is not a number", where, "give a number or a parameter")
            return np.full(n, float(value.v[0]))
        if param.is_member:
            raise FormulationError(f"`{side}: {text}` holds members, not numbers", where, "give a numeric parameter")
        if param.scalar:
            return np.full(n, float(param.values[0]))
        return self._bound_from_table(param, domain, where, side)

    def _bound_from_table(self, param: ParamData, domain: Domain, where: str, side: str) -> np.ndarray:
        columns = domain.key_columns()
        if param.domain.arity == domain.arity and [s.name for s in param.domain.sets] == \
                [s.name for s in domain.sets]:
            flat = np.arange(domain.size, dtype=np.int64)
        elif param.domain.arity == domain.arity:
            flat = param.domain.flat_positions(columns, [])
        else:
            picked: list[np.ndarray] = []
            names = [s.name for s in domain.sets]
            for s in param.domain.sets:
                if names.count(s.name) != 1:
                    raise FormulationError(
                        f"`{side}: {param.name}` over [{param.domain.names()}] is ambiguous for an index "
                        f"[{domain.names()}]", where, f"declare `{param.name}` over the variable's full index")
                c = sum(x.arity for x in domain.sets[:names.index(s.name)])
                picked.extend(columns[c:c + s.arity])
            flat = param.domain.flat_positions(picked, [])
        if (flat < 0).any():
            k = int(np.argmax(flat < 0))
            raise FormulationError(f"`{side}: {param.name}` has no entry for {domain.key(k)}", where,
                                   f"give `{param.name}` an entry for every key, or a `default:`")
        present = param.present[flat]
        values = param.values[flat].astype(float)
        if not present.all():
            if param.default is None:
                k = int(np.argmax(~present))
                raise FormulationError(f"`{side}: {param.name}` has no entry for {domain.key(k)}", where,
                                       f"give the entry or declare `default:` on `{param.name}`")
            values = np.where(present, values, float(param.default))
        return values

    # --------------------------------------------------------------- objective
    def _objective(self) -> tuple[np.ndarray, float, tuple[np.ndarray, np.ndarray, np.ndarray], str]:
        obj = self.f.objective
        if obj is None:
            return np.zeros(0), 0.0, (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)), "minimize"
        items = self.f.objectives()
        if len(items) == 1:  # a weight on a lone objective changes nothing
            return self._one_objective(items[0], "objective")
        return self._objective_levels(items)

    def _objective_levels(self, items: list) -> tuple[np.ndarray, float, tuple[np.ndarray, np.ndarray, np.ndarray], str]:
        """Several objectives: one level per priority (highest first), each a weighted sum in its first sense."""
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        priorities = sorted({o.priority or 0 for o in items}, reverse=True)
        levels: list[ObjectiveLevel] = []
        for priority in priorities:
            group = [(k, o) for k, o in enumerate(items) if (o.priority or 0) == priority]
            sense = group[0][1].sense
            linear = np.zeros(0)
            constant = 0.0
            for k, o in group:
                where = f"objective {k + 1}" if len(items) > 1 else "objective"
                lin, const, quad, _ = self._one_objective(o, where)
                if quad[2].size or self._objective_is_nonlinear:
                    raise FormulationError("is not linear; several objectives must each be linear", where,
                                           "keep one nonlinear objective, or move the nonlinear part into a "
                                           "variable and a constraint")
                factor = (1.0 if o.weight is None else float(o.weight)) * (1.0 if o.sense == sense else -1.0)
                size = max(len(linear), len(lin))
                linear = np.pad(linear, (0, size - len(linear))) + factor * np.pad(lin, (0, size - len(lin)))
                constant += factor * const
            text = " + ".join(f"{o.weight} * ({o.expr})" if o.weight is not None else o.expr for _, o in group)
            levels.append(ObjectiveLevel(priority, sense, linear, constant, text))
        self._levels = levels if len(levels) > 1 else []
        first = levels[0]
        return first.linear, first.constant, empty, first.sense

    def _one_objective(self, obj, where: str) -> tuple[np.ndarray, float, tuple[np.ndarray, np.ndarray, np.ndarray],
                                                      str]:
        self._objective_is_nonlinear = False
        tree = parse_expression(obj.expr, where)
        if isinstance(tree, ast.Compare):
            raise FormulationError(f"`{obj.expr}` is a comparison", where,
                                   "the objective is an expression; move the comparison to `constraints`")
        sign = 1 if obj.sense == "minimize" else -1
        ev = Evaluator(self, where)
        try:
            value = ev.eval(tree, Table(1), sign)
        except VariableInData as exc:
            raise FormulationError(f"variable `{exc.name}` appears where only data is allowed", where,
                                   "filters and subscripts use data only") from None
        if isinstance(value, Mem):
            value = ev.to_data(value, tree, Table(1))
        if isinstance(value, NL):
            self._objective_is_nonlinear = True
            t = self.new_columns("_objective", 1, np.array([-INF]), np.array([INF]), integer=False)
            lower, upper = (-INF, 0.0) if sign > 0 else (0.0, INF)
            self.nonlinear_rows.append(NonlinearRow("_objective_epigraph",
                                                    ("sum", [value.trees[0], ("prod", [("const", -1.0), ("var", int(t[0]))])]),
                                                    lower, upper))
            value = columns_lin(1, np.zeros(1, dtype=np.int64), t)
        if isinstance(value, Data):
            value = Lin.constant(value.v)
        rows, cols, coefs = value.terms()
        linear = np.bincount(cols, weights=coefs, minlength=self.ncols) if len(cols) else np.zeros(self.ncols)
        qr, qa, qb, qv = value.qterms()
        return linear, float(value.const[0]), (qa, qb, qv), obj.sense

    # ------------------------------------------------------------- constraints
    def _forall_table(self, form: ConstraintForm, ev: Evaluator) -> Table:
        base = Table(1)
        if not form.forall:
            return base
        table, _ = ev.expand(form.forall, base)
        return table

    def _keys_for(self, table: Table):
        if not table.binds:
            return None
        columns = [m.codes for m in table.binds.values()]
        codec = self.codec

        def build() -> list[tuple]:
            decoded = []
            for c in columns:
                if c.ndim == 1:
                    decoded.append([(v,) for v in codec.decode_many(c)])
                else:
                    parts = [codec.decode_many(c[:, k]) for k in range(c.shape[1])]
                    decoded.append(list(zip(*parts, strict=True)))
            return [sum(row, ()) for row in zip(*decoded, strict=True)]
        return build

    def _constraint(self, name: str) -> None:
        item = self.f.constraint(name)
        form = normalise_constraint(name, item.forall, item.expr, item.when, item.either, item.description)
        where = f"constraint `{name}`"
        ev = Evaluator(self, where)
        try:
            table = self._forall_table(form, ev)
            if table.n == 0:
                self.warnings.append(f"{where}: the `forall` selects no rows; it has no effect")
                return
            if form.either:
                self._either(form, table, ev)
            elif form.when is not None:
                self._when(form, table, ev)
            else:
                for k, (lin, lo, hi) in enumerate(self._comparison(form.expr, table, ev)):
                    self._emit(form, name if k == 0 else f"{name}_{k + 1}", table, ev, lin, lo, hi)
        except VariableInData as exc:
            raise FormulationError(f"variable `{exc.name}` is used where only data is allowed (a subscript, "
                                   "filter or condition)", where, "filters and subscripts select indices from data; "
                                   "for a row that holds only when a binary is 1, use `when:`") from None

    def _comparison(self, node: ast.expr, table: Table, ev: Evaluator) -> list[tuple[Any, np.ndarray, np.ndarray]]:
        """Rows of a comparison as (expression, lower, upper); chains give one or two rows."""
        assert isinstance(node, ast.Compare)
        operands = [node.left] + list(node.comparators)
        ops = list(node.ops)
        if len(ops) == 2 and all(isinstance(o, ast.LtE | ast.Lt) for o in ops) or \
                len(ops) == 2 and all(isinstance(o, ast.GtE | ast.Gt) for o in ops):
            ascending = isinstance(ops[0], ast.LtE | ast.Lt)
            lo_node, hi_node = (operands[0], operands[2]) if ascending else (operands[2], operands[0])
            lo_op, hi_op = (ops[0], ops[1]) if ascending else (ops[1], ops[0])
            lo_v, hi_v = ev.eval(lo_node, table), ev.eval(hi_node, table)
            if isinstance(lo_v, Data | Mem) and isinstance(hi_v, Data | Mem):
                lin = self._as_row_expr(ev.eval(operands[1], table, 0), operands[1], table, ev)
                a, b = ev.to_data(lo_v, lo_node, table).v, ev.to_data(hi_v, hi_node, table).v
                if any(isinstance(o, ast.Lt | ast.Gt) for o in ops):
                    self._require_integer(lin, node, table, ev)
                a = a + 1 if isinstance(lo_op, ast.Lt | ast.Gt) else a
                b = b - 1 if isinstance(hi_op, ast.Lt | ast.Gt) else b
                return [(lin, a, b)]
        rows = []
        for k, op in enumerate(ops):
            rows.append(self._pair(operands[k], op, operands[k + 1], node, table, ev))
        return rows

    def _require_integer(self, lin: Any, node: ast.AST, table: Table, ev: Evaluator) -> None:
        if isinstance(lin, NL):
            raise ev.error("strict `<`/`>` is only allowed between integer expressions", None, -1, "write `<=`/`>=`")
        rows, cols, coefs = lin.terms()
        ints = self.col_is_integer()
        ok = (len(cols) == 0 or (ints[cols].all() and np.all(coefs == np.round(coefs)))) and not lin.has_quadratic \
            and np.all(lin.const == np.round(lin.const))
        if not ok:
            raise ev.error("strict `<`/`>` is only allowed between integer expressions", None, -1,
                           "write `<=`/`>=` (with a margin if the problem needs one)")

    def _pair(self, left: ast.expr, op: ast.cmpop, right: ast.expr, node: ast.AST, table: Table,
              ev: Evaluator) -> tuple[Any, np.ndarray, np.ndarray]:
        n = table.n
        if isinstance(op, ast.LtE | ast.Lt):
            ls, rs = 1, -1
        elif isinstance(op, ast.GtE | ast.Gt):
            ls, rs = -1, 1
        else:
            ls = rs = 0
        lv = ev.eval(left, table, ls)
        rv = ev.eval(right, table, rs)
        diff = ev.add(lv, ev.negate(rv, right, table), node, table)
        expr = self._as_row_expr(diff, node, table, ev)
        zero = np.zeros(n)
        if isinstance(op, ast.Eq):
            return expr, zero, zero.copy()
        if isinstance(op, ast.LtE):
            return expr, np.full(n, -INF), zero
        if isinstance(op, ast.GtE):
            return expr, zero, np.full(n, INF)
        self._require_integer(expr, node, table, ev)
        if isinstance(op, ast.Lt):
            return expr, np.full(n, -INF), zero - 1
        return expr, zero + 1, np.full(n, INF)

    def _as_row_expr(self, value: Any, node: ast.AST, table: Table, ev: Evaluator) -> Lin | NL:
        if isinstance(value, Lin | NL):
            return value
        return Lin.constant(ev.to_data(value, node, table).v)

    def _emit(self, form: ConstraintForm, label: str, table: Table, ev: Evaluator, expr: Lin | NL,
              lower: np.ndarray, upper: np.ndarray) -> None:
        if isinstance(expr, Lin):
            empty = self._constant_rows(expr)
            if empty.any():
                value = expr.const
                bad = empty & ((value < lower - 1e-9) | (value > upper + 1e-9))
                if bad.any():
                    r = int(np.argmax(bad))
                    raise ev.error(f"reads {self._reading(form, table, r, ev)} (no variable left); the data make it "
                                   "impossible", table, r,
                                   "check the data, the filter or the comparison (an empty sum is 0)")
                if empty.all():
                    self.warnings.append(f"constraint `{form.name}` has no variables and always holds; it has no "
                                         "effect")
                    return
                keep = np.flatnonzero(~empty)  # rows that hold whatever the variables are: dropped
                expr, table = expr.take(keep), table.take(keep)
                lower, upper = lower[keep], upper[keep]
        n = table.n
        keys = self._keys_for(table)
        if isinstance(expr, Lin) and not expr.has_quadratic:
            self.add_rows(label, expr, lower, upper, keys=keys, description=form.description)
            return
        names = self._row_names(label, keys, n)
        if isinstance(expr, Lin) and expr.has_quadratic:
            rows, cols, coefs = expr.terms()
            qr, qa, qb, qv = expr.qterms()
            for r in range(n):
                m, q = rows == r, qr == r
                lin_cols, lin_vals = _merged(cols[m], coefs[m])
                self.quadratic_rows.append(QuadraticRow(names[r], lin_cols, lin_vals, qa[q], qb[q], qv[q],
                                                        float(lower[r] - expr.const[r]),
                                                        float(upper[r] - expr.const[r])))
            return
        for r, tree in enumerate(as_nl(expr).trees):
            self.nonlinear_rows.append(NonlinearRow(names[r], tree, float(lower[r]), float(upper[r])))

    @staticmethod
    def _constant_rows(expr: Lin) -> np.ndarray:
        """Rows of ``expr`` with no variable term (an empty sum, or data only)."""
        count = np.zeros(expr.n, dtype=np.int64)
        rows, _, coefs = expr.terms()
        if len(rows):
            count += np.bincount(rows[coefs != 0], minlength=expr.n)
        qr, _, _, qv = expr.qterms()
        if len(qr):
            count += np.bincount(qr[qv != 0], minlength=expr.n)
        return count == 0

    @staticmethod
    def _reading(form: ConstraintForm, table: Table, row: int, ev: Evaluator) -> str:
        """The comparison of one row with its data filled in: `0 >= 5`."""
        node = form.expr
        if not isinstance(node, ast.Compare):
            return "a constant"
        one = table.take(np.array([row], dtype=np.int64))
        parts = []
        for operand in [node.left, *node.comparators]:
            try:
                value = ev.eval(operand, one)
                number = float(ev.to_lin(value, operand, one).const[0]) if not isinstance(value, NL) else None
            except (FormulationError, VariableInData):
                number = None
            parts.append(f"{number:g}" if number is not None else ast.unparse(operand))
        text = parts[0]
        for op, part in zip(node.ops, parts[1:], strict=True):
            text += f" {_OP_TEXT[type(op)]} {part}"
        return text

    @staticmethod
    def _row_names(label: str, keys, n: int) -> list[str]:
        if keys is None:
            return [label] if n == 1 else [f"{label}[{k}]" for k in range(n)]
        return [f"{label}[{','.join(map(str, k))}]" for k in keys()]

    def _where_texts(self, form: ConstraintForm, table: Table, ev: Evaluator) -> list[str]:
        return [ev.where + ev.binding_text(table, r) for r in range(table.n)]

    def _when(self, form: ConstraintForm, table: Table, ev: Evaluator) -> None:
        assert form.when is not None and form.expr is not None
        binaries = self._binary_columns(form.when, table, ev)
        condition = f"`when: {'not ' if form.when_negated else ''}{ast.unparse(form.when)}`"
        wheres = self._where_texts(form, table, ev)
        for k, (expr, lo, hi) in enumerate(self._comparison(form.expr, table, ev)):
            if not isinstance(expr, Lin) or expr.has_quadratic:
                raise ev.error("a `when:` row must be linear", None, -1, "move the nonlinear part into a variable")
            label = form.name if k == 0 else f"{form.name}_{k + 1}"
            names = self._row_names(label, self._keys_for(table), table.n)
            self.add_indicators(label, binaries, 0 if form.when_negated else 1, expr, lo, hi, condition, wheres,
                                names)

    def _binary_columns(self, node: ast.expr, table: Table, ev: Evaluator) -> np.ndarray:
        value = ev.eval(node, table)
        text = ast.unparse(node)
        if not isinstance(value, Lin) or value.has_quadratic:
            raise ev.error(f"`when:` must name a binary variable or `not` one; `{text}` is not a variable", None, -1,
                           "write e.g. `when: open[d]`")
        rows, cols, coefs = value.terms()
        if len(cols) != table.n or not np.all(coefs == 1) or np.any(value.const != 0):
            raise ev.error(f"`when:` must name a binary variable or `not` one; `{text}` is an expression", None, -1,
                           "write e.g. `when: open[d]`")
        order = np.argsort(rows, kind="stable")
        cols = cols[order]
        lo, hi = self.col_bounds()
        ints = self.col_is_integer()
        bad = (ints[cols] == 0) | (lo[cols] < 0) | (hi[cols] > 1)
        if bad.any():
            var = next(b.name for b in self.var_blocks if b.start <= cols[int(np.argmax(bad))] < b.stop)
            kind = self.f.variables[var].type if var in self.f.variables else "not binary"
            raise ev.error(f"`when:` must name a binary variable or `not` one; `{text}` is {kind}", None, -1,
                           f"declare `{var}` with `type: binary`")
        return cols

    def _either(self, form: ConstraintForm, table: Table, ev: Evaluator) -> None:
        n = table.n
        k = len(form.either)
        wheres = self._where_texts(form, table, ev)
        label = f"_either_{form.name}"
        count = 1 if k == 2 else k
        picks = self.new_columns(label, n * count, np.zeros(n * count), np.ones(n * count), integer=True)
        picks = picks.reshape(count, n)
        for j, alt in enumerate(form.either):
            rows = self._comparison(alt, table, ev)
            for expr, lo, hi in rows:
                if not isinstance(expr, Lin) or expr.has_quadratic:
                    raise ev.error("an `either:` alternative must be linear", None, -1,
                                   "move the nonlinear part into a variable")
                if k == 2:
                    binaries, active = picks[0], 1 if j == 0 else 0
                else:
                    binaries, active = picks[j], 1
                names = self._row_names(f"{form.name}_{j + 1}", self._keys_for(table), n)
                self.add_indicators(form.name, binaries, active, expr, lo, hi,
                                    f"`either:` alternative {j + 1} `{ast.unparse(alt)}`", wheres, names)
        if k > 2:
            rowsel = np.arange(n, dtype=np.int64)
            total = Lin(n, np.zeros(n))
            for j in range(k):
                total = total.plus(columns_lin(n, rowsel, picks[j]))
            self.add_rows(label, total, np.ones(n), np.full(n, INF))

    # ----------------------------------------------------------------- driver
    def ground(self) -> GroundResult:
        start = time.perf_counter()
        for name in self.f.sets:
            self._guard(self.get_set, name)
        for name in self.f.parameters:
            self._guard(self.get_param, name)
        self._declare_variables()
        objective = self._guard(lambda _: self._objective(), "objective")
        for name in self.f.constraints:
            self._guard(self._constraint, name)
        if self.errors:
            raise self.errors[0]
        linear, constant, quad, sense = objective
        problem = self._assemble(linear, constant, quad, sense)
        self._unused()
        return GroundResult(problem, self.warnings, time.perf_counter() - start)

    def _guard(self, fn, name: str):
        if not self.collect_errors:
            return fn(name)
        try:
            return fn(name)
        except FormulationError as exc:
            if not isinstance(exc, AlreadyReported) and str(exc) not in {str(e) for e in self.errors}:
                self.errors.append(exc)
            return (np.zeros(0), 0.0, (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)), "minimize") \
                if name == "objective" else None

    def _assemble(self, linear: np.ndarray, constant: float, quad, sense: str) -> FlatProblem:
        lo, hi = self.col_bounds()
        ints = self.col_is_integer()
        n = self.ncols
        obj = np.zeros(n)
        obj[:len(linear)] = linear
        store = self.store
        m = store.count
        if store.rows:
            rows = np.concatenate(store.rows)
            cols = np.concatenate(store.cols)
            coefs = np.concatenate(store.coefs)
            row_lo = np.concatenate(store.lower)
            row_hi = np.concatenate(store.upper)
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
            coefs = row_lo = row_hi = np.zeros(0)
        start, index, value = to_csr(rows, cols, coefs, m, n)
        qa, qb, qv = quad
        qa, qb, qv = merge_pairs(qa, qb, qv, n)
        problem = FlatProblem(
            name=self.f.name, sense=sense, col_lower=lo, col_upper=hi, integrality=ints, obj_linear=obj,
            obj_constant=constant, row_start=start, row_index=index, row_value=value, row_lower=row_lo,
            row_upper=row_hi, var_blocks=self.var_blocks, row_blocks=store.blocks, obj_qi=qa, obj_qj=qb, obj_qv=qv,
            quadratic_rows=self.quadratic_rows, indicators=self.indicators, nonlinear_rows=self.nonlinear_rows,
            objective_levels=self._levels)
        from formulate.ir.classify import classify

        classify(problem, self.warnings)
        return problem

    def _unused(self) -> None:
        used: set[str] = set()
        texts = [o.expr for o in self.f.objectives()]
        for name in self.f.constraints:
            c = self.f.constraint(name)
            texts += [t for t in (c.forall, c.expr, c.when) if t] + list(c.either or [])
        for spec in self.f.parameters.values():
            if isinstance(spec, str):
                texts.append(spec)
        for s in self.f.sets.values():
            if isinstance(s, str):
                texts.append(s)
        for v in self.f.variables.values():
            texts += [str(b) for b in (v.lower, v.upper) if isinstance(b, str)]
        for t in texts:
            try:
                used |= {node.id for node in ast.walk(parse_expression(t.replace("forall", ""), None))
                         if isinstance(node, ast.Name)}
            except FormulationError:
                used |= set(t.replace("[", " ").replace("]", " ").replace(",", " ").split())
        for name in self.f.parameters:
            if name not in used:
                self.warnings.append(f"parameter `{name}` is never used; is a term missing?")
        for name in self.f.variables:
            if name not in used:
                self.warnings.append(f"variable `{name}` is never used")


def _merged(cols: np.ndarray, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum duplicate columns and drop zeros."""
    if len(cols) == 0:
        return cols.astype(np.int64), coefs.astype(float)
    uniq, inverse = np.unique(cols, return_inverse=True)
    values = np.bincount(inverse, weights=coefs)
    keep = values != 0
    return uniq[keep].astype(np.int64), values[keep]


def to_csr(rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray, m: int, n: int):
    """Row-major CSR with duplicates summed and explicit zeros dropped.

    Rows arrive as a few runs that are each sorted (one per term of a constraint), so a stable
    sort (timsort over runs) is close to linear.
    """
    if len(rows) == 0:
        return np.zeros(m + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    key = rows * max(n, 1) + cols
    if len(key) > 1 and not bool(np.all(key[1:] > key[:-1])):
        order = np.argsort(key, kind="stable")
        key, cols, coefs = key[order], cols[order], coefs[order]
        new = np.empty(len(key), dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        if not new.all():
            starts = np.flatnonzero(new)
            coefs = np.add.reduceat(coefs, starts)
            key, cols = key[starts], cols[starts]
        rows = key // max(n, 1)
    keep = coefs != 0
    if not keep.all():
        rows, cols, coefs = rows[keep], cols[keep], coefs[keep]
    start = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=start[1:])
    return start, cols.astype(np.int64, copy=False), coefs.astype(float, copy=False)


def merge_pairs(qa: np.ndarray, qb: np.ndarray, qv: np.ndarray, n: int):
    """Quadratic terms with each (i <= j) pair once, coefficients summed."""
    if len(qa) == 0:
        return qa.astype(np.int64), qb.astype(np.int64), qv.astype(float)
    i, j = np.minimum(qa, qb), np.maximum(qa, qb)
    key = i * n + j
    uniq, inverse = np.unique(key, return_inverse=True)
    values = np.bincount(inverse, weights=qv)
    keep = values != 0
    return (uniq // n)[keep].astype(np.int64), (uniq % n)[keep].astype(np.int64), values[keep]


def ground(formulation: Formulation, base_dir: str | Path | None = None) -> GroundResult:
    """Ground a formulation into a FlatProblem (raises FormulationError on the first error)."""
    return Grounder(formulation, base_dir).ground()
