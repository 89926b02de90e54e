"""Export to a Pyomo script: every class of model.

Linear models and convex QPs are solved by HiGHS, everything else (MIQP, quadratic constraints,
exp/log/sqrt, products of variables) by SCIP through PySCIPOpt (`scip_direct`, no executable
needed); both through Pyomo's `pyomo.contrib.solver` interface.
"""

from __future__ import annotations

from formulate.codegen.body import RowKey, VarSpec
from formulate.codegen.common import ScriptContext
from formulate.codegen.script import ScriptTarget
from formulate.codegen.translate import Caps
from formulate.ir.bigm import big_m_rows

_PRIMITIVES = '''
def new_var(name, lb=-INF, ub=INF, kind="continuous"):
    """An auxiliary variable, kept in `model.aux`."""
    var = model.aux.add()
    var.domain = {"continuous": pyo.Reals, "integer": pyo.Integers, "binary": pyo.Binary}[kind]
    var.setlb(None if lb == -INF else lb)
    var.setub(None if ub == INF else ub)
    return var
'''

_ADD_ROW = '''
def add_row(name, relation):
    """A row of a reformulation: in the constraint's own ConstraintList (`when:`/`either:`), else in
    a ConstraintList `<name>_aux`."""
    base = name.split("[")[0]
    rows = model.component(base)
    if not isinstance(rows, pyo.ConstraintList):
        base += "_aux"
        rows = model.component(base)
    if rows is None:
        rows = pyo.ConstraintList()
        model.add_component(base, rows)
    rows.add(relation)
'''

_ROW = '''
def row_or_skip(relation):
    """A row; an empty sum can leave a row without variables that holds (True): Pyomo then skips it."""
    return pyo.Constraint.Skip if relation is True else relation
'''

_TERMS = '''
def terms_of(expr):
    """(constant, [(variable, coefficient), ...]) of an affine expression."""
    if isinstance(expr, (int, float)):
        return float(expr), []
    repn = generate_standard_repn(expr, compute_values=True)
    return float(repn.constant), list(zip(repn.linear_vars, repn.linear_coefs))


def var_bounds(var):
    """(lower, upper) with None as infinite."""
    lb, ub = var.bounds
    return (-INF if lb is None else lb, INF if ub is None else ub)


def var_name(var):
    return var.name
'''

_BOUNDS_OF = '''
def bounds_of(expr):
    """Lowest and highest value of an expression over its variables' bounds (Pyomo's interval arithmetic)."""
    if isinstance(expr, (int, float)):
        return float(expr), float(expr)
    low, high = compute_bounds_on_expr(expr)
    return (-INF if low is None else low, INF if high is None else high)
'''

_IMPLIES = '''
def implies(name, binary, active, expr, sense, rhs=0):
    """`expr <sense> rhs` must hold when `binary == active`: a big-M row, M from the variables' bounds;
    where a bound is missing, the exact product `(expr - rhs) * on` with on = 1 where the row holds
    (nonlinear: SCIP solves it, as SCIP's native indicators would)."""
    on = binary if active else 1 - binary
    low, high = bounds_of(expr)
    if sense in ("<=", "=="):
        if high == INF:
            add_row(name, (expr - rhs) * on <= 0)
        elif high - rhs > 1e-12:
            add_row(name, expr <= rhs + (high - rhs) * (1 - on))
    if sense in (">=", "=="):
        if low == -INF:
            add_row(name, (expr - rhs) * on >= 0)
        elif rhs - low > 1e-12:
            add_row(name, expr >= rhs - (rhs - low) * (1 - on))
'''

_SOLVER = 'SOLVER = "{solver}"  # {why}'

