"""The one number reader of problem text: its word tables, its patterns and the reader itself.

Numbers are read in every form a word problem uses: digits with ``$ , %`` and scales (``$1,200``,
``2.5 million``, ``5e-7``, ``30%`` -> 30 and 0.3), written-out numbers (``twenty-five``, ``one
hundred``, ``two hundred and fifty``), multiplier words (twice, half, double, triple, dozen) and
fractions (``a third``, ``two thirds``). Digits inside a word or a name are not numbers (``H2O``,
``X200``). Each number knows whether it is plainly data, or may be an identifier (``Product 1``), a
list marker (``1.`` at a line start), an ordinal (``2nd``), a year or a clock time.

Callers: the verifier (:mod:`formulate.verify.numbers`), the tagged offline reader (token indices) and
the template reader (text rewritten to digits) adapt :func:`read_text_numbers` and the tables here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

#: written units and teens
UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
#: written tens
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
        "ninety": 90}
#: scale words, written (``two thousand``) or after digits (``2.5 million``)
SCALE_WORDS = {"hundred": 100.0, "thousand": 1e3, "million": 1e6, "billion": 1e9}
#: short scales after digits (``200k``, ``3 bn``)
SHORT_SCALES = {"k": 1e3, "mn": 1e6, "bn": 1e9}
#: "N times" words
TIMES = {"twice": 2.0, "double": 2.0, "doubled": 2.0, "thrice": 3.0, "triple": 3.0, "tripled": 3.0,
         "quadruple": 4.0, "quintuple": 5.0}
#: fraction words and their denominators (``a third``, ``three quarters``)
DENOMINATORS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6, "eighth": 8,
                "tenth": 10}
DOZEN = 12.0
#: every word worth a number alone: times words, half/halved, dozen, unit fractions
MULTIPLIERS = {**TIMES, "halved": 0.5, "dozen": DOZEN, "dozens": DOZEN,
               **{w: 1.0 / d for w, d in DENOMINATORS.items()}}
#: percent written after a number (regex text), and with the sign
PERCENT_WORD = r"percent\b|per\s?cent\b"
PERCENT = rf"%|{PERCENT_WORD}"
#: digits with thousands separators (regex text)
THOUSANDS = r"\d{1,3}(?:,\d{3})+"
#: a plain decimal number (regex text): ``1,500.25``, ``2.5``, ``.5``, ``12``
DECIMAL = rf"{THOUSANDS}(?:\.\d+)?|\d+\.\d+|\.\d+|\d+"
_NUMBER = re.compile(
    r"(?<![\w.])(?P<cur>[$€£¥])?\s?"
    rf"(?P<num>{DECIMAL})"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?P<ordinal>st|nd|rd|th)?"
    rf"(?:\s?(?P<scale>{PERCENT}|k\b|thousand\b|million\b|mn\b|billion\b|bn\b))?",
    re.IGNORECASE)
_PERCENT_AFTER = re.compile(rf"\s?(?:{PERCENT})", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?")
_FRACTION_USE = {"third", "quarter", "fourth", "fifth", "sixth", "eighth", "tenth"}
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


@dataclass(frozen=True)
class TextNumber:
    """A number of the text: its value, the exact text, where it is, the values it may stand for."""

    value: float
    text: str
    start: int
    end: int
    forms: tuple[float, ...] = field(default=())  # every value it may appear as (30% -> 30 and 0.3)
    data: bool = True  # False for identifiers, list markers, ordinals, years, times and a lone "one"
    percent: bool = False
    kind: str = "digits"  # digits, words (written out), multiplier (twice, a third), one (a lone "one")
    money: bool = False   # after a currency sign

    @property
    def values(self) -> tuple[float, ...]:
        return self.forms or (self.value,)


def parse_decimal(raw: str) -> float:
    """``1,500.25`` -> 1500.25."""
    return float(raw.replace(",", ""))


def read_text_numbers(text: str) -> tuple[TextNumber, ...]:
    """Every number of ``text``, in order (see the module docstring for the forms read)."""
    return _read(text)


@lru_cache(maxsize=64)
def _read(text: str) -> tuple[TextNumber, ...]:
    found = _digit_numbers(text) + _word_numbers(text)
    found.sort(key=lambda n: n.start)
    return tuple(found)


def _digit_numbers(text: str) -> list[TextNumber]:
    found: list[TextNumber] = []
    marker_spans = [(m.start(), m.end()) for m in _LIST_MARKER.finditer(text)]
    for m in _NUMBER.finditer(text):
        raw = m.group("num")
        value = parse_decimal(raw)
        if m.group("exp"):
            value *= 10.0 ** int(m.group("exp"))
        scale = "".join((m.group("scale") or "").lower().split())
        forms = [value]
        percent = False
        if scale in ("%", "percent"):
            percent = True
            forms = [value, value / 100.0]
        elif scale:
            factor = SCALE_WORDS.get(scale) or SHORT_SCALES[scale]
            forms = [value * factor, value]
            value = forms[0]
        start = m.start("cur") if m.group("cur") else m.start("num")
        data = not (m.group("ordinal")
                    or any(s <= m.start("num") < e for s, e in marker_spans)
                    or _is_time_or_year(text, m.start("num"), m.end("num"), value, raw)
                    or (not m.group("cur") and not percent
                        and _is_identifier(text, m.start("num"), value, raw)))
        found.append(TextNumber(value, text[start:m.end()].strip(), start, m.end(), tuple(forms), data, percent,
                                money=bool(m.group("cur"))))
    return found


def _previous_word(text: str, start: int) -> str:
    m = re.search(r"([A-Za-z]+)[\s#:]*$", text[max(0, start - 30):start])
    return m.group(1) if m else ""


def _is_identifier(text: str, start: int, value: float, raw: str) -> bool:
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
    if start > 1 and text[start - 1] == ":" and text[start - 2].isdigit():
        return True
    if re.match(r"\s?(?:a\.?m\.?|p\.?m\.?)(?![a-z])", text[end:end + 5], re.IGNORECASE):
        return True
    if raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100:
        word = _previous_word(text, start).lower()
        return word in {"in", "year", "since", "until", "by", "from", "of"} | _MONTHS or text[end:end + 1] in ("-", "–")
    return False


def _word_numbers(text: str) -> list[TextNumber]:
    """Written-out numbers, multiplier words and fractions."""
    out: list[TextNumber] = []
    words = [m for m in _WORD.finditer(text)]
    lower = [m.group(0).lower() for m in words]
    i = 0
    while i < len(words):
        word = lower[i]
        value, j = phrase_value(lower, i)
        if value is not None:
            start, end = words[i].start(), words[j - 1].end()
            forms: tuple[float, ...] = (value,)
            m = _PERCENT_AFTER.match(text, end, min(len(text), end + 10))
            percent = m is not None
            if m:
                forms, end = (value, value / 100.0), m.end()
            following = lower[j] if j < len(words) else ""
            if following in ("dozen", "dozens"):
                forms = (value * DOZEN, value)
                value, end = value * DOZEN, words[j].end()
                j += 1
            elif following.removesuffix("s") in DENOMINATORS or following == "halves":
                frac = 0.5 if following == "halves" else 1.0 / DENOMINATORS[following.removesuffix("s")]
                forms = (value * frac, value)
                value, end = value * frac, words[j].end()
                j += 1
            out.append(TextNumber(value, text[start:end], start, end, forms, True, percent, kind="words"))
            i = j
            continue
        if word == "one" and not (i + 1 < len(words) and lower[i + 1] in DENOMINATORS):  # "one third": a fraction
            out.append(TextNumber(1.0, words[i].group(0), words[i].start(), words[i].end(), (1.0,), False, kind="one"))
        elif word in MULTIPLIERS and not (word in _FRACTION_USE and _ordinal_use(lower, i)):
            value = MULTIPLIERS[word]
            out.append(TextNumber(value, words[i].group(0), words[i].start(), words[i].end(), (value,),
                                  kind="multiplier"))
        i += 1
    return out


def _ordinal_use(words: Sequence[str], i: int) -> bool:
    """``the third machine``: an ordinal, not a fraction (``a third of``, ``one quarter``)."""
    previous = words[i - 1] if i > 0 else ""
    following = words[i + 1] if i + 1 < len(words) else ""
    return not (previous in ("a", "one") or following == "of") or previous == "the"


def _scale_follows(words: Sequence[str], i: int) -> bool:
    return i + 1 < len(words) and words[i + 1] in SCALE_WORDS


_AFTER_AND = (UNITS.keys() - {"one"}) | TENS.keys()   # "two hundred and fifty"


def _number_word(word: str) -> bool:
    return all(p in UNITS or p in TENS for p in word.split("-"))


def phrase_value(words: Sequence[str], i: int = 0) -> tuple[float | None, int]:
    """The written number starting at ``words[i]`` (lower-case words, hyphenated ones allowed):
    ``two hundred and fifty`` -> (250, index after it); (None, i) when none starts there.

    A lone ``one`` is no number (``one of``, ``each one``); ``one``/``a`` before a scale word is
    (``one hundred``, ``a thousand``), and so is ``one`` after tens (``twenty one``).
    """
    total = current = 0.0
    j = i
    seen = False
    while j < len(words):
        word = words[j]
        if seen and word == "and" and j + 1 < len(words) and words[j + 1].split("-")[0] in _AFTER_AND:
            j += 1
            continue
        parts = word.split("-")
        tens_before = seen and current % 100 >= 20 and current % 10 == 0
        if _number_word(word) and (parts != ["one"] or _scale_follows(words, j) or tens_before):
            if seen and current % 100 != 0 and current >= 20 and parts[0] in TENS:
                break
            current += sum(TENS.get(p, UNITS.get(p, 0)) for p in parts)
            seen = True
        elif word == "a" and _scale_follows(words, j):
            current += 1
            seen = True
        elif word in SCALE_WORDS and seen:
            if word == "hundred":
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * SCALE_WORDS[word]
                current = 0
        else:
            break
        j += 1
    if not seen:
        return None, i
    return total + current, j


def words_value(phrase: str) -> float | None:
    """Value of a whole number phrase (``two thousand five hundred``, ``one``, ``hundred``); None when it is
    not one number."""
    words = [w for w in re.split(r"[- ]+", phrase.lower()) if w]
    if words and words[0] in SCALE_WORDS:
        words.insert(0, "one")
    if words == ["one"]:
        return 1.0
    value, j = phrase_value(words)
    return value if words and j == len(words) else None


def number_text(value: float) -> str:
    """``3.0`` -> ``3``, ``0.25`` -> ``0.25``: a value written back into text."""
    return str(int(value)) if float(value).is_integer() else repr(value)
