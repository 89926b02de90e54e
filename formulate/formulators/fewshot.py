"""The few-shot library: solved problems in ``formulate/formulators/fewshot/*.yaml``, chosen by similarity.

Each file is a formulation with its ``problem:`` text and ``meta.expected_objective``. Examples are
ranked against the new problem with BM25 (``bm25s``, imported lazily); without bm25s a token-overlap
score stands in. Ties break by name, so the choice is deterministic.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from formulate.errors import FormulationError
from formulate.ir.io import dump_data, parse_yaml_text

log = logging.getLogger(__name__)

LIBRARY_DIR = Path(__file__).with_name("fewshot")

_WORD = re.compile(r"[a-z][a-z0-9]*")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_STOPWORDS = frozenset(
    "a an the and or of to in on at by for with from as is are was were be been it its this that these those "
    "each per can could should would will must may what which who how many much there their they we our you "
    "your i he she his her has have had do does not no than then so if into over under up out all any at "
    "least most more less one two three".split()
)


def stem(word: str) -> str:
    """A light suffix stemmer: ``shipments``, ``shipping``, ``shipped`` and ``ships`` all give ``ship``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ments", "ment", "ings", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            if suffix == "es" and not word.endswith(("sses", "xes", "ches", "shes")):
                continue  # `warehouses` -> `warehouse` via the plain `s` rule
            word = word[: -len(suffix)]
            if suffix in ("ed", "ing", "ings") and len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            return word
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stopwords, lightly stemmed (``trucks`` -> ``truck``)."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1]


@dataclass(frozen=True)
class Example:
    """One solved problem: its text, the formulation file's text and data, and the expected objective."""

    name: str
    problem: str
    text: str
    data: dict[str, Any] = field(hash=False, compare=False)
    expected_objective: float | None = None
    tags: tuple[str, ...] = ()
    path: str = ""

    def answer_meta(self) -> dict[str, list[Any]]:
        """The ``meta`` an answer carries: assumptions and alternatives (nothing about the expected answer)."""
        meta = self.data.get("meta") or {}
        return {"assumptions": list(meta.get("assumptions") or []),
                "alternatives": list(meta.get("alternatives") or [])}

    def answer_data(self) -> dict[str, Any]:
        """The formulation as an answer: no ``problem``, ``meta`` reduced to assumptions/alternatives."""
        out: dict[str, Any] = {"name": self.data.get("name", self.name), "meta": self.answer_meta()}
        out.update({k: v for k, v in self.data.items() if k not in ("name", "problem", "meta")})
        return out

    def answer_yaml(self) -> str:
        """The file's own YAML layout without ``problem`` and full-line comments, with the answer's ``meta``.

        Full-line comments are notes for people (what an example teaches, answers of other readings).
        Rendered once per example (every prompt that shows the example reuses it).
        """
        return _answer_yaml(self.text, json.dumps(self.answer_meta()))  # alternatives may be patches (mappings)

    def document(self) -> list[str]:
        """The tokens BM25 indexes: problem text, name and tags."""
        return tokenize(" ".join([self.problem, self.name.replace("_", " "), " ".join(self.tags)]))


@lru_cache(maxsize=256)
def _answer_yaml(text: str, meta_json: str) -> str:
    chunks = _top_level_chunks(text)
    meta_text = dump_data({"meta": json.loads(meta_json)})
    out: list[str] = []
    placed = False
    for key, lines in chunks:
        if key in ("problem", "meta"):
            continue
        out.extend(line for line in lines if not line.lstrip().startswith("#"))
        if key == "name" and not placed:
            out.append(meta_text.rstrip("\n"))
            placed = True
    if not placed:
        out.insert(0, meta_text.rstrip("\n"))
    return "\n".join(out).strip("\n") + "\n"


def _top_level_chunks(text: str) -> list[tuple[str | None, list[str]]]:
    """Split YAML text into top-level keys with their lines; comment lines go with the key after them."""
    chunks: list[tuple[str | None, list[str]]] = []
    pending: list[str] = []
    for line in text.splitlines():
        match = _TOP_KEY.match(line)
        if match:
            chunks.append((match.group(1), pending + [line]))
            pending = []
        elif line.startswith("#") or not chunks:
            pending.append(line)
        else:
            chunks[-1][1].append(line)
    if pending:
        chunks.append((None, pending))
    return chunks


