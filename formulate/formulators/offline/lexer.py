"""Sentences of a normalised problem text -> token streams the sentence patterns read.

Tokens: NUM (value, percent flag, a global id for the unused-number check), VAR (entity index),
CMP (``>=``, ``<=``, ``==``; ``weak`` for bare minimum/maximum), EXCEED (``neg`` when negated),
RANGE, and small connective words (TIMES, PLUS, MINUS, AND, DIFF, MORE, LESS, THAN, BY, AS, ...).
Words that carry no structure become WORD tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from formulate.formulators.offline.entities import Entity, mention_spans


@dataclass
class Token:
    """One token; ``value`` depends on ``kind`` (number, entity index, operator)."""

    kind: str
    value: Any = None
    text: str = ""
    nid: int = -1          # global id of a NUM, for the unused-number check
    pct: bool = False
    word: bool = False     # a NUM written as a word ("three")
    span: tuple[int, int] = (-1, -1)   # characters of the sentence it came from


_PHRASES: list[tuple[str, str, Any]] = [
    (r"at all times|at any time|at any one time|all the time|at the same time|in time", "WORD", "always"),
    (r"(?:each|every|per|a) (?:day|week|month|year|shift|season|quarter|night|morning|evening|weekend)",
     "WORD", "timeframe"),
    # comparisons (longest first)
    (r"(?:is |are |be |must be |should be )?(?:greater than or equal to|more than or equal to|>=|=>)", "CMP", ">="),
    (r"(?:is |are |be )?(?:less than or equal to|<=|=<)", "CMP", "<="),
    (r"at least equal to|at least|no less than|not (?:be )?less than|never (?:be )?less than|no fewer than|"
     r"not (?:be )?fewer than|not (?:fall|go|drop|be) below|never (?:fall|go|drop) below|a minimum threshold of|"
     r"not (?:be )?lower than|no lower than|not (?:be )?smaller than|no smaller than|or more\b|or greater\b|"
     r"or above\b|a minimum of|minimum of|minimum threshold of|must reach|should reach|has to reach|"
     r"not (?:be )?under", "CMP", ">="),
    (r"at most|no more than|not (?:be )?more than|never (?:be )?more than|no greater than|not (?:be )?greater than|"
     r"not (?:be )?higher than|no higher than|not (?:be )?larger than|no larger than|not surpass|never surpass|"
     r"up to|a maximum of|maximum of|limited to|capped at|restricted to|or less\b|or fewer\b|or below\b|"
     r"not (?:be )?above|not go above|not to exceed|within", "CMP", "<="),
    (r"(?:is |are |be |must be |should be )?exactly|(?:is |are |be |must be |should be )?equal to|equals?\b|"
     r"(?<![<>!=])=(?!=)", "CMP", "=="),
    (r"(?:cannot|can not|can't|must not|mustn't|should not|shouldn't|does not|doesn't|do not|don't|will not|"
     r"won't|may not|not|never|no) (?:to )?(?:be allowed to )?exceed(?:s|ed|ing)?|(?:cannot|can not|can't|must not|"
     r"should not|does not|do not|may not|not|never) (?:to )?surpass(?:es)?", "EXCEED", "neg"),
    (r"exceed(?:s|ed|ing)?|surpass(?:es)?|outnumber(?:s)?", "EXCEED", "pos"),
    (r"(?:cannot|can not|can't|must not|should not|may not|shall not) (?:be )?(?:less|lower|smaller|fewer) than",
     "CMP", ">="),
    (r"(?:cannot|can not|can't|must not|should not|may not|shall not) (?:be )?(?:more|greater|higher|larger) than",
     "CMP", "<="),
    (r"meets? or exceeds?|at least meets?|at a minimum", "CMP", ">="),
    (r"(?:cannot|can not|can't|must not|should not|may not|will not|does not|do not|not) (?:[a-z]+ ){1,2}"
     r"(?:more|greater) than", "CMP", "<="),
    (r"(?:cannot|can not|can't|must not|should not|may not|will not|does not|do not|not) (?:[a-z]+ ){1,2}"
     r"(?:less|fewer) than", "CMP", ">="),
    (r"only(?= \d)", "CMP", "<="),
    (r"there (?:are|is) (?:a total of )?(?=\d)", "CMP", "weak<="),
    (r"above", "CMP", ">="),
    (r"below", "CMP", "<="),
    (r"only (?:[a-z]+ ){0,3}a (?:total|maximum) of|a total of only|at the most", "CMP", "<="),
    (r"minimum|min|lower bound|lower limit|lower limits|lower bounds", "CMP", "weak>="),
    (r"maximum|max|upper bound|upper limit|upper bounds|upper limits|cap|capacity of|a limit of|limit of|"
     r"available|in stock|on hand", "CMP", "weak<="),
    (r">", "CMP", ">"),
    (r"<", "CMP", "<"),
    (r"times as (?:much|many|large|high|big)", "TIMESAS", None),
    (r"\*|×|multiplied by|times", "TIMES", None),
    (r"with a (?:factor|weight|coefficient|multiplier) of|weighted by|with weights? of|at a rate of", "TIMES", "post"),
    (r"as (?:much|many|large|high|big)", "ASMANY", None),
    (r"as", "AS", None),
    (r"subtracted from", "SUBFROM", None),
    (r"minus|reduced by|decreased by|subtracting|less(?! than)|take away|-(?=\s)", "MINUS", None),
    (r"plus|added (?:to|with)|\+|along with|together with|combined with|in addition to", "PLUS", None),
    (r"difference (?:between|in|of)|difference", "DIFF", None),
    (r"respectively|in that order", "RESP", None),
    (r"more|greater|higher|larger|bigger", "MORE", None),
    (r"less|fewer|lower|smaller", "LESS", None),
    (r"than|compared to|compared with|relative to", "THAN", None),
    (r"ratio of", "RATIO", None),
    (r"by", "BY", None),
    (r"and|&", "AND", None),
    (r"or", "OR", None),
    (r"to", "TO", None),
    (r"from", "FROM", None),
    (r"between", "BETWEEN", None),
    (r"ranges?|ranging", "RANGEW", None),
    (r"total|combined|sum|altogether|overall|aggregate|all|both|together|whole", "TOTAL", None),
    (r"each|every|per|a unit of|one unit of", "EACH", None),
    (r"of", "OF", None),
    (r"\(", "LP", None),
    (r"\)", "RP", None),
    (r",|;|:", "COMMA", None),
]
_PHRASE_RE = re.compile("|".join(
    f"(?P<g{i}>(?:{p}){'' if kind in ('LP', 'RP', 'COMMA') else '(?![A-Za-z])'})"
    for i, (p, kind, _) in enumerate(_PHRASES)))
_NUM_RE = re.compile(r"(?<![\w.])(-)?(\d+(?:\.\d+)?|\.\d+)(\u2060)?(\s*%)?")
_WORD_RE = re.compile(r"[A-Za-z][\w'-]*")


class NumberCounter:
    """Hands out global ids for NUM tokens and remembers each number's value and context."""

    def __init__(self) -> None:
        self.values: dict[int, float] = {}
        self.context: dict[int, str] = {}

    def new(self, value: float, context: str) -> int:
        nid = len(self.values)
        self.values[nid] = value
        self.context[nid] = context
        return nid


