"""Per-item resource use and resource limits (``each chair needs 2 hours of carpentry ... 100 hours of
carpentry are available``): usage tables, availability sentences, and joining the two."""

from __future__ import annotations

import re

from formulate.formulators.offline.lexer import Token
from formulate.formulators.offline.patterns import Row

USAGE_VERBS = {
    "requires", "require", "required", "requiring", "needs", "need", "needing", "uses", "use", "using", "takes",
    "take", "taking", "consumes", "consume", "consuming", "weighs", "weigh", "weighing", "occupies", "occupy",
    "demands", "demand", "yields", "produces", "produce", "contains", "contain", "provides", "provide",
}
_NOT_RESOURCE = {"the", "a", "an", "each", "every", "per", "of", "and", "to", "in", "for", "its", "their", "it",
                 "while", "whereas", "but", "unit", "units"}

Table = dict[str, dict[int, tuple[float, int]]]
_UNIT_ONLY = {"hour", "unit", "ton", "kg", "pound", "liter", "litre", "minute", "day", "point"}


def _key(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def resource_after(tokens: list[Token], i: int) -> str | None:
    """The resource a number measures: ``2 hours of carpentry`` -> carpentry; ``3 tons`` -> ton."""
    words: list[str] = []
    j = i + 1
    while j < len(tokens) and tokens[j].kind == "WORD" and len(words) < 2:
        words.append(tokens[j].value)
        j += 1
    if j < len(tokens) and tokens[j].kind == "OF":
        j += 1
        while j < len(tokens) and tokens[j].kind in ("WORD", "OF") and (
                tokens[j].kind == "OF" or tokens[j].value in _NOT_RESOURCE):
            j += 1
        if j < len(tokens) and tokens[j].kind == "WORD":
            return _key(tokens[j].value)
        return None
    unit = next((w for w in words if w not in _NOT_RESOURCE), None)
    return _key(unit) if unit else None


def usage_table(tokens: list[Token]) -> Table | None:
    """``Each chair needs 2 hours of carpentry and 1 hour of finishing, while each table needs ...``."""
    if not any(t.kind == "WORD" and t.value in USAGE_VERBS for t in tokens):
        return None
    owner: int | None = None
    table: Table = {}
    for i, t in enumerate(tokens):
        if t.kind == "VAR":
            owner = t.value
        elif t.kind == "NUM":
            if owner is None or t.pct:
                return None
            res = resource_after(tokens, i)
            if res is not None and res not in table and len(table) == 1 and res in _UNIT_ONLY:
                res = next(iter(table))      # "... 2 units of resources and every Y requires 3 units"
            if res is None and len(table) == 1:
                res = next(iter(table))
            if res is None or owner in table.get(res, {}):
                return None
            table.setdefault(res, {})[owner] = (t.value, t.nid)
        elif t.kind in ("CMP", "EXCEED", "RESP", "RANGE", "TIMES", "TIMESAS", "MINUS", "DIFF", "MORE", "LESS"):
            return None
    return table or None


def availability_rows(tokens: list[Token]) -> list[Row] | None:
    """``There are 100 hours of carpentry and 40 hours of finishing available``: one limit per resource."""
    if any(t.kind == "VAR" for t in tokens):
        return None
    cmps = [t for t in tokens if t.kind == "CMP"]
    nums = [i for i, t in enumerate(tokens) if t.kind == "NUM"]
    if not cmps or not nums or len({c.value.replace("weak", "") for c in cmps}) != 1:
        return None
    op = cmps[0].value.replace("weak", "")
    if op not in ("<=", ">=", "=="):
        return None
    rows = []
    for i in nums:
        res = resource_after(tokens, i)
        if res is None or tokens[i].pct:
            return None
        rows.append(Row({}, op, tokens[i].value, {tokens[i].nid}, 0.0, "resource limit", True, res))
    return rows


def mentions(clause: str, resource: str) -> bool:
    """Whether ``clause`` names ``resource`` (singular or plural)."""
    return re.search(rf"\b{re.escape(resource)}(?:s|es)?\b|\b{re.escape(resource[:-1])}ies\b", clause, re.I) is not None


def join(rows: list[Row], tables: list[Table]) -> tuple[Table, str]:
    """Weight total-limits by the usage of the resource they name; return the usage left unused and a problem."""
    usage: Table = {}
    for table in tables:
        for res, per in table.items():
            if set(per) & set(usage.get(res, {})):
                return {}, f"the use of {res} per item is given twice"
            usage.setdefault(res, {}).update(per)
    used: set[str] = set()
    for row in rows:
        if not row.total:
            continue
        named = [res for res in usage if mentions(row.clause, res)]
        if len(named) > 1:
            return {}, f"a limit names two resources ({', '.join(named)}): '{row.clause}'"
        if not named:
            if not row.coefs:
                return {}, f"a limit on {row.clause} that no item uses"
            continue
        res = named[0]
        row.coefs = {k: v for k, (v, _) in usage[res].items()}
        row.nids |= {nid for _, nid in usage[res].values()}
        row.why = f"{res} limit"
        row.penalty = min(row.penalty, 0.05)   # the resource named in the limit explains the weights
        used.add(res)
    return {res: per for res, per in usage.items() if res not in used}, ""
