"""Source of the small helper functions an exported script carries; only the ones it calls are emitted.

The reformulation helpers (`max_of`, `min_of`, `abs_of`, `pwl`, `implies`) are written once against
four primitives every linear target defines: `new_var`, `add_row`, `terms_of` and `var_bounds`
(and `var_name` for messages). Big-M values come from interval arithmetic over the variables'
bounds, computed when the script runs, so editing a bound in the script keeps M right.
"""

from __future__ import annotations

import re

POSITION = '''
_POSITIONS: dict = {}


def position(members, item):
    """1-based position of `item` in an ordered set (AMPL's ord)."""
    if not isinstance(members, list):
        return list(members).index(item) + 1
    table = _POSITIONS.get(id(members))
    if table is None:
        table = _POSITIONS[id(members)] = {m: k for k, m in enumerate(members)}
    return table[item] + 1
'''

PREV_MEMBER = '''
def prev_member(members, item, step=1, wrap=False):
    """The member `step` places before `item` (wrapping around the end of a cyclic set if asked)."""
    k = position(members, item) - 1 - step
    if wrap:
        k %= len(members)
    elif k < 0:
        raise IndexError(f"prev({item!r}, {step}) leaves the set")
    return members[k]
'''

NEXT_MEMBER = '''
def next_member(members, item, step=1, wrap=False):
    """The member `step` places after `item` (wrapping around the end of a cyclic set if asked)."""
    k = position(members, item) - 1 + step
    if wrap:
        k %= len(members)
    elif k >= len(members):
        raise IndexError(f"next({item!r}, {step}) leaves the set")
    return members[k]
'''

INTERPOLATE = '''
def interpolate(x, xs, ys):
    """The piecewise-linear function through (xs, ys) at a number x."""
    for k in range(len(xs) - 1):
        if x <= xs[k + 1] or k == len(xs) - 2:
            return ys[k] + (ys[k + 1] - ys[k]) * (x - xs[k]) / (xs[k + 1] - xs[k])
    return ys[0]
'''

BOUNDS_OF = '''
def bounds_of(expr):
    """Lowest and highest value of an affine expression over its variables' bounds."""
    constant, terms = terms_of(expr)
    low = high = constant
    for var, coef in terms:
        lb, ub = var_bounds(var)
        if coef > 0:
            low, high = low + coef * lb, high + coef * ub
        elif coef < 0:
            low, high = low + coef * ub, high + coef * lb
    return low, high
'''

MISSING_BOUND = '''
def missing_bound(name, expr, side):
    """Why `expr` has no finite bound on `side`: the variable without a bound, as an error message."""
    for var, coef in terms_of(expr)[1]:
        lb, ub = var_bounds(var)
        needs_upper = (coef > 0) == (side == "upper")
        if (needs_upper and ub == INF) or (not needs_upper and lb == -INF):
            which = "upper" if needs_upper else "lower"
            return (f"{name}: a big-M needs the {which} bound of `{var_name(var)}`, which has none; give it "
                    "one, or export to gurobipy (native indicator constraints)")
    return f"{name}: no finite big-M"
'''

IMPLIES = '''
def implies(name, binary, active, expr, sense, rhs=0):
    """`expr <sense> rhs` must hold when `binary == active`: a big-M row, M from the variables' bounds."""
    slack = 1 - binary if active else binary  # 0 where the row must hold, 1 where it may be violated
    low, high = bounds_of(expr)
    if sense in ("<=", "=="):
        if high == INF:
            raise ValueError(missing_bound(name, expr, "upper"))
        if high - rhs > 1e-12:
            add_row(name, expr <= rhs + (high - rhs) * slack)
    if sense in (">=", "=="):
        if low == -INF:
            raise ValueError(missing_bound(name, expr, "lower"))
        if rhs - low > 1e-12:
            add_row(name, expr >= rhs - (rhs - low) * slack)
'''

