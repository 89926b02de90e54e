"""Command-line helpers shared by every `formulate` command: checks of option values (each bad value is one
clear line), reading text files, and plain aligned columns that never cut a name.

Every check raises :class:`UsageProblem` (a FormulateError), which the commands turn into ``error: ...`` on
stderr and exit code 2 before any work starts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from formulate.errors import FormulateError, did_you_mean

#: problem text files larger than this are refused (a word problem is a few kilobytes)
MAX_TEXT_BYTES = 1_000_000


class UsageProblem(FormulateError):
    """A command-line value is out of range or names something that does not exist."""


def check_time_limit(value: float | None, option: str = "--time-limit") -> None:
    """Seconds: a positive finite number."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageProblem(f"{option} {value:g} is not a positive number of seconds; give e.g. {option} 60")


def check_gap(value: float | None) -> None:
    """A relative MIP gap in [0, 1]."""
    if value is not None and not (math.isfinite(value) and 0 <= value <= 1):
        raise UsageProblem(f"--gap {value:g} is not a relative gap between 0 and 1; give e.g. --gap 0.01 for 1%")


def check_count(value: int | None, option: str, minimum: int) -> None:
    """An integer option with a lower bound (``--workers`` >= 1, ``--limit`` >= 0)."""
    if value is not None and value < minimum:
        raise UsageProblem(f"{option} {value} must be at least {minimum}")


def check_solver(spec: str | None, installed: bool = False) -> None:
    """An empty or unknown solver name is refused up front, with a did-you-mean; with ``installed``, a
    backend (or Pyomo sub-solver) that is not installed is refused too (before a long run, not per sample)."""
    if spec is None:
        return
    from formulate.solvers.registry import BACKENDS

    base, _, sub = spec.strip().partition(":")
    if not base:
        raise UsageProblem(f"--solver is empty; give one of {', '.join(BACKENDS)} (or leave it out to choose by "
                           "problem class)")
    if base.lower() not in BACKENDS:
        hint = did_you_mean(base.lower(), [*BACKENDS, "pyomo:appsi_highs"])
        raise UsageProblem(f"unknown solver `{spec}`; {hint + ' ' if hint else ''}known solvers: "
                           f"{', '.join(BACKENDS)}")
    if base.lower() == "pyomo" and ":" in spec and not sub.strip():
        raise UsageProblem(f"--solver `{spec}` names no Pyomo solver; give e.g. pyomo:appsi_highs")
    if installed:
        from formulate.solvers.pyomo_backend import PyomoBackend
        from formulate.solvers.registry import get_solver

        backend = get_solver(spec)
        if isinstance(backend, PyomoBackend) and not backend.solver_available():
            raise UsageProblem(f"Pyomo cannot find solver `{backend.solver}`; install it or pick another with "
                               "--solver pyomo:appsi_highs")


def check_base_url(url: str | None, model: str | None = None) -> None:
    """An http(s) URL that parses (``http://[::1`` does not). Without ``url``, an ``openai:`` model's
    ``OPENAI_BASE_URL`` is checked instead."""
    source = "--base-url"
    if url is None and (model or "").strip().lower().startswith("openai"):
        url, source = os.environ.get("OPENAI_BASE_URL") or None, "OPENAI_BASE_URL"
    if url is None:
        return
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise UsageProblem(f"{source} `{url}` is not a valid URL ({exc}); give e.g. http://localhost:8000/v1") \
            from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageProblem(f"{source} `{url}` is not an http(s) URL with a host; give e.g. "
                           "http://localhost:8000/v1")


def check_output_file(path: Path, option: str, example: str = "out.txt") -> None:
    """An output file path whose folder exists (or can be made) and that is not a folder itself."""
    if path.is_dir():
        raise UsageProblem(f"{option} {path} is a folder; give a file path inside it, e.g. {path / example}")
    parent = path.parent
    for folder in [parent, *parent.parents]:
        if folder.exists():
            if not folder.is_dir():
                raise UsageProblem(f"{option} {path}: {folder} is a file, not a folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise UsageProblem(f"{option} {path}: folder {folder} is not writable")
            break


def write_output(path: Path, text: str, option: str, example: str = "out.txt") -> None:
    """Write ``text`` to ``path`` (making its folder), or raise one line naming the path and the reason."""
    check_output_file(path, option, example)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageProblem(f"cannot write {option} {path}: {exc.strerror or exc}") from None


def read_text_file(path: Path, what: str = "problem text") -> str:
    """A UTF-8 text file's content, or one line saying why it cannot be the ``what``."""
    if not path.exists():
        raise UsageProblem(f"file `{path}` does not exist; give a text file with the {what}")
    if not path.is_file():
        raise UsageProblem(f"`{path}` is not a regular file; give a text file with the {what}")
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise UsageProblem(f"`{path}` has {size} bytes, more than the {MAX_TEXT_BYTES} a {what} may have")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageProblem(f"cannot read `{path}`: {exc.strerror or exc}") from None
    return decode_text(data, str(path), what)


def columns(rows: list[tuple[str, ...]], indent: str = " ") -> str:
    """Rows as left-aligned columns two spaces apart, each as wide as its widest cell: nothing is ever cut,
    whatever the terminal width (a long last cell simply runs on)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join((indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip()
                     for row in rows)


def decode_text(data: bytes, source: str, what: str = "problem text") -> str:
    """Bytes as UTF-8 text; binary content (NUL bytes or invalid UTF-8) is refused in one line."""
    if b"\0" in data:
        raise UsageProblem(f"`{source}` is a binary file, not the {what}; give a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageProblem(f"`{source}` is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
                           f"give the {what} as a UTF-8 text file") from None


__all__ = ["MAX_TEXT_BYTES", "UsageProblem", "check_base_url", "check_count", "check_gap", "check_output_file",
           "check_solver", "check_time_limit", "columns", "decode_text", "read_text_file", "write_output"]
