"""The tagged reader: CRF tags -> quantities, coefficients, limits, directions -> a linear model.

Every number must find a place: a coefficient goes to the limit (or objective) whose words it shares, a
limit with no coefficients becomes a bound, a share of the total, or a cap on the total; a comparison of two
quantities becomes ``x op k*y``. Anything left over makes the reader refuse with the sentence it could not read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from formulate.formulators.offline.mentions import Quantity, first_mention_names, mentions, quantities, stem
from formulate.formulators.offline.numbers_tagged import STOP, Number, canonical, read_numbers
from formulate.formulators.offline.patterns import Row
from formulate.formulators.offline.tagger import Tagger, default_tagger
from formulate.formulators.offline.tokens import Tok, sentences, tokenize

_BOUNDARY = {",", ";", ":", "while", "whereas", "but", "and", "(", ")", ".", "?", "!", "whilst", "or"}
_DIR_WORDS = re.compile(
    r"\b(?:at least|at most|no more than|not more than|no less than|not less than|a minimum of|a maximum of|"
    r"minimum|maximum|up to|cannot exceed|can not exceed|not exceed|must exceed|more than|less than|"
    r"fewer than|exactly|equal to|a total of|available|budget of|limited to|larger than|greater than|"
    r"bigger than|higher than|smaller than|lower than)\b")
_AVAILABLE = {"available", "budget", "capacity", "stock", "hand", "remaining", "left", "supply", "reserve"}
_PER_WORDS = {"each", "per", "every", "a", "an", "one"}
_MEASURES = re.compile(
    r"\b(?:acres?|kg|kilograms?|grams?|g|pounds?|lbs?|tons?|tonnes?|liters?|litres?|ml|milliliters?|gallons?|"
    r"ounces?|oz|hours?|minutes?|dollars?|\$|hectares?|meters?|feet|square|cubic|cups?|lb|mg|amount|much)\b")
_INTEGER_WORDS = re.compile(r"\b(?:integers?|whole|indivisible)\b", re.I)
_CONTINUOUS_WORDS = re.compile(r"\b(?:fractions? of|fractional|continuous|partial)\b", re.I)
_MAX = re.compile(r"\b(?:maximi[sz]\w*|max|most|highest|greatest|largest|biggest|best)\b", re.I)
_MIN = re.compile(r"\b(?:minimi[sz]\w*|min|least|lowest|fewest|smallest|cheapest)\b", re.I)


class Unread(Exception):
    """The reader could not place something: the message names it.

    ``early`` marks a text the reader could not even begin on (no quantities, no direction): the template
    reader may try it. A later refusal means the text was read as natural prose and something in it did
    not fit, so no other reading is trusted either.
    """

    def __init__(self, message: str, early: bool = False) -> None:
        super().__init__(message)
        self.early = early


@dataclass
class Reading:
    """What the tagged reader made of a text."""

    names: list[str]
    labels: list[str]
    sense: str
    objective: dict[int, float]
    rows: list[Row]
    integer: bool
    penalty: float
    doubts: list[str]
    notes: list[str]


def op_of(phrase: str) -> str | None:
    """``<=``, ``>=`` or ``==`` for a direction phrase such as ``no more than`` or ``at least``."""
    p = phrase.lower()
    if re.search(r"\b(?:exactly|equal|equals|precisely)\b", p):
        return "=="
    neg = bool(re.search(r"\b(?:not|no|cannot|never)\b|n't", p))
    if re.search(r"\b(?:least|minimum|min|more|greater|larger|bigger|higher|exceeds?|exceeding|over|above|atleast)\b", p):
        return "<=" if neg else ">="
    if re.search(r"\b(?:most|maximum|max|less|fewer|smaller|lower|up to|below|under|within|limit\w*|available|only|budget|"
                 r"capacity|remain\w*|left|has|have|total|supply|spend)\b", p):
        return ">=" if neg and re.search(r"\b(?:less|fewer|below|under)\b", p) else "<="
    if re.search(r"\b(?:requires?|needs?|must|demands?)\b", p):
        return ">="
    return None


class _Text:
    """A tokenised, tagged text and the facts read off it."""

    def __init__(self, text: str, tagger: Tagger) -> None:
        self.text = text
        self.tokens: list[Tok] = tokenize(text)
        self.tags = tagger.tag([t.text for t in self.tokens])
        self.qs: list[Quantity] = quantities(self.tokens, self.tags)
        self.mention = mentions(self.tokens, self.qs)
        chosen = self._either_or()
        if chosen and len(chosen) < len(self.qs):
            self.qs = [q for k, q in enumerate(self.qs) if k in chosen]
            self.mention = mentions(self.tokens, self.qs)
        order = sorted(range(len(self.qs)), key=lambda k: next(
            (i for i, m in enumerate(self.mention) if m == k), len(self.tokens)))
        self.qs = [self.qs[k] for k in order]
        self.mention = mentions(self.tokens, self.qs)
        first_mention_names(self.tokens, self.qs, self.mention)
        self.sentence_of: list[int] = [0] * len(self.tokens)
        self.sents = sentences(self.tokens)
        for s, idx in enumerate(self.sents):
            for i in idx:
                self.sentence_of[i] = s
        self.clause_of: list[int] = []
        clause = 0
        for i, t in enumerate(self.tokens):
            if t.lower in _BOUNDARY and not (t.lower in ("and", "or") and self._joins_quantities(i)):
                clause += 1
            self.clause_of.append(clause)
        self.dirs = self._direction_spans()
        self.numbers: list[Number] = []

    def _either_or(self) -> set[int]:
        """``by either tractor or car``: the text names the choice outright."""
        for i, t in enumerate(self.tokens):
            if t.lower != "either":
                continue
            picked: list[int] = []
            for j in range(i + 1, min(i + 12, len(self.tokens))):
                if self.tokens[j].lower in (".", ";", ","):
                    break
                m = self.mention[j]
                if m is not None and m not in picked:
                    picked.append(m)
            if len(picked) >= 2 and any(self.tokens[j].lower == "or" for j in range(i + 1, min(i + 12, len(self.tokens)))):
                return set(picked)
        return set()

    def _joins_quantities(self, i: int) -> bool:
        """``turnips and pumpkins``: a list of quantities, not two clauses."""
        before = i > 0 and self.mention[i - 1] is not None
        after = any(self.mention[j] is not None for j in range(i + 1, min(i + 3, len(self.tokens)))
                    if all(self.tokens[k].lower in ("the", "a", "an") for k in range(i + 1, j)))
        return before and after

    def sentence_text(self, s: int) -> str:
        idx = self.sents[s]
        return self.text[self.tokens[idx[0]].start:self.tokens[idx[-1]].end]

    def clause_tokens(self, i: int) -> list[int]:
        c = self.clause_of[i]
        lo = i
        while lo > 0 and self.clause_of[lo - 1] == c:
            lo -= 1
        hi = i
        while hi + 1 < len(self.tokens) and self.clause_of[hi + 1] == c:
            hi += 1
        return list(range(lo, hi + 1))

    def _direction_spans(self) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        start = None
        for i, tag in enumerate(self.tags + ["O"]):
            if start is not None and tag != "I-CONST_DIR":
                phrase = " ".join(t.lower for t in self.tokens[start:i])
                op = op_of(phrase)
                if op:
                    spans.append((start, i, op))
                start = None
            if tag == "B-CONST_DIR":
                start = i
        lows = [t.lower for t in self.tokens]
        joined = " ".join(lows)
        offsets, pos = [], 0
        for w in lows:
            offsets.append(pos)
            pos += len(w) + 1
        for m in _DIR_WORDS.finditer(joined):
            a = offsets.index(m.start()) if m.start() in offsets else None
            if a is None:
                continue
            b = a + len(m.group(0).split())
            if any(s <= a < e for s, e, _ in spans):
                continue
            op = op_of(m.group(0))
            if op:
                spans.append((a, b, op))
        return sorted(spans)


def _near_direction(tx: _Text, num: Number) -> tuple[str, int] | None:
    """The direction phrase just before a number (``at least $ 500``), or ``available`` just after."""
    start, end = num.span
    owner = not any(tx.mention[j] is not None for j in tx.clause_tokens(num.index) if j < start)
    for a, b, op in tx.dirs:
        phrase = " ".join(t.lower for t in tx.tokens[a:b])
        if not owner and phrase in ("has", "have", "contains", "with", "has available", "have available"):
            continue               # "each bowl of oatmeal has 5 grams": a coefficient, not a cap
        if b <= start and start - b <= 3 and tx.sentence_of[a] == tx.sentence_of[start]:
            between = [t.lower for t in tx.tokens[b:start]]
            if all(w in ("$", "of", "a", "an", "the", "total", "to", "be", "is", "are", "than", "only") for w in between):
                return op, a
    before = [t.lower for t in tx.tokens[max(0, start - 3):start]]
    if owner and (before and before[-1] in ("has", "have", "owns", "with") or before[-2:] in (["has", "a"],
                                                                                               ["have", "a"])):
        return "<=", start - 1
    after = [t.lower for t in tx.tokens[end:end + 6]]
    for k, w in enumerate(after):
        if w in (".", "?", ";", ",", "and", "while"):
            break
        if w in _AVAILABLE:
            return "<=", end + k
    return None


def _roles(tx: _Text, nums: list[Number]) -> None:
    prev_in_sentence: dict[int, Number] = {}
    for num in nums:
        s = tx.sentence_of[num.index]
        num.sentence = s
        tag = tx.tags[num.index]
        nxt = tx.tokens[num.span[1]].lower if num.span[1] < len(tx.tokens) else ""
        low = tx.tokens[num.index].lower
        if nxt == "times" or low in ("twice", "thrice", "double", "triple") or (
                low == "half" and nxt in ("as", "the", "of", "that")):
            num.role = "mult"
        elif num.written and tag == "O" and _counts(tx, num, low, nxt):
            num.role = "count"
        else:
            near = _near_direction(tx, num)
            prev = prev_in_sentence.get(s)
            if near is not None:
                num.role, num.op = "limit", near[0]
            elif prev is not None and prev.role == "limit" and _continues_list(tx, prev, num):
                num.role, num.op = "limit", prev.op
            elif prev is not None and prev.role == "param" and _continues_list(tx, prev, num):
                num.role = "param"
            elif _var_for(tx, num) is not None and (tag != "B-LIMIT" or _per_item(tx, num) or any(
                    tx.tokens[j].lower == "respectively" for j in tx.sents[s])):
                num.role = "param"
            elif tag == "B-LIMIT":
                num.role = "limit"
                num.op = _sentence_direction(tx, num) or _clause_op(tx, num)
            elif _clause_op(tx, num):
                num.role, num.op = "limit", _clause_op(tx, num)
            elif _var_for(tx, num) is not None:
                num.role = "param"
            else:
                num.role = ""
        if num.role in ("limit", "param"):
            prev_in_sentence[s] = num


#: nouns that gather the quantities themselves: "the total number of vehicles"
_COLLECTIVE = {"vehicle", "item", "product", "unit", "machine", "worker", "employee", "trip", "ride", "batch",
               "ad", "advertisement", "car", "truck", "boat", "plane", "container", "bottle", "box", "package",
               "meal", "serving", "pill", "shift", "staff", "piece", "thing", "type", "factory",
               "plant", "store", "shop", "lift", "drill", "swab", "test", "jar", "transport", "transportation",
               "equipment", "device", "desk", "table", "bus", "crate", "bag", "can", "cart", "lamp", "light",
               "form", "option", "kind"}
_COUNT_NOUNS = {"types", "kinds", "different", "sorts", "products", "options", "ways", "methods", "machines",
                "vehicles", "items", "categories", "models", "sizes", "factories", "plants", "stores", "shifts"}


def _counts(tx: _Text, num: Number, low: str, nxt: str) -> bool:
    """A written number that counts the kinds of things (``two types``, ``one unit of``), not data."""
    if low in ("one", "half", "dozen") or nxt in ("%", "percent"):
        return low == "one"
    j = num.span[1]
    if nxt in _COUNT_NOUNS or (j < len(tx.tokens) and (tx.mention[j] is not None or tx.tags[j].endswith("VAR"))):
        return True
    clause = tx.clause_tokens(num.index)
    return not any(tx.mention[k] is not None for k in clause if k < num.index)


def _check_count(tx: _Text, nums: list[Number], n: int) -> None:
    """``three different channels`` but two quantities found: the reading of the quantities is wrong."""
    for num in nums:
        if num.role != "count" or not 2 <= num.value <= 9 or num.span[1] >= len(tx.tokens):
            continue
        nxt = tx.tokens[num.span[1]].lower
        if (nxt in _COUNT_NOUNS or nxt.endswith("s")) and num.value != n:
            raise Unread(f"the text speaks of {_fmt(num.value)} {nxt} but I found {n} quantities "
                         f"({', '.join(q.name for q in tx.qs)})", early=True)


def _per_item(tx: _Text, num: Number) -> bool:
    """``Each bowl of oatmeal has 5 grams``: the clause speaks of one item of a quantity."""
    clause = [j for j in tx.clause_tokens(num.index) if j < num.index]
    for j in clause:
        if tx.mention[j] is not None:
            lead = {tx.tokens[k].lower for k in range(max(clause[0], j - 4), j)}
            return bool(lead & {"each", "every", "per", "a", "an", "one"})
    return False


def _continues_list(tx: _Text, prev: Number, num: Number) -> bool:
    """``at least 3000 calories and 80 grams of protein``: the second number continues the first's list."""
    between = tx.tokens[prev.span[1]:num.span[0]]
    if len(between) > 8 or not any(t.lower in (",", "and", "or") for t in between):
        return False
    return not any(t.lower in ("each", "per", "every", "requires", "needs", "costs", "takes", "uses")
                   for t in between)


