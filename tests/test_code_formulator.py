"""Code mode: reading printed results, traceback feedback, and the formulator end to end (real sandbox)."""

from __future__ import annotations

import sys

import pytest

from formulate.formulators.code import (
    SYSTEM_PROMPT,
    CodeAttempt,
    CodeFormulator,
    feedback_message,
    parse_number,
    parse_objective,
    run_code_reply,
    traceback_summary,
)
from formulate.llm.base import ChatModel, ChatRequest, ChatResponse, Completion, Usage
from tests.helpers import GUROBI_SCRIPT, PULP_SCRIPT, gurobi_available

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux")

BANNER = "Restricted license - for non-production use only - expires 2027-11-29\n"
GUROBI_MIP_LOG = (
    BANNER
    + """Gurobi Optimizer version 13.0.3 build v13.0.3rc0 (linux64 - "Debian GNU/Linux 12 (bookworm)")

CPU model: AMD EPYC, instruction set [SSE2|AVX|AVX2]
Thread count: 2 physical cores, 2 logical processors, using up to 2 threads

Optimize a model with 3 rows, 2 columns and 5 nonzeros (Max)
Model fingerprint: 0x9ed75043
Model has 2 linear objective coefficients
Variable types: 1 continuous, 1 integer (0 binary)
Coefficient statistics:
  Matrix range     [1e+00, 3e+00]
  Objective range  [2e+00, 3e+00]
  Bounds range     [0e+00, 0e+00]
  RHS range        [3e+00, 6e+00]

Found heuristic solution: objective 10.0000000
Presolve removed 3 rows and 2 columns
Presolve time: 0.00s
Root relaxation: objective 1.133333e+01, 2 iterations, 0.00 seconds (0.00 work units)

Explored 0 nodes (0 simplex iterations) in 0.00 seconds (0.00 work units)
Thread count was 1 (of 2 available processors)

Solution count 2: 11 10

Optimal solution found (tolerance 1.00e-04)
Best objective 1.100000000000e+01, best bound 1.100000000000e+01, gap 0.0000%
"""
)
GUROBI_INFEASIBLE_LOG = (
    BANNER
    + """Optimize a model with 2 rows, 1 columns and 2 nonzeros (Min)
Presolve time: 0.00s

Solved in 0 iterations and 0.00 seconds (0.00 work units)
Infeasible model
"""
)

OUTPUTS = [
    # (description, stdout, status, objective)
    ("gurobi log + labelled print", GUROBI_MIP_LOG + "Optimal objective value: 11.0\n", "optimal", 11.0),
    ("gurobi log + bare objVal", GUROBI_MIP_LOG + "11.0\n", "optimal", 11.0),
    ("gurobi log alone", GUROBI_MIP_LOG, "optimal", 11.0),
    (
        "gurobi LP log",
        BANNER + "Solved in 2 iterations\nOptimal objective  2.800000000e+02\n",
        "optimal",
        280.0,
    ),
    (
        "banner only",
        BANNER + "Set parameter Username\nAcademic license - expires 2026-01-01\n",
        "no_objective",
        None,
    ),
    (
        "truncated log",
        BANNER + "Objective range  [2e+00, 3e+00]\nFound heuristic solution: objective 11\n",
        "no_objective",
        None,
    ),
    ("gurobi infeasible + script", GUROBI_INFEASIBLE_LOG + "Model is infeasible\n", "infeasible", None),
    ("no optimal solution found", GUROBI_INFEASIBLE_LOG + "No optimal solution found.\n", "infeasible", None),
    ("INFEASIBLE", "INFEASIBLE\n", "infeasible", None),
    ("no feasible solution", "No feasible solution found.\n", "infeasible", None),
    ("unbounded", "Unbounded model\nThe model is unbounded\n", "unbounded", None),
    ("inf or unbd", "Model is infeasible or unbounded\n", "infeasible_or_unbounded", None),
    ("pulp", "Status: Optimal\nx = 2.0\ny = 3.5\nTotal Cost = 25.5\n", "optimal", 25.5),
    ("pulp infeasible still prints a value", "Status: Infeasible\nTotal Cost = 45.0\n", "infeasible", None),
    ("pulp bare value", "Optimal\n25.5\n", "optimal", 25.5),
    (
        "cbc log",
        "Result - Optimal solution found\n\nObjective value:                25.50000000\nEnumerated nodes:               0\n",
        "optimal",
        25.5,
    ),
    (
        "cbc infeasible",
        "Result - Problem proven infeasible\n\nNo feasible solution found\n",
        "infeasible",
        None,
    ),
    ("scientific", "Objective Value: 1.2e3\n", "optimal", 1200.0),
    ("dollars and commas", "Maximum profit: $1,234.50\n", "optimal", 1234.5),
    ("optimal value", "Optimal value: -7\n", "optimal", -7.0),
    ("prose sentence", "The minimum total cost is $4,500.\n", "optimal", 4500.0),
    ("negative dollars", "Total cost: -$50\n", "optimal", -50.0),
    ("millions", "Total profit = 1,200,000\n", "optimal", 1200000.0),
    ("objVal", "ObjVal: 3.5\n", "optimal", 3.5),
    ("obj =", "obj = 3.5\n", "optimal", 3.5),
    (
        "objective then solution",
        "Optimal objective value: 100\nx[0] = 3\nx[1] = 4\nTotal units: 7\n",
        "optimal",
        100.0,
    ),
    ("last labelled wins", "Optimal solution found\nTotal Cost: 42\nTotal Cost: 40\n", "optimal", 40.0),
    ("highs", "Model status        : Optimal\nObjective value     :  1.1000000000e+01\n", "optimal", 11.0),
    (
        "pyomo",
        "Solver status: ok\nTermination condition: optimal\nOptimal objective: 11.0\n",
        "optimal",
        11.0,
    ),
    ("pyomo infeasible", "Solver status: warning\nTermination condition: infeasible\n", "infeasible", None),
    (
        "scip",
        "SCIP Status        : problem is solved [optimal solution found]\nPrimal Bound       : +1.1e+01 (1 solutions)\n"
        "Gap                : 0.00 %\nOptimal value: 11.0\n",
        "optimal",
        11.0,
    ),
    (
        "time limit",
        "Time limit reached\nBest objective 1.200000000000e+01, best bound 1.000000000000e+01, gap 16.6667%\nObjective: 12\n",
        "feasible",
        12.0,
    ),
    ("nothing", "", "no_objective", None),
    ("only variable values", "x = 3\ny = 4\n", "no_objective", None),
]


