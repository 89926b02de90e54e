"""Read benchmark files (JSON lines, JSON arrays, ORThought folders) and normalise them to Samples."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formulate.datasets.answers import parse_answer
from formulate.datasets.registry import DIRECTORY, DatasetSpec, get_spec
from formulate.errors import DatasetError

log = logging.getLogger(__name__)

QUESTION_KEYS = ("question", "en_question", "Question", "problem", "text", "description")
ANSWER_KEYS = ("answer", "en_answer", "Answer", "results", "obj", "objective", "label", "ground_truth")
ID_KEYS = ("id", "index", "problem_id", "name")
CLASS_KEYS = ("category", "Category", "type", "Type", "difficulty", "class")


@dataclass
class Sample:
    """One benchmark problem: text, parsed label (``answer``), the raw label, and the rest as ``meta``.

    ``expected_status`` is ``optimal`` for a numeric label, ``infeasible``/``unbounded`` for markers,
    None when the label could not be read (``meta["answer_note"]`` says why).
    """

    id: str
    question: str
    answer: float | None
    answer_raw: Any
    meta: dict[str, Any] = field(default_factory=dict)
    expected_status: str | None = None

    @property
    def problem_class(self) -> str | None:
        """The source's own class or difficulty label, when it has one."""
        return self.meta.get("class")


@dataclass
class Dataset:
    """Samples plus where they came from."""

    name: str
    samples: list[Sample]
    source: str
    spec: DatasetSpec | None = None

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self):
        return iter(self.samples)


def read_records(path: Path, fmt: str | None = None) -> list[dict[str, Any]]:
    """Records of a JSON-lines or JSON file; ``fmt`` (jsonl|json) is trusted over the extension."""
    text = _read_text(path, "a .jsonl/.json dataset")
    stripped = text.lstrip()
    if fmt == "json" or (fmt is None and stripped.startswith("[")):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DatasetError(f"{path} is not valid JSON ({exc}); is it JSON lines?") from None
        return _records_from(data, path)
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            if fmt is None and lineno == 1:
                try:
                    return _records_from(json.loads(text), path)
                except ValueError:
                    pass
            raise DatasetError(f"{path}:{lineno}: not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
    return records


def _records_from(data: Any, path: Path) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        inner = next((v for v in data.values() if isinstance(v, list)), None) if len(data) <= 3 else None
        if inner is not None:
            data = inner
        elif all(isinstance(v, dict) for v in data.values()):
            data = [{"id": k, **v} for k, v in data.items()]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DatasetError(f"{path}: expected a list of objects (one per problem)")
    return data


def _pick(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in record), None)


def normalise(records: list[dict[str, Any]], name: str, question_key: str | None = None,
              answer_key: str | None = None, id_key: str | None = None,
              class_keys: tuple[str, ...] = CLASS_KEYS) -> list[Sample]:
    """Records -> Samples; keys are detected from the first record when not given."""
    if not records:
        return []
    first = records[0]
    q_key = question_key or _pick(first, QUESTION_KEYS)
    a_key = answer_key or _pick(first, ANSWER_KEYS)
    i_key = id_key if id_key is not None else _pick(first, ID_KEYS)
    if q_key is None:
        raise DatasetError(f"{name}: records have no question field (looked for {', '.join(QUESTION_KEYS)}; "
                           f"found {', '.join(first)})")
    samples: list[Sample] = []
    seen: set[str] = set()
    for i, record in enumerate(records):
        question = record.get(q_key)
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"{name}: record {i} has no text in `{q_key}`")
        raw = record.get(a_key) if a_key else None
        if "answer_raw" in record:  # files already normalised (the dev set): the source's own label
            raw = record["answer_raw"]
        parsed = parse_answer(raw)
        if parsed.value is None and parsed.status is None and a_key and raw is not record.get(a_key):
            parsed = parse_answer(record.get(a_key))
        marker = record.get("answer_status")
        if parsed.value is None and parsed.status is None and isinstance(marker, str) and marker.strip():
            # the dev files' `answer_status: no_best_solution`: the source's "No Best Solution" (infeasible)
            from_marker = parse_answer(marker.replace("_", " "))
            if from_marker.status is not None and from_marker.value is None:
                parsed, raw = from_marker, marker
        rid = record.get(i_key) if i_key else None
        sid = str(rid) if rid is not None and str(rid).strip() else f"{name}-{i}"
        if sid in seen:
            log.warning("%s: duplicate id %s at record %d; renamed %s~%d", name, sid, i, sid, i)
            sid = f"{sid}~{i}"
        seen.add(sid)
        meta = {k: v for k, v in record.items() if k not in (q_key, a_key, i_key, "answer_raw", "answer_status")}
        labels = [str(record[k]) for k in class_keys if record.get(k) not in (None, "")]
        if labels:
            meta["class"] = " / ".join(labels)
        if parsed.note:
            meta["answer_note"] = parsed.note
        meta["index"] = i
        samples.append(Sample(sid, question, parsed.value, raw, meta, parsed.status))
    return samples


