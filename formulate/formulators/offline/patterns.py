"""Sentence patterns: token streams -> linear rows and per-quantity coefficient lists.

A clause becomes rows only when every number and every quantity in it has a place; anything left
over makes the parse fail, so the caller can refuse instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formulate.formulators.offline.lexer import Token

FILLER = {"WORD", "OF", "EACH", "LP", "RP", "TO", "FROM", "BETWEEN", "AS", "RANGEW"}
_STRONG = (">=", "<=", "==", ">", "<")
_FLIP = {">=": "<=", "<=": ">=", "==": "=="}


@dataclass
class Linear:
    """sum(coefs[k] * var_k) + const, with the ids of the numbers it used."""

    coefs: dict[int, float] = field(default_factory=dict)
    const: float = 0.0
    nids: list[int] = field(default_factory=list)
    total: bool = False
    expanded: bool = False   # the quantities came from "total"/"both"/"all", not from names
    bare: int = 0            # coefficients written without "times" ("3 units of X")

    def add(self, var: int, coef: float) -> None:
        self.coefs[var] = self.coefs.get(var, 0.0) + coef


@dataclass
class Row:
    """One linear constraint: sum(coefs[k] * var_k) op rhs."""

    coefs: dict[int, float]
    op: str
    rhs: float
    nids: set[int]
    penalty: float = 0.0
    why: str = ""
    total: bool = False      # left side is "the total" of all quantities (a usage list may weight it)
    clause: str = ""


def _num(t: Token) -> float:
    return t.value / 100.0 if t.pct else t.value


def _next_struct(tokens: list[Token], i: int) -> Token | None:
    for t in tokens[i + 1:]:
        if t.kind not in FILLER:
            return t
    return None


def _attached(tokens: list[Token], i: int) -> bool:
    """Whether the words between NUM ``tokens[i]`` and the next VAR read as ``3 units of X`` (a coefficient)."""
    if tokens[i].pct and i + 1 < len(tokens) and tokens[i + 1].kind == "OF":
        return True   # "80% of the allocation for inventory"
    for t in tokens[i + 1:]:
        if t.kind == "VAR":
            return True
        if t.kind == "TO" or (t.kind == "WORD" and t.value in _DETACH) or t.kind == "EACH":
            return False
        if t.kind not in FILLER:
            return True
    return True


_DETACH = {"for", "into", "towards", "toward", "per", "than", "each", "halves", "thirds", "quarters", "fourths",
           "fifths", "sixths", "tenths", "percent"}
_EXPR_FILLER = FILLER | {"BY"}


def parse_expr(tokens: list[Token], n_vars: int, allow_total: bool = True) -> Linear | None:
    """A linear expression (``2 times X plus the number of Y``, ``the difference between X and Y``)."""
    out = Linear()
    sign = 1.0
    pending: float | None = None
    post_times = False
    last_var: int | None = None
    diff = False
    diff_used = False
    consts = 0
    explicit = False
    for i, t in enumerate(tokens):
        kind = t.kind
        if kind in _EXPR_FILLER:
            continue
        if kind == "NUM":
            out.nids.append(t.nid)
            if post_times and last_var is not None:
                out.coefs[last_var] *= _num(t)
                post_times = False
                continue
            nxt = _next_struct(tokens, i)
            if nxt is not None and (nxt.kind in ("TIMES", "TIMESAS") or (nxt.kind == "VAR" and _attached(tokens, i))):
                out.bare += nxt.kind == "VAR" and not t.pct
                pending = (pending or 1.0) * _num(t)
            elif nxt is not None and nxt.kind == "VAR":
                return None
            elif nxt is not None and nxt.kind == "TOTAL" and t.pct:
                pending = (pending or 1.0) * _num(t)
            else:
                if pending is not None or t.pct:
                    return None
                consts += 1
                if consts > 1 and not explicit:
                    return None
                out.const += sign * t.value
                sign = 1.0
        elif kind in ("TIMES", "TIMESAS"):
            if t.value == "post" or (pending is None and last_var is not None):
                post_times = True
        elif kind == "VAR":
            if t.value in out.coefs and not explicit:
                return None  # "X ... and X": the same quantity twice is a misread
            out.add(t.value, sign * (pending if pending is not None else 1.0))
            sign, pending, last_var = 1.0, None, t.value
        elif kind in ("PLUS", "AND", "COMMA", "OR", "MINUS", "SUBFROM") and pending is not None:
            return None
        elif kind in ("PLUS", "AND", "COMMA", "OR"):
            kind = "AND" if kind == "OR" else kind
            if kind != "PLUS" and diff and not diff_used and out.coefs:
                sign, diff_used = -1.0, True
            elif kind != "PLUS" and diff_used:
                sign = -1.0
            elif kind == "PLUS" or sign > 0:
                sign = 1.0
            explicit = explicit or kind == "PLUS"
        elif kind == "MINUS":
            sign = -1.0
            explicit = True
        elif kind == "SUBFROM":
            out.coefs = {k: -v for k, v in out.coefs.items()}
            out.const = -out.const
            sign = 1.0
        elif kind == "DIFF":
            diff = True
        elif kind == "TOTAL":
            out.total = True
            nxt = _next_struct(tokens, i)
            if pending is not None and (nxt is None or nxt.kind not in ("VAR", "NUM")):
                for k in range(n_vars):
                    out.add(k, sign * pending)
                sign, pending = 1.0, None
                out.expanded = True
        else:
            return None
    if pending is not None or post_times:
        return None
    if not out.coefs and out.total and allow_total:
        for k in range(n_vars):
            out.add(k, 1.0)
        out.expanded = True
    return out


def _strip(tokens: list[Token]) -> list[Token]:
    while tokens and tokens[0].kind in ("AND", "COMMA", "PLUS", "OR"):
        tokens = tokens[1:]
    while tokens and tokens[-1].kind in ("AND", "COMMA", "OR"):
        tokens = tokens[:-1]
    return tokens


def _has_vars(tokens: list[Token]) -> bool:
    return any(t.kind == "VAR" for t in tokens)


def _row(lhs: Linear, rhs: Linear, op: str, why: str, penalty: float = 0.0) -> Row | None:
    coefs = dict(lhs.coefs)
    for k, v in rhs.coefs.items():
        coefs[k] = coefs.get(k, 0.0) - v
    if any(abs(coefs[k]) < 1e-12 for k in set(lhs.coefs) & set(rhs.coefs)):
        return None  # the same quantity on both sides cancels: a misread, not a constraint
    coefs = {k: round(v, 10) for k, v in coefs.items() if abs(v) > 1e-12}
    if not coefs:
        return None
    if op in (">", "<"):
        op, penalty = op + "=", penalty + 0.1
    return Row(coefs, op, rhs.const - lhs.const, set(lhs.nids) | set(rhs.nids), penalty, why,
               lhs.expanded and not rhs.coefs)


def _owns_number(tokens: list[Token], i: int) -> bool:
    """A bare ``minimum``/``maximum`` followed by its own number (``a minimum allocation of 200 units``)."""
    j = next((k for k in range(i + 1, len(tokens)) if tokens[k].kind not in FILLER), None)
    if j is None or tokens[j].kind != "NUM":
        return False
    after = _next_struct(tokens, j)
    return after is None or after.kind not in ("TIMES", "VAR")


def _cmp_index(tokens: list[Token]) -> tuple[int, str, float] | None:
    """Position and operator of the clause's one comparison (merging repeats such as ``up to a maximum of``)."""
    strong = [i for i, t in enumerate(tokens) if t.kind == "CMP" and t.value in _STRONG]
    weak = [i for i, t in enumerate(tokens) if t.kind == "CMP" and t.value not in _STRONG]
    if strong and any(_owns_number(tokens, i) for i in weak):
        return None
    pick, penalty = (strong, 0.0) if strong else (weak, 0.1)

    if not pick:
        return None
    ops = {tokens[i].value.replace("weak", "") for i in pick}
    if len(ops) > 1:
        return None
    # repeats must sit next to each other (``up to a maximum of``) or be weak words before a strong one
    if len(pick) > 1 and any(_has_struct(tokens[a + 1:b]) for a, b in zip(pick, pick[1:], strict=False)):
        return None
    return pick[-1], ops.pop(), penalty


