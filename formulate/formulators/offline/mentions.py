"""Decision quantities from tagged VAR spans, and where each one is mentioned in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from formulate.formulators.offline.tokens import Tok

#: words that name a container or a kind, never a quantity on their own
GENERIC = {
    "the", "a", "an", "each", "every", "of", "one", "ones", "type", "types", "kind", "kinds", "unit", "units",
    "number", "amount", "sized", "size", "sizes", "batch", "batches", "pack", "packs", "bottle", "bottles",
    "serving", "servings", "box", "boxes", "bag", "bags", "cup", "cups", "piece", "pieces", "item", "items",
    "product", "products", "model", "models", "method", "methods", "option", "options", "other", "their",
    "his", "her", "its", "this", "that", "these", "those", "per", "and", "or", "to", "in", "for", "with",
    "style", "version", "among", "between", "into", "on", "at", "by", "from", "acres", "acre", "plot", "plots", "lot", "lots", "s", "'s", "-", "/", "both",
}
#: words that name what is optimised, not a decision
NOT_QUANTITIES = {"profit", "earn", "revenue", "cost", "return", "income", "total", "money", "time", "budget",
                  "whole", "number", "integer", "fraction", "point", "mbp", "decimal", "place", "dollar", "value"}
_WORD = re.compile(r"^[a-z][a-z'-]*$")


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A crude singular/stem so ``batches``, ``batch`` and ``bikes``, ``bike`` meet."""
    w = word.lower()
    if w in ("buses", "busses"):
        return "bus"
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"),
                         ("xes", "x"), ("oes", "o"), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            return w[: -len(suffix)] + repl
    if len(w) == 3 and w.endswith("s") and w[1] not in "aeiou":
        return w[:2]                   # "ads" -> "ad" (but "gas", "bus" stay)
    return w


@dataclass
class Quantity:
    """One decision quantity: its name, its words, and the words that pick it out from the others."""

    name: str
    words: list[str]
    cues: set[str] = field(default_factory=set)
    spans: int = 1          # how many tagged spans name it
    head: str = ""          # the last word of the first span
    first: list[str] = field(default_factory=list)   # the words of the first span


def _label(tokens: list[Tok], i: int) -> str:
    """``A`` in ``medicine A``, ``1`` in ``beaker 1``: a letter or digit that names a quantity (else '')."""
    t = tokens[i].text
    if not (re.fullmatch(r"[A-Z]|\d{1,2}", t) and i > 0):
        return ""
    prev = tokens[i - 1].text
    if prev in (".", "?", "!", "$") or (t.isdigit() and not prev.isalpha()) or (t == "A" and prev[0].islower()
                                                                                and prev.lower() in GENERIC):
        return ""
    return f"#{t}"


def _word_key(tokens: list[Tok], i: int) -> str:
    label = _label(tokens, i)
    if label:
        return label
    low = tokens[i].lower
    return stem(low) if _WORD.match(low) and low not in GENERIC else ""


def _span_words(tokens: list[Tok], start: int, end: int) -> list[str]:
    return [w for w in (_word_key(tokens, i) for i in range(start, end)) if w]


def var_spans(tags: list[str]) -> list[tuple[int, int]]:
    """(start, end) of every VAR span."""
    out: list[tuple[int, int]] = []
    start = None
    for i, tag in enumerate(tags + ["O"]):
        if start is not None and tag != "I-VAR":
            out.append((start, i))
            start = None
        if tag == "B-VAR" or (tag == "I-VAR" and start is None):
            start = i
    return out


def quantities(tokens: list[Tok], tags: list[str]) -> list[Quantity]:
    """Group the VAR spans into distinct quantities, in order of first mention."""
    groups: list[Quantity] = []
    for start, end in var_spans(tags):
        words = _span_words(tokens, start, end)
        if not words:
            continue
        target = _match(words, groups)
        if target is None:
            surface = [w.lstrip("#").lower() for w in words]
            groups.append(Quantity(name="_".join(surface), words=list(dict.fromkeys(words)), head=words[-1],
                                   first=list(words)))
        else:
            target.spans += 1
            if set(target.words) < set(words):     # "throat" then "throat swab": the longer name
                target.words = list(dict.fromkeys(target.words + words))
    if sum(1 for g in groups if g.spans >= 2) >= 2:
        groups = [g for g in groups if g.spans >= 2]     # named once among quantities named often: a stray tag
    groups = [g for g in groups if not set(g.words) <= NOT_QUANTITIES]
    if len(groups) == 1:
        groups += _sibling(tokens, groups[0])
    _share_heads(tokens, groups)
    _assign_cues(groups)
    return [g for g in groups if g.cues]


