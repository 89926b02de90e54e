"""Small helpers shared by the core tests."""

from __future__ import annotations

import textwrap

from formulate.ir.io import loads
from formulate.ir.model import Formulation


def model(text: str) -> Formulation:
    """A Formulation from an indented YAML snippet."""
    return loads(textwrap.dedent(text))