_CAP_WORDS = re.compile(r"\b(?:only|available|has|have|budget|capacity|can spend|up to|limit|investment of|"
                        r"invest|a total of|among|between|there are|there is|open|operates|operational|runs)\b")


def _clause_op(tx: _Text, num: Number) -> str:
    """``the clinic is only operational for 20000 minutes``: a cap said without a comparison."""
    words = " ".join(tx.tokens[j].lower for j in tx.clause_tokens(num.index) if j < num.index)
    return "<=" if _CAP_WORDS.search(words) else ""


def _sentence_direction(tx: _Text, num: Number) -> str | None:
    """The nearest direction phrase in the sentence that does not belong to another number."""
    s = tx.sentence_of[num.index]
    starts = {m.span[0] for m in tx.numbers} | {m.index for m in tx.numbers}
    best = None
    for a, b, op in tx.dirs:
        if tx.sentence_of[a] != s:
            continue
        if a > num.index and any(j in starts for j in range(b, b + 3)):
            continue              # "2 units of X and 3 of Y must be at least 10": "at least" is 10's
        d = abs(a - num.index)
        if best is None or d < best[0]:
            best = (d, op)
    return best[1] if best else None


def _var_for(tx: _Text, num: Number) -> int | None:
    """The quantity a coefficient belongs to: in its clause (before, else after), else in its sentence."""
    i = num.index
    clause = tx.clause_tokens(i)
    before = [tx.mention[j] for j in clause if j < i and tx.mention[j] is not None]
    after = [tx.mention[j] for j in clause if j > i and tx.mention[j] is not None]
    if before:
        return before[-1]
    if after:
        return after[0]
    s = tx.sentence_of[i]
    sent = tx.sents[s]
    before = [tx.mention[j] for j in sent if j < i and tx.mention[j] is not None]
    return before[-1] if before else None


