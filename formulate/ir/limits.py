"""Resource limits for untrusted input: sizes are checked before anything is allocated.

Every limit has a default sized for real models and can be changed with an environment variable
(read when formulate is imported) or at run time, e.g. ``with limits(max_elements=10**8): ...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from formulate.errors import LimitError


@dataclass(frozen=True)
class Limits:
    """The limits in force; the environment variable of each field is ``FORMULATE_`` + its name in capitals."""

    #: members of a set, entries of a table or variable, rows of a generator, terms of a product
    max_elements: int = 20_000_000
    #: bytes of one `file:` table (CSV or .npy)
    max_file_bytes: int = 512 * 2**20
    #: characters of one YAML or JSON document (a file, a model's reply)
    max_document_chars: int = 64 * 2**20
    #: nesting depth of a YAML or JSON document
    max_depth: int = 100
    #: nodes a YAML document may add through aliases (`*name`), counted as they are expanded
    max_alias_nodes: int = 100_000

    @classmethod
    def from_env(cls) -> Limits:
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"FORMULATE_{f.name.upper()}")
            if raw:
                try:
                    values[f.name] = max(1, int(float(raw)))
                except (ValueError, OverflowError):
                    pass
        return cls(**values)


_current = Limits.from_env()


def current() -> Limits:
    """The limits in force."""
    return _current


def set_limits(**changes: int) -> Limits:
    """Change limits for the rest of the process; returns the previous ones."""
    global _current
    previous = _current
    _current = replace(_current, **changes)
    return previous


@contextmanager
def limits(**changes: int) -> Iterator[Limits]:
    """Change limits inside a ``with`` block."""
    global _current
    previous = set_limits(**changes)
    try:
        yield _current
    finally:
        _current = previous


def check_elements(count: int, what: str, where: str | None = None) -> None:
    """Refuse building ``what`` with ``count`` elements when that is over ``max_elements``."""
    limit = _current.max_elements
    if count > limit:
        raise LimitError(f"{what} would have {_count_text(count)} elements, over the limit of {limit:,}", where,
                         "make it smaller (or raise FORMULATE_MAX_ELEMENTS if the model really is that large)")


def _count_text(count: int) -> str:
    return f"{count:,}" if count < 10**15 else f"about 10^{len(str(count)) - 1}"
