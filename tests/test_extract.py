"""Pulling code and JSON/YAML out of model replies."""

from __future__ import annotations

import pytest

from formulate.errors import FormulationError
from formulate.formulators.extract import (
    code_blocks,
    extract_python,
    extract_structured,
    parse_structured,
    repair_json,
    strip_reasoning,
)

SCRIPT = """import gurobipy as gp
from gurobipy import GRB

m = gp.Model()
x = m.addVar(name="x")
m.setObjective(x, GRB.MAXIMIZE)
m.addConstr(x <= 4)
m.optimize()
print("Optimal objective value:", m.objVal)
"""


def test_prose_around_a_python_fence():
    reply = f"To solve this, we define a variable.\n\n```python\n{SCRIPT}```\n\nThe optimum is 4."
    assert extract_python(reply) == SCRIPT


def test_untagged_fence_and_tilde_fence():
    assert extract_python(f"Here:\n```\n{SCRIPT}```\n") == SCRIPT
    assert extract_python(f"Here:\n~~~py\n{SCRIPT}~~~\n") == SCRIPT


def test_several_fences_choose_the_complete_script():
    reply = (
        "First install it:\n```bash\npip install gurobipy\n```\n"
        f"The model:\n```python\n{SCRIPT}```\n"
        "Output:\n```\nOptimal objective value: 4.0\n```\n"
        "You can also inspect a variable:\n```python\nprint(x.X)\n```\n"
    )
    assert extract_python(reply) == SCRIPT


def test_later_revision_wins_a_tie():
    revised = SCRIPT.replace("x <= 4", "x <= 5")
    reply = f"Draft:\n```python\n{SCRIPT}```\nWait, the limit is 5. Corrected:\n```python\n{revised}```"
    assert extract_python(reply) == revised


def test_script_split_over_blocks_is_joined():
    head, tail = SCRIPT.split("m = gp.Model()\n")
    reply = f"Imports:\n```python\n{head}```\nModel:\n```python\nm = gp.Model()\n{tail}```"
    joined = extract_python(reply)
    assert joined is not None and "import gurobipy" in joined and "m.optimize()" in joined
    compile(joined, "joined", "exec")


def test_unclosed_fence_at_end_of_truncated_reply():
    reply = f"Sure.\n```python\n{SCRIPT}"
    assert extract_python(reply) == SCRIPT


def test_no_fences_code_with_trailing_prose():
    reply = f"Here is the code.\n{SCRIPT}\nThis prints the optimal objective value of the model."
    assert extract_python(reply) == SCRIPT


def test_indented_fence_is_dedented():
    indented = "".join("    " + line if line.strip() else line for line in SCRIPT.splitlines(True))
    reply = f"1. Code:\n    ```python\n{indented}    ```\n"
    assert extract_python(reply) == SCRIPT


def test_reasoning_drafts_are_ignored():
    draft = SCRIPT.replace("x <= 4", "x <= 99")
    reply = f"<think>Maybe\n```python\n{draft}```\nno.</think>\nFinal:\n```python\n{SCRIPT}```"
    assert extract_python(reply) == SCRIPT
    assert "<think>" not in strip_reasoning(reply)
    # code only inside the reasoning is still found
    assert extract_python(f"<think>\n```python\n{SCRIPT}```\n</think>\nSee above.") == SCRIPT


def test_no_code_at_all():
    assert extract_python("The answer is 42 because the constraints bind.") is None
    assert extract_python('```json\n{"a": 1}\n```') is None


def test_code_blocks_tags_and_positions():
    blocks = code_blocks("a\n```Python {linenos}\nx = 1\n```\nb\n```\ny\n```\n")
    assert [(b.lang, b.code) for b in blocks] == [("python", "x = 1\n"), ("", "y\n")]


# --------------------------------------------------------------------------------------------- structured


def test_json_in_fence_with_prose():
    reply = 'The formulation:\n```json\n{"name": "toy", "variables": {"x": {"type": "integer"}}}\n```\nDone.'
    assert extract_structured(reply) == {"name": "toy", "variables": {"x": {"type": "integer"}}}


def test_messy_json_trailing_commas_comments_single_quotes():
    reply = """Here you go:
{
  // the products
  'sets': {'P': ['chair', 'table',],},   /* two of them */
  "objective": {"sense": 'maximize', "expr": "sum(profit[p] * x[p] for p in P)"},
  flag: True, missing: None,  # python-ish
  "note": "it's a \\"quoted\\" word",
}
Hope this helps."""
    data = extract_structured(reply)
    assert data == {
        "sets": {"P": ["chair", "table"]},
        "objective": {"sense": "maximize", "expr": "sum(profit[p] * x[p] for p in P)"},
        "flag": True,
        "missing": None,
        "note": 'it\'s a "quoted" word',
    }


def test_yaml_fence_and_unfenced_yaml():
    yaml_text = "name: furniture\nsets:\n  P: [chair, table]\nobjective:\n  sense: maximize\n  expr: sum(x[p] for p in P)\n"
    assert extract_structured(f"```yaml\n{yaml_text}```")["sets"] == {"P": ["chair", "table"]}
    unfenced = extract_structured(f"Sure! Here is the model.\n\n{yaml_text}\nLet me know if you need more.")
    assert unfenced["name"] == "furniture" and unfenced["objective"]["sense"] == "maximize"


def test_several_blocks_prefer_required_keys_then_size():
    reply = (
        '```json\n{"objective": {"sense": "minimize"}, "variables": {"x": {}}, "constraints": {}}\n```\n'
        'For example a single variable looks like:\n```json\n{"x": {"type": "integer"}}\n```'
    )
    assert "objective" in extract_structured(reply)
    assert "objective" in extract_structured(reply, required_keys=("objective", "variables"))
    later_small = extract_structured('```json\n{"a": 1}\n```\n```json\n{"b": 2}\n```')
    assert later_small == {"b": 2}


def test_no_structured_data_raises_actionable_error():
    with pytest.raises(FormulationError, match="no JSON or YAML object"):
        extract_structured("I could not formulate this problem.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', {"a": 1}),
        ("{'a': 'b'}", {"a": "b"}),
        ("{a: 1, b: [1, 2,], c: False}", {"a": 1, "b": [1, 2], "c": False}),
        ('{"url": "http://x.org/#a"} // c', {"url": "http://x.org/#a"}),
        ("a: 1\nb: [2, 3]\n", {"a": 1, "b": [2, 3]}),
        ("[1, 2, 3,]", [1, 2, 3]),
        ('{"x": 1e3, "y": -2.5E-1}', {"x": 1000.0, "y": -0.25}),
    ],
)
def test_parse_structured(text, expected):
    assert parse_structured(text) == expected


def test_repair_json_keeps_string_contents():
    assert repair_json("{'k': 'a // b, }'}") == '{"k": "a // b, }"}'