def _respectively(tx: _Text, nums: list[Number]) -> None:
    """``X and Y need 2 and 3 hours (respectively)``: the numbers follow the order of the quantities."""
    by_sentence: dict[int, list[Number]] = {}
    for num in nums:
        if num.role == "param":
            by_sentence.setdefault(num.sentence, []).append(num)
    for s, group in by_sentence.items():
        sent = tx.sents[s]
        order = list(dict.fromkeys(tx.mention[j] for j in sent if tx.mention[j] is not None))
        resp = any(tx.tokens[j].lower == "respectively" for j in sent)
        first = group[0].index
        after = [tx.mention[j] for j in sent if j > first and tx.mention[j] is not None]
        if len(group) == len(order) >= 2 and (resp or not after):
            for num, k in zip(group, order, strict=True):
                num.var = k
        elif resp and len(order) >= 2 and len(group) % len(order) == 0:
            for i, num in enumerate(group):      # "2 and 5 hours of A respectively, and 1 and 2 of B ..."
                num.var = order[i % len(order)]
        elif resp:
            raise Unread(f"a list I could not match to the quantities: '{tx.sentence_text(s)}'")


def _bag(tx: _Text, num: Number) -> dict[str, float]:
    bag: dict[str, float] = {}
    for j in tx.clause_tokens(num.index):
        if num.span[0] <= j < num.span[1] or tx.mention[j] is not None:
            continue
        low = tx.tokens[j].lower
        if low in STOP or not low.isalpha() or tx.tags[j].endswith("CONST_DIR"):
            continue
        word = canonical(low)
        if any(word in q.words for q in tx.qs):
            continue
        d = abs(j - num.index)
        w = 1.0 / (1.0 + 0.25 * d)
        bag[word] = max(bag.get(word, 0.0), w)
    if num.money:
        bag["money"] = max(bag.get("money", 0.0), 0.5)
    return bag


