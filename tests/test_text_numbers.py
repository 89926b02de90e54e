"""The shared number reader (formulate.text.numbers) and its three callers' adapters."""

from __future__ import annotations

import pytest

from formulate.formulators.offline.numbers import normalise
from formulate.formulators.offline.numbers_tagged import read_numbers
from formulate.formulators.offline.tokens import tokenize
from formulate.text.numbers import phrase_value, read_text_numbers, words_value
from formulate.verify.text import numbers_in_text


def values(text: str) -> list[float]:
    return [n.value for n in read_text_numbers(text)]


def one(text: str):
    found = read_text_numbers(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(("text", "value"), [
    ("It weighs 12 kg.", 12.0),
    ("The budget is 1,500,000 in all.", 1_500_000.0),
    ("It costs 1,500.25 each.", 1500.25),
    ("about .5 of it", 0.5),
    ("a rate of 5e-7", 5e-7),
    ("2.5 kg of flour", 2.5),
    ("2.5kg of flour", 2.5),
    ("2.5 million dollars", 2_500_000.0),
    ("sales of 3 bn", 3e9),
    ("a $200k loan", 200_000.0),
])
def test_digits_commas_scales_and_units(text: str, value: float) -> None:
    assert one(text).value == pytest.approx(value)


def test_money_keeps_the_sign_in_its_text() -> None:
    n = one("It costs $1,500 a month.")
    assert (n.value, n.text, n.money, n.data) == (1500.0, "$1,500", True, True)
    assert one("It costs €20.").money


def test_percent_is_the_number_and_its_fraction() -> None:
    for text in ("a 30% share", "a 30 percent share", "a 30 per cent share"):
        n = one(text)
        assert (n.value, n.values, n.percent) == (30.0, (30.0, 0.3), True)
    n = one("thirty percent of it")
    assert (n.value, n.values, n.percent, n.kind) == (30.0, (30.0, 0.3), True, "words")


@pytest.mark.parametrize(("text", "value"), [
    ("three machines", 3.0), ("twenty-five workers", 25.0), ("twenty five workers", 25.0),
    ("twenty one days", 21.0), ("one hundred units", 100.0), ("a thousand units", 1000.0),
    ("two hundred and fifty boxes", 250.0), ("two thousand five hundred cans", 2500.0),
    ("seventeen trucks", 17.0), ("two billion cells", 2e9), ("zero waste", 0.0),
])
def test_written_out_numbers(text: str, value: float) -> None:
    n = one(text)
    assert (n.value, n.kind) == (value, "words")


@pytest.mark.parametrize(("text", "value"), [
    ("twice as many", 2.0), ("thrice the cost", 3.0), ("double the rate", 2.0), ("half as much", 0.5),
    ("a dozen eggs", 12.0), ("it is halved", 0.5), ("quadruple", 4.0),
])
def test_multiplier_words(text: str, value: float) -> None:
    n = one(text)
    assert (n.value, n.kind) == (value, "multiplier")


def test_fractions_and_counted_dozens() -> None:
    assert one("a third of the land").value == pytest.approx(1 / 3)
    assert one("one quarter of it").value == 0.25
    two_thirds = one("two thirds of the land")
    assert two_thirds.value == pytest.approx(2 / 3) and two_thirds.values[1] == 2.0
    assert one("three dozen eggs").values == (36.0, 3.0)
    assert values("the third machine") == []          # an ordinal, not a fraction


def test_negative_numbers_are_read_without_their_sign() -> None:
    """The sign is the formulation's business: the verifier matches numbers with either sign."""
    assert values("a balance of -5 and a change of -2.5") == [5.0, 2.5]


def test_digits_inside_words_and_names_are_not_numbers() -> None:
    assert values("H2O and CO2") == []
    assert values("the Model X200 and x1, x2") == []


def test_identifiers_ordinals_years_times_and_list_markers_are_not_data() -> None:
    text = "1. Product 1 ships on the 2nd, in 2024, at 9:30 am, from Plant 3; it costs 40."
    found = read_text_numbers(text)
    assert [(n.value, n.data) for n in found] == [
        (1.0, False), (1.0, False), (2.0, False), (2024.0, False), (9.0, False), (30.0, False), (3.0, False),
        (40.0, True)]


def test_a_lone_one_is_read_but_not_data_and_the_verifier_drops_it() -> None:
    found = read_text_numbers("one of the plants makes one hundred units")
    assert [(n.value, n.kind, n.data) for n in found] == [(1.0, "one", False), (100.0, "words", True)]
    assert [n.value for n in numbers_in_text("one of the plants makes one hundred units")] == [100.0]


def test_phrase_and_word_values() -> None:
    assert phrase_value(["two", "hundred", "and", "fifty", "boxes"]) == (250.0, 4)
    assert phrase_value(["one", "of"]) == (None, 0)
    assert phrase_value(["twenty", "thirty"]) == (20.0, 1)
    assert words_value("two thousand five hundred") == 2500.0
    assert words_value("one") == 1.0 and words_value("hundred") == 100.0
    assert words_value("twenty thirty") is None and words_value("apples") is None


def test_the_tagged_reader_places_numbers_on_tokens() -> None:
    text = "It costs $1,500, takes 30% of the space and twenty-five hours; one product, x1 and x2."
    tokens = tokenize(text)
    nums = read_numbers(text, tokens)
    assert [(n.value, n.pct, n.money, n.written) for n in nums] == [
        (1500.0, False, True, False), (0.3, True, False, False), (25.0, False, False, True),
        (1.0, False, False, True)]
    money, pct, words, _ = nums
    assert tokens[money.index].text == "1,500" and [t.text for t in tokens[slice(*money.span)]] == ["$", "1,500"]
    assert [t.text for t in tokens[slice(*pct.span)]] == ["30", "%"]
    assert [t.text for t in tokens[slice(*words.span)]] == ["twenty", "-", "five"]


def test_the_template_reader_rewrites_numbers_as_digits() -> None:
    mark = "\u2060"
    assert normalise("It costs $1,500 and takes 30 percent.") == "It costs 1500 and takes 30%."
    assert normalise("twice as many chairs") == "2 times as many chairs"
    assert normalise("two thousand five hundred cans") == f"2500{mark} cans"
    assert " ".join(normalise("a third of the land").split()) == "0.3333333333 times the land"
    assert normalise("three quarters of it") == "0.75 times it"
    assert normalise("2.5 million dollars") == "2500000 dollars"
    assert normalise("no one else") == "no one else"
