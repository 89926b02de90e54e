"""Finding the decision quantities of a short word problem and the places they are mentioned.

Three shapes are recognised, in this order: indexed letters (``x1, x2, x3``), single capital letters
(``X and Y``, with optional names in parentheses), and a named list (``three crops: wheat, corn and
soybean``).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

_STOP = {
    "the", "a", "an", "and", "or", "for", "of", "in", "to", "between", "among", "across", "namely", "on",
    "both", "all", "each", "types", "type", "two", "three", "four", "five", "different", "its", "their",
    "his", "her", "with", "as", "such", "like", "into", "from", "main", "key", "critical", "following",
    "is", "are", "be", "including", "which", "these", "those", "some", "certain", "other",
}
_GENERIC = {
    "project", "projects", "product", "products", "type", "types", "option", "options", "channel", "channels",
    "unit", "units", "source", "sources", "energy", "power", "department", "departments", "resource",
    "resources", "item", "items", "activity", "activities", "area", "areas", "program", "programs",
}
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6}


@dataclass
class Entity:
    """A decision variable and the ways the text names it."""

    name: str
    aliases: list[str] = field(default_factory=list)   # regex fragments, matched case-insensitively
    exact: list[str] = field(default_factory=list)     # regex fragments, matched case-sensitively
    label: str = ""


def _plural_pattern(word: str) -> str:
    """A pattern for the word in singular or plural (``nurses`` -> nurse, nurses; ``batteries`` -> battery)."""
    parts = word.lower().split()
    last = parts[-1]
    forms = {last}
    if last.endswith("ies") and len(last) > 4:
        forms.add(last[:-3] + "y")
    if last.endswith("es") and len(last) > 3:
        forms.add(last[:-2])
    if last.endswith("s") and not last.endswith("ss") and len(last) > 2:
        forms.add(last[:-1])
    if last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        forms.add(last[:-1] + "ies")
    alts = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    body = r"[\s_-]+".join(re.escape(p) for p in parts[:-1])
    body = f"{body}[\\s_-]+" if body else ""
    return rf"(?<![\w-]){body}(?:{alts})(?:s|es)?(?![\w])"


_RESERVED = {"sum", "min", "max", "abs", "exp", "log", "sqrt", "pwl", "len", "first", "last", "prev", "next",
             "ord", "range", "inf", "nan", "true", "false", "none"}


def _var_name(label: str) -> str:
    """A readable identifier for a quantity (``Labor Hours`` -> ``labor_hours``)."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", label.strip().lower()).strip("_")
    if not name or name[0].isdigit():
        name = f"x_{name}"
    if keyword.iskeyword(name) or name in _RESERVED:
        name = f"{name}_qty"
    return name


def _clean_item(item: str) -> str:
    words = [w for w in re.split(r"\s+", item.strip(" .,;:'\"()")) if w]
    while words and words[0].lower() in _STOP:
        words.pop(0)
    while words and words[-1].lower() in _STOP:
        words.pop()
    return " ".join(words)


def _indexed(text: str) -> list[Entity]:
    """x1, x2, x3 (any one letter, case-insensitive, optionally x_1)."""
    found: dict[str, set[int]] = {}
    for letter, index in re.findall(r"(?<![\w'])([A-Za-z])_?(\d{1,2})(?![\w.]|\.\d)", text):
        found.setdefault(letter.lower(), set()).add(int(index))
    families = {k: v for k, v in found.items() if len(v) >= 2}
    if not families:
        return []
    letter = "x" if "x" in families else max(families, key=lambda k: len(families[k]))
    entities = []
    for i in sorted(families[letter]):
        ent = Entity(name=f"{letter}{i}", aliases=[rf"(?<![\w']){letter}_?{i}(?!\d)"], label=f"{letter}{i}")
        for tag in (f"{letter}{i}", f"{letter.upper()}{i}"):
            for name in _names_beside(text, tag):
                ent.aliases.append(_plural_pattern(name))
        entities.append(ent)
    return entities


def _first_at(text: str, letter: str) -> int:
    m = re.search(rf"(?<![\w'.-]){letter}(?![\w'-])|\({letter.lower()}\)", text)
    return m.start() if m else len(text)