def _has_struct(tokens: list[Token]) -> bool:
    return any(t.kind not in FILLER for t in tokens)


_NONLINEAR = {"squared", "cubed", "square", "logarithmic", "logarithm", "exponential", "exponentially", "quadratic",
              "nonlinear", "root"}
_ANAPHORA = {"value", "amount", "quantity", "figure", "level", "combination", "result", "sum", "total"}


def _unreadable(tokens: list[Token]) -> bool:
    """Clauses this formulator must not guess at: nonlinear words, ``this combined value`` (which one?)."""
    for i, t in enumerate(tokens):
        if t.kind == "WORD" and t.value in _NONLINEAR:
            return True
        if (t.kind == "WORD" and t.value == "product" and i + 1 < len(tokens) and tokens[i + 1].kind == "OF"
                and i > 0 and tokens[i - 1].value == "the"):
            return True   # "the product of X and Y"
        if t.kind == "WORD" and t.value in ("this", "that", "these", "such"):
            nxt = [x for x in tokens[i + 1:i + 3] if x.kind in ("WORD", "TOTAL")]
            if nxt and (nxt[0].kind == "TOTAL" or nxt[0].value in _ANAPHORA) and not any(
                    x.kind == "VAR" for x in tokens[i + 1:i + 4]):
                return True
    return False