@pytest.mark.parametrize(
    ("stdout", "status", "objective"), [o[1:] for o in OUTPUTS], ids=[o[0] for o in OUTPUTS]
)
def test_parse_objective(stdout, status, objective):
    got_status, got_objective = parse_objective(stdout)
    assert got_status == status
    if objective is None:
        assert got_objective is None
    else:
        assert got_objective == pytest.approx(objective)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,234.50", 1234.5),
        ("-$50", -50.0),
        ("1.5e-3", 0.0015),
        ("+7", 7.0),
        ("no number", None),
        (".5", 0.5),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_traceback_summary_names_the_script_line():
    code = "import math\nvals = [1, 2]\nprint(vals[5])\n"
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "/tmp/work/script.py", line 3, in <module>\n'
        "    print(vals[5])\n"
        "          ~~~~^^^\n"
        "IndexError: list index out of range\n"
    )
    assert (
        traceback_summary(stderr, code) == "line 3: `print(vals[5])` -> IndexError: list index out of range"
    )
    # without the code, the source line shown in the traceback is used
    assert traceback_summary(stderr).startswith("line 3: `print(vals[5])`")
    library_only = 'Traceback (most recent call last):\n  File "/usr/lib/x.py", line 1\nValueError: bad\n'
    assert traceback_summary(library_only) == "ValueError: bad"
    assert traceback_summary("") is None


def test_feedback_messages_are_actionable():
    no_obj = CodeAttempt(code="print(1)", status="no_objective", stdout="x = 3\n")
    assert "print it as `Optimal objective value: <number>`" in feedback_message(no_obj)
    assert "x = 3" in feedback_message(no_obj)
    err = CodeAttempt(
        code="...", status="error", error="line 3: `print(vals[5])` -> IndexError", stderr="IndexError"
    )
    assert "line 3" in feedback_message(err) and "```python" in feedback_message(err)
    big = CodeAttempt(
        code="...", status="error", error="GurobiError: Model too large for size-limited license"
    )
    assert "pulp" in feedback_message(big)
    slow = CodeAttempt(code="...", status="timeout", error="stopped by the wall-clock limit", timeout_s=5)
    assert "5 s" in feedback_message(slow)
    assert "no Python script" in feedback_message(CodeAttempt(code=None, status="error"))
    assert "infeasible" in feedback_message(CodeAttempt(code="...", status="infeasible"))
    assert feedback_message(CodeAttempt(code="...", status="optimal", objective=1.0)) == ""


# ------------------------------------------------------------------------------------ through the sandbox


def _reply(code: str) -> str:
    return f"We maximise profit subject to the limits.\n\n```python\n{code.strip()}\n```\n\nThe script prints the optimum."


def test_run_code_reply_gurobipy():
    reason = gurobi_available()
    if reason:
        pytest.skip(reason)
    attempt = run_code_reply(_reply(GUROBI_SCRIPT), timeout_s=30)
    assert (attempt.status, attempt.objective) == ("optimal", pytest.approx(11.0))
    assert attempt.ok and attempt.error is None and attempt.contained is not None


def test_run_code_reply_pulp():
    attempt = run_code_reply(_reply(PULP_SCRIPT), timeout_s=30)
    assert (attempt.status, attempt.objective) == ("optimal", pytest.approx(25.5))


