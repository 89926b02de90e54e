"""Load and save formulations as YAML 1.2 or JSON, with errors that say where and how to fix."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from formulate.errors import FormulationError, LimitError, did_you_mean, raise_all
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

    from formulate.ir.yaml12 import ruamel_constructor

    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = ruamel_constructor()
    return yaml


def load_yaml_bounded(text: str, source: str = "<text>") -> Any:
    """YAML 1.2 text to plain data, within the limits of :mod:`formulate.ir.bounded`.

    Raises FormulationError for a limit or a bad number (naming ``source`` and the line), and
    ruamel's YAMLError for a syntax error.
    """
    from formulate.ir.bounded import check_text, depth_error
    from formulate.ir.yaml12 import fast_load

    try:
        check_text(text, source)
        done, data = fast_load(text, source)
        if done:
            return data
        return _yaml().load(text)
    except RecursionError:
        raise depth_error(source) from None
    except FormulationError as exc:
        if exc.where and source and not exc.where.startswith(source):
            raise type(exc)(exc.what, f"{source} {exc.where}", exc.fix) from None
        raise exc.at(source) from None


def parse_yaml_text(text: str, source: str = "<text>") -> Any:
    """Parse YAML 1.2 text; a syntax error becomes one FormulationError naming the line."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return load_yaml_bounded(text, source)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line_no = mark.line + 1 if mark is not None else 0
        lines = text.splitlines()
        line = lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        fix = "check the indentation and quoting of that line"
        text_key = _plain_text_key(line, mark.column if mark is not None else -1)
        quoted = quote_opened_lines(text)
        here = [q for q in quoted if q[0] == line_no]
        others = [q for q in quoted if q[0] != line_no]
        if here:
            fix = (f"a value that opens with a quote must be quoted whole: YAML ends the text at the closing quote "
                   f"and cannot read what follows it; write `{here[0][2]}`")
            if others:
                fix += "; fix every such line: " + _quote_list(others)
            fix += " (or reword so it does not start with a quote)"
            others = []
        elif text_key is not None:
            fix = (f"inside a flow mapping {{...}}, `[`, `]` and `,` are YAML syntax and split the plain text of "
                   f"`{text_key}`; quote the text (`{text_key}: \"...\"`) or write the item in block style")
        elif "{" in line and ("[" in line or "," in line.split("{", 1)[1]):
            fix = (f"an expression inside a flow mapping {{...}} breaks YAML ([ and , are syntax there); {_FLOW_FIX}, "
                   "e.g. `name:\\n  forall: p in P\\n  expr: x[p] <= 40`")
        if others:
            fix += "; also quote whole each value that opens with a quote and goes on after it: " + _quote_list(others)
        raise FormulationError(f"YAML error at line {line_no} `{line}`: {problem}", source, fix) from None
    except YAMLError as exc:
        raise FormulationError(f"YAML error: {' '.join(str(exc).split())}", source, "check the file's syntax") from None


def _split_text(data: dict[str, Any], key: Any) -> str | None:
    """`description: 10,000 yuan` as written, when a comma in a flow mapping's plain text made `key` a key."""
    text = str(key)
    if data.get(key) is not None or not (" " in text.strip() or text[:1].isdigit()):
        return None
    keys = list(data)
    at = keys.index(key)
    if at == 0:
        return None
    before = keys[at - 1]
    value = data[before]
    if isinstance(value, dict | list) or value is None:
        return None
    return f"{before}: {value},{key}"


_TEXT_KEYS = ("description", "name", "problem", "reading")
#: `- "x" means y` / `key: 'x' and y`: a scalar that opens with a quote and goes on after the closing one
_QUOTE_OPENED = re.compile(r"""^(\s*(?:-\s+)?(?:[\w.-]+:\s+)?)(["'])(?:(?!\2).)*\2(.*)$""")


