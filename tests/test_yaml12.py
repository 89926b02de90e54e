"""The fast YAML 1.2 loader reads every file exactly as ruamel (the reference) does."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from formulate.ir.yaml12 import fast_load

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(ROOT.glob("formulate/examples/*.yaml")) + sorted(ROOT.glob("tests/problems/*.yaml")) + \
    sorted(ROOT.glob("formulate/formulators/fewshot/*.yaml"))


def reference(text: str):
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_project_files_read_the_same(path: Path) -> None:
    text = path.read_text()
    done, data = fast_load(text)
    assert done
    assert same(data, reference(text))


@pytest.mark.parametrize("text", [
    "a: NO\nb: yes\nc: 2:00\nd: 08\ne: 1e3\nf: .inf\ng: -.Inf\nh: ~\ni: 0o17\nj: 0x1F\nk: true\nl: 1_000\n",
    "x: [1, 2.5, -3, +4, .5, '7']\n",
    "m: {a: 1}\nn: 2001-12-14\n",
    "empty:\n",
])
def test_yaml_1_2_scalars_match_ruamel(text: str) -> None:
    done, data = fast_load(text)
    if done:
        assert same(data, reference(text))


def test_unusual_documents_fall_back():
    assert fast_load("a: 1\na: 2\n") == (False, None)  # duplicate keys: ruamel reports them
    assert fast_load("a: !!binary aGk=\n") == (False, None)
    assert fast_load("a: [1\n") == (False, None)
