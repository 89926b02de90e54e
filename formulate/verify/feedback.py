"""The message that carries findings back to the model: each finding quoted, with the text span it concerns."""

from __future__ import annotations

from collections.abc import Sequence

from formulate.verify.describe import quote
from formulate.verify.findings import Finding


def _item(number: int, finding: Finding) -> str:
    body = finding.for_model.strip()
    if finding.span and finding.span not in body:
        body += "\n" + quote(finding.span)
    body = body.replace("\n", "\n   ")
    return f"{number}. [{finding.kind}] {body}"


def feedback_message(findings: Sequence[Finding], *, mode: str = "ir", structured: bool = False) -> str:
    """Errors first (to fix), then warnings (to check); the answer format last. Info findings are not sent."""
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    parts: list[str] = []
    number = 0
    head = ("I ran your script and checked what it printed." if mode == "code" else
            "I solved your formulation and checked the result against the problem text.")
    parts.append(head)
    if errors:
        parts.append(f"{'Errors' if len(errors) > 1 else 'Error'} to fix:")
        for finding in errors:
            number += 1
            parts.append(_item(number, finding))
    if warnings:
        parts.append(f"{'Warnings' if len(warnings) > 1 else 'Warning'} to check (change the formulation only where "
                     "the text supports it):" if mode != "code" else "To check:")
        for finding in warnings:
            number += 1
            parts.append(_item(number, finding))
    if mode == "code":
        parts.append("Reply with the complete corrected script in one ```python block; it must print "
                     "`Optimal objective value: <number>`.")
    else:
        fmt = "as one JSON object matching the response schema" if structured else \
            "as ONE YAML document in a single ```yaml block"
        keep = (" If a warning does not apply, keep that part as it is and say why in `meta.assumptions`."
                if warnings else "")
        parts.append(f"Answer again with the complete corrected formulation {fmt}.{keep} Keep `meta.alternatives` "
                     "up to date (each reading that would change the answer as `{reading: ..., changes: {...}}`).")
    return "\n\n".join(parts)
