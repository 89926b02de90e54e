"""The evaluation log: JSON lines, appended and flushed one record at a time, readable after a crash.

Record types (``"type"``): ``run`` (the settings of one invocation; the first is the run's own),
``sample`` (one evaluated problem), ``blob`` (a long prompt message stored once and referenced from
samples by its sha256, so a shared system prompt is not repeated in every line) and ``end`` (an
invocation's wall time; missing when it was killed).

In a ``run`` header, ``samples`` is the number of samples in the dataset and ``samples_per_problem``
(:data:`DRAWS_KEY`) the formulations drawn and voted on per sample (``--samples``; logs before it lack it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formulate.errors import FormulateError

log = logging.getLogger(__name__)

BLOB_MIN_CHARS = 512
DRAWS_KEY = "samples_per_problem"  # a run header's ``EvalConfig.samples``


@dataclass
class RunLog:
    """What a log file holds: run headers, sample records by id, blobs by sha256."""

    path: Path
    headers: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)
    bad_lines: int = 0
    invocations: list[dict[str, Any]] = field(default_factory=list)  # started, wall_s or last sample finished

    @property
    def wall_s(self) -> float:
        """The run's wall time: the sum over invocations (a killed one counts up to its last record)."""
        total = 0.0
        for inv in self.invocations:
            if inv.get("wall_s") is not None:
                total += float(inv["wall_s"])
            elif inv.get("started") and inv.get("last"):
                total += max(0.0, (_stamp(inv["last"]) - _stamp(inv["started"])))
        return total

    @property
    def header(self) -> dict[str, Any]:
        """The first run header (the settings the run was started with), or {}."""
        return self.headers[0] if self.headers else {}

    def prompt(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """A sample's prompt messages with blob references expanded."""
        out = []
        for message in record.get("prompt") or []:
            if "ref" in message and "content" not in message:
                message = {"role": message.get("role"), "content": self.blobs.get(message["ref"], "")}
            out.append(message)
        return out


def _stamp(text: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return 0.0


def read_log(path: str | Path) -> RunLog:
    """Read a log; a torn last line (a crash mid-write) or any unreadable line is skipped and counted.

    A file that holds no run record at all (binary data, another JSON file) is refused, so that neither
    ``report`` nor ``eval --resume`` treats it, or appends to it, as a log.
    """
    p = Path(path)
    run = RunLog(p)
    if p.is_dir():
        raise FormulateError(f"run log {p} is a folder; give the .jsonl file `formulate eval --out` wrote")
    if not p.is_file():
        what = "is not a regular file" if p.exists() else "does not exist"
        raise FormulateError(f"run log {p} {what}; give the .jsonl file `formulate eval --out` wrote")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FormulateError(f"cannot read run log {p}: {exc.strerror or exc}") from None
    lines = 0
    for lineno, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        lines += 1
        if not _add_record(run, raw):
            run.bad_lines += 1
            log.warning("%s:%d: unreadable line skipped", p, lineno)
    if lines and not (run.headers or run.samples or run.blobs):
        raise FormulateError(f"{p} is not a run log of `formulate eval` (none of its {lines} lines is a log "
                             "record); give the .jsonl file `formulate eval --out` wrote, or another --out")
    return run


def _add_record(run: RunLog, raw: bytes) -> bool:
    """File one line's record into ``run``; False when the line is not a well-formed record."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return False
    if not isinstance(record, dict):
        return False
    kind = record.get("type", "sample")
    if kind == "run":
        run.headers.append(record)
        run.invocations.append({"started": record.get("started"), "wall_s": None, "last": None})
    elif kind == "end":
        if run.invocations and isinstance(record.get("wall_s"), int | float):
            run.invocations[-1]["wall_s"] = record["wall_s"]
    elif kind == "blob":
        if not isinstance(record.get("sha256"), str) or not isinstance(record.get("content"), str):
            return False
        run.blobs[record["sha256"]] = record["content"]
    elif kind == "sample" and isinstance(record.get("id"), str | int):
        run.samples[str(record["id"])] = record  # a later line for an id replaces an earlier one
        if run.invocations and record.get("finished"):
            run.invocations[-1]["last"] = record["finished"]
    else:
        return False
    return True


def _repair_tail(path: Path) -> None:
    """Cut a torn last line (no trailing newline) so appends start on a fresh line."""
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        data = fh.read()
        keep = data.rfind(b"\n") + 1
        log.warning("%s: cutting a torn last line (%d bytes) left by an interrupted run", path, len(data) - keep)
        fh.truncate(keep)


class LogWriter:
    """Appends records, one flushed line each; long prompt messages go to blob records once."""

    def __init__(self, path: str | Path, known_blobs: set[str] | None = None) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                _repair_tail(self.path)
            self._fh = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise FormulateError(f"cannot write the run log {self.path}: {exc.strerror or exc}; choose another "
                                 "--out") from None
        self._blobs = set(known_blobs or ())

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as one line and flush it (text that UTF-8 cannot hold, such as a lone surrogate
        from a question, is written as a JSON escape)."""
        line = json.dumps(record, ensure_ascii=False, default=str)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(record, ensure_ascii=True, default=str)
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
        except OSError as exc:
            raise FormulateError(f"cannot write the run log {self.path}: {exc.strerror or exc}; every line "
                                 "before this one is kept; free space or choose another --out, then --resume") \
                from None

    def compact_prompt(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Messages with long contents replaced by ``{"role", "ref"}``; new blobs are written first."""
        out = []
        for message in messages:
            content = message.get("content")
            if isinstance(content, str) and len(content) >= BLOB_MIN_CHARS:
                sha = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
                if sha not in self._blobs:
                    self.write({"type": "blob", "sha256": sha, "content": content})
                    self._blobs.add(sha)
                out.append({"role": message.get("role"), "ref": sha})
            else:
                out.append(dict(message))
        return out

    def close(self) -> None:
        try:
            self._fh.close()
        except OSError as exc:  # a failed final flush was already reported by write()
            log.warning("%s: %s", self.path, exc)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["BLOB_MIN_CHARS", "DRAWS_KEY", "LogWriter", "RunLog", "read_log"]
