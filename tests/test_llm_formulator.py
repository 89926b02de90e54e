"""LLMFormulator end to end with real components: replay files and the fake OpenAI server on 127.0.0.1."""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

import fake_openai_server
import pytest
from fake_openai_server import Reply, chat_reply

from formulate.api import check
from formulate.errors import FormulationError
from formulate.formulators.llm import LLMFormulator, from_list_shape, list_schema, parse_reply, to_list_shape
from formulate.ir.io import formulation_from_data, parse_yaml_text
from formulate.llm import load_model, record_replay
from formulate.llm.replay import ReplayModel

fake_openai = fake_openai_server.fake_openai

ROOT = Path(__file__).resolve().parents[1]

TEXT = (
    "A freight firm ships crates from two warehouses, Hull (40 crates available) and Derby (60), to three "
    "shops: Ely needs 30, Bath 45 and Kent 25. The shipping cost per crate from Hull is 4 to Ely, 6 to Bath, "
    "9 to Kent; from Derby 5, 3 and 7. How should crates be shipped to meet demand at the lowest cost?"
)
OPTIMUM = 450.0

GOOD = """\
name: crates
meta:
  assumptions: [crates may be split across shops in any amounts]
  alternatives: [integer crates give the same optimum here]
sets:
  W: [Hull, Derby]
  S: [Ely, Bath, Kent]
parameters:
  supply: {index: [W], values: [40, 60]}
  demand: {index: [S], values: [30, 45, 25]}
  cost: {index: [W, S], values: [[4, 6, 9], [5, 3, 7]]}
variables:
  ship: {index: [W, S], type: continuous}
objective:
  sense: minimize
  expr: sum(cost[w, s] * ship[w, s] for w in W for s in S)
constraints:
  supply_limit: sum(ship[w, s] for s in S) <= supply[w] for w in W
  meet_demand:
    forall: s in S
    expr: sum(ship[w, s] for w in W) >= demand[s]
"""

SCHEMA_BAD = GOOD.replace("type: continuous", "type: real-valued")
UNDEFINED = GOOD.replace("<= supply[w] for w in W", "<= suply[w] for w in W")
MALFORMED = "```yaml\nname: crates\nsets: {W: [Hull, Derby]\nvariables:\n  x: [\n```"


def fenced(body: str, before: str = "Here is the formulation.", after: str = "Hope this helps!") -> str:
    return f"{before}\n\n```yaml\n{body}```\n\n{after}"


def replay(tmp_path: Path, responses: list[Any], text: str = TEXT, problem_id: str | None = "p1") -> ReplayModel:
    path = tmp_path / "replay.jsonl"
    record_replay(path, text, problem_id, responses)
    return ReplayModel(path)


def solve_or_skip(formulation):
    try:
        from formulate.api import solve

        return solve(formulation)
    except ModuleNotFoundError as exc:  # the solver registry is written in parallel
        pytest.skip(f"solver backend not available yet: {exc}")


# ------------------------------------------------------------------------------------------ rounds


def test_good_reply_with_prose_solves_to_the_optimum(tmp_path):
    formulator = LLMFormulator(replay(tmp_path, [fenced(GOOD)]), k_examples=0)
    attempt = formulator.formulate(TEXT, problem_id="p1")
    assert attempt.status == "ok" and attempt.ok and attempt.rounds == 1
    assert attempt.errors == [[]] and attempt.replies == [fenced(GOOD)]
    formulation = attempt.formulation
    assert formulation.problem == TEXT
    assert formulation.meta["formulator"] == "llm" and formulation.meta["model"].startswith("replay:")
    assert formulation.meta["assumptions"] == ["crates may be split across shops in any amounts"]
    assert formulation.meta["alternatives"]
    solution = solve_or_skip(formulation)
    assert solution.objective == pytest.approx(OPTIMUM, abs=1e-6)


