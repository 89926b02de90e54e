"""The verifier's loop with scripted models: each finding reaches the model, and the fixed answer wins."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fake_openai_server
import pytest
from fake_openai_server import chat_reply

from formulate.formulators.dispatch import CodeTextFormulator
from formulate.formulators.llm import LLMFormulator
from formulate.llm import load_model
from formulate.verify import run_verified

fake_openai = fake_openai_server.fake_openai

FURNITURE_TEXT = (
    "A furniture maker builds chairs ($30 profit each) and tables ($50 each). A chair uses 2 boards of wood and a "
    "table 5, and 100 boards are in stock. The shop must make at least twice as many chairs as tables, and the "
    "market takes at most 40 of each. How many of each maximise profit?")

FURNITURE = """\
name: furniture
meta: {assumptions: [chairs and tables are whole units], alternatives: []}
sets:
  P: [chair, table]
parameters:
  profit: {index: [P], values: {chair: 30, table: 50}}
  wood: {index: [P], values: [2, 5]}
  wood_available: 100
variables:
  x: {index: [P], type: integer, lower: 0, description: units made}
objective:
  sense: maximize
  expr: sum(profit[p] * x[p] for p in P)
constraints:
  wood_limit: sum(wood[p] * x[p] for p in P) <= wood_available
  chair_ratio: x['chair'] >= 2 * x['table']
  demand:
    forall: p in P
    expr: x[p] <= 40
    description: market cap
"""


def fenced(yaml_text: str) -> str:
    return f"Here is the model.\n```yaml\n{yaml_text}```"


def replay(tmp_path: Path, text: str, replies: list[str]):
    path = tmp_path / "replay.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"key": None, "problem": text, "responses": replies}) + "\n")
    return load_model(f"replay:{path}", use_cache=False)


def ir(model) -> LLMFormulator:
    return LLMFormulator(model, k_examples=0)


def sent_feedback(run, index: int = 0) -> str:
    return run.rounds[index].feedback or ""


# ------------------------------------------------------------------------------------------ infeasible


def test_flipped_inequality_is_fed_back_with_the_iis_rows_and_fixed(tmp_path):
    flipped = FURNITURE.replace("expr: x[p] <= 40", "expr: x[p] >= 40")
    model = replay(tmp_path, FURNITURE_TEXT, [fenced(flipped), fenced(FURNITURE)])
    seen = []
    run = run_verified(FURNITURE_TEXT, ir(model), rounds=3, on_round=seen.append)
    assert [r.status for r in seen] == ["infeasible", "optimal"]
    feedback = sent_feedback(run)
    assert "`demand`" in feedback and "`wood_limit`" in feedback
    assert "x[p] >= 40" in feedback and "2 x[chair] + 5 x[table] <= 100" in feedback
    assert 'The text says: "' in feedback and "at most 40 of each" in feedback
    assert run.objective == pytest.approx(1400) and run.status == "optimal"
    assert run.best.ok and run.best.rounds == 2
    assert run.rounds[-1].feedback is None  # clean: nothing more sent, the loop stopped early
    assert run.best.messages[-1]["role"] == "assistant"


ADS_TEXT = ("A company spends at most $250,000 on ads. Each radio ad costs $5,000 and reaches 60,500 viewers; each "
            "social media ad costs $9,150 and reaches 50,000. It orders at least 15 radio ads and at least 35 "
            "social media ads. Maximise the viewers reached.")
ADS = """\
variables:
  radio: {type: integer, lower: 15}
  social: {type: integer, lower: 35}
objective: {sense: maximize, expr: 60500 * radio + 50000 * social}
constraints:
  budget: 5000 * radio + 9150 * social <= 250000