def parse_clause(tokens: list[Token], n_vars: int, inherited: Token | None = None) -> list[Row] | None:
    """Rows of one clause, or None when the clause does not read as constraints."""
    tokens = _strip(list(tokens))
    if not tokens or _unreadable(tokens):
        return None
    tokens = _drop_description(tokens)
    tokens = _cut_purpose(tokens)
    tokens = _tidy(tokens)
    if any(t.kind == "RESP" for t in tokens):
        return _respectively_rows(tokens)
    if any(t.kind == "RATIO" for t in tokens):
        return _ratio_rows(tokens, n_vars)
    if any(t.kind == "RANGE" for t in tokens):
        return _range_rows(tokens, n_vars)
    exceed = [i for i, t in enumerate(tokens) if t.kind == "EXCEED"]
    if exceed:
        return _exceed_rows(tokens, exceed, n_vars)
    tokens = _postfix_cmp(tokens)
    cmps = [i for i, t in enumerate(tokens) if t.kind == "CMP"]
    if len(cmps) == 2 and any(t.kind == "BY" for t in tokens[cmps[0]:cmps[1]]):
        # "X must be greater than or equal to Y by at least 300"
        return _split_rows(tokens[:cmps[0]], tokens[cmps[0] + 1:], tokens[cmps[0]].value.replace("weak", ""),
                           n_vars, 0.0)
    found = _cmp_index(tokens)
    if found is None and inherited is not None:
        tokens = [inherited, *tokens]
        found = _cmp_index(tokens)
    if found is None:
        return _more_than_equality(tokens, n_vars)
    i, op, penalty = found
    pre = [t for t in tokens[:i] if t.kind != "CMP"]
    post = tokens[i + 1:]
    rows = _split_rows(pre, post, op, n_vars, penalty)
    return rows


_DEFINERS = {"calculated", "computed", "defined", "measured", "expressed", "given", "represented", "determined"}


def _drop_description(tokens: list[Token]) -> list[Token]:
    """``the effort of X and Y, calculated as 2 times X plus Y, must ...``: keep the formula, drop the words."""
    for i in range(len(tokens) - 1):
        t = tokens[i]
        if t.kind == "WORD" and t.value in _DEFINERS and tokens[i + 1].kind in ("AS", "BY"):
            cmp_at = next((k for k, x in enumerate(tokens) if x.kind in ("CMP", "EXCEED")), len(tokens))
            formula = tokens[i + 2:]
            if i < cmp_at and _has_vars(tokens[i + 2:cmp_at] if cmp_at > i else formula):
                head = [x for x in tokens[:i] if x.kind == "CMP"]
                return head + formula
            if i > cmp_at and not _has_vars(tokens[:i]) and _has_vars(formula):
                return tokens[:i] + formula
    return tokens


_PURPOSE_VERBS = {
    "ensure", "maintain", "meet", "facilitate", "cater", "avoid", "achieve", "reflect", "keep", "support",
    "accommodate", "provide", "guarantee", "balance", "prevent", "allow", "comply", "cover", "satisfy",
    "fulfil", "fulfill", "promote", "reduce", "increase", "minimize", "maximize", "protect", "serve",
    "handle", "sustain", "prioritize", "emphasize", "focus", "encourage", "limit", "mitigate", "address",
    "reach", "optimize", "improve", "match", "be", "remain", "stay", "manage", "diversify", "capture",
}
_PURPOSE_WORDS = {"due", "because", "owing", "since", "ensuring", "reflecting", "possibly", "which", "thus",
                  "hence", "allowing", "making", "considering", "representing", "indicating", "so", "for"}


