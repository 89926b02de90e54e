"""A linear-chain CRF tagger for problem text: VAR, PARAM, LIMIT, CONST_DIR, OBJ_NAME, OBJ_DIR (BIO tags).

The weights (``tagger.json``) were learned with CRFsuite from the NL4Opt competition texts by
``train_tagger.py``; decoding here is plain Python (Viterbi), so running the tagger needs no extra package.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

WEIGHTS = Path(__file__).with_name("tagger.json")
_NUM = re.compile(r"^(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)$")
_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twice",
                 "thrice", "half", "dozen", "hundred", "thousand", "double", "triple"}


def _shape(word: str) -> str:
    if _NUM.match(word):
        return "NUM"
    if word.isalpha():
        return "Aa" if word[0].isupper() else "a"
    return "P"


def _word(word: str) -> str:
    return "<num>" if _NUM.match(word) else word.lower()


def features(words: list[str]) -> list[list[str]]:
    """The attributes of every token (its word, shape, affixes and its neighbours')."""
    low = [_word(w) for w in words]
    n = len(words)
    out: list[list[str]] = []
    for i, w in enumerate(words):
        f = ["b", f"w={low[i]}", f"s={_shape(w)}", f"suf={low[i][-3:]}", f"pre={low[i][:3]}"]
        if low[i] in _NUMBER_WORDS:
            f.append("numword")
        for d in (-2, -1, 1, 2):
            j = i + d
            f.append(f"w{d}={low[j] if 0 <= j < n else '<s>'}")
        if i > 0:
            f.append(f"w-1|w={low[i - 1]}|{low[i]}")
        if i + 1 < n:
            f.append(f"w|w+1={low[i]}|{low[i + 1]}")
        if 1 < i:
            f.append(f"w-2|w-1={low[i - 2]}|{low[i - 1]}")
        if i + 2 < n:
            f.append(f"w+1|w+2={low[i + 1]}|{low[i + 2]}")
        out.append(f)
    return out


class Tagger:
    """Viterbi decoding with weights exported from CRFsuite."""

    def __init__(self, weights: dict) -> None:
        import numpy as np

        self.labels: list[str] = list(weights["labels"])
        k = len(self.labels)
        self.transitions = np.array(weights["transitions"], dtype=np.float64).reshape(k, k)
        state = weights["state"]
        self.row: dict[str, int] = {attr: i + 1 for i, attr in enumerate(state)}   # row 0: unknown, zeros
        flat = [(r, int(label), weight) for attr, r in self.row.items() for label, weight in state[attr]]
        rows, cols, values = zip(*flat, strict=True) if flat else ((), (), ())
        self.weights = np.zeros((len(state) + 1, k))
        np.add.at(self.weights, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)),
                  np.array(values, dtype=np.float64))

    @classmethod
    def load(cls, path: Path | str = WEIGHTS) -> Tagger:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def tag(self, words: list[str]) -> list[str]:
        """The most likely tag sequence for ``words``."""
        import numpy as np

        if not words:
            return []
        k = len(self.labels)
        rows, starts = [], []
        for attrs in features(words):
            starts.append(len(rows))
            rows.extend(self.row.get(a, 0) for a in attrs)
        emit = np.add.reduceat(self.weights[rows], starts, axis=0)
        score = emit[0].copy()
        back = np.zeros((len(words), k), dtype=np.int64)
        cols = np.arange(k)
        for t in range(1, len(words)):
            total = score[:, None] + self.transitions
            back[t] = total.argmax(axis=0)
            score = total[back[t], cols] + emit[t]
        y = int(score.argmax())
        path = [y]
        for t in range(len(words) - 1, 0, -1):
            y = int(back[t, y])
            path.append(y)
        return [self.labels[i] for i in reversed(path)]


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """The shipped tagger, loaded once."""
    return Tagger.load()
