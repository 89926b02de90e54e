"""Fuzzing check() and solve(): whatever the input, only FormulateError escapes (never a crash).

Random expressions (from the language's grammar, with hostile numbers and shapes) and small random
formulations go through ``formulate.check`` and ``formulate.solve``. CI runs a few hundred examples,
deterministically; ``FORMULATE_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py`` runs a longer search.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import formulate  # noqa: E402
from formulate.errors import FormulateError, InternalError  # noqa: E402
from formulate.ir.limits import limits  # noqa: E402

EXAMPLES = int(os.environ.get("FORMULATE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

NAMES = ["x", "y", "z", "c", "d", "k", "P", "Q", "E", "p", "q", "i", "undefined", "inf",
         "x[p]", "c[p]", "y[i]", "m[i]", "r[p]", "x[r[p]]", "y[i - 1]", "y[next(i)]", "x[prev(p)]", "ord(p)", "e[a, n]",
         "w[a, n]", "len(P)", "first(I)", "last(P)", "b"]
NUMBERS = ["0", "1", "2", "-1", "0.5", "1e309", "1.0e+222", "9**9**9", "10.0**400", "0 ** -1", "inf", "1e-320",
           "9" * 40, "9" * 400, "True", "None", "'a'", "'b'", "()", "[]", "(1, 2)", "[1, 'a']"]
OPS = ["+", "-", "*", "/", "**", "%", "//", "<=", ">=", "==", "<", "!=", " in ", " not in ", " and ", " or ", "|", "&",
       "^"]
CALLS = ["sum", "min", "max", "abs", "exp", "log", "sqrt", "len", "first", "last", "prev", "next", "ord", "range",
         "pwl", "undefined_fn"]


VALID = ["x[p]", "c[p]", "k", "2", "z", "0.5", "y[i]", "m[i]", "e[a, n]", "w[a, n]", "b"]


def _expr(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.sampled_from(VALID), st.sampled_from(NAMES + NUMBERS))
    if depth <= 0:
        return leaf
    sub = st.deferred(lambda: _expr(depth - 1))
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(OPS), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(NAMES), st.lists(sub, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]}[{', '.join(t[1])}]"),
        st.tuples(st.sampled_from(CALLS), st.lists(sub, min_size=0, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(st.sampled_from(CALLS[:3]), sub, st.sampled_from(["p", "q", "i", "(a, n)", "(p, q)"]),
                  st.sampled_from(["P", "I", "E", "Q", "range(0, 3)", "range(0, 1e300)", "[]", "x", "['a', 1]",
                                   "range(i, 4)"]),
                  st.sampled_from(["", " if p != q", " if x", " if 1", " if c[p] > 1", " if i > 1"])).map(
            lambda t: f"{t[0]}({t[1]} for {t[2]} in {t[3]}{t[4]})"),
        st.tuples(sub, st.sampled_from(["<=", ">=", "=="]), sub).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(sub, sub).map(lambda t: f"pwl({t[0]}, [0, 1, 2], [{t[1]}, 1, 0])"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(["-", "not ", "+"]), sub).map(lambda t: f"{t[0]}{t[1]}"),
    )


EXPRESSIONS = st.one_of(_expr(3), st.text(max_size=40))

SCALARS = st.one_of(
    st.integers(min_value=-10, max_value=10), st.sampled_from([0, 1, 2, 10**400, -(10**30), 2**62, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.sampled_from(["a", "b", "c", "[a, b]", "range(1, 4)", "range(0, 10**100)", "inf", "nan", "", "1e309"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(["a", "b", "c", "1"]), inner,
                                                                       max_size=3)), max_leaves=10)
SET_SPECS = st.one_of(st.lists(SCALARS, max_size=4), st.lists(st.lists(SCALARS, max_size=3), max_size=3),
                      EXPRESSIONS, SCALARS,
                      st.tuples(st.sampled_from(["P", "E", "[1, 2]", "range(0, 3)", "{(p, p) for p in P}", "['a']"]),
                                st.sampled_from(["|", "&", "-", "^", "+", "*"]),
                                st.sampled_from(["P", "E", "['b', 'c']", "range(1, 5)", "{p for p in P if p != 'a'}"]))
                      .map(" ".join))
PARAM_SPECS = st.one_of(
    VALUES, EXPRESSIONS,
    st.fixed_dictionaries({"index": st.sampled_from([["P"], ["Q"], ["P", "Q"], ["E"], "P", [], ["missing"]])},
                          optional={"values": VALUES, "default": SCALARS}),
)
VAR_SPECS = st.fixed_dictionaries({}, optional={
    "index": st.sampled_from([["P"], ["Q"], ["P", "Q"], ["E"], [], ["missing"]]),
    "type": st.sampled_from(["continuous", "integer", "binary", "nonsense"]),
    "lower": SCALARS, "upper": SCALARS})


@st.composite
def formulations(draw: st.DrawFn) -> str:
    sets = {"P": draw(st.sampled_from([["a", "b"], [1, 2, 3], []])), "Q": draw(SET_SPECS),
            "E": draw(st.sampled_from([[], ["a"], "range(0, 2)"]))}
    data: dict = {"name": "fuzz", "sets": sets,
                  "parameters": {"c": draw(PARAM_SPECS), "d": draw(PARAM_SPECS)},
                  "variables": {"x": draw(VAR_SPECS), "y": {"index": ["P"]}, "z": {}},
                  "objective": {"sense": draw(st.sampled_from(["min", "max"])), "expr": draw(EXPRESSIONS)},
                  "constraints": {"c1": draw(EXPRESSIONS),
                                  "c2": {"forall": draw(st.sampled_from(["p in P", "p in P, q in Q", "p in E", "x"])),
                                         "expr": draw(EXPRESSIONS)}}}
    return json.dumps(data, allow_nan=True)


def _only_formulate_errors(fn, text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(text)
    except InternalError as exc:  # the last-resort guard fired: a crash the fuzzer must not find
        raise AssertionError(f"{fn.__name__} crashed on:\n{text}\n{exc}") from exc.__cause__
    except FormulateError:
        pass


def _check_and_solve(text: str) -> None:
    with limits(max_elements=200_000):
        _only_formulate_errors(formulate.check, text)
        _only_formulate_errors(lambda t: formulate.solve(t, time_limit=5), text)


FORALLS = ["", "p in P", "p in P, q in P if p != q", "i in I", "i in I if i > 1", "(a, n) in E", "p in P, i in I"]


@FUZZ
@given(expr=EXPRESSIONS, forall=st.sampled_from(FORALLS), when=st.sampled_from([None, "b", "not b", "x"]),
       other=EXPRESSIONS, vtype=st.sampled_from(["continuous", "integer", "binary"]))
def test_random_expressions_only_raise_formulate_errors(expr: str, forall: str, when: str | None, other: str,
                                                        vtype: str) -> None:
    constraint: dict = {"expr": expr}
    if forall:
        constraint["forall"] = forall
    if when:
        constraint["when"] = when
    data = {"sets": {"P": ["a", "b"], "I": "range(1, 4)", "E": [["a", 1], ["b", 2]]},
            "parameters": {"c": {"index": ["P"], "values": [1, 2]}, "k": 3, "m": {"index": ["I"], "values": [1, 0, 2]},
                           "r": {"index": ["P"], "values": ["b", "a"]}, "w": {"index": ["E"], "values": [1.5, 2]}},
            "variables": {"x": {"index": ["P"], "type": vtype, "upper": 5}, "y": {"index": ["I"], "type": "binary"},
                          "z": {"upper": 10, "lower": -10}, "b": {"type": "binary"}, "e": {"index": ["E"]}},
            "objective": {"sense": "min", "expr": "z"},
            "constraints": {"fuzzed": constraint, "either": {"either": [expr, other]}}}
    _check_and_solve(json.dumps(data))
    data["objective"]["expr"] = expr
    data["constraints"] = {"other": other}
    _check_and_solve(json.dumps(data))


@FUZZ
@given(text=formulations())
def test_random_formulations_only_raise_formulate_errors(text: str) -> None:
    _check_and_solve(text)


@FUZZ
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=100).map(lambda b: b.decode("latin-1"))))
def test_random_text_only_raises_formulate_errors(text: str) -> None:
    _check_and_solve(text)


EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "formulate" / "examples"
SEEDS = sorted(p.read_text(encoding="utf-8") for p in EXAMPLES_DIR.glob("*.yaml")) or [
    "sets: {P: [a, b]}\nvariables: {x: {index: [P]}}\nobjective: {sense: max, expr: 'sum(x[p] for p in P)'}\n"
    "constraints:\n  c: 'sum(x[p] for p in P) <= 4'\n"]
TOKENS = ["0", "-1", "1e309", "9" * 30, "inf", ".nan", "true", "[]", "[[]]", "{}", "()", "''", "x", "p", "P", "*a",
          "&a", "[a, b]", "range(0, 10**12)", "sum(", ")", ":", "- ", "\n", "    ", "#", "!!str", "?", "for p in P"]


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    """A project example with a few random edits: a token replaced, a span deleted or duplicated, text inserted."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        span = draw(st.integers(0, 30))
        edit = draw(st.sampled_from(["replace", "delete", "duplicate", "insert"]))
        token = draw(st.sampled_from(TOKENS))
        if edit == "replace":
            text = text[:at] + token + text[at + span:]
        elif edit == "delete":
            text = text[:at] + text[at + span:]
        elif edit == "duplicate":
            text = text[:at] + text[at:at + span] * 2 + text[at + span:]
        else:
            text = text[:at] + token + text[at:]
    return text