def _objective_bag(tx: _Text) -> tuple[str, dict[str, float], list[int], str, bool]:
    """Sense, words naming the objective, quantities mentioned with it, its sentence, and whether it counts."""
    obj_idx = [i for i, tag in enumerate(tx.tags) if tag.endswith("OBJ_DIR")]
    verbs = [i for i, t in enumerate(tx.tokens) if re.match(r"^(?:maximi|minimi)", t.lower)]

    def rank(i: int) -> tuple[int, int]:
        """A verb (``minimize``) first, then a word in the question, then the rest, in text order."""
        sent = tx.sents[tx.sentence_of[i]]
        question = tx.tokens[sent[-1]].text == "?" or tx.tokens[sent[0]].lower in ("what", "how", "find",
                                                                                   "determine", "calculate")
        return (0 if i in verbs else 1 if question else 2, i)

    sense = None
    anchor = None
    for i in sorted(set(obj_idx) | set(verbs), key=rank):
        word = tx.tokens[i].lower
        if word.startswith("maxim") or _MAX.search(word):
            sense, anchor = "maximize", i
        elif word.startswith("minim") or _MIN.search(word):
            sense, anchor = "minimize", i
        if sense is not None:
            break
    if sense is None or anchor is None:
        raise Unread("could not tell whether to minimise or maximise", early=True)
    s = tx.sentence_of[anchor]
    bag: dict[str, float] = {}
    names = [i for i, tag in enumerate(tx.tags) if tag.endswith("OBJ_NAME") and tx.sentence_of[i] == s]
    window = names or [j for j in tx.sents[s] if anchor < j <= anchor + 6]
    vars_in = []
    for j in tx.sents[s]:
        if j > anchor and tx.mention[j] is not None:
            vars_in.append(tx.mention[j])
    for j in window:
        low = tx.tokens[j].lower
        if low in STOP or not low.isalpha() or tx.mention[j] is not None:
            continue
        bag[canonical(low)] = 1.0
    if "profit" in bag:
        bag["revenue"] = 0.8
    elif "revenue" in bag:
        bag["profit"] = 0.8
    if bag.keys() & {"profit", "cost", "revenue"}:
        bag["money"] = 0.5
    after = [t.lower for t in tx.tokens[anchor:anchor + 8]]
    count = "number" in after and not bag.keys() & {"profit", "cost", "time", "revenue"}
    if count:
        k = anchor + after.index("number")
        noun = next((j for j in range(k + 1, min(k + 4, len(tx.tokens))) if tx.tokens[j].lower not in ("of", "the")),
                    None)
        word = stem(tx.tokens[noun].lower) if noun is not None else ""
        if noun is not None and tx.mention[noun] is None and (
                _is_unit_of_a_number(tx, word) or word not in _COLLECTIVE and all(word not in (q.first or q.words) for q in tx.qs)):
            count = False        # "the number of probes": probes are what each test uses, not the tests
    return sense, bag, vars_in, tx.sentence_text(s), count