_SOLVE = '''
STATUS = {"convergenceCriteriaSatisfied": "optimal", "provenInfeasible": "infeasible",
          "locallyInfeasible": "infeasible", "infeasibleOrUnbounded": "infeasible_or_unbounded",
          "unbounded": "unbounded", "maxTimeLimit": "time_limit", "iterationLimit": "iteration_limit"}


def entries(var):
    """(key, variable) pairs of a Pyomo variable (key None for a scalar)."""
    return var.items()


def value_of(var):
    return var.value


def run_solver(objective):
    """Run SOLVER (relative gap 0); return (status, objective(), nonzero values), or (status, None, {})."""
    result = SolverFactory(SOLVER).solve(model, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                                         rel_gap=0)
    status = STATUS.get(result.termination_condition.name, "error")
    if status != "optimal":
        return status, None, {}
    result.solution_loader.load_vars()
    return status, objective(), nonzero_values()
'''

_SOLVE_ONE = '''
def solve():
    """Solve; return (status, objective, nonzero values)."""
    return run_solver(lambda: float(pyo.value(model.objective)))
'''

_SOLVE_LEVELS = '''
def solve():
    """Several objectives, level by level: each later level is optimised with the earlier levels held at their
    optimum; return (status, the first level's value, nonzero values)."""
    model.objective.deactivate()
    model.objective_levels = pyo.ConstraintList()
    for k, (sense, expr) in enumerate(OBJECTIVES):
        level = pyo.Objective(expr=expr, sense=pyo.minimize if sense == "minimize" else pyo.maximize)
        model.add_component(f"objective_level_{k + 1}", level)
        status, best, values = run_solver(lambda: pyo.value(expr))
        if status != "optimal":
            return status, None, {}
        model.objective_levels.add(expr <= best if sense == "minimize" else expr >= best)
        level.deactivate()
    return status, float(pyo.value(OBJECTIVES[0][1])), values
'''

_DOMAINS = {("continuous", True): "pyo.NonNegativeReals", ("integer", True): "pyo.NonNegativeIntegers",
            ("continuous", False): "pyo.Reals", ("integer", False): "pyo.Integers"}


#: the components a several-objective script adds to the model (a formulation's rows get other names)
_LEVEL_COMPONENTS = {"objective_levels"} | {f"objective_level_{k}" for k in range(1, 101)}


def _model_attributes() -> set[str]:
    try:
        import pyomo.environ as pyo
    except ImportError:  # pragma: no cover - pyomo is an optional dependency
        return {"name", "component", "objective", "aux", "solutions", "block_data_objects"} | _LEVEL_COMPONENTS
    return set(dir(pyo.ConcreteModel())) | {"objective", "aux"} | _LEVEL_COMPONENTS


