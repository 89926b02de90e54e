"""Small helpers shared by the core tests."""

from __future__ import annotations

import textwrap

from formulate.ir.io import loads
from formulate.ir.model import Formulation


def model(text: str) -> Formulation:
    """A Formulation from an indented YAML snippet."""
    return loads(textwrap.dedent(text))


GUROBI_SCRIPT = """
import gurobipy as gp
from gurobipy import GRB

m = gp.Model("toy")
x = m.addVar(vtype=GRB.INTEGER, name="x")
y = m.addVar(name="y")
m.setObjective(3 * x + 2 * y, GRB.MAXIMIZE)
m.addConstr(x + y <= 4)
m.addConstr(x + 3 * y <= 6)
m.addConstr(x <= 3)
m.optimize()
print("Optimal objective value:", m.objVal)
"""

PULP_SCRIPT = """
import pulp

prob = pulp.LpProblem("toy", pulp.LpMinimize)
a = pulp.LpVariable("a", lowBound=0, cat="Integer")
b = pulp.LpVariable("b", lowBound=0)
prob += 4 * a + 5 * b
prob += a + b >= 5.5
prob += a <= 2
prob.solve(pulp.PULP_CBC_CMD(msg=0))
print("Status:", pulp.LpStatus[prob.status])
print("Total Cost =", pulp.value(prob.objective))
"""


def gurobi_available() -> str | None:
    """None when gurobipy with a working (size-limited) licence is here, else the reason to skip."""
    try:
        import gurobipy as gp
    except ImportError as exc:
        return f"gurobipy does not import ({exc})"
    try:
        env = gp.Env(empty=True)
        env.setParam("OutputFlag", 0)
        env.start()
        env.dispose()
    except gp.GurobiError as exc:
        return f"no usable Gurobi licence: {exc}"
    return None
