"""One test per row of the error table in language.md §7: where, what and the fix."""

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


def test_undefined_name_did_you_mean():
    msg = ground_error("""
        sets: {P: [chair, table]}
        parameters:
          wood: {index: [P], values: [2, 5]}
        variables: {x: {index: [P]}}
        objective: {sense: maximize, expr: "sum(x[p] for p in P)"}
        constraints:
          wood_limit: sum(wod[p] * x[p] for p in P) <= 100
    """)
    assert msg == "constraint `wood_limit`: name `wod` is not defined; did you mean `wood`?"


def test_unbound_index():
    msg = ground_error("""
        sets: {T: [1, 2, 3]}
        variables: {x: {index: [T]}}
        objective: {sense: minimize, expr: "sum(x[t] for t in T)"}
        constraints:
          c: x[t] >= 1
    """)
    assert msg == "constraint `c`: name `t` is not defined; is a `for t in T` missing?"


def test_flow_mapping_yaml():
    text = "sets: {P: [a, b]}\nvariables: {x: {index: [P]}}\nconstraints:\n  cap: {forall: p in P, expr: x[p] <= 40}\n"
    with pytest.raises(FormulationError) as info:
        loads(text)
    msg = str(info.value)
    assert "line 4" in msg and "cap: {forall: p in P, expr: x[p] <= 40}" in msg
    assert "write the constraint in block style or quote the expression" in msg


def test_variable_in_filter():
    msg = ground_error("""
        sets: {I: [A, B], J: [X, Y]}
        variables: {use: {index: [I, J], type: binary}, y: {index: [I, J]}}
        objective: {sense: minimize, expr: "sum(y[i, j] for i in I for j in J)"}
        constraints:
          link:
            forall: i in I
            expr: sum(y[i, j] for j in J if use[i, j] >= 1) >= 1
    """)
    assert msg.startswith("constraint `link` at i='A'")
    assert "the filter `use[i, j] >= 1` depends on variable `use`; filters select indices from data" in msg
    assert "for a row that holds only when a binary is 1, use `when:`" in msg


def test_missing_table_entry():
    msg = ground_error("""
        sets: {N: [1, 2]}
        parameters:
          cost: {index: [N, N], values: {1: {2: 5}, 2: {1: 4}}}
        variables: {f: {index: [N, N]}}
        objective: {sense: minimize, expr: "sum(f[i, j] for i in N for j in N)"}
        constraints:
          flow:
            forall: i in N, j in N
            expr: f[i, j] >= cost[i, j]
    """)
    assert msg == ("constraint `flow` at (i, j)=(1, 1): parameter `cost` has no entry cost[1, 1]; "
                   "add `if i != j` to the loop, give the entry, or declare `default: 0`")


def test_index_out_of_set():
    msg = ground_error("""
        sets: {W: [1, 2, 3, 4]}
        parameters:
          demand: {index: [W], values: [1, 2, 3, 4]}
          initial_stock: 5
        variables: {stock: {index: [W]}, make: {index: [W]}}
        objective: {sense: minimize, expr: "sum(make[w] for w in W)"}
        constraints:
          balance:
            forall: w in W
            expr: stock[w] == stock[w - 1] + make[w] - demand[w]
    """)
    assert msg == ("constraint `balance` at w=1: `stock[w - 1]` is stock[0], outside W = [1, 2, 3, 4]; restrict the "
                   "loop or write `(stock[w - 1] if w > first(W) else initial_stock)`")


def test_member_type():
    msg = ground_error("""
        sets: {T: [1, 2, 3]}
        variables: {x: {index: [T]}}
        objective: {sense: minimize, expr: "sum(x[t] for t in T)"}
        constraints:
          c: x['1'] >= 1
    """)
    assert msg == "constraint `c`: `x['1']`: the members of T are integers; write x[1]"


def test_wrong_length():
    msg = ground_error("""
        sets: {Origins: [a, b, c], Destinations: [x, y]}
        parameters:
          rate: {index: [Origins, Destinations], values: [[1, 2, 3], [4, 5], [6, 7]]}
        variables: {s: {index: [Origins, Destinations]}}
        objective: {sense: minimize, expr: "sum(rate[o, d] * s[o, d] for o in Origins for d in Destinations)"}
    """)
    assert msg.startswith("parameter `rate`: row 1 has 3 values but set `Destinations` has 2 members")