def _is_unit_of_a_number(tx: _Text, word: str) -> bool:
    """True when ``word`` is what some coefficient counts (``requires three probes``, ``carries 5 letters``)."""
    for num in tx.numbers:
        if num.role == "param" and num.span[1] < len(tx.tokens) and stem(tx.tokens[num.span[1]].lower) == word:
            return True
    return False


def _says_number(tx: _Text, sentence: str) -> bool:
    """``maximize the number of patients seen``: with no per-quantity numbers left, each one counts once."""
    return bool(re.search(r"\b(?:maximi[sz]e|minimi[sz]e)\s+the\s+(?:total\s+)?number\s+of\b", sentence, re.I))


def _similarity(a: dict[str, float], b: dict[str, float], idf: dict[str, float]) -> float:
    return sum(w * b[k] * idf.get(k, 1.0) for k, w in a.items() if k in b)


def read_tagged(text: str, tagger: Tagger | None = None) -> Reading:
    """Read ``text`` into a linear model, or raise :class:`Unread` naming what could not be read."""
    tx = _Text(text, tagger or default_tagger())
    n = len(tx.qs)
    if n < 2:
        raise Unread("could not tell what the decision quantities are", early=True)
    if n > 5:
        raise Unread(f"found {n} decision quantities, more than this reader handles", early=True)
    nums = [m for m in read_numbers(tx.text, tx.tokens) if tx.mention[m.index] is None]   # "beaker 1" names
    tx.numbers = nums
    _roles(tx, nums)
    _check_count(tx, nums, n)
    for num in nums:
        before = [t.lower for t in tx.tokens[max(0, num.span[0] - 2):num.span[0]]]
        if before in (["for", "every"], ["for", "each"]):
            raise Unread(f"a ratio I cannot read: '{tx.sentence_text(tx.sentence_of[num.index])}'")
    for num in nums:
        if num.role == "":
            raise Unread(f"the number {_fmt(num.value)} in '{tx.sentence_text(tx.sentence_of[num.index])}' "
                         "is neither a coefficient nor a limit I can read")
        if num.role == "param":
            num.var = _var_for(tx, num)
    _respectively(tx, nums)
    penalty, doubts, notes = 0.0, [], []
    params = [m for m in nums if m.role == "param"]
    limits = [m for m in nums if m.role == "limit"]
    for num in params + limits:
        num.bag = _bag(tx, num)
    for group in (params, limits):
        for k, num in enumerate(group):
            if not set(num.bag) - {"money"} and k and group[k - 1].sentence == num.sentence:
                num.bag = dict(group[k - 1].bag)
        for k in range(len(group) - 2, -1, -1):      # "2 and 5 hours of carpentry": the first borrows too
            num = group[k]
            if not set(num.bag) - {"money"} and group[k + 1].sentence == num.sentence:
                num.bag = dict(group[k + 1].bag)
    sense, obj_bag, obj_vars, obj_sentence, count = _objective_bag(tx)
    for lim in limits:
        lim.var = _named_after(tx, lim)
    sinks: list[dict[str, float]] = [{} if count else obj_bag] + [{} if m.var is not None or m.pct else m.bag
                                                                   for m in limits]
    df: dict[str, int] = {}
    for bag in sinks + [p.bag for p in params]:
        for w in bag:
            df[w] = df.get(w, 0) + 1
    total = len(sinks) + len(params)
    idf = {w: math.log(1 + total / c) for w, c in df.items()}
    pairs = []
    for p in params:
        scores = [_similarity(p.bag, sink, idf) for sink in sinks]
        for s_i, score in enumerate(scores):
            if score > 0:
                pairs.append((score, s_i, p))
    pairs.sort(key=lambda x: -x[0])
    filled: dict[int, dict[int, Number]] = {}
    placed: dict[int, int] = {}
    for _score, s_i, p in pairs:
        if id(p) in placed or p.var is None:
            continue
        slot = filled.setdefault(s_i, {})
        if p.var in slot:
            continue
        slot[p.var] = p
        placed[id(p)] = s_i
    minus = _costs_off_revenue(params, filled, placed, obj_bag)
    penalty += _by_elimination(tx, params, limits, filled, placed, count)
    for p in params:
        if id(p) not in placed:
            raise Unread(f"the number {_fmt(p.value)} in '{tx.sentence_text(p.sentence)}' is not explained by "
                         "any limit or the objective")
    rows: list[Row] = []
    for li, lim in enumerate(limits, start=1):
        clause_text = tx.sentence_text(lim.sentence)
        if not lim.op:
            raise Unread(f"could not tell the direction of the limit in '{clause_text}'")
        slot = filled.get(li, {})
        if slot:
            coefs = {k: p.value for k, p in slot.items()}
            if len(slot) < n:
                penalty += 0.25
                doubts.append(f"'{clause_text}' involves only some of the quantities")
            rows.append(Row(coefs=coefs, op=lim.op, rhs=lim.value, nids=set(), why=_limit_name(lim),
                            clause=clause_text))
            continue
        each = _of_each(tx, lim)
        if each:
            rows.extend(Row(coefs={k: 1.0}, op=lim.op, rhs=lim.value, nids=set(), why="bound", clause=clause_text)
                        for k in (each if each != [-1] else range(n)))
            continue
        rows.append(_structural_row(tx, lim, n, clause_text))
        if rows[-1].why == "total":
            penalty += 0.1
    rows.extend(_comparisons(tx, nums))
    objective = {k: p.value - minus.get(k, 0.0) for k, p in filled.get(0, {}).items()}
    if count and obj_vars:
        objective = {k: 1.0 for k in set(obj_vars)}
    elif count:
        objective = {k: 1.0 for k in range(n)}
    elif not objective:
        if obj_vars:
            objective = {k: 1.0 for k in set(obj_vars)}
        elif obj_bag.keys() & {"number", "total", "item", "vehicle", "product"} or not obj_bag or _says_number(
                tx, obj_sentence):
            objective = {k: 1.0 for k in range(n)}
            penalty += 0.05
        else:
            raise Unread(f"found no per-quantity numbers for the objective in '{obj_sentence}'")
    elif len(objective) < n:
        raise Unread(f"the objective has no coefficient for some quantities: '{obj_sentence}'")
    if not rows:
        raise Unread("found no constraints")
    integer = _integer(tx)
    for row in rows:
        if row.why == "strict relation" and integer and row.op in (">=", "<="):
            row.rhs = 1.0 if row.op == ">=" else -1.0     # "more B than A" in whole numbers: b >= a + 1
    return Reading(names=[q.name for q in tx.qs], labels=[q.name.replace("_", " ") for q in tx.qs], sense=sense,
                   objective=objective, rows=rows, integer=integer, penalty=penalty, doubts=doubts, notes=notes)


