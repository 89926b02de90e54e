"""A fast YAML 1.2 (core schema) loader on libyaml, checked against ruamel (the reference).

ruamel's pure-Python loader reads about 30k numbers a second; libyaml through PyYAML is an order of
magnitude faster, but PyYAML resolves scalars by YAML 1.1 rules (`NO` -> False, `2:00` -> 120, `08` ->
a string). Here PyYAML's C parser is combined with the YAML 1.2 core schema's resolvers and
constructors. Anything unusual (duplicate keys, tags, merge keys, errors) returns None so that the
caller parses with ruamel and reports its errors.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|"
                    r"\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
#: scalars ruamel reads beyond the core schema (1_000 as an int, dates): left to ruamel
_RUAMEL_EXTRAS = re.compile(r"\d_\d|\d{4}-\d{1,2}-\d{1,2}")


class _Unsupported(Exception):
    """A construct the fast path leaves to ruamel."""


@lru_cache(maxsize=1)
def _loader() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        return None
    if not getattr(yaml, "__with_libyaml__", False):
        return None

    class Yaml12Loader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        """libyaml parser, YAML 1.2 core-schema scalars."""

    Yaml12Loader.yaml_implicit_resolvers = {}
    Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
    Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
    Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
    Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])

    def construct_int(loader: Any, node: Any) -> int:
        text = loader.construct_scalar(node)
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)

    def construct_float(loader: Any, node: Any) -> float:
        text = loader.construct_scalar(node).lower()
        if text.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_bool(loader: Any, node: Any) -> bool:
        return loader.construct_scalar(node).lower() == "true"

    def construct_mapping(loader: Any, node: Any) -> dict:
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unsupported("merge key")
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise _Unsupported("duplicate key")
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    def unsupported(loader: Any, node: Any) -> Any:
        raise _Unsupported(node.tag)

    Yaml12Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Yaml12Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    Yaml12Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    for tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:set",
                "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"):
        Yaml12Loader.add_constructor(tag, unsupported)
    Yaml12Loader.add_constructor(None, unsupported)
    return Yaml12Loader


def fast_load(text: str) -> tuple[bool, Any]:
    """(True, data) when the fast path read ``text``; (False, None) to fall back to ruamel."""
    loader = _loader()
    if loader is None or _RUAMEL_EXTRAS.search(text):
        return False, None
    import yaml

    try:
        return True, yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader subclass
    except (_Unsupported, yaml.YAMLError, ValueError, RecursionError):
        return False, None