def _letters(text: str) -> list[Entity]:
    """Single capital letters used as names (X, Y, Z, ...), with names given beside them."""
    counts: dict[str, int] = {}
    for letter in re.findall(r"(?<![\w'.-])([A-Z])(?![\w-])", text):
        counts[letter] = counts.get(letter, 0) + 1
    paren = set(re.findall(r"\(\s*([A-Za-z])\s*\)", text))
    listed = re.search(r"(?<![\w'.-])([A-Z])((?:\s*,\s*[A-Z])*)\s*,?\s+(?:and|or)\s+([A-Z])(?![\w'-])", text)
    chosen: list[str] = []
    if "X" in counts and "Y" in counts:
        chosen = [c for c in "XYZW" if c in counts and (c in "XY" or counts[c] >= 2 or c in paren)]
    elif listed or len({p.upper() for p in paren}) >= 2:
        letters = {p.upper() for p in paren}
        if listed:
            letters |= {listed.group(1), *re.findall(r"[A-Z]", listed.group(2)), listed.group(3)}
        letters.discard("I")
        chosen = sorted(letters, key=lambda c: _first_at(text, c))
    if len(chosen) < 2:
        return []
    entities = []
    for letter in chosen:
        exact = [rf"(?<![\w'.-]){letter}(?![\w-])" if letter != "A" else r"(?<=[a-z,;:] )A(?![\w'-])|(?<=\()A(?=\))"]
        if letter in "XYZW":
            exact.append(rf"(?<![\w'.-]){letter.lower()}(?![\w'-])")
        ent = Entity(name=letter.lower(), exact=exact, label=letter)
        for name in _names_beside(text, letter):
            ent.aliases.append(_plural_pattern(name))
            ent.label = ent.label if len(ent.label) > 1 else name
        entities.append(ent)
    return entities


def _names_beside(text: str, letter: str) -> list[str]:
    """Names such as ``patient care (X)``, ``X (General Medicine)``, ``X represents strength training``,
    looked for where the letter is introduced (its first two sentences)."""
    names = []
    first = re.search(rf"(?<![\w'.-]){letter}(?![\w-])", text)
    if first:
        sentences = re.split(r"(?<=[.!?])\s+|\n+", text[text.rfind(".", 0, first.start()) + 1:])
        text = " ".join(sentences[:2])
    for match in re.finditer(rf"\(\s*(?:(?:for|in|on|of)\s+(?:[a-z]+\s+)?)?{letter}\s*\)", text, re.I):
        before = re.search(r"([A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2})\s*$", text[max(0, match.start() - 60):match.start()])
        words = before.group(1).split() if before else []
        if match.group(0)[1:].lstrip().lower().startswith(("for ", "in ", "on ", "of ")):
            words = words[-1:]                       # "trucks (for route X)"
        cut = max((i for i, w in enumerate(words) if w.lower() in _STOP), default=-1)
        name = _clean_item(" ".join(words[cut + 1:]))
        if name and name.lower() not in _GENERIC and len(name) > 1:
            names.append(name)
    for match in re.finditer(rf"(?<![\w'-]){letter}\s*\(([A-Za-z][A-Za-z -]{{2,40}})\)", text):
        inner = match.group(1).strip()
        if len(inner.split()) <= 3 and not re.search(r"\b(with|by|factor|e\.g|i\.e|to|from)\b", inner):
            names.append(inner)
    for match in re.finditer(rf"(?<![\w'-]){letter}\s+(?:represents|stands for|is for|for)\s+"
                             rf"([a-z][a-z-]*(?:\s+[a-z][a-z-]*)?)(?=\s+and\b|[,.;)]|$)", text):
        names.append(match.group(1))
    return [n for n in names if not re.fullmatch(r"[A-Za-z]", n)]


_ITEM_STOP = _STOP | {"that", "which", "this", "it", "he", "she", "they", "we", "you", "will", "can", "must", "should",
                      "has", "have", "had", "was", "were", "by", "at", "per", "than", "also", "while", "so", "then",
                      "not", "no", "any", "many", "much", "more", "less", "total", "number", "amount"}
_WORD_RE = re.compile(r"[A-Za-z][\w'-]*")


