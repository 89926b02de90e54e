"""On-disk response cache: keys, sample indices, hits and misses, switches."""

from __future__ import annotations

import fake_openai_server
import pytest
from fake_openai_server import echo_n

from formulate.llm import (
    CachedModel,
    ChatModel,
    ChatRequest,
    ChatResponse,
    Completion,
    OpenAICompatModel,
    Usage,
    default_cache_dir,
    load_model,
)
from formulate.llm.cache import cache_key

fake_openai = fake_openai_server.fake_openai  # use the fixture in this module

HELLO = [{"role": "user", "content": "hi"}]


class Counter(ChatModel):
    """Answers `reply-<k>` where k counts the calls; records batches."""

    def __init__(self) -> None:
        self.spec = "test:counter"
        self.calls = 0
        self.batches: list[int] = []

    def chat(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        texts = [f"reply-{self.calls}-{i}" for i in range(request.n)]
        return ChatResponse([Completion(t) for t in texts], Usage(5, 3), latency_s=0.5, model="counter")

    def chat_many(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        self.batches.append(len(requests))
        return [self.chat(r) for r in requests]


def test_rerun_is_free(tmp_path):
    inner = Counter()
    first = CachedModel(inner, tmp_path).chat(ChatRequest(HELLO, n=2, temperature=0.5))
    again = CachedModel(inner, tmp_path).chat(ChatRequest(HELLO, n=2, temperature=0.5))  # a new run
    assert inner.calls == 1 and not first.cached and first.latency_s == 0.5
    assert again.cached and again.latency_s == 0.0
    assert [c.text for c in again.completions] == [c.text for c in first.completions]
    assert (again.usage.prompt_tokens, again.usage.completion_tokens, again.model) == (5, 3, "counter")
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_identical_requests_get_successive_sample_indices(tmp_path):
    inner = Counter()
    run1 = CachedModel(inner, tmp_path)
    texts1 = [run1.chat(ChatRequest(HELLO, temperature=1.0)).text for _ in range(3)]
    assert texts1 == ["reply-1-0", "reply-2-0", "reply-3-0"]  # samples differ
    run2 = CachedModel(inner, tmp_path)
    texts2 = [run2.chat(ChatRequest(HELLO, temperature=1.0)).text for _ in range(4)]
    assert texts2[:3] == texts1 and texts2[3] == "reply-4-0" and inner.calls == 4
    assert (run2.hits, run2.misses) == (3, 1)
    pinned = CachedModel(inner, tmp_path).chat(ChatRequest(HELLO, temperature=1.0, extra={"sample_index": 1}))
    assert pinned.text == "reply-2-0" and pinned.cached


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "user", "content": "hi!"}]},
        {"n": 2},
        {"temperature": 0.3},
        {"max_tokens": 10},
        {"json_schema": {"type": "object"}},
        {"seed": 1},
    ],
)
def test_every_request_field_is_in_the_key(change):
    base = {
        "messages": HELLO,
        "n": 1,
        "temperature": 0.0,
        "max_tokens": None,
        "json_schema": None,
        "seed": None,
    }
    key = cache_key("openai:m@u", ChatRequest(**base), 0)
    assert cache_key("openai:m@u", ChatRequest(**{**base, **change}), 0) != key
    assert cache_key("openai:m@v", ChatRequest(**base), 0) != key
    assert cache_key("openai:m@u", ChatRequest(**base), 1) != key
    assert cache_key("openai:m@u", ChatRequest(**base, problem_id="x", extra={"problem_text": "t"}), 0) == key


def test_chat_many_sends_only_misses_in_one_batch(tmp_path):
    inner = Counter()
    CachedModel(inner, tmp_path).chat(ChatRequest([{"role": "user", "content": "b"}]))
    requests = [ChatRequest([{"role": "user", "content": c}]) for c in "abc"]
    responses = CachedModel(inner, tmp_path).chat_many(requests)
    assert [r.cached for r in responses] == [False, True, False]
    assert inner.batches == [1, 2]


def test_corrupt_entry_is_a_miss(tmp_path):
    inner = Counter()
    CachedModel(inner, tmp_path).chat(ChatRequest(HELLO))
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text("{broken")
    response = CachedModel(inner, tmp_path).chat(ChatRequest(HELLO))
    assert not response.cached and inner.calls == 2


def test_load_model_caches_openai_end_to_end(fake_openai, tmp_path):
    server = fake_openai(default=echo_n("cached?"))
    options = {"base_url": server.url, "cache_dir": tmp_path, "backoff_base": 0.001}
    model = load_model("openai:m", **options)
    assert isinstance(model, CachedModel) and isinstance(model.inner, OpenAICompatModel)
    assert model.format_mode == "json_schema"  # backend attributes reachable through the wrapper
    assert not model.chat(ChatRequest(HELLO)).cached
    again = load_model("openai:m", **options).chat(ChatRequest(HELLO))
    assert again.cached and again.text == "cached?" and server.count == 1
    other_server = load_model("openai:m", **{**options, "base_url": server.url + "/"}).chat(
        ChatRequest(HELLO)
    )
    assert other_server.cached  # same base URL after normalisation
    assert not load_model("openai:m", **options, use_cache=False).chat(ChatRequest(HELLO)).cached
    assert server.count == 2


def test_env_switches(monkeypatch, tmp_path):
    monkeypatch.setenv("FORMULATE_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "llm"
    assert CachedModel(Counter()).cache_dir == tmp_path / "llm"
    monkeypatch.delenv("FORMULATE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "formulate" / "llm"
    monkeypatch.setenv("FORMULATE_NO_CACHE", "1")
    model = load_model("openai:m", base_url="http://127.0.0.1:9/v1")
    assert isinstance(model, OpenAICompatModel)