def _lex_gap(text: str, counter: NumberCounter, sentence: str, offset: int = 0) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    low = text.lower()
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        num = _NUM_RE.match(text, pos)
        if num:
            before = sentence[:offset + pos].rstrip()
            neg = bool(num.group(1)) and (not before or not before[-1].isalnum()
                                          or re.search(r"(?:\b(?:be|is|are|of|equals?|to|at|than|below|above)|[=<>])$",
                                                       before.lower()) is not None)
            value = float(num.group(2)) * (-1 if neg else 1)
            tokens.append(Token("NUM", value, num.group(0).replace("\u2060", ""), counter.new(value, sentence),
                                bool(num.group(4)), bool(num.group(3)), (offset + pos, offset + num.end())))
            pos = num.end()
            continue
        ph = _PHRASE_RE.match(low, pos)
        if ph:
            group = ph.lastgroup or "g0"
            _, kind, value = _PHRASES[int(group[1:])]
            tokens.append(Token(kind, value, text[pos:ph.end()], span=(offset + pos, offset + ph.end())))
            pos = ph.end()
            continue
        word = _WORD_RE.match(text, pos)
        if word:
            tokens.append(Token("WORD", word.group(0).lower(), word.group(0), span=(offset + pos, offset + word.end())))
            pos = word.end()
            continue
        if text[pos] == ".":
            tokens.append(Token("COMMA", None, ".", span=(offset + pos, offset + pos + 1)))
        pos += 1
    return tokens


def lex(sentence: str, entities: list[Entity], counter: NumberCounter) -> list[Token]:
    """Tokens of one sentence, entity mentions as VAR tokens."""
    tokens: list[Token] = []
    pos = 0
    for start, end, k in mention_spans(sentence, entities):
        tokens.extend(_lex_gap(sentence[pos:start], counter, sentence, pos))
        tokens.append(Token("VAR", k, sentence[start:end], span=(start, end)))
        pos = end
    tokens.extend(_lex_gap(sentence[pos:], counter, sentence, pos))
    return _post(tokens)