def _costs_off_revenue(params: list[Number], filled: dict[int, dict[int, Number]], placed: dict[int, int],
                       obj_bag: dict[str, float]) -> dict[int, float]:
    """``sells for $10 ... costs $4 to make``, maximize profit: the objective is revenue minus cost."""
    got = filled.get(0, {})
    if obj_bag.get("profit", 0) < 1.0 or not got or not all(
            p.bag.get("revenue", 0) > p.bag.get("profit", 0) for p in got.values()):
        return {}
    costs = [p for p in params if id(p) not in placed and p.var in got and "cost" in p.bag]
    if not costs or len({p.var for p in costs}) != len(costs):
        return {}
    for p in costs:
        placed[id(p)] = 0
    return {p.var: p.value for p in costs if p.var is not None}


def _open_sink(tx: _Text, lim: Number) -> bool:
    """A limit that needs coefficients: no quantity of its own, not a share, not a difference."""
    if lim.var is not None or lim.pct or _more_than(tx, lim) is not None:
        return False
    return not any(tx.mention[j] is not None for j in tx.clause_tokens(lim.index))


def _by_elimination(tx: _Text, params: list[Number], limits: list[Number], filled: dict[int, dict[int, Number]],
                    placed: dict[int, int], count: bool) -> float:
    """Coefficients that matched no words go to the one limit (or objective) left wanting coefficients.

    ``vans carry 6 people, cars 3 ...; at least 200 voters``: the only unmatched list meets the only open
    limit. Several of each are paired in the order the text gives them. Returns the doubt it adds.
    """
    left = [p for p in params if id(p) not in placed and p.var is not None]
    if not left:
        return 0.0
    groups: list[list[Number]] = []
    for p in left:
        if groups and p.var not in {q.var for q in groups[-1]} and (
                p.sentence - groups[-1][-1].sentence <= 1):
            groups[-1].append(p)
        else:
            groups.append([p])
    open_sinks = [i for i, lim in enumerate(limits, start=1) if not filled.get(i) and _open_sink(tx, lim)]
    if not count and not filled.get(0):
        open_sinks = [0] + open_sinks
    if len(groups) != len(open_sinks):
        return 0.0
    for group, sink in zip(groups, open_sinks, strict=True):
        slot = filled.setdefault(sink, {})
        for p in group:
            slot[p.var] = p  # type: ignore[index]
            placed[id(p)] = sink
    return 0.1 * len(groups)


def _named_after(tx: _Text, num: Number) -> int | None:
    """``at least 20 carrier pigeons``, ``15,000 square feet of planks``: the quantity the limit counts."""
    for j in range(num.span[1], min(num.span[1] + 4, len(tx.tokens))):
        if tx.mention[j] is not None:
            return tx.mention[j]
        low = tx.tokens[j].lower
        if low in _BOUNDARY or low in ("per", "each", "for", "to", "in", "on", "into", "from", "by", "at", "among",
                                       "between", "across"):
            return None
    return None


