"""Rich output of the verifier for the command line: each round as it finishes, findings, readings, the vote."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from formulate.verify.findings import Finding, summary

_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.10g}"


def print_round(console: Any, result: Any, samples: int = 1) -> None:
    """``round 2: optimal, objective 1400 (clean)`` and one line per finding."""
    who = f"sample {result.sample + 1} " if samples > 1 else ""
    if result.stage == "ok" or result.code is not None:
        state = f"{result.status or result.stage}"
        if result.objective is not None:
            state += f", objective {_num(result.objective)}"
    else:
        state = result.stage.replace("_", " ")
    console.print(f"[bold]{who}round {result.round}[/bold]: {_esc(state)} ({summary(result.findings)})",
                  highlight=False, soft_wrap=True)
    print_findings(console, result.findings, indent="  ")
    if result.feedback:
        console.print("  [dim]-> sent back to the model[/dim]", highlight=False, soft_wrap=True)


def print_findings(console: Any, findings: Sequence[Finding], indent: str = "", for_model: bool = False) -> None:
    for f in findings:
        style = _STYLE.get(f.severity, "white")
        body = f.for_model if for_model else f.for_person
        console.print(f"{indent}[{style}]{f.severity}[/{style}] {f.kind}: {_esc(body)}", highlight=False, soft_wrap=True)


def print_readings(console: Any, readings: Sequence[Any]) -> None:
    """``other readings:`` with each reading's objective (or why it was not solved)."""
    if not readings:
        return
    console.print("other readings:", highlight=False, soft_wrap=True)
    for r in readings:
        if r.error:
            outcome = f"could not be solved: {r.error}"
        elif not r.solved:
            outcome = "not solved (a sentence, no changes)"
        else:
            outcome = f"{r.status}, objective {_num(r.objective)}" + (" (differs)" if r.differs else " (same)")
        console.print(f"  - {_esc(r.reading)}: {_esc(outcome)}", highlight=False, soft_wrap=True)


def print_vote(console: Any, vote: dict[str, Any] | None) -> None:
    if not vote:
        return
    groups = ", ".join(f"{_num(g['objective']) if g['objective'] is not None else g['status']} x{g['count']}"
                       for g in vote["groups"])
    console.print(f"vote: {vote['agree']} of {vote['samples']} samples agree ({groups}; rule {vote['rule']})",
                  highlight=False, soft_wrap=True)
