"""The functions of the expression language: sum, min, max, abs, exp, log, sqrt, pwl and the set helpers.

``min``/``max``/``abs`` of variables become an epigraph (no binaries) in convex positions and an exact
formulation with indicator rows elsewhere (language.md §6); ``pwl`` likewise.
"""

from __future__ import annotations

import ast

import numpy as np

from formulate.errors import FormulationError
from formulate.ir.evaluate import Evaluator, Table, Value
from formulate.ir.values import NL, Data, Lin, Mem, as_nl

INF = np.inf


def lin_bounds(lin: Lin, col_lo: np.ndarray, col_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds of each row of an affine expression over the column bounds."""
    rows, cols, coefs = lin.terms()
    lo_t, hi_t = term_bounds(coefs, col_lo[cols], col_hi[cols])
    lo = lin.const + np.bincount(rows, weights=lo_t, minlength=lin.n)
    hi = lin.const + np.bincount(rows, weights=hi_t, minlength=lin.n)
    if lin.has_quadratic:
        qr = lin.qterms()[0]
        lo[np.unique(qr)] = -INF
        hi[np.unique(qr)] = INF
    return lo, hi


def term_bounds(coefs: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each term coef * x over x in [lo, hi] (zero coefficients give 0)."""
    pos, neg = coefs > 0, coefs < 0
    low = np.zeros(len(coefs))
    high = np.zeros(len(coefs))
    low[pos], high[pos] = coefs[pos] * lo[pos], coefs[pos] * hi[pos]
    low[neg], high[neg] = coefs[neg] * hi[neg], coefs[neg] * lo[neg]
    return low, high


def columns_lin(n: int, rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray | None = None) -> Lin:
    return Lin(n, np.zeros(n), [(rows, cols, np.ones(len(rows)) if coefs is None else coefs)])


def _label(ev: Evaluator, what: str) -> str:
    ev._aux_count += 1
    base = ev.where.replace("constraint ", "").replace("`", "").replace(" ", "_")
    return f"_{what}{ev._aux_count}_{base}"


def _args(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> tuple[list[Value], Table, np.ndarray | None]:
    """Arguments of min/max/sum: a generator (expanded, with parents) or a list of values."""
    gen = ev.generator_parts(node)
    if gen is not None:
        elt, generators = gen
        expanded, parent = ev.expand(generators, table)
        return [ev.eval(elt, expanded, sign)], expanded, parent
    nodes = node.args[0].elts if len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple) else node.args
    if not nodes:
        raise ev.error(f"`{ast.unparse(node)}` has no arguments", table, 0)
    return [ev.eval(a, table, sign) for a in nodes], table, None


def call_sum(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    values, expanded, parent = _args(ev, node, table, sign)
    if parent is None:
        total = values[0]
        for v, a in zip(values[1:], node.args[1:], strict=True):
            total = ev.add(total, v, a, table)
        return total
    value = values[0]
    if isinstance(value, Data | Mem):
        d = ev.to_data(value, node, expanded).v
        return Data(np.bincount(parent, weights=d, minlength=table.n) if len(d) else np.zeros(table.n))
    if isinstance(value, Lin):
        return value.aggregate(parent, table.n)
    trees: list[list] = [[] for _ in range(table.n)]
    for p, t in zip(parent.tolist(), value.trees, strict=True):
        trees[p].append(t)
    return NL([("sum", t) if t else ("const", 0.0) for t in trees])


def call_max(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _extremum(ev, node, table, sign, is_max=True)


def call_min(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _extremum(ev, node, table, sign, is_max=False)


def _extremum(ev: Evaluator, node: ast.Call, table: Table, sign: int, is_max: bool) -> Value:
    values, expanded, parent = _args(ev, node, table, sign)
    if parent is not None and table.n:
        empty = np.bincount(parent, minlength=table.n) == 0
        if empty.any():
            raise ev.error(f"`{ast.unparse(node)}` is {'max' if is_max else 'min'} over nothing: the generator is empty",
                           table, int(np.argmax(empty)), "add a filter so that it has members, or use sum(...)")
    if all(isinstance(v, Data | Mem) for v in values):
        if parent is None:
            arrays = [ev.to_data(v, node, table).v for v in values]
            return Data(np.maximum.reduce(arrays) if is_max else np.minimum.reduce(arrays))
        d = ev.to_data(values[0], node, expanded).v
        out = np.full(table.n, -INF if is_max else INF)
        (np.maximum if is_max else np.minimum).at(out, parent, d)
        return Data(out)
    if any(isinstance(v, NL) for v in values):
        raise ev.error(f"`{ast.unparse(node)}`: min/max of nonlinear terms is not supported", table, 0,
                       "introduce a variable for the nonlinear part")
    # affine arguments: per argument an n-row (or m-row, for generators) Lin; parent maps to table rows
    if parent is None:
        args = [ev.to_lin(v, a, table) for v, a in zip(values, _arg_nodes(node), strict=False)]
        groups = [(arg, np.arange(table.n, dtype=np.int64)) for arg in args]
    else:
        groups = [(ev.to_lin(values[0], node, expanded), parent)]
    convex = (is_max and sign > 0) or (not is_max and sign < 0)
    return _epigraph(ev, groups, table.n, is_max, exact=not convex)


def _arg_nodes(node: ast.Call) -> list[ast.expr]:
    if len(node.args) == 1 and isinstance(node.args[0], ast.List | ast.Tuple):
        return list(node.args[0].elts)
    return list(node.args)


def _epigraph(ev: Evaluator, groups: list[tuple[Lin, np.ndarray]], n: int, is_max: bool, exact: bool) -> Lin:
    """z = max (or min) of affine pieces; each piece has rows mapped to z's rows by a parent array."""
    ctx = ev.ctx
    col_lo, col_hi = ctx.col_bounds()
    z_lo = np.full(n, -INF if is_max else INF)
    z_hi = np.full(n, -INF if is_max else INF)
    for lin, parent in groups:
        lo, hi = lin_bounds(lin, col_lo, col_hi)
        if is_max:
            np.maximum.at(z_lo, parent, lo)
            np.maximum.at(z_hi, parent, hi)
        else:
            np.minimum.at(z_lo, parent, lo)
            np.minimum.at(z_hi, parent, hi)
    lower, upper = np.minimum(z_lo, z_hi), np.maximum(z_lo, z_hi)
    label = _label(ev, "max" if is_max else "min")
    z = ctx.new_columns(label, n, lower, upper, integer=False)
    for lin, parent in groups:
        m = lin.n
        diff = columns_lin(m, np.arange(m, dtype=np.int64), z[parent]).plus(lin.scaled(np.full(m, -1.0)))
        if is_max:
            ctx.add_rows(label, diff, np.zeros(m), np.full(m, INF))
        else:
            ctx.add_rows(label, diff, np.full(m, -INF), np.zeros(m))
    if exact:
        total = sum(g[0].n for g in groups)
        ys = ctx.new_columns(label + "_pick", total, np.zeros(total), np.ones(total), integer=True)
        offset = 0
        pick = Lin(n, np.zeros(n))
        for lin, parent in groups:
            m = lin.n
            y = ys[offset:offset + m]
            offset += m
            pick = pick.plus(columns_lin(n, parent, y))
            diff = columns_lin(m, np.arange(m, dtype=np.int64), z[parent]).plus(lin.scaled(np.full(m, -1.0)))
            lo, hi = (np.full(m, -INF), np.zeros(m)) if is_max else (np.zeros(m), np.full(m, INF))
            ctx.add_indicators(label, y, 1, diff, lo, hi, f"{'max' if is_max else 'min'}(...) in {ev.where}")
        ctx.add_rows(label + "_one", pick, np.ones(n), np.ones(n))
    return columns_lin(n, np.arange(n, dtype=np.int64), z)


def call_abs(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    if len(node.args) != 1:
        raise ev.error("abs takes one argument", table, 0)
    value = ev.eval(node.args[0], table, 0)
    if isinstance(value, Data | Mem):
        return Data(np.abs(ev.to_data(value, node.args[0], table).v))
    if isinstance(value, NL):
        return NL([("abs", t) for t in value.trees])
    rows = np.arange(table.n, dtype=np.int64)
    groups = [(value, rows), (value.scaled(np.full(value.n, -1.0)), rows)]
    return _epigraph(ev, groups, table.n, is_max=True, exact=sign <= 0)


def _unary_math(ev: Evaluator, node: ast.Call, table: Table, name: str) -> Value:
    if len(node.args) != 1:
        raise ev.error(f"{name} takes one argument", table, 0)
    value = ev.eval(node.args[0], table, 0)
    if isinstance(value, Data | Mem):
        d = ev.to_data(value, node.args[0], table).v
        if name == "log" and np.any(d <= 0):
            raise ev.error(f"`{ast.unparse(node)}`: log of a non-positive number", table, int(np.argmax(d <= 0)))
        if name == "sqrt" and np.any(d < 0):
            raise ev.error(f"`{ast.unparse(node)}`: sqrt of a negative number", table, int(np.argmax(d < 0)))
        with np.errstate(all="ignore"):
            return ev.finite({"exp": np.exp, "log": np.log, "sqrt": np.sqrt}[name](d), (d,), node, table)
    return NL([(name, t) for t in as_nl(value).trees])


def call_exp(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _unary_math(ev, node, table, "exp")


def call_log(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _unary_math(ev, node, table, "log")


def call_sqrt(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _unary_math(ev, node, table, "sqrt")


def _set_arg(ev: Evaluator, node: ast.Call, table: Table):
    if len(node.args) != 1 or not isinstance(node.args[0], ast.Name) or ev.ctx.get_set(node.args[0].id) is None:
        raise ev.error(f"`{ast.unparse(node)}` takes one set name", table, 0)
    return ev.ctx.get_set(node.args[0].id)


def call_len(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return ev.full(table, float(len(_set_arg(ev, node, table))))


def _end(ev: Evaluator, node: ast.Call, table: Table, last: bool) -> Value:
    s = _set_arg(ev, node, table)
    if len(s) == 0:
        raise ev.error(f"`{ast.unparse(node)}`: set `{s.name}` is empty", table, 0)
    p = len(s) - 1 if last else 0
    codes = np.repeat(s.codes[p:p + 1], table.n, axis=0)
    return Mem(codes, s, np.full(table.n, p, dtype=np.int64))


def call_first(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _end(ev, node, table, last=False)


def call_last(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _end(ev, node, table, last=True)


def _position(ev: Evaluator, node: ast.Call, table: Table) -> tuple[Mem, np.ndarray]:
    if not node.args:
        raise ev.error(f"`{ast.unparse(node)}` needs an index", table, 0)
    mem = ev.eval(node.args[0], table)
    arg = node.args[0]
    if isinstance(mem, Mem) and mem.set is None and isinstance(arg, ast.Name) and arg.id in ev.tuple_targets:
        raise _tuple_component_error(ev, node, arg.id, mem, table)
    if not isinstance(mem, Mem) or mem.set is None or mem.codes.ndim != 1:
        raise ev.error(f"`{ast.unparse(node)}`: `{ast.unparse(node.args[0])}` must be an index bound to a set "
                       "(`for i in S`)", table, 0)
    pos = mem.pos if mem.pos is not None else mem.set.positions([mem.codes])
    if (pos < 0).any():
        raise ev.error(f"`{ast.unparse(node)}`: not a member of {mem.set.name}", table, int(np.argmax(pos < 0)))
    return mem, pos


def _tuple_component_error(ev: Evaluator, node: ast.Call, name: str, mem: Mem, table: Table):
    """`ord(a)` with `a` from `for (a, b) in Pairs`: a component has no set, so no position; say how to bind it."""
    names, iterated = ev.tuple_targets[name]
    loops = []
    for part in names:
        loops.append(f"for {part} in {_set_holding(ev, table.binds[part].codes) if part in table.binds else 'S'}")
    target = f"({', '.join(names)})"
    rewrite = f"{' '.join(loops)} if {target} in {iterated}"
    return ev.error(f"`{ast.unparse(node)}`: `{name}` is a part of the tuple target `for {target} in {iterated}`, "
                    "which has no order of its own", table, 0, f"bind it to a plain set: `{rewrite}`")


def _set_holding(ev: Evaluator, codes: np.ndarray) -> str:
    """The first declared one-part set that holds every value of ``codes`` (``S`` when none does)."""
    names = getattr(ev.ctx, "f", None)
    for set_name in (list(names.sets) if names is not None else []):
        try:
            s = ev.ctx.get_set(set_name)
        except FormulationError:  # a set that fails to build is reported on its own
            continue
        if s is not None and s.arity == 1 and len(codes) and bool((s.positions([codes]) >= 0).all()):
            return set_name
    return "S"


def _step(ev: Evaluator, node: ast.Call, table: Table, direction: int) -> Value:
    mem, pos = _position(ev, node, table)
    step = ev.eval_data(node.args[1], table).v.astype(np.int64) if len(node.args) > 1 else np.ones(table.n, np.int64)
    wrap = False
    for kw in node.keywords:
        wrap = bool(ev.eval_data(kw.value, table).v.all())
    s = mem.set
    new = pos + direction * step
    if wrap:
        new = np.mod(new, len(s))
    elif ((new < 0) | (new >= len(s))).any():
        row = int(np.argmax((new < 0) | (new >= len(s))))
        raise ev.error(f"`{ast.unparse(node)}` leaves {s.name} = {s.preview()}", table, row,
                       f"restrict the loop, write a conditional such as `(... if {ast.unparse(node.args[0])} "
                       f"{'>' if direction < 0 else '<'} {'first' if direction < 0 else 'last'}({s.name}) else ...)`, "
                       "or pass wrap=True for a cyclic set")
    return Mem(s.codes[new], s, new)


def call_prev(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _step(ev, node, table, -1)


def call_next(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    return _step(ev, node, table, 1)


def call_ord(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    _, pos = _position(ev, node, table)
    return Data(pos.astype(float) + 1.0)


def call_range(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    raise ev.error(f"`{ast.unparse(node)}` can only be iterated (`for k in range(a, b)`)", table, 0)


def _breakpoints(ev: Evaluator, node: ast.expr, table: Table) -> list[np.ndarray]:
    if isinstance(node, ast.Name):
        param = ev.ctx.get_param(node.id)
        if param is not None and len(param.domain.sets) == 1:
            values = np.where(param.present, param.values, np.nan if param.default is None else param.default)
            return [np.full(table.n, float(v)) for v in values]
    if isinstance(node, ast.List | ast.Tuple):
        return [ev.eval_data(e, table).v for e in node.elts]
    raise ev.error(f"pwl: `{ast.unparse(node)}` must be a one-set parameter or a list of numbers", table, 0)


def call_pwl(ev: Evaluator, node: ast.Call, table: Table, sign: int) -> Value:
    """pwl(x, xs, ys): epigraph rows when convex minimised / concave maximised, else λ with binaries."""
    if len(node.args) != 3:
        raise ev.error("`pwl` takes (x, xs, ys)", table, 0, "write pwl(x, xs, ys)")
    x = ev.eval(node.args[0], table)
    if isinstance(x, NL) or (isinstance(x, Lin) and x.has_quadratic):
        raise ev.error("`pwl`: x must be affine", table, 0)
    xs = _breakpoints(ev, node.args[1], table)
    ys = _breakpoints(ev, node.args[2], table)
    n = table.n
    if len(xs) != len(ys) or len(xs) < 2 or any(np.any(np.diff(np.stack(xs), axis=0) <= 0, axis=None)
                                                 for _ in [0]) or np.isnan(np.stack(xs + ys)).any():
        raise ev.error("`pwl`: xs must be strictly increasing and as long as ys", table, 0,
                       "give at least two breakpoints, xs in increasing order")
    X, Y = np.stack(xs), np.stack(ys)  # (K, n)
    if isinstance(x, Data | Mem):
        xv = ev.to_data(x, node.args[0], table).v
        return Data(np.array([np.interp(xv[r], X[:, r], Y[:, r]) for r in range(n)]))
    slopes = np.diff(Y, axis=0) / np.diff(X, axis=0)
    convex = bool(np.all(np.diff(slopes, axis=0) >= -1e-12))
    concave = bool(np.all(np.diff(slopes, axis=0) <= 1e-12))
    ctx = ev.ctx
    label = _label(ev, "pwl")
    rows = np.arange(n, dtype=np.int64)
    neg_x = x.scaled(np.full(n, -1.0))
    ctx.add_rows(label + "_domain", x, X[0], X[-1])
    if (convex and sign > 0) or (concave and sign < 0):
        t = ctx.new_columns(label, n, np.full(n, -INF), np.full(n, INF), integer=False)
        for j in range(slopes.shape[0]):
            row = columns_lin(n, rows, t).plus(x.scaled(-slopes[j]))
            rhs = Y[j] - slopes[j] * X[j]
            if convex and sign > 0:
                ctx.add_rows(label, row, rhs, np.full(n, INF))
            else:
                ctx.add_rows(label, row, np.full(n, -INF), rhs)
        return columns_lin(n, rows, t)
    K = X.shape[0]
    lam = ctx.new_columns(label + "_weight", n * K, np.zeros(n * K), np.ones(n * K), integer=False).reshape(K, n)
    seg = ctx.new_columns(label + "_segment", n * (K - 1), np.zeros(n * (K - 1)), np.ones(n * (K - 1)),
                          integer=True).reshape(K - 1, n)
    ones = np.ones(n)
    ctx.add_rows(label + "_convex", _sum_cols(n, lam), ones, ones)
    ctx.add_rows(label + "_one_segment", _sum_cols(n, seg), ones, ones)
    link = neg_x
    for k in range(K):
        link = link.plus(columns_lin(n, rows, lam[k], X[k]))
    ctx.add_rows(label + "_x", link, np.zeros(n), np.zeros(n))
    for k in range(K):
        adj = [seg[j] for j in (k - 1, k) if 0 <= j < K - 1]
        row = columns_lin(n, rows, lam[k])
        for a in adj:
            row = row.plus(columns_lin(n, rows, a, -ones))
        ctx.add_rows(label + "_sos2", row, np.full(n, -INF), np.zeros(n))
    value = Lin(n, np.zeros(n))
    for k in range(K):
        value = value.plus(columns_lin(n, rows, lam[k], Y[k]))
    return value


def _sum_cols(n: int, cols: np.ndarray) -> Lin:
    rows = np.arange(n, dtype=np.int64)
    out = Lin(n, np.zeros(n))
    for k in range(cols.shape[0]):
        out = out.plus(columns_lin(n, rows, cols[k]))
    return out
