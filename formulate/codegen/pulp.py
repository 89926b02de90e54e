"""Export to a PuLP script solved by CBC: linear models only (LP, MILP)."""

from __future__ import annotations

from formulate.codegen.body import RowKey
from formulate.codegen.common import ScriptContext
from formulate.codegen.script import ScriptTarget
from formulate.codegen.translate import DATA, Caps

_PRIMITIVES = '''
_ORIGINAL_NAMES: dict = {}


def unique_name(name):
    """A name CBC accepts (letters, digits, `_`), made unique in the model."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name)
    out, k = base, 1
    while out in _ORIGINAL_NAMES:
        k += 1
        out = f"{base}_{k}"
    _ORIGINAL_NAMES[out] = name
    return out


def new_var(name, lb=-INF, ub=INF, kind="continuous"):
    """A variable; infinite bounds become PuLP's None."""
    category = {"continuous": pulp.LpContinuous, "integer": pulp.LpInteger, "binary": pulp.LpBinary}[kind]
    return pulp.LpVariable(unique_name(name), None if lb == -INF else lb, None if ub == INF else ub, category)
'''

_ADD_ROW = '''
def add_row(name, relation):
    """An auxiliary row (of a reformulation)."""
    model.addConstraint(relation, unique_name(name + "_aux"))
'''

_TERMS = '''
def terms_of(expr):
    """(constant, [(variable, coefficient), ...]) of an affine expression."""
    if isinstance(expr, (int, float)):
        return float(expr), []
    if isinstance(expr, pulp.LpVariable):
        return 0.0, [(expr, 1.0)]
    return float(expr.constant), list(expr.items())


def var_bounds(var):
    """(lower, upper) with None as infinite."""
    return (-INF if var.lowBound is None else var.lowBound, INF if var.upBound is None else var.upBound)


def var_name(var):
    return _ORIGINAL_NAMES.get(var.name, var.name)


def var_of(var):
    return var


def is_binary(var):
    return var.cat == pulp.LpInteger and var.lowBound is not None and var.lowBound >= 0 and \
        var.upBound is not None and var.upBound <= 1
'''

_SOLVE = '''
STATUS = {"Optimal": "optimal", "Infeasible": "infeasible", "Unbounded": "unbounded",
          "Not Solved": "error", "Undefined": "infeasible_or_unbounded"}


def entries(var):
    """(key, variable) pairs of an indexed variable, or one (None, variable) pair."""
    return var.items() if isinstance(var, dict) else [(None, var)]


def value_of(var):
    return var.varValue


def run_cbc(objective):
    """Run CBC (relative gap 0); return (status, objective(), nonzero values), or (status, None, {})."""
    model.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0))
    status = STATUS.get(pulp.LpStatus[model.status], "error")
    if status != "optimal":
        return status, None, {}
    return status, objective(), nonzero_values()
'''

_SOLVE_ONE = '''
def solve():
    """Solve; return (status, objective, nonzero values)."""
    return run_cbc(lambda: float(pulp.value(model.objective) or 0.0))
'''

_SOLVE_LEVELS = '''
def solve():
    """Several objectives, level by level: each later level is optimised with the earlier levels held at their
    optimum; return (status, the first level's value, nonzero values)."""
    for k, (sense, expr) in enumerate(OBJECTIVES):
        model.sense = pulp.LpMinimize if sense == "minimize" else pulp.LpMaximize
        model.setObjective(expr)
        status, best, values = run_cbc(lambda: pulp.value(expr))
        if status != "optimal":
            return status, None, {}
        level, n = f"objective_level_{k + 1}", 1
        while level in model.constraints:  # a row of the model may have that name
            n += 1
            level = f"objective_level_{k + 1}_{n}"
        model.addConstraint(expr <= best if sense == "minimize" else expr >= best, level)
    return status, float(pulp.value(OBJECTIVES[0][1])), values
'''


class PulpTarget(ScriptTarget):
    """PuLP + CBC."""

    name = "pulp"
    label = "PuLP (CBC)"
    import_lines = ("import pulp",)
    caps = Caps(target="pulp", quicksum="pulp.lpSum", quadratic_objective=False, quadratic_rows=False,
                nonlinear=False, linear_products=True)

    def primitives(self, ctx: ScriptContext) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {"new_var": (_PRIMITIVES, ()), "add_row": (_ADD_ROW, ("new_var",)),
                "terms_of": (_TERMS, ()), "var_bounds": ("", ("terms_of",)), "var_name": ("", ("terms_of",)),
                "is_binary": ("", ("terms_of",)), "var_of": ("", ("terms_of",))}

    def model_init(self, ctx: ScriptContext) -> list[str]:
        sense = "pulp.LpMaximize" if ctx.formulation.objective and \
            ctx.formulation.objective.sense == "maximize" else "pulp.LpMinimize"
        return [f"model = pulp.LpProblem({ctx.title!r}, {sense})"]

    def set_objective(self, ctx: ScriptContext, expr: str, sense: str, kind: int) -> list[str]:
        if kind == DATA:
            return [f"model += pulp.LpAffineExpression(constant={expr}), 'objective'"]
        return [f"model += {expr}, 'objective'"]

    def add_row(self, ctx: ScriptContext, py: str, name: str, key: RowKey, rel: str) -> str:
        return f"model += {rel}, {key.label}"

    def add_range(self, ctx: ScriptContext, py: str, name: str, key: RowKey, lo: str, mid: str, hi: str) -> list[str]:
        upper = key.renamed(name + "_upper").label
        return [f"model += {mid} >= {lo}, {key.label}", f"model += {mid} <= {hi}, {upper}"]

    def solve_code(self, ctx: ScriptContext) -> str:
        return _SOLVE + "\n" + (_SOLVE_LEVELS if ctx.problem.objective_levels else _SOLVE_ONE)