BOTTLENECK = """
    sets: {I: [A], J: [B]}
    variables:
      use: {index: [I, J], type: binary}
      width: {index: [I, J]}
    objective: {sense: maximize, expr: "sum(width[i, j] - 3 * use[i, j] for i in I for j in J)"}
    constraints:
      cap:
        forall: i in I, j in J
        expr: width[i, j] <= 10
      bottleneck:
        forall: i in I, j in J
        when: use[i, j]
        expr: width[i, j] <= 4
"""


def test_no_big_m_when_highs_is_asked_for():
    with pytest.raises(FormulationError) as info:
        solve(model(BOTTLENECK), solver="highs")
    assert str(info.value) == (
        "constraint `bottleneck` at (i, j)=('A', 'B'): `when: use[i, j]` needs a big-M for HiGHS, but `width` has no "
        "upper bound; give `width` an `upper:`, or leave the solver choice automatic (SCIP indicators)")


def test_no_big_m_automatic_goes_to_scip():
    pytest.importorskip("pyscipopt", reason="SCIP (pyscipopt) is not installed")
    solution = solve(model(BOTTLENECK))
    assert solution.solver == "scip"
    assert solution.objective == pytest.approx(10.0)
    assert any("width" in w and "SCIP" in w for w in solution.warnings)


def test_when_on_non_binary():
    msg = ground_error("""
        sets: {T: [1, 2]}
        variables: {x: {index: [T]}, y: {index: [T]}}
        objective: {sense: minimize, expr: "sum(y[t] for t in T)"}
        constraints:
          c:
            forall: t in T
            when: x[t]
            expr: y[t] >= 1
    """)
    assert msg.startswith("constraint `c`: `when:` must name a binary variable or `not` one; `x[t]` is continuous")


def test_strict_on_continuous():
    msg = ground_error("""
        variables: {x: {}, y: {}}
        objective: {sense: minimize, expr: "x + y"}
        constraints:
          more: x < y
    """)
    assert msg.startswith("constraint `more`: strict `<`/`>` is only allowed between integer expressions; "
                          "write `<=`/`>=`")


def test_nonconvex_cone_warning():
    report = check(model("""
        sets: {R: [1, 2]}
        variables:
          y: {index: [R], lower: -inf}
          t: {lower: -inf}
        objective: {sense: minimize, expr: "t"}
        constraints:
          fix: y[1] == 3
          cone: sum(y[r] ** 2 for r in R) <= t ** 2
    """))
    assert report.ok
    assert "constraint `cone[1]`".replace("[1]", "") in " ".join(report.warnings) or \
        any(w.startswith("constraint `cone`") for w in report.warnings)
    assert any("`y'y <= t**2` is nonconvex unless t >= 0; did you mean `lower: 0` on `t`?" in w
               for w in report.warnings)


def test_pwl_breakpoints():
    msg = ground_error("""
        variables: {x: {upper: 10}}
        objective: {sense: minimize, expr: "pwl(x, [0, 5, 3], [0, 1, 2])"}
    """)
    assert msg.startswith("objective: `pwl`: xs must be strictly increasing and as long as ys")


def test_string_members_compared():
    msg = ground_error("""
        sets:
          Cities: [Rome, Oslo, Lima]
          Pairs: "{(i, j) for i in Cities for j in Cities if i < j}"
        variables: {x: {index: [Pairs]}}
        objective: {sense: minimize, expr: "sum(x[i, j] for (i, j) in Pairs)"}
    """)
    assert msg.startswith("set `Pairs`")
    assert "`i < j` compares members of `Cities`, which are strings; write `ord(i) < ord(j)`" in msg


def test_unknown_key():
    with pytest.raises(FormulationError) as info:
        loads("variables:\n  t:\n    type: integer\n    which makes: 3\n")
    assert str(info.value) == ("variable `t`: unknown key `which makes`; allowed: index, type, lower, upper, "
                               "description")


def test_comma_in_flow_mapping_expression():
    with pytest.raises(FormulationError) as info:
        loads("variables: {x: {}}\nobjective: {sense: minimize, expr: max(x, 1) + x}\n")
    assert "write the constraint in block style or quote the expression" in str(info.value)