def _read_text(path: Path, what: str) -> str:
    """A UTF-8 text file, or a DatasetError naming the file and what it should have been."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise DatasetError(f"{path} is a binary file, not {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text (byte offset {exc.start}); expected {what}") from None


def _read_answer(path: Path) -> Any:
    """The label in a problem folder's answer.json, or a DatasetError naming the file."""
    text = _read_text(path, "an answer.json")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc}); write the label as a JSON number or object") \
            from None


def read_directory(path: Path) -> list[dict[str, Any]]:
    """ORThought layout: one folder per problem with question.txt and answer.json (nothing else is read)."""
    records = []
    try:
        folders = sorted(p for p in path.iterdir() if (p / "question.txt").is_file())
    except OSError as exc:
        raise DatasetError(f"cannot list {path}: {exc.strerror or exc}") from None
    for folder in folders:
        answer_path = folder / "answer.json"
        answer = _read_answer(answer_path) if answer_path.is_file() else None
        records.append({"id": folder.name, "question": _read_text(folder / "question.txt", "a question.txt"),
                        "answer": answer})
    if not records:
        raise DatasetError(f"{path} is a folder without problem folders (each with question.txt)")
    return records


def looks_like_path(name: str) -> bool:
    """A dataset argument is a path when it exists or carries a JSON extension or a separator."""
    return Path(name).expanduser().exists() or name.endswith((".json", ".jsonl")) or "/" in name


def load_file(path: str | Path, name: str | None = None) -> Dataset:
    """A local dataset: a .jsonl/.json with question/answer (and optionally id) fields, or a folder."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"dataset file {p} does not exist; give a .jsonl/.json file or a registered name "
                           "(`formulate datasets list`)")
    if not (p.is_dir() or p.is_file()):
        raise DatasetError(f"dataset {p} is neither a regular file nor a folder; give a .jsonl/.json file or a "
                           "folder of problem folders")
    label = name or p.stem
    records = read_directory(p) if p.is_dir() else read_records(p)
    return Dataset(label, normalise(records, label), str(p))


def load_spec(spec: DatasetSpec, root: Path | None = None) -> Dataset:
    """A registered dataset, downloaded on first use."""
    from formulate.datasets.download import fetch

    path = fetch(spec, root=root)
    if spec.format == DIRECTORY:
        samples = normalise(read_records(path, "jsonl"), spec.name, "question", "answer", "id", ())
    else:
        samples = normalise(read_records(path, spec.format), spec.name, spec.question_key, spec.answer_key,
                            spec.id_key or "", spec.class_keys)
    if spec.records is not None and len(samples) != spec.records:
        log.warning("%s: %d records, the registry says %d", spec.name, len(samples), spec.records)
    return Dataset(spec.name, samples, str(path), spec)


def load_dataset(name_or_path: str | Path, limit: int | None = None) -> Dataset:
    """A registered dataset by name, or a local file/folder; the first ``limit`` samples if given."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or looks_like_path(text):
        dataset = load_file(name_or_path)
    else:
        dataset = load_spec(get_spec(text))
    if limit is not None:
        dataset.samples = dataset.samples[: max(0, limit)]
    return dataset


__all__ = ["ANSWER_KEYS", "CLASS_KEYS", "Dataset", "ID_KEYS", "QUESTION_KEYS", "Sample", "load_dataset",
           "load_file", "load_spec", "normalise", "read_directory", "read_records"]