def _quote_fix(line: str) -> str | None:
    """`- '"x" means y'` for a line whose value opens with a quote and goes on after it; None otherwise."""
    quoted = _QUOTE_OPENED.match(line)
    if quoted is None:
        return None
    head, quote, rest = quoted.group(1), quoted.group(2), quoted.group(3).strip()
    if not rest or rest.startswith(("#", ",", "]", "}", ":")) or (quote == "'" and rest.startswith("'")):
        return None  # a whole quoted value, a comment, a flow item, a quoted key or an escaped `''`
    body = line[len(head):].rstrip()
    if quote == '"' and "\\" in body:
        return None  # an escaped `\"` inside a double-quoted value
    if quote == "'" and '"' not in body and "\\" not in body:
        whole = f'"{body}"'  # `'x' means y` reads best in double quotes
    else:
        whole = "'" + body.replace("'", "''") + "'"
    return f"{head.strip()} {whole}" if head.strip() else whole


def _quote_list(lines: list[tuple[int, str, str]]) -> str:
    """`line 9: write `reading: '"more" is ...'``, for each line."""
    shown = "; ".join(f"line {number}: write `{fixed}`" for number, _, fixed in lines[:_QUOTE_LIST_MAX])
    more = len(lines) - _QUOTE_LIST_MAX
    return f"{shown}; and {more} more such lines" if more > 0 else shown


_QUOTE_LIST_MAX = 30


_BLOCK_SCALAR = re.compile(r"""(?:^|[:\-]\s)\s*[|>][-+0-9]*\s*(?:#.*)?$""")


def quote_opened_lines(text: str) -> list[tuple[int, str, str]]:
    """Every line (number, text, fixed text) whose value opens with a quote and goes on after the closing one.

    YAML reads only the quoted part and fails on the rest; scanning the whole text (outside block scalars)
    lets one repair message name every such line, not only the parser's first failure.
    """
    found = []
    block_indent: int | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        indent = len(raw) - len(raw.lstrip(" "))
        if block_indent is not None:
            if not raw.strip() or indent > block_indent:
                continue
            block_indent = None
        if _BLOCK_SCALAR.search(raw.rstrip()) and not raw.lstrip().startswith("#"):
            block_indent = indent
            continue
        fixed = _quote_fix(raw)
        if fixed is not None:
            found.append((number, raw.strip(), fixed))
    return found


def _plain_text_key(line: str, column: int) -> str | None:
    """The text key (`description`) whose unquoted value in a flow mapping holds the character YAML choked on."""
    if "{" not in line or column < 0:
        return None
    before = line[:column] if column <= len(line) else line
    found = None
    for word in _TEXT_KEYS:
        at = before.rfind(f"{word}:")
        if at >= 0 and (found is None or at > found[1]):
            found = (word, at)
    if found is None:
        return None
    value = before[found[1] + len(found[0]) + 1:].lstrip()
    if value.startswith(("'", '"')):
        return None
    later_key = any(f"{k}:" in value for k in ("expr", "forall", "when", "index", "values", "lower", "upper"))
    return None if later_key else found[0]


