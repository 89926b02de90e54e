"""Text clean-up for the rules formulator: LaTeX residue, number words, multipliers, percentages.

Everything here is string-to-string, so the lexer downstream only sees digits, ``%`` and plain words.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}

#: multiplier words that stand for "N times"
_TIMES_WORDS = {
    "twice": "2", "thrice": "3", "double": "2", "triple": "3", "quadruple": "4", "quintuple": "5",
    "doubled": "2", "tripled": "3",
}
#: fractions written in words, read as coefficients
_FRACTIONS = [
    (r"two and a half", "2.5"), (r"one and a half", "1.5"), (r"three and a half", "3.5"),
    (r"three[- ]quarters?", "0.75"), (r"three[- ]fourths?", "0.75"), (r"two[- ]thirds?", "0.6666666667"),
    (r"(?:a|one)[- ]half", "0.5"), (r"(?:a|one)[- ]third", "0.3333333333"), (r"(?:a|one)[- ]quarter", "0.25"),
    (r"(?:a|one)[- ]fourth", "0.25"), (r"(?:a|one)[- ]fifth", "0.2"), (r"two[- ]fifths?", "0.4"),
    (r"(?:a|one)[- ]tenth", "0.1"), (r"half", "0.5"),
]
_NOT_A_NUMBER = re.compile(
    r"\b(?:no one|any one|each one|this one|that one|one another|one of|one or more|one day|one-time|"
    r"one time only)\b", re.I)

#: follows a number that was written as a word ("three projects"), so counts can be told from data
WORD_MARK = "\u2060"

_NUMBER_WORD = "|".join(list(_UNITS) + list(_TENS) + list(_SCALES))
_NUMBER_PHRASE = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[- ](?:{_NUMBER_WORD}))*\b", re.I)


def _words_to_number(phrase: str) -> float | None:
    """Value of a number phrase such as ``two thousand five hundred``; None when it is not one."""
    words = [w for w in re.split(r"[- ]+", phrase.lower()) if w]
    total, current = 0.0, 0.0
    seen = False
    for word in words:
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            scale = _SCALES[word]
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


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
    text = re.sub(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d])", lambda m: m.group(1).replace(",", ""), text)
    text = re.sub(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]", r"from \1 to \2", text)
    text = re.sub(r"(?<![\w./])(\d{1,2})\s*/\s*(\d{1,2})(?![\w./])",
                  lambda m: _fmt(round(int(m.group(1)) / int(m.group(2)), 10)) if int(m.group(2)) else m.group(0), text)
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
    for word, value in _TIMES_WORDS.items():
        text = re.sub(rf"\b{word}\b(?:\s+as\s+(much|many)\b)?",
                      lambda m, v=value: f"{v} times" + (f" as {m.group(1)}" if m.group(1) else ""),
                      text, flags=re.I)
    text = re.sub(r"\bone time\b", "1 times", text, flags=re.I)
    text = re.sub(r"\b(one|two|three|four|five|six|seven|eight|nine|\d)[- ](halves|thirds?|quarters?|fourths?|fifths?|"
                  r"sixths?|eighths?|tenths?)(\s+of)?\b", _word_fraction, text, flags=re.I)
    for pattern, value in _FRACTIONS:
        text = re.sub(rf"\b{pattern}\b(?:\s+(?:of|the|times|as))?",
                      lambda m, v=value: _fraction_repl(m.group(0), v), text, flags=re.I)

    def number_repl(match: re.Match[str]) -> str:
        value = _words_to_number(match.group(0))
        return match.group(0) if value is None else _fmt(value) + WORD_MARK

    # digits followed by a scale word: "1.5 million" -> 1500000
    text = re.sub(r"(\d+(?:\.\d+)?)\s*(million|billion|thousand)\b",
                  lambda m: _fmt(round(float(m.group(1)) * _SCALES[m.group(2).lower()], 6)), text, flags=re.I)
    text = _NUMBER_PHRASE.sub(number_repl, text)
    text = re.sub(rf"(\d+(?:\.\d+)?){WORD_MARK}?\s*(?:percent|per cent)\b", r"\1%", text, flags=re.I)
    text = re.sub(r"(\d)\s*k\b", lambda m: m.group(1) + "000", text)
    for key, original in protected.items():
        text = text.replace(key, original)
    return text


_DENOMS = {"half": 2, "halve": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6, "eighth": 8,
           "tenth": 10}


def _word_fraction(match: re.Match[str]) -> str:
    """``three-fifths of`` -> ``0.6 times``."""
    num = match.group(1).lower()
    top = float(num) if num.isdigit() else _UNITS[num]
    den = _DENOMS[match.group(2).lower().rstrip("s")]
    if top >= den:
        return match.group(0)
    value = _fmt(round(top / den, 10))
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
