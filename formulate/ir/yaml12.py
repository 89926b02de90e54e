"""A fast YAML 1.2 (core schema) loader on libyaml, checked against ruamel (the reference).

ruamel's pure-Python loader reads about 30k numbers a second; libyaml through PyYAML is an order of
magnitude faster, but PyYAML resolves scalars by YAML 1.1 rules (`NO` -> False, `2:00` -> 120, `08` ->
a string). Here PyYAML's C parser is combined with the YAML 1.2 core schema's resolvers and
constructors. Anything unusual (duplicate keys, tags, merge keys, errors) returns None so that the
caller parses with ruamel and reports its errors.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from functools import lru_cache
from typing import Any

from formulate.errors import FormulationError
from formulate.ir.bounded import bounded_float, bounded_int, depth_error

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|"
                    r"\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
#: scalars ruamel reads beyond the core schema (1_000 as an int, dates): left to ruamel
_RUAMEL_EXTRAS = re.compile(r"\d_\d|\d{4}-\d{1,2}-\d{1,2}")


class _Unsupported(Exception):
    """A construct the fast path leaves to ruamel."""


def _line(node: Any) -> str | None:
    mark = getattr(node, "start_mark", None)
    return f"line {mark.line + 1}" if mark is not None else None


def unhashable_key(key: Any, where: str | None) -> FormulationError:
    kind = "list" if isinstance(key, list | tuple) else "mapping" if isinstance(key, dict) else type(key).__name__
    return FormulationError(f"a mapping key is a {kind}, not a name", where,
                            "keys are names or numbers; quote a key that looks like `[a, b]` or `{...}`")


@lru_cache(maxsize=1)
def ruamel_constructor() -> Any:
    """ruamel's safe constructor with the same number and key checks as the fast path."""
    from ruamel.yaml.constructor import ConstructorError, SafeConstructor

    class BoundedConstructor(SafeConstructor):
        """Refuses overflowing numbers and list/mapping keys with one clear line."""

        def construct_yaml_int(self, node: Any) -> int:
            bounded_int(str(node.value), _line(node))
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node: Any) -> float:
            value = super().construct_yaml_float(node)
            return bounded_float(str(node.value), value, _line(node))

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_mapping(node, deep=deep)
            except ConstructorError as exc:
                if "unhashable" in str(exc) or "hashable" in str(exc.problem or ""):
                    raise unhashable_key([], _line(node)) from None
                raise

    BoundedConstructor.add_constructor("tag:yaml.org,2002:int", BoundedConstructor.construct_yaml_int)
    BoundedConstructor.add_constructor("tag:yaml.org,2002:float", BoundedConstructor.construct_yaml_float)
    return BoundedConstructor


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
        bounded_int(text, _line(node))
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
        return bounded_float(text, float(text), _line(node))

    def construct_bool(loader: Any, node: Any) -> bool:
        return loader.construct_scalar(node).lower() == "true"

    def construct_mapping(loader: Any, node: Any) -> dict:
        out: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Unsupported("merge key")
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable) or isinstance(key, tuple):
                raise unhashable_key(key, _line(key_node))
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


def fast_load(text: str, source: str = "<yaml>") -> tuple[bool, Any]:
    """(True, data) when the fast path read ``text``; (False, None) to fall back to ruamel."""
    loader = _loader()
    if loader is None or _RUAMEL_EXTRAS.search(text):
        return False, None
    import yaml

    try:
        return True, yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader subclass
    except RecursionError:
        raise depth_error(source) from None
    except (_Unsupported, yaml.YAMLError, ValueError):
        return False, None