"""


def test_a_text_that_is_infeasible_as_written_can_be_declared_and_the_loop_stops(tmp_path):
    declared = "meta:\n  expected_status: infeasible\n" + ADS
    model = replay(tmp_path, ADS_TEXT, [fenced(ADS), fenced(declared), fenced(declared)])
    run = run_verified(ADS_TEXT, ir(model), rounds=3)
    feedback = sent_feedback(run)
    assert "`budget`" in feedback and "social >= 35" in feedback and "radio >= 15" not in feedback
    assert "set `meta.expected_status: infeasible`" in feedback
    assert len(run.rounds) == 2 and run.rounds[-1].feedback is None  # declared: nothing more to fix
    assert run.status == "infeasible" and run.best_round.round == 2
    (finding,) = [f for f in run.findings if f.kind == "infeasible"]
    assert finding.severity == "info" and "declares `meta.expected_status: infeasible`" in finding.for_person


def test_a_declared_status_the_solve_does_not_reach_changes_nothing(tmp_path):
    flipped = FURNITURE.replace("expr: x[p] <= 40", "expr: x[p] >= 40")
    wrong_claim = flipped.replace("alternatives: []}", "alternatives: [], expected_status: unbounded}")
    assert wrong_claim != flipped
    model = replay(tmp_path, FURNITURE_TEXT, [fenced(wrong_claim), fenced(FURNITURE)])
    run = run_verified(FURNITURE_TEXT, ir(model), rounds=3)
    assert run.rounds[0].status == "infeasible"
    assert any(f.kind == "infeasible" and f.severity == "error" for f in run.rounds[0].findings)
    assert run.objective == pytest.approx(1400)


def test_parse_errors_and_verifier_rounds_share_the_round_budget(tmp_path):
    flipped = FURNITURE.replace("expr: x[p] <= 40", "expr: x[p] >= 40")
    model = replay(tmp_path, FURNITURE_TEXT, ["no formulation here", fenced(flipped), fenced(FURNITURE)])
    run = run_verified(FURNITURE_TEXT, ir(model), rounds=2)
    assert [r.stage for r in run.rounds] == ["parse_error", "ok"]
    assert run.rounds[0].feedback.startswith("I could not read a formulation")
    assert run.status == "infeasible" and run.rounds[-1].feedback is None  # budget spent
    assert any(f.kind == "infeasible" and f.severity == "error" for f in run.findings)


# ------------------------------------------------------------------------------------------- unbounded


def test_unbounded_first_reply_names_the_runaway_variables(tmp_path):
    loose = FURNITURE.replace("  wood_limit: sum(wood[p] * x[p] for p in P) <= wood_available\n", "").replace(
        "    expr: x[p] <= 40", "    expr: x[p] >= 0")
    model = replay(tmp_path, FURNITURE_TEXT, [fenced(loose), fenced(FURNITURE)])
    run = run_verified(FURNITURE_TEXT, ir(model))
    first = run.rounds[0]
    assert first.status == "unbounded"
    finding = next(f for f in first.findings if f.kind == "unbounded")
    assert finding.severity == "error" and "x[chair] (grows without limit)" in finding.for_model
    assert "`chair_ratio`" in finding.for_model and "maximize" in finding.for_model
    assert "x[chair]" in sent_feedback(run)
    assert run.objective == pytest.approx(1400)


# ------------------------------------------------------------------------------------- meaning checks

TRUCKS_TEXT = ("A mover rents trucks at $120 a day each. Each truck carries 7 tons and 45 tons of furniture must "
               "be moved. How many trucks should be rented to minimise the cost?")

TRUCKS = """\
name: trucks
parameters: {rent: 120, capacity: 7, load: 45}
variables:
  trucks: {type: {kind}, lower: 0, description: number of trucks rented}
objective: {sense: minimize, expr: rent * trucks}
constraints:
  carry: capacity * trucks >= load
