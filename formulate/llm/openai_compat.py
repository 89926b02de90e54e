"""``openai:MODEL``: any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio).

Plain httpx, no SDK: ``POST {base_url}/chat/completions``. Retries with exponential backoff (honouring
``Retry-After``) on 429, 5xx, malformed bodies, connection errors and timeouts; other 4xx fail at once.
``timeout`` bounds each whole attempt, not just each read: a server that drips a byte a second is cut
off when the attempt's deadline passes (:class:`_Deadline` shuts its socket down). A semaphore bounds
the requests in flight; :meth:`chat_many` runs requests in a thread pool.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import random
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import httpx

from formulate.errors import ModelError
from formulate.llm.base import ChatModel, ChatRequest, ChatResponse, Completion, Usage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_CONCURRENCY = 8

# Structured-output modes, strongest first; a server that rejects one is asked with the next.
_FORMAT_MODES = ("json_schema", "json_object", "none")
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output", "guided")


def _one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so an error stays one line; cut long server bodies."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _schema_name(schema: dict[str, Any]) -> str:
    """A name for the schema that the API accepts (``^[a-zA-Z0-9_-]{1,64}$``)."""
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", str(schema.get("title") or "response")).strip("_")
    return (name or "response")[:64]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Deadline:
    """Bounds one whole HTTP attempt: at the deadline, the attempt's socket is shut down.

    httpx's timeouts apply to each connect, write and read, so a server sending one byte a second never
    trips them. Passed as httpx's ``trace`` extension, this learns the socket when the connection is made
    (the client keeps no idle connections, so every attempt makes one) and a timer shuts it down when
    the deadline passes; the pending read then fails and the attempt counts as timed out.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._sock = sock
            expired = self.expired
        if expired:
            self._shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._sock
        self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket | None) -> None:
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _BadRequest(Exception):
    """HTTP 400: the caller may adapt the payload (structured output, parameter names) and ask again."""

    def __init__(self, body: str) -> None:
        super().__init__(body)
        self.body = body


