"""The numbers of a tokenised text: value, percent, and the words around each (what it measures)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from formulate.formulators.offline.mentions import stem
from formulate.formulators.offline.tokens import Tok
from formulate.text.numbers import read_text_numbers

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


def read_numbers(text: str, tokens: list[Tok]) -> list[Number]:
    """Every number of ``text`` (see :mod:`formulate.text.numbers`), on its ``tokens`` (``tokenize(text)``).

    What differs from the shared reader: a number is placed by token index, its span covers ``$`` and
    ``%``, a percent's value is its fraction (30% -> 0.3), and a lone ``one`` counts (``one product``).
    """
    starts = [t.start for t in tokens]
    out: list[Number] = []
    for n in read_text_numbers(text):
        first = bisect_left(starts, n.start)
        end = bisect_left(starts, n.end)
        if first >= end:
            continue
        index = first + 1 if n.money and first + 1 < end else first
        out.append(Number(index=index, value=n.value / 100.0 if n.percent else n.value, pct=n.percent,
                          money=n.money, span=(first, end), written=n.kind != "digits"))
    return out
