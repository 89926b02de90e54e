"""The IR-mode prompt (generated from the code, so it cannot drift) and few-shot selection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from formulate.api import check
from formulate.formulators import fewshot
from formulate.formulators.fewshot import ExampleIndex, load_library, select_examples, stem, tokenize
from formulate.formulators.prompt import (
    build_messages,
    language_reference,
    reference_example,
    repair_message,
    system_prompt,
)
from formulate.ir.expr import FUNCTIONS
from formulate.ir.io import formulation_from_data, loads, parse_yaml_text
from formulate.ir.model import Formulation

TRANSPORT_TEXT = (
    "A freight firm ships crates from two warehouses, Hull (40 crates available) and Derby (60), to three "
    "shops: Ely needs 30, Bath 45 and Kent 25. The shipping cost per crate from Hull is 4 to Ely, 6 to Bath, "
    "9 to Kent; from Derby 5, 3 and 7. How should crates be shipped to meet demand at the lowest cost?"
)

LIBRARY = {
    "transport_bakeries": """\
problem: |
  Two bakeries, Leeds (350 trays a day) and Bristol (300), supply London (280 trays), Cardiff (140) and
  York (170). Cost per tray shipped: Leeds to London 7, Cardiff 9, York 2; Bristol to London 5, Cardiff 2,
  York 8. Meet every demand at the lowest delivery cost.
meta: {expected_objective: 2260, tags: [transportation, shipping]}
name: transport_bakeries
# teaches: a two-index cost table
sets:
  Plants: [Leeds, Bristol]
  Markets: [London, Cardiff, York]
parameters:
  supply: {index: [Plants], values: [350, 300]}
  demand: {index: [Markets], values: [280, 140, 170]}
  cost: {index: [Plants, Markets], values: [[7, 9, 2], [5, 2, 8]]}
variables:
  ship: {index: [Plants, Markets], type: continuous}
objective:
  sense: minimize
  expr: sum(cost[p, m] * ship[p, m] for p in Plants for m in Markets)
constraints:
  supply_limit: sum(ship[p, m] for m in Markets) <= supply[p] for p in Plants
  meet_demand: sum(ship[p, m] for p in Plants) >= demand[m] for m in Markets
""",
    "production_mix": """\
problem: |
  A workshop makes chairs and tables. A chair earns $30 and uses 2 units of wood, a table earns $50 and
  uses 5. There are 100 units of wood. How many of each maximise profit?
meta:
  expected_objective: 1300
  assumptions: [chairs and tables are whole units]
  alternatives: [fractional production would allow a higher profit]
name: production_mix
sets:
  P: [chair, table]
parameters:
  profit: {index: [P], values: [30, 50]}
  wood: {index: [P], values: [2, 5]}
  wood_available: 100
variables:
  x: {index: [P], type: integer}
objective:
  sense: maximize
  expr: sum(profit[p] * x[p] for p in P)
constraints:
  wood_limit: sum(wood[p] * x[p] for p in P) <= wood_available
""",
    "knapsack_hiker": """\
problem: |
  A hiker can carry 10 kg. A tent weighs 5 kg (value 10), a stove 4 kg (value 7) and a camera 3 kg
  (value 6). Which items should she pack to maximise the value she carries?
meta: {expected_objective: 17}
name: knapsack_hiker
sets:
  Items: [tent, stove, camera]
parameters:
  weight: {index: [Items], values: [5, 4, 3]}
  value: {index: [Items], values: [10, 7, 6]}
  capacity: 10
variables:
  take: {index: [Items], type: binary}
objective:
  sense: maximize
  expr: sum(value[i] * take[i] for i in Items)
constraints:
  weight_limit: sum(weight[i] * take[i] for i in Items) <= capacity
