"""Issue 21 (language, round 2): each bug and rule, with the behaviour a writer relies on."""

from __future__ import annotations

import pytest

from formulate.api import check, ground, solve
from formulate.errors import FormulationError
from formulate.ir.io import loads
from tests.helpers import model


def ground_error(text: str) -> str:
    with pytest.raises(FormulationError) as info:
        ground(model(text))
    return str(info.value)


# ---------------------------------------------------------------- bugs 1-5

def test_nested_mappings_over_a_tuple_set_are_tuple_keys():
    sol = solve(model("""
        sets:
          Options: [[1, 1], [1, 2], [2, 1]]
          K: [lo, hi]
        parameters:
          value: {index: [Options], values: {1: {1: 9, 2: 8}, 2: {1: 10}}}
          scale: {index: [Options, K], values: {1: {1: {lo: 1, hi: 2}, 2: {lo: 1, hi: 1}}, 2: {1: {lo: 1, hi: 3}}}}
        variables:
          x: {index: [Options], type: binary}
        objective: {sense: maximize, expr: "sum(value[s, k] * scale[s, k, 'hi'] * x[s, k] for (s, k) in Options)"}
        constraints:
          two: sum(x[s, k] for (s, k) in Options) <= 2
    """))
    assert sol.objective == pytest.approx(9 * 2 + 10 * 3)
    assert sol.x[(2, 1)] == 1 and sol.x[(1, 1)] == 1


def test_nested_mapping_key_outside_a_tuple_set_names_the_tuple():
    msg = ground_error("""
        sets: {Options: [[1, 1], [1, 2]]}
        parameters:
          value: {index: [Options], values: {1: {3: 9}}}
        variables: {x: {index: [Options]}}
        objective: {sense: maximize, expr: "sum(value[s, k] * x[s, k] for (s, k) in Options)"}
    """)
    assert msg.startswith("parameter `value`: key (1, 3) is not a member of set `Options`")


def test_arithmetic_on_a_bound_index_in_data_is_plain_arithmetic():
    f = model("""
        sets:
          K: [1, 2]
          W: [8, 10]
          A: range(0, 4)
          Pat: "{(a, b, w) for a in A for b in A for w in W if a * width[1] + b * width[2] <= w + 1e-9}"
        parameters:
          width: {index: [K], values: [3, 5]}
        variables:
          x: {index: [Pat], type: binary}
        objective: {sense: maximize, expr: "sum((a + 0.5) * x[a, b, w] for (a, b, w) in Pat)"}
        constraints:
          one: sum(x[a, b, w] for (a, b, w) in Pat) <= 1
    """)
    sol = solve(f)
    assert sol.objective == pytest.approx(3.5)  # a = 3 fits 3 * 3 <= 10 (or <= 8 fails: 9 > 8)


def test_whole_steps_still_apply_to_subscripts():
    msg = ground_error("""
        sets: {T: [1, 2, 3]}
        variables: {x: {index: [T]}}
        objective: {sense: minimize, expr: "sum(x[t] for t in T)"}
        constraints:
          c: x[t + 0.5] >= 1 for t in T
    """)
    assert "subscript `t + 0.5` is 1.5, not a member" in msg and "whole steps" in msg


def test_derived_parameter_over_a_tuple_set_is_indexed_by_it():
    f = model("""
        sets:
          Arcs: [[a, b], [b, c], [a, c]]
          K: [1, 2]
        parameters:
          dist: {index: [Arcs], values: [10, 20, 25]}
          speed: 50
          travel: "{(i, j): 60 * dist[i, j] / speed for (i, j) in Arcs}"
          load: "{(i, j, k): k * dist[i, j] for (i, j) in Arcs for k in K}"
        variables:
          x: {index: [Arcs], type: binary}
        objective: {sense: minimize, expr: "sum((travel[i, j] + load[i, j, 2]) * x[i, j] for (i, j) in Arcs)"}
        constraints:
          one: sum(x[i, j] for (i, j) in Arcs) >= 1
    """)
    result = ground(f)
    assert not result.warnings or all("travel" not in w for w in result.warnings)
    sol = solve(f)
    assert sol.objective == pytest.approx(12 + 20)