def _cut_purpose(tokens: list[Token]) -> list[Token]:
    """Drop a trailing purpose or reason (``... to facilitate sports events``, ``... due to its scale``)
    once the clause has its comparison and a number after it."""
    cmp_at = next((i for i, t in enumerate(tokens) if t.kind in ("CMP", "EXCEED")), None)
    if cmp_at is None:
        return tokens
    seen_num = seen_var = False
    pre_vars = _has_vars(tokens[:cmp_at])
    for i in range(cmp_at + 1, len(tokens)):
        t = tokens[i]
        if t.kind == "NUM":
            seen_num = True
        elif t.kind == "VAR":
            seen_var = True
        ready = seen_num and (pre_vars or seen_var)
        if not ready:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        cut = ((t.kind == "TO" and nxt is not None and nxt.kind == "WORD" and nxt.value in _PURPOSE_VERBS)
               or (t.kind == "AS" and nxt is not None and nxt.kind == "WORD" and nxt.value in ("part", "a", "an", "it"))
               or (t.kind == "WORD" and t.value in _PURPOSE_WORDS and t.value != "for")
               or (t.kind == "COMMA" and nxt is not None and nxt.kind == "WORD"
                   and nxt.value in _PURPOSE_WORDS | {"as"}))
        if cut:
            if any(x.kind in ("NUM", "CMP", "EXCEED", "RESP", "RANGE") for x in tokens[i:]):
                return tokens
            return tokens[:i]
    return tokens


def _postfix_cmp(tokens: list[Token]) -> list[Token]:
    """``100 hours of labour available``, ``50 units or more``: move the comparison before its number."""
    idx = [i for i, t in enumerate(tokens) if t.kind in ("CMP", "EXCEED")]
    if len(idx) != 1 or tokens[idx[0]].kind != "CMP":
        return tokens
    i = idx[0]
    if any(t.kind in ("NUM", "VAR", "RANGE") for t in tokens[i + 1:]):
        return tokens
    nums = [j for j in range(i) if tokens[j].kind == "NUM"]
    if len(nums) != 1:
        return tokens
    j = nums[0]
    return tokens[:j] + [tokens[i]] + tokens[j:i] + tokens[i + 1:]


def _tidy(tokens: list[Token]) -> list[Token]:
    """Drop bare minimum/maximum words beside a real comparison, comparisons repeating an ``exceed``,
    and ``more``/``less`` that no ``than`` follows."""
    strong = any(t.kind in ("CMP", "EXCEED") and t.value in _STRONG + ("neg", "pos") for t in tokens)
    out: list[Token] = []
    for i, t in enumerate(tokens):
        prev = next((x for x in reversed(out) if x.kind not in FILLER), None)
        after_exceed = prev is not None and prev.kind == "EXCEED" and prev.value == "neg"
        same = (prev is not None and prev.kind == "CMP" and prev.value in _STRONG
                and t.kind == "CMP" and t.value.replace("weak", "") == prev.value)
        if t.kind == "CMP" and t.value not in _STRONG and strong and (after_exceed or same
                                                                      or not _owns_number(tokens, i)):
            continue
        if t.kind == "CMP" and t.value in ("<=", "weak<=") and after_exceed:
            continue
        if t.kind in ("MORE", "LESS") and not any(x.kind == "THAN" for x in tokens[i + 1:]):
            out.append(Token("WORD", t.text.lower(), t.text))
            continue
        out.append(t)
    return out


