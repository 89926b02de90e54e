"""The verifier's checks one by one: text numbers, the number check, integrality, feasibility, rounding, patches."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from formulate.api import _rounded, solve
from formulate.errors import FormulationError
from formulate.ir.ground import Grounder
from formulate.ir.io import loads
from formulate.solution import Solution
from formulate.solvers.status import Termination
from formulate.verify import Finding, apply_changes, feedback_message, verify
from formulate.verify.text import best_sentence, numbers_in_text


def values(text: str, data_only: bool = True) -> list[float]:
    return [n.value for n in numbers_in_text(text) if n.data or not data_only]


# ------------------------------------------------------------------------------------------- text


def test_numbers_in_every_written_form():
    text = ("It costs $1,250.50 a day, 2.5 million in total and 5e-3 per gram; 30% of it is tax. Twenty-five "
            "workers and two hundred and fifty crates, twice as many chairs, half the tables and a dozen eggs.")
    found = {n.text: n for n in numbers_in_text(text)}
    assert found["$1,250.50"].value == 1250.5
    assert found["2.5 million"].values == (2.5e6, 2.5)
    assert found["5e-3"].value == pytest.approx(0.005)
    assert found["30%"].values == (30.0, 0.3) and found["30%"].percent
    assert found["Twenty-five"].value == 25
    assert found["two hundred and fifty"].value == 250
    assert found["twice"].value == 2 and found["half"].value == 0.5 and found["dozen"].value == 12


def test_identifiers_list_markers_ordinals_years_and_times_are_not_data():
    text = ("1. Product 1 needs 3 hours on Machine 2.\n2. The 2nd shift starts at 8:00 in 2024.\n"
            "Each unit of product 3 sells for $7.")
    assert values(text) == [3.0, 7.0]
    assert {1.0, 2.0, 8.0, 2024.0} <= set(values(text, data_only=False))


def test_best_sentence_prefers_numbers_then_words():
    text = "Wood: 100 boards are in stock. The market takes at most 40 of each. Chairs sell well."
    assert best_sentence(text, [40]) == "The market takes at most 40 of each."
    assert best_sentence(text, [], ["wood"]) == "Wood: 100 boards are in stock."
    assert best_sentence(text, [77], ["zebra"]) is None


# ---------------------------------------------------------------------------------------- numbers


def numbers_findings(yaml_text: str, text: str) -> list[Finding]:
    return [f for f in verify(loads(yaml_text), text, readings=False).findings if f.kind == "numbers"]


SHIFTS = """\
name: shifts
parameters: {hours: {value}, rate: {rate}, need: 120}
variables: {staff: {type: integer}}
objective:
  sense: minimize
  expr: rate * hours * staff
constraints:
  cover: hours * staff >= need
"""


def test_percentages_units_and_products_count_as_used():
    text = "Each nurse works 8 hours a day for 5 days; 120 nurse-hours are needed. Pay is $30 an hour plus 10%."
    yaml_text = SHIFTS.replace("{value}", "40").replace("{rate}", "33")  # 8 * 5 hours, 30 * 1.1 pay
    assert numbers_findings(yaml_text, text) == []
    minutes = "Each nurse works 480 minutes a day; 120 nurse-hours are needed. Pay is $33 an hour."
    assert numbers_findings(SHIFTS.replace("{value}", "8").replace("{rate}", "33"), minutes) == []


def test_a_missing_number_and_an_invented_value_are_reported():
    text = "Each nurse works 8 hours; 120 nurse-hours are needed. Pay is $30 an hour. At most 14 nurses are free."
    found = numbers_findings(SHIFTS.replace("{value}", "8").replace("{rate}", "45"), text)
    missing = next(f for f in found if f.where.startswith("text numbers"))
    assert '- $30, in: "Pay is $30 an hour."' in missing.for_model and "- 14, in:" in missing.for_model
    invented = next(f for f in found if "parameter `rate`" in f.where)
    assert "parameter `rate` = 45" in invented.for_model


def test_unused_parameter_is_reported():
    text = "Each nurse works 8 hours; 120 nurse-hours are needed. Pay is $30 an hour; 9 nurses are on leave."
    yaml_text = SHIFTS.replace("{value}", "8").replace("{rate}", "30").replace("need: 120}", "need: 120, leave: 9}")
    found = numbers_findings(yaml_text, text)
    assert [f.where for f in found] == ["parameter `leave`"] and "never used" in found[0].for_model
    assert "Parameter `leave` is declared" in found[0].for_model


def test_numbers_in_every_objective_level_count_as_used():
    text = ("Each nurse works 8 hours; 120 nurse-hours are needed and pay is $30 an hour. Second, keep "
            "overtime low: each overtime hour counts 17 in the secondary goal, with weight 71 beside it.")
    yaml_text = """\