def test_schema_error_then_fix(tmp_path):
    model = replay(tmp_path, [fenced(SCHEMA_BAD), fenced(GOOD)])
    attempt = LLMFormulator(model, k_examples=0).formulate(TEXT, problem_id="p1")
    assert attempt.status == "ok" and attempt.rounds == 2
    assert [r.status for r in attempt.history] == ["schema_error", "ok"]
    error = attempt.errors[0][0]
    assert "variables.ship.type" in error
    repair = attempt.messages[-2]
    assert repair["role"] == "user" and error in repair["content"]
    assert attempt.messages[-1] == {"role": "assistant", "content": fenced(GOOD)}
    assert [m["role"] for m in attempt.messages] == ["system", "user", "assistant", "user", "assistant"]


def test_undefined_name_repair_says_did_you_mean(tmp_path):
    model = replay(tmp_path, [fenced(UNDEFINED), fenced(GOOD)])
    attempt = LLMFormulator(model, k_examples=0).formulate(TEXT, problem_id="p1")
    assert attempt.status == "ok" and attempt.history[0].status == "check_error"
    repair = attempt.messages[3]["content"]
    assert "constraint `supply_limit`" in repair and "`suply`" in repair and "did you mean `supply`?" in repair
    assert "```yaml" in repair


def test_malformed_yaml_twice_is_a_parse_error_with_every_reply_kept(tmp_path):
    model = replay(tmp_path, [MALFORMED, MALFORMED + "\n"])
    attempt = LLMFormulator(model, k_examples=0, max_repairs=1).formulate(TEXT, problem_id="p1")
    assert attempt.status == "parse_error" and attempt.formulation is None and attempt.draft is None
    assert attempt.replies == [MALFORMED, MALFORMED + "\n"] and attempt.rounds == 2
    assert all("YAML error at line" in errors[0] for errors in attempt.errors)
    assert len([m for m in attempt.messages if m["role"] == "user"]) == 2  # problem + one repair


QUOTE_OPENED = GOOD.replace(
    "  assumptions: [crates may be split across shops in any amounts]\n"
    "  alternatives: [integer crates give the same optimum here]\n",
    "  assumptions:\n"
    "    - \"split\" means any amount: 2.5 crates is fine\n"
    "  alternatives:\n"
    "    - reading: \"integer\" crates give the same optimum, so it's moot\n"
    "      changes: {}\n")


def test_values_opening_with_a_quote_are_quoted_whole_on_the_way_in(tmp_path):
    """The error a file gets names every such line with its fix; a model's reply gets the fix applied instead of a
    repair round (the relay runs: models open an assumption with a quoted phrase even after the pitfall)."""
    with pytest.raises(FormulationError) as info:
        parse_yaml_text(QUOTE_OPENED)
    message = str(info.value)
    fixes = {4: "- '\"split\" means any amount: 2.5 crates is fine'",
             6: "- reading: '\"integer\" crates give the same optimum, so it''s moot'"}
    assert "line 4 `- \"split\" means any amount: 2.5 crates is fine`" in message and "line 6: write" in message
    assert all(f"`{fixed}`" in message for fixed in fixes.values())
    model = replay(tmp_path, [fenced(QUOTE_OPENED.replace("\n", "\r\n"))])
    attempt = LLMFormulator(model, k_examples=0).formulate(TEXT, problem_id="p1")
    assert attempt.status == "ok" and attempt.rounds == 1
    meta = attempt.formulation.meta
    assert meta["assumptions"] == ['"split" means any amount: 2.5 crates is fine']
    assert meta["alternatives"][0]["reading"] == '"integer" crates give the same optimum, so it\'s moot'


def test_quoted_values_that_are_whole_are_not_named():
    text = ("a: 'it''s whole'\nb: \"x\"  # note\nc: |\n  \"quoted\" inside a block is text\n"
            "d: {\"k\": 1}\ne: [\"x\", \"y\"]\nf: \"q\" then more\n")
    from formulate.ir.io import quote_opened_lines

    assert [n for n, _, _ in quote_opened_lines(text)] == [7]
    assert quote_opened_lines("  - 'fixed' means paid once\n") == [
        (1, "- 'fixed' means paid once", "- \"'fixed' means paid once\"")]
    both = quote_opened_lines("k: 'a' and \"b\"\n")[0][2]
    assert both == "k: '''a'' and \"b\"'"
    assert parse_yaml_text(both + "\n") == {"k": "'a' and \"b\""}
    with pytest.raises(FormulationError, match="line 7"):
        parse_yaml_text(text)