def _split_rows(pre: list[Token], post: list[Token], op: str, n_vars: int, penalty: float) -> list[Row] | None:
    if any(t.kind == "ASMANY" or t.kind == "TIMESAS" for t in post):
        return _as_many_rows(pre, post, op, n_vars, penalty)
    if any(t.kind in ("MORE", "LESS") for t in post):
        return _more_than_rows(pre, post, op, n_vars, penalty)
    if any(t.kind in ("MORE", "LESS", "THAN") for t in pre):
        return None
    pre_vars = _has_vars(pre)
    pre_total = any(t.kind == "TOTAL" for t in pre)
    if not pre_vars and not pre_total and _has_struct(pre) and any(t.kind == "NUM" for t in pre):
        return None
    if not pre_vars:
        # "at least 2000 units must go to X and Y", "no more than 7 units of X", "total ... at most 100"
        nums = [j for j, t in enumerate(post) if t.kind == "NUM"]
        if not nums:
            return None
        j = nums[0]
        head = post[:j]
        rest = post[j + 1:]
        if _has_vars(head):
            # "the maximum amount allocated to X is 700 units"
            if _has_struct(rest) or any(t.kind in ("MORE", "LESS", "THAN", "CMP", "EXCEED") for t in head):
                return None
            lhs = parse_expr(head, n_vars, allow_total=False)
            if lhs is None or not lhs.coefs or lhs.const or post[j].pct:
                return None
            row = _row(lhs, Linear({}, post[j].value, [post[j].nid]), op, "limit", penalty)
            return [row] if row else None
        if any(t.kind not in FILLER | {"TOTAL", "DIFF"} for t in head):
            return None
        if post[j].pct and _next_struct(post, j) is not None and _next_struct(post, j).kind == "TOTAL":
            k = next(m for m in range(j + 1, len(post)) if post[m].kind == "TOTAL")
            share = Linear({v: _num(post[j]) for v in range(n_vars)}, 0.0, [post[j].nid])
            lhs = parse_expr(pre + post[k + 1:], n_vars, allow_total=False)
            if lhs is None or not lhs.coefs:
                return None
            row = _row(lhs, share, op, "share of total", penalty)
            return [row] if row else None
        if any(t.kind == "NUM" for t in rest) or post[j].pct:
            return None
        rhs = Linear({}, post[j].value, [post[j].nid])
        lhs_tokens = rest if _has_vars(rest) else pre + head + rest
        if _has_vars(rest) and any(t.kind == "DIFF" for t in pre + head) and not any(t.kind == "DIFF" for t in rest):
            lhs_tokens = [Token("DIFF", None, "difference")] + rest   # "a difference of 200 between Y and Z"
        lhs = parse_expr(lhs_tokens, n_vars, allow_total=True)
        if lhs is not None and not lhs.coefs and not lhs.const and all(
                t.kind in FILLER | {"COMMA"} for t in lhs_tokens):
            # no quantity named at all ("the company must hire at least 10 people"): all of them
            lhs = Linear({k: 1.0 for k in range(n_vars)}, 0.0, [], True, True)
            penalty += 0.15
        if lhs is None or not lhs.coefs or lhs.const:
            return None
        if any(t.kind == "EACH" and t.text.lower() == "each" for t in rest) and len(lhs.coefs) > 1:
            return [Row({k: 1.0}, op, rhs.const, set(rhs.nids), penalty, "bound") for k in lhs.coefs]
        if _has_vars(rest) and pre_total and not lhs.total:
            lhs.total = True
        row = _row(lhs, rhs, op, "limit", penalty)
        return [row] if row else None
    per = _per_each(pre, post, op, n_vars, penalty)
    if per is not None:
        return per
    by = next((k for k, t in enumerate(post) if t.kind == "BY"), None)
    if by is not None and _has_vars(post[:by]):
        # "X must be greater than or equal to Y by (a difference of) at least 100"
        tail = [t for t in post[by + 1:] if t.kind not in FILLER | {"DIFF"}]
        if len(tail) == 2 and tail[0].kind == "CMP" and tail[0].value in (op, ">=") and tail[1].kind == "NUM":
            lhs = parse_expr(pre, n_vars, allow_total=False)
            rhs = parse_expr(post[:by], n_vars, allow_total=False)
            if lhs is None or rhs is None or rhs.const or lhs.const or not rhs.coefs:
                return None
            rhs.const = tail[1].value
            rhs.nids.append(tail[1].nid)
            row = _row(lhs, rhs, tail[0].value, "exceeds by", penalty)
            return [row] if row else None
        return None
    lhs = parse_expr(pre, n_vars, allow_total=False)
    rhs = parse_expr(post, n_vars, allow_total=False)
    if lhs is None or rhs is None:
        return None
    if not rhs.coefs and not rhs.nids:
        return None
    if lhs.bare and len(lhs.coefs) == 1 and not rhs.coefs:
        return None   # "50 notebooks ... no more than 400": the 50 is an amount, not a coefficient
    if (not rhs.coefs and len(lhs.coefs) > 1 and set(lhs.coefs.values()) == {1.0}
            and any(t.kind == "EACH" and t.text.lower() == "each" for t in pre + post)
            and not any(t.kind == "TOTAL" for t in pre + post)):
        return [Row({k: 1.0}, op, rhs.const, set(rhs.nids), penalty, "bound") for k in lhs.coefs]
    if rhs.coefs and rhs.const and not any(t.kind in ("PLUS", "MINUS") for t in post):
        return None
    row = _row(lhs, rhs, op, "relation" if rhs.coefs else "limit", penalty)
    return [row] if row else None


