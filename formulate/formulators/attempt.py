"""What a formulator returns: the formulation (or why there is none) and everything it cost to get it.

Shared by every formulator (llm, code, rules), so the verifier and the evaluation log read one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from formulate.ir.model import Formulation
from formulate.llm.base import Message, Usage

#: how an attempt ended: ``ok``, or the stage that failed in its last round (IR mode: parse, schema,
#: check, model; the dispatcher's rules and code modes add ``refused`` and ``code_error``)
STATUSES = ("ok", "parse_error", "schema_error", "check_error", "model_error", "refused", "code_error")


@dataclass
class RoundRecord:
    """One model call: the reply, how it fared, and what it cost."""

    reply: str
    status: str
    errors: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    finish_reason: str = "stop"

    def to_dict(self) -> dict[str, Any]:
        return {"reply": self.reply, "status": self.status, "errors": list(self.errors),
                "prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens,
                "latency_s": self.latency_s, "finish_reason": self.finish_reason}


@dataclass
class FormulateAttempt:
    """The result of turning one problem text into a Formulation.

    ``formulation`` is set only when ``status == "ok"``; ``draft`` is the last formulation that passed
    the schema (it may still fail ``check``). ``history`` keeps every round; ``messages`` the whole
    conversation, repair messages included.
    """

    problem_text: str
    status: str = "model_error"
    formulation: Formulation | None = None
    draft: Formulation | None = None
    history: list[RoundRecord] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problem_id: str | None = None
    formulator: str = ""
    model: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.formulation is not None

    @property
    def confidence(self) -> float | None:
        """How sure the formulator is (the offline reader sets it, 0..1); None when it does not say."""
        value = self.extra.get("confidence")
        return float(value) if isinstance(value, int | float) else None

    @property
    def rounds(self) -> int:
        """Number of model calls made."""
        return len(self.history)

    @property
    def replies(self) -> list[str]:
        """Every raw reply, in order."""
        return [r.reply for r in self.history]

    @property
    def errors(self) -> list[list[str]]:
        """The errors of each round (an empty list for a round that passed)."""
        return [list(r.errors) for r in self.history]

    @property
    def usage(self) -> Usage:
        """Tokens summed over all rounds."""
        total = Usage()
        for record in self.history:
            total = total + record.usage
        return total

    @property
    def latency_s(self) -> float:
        """Model latency summed over all rounds."""
        return sum(r.latency_s for r in self.history)

    @property
    def last_errors(self) -> list[str]:
        return list(self.history[-1].errors) if self.history else []

    def to_dict(self) -> dict[str, Any]:
        """Plain data for logs (the formulation as plain data, not YAML text)."""
        usage = self.usage
        return {
            "problem_id": self.problem_id, "status": self.status, "formulator": self.formulator,
            "model": self.model, "rounds": self.rounds,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "latency_s": self.latency_s, "warnings": list(self.warnings),
            "formulation": self.formulation.to_dict() if self.formulation is not None else None,
            "history": [r.to_dict() for r in self.history], "extra": dict(self.extra),
        }