PRODUCT = '''
_PRODUCTS: dict = {}


def product(name, a, b):
    """a * b with a binary factor, exactly as linear rows: one variable z per pair of variables,
    L b <= z <= U b and x - U (1 - b) <= z <= x - L (1 - b) for x in [L, U] (z <= b, z <= c,
    z >= b + c - 1 for two binaries); b * b is b."""
    ca, ta = terms_of(a)
    cb, tb = terms_of(b)
    if len(ta) == 1 and len(tb) == 1 and ca == 0 and cb == 0:
        (x, p), (y, q) = ta[0], tb[0]
        if not is_binary(x):
            x, y = y, x
        if is_binary(x):
            if var_name(x) == var_name(y):
                return p * q * var_of(x)
            key = (var_name(x), var_name(y))
            if key not in _PRODUCTS:
                low, high = var_bounds(y)
                if low == -INF or high == INF:
                    raise ValueError(f"{name}: `{var_name(x)} * {var_name(y)}` needs finite bounds on "
                                     f"{var_name(y)} to be linear; export to pyomo or gurobipy")
                z = new_var(f"{var_name(x)}*{var_name(y)}", min(0, low), max(0, high))
                b, v = var_of(x), var_of(y)
                add_row(name, z - low * b >= 0)
                add_row(name, z - high * b <= 0)
                add_row(name, z - v - high * b >= -high)
                add_row(name, z - v - low * b <= -low)
                _PRODUCTS[key] = z
            return p * q * _PRODUCTS[key]
    raise ValueError(f"{name}: a product of variables is linear only when one factor is a binary variable and "
                     "the other a bounded variable; export to pyomo or gurobipy")
'''

MAX_OF = '''
def max_of(name, args, exact):
    """A variable equal to max(args). In a convex position (a minimised max) rows above every argument
    suffice; elsewhere (exact=True) binaries choose the argument it equals, with big-M from the bounds."""
    bounds = [bounds_of(a) for a in args]
    top = max(high for _, high in bounds)
    z = new_var(name + "_max", max(low for low, _ in bounds), top)
    for a in args:
        add_row(name, z >= a)
    if exact:
        picks = [new_var(name + "_pick", 0, 1, "binary") for _ in args]
        for a, pick in zip(args, picks):
            implies(name, pick, 1, z - a, "<=")  # z is at most the argument picked
        add_row(name, sum(picks) == 1)
    return z
'''

MIN_OF = '''
def min_of(name, args, exact):
    """A variable equal to min(args). In a convex position (a maximised min) rows below every argument
    suffice; elsewhere (exact=True) binaries choose the argument it equals, with big-M from the bounds."""
    bounds = [bounds_of(a) for a in args]
    z = new_var(name + "_min", min(low for low, _ in bounds), min(high for _, high in bounds))
    for a in args:
        add_row(name, z <= a)
    if exact:
        picks = [new_var(name + "_pick", 0, 1, "binary") for _ in args]
        for a, pick in zip(args, picks):
            implies(name, pick, 1, z - a, ">=")  # z is at least the argument picked
        add_row(name, sum(picks) == 1)
    return z
'''

ABS_OF = '''
def abs_of(name, expr, exact):
    """A variable equal to |expr|: max(expr, -expr)."""
    return max_of(name, [expr, -expr], exact)
'''

