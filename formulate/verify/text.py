"""Reading the problem text: its sentences, its numbers, and the sentence a piece of a model concerns.

Numbers are read in every form a word problem uses: digits with ``$ , %`` and scales (``$1,200``,
``2.5 million``, ``5e-7``, ``30%`` -> 30 and 0.3), written-out numbers (``twenty-five``, ``one
hundred``), and multiplier words (twice, half, double, triple, dozen, a third, a quarter). Each
number knows whether it is plainly data, or may be an identifier (``Product 1``), a list marker
(``1.`` at a line start), an ordinal (``2nd``), a year or a clock time, which the number check never
reports as missing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

_NUMBER = re.compile(
    r"(?<![\w.])(?P<cur>[$€£¥])?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\.\d+|\d+)"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?P<ordinal>st|nd|rd|th)?"
    r"(?:\s?(?P<scale>%|percent\b|per\s?cent\b|k\b|thousand\b|million\b|mn\b|billion\b|bn\b))?",
    re.IGNORECASE)
_SCALES = {"k": 1e3, "thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9}
_UNITS = {"zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_MULTIPLIERS = {"twice": 2.0, "double": 2.0, "doubled": 2.0, "triple": 3.0, "tripled": 3.0, "thrice": 3.0,
                "half": 0.5, "halved": 0.5, "dozen": 12.0, "dozens": 12.0, "quarter": 0.25, "third": 1 / 3,
                "fourth": 0.25, "fifth": 0.2, "tenth": 0.1, "quadruple": 4.0}
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?")
_IDENT_NOUNS = frozenset("""
product products item items type types machine machines plant plants factory factories warehouse warehouses
week weeks month months day days year years period periods quarter step stage stages project projects job jobs
task tasks worker store stores city cities region regions route routes line lines shift shifts model models
option options scenario scenarios case phase phases level levels room rooms site sites center centers centre
supplier suppliers customer customers location locations node nodes zone zones field fields farm farms
mine mines truck vehicle ship flight crop crops component components part parts grade grades class team
depot depots hub hubs port ports section unit process processes facility facilities market markets season
candidate candidates investment investments asset assets stock stocks bond bonds fund funds loan loans
course courses plan plans alternative alternatives method methods recipe recipes blend blends ingredient
ingredients nutrient nutrients employee employees operator operators vessel vessels aircraft tank tanks
source sources destination destinations origin origins warehouse station stations division divisions
department departments block blocks area areas region district districts batch batches order orders
""".split())
_MONTHS = frozenset("january february march april may june july august september october november december "
                    "jan feb mar apr jun jul aug sep sept oct nov dec".split())
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]\s*)?\(?\d{1,2}[.):]\s", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\"'$-])|\n\s*\n|\n(?=\s*(?:[-*•]|\(?\d{1,2}[.)]\s|\|))")


@dataclass(frozen=True)
class TextNumber:
    """A number of the text: its value, the exact text, where it is, the values it may stand for."""

    value: float
    text: str
    start: int
    end: int
    forms: tuple[float, ...] = field(default=())  # every value it may appear as (30% -> 30 and 0.3)
    data: bool = True  # False for identifiers, list markers, ordinals, years and times
    percent: bool = False

    @property
    def values(self) -> tuple[float, ...]:
        return self.forms or (self.value,)


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


def _previous_word(text: str, start: int) -> str:
    m = re.search(r"([A-Za-z]+)[\s#:]*$", text[max(0, start - 30):start])
    return m.group(1) if m else ""


def _is_identifier(text: str, start: int, end: int, value: float, raw: str) -> bool:
    """``Product 1``, ``Week 3``, ``plant 2``: a small whole number right after a naming noun."""
    if "." in raw or "," in raw or value > 1000:
        return False
    word = _previous_word(text, start)
    if not word:
        return False
    if word.lower() in _IDENT_NOUNS:
        return True
    before = text[max(0, start - len(word) - 3):start - len(word)]
    at_sentence_start = not before.strip() or before.rstrip()[-1:] in ".!?:\n"
    return word[0].isupper() and not at_sentence_start and word.lower() not in ("i", "a", "the", "each", "every")


def _is_time_or_year(text: str, start: int, end: int, value: float, raw: str) -> bool:
    if text[end:end + 1] == ":" and text[end + 1:end + 2].isdigit():
        return True
    if start > 0 and text[start - 1] == ":" and start > 1 and text[start - 2].isdigit():
        return True
    if re.match(r"\s?(?:a\.?m\.?|p\.?m\.?)(?![a-z])", text[end:end + 5], re.IGNORECASE):
        return True
    if raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100:
        word = _previous_word(text, start).lower()
        return word in {"in", "year", "since", "until", "by", "from", "of"} | _MONTHS or (text[end:end + 1] in ("-", "–") and text[end:end + 1] != "")
    return False


def numbers_in_text(text: str) -> list[TextNumber]:
    """Every number of ``text``, in order (see the module docstring for the forms read)."""
    return list(_numbers_in_text(text))


@lru_cache(maxsize=64)
def _numbers_in_text(text: str) -> tuple[TextNumber, ...]:
    found: list[TextNumber] = []
    marker_spans = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(text)]
    for m in _NUMBER.finditer(text):
        raw = m.group("num")
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        if m.group("exp"):
            value *= 10.0 ** int(m.group("exp"))
        scale = (m.group("scale") or "").lower().replace(" ", "")
        forms = [value]
        percent = False
        if scale in ("%", "percent"):
            percent = True
            forms = [value, value / 100.0]
        elif scale.rstrip("s") in _SCALES:
            forms = [value * _SCALES[scale.rstrip("s")], value]
            value = forms[0]
        start = m.start("cur") if m.group("cur") else m.start("num")
        data = True
        if m.group("ordinal"):
            data = False
        elif any(s <= m.start("num") < e for s, e in marker_spans):
            data = False
        elif _is_time_or_year(text, m.start("num"), m.end("num"), value, raw):
            data = False
        elif not m.group("cur") and not percent and _is_identifier(text, m.start("num"), m.end("num"), value, raw):
            data = False
        found.append(TextNumber(value, text[start:m.end()].strip(), start, m.end(), tuple(forms), data, percent))
    found.extend(_word_numbers(text))
    found.sort(key=lambda n: n.start)
    return tuple(found)


def _word_numbers(text: str) -> list[TextNumber]:
    """Written-out numbers and multiplier words."""
    out: list[TextNumber] = []
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        word = words[i].group(0).lower()
        parts = word.split("-")
        if parts[0] in _TENS or parts[0] in _UNITS or (parts[0] in ("one", "a") and _scale_follows(words, i)):
            value, j = _read_written(words, i)
            if value is not None and j > i:
                start, end = words[i].start(), words[j - 1].end()
                value, forms, percent, end = _percent_after(text, value, end)
                following = words[j].group(0).lower() if j < len(words) else ""
                if following in ("dozen", "dozens"):
                    forms = (value * 12.0, value)
                    value, end = value * 12.0, words[j].end()
                    j += 1
                elif following in ("third", "thirds", "quarter", "quarters", "fourth", "fourths", "fifth",
                                   "fifths", "tenth", "tenths", "half", "halves"):
                    frac = _MULTIPLIERS[following.rstrip("s") if following != "halves" else "half"]
                    forms = (value * frac, value)
                    value, end = value * frac, words[j].end()
                    j += 1
                out.append(TextNumber(value, text[start:end], start, end, forms, True, percent))
                i = j
                continue
        if word in _MULTIPLIERS and not (word in ("fourth", "third", "fifth", "tenth", "quarter")
                                         and _ordinal_use(words, i)):
            value = _MULTIPLIERS[word]
            out.append(TextNumber(value, words[i].group(0), words[i].start(), words[i].end(), (value,), True))
        i += 1
    return out


def _ordinal_use(words: list[re.Match[str]], i: int) -> bool:
    """``the third machine``: an ordinal, not a fraction (``a third of``, ``one quarter``)."""
    previous = words[i - 1].group(0).lower() if i > 0 else ""
    following = words[i + 1].group(0).lower() if i + 1 < len(words) else ""
    return not (previous in ("a", "one") or following == "of") or previous == "the"


def _scale_follows(words: list[re.Match[str]], i: int) -> bool:
    return i + 1 < len(words) and words[i + 1].group(0).lower() in ("hundred", "thousand", "million")


def _read_written(words: list[re.Match[str]], i: int) -> tuple[float | None, int]:
    """``two hundred and fifty`` -> (250, index after it); a lone ``one`` is not read."""
    total = 0.0
    current = 0.0
    j = i
    seen = False
    while j < len(words):
        word = words[j].group(0).lower()
        if j > i and word == "and" and j + 1 < len(words) and (
                words[j + 1].group(0).lower().split("-")[0] in _TENS | _UNITS.keys()):
            j += 1
            continue
        parts = word.split("-")
        if all(p in _UNITS or p in _TENS or p == "one" for p in parts) and not (parts == ["one"] and not
                                                                               _scale_follows(words, j)):
            if seen and current % 100 != 0 and current >= 20 and parts[0] in _TENS:
                break
            current += sum(_TENS.get(p, _UNITS.get(p, 1 if p == "one" else 0)) for p in parts)
            seen = True
        elif word == "a" and _scale_follows(words, j):
            current += 1
            seen = True
        elif word == "hundred" and seen:
            current = max(current, 1) * 100
        elif word in ("thousand", "million") and seen:
            total += max(current, 1) * (1e3 if word == "thousand" else 1e6)
            current = 0
        else:
            break
        j += 1
    if not seen:
        return None, i
    return total + current, j


def _percent_after(text: str, value: float, end: int) -> tuple[float, tuple[float, ...], bool, int]:
    m = re.match(r"\s?(?:%|percent\b|per\s?cent\b)", text[end:end + 10], re.IGNORECASE)
    if m:
        return value, (value, value / 100.0), True, end + m.end()
    return value, (value,), False, end


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
