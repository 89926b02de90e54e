"""Export to a gurobipy script: every class of model, with Gurobi's own general constraints.

`when:`/`either:` become indicator constraints (no big-M, no bounds needed), min/max/abs outside
convex positions `max_`/`min_`/`abs_` constraints, `pwl` a piecewise-linear constraint, and each
nonlinear term (exp, log, sqrt, powers, products of more than two variables) a variable tied to it by
a nonlinear constraint (Gurobi 12+). The script starts an empty environment with OutputFlag 0, so the
licence banner does not land on stdout.
"""

from __future__ import annotations

from formulate.codegen.body import RowKey, VarSpec
from formulate.codegen.common import ScriptContext
from formulate.codegen.script import ScriptTarget
from formulate.codegen.translate import Caps

_PRIMITIVES = '''
def new_var(name, lb=-INF, ub=INF, kind="continuous"):
    """An auxiliary variable."""
    vtype = {"continuous": GRB.CONTINUOUS, "integer": GRB.INTEGER, "binary": GRB.BINARY}[kind]
    return model.addVar(lb=lb, ub=ub, vtype=vtype, name=name)
'''

_ADD_ROW = '''
def add_row(name, relation):
    """A row of a reformulation."""
    model.addConstr(relation, name=name)
'''

_AS_VAR = '''
def as_var(name, expr):
    """`expr` itself if it is a variable, else a new variable equal to it."""
    if isinstance(expr, gp.Var):
        return expr
    var = new_var(name, -INF, INF)
    model.addConstr(var == expr, name=name)
    return var
'''

_IMPLIES = '''
def implies(name, binary, active, expr, sense, rhs=0):
    """`expr <sense> rhs` must hold when `binary == active`: an indicator constraint."""
    senses = {"<=": GRB.LESS_EQUAL, ">=": GRB.GREATER_EQUAL, "==": GRB.EQUAL}
    model.addGenConstrIndicator(binary, bool(active), expr, senses[sense], rhs, name=name)
'''

_EXTREMA = '''
def _extremum(name, args, exact, is_max):
    z = new_var(name + ("_max" if is_max else "_min"), -INF, INF)
    if not exact:  # a convex position: rows on one side of every argument suffice
        for a in args:
            add_row(name, z >= a if is_max else z <= a)
        return z
    numbers = [a for a in args if isinstance(a, (int, float))]
    variables = [as_var(name, a) for a in args if not isinstance(a, (int, float))]
    if numbers:
        constant = max(numbers) if is_max else min(numbers)
        model.addConstr(z == (gp.max_(variables, constant=constant) if is_max else gp.min_(variables, constant=constant)))
    else:
        model.addConstr(z == (gp.max_(variables) if is_max else gp.min_(variables)))
    return z


def max_of(name, args, exact):
    """A variable equal to max(args): an epigraph in a convex position, else Gurobi's max_ constraint."""
    return _extremum(name, args, exact, True)


def min_of(name, args, exact):
    """A variable equal to min(args): below every argument in a convex position, else Gurobi's min_."""
    return _extremum(name, args, exact, False)
'''

_ABS = '''
def abs_of(name, expr, exact):
    """A variable equal to |expr|: an epigraph in a convex position, else Gurobi's abs_ constraint."""
    if not exact:
        return max_of(name, [expr, -expr], False)
    z = new_var(name + "_abs", 0, INF)
    model.addConstr(z == gp.abs_(as_var(name, expr)), name=name)
    return z
'''

_PWL = '''
def pwl(name, x, xs, ys, sign):
    """y = the piecewise-linear function through (xs, ys) at x, xs[0] <= x <= xs[-1] (Gurobi's PWL constraint)."""
    xs, ys = [float(v) for v in xs], [float(v) for v in ys]
    x_var = new_var(name + "_x", xs[0], xs[-1])
    model.addConstr(x_var == x, name=name)
    y = new_var(name + "_pwl", -INF, INF)
    model.addGenConstrPWL(x_var, y, xs, ys, name=name)
    return y
'''

_NL = '''
def nl(name, expr):
    """A variable equal to a nonlinear expression (a Gurobi general nonlinear constraint)."""
    var = new_var(name + "_nl", -INF, INF)
    model.addGenConstrNL(var, expr, name=name)
    return var
'''

_SOLVE = '''
STATUS = {GRB.OPTIMAL: "optimal", GRB.INFEASIBLE: "infeasible", GRB.UNBOUNDED: "unbounded",
          GRB.INF_OR_UNBD: "infeasible_or_unbounded", GRB.TIME_LIMIT: "time_limit",
          GRB.ITERATION_LIMIT: "iteration_limit"}


def entries(var):
    """(key, variable) pairs of an indexed variable, or one (None, variable) pair."""
    return var.items() if isinstance(var, dict) else [(None, var)]


def value_of(var):
    return var.X


def run_gurobi(objective):
    """Optimise (MIPGap 0); return (status, objective(), nonzero values), or (status, None, {})."""
    model.Params.MIPGap = 0
    model.optimize()
    if model.Status == GRB.INF_OR_UNBD:  # presolve could not tell which: solve again without dual reductions
        model.Params.DualReductions = 0
        model.optimize()
    status = STATUS.get(model.Status, "error")
    if status != "optimal":
        return status, None, {}
    return status, objective(), nonzero_values()
'''

