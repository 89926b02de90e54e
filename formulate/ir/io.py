"""Load and save formulations as YAML 1.2 or JSON, with errors that say where and how to fix."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from formulate.errors import FormulationError, did_you_mean, raise_all
from formulate.ir.model import (
    CONSTRAINT_KEYS,
    OBJECTIVE_KEYS,
    PARAMETER_KEYS,
    TOP_LEVEL_KEYS,
    VARIABLE_KEYS,
    Formulation,
)

_FLOW_FIX = "write the constraint in block style or quote the expression"


def _yaml():
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


def parse_yaml_text(text: str, source: str = "<text>") -> Any:
    """Parse YAML 1.2 text; a syntax error becomes one FormulationError naming the line."""
    from formulate.ir.yaml12 import fast_load

    done, data = fast_load(text)
    if done:
        return data
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line_no = mark.line + 1 if mark is not None else 0
        lines = text.splitlines()
        line = lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        fix = "check the indentation and quoting of that line"
        if "{" in line and ("[" in line or "," in line.split("{", 1)[1]):
            fix = (f"an expression inside a flow mapping {{...}} breaks YAML ([ and , are syntax there); {_FLOW_FIX}, "
                   "e.g. `name:\\n  forall: p in P\\n  expr: x[p] <= 40`")
        raise FormulationError(f"YAML error at line {line_no} `{line}`: {problem}", source, fix) from None
    except YAMLError as exc:
        raise FormulationError(f"YAML error: {exc}", source, "check the file's syntax") from None


def _key_errors(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> list[FormulationError]:
    """One error per unknown key of ``data`` (with a did-you-mean), in file order."""
    errors = []
    for key in data:
        if key in allowed:
            continue
        if any(ch in str(key) for ch in "()[]<>=+*/"):
            errors.append(FormulationError(f"unknown key `{key}`: a comma inside an expression in a flow mapping "
                                           "{...} split it", where, _FLOW_FIX))
            continue
        hint = did_you_mean(str(key), allowed)
        fix = f"{hint} " if hint else ""
        errors.append(FormulationError(f"unknown key `{key}`", where, f"{fix}allowed: {', '.join(allowed)}".strip()))
    return errors


def structure_errors(data: Any, source: str = "<text>") -> list[FormulationError]:
    """Every unknown key and misshapen section at any level, all at once (before pydantic sees the data)."""
    if not isinstance(data, dict):
        return [FormulationError(
            f"a formulation must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}; got {type(data).__name__}",
            source, "start the file with `name:`, `sets:`, `parameters:`, `variables:`, `objective:`, `constraints:`")]
    errors = _key_errors(data, TOP_LEVEL_KEYS, source)
    sections = {"parameters": ("parameter", PARAMETER_KEYS), "variables": ("variable", VARIABLE_KEYS),
                "constraints": ("constraint", CONSTRAINT_KEYS)}
    for section, (kind, allowed) in sections.items():
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, dict):
            errors.append(FormulationError(f"`{section}` must be a mapping of names to items, got "
                                           f"{type(items).__name__}", source,
                                           f"write `{section}:` followed by `name: ...` lines"))
            continue
        for name, item in items.items():
            if isinstance(item, dict):
                errors.extend(_key_errors(item, allowed, f"{kind} `{name}`"))
    objective = data.get("objective")
    if isinstance(objective, dict):
        errors.extend(_key_errors(objective, OBJECTIVE_KEYS, "objective"))
    return errors


def check_structure(data: Any, source: str = "<text>") -> None:
    """Raise every structural error of ``data`` at once (one FormulationError, or FormulationErrors)."""
    raise_all(structure_errors(data, source))


def formulation_from_data(data: Any, source: str = "<text>") -> Formulation:
    """Validate plain data into a Formulation; every schema error is reported, each on one line."""
    check_structure(data, source)
    try:
        return Formulation.model_validate(data)
    except ValidationError as exc:
        details = exc.errors()
    raise_all([FormulationError(f"`{'.'.join(str(p) for p in err['loc'])}`: {err['msg']}", source,
                                "see `formulate schema` for the allowed shapes") for err in details])
    raise FormulationError("the formulation does not match the schema", source, "see `formulate schema`")


def loads(text: str, source: str = "<text>") -> Formulation:
    """Parse a formulation from YAML or JSON text."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = parse_yaml_text(text, source)
    else:
        data = parse_yaml_text(text, source)
    return formulation_from_data(data, source)


def load(path: str | Path) -> Formulation:
    """Load a formulation file (.yaml, .yml or .json); `file:` tables resolve relative to it."""
    path = Path(path)
    if not path.exists():
        raise FormulationError(f"file `{path}` does not exist", None, "check the path")
    if path.is_dir():
        raise FormulationError(f"`{path}` is a directory, not a formulation file", None, "give a .yaml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FormulationError(f"`{path}` is not UTF-8 text", None, "give a YAML or JSON formulation") from None
    formulation = loads(text, str(path))
    formulation.meta.setdefault("_base_dir", str(path.parent.resolve()))
    return formulation


def _inline(value: Any) -> bool:
    """Numbers and short strings go inline in a list; sentences get a line each."""
    return not isinstance(value, dict | list) and len(str(value)) <= 40


def _styled(data: Any) -> Any:
    """Block mappings, flow lists of plain scalars, literal blocks for multi-line strings."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(data, dict):
        out = CommentedMap()
        for k, v in data.items():
            out[k] = _styled(v)
        return out
    if isinstance(data, list):
        seq = CommentedSeq(_styled(v) for v in data)
        if all(_inline(v) or (isinstance(v, list) and all(_inline(w) for w in v)) for v in data):
            seq.fa.set_flow_style()
        return seq
    if isinstance(data, str) and "\n" in data:
        return LiteralScalarString(data if data.endswith("\n") else data + "\n")
    return data


def dump_data(data: Any) -> str:
    """Plain data as YAML 1.2 text: block style, keys in insertion order, short lists inline."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(_styled(data), buffer)
    return buffer.getvalue()


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop private meta keys and empty sections."""
    data["meta"] = {k: v for k, v in data.get("meta", {}).items() if not str(k).startswith("_")}
    return {k: v for k, v in data.items() if v not in ({}, [], None)}


def to_yaml(formulation: Formulation) -> str:
    """The formulation as YAML text."""
    return dump_data(_clean(formulation.to_dict()))


def to_json(formulation: Formulation, indent: int | None = 2) -> str:
    """The formulation as JSON text."""
    return json.dumps(_clean(formulation.to_dict()), indent=indent)


def save(formulation: Formulation, path: str | Path) -> None:
    """Write YAML or JSON by the file's extension."""
    path = Path(path)
    text = to_json(formulation) if path.suffix == ".json" else to_yaml(formulation)
    path.write_text(text, encoding="utf-8")