@FUZZ
@given(text=mutated_examples())
def test_mutated_examples_only_raise_formulate_errors(text: str) -> None:
    _check_and_solve(text)


REPRODUCERS = {
    "huge float member": "sets: {P: [1.0e+222, 2]}\nvariables: {z: {}}\nobjective: {sense: min, expr: z}\n",
    "empty tuple member": "sets:\n  T: [[]]\nvariables: {z: {}}\nobjective: {sense: min, expr: z}\n",
    "one-element tuple": "sets:\n  T: [[0]]\nvariables:\n  y: {index: T}\nobjective:\n  sense: min\n"
                         "  expr: sum(y[t] for t in T)\n",
    "table of empty rows": "parameters:\n  T: [[]]\nvariables: {z: {}}\nobjective: {sense: min, expr: z}\n",
    "max over empty set": "sets:\n  P: []\n  Q: [a]\nvariables:\n  x: {index: [Q]}\n  y: {}\nobjective:\n"
                          "  sense: min\n  expr: y\nconstraints:\n  c: \"y >= max(x['a'] for p in P)\"\n",
    "plus empty tuple": "variables:\n  x: {}\nobjective:\n  sense: min\n  expr: x + ()\n",
    "list as key": "sets:\n  ? [a, b]\n  : [1]\nvariables: {z: {}}\nobjective: {sense: min, expr: z}\n",
    "member compared with a tuple": "parameters:\n  d: \"'a' == (1, 2)\"\nvariables: {z: {}}\n"
                                    "objective: {sense: min, expr: d * z}\n",
    "set as quoted list": "sets:\n  P: '[a, b]'\nvariables:\n  y: {index: P}\nobjective:\n  sense: min\n"
                          "  expr: sum(y[p] for p in P)\n",
}


