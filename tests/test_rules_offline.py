"""The offline reader's tagger and tagged reader, on texts written for the project (none from a benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import formulate
from formulate.formulators.dispatch import RulesTextFormulator
from formulate.formulators.offline import THRESHOLD, formulate_rules
from formulate.formulators.offline.numbers_tagged import read_numbers
from formulate.formulators.offline.reader import formulate_tagged
from formulate.formulators.offline.tagger import WEIGHTS, Tagger, default_tagger, features
from formulate.formulators.offline.tokens import tokenize
from formulate.ir.model import Formulation

# --- a tagger trained by the test on a handful of texts ------------------------------------------------

TAGGED = [
    "Each chair/B-VAR needs 3/B-PARAM hours of sanding and each table/B-VAR needs 5/B-PARAM hours . "
    "There are at/B-CONST_DIR most/I-CONST_DIR 90/B-LIMIT hours of sanding . "
    "Maximize/B-OBJ_DIR profit/B-OBJ_NAME .",
    "A van/B-VAR carries 8/B-PARAM boxes while a truck/B-VAR carries 20/B-PARAM boxes . "
    "At/B-CONST_DIR least/I-CONST_DIR 400/B-LIMIT boxes must be moved . "
    "Minimize/B-OBJ_DIR the number/B-OBJ_NAME of/I-OBJ_NAME vehicles/I-OBJ_NAME .",
    "Each cake/B-VAR uses 2/B-PARAM eggs and each pie/B-VAR uses 1/B-PARAM egg . "
    "The baker has at/B-CONST_DIR most/I-CONST_DIR 60/B-LIMIT eggs . Maximize/B-OBJ_DIR revenue/B-OBJ_NAME .",
    "A lamp/B-VAR takes 4/B-PARAM hours and a stool/B-VAR takes 2/B-PARAM hours . "
    "No/B-CONST_DIR more/I-CONST_DIR than/I-CONST_DIR 50/B-LIMIT hours are available . "
    "Maximize/B-OBJ_DIR profit/B-OBJ_NAME .",
    "Each bus/B-VAR holds 40/B-PARAM people and each car/B-VAR holds 4/B-PARAM people . "
    "At/B-CONST_DIR least/I-CONST_DIR 300/B-LIMIT people travel . Minimize/B-OBJ_DIR cost/B-OBJ_NAME .",
    "A boat/B-VAR takes 30/B-PARAM fish and a plane/B-VAR takes 50/B-PARAM fish . "
    "At/B-CONST_DIR most/I-CONST_DIR 12/B-LIMIT trips are possible . Maximize/B-OBJ_DIR fish/B-OBJ_NAME .",
]


def _doc(text: str) -> tuple[list[str], list[str]]:
    words, tags = [], []
    for item in text.split():
        word, _, tag = item.partition("/")
        words.append(word)
        tags.append(tag or "O")
    return words, tags


def test_exported_weights_decode_exactly_as_crfsuite(tmp_path: Path) -> None:
    pycrfsuite = pytest.importorskip("pycrfsuite")
    from formulate.formulators.offline.train_tagger import export, train_model

    docs = [_doc(t) for t in TAGGED]
    model = tmp_path / "m.crfsuite"
    train_model(docs, model)
    ours = Tagger(export(model))
    theirs = pycrfsuite.Tagger()
    theirs.open(str(model))
    unseen = ["Each desk needs 6 hours of sanding and each shelf needs 2 hours .",
              "There are at most 75 hours available . Maximize profit .",
              "A cart carries 10 boxes ; at least 90 boxes must be moved ."]
    for sentence in unseen + [" ".join(w) for w, _ in docs]:
        words = [t.text for t in tokenize(sentence)]
        assert ours.tag(words) == theirs.tag(features(words))
    words = [t.text for t in tokenize(unseen[1])]
    tags = ours.tag(words)
    assert tags[words.index("75")] == "B-LIMIT" and tags[words.index("most")] == "I-CONST_DIR"


def test_training_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("pycrfsuite")
    from formulate.formulators.offline.train_tagger import read_conll, train, write

    conll = tmp_path / "ner.txt"
    lines = []
    for text in TAGGED:
        words, tags = _doc(text)
        lines += [f"{w}\t_\t_\t{t}" for w, t in zip(words, tags, strict=True)] + [""]
    conll.write_text("\n".join(lines), encoding="utf-8")
    docs = read_conll(conll)
    assert len(docs) == len(TAGGED)
    write(train(docs), tmp_path / "a.json")
    write(train(docs), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_shipped_tagger_loads_and_marks_roles() -> None:
    weights = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert {"B-VAR", "B-PARAM", "B-LIMIT", "B-CONST_DIR", "B-OBJ_DIR"} <= set(weights["labels"])
    words = [t.text for t in tokenize("Each kayak needs 3 hours of work. At most 120 hours are available. "
                                      "Maximize the profit.")]
    tags = default_tagger().tag(words)
    assert len(tags) == len(words)
    assert tags[words.index("120")] == "B-LIMIT"
    assert tags[words.index("3")] == "B-PARAM"
    assert tags[words.index("Maximize")] == "B-OBJ_DIR"
    assert (Path(WEIGHTS).parent / "DATA_NOTICE.md").exists()


def test_numbers_with_money_commas_units_percent_and_words() -> None:
    text = "It costs $1,500, weighs 2.5 kg, takes 30% of the space, twice as many, a dozen eggs and two thousand bottles."
    nums = read_numbers(text, tokenize(text))
    assert [(n.value, n.pct, n.money) for n in nums] == [
        (1500.0, False, True), (2.5, False, False), (0.3, True, False), (2.0, False, False),
        (12.0, False, False), (2000.0, False, False)]


# --- readings, each on a problem written for the project -------------------------------------------------


def read(text: str) -> Formulation:
    result = formulate_rules(text)
    assert result.formulation is not None and result.confidence >= THRESHOLD, result.reason
    return result.formulation


def rows(f: Formulation) -> set[str]:
    return {" ".join((c if isinstance(c, str) else c.expr).split()) for c in f.constraints.values()}


def objective(f: Formulation) -> float:
    solution = formulate.solve(f)
    assert solution.status == "optimal"
    return solution.objective


def test_per_unit_table_in_prose_three_products() -> None:
    f = read("A workshop makes lamps, shelves and stools. A lamp needs 2 hours of machining and 1 hour of "
             "assembly. A shelf needs 1 hour of machining and 3 hours of assembly. A stool needs 3 hours of "
             "machining and 2 hours of assembly. There are 120 hours of machining and 150 hours of assembly "
             "available. Each lamp earns $40, each shelf earns $35 and each stool earns $50. How many of each "
             "should the workshop make to maximize profit?")
    assert f.meta["reader"] == "tagged"
    assert rows(f) == {"2*lamps + shelves + 3*stools <= 120", "lamps + 3*shelves + 2*stools <= 150"}
    assert " ".join(f.objective.expr.split()) == "40*lamps + 35*shelves + 50*stools"
    assert all(v.type == "integer" for v in f.variables.values())       # counted things
    assert objective(f) == pytest.approx(2940)


def test_respectively_lists() -> None:
    f = read("A carpenter makes chairs and tables. Chairs and tables need 2 and 5 hours of carpentry "
             "respectively, and 1 and 2 hours of sanding respectively. There are 120 hours of carpentry and 50 "
             "hours of sanding each week. Chairs and tables earn $30 and $70 respectively. How many chairs and "
             "tables should be made to maximize profit?")
    assert rows(f) == {"2*chairs + 5*tables <= 120", "chairs + 2*tables <= 50"}
    assert objective(f) == pytest.approx(1700)


def test_percentage_of_the_total_trips() -> None:
    f = read("A ferry company runs small boats and large boats. A small boat trip carries 20 passengers and a "
             "large boat trip carries 50 passengers. At least 30% of the trips must be small boat trips, and at "
             "least 600 passengers must be carried each day. A small boat trip costs $100 and a large boat trip "
             "costs $220. How many trips of each kind minimize the daily cost?")
    assert "0.7*small - 0.3*large >= 0" in rows(f)
    assert objective(f) == pytest.approx(2700)


def test_at_least_twice_as_many_and_budget() -> None:
    f = read("A shop advertises on radio and in newspapers. A radio ad costs $400 and reaches 5,000 listeners, "
             "while a newspaper ad costs $250 and reaches 2,000 readers. The shop has a budget of $8,000. It wants "
             "at least twice as many radio ads as newspaper ads, and at least 3 newspaper ads. How many ads of "
             "each kind should it buy to maximize the number of people reached?")
    assert rows(f) == {"400*radio + 250*newspapers <= 8000", "newspapers >= 3",
                       "radio - 2*newspapers >= 0"}
    assert " ".join(f.objective.expr.split()) == "5000*radio + 2000*newspapers"
    assert objective(f) == pytest.approx(96000)


def test_minimums_and_maximums_per_quantity_and_a_dozen() -> None:
    f = read("A shop sells tables and desks. A table weighs 2.5 kg of wood and a desk weighs 4 kg of wood; "
             "1,000 kg of wood are in stock. Each table earns $1,500 and each desk earns $2,100. The shop must "
             "make at least a dozen tables and at most 100 desks. How many tables and desks should it make to "
             "maximize profit?")
    assert rows(f) == {"2.5*tables + 4*desks <= 1000", "tables >= 12", "desks <= 100"}
    assert objective(f) == pytest.approx(600000)


def test_an_investment_of_n_among_with_percent_returns() -> None:
    f = read("A family puts an investment of $60,000 among savings and shares. Savings earn 2% and shares earn "
             "7%. At most $20,000 can go to shares. How much should go to each to maximize the return?")
    assert rows(f) == {"savings + shares <= 60000", "shares <= 20000"}
    assert all(v.type == "continuous" for v in f.variables.values())      # "how much" money
    assert objective(f) == pytest.approx(0.02 * 40000 + 0.07 * 20000)


def test_revenue_minus_cost_objective() -> None:
    f = read("A bakery makes cakes and pies. A cake sells for $12 and costs $5 to make; a pie sells for $9 and "
             "costs $3 to make. Each cake needs 2 hours of oven time and each pie needs 1 hour, and 40 hours of "
             "oven time are available. At most 15 pies can be sold. How many cakes and pies should be made to "
             "maximize profit?")
    assert " ".join(f.objective.expr.split()) == "7*cakes + 6*pies"
    assert rows(f) == {"2*cakes + pies <= 40", "pies <= 15"}
    assert objective(f) == pytest.approx(7 * 13 + 6 * 14)                  # 13 cakes and 14 pies


def test_weighted_sums_diet() -> None:
    f = read("A student wants a cheap breakfast of oatmeal and yogurt. Each bowl of oatmeal has 5 grams of "
             "protein and 150 calories and costs $0.50. Each cup of yogurt has 10 grams of protein and 100 "
             "calories and costs $1.20. The student needs at least 30 grams of protein and at least 600 calories. "
             "How many bowls of oatmeal and cups of yogurt should the student eat to minimize cost?")
    assert rows(f) == {"5*oatmeal + 10*yogurt >= 30", "150*oatmeal + 100*yogurt >= 600"}
    assert objective(f) == pytest.approx(3.0)                               # 6 bowls of oatmeal


def test_integrality_from_the_words() -> None:
    acres = read("A farmer has 240 acres to plant with wheat and barley. Each acre of wheat needs 3 hours of "
                 "labour and each acre of barley needs 2 hours of labour, and 600 hours of labour are available. "
                 "Each acre of wheat brings a profit of $250 and each acre of barley brings a profit of $180. At "
                 "least 40 acres must be barley. How many acres of each crop should be planted to maximize "
                 "profit?")
    assert all(v.type == "continuous" for v in acres.variables.values())   # acres are an amount
    assert rows(acres) == {"wheat + barley <= 240", "3*wheat + 2*barley <= 600", "barley >= 40"}
    assert objective(acres) == pytest.approx(51600)
    fraction = read("A mill grinds wheat flour and rye flour. Each tonne of wheat flour needs 3 hours of milling "
                    "and each tonne of rye flour needs 4 hours; 100 hours are available. Wheat flour earns $50 a "
                    "tonne and rye flour $60 a tonne; fractions of a tonne are allowed. At least 5 tonnes of rye "
                    "flour are needed. How much of each should be milled to maximize profit?")
    assert all(v.type == "continuous" for v in fraction.variables.values())
    whole = read("A club buys kayaks and canoes. Each kayak costs $300 and each canoe costs $500, and the budget is "
                 "$4,000. A kayak seats 1 person and a canoe seats 3 people. Only whole boats can be bought. How "
                 "many of each should the club buy to maximize the number of seats?")
    assert all(v.type == "integer" for v in whole.variables.values())


def test_call_centre_staffing() -> None:
    f = read("A call centre hires full-time and part-time agents. A full-time agent answers 60 calls a day and is "
             "paid $200 a day. A part-time agent answers 25 calls a day and is paid $90 a day. The centre must "
             "answer at least 1,500 calls a day. At least 10 full-time agents are needed, and there must be at "
             "least twice as many part-time agents as full-time agents. How many agents of each kind should be "
             "hired to minimize the daily wage cost?")
    assert set(f.variables) == {"full", "part"}
    assert rows(f) == {"60*full + 25*part >= 1500", "full >= 10", "-2*full + part >= 0"}
    assert all(v.type == "integer" for v in f.variables.values())


def test_investment_split_with_percentages() -> None:
    f = read("Maria has $50,000 to invest in bonds and stocks. Bonds return 4% a year and stocks return 9% a "
             "year. At least 30% of the money must go into bonds, and at most $30,000 can go into stocks. How "
             "much should she invest in each to maximize her annual return?")
    assert rows(f) == {"bonds + stocks <= 50000", "0.7*bonds - 0.3*stocks >= 0", "stocks <= 30000"}
    assert objective(f) == pytest.approx(3500)


@pytest.mark.parametrize("text, names", [
    ("A company ships crates from two warehouses, North and South, to three shops, A, B and C. North has 80 "
     "crates and South has 70 crates. Shop A needs 50 crates, shop B needs 60 and shop C needs 40. Shipping a "
     "crate costs $4 from North to A, $6 from North to B, $9 from North to C, $5 from South to A, $3 from South "
     "to B and $7 from South to C. How should the crates be shipped to minimize the shipping cost?", "North"),
    ("A farmer blends corn and soymeal into cattle feed. Each kg of corn contains 0.09 kg of protein and 0.02 kg "
     "of fibre and costs $0.30. Each kg of soymeal contains 0.60 kg of protein and 0.06 kg of fibre and costs "
     "$0.90. The farmer needs at least 800 kg of feed a day with at least 0.3 kg of protein per kg of feed. How "
     "many kg of each should be blended to minimize the daily cost?", "soymeal"),
])
def test_out_of_reach_problems_refuse_naming_the_sentence(text: str, names: str) -> None:
    attempt = RulesTextFormulator().formulate(text)
    assert attempt.status == "refused"
    reason = attempt.warnings[-1]
    assert names in reason and "--model" in reason


def test_a_tagged_refusal_names_what_did_not_fit() -> None:
    result = formulate_tagged("Each widget needs 4 hours of work and each gadget needs 7 hours of work. The "
                              "factory was founded 90 years ago. Maximize the profit of $3 per widget and $5 per "
                              "gadget.")
    assert result.formulation is None or result.confidence < THRESHOLD
    assert "'" in result.reason


def test_confidence_is_on_the_attempt() -> None:
    text = ("A van carries 8 boxes while a truck carries 20 boxes. At least 400 boxes must be moved, and at most "
            "15 trucks can be used. A van trip costs $30 and a truck trip costs $70. How many trips of each "
            "minimize the cost?")
    attempt = RulesTextFormulator().formulate(text)
    assert attempt.ok
    assert attempt.confidence is not None and attempt.confidence >= THRESHOLD
    assert attempt.formulation is not None and attempt.formulation.meta["confidence"] == attempt.confidence


def test_a_text_whose_limits_conflict_is_refused_naming_the_clauses_that_cannot_all_hold() -> None:
    text = ("A delivery firm is buying vans and trucks. A van carries 20 parcels and emits 3 units of exhaust; a truck "
            "carries 50 parcels and emits 10 units of exhaust. At most 20% of the vehicles can be vans. The firm has "
            "committed to emitting at most 90 units of exhaust. The firm must carry at least 600 parcels. How many of "
            "each vehicle should it buy to minimize the number of vehicles?")
    result = formulate_rules(text)
    assert result.confidence < 0.5
    assert "the model read is infeasible: 'At most 20% of the vehicles can be vans.'" in result.reason
    assert "'The firm must carry at least 600 parcels.' cannot all hold" in result.reason
    assert "at most 90 units of exhaust" in result.reason and "no solution as written" in result.reason