class PyomoTarget(ScriptTarget):
    """Pyomo, solved by HiGHS or SCIP."""

    name = "pyomo"
    label = "Pyomo (HiGHS for LP/MILP/convex QP, SCIP for the rest)"
    import_lines = ("import pyomo.environ as pyo", "from pyomo.contrib.solver.common.factory import SolverFactory")
    caps = Caps(target="pyomo", quicksum="pyo.quicksum", math_prefix="pyo.", alternative="gurobipy")

    def __init__(self) -> None:
        self.model_attributes = _model_attributes()

    def primitives(self, ctx: ScriptContext) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {"new_var": (_PRIMITIVES, ()), "add_row": (_ADD_ROW, ()), "row_or_skip": (_ROW, ()), "terms_of": (_TERMS, ()),
                "var_bounds": ("", ("terms_of",)), "var_name": ("", ("terms_of",)), "bounds_of": (_BOUNDS_OF, ()),
                "implies": (_IMPLIES, ("bounds_of", "add_row"))}

    def helper_imports(self, used: list[str]) -> list[str]:
        imports = ["from pyomo.repn import generate_standard_repn"] if "terms_of" in used else []
        if "bounds_of" in used:
            imports.append("from pyomo.contrib.fbbt.fbbt import compute_bounds_on_expr")
        return imports

    def model_init(self, ctx: ScriptContext) -> list[str]:
        return [f"model = pyo.ConcreteModel({ctx.title!r})", "model.aux = pyo.VarList()  # variables of reformulations"]

    def _attribute(self, name: str) -> str:
        """A model attribute for a component: the name, or with `_` appended where Pyomo reserves it."""
        out = name if name.isidentifier() else "_" + "".join(c if c.isalnum() else "_" for c in name)
        while out in self.model_attributes:
            out += "_"
        return out

    def declare_variable(self, ctx: ScriptContext, var: VarSpec) -> list[str]:
        head = [f"# {var.name}: {var.description}"] if var.description else []
        args = [", ".join(var.sets)] if var.sets else []
        if var.vtype == "binary" and var.lower == "0" and var.upper == "1":
            args.append("domain=pyo.Binary")
        elif var.lower == "0" and var.upper == "INF" and var.vtype != "binary":
            args.append(f"domain={_DOMAINS[(var.vtype, True)]}")
        else:
            domain = "pyo.Binary" if var.vtype == "binary" else _DOMAINS[(var.vtype, False)]
            bounds = f"({var.lower}, {var.upper})"
            if not var.constant_bounds:
                bounds = f"lambda model, {', '.join(var.comps)}: {bounds}"
            args += [f"domain={domain}", f"bounds={bounds}"]
        if var.description:
            args.append(f"doc={var.description!r}")
        declaration = f"pyo.Var({', '.join(args)})"
        attribute = self._attribute(var.name)
        return head + [f"model.{attribute} = {declaration}", f"{var.py} = model.{attribute}"]

    def set_objective(self, ctx: ScriptContext, expr: str, sense: str, kind: int) -> list[str]:
        return [f"model.objective = pyo.Objective(expr={expr}, sense=pyo.{sense})"]

    def declare_constraint(self, ctx: ScriptContext, py: str, indexed: bool) -> list[str]:
        return [f"model.{py} = pyo.Constraint(pyo.Any)"] if indexed else []

    def declare_conditional(self, ctx: ScriptContext, name: str, py: str) -> list[str]:
        if name.isidentifier() and name not in self.model_attributes and name not in ctx.formulation.variables:
            return [f"model.{name} = pyo.ConstraintList()  # the big-M rows of `implies`"]
        return []

    def add_row(self, ctx: ScriptContext, py: str, name: str, key: RowKey, rel: str) -> str:
        if "quicksum(" in rel and " if " in rel:
            rel = f"row_or_skip({rel})"  # a filtered sum may be empty
        if key.key is None:
            return f"model.{py} = pyo.Constraint(expr={rel})"
        index = key.key[1:-1] if key.key.startswith("(") and "*" not in key.key else key.key
        return f"model.{py}[{index}] = {rel}"

    def add_range(self, ctx: ScriptContext, py: str, name: str, key: RowKey, lo: str, mid: str, hi: str) -> list[str]:
        return [self.add_row(ctx, py, name, key, f"pyo.inequality({lo}, {mid}, {hi})")]

    def solve_code(self, ctx: ScriptContext) -> str:
        p = ctx.problem
        linear_or_qp = not p.quadratic_rows and not p.nonlinear_rows and (
            not p.has_quadratic_objective() or (not p.is_mip() and p.convex))
        unbounded = big_m_rows(p)[1].unbounded if p.indicators else []
        if unbounded:
            variable = unbounded[0][1].split("[")[0]
            solver, why = "scip_direct", f"SCIP: `{variable}` has no bound for a big-M, so `implies` multiplies"
        elif linear_or_qp:
            solver, why = "highs", "HiGHS: LP, MILP and convex QP"
        else:
            solver, why = "scip_direct", f"SCIP through PySCIPOpt: this model is {p.problem_class}"
        return "\n" + _SOLVER.format(solver=solver, why=why) + _SOLVE + "\n" + (_SOLVE_LEVELS if p.objective_levels else _SOLVE_ONE)