""",
}


@pytest.fixture
def library(tmp_path: Path) -> Path:
    for name, text in LIBRARY.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------------------------------- the prompt


def test_prompt_names_every_function_and_schema_key():
    """Drift test: the reference is generated from FUNCTIONS and the JSON Schema."""
    text = system_prompt()
    for name in FUNCTIONS:
        assert f"`{name}`" in text, name
    schema = Formulation.model_json_schema()
    for key in schema["properties"]:
        assert f"\n  {key}: " in text, key
    for def_name, node in schema["$defs"].items():
        for key in node.get("properties", {}):  # `Objectives` is a list of objectives: no keys of its own
            assert f"\n  {key}: " in text, (def_name, key)
    assert "continuous | integer | binary" in text and "minimize | maximize" in text


def test_prompt_asks_for_one_yaml_block_with_assumptions_and_pitfalls():
    text = system_prompt()
    assert "ONE YAML document" in text and "```yaml" in text
    assert "assumptions" in text and "alternatives" in text
    for pitfall in ("block style", "defaults to 0", ".inf", "ord(i) < ord(j)", "strict `<`/`>`", "when:", "either:"):
        assert pitfall in text, pitfall
    assert language_reference() in text
    structured = system_prompt(structured=True)
    assert "JSON object" in structured and language_reference() in structured


SHARE = "x['a'] <= 0.35 * sum(x[p] for p in P)"


def test_reference_shows_a_share_of_a_total_that_checks_and_solves():
    assert f"`{SHARE}`" in language_reference()
    from formulate.api import solve

    formulation = loads(
        "name: share\nsets: {P: [a, b, c]}\nparameters:\n  profit: {index: [P], values: [5, 3, 2]}\n"
        "variables: {x: {index: [P], type: integer}}\n"
        "objective:\n  sense: maximize\n  expr: sum(profit[p] * x[p] for p in P)\n"
        "constraints:\n  total: sum(x[p] for p in P) <= 100\n"
        f"  share_a: \"{SHARE}\"\n")
    assert check(formulation).ok
    solution = solve(formulation)
    assert solution.x["a"] == pytest.approx(35) and solution.x["b"] == pytest.approx(65)
    assert solution.objective == pytest.approx(5 * 35 + 3 * 65)


def test_prompt_says_an_explicit_model_type_wins_and_the_integer_reading_is_a_patch():
    text = system_prompt()
    assert "explicitly asks for a model type" in text and "formulate an LP" in text
    assert "record the integer reading in `meta.alternatives` as a patch" in text
    assert "explicitly asks for a model type" in system_prompt(structured=True)


def test_reference_example_loads_and_checks():
    formulation = loads(reference_example())
    report = check(formulation)
    assert report.ok, report.errors
    assert formulation.meta["assumptions"]


def test_build_messages_alternates_examples_then_problem(library):
    examples = select_examples(TRANSPORT_TEXT, k=2, library=library)
    messages = build_messages(TRANSPORT_TEXT, examples)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert TRANSPORT_TEXT in messages[-1]["content"]
    assert examples[0].problem in messages[1]["content"]
    answer = messages[2]["content"]
    assert answer.startswith("```yaml\n") and answer.rstrip().endswith("```")
    assert "problem:" not in answer and "expected_objective" not in answer
    data = parse_yaml_text(answer.strip().removeprefix("```yaml").removesuffix("```"))
    assert set(data["meta"]) == {"assumptions", "alternatives"}
    assert check(formulation_from_data(data)).ok


def test_structured_examples_are_list_shaped_json(library):
    import json

    examples = select_examples("chairs and tables from wood", k=1, library=library)
    messages = build_messages("chairs and tables from wood", examples, structured=True)
    data = json.loads(messages[2]["content"])
    assert isinstance(data["parameters"], list) and data["parameters"][0]["name"] == "profit"
    assert data["meta"]["assumptions"] == ["chairs and tables are whole units"]


def test_repair_message_quotes_errors_and_asks_for_the_whole_formulation():
    text = repair_message("check_error", ["constraint `c`: name `wod` is not defined; did you mean `wood`?"])
    assert "1 error:" in text and "did you mean `wood`?" in text and "```yaml" in text
    many = repair_message("check_error", [f"error {i}" for i in range(20)])
    assert "20 errors" in many and "and 8 more" in many and "error 11" in many and "error 12" not in many
    parse = repair_message("parse_error", ["YAML error at line 3"], truncated=True)
    assert "could not read" in parse and "cut off" in parse
    assert "JSON object" in repair_message("schema_error", ["x"], structured=True)


# ---------------------------------------------------------------------------------------- few-shot


def test_library_answers_load_and_check(library):
    examples = load_library(library)
    assert [e.name for e in examples] == sorted(LIBRARY)
    for example in examples:
        answer = example.answer_yaml()
        assert "problem:" not in answer and "expected_objective" not in answer
        assert check(loads(answer)).ok
        assert check(formulation_from_data(example.answer_data())).ok
    bakeries = next(e for e in examples if e.name == "transport_bakeries")
    assert bakeries.expected_objective == 2260 and "transportation" in bakeries.tags
    assert "teaches" not in bakeries.answer_yaml()  # notes for people stay out of the answer


def test_selection_picks_transportation_for_a_transport_text(library):
    chosen = select_examples(TRANSPORT_TEXT, k=3, library=library)
    assert chosen[0].name == "transport_bakeries"
    assert select_examples("pack a rucksack with items of given weight and value", k=1,
                           library=library)[0].name == "knapsack_hiker"
    assert select_examples(TRANSPORT_TEXT, k=0, library=library) == []
    assert len(select_examples(TRANSPORT_TEXT, k=10, library=library)) == len(LIBRARY)


def test_selection_is_deterministic_and_breaks_ties_by_name(library):
    examples = load_library(library)
    index = ExampleIndex(list(reversed(examples)))
    assert index.backend == "bm25s"
    no_overlap = index.select("zzz qqq", k=3)
    assert [e.name for e in no_overlap] == sorted(LIBRARY)
    assert [e.name for e in index.select(TRANSPORT_TEXT, 3)] == [e.name for e in index.select(TRANSPORT_TEXT, 3)]


def test_overlap_fallback_without_bm25s(library, monkeypatch):
    monkeypatch.setitem(sys.modules, "bm25s", None)  # import bm25s now raises ImportError
    index = ExampleIndex(load_library(library))
    assert index.select(TRANSPORT_TEXT, 1)[0].name == "transport_bakeries"
    assert index.backend == "overlap"
    assert [e.name for e in index.select("zzz", 3)] == sorted(LIBRARY)


def test_bad_library_file_is_skipped(library, caplog):
    (library / "broken.yaml").write_text("name: broken\nsets: {A: [1, 2]\n", encoding="utf-8")
    (library / "no_problem.yaml").write_text("name: np\nsets: {A: [1]}\n", encoding="utf-8")
    names = [e.name for e in load_library(library)]
    assert names == sorted(LIBRARY)
    assert "broken.yaml" in caplog.text and "no_problem.yaml" in caplog.text
    assert load_library(library / "missing") == []


def test_tokenize_strips_plurals_and_stopwords():
    assert tokenize("The Trucks carry supplies to the cities") == ["truck", "carry", "supply", "city"]
    assert {stem(w) for w in ("shipments", "shipping", "shipped", "ships")} == {"ship"}


def test_packaged_library_loads_and_checks():
    examples = load_library()
    if not examples:
        pytest.skip(f"the packaged few-shot library {fewshot.LIBRARY_DIR} is empty (still being written)")
    for example in examples:
        report = check(loads(example.answer_yaml()))
        assert report.ok, (example.name, [str(e) for e in report.errors])


def test_packaged_library_picks_a_transportation_example():
    examples = load_library()
    transport = [e for e in examples if "transport" in e.name or "transportation" in e.tags]
    if not transport:
        pytest.skip("the packaged few-shot library has no transportation example yet")
    chosen = select_examples(TRANSPORT_TEXT, k=1)
    assert chosen[0] in transport, [e.name for e in chosen]


def test_selection_over_the_repository_examples():
    """The user-facing examples/ folder read as a library: a transport text finds a transportation file."""
    directory = Path(__file__).resolve().parents[1] / "formulate" / "examples"
    if not any(directory.glob("*.yaml")):
        pytest.skip("examples/ has no formulations")
    examples = load_library(directory)
    for example in examples:
        loads(example.answer_yaml())  # every answer is a valid formulation document
    chosen = select_examples(TRANSPORT_TEXT, k=2, library=directory)
    assert any("transport" in e.name for e in chosen[:1]), [e.name for e in chosen]