"""


def test_continuous_count_is_flagged_once_and_fixed(tmp_path):
    continuous = TRUCKS.replace("{kind}", "continuous")
    integer = TRUCKS.replace("{kind}", "integer")
    model = replay(tmp_path, TRUCKS_TEXT, [fenced(continuous), fenced(integer)])
    run = run_verified(TRUCKS_TEXT, ir(model))
    first = run.rounds[0].findings
    finding = next(f for f in first if f.kind == "integrality")
    assert finding.severity == "warning" and "trucks" in finding.for_model and "6.42857" in finding.for_model
    assert "type: integer" in sent_feedback(run)
    assert run.objective == pytest.approx(840) and run.findings == []
    assert len(run.rounds) == 2


def test_a_continuous_count_whose_integer_reading_is_an_alternative_is_not_sent_back(tmp_path):
    continuous = TRUCKS.replace("{kind}", "continuous").replace(
        "name: trucks\n", "name: trucks\nmeta:\n  alternatives:\n    - {reading: whole trucks, changes: {variables: "
        "{trucks: {type: integer}}}}\n")
    model = replay(tmp_path, TRUCKS_TEXT, [fenced(continuous)])
    run = run_verified(TRUCKS_TEXT, ir(model))
    assert len(run.rounds) == 1 and run.rounds[0].feedback is None  # the model weighed it already: nothing to send
    finding = next(f for f in run.findings if f.kind == "integrality")
    assert finding.severity == "info" and "among the model's alternatives" in finding.for_person
    assert [r.objective for r in run.readings] == [pytest.approx(840)]


def test_a_warning_is_sent_back_only_once(tmp_path):
    continuous = TRUCKS.replace("{kind}", "continuous")
    model = replay(tmp_path, TRUCKS_TEXT, [fenced(continuous)] * 3)
    run = run_verified(TRUCKS_TEXT, ir(model), rounds=3)
    assert len(run.rounds) == 2  # the same warning again: nothing new to send, stop
    assert run.rounds[0].feedback and run.rounds[1].feedback is None
    assert run.objective == pytest.approx(120 * 45 / 7)


def test_dropped_number_of_the_text_is_quoted_with_its_sentence(tmp_path):
    text = ("A bakery makes bread and cake. Bread earns $3 a loaf and cake $5. Bread needs 2 hours of oven time and "
            "cake 4 hours; the oven runs 80 hours a week. At most 15 cakes sell in a week. Maximise profit.")
    dropped = """\
name: bakery
parameters: {profit_bread: 3, profit_cake: 5, oven_bread: 2, oven_cake: 4, oven_hours: 80}
variables:
  bread: {type: integer}
  cake: {type: integer}
objective: {sense: maximize, expr: profit_bread * bread + profit_cake * cake}
constraints:
  oven: oven_bread * bread + oven_cake * cake <= oven_hours
"""
    fixed = dropped.replace("oven_hours: 80}", "oven_hours: 80, cake_market: 15}") + \
        "  cake_sales: cake <= cake_market\n"
    model = replay(tmp_path, text, [fenced(dropped), fenced(fixed)])
    run = run_verified(text, ir(model))
    finding = next(f for f in run.rounds[0].findings if f.kind == "numbers")
    assert '- 15, in: "At most 15 cakes sell in a week."' in finding.for_model
    assert finding.span == "At most 15 cakes sell in a week."
    assert "15" in sent_feedback(run)
    assert run.objective == pytest.approx(120) and not run.findings


def test_all_zero_optimum_is_flagged(tmp_path):
    text = ("A plant blends two feeds. Feed A costs $4 per kg and feed B $6 per kg. The blend must contain at least "
            "300 kg in total. Minimise the cost.")
    flipped = """\
name: feed
parameters: {cost_a: 4, cost_b: 6, total: 300}
variables: {a: {}, b: {}}
objective: {sense: minimize, expr: cost_a * a + cost_b * b}
constraints:
  amount: a + b <= total
"""
    model = replay(tmp_path, text, [fenced(flipped), fenced(flipped.replace("<= total", ">= total"))])
    run = run_verified(text, ir(model))
    finding = next(f for f in run.rounds[0].findings if f.kind == "trivial")
    assert finding.severity == "warning" and "every decision variable is zero" in finding.for_model
    assert run.objective == pytest.approx(1200) and not run.findings


def test_time_limit_reports_incumbent_bound_and_gap():
    from formulate.api import solve
    from formulate.ir.io import loads
    from formulate.solution import Solution
    from formulate.solvers.status import Termination
    from formulate.verify import verify

    formulation = loads("""\
