"""A scripted OpenAI-compatible server on 127.0.0.1 for tests (real HTTP, no network).

Usage, as a fixture factory (tests/ is on ``sys.path`` under pytest's default import mode)::

    import fake_openai_server
    from fake_openai_server import Reply, chat_reply

    fake_openai = fake_openai_server.fake_openai  # use the fixture here (a conftest.py may import it instead)

    def test_x(fake_openai):
        server = fake_openai([chat_reply("hello"), Reply(429, {"error": "slow down"}, headers={"Retry-After": "0"})])
        model = load_model("openai:fake", base_url=server.url, use_cache=False)
        ...
        assert server.count == 1 and server.requests[0]["messages"][0]["content"] == "hi"

or as a context manager: ``with FakeOpenAIServer(replies) as server: ...``. Replies are consumed in
order; when the queue is empty, ``default`` (a Reply or a callable ``request_json -> Reply``) answers,
and without one the server answers 500 "no scripted reply left".

Misbehaving servers: ``Reply(drip=0.05)`` sends the whole response (status line and headers included)
one byte every 0.05 s, so that no single read waits long; ``chat_body(..., usage=...)`` replaces the
usage block (e.g. ``{"prompt_tokens": "many"}``); ``finish_reason="length"`` marks a cut-off reply.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_DEFAULT_USAGE: Any = object()


@dataclass
class Reply:
    """One scripted answer: status, body (dict/list -> JSON; str/bytes -> sent raw), delay before answering."""

    status: int = 200
    body: Any = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # > 0: send the response one byte at a time, this many seconds apart


def chat_body(
    texts: str | list[str],
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
    model: str = "fake-model",
    usage: Any = _DEFAULT_USAGE,
) -> dict[str, Any]:
    """A chat-completion JSON body with one choice per text (``usage`` replaces the usage block)."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    if usage is _DEFAULT_USAGE:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": finish_reason}
            for i, t in enumerate(texts)
        ],
        "usage": usage,
    }


def chat_reply(texts: str | list[str], *, delay: float = 0.0, **kwargs: Any) -> Reply:
    """A 200 reply carrying a chat completion (see :func:`chat_body`)."""
    return Reply(200, chat_body(texts, **kwargs), delay)


def echo_n(text: str = "ok", **kwargs: Any) -> Callable[[dict[str, Any]], Reply]:
    """A ``default`` that answers every request with as many choices as it asked for (``n``)."""

    def answer(request: dict[str, Any]) -> Reply:
        n = int(request.get("n") or 1)
        return chat_reply([text] * n, **kwargs)

    return answer


Default = Reply | Callable[[dict[str, Any]], Reply] | None


class FakeOpenAIServer:
    """A ThreadingHTTPServer in a thread answering ``POST /v1/chat/completions`` from a script."""

    def __init__(self, replies: Iterable[Reply] = (), *, default: Default = None) -> None:
        self._replies: deque[Reply] = deque(replies)
        self.default = default
        self.requests: list[Any] = []  # parsed JSON bodies (raw text when not JSON), in arrival order
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified whenever a request arrives
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL to pass as ``base_url`` (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def count(self) -> int:
        """Number of chat-completion requests received."""
        return len(self.requests)

    def wait_for_in_flight(self, n: int, timeout: float = 60.0) -> bool:
        """Block until ``n`` requests have been in flight at once (True), or ``timeout`` s pass (False).

        For a ``default`` that should answer only once requests overlap: a condition to wait for, where a
        fixed delay would hope the other requests arrive in time (they may not on a loaded machine).
        """
        with self._changed:
            return self._changed.wait_for(lambda: self.max_in_flight >= n, timeout)

    def wait_for_count(self, n: int, timeout: float = 60.0) -> bool:
        """Block until ``n`` chat requests have arrived (True), or ``timeout`` s pass (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= n, timeout)

    def push(self, *replies: Reply) -> None:
        """Append replies to the script."""
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: Any) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if isinstance(self.default, Reply):
            return self.default
        if callable(self.default):
            return self.default(request)
        return Reply(500, {"error": {"message": "fake server: no scripted reply left"}})


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/").endswith("/models"):
                self._send(Reply(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}))
            else:
                self._send(Reply(404, {"error": {"message": f"no route {self.path}"}}))

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw
            with server._lock:
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                server.paths.append(self.path)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
                server._changed.notify_all()
            try:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    reply = Reply(404, {"error": {"message": f"no route {self.path}"}})
                else:
                    reply = server._next_reply(body)
                if reply.delay:
                    server._stopping.wait(reply.delay)
            finally:
                with server._lock:
                    server.in_flight -= 1
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            if isinstance(reply.body, bytes):
                data, ctype = reply.body, "application/octet-stream"
            elif isinstance(reply.body, str):
                data, ctype = reply.body.encode(), "text/plain"
            else:
                data, ctype = json.dumps(reply.body).encode(), "application/json"
            if reply.drip > 0:
                self._drip(reply, data, ctype)
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def _drip(self, reply: Reply, data: bytes, ctype: str) -> None:
            head = [f"HTTP/1.1 {reply.status} OK", f"Content-Type: {ctype}", f"Content-Length: {len(data)}"]
            head += [f"{k}: {v}" for k, v in reply.headers.items()]
            raw = ("\r\n".join(head) + "\r\n\r\n").encode() + data
            self.close_connection = True
            for i in range(len(raw)):
                if server._stopping.wait(reply.drip):
                    return
                try:
                    self.wfile.write(raw[i : i + 1])
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """Factory fixture: ``fake_openai(replies=(), default=None) -> FakeOpenAIServer`` (started, stopped after)."""
    servers: list[FakeOpenAIServer] = []

    def make(replies: Iterable[Reply] = (), *, default: Default = None) -> FakeOpenAIServer:
        server = FakeOpenAIServer(replies, default=default).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
