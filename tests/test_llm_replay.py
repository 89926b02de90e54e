"""replay: backend: recorded responses per problem, consumed in request order."""

from __future__ import annotations

import json
import time

import pytest

from formulate.errors import ModelError
from formulate.llm import ChatRequest, ReplayModel, load_model, problem_key, record_replay

TEXT = "A factory makes chairs and tables.\n  Maximise   profit."


def request(text: str | None = None, pid: str | None = None, n: int = 1) -> ChatRequest:
    extra = {"problem_text": text} if text is not None else {}
    return ChatRequest([{"role": "user", "content": text or "?"}], n=n, problem_id=pid, extra=extra)


def test_problem_key_normalises_case_and_whitespace():
    assert problem_key(TEXT) == problem_key("a factory makes chairs and tables. maximise profit.")
    assert problem_key(" x\t\ty\n") == problem_key("X Y")
    assert problem_key("x y") != problem_key("xy")
    assert len(problem_key(TEXT)) == 64 and int(problem_key(TEXT), 16) >= 0


def test_record_and_replay_in_order(tmp_path):
    path = tmp_path / "sub" / "replay.jsonl"
    record_replay(path, TEXT, "p1", ["round 1", "round 2"])
    record_replay(path, TEXT, "p1", ["round 3"])  # a later record for the same problem appends
    record_replay(path, None, "p2", ["only by id"])
    line = json.loads(path.read_text().splitlines()[0])
    assert line == {
        "key": problem_key(TEXT),
        "id": "p1",
        "problem": TEXT,
        "responses": ["round 1", "round 2"],
    }

    model = load_model(f"replay:{path}", use_cache=True, cache_dir=tmp_path / "cache")
    assert isinstance(model, ReplayModel)  # never wrapped in the cache
    assert len(model) == 2
    assert model.chat(request(TEXT.upper())).text == "round 1"  # found by the hash of the text
    assert model.chat(request(pid="p1")).text == "round 2"  # the same list, found by the id
    assert model.chat(request(TEXT)).text == "round 3"
    with pytest.raises(ModelError, match="ran out of responses for problem `p1`"):
        model.chat(request(TEXT))
    assert model.chat(request("unrecorded text", pid="p2")).text == "only by id"  # text unknown -> id
    model.reset()
    assert model.chat(request(pid="p1")).text == "round 1"
    assert not (tmp_path / "cache").exists()


def test_n_consumes_n(tmp_path):
    path = tmp_path / "r.jsonl"
    record_replay(path, TEXT, "p", ["a", "b", "c", {"text": "d", "finish_reason": "length"}])
    model = ReplayModel(path)
    response = model.chat(request(TEXT, n=3))
    assert [c.text for c in response.completions] == ["a", "b", "c"]
    assert response.latency_s == 0 and not response.cached and response.usage.total_tokens == 0
    last = model.chat(request(TEXT))
    assert (last.text, last.completions[0].finish_reason) == ("d", "length")


def test_chat_many_uses_request_order(tmp_path):
    path = tmp_path / "r.jsonl"
    record_replay(path, None, "p", ["first", "second"])
    model = ReplayModel(path)
    assert [r.text for r in model.chat_many([request(pid="p"), request(pid="p")])] == ["first", "second"]


def test_unknown_problem_names_the_id(tmp_path):
    path = tmp_path / "r.jsonl"
    record_replay(path, TEXT, "p", ["x"])
    with pytest.raises(ModelError, match="no responses for problem id `nl4opt-9`"):
        ReplayModel(path).chat(request("another problem", pid="nl4opt-9"))


def test_json_mapping_and_null_key_with_problem(tmp_path):
    mapping = tmp_path / "r.json"
    mapping.write_text(json.dumps({problem_key(TEXT): ["by key"], "ind-3": ["by id"]}))
    model = load_model(f"replay:{mapping}")
    assert model.chat(request(TEXT)).text == "by key"
    assert model.chat(request(pid="ind-3")).text == "by id"

    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(json.dumps({"key": None, "id": "q", "problem": TEXT, "responses": ["r"]}) + "\n\n")
    assert ReplayModel(jsonl).chat(request(TEXT)).text == "r"


def test_bad_files(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(f"replay:{tmp_path / 'missing.jsonl'}")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "responses": ["x"]}\nnot json\n')
    with pytest.raises(ModelError, match=r"bad.jsonl:2: not valid JSON"):
        ReplayModel(bad)
    bad.write_text('{"id": "a", "responses": "x"}\n')
    with pytest.raises(ModelError, match="`responses` list"):
        ReplayModel(bad)
    with pytest.raises(ModelError, match="problem text or a problem id"):
        record_replay(bad, None, None, ["x"])


def test_replay_overhead_is_small(tmp_path):
    path = tmp_path / "big.jsonl"
    with path.open("w") as fh:
        for i in range(2000):
            fh.write(
                json.dumps({"key": None, "id": f"p{i}", "problem": f"problem {i}", "responses": ["a", "b"]})
                + "\n"
            )
    start = time.perf_counter()
    model = ReplayModel(path)
    for i in range(2000):
        model.chat(request(f"problem {i}", pid=f"p{i}"))
    assert (time.perf_counter() - start) / 2000 < 0.002