def _ratio_rows(tokens: list[Token], n_vars: int) -> list[Row] | None:
    """``the ratio of X to Y must be at least 2``: X - 2 Y >= 0."""
    r = next(i for i, t in enumerate(tokens) if t.kind == "RATIO")
    core = [t for t in tokens[r + 1:] if t.kind not in FILLER or t.kind == "TO"]
    kinds = [t.kind for t in core]
    if kinds[:3] != ["VAR", "TO", "VAR"] or kinds[3:] not in (["CMP", "NUM"],) or core[0].value == core[2].value:
        return None
    if _has_struct([t for t in tokens[:r] if t.kind != "COMMA"]):
        return None
    op, num = core[3].value.replace("weak", ""), core[4]
    if op not in ("<=", ">=", "==") or num.pct:
        return None
    return [Row({core[0].value: 1.0, core[2].value: -num.value}, op, 0.0, {num.nid}, 0.05, "ratio")]


def _per_each(pre: list[Token], post: list[Token], op: str, n_vars: int, penalty: float) -> list[Row] | None:
    """``for every classroom, at least 2 teachers``: teachers >= 2 * classrooms."""
    start = next((i for i in range(len(pre) - 1) if pre[i].kind == "WORD" and pre[i].value == "for"
                  and pre[i + 1].kind == "EACH"), None)
    if start is None or _has_struct([t for t in pre[:start] if t.kind != "COMMA"]):
        return None
    core = [t for t in pre[start:] if t.kind not in FILLER | {"COMMA"} or t.kind == "EACH"]
    if [t.kind for t in core if t.kind != "NUM"] != ["EACH", "VAR"]:
        return None
    nums = [t for t in core if t.kind == "NUM"]
    if len(nums) > 1:
        return None
    per = _num(nums[0]) if nums else 1.0
    rhs = parse_expr(post, n_vars, allow_total=False)
    if rhs is None or len(rhs.coefs) != 1 or rhs.const:
        return None
    a = next(t.value for t in core if t.kind == "VAR")
    (b, amount), = rhs.coefs.items()
    if a == b:
        return None
    row = Row({b: per, a: -amount}, op, 0.0, set(rhs.nids) | {t.nid for t in nums}, penalty, "ratio")
    return [row]


def _as_many_rows(pre: list[Token], post: list[Token], op: str, n_vars: int, penalty: float) -> list[Row] | None:
    """``at least twice as many X as Y``; ``X must be at least 3 times as much as Y``."""
    k = next(i for i, t in enumerate(post) if t.kind in ("ASMANY", "TIMESAS"))
    head, tail = post[:k], post[k + 1:]
    coef = 1.0
    nums = [t for t in head if t.kind == "NUM"]
    if len(nums) > 1 or any(t.kind not in FILLER | {"NUM", "TIMES"} for t in head):
        return None
    nids = [t.nid for t in nums]
    if nums:
        coef = _num(nums[0])
    tail_vars = [i for i, t in enumerate(tail) if t.kind == "VAR"]
    if _has_vars(pre):
        lhs = parse_expr(pre, n_vars, allow_total=False)
        rhs = parse_expr(tail, n_vars, allow_total=False)
    elif len(tail_vars) >= 2:
        split = next((i for i, t in enumerate(tail) if t.kind in ("AS", "THAN") and i > tail_vars[0]), None)
        if split is None:
            return None
        lhs = parse_expr(tail[:split], n_vars, allow_total=False)
        rhs = parse_expr(tail[split + 1:], n_vars, allow_total=False)
    else:
        return None
    if lhs is None or rhs is None or lhs.const or not rhs.coefs or (rhs.const and not _has_vars(pre)):
        return None
    rhs.coefs = {v: c * coef for v, c in rhs.coefs.items()}
    rhs.nids += nids
    row = _row(lhs, rhs, op, "ratio", penalty)
    return [row] if row else None


