"""YAML and JSON from anywhere are bounded: alias bombs, recursive aliases, deep nesting, huge documents."""

from __future__ import annotations

import time

import pytest

from formulate.api import check
from formulate.errors import LimitError
from formulate.formulators.extract import extract_structured
from formulate.formulators.llm import parse_reply
from formulate.ir.io import load, loads
from formulate.ir.limits import limits

BASE = "name: t\nvariables: {z: {}}\nobjective: {sense: min, expr: z}\n"


def laughs(levels: int = 9, width: int = 9) -> str:
    """The billion-laughs document: 9 anchors of 9 aliases each, 9^9 nodes when expanded."""
    lines = ["  a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


BOMBS = {
    "under meta": BASE + "meta:\n" + laughs(),
    "as a set": BASE + "sets:\n  S: &top [1]\nmeta:\n" + laughs() + "  set: *a8\n",
    "as values": BASE + "meta:\n" + laughs() + "parameters:\n  p: {index: [S], values: *a8}\nsets: {S: [1]}\n",
}


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_billion_laughs_is_refused_quickly(text: str) -> None:
    started = time.perf_counter()
    report = check(text)
    assert time.perf_counter() - started < 10
    assert isinstance(report.errors[0], LimitError)
    assert "aliases" in str(report.errors[0]) and "FORMULATE_MAX_ALIAS_NODES" in str(report.errors[0])


def test_a_few_aliases_are_fine() -> None:
    text = BASE + "sets:\n  P: &p [a, b]\n  Q: *p\n"
    assert check(text).ok


@pytest.mark.parametrize("text", ["meta: &a [*a]\n", "meta: &a {b: *a}\n", "sets: &s {S: *s}\n"])
def test_recursive_aliases_are_refused(text: str) -> None:
    with pytest.raises(LimitError, match="recursive alias"):
        loads(BASE + text)


DEEP = {
    "flow yaml": BASE + "meta: {x: " + "[" * 5000 + "]" * 5000 + "}\n",
    "block yaml": BASE + "meta:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 5000)),
    "sequence yaml": BASE + "meta:\n  x:\n" + "    " + "- " * 5000 + "1\n",
    "json": '{"name": "t", "meta": {"x": ' + "[" * 5000 + "]" * 5000 + "}}",
}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_one_line(text: str) -> None:
    with pytest.raises(LimitError, match="nests deeper than 100 levels"):
        loads(text)


def test_huge_documents_are_refused_before_parsing(tmp_path) -> None:
    text = BASE + "meta: {note: '" + "x" * 5000 + "'}\n"
    with limits(max_document_chars=1000):
        with pytest.raises(LimitError, match="5,0[0-9]{2} characters, over the limit of 1,000"):
            loads(text)
        path = tmp_path / "big.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(LimitError):
            load(path)
    assert loads(text).meta["note"].startswith("xxx")


def test_model_replies_are_bounded_too() -> None:
    started = time.perf_counter()
    reply = "Here is the model:\n```yaml\n" + BOMBS["under meta"] + "```\n"
    with pytest.raises(LimitError, match="aliases"):
        parse_reply(reply)
    with pytest.raises(LimitError, match="nests deeper"):
        extract_structured("```json\n" + DEEP["json"] + "\n```")
    with pytest.raises(LimitError, match="nests deeper"):
        parse_reply("```yaml\n" + DEEP["flow yaml"] + "```")
    assert time.perf_counter() - started < 10  # never handed to a parser that is slow on deep flows


def test_limits_are_settable_from_the_environment(monkeypatch) -> None:
    from formulate.ir.limits import Limits

    monkeypatch.setenv("FORMULATE_MAX_DEPTH", "7")
    monkeypatch.setenv("FORMULATE_MAX_ELEMENTS", "1e9")
    assert Limits.from_env().max_depth == 7 and Limits.from_env().max_elements == 10**9
    with limits(max_depth=3), pytest.raises(LimitError, match="deeper than 3"):
        loads(BASE + "meta: {a: {b: {c: {d: 1}}}}\n")