def load_example(path: str | Path) -> Example:
    """Read one library file (a formulation with ``problem:`` and ``meta``)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data = parse_yaml_text(text, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("problem"), str):
        raise FormulationError("a few-shot example needs a `problem:` text", str(path),
                               "add the problem text under `problem: |`")
    meta = data.get("meta") or {}
    expected = meta.get("expected_objective")
    tags = meta.get("tags") or []
    return Example(
        name=str(data.get("name") or path.stem), problem=data["problem"].strip(), text=text, data=data,
        expected_objective=float(expected) if isinstance(expected, int | float) else None,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (), path=str(path))


def load_library(directory: str | Path | None = None) -> list[Example]:
    """Every ``*.yaml`` example in ``directory`` (default: the packaged library), sorted by file name.

    A file that does not load is skipped with a warning, so one bad example cannot stop formulation.
    """
    directory = Path(directory) if directory is not None else LIBRARY_DIR
    if not directory.is_dir():
        log.info("few-shot library %s not found; no examples", directory)
        return []
    examples = []
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        try:
            examples.append(load_example(path))
        except (FormulationError, OSError, UnicodeDecodeError) as exc:
            log.warning("skipping few-shot example %s: %s", path, exc)
    return examples


class ExampleIndex:
    """BM25 over a list of examples (built lazily); a token-overlap score when bm25s is missing."""

    def __init__(self, examples: Sequence[Example]) -> None:
        self.examples = list(examples)
        self._docs = [e.document() for e in self.examples]
        self._bm25: Any = None
        self._backend: str | None = None

    @property
    def backend(self) -> str:
        """``bm25s`` or ``overlap`` (after the first query)."""
        self._build()
        return self._backend or "overlap"

    def _build(self) -> None:
        if self._backend is not None:
            return
        try:
            import bm25s
        except ImportError:
            log.info("bm25s is not installed; few-shot examples are chosen by token overlap")
            self._backend = "overlap"
            return
        if not self.examples or not any(self._docs):
            self._backend = "overlap"
            return
        retriever = bm25s.BM25()
        retriever.index(self._docs, show_progress=False)
        self._bm25 = retriever
        self._backend = "bm25s"

    def scores(self, problem_text: str) -> list[float]:
        """One similarity score per example, higher is closer."""
        self._build()
        query = tokenize(problem_text)
        if not self.examples:
            return []
        if self._bm25 is not None and query:
            return [float(s) for s in self._bm25.get_scores(query)]
        return overlap_scores(query, self._docs)

    def select(self, problem_text: str, k: int = 3) -> list[Example]:
        """The ``k`` closest examples, best first; ties broken by name."""
        if k <= 0 or not self.examples:
            return []
        scores = self.scores(problem_text)
        order = sorted(range(len(self.examples)), key=lambda i: (-round(scores[i], 9), self.examples[i].name, i))
        return [self.examples[i] for i in order[:k]]


def overlap_scores(query: Sequence[str], docs: Sequence[Sequence[str]]) -> list[float]:
    """Shared distinct tokens weighted by a smoothed idf, divided by log document length."""
    n = len(docs)
    doc_sets = [set(d) for d in docs]
    df: dict[str, int] = {}
    for tokens in doc_sets:
        for token in tokens:
            df[token] = df.get(token, 0) + 1
    wanted = set(query)
    out = []
    for tokens, doc_set in zip(docs, doc_sets, strict=True):
        shared = wanted & doc_set
        weight = sum(math.log(1 + (n + 1) / (df[t] + 0.5)) for t in shared)
        out.append(weight / math.log(2 + len(tokens)))
    return out


@lru_cache(maxsize=8)
def _index_for(directory: str) -> ExampleIndex:
    return ExampleIndex(load_library(directory))


def default_index(directory: str | Path | None = None) -> ExampleIndex:
    """The (memoised) index of a library directory, the packaged one by default."""
    return _index_for(str(Path(directory) if directory is not None else LIBRARY_DIR))


def select_examples(problem_text: str, k: int = 3, library: str | Path | Sequence[Example] | None = None
                    ) -> list[Example]:
    """The ``k`` examples most similar to ``problem_text`` from ``library`` (a directory or a list of examples)."""
    if library is None or isinstance(library, str | Path):
        index = default_index(library)
    else:
        index = ExampleIndex(library)
    return index.select(problem_text, k)