@pytest.mark.parametrize("text", REPRODUCERS.values(), ids=REPRODUCERS.keys())
def test_known_crashes_are_one_line_errors(text: str) -> None:
    for fn in (formulate.check, formulate.solve):
        try:
            result = fn(text)
        except FormulateError as exc:
            message = str(exc)
        else:
            message = "; ".join(str(e) for e in getattr(result, "errors", []))
        assert "Traceback" not in message and all(line.strip() for line in message.splitlines())
        assert text != REPRODUCERS["one-element tuple"] or not message  # [0] is the member 0


def test_odd_sources_are_one_line_errors(tmp_path: Path) -> None:
    """Found while fuzzing the API's inputs: a too-long path (OSError), a FIFO (would block), a multi-line message."""
    os.mkfifo(tmp_path / "pipe.yaml")
    for source in ["a" * 2000 + ".yaml", tmp_path / "pipe.yaml", Path("/dev/null"), "\x00", "\ud800", None, 123]:
        for fn in (formulate.check, formulate.solve):
            try:
                report = fn(source)
            except InternalError as exc:
                raise AssertionError(f"{fn.__name__}({source!r:.40}) crashed: {exc}") from exc.__cause__
            except FormulateError as exc:
                messages = [str(exc)]
            else:
                messages = [str(e) for e in report.errors]
            assert messages and all("\n" not in m for m in messages), (source, messages)