PWL = '''
def pwl(name, x, xs, ys, sign):
    """y = the piecewise-linear function through (xs, ys) at x, with xs[0] <= x <= xs[-1].

    Convex and minimised (sign > 0) or concave and maximised (sign < 0): one row per segment.
    Otherwise weights on the breakpoints and one binary per segment (adjacent weights only)."""
    xs, ys = list(xs), list(ys)
    add_row(name, x >= xs[0])
    add_row(name, x <= xs[-1])
    slopes = [(ys[k + 1] - ys[k]) / (xs[k + 1] - xs[k]) for k in range(len(xs) - 1)]
    convex = all(b - a >= -1e-12 for a, b in zip(slopes, slopes[1:]))
    concave = all(b - a <= 1e-12 for a, b in zip(slopes, slopes[1:]))
    if (convex and sign > 0) or (concave and sign < 0):
        y = new_var(name + "_pwl", -INF, INF)
        for k, slope in enumerate(slopes):
            if convex and sign > 0:
                add_row(name, y - slope * x >= ys[k] - slope * xs[k])
            else:
                add_row(name, y - slope * x <= ys[k] - slope * xs[k])
        return y
    weights = [new_var(name + "_weight", 0, 1) for _ in xs]
    segments = [new_var(name + "_segment", 0, 1, "binary") for _ in slopes]
    add_row(name, sum(weights) == 1)
    add_row(name, sum(segments) == 1)
    add_row(name, sum(w * p for w, p in zip(weights, xs)) == x)
    for k, w in enumerate(weights):
        add_row(name, w <= sum(segments[j] for j in (k - 1, k) if 0 <= j < len(segments)))
    return sum(w * v for w, v in zip(weights, ys))
'''

REPORT = '''
def key_text(key):
    """A key as printed: members joined by commas."""
    return ",".join(map(str, key)) if isinstance(key, tuple) else str(key)


def nonzero_values():
    """{"x[chair]": 3.0, ...} for every variable entry whose value is not zero."""
    out = {}
    for name, var in VARIABLES.items():
        for key, entry in entries(var):
            value = value_of(entry)
            if value is None or abs(value) <= 1e-9:
                continue
            nearest = round(value)
            label = name if key is None else f"{name}[{key_text(key)}]"
            out[label] = float(nearest) if abs(value - nearest) <= 1e-9 else value
    return out


def report(status, objective, values):
    """Print `status:`, `objective:` and `name[key] = value` lines, or one JSON object with --json."""
    if "--json" in sys.argv[1:]:
        print(json.dumps({"status": status, "objective": objective, "values": values}))
        return
    print(f"status: {status}")
    print(f"objective: {'none' if objective is None else format(objective, '.15g')}")
    for name, value in values.items():
        print(f"{name} = {value:.15g}")


if __name__ == "__main__":
    report(*solve())
'''

#: helpers the data section may call: emitted before it
SET_HELPERS = ("position", "prev_member", "next_member", "interpolate")

#: helper name -> (source, helpers it calls)
GENERIC: dict[str, tuple[str, tuple[str, ...]]] = {
    "position": (POSITION, ()),
    "prev_member": (PREV_MEMBER, ("position",)),
    "next_member": (NEXT_MEMBER, ("position",)),
    "interpolate": (INTERPOLATE, ()),
    "bounds_of": (BOUNDS_OF, ("terms_of", "var_bounds")),
    "missing_bound": (MISSING_BOUND, ("terms_of", "var_bounds", "var_name")),
    "implies": (IMPLIES, ("bounds_of", "missing_bound", "add_row")),
    "max_of": (MAX_OF, ("bounds_of", "new_var", "add_row", "implies")),
    "min_of": (MIN_OF, ("bounds_of", "new_var", "add_row", "implies")),
    "abs_of": (ABS_OF, ("max_of",)),
    "pwl": (PWL, ("new_var", "add_row")),
    "product": (PRODUCT, ("terms_of", "var_bounds", "var_name", "new_var", "add_row", "is_binary",
                                   "var_of")),
}


def calls(text: str, name: str) -> bool:
    """Whether `text` calls `name(`."""
    return re.search(rf"(?<![\w.]){re.escape(name)}\(", text) is not None


def needed(text: str, available: dict[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    """Helpers (of `available`) the text calls, with what they call, in `available`'s order."""
    wanted = {name for name in available if calls(text, name)}
    changed = True
    while changed:
        changed = False
        for name in list(wanted):
            for dep in available[name][1]:
                if dep in available and dep not in wanted:
                    wanted.add(dep)
                    changed = True
    return [name for name in available if name in wanted]