def _more_than_rows(pre: list[Token], post: list[Token], op: str, n_vars: int, penalty: float) -> list[Row] | None:
    """``X must be at least 10 more than Y``; ``at least 10 more X than Y``; ``100 less than twice Y``."""
    m = next(i for i, t in enumerate(post) if t.kind in ("MORE", "LESS"))
    sign = 1.0 if post[m].kind == "MORE" else -1.0
    if sign < 0 and op == "<=":
        return None  # "not more than 10 less than Y": too easy to read backwards
    if sign < 0 and op == ">=":
        op = "<="    # "X is at least 50 less than Y": the gap Y - X is at least 50
    head, tail = post[:m], post[m + 1:]
    than = next((i for i, t in enumerate(tail) if t.kind == "THAN"), None)
    if than is None:
        return None
    middle, after = tail[:than], tail[than + 1:]
    nums = [t for t in head if t.kind == "NUM"]
    if len(nums) != 1 or _has_vars(head) or any(t.kind not in FILLER | {"NUM", "BY"} for t in head):
        return None
    gap = Linear({}, sign * nums[0].value, [nums[0].nid])
    if _has_vars(middle):
        if _has_vars(pre):
            return None
        lhs = parse_expr(middle, n_vars, allow_total=False)
    else:
        if _has_struct(middle):
            return None
        lhs = parse_expr(pre, n_vars, allow_total=False)
    rhs = parse_expr(after, n_vars, allow_total=False)
    if lhs is None or rhs is None or not rhs.coefs or rhs.const:
        return None
    if nums[0].pct:
        # "at least 10% more than Y": 1.1 * Y
        rhs.coefs = {k: v * (1 + sign * _num(nums[0])) for k, v in rhs.coefs.items()}
    else:
        rhs.const += gap.const
    rhs.nids += gap.nids
    row = _row(lhs, rhs, op, "difference", penalty)
    return [row] if row else None


def _more_than_equality(tokens: list[Token], n_vars: int) -> list[Row] | None:
    """``X should be 3 units more than Y`` (no comparison word): an equality, read with less confidence."""
    if not any(t.kind in ("MORE", "LESS") for t in tokens) or not any(t.kind == "THAN" for t in tokens):
        return None
    m = next(i for i, t in enumerate(tokens) if t.kind in ("MORE", "LESS"))
    start = max((i for i, t in enumerate(tokens[:m]) if t.kind == "NUM"), default=None)
    if start is None:
        return None
    rows = _more_than_rows(tokens[:start], tokens[start:], "==", n_vars, 0.25)
    return rows


def _exceed_rows(tokens: list[Token], exceed: list[int], n_vars: int) -> list[Row] | None:
    """``X cannot exceed 2 Y by more than 4``; ``X must exceed Y by at least 500``; ``X + Y cannot exceed 90``."""
    if len(exceed) != 1:
        return None
    i = exceed[0]
    negated = tokens[i].value == "neg"
    pre, rest = tokens[:i], tokens[i + 1:]
    if not _has_vars(pre) and not any(t.kind == "TOTAL" for t in pre):
        if not negated or _has_struct(pre):
            return None
        return _split_rows(pre, rest, "<=", n_vars, 0.0)
    by = next((j for j, t in enumerate(rest) if t.kind == "BY"), None)
    if by is None:
        if any(t.kind in ("CMP", "MORE", "LESS", "THAN") for t in rest):
            return None
        lhs = parse_expr(pre, n_vars, allow_total=True)
        rhs = parse_expr(rest, n_vars, allow_total=False)
        if lhs is None or rhs is None or (not rhs.coefs and not rhs.nids):
            return None
        row = _row(lhs, rhs, "<=" if negated else ">", "limit" if not rhs.coefs else "relation")
        return [row] if row else None
    num_j = next((j for j in range(by + 1, len(rest)) if rest[j].kind == "NUM"), None)
    if num_j is None:
        return None
    qual = [t for t in rest[by + 1:num_j] if t.kind not in FILLER]
    kinds = [t.kind for t in qual]
    if kinds == ["CMP"] and qual[0].value in ("<=", ">="):
        op = qual[0].value
    elif kinds in (["MORE", "THAN"], []):
        op = "<=" if negated else (">=" if kinds else "==")
    else:
        return None
    if negated and op == ">=":
        return None
    if not negated and not kinds:
        return None
    expr_tokens = rest[:by] + rest[num_j + 1:]
    lhs = parse_expr(pre, n_vars, allow_total=False)
    rhs = parse_expr(expr_tokens, n_vars, allow_total=False)
    if lhs is None or rhs is None or not rhs.coefs or rhs.const or lhs.const:
        return None
    rhs.const = rest[num_j].value
    rhs.nids.append(rest[num_j].nid)
    row = _row(lhs, rhs, op, "exceeds by")
    return [row] if row else None