def test_check_errors_exhaust_repairs_and_keep_the_draft(tmp_path):
    model = replay(tmp_path, [fenced(UNDEFINED)] * 3)
    attempt = LLMFormulator(model, k_examples=0, max_repairs=2).formulate(TEXT, problem_id="p1")
    assert attempt.status == "check_error" and attempt.rounds == 3 and attempt.formulation is None
    assert attempt.draft is not None and attempt.draft.problem == TEXT
    assert attempt.to_dict()["history"][2]["status"] == "check_error"


def test_model_error_stops_at_once(tmp_path):
    model = replay(tmp_path, [fenced(SCHEMA_BAD)])  # one response only: the repair round finds none
    attempt = LLMFormulator(model, k_examples=0).formulate(TEXT, problem_id="p1")
    assert attempt.status == "model_error" and attempt.rounds == 2
    assert "ran out of responses" in attempt.errors[1][0]


def test_truncated_reply_asks_for_a_compact_answer(tmp_path):
    cut = {"text": "```yaml\nname: crates\nsets:\n  W: [Hull, Der", "finish_reason": "length"}
    model = replay(tmp_path, [cut, fenced(GOOD)])
    attempt = LLMFormulator(model, k_examples=0).formulate(TEXT, problem_id="p1")
    assert attempt.ok and attempt.history[0].finish_reason == "length"
    assert "cut off" in attempt.messages[3]["content"]


def test_few_shot_examples_reach_the_model(tmp_path):
    library = tmp_path / "lib"
    library.mkdir()
    example = GOOD.replace("name: crates", "name: crates_example\nproblem: |\n  Ship crates from warehouses.")
    (library / "crates_example.yaml").write_text(example, encoding="utf-8")
    model = replay(tmp_path, [fenced(GOOD)])
    attempt = LLMFormulator(model, k_examples=2, library=library).formulate(TEXT, problem_id="p1")
    assert attempt.ok and attempt.extra["examples"] == ["crates_example"]
    assert attempt.messages[1]["content"] == "Problem:\nShip crates from warehouses."


# ------------------------------------------------------------------------------------ HTTP, tokens


def http_model(server):
    return load_model("openai:fake-model", base_url=server.url, use_cache=False, api_key="sk-test",
                      max_retries=0, timeout=60.0)  # only a guard against a hang: a loaded machine is slow


def test_tokens_and_latency_are_summed_over_rounds(fake_openai):
    server = fake_openai([
        chat_reply(fenced(UNDEFINED), prompt_tokens=1000, completion_tokens=300, delay=0.05),
        chat_reply(fenced(GOOD), prompt_tokens=1400, completion_tokens=310, delay=0.05),
    ])
    attempt = LLMFormulator(http_model(server), k_examples=0, temperature=0.3).formulate(TEXT)
    assert attempt.ok and attempt.rounds == 2
    assert (attempt.usage.prompt_tokens, attempt.usage.completion_tokens) == (2400, 610)
    assert attempt.latency_s >= 0.1
    assert attempt.latency_s == pytest.approx(sum(r.latency_s for r in attempt.history))
    logged = attempt.to_dict()
    assert logged["prompt_tokens"] == 2400 and logged["completion_tokens"] == 610 and logged["rounds"] == 2
    first, second = server.requests
    assert first["temperature"] == 0.3 and "response_format" not in first
    assert len(second["messages"]) == len(first["messages"]) + 2
    assert "did you mean `supply`?" in second["messages"][-1]["content"]