def test_infeasible_gurobi_script_that_crashes_on_objval():
    reason = gurobi_available()
    if reason:
        pytest.skip(reason)
    code = """
import gurobipy as gp
m = gp.Model()
x = m.addVar(ub=1)
m.addConstr(x >= 2)
m.optimize()
print("Optimal objective value:", m.objVal)
"""
    attempt = run_code_reply(_reply(code), timeout_s=30)
    assert attempt.status == "infeasible" and attempt.objective is None
    assert attempt.error is not None and "line 6" in attempt.error and "objVal" in attempt.error


def test_syntax_error_reply_gives_a_traceback_summary():
    attempt = run_code_reply(_reply("import pulp\nprob = pulp.LpProblem('t'\nprint(1)\n"), timeout_s=20)
    assert attempt.status == "error"
    assert attempt.error is not None and "SyntaxError" in attempt.error and "line 2" in attempt.error
    assert "SyntaxError" in feedback_message(attempt)


def test_runaway_script_times_out():
    attempt = run_code_reply(_reply("import math\nwhile True:\n    pass\n"), timeout_s=0.5)
    assert attempt.status == "timeout" and attempt.objective is None
    assert "did not finish" in feedback_message(attempt)


def test_reply_without_code_and_script_without_objective():
    assert run_code_reply("I think the answer is 42.").status == "error"
    attempt = run_code_reply(_reply("import math\nprint('x =', 3)\n"), timeout_s=20)
    assert attempt.status == "no_objective"


class FixedReplyModel(ChatModel):
    """A chat model that always answers with the same text and records the requests."""

    spec = "fixed:"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.requests: list[ChatRequest] = []

    def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        text = self.replies[min(len(self.requests), len(self.replies)) - 1]
        return ChatResponse([Completion(text)], usage=Usage(120, 80), latency_s=0.25, model="fixed")


def test_code_formulator_end_to_end_and_revision():
    problem = "A shop sells chairs and tables. ... Minimise the cost."
    broken = _reply("import math\n\nprint(math.sqrt(undefined_name))\n")
    model = FixedReplyModel([broken, _reply(PULP_SCRIPT)])
    formulator = CodeFormulator(model, timeout_s=20)

    first = formulator.formulate(problem, problem_id="shop-1")
    request = model.requests[0]
    assert request.messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert request.messages[1]["content"] == problem
    assert request.extra["problem_text"] == problem and request.extra["problem_id"] == "shop-1"
    assert request.problem_id == "shop-1"
    assert first.status == "error" and "NameError" in (first.error or "")
    assert first.usage.total_tokens == 200 and first.latency_s == 0.25

    second = formulator.revise(problem, first, problem_id="shop-1")
    follow_up = model.requests[1].messages
    assert follow_up[2] == {"role": "assistant", "content": broken}
    assert "NameError" in follow_up[3]["content"] and follow_up[3]["role"] == "user"
    assert (second.status, second.objective) == ("optimal", pytest.approx(25.5))


# ------------------------------------------------------------------- a real model server, fail-closed sandbox


def test_a_script_cut_off_at_max_tokens_says_so_and_the_revision_gets_more_room():
    from fake_openai_server import FakeOpenAIServer, chat_reply

    from formulate.llm import load_model

    problem = "Buy at least 5.5 units of a and b, at most 2 of a (whole units), at costs 4 and 5. Minimise cost."
    cut = "```python\nimport pulp\n\nprob = pulp.LpProblem('toy', pulp.LpMin"
    with FakeOpenAIServer([chat_reply(cut, finish_reason="length", completion_tokens=500),
                           chat_reply(_reply(PULP_SCRIPT))]) as server:
        model = load_model("openai:fake-model", base_url=server.url, use_cache=False, api_key="sk-test",
                           max_retries=0, timeout=60)  # a guard against a hang, generous for a loaded machine
        formulator = CodeFormulator(model, timeout_s=30, max_tokens=500)
        first = formulator.formulate(problem)
        assert first.status == "error" and first.finish_reason == "length"
        assert (first.error or "").startswith("the reply was truncated at the length limit (max_tokens=500)")
        assert "cut off at the length limit" in feedback_message(first)
        second = formulator.revise(problem, first)
        assert (second.status, second.objective) == ("optimal", pytest.approx(25.5))
        assert [r["max_tokens"] for r in server.requests] == [500, 1000]


def test_code_formulator_refuses_where_the_sandbox_is_unavailable():
    from formulate.verify.sandbox import SandboxError

    model = FixedReplyModel([_reply("print('Optimal objective value:', 1)")])
    with pytest.raises(SandboxError, match="isolation disabled by the caller.*--unsafe-no-sandbox"):
        CodeFormulator(model, timeout_s=20, sandbox_options={"isolate": False})
    assert model.requests == []  # refused before asking the model anything
    unsafe = CodeFormulator(model, timeout_s=20, sandbox_options={"isolate": False}, unsafe_no_sandbox=True)
    attempt = unsafe.formulate("anything")
    assert attempt.ok and attempt.objective == 1 and attempt.contained is False