name: bins
sets: {B: [1, 2, 3, 4], I: [a, b, c]}
parameters: {size: {index: [I], values: [4, 5, 6]}, cap: 10}
variables:
  put: {index: [I, B], type: binary}
  use: {index: [B], type: binary}
objective:
  sense: minimize
  expr: sum(use[b] for b in B)
constraints:
  once: sum(put[i, b] for b in B) == 1 for i in I
  fill: sum(size[i] * put[i, b] for i in I) <= cap * use[b] for b in B
""")
    solved = solve(formulation)
    stopped = Solution(Termination.TIME_LIMIT, True, "highs", objective=3.0, bound=2.0, values=solved.values,
                       point=solved.point, flat=solved.flat)
    report = verify(formulation, "Pack three items of sizes 4, 5 and 6 into bins of size 10.", stopped)
    finding = next(f for f in report.findings if f.kind == "time_limit")
    assert finding.severity == "warning"
    assert "objective 3" in finding.for_model and "best bound is 2" in finding.for_model
    assert "gap 33.33%" in finding.for_model
    assert "set `B` look identical" in finding.for_model and "use[b] <= use[prev(b)]" in finding.for_model
    none_found = Solution(Termination.TIME_LIMIT, False, "highs", flat=solved.flat)
    assert next(f for f in verify(formulation, None, none_found).findings if f.kind == "time_limit").severity == "error"


# ------------------------------------------------------------------------------------------- code mode

RAISES = "```python\nvalues = {'chair': 30}\nprint(values['table'])\n```"
PRINTS = "```python\nprint('Status: optimal')\nprint('Optimal objective value:', 1400)\n```"


def test_code_mode_reply_that_raises_is_fed_back_and_fixed(tmp_path):
    model = replay(tmp_path, FURNITURE_TEXT, [RAISES, PRINTS])
    run = run_verified(FURNITURE_TEXT, CodeTextFormulator(model))
    first = run.rounds[0]
    assert first.stage == "code_error" and first.findings[0].kind == "code"
    assert "KeyError: 'table'" in first.feedback and "print(values['table'])" in first.feedback
    assert run.objective == pytest.approx(1400) and run.best.status == "ok"
    assert run.best.extra["code_status"] == "optimal"


# -------------------------------------------------------------------------------------------- readings


def test_two_readings_with_different_objectives_are_both_reported(tmp_path):
    with_reading = FURNITURE.replace("alternatives: []", (
        "alternatives: [{reading: the market takes at most 40 of both together, changes: {constraints: "
        "{demand: null, market: 'sum(x[p] for p in P) <= 40'}}}, chairs could be sold in halves]"))
    model = replay(tmp_path, FURNITURE_TEXT, [fenced(with_reading)])
    run = run_verified(FURNITURE_TEXT, ir(model))
    assert run.objective == pytest.approx(1400)
    solved, sentence = run.readings
    assert solved.solved and solved.status == "optimal" and solved.differs
    assert solved.objective == pytest.approx(1320)  # 34 chairs and 6 tables: 40 together, 98 boards
    assert not sentence.solved and sentence.error is None and sentence.reading == "chairs could be sold in halves"
    logged = run.to_dict()["readings"]
    assert [r["objective"] for r in logged] == [pytest.approx(1320), None]


def test_a_malformed_reading_is_a_check_error_the_model_repairs(tmp_path):
    bad = FURNITURE.replace("alternatives: []", "alternatives: [{reading: more wood, changes: {wood: 200}}]")
    good = FURNITURE.replace("alternatives: []", (
        "alternatives: [{reading: more wood, changes: {parameters: {wood_available: 200}}}]"))
    model = replay(tmp_path, FURNITURE_TEXT, [fenced(bad), fenced(good)])
    run = run_verified(FURNITURE_TEXT, ir(model))
    assert run.rounds[0].stage == "check_error"
    assert "`changes` has the key `wood`" in run.rounds[0].feedback
    assert run.readings[0].objective == pytest.approx(2200) and run.readings[0].differs  # 40 chairs, 20 tables


# --------------------------------------------------------------------------------------------- voting


def http_model(server):
    return load_model("openai:fake-model", base_url=server.url, use_cache=False, api_key="sk-test",
                      max_retries=0, timeout=60.0)  # only a guard against a hang: a loaded machine is slow


def test_five_samples_vote_three_agree_in_one_request(fake_openai):
    other = FURNITURE.replace("expr: x[p] <= 40", "expr: x[p] <= 30")  # 1300... a different answer
    replies = [fenced(FURNITURE), fenced(other), fenced(FURNITURE), fenced(other), fenced(FURNITURE)]
    server = fake_openai([chat_reply(replies)], default=chat_reply(fenced(other)))
    run = run_verified(FURNITURE_TEXT, ir(http_model(server)), samples=5)
    first, *followups = server.requests
    assert first["n"] == 5 and first["temperature"] > 0  # five completions in one request
    # the two samples that drop the text's 40 hear about it once (each its own conversation), answer the same
    assert len(followups) == 2 and all("- 40, in:" in r["messages"][-1]["content"] for r in followups)
    vote = run.vote
    assert vote["samples"] == 5 and vote["agree"] == 3
    assert [g["count"] for g in vote["groups"]] == [3, 2]
    assert vote["groups"][0]["samples"] == [0, 2, 4]
    assert vote["groups"][0]["objective"] == pytest.approx(1400)
    assert vote["groups"][1]["objective"] != pytest.approx(1400)
    assert run.objective == pytest.approx(1400)


def test_samples_are_drawn_one_by_one_where_the_backend_returns_fewer(fake_openai):
    server = fake_openai([chat_reply(fenced(FURNITURE)), chat_reply(fenced(FURNITURE)),
                          chat_reply(fenced(FURNITURE))])
    run = run_verified(FURNITURE_TEXT, ir(http_model(server)), samples=3)
    assert server.count == 3 and run.vote["agree"] == 3
    assert server.requests[0].get("n") == 3 and all(r["temperature"] > 0 for r in server.requests)
    assert len(run.samples) == 3 and all(len(s.rounds) == 1 for s in run.samples)


def test_rules_formulator_runs_one_verified_round():
    from formulate.formulators.dispatch import RulesTextFormulator

    text = ("A bakery makes cakes and pies. Each cake needs 3 cups of flour and each pie needs 2 cups of flour; "
            "125 cups of flour are available. Each cake earns a profit of $5 and each pie earns a profit of $4. "
            "At least 10 pies must be made. Only whole cakes and pies can be made. How many cakes and pies "
            "should the bakery make to maximize profit?")
    run = run_verified(text, RulesTextFormulator())
    assert len(run.rounds) == 1 and run.objective == pytest.approx(249) and run.findings == []
    assert run.best.formulator == "rules"


def test_python_exe_is_real():  # the sandboxed code-mode test needs a Python it can start
    assert Path(sys.executable).exists()


def test_a_reply_cut_off_at_max_tokens_gets_more_room_in_the_next_round(fake_openai):
    cut = FURNITURE[: len(FURNITURE) // 2]
    server = fake_openai([chat_reply(f"```yaml\n{cut}", finish_reason="length", completion_tokens=300),
                          chat_reply(fenced(FURNITURE))])
    run = run_verified(FURNITURE_TEXT, LLMFormulator(http_model(server), k_examples=0, max_tokens=300))
    first, second = server.requests
    assert first["max_tokens"] == 300 and second["max_tokens"] == 600
    assert "cut off at the length limit" in second["messages"][-1]["content"]
    assert run.objective == pytest.approx(1400)