_SOLVE_ONE = '''
def solve():
    """Solve; return (status, objective, nonzero values)."""{extra}
    return run_gurobi(lambda: model.ObjVal)
'''

_SOLVE_LEVELS = '''
def solve():
    """Several objectives through Gurobi's hierarchical multi-objective API: highest priority first, each later
    level optimised with the earlier ones held at their optimum; return (status, the first level's value,
    nonzero values)."""
    model.ModelSense = GRB.MINIMIZE
    for k, (sense, expr) in enumerate(OBJECTIVES):
        model.setObjectiveN(expr, index=k, priority=len(OBJECTIVES) - k, weight=1.0 if sense == "minimize" else -1.0,
                            abstol=0, reltol=0, name=f"level_{k + 1}")
    first = OBJECTIVES[0][1]
    return run_gurobi(lambda: first.getValue() if hasattr(first, "getValue") else getattr(first, "X", first))
'''


class GurobipyTarget(ScriptTarget):
    """gurobipy."""

    name = "gurobipy"
    label = "gurobipy (Gurobi)"
    import_lines = ("import gurobipy as gp", "from gurobipy import GRB")
    caps = Caps(target="gurobipy", quicksum="gp.quicksum", math_prefix="nlfunc.", wrap_nonlinear=True,
                alternative="pyomo")

    def primitives(self, ctx: ScriptContext) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {"new_var": (_PRIMITIVES, ()), "add_row": (_ADD_ROW, ()), "as_var": (_AS_VAR, ("new_var",)),
                "implies": (_IMPLIES, ()), "max_of": (_EXTREMA, ("new_var", "add_row", "as_var")),
                "min_of": ("", ("max_of",)), "abs_of": (_ABS, ("max_of", "as_var")),
                "pwl": (_PWL, ("new_var",)), "nl": (_NL, ("new_var",))}

    def helper_imports(self, used: list[str]) -> list[str]:
        return ["from gurobipy import nlfunc"] if "nl" in used else []

    def model_init(self, ctx: ScriptContext) -> list[str]:
        return ["env = gp.Env(empty=True)  # an empty environment keeps the licence banner off stdout",
                'env.setParam("OutputFlag", 0)', "env.start()", f"model = gp.Model({ctx.title!r}, env=env)"]

    def declare_variable(self, ctx: ScriptContext, var: VarSpec) -> list[str]:
        head = [f"# {var.name}: {var.description}"] if var.description else []
        vtype = {"continuous": "GRB.CONTINUOUS", "integer": "GRB.INTEGER", "binary": "GRB.BINARY"}[var.vtype]
        if not var.comps:
            return head + [f"{var.py} = model.addVar(lb={var.lower}, ub={var.upper}, vtype={vtype}, "
                           f"name={var.label})"]
        if var.constant_bounds:
            return head + [f"{var.py} = model.addVars({', '.join(var.sets)}, lb={var.lower}, ub={var.upper}, "
                           f"vtype={vtype}, name={var.name!r})"] if len(var.comps) == len(var.sets) or \
                len(var.sets) == 1 else head + [self._comprehension(var, vtype)]
        return head + [self._comprehension(var, vtype)]

    @staticmethod
    def _comprehension(var: VarSpec, vtype: str) -> str:
        return (f"{var.py} = {{{var.key}: model.addVar(lb={var.lower}, ub={var.upper}, vtype={vtype}, "
                f"name={var.label}) {var.loops}}}")

    def set_objective(self, ctx: ScriptContext, expr: str, sense: str, kind: int) -> list[str]:
        return [f"model.setObjective({expr}, {'GRB.MAXIMIZE' if sense == 'maximize' else 'GRB.MINIMIZE'})"]

    def add_row(self, ctx: ScriptContext, py: str, name: str, key: RowKey, rel: str) -> str:
        return f"model.addConstr({rel}, name={key.label})"

    def add_range(self, ctx: ScriptContext, py: str, name: str, key: RowKey, lo: str, mid: str, hi: str) -> list[str]:
        return [f"model.addRange({mid}, {lo}, {hi}, name={key.label})"]

    def solve_code(self, ctx: ScriptContext) -> str:
        extra = ""
        if ctx.problem.quadratic_rows:
            extra = "\n    model.Params.BarQCPConvTol = 1e-9  # the default 1e-6 leaves cone objectives ~1e-6 off"
        return _SOLVE + "\n" + (_SOLVE_LEVELS if ctx.problem.objective_levels else _SOLVE_ONE.replace("{extra}", extra))