def _more_than(tx: _Text, lim: Number) -> dict[int, float] | None:
    """``no more than 15 more dogs than cats``: dogs - cats <= 15 (``fewer`` turns it round)."""
    j = lim.span[1]
    if j >= len(tx.tokens) or tx.tokens[j].lower not in ("more", "fewer", "less"):
        return None
    sign = 1.0 if tx.tokens[j].lower == "more" else -1.0
    ks: list[int] = []
    saw_than = False
    for k in range(j + 1, min(j + 12, len(tx.tokens))):
        low = tx.tokens[k].lower
        if low in (".", ";", ",", "?"):
            break
        if low == "than":
            saw_than = True
        m = tx.mention[k]
        if m is not None and (not ks or (m != ks[-1] and saw_than)):
            ks.append(m)
        if len(ks) == 2:
            break
    if len(ks) != 2 or not saw_than:
        return None
    return {ks[0]: sign, ks[1]: -sign}


_UNIT_NAMES = {"money", "time", "cost", "profit", "revenue", "cup", "gram", "kg", "mg", "ml", "pound", "ton",
               "tonne", "liter", "litre", "gallon", "ounce", "foot", "feet", "square", "meter", "acre", "unit",
               "dollar", "piece", "batch", "box", "bag", "company", "store", "shop", "factory", "farmer"}


def _limit_name(lim: Number) -> str:
    """``flour limit`` for a limit whose words say flour (the constraint is named after it)."""
    words = [w for w in lim.bag if w.isalpha() and w not in _UNIT_NAMES]
    return f"{max(words, key=lim.bag.__getitem__)} limit" if words else "limit"


def _of_each(tx: _Text, lim: Number) -> list[int]:
    """``at least 5 units of each large and small piece``, ``5 gallons of each type``: a bound on every one.

    Returns the quantities listed after ``each`` ([-1] for all of them), or [] when the limit is not such.
    """
    after = [t.lower for t in tx.tokens[lim.span[1]:lim.span[1] + 5]]
    for stop in (".", ";", "?", "!", ","):
        if stop in after:
            after = after[:after.index(stop)]
    if "each" not in after or "per" in after:
        return []
    k = lim.span[1] + after.index("each") + 1
    before = tx.tokens[k - 2].lower
    nxt = tx.tokens[k].lower if k < len(tx.tokens) else ""
    if before not in ("of", "for") and nxt not in ("type", "kind", "product", "one", "of") and (
            k >= len(tx.tokens) or tx.mention[k] is None):
        return []
    listed = []
    while k < len(tx.tokens) and tx.tokens[k].lower not in (".", ";", ",", "but", "while"):
        if tx.mention[k] is not None and tx.mention[k] not in listed:
            listed.append(tx.mention[k])
        k += 1
    return listed if len(listed) >= 2 else [-1]


def _structural_row(tx: _Text, lim: Number, n: int, clause_text: str) -> Row:
    """A limit with no coefficients: a bound on one quantity, its share of the total, or the total itself."""
    clause = tx.clause_tokens(lim.index)
    ks = [tx.mention[j] for j in clause if tx.mention[j] is not None]
    gap = _more_than(tx, lim)
    if gap is not None:
        return Row(coefs=gap, op=lim.op, rhs=lim.value, nids=set(), why="difference", clause=clause_text)
    if lim.var is not None and not lim.pct:
        ks = [lim.var]
    if lim.pct:
        if len(set(ks)) != 1:
            raise Unread(f"a percentage I could not place: '{clause_text}'")
        k = ks[0]
        coefs = {j: (1.0 - lim.value if j == k else -lim.value) for j in range(n)}
        return Row(coefs=coefs, op=lim.op, rhs=0.0, nids=set(), why="ratio", clause=clause_text)
    if len(set(ks)) == 1:
        return Row(coefs={ks[0]: 1.0}, op=lim.op, rhs=lim.value, nids=set(), why="bound", clause=clause_text)
    words = {tx.tokens[j].lower for j in clause}
    if ks and not (words & _TOTAL_WORDS or _joined(tx, clause)):
        raise Unread(f"a limit on several quantities I could not read: '{clause_text}'")
    if words & {"difference", "more", "fewer", "less", "exceed", "exceeds"} and len(set(ks)) > 1:
        raise Unread(f"a difference of quantities I could not read: '{clause_text}'")
    return Row(coefs={k: 1.0 for k in (set(ks) if ks else range(n))}, op=lim.op, rhs=lim.value, nids=set(),
               why="total", clause=clause_text, total=not ks)


_TOTAL_WORDS = {"total", "combined", "together", "both", "all", "sum", "altogether", "overall", "either"}


def _joined(tx: _Text, clause: list[int]) -> bool:
    """The quantities in the clause form one list (``turnips and pumpkins``)."""
    at = [j for j in clause if tx.mention[j] is not None]
    return all(tx.clause_of[a] == tx.clause_of[b] and all(tx.tokens[k].lower in (",", "and", "or", "the", "a", "an")
                                                          or tx.mention[k] is not None for k in range(a + 1, b))
               for a, b in zip(at, at[1:], strict=False))