def test_an_error_is_reported_once_per_cause():
    report = check(model("""
        sets: {Arcs: [[a, b], [b, c]]}
        parameters:
          dist: {index: [Arcs], values: [10, 20]}
          travel: "{(i, j): 60 * dist[i, j] / speed for (i, j) in Arcs}"
          twice: "{(i, j): 2 * travel[i, j] for (i, j) in Arcs}"
        variables: {x: {index: [Arcs]}}
        objective: {sense: minimize, expr: "sum(travel[i, j] * x[i, j] for (i, j) in Arcs)"}
        constraints:
          a: sum(travel[i, j] * x[i, j] for (i, j) in Arcs) >= 1
          b: sum(twice[i, j] * x[i, j] for (i, j) in Arcs) >= 1
    """))
    assert len(report.errors) == 1, report.errors
    assert "name `speed` is not defined" in str(report.errors[0])


def test_set_comprehension_under_parameters_says_where_it_belongs():
    msg = ground_error("""
        sets: {D: [1, 2], T: [a, b]}
        parameters:
          km: {index: [D, T], values: [[1, 2], [3, 4]]}
          Links: "{(d, t) for d in D for t in T if km[d, t] <= 2}"
        variables: {x: {index: [D, T]}}
        objective: {sense: minimize, expr: "sum(x[d, t] for d in D for t in T)"}
    """)
    assert msg.startswith("parameter `Links`: `{(d, t) for ...}` builds a set; move it under `sets:`")


def test_keyed_comprehension_under_sets_says_where_it_belongs():
    msg = ground_error("""
        sets:
          P: [a, b]
          spare: "{p: 3 for p in P}"
        variables: {x: {index: [P]}}
        objective: {sense: minimize, expr: "sum(x[p] for p in P)"}
    """)
    assert "set `spare`: `{p: ... for ...}` builds a keyed table (a parameter); move it under `parameters:`" in msg


def test_comma_in_flow_mapping_text_says_it_split_the_value():
    with pytest.raises(FormulationError) as info:
        loads("parameters:\n  price: {description: 10,000 yuan per m3}\nvariables: {x: {upper: 1}}\n")
    assert str(info.value).startswith("parameter `price`: a comma inside `{...}` split "
                                      "`description: 10,000 yuan per m3` into keys; quote the text")


def test_comma_in_a_description_with_parentheses_is_still_text_not_an_expression():
    with pytest.raises(FormulationError) as info:
        loads("variables:\n  x: {description: cookies (x1 sugar, x2 sugar)}\nobjective: {sense: maximize, expr: x}\n")
    msg = str(info.value)
    assert "split `description: cookies (x1 sugar,x2 sugar)` into keys; quote the text" in msg
    assert "expression" not in msg


def test_bracket_in_flow_mapping_text_says_to_quote_it():
    with pytest.raises(FormulationError) as info:
        loads("variables:\n  x: {upper: 3, description: cost in [yuan], other}\n")
    msg = str(info.value)
    assert "line 2" in msg and "split the plain text of `description`" in msg
    assert 'quote the text (`description: "..."`)' in msg


# ---------------------------------------------------------------- item 14: empty sums and constant rows

EMPTY_ROWS = """
    sets:
      N: [1, 2, 3, 4]
      Arcs: [[1, 2], [2, 3], [1, 3]]
    parameters:
      need: {index: [N], values: [0, 2, 3, NEED4]}
      cost: {index: [Arcs], values: [1, 2, 5]}
    variables:
      f: {index: [Arcs]}
    objective: {sense: minimize, expr: "sum(cost[i, j] * f[i, j] for (i, j) in Arcs)"}
    constraints:
      inflow: sum(f[i, j] for (i, j) in Arcs if j == n) >= need[n] for n in N
"""