def _merge_cmps(tokens: list[Token]) -> list[Token]:
    """``up to a maximum of`` -> one CMP; ``more than`` without a number before it -> a strict CMP."""
    out: list[Token] = []
    for t in tokens:
        if t.kind == "CMP" and out and out[-1].kind == "CMP":
            a, b = out[-1].value.replace("weak", ""), t.value.replace("weak", "")
            if a == b:
                if "weak" in out[-1].value:
                    out[-1] = t
                continue
        if t.kind == "THAN" and out and out[-1].kind in ("MORE", "LESS"):
            back = [x for x in out[-3:-1]]
            if not any(x.kind in ("NUM", "BY") for x in back):
                out[-1] = Token("CMP", ">" if out[-1].kind == "MORE" else "<", out[-1].text + " than")
                continue
        out.append(t)
    return out


def _post(tokens: list[Token]) -> list[Token]:
    """Fold ranges (``between 0 and 10``, ``from 0 to 10``, ``from a minimum of 0 to 10``) into RANGE tokens."""
    tokens = _merge_cmps(tokens)
    tokens = [t for i, t in enumerate(tokens)
              if not (t.kind == "CMP" and i > 0 and tokens[i - 1].kind == "FROM"
                      and i + 1 < len(tokens) and tokens[i + 1].kind == "NUM")
              and not (t.kind == "CMP" and i > 1 and tokens[i - 1].kind == "TO" and tokens[i - 2].kind == "NUM"
                       and i + 1 < len(tokens) and tokens[i + 1].kind == "NUM")]
    tokens = [Token("TO", None, "to") if (t.kind == "CMP" and t.value in ("<=", "weak<=") and i > 1
                                          and tokens[i - 1].kind == "NUM" and tokens[i - 2].kind == "FROM"
                                          and i + 1 < len(tokens) and tokens[i + 1].kind == "NUM") else t
              for i, t in enumerate(tokens)]
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1: i + 4]
        if t.kind == "VAR" and len(nxt) >= 3 and nxt[0].kind == "LP":
            close = next((j for j in range(i + 1, min(len(tokens), i + 7)) if tokens[j].kind == "RP"), None)
            inner = tokens[i + 2:close] if close is not None else []
            core = [x for x in inner if x.kind not in ("WORD", "AS", "OF")]
            if len(core) == 2 and core[0].kind == "NUM" and core[1].kind == "TIMES":
                out.extend([core[0], core[1], t])   # "X (counted as 2 times)" -> 2 times X
                i = close + 1
                continue
        if t.kind == "LP":
            close = next((j for j in range(i + 1, min(len(tokens), i + 6)) if tokens[j].kind == "RP"), None)
            inner = tokens[i + 1:close] if close is not None else []
            inner_vars = [x for x in inner if x.kind == "VAR"]
            recent = [x for x in out[-3:] if x.kind == "VAR"]
            if (len(inner_vars) == 1 and all(x.kind in ("VAR", "WORD") for x in inner) and recent
                    and recent[-1].value == inner_vars[0].value):
                i = close + 1      # "Math (X)", "patient care (department X)": one mention
                continue
        if (t.kind in ("BETWEEN", "FROM") and len(nxt) >= 3 and nxt[0].kind == "NUM"
                and nxt[1].kind in ("AND", "TO") and nxt[2].kind == "NUM"):
            out.append(Token("RANGE", (nxt[0], nxt[2]), "range", span=(t.span[0], nxt[2].span[1])))
            i += 4
            continue
        if (t.kind == "NUM" and len(nxt) >= 2 and nxt[0].kind == "TO" and nxt[1].kind == "NUM"
                and not t.pct):
            out.append(Token("RANGE", (t, nxt[1]), "range", span=(t.span[0], nxt[1].span[1])))
            i += 3
            continue
        out.append(t)
        i += 1
    return out


def source_text(tokens: list[Token], sentence: str) -> str:
    """The words of ``sentence`` that ``tokens`` came from (for notes and constraint descriptions)."""
    spans = [t.span for t in tokens if t.span[0] >= 0 and t.kind not in ("COMMA", "AND")]
    if not spans:
        return " ".join(t.text for t in tokens).strip(" ,")
    text = sentence[min(a for a, _ in spans):max(b for _, b in spans)]
    return re.sub(r"\s+", " ", text.replace("\u2060", "")).strip(" ,;:")


def split_sentences(text: str) -> list[str]:
    """Sentences and bullet items of a normalised text."""
    text = re.sub(r"(?<=[.:;,])\s*-\s*(?=[A-Z])|(?<=[.:;])\s*-\s+(?=[a-z0-9])|(?<=[A-Za-z0-9])-\s+(?=[A-Z])",
                  "\n", text)
    text = re.sub(r"\n\s*[-*•]\s*", "\n", text)
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|\n+|(?<=[a-z0-9)])\.(?=[A-Z])|(?<=:)\s*(?=-)", text)
    return [p.strip() for p in parts if p and p.strip(" .-")]
