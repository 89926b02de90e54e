"""Grounding: data, bounds, index arithmetic, big-M, classification and the flat problem's shape."""

from __future__ import annotations

import numpy as np
import pytest

from formulate.api import check
from formulate.errors import FormulationError
from formulate.ir.bigm import big_m_rows
from formulate.ir.ground import ground
from formulate.ir.io import loads
from tests.helpers import model


def flat(text: str):
    return ground(model(text)).problem


def test_yaml_1_2_rules():
    f = loads("sets:\n  Countries: [NO, SE]\nparameters:\n  big: 1e3\n  t: '08'\n")
    assert f.sets["Countries"] == ["NO", "SE"]
    assert f.parameters["big"] == 1000.0
    with pytest.raises(FormulationError, match="boolean"):
        ground(loads("sets:\n  S: [true, false]\n"))


def test_bound_from_parameter_over_fewer_sets():
    p = flat("""
        sets: {G: [a, b], T: [1, 2, 3]}
        parameters:
          avail: {index: [G], values: [4, 7]}
        variables:
          x: {index: [G, T], upper: avail}
        objective: {sense: maximize, expr: "sum(x[g, t] for g in G for t in T)"}
    """)
    assert p.col_upper.tolist() == [4, 4, 4, 7, 7, 7]
    assert p.col_lower.tolist() == [0] * 6


def test_ambiguous_bound_is_an_error():
    with pytest.raises(FormulationError, match="ambiguous"):
        flat("""
            sets: {N: [1, 2]}
            parameters:
              cap: {index: [N], values: [1, 2]}
            variables:
              f: {index: [N, N], upper: cap}
        """)


def test_bound_over_derived_subset_reads_parent_table():
    p = flat("""
        sets:
          Pipes: [[a, b], [b, c], [a, c]]
          Open: "{(i, j) for (i, j) in Pipes if closed[i, j] == 0}"
        parameters:
          capacity: {index: [Pipes], values: [5, 6, 7]}
          closed: {index: [Pipes], values: [0, 1, 0]}
        variables:
          flow: {index: [Open], upper: capacity}
        objective: {sense: maximize, expr: "sum(flow[i, j] for (i, j) in Open)"}
    """)
    assert p.col_upper.tolist() == [5, 7]
    assert p.col_names() == ["flow[a,b]", "flow[a,c]"]


def test_index_arithmetic_prev_next_wrap_ord():
    p = flat("""
        sets: {D: [mon, tue, wed]}
        variables: {x: {index: [D]}}
        objective: {sense: minimize, expr: "sum(x[d] for d in D)"}
        constraints:
          cover:
            forall: d in D
            expr: x[d] + x[prev(d, wrap=True)] >= ord(d)
    """)
    dense = np.zeros((3, 3))
    for r in range(3):
        for k in range(p.row_start[r], p.row_start[r + 1]):
            dense[r, p.row_index[k]] = p.row_value[k]
    assert dense.tolist() == [[1, 0, 1], [1, 1, 0], [0, 1, 1]]
    assert p.row_lower.tolist() == [1, 2, 3]


def test_next_leaving_the_set_names_the_fixes():
    with pytest.raises(FormulationError) as info:
        flat("""
            sets: {T: [1, 2, 3]}
            variables: {x: {index: [T]}}
            objective: {sense: minimize, expr: "sum(x[t] for t in T)"}
            constraints:
              link:
                forall: t in T
                expr: x[next(t)] >= x[t]
        """)
    assert "at t=3" in str(info.value) and "wrap=True" in str(info.value)


def test_always_false_constant_constraint():
    with pytest.raises(FormulationError, match="reads 3 >= 5 .no variable left.; the data make it impossible"):
        flat("""
            parameters: {a: 3}
            variables: {x: {}}
            objective: {sense: minimize, expr: x}
            constraints:
              silly: a >= 5
        """)


def test_unused_names_are_warnings():
    report = check(model("""
        parameters: {spare: 3, cap: 4}
        variables: {x: {}, idle: {}}
        objective: {sense: maximize, expr: x}
        constraints:
          c: x <= cap
    """))
    assert report.ok
    assert "parameter `spare` is never used; is a term missing?" in report.warnings
    assert "variable `idle` is never used" in report.warnings


def test_check_collects_one_error_per_constraint():
    report = check(model("""
        variables: {x: {}}
        objective: {sense: maximize, expr: x}
        constraints:
          a: x <= capp
          b: y >= 1
    """))
    assert len(report.errors) == 2
    assert "constraint `a`" in str(report.errors[0]) and "constraint `b`" in str(report.errors[1])


@pytest.mark.parametrize("objective,kind,expected", [
    ("x + y", "continuous", "LP"),
    ("x + y", "integer", "MILP"),
    ("x ** 2 + y ** 2", "continuous", "QP"),
    ("x ** 2 + y ** 2", "integer", "MIQP"),
    ("exp(x) + y", "continuous", "NLP"),
    ("exp(x) + y", "integer", "MINLP"),
])
def test_classification(objective, kind, expected):
    p = flat(f"""
        variables: {{x: {{type: {kind}, upper: 5}}, y: {{type: {kind}, upper: 5}}}}
        objective: {{sense: minimize, expr: "{objective}"}}
        constraints:
          c: x + y >= 1
    """)
    assert p.problem_class == expected


