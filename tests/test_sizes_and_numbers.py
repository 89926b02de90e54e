"""Sizes are checked before anything is allocated; infinite, NaN, huge and boolean numbers are one-line errors."""

from __future__ import annotations

import pytest

from formulate.api import check, solve
from formulate.errors import FormulateError, LimitError, NumberError
from formulate.ir.limits import limits

USE_A = "constraints:\n  u: a['a'] * z >= 0\n"
OBJ = "variables:\n  z: {lower: 1}\nobjective:\n  sense: min\n  expr: z\n"


def first_error(text: str) -> FormulateError:
    report = check(text)
    assert not report.ok, text
    error = report.errors[0]
    assert "\n" not in str(error)
    with pytest.raises(FormulateError) as raised:
        solve(text)
    assert str(raised.value) == str(error)
    return error


@pytest.mark.parametrize("bound", ["10**100", "1e300", "inf", "2.5", "-inf"])
def test_range_bounds_must_be_integers(bound: str) -> None:
    error = first_error(f"sets:\n  P: range(0, {bound})\n" + OBJ)
    assert "needs integer bounds" in str(error) and "set `P`" in str(error)


SIZES = {
    "range": ("sets:\n  P: range(0, 10**10)\n" + OBJ, "`range(0, 10 ** 10)` would have 10,000,000,000 elements"),
    "product table": ("sets:\n  P: range(0, 100000)\nparameters:\n  c: {index: [P, P], default: 0}\n" + OBJ,
                      "the table over [P, P] would have 10,000,000,000 elements"),
    "variable": ("sets:\n  P: range(0, 100000)\nvariables:\n  x: {index: [P, P]}\nobjective:\n  sense: min\n"
                 "  expr: x[0, 0]\n", "the variable over [P, P] would have 10,000,000,000"),
    "nested generators": ("sets:\n  B: [0, 1]\nvariables:\n  z: {}\nobjective:\n  sense: min\n  expr: z\n"
                          "constraints:\n  c: 'sum(1 " + " ".join(f"for i{k} in B" for k in range(60))
                          + ") <= z'\n", "would have"),
    "comprehension set": ("sets:\n  P: range(0, 20000)\n  Q: '{(i, j) for i in P for j in P}'\n" + OBJ,
                          "would have 800,000,000 elements"),
}


@pytest.mark.parametrize("text,expected", SIZES.values(), ids=SIZES.keys())
def test_sizes_are_refused_before_allocation(text: str, expected: str) -> None:
    with limits(max_elements=2_000_000):
        error = first_error(text)
    assert isinstance(error, LimitError) and expected in str(error), str(error)


def test_the_element_limit_is_settable() -> None:
    text = "sets:\n  P: range(0, 1000)\n" + OBJ
    assert check(text).ok
    with limits(max_elements=999):
        assert "over the limit of 999" in str(first_error(text))


NUMBERS = {
    "9**9**9": ("parameters:\n  a: 9**9**9\n", "parameter `a`: `9 ** 9 ** 9` is infinite"),
    "10.0**400": ("parameters:\n  a: 10.0**400\n", "parameter `a`: `10.0 ** 400` is infinite"),
    "0 ** -1": ("parameters:\n  a: 0 ** -1\n", "parameter `a`: `0 ** (-1)` is infinite"),
    "exp(1000)": ("parameters:\n  a: exp(1000)\n", "parameter `a`: `exp(1000)` is infinite"),
    "inf - inf": ("parameters:\n  a: inf - inf\n", "is not a number (NaN)"),
    ".nan": ("parameters:\n  a: .nan\n", "parameter `a`: a value is NaN"),
    "nan in a table": ("sets: {P: [a]}\nparameters:\n  a: {index: [P], values: {a: .nan}}\n" + USE_A,
                       "parameter `a`: a value is NaN"),
    "1e309": ("parameters:\n  a: 1e309\n", "the number `1e309` is too large"),
    "400 digits": ("parameters:\n  a: " + "9" * 400 + "\n", "has 400 digits, too large"),
    "400 digits in an expression": ("parameters:\n  a: '2 * " + "9" * 400 + "'\n", "400 digits is too large"),
    "boolean": ("parameters:\n  a: true\n", "parameter `a` is `true`, a boolean"),
    "boolean in a table": ("sets: {P: [a]}\nparameters:\n  a: {index: [P], values: [true]}\n" + USE_A, "is a boolean"),
    "boolean default": ("sets: {P: [a]}\nparameters:\n  a: {index: [P], default: false}\n" + USE_A, "is a boolean"),
    "boolean bound": ("", "is a boolean"),
    "infinite coefficient": ("parameters:\n  a: .inf\nconstraints:\n  c: a * z <= 4\n",
                             "a coefficient of `z` is inf"),
}


@pytest.mark.parametrize("text,expected", NUMBERS.values(), ids=NUMBERS.keys())
def test_bad_numbers_are_one_line_errors(text: str, expected: str) -> None:
    error = first_error(text + OBJ if text else OBJ.replace("{lower: 1}", "{lower: 1, upper: true}"))
    assert expected in str(error), str(error)
    assert isinstance(error, NumberError | FormulateError)


def test_infinity_in_data_is_still_allowed_where_the_language_allows_it() -> None:
    text = ("sets: {A: [a, b]}\nparameters:\n  cap: {index: [A], values: [.inf, 5]}\n"
            "variables:\n  f: {index: [A], upper: cap}\nobjective:\n  sense: max\n  expr: f['b']\n"
            "constraints:\n  c: {forall: 'a in A if cap[a] < inf', expr: 'f[a] <= cap[a]'}\n")
    assert solve(text).objective == pytest.approx(5.0)


def test_huge_integer_powers_do_not_hang() -> None:
    import time

    started = time.perf_counter()
    first_error("parameters:\n  a: 9**9**9**9\n" + OBJ)
    first_error(OBJ.replace("expr: z", "expr: 9**9**9 * z"))
    assert time.perf_counter() - started < 10
