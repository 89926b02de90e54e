"""The IR-mode prompt: a condensed language reference generated from the code, plus solved examples.

The reference is built from ``Formulation.model_json_schema()`` and ``formulate.ir.expr.FUNCTIONS``,
so it cannot drift from what the loader accepts; ``formulate schema --reference`` prints the same text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from formulate.ir.expr import FUNCTIONS
from formulate.ir.model import Formulation
from formulate.llm.base import Message

if TYPE_CHECKING:
    from formulate.formulators.fewshot import Example

MAX_ERRORS_SHOWN = 12

_KEY_NOTES = {
    "problem": "filled in for you from the problem text; leave it out",
    "meta": "write `assumptions` (short sentences) and `alternatives` (readings that change the answer, each "
            "a sentence or a patch `{reading: ..., changes: {section: {name: item or null}}}`, see Forms); "
            "`expected_status: infeasible` (or `unbounded`) only when the text's own conditions admit no optimum: "
            "write them as stated and say so",
}

_ITEM_KINDS = {"Parameter": "parameter", "Variable": "variable", "Objective": "objective", "Constraint": "constraint"}

_OPERATORS = """\
- numbers (`5e-7` too); names of sets, parameters, variables and bound indices; subscripts `x[i, j]`, `x['chair']`,
  `x[3]` (the member's type must match the set: integers unquoted, strings quoted, `x['X-ray']` for members that
  are not identifiers)
- `+ - * /`, unary minus, `**` with a constant exponent, parentheses; `%` and `//` on data; `-t ** 2` is
  `-(t ** 2)`, as in Python
- rows: `<=`, `>=`, `==`, and ranges `lo <= e <= hi`; strict `<`/`>` only between integer expressions
  (integer variables, integer coefficients); on anything continuous write `<=`/`>=`
- in data-only places (filters, conditions, derived sets/parameters) every comparison `< <= > >= == !=`,
  `and or not`, `in`/`not in` a set or a literal list (`degree[c] in ['master', 'phd']`), strings compared with
  `==`/`!=` (`if kind[j] == 'rush'`), and `inf` as a number (`if cap[i, j] < inf`)
- generators: `sum(cost[i, j] * x[i, j] for i in I for j in J if cost[i, j] < 50)`; any number of `for`
  clauses, tuple targets `for (i, j) in Arcs`, `if` filters on data only (never on variables); a count is
  `sum(1 for j in J if size[j] > 3)`; an empty sum is 0
- `sum`, `min`, `max` take a generator or a list of arguments: `max(0, start[j] + dur[j] - due[j])`
- index arithmetic on integer members: `stock[t - 1]`, `x[i + 1]` moves by whole steps and leaving the set is an
  error, so guard it with the data-only conditional `(stock[t - 1] if t > first(T) else initial)` (only the taken
  branch counts); outside subscripts, arithmetic on an index is plain arithmetic (`if a * width[1] <= w + 1e-9`)
- `prev(i)`/`next(i)` (step `prev(i, 2)`, cyclic `wrap=True`) and `ord(i)` work on an index bound to a plain
  set; on string members compare positions `ord(i) < ord(j)`, never `i < j`; a part of a tuple target
  (`for (a, b) in Pairs`) has no position: loop `for a in S for b in S if (a, b) in Pairs` instead
- data given once per unordered pair reads both ways with `(t[i, j] if (i, j) in Given else t[j, i])`, also as
  a coefficient
- `exp`, `log`, `sqrt`, `**`, `abs` of data only are data (linear coefficients); on variables they make the
  model nonlinear
