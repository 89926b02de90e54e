"""Export to a highspy script (HiGHS's own modelling API): LP, MILP and convex QP.

HiGHS's linear expressions do not multiply variables, so a quadratic objective is built with a small
`QuadExpr` class in the script and handed to HiGHS as a Hessian.
"""

from __future__ import annotations

from formulate.codegen.body import RowKey
from formulate.codegen.common import ExportError, ScriptContext
from formulate.codegen.script import ScriptTarget
from formulate.codegen.translate import Caps
from formulate.ir.products import linearizable

_NEW_HIGHS = '''
def new_highs():
    """A silent Highs instance (HiGHS prints its banner on stdout when constructed: silence that too)."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)  # os.open: a formulation may name something `open`
    try:
        os.dup2(devnull, 1)
        highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    highs.setOptionValue("output_flag", False)
    return highs
'''

_PRIMITIVES = '''
_BOUNDS: dict = {}
_NAMES: dict = {}
_KINDS: dict = {}
_VARS: dict = {}


def new_var(name, lb=-INF, ub=INF, kind="continuous"):
    """A column; its bounds and name are remembered for big-M computations and messages."""
    kind_code = highspy.HighsVarType.kContinuous if kind == "continuous" else highspy.HighsVarType.kInteger
    if kind == "binary":
        lb, ub = max(lb, 0), min(ub, 1)
    var = model.addVariable(lb=lb, ub=ub, type=kind_code, name=name)
    _BOUNDS[var.index], _NAMES[var.index], _KINDS[var.index] = (lb, ub), name, kind
    _VARS[var.index] = var
    return var
'''

_ADD_ROW = '''
def add_row(name, relation):
    """A row of a reformulation."""
    model.addConstr(relation, name=name)
'''

_TERMS = '''
def terms_of(expr):
    """(constant, [(column, coefficient), ...]) of an affine expression."""
    if isinstance(expr, (int, float)):
        return float(expr), []
    expr = 1.0 * expr  # a column becomes an expression
    coefs: dict = {}
    for index, value in zip(expr.idxs, expr.vals):
        coefs[index] = coefs.get(index, 0.0) + value
    return float(expr.constant or 0.0), list(coefs.items())


def var_bounds(index):
    return _BOUNDS[index]


def var_name(index):
    return _NAMES[index]


def var_of(index):
    return _VARS[index]


def is_binary(index):
    low, high = _BOUNDS[index]
    return _KINDS[index] != "continuous" and low >= 0 and high <= 1
'''

_QUAD = '''
class QuadExpr:
    """constant + linear + quadratic terms over HiGHS columns, for a quadratic objective."""

    def __init__(self, constant=0.0, linear=None, quadratic=None):
        self.constant, self.linear, self.quadratic = constant, linear or {}, quadratic or {}

    @classmethod
    def of(cls, value):
        if isinstance(value, QuadExpr):
            return value
        if isinstance(value, (int, float)):
            return cls(float(value))
        constant, terms = terms_of(value)
        return cls(constant, dict(terms))

    def __add__(self, other):
        other = QuadExpr.of(other)
        linear, quadratic = dict(self.linear), dict(self.quadratic)
        for k, v in other.linear.items():
            linear[k] = linear.get(k, 0.0) + v
        for k, v in other.quadratic.items():
            quadratic[k] = quadratic.get(k, 0.0) + v
        return QuadExpr(self.constant + other.constant, linear, quadratic)

    __radd__ = __add__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + -QuadExpr.of(other)

    def __rsub__(self, other):
        return QuadExpr.of(other) - self

    def __mul__(self, other):
        other = QuadExpr.of(other)
        if not (other.linear or other.quadratic):
            c = other.constant
            return QuadExpr(self.constant * c, {k: v * c for k, v in self.linear.items()},
                            {k: v * c for k, v in self.quadratic.items()})
        if not (self.linear or self.quadratic):
            return other * self.constant
        if self.quadratic or other.quadratic:
            raise ValueError("a product of more than two variables is not quadratic")
        product = QuadExpr(self.constant * other.constant)
        product = product + QuadExpr(0.0, {k: v * other.constant for k, v in self.linear.items()})
        product = product + QuadExpr(0.0, {k: v * self.constant for k, v in other.linear.items()})
        for i, a in self.linear.items():
            for j, b in other.linear.items():
                key = (min(i, j), max(i, j))
                product.quadratic[key] = product.quadratic.get(key, 0.0) + a * b
        return product

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * (1.0 / other)

    def __pow__(self, power):
        if power == 2:
            return self * self
        if power == 1:
            return self
        raise ValueError("only squares are quadratic")


def Q(value):
    """A variable (or expression) as a QuadExpr, so that products of variables are allowed."""
    return QuadExpr.of(value)
'''

_OBJECTIVE = '''
_HESSIAN: dict = {}


def set_objective(expr, sense):
    """Costs and offset of the objective; quadratic terms are kept for the Hessian passed before solving."""
    if isinstance(expr, (int, float)):
        constant, terms, quadratic = float(expr), [], {}
    elif hasattr(expr, "quadratic"):
        constant, terms, quadratic = expr.constant, list(expr.linear.items()), expr.quadratic
    else:
        constant, terms = terms_of(expr)
        quadratic = {}
    for index, value in terms:
        model.changeColCost(index, value)
    model.changeObjectiveOffset(constant)
    model.changeObjectiveSense(highspy.ObjSense.kMaximize if sense == "maximize" else highspy.ObjSense.kMinimize)
    _HESSIAN.update(quadratic)


def pass_hessian():
    """HiGHS minimises c'x + x'Qx/2: Q in lower-triangular column-wise form (diagonal doubled)."""
    n = model.getNumCol()
    columns: list = [[] for _ in range(n)]
    for (i, j), value in _HESSIAN.items():
        columns[i].append((j, 2.0 * value if i == j else value))
    start, index, value = [], [], []
    for col in range(n):
        start.append(len(index))
        for row, v in sorted(columns[col]):
            index.append(row)
            value.append(v)
    model.passHessian(n, len(index), highspy.HessianFormat.kTriangular, start, index, value)
'''