name: shifts
parameters: {hours: 8, rate: 30, need: 120}
variables: {staff: {type: integer}, over: {}}
objective:
  - {sense: minimize, expr: rate * hours * staff, priority: 2}
  - {sense: minimize, expr: 17 * over, priority: 1}
  - {sense: minimize, expr: staff, priority: 1, weight: 71}
constraints:
  cover: hours * staff + over >= need
"""
    assert isinstance(loads(yaml_text).objective.root, list)
    assert numbers_findings(yaml_text, text) == []
    missing = numbers_findings(yaml_text.replace("17 * over", "over"), text)
    assert [f.where for f in missing] == ["text numbers 17"]
    missing = numbers_findings(yaml_text.replace("weight: 71", "weight: 2"), text)
    assert [f.where for f in missing] == ["text numbers 71"]


# ------------------------------------------------------------------------------ integrality, trivial


def test_integer_fraction_variable_is_flagged():
    formulation = loads("""\
name: mix
variables:
  share_a: {type: integer, upper: 1, description: fraction of the budget in fund A}
  share_b: {upper: 1}
objective: {sense: maximize, expr: 3 * share_a + 2 * share_b}
constraints:
  budget: share_a + share_b <= 1
""")
    found = [f for f in verify(formulation, "Split a budget between two funds.").findings if f.kind == "integrality"]
    assert len(found) == 1 and "`share_a` is integer but its name calls it a share" in found[0].for_model


def test_constraint_slack_by_orders_of_magnitude_is_info():
    formulation = loads("""\
name: slack
variables: {x: {upper: 5}}
objective: {sense: maximize, expr: x}
constraints:
  budget: 2 * x <= 50000
""")
    found = [f for f in verify(formulation, "A budget of 50000 dollars; each unit costs 2 dollars.").findings
             if f.kind == "trivial"]
    assert [f.severity for f in found] == ["info"] and "factor of 5000" in found[0].for_model
    assert found[0].span == "A budget of 50000 dollars; each unit costs 2 dollars."


# ------------------------------------------------------------------------------- feasibility, rounding

PURE_INTEGER = """\
name: t
variables: {x: {type: integer, upper: 10}, y: {type: integer, upper: 10}}
objective: {sense: maximize, expr: x + y}
constraints: {c: 3*x + 3*y <= 21}
"""


def test_integer_point_is_rounded_and_the_objective_recomputed():
    problem = Grounder(loads(PURE_INTEGER)).ground().problem
    point, objective = _rounded(problem, np.array([3.9999997, 3.0000001]), 6.9999994, True)
    assert point.tolist() == [4.0, 3.0] and objective == 7.0
    assert solve(loads(PURE_INTEGER)).objective == 7.0
    unchanged, same = _rounded(problem, np.array([3.6, 3.0]), 6.6, True)  # not near integral: left as is
    assert unchanged.tolist() == [3.6, 3.0] and same == 6.6


def test_feasibility_recheck_catches_a_point_that_breaks_a_row():
    formulation = loads(PURE_INTEGER)
    solved = solve(formulation)
    bad = Solution(Termination.OPTIMAL, True, "highs", objective=9.0, point=np.array([5.0, 4.0]), flat=solved.flat)
    found = [f for f in verify(formulation, None, bad, readings=False).findings if f.kind == "feasibility"]
    assert found[0].severity == "error" and "c: 27 is above its upper bound 21" in found[0].for_model
    assert any("evaluates to" in f.for_model for f in found) is False  # 5 + 4 == 9: the objective agrees


# ---------------------------------------------------------------------------------------- patches


def test_patch_replaces_adds_and_deletes_items():
    base = loads("""\
name: p
parameters: {cap: 10}
variables: {x: {}}
objective: {sense: maximize, expr: x}
constraints: {limit: x <= cap, extra: x <= 8}
""")
    patched = apply_changes(base, {"parameters": {"cap": 20, "floor": 1}, "constraints": {"extra": None},
                                   "objective": {"sense": "minimize", "expr": "x"}})
    assert patched.parameters == {"cap": 20, "floor": 1} and list(patched.constraints) == ["limit"]
    assert patched.objective.sense == "minimize"
    with pytest.raises(FormulationError, match="deletes constraint `nothere`, which does not exist"):
        apply_changes(base, {"constraints": {"nothere": None}})


def test_a_patch_naming_some_keys_merges_into_the_variable_or_parameter():
    from formulate.api import solve
    from formulate.verify import solve_readings

    base = loads("""\
