"""Suite-wide set-up: what the tests leave behind stays out of the checkout and the working folder."""

from __future__ import annotations

import shutil
import tempfile

import pytest

_hypothesis_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis caches what it learns (from collection on) in ``./.hypothesis``: give it a private folder."""
    global _hypothesis_home
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # hypothesis is absent: its tests skip
        return
    _hypothesis_home = tempfile.mkdtemp(prefix="formulate-tests-hypothesis-")
    set_hypothesis_home_dir(_hypothesis_home)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _hypothesis_home is not None:
        shutil.rmtree(_hypothesis_home, ignore_errors=True)
