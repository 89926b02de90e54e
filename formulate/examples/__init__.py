"""The example formulations shipped with formulate (package data): list, read and copy them.

``formulate examples`` lists them with one-line descriptions, ``formulate examples NAME`` prints one and
``formulate examples --save DIR`` copies them all (with their CSV data) into a folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from formulate.errors import FormulateError, did_you_mean

FOLDER = Path(__file__).resolve().parent


def names() -> list[str]:
    """Example names (file stems), sorted."""
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def path(name: str) -> Path:
    """The file of example ``name`` (``furniture`` or ``furniture.yaml``)."""
    stem = name[:-5] if name.endswith(".yaml") else name
    if stem not in names():
        hint = did_you_mean(stem, names())
        raise FormulateError(f"no example `{name}`; {hint + ' ' if hint else ''}see `formulate examples` for "
                             f"the list ({', '.join(names())})")
    return FOLDER / f"{stem}.yaml"


def description(name: str) -> str:
    """The example's one-line ``description:`` (else the first sentence of its problem text)."""
    from formulate.ir.io import parse_yaml_text

    file = path(name)
    data = parse_yaml_text(file.read_text(encoding="utf-8"), str(file))
    if data.get("description"):
        return " ".join(str(data["description"]).split())
    text = " ".join(str(data.get("problem") or "").split())
    return re.split(r"(?<=[.?!])\s+(?=[A-Z])", text, maxsplit=1)[0]


def data_files() -> list[Path]:
    """Every file the examples consist of: the YAML files and the CSV tables they read."""
    return sorted(p for p in FOLDER.iterdir() if p.suffix in (".yaml", ".csv", ".npy"))


def save(folder: Path) -> list[Path]:
    """Copy every example file into ``folder`` (made if missing); returns the written paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in data_files():
        target = folder / source.name
        shutil.copyfile(source, target)
        written.append(target)
    return written


__all__ = ["FOLDER", "data_files", "description", "names", "path", "save"]
