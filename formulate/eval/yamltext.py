"""A fast YAML 1.2 emitter for plain data (dicts, lists, strings, numbers), for the evaluation log.

The pure-Python round-trip dumper costs milliseconds per formulation, most of the harness's own time;
this writes the same block style (leaf collections in flow style, multi-line strings as literal blocks)
and quotes every string that a YAML 1.2 or 1.1 reader could take for something else. Tests check that
it reads back equal through the project's loader.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_RESERVED = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|"
    r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|"
    r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|=|<<)$")
_BLOCK_SAFE = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n\r\t]*$")
_FLOW_UNSAFE = re.compile(r"[,\[\]{}]")
_LEAF_WIDTH = 100


def _plain_ok(text: str, flow: bool) -> bool:
    if not text or text != text.strip() or not _BLOCK_SAFE.match(text) or _RESERVED.match(text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    return not (flow and _FLOW_UNSAFE.search(text))


def scalar(value: Any, flow: bool = False) -> str:
    """One scalar as YAML text (JSON-style double quotes when a plain scalar would be misread)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    text = str(value)
    return text if _plain_ok(text, flow) else json.dumps(text, ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _flow(value: Any) -> str | None:
    """A leaf collection in flow style, or None when it is nested or too wide."""
    if isinstance(value, dict):
        if not all(_is_scalar(v) for v in value.values()):
            return None
        text = "{" + ", ".join(f"{scalar(k, True)}: {scalar(v, True)}" for k, v in value.items()) + "}"
    else:
        if not all(_is_scalar(v) for v in value):
            return None
        text = "[" + ", ".join(scalar(v, True) for v in value) + "]"
    return text if len(text) <= _LEAF_WIDTH or not value else None


def _literal(text: str, indent: int) -> str | None:
    """A multi-line string as a literal block, or None when quoting is safer."""
    if "\r" in text or "\t" in text or text.endswith("\n\n") or text.startswith((" ", "\n")):
        return None
    pad = " " * indent
    chomp = "" if text.endswith("\n") else "-"
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    return f"|{chomp}\n" + "\n".join(pad + line if line else "" for line in lines)


def _value(value: Any, indent: int) -> str:
    """Text after ``key:`` (starting with a space or a newline)."""
    if isinstance(value, dict | list | tuple):
        if not value:
            return " {}" if isinstance(value, dict) else " []"
        flow = _flow(value)
        if flow is not None:
            return " " + flow
        return "\n" + _block(value, indent + 2)
    if isinstance(value, str) and "\n" in value:
        literal = _literal(value, indent + 2)
        if literal is not None:
            return " " + literal
    return " " + scalar(value)


def _block(data: Any, indent: int) -> str:
    pad = " " * indent
    lines = []
    if isinstance(data, dict):
        for key, value in data.items():
            lines.append(f"{pad}{scalar(key)}:{_value(value, indent)}")
    else:
        for item in data:
            if isinstance(item, dict) and item and _flow(item) is None:
                inner = _block(item, indent + 2)
                lines.append(f"{pad}- {inner.lstrip()}")
            else:
                lines.append(f"{pad}-{_value(item, indent)}")
    return "\n".join(lines)


def dump_yaml(data: dict[str, Any]) -> str:
    """A mapping as block-style YAML text ending in a newline."""
    return _block(data, 0) + "\n" if data else "{}\n"


__all__ = ["dump_yaml", "scalar"]
