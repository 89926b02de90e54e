"""Reading the problem text: its sentences, its numbers, and the sentence a piece of a model concerns.

Numbers are read by :mod:`formulate.text.numbers` (every form a word problem uses, and whether each is plainly
data or an identifier, list marker, ordinal, year or clock time, which the number check never reports as
missing).
"""

from __future__ import annotations

import math
import re

from formulate.text.numbers import TextNumber, read_text_numbers

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\"'$-])|\n\s*\n|\n(?=\s*(?:[-*•]|\(?\d{1,2}[.)]\s|\|))")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, bullet or table line of ``text``."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.start()].strip():
            out.append(_trim(text, start, m.start()))
        start = m.end()
    if text[start:].strip():
        out.append(_trim(text, start, len(text)))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_at(text: str, position: int) -> str:
    """The sentence of ``text`` that holds ``position`` (one line, spaces collapsed)."""
    for start, end in sentences(text):
        if start <= position < end:
            return " ".join(text[start:end].split())
    return ""


def numbers_in_text(text: str) -> list[TextNumber]:
    """Every number of ``text``, in order, as :func:`formulate.text.numbers.read_text_numbers` reads them, less a
    lone ``one`` (``one of``, ``each one``): the number check needs values the text gives as data."""
    return [n for n in read_text_numbers(text) if n.kind != "one"]


# ------------------------------------------------------------------------------------ matching values


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def best_sentence(text: str, numbers: list[float] = (), words: list[str] = ()) -> str | None:
    """The sentence of ``text`` that best matches ``numbers`` (strongly) and ``words`` (weakly); None if none does."""
    if not text:
        return None
    wanted = [float(v) for v in numbers if isinstance(v, int | float) and math.isfinite(v) and v not in (0, 1)]
    stems = {_stem(w) for w in words if len(w) > 2}
    best, best_score = None, 0.0
    found = numbers_in_text(text)
    for start, end in sentences(text):
        score = 0.0
        inside = [n for n in found if start <= n.start < end]
        for value in dict.fromkeys(wanted):
            if any(close(value, f) for n in inside for f in n.values):
                score += 3.0
        tokens = {_stem(t) for t in re.findall(r"[A-Za-z]+", text[start:end].lower())}
        score += sum(1.0 for s in stems if s in tokens)
        if score > best_score:
            best, best_score = " ".join(text[start:end].split()), score
    return best if best_score >= 1.0 else None


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[:-len(suffix)]
    return word


def name_words(name: str) -> list[str]:
    """``wood_limit`` / ``maxHours`` -> ``[wood, limit]`` / ``[max, hours]``."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z]+", spaced) if w]