def test_rows_left_constant_by_an_empty_sum_are_dropped_when_they_hold():
    result = ground(model(EMPTY_ROWS.replace("NEED4", "0")))
    names = result.problem.row_names()
    assert names == ["inflow[2]", "inflow[3]"]  # nodes 1 and 4 have no inflow and need none
    assert solve(model(EMPTY_ROWS.replace("NEED4", "0"))).objective == pytest.approx(8)


def test_a_constant_row_that_fails_is_an_error_naming_it():
    msg = ground_error(EMPTY_ROWS.replace("NEED4", "5"))
    assert msg.startswith("constraint `inflow` at n=4: reads 0 >= 5 (no variable left); the data make it impossible")


def test_exported_pyomo_script_skips_rows_an_empty_sum_makes_constant(tmp_path):
    pytest.importorskip("pyomo.environ")
    import subprocess
    import sys

    from formulate.codegen import export

    script = tmp_path / "empty.py"
    script.write_text(export(model(EMPTY_ROWS.replace("NEED4", "0")), "pyomo"))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "objective: 8" in out.stdout


# ---------------------------------------------------------------- item 12: products with a binary factor

PRODUCTS = """
    sets: {I: [a, b, c]}
    parameters:
      value: {index: [I], values: [4, 3, 5]}
      weight: {index: [I], values: [2, 3, 4]}
    variables:
      pick: {index: [I], type: binary}
      amount: {index: [I], lower: 0, upper: UPPER}
    objective:
      sense: maximize
      expr: sum(value[i] * pick[i] * amount[i] for i in I) - 6 * pick['a'] * pick['b']
    constraints:
      room: sum(weight[i] * amount[i] for i in I) <= 10
      two: sum(pick[i] for i in I) <= 2
"""


def test_products_with_a_binary_factor_are_an_exact_milp_for_linear_solvers():
    f = model(PRODUCTS.replace("UPPER", "3"))
    assert ground(f).problem.problem_class == "MIQP"  # the grounded form keeps the products
    highs, scip = solve(f, mip_gap=0), solve(f, solver="scip", mip_gap=0)
    assert (highs.solver, highs.problem_class) == ("highs", "MILP")
    assert (scip.solver, scip.problem_class) == ("scip", "MIQP")  # SCIP solves the nonlinear form
    assert highs.objective == pytest.approx(scip.objective, rel=1e-9)
    cbc = solve(f, solver="cbc", mip_gap=0)
    assert cbc.objective == pytest.approx(scip.objective, rel=1e-9)


def test_a_product_with_an_unbounded_factor_goes_to_scip():
    f = model(PRODUCTS.replace("UPPER", "inf"))
    sol = solve(f, mip_gap=0)
    assert sol.solver == "scip" and sol.status == "optimal"
    bounded = solve(model(PRODUCTS.replace("UPPER", "5")), mip_gap=0)
    assert sol.objective == pytest.approx(bounded.objective, rel=1e-9)  # room caps amount below 5 anyway


# ---------------------------------------------------------------- item 8: tuple sets

def test_tuple_sets_of_any_arity_with_flat_subscripts():
    sol = solve(model("""
        sets:
          Quad: [[1, 3, 2, 4], [2, 1, 4, 3], [1, 2, 3, 4]]
          Pairs: [[a, b], [b, c]]
          K: [1, 2]
          S: [a, b, c]
        parameters:
          w: {index: [Quad], values: [5, 6, 7]}
          cap: {index: [Pairs, K], values: [[3, 4], [5, 6]]}
          tab: "{(s, k): ord(s) * k for s in S for k in K}"
        variables:
          y: {index: [Pairs, K], upper: cap}
          z: {index: [Quad], type: binary}
        objective:
          sense: maximize
          expr: sum(y[a, b, k] for (a, b) in Pairs for k in K) + sum(w[p, q, r, s] * z[p, q, r, s] for (p, q, r, s) in Quad) + tab['b', 2]
        constraints:
          one: sum(z[p, q, r, s] for (p, q, r, s) in Quad) <= 1
    """))
    assert sol.objective == pytest.approx(18 + 7 + 4)
    assert sol.y[("b", "c", 2)] == 6 and sol.z[(1, 2, 3, 4)] == 1