def _lead_words(text: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` words at the start of ``text``, stopping at punctuation or a stop word."""
    words: list[str] = []
    for m in re.finditer(r"\s*([A-Za-z][\w-]*)|\s*(\S)", text):
        word = m.group(1)
        if word is None or word.lower() in _ITEM_STOP or len(words) == limit:
            break
        words.append(word)
    return words


def _tail_words(text: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` words at the end of ``text``, stopping at punctuation or a stop word."""
    words: list[str] = []
    for word in reversed(re.findall(r"[A-Za-z][\w-]*|[^\sA-Za-z]", text)):
        if not _WORD_RE.fullmatch(word) or word.lower() in _ITEM_STOP or len(words) == limit:
            break
        words.insert(0, word)
    return words


def _mentions(item: str, text: str) -> int:
    return len(re.findall(_plural_pattern(item), text, re.I))


def _named(text: str) -> list[Entity]:
    """A list such as ``three crops: wheat, corn and soybean`` or ``between stocks and bonds``."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    head = " ".join(sentences[:3])
    count = None
    m = re.search(r"\b(two|three|four|five|six|[2-6])\u2060?\s+(?:(?:different|main|key|critical|types? of|kinds? of|"
                  r"major|necessary|distinct)\s+)*\w+", head, re.I)
    if m:
        count = _COUNT_WORDS[m.group(1).lower()]
    plain = re.sub(r"\s*\([^()]{0,40}\)", "", head)
    candidates: list[tuple[int, int, int, list[str]]] = []
    for conj in re.finditer(r"\s+(?:and|or)\s+", plain):
        before = plain[:conj.start()].rstrip(" ,")
        parts = before.split(",")
        middles: list[str] = []
        while len(parts) > 1:
            part = parts[-1].strip()
            words = part.split()
            if not 1 <= len(words) <= 3 or any(w.lower() in _ITEM_STOP for w in words) or \
                    not all(_WORD_RE.fullmatch(w) for w in words):
                break
            middles.insert(0, part)
            parts.pop()
        first_words = _tail_words(parts[-1])
        last_words = _lead_words(plain[conj.end():])
        for a in range(1, len(first_words) + 1):
            for b in range(1, len(last_words) + 1):
                items = [" ".join(first_words[-a:]), *middles, " ".join(last_words[:b])]
                if not 2 <= len(items) <= 6 or len({i.lower() for i in items}) != len(items):
                    continue
                if any(_mentions(i, text) < 2 for i in items):
                    continue
                size = sum(len(i.split()) for i in items)
                miss = 0 if count is None or count == len(items) else 1
                candidates.append((miss, conj.start(), size, items))
    for _, _, _, items in sorted(candidates, key=lambda c: (c[0], c[1], c[2])):
        with_alias = []
        for item in items:
            alias = re.search(re.escape(item) + r"\s*\(([A-Za-z][\w -]{0,30})\)", head)
            with_alias.append(f"{item} ({alias.group(1)})" if alias else item)
        entities = _entities_from_items(with_alias, text)
        if entities:
            return entities
    return []


def _entities_from_items(items: list[str], text: str) -> list[Entity]:
    entities = []
    firsts = [i.split()[0].lower() for i in items]
    for item in items:
        alias_m = re.match(r"(.*?)\s*\(([^)]+)\)\s*$", item)
        names = [alias_m.group(1).strip(), alias_m.group(2).strip()] if alias_m else [item]
        names = [n for n in names if n]
        first = names[0].split()[0]
        patterns = [_plural_pattern(n) for n in names]
        if (len(names[0].split()) > 1 and firsts.count(first.lower()) == 1 and first.lower() not in _STOP
                and first.lower() not in _GENERIC):
            patterns.append(_plural_pattern(first))
        label = names[-1] if alias_m else names[0]
        entities.append(Entity(name=_var_name(label), aliases=patterns, label=label))
    # every quantity must come back later in the text, or the list was not the decision list
    for ent in entities:
        hits = sum(len(re.findall(p, text, re.I)) for p in ent.aliases)
        if hits < 2:
            return []
    names = [e.name for e in entities]
    if len(set(names)) != len(names):
        return []
    return entities


def find_entities(text: str) -> list[Entity]:
    """The decision quantities of ``text`` (normalised), or [] when none are recognisable."""
    for finder in (_indexed, _letters, _named):
        entities = finder(text)
        if entities:
            return entities
    return []


def mention_spans(text: str, entities: list[Entity]) -> list[tuple[int, int, int]]:
    """Non-overlapping (start, end, entity index) spans of every mention, longest match first."""
    spans: list[tuple[int, int, int]] = []
    for k, ent in enumerate(entities):
        for pat in ent.aliases:
            spans.extend((m.start(), m.end(), k) for m in re.finditer(pat, text, re.I))
        for pat in ent.exact:
            spans.extend((m.start(), m.end(), k) for m in re.finditer(pat, text))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    result: list[tuple[int, int, int]] = []
    end = -1
    for span in spans:
        if span[0] >= end:
            result.append(span)
            end = span[1]
    return result