_WEAK_DIRS = re.compile(r"\b(?:available|budget|total|limited|has|have|capacity|remain\w*|left|supply|spend)\b")
_LEFT_STOP = {",", ";", ":", "since", "because", "as", "that", ".", "if", "so"}


def _comparisons(tx: _Text, nums: list[Number]) -> list[Row]:
    """``X must be at least twice Y``, ``no more than half as many X as Y``: x op k*y."""
    rows: list[Row] = []
    data_clauses = {tx.clause_of[m.index] for m in nums if m.role in ("limit", "param")}
    mults = [m for m in nums if m.role == "mult"]
    used: set[int] = set()
    done: set[int] = set()
    for a, b, op in tx.dirs:
        phrase = " ".join(t.lower for t in tx.tokens[a:b])
        if _WEAK_DIRS.search(phrase) or tx.clause_of[a] in data_clauses or tx.clause_of[a] in done:
            continue
        s = tx.sentence_of[a]
        sent = tx.sents[s]
        left = None
        for j in range(a - 1, sent[0] - 1, -1):
            if tx.tokens[j].lower in _LEFT_STOP:
                break
            if tx.mention[j] is not None:
                left = tx.mention[j]
                break
        right = [(j, tx.mention[j]) for j in sent if j >= b and tx.mention[j] is not None]
        right = list(dict((k, j) for j, k in reversed(right)).items())[::-1]
        right.sort(key=lambda kj: kj[1])
        if left is not None:
            others = [(k, j) for k, j in right if k != left]
            if not others:
                continue
            x, (y, y_at) = left, others[0]
        elif len(right) >= 2:
            (x, _), (y, y_at) = right[0], right[1]
        else:
            continue
        between = {tx.tokens[j].lower for j in range(a, y_at)}
        if not between & {"than", "as", "exceed", "exceeds", "twice", "times", "half", "number", "amount", "that",
                          "those", "third", "quarter", "double", "triple"} or between & {":", "(", ";"}:
            continue
        k = 1.0
        for m in mults:
            if a <= m.index < y_at and tx.sentence_of[m.index] == s:
                k = m.value
                used.add(id(m))
        done.add(tx.clause_of[a])
        strict = bool(re.search(r"\b(?:more|larger|greater|bigger|higher|fewer|less|smaller|lower) than\b",
                                phrase)) and not re.search(r"\b(?:no|not|least|most|or equal)\b", phrase)
        rows.append(Row(coefs={x: 1.0, y: -k}, op=op, rhs=0.0, nids=set(),
                        why="strict relation" if strict else "relation", clause=tx.sentence_text(s)))
    for m in mults:
        if id(m) not in used:
            raise Unread(f"a multiple I could not place: '{tx.sentence_text(tx.sentence_of[m.index])}'")
    return rows


def _integer(tx: _Text) -> bool:
    return counted(tx.text, [" ".join(q.words) for q in tx.qs])


def counted(text: str, labels: list[str]) -> bool:
    """Whole numbers of the quantities: said so, or counted things rather than amounts (acres, kg, $)."""
    if _CONTINUOUS_WORDS.search(text):
        return False
    if _INTEGER_WORDS.search(text):
        return True
    if _MEASURES.search(" ".join(labels)) or re.search(r"\bhow much\b", text, re.I):
        return False
    if re.search(r"\bper (?:kg|kilogram|gram|pound|lb|ton|tonne|liter|litre|gallon|ml|acre|hectare|ounce)\b",
                 text, re.I):
        return False                                   # priced or measured by the kilogram: an amount
    return not re.search(
        r"\bhow many (?:acres|kg|kilograms|grams|pounds|tons|liters|litres|ml|gallons|ounces|hours|dollars|"
        r"square|cubic|units of|minutes|hectares)\b", text, re.I)


_TERM = re.compile(r"^(-?)(?:(\d+(?:\.\d+)?(?:e-?\d+)?)\*)?([A-Za-z_]\w*)$")


def template_reading(f: object) -> tuple[dict[int, float], list[Row]]:
    """The objective and rows of a scalar linear formulation written by the template reader."""
    names = {name: k for k, name in enumerate(f.variables)}  # type: ignore[attr-defined]

    def linear(expr: str) -> dict[int, float]:
        out: dict[int, float] = {}
        for term in expr.replace("- ", "+ -").split("+ "):
            m = _TERM.match(term.strip().replace(" ", ""))
            if not m or m.group(3) not in names:
                raise ValueError(term)
            out[names[m.group(3)]] = (-1.0 if m.group(1) else 1.0) * float(m.group(2) or 1.0)
        return out

    rows = []
    for c in f.constraints.values():  # type: ignore[attr-defined]
        expr = c if isinstance(c, str) else c.expr
        m = re.match(r"^(.*?)\s*(<=|>=|==)\s*(-?[\d.e-]+)$", expr)
        if not m:
            raise ValueError(expr)
        rows.append(Row(coefs=linear(m.group(1)), op=m.group(2), rhs=float(m.group(3)), nids=set(),
                        clause=c if isinstance(c, str) else (c.description or expr)))
    return linear(f.objective.expr), rows  # type: ignore[attr-defined]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