name: halves
meta:
  alternatives:
    - reading: whole units only
      changes: {variables: {x: {type: integer}}}
    - reading: the cap is 7.5 and x is free of its bound
      changes: {parameters: {cap: 7.5}, variables: {x: {upper: null}}}
    - reading: the profit of b doubles
      changes: {parameters: {profit: {values: [3, 4]}}}
    - reading: y replaced whole
      changes: {variables: {y: {lower: 1, upper: 2}}}
sets: {P: [a, b]}
parameters:
  cap: 5.5
  profit: {index: [P], values: [3, 2]}
variables:
  x: {index: [P], lower: 0.25, upper: 2.5}
objective:
  sense: maximize
  expr: sum(profit[p] * x[p] for p in P)
constraints:
  limit: sum(x[p] for p in P) <= cap
""")
    main = solve(base)
    assert main.objective == pytest.approx(3 * 2.5 + 2 * 2.5)
    whole, free, doubled, added = solve_readings(base, main)
    assert whole.solved and whole.objective == pytest.approx(3 * 2 + 2 * 2)  # index and bounds kept, 2 + 2 <= 5.5
    assert whole.differs
    assert free.solved and free.objective == pytest.approx(3 * 7.25 + 2 * 0.25)  # lower kept, upper back to inf
    assert doubled.solved and doubled.objective == pytest.approx(3 * 2.5 + 4 * 2.5)  # index kept, values replaced
    assert added.error is None and added.solved  # a new item is added as given
    patched = apply_changes(base, {"variables": {"x": {"type": "integer"}}})
    assert patched.variables["x"].index == ["P"] and patched.variables["x"].lower == 0.25
    assert patched.variables["x"].type == "integer"
    assert list(apply_changes(base, {"variables": {"x": None}, "constraints": {"limit": None},
                                     "objective": {"sense": "maximize", "expr": "cap"}}).variables) == []


ROWS = """\
name: rows
meta:
  alternatives:
    - reading: the market takes at least 4 of each
      changes: {constraints: {demand: {expr: "x[p] >= 4"}}}
    - reading: the market takes at most 3 of each
      changes: {constraints: {demand: {expr: "x[p] <= 3 for p in P"}}}
    - reading: only b has a market cap
      changes: {constraints: {demand: {forall: "p in P if p == 'b'"}}}
    - reading: only a is capped, at 1
      changes: {constraints: {demand: "x['a'] <= 1"}}
    - reading: the profit is a cost
      changes: {objective: {sense: minimize}}
sets: {P: [a, b]}
parameters:
  profit: {index: [P], values: [3, 2]}
variables:
  x: {index: [P]}
objective:
  sense: maximize
  expr: sum(profit[p] * x[p] for p in P)
  description: profit
constraints:
  cap: sum(x[p] for p in P) <= 10
  demand: DEMAND
