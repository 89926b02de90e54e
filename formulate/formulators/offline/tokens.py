"""Tokens with character offsets, cut the way the NL4Opt annotations cut text (``$``, ``%``, ``-`` apart)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+|[A-Za-z]+(?:'[A-Za-z]+)?|n't|'s|[^\w\s]")


@dataclass(frozen=True)
class Tok:
    """One token: its text and where it sits in the source."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Tok]:
    """Words, numbers (``1,500``, ``2.5``) and single punctuation marks, in order."""
    out: list[Tok] = []
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if word.endswith("'s") and len(word) > 2:       # "company's" -> "company", "'s"
            out.append(Tok(word[:-2], m.start(), m.end() - 2))
            out.append(Tok("'s", m.end() - 2, m.end()))
        else:
            out.append(Tok(word, m.start(), m.end()))
    return out


def sentences(tokens: list[Tok]) -> list[list[int]]:
    """Token indices grouped by sentence (cut after ``.``, ``?`` and ``!``; ``;`` only cuts clauses)."""
    out: list[list[int]] = [[]]
    for i, t in enumerate(tokens):
        out[-1].append(i)
        if t.text in (".", "?", "!"):
            out.append([])
    return [s for s in out if s]
