"""YAML/JSON round trips: what formulate writes, it reads back to the same model."""

from __future__ import annotations

from pathlib import Path

import pytest

from formulate.api import solve
from formulate.ir.io import load, loads, save, to_json, to_yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "formulate" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_yaml_and_json_round_trip(path: Path, tmp_path: Path) -> None:
    original = load(path)
    for text in (to_yaml(original), to_json(original)):
        again = loads(text)
        again.meta["_base_dir"] = str(path.parent)
        assert again.model_dump(exclude={"meta"}) == original.model_dump(exclude={"meta"})
    target = tmp_path / "copy.yaml"
    save(original, target)
    assert "{}" not in target.read_text()


def test_written_yaml_solves_the_same(tmp_path: Path) -> None:
    original = load(ROOT / "formulate" / "examples" / "facility_location.yaml")
    copy = tmp_path / "facility.yaml"
    save(original, copy)
    assert solve(copy).objective == pytest.approx(solve(original).objective, rel=1e-9)
