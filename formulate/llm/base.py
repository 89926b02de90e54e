"""One chat-model interface: messages in; n completions with text, finish reason, usage and latency out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}

#: ``max_tokens`` for a repair round after a reply was cut off: at most this many.
MAX_TOKENS_CEILING = 32768
#: ... and at least this many when neither the request nor the usage says how long the cut reply was.
MAX_TOKENS_AFTER_CUT = 8192


def truncation_note(max_tokens: int | None) -> str:
    """One line for an error: the reply stopped at the token limit (``finish_reason == "length"``)."""
    limit = f"max_tokens={max_tokens}" if max_tokens else "the server's default max_tokens"
    return f"the reply was truncated at the length limit ({limit})"


def raised_max_tokens(current: int | None, completion_tokens: int = 0) -> int:
    """``max_tokens`` for the round after a truncated reply: twice what the cut reply had, capped."""
    base = current or completion_tokens or MAX_TOKENS_AFTER_CUT // 2
    return min(max(2 * base, MAX_TOKENS_AFTER_CUT if not current else 0), MAX_TOKENS_CEILING)


@dataclass
class Usage:
    """Token counts of one request (summed over its completions)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens
        )


@dataclass
class Completion:
    """One sampled reply."""

    text: str
    finish_reason: str = "stop"


@dataclass
class ChatResponse:
    """The reply to one request: ``n`` completions, usage, latency and whether it came from a cache."""

    completions: list[Completion]
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    model: str = ""
    cached: bool = False

    @property
    def text(self) -> str:
        return self.completions[0].text if self.completions else ""


@dataclass
class ChatRequest:
    """Everything that determines a reply (the cache key is built from all of it)."""

    messages: list[Message]
    n: int = 1
    temperature: float = 0.0
    max_tokens: int | None = None
    json_schema: dict[str, Any] | None = None  # ask for structured output where supported
    seed: int | None = None
    problem_id: str | None = None  # for replay: a fallback key when the text hash is unknown
    extra: dict[str, Any] = field(default_factory=dict)


class ChatModel(ABC):
    """A chat model backend selected by a spec string (``openai:gpt-4o``, ``hf:PATH``, ``replay:FILE``)."""

    spec: str = ""

    @abstractmethod
    def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer one request (blocking)."""

    def chat_many(self, requests: list[ChatRequest]) -> list[ChatResponse]:
        """Answer several requests; backends may batch or run them concurrently."""
        return [self.chat(r) for r in requests]

    def cache_identity(self) -> str:
        """What, besides the request, determines a reply (the cache key includes it); default: the spec."""
        return self.spec

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (HTTP clients, model weights)."""

    def __enter__(self) -> ChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
