"""openai: backend against a real HTTP server on 127.0.0.1 (tests/fake_openai_server.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import fake_openai_server
import pytest
from fake_openai_server import FakeOpenAIServer, Reply, chat_body, chat_reply, echo_n

from formulate.errors import ModelError
from formulate.llm import ChatRequest, OpenAICompatModel, load_model, parse_spec

fake_openai = fake_openai_server.fake_openai  # use the fixture in this module

HELLO = [{"role": "user", "content": "hi"}]


def make(server: FakeOpenAIServer, **kwargs) -> OpenAICompatModel:
    options = {
        "timeout": 30.0,  # only a guard against a hang; the tests of the deadline pass their own
        "max_retries": 2,
        "backoff_base": 0.001,
        "use_cache": False,
        "api_key": "sk-test",
    }
    options.update(kwargs)
    model = load_model("openai:fake-model", base_url=server.url, **options)
    assert isinstance(model, OpenAICompatModel)
    return model


def test_good_reply_usage_latency_and_payload(fake_openai):
    server = fake_openai([chat_reply("x = 3", prompt_tokens=12, completion_tokens=4, delay=0.05)])
    model = make(server)
    response = model.chat(ChatRequest(HELLO, temperature=0.2, max_tokens=50, seed=7))
    assert response.text == "x = 3" and response.completions[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (
        12,
        4,
        16,
    )
    assert response.latency_s >= 0.05 and not response.cached and response.model == "fake-model"
    sent = server.requests[0]
    assert sent["model"] == "fake-model" and sent["messages"] == HELLO
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 50 and sent["seed"] == 7
    assert "n" not in sent and "response_format" not in sent
    assert server.headers[0]["authorization"] == "Bearer sk-test"
    assert server.paths[0] == "/v1/chat/completions"


def test_code_fence_and_prose_returned_verbatim(fake_openai):
    text = "Here is the model:\n```yaml\nname: x\n```\nHope it helps."
    server = fake_openai([chat_reply(text, finish_reason="length")])
    response = make(server).chat(ChatRequest(HELLO))
    assert response.text == text and response.completions[0].finish_reason == "length"


def test_malformed_body_is_retried(fake_openai):
    server = fake_openai([Reply(200, "{not json"), Reply(200, {"no": "choices"}), chat_reply("ok")])
    assert make(server).chat(ChatRequest(HELLO)).text == "ok"
    assert server.count == 3


def test_malformed_body_forever_is_a_clear_error(fake_openai):
    server = fake_openai(default=Reply(200, "<html>gateway</html>"))
    with pytest.raises(ModelError, match="malformed reply body") as info:
        make(server, max_retries=1).chat(ChatRequest(HELLO))
    assert "\n" not in str(info.value) and server.url in str(info.value)
    assert server.count == 2


def test_429_with_retry_after_then_success(fake_openai):
    server = fake_openai([Reply(429, {"error": "slow down"}, headers={"Retry-After": "0"}), chat_reply("ok")])
    start = time.perf_counter()
    model = make(server, backoff_base=60.0)  # Retry-After: 0 wins over the (long: 30-60 s) backoff
    assert model.chat(ChatRequest(HELLO)).text == "ok"
    assert server.count == 2 and time.perf_counter() - start < 20  # room for a loaded machine, none for a backoff


def test_500_then_success(fake_openai):
    server = fake_openai([Reply(500, {"error": "boom"}), Reply(503, "unavailable"), chat_reply("ok")])
    assert make(server).chat(ChatRequest(HELLO)).text == "ok"
    assert server.count == 3


def test_timeout_retries_then_model_error(fake_openai):
    server = fake_openai(default=chat_reply("late", delay=1.0))
    with pytest.raises(ModelError, match="timed out") as info:
        make(server, timeout=0.2, max_retries=1).chat(ChatRequest(HELLO))
    server.wait_for_count(2)  # the client gave up on the request; the server may not have read it yet
    assert server.count == 2 and "\n" not in str(info.value)


def test_401_fails_at_once(fake_openai):
    server = fake_openai(default=Reply(401, {"error": {"message": "Incorrect API key"}}))
    with pytest.raises(ModelError, match=r"the server rejected the API key \(401\)"):
        make(server).chat(ChatRequest(HELLO))
    assert server.count == 1


def test_other_4xx_not_retried(fake_openai):
    server = fake_openai(default=Reply(404, {"error": {"message": "model `nope` not found"}}))
    with pytest.raises(ModelError, match="404 for model `fake-model`.*not found"):
        make(server).chat(ChatRequest(HELLO))
    assert server.count == 1


def test_json_schema_rejected_falls_back_and_is_remembered(fake_openai):
    schema = {"title": "Formulation v1", "type": "object", "properties": {"name": {"type": "string"}}}
    rejected = Reply(400, {"error": {"message": "response_format json_schema is not supported"}})
    server = fake_openai([rejected, chat_reply('{"name": "a"}'), chat_reply('{"name": "b"}')])
    model = make(server)
    assert model.chat(ChatRequest(HELLO, json_schema=schema)).text == '{"name": "a"}'
    first, second = server.requests[0]["response_format"], server.requests[1]["response_format"]
    assert first == {
        "type": "json_schema",
        "json_schema": {"name": "Formulation_v1", "schema": schema, "strict": False},
    }
    assert second == {"type": "json_object"}
    assert model.format_mode == "json_object"
    model.chat(ChatRequest(HELLO, json_schema=schema))
    assert server.requests[2]["response_format"] == {"type": "json_object"}


def test_json_object_rejected_too_falls_back_to_plain(fake_openai):
    reject = Reply(400, {"error": {"message": "unknown field: response_format"}})
    server = fake_openai([reject, reject, chat_reply("{}")])
    model = make(server)
    assert model.chat(ChatRequest(HELLO, json_schema={"type": "object"})).text == "{}"
    assert "response_format" not in server.requests[2] and model.format_mode == "none"


def test_plain_400_is_an_error_not_a_fallback(fake_openai):
    server = fake_openai(default=Reply(400, {"error": {"message": "messages must not be empty"}}))
    with pytest.raises(ModelError, match="HTTP 400.*messages must not be empty"):
        make(server).chat(ChatRequest(HELLO, json_schema={"type": "object"}))
    assert server.count == 1


def test_max_completion_tokens_and_default_temperature_adaptation(fake_openai):
    server = fake_openai(
        [
            Reply(
                400,
                {"error": {"message": "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens'."}},
            ),
            Reply(400, {"error": {"message": "'temperature' does not support 0 with this model; only 1 is"}}),
            chat_reply("ok"),
            chat_reply("again"),
        ]
    )
    model = make(server)
    assert model.chat(ChatRequest(HELLO, max_tokens=9)).text == "ok"
    assert model.chat(ChatRequest(HELLO, max_tokens=9)).text == "again"
    assert [
        ("max_tokens" in r, r.get("max_completion_tokens"), "temperature" in r) for r in server.requests
    ] == [
        (True, None, True),
        (False, 9, True),
        (False, 9, False),
        (False, 9, False),
    ]


def test_n_completions_tops_up_short_replies(fake_openai):
    server = fake_openai(
        [chat_reply(["a", "b"], completion_tokens=2), chat_reply(["c"], completion_tokens=1)]
    )
    response = make(server).chat(ChatRequest(HELLO, n=3, temperature=0.7, seed=1))
    assert [c.text for c in response.completions] == ["a", "b", "c"]
    assert [r.get("n") for r in server.requests] == [3, None]
    assert [r["seed"] for r in server.requests] == [1, 3]  # extra requests shift the seed
    assert response.usage.completion_tokens == 3 and response.usage.prompt_tokens == 22


def test_concurrency_limit_respected(fake_openai):
    answer = echo_n("ok", delay=0.1)

    def together(request):  # no answer before two requests overlap: a sleep alone may end before the second
        server.wait_for_in_flight(2, timeout=30)  # arrives on a loaded machine; a one-at-a-time client waits 30 s
        return answer(request)

    server = fake_openai(default=together)
    model = make(server, concurrency=2, timeout=120)
    start = time.perf_counter()
    responses = model.chat_many([ChatRequest([{"role": "user", "content": str(i)}]) for i in range(6)])
    elapsed = time.perf_counter() - start
    assert [r.text for r in responses] == ["ok"] * 6
    assert server.max_in_flight == 2 and server.count == 6
    assert elapsed > 0.25  # at least three waves of 0.1 s: never more than two at once
    assert sorted(r["messages"][0]["content"] for r in server.requests) == [str(i) for i in range(6)]


def test_chat_many_keeps_order(fake_openai):
    def answer(request):
        return chat_reply(
            request["messages"][0]["content"].upper(),
            delay=0.05 if request["messages"][0]["content"] == "a" else 0,
        )

    server = fake_openai(default=answer)
    responses = make(server, concurrency=4).chat_many(
        [ChatRequest([{"role": "user", "content": c}]) for c in "abcd"]
    )
    assert [r.text for r in responses] == ["A", "B", "C", "D"]


def test_unreachable_port_is_one_line_error():
    with socket.socket() as sock:  # held bound but never listening: refused, and no one else can take it
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        model = load_model(
            "openai:m", base_url=url, use_cache=False, max_retries=1, backoff_base=0.001, timeout=1
        )
        with pytest.raises(ModelError) as info:
            model.chat(ChatRequest(HELLO))
    message = str(info.value)
    assert "\n" not in message and url in message and "could not connect" in message


def test_missing_key_for_openai_host(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelError, match="OPENAI_API_KEY is not set; export it or pass --api-key"):
        load_model("openai:gpt-4o", use_cache=False)


def test_env_base_url_and_no_key_for_local_server(fake_openai, monkeypatch):
    server = fake_openai([chat_reply("local")])
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
    model = load_model("openai:llama3", use_cache=False)
    assert model.chat(ChatRequest(HELLO)).text == "local"
    assert "authorization" not in server.headers[0]


def test_server_body_with_null_content_and_missing_usage(fake_openai):
    body = chat_body("x")
    body["choices"][0]["message"]["content"] = None
    del body["usage"]
    server = fake_openai([Reply(200, body)])
    response = make(server).chat(ChatRequest(HELLO))
    assert response.text == "" and response.usage.total_tokens == 0


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("gpt-4o", "did you mean `openai:gpt-4o`?"),
        ("opnai:gpt-4o", "did you mean `openai`?"),
        ("ollama:llama3", "use `openai:llama3` with --base-url"),
        ("rules", "`rules` is the offline formulator"),
        ("openai:", "names no model"),
    ],
)
def test_bad_specs(spec, needle):
    with pytest.raises(ModelError) as info:
        parse_spec(spec)
    message = str(info.value)
    assert needle in message and "\n" not in message
    if spec != "openai:":
        assert (
            f"unknown model spec `{spec}`" in message
            and "openai:MODEL, hf:PATH_OR_ID or replay:FILE" in message
        )


def test_spec_is_never_guessed_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set")
    with pytest.raises(ModelError, match="unknown model spec"):
        load_model("")


# -- misbehaving servers: slow drip, malformed usage, bad limits ------------------------------------------


def test_a_server_dripping_one_byte_at_a_time_is_cut_off_at_the_deadline(fake_openai):
    """Every read gets a byte within 0.05 s, but the whole reply would take ~20 s: --timeout bounds the total."""
    server = fake_openai(default=Reply(200, chat_body("x" * 200), drip=0.05))
    model = make(server, timeout=0.6, max_retries=1)
    start = time.monotonic()
    with pytest.raises(ModelError, match="timed out after 0.6 s") as info:
        model.chat(ChatRequest(HELLO))
    assert time.monotonic() - start < 8  # two bounded attempts, not two 20-second dribbles
    server.wait_for_count(2)  # the client gave up on the request; the server may not have read it yet
    assert server.count == 2 and "\n" not in str(info.value)


def test_a_slow_drip_within_the_deadline_is_read_in_full(fake_openai):
    body = chat_body("ok", usage=None)
    server = fake_openai([Reply(200, body, drip=0.0005)])
    assert make(server, timeout=30).chat(ChatRequest(HELLO)).text == "ok"


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": "many", "completion_tokens": 3},
        {"prompt_tokens": -5, "completion_tokens": None},
        {"prompt_tokens": [1], "completion_tokens": {"n": 2}},
        {"prompt_tokens": True, "completion_tokens": 1e400},
        {"prompt_tokens": "12", "completion_tokens": 3.9},
        "lots",
        [1, 2],
    ],
)
def test_malformed_usage_counts_as_zero_not_a_crash(fake_openai, usage):
    server = fake_openai([chat_reply("ok", usage=usage)])
    response = make(server).chat(ChatRequest(HELLO))
    assert response.text == "ok"
    counts = (response.usage.prompt_tokens, response.usage.completion_tokens)
    assert all(isinstance(c, int) and c >= 0 for c in counts)
    if isinstance(usage, dict) and usage["prompt_tokens"] == "12":
        assert counts == (12, 3)
    elif isinstance(usage, dict) and usage["prompt_tokens"] == "many":
        assert counts == (0, 3)


def test_content_parts_are_joined(fake_openai):
    body = chat_body("ignored")
    body["choices"][0]["message"]["content"] = [{"type": "text", "text": "x = "}, {"type": "text", "text": "3"}]
    server = fake_openai([Reply(200, body)])
    assert make(server).chat(ChatRequest(HELLO)).text == "x = 3"


@pytest.mark.parametrize(("option", "value"), [("timeout", 0), ("timeout", -1.0), ("timeout", float("nan")),
                                                ("max_retries", -1)])
def test_bad_timeout_or_retries_is_one_line(option, value):
    with pytest.raises(ModelError, match=f"--{option.replace('_', '-')} must be") as info:
        OpenAICompatModel("fake", base_url="http://127.0.0.1:9/v1", **{option: value})
    assert "\n" not in str(info.value)


# -- the command line: --timeout and --max-retries reach the client -----------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = "A bakery makes bread and cake; maximise profit."


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FORMULATE_NO_CACHE="1", OPENAI_API_KEY="sk-test")
    return subprocess.run([sys.executable, "-m", "formulate", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


@pytest.mark.parametrize("command", ["solve", "formulate"])
def test_cli_timeout_bounds_a_dripping_server(fake_openai, command):
    server = fake_openai(default=Reply(200, chat_body("x" * 200), drip=0.05))
    done = _cli(command, "--model", "openai:fake-model", "--base-url", server.url, "--timeout", "0.5",
                "--max-retries", "1", PROBLEM)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "timed out after 0.5 s" in lines[-1] and "after 2 attempt(s)" in lines[-1]
    server.wait_for_count(2)  # the client gave up on the request; the server may not have read it yet
    assert server.count == 2


def test_cli_max_retries_and_eval_flags(fake_openai, tmp_path):
    server = fake_openai(default=Reply(503, {"error": "busy"}, headers={"Retry-After": "0"}))
    data = tmp_path / "toy.jsonl"
    data.write_text(json.dumps({"id": "t1", "question": PROBLEM, "answer": 1.0}) + "\n")
    done = _cli("eval", str(data), "--model", "openai:fake-model", "--base-url", server.url, "--max-retries", "2",
                "--timeout", "5", "--workers", "1", "--out", str(tmp_path / "run.jsonl"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert server.count == 3  # 1 + 2 retries
    record = [r for r in map(json.loads, (tmp_path / "run.jsonl").read_text().splitlines())
              if r.get("type") == "sample"][-1]  # the log ends with the run's `end` record
    assert "after 3 attempt(s)" in json.dumps(record)


@pytest.mark.parametrize(("flag", "value"), [("--timeout", "-1"), ("--timeout", "0"), ("--max-retries", "-2")])
def test_cli_rejects_bad_timeout_and_retries(flag, value):
    done = _cli("solve", "--model", "openai:fake-model", "--base-url", "http://127.0.0.1:9/v1", flag, value, PROBLEM)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and f"{flag} must be" in lines[0], done.stderr
