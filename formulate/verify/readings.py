"""Readings: the model's alternative readings of the text, each solved beside the main formulation.

``meta.alternatives`` entries are plain sentences (reported, not solved) or patches::

    {reading: "fixed costs are paid every week", changes: {constraints: {fixed_if_made: null},
                                                           objective: {sense: minimize, expr: ...}}}

``changes`` holds top-level sections, applied by :func:`formulate.verify.patch.apply_changes` (items by name;
a mapping merges field by field into the existing item, ``null`` deletes). A ``changes`` given as a JSON/YAML
string is read first (structured output sends it that way).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from formulate.errors import FormulateError, FormulationError
from formulate.ir.model import Formulation
from formulate.verify.patch import apply_changes

PATCH_SECTIONS = ("sets", "parameters", "variables", "constraints", "objective")
#: objectives closer than this (relative above 1) do not differ
SAME = 1e-4


@dataclass
class Reading:
    """One alternative reading: what it says, and (when it is a patch) how its solve ended."""

    reading: str
    status: str | None = None
    objective: float | None = None
    differs: bool | None = None  # from the main answer (status or objective); None when not solved
    solved: bool = False
    error: str | None = None
    changes: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"reading": self.reading, "status": self.status, "objective": self.objective,
                "differs": self.differs, "solved": self.solved, "error": self.error, "changes": self.changes}


def alternatives(formulation: Formulation) -> list[Any]:
    raw = formulation.meta.get("alternatives") if isinstance(formulation.meta, dict) else None
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list) else [raw]


def read_alternative(entry: Any, position: int) -> tuple[str, dict[str, Any] | None]:
    """(reading text, changes or None) of one ``meta.alternatives`` entry; FormulationError when malformed."""
    where = f"meta.alternatives[{position}]"
    if isinstance(entry, str):
        return entry, None
    if not isinstance(entry, dict):
        raise FormulationError(f"is a {type(entry).__name__}", where,
                               "write a sentence, or `{reading: \"...\", changes: {...}}`")
    unknown = set(entry) - {"reading", "changes"}
    if unknown:
        raise FormulationError(f"has unknown key `{sorted(unknown)[0]}`", where,
                               "an alternative has only `reading` (a sentence) and `changes` (a patch)")
    reading = str(entry.get("reading") or "").strip()
    if not reading:
        raise FormulationError("has no `reading`", where, "say in one sentence what the reading assumes")
    changes = entry.get("changes")
    if changes is None:
        return reading, None
    if isinstance(changes, str):
        changes = _parse_changes(changes, where)
    if not isinstance(changes, dict):
        raise FormulationError("`changes` is not a mapping", where,
                               f"write `changes` as a mapping of sections ({', '.join(PATCH_SECTIONS)})")
    bad = [k for k in changes if k not in PATCH_SECTIONS]
    if bad:
        raise FormulationError(f"`changes` has the key `{bad[0]}`", where,
                               f"`changes` holds only the sections {', '.join(PATCH_SECTIONS)}")
    for section in PATCH_SECTIONS[:4]:
        if section in changes and changes[section] is not None and not isinstance(changes[section], dict):
            raise FormulationError(f"`changes.{section}` is not a mapping of names", where,
                                   f"write `{section}: {{name: new item, other: null}}`")
    return reading, changes


def _parse_changes(text: str, where: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    from formulate.ir.io import parse_yaml_text

    return parse_yaml_text(text, f"{where}.changes")


def solve_readings(formulation: Formulation, main: Any = None, *, solver: str | None = None,
                   time_limit: float | None = None, mip_gap: float | None = None) -> list[Reading]:
    """Solve every patch reading of ``formulation`` (sentences are reported, not solved).

    ``main`` is the main Solution (for ``differs``); a reading that fails to load or solve carries the error.
    """
    from formulate.api import solve

    out: list[Reading] = []
    for position, entry in enumerate(alternatives(formulation)):
        try:
            reading, changes = read_alternative(entry, position)
        except FormulationError as exc:
            text = entry.get("reading") if isinstance(entry, dict) else str(entry)
            out.append(Reading(str(text or f"alternative {position + 1}"), error=str(exc)))
            continue
        if changes is None:
            out.append(Reading(reading))
            continue
        item = Reading(reading, changes=changes)
        try:
            patched = apply_changes(formulation, changes, f"meta.alternatives[{position}]")
            solution = solve(patched, solver=solver, time_limit=time_limit, mip_gap=mip_gap)
        except FormulateError as exc:
            item.error = str(exc)
            out.append(item)
            continue
        item.solved = True
        item.status = solution.status
        item.objective = solution.objective if solution.has_solution else None
        item.differs = _differs(item, main)
        out.append(item)
    return out


def _differs(item: Reading, main: Any) -> bool | None:
    if main is None:
        return None
    if item.status != main.status:
        return True
    a, b = item.objective, main.objective if main.has_solution else None
    if a is None or b is None:
        return (a is None) != (b is None)
    if not (math.isfinite(a) and math.isfinite(b)):
        return a != b
    return abs(a - b) > SAME * max(1.0, abs(b))


__all__ = ["PATCH_SECTIONS", "Reading", "alternatives", "apply_changes", "read_alternative", "solve_readings"]