def _match(words: list[str], groups: list[Quantity]) -> Quantity | None:
    """The group these words name: every word known to it, or a word only it has."""
    for g in groups:
        if set(words) <= set(g.words) or set(g.words) <= set(words):
            return g
    own = [g for g in groups if words[-1] == g.head and any(
        w in g.words and all(w not in h.words for h in groups if h is not g) for w in words[:-1])
        and not set(words) - set(g.words)]
    return own[0] if len(own) == 1 else None


def _sibling(tokens: list[Tok], q: Quantity) -> list[Quantity]:
    """``full-time and part-time agents``: the one quantity tagged has a sibling named just before it."""
    lows = [t.lower for t in tokens]
    for i, low in enumerate(lows):
        if low not in ("and", "or") or i < 1 or i + 1 >= len(tokens):
            continue
        after = stem(lows[i + 1])
        if after not in q.first[:1]:
            continue
        j = i - 1
        mods: list[str] = []
        while j >= 0 and (lows[j] == "-" or (_WORD.match(lows[j]) and lows[j] not in GENERIC)):
            if lows[j] != "-":
                mods.insert(0, stem(lows[j]))
            if j == 0 or lows[j - 1] != "-" and lows[j] != "-":
                break              # one word, or a hyphenated chain ("full - time")
            j -= 1
        shared = [w for w in q.words if w not in q.first[:1]]
        if mods and mods[-1] in shared:
            mods = mods[:-1]
        if mods and not set(mods) & set(q.words):
            words = mods + shared
            return [Quantity(name="_".join(mods + shared), words=words, head=words[-1], first=list(words),
                             spans=1)]
    return []


def _share_heads(tokens: list[Tok], groups: list[Quantity]) -> None:
    """``wheat flour`` and ``rye flour``: a head noun that follows another quantity's word names both."""
    stems = [stem(t.lower) for t in tokens]
    for g in groups:
        for h in groups:
            if h is g or g.head in h.words:
                continue
            if any(stems[i] in h.first and stems[i + 1] == g.head for i in range(len(stems) - 1)):
                h.words.append(g.head)


def _assign_cues(groups: list[Quantity]) -> None:
    for g in groups:
        others = {w for h in groups if h is not g for w in h.words}
        g.cues = {w for w in (g.first or g.words) if w not in others}


def _followed_by_name(tokens: list[Tok], stems: list[str], i: int, q: Quantity) -> bool:
    j = i + 1
    while j < len(tokens) and (tokens[j].lower in ("-", "of") or tokens[j].lower in GENERIC and tokens[j].lower
                               not in ("and", "or", "the", "a", "to", "in", "for", "with")):
        if tokens[j].lower in GENERIC and tokens[j].lower not in ("-", "of"):
            return True            # "dual model", "kids size"
        j += 1
    return j < len(tokens) and stems[j] in q.words


def first_mention_names(tokens: list[Tok], qs: list[Quantity], at: list[int | None]) -> None:
    """Name each quantity as the text first writes it (``chairs``), and order them by that first mention."""
    first: dict[int, int] = {}
    for i, k in enumerate(at):
        if k is not None and k not in first:
            first[k] = i
            j = i
            while j + 1 < len(tokens) and at[j + 1] == k:
                j += 1
            words = [_label(tokens, m)[1:].lower() or tokens[m].lower for m in range(i, j + 1)
                     if _label(tokens, m) or _WORD.match(tokens[m].lower) and tokens[m].lower not in GENERIC]
            if words:
                qs[k].name = "_".join(words)


def mentions(tokens: list[Tok], qs: list[Quantity]) -> list[int | None]:
    """For every token, the index of the quantity it mentions (the head of ``pack of fries`` is fries)."""
    stems = [_label(tokens, i) or (stem(t.text) if _WORD.match(t.lower) else "") for i, t in enumerate(tokens)]
    own: list[int | None] = []
    for s in stems:
        hits = [k for k, q in enumerate(qs) if s in q.cues]
        own.append(hits[0] if len(hits) == 1 else None)
    out = list(own)
    for i, k in enumerate(own):
        if k is None:
            continue
        q = qs[k]
        head = q.head or q.words[-1]
        if stems[i] != head and head in q.cues and not _followed_by_name(tokens, stems, i, q):
            out[i] = None              # "in the water" is not "water softener"
            continue
        for j in range(i + 1, min(i + 4, len(tokens))):
            if own[j] is not None and own[j] != k:
                out[i] = None          # a modifier of the quantity named right after it
                break
            if own[j] is None and tokens[j].lower not in ("of", "the", "-", "a"):
                break
    return out