def _key_errors(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> list[FormulationError]:
    """One error per unknown key of ``data`` (with a did-you-mean), in file order."""
    errors = []
    for key in data:
        if key in allowed:
            continue
        split = _split_text(data, key)
        in_text = split is not None and split.split(":", 1)[0] in _TEXT_KEYS  # `description: a (b, c)` split too
        if split is not None and (in_text or not any(ch in str(key) for ch in "()[]<>=+*/")):
            errors.append(FormulationError(f"a comma inside `{{...}}` split `{split}` into keys", where,
                                           "quote the text (`\"...\"`) or write the item in block style"))
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
    elif isinstance(objective, list):
        for k, item in enumerate(objective):
            if isinstance(item, dict):
                errors.extend(_key_errors(item, OBJECTIVE_KEYS, f"objective {k + 1}"))
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
    own = [e for e in details if e.get("type") == "value_error"]  # our validators' messages say it best
    raise_all([FormulationError(f"`{'.'.join(str(p) for p in loc)}`: {str(err['msg']).removeprefix('Value error, ')}",
                                source, "see `formulate schema` for the allowed shapes")
               for err in own or details if (loc := _union_loc(err["loc"], data)) is not None])
    raise FormulationError("the formulation does not match the schema", source, "see `formulate schema`")


def _union_loc(loc: tuple, data: Any) -> tuple | None:
    """The error's location without pydantic's union branch name, or None for the branch not written.

    ``objective`` is one objective (a mapping) or a list of them: report only the shape the user wrote.
    """
    if len(loc) < 2 or loc[0] != "objective" or loc[1] not in ("Objective", "Objectives"):
        return loc
    written = data.get("objective") if isinstance(data, dict) else None
    branch = "Objectives" if isinstance(written, list) else "Objective"
    return (loc[0], *loc[2:]) if loc[1] == branch else None


def loads(text: str, source: str = "<text>") -> Formulation:
    """Parse a formulation from YAML or JSON text."""
    from formulate.ir.bounded import json_loads

    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json_loads(text, source)
        except json.JSONDecodeError:
            data = parse_yaml_text(text, source)
    else:
        data = parse_yaml_text(text, source)
    return formulation_from_data(data, source)


def load(path: str | Path) -> Formulation:
    """Load a formulation file (.yaml, .yml or .json); `file:` tables resolve relative to it."""
    import os
    import stat

    from formulate.ir.limits import current

    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FormulationError(f"file `{path}` does not exist", None, "check the path") from None
    except OSError as exc:
        raise FormulationError(f"cannot open `{str(path)[:200]}` ({os.strerror(exc.errno or 0).lower()})", None,
                               "check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise FormulationError(f"`{path}` is a directory, not a formulation file", None, "give a .yaml or .json file")
    if not stat.S_ISREG(info.st_mode):
        raise FormulationError(f"`{path}` is not a regular file (a pipe or a device)", None,
                               "give a .yaml or .json file")
    limit = current().max_document_chars
    if info.st_size > 4 * limit:  # UTF-8: at most 4 bytes a character
        raise LimitError(f"`{path}` is {info.st_size:,} bytes, over the limit of {limit:,} characters", None,
                         "put large tables in a `file:` (CSV or .npy), or raise FORMULATE_MAX_DOCUMENT_CHARS")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FormulationError(f"`{path}` is not UTF-8 text", None, "give a YAML or JSON formulation") from None
    except OSError as exc:
        raise FormulationError(f"cannot read `{path}` ({os.strerror(exc.errno or 0).lower()})", None,
                               "check the file's permissions") from None
    formulation = loads(text, str(path))
    return with_data_dir(formulation, path.parent)


def with_data_dir(formulation: Formulation, folder: str | Path | None) -> Formulation:
    """Allow `file:` tables from ``folder`` (and only there); None forbids them. Returns ``formulation``."""
    formulation._data_dir = str(Path(folder).resolve()) if folder is not None else None
    return formulation


def data_dir_of(formulation: Formulation) -> Path | None:
    """The folder `file:` tables of ``formulation`` may come from: its own, else the session's --data-dir."""
    own = formulation._data_dir
    if own is not None:
        return Path(own)
    return Path(_session_data_dir) if _session_data_dir is not None else None


_session_data_dir: str | None = None


def session_data_dir() -> str | None:
    """The folder of the innermost :func:`data_dir_scope` in force (None outside one)."""
    return _session_data_dir


@contextmanager
def data_dir_scope(folder: str | Path | None) -> Iterator[None]:
    """Inside the block, formulations not read from a file (a model's) may read `file:` tables from ``folder``.

    The CLI's ``--data-dir``; it holds for every thread (the eval runner's workers too).
    """
    global _session_data_dir
    previous = _session_data_dir
    _session_data_dir = str(Path(folder).resolve()) if folder is not None else None
    try:
        yield
    finally:
        _session_data_dir = previous


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