- `pwl(x, xs, ys)`: x affine, xs strictly increasing breakpoints (1-D parameters over one set or literal
  lists), x stays within [xs[0], xs[-1]]"""

PATCH_RULE = """\
`meta.alternatives` patches `{reading: ..., changes: {...}}`: `changes` holds only the sections that differ
  (`sets`, `parameters`, `variables`, `constraints`, `objective`), items by name; `null` deletes an item, a new
  name adds it; a mapping merges into the existing item field by field: the keys it gives replace those keys, a
  key set to `null` is removed (takes its default), the rest is kept (`variables: {x: {type: integer}}` keeps
  x's index and bounds; `constraints: {demand: {expr: "x[p] >= 40"}}` keeps demand's `forall` and description,
  also of a one-line row `x[p] <= 40 for p in P`; `objective: {sense: minimize}` keeps the expr); a plain value
  (a one-line row, a set's members, a number) or a list of objectives replaces the item whole"""

_FORMS = """\
- sets: `P: [chair, table]` (members are integers or strings, `'X-ray'` included); `T: range(1, 13)` (1..12;
  sized from data: `range(1, len(P) + 1)`, `range(1, n_bins + 1)`); tuple sets of any arity
  `Arcs: [[a, b], [b, c]]`, `Moves: [[1, 3, 2], [2, 1, 3]]`; derived from data with a quoted comprehension
  `Links: "{(d, t) for d in D for t in T if km[d, t] <= 30}"`; set algebra `Nodes: "Depots | Stores"`,
  `"A & B"` (both), `"A - B"` (in A, not in B), left set's order first
- parameters: scalar `budget: 1000`; `profit: {index: [P], values: {chair: 30, table: 50}}` (by member) or
  `values: [30, 50]` (list in set order); two indices as nested mappings or nested lists (rows = first set);
  over a tuple set one list in tuple order or nested mappings one level per part
  (`toll: {index: [Arcs], values: {a: {b: 3}, b: {c: 2}}}`); sparse with `default: 0` (`net: {index: [Nodes],
  values: {A: 1, F: -1}, default: 0}`); text values
  (`degree: {index: [Staff], values: {ann: master, bob: phd}}`) for comparisons in filters; derived from data
  with a quoted expression `horizon: "sum(dur[j] for j in J)"`, a keyed comprehension
  `"{p: cap[p] - need[p] for p in P}"`, over a tuple set `"{(i, j): 60 * km[i, j] / speed for (i, j) in Arcs}"`
  (indexed by Arcs) or over two sets `"{(i, k): ... for i in I for k in K}"`; a set comprehension `{(d, t) for
  ...}` goes under `sets:`, a keyed one `{p: ... for p in P}` under `parameters:`; unused parameters are allowed
  (reported as a warning)
- variables: `x: {index: [P], type: integer, lower: 0, upper: 40}`; indexed by a tuple set and other sets
  (`index: [Pairs, K]`) they are subscripted flat `y[a, b, k]`; bounds are numbers, `inf`, `-inf` or a parameter
  name: a scalar, one over the variable's sets (read at its key), over fewer of them (`upper: avail` with avail
  over [G] bounds `x` over [G, T] by `avail[g]`) or over a superset of its members (a variable over a derived
  subset of `Pipes` reads `capacity` over `Pipes`)
- objective: `{sense: minimize|maximize, expr: ...}`; several objectives (goal programming) as a list
  `[{sense: minimize, expr: overtime, priority: 2}, {sense: maximize, expr: profit, priority: 1, weight: 1}]`:
  higher priority first, each later level optimised with the earlier ones held at their optimum (lexicographic);
  equal priorities are summed with `weight` (default 1; a level's first sense wins, opposite senses subtract)
- constraints: one row `name: EXPR`; indexed inline `name: EXPR for i in I`; block form with `forall:`
  (a comprehension clause `i in I, j in J if cond`, tuple targets `(i, j) in Arcs`), `expr:`, `when:` (a binary
  variable, or `not` one, under which the row holds), `either:` (a list of single comparisons, at least one
  holds), `description:`
- a share of a total: "at most 35% of the units are a" is `x['a'] <= 0.35 * sum(x[p] for p in P)`; "each
  product at least 10% of the output" is `x[q] >= 0.1 * sum(x[p] for p in P) for q in P`
- """ + PATCH_RULE

_SOLVING = """\
- `when:` / `either:` / `min`, `max`, `abs` outside convex positions: big-M comes from the variables' bounds, per
  row; never write big-M by hand and never invent bounds; give the finite bounds the text states (capacities,
  demands); without them SCIP's native indicator constraints are used (automatic solver choice); a linking
  row with a capacity the text states (`make[t] <= capacity * setup[t]`) is no invented big-M: write it
- LP, MILP and convex QP (a convex quadratic objective) go to HiGHS; quadratic rows, second-order cones
  (`sum(y[i] ** 2 for i in I) <= t ** 2` with `t >= 0`, or `sqrt(sum(...)) <= t`), MIQP, nonconvex products and
  exp/log/sqrt of variables go to SCIP
- a product of a binary variable with a binary or a bounded variable (`open[i] * flow[i, j]`) is linearised
  exactly: the model stays a MILP for HiGHS; write the product rather than a big-M by hand
- a row whose sums are all empty reads a constant: it is dropped when it holds and an error when it does not
- packing and bin models: bound the number of bins from data (`Bins: range(1, n_items + 1)`) and break symmetry
  (`use[b] <= use[b - 1] for b in Bins if b > first(Bins)`)"""

_PITFALLS = """\
- Put expressions in block style or in quotes: inside a flow mapping `{forall: p in P, expr: x[p] <= 40}` YAML
  reads `[` and `,` as syntax and the file breaks. Quote any expression that starts with `{`, `[` or `*`, and any
  text with a comma or bracket inside `{...}`: `{description: "10,000 yuan per m3"}`.
- A value or list item that opens with a quote must be quoted whole: `- '"fixed" means paid once'`, not
  `- "fixed" means paid once`.
- `lower` defaults to 0 and `upper` to +inf (1 for binary): a free variable needs `lower: -inf`; YAML's
  infinity is `.inf` / `-.inf` (the strings `inf`, `-inf` also work as bounds).
- Use `type: integer` (or `binary`) for counts of indivisible things (people, trucks, machines, items the text
  counts one by one); planned volumes over periods (production, stock, flows) are continuous unless the text
  asks for whole numbers.
  When the text explicitly asks for a model type ("formulate an LP", "linear program", "may be fractional"),
  follow the text and record the integer reading in `meta.alternatives` as a patch
  (`{reading: "whole units", changes: {variables: {x: {type: integer}}}}`).
- An alternative that needs data the text does not give (a penalty it never prices) may be a plain sentence:
  it is reported, not solved.
- Use every number of the text, each stated once: as a parameter (a number used once may stand in its
  expression, as in a small model); compute aggregates as derived parameters instead of by hand; never put
  variables in `if` filters, subscripts or set definitions (use `when:`).
- Members the text only counts ("four stores") are `range(1, 5)` or short names (`[S1, S2, S3, S4]`).
- Reading an entry a sparse table lacks is an error: filter the loop, give the entry or declare `default:`.
- Names are identifiers (letters, digits, `_`); no other top-level keys and no other item keys than listed."""

_EXAMPLE = """\
name: furniture
meta:
  assumptions: [chairs and tables are whole units]
  alternatives: []
sets:
  P: [chair, table]
parameters:
  profit: {index: [P], values: {chair: 30, table: 50}}
  wood:   {index: [P], values: [2, 5]}
  wood_available: 100
variables:
  x: {index: [P], type: integer, lower: 0, description: units made}
objective:
  sense: maximize
  expr: sum(profit[p] * x[p] for p in P)
constraints:
  wood_limit: sum(wood[p] * x[p] for p in P) <= wood_available
  chair_ratio: x['chair'] >= 2 * x['table']
  demand:
    forall: p in P
    expr: x[p] <= 40
    description: market cap"""


def _type_text(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short type description of one JSON-schema node."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name == "Objectives":
            return "list of objective"
        return _ITEM_KINDS.get(name, name)
    if "anyOf" in node:
        parts = [_type_text(n, defs) for n in node["anyOf"] if n.get("type") != "null"]
        return " | ".join(dict.fromkeys(parts)) or "any"
    if "enum" in node:
        return " | ".join(str(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type_text(node.get('items', {}), defs)}"
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return f"mapping name -> {_type_text(extra, defs)}"
        return "mapping"
    if kind in ("integer", "number"):
        return "number"
    return kind or "any"


def _key_line(key: str, node: dict[str, Any], defs: dict[str, Any], required: Sequence[str],
              top: bool = False) -> str:
    text = f"  {key}: {_type_text(node, defs)}"
    notes = []
    if key in required:
        notes.append("required")
    description = node.get("description") or ""
    if "default" in node and node["default"] not in (None, [], {}) and "default" not in description:
        notes.append(f"default {node['default']}")
    if description:
        notes.append(description)
    if top and key in _KEY_NOTES:
        notes.append(_KEY_NOTES[key])
    return text + (f" ({'; '.join(notes)})" if notes else "")


def schema_summary() -> str:
    """The keys of a formulation and of each item, with allowed values and descriptions, from the JSON Schema."""
    schema = Formulation.model_json_schema()
    defs = schema.get("$defs", {})
    lines = ["Top-level keys (no others):"]
    for key, node in schema["properties"].items():
        lines.append(_key_line(key, node, defs, schema.get("required", []), top=True))
    for def_name, kind in _ITEM_KINDS.items():
        node = defs[def_name]
        article = "an" if kind[0] in "aeiou" else "a"
        lines.append(f"Keys of {article} {kind} (no others): {node.get('description', '').strip()}")
        for key, sub in node["properties"].items():
            lines.append(_key_line(key, sub, defs, node.get("required", [])))
    return "\n".join(lines)


def functions_summary() -> str:
    """One line per callable function of the expression language (from ``FUNCTIONS``)."""
    return "\n".join(f"- `{name}`: {doc}" for name, doc in FUNCTIONS.items())


@lru_cache(maxsize=1)
def language_reference() -> str:
    """The condensed language reference: schema, forms, expressions, functions, pitfalls and an example."""
    return "\n\n".join([
        "# The formulate formulation language (condensed reference)",
        "A formulation is one YAML 1.2 (or JSON) document. Expressions are strings in a small Python-like "
        "algebra, parsed against a whitelist; nothing is executed.",
        "## Keys\n" + schema_summary(),
        "## Forms\n" + _FORMS,
        "## Expressions\n" + _OPERATORS,
        "## Functions\n" + functions_summary(),
        "## What solving does\n" + _SOLVING,
        "## Pitfalls\n" + _PITFALLS,
        "## Example\n```yaml\n" + _EXAMPLE + "\n```",
    ])


def reference_example() -> str:
    """The small example formulation embedded in the reference (tests check that it loads and checks)."""
    return _EXAMPLE


_TASK_YAML = """\
You are an operations-research modeller. Turn the optimisation problem the user gives into a formulation
in the language below. Use every number the text gives, with the text's units, and name things after the
text. Record in `meta` the assumptions you made (`assumptions`, short sentences) and, in `alternatives`,
every other reading of the text that would change the answer, written as a patch that is solved beside your
main formulation: `{reading: "fixed costs are paid every week", changes: {constraints: {fixed_if_used: null},
objective: {expr: "..."}}}` (the rule is under `meta.alternatives` in the reference below). Use empty lists if
there is nothing to record.

Answer with ONE YAML document in a single ```yaml fenced block: the complete formulation (keys `name`,
`meta`, `sets`, `parameters`, `variables`, `objective`, `constraints`). You may write a few lines of
reasoning before the block; nothing after it."""

_TASK_JSON = """\
You are an operations-research modeller. Turn the optimisation problem the user gives into a formulation
in the language below. Use every number the text gives, with the text's units, and name things after the
text. Record in `meta` the assumptions you made and, in `alternatives`, every other reading of the text
that would change the answer as `{reading, changes}`: `changes` is a JSON object (as a string) holding only the
sections that differ, in the plain map form (`{"constraints": {"fixed_if_used": null}, "objective": {...}}`);
the rule is under `meta.alternatives` in the reference below.

Answer with ONE JSON object that matches the response schema. It is the language below with every mapping
of named items written as a list of objects with a `name`: `sets` items have `members` (a list) or
`definition` (`range(a, b)` or a comprehension string); `parameters` items have `value` (a scalar, or a
quoted data expression) or `index` with `values` (nested lists in set order) or `entries` (a list of
`{key: [one member per index set], value}`); `variables` and `constraints` items carry the keys listed
below. Use null for a key you do not need."""


def system_prompt(structured: bool = False) -> str:
    """The system message: the task, the answer format and the language reference."""
    return (_TASK_JSON if structured else _TASK_YAML) + "\n\n" + language_reference()


def user_message(problem_text: str) -> str:
    """The user turn that carries one problem."""
    return f"Problem:\n{problem_text.strip()}"


def example_messages(examples: Sequence[Example], structured: bool = False) -> list[Message]:
    """Few-shot examples as alternating user/assistant turns."""
    from formulate.formulators.llm import to_list_shape

    messages: list[Message] = []
    for example in examples:
        if structured:
            answer = json.dumps(to_list_shape(example.answer_data()), ensure_ascii=False)
        else:
            answer = f"```yaml\n{example.answer_yaml().rstrip()}\n```"
        messages.append({"role": "user", "content": user_message(example.problem)})
        messages.append({"role": "assistant", "content": answer})
    return messages


def build_messages(problem_text: str, examples: Sequence[Example] = (), structured: bool = False) -> list[Message]:
    """System prompt, few-shot turns, then the problem."""
    return [
        {"role": "system", "content": system_prompt(structured)},
        *example_messages(examples, structured),
        {"role": "user", "content": user_message(problem_text)},
    ]


def _answer_format(structured: bool) -> str:
    if structured:
        return "as one JSON object matching the response schema"
    return "as ONE YAML document in a single ```yaml block"


def repair_message(stage: str, errors: Sequence[str], structured: bool = False, truncated: bool = False) -> str:
    """The message that asks the model to fix its last answer, quoting each error (where, what, fix)."""
    shown = list(errors[:MAX_ERRORS_SHOWN])
    more = len(errors) - len(shown)
    bullet = "\n".join(f"- {e}" for e in shown) + (f"\n- ... and {more} more" if more > 0 else "")
    if stage == "parse_error":
        head = "I could not read a formulation from your reply:"
    else:
        head = f"Your formulation has {len(errors)} error{'s' if len(errors) != 1 else ''}:"
    note = ("\nYour reply was cut off at the length limit; write it more compactly (flow-style data, no "
            "comments).") if truncated else ""
    return (f"{head}\n{bullet}{note}\n\nFix every error and answer again with the complete corrected formulation "
            f"{_answer_format(structured)}; keep `meta.assumptions` and `meta.alternatives` up to date.")