def test_big_m_is_derived_per_row_from_bounds():
    p = flat("""
        sets: {D: [north, south]}
        parameters:
          cap: {index: [D], values: [40, 25]}
        variables:
          open: {index: [D], type: binary}
          send: {index: [D], upper: cap}
        objective: {sense: minimize, expr: "sum(10 * open[d] - send[d] for d in D)"}
        constraints:
          at_least_ten:
            forall: d in D
            when: open[d]
            expr: send[d] >= 10
          cap_if_closed:
            forall: d in D
            when: not open[d]
            expr: send[d] <= 0
    """)
    rows, report = big_m_rows(p)
    by_name = {}
    for _cols, coefs, lo, hi, name in rows:
        by_name[name] = (coefs.tolist(), lo, hi)
    # send >= 10 when open: send - 10*open >= 0 (M = 10 - lower(send) = 10)
    assert by_name["at_least_ten[north]"] == ([1.0, -10.0], 0.0, np.inf)
    # send <= 0 when not open: M = upper(send) = cap[d], row send - M*open <= 0
    assert by_name["cap_if_closed[north]"] == ([1.0, -40.0], -np.inf, 0.0)
    assert by_name["cap_if_closed[south]"] == ([1.0, -25.0], -np.inf, 0.0)
    assert report.largest_m == 40


def test_big_m_and_native_indicators_agree():
    pytest.importorskip("pyscipopt", reason="SCIP (pyscipopt) is not installed")
    from formulate.api import solve

    text = """
        sets: {D: [north, central, south], T: [a, b, c]}
        parameters:
          fixed: {index: [D], values: [900, 1200, 800]}
          cap: {index: [D], values: [400, 600, 300]}
          demand: {index: [T], values: [120, 250, 180]}
          unit: {index: [D, T], values: [[4, 6, 9], [5, 3, 4], [9, 7, 2]]}
        variables:
          open: {index: [D], type: binary}
          send: {index: [D, T], upper: 500}
        objective:
          sense: minimize
          expr: sum(fixed[d] * open[d] for d in D) + sum(unit[d, t] * send[d, t] for d in D for t in T)
        constraints:
          serve: sum(send[d, t] for d in D) >= demand[t] for t in T
          capacity:
            forall: d in D
            expr: sum(send[d, t] for t in T) <= cap[d]
          closed_ships_nothing:
            forall: d in D
            when: not open[d]
            expr: sum(send[d, t] for t in T) <= 0
          worth_it:
            forall: d in D
            when: open[d]
            expr: sum(send[d, t] for t in T) >= 150
    """
    highs = solve(model(text), solver="highs", mip_gap=0)
    scip = solve(model(text), solver="scip", mip_gap=0)
    assert highs.status == scip.status == "optimal"
    assert highs.objective == pytest.approx(scip.objective, rel=1e-6)


def test_solution_maps_back_to_names():
    from formulate.api import solve

    sol = solve(model("""
        sets: {P: [chair, table]}
        parameters:
          profit: {index: [P], values: {chair: 30, table: 50}}
          wood: {index: [P], values: [2, 5]}
        variables:
          x: {index: [P], type: integer}
        objective: {sense: maximize, expr: "sum(profit[p] * x[p] for p in P)"}
        constraints:
          wood_limit: sum(wood[p] * x[p] for p in P) <= 100
          chair_ratio: x['chair'] >= 2 * x['table']
    """))
    assert sol.status == "optimal"
    assert sol["x"]["chair"] == sol.x["chair"]
    assert 2 * sol.x["chair"] + 5 * sol.x["table"] <= 100
    assert sol.objective == pytest.approx(30 * sol.x["chair"] + 50 * sol.x["table"])


def test_inf_in_filters():
    p = flat("""
        sets: {N: [a, b, c]}
        parameters:
          most: {index: [N], values: [3, .inf, 5]}
        variables: {x: {index: [N]}}
        objective: {sense: maximize, expr: "sum(x[n] for n in N)"}
        constraints:
          cap:
            forall: n in N if most[n] < .inf
            expr: x[n] <= most[n]
    """)
    assert p.num_rows == 2 and p.row_upper.tolist() == [3, 5]


def test_strictness_applies_to_each_end_of_a_chain():
    from formulate.api import solve

    sol = solve(model("""
        variables: {x: {type: integer}, y: {type: integer}}
        objective: {sense: maximize, expr: x + y}
        constraints:
          xr: 3 <= x < 5
          yr: 7 > y >= 2
    """))
    assert sol.objective == 10 and sol.x == 4 and sol.y == 6


def test_division_by_a_negative_number_flips_convexity():
    from formulate.api import solve

    sol = solve(model("""
        variables: {x: {upper: 10}}
        objective: {sense: minimize, expr: "max(x, 1) / -2 + x"}
    """))
    assert sol.objective == pytest.approx(-0.5)