_SOLVE = '''
STATUS = {"kOptimal": "optimal", "kInfeasible": "infeasible", "kUnbounded": "unbounded",
          "kUnboundedOrInfeasible": "infeasible_or_unbounded", "kTimeLimit": "time_limit",
          "kIterationLimit": "iteration_limit"}


def entries(var):
    """(key, column) pairs of an indexed variable, or one (None, column) pair."""
    return var.items() if isinstance(var, dict) else [(None, var)]


SOLUTION: list = []  # column values, read once after solving


def value_of(var):
    return SOLUTION[var.index]


def run_highs(objective):
    """Run HiGHS (relative MIP gap 0); return (status, objective(), nonzero values), or (status, None, {})."""
    model.setOptionValue("mip_rel_gap", 0)
    model.run()
    status = STATUS.get(model.getModelStatus().name, "error")
    if status != "optimal":
        return status, None, {}
    SOLUTION[:] = model.getSolution().col_value
    return status, objective(), nonzero_values()
'''

_SOLVE_ONE = '''
def solve():
    """Solve; return (status, objective, nonzero values)."""
    if _HESSIAN:
        pass_hessian()
    return run_highs(lambda: model.getInfo().objective_function_value)
'''

_SOLVE_LEVELS = '''
def solve():
    """Several objectives through HiGHS's lexicographic multi-objective API: highest priority first, each
    later level optimised with the earlier ones held at their optimum; return (status, the first level's value,
    nonzero values)."""
    n = model.getNumCol()
    model.changeObjectiveSense(highspy.ObjSense.kMinimize)
    for k, (sense, expr) in enumerate(OBJECTIVES):
        constant, terms = terms_of(expr)
        sign = 1.0 if sense == "minimize" else -1.0
        costs = [0.0] * n
        for index, value in terms:
            costs[index] += sign * value
        objective = highspy.HighsLinearObjective()
        objective.coefficients, objective.offset = costs, sign * constant
        objective.weight, objective.priority = 1.0, len(OBJECTIVES) - k
        objective.abs_tolerance = objective.rel_tolerance = 0.0
        model.addLinearObjective(objective)
    model.setOptionValue("blend_multi_objectives", False)
    constant, terms = terms_of(OBJECTIVES[0][1])
    return run_highs(lambda: constant + sum(value * SOLUTION[index] for index, value in terms))
'''


class HighspyTarget(ScriptTarget):
    """highspy's modelling API."""

    name = "highspy"
    label = "highspy (HiGHS)"
    import_lines = ("import highspy",)
    caps = Caps(target="highspy", quicksum="model.qsum", quadratic_rows=False, nonlinear=False,
                quad_wrapper="Q", alternative="pyomo or gurobipy", linear_products=True)

    def check(self, ctx: ScriptContext) -> None:
        p = ctx.problem
        obj = ctx.formulation.objective
        if p.has_quadratic_objective() and obj is not None and not p.quadratic_rows and not p.nonlinear_rows \
                and not linearizable(p):
            text = " ".join(obj.expr.split())
            if p.is_mip():
                raise ExportError(f"highspy cannot express `{text}` (a quadratic objective with integer variables, "
                                  "MIQP) in the objective; HiGHS solves convex QP without integers; export to pyomo or "
                                  "gurobipy")
            if not p.convex:
                raise ExportError(f"highspy cannot express `{text}` (a nonconvex quadratic objective) in the objective; "
                                  "export to pyomo or gurobipy")

    def primitives(self, ctx: ScriptContext) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {"new_highs": (_NEW_HIGHS, ()), "new_var": (_PRIMITIVES, ()), "add_row": (_ADD_ROW, ()),
                "terms_of": (_TERMS, ("new_var",)), "var_bounds": ("", ("terms_of",)),
                "var_name": ("", ("terms_of",)), "Q": (_QUAD, ("terms_of",)),
                "is_binary": ("", ("terms_of",)), "var_of": ("", ("terms_of",)),
                "set_objective": (_OBJECTIVE, ("terms_of",))}

    def helper_imports(self, used: list[str]) -> list[str]:
        return ["import os"]

    def model_init(self, ctx: ScriptContext) -> list[str]:
        return ["model = new_highs()"]

    def set_objective(self, ctx: ScriptContext, expr: str, sense: str, kind: int) -> list[str]:
        return [f"set_objective({expr}, {sense!r})"]

    def add_row(self, ctx: ScriptContext, py: str, name: str, key: RowKey, rel: str) -> str:
        return f"model.addConstr({rel}, name={key.label})"

    def add_range(self, ctx: ScriptContext, py: str, name: str, key: RowKey, lo: str, mid: str, hi: str) -> list[str]:
        return [f"model.addConstr({lo} <= {mid} <= {hi}, name={key.label})"]

    def solve_code(self, ctx: ScriptContext) -> str:
        return _SOLVE + "\n" + (_SOLVE_LEVELS if ctx.problem.objective_levels else _SOLVE_ONE)
