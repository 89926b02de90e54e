"""A response cache on disk so re-runs are free.

Key: sha256 of the canonical JSON of the full request (the model's cache identity, messages, n,
temperature, max_tokens, JSON schema, seed) plus a sample index. The sample index counts identical
requests made through one :class:`CachedModel` (the first is 0, the next 1, ...), so k identical
sampling requests get k different cached replies and a re-run gets the same k back in the same order;
``request.extra["sample_index"]`` overrides it. One JSON file per entry under
``<dir>/<key[:2]>/<key>.json``, written atomically.

Directory: ``$FORMULATE_CACHE_DIR/llm``, else ``$XDG_CACHE_HOME/formulate/llm``, else
``~/.cache/formulate/llm``. ``FORMULATE_NO_CACHE=1`` turns the cache off in :func:`load_model`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from formulate.llm.base import ChatModel, ChatRequest, ChatResponse, Completion, Usage

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """Where responses are cached unless a directory is given."""
    root = os.environ.get("FORMULATE_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "llm"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "formulate" / "llm"


def cache_disabled() -> bool:
    """True when ``FORMULATE_NO_CACHE`` is set to a true value."""
    return os.environ.get("FORMULATE_NO_CACHE", "").strip().lower() in {"1", "true", "yes", "on"}


def request_hash(identity: str, request: ChatRequest) -> str:
    """sha256 of everything in a request that determines the reply (not the sample index)."""
    payload = {
        "v": CACHE_FORMAT,
        "model": identity,
        "messages": request.messages,
        "n": request.n,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "json_schema": request.json_schema,
        "seed": request.seed,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _with_index(digest: str, sample_index: int) -> str:
    return hashlib.sha256(f"{digest}:{sample_index}".encode()).hexdigest()


def cache_key(identity: str, request: ChatRequest, sample_index: int) -> str:
    """The cache key of one request at one sample index."""
    return _with_index(request_hash(identity, request), sample_index)


def _to_json(response: ChatResponse) -> dict[str, Any]:
    return {
        "completions": [{"text": c.text, "finish_reason": c.finish_reason} for c in response.completions],
        "usage": {
            "prompt_tokens": response.usage.prompt_tokens,
            "completion_tokens": response.usage.completion_tokens,
        },
        "model": response.model,
        "latency_s": response.latency_s,
    }


def _from_json(data: dict[str, Any]) -> ChatResponse:
    usage = data.get("usage") or {}
    return ChatResponse(
        completions=[Completion(c["text"], c.get("finish_reason", "stop")) for c in data["completions"]],
        usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))),
        latency_s=0.0,
        model=str(data.get("model", "")),
        cached=True,
    )


class CachedModel(ChatModel):
    """Wraps a model; answers repeated requests from disk (``cached=True``, latency 0)."""

    def __init__(self, inner: ChatModel, cache_dir: str | Path | None = None) -> None:
        self.inner = inner
        self.spec = inner.spec
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def cache_identity(self) -> str:
        return self.inner.cache_identity()

    def __getattr__(self, name: str) -> Any:
        # Backend-specific attributes (format_mode, base_url, ...) stay reachable through the wrapper.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _keys(self, requests: list[ChatRequest]) -> list[str]:
        """One key per request; identical requests get successive sample indices."""
        identity = self.inner.cache_identity()
        keys = []
        with self._lock:
            for request in requests:
                digest = request_hash(identity, request)
                if "sample_index" in request.extra:
                    index = int(request.extra["sample_index"])
                else:
                    index = self._seen[digest]
                    self._seen[digest] += 1
                keys.append(_with_index(digest, index))
        return keys

    def _read(self, key: str) -> ChatResponse | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return _from_json(data["response"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable cache entry %s (%s)", path, exc)
            return None

    def _write(self, key: str, request: ChatRequest, response: ChatResponse) -> None:
        path = self._path(key)
        record = {
            "format": CACHE_FORMAT,
            "model": self.inner.cache_identity(),
            "request": {
                "messages": request.messages,
                "n": request.n,
                "temperature": request.temperature,
                "max_tokens": request.max_tokens,
                "seed": request.seed,
                "has_schema": request.json_schema is not None,
            },
            "response": _to_json(response),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write cache entry %s (%s)", path, exc)

    def chat(self, request: ChatRequest) -> ChatResponse:
        return self.chat_many([request])[0]

    def chat_many(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        """Answer hits from disk and send the misses to the inner model in one batch."""
        keys = self._keys(requests)
        results: list[ChatResponse | None] = [self._read(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        with self._lock:
            self.hits += len(requests) - len(missing)
            self.misses += len(missing)
        if missing:
            fresh = self.inner.chat_many([requests[i] for i in missing])
            for i, response in zip(missing, fresh, strict=True):
                self._write(keys[i], requests[i], response)
                results[i] = response
        return [r for r in results if r is not None]

    def close(self) -> None:
        self.inner.close()