def test_ord_on_a_tuple_target_part_gives_the_rewrite():
    msg = ground_error("""
        sets: {S: [a, b, c], Pairs: [[a, b], [b, c]]}
        variables: {y: {index: [Pairs]}}
        objective: {sense: maximize, expr: "sum(y[a, b] for (a, b) in Pairs)"}
        constraints:
          order:
            forall: (a, b) in Pairs
            expr: y[a, b] <= 10 * ord(a)
    """)
    assert msg == ("constraint `order` at (a, b)=('a', 'b'): `ord(a)`: `a` is a part of the tuple target "
                   "`for (a, b) in Pairs`, which has no order of its own; bind it to a plain set: "
                   "`for a in S for b in S if (a, b) in Pairs`")


# ---------------------------------------------------------------- item 9: bounds from data

def test_bounds_from_scalar_same_fewer_and_superset_parameters():
    sol = solve(model("""
        sets:
          Pipes: [[a, b], [b, c], [a, c]]
          Open: "{(i, j) for (i, j) in Pipes if width[i, j] > 1}"
          T: [1, 2]
        parameters:
          width: {index: [Pipes], values: [2, 1, 3]}
          cap: {index: [Pipes, T], values: [[5, 6], [7, 8], [9, 10]]}
          per_period: {index: [T], values: [4, 100]}
          floor: 1
        variables:
          same: {index: [Pipes, T], upper: cap}
          fewer: {index: [Pipes, T], upper: per_period}
          subset: {index: [Open], upper: width}
          scalar: {index: [T], lower: floor, upper: floor}
        objective:
          sense: maximize
          expr: >-
            sum(same[i, j, t] + fewer[i, j, t] for (i, j) in Pipes for t in T)
            + sum(subset[i, j] for (i, j) in Open) + sum(scalar[t] for t in T)
        constraints:
          fewer_total: sum(fewer[i, j, 2] for (i, j) in Pipes) <= 12
    """))
    assert sol.objective == pytest.approx(45 + (3 * 4 + 12) + (2 + 3) + 2)


# ---------------------------------------------------------------- item 10: text tables, literal lists, set algebra

def test_set_union_intersection_and_difference_keep_order():
    f = model("""
        sets:
          A: [c, a, b]
          B: [b, d, a]
          U: "A | B"
          I: "A & B"
          D: "A - B"
          Chain: "(A | B) - [d]"
        variables: {x: {index: [U]}}
        objective: {sense: minimize, expr: "sum(x[u] for u in U)"}
    """)
    from formulate.ir.ground import Grounder

    g = Grounder(f)
    assert [g.get_set(n).members for n in ("U", "I", "D", "Chain")] == [
        ["c", "a", "b", "d"], ["a", "b"], ["c"], ["c", "a", "b"]]


def test_bar_outside_a_set_definition_says_where_it_belongs():
    msg = ground_error("""
        sets: {A: [1, 2]}
        variables: {x: {index: [A]}}
        objective: {sense: minimize, expr: "sum(x[a] for a in A if a > 1 | a < 0)"}
    """)
    assert "`|` combines sets in a set definition" in msg and "write `or` / `and`" in msg


def test_text_tables_compare_with_strings_and_literal_lists():
    sol = solve(model("""
        sets: {Staff: [ann, bob, cy, dee]}
        parameters:
          degree: {index: [Staff], values: {ann: master, bob: bachelor, cy: phd, dee: X-ray}}
          cap: {index: [Staff], values: [1, .inf, 1, 1]}
        variables: {hire: {index: [Staff], type: binary}}
        objective:
          sense: maximize
          expr: sum(hire[s] for s in Staff if degree[s] in ['master', 'phd'] and cap[s] < inf) + 3 * sum(hire[s] for s in Staff if degree[s] == 'X-ray')
        constraints:
          no_bachelor: sum(hire[s] for s in Staff if degree[s] not in ['master', 'phd', 'X-ray']) == 0
    """))
    assert sol.objective == pytest.approx(5)
    assert sol.hire["bob"] == 0


