"""A finding: one thing the verifier noticed about an attempt, with a message for the model and one for a person.

``severity`` drives the loop: an ``error`` is sent back until it is fixed (or rounds run out), a
``warning`` is sent back once, ``info`` is only shown to the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """What the verifier noticed: its kind, how bad, where, and what to tell the model and the person."""

    kind: str
    severity: str  # error | warning | info
    where: str
    for_model: str
    for_person: str
    span: str | None = None  # the exact text of the problem this finding concerns

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    @property
    def key(self) -> tuple[str, str]:
        """Identity across rounds (kind and place), so a warning is sent back only once."""
        return self.kind, self.where

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{k: data.get(k) for k in ("kind", "severity", "where", "for_model", "for_person", "span")})


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "warning"]


def rank(findings: Iterable[Finding]) -> int:
    """0 clean, 1 warnings only, 2 errors (lower is better)."""
    severities = {f.severity for f in findings}
    return 2 if "error" in severities else 1 if "warning" in severities else 0


def summary(findings: Iterable[Finding]) -> str:
    """``2 errors, 1 warning`` (or ``clean``)."""
    found = list(findings)
    parts = []
    for severity in ("error", "warning", "info"):
        n = sum(f.severity == severity for f in found)
        if n:
            parts.append(f"{n} {severity}{'s' if n != 1 else ''}")
    return ", ".join(parts) or "clean"
