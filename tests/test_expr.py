"""The expression parser: a whitelist over Python's ast; any string parses or raises FormulationError."""

from __future__ import annotations

import ast
import builtins
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formulate.errors import FormulationError
from formulate.ir.expr import MAX_LENGTH, normalise_constraint, parse_expression, parse_forall

FRAGMENTS = ["x", "y[i]", "sum(", ")", "(", "for", " i in I", "if", "+", "-", "*", "/", "**", "<=", ">=", "==",
             "<", "[", "]", ",", "'a'", "1", "2.5", "__import__('os')", "lambda: 0", "x.y", "open('f')", "@",
             "min", "max", "abs", "not", "and", "else", ":", "=", "{", "}", "...", "\\", "\n", "#", "'", '"']


# the same examples on every run (no random seed, no example database written into the working folder)
@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join)))
def test_any_string_parses_or_raises_formulation_error(text):
    calls = []
    real_import = builtins.__import__
    me = threading.get_ident()

    def spy(*args, **kwargs):  # no code from the string may run: nothing is imported on its behalf
        if threading.get_ident() == me:  # not a thread an earlier test left running (a server, Ray's)
            calls.append(args[0])
        return real_import(*args, **kwargs)

    try:
        builtins.__import__ = spy
        try:
            tree = parse_expression(text, "constraint `c`")
        except FormulationError:
            return
        finally:
            builtins.__import__ = real_import
    finally:
        builtins.__import__ = real_import
    assert isinstance(tree, ast.expr)
    assert "os" not in calls


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os')", "function `__import__` is not available"),
    ("__import__('os').system('ls')", "attribute access"),
    ("x.real", "attribute access"),
    ("(lambda: 1)()", "lambdas are not allowed"),
    ("x[1:2]", "slices"),
    ("x ^ 2", "operator `^`"),
    ("a = b", "write equality as `==`"),
    ("{1: 2}", "dict literals"),
    ("f'{x}'", "f-strings"),
    ("sume(x[i] for i in I)", "did you mean `sum`?"),
])
def test_rejected_constructs_name_the_piece(text, fragment):
    with pytest.raises(FormulationError) as info:
        parse_expression(text, "objective")
    assert fragment in str(info.value)
    assert str(info.value).startswith("objective: ")


def test_length_and_depth_limits():
    with pytest.raises(FormulationError, match="characters long"):
        parse_expression("x + " * (MAX_LENGTH // 4 + 1) + "x")
    with pytest.raises(FormulationError, match="nests deeper"):
        parse_expression("(" * 300 + "x" + ")" * 300)
    with pytest.raises(FormulationError, match="nests deeper"):
        parse_expression("-" * 5000 + "x")


def test_forall_clause_reads_commas_as_for():
    gens = parse_forall("i in I, (a, b) in Arcs if a != b, t in range(1, 4)")
    assert [ast.unparse(g.target) for g in gens] == ["i", "(a, b)", "t"]
    assert [len(g.ifs) for g in gens] == [0, 1, 0]


def test_inline_forall_normalises_to_block_form():
    inline = normalise_constraint("serve", None, "sum(x[p, m] for p in P) >= d[m] for m in M", None, None)
    block = normalise_constraint("serve", "m in M", "sum(x[p, m] for p in P) >= d[m]", None, None)
    assert ast.dump(inline.expr) == ast.dump(block.expr)
    assert [ast.dump(g) for g in inline.forall] == [ast.dump(g) for g in block.forall]


def test_both_forall_forms_is_an_error():
    with pytest.raises(FormulationError, match="both `forall:` and an inline `for`"):
        normalise_constraint("c", "m in M", "x[m] >= 1 for m in M", None, None)


def test_constraint_must_compare():
    with pytest.raises(FormulationError, match="is not a comparison"):
        normalise_constraint("c", None, "x + y", None, None)


def test_when_and_either_shapes():
    form = normalise_constraint("c", "d in D", "y[d] >= 3", "not open[d]", None)
    assert form.when_negated and ast.unparse(form.when) == "open[d]"
    with pytest.raises(FormulationError, match="one comparison"):
        normalise_constraint("c", None, None, None, ["0 <= x <= 1", "x >= 3"])
    with pytest.raises(FormulationError, match="do not nest"):
        normalise_constraint("c", None, None, "b", ["x <= 1", "x >= 3"])
