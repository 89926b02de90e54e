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
        self.state: dict[str, np.ndarray] = {}
        for attr, pairs in weights["state"].items():
            row = np.zeros(k)
            for label, weight in pairs:
                row[int(label)] += weight
            self.state[attr] = row

    @classmethod
    def load(cls, path: Path | str = WEIGHTS) -> Tagger:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def tag(self, words: list[str]) -> list[str]:
        """The most likely tag sequence for ``words``."""
        import numpy as np

        if not words:
            return []
        k = len(self.labels)
        zero = np.zeros(k)
        emit = np.array([sum((self.state.get(a, zero) for a in attrs), zero) for attrs in features(words)])
        score = emit[0].copy()
        back = np.zeros((len(words), k), dtype=np.int64)
        for t in range(1, len(words)):
            total = score[:, None] + self.transitions
            back[t] = total.argmax(axis=0)
            score = total[back[t], np.arange(k)] + emit[t]
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