def _range_rows(tokens: list[Token], n_vars: int) -> list[Row] | None:
    """``X can range from 0 to 10``; ``X (0 to 700)``; ``between 10 and 100 units for X``."""
    ranges = [i for i, t in enumerate(tokens) if t.kind == "RANGE"]
    if len(ranges) != 1 or any(t.kind == "CMP" and t.value in _STRONG for t in tokens):
        return None
    i = ranges[0]
    before, after = _has_vars(tokens[:i]), tokens[i + 1:]
    if before == _has_vars(after):
        return None
    if not before and (sum(t.kind == "VAR" for t in after) != 1
                       or any(t.kind not in FILLER | {"VAR", "COMMA"} for t in after)
                       or not any((t.kind == "WORD" and t.value == "for") or t.kind == "TO" for t in after)):
        return None
    rest = [t for j, t in enumerate(tokens) if j != i and not (t.kind == "CMP")]
    if any(t.kind == "NUM" for t in rest):
        return None
    lhs = parse_expr(rest, n_vars, allow_total=True)
    if lhs is None or not lhs.coefs or lhs.const:
        return None
    lo, hi = tokens[i].value
    rows = [Row(dict(lhs.coefs), ">=", lo.value, {lo.nid}, 0.0, "range"),
            Row(dict(lhs.coefs), "<=", hi.value, {hi.nid}, 0.0, "range")]
    return rows


def _respectively_rows(tokens: list[Token]) -> list[Row] | None:
    """``X and Y can receive at most 100 and 80 units respectively``."""
    found = _cmp_index(tokens)
    if found is None:
        return None
    _, op, penalty = found
    pairs = coef_list(tokens)
    if pairs is None:
        return None
    return [Row({k: 1.0}, op, v, {nid}, penalty, "bound") for k, (v, nid) in pairs.items()]


def coef_list(tokens: list[Token], n_vars: int | None = None, allow_times: bool = False,
              ) -> dict[int, tuple[float, int]] | None:
    """Per-quantity numbers: ``X costs 5 and Y costs 3``, ``5 for X, 3 for Y``, ``5 and 3 ... respectively``.

    With ``respectively`` and no quantity named, the numbers go to the quantities in declaration order
    (``n_vars`` must then match).
    """
    for i, t in enumerate(tokens):
        nxt = _next_struct(tokens, i)
        if t.kind == "NUM" and nxt is not None and nxt.kind in ("TIMES", "TIMESAS") and not allow_times:
            return None   # "X is twice the cost of Y": a multiplier, not a value
    items = [t for t in tokens if t.kind in ("NUM", "VAR")]
    nums = [t for t in items if t.kind == "NUM"]
    vars_ = [t for t in items if t.kind == "VAR"]
    if not nums:
        return None
    resp = any(t.kind == "RESP" for t in tokens)
    out: dict[int, tuple[float, int]] = {}
    if resp and not vars_ and n_vars is not None and len(nums) == n_vars:
        return {k: (_num(t), t.nid) for k, t in enumerate(nums)}
    if len(nums) != len(vars_) or len({t.value for t in vars_}) != len(vars_):
        return None
    pattern = "".join("N" if t.kind == "NUM" else "V" for t in items)
    n = len(nums)
    if resp or pattern in ("V" * n + "N" * n, "N" * n + "V" * n):
        pairs = list(zip(vars_, nums, strict=True))
    elif pattern == "VN" * n:
        pairs = [(items[2 * i], items[2 * i + 1]) for i in range(n)]
    elif pattern == "NV" * n:
        pairs = [(items[2 * i + 1], items[2 * i]) for i in range(n)]
    else:
        return None
    for var, num in pairs:
        out[var.value] = (_num(num), num.nid)
    return out