# ---------------------------------------------------------------- item 15: YAML pitfalls

def test_an_item_opening_with_a_quote_gets_the_quote_whole_hint():
    text = "name: x\nmeta:\n  assumptions:\n    - \"fixed\" means paid once\nvariables: {x: {upper: 1}}\n"
    with pytest.raises(FormulationError) as info:
        loads(text)
    msg = str(info.value)
    assert "line 4" in msg and "a value that opens with a quote must be quoted whole" in msg
    assert "write `- '\"fixed\" means paid once'`" in msg


@pytest.mark.parametrize("extra", ["", "  stamp: 2020-01-01\n"])  # the second takes ruamel's path
def test_scientific_notation_is_a_number(extra):
    f = loads("meta:\n  tol: 5e-7\n" + extra + "parameters:\n  eps: 5e-7\n  big: 1E3\n"
              "  rates: {index: [T], values: [2.5e+3, 5e-7]}\nsets: {T: [1, 2]}\n"
              "variables: {x: {upper: 1}}\nobjective: {sense: maximize, expr: x * big + eps}\n")
    assert f.parameters["eps"] == 5e-7 and isinstance(f.parameters["big"], float)
    assert solve(f).objective == pytest.approx(1000 + 5e-7)


def test_unused_parameters_are_allowed_and_reported():
    report = check(model("""
        parameters: {spare: 3, cap: 4}
        variables: {x: {}}
        objective: {sense: maximize, expr: x}
        constraints:
          c: x <= cap
    """))
    assert report.ok and "parameter `spare` is never used; is a term missing?" in report.warnings


# ---------------------------------------------------------------- item 11: quadratic and conic forms

def test_unary_minus_binds_looser_than_power_as_in_python():
    sol = solve(model("""
        variables: {t: {lower: -10, upper: 10}}
        objective: {sense: maximize, expr: -t ** 2 + 4 * t}
    """))
    assert (sol.solver, sol.problem_class) == ("highs", "QP")  # concave maximised: a convex QP
    assert sol.objective == pytest.approx(4) and sol.t == pytest.approx(2, abs=1e-5)


@pytest.mark.parametrize("row, kind, best", [
    ("x ** 2 + y ** 2 <= 8", "QCP", 4.0),                            # convex quadratic row: SCIP
    ("sqrt(x ** 2 + y ** 2) <= 2 * t", "NLP", 4 * 2 ** 0.5),          # second-order cone written with sqrt
    ("x ** 2 + y ** 2 <= t ** 2", "QCP", 2 * 2 ** 0.5),              # the same cone as a quadratic row
])
def test_quadratic_rows_and_cones_go_to_scip(row, kind, best):
    sol = solve(model(f"""
        variables: {{x: {{lower: -5}}, y: {{lower: -5}}, t: {{lower: 0, upper: 2}}}}
        objective: {{sense: maximize, expr: x + y}}
        constraints:
          c: {row}
    """))
    assert sol.solver == "scip" and sol.problem_class == kind
    assert sol.objective == pytest.approx(best, rel=1e-5)


# ---------------------------------------------------------------- item 16: the reference shows the forms