def test_a_reply_cut_off_at_max_tokens_says_so_and_the_repair_gets_more_room(fake_openai):
    cut = GOOD[: len(GOOD) // 2]
    server = fake_openai([
        chat_reply(f"```yaml\n{cut}", finish_reason="length", completion_tokens=300),
        chat_reply(fenced(GOOD)),
    ])
    attempt = LLMFormulator(http_model(server), k_examples=0, max_tokens=300).formulate(TEXT)
    assert attempt.ok and attempt.rounds == 2
    assert attempt.errors[0][0] == "the reply was truncated at the length limit (max_tokens=300)"
    first, second = server.requests
    assert first["max_tokens"] == 300 and second["max_tokens"] == 600
    assert "cut off at the length limit" in second["messages"][-1]["content"]


def test_a_reply_always_cut_off_ends_with_a_truncation_error_line(fake_openai):
    from formulate.formulators.dispatch import error_line

    server = fake_openai(default=chat_reply("```yaml\nname: crates\nsets:\n  W: [Hull", finish_reason="length",
                                            completion_tokens=4000))
    attempt = LLMFormulator(http_model(server), k_examples=0, max_repairs=2).formulate(TEXT)
    assert not attempt.ok and attempt.rounds == 3
    line = error_line(attempt)
    assert "truncated at the length limit" in line and "\n" not in line
    sent = [r.get("max_tokens") for r in server.requests]
    assert sent == [None, 8192, 16384]  # no limit asked at first: the server's default cut it


def test_structured_mode_sends_the_list_schema_and_converts_back(fake_openai):
    data = to_list_shape(parse_yaml_text(GOOD))
    reply = json.dumps(data, indent=2)[:-1].rstrip() + ",\n}"  # trailing comma: repaired on the way in
    server = fake_openai([chat_reply(reply)])
    attempt = LLMFormulator(http_model(server), k_examples=0, structured=True).formulate(TEXT)
    assert attempt.ok, attempt.errors
    sent = server.requests[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"] == list_schema()
    assert attempt.formulation.meta["formulator"] == "llm-structured"
    assert set(attempt.formulation.constraints) == {"supply_limit", "meet_demand"}
    assert "JSON object" in server.requests[0]["messages"][0]["content"]


def test_a_structured_reply_declares_an_expected_status_and_a_null_one_is_dropped():
    data = to_list_shape(parse_yaml_text(GOOD))
    assert data["meta"]["expected_status"] is None
    assert "expected_status" not in from_list_shape(json.loads(json.dumps(data)))["meta"]
    data["meta"]["expected_status"] = "infeasible"
    assert from_list_shape(json.loads(json.dumps(data)))["meta"]["expected_status"] == "infeasible"
    meta = list_schema()["properties"]["meta"]
    assert "expected_status" in meta["required"]


LEXICOGRAPHIC = {
    "name": "two_goals", "description": None, "meta": {"assumptions": [], "alternatives": []},
    "sets": [],
    "parameters": [{"name": "room", "value": 12, "index": None, "values": None, "entries": None, "default": None,
                    "file": None, "description": None}],
    "variables": [{"name": n, "index": None, "type": "continuous", "lower": 0, "upper": 10, "description": None}
                  for n in ("x", "y")],
    "objective": [
        {"sense": "maximize", "expr": "y", "priority": 1, "weight": 3, "description": "second goal"},
        {"sense": "maximize", "expr": "x", "priority": 2, "weight": None, "description": "first goal"},
    ],
    "constraints": [{"name": "room_row", "forall": None, "expr": "x + y <= room", "when": None, "either": None,
                     "description": None}],
}


def test_structured_reply_with_prioritised_objectives_solves_lexicographically(fake_openai):
    from formulate.api import solve

    server = fake_openai([chat_reply(json.dumps(LEXICOGRAPHIC))])
    attempt = LLMFormulator(http_model(server), k_examples=0, structured=True).formulate(TEXT)
    assert attempt.ok, attempt.errors
    levels = attempt.formulation.objectives()
    assert [(o.expr, o.priority, o.weight) for o in levels] == [("y", 1, 3), ("x", 2, None)]
    solution = solve(attempt.formulation, solver="highs")
    assert solution.solver == "highs" and solution.objective == pytest.approx(10)  # the priority-2 level's value
    assert (solution.x, solution.y) == (pytest.approx(10), pytest.approx(2))  # x first, then y in what is left
    assert [level["value"] for level in solution.objectives] == [pytest.approx(10), pytest.approx(3 * 2)]  # weighted
    assert to_list_shape(from_list_shape(LEXICOGRAPHIC))["objective"] == LEXICOGRAPHIC["objective"]


def test_formulate_many_batches_rounds_and_repairs_per_problem(fake_openai):
    texts = [TEXT, TEXT.replace("Hull", "Hove"), TEXT.replace("Hull", "Hythe")]

    def answer(request: dict[str, Any]) -> Reply:
        messages = request["messages"]
        problem = messages[1]["content"]
        if len(messages) == 2:  # a first round: answered once two are in flight, which a delay cannot ensure
            server.wait_for_in_flight(2, timeout=30)
        if "Hove" in problem and len(messages) == 2:
            return chat_reply(fenced(UNDEFINED.replace("Hull", "Hove")), prompt_tokens=5, completion_tokens=2, delay=0.1)
        body = GOOD.replace("Hull", "Hove") if "Hove" in problem else GOOD
        body = body.replace("Hull", "Hythe") if "Hythe" in problem else body
        return chat_reply(fenced(body), prompt_tokens=5, completion_tokens=2, delay=0.1)

    server = fake_openai(default=answer)
    attempts = LLMFormulator(http_model(server), k_examples=0).formulate_many(texts, ["a", "b", "c"])
    assert [a.status for a in attempts] == ["ok", "ok", "ok"]
    assert [a.rounds for a in attempts] == [1, 2, 1] and [a.problem_id for a in attempts] == ["a", "b", "c"]
    assert attempts[1].usage.prompt_tokens == 10
    assert server.count == 4 and server.max_in_flight >= 2  # the first round went out together
    assert attempts[2].formulation.problem == texts[2]


def test_formulate_many_isolates_a_failing_problem(tmp_path):
    path = tmp_path / "replay.jsonl"
    record_replay(path, TEXT, "p1", [fenced(GOOD)])
    model = ReplayModel(path)
    attempts = LLMFormulator(model, k_examples=0).formulate_many([TEXT, "an unrecorded problem"], ["p1", None])
    assert [a.status for a in attempts] == ["ok", "model_error"]
    assert "no responses" in attempts[1].errors[0][0]
    with pytest.raises(ValueError):
        LLMFormulator(model).formulate_many([TEXT], [])


# ------------------------------------------------------------------------------ extraction, list shape


@pytest.mark.parametrize("reply", [
    fenced(GOOD),
    "<think>draft:\n```yaml\nname: wrong\n```\n</think>\n" + fenced(GOOD),
    "Sure.\n" + GOOD + "\nThat is all.",
    "```\n" + GOOD.replace("  ", "\t") + "```",
    "```json\n" + json.dumps(parse_yaml_text(GOOD))[:-1] + ",}\n```",
])
def test_parse_reply_tolerates_messy_replies(reply):
    data = parse_reply(reply)
    assert data["name"] == "crates" and check(formulation_from_data(data)).ok


def test_parse_reply_explains_what_is_wrong():
    with pytest.raises(FormulationError, match="no formulation"):
        parse_reply("I am not sure how to model this.")
    with pytest.raises(FormulationError, match=r"line \d+") as info:
        parse_reply("```yaml\nconstraints:\n  c: {forall: p in P, expr: x[p] <= 40}\n```")
    assert "block style" in str(info.value)
    with pytest.raises(FormulationError, match="none of the keys"):
        parse_reply("```yaml\n- 1\n- 2\n```")


def _formulation_files() -> list[str]:
    return sorted(glob.glob(str(ROOT / "tests/problems/*.yaml")) + glob.glob(str(ROOT / "formulate/examples/*.yaml")))


@pytest.mark.parametrize("path", _formulation_files(), ids=lambda p: Path(p).name)
def test_list_shape_round_trip(path):
    data = parse_yaml_text(Path(path).read_text(encoding="utf-8"))
    data.pop("problem", None)
    meta = data.pop("meta", {}) or {}
    data["meta"] = {"assumptions": meta.get("assumptions", []), "alternatives": meta.get("alternatives", [])}
    listed = to_list_shape(data)
    assert all(isinstance(listed[s], list) for s in ("sets", "parameters", "variables", "constraints"))
    json.dumps(listed)  # plain JSON
    back = from_list_shape(json.loads(json.dumps(listed)))
    assert formulation_from_data(back) == formulation_from_data(data)


def test_list_shape_entries_and_scalars():
    data = {
        "name": "t", "description": None, "meta": {"assumptions": [], "alternatives": []},
        "sets": [{"name": "A", "members": ["a", "b"], "definition": None},
                 {"name": "Arcs", "members": [["a", "b"], ["b", "a"]], "definition": None},
                 {"name": "T", "members": None, "definition": "range(1, 4)"}],
        "parameters": [
            {"name": "cap", "value": 10, "index": None, "values": None, "entries": None, "default": None,
             "file": None, "description": None},
            {"name": "bonus", "value": None, "index": ["A", "T"], "values": None, "default": 0, "file": None,
             "entries": [{"key": ["a", 2], "value": 5}], "description": None},
            {"name": "len_", "value": None, "index": ["Arcs"], "values": None, "default": None, "file": None,
             "entries": [{"key": [["a", "b"]], "value": 3}, {"key": ["b", "a"], "value": 4}], "description": None},
        ],
        "variables": [{"name": "x", "index": ["A"], "type": "integer", "lower": None, "upper": "cap",
                       "description": None}],
        "objective": {"sense": "maximize", "expr": "sum(x[a] for a in A) + sum(len_[i, j] for (i, j) in Arcs)",
                      "description": None},
        "constraints": [{"name": "c", "expr": "x['a'] <= bonus['a', 2]", "forall": None, "when": None,
                         "either": None, "description": None}],
    }
    out = from_list_shape(data)
    assert out["parameters"]["cap"] == 10
    assert out["parameters"]["bonus"] == {"index": ["A", "T"], "values": {"a": {2: 5}}, "default": 0}
    assert out["parameters"]["len_"]["values"] == {"(a, b)": 3, "(b, a)": 4}
    assert out["variables"]["x"] == {"index": ["A"], "type": "integer", "upper": "cap"}
    assert out["constraints"]["c"] == "x['a'] <= bonus['a', 2]" and "description" not in out
    formulation = formulation_from_data(out)
    report = check(formulation)
    assert report.ok, report.errors
    with pytest.raises(FormulationError, match="two sets are named `A`"):
        from_list_shape({**data, "sets": data["sets"] + [data["sets"][0]]})
    with pytest.raises(FormulationError, match="neither `members` nor `definition`"):
        from_list_shape({**data, "sets": [{"name": "Z", "members": None, "definition": None}]})


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_list_schema_is_strict_mode_compatible():
    schema = list_schema()
    for node in _walk(schema):
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert sorted(node["required"]) == sorted(node["properties"])
        assert "default" not in node or not isinstance(node.get("default"), int | float | str)
    properties = schema["properties"]
    assert {"sets", "parameters", "variables", "objective", "constraints", "meta"} <= set(properties)
    variable = properties["variables"]["items"]["properties"]
    assert variable["type"]["enum"] == ["continuous", "integer", "binary"]
    one, several = properties["objective"]["anyOf"]
    assert one == several["items"] == {"$ref": "#/$defs/objective"}
    objective = schema["$defs"]["objective"]["properties"]
    assert {"type": "integer"} in objective["priority"]["anyOf"] and {"type": "null"} in objective["priority"]["anyOf"]
