"""Applying a reading's ``changes`` to a formulation: items merged, replaced, added or deleted by name.

The rule (the prompt's reference states the same, :data:`formulate.formulators.prompt.PATCH_RULE`):

- ``changes`` holds top-level sections; under ``sets``, ``parameters``, ``variables`` and ``constraints`` an
  item is named; ``null`` deletes the item of that name, a name not there is added as given;
- a mapping given for an existing mapping-shaped item merges into it field by field: the keys it names replace
  those keys, a key set to ``null`` is removed (takes its default), every other key is kept;
- anything else (a scalar parameter, a set's members, a one-line constraint string) replaces the item whole;
- a constraint patch also merges into a one-line row: ``demand: {expr: "x[p] >= 10"}`` keeps the loop of
  ``demand: x[p] <= 40 for p in P``; an ``expr`` with its own inline ``for`` brings its own loop, and giving
  ``expr`` drops ``either`` (and the reverse), since a row has one of them;
- ``objective`` is one item: a mapping merges into a single objective the same way
  (``{objective: {sense: minimize}}`` keeps ``expr``); a list replaces it; the objective cannot be deleted.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from formulate.errors import FormulationError
from formulate.ir.expr import MAX_LENGTH
from formulate.ir.model import Formulation

#: sections of named items
NAMED_SECTIONS = ("sets", "parameters", "variables", "constraints")


def apply_changes(formulation: Formulation, changes: dict[str, Any], where: str = "reading") -> Formulation:
    """The formulation with ``changes`` applied (see the module docstring for the rule)."""
    from formulate.ir.io import formulation_from_data

    data = copy.deepcopy(formulation.to_dict())
    for section, patch in changes.items():
        if section == "objective":
            data["objective"] = merged_objective(data.get("objective"), patch, where)
            continue
        items = dict(data.get(section) or {})
        for name, item in (patch or {}).items():
            name = str(name)
            if item is None:
                if name not in items:
                    raise FormulationError(f"deletes {section[:-1]} `{name}`, which does not exist", where,
                                           f"name an existing item of `{section}`")
                items.pop(name)
            elif section == "constraints":
                items[name] = merged_constraint(items.get(name), item)
            else:
                items[name] = merged_item(items.get(name), item)
        data[section] = items
    meta = dict(data.get("meta") or {})
    meta.pop("alternatives", None)
    data["meta"] = meta
    return formulation_from_data(data, where)


def merged_item(current: Any, item: Any) -> Any:
    """A mapping merged into the existing mapping (its keys replace those keys, ``null`` removes one); else ``item``."""
    if isinstance(current, dict) and isinstance(item, dict):
        return {k: v for k, v in {**current, **item}.items() if v is not None}
    return item


def merged_constraint(current: Any, item: Any) -> Any:
    """A constraint patch merged into the existing row (a string row is read in block form first)."""
    if current is None or not isinstance(item, dict):
        return item
    base = _block(current)
    patch = dict(item)
    if isinstance(patch.get("expr"), str) and "forall" not in patch:
        loop, body = split_inline(patch["expr"])
        if loop is not None:
            patch["forall"], patch["expr"] = loop, body
    if patch.get("expr") is not None and "either" not in patch:
        base.pop("either", None)
    if patch.get("either") is not None and "expr" not in patch:
        base.pop("expr", None)
    return merged_item(base, patch)


def merged_objective(current: Any, patch: Any, where: str) -> Any:
    """The objective after ``patch``: a mapping merges into a single objective, anything else replaces it."""
    if patch is None:
        raise FormulationError("deletes the objective", where, "give the reading's objective instead")
    if not isinstance(patch, dict):
        return patch
    if isinstance(current, dict):
        return merged_item(current, patch)
    if isinstance(current, list) and not (patch.get("sense") and patch.get("expr")):
        raise FormulationError("changes some keys of an objective that has several levels", where,
                               "give the whole objective: one `{sense, expr}` or the list of levels")
    return {k: v for k, v in patch.items() if v is not None}


def _block(row: Any) -> dict[str, Any]:
    """A constraint in block form: a string (or an ``expr`` with an inline loop) split into ``forall`` and ``expr``."""
    block = {"expr": row} if isinstance(row, str) else dict(row)
    if isinstance(block.get("expr"), str) and not block.get("forall"):
        loop, body = split_inline(block["expr"])
        if loop is not None:
            block["forall"], block["expr"] = loop, body
    return block


def split_inline(text: str) -> tuple[str | None, str]:
    """(``forall`` clause, comparison) of an inline row ``EXPR for i in I if c``; (None, text) for any other text.

    The parts keep their source text; text that does not parse is returned as is (the loader reports it).
    """
    if len(text) > MAX_LENGTH:
        return None, text
    source = "(" + " ".join(text.strip().splitlines()) + ")"
    try:
        tree = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, text
    if not isinstance(tree, ast.GeneratorExp) or not isinstance(tree.elt, ast.Compare):
        return None, text
    clauses = []
    for clause in tree.generators:
        target = _segment(source, clause.target)
        if isinstance(clause.target, ast.Tuple) and not target.startswith("("):
            target = f"({target})"
        conditions = "".join(f" if {_segment(source, c)}" for c in clause.ifs)
        clauses.append(f"{target} in {_segment(source, clause.iter)}{conditions}")
    return ", ".join(clauses), _segment(source, tree.elt)


def _segment(source: str, node: ast.AST) -> str:
    return ast.get_source_segment(source, node) or ast.unparse(node)


__all__ = ["NAMED_SECTIONS", "apply_changes", "merged_constraint", "merged_item", "merged_objective", "split_inline"]