"""
BLOCK_DEMAND = "{forall: p in P, expr: \"x[p] <= 4\", description: market cap}"
INLINE_DEMAND = "\"x[p] <= 4 for p in P\""


@pytest.mark.parametrize("demand", [BLOCK_DEMAND, INLINE_DEMAND], ids=["block", "inline"])
def test_a_constraint_or_objective_patch_merges_field_by_field(demand):
    from formulate.verify import solve_readings

    base = loads(ROWS.replace("DEMAND", demand))
    main = solve(base)
    assert main.objective == pytest.approx(3 * 4 + 2 * 4)
    at_least, at_most, only_b, whole, cost = solve_readings(base, main)
    assert at_least.error is None and at_least.objective == pytest.approx(3 * 6 + 2 * 4)  # the loop is kept
    assert at_most.objective == pytest.approx(3 * 3 + 2 * 3)  # an inline loop of its own replaces the loop
    assert only_b.objective == pytest.approx(3 * 10)  # the comparison is kept, the loop changed
    assert whole.objective == pytest.approx(3 * 1 + 2 * 9)  # a one-line string replaces the row whole
    assert cost.objective == pytest.approx(0) and cost.differs  # expr kept, only the sense flipped
    flipped = apply_changes(base, {"constraints": {"demand": {"expr": "x[p] >= 4"}}}).constraint("demand")
    assert (flipped.forall, flipped.expr) == ("p in P", "x[p] >= 4")
    if demand == BLOCK_DEMAND:
        assert flipped.description == "market cap"
        assert apply_changes(base, {"constraints": {"demand": {"description": None}}}).constraint(
            "demand").description is None  # a field set to null is removed
    either = apply_changes(base, {"constraints": {"demand": {"either": ["x[p] <= 1", "x[p] >= 5"]}}})
    assert either.constraint("demand").expr is None and either.constraint("demand").forall == "p in P"
    objective = apply_changes(base, {"objective": {"sense": "minimize", "description": None}}).objective
    assert (objective.sense, objective.expr, objective.description) == (
        "minimize", "sum(profit[p] * x[p] for p in P)", None)


def test_an_objective_patch_on_several_objectives_replaces_them():
    base = loads(ROWS.replace("DEMAND", INLINE_DEMAND).replace(
        "objective:\n  sense: maximize\n  expr: sum(profit[p] * x[p] for p in P)\n  description: profit\n",
        "objective:\n  - {sense: maximize, expr: \"x['b']\", priority: 2}\n"
        "  - {sense: maximize, expr: \"x['a']\", priority: 1}\n"))
    assert solve(base).objective == pytest.approx(4)
    single = apply_changes(base, {"objective": {"sense": "minimize", "expr": "x['a']"}})
    assert single.objectives()[0].expr == "x['a']" and len(single.objectives()) == 1
    levels = apply_changes(base, {"objective": [{"sense": "maximize", "expr": "x['a']", "priority": 2},
                                                {"sense": "maximize", "expr": "x['b']", "priority": 1}]})
    assert [o.expr for o in levels.objectives()] == ["x['a']", "x['b']"]
    assert solve(levels).x["a"] == pytest.approx(4) and solve(levels).x["b"] == pytest.approx(4)
    with pytest.raises(FormulationError, match="changes some keys of an objective that has several levels"):
        apply_changes(base, {"objective": {"sense": "minimize"}})
    with pytest.raises(FormulationError, match="deletes the objective"):
        apply_changes(base, {"objective": None})


def test_feedback_quotes_the_span_and_leaves_out_info():
    findings = [Finding("numbers", "warning", "w", "A number is unused.", "unused", span="It costs $5."),
                Finding("trivial", "info", "i", "Slack.", "slack"),
                Finding("infeasible", "error", "e", "Conflict.", "conflict")]
    text = feedback_message(findings)
    assert text.index("[infeasible]") < text.index("[numbers]") and "Slack." not in text
    assert 'The text says: "It costs $5."' in text and "```yaml" in text


# --------------------------------------------------------------------------------------------- CLI


def test_verify_command_reports_and_exits_1_on_an_error(tmp_path):
    from formulate.cli import app

    good = tmp_path / "t.yaml"
    good.write_text(PURE_INTEGER)
    result = CliRunner().invoke(app, ["verify", str(good)])
    assert result.exit_code == 0 and "status: optimal, objective 7" in result.output
    infeasible = tmp_path / "bad.yaml"
    infeasible.write_text(PURE_INTEGER.replace("constraints: {c: 3*x + 3*y <= 21}",
                                               "constraints: {c: 3*x + 3*y <= 21, d: x + y >= 9}"))
    text = tmp_path / "problem.txt"
    text.write_text("Two whole numbers up to 10: three times their sum is at most 21 and their sum at least 9.")
    result = CliRunner().invoke(app, ["verify", str(infeasible), "--text", str(text), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["findings"][0]["kind"] == "infeasible" and "`c`" in data["findings"][0]["for_model"]
    missing = CliRunner().invoke(app, ["verify", str(good), "--text", str(tmp_path / "none.txt")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


# -------------------------------------------------------------------------------------------- direction


def test_direction_contradicting_the_text_is_flagged_even_when_it_solves():
    from formulate.verify.describe import direction_hint

    text = "Chairs earn $30 each. Each chair uses 2 boards and 100 boards are in stock. At most 12 chairs sell."
    formulation = loads("""\
name: chairs
variables: {x: {type: integer}}
objective: {sense: maximize, expr: 30 * x}
constraints:
  wood: 2 * x <= 100
  market: x >= 12
""")
    found = [f for f in verify(formulation, text).findings if f.kind == "direction"]
    assert [f.where for f in found] == ["constraint `market`"]
    assert 'the text says "At most 12" but the row reads `>=`' in found[0].for_model
    assert found[0].span == "At most 12 chairs sell."
    assert direction_hint("The total must not exceed 100 hours.", 100, "<=") is None
    assert direction_hint("The total must not exceed 100 hours.", 100, ">=") is not None
    assert direction_hint("Sales should be no less than 300 units.", 300, ">=") is None
    assert direction_hint("Pediatrics can't have more than 200 units.", 200, "<=") is None
    assert direction_hint("At most 40 of each, and at least 40 in total.", 40, ">=") is None  # 40 twice: unclear
