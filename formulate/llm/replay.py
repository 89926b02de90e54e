"""``replay:FILE``: recorded responses, for tests and offline re-scoring.

File format: JSONL, one record a line::

    {"key": "<sha256 of the normalised problem text> or null", "id": "nl4opt-17",
     "problem": "text (optional; gives the key when key is null)", "responses": ["reply 1", "reply 2"]}

Per problem the responses form one ordered list consumed in request order, so rounds of a
correction loop and samples differ (a request with ``n`` > 1 takes ``n``). Several records for one
problem concatenate in file order. A response is a string or ``{"text": ..., "finish_reason": ...}``.
A ``.json`` file may instead hold a list of such records, or a mapping ``key-or-id -> [responses]``.

A request finds its problem by ``request.extra["problem_text"]`` (hashed with :func:`problem_key`),
then by ``request.problem_id``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formulate.errors import ModelError
from formulate.llm.base import ChatModel, ChatRequest, ChatResponse, Completion

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def normalise_problem(text: str) -> str:
    """Unicode NFKC, lower case, whitespace runs collapsed to one space, ends stripped."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def problem_key(text: str) -> str:
    """Hex sha256 of :func:`normalise_problem` (text); insensitive to case, spacing and line breaks."""
    return hashlib.sha256(normalise_problem(text).encode("utf-8", "surrogatepass")).hexdigest()


def record_replay(
    path: str | Path,
    problem_text: str | None,
    problem_id: str | None,
    responses: list[str],
) -> None:
    """Append one JSONL record to a replay file (created with its folders if missing)."""
    if not problem_text and not problem_id:
        raise ModelError("record_replay needs a problem text or a problem id")
    record = {
        "key": problem_key(problem_text) if problem_text else None,
        "id": problem_id,
        "problem": problem_text,
        "responses": list(responses),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


@dataclass
class _Entry:
    """One problem's responses and how many were consumed."""

    name: str
    responses: list[Completion] = field(default_factory=list)
    used: int = 0


def _completion(item: Any, where: str) -> Completion:
    if isinstance(item, str):
        return Completion(item)
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return Completion(item["text"], str(item.get("finish_reason") or "stop"))
    raise ModelError(f'{where}: a response must be a string or {{"text": ...}}, got {type(item).__name__}')


class ReplayModel(ChatModel):
    """Answers from a replay file; never cached, no usage, zero latency."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.spec = f"replay:{path}"
        self._by_key: dict[str, _Entry] = {}
        self._by_id: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        if not self.path.is_file():
            raise ModelError(f"replay file {self.path} does not exist; record one or check the path")
        self._load()

    def __len__(self) -> int:
        return len({id(e) for e in (*self._by_key.values(), *self._by_id.values())})

    def _entry(self, key: str | None, pid: str | None) -> _Entry:
        """The entry for this key/id, created and cross-indexed as needed."""
        entry = (self._by_key.get(key) if key else None) or (self._by_id.get(pid) if pid else None)
        if entry is None:
            entry = _Entry(pid or (key or "")[:12])
        if key:
            self._by_key.setdefault(key, entry)
        if pid:
            self._by_id.setdefault(pid, entry)
        return entry

    def _add(self, record: Any, where: str) -> None:
        if not isinstance(record, dict) or not isinstance(record.get("responses"), list):
            raise ModelError(f"{where}: expected an object with a `responses` list")
        key = record.get("key") or (problem_key(record["problem"]) if record.get("problem") else None)
        pid = record.get("id")
        pid = str(pid) if pid is not None else None
        if not key and not pid:
            raise ModelError(f"{where}: a record needs a `key`, a `problem` text or an `id`")
        entry = self._entry(key, pid)
        entry.responses.extend(_completion(r, where) for r in record["responses"])

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ModelError(f"replay file {self.path} is not UTF-8 text (byte offset {exc.start}); give a JSON "
                             "or JSON-lines file of recorded replies") from None
        except OSError as exc:
            raise ModelError(f"cannot read replay file {self.path}: {exc.strerror or exc}") from None
        stripped = text.lstrip()
        if stripped.startswith(("[", "{")) and self.path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise ModelError(f"replay file {self.path} is not valid JSON: {exc}") from None
            if isinstance(data, list):
                for i, record in enumerate(data):
                    self._add(record, f"{self.path} item {i}")
            elif isinstance(data, dict):
                for name, responses in data.items():
                    is_key = bool(_SHA256.match(name))
                    record = {"key": name if is_key else None, "id": None if is_key else name}
                    self._add({**record, "responses": responses}, f"{self.path} entry `{name}`")
            return
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ModelError(f"{self.path}:{lineno}: not valid JSON ({exc})") from None
            self._add(record, f"{self.path}:{lineno}")

    def lookup(self, request: ChatRequest) -> _Entry | None:
        """The recorded problem a request belongs to, or None."""
        text = request.extra.get("problem_text")
        if text:
            entry = self._by_key.get(problem_key(text))
            if entry is not None:
                return entry
        if request.problem_id is not None:
            return self._by_id.get(str(request.problem_id))
        return None

    def chat(self, request: ChatRequest) -> ChatResponse:
        entry = self.lookup(request)
        if entry is None:
            text = request.extra.get("problem_text")
            key = f" (key {problem_key(text)[:12]}...)" if text else ""
            who = f"problem id `{request.problem_id}`" if request.problem_id is not None else "a problem"
            raise ModelError(f"replay file {self.path} has no responses for {who}{key}")
        n = max(1, request.n)
        with self._lock:
            if entry.used + n > len(entry.responses):
                raise ModelError(
                    f"replay file {self.path} ran out of responses for problem `{entry.name}`: "
                    f"{len(entry.responses)} recorded, {entry.used} used, {n} more asked"
                )
            completions = entry.responses[entry.used : entry.used + n]
            entry.used += n
        return ChatResponse(completions=list(completions), model=self.spec)

    def reset(self) -> None:
        """Rewind every problem to its first response."""
        with self._lock:
            for entry in (*self._by_key.values(), *self._by_id.values()):
                entry.used = 0
