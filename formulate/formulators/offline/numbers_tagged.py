"""The numbers of a tokenised text: value, percent, and the words around each (what it measures)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from formulate.formulators.offline.mentions import stem
from formulate.formulators.offline.numbers import _words_to_number
from formulate.formulators.offline.tokens import Tok

_DIGITS = re.compile(r"^(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)$")
#: multiplier words: "twice as many", "half as much"
MULTIPLIERS = {"twice": 2.0, "double": 2.0, "thrice": 3.0, "triple": 3.0, "half": 0.5, "quadruple": 4.0}
#: fractions after ``a``/``one``: "a third of", "one quarter of"
FRACTIONS = {"third": 1 / 3, "quarter": 0.25, "fourth": 0.25, "fifth": 0.2, "tenth": 0.1}
_WORD_NUMBERS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "dozen"}
_SCALE = {"hundred": 100.0, "thousand": 1000.0, "million": 1e6, "billion": 1e9, "dozen": 12.0}

#: words that carry no meaning for telling resources apart
STOP = {
    "the", "a", "an", "of", "and", "or", "to", "in", "on", "for", "with", "by", "at", "is", "are", "be", "was",
    "were", "can", "could", "must", "should", "will", "would", "may", "has", "have", "had", "it", "its", "they",
    "their", "them", "he", "his", "she", "her", "we", "our", "you", "your", "this", "that", "these", "those",
    "there", "which", "who", "each", "every", "per", "unit", "units", "amount", "number", "total", "most",
    "least", "than", "more", "less", "no", "not", "up", "as", "while", "whereas", "but", "also", "only", "so",
    "make", "made", "making", "produce", "produced", "use", "used", "uses", "using", "take", "takes", "require",
    "requires", "required", "need", "needs", "needed", "contain", "contains", "containing", "give", "gives",
    "provide", "provides", "worth", "some", "any", "all", "how", "many", "much", "what", "if", "from", "into",
    "one", "ones", "type", "kind", "'s", "$", "%", "-", "do", "does", "get", "gets", "can't", "cannot", "n't",
    "available", "maximum", "minimum", "over", "about", "same", "other", "another", "both", "either",
    "additionally", "further", "furthermore", "however", "besides", "hand", "stock", "day", "week",
    "month", "year", "daily", "weekly", "monthly", "yearly", "times", "able", "want", "wants", "wishes", "like", "been", "being", "then", "yet",
}
_SYNONYMS = {
    "profit": "profit", "profits": "profit", "profitable": "profit", "earn": "profit", "earns": "profit",
    "earned": "profit", "earning": "profit", "earnings": "profit", "revenue": "revenue", "revenues": "revenue",
    "sell": "revenue", "sells": "revenue", "sold": "revenue", "sale": "revenue", "sales": "revenue",
    "selling": "revenue",
    "gain": "profit", "income": "profit", "return": "profit", "returns": "profit", "net": "profit",
    "cost": "cost", "costs": "cost", "costing": "cost", "spend": "cost", "spending": "cost", "spent": "cost",
    "expense": "cost", "expenses": "cost", "pay": "cost", "price": "revenue", "paid": "cost", "charge": "cost", "budget": "cost",
    "money": "cost", "hour": "time", "hours": "time", "minute": "time", "minutes": "time", "time": "time", "dollars": "cost", "dollar": "cost", "invest": "cost", "investment": "cost",
}


@dataclass
class Number:
    """One number in the text."""

    index: int                       # token index
    value: float
    pct: bool = False
    money: bool = False
    span: tuple[int, int] = (0, 0)   # tokens the number occupies (``$ 1,500``, ``30 %``)
    written: bool = False            # written as words (``two``): may only count things
    role: str = ""                   # param, limit, mult, count
    var: int | None = None
    op: str = ""
    bag: dict[str, float] = field(default_factory=dict)
    sentence: int = 0


def canonical(word: str) -> str:
    low = word.lower()
    return _SYNONYMS.get(low) or stem(low)


def read_numbers(tokens: list[Tok]) -> list[Number]:
    """Every number: digits (``1,500``, ``2.5``), ``$``, ``%``/``percent``, written words, multipliers."""
    out: list[Number] = []
    i = 0
    n = len(tokens)
    while i < n:
        low = tokens[i].lower
        value: float | None = None
        end = i + 1
        written = False
        if _DIGITS.match(low):
            value = float(low.replace(",", ""))
            if end < n and tokens[end].lower in _SCALE and tokens[end].lower != "dozen":
                value *= _SCALE[tokens[end].lower]
                end += 1
            elif end < n and tokens[end].lower == "k" and tokens[end].start == tokens[i].end:
                value *= 1000.0                                  # "$200k"
                end += 1
        elif low in _WORD_NUMBERS:
            j = i
            while j < n and (tokens[j].lower in _WORD_NUMBERS or (tokens[j].lower == "-" and j + 1 < n
                                                                 and tokens[j + 1].lower in _WORD_NUMBERS)):
                j += 1
            phrase = " ".join(t.lower for t in tokens[i:j] if t.lower != "-")
            value = 12.0 if phrase == "dozen" else _words_to_number(phrase.replace("dozen", "twelve"))
            end, written = j, True
        elif low in MULTIPLIERS:
            value, written = MULTIPLIERS[low], True
        elif low in FRACTIONS and i > 0 and tokens[i - 1].lower in ("a", "one"):
            value, written = FRACTIONS[low], True
        if value is None:
            i += 1
            continue
        pct = end < n and tokens[end].lower in ("%", "percent")
        if pct:
            end += 1
        money = i > 0 and tokens[i - 1].text == "$"
        start = i - 1 if money else i
        out.append(Number(index=i, value=value / 100.0 if pct else value, pct=pct, money=money,
                          span=(start, end), written=written))
        i = end
    return out
