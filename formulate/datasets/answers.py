"""Benchmark labels -> a number or an expected status, keeping the raw value beside the parsed one.

Labels come as numbers, numeric strings (``"8350"``, ``"1,234.5"``, ``"$1,200"``, ``"35 dollars"``),
infeasibility markers (``"No Best Solution"``, ``-9999``, ``"infeasible"``), statuses
(``{"status": "optimal", "obj": 537}``) or maps of named results (OptiBench).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

#: numeric labels some sources use to mean "infeasible" (MAMO, SIRL)
INFEASIBLE_NUMBERS = (-9999.0, -99999.0)
_INFEASIBLE_TEXT = re.compile(
    r"^\s*(?:no\s+(?:best|feasible|optimal)\s+solution(?:\s+found)?|infeasible|not\s+feasible|"
    r"no\s+solution|(?:the\s+)?problem\s+is\s+infeasible)\s*\.?\s*$", re.I)
_NO_LABEL = re.compile(r"^\s*(?:none|null|nan|n/?a|-|\?)\s*$", re.I)
_UNBOUNDED_TEXT = re.compile(r"^\s*(?:unbounded|the\s+problem\s+is\s+unbounded|infinite|inf|-inf)\s*\.?\s*$", re.I)
_NUMBER = re.compile(r"[-+−]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_DECORATION = re.compile(r"^[\s$€£¥~≈=:]*|[\s.]*$")
_UNIT_TAIL = re.compile(r"^[\s%]*(?:[a-zA-Z][a-zA-Z .$/-]{0,30})?$")
_OBJECTIVE_KEY = re.compile(
    r"\b(?:objective|optimal|total|minimum|maximum|minimal|maximal|minimi[sz]ed|maximi[sz]ed|least|most|"
    r"lowest|highest|max|min|profit|cost|revenue)\b", re.I)

STATUSES = ("optimal", "infeasible", "unbounded")


@dataclass(frozen=True)
class ParsedAnswer:
    """A label: ``value`` (None when there is no number), ``status`` (optimal, infeasible, unbounded or
    None when unreadable) and ``note`` saying how it was read."""

    value: float | None
    status: str | None
    note: str = ""


def _number(text: str) -> float | None:
    """The single number in ``text`` (commas, currency signs and a short unit tail allowed), or None."""
    core = _DECORATION.sub("", text)
    match = _NUMBER.match(core)
    if not match:
        return None
    rest = core[match.end():]
    if not _UNIT_TAIL.match(rest):
        return None
    digits = match.group().replace("−", "-")
    if "," in digits and not re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][-+]?\d+)?", digits):
        return None  # '1,2' is a list, not a thousands separator
    try:
        return float(digits.replace(",", ""))
    except ValueError:
        return None


def _from_number(value: float) -> ParsedAnswer:
    if math.isnan(value):
        return ParsedAnswer(None, None, "NaN label")
    if math.isinf(value):
        return ParsedAnswer(None, "unbounded", "infinite label")
    if value in INFEASIBLE_NUMBERS:
        return ParsedAnswer(None, "infeasible", f"{value:g} marks infeasible")
    return ParsedAnswer(float(value), "optimal")


def _from_mapping(raw: dict[str, Any]) -> ParsedAnswer:
    lowered = {str(k).lower(): v for k, v in raw.items()}
    if "status" in lowered:
        status = str(lowered["status"]).strip().lower()
        obj = next((lowered[k] for k in ("obj", "objective", "objective_value", "value") if k in lowered), None)
        if status == "optimal":
            parsed = parse_answer(obj)
            return ParsedAnswer(parsed.value, parsed.status, parsed.note or "status optimal")
        for known in ("infeasible", "unbounded"):
            if known in status:
                return ParsedAnswer(None, "infeasible_or_unbounded" if "or" in status else known, f"status {status}")
        return ParsedAnswer(None, None, f"unknown status `{status}`")
    if not raw:
        return ParsedAnswer(None, None, "empty result map")
    keys = list(raw)
    chosen = next((k for k in reversed(keys) if _OBJECTIVE_KEY.search(str(k))), keys[-1])
    parsed = parse_answer(raw[chosen])
    return ParsedAnswer(parsed.value, parsed.status, f"from result `{chosen}`")


def parse_answer(raw: Any) -> ParsedAnswer:
    """Read a label; never raises. Unreadable labels give ``ParsedAnswer(None, None, note)``."""
    if raw is None:
        return ParsedAnswer(None, None, "no label")
    if isinstance(raw, bool):
        return ParsedAnswer(None, None, "boolean label")
    if isinstance(raw, int | float):
        return _from_number(float(raw))
    if isinstance(raw, dict):
        return _from_mapping(raw)
    if isinstance(raw, list | tuple):
        if len(raw) == 1:
            return parse_answer(raw[0])
        return ParsedAnswer(None, None, f"{len(raw)} values in one label")
    text = str(raw).strip()
    if not text:
        return ParsedAnswer(None, None, "empty label")
    if _NO_LABEL.match(text):
        return ParsedAnswer(None, None, f"'{text}' is no label")
    if _INFEASIBLE_TEXT.match(text):
        return ParsedAnswer(None, "infeasible", f"'{text}' marks infeasible")
    if _UNBOUNDED_TEXT.match(text):
        return ParsedAnswer(None, "unbounded", f"'{text}' marks unbounded")
    value = _number(text)
    if value is None:
        return ParsedAnswer(None, None, f"no single number in '{text[:40]}'")
    return _from_number(value)


def label_decimals(raw: Any) -> int | None:
    """Decimals written in a numeric label (``"8350"`` -> 0, ``"12.50"`` -> 2); None if not numeric."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return 0
    if isinstance(raw, float):
        text = repr(raw)
        if "e" in text or "E" in text:
            return None
        decimals = len(text.split(".")[1]) if "." in text else 0
        return 0 if text.endswith(".0") else decimals
    if isinstance(raw, str):
        match = _NUMBER.search(raw)
        if not match:
            return None
        digits = match.group()
        if "e" in digits.lower():
            return None
        return len(digits.split(".")[1]) if "." in digits else 0
    return None


__all__ = ["INFEASIBLE_NUMBERS", "ParsedAnswer", "STATUSES", "label_decimals", "parse_answer"]
