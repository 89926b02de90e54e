"""Text clean-up for the rules formulator: LaTeX residue, number words, multipliers, percentages.

Everything here is string-to-string, so the lexer downstream only sees digits, ``%`` and plain words.
"""

from __future__ import annotations

import re

from formulate.text.numbers import (
    DENOMINATORS,
    PERCENT_WORD,
    SCALE_WORDS,
    TENS,
    THOUSANDS,
    TIMES,
    UNITS,
    number_text,
    words_value,
)

#: fractions written in words, read as coefficients (``three quarters`` is read by :func:`_word_fraction`)
_FRACTIONS = [(rf"{whole} and a half", number_text(UNITS[whole] + 0.5)) for whole in ("two", "one", "three")] + [
    (rf"(?:a|one)[- ]{word}", number_text(round(1 / den, 10))) for word, den in DENOMINATORS.items()] + [
    (r"half", "0.5")]
_NOT_A_NUMBER = re.compile(
    r"\b(?:no one|any one|each one|this one|that one|one another|one of|one or more|one day|one-time|"
    r"one time only)\b", re.I)

#: follows a number that was written as a word ("three projects"), so counts can be told from data
WORD_MARK = "\u2060"

_NUMBER_WORD = "|".join(list(UNITS) + list(TENS) + list(SCALE_WORDS))
_NUMBER_PHRASE = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[- ](?:{_NUMBER_WORD}))*\b", re.I)
_LARGE_SCALE = "|".join(w for w in SCALE_WORDS if w != "hundred")   # "1.5 million" (not "2 hundred")
_DENOMINATOR = "|".join(f"{w}s?" for w in DENOMINATORS if w != "half")


def clean_latex(text: str) -> str:
    """Drop LaTeX residue (``$X$``, ``\\$50``, ``\\geq``, literal ``\\n``) and thousands separators."""
    text = text.replace("\\\\n", "\n").replace("\\n", "\n")
    text = re.sub(r"\\+%", "%", text)
    text = re.sub(r"\\+\$", "$", text)
    replacements = {r"\\geq?\b": " >= ", r"\\leq?\b": " <= ", r"\\times\b": " * ", r"\\cdot\b": " * ",
                    r"\\ne(?:q)?\b": " != ", r"\\text\{([^}]*)\}": r"\1", r"\\mathrm\{([^}]*)\}": r"\1",
                    r"\\frac\{([^}]*)\}\{([^}]*)\}": r"(\1/\2)", r"\\left|\\right": "", r"\\,|\\ |\\;": " "}
    for pattern, repl in replacements.items():
        text = re.sub(pattern, repl, text)
    text = re.sub(r"_\{(\w+)\}", r"\1", text)         # x_{1} -> x1
    text = re.sub(r"\b([xX])_(\d+)\b", r"\1\2", text)   # x_1 -> x1
    text = text.replace("≥", " >= ").replace("≤", " <= ").replace("−", "-").replace("–", "-")
    text = text.replace("\\", " ")
    text = text.replace("{", " ").replace("}", " ")
    # currency and math delimiters: "$\$50$" -> "$50"; "$X$" -> "X"
    text = re.sub(r"\$+", "$", text)
    text = re.sub(r"\$(?=\s*[-\d.])", " USD", text)
    text = text.replace("$", " ")
    text = re.sub(r"USD\s*", "", text)
    # thousands separators: 10,000 -> 10000 (but not "2, 3" lists)
    text = re.sub(rf"(?<![\d.])({THOUSANDS})(?![\d])", lambda m: m.group(1).replace(",", ""), text)
    text = re.sub(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]", r"from \1 to \2", text)
    text = re.sub(r"(?<![\w./])(\d{1,2})\s*/\s*(\d{1,2})(?![\w./])",
                  lambda m: number_text(round(int(m.group(1)) / int(m.group(2)), 10)) if int(m.group(2)) else m.group(0), text)
    text = re.sub(r"\(\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)(?=[\s)])", r"( \1 to \2", text)
    text = re.sub(r"\b(of|to|than|by|at)(\d)", r"\1 \2", text)
    text = re.sub(r"(?<=[A-Za-z])\(", " (", text)
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)(?:-\s?|\s-)(\d+(?:\.\d+)?)(?![\w.])", r"\1 to \2", text)
    text = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)([A-Za-z])(?![A-Za-z])", r"\1 \2", text)  # 0.5y -> 0.5 y
    return re.sub(r"[ \t]+", " ", text)


def numbers_from_words(text: str) -> str:
    """Turn number words, multipliers, fractions and percent words into digits."""
    protected: dict[str, str] = {}

    def protect(match: re.Match[str]) -> str:
        key = f"\x00{len(protected)}\x00"
        protected[key] = match.group(0)
        return key

    text = _NOT_A_NUMBER.sub(protect, text)
    for word, value in TIMES.items():
        text = re.sub(rf"\b{word}\b(?:\s+as\s+(much|many)\b)?",
                      lambda m, v=number_text(value): f"{v} times" + (f" as {m.group(1)}" if m.group(1) else ""),
                      text, flags=re.I)
    text = re.sub(r"\bone time\b", "1 times", text, flags=re.I)
    text = re.sub(rf"\b(one|two|three|four|five|six|seven|eight|nine|\d)[- ](halves|{_DENOMINATOR})(\s+of)?\b",
                  _word_fraction, text, flags=re.I)
    for pattern, value in _FRACTIONS:
        text = re.sub(rf"\b{pattern}\b(?:\s+(?:of|the|times|as))?",
                      lambda m, v=value: _fraction_repl(m.group(0), v), text, flags=re.I)

    def number_repl(match: re.Match[str]) -> str:
        value = words_value(match.group(0))
        return match.group(0) if value is None else number_text(value) + WORD_MARK

    # digits followed by a scale word: "1.5 million" -> 1500000
    text = re.sub(rf"(\d+(?:\.\d+)?)\s*({_LARGE_SCALE})\b",
                  lambda m: number_text(round(float(m.group(1)) * SCALE_WORDS[m.group(2).lower()], 6)), text, flags=re.I)
    text = _NUMBER_PHRASE.sub(number_repl, text)
    text = re.sub(rf"(\d+(?:\.\d+)?){WORD_MARK}?\s*(?:{PERCENT_WORD})", r"\1%", text, flags=re.I)
    text = re.sub(r"(\d)\s*k\b", lambda m: m.group(1) + "000", text)
    for key, original in protected.items():
        text = text.replace(key, original)
    return text


def _word_fraction(match: re.Match[str]) -> str:
    """``three-fifths of`` -> ``0.6 times``."""
    num = match.group(1).lower()
    top = float(num) if num.isdigit() else UNITS[num]
    word = match.group(2).lower()
    den = 2 if word == "halves" else DENOMINATORS[word.removesuffix("s")]
    if top >= den:
        return match.group(0)
    value = number_text(round(top / den, 10))
    return f"{value} times" if match.group(3) else value


def _fraction_repl(matched: str, value: str) -> str:
    """``half of`` -> ``0.5 times``; ``half as many`` -> ``0.5 times as many``; bare ``half`` -> ``0.5``."""
    tail = matched.split()[-1].lower()
    if tail in ("of", "the"):
        return f"{value} times " + ("the" if tail == "the" else "")
    if tail == "times":
        return f"{value} times"
    if tail == "as":
        return f"{value} times as"
    return value


def normalise(text: str) -> str:
    """The whole clean-up: LaTeX, then words to numbers."""
    return numbers_from_words(clean_latex(text))
