"""The template reader: short linear word problems -> Formulation, with no model.

It reads the decision quantities, every sentence that carries a number (a limit, a relation, a
coefficient list, a bound) and the objective sense. Every number in the text must be explained; a
sentence it cannot read makes it refuse (``formulation=None, confidence=0``) rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from formulate.formulators.offline.entities import Entity, find_entities
from formulate.formulators.offline.lexer import NumberCounter, Token, lex, source_text, split_sentences
from formulate.formulators.offline.numbers import normalise
from formulate.formulators.offline.patterns import FILLER, Row, coef_list, parse_clause
from formulate.formulators.offline.usage import Table, availability_rows, join, usage_table
from formulate.ir.model import Constraint, Formulation, Objective, Variable

THRESHOLD = 0.5
_FALLBACK = "use a model: --model openai:MODEL"

_INTEGER_RE = re.compile(
    r"\b(?:integers?|integral|integer-valued|whole(?:\s+\w+)?\s+(?:numbers?|units?|dollars?|hours?|acres?|"
    r"tons?|amounts?|values?|quantities|shifts?|people|persons|items?|vehicles?|workers?|employees?)|"
    r"in whole|only whole|whole numbers?|indivisible|cannot be (?:split|divided|fractional)|no fractions?|"
    r"fraction(?:al|s)?\s+(?:of|parts?|amounts?|units?|employees?|staff|people|items?|acres?|vehicles?)|"
    r"discrete (?:units|quantities|numbers)|partial (?:units|building)|non-?fractional)\b", re.I)
_COUNTABLE = re.compile(
    r"^(?:people|persons?|workers?|employees?|staff|nurses?|doctors?|teachers?|trucks?|vans?|cars?|buses?|"
    r"vehicles?|ships?|planes?|aircrafts?|tanks?|machines?|chairs?|tables?|desks?|items?|units?|boxes?|"
    r"houses?|apartments?|buildings?|technicians?|drivers?|students?|classes?|classrooms?|tours?|trips?|"
    r"shifts?|bikes?|bicycles?|computers?|phones?|laptops?|boats?|containers?|pallets?|drones?|submarines?)$",
    re.I)
_MIN_RE = re.compile(r"\bminimi[sz](?:e|es|ed|ing|ation)\b", re.I)
_MAX_RE = re.compile(r"\bmaximi[sz](?:e|es|ed|ing|ation)\b", re.I)
_Q_MIN = re.compile(r"\b(?:minimum|minimal|lowest|least|smallest|cheapest|min)\b", re.I)
_Q_MAX = re.compile(r"\b(?:maximum|maximal|highest|greatest|largest|most|max)\b", re.I)
_QUESTION = re.compile(r"\?|^(?:what|find|calculate|determine|compute|how|give|provide|please|round)", re.I)
_OBJ_WORDS = re.compile(
    r"\b(?:costs?|costing|profits?|revenues?|returns?|yields?|earns?|earnings|salar(?:y|ies)|wages?|prices?|"
    r"fees?|pays?|spend|spending|expenses?|incur(?:s|red)?|fatigue|score|points?|benefits?|charges?|"
    r"gains?|generates?|contributes?|worth|value|rate)\b", re.I)
_SPLIT_WORDS = {"while", "whereas", "but", "however", "moreover", "additionally", "furthermore", "also",
                "meanwhile", "similarly", "likewise", "besides", "plus", "so", "thus", "hence", "therefore"}
_NAME_WORDS = (
    "budget", "demand", "capacity", "storage", "space", "labor", "labour", "time", "hours", "land",
    "balance", "effectiveness", "impact", "output", "production", "resources", "staff", "workload",
    "quality", "coverage", "risk", "diversification", "weight", "power", "supply", "area", "investment",
    "transport", "energy", "fleet", "traffic", "emissions", "exposure", "service", "score", "return",
)


@dataclass
class RulesResult:
    """What the rules formulator made of a text."""

    formulation: Formulation | None
    confidence: float
    reason: str
    notes: list[str] = field(default_factory=list)


@dataclass
class _Found:
    rows: list[tuple[Row, str]] = field(default_factory=list)
    coefs: list[tuple[dict[int, tuple[float, int]], str]] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    penalty: float = 0.0
    unread: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)


def _refuse(reason: str, notes: list[str] | None = None) -> RulesResult:
    return RulesResult(None, 0.0, f"{reason}; {_FALLBACK}", notes or [])


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.10g}"


def _linear_text(coefs: dict[int, float], names: list[str]) -> str:
    parts: list[str] = []
    for k in sorted(coefs):
        c = coefs[k]
        mag = abs(c)
        term = names[k] if abs(mag - 1) < 1e-12 else f"{_fmt(mag)}*{names[k]}"
        if not parts:
            parts.append(term if c > 0 else f"-{term}")
        else:
            parts.append(("+ " if c > 0 else "- ") + term)
    return " ".join(parts)


def _format_nids(tokens: list[Token]) -> set[int]:
    """Numbers that only say how to report the answer (``rounded to 2 decimal places``)."""
    out = set()
    for i, t in enumerate(tokens):
        if t.kind != "NUM":
            continue
        after = " ".join(x.text.lower() for x in tokens[i + 1:i + 3])
        before = " ".join(x.text.lower() for x in tokens[max(0, i - 4):i])
        if re.match(r"(?:decimal|significant|digits?|places?|d\.p)", after) or re.search(r"nearest$", before):
            out.add(t.nid)
        elif t.value == 0.5 and re.match(r"an? ", after + " ") and re.search(
                r"can't|cannot|can not|impossible|not possible|fraction", " ".join(x.text.lower() for x in tokens)):
            out.add(t.nid)          # "you can't have half a student"
    return out


_KIND_WORDS = {"types", "kinds", "different", "categories", "distinct", "main", "major", "key", "separate",
               "critical", "possible", "varieties", "classes", "options", "sorts", "forms"}
_UNIT_WORDS = {"units", "unit", "times", "hours", "hour", "dollars", "tons", "acres", "percent", "points"}


def _count_nids(tokens: list[Token], n: int) -> set[int]:
    """Numbers that count the quantities (``three projects``, ``all four routes``), not data."""
    out = set()
    for i, t in enumerate(tokens):
        if t.kind != "NUM" or not float(t.value).is_integer() or not 2 <= t.value <= 8 or t.pct:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = next((x for x in reversed(tokens[:i]) if x.kind not in ("WORD",)), None)
        nxt2 = tokens[i + 2] if i + 2 < len(tokens) else None
        if (t.word and t.value == n and nxt is not None and nxt.value in _UNIT_WORDS
                and (nxt2 is None or nxt2.kind in ("COMMA", "VAR"))):
            out.add(t.nid)          # "between two units, X and Y"
            continue
        if nxt is None or nxt.kind not in ("WORD", "TOTAL", "EACH") or nxt.value in _UNIT_WORDS:
            continue
        kind_word = nxt.value in _KIND_WORDS
        if prev is not None and prev.kind == "CMP" and not kind_word:
            continue
        if (t.word and t.value == n) or kind_word:
            out.add(t.nid)
    for i, t in enumerate(tokens):
        if t.kind != "NUM" or t.pct:
            continue
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        before_word = tokens[i - 1].value if i and tokens[i - 1].kind == "WORD" else None
        if prev is not None and prev.kind == "TOTAL" and t.value == n:
            out.add(t.nid)          # "all 3 units"
        elif (t.word and before_word in ("these", "those", "both", "the") and t.value <= n
              and nxt is not None and nxt.kind == "WORD" and nxt.value not in _UNIT_WORDS):
            out.add(t.nid)          # "a balance between these two departments"
        elif t.word and t.value == 1 and (nxt is None or nxt.kind in ("WORD", "VAR", "EACH", "OF")):
            before = next((x for x in reversed(tokens[:i]) if x.kind not in ("WORD", "OF", "EACH")), None)
            if before is None or before.kind not in ("CMP", "EXCEED", "MORE", "LESS"):
                out.add(t.nid)      # "one unit of X costs 5", "1 project"
    return out


def _usage_and_limit(tokens: list[Token]) -> tuple[Table, list[Row]] | None:
    """``Each P uses 4 kg of steel and each Q uses 3 kg, with 120 kg of steel in stock``."""
    for i in range(len(tokens) - 1, 0, -1):
        if tokens[i].kind not in ("COMMA", "AND") and not (tokens[i].kind == "WORD" and tokens[i].value == "with"):
            continue
        head, tail = tokens[:i], tokens[i + 1:]
        if any(t.kind == "VAR" for t in tail) or not any(t.kind == "NUM" for t in tail):
            continue
        table = usage_table(head)
        avail = availability_rows(tail)
        if table and avail:
            return table, avail
    return None


def _drop_question(tokens: list[Token]) -> list[Token]:
    """``..., what is the minimum total cost?``: the question part carries no data."""
    for i, t in enumerate(tokens):
        if t.kind == "WORD" and t.value in ("what", "how") and (i == 0 or tokens[i - 1].kind in ("COMMA", "RP")):
            if not any(x.kind in ("NUM", "RANGE") for x in tokens[i:]):
                return tokens[:i]
    return tokens


def _boundaries(tokens: list[Token]) -> list[int]:
    cuts = [0]
    for i, t in enumerate(tokens):
        if t.kind in ("COMMA", "AND", "OR", "LP") or (t.kind == "WORD" and t.value in _SPLIT_WORDS):
            cuts.append(i)
    cuts.append(len(tokens))
    return sorted(set(cuts))


_HAS_WORDS = {"has", "have", "owns", "own", "possesses", "holds"}


@dataclass
class _Group:
    """One clause of a sentence and what it was read as."""

    tokens: list[Token]
    rows: list[Row] = field(default_factory=list)
    coefs: dict[int, tuple[float, int]] | None = None
    modifier: bool = False     # "..., with every 2 units used in X and 3 in Y": coefficients of the row before


def _group_cost(group: list[Token], n: int, inherited: Token | None, subject: list[Token] | None,
                diff_before: bool = False) -> tuple[float, _Group]:
    nums = [t for t in group if t.kind in ("NUM", "RANGE")]
    n_vars = sum(1 for t in group if t.kind == "VAR")
    has_cmp = any(t.kind in ("CMP", "EXCEED") for t in group)
    out = _Group(group)
    if not nums and not n_vars:
        return (float("inf") if any(t.kind == "RESP" for t in group) else 0.0), out
    lead = next((t for t in group if t.kind not in ("COMMA", "AND")), None)
    if lead is not None and lead.kind == "WORD" and lead.value == "with" and nums and n_vars and not has_cmp:
        coefs = coef_list([t for t in group if t.kind != "AND"], n, allow_times=True)
        if coefs:
            out.coefs, out.modifier = coefs, True
            return 0.0, out
    if (subject and nums and has_cmp and not n_vars and not any(t.kind == "TOTAL" for t in group)):
        rows = parse_clause(subject + group, n)
        if rows:
            out.rows = rows
            return 0.2 + sum(r.penalty for r in rows), out
    rows = parse_clause(group, n)
    if rows and diff_before and not any(t.kind == "DIFF" for t in group):
        k = next((i for i, t in enumerate(group) if t.kind == "BETWEEN"), None)
        if k is not None and k + 1 < len(group) and group[k + 1].kind == "VAR":
            # "the difference between X and Y ... and between Y and Z ...": the second is a difference too
            rows = parse_clause(group[:k] + [Token("DIFF", None, "difference between")] + group[k + 1:], n)
    if rows:
        out.rows = rows
        return sum(r.penalty for r in rows), out
    if nums and not has_cmp and inherited is not None and _bare_item(group):
        rows = parse_clause(group, n, inherited)
        if rows:
            out.rows = rows
            return 0.15 + sum(r.penalty for r in rows), out
    if not nums:
        if any(t.kind in ("DIFF", "TIMES", "PLUS", "MINUS") for t in group):
            return float("inf"), out   # part of an expression: it cannot be left out
        return (3.0 if has_cmp else 1.0) * n_vars, out
    if not has_cmp:
        has = next((i for i, t in enumerate(group) if t.kind == "WORD" and t.value in _HAS_WORDS), None)
        if has is not None and len(nums) == 1 and nums[0].kind == "NUM":
            # "a farmer has 100 acres (of land) on which he grows wheat and corn": a capacity
            j = group.index(nums[0])
            if j > has:
                rows = parse_clause(group[:j] + [Token("CMP", "<=", "at most")] + group[j:], n)
                if rows:
                    for r in rows:
                        r.penalty += 0.2
                    out.rows = rows
                    return 0.2 + sum(r.penalty for r in rows), out
        coefs = coef_list([t for t in group if t.kind != "AND"], n)
        if coefs:
            out.coefs = coefs
            return (1.0 if inherited is not None else 0.5), out
    return float("inf"), out


_REASON_WORDS = {"due", "because", "owing", "since", "as", "reflecting", "ensuring", "given"}


def _bare_item(group: list[Token]) -> bool:
    """A list item such as ``30 for category Y`` or ``and Y 10 units`` (it may borrow the comparison before it)."""
    cut = next((i for i, t in enumerate(group) if t.kind == "WORD" and t.value in _REASON_WORDS), len(group))
    group = group[:cut]
    words = [t for t in group if t.kind == "WORD"]
    kinds = {t.kind for t in group} - {"WORD", "OF", "EACH", "LP", "RP", "TO", "COMMA", "AND", "FROM", "OR"}
    return "VAR" in kinds and kinds <= {"VAR", "NUM", "RANGE", "TOTAL", "MINUS"} and len(words) <= 5


_MAX_SPAN = 12   # a clause spans at most this many connective-separated pieces


def _segment(tokens: list[Token], n: int) -> tuple[float, list[_Group]]:
    """Best split of a sentence into clauses (dynamic programming over connective boundaries)."""
    cuts = _boundaries(tokens)
    best: dict[int, tuple[float, list[_Group]]] = {0: (0.0, [])}
    for b in range(1, len(cuts)):
        for a in range(max(0, b - _MAX_SPAN), b):
            if a not in best:
                continue
            lo, hi = cuts[a], cuts[b]
            group = tokens[lo:hi]
            inherited = next((t for t in reversed(tokens[:lo]) if t.kind == "CMP"), None)
            diff_before = any(t.kind == "DIFF" for t in tokens[:lo])
            cost, item = _group_cost(group, n, inherited, _subject(tokens, cuts, lo), diff_before)
            if cost == float("inf"):
                continue
            total = best[a][0] + cost
            if b not in best or total < best[b][0] - 1e-12:
                best[b] = (total, best[a][1] + [item])
    last = len(cuts) - 1
    return best.get(last, (float("inf"), []))


def _merge_coef_groups(groups: list[_Group]) -> None:
    """``The cost is 4 for stocks, while it is 3 for bonds``: one list, read from two clauses."""
    lists = [g for g in groups if g.coefs and not g.rows]
    if len(lists) < 2:
        return
    merged: dict[int, tuple[float, int]] = {}
    for g in lists:
        if set(g.coefs or {}) & set(merged):
            return
        merged.update(g.coefs or {})
    first = lists[0]
    first.coefs = merged
    first.tokens = [t for g in lists for t in g.tokens]
    for g in lists[1:]:
        g.coefs = None
        g.tokens = []


def _subject(tokens: list[Token], cuts: list[int], lo: int) -> list[Token] | None:
    """The subject of the comparison nearest before ``lo`` (``X must be at least 5 and at most 20``)."""
    last = next((i for i in range(lo - 1, -1, -1) if tokens[i].kind in ("CMP", "EXCEED")), None)
    if last is None:
        return None
    for c in sorted((c for c in cuts if c <= last), reverse=True):
        head = [t for t in tokens[c:last] if t.kind not in ("COMMA", "AND")]
        if any(t.kind in ("VAR", "TOTAL") for t in head):
            if any(t.kind in ("NUM", "CMP", "EXCEED") for t in head):
                return None
            return head
    return None


def _apply_modifiers(groups: list[_Group]) -> bool:
    """Fold ``with``-clauses into the limit before them; False when one has nothing to modify."""
    merged: list[_Group] = []
    for g in groups:
        if g.modifier and merged and merged[-1].modifier:
            merged[-1].coefs = {**(merged[-1].coefs or {}), **(g.coefs or {})}
            continue
        merged.append(g)
    target: Row | None = None
    for g in merged:
        if g.modifier:
            if target is None or not g.coefs:
                g.modifier = False     # nothing before it to modify: an ordinary coefficient list
                continue
            for k, (value, nid) in g.coefs.items():
                target.coefs[k] = value
                target.nids.add(nid)
            target.why = "weighted limit"
            g.coefs = None
            target = None
        elif g.rows:
            target = g.rows[-1] if len(g.rows) == 1 and set(g.rows[0].coefs.values()) == {1.0} else None
    groups[:] = [g for g in merged if not (g.modifier and g.coefs is None)]
    return True


def _sense(text: str, sentences: list[str]) -> str | None:
    mins, maxs = len(_MIN_RE.findall(text)), len(_MAX_RE.findall(text))
    if mins and not maxs:
        return "minimize"
    if maxs and not mins:
        return "maximize"
    for sentence in reversed(sentences):
        if _QUESTION.search(sentence.strip()):
            qmin, qmax = bool(_Q_MIN.search(sentence)), bool(_Q_MAX.search(sentence))
            if _MIN_RE.search(sentence) or qmin and not qmax:
                return "minimize" if not _MAX_RE.search(sentence) else None
            if _MAX_RE.search(sentence) or qmax and not qmin:
                return "maximize"
    return None


def _read(text: str, entities: list[Entity]) -> tuple[_Found, NumberCounter, list[str]]:
    counter = NumberCounter()
    found = _Found()
    n = len(entities)
    sentences = split_sentences(text)
    for sentence in sentences:
        tokens = lex(sentence, entities, counter)
        tokens = _drop_question(tokens)
        fmt = _format_nids(tokens) | _count_nids(tokens, n)
        found.used |= fmt
        tokens = [t for t in tokens if not (t.kind == "NUM" and t.nid in fmt)]
        nums = [t for t in tokens if t.kind in ("NUM", "RANGE")]
        if not nums and not any((t.kind == "CMP" and t.value in (">=", "<=", "==", ">", "<")) or t.kind == "EXCEED"
                                for t in tokens):
            continue
        if not nums:
            # a relation without numbers ("X must not be less than Y")
            if not any(t.kind == "VAR" for t in tokens):
                continue
        has_cmp = any(t.kind in ("CMP", "EXCEED") and t.value not in ("weak>=", "weak<=") for t in tokens)
        table = None if has_cmp or _OBJ_WORDS.search(sentence) else usage_table(tokens)
        if table:
            found.tables.append(table)
            continue
        split = None if has_cmp or _OBJ_WORDS.search(sentence) else _usage_and_limit(tokens)
        if split:
            table, avail = split
            found.tables.append(table)
            for row in avail:
                found.rows.append((row, sentence))
            continue
        cost, groups = _segment(tokens, n)
        if cost == float("inf"):
            avail = availability_rows(tokens)
            if avail:
                for row in avail:
                    found.rows.append((row, sentence))
                    found.used |= row.nids
                continue
            if nums:
                found.unread.append(sentence)
            continue
        if not _apply_modifiers(groups):
            found.unread.append(sentence)
            continue
        _merge_coef_groups(groups)
        has_rows = any(g.rows for g in groups)
        for g in groups:
            clause = source_text(g.tokens, sentence)
            if not g.rows and not g.coefs and any(t.kind == "VAR" for t in g.tokens):
                serious = has_rows or any(t.kind in ("CMP", "EXCEED") for t in g.tokens)
                found.penalty += 0.3 if serious else 0.03
                if serious:
                    found.doubts.append(f"left out the quantities named in '{clause}'")
            for row in g.rows:
                row.clause = row.clause or clause
                found.rows.append((row, clause))
                found.used |= row.nids
            if g.coefs:
                found.coefs.append((g.coefs, clause))
    return found, counter, sentences


def _objective(found: _Found, n: int, sense: str, notes: list[str]) -> tuple[dict[int, float] | None, str]:
    """Pick the coefficient list(s) that make the objective."""
    if not found.coefs:
        return None, "found no cost or profit per quantity"
    merged: dict[int, tuple[float, int]] = {}
    sources: list[str] = []
    keyed = [(c, s) for c, s in found.coefs if _OBJ_WORDS.search(s)]
    pool = keyed if keyed else found.coefs
    for coefs, clause in pool:
        if set(coefs) & set(merged):
            return None, f"two lists of per-quantity numbers compete for the objective: '{clause}'"
        merged.update(coefs)
        sources.append(clause)
    if len(pool) < len(found.coefs):
        other = [s for c, s in found.coefs if (c, s) not in pool]
        return None, f"per-quantity numbers not used in the objective or a limit: '{other[0]}'"
    if set(merged) != set(range(n)):
        return None, "the objective does not give a coefficient for every quantity"
    for clause in sources:
        notes.append(f"objective ({sense}) <- '{clause}'")
    return {k: v for k, (v, _) in merged.items()}, ""


def formulate_templates(text: str) -> RulesResult:
    """Formulate ``text`` with sentence patterns, or refuse with a reason."""
    if not text or not text.strip():
        return _refuse("the text is empty")
    clean = normalise(text)
    if not re.search(r"\d", clean):
        return _refuse("the text has no numbers, so there is no data to build a model from")
    entities = find_entities(clean)
    if len(entities) < 2:
        return _refuse("could not tell what the decision quantities are (expected a short list such as "
                       "'X and Y' or 'chairs and tables')")
    if len(entities) > 6:
        return _refuse(f"the text describes {len(entities)} decision quantities, more than this formulator "
                       "reads")
    n = len(entities)
    found, counter, sentences = _read(clean, entities)
    notes: list[str] = []
    if found.unread:
        return _refuse(f"a constraint I could not read: '{found.unread[0]}'")
    leftover, why = join([r for r, _ in found.rows], found.tables)
    if why:
        return _refuse(why)
    for res, per in leftover.items():
        found.coefs.append((per, f"use of {res} per item"))
    for row, _ in found.rows:
        found.used |= row.nids
    sense = _sense(clean, sentences)
    if sense is None:
        return _refuse("could not tell whether to minimise or maximise")
    obj, why = _objective(found, n, sense, notes)
    if obj is None:
        return _refuse(why)
    for coefs, _ in found.coefs:
        found.used |= {nid for _, nid in coefs.values()}
    unused = [nid for nid in counter.values if nid not in found.used]
    if unused:
        nid = unused[0]
        return _refuse(f"the number {_fmt(counter.values[nid])} in '{counter.context[nid]}' is not explained "
                       "by any constraint or the objective")
    if not found.rows:
        return _refuse("found no constraints")
    names = [e.name for e in entities]
    wording = _INTEGER_RE.search(clean)
    integer = bool(wording) or all(_COUNTABLE.match(e.label or e.name) for e in entities)
    if integer:
        notes.append(f"integer variables <- '{wording.group(0)}'" if wording else
                     "integer variables <- the quantities are counted items")
    variables = {e.name: Variable(type="integer" if integer else "continuous", lower=0,
                                  description=e.label or e.name) for e in entities}
    constraints: dict[str, Constraint | str] = {}
    seen: set[tuple] = set()
    for row, clause in found.rows:
        key = (tuple(sorted(row.coefs.items())), row.op, row.rhs)
        if key in seen:
            continue
        seen.add(key)
        name = _constraint_name(row, clause, names, constraints)
        expr = f"{_linear_text(row.coefs, names)} {row.op} {_fmt(row.rhs)}"
        constraints[name] = Constraint(expr=expr, description=clause)
        notes.append(f"{name}: {expr} <- '{clause}'")
        if row.penalty >= 0.1:
            found.doubts.append(f"read '{clause}' as {expr}")
    penalty = found.penalty + sum(r.penalty for r, _ in found.rows)
    rows_only = [r for r, _ in found.rows]
    if _origin_optimal(obj, sense, rows_only):
        penalty += 0.5
        found.doubts.insert(0, "doing nothing (all quantities 0) is already optimal: a constraint was probably "
                               "misread")
    trouble = _obviously_broken(obj, sense, rows_only, names)
    if trouble:
        penalty += 0.5
        found.doubts.insert(0, trouble)
    confidence = round(max(0.0, min(0.95, 0.95 - penalty)), 3)
    objective = Objective(sense=sense, expr=_linear_text(obj, names) or "0")
    formulation = Formulation(
        name="rules_model", problem=text, meta={"formulator": "rules", "confidence": confidence},
        variables=variables, objective=objective, constraints=constraints)
    reason = "; ".join(found.doubts[:3])
    if confidence < THRESHOLD:
        reason = f"too unsure to answer ({reason or 'several clauses were read with low confidence'}); {_FALLBACK}"
    return RulesResult(formulation, confidence, reason, notes)


def _origin_optimal(obj: dict[int, float], sense: str, rows: list[Row]) -> bool:
    """True when x = 0 is feasible and no direction improves from it (a model that asks for nothing)."""
    feasible = all((r.op == "<=" and r.rhs >= 0) or (r.op == ">=" and r.rhs <= 0) or (r.op == "==" and r.rhs == 0)
                   for r in rows)
    if not feasible:
        return False
    return all(c >= 0 for c in obj.values()) if sense == "minimize" else all(c <= 0 for c in obj.values())


def _obviously_broken(obj: dict[int, float], sense: str, rows: list[Row], names: list[str]) -> str:
    """A cheap look for a model that cannot have the intended answer: unbounded or infeasible by bounds."""
    sign = 1.0 if sense == "maximize" else -1.0
    for k, c in obj.items():
        if sign * c <= 0:
            continue
        stops = any((r.op == "<=" and r.coefs.get(k, 0) > 0) or (r.op == ">=" and r.coefs.get(k, 0) < 0)
                    or (r.op == "==" and r.coefs.get(k, 0) != 0) for r in rows)
        if not stops:
            return f"nothing limits {names[k]}: the model is unbounded, so a limit was probably missed"
    lo = {k: 0.0 for k in range(len(names))}
    hi = {k: float("inf") for k in range(len(names))}
    for r in rows:
        if len(r.coefs) == 1:
            (k, a), = r.coefs.items()
            bound = r.rhs / a
            if r.op in ("<=", "==") and a > 0 or r.op in (">=", "==") and a < 0:
                hi[k] = min(hi[k], bound)
            if r.op in (">=", "==") and a > 0 or r.op in ("<=", "==") and a < 0:
                lo[k] = max(lo[k], bound)
    if any(lo[k] > hi[k] + 1e-9 for k in lo):
        return "the bounds contradict each other: the text may have no solution as written, or a limit was misread"
    for r in rows:
        top = sum(a * (hi[k] if a > 0 else lo[k]) for k, a in r.coefs.items())
        bottom = sum(a * (lo[k] if a > 0 else hi[k]) for k, a in r.coefs.items())
        if (r.op in (">=", "==") and top < r.rhs - 1e-9) or (r.op in ("<=", "==") and bottom > r.rhs + 1e-9):
            return (f"no choice within the bounds meets '{r.clause}': the text may have no solution as written, or a "
                    "number was misread")
    return ""


def _constraint_name(row: Row, clause: str, names: list[str], taken: dict) -> str:
    if row.why.endswith(" limit") and row.why != "weighted limit":
        base = re.sub(r"\W+", "_", row.why[:-len(" limit")]).strip("_") or "limit"
    elif len(row.coefs) == 1 and row.why in ("limit", "bound", "range"):
        k = next(iter(row.coefs))
        base = f"{names[k]}_{'min' if row.op == '>=' else 'max' if row.op == '<=' else 'fixed'}"
    else:
        low = clause.lower()
        word = next((w for w in _NAME_WORDS if re.search(rf"\b{w}\b", low)), None)
        base = word or {"relation": "relation", "ratio": "ratio", "difference": "gap",
                        "exceeds by": "gap"}.get(row.why, "limit")
    if base in names:
        base = f"{base}_limit"
    name, i = base, 2
    while name in taken or name in names:
        name = f"{base}_{i}"
        i += 1
    return name


__all__ = ["RulesResult", "formulate_templates", "THRESHOLD", "FILLER"]