class OpenAICompatModel(ChatModel):
    """Chat completions over HTTP against an OpenAI-compatible server."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        concurrency: int = DEFAULT_CONCURRENCY,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_max: float = 120.0,
    ) -> None:
        if not model:
            raise ModelError("model spec `openai:` names no model; use e.g. openai:gpt-4o")
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise ModelError(f"--timeout must be a positive number of seconds, not {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ModelError(f"--max-retries must be a whole number >= 0, not {max_retries!r}")
        self.model = model
        self.spec = f"openai:{model}"
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        if not self.api_key and urlparse(self.base_url).hostname == "api.openai.com":
            raise ModelError("OPENAI_API_KEY is not set; export it or pass --api-key")
        self.url = f"{self.base_url}/chat/completions"
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.concurrency = max(1, int(concurrency))
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.retry_after_max = float(retry_after_max)
        self._slots = threading.Semaphore(self.concurrency)
        self._lock = threading.Lock()
        self._format_mode = _FORMAT_MODES[0]
        self._max_tokens_field = "max_tokens"  # newer OpenAI models want max_completion_tokens
        self._send_temperature = True  # some reasoning models accept only the default
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            # no idle connections: each attempt connects, so its deadline can reach its socket
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=0),
        )

    # -- public API --------------------------------------------------------------------------

    def cache_identity(self) -> str:
        return f"{self.spec}@{self.base_url}"

    @property
    def format_mode(self) -> str:
        """The structured-output mode this server accepted: ``json_schema``, ``json_object`` or ``none``."""
        return self._format_mode

    def chat(self, request: ChatRequest) -> ChatResponse:
        """Send one request; ask again for the rest when the server returns fewer than ``n`` choices."""
        start = time.perf_counter()
        completions: list[Completion] = []
        usage = Usage()
        model_name = self.model
        want = max(1, request.n)
        while len(completions) < want:
            missing = want - len(completions)
            seed = None if request.seed is None else request.seed + len(completions)
            data = self._complete(request, missing, seed)
            usage = usage + _usage(data)
            model_name = str(data.get("model") or model_name)
            got = [_completion(c) for c in data["choices"]]
            if not got:
                raise ModelError(f"{self.spec}: the server at {self.url} returned no choices")
            if len(got) < missing:
                log.debug("%s: asked for %d choices, got %d; asking again", self.spec, missing, len(got))
            completions.extend(got[:missing])
        return ChatResponse(
            completions=completions,
            usage=usage,
            latency_s=time.perf_counter() - start,
            model=model_name,
        )

    def chat_many(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        """Run the requests in a thread pool; the semaphore keeps at most ``concurrency`` in flight."""
        if len(requests) <= 1:
            return [self.chat(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self.chat, requests))

    def close(self) -> None:
        self._client.close()

    # -- internals ---------------------------------------------------------------------------

    def _payload(self, request: ChatRequest, n: int, seed: int | None) -> dict[str, Any]:
        mode = self._format_mode
        payload: dict[str, Any] = {"model": self.model, "messages": request.messages}
        if self._send_temperature:
            payload["temperature"] = request.temperature
        if n > 1:
            payload["n"] = n
        if request.max_tokens is not None:
            payload[self._max_tokens_field] = request.max_tokens
        if seed is not None:
            payload["seed"] = seed
        if request.json_schema is not None and mode == "json_schema":
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.json_schema),
                    "schema": request.json_schema,
                    "strict": False,
                },
            }
        elif request.json_schema is not None and mode == "json_object":
            payload["response_format"] = {"type": "json_object"}
        return payload

    def _complete(self, request: ChatRequest, n: int, seed: int | None) -> dict[str, Any]:
        """One chat completion; on a 400 that names something we can change, change it and ask again."""
        for _ in range(len(_FORMAT_MODES) + 3):
            payload = self._payload(request, n, seed)
            try:
                return self._post(payload)
            except _BadRequest as exc:
                if not self._adapt(exc.body, payload):
                    raise ModelError(
                        f"the server at {self.url} rejected the request (HTTP 400): {exc.body}"
                    ) from None
        raise ModelError(f"the server at {self.url} keeps rejecting the request (HTTP 400)")

    def _adapt(self, body: str, payload: dict[str, Any]) -> bool:
        """Remember, for this model instance, what the server refused; True when the next payload differs."""
        low = body.lower()
        with self._lock:
            if "max_tokens" in payload and "max_completion_tokens" in low:
                self._max_tokens_field = "max_completion_tokens"
                log.warning("%s: sending max_completion_tokens instead of max_tokens", self.spec)
                return True
            if "temperature" in payload and "temperature" in low and ("support" in low or "only" in low):
                self._send_temperature = False
                log.warning("%s: the server accepts only its default temperature; not sending one", self.spec)
                return True
            if "response_format" in payload and any(w in low for w in _FORMAT_WORDS):
                sent = payload["response_format"]["type"]
                if self._format_mode == sent:
                    self._format_mode = _FORMAT_MODES[_FORMAT_MODES.index(sent) + 1]
                    log.warning(
                        "%s: the server rejected response_format %s (%s); using %s from now on",
                        self.spec,
                        sent,
                        _one_line(body, 120),
                        self._format_mode,
                    )
                return True
        return False

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        return delay * (0.5 + random.random() / 2)

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with retries; return the parsed body or raise ModelError (one line)."""
        attempts = self.max_retries + 1
        last = ""
        for attempt in range(attempts):
            wait: float | None = None
            deadline = _Deadline(self.timeout)
            try:
                with self._slots, deadline:
                    response = self._client.post(self.url, json=payload, extensions={"trace": deadline.trace})
            except httpx.TimeoutException:
                last = f"timed out after {self.timeout:g} s"
            except httpx.TransportError as exc:
                if deadline.expired:
                    last = f"timed out after {self.timeout:g} s (no complete reply; --timeout bounds the whole request)"
                else:
                    last = f"could not connect ({type(exc).__name__}: {_one_line(exc, 150)})"
            else:
                status = response.status_code
                if status == 200:
                    data = _parse_body(response)
                    if data is not None:
                        return data
                    last = f"malformed reply body: {_one_line(response.text, 120)!r}"
                elif status == 429 or status >= 500:
                    last = f"HTTP {status}: {_one_line(response.text, 200)}"
                    retry_after = _retry_after(response)
                    if retry_after is not None:
                        wait = min(retry_after, self.retry_after_max)
                else:
                    self._raise_for_client_error(response)
            if attempt + 1 < attempts:
                wait = self._backoff(attempt) if wait is None else wait
                log.info(
                    "%s: %s; retry %d/%d in %.2f s", self.spec, last, attempt + 1, self.max_retries, wait
                )
                time.sleep(wait)
        raise ModelError(
            f"{self.spec}: no usable reply from {self.url} after {attempts} attempt(s); last error: {last}"
        )

    def _raise_for_client_error(self, response: httpx.Response) -> None:
        status = response.status_code
        body = _one_line(response.text, 300)
        if status == 401:
            raise ModelError(
                f"the server rejected the API key (401) at {self.url}; check OPENAI_API_KEY or --api-key"
            )
        if status == 400:
            raise _BadRequest(body)
        if status == 403:
            raise ModelError(
                f"the server at {self.url} refused access (403) for model `{self.model}`: {body}"
            )
        if status == 404:
            raise ModelError(
                f"the server at {self.url} answered 404 for model `{self.model}`: {body}; "
                "check the model name and the base URL"
            )
        raise ModelError(f"the server at {self.url} rejected the request (HTTP {status}): {body}")


def _parse_body(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON body if it looks like a chat completion, else None."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return None
    if not all(isinstance(c, dict) for c in data["choices"]):
        return None
    return data


def _completion(choice: dict[str, Any]) -> Completion:
    message = choice.get("message") or {}
    text = message.get("content") if isinstance(message, dict) else None
    if text is None:
        text = choice.get("text") or ""
    if isinstance(text, list):  # content parts: [{"type": "text", "text": "..."}]
        text = "".join(str(p.get("text") or "") if isinstance(p, dict) else str(p) for p in text)
    return Completion(text=str(text), finish_reason=str(choice.get("finish_reason") or "stop"))


def _token_count(value: Any) -> int:
    """A token count from a server's usage block; anything that is not a count (``"many"``, -3, NaN) is 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value):
        return max(int(value), 0)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        return int(value.strip())
    return 0


def _usage(data: dict[str, Any]) -> Usage:
    usage = data.get("usage") or {}
    if not isinstance(usage, dict):
        return Usage()
    return Usage(_token_count(usage.get("prompt_tokens")), _token_count(usage.get("completion_tokens")))