def test_reference_states_every_rule_of_round_two():
    from formulate.formulators.prompt import language_reference

    text = language_reference()
    for form in ("range(1, len(P) + 1)", "(t[i, j] if (i, j) in Given else t[j, i])", "'X-ray'",
                 "tuple targets `(i, j) in Arcs`", "if kind[j] == 'rush'", "sum(1 for j in J if size[j] > 3)",
                 "use[b] <= use[b - 1]", '`Nodes: "Depots | Stores"`', "degree[c] in ['master', 'phd']",
                 "if cap[i, j] < inf", "`-t ** 2` is\n  `-(t ** 2)`", "big-M comes from the variables' bounds",
                 "SCIP's native indicator", "linearised\n  exactly", "subscripted flat `y[a, b, k]`",
                 "over fewer of them", "over a superset", "an empty sum is 0", "must be quoted whole",
                 "`5e-7`", "unused parameters are allowed", "goes under `sets:`",
                 "`for a in S for b in S if (a, b) in Pairs`", "second-order cones",
                 "several objectives (goal programming)", "priority: 2}"):
        assert form in text, form


# ---------------------------------------------------------------- item 13: several objectives

LEVELS = """
    variables: {x: {upper: 3}, y: {upper: 3}, z: {type: integer, upper: 5}}
    objective:
      - {sense: maximize, expr: x + y, priority: 2}
      - {sense: minimize, expr: x, priority: 1, weight: 3}
      - {sense: maximize, expr: z, priority: 1}
    constraints:
      c: x + y <= 4
      d: 2 * x + z <= 7
"""


@pytest.mark.parametrize("solver", ["highs", "cbc", "scip", "pyomo"])
def test_lexicographic_levels_with_weights_and_mixed_senses(solver):
    sol = solve(model(LEVELS), solver=solver, mip_gap=0)
    # level 1: x + y = 4; level 2 (minimise): 3x - z with 2x + z <= 7, x >= 1 -> x = 1, z = 5: 3 - 5 = -2
    assert sol.objective == pytest.approx(4)
    assert [level["value"] for level in sol.objectives] == pytest.approx([4, -2])
    assert [(level["priority"], level["sense"]) for level in sol.objectives] == [(2, "maximize"), (1, "minimize")]
    assert sol.x == pytest.approx(1) and sol.z == pytest.approx(5)
    assert "objectives" in sol.to_dict()


def test_objectives_of_one_priority_are_one_weighted_objective():
    sol = solve(model("""
        variables: {x: {upper: 3}, y: {upper: 3}}
        objective:
          - {sense: maximize, expr: x, weight: 2}
          - {sense: maximize, expr: y}
        constraints:
          c: x + y <= 4
    """))
    assert sol.objective == pytest.approx(2 * 3 + 1) and sol.objectives is None


def test_an_unknown_key_in_an_objective_list_is_named():
    with pytest.raises(FormulationError) as info:
        loads("variables: {x: {upper: 1}}\nobjective:\n  - {sense: min, expr: x, prio: 2}\n")
    assert str(info.value).startswith("objective 1: unknown key `prio`")


def test_levels_must_be_linear():
    msg = ground_error("""
        variables: {x: {upper: 3}, y: {upper: 3}}
        objective:
          - {sense: minimize, expr: x ** 2, priority: 2}
          - {sense: minimize, expr: y, priority: 1}
    """)
    assert msg.startswith("objective 1: is not linear; several objectives must each be linear")


@pytest.mark.parametrize("target", ["pyomo", "pulp", "highspy", "gurobipy"])
def test_several_objectives_export_to_every_script_target(target, tmp_path):
    import json
    import subprocess
    import sys

    from formulate.codegen import export
    from tests.helpers import gurobi_available

    if target == "gurobipy" and gurobi_available():
        pytest.skip(gurobi_available())
    script = tmp_path / f"levels_{target}.py"
    script.write_text(export(model(LEVELS), target))
    out = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "optimal" and result["objective"] == pytest.approx(4)
    assert result["values"]["x"] == pytest.approx(1) and result["values"]["z"] == pytest.approx(5)


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_model_files_refuse_several_objectives(fmt):
    from formulate.codegen import export
    from formulate.codegen.common import ExportError

    with pytest.raises(ExportError, match=f"{fmt} cannot express several objectives"):
        export(model(LEVELS), fmt)
