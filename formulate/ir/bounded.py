"""Bounds on YAML and JSON documents from anywhere (files, model replies): size, depth, aliases, numbers.

A billion-laughs document is small as text and as parsed objects (aliases share one object), but
every consumer that walks it as a tree (validation, dumping, the prompt) expands it. So alias
expansion is counted on the parser's event stream, as the nodes would be built, before anything is
constructed; nesting depth is bounded there too (parsers and validators recurse). The event scan
runs only for documents that use anchors or could be deeper than the limit (a cheap text bound),
so ordinary documents pay one regex search.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from formulate.errors import LimitError, NumberError
from formulate.ir.limits import current

_ANCHOR = re.compile(r"(?:^|[\s\[{,:\-?])&[^\s\[\]{},]")
#: the longest integer literal that can be a float (1.8e308 has 309 digits)
MAX_INT_DIGITS = 309


def check_text(text: str, source: str) -> None:
    """Refuse a document that is too big, too deep or expands too much through aliases."""
    lim = current()
    if len(text) > lim.max_document_chars:
        raise LimitError(f"the document has {len(text):,} characters, over the limit of {lim.max_document_chars:,}",
                         source, "put large tables in a `file:` (CSV or .npy), or raise FORMULATE_MAX_DOCUMENT_CHARS")
    flow = _flow_depth_bound(text)
    if flow > lim.max_depth:
        _scan_events(text, source)
        return
    indent = max(1, (lim.max_depth - flow - 2) // 2)
    if _ANCHOR.search(text) or re.search(rf"(?m)^[ \-?:]{{{indent},}}", text):
        _scan_events(text, source)


def _flow_depth_bound(text: str) -> int:
    """The deepest nesting of [ and { (brackets in strings counted too: an upper bound)."""
    if "[" not in text and "{" not in text:
        return 0
    import numpy as np

    data = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    step = ((data == 91) | (data == 123)).astype(np.int32) - ((data == 93) | (data == 125)).astype(np.int32)
    return int(np.cumsum(step).max(initial=0))


def depth_error(source: str) -> LimitError:
    limit = current().max_depth
    return LimitError(f"the document nests deeper than {limit} levels", source,
                      "flatten it (or raise FORMULATE_MAX_DEPTH)")


def _events(text: str) -> Any:
    try:
        import yaml

        if getattr(yaml, "__with_libyaml__", False):
            return yaml.parse(text, Loader=yaml.CSafeLoader), "yaml"
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        pass
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).parse(text), "ruamel"


def _scan_events(text: str, source: str) -> None:
    """Walk the parse events: depth, recursive aliases and the nodes aliases add, counted as expanded."""
    lim = current()
    events, _ = _events(text)
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []  # [anchor, expanded size so far]
    open_anchors: set[str] = set()
    added = 0

    def count(size: int) -> None:
        if stack:
            stack[-1][1] += size

    try:
        for event in events:
            kind = type(event).__name__
            anchor = getattr(event, "anchor", None)
            if kind in ("SequenceStartEvent", "MappingStartEvent"):
                stack.append([anchor, 1])
                if anchor:
                    open_anchors.add(anchor)
                if len(stack) > lim.max_depth:
                    raise depth_error(source)
            elif kind in ("SequenceEndEvent", "MappingEndEvent"):
                name, size = stack.pop()
                if name:
                    sizes[name] = size
                    open_anchors.discard(name)
                count(size)
            elif kind == "ScalarEvent":
                if anchor:
                    sizes[anchor] = 1
                count(1)
            elif kind == "AliasEvent":
                if anchor in open_anchors:
                    raise LimitError(f"alias `*{anchor}` refers to a node that contains it (a recursive alias)",
                                     source, "write the data out instead of aliasing it")
                size = sizes.get(anchor, 1)
                added += size
                if added > lim.max_alias_nodes:
                    raise LimitError(f"aliases (`*name`) expand the document by more than {lim.max_alias_nodes:,} "
                                     "nodes", source, "write the data out instead of aliasing it "
                                     "(or raise FORMULATE_MAX_ALIAS_NODES)")
                count(size)
    except (LimitError, RecursionError) as exc:
        if isinstance(exc, RecursionError):
            raise depth_error(source) from None
        raise
    except Exception as exc:  # noqa: BLE001 - a syntax error: the loader reports it with its line
        if "nesting depth" in str(exc):  # libyaml's own limit (1000 levels), met before our count
            raise depth_error(source) from None
        return


def bounded_int(text: str, source: str | None = None) -> None:
    """Refuse an integer literal too long to be a number (it would overflow a float, or int() itself)."""
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_INT_DIGITS:
        raise NumberError(f"the integer `{text[:12]}...` has {digits} digits, too large for a number "
                          f"(the largest is about {sys.float_info.max:.3g})", source, "write a smaller number")


def bounded_float(text: str, value: float, source: str | None = None) -> float:
    """A float literal that overflowed to infinity (`1e309`) is an error; `.inf` and `inf` are not."""
    if value in (float("inf"), float("-inf")) and "inf" not in text.lower():
        raise NumberError(f"the number `{text}` is too large for a float (it would be infinite)", source,
                          f"write a number below {sys.float_info.max:.3g}, or `.inf` if infinity is meant")
    return value


def json_loads(text: str, source: str = "<text>") -> Any:
    """json.loads with the same bounds as YAML: size, depth, and no overflowing numbers."""
    import json

    check_text(text, source)

    def parse_float(s: str) -> float:
        return bounded_float(s, float(s), source)

    def parse_int(s: str) -> int:
        bounded_int(s, source)
        return int(s)

    try:
        return json.loads(text, parse_float=parse_float, parse_int=parse_int)
    except RecursionError:
        raise depth_error(source) from None
