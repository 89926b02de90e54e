"""LP/MPS model files through highspy's writer, with names the formats accept.

``x[chair]`` becomes ``x(chair)`` and ``x[a,b]`` becomes ``x(a_b)``; names are made unique across
columns and rows, and the returned map ``{file_name: original_name}`` undoes the change.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from formulate.errors import SolverError
from formulate.ir.flat import FlatProblem
from formulate.solvers import highs

log = logging.getLogger(__name__)

FORMATS = ("lp", "mps")
_BAD = re.compile(r"[^A-Za-z0-9_().]")
#: words the LP reader treats as section keywords or numbers
_RESERVED = frozenset({
    "st", "s.t.", "subject", "such", "to", "bounds", "bound", "binary", "binaries", "bin", "general",
    "generals", "gen", "integer", "integers", "semi-continuous", "semis", "semi", "sos", "end", "free",
    "inf", "infinity", "min", "max", "minimize", "maximize", "minimum", "maximum", "obj", "objective"})


def file_name(name: str) -> str:
    """A name LP and MPS files accept: brackets -> parentheses, commas and others -> ``_``."""
    out = name.replace("[", "(").replace("]", ")").replace(",", "_").replace(" ", "_")
    out = _BAD.sub("_", out)
    if not out or out[0].isdigit() or out[0] == "." or re.match(r"[eE][0-9eE]", out) or out.lower() in _RESERVED:
        out = "_" + out
    return out[:255]


def file_names(problem: FlatProblem) -> tuple[list[str], list[str], dict[str, str]]:
    """Unique file names for columns and rows, and ``{file_name: original_name}``."""
    mapping: dict[str, str] = {}

    def unique(original: str) -> str:
        base = file_name(original)
        candidate, k = base, 2
        while candidate in mapping:
            candidate = f"{base}_{k}"
            k += 1
        mapping[candidate] = original
        return candidate

    cols = [unique(n) for n in _all(problem.col_names(), problem.num_cols, "col")]
    rows = [unique(n) for n in _all(problem.row_names(), problem.num_rows, "row")]
    return cols, rows, mapping


def _all(names: list[str], count: int, kind: str) -> list[str]:
    """Names from the blocks, padded (``col#7``) when blocks do not cover every position."""
    if len(names) >= count:
        return names[:count]
    return names + [f"{kind}#{i}" for i in range(len(names), count)]


def _ranged(problem: FlatProblem) -> list[int]:
    lo, up = problem.row_lower, problem.row_upper
    both = np.isfinite(lo) & np.isfinite(up) & (np.abs(lo) < 1e20) & (np.abs(up) < 1e20) & (lo != up)
    return [int(i) for i in np.flatnonzero(both)]


def write_model_file(problem: FlatProblem, path: str | os.PathLike[str], fmt: str = "lp") -> dict[str, str]:
    """Write ``problem`` as an LP or MPS file at ``path``; return ``{file_name: original_name}``.

    Only the linear rows and the (quadratic) objective are written: HiGHS's formats hold no
    quadratic/nonlinear rows or indicators, so such problems raise SolverError.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SolverError(f"unknown model file format `{fmt}`; use lp or mps")
    if problem.quadratic_rows or problem.nonlinear_rows or problem.indicators:
        raise SolverError(f"problem `{problem.name}` has quadratic/nonlinear rows or indicators, which "
                          f"LP/MPS files from HiGHS cannot hold")
    cols, rows, mapping = file_names(problem)
    h = highs.new_highs()
    highs.load_problem(h, problem)
    for j, name in enumerate(cols):
        h.passColName(j, name)
    for i, name in enumerate(rows):
        h.passRowName(i, name)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / f"model.{fmt}"  # HiGHS picks the format from the extension
        status = h.writeModel(str(scratch))
        if status == highs._highspy().HighsStatus.kError or not scratch.exists():
            raise SolverError(f"HiGHS could not write `{target}` ({status})")
        shutil.move(str(scratch), target)
    if fmt == "lp":  # HiGHS writes a ranged row as two rows, `NAMElo` and `NAMEup`
        for i in _ranged(problem):
            mapping.setdefault(rows[i] + "lo", mapping[rows[i]])
            mapping.setdefault(rows[i] + "up", mapping[rows[i]])
    log.debug("wrote %s (%s, %d columns, %d rows)", target, fmt, problem.num_cols, problem.num_rows)
    return mapping
