"""`integrality`: continuous variables that count indivisible things and come out fractional, and integer
variables that the model itself describes as a fraction, proportion or percentage."""

from __future__ import annotations

import re

import numpy as np

from formulate.ir.model import Formulation
from formulate.verify.describe import quote, source_sentence
from formulate.verify.findings import Finding
from formulate.verify.subject import Subject
from formulate.verify.text import name_words

_COUNTABLE = frozenset("""
people person persons worker workers employee employees staff nurse nurses doctor doctors teacher teachers student
students guard guards officer officers operator operators driver drivers pilot pilots agent agents crew crews
truck trucks vehicle vehicles car cars bus buses van vans ship ships boat boats plane planes aircraft airplane
airplanes train trains wagon wagons machine machines robot robots server servers computer computers printer
printers unit units item items piece pieces box boxes pallet pallets container containers crate crates package
packages parcel parcels bag bags bottle bottles can cans jar jars chair chairs table tables desk desks bed beds
room rooms house houses apartment apartments building buildings toy toys phone phones laptop laptops bike bikes
bicycle bicycles shift shifts trip trips batch batches bin bins facility facilities warehouse warehouses store
stores plant plants factory factories site sites station stations tank tanks device devices tool tools panel
panels ad ads advertisement advertisements commercial commercials campaign campaigns seat seats ticket tickets
cake cakes pie pies loaf loaves bouquet bouquets necklace necklaces ring rings shirt shirts dress dresses pair
pairs sofa sofas cabinet cabinets door doors window windows tire tires engine engines game games book books
""".split())
_FRACTION_WORDS = ("fraction", "proportion", "percent", "percentage", "share", "portion", "ratio", "rate")
_ALLOWS_FRACTIONS = re.compile(r"fraction(?:al|s)?\s+(?:amounts?|units?|numbers?|values?)?\s*(?:are|is)\s+"
                               r"(?:allowed|acceptable|fine|permitted|ok)|need not be (?:whole|integer)|"
                               r"can be (?:fractional|divided|split)|non-?integer|continuous (?:quantities|amounts)",
                               re.IGNORECASE)


_WHOLE = re.compile(r"\b(?:whole|integers?|integral|indivisible|cannot be (?:split|divided)|no fractions?|"
                    r"not be fractional|can(?:not|'t) be fractional)\b", re.IGNORECASE)
_COUNTED = re.compile(r"\b(?:how many|number of|count of|amount of)\s+([a-z]+)(?:\s+(?:and|or)\s+([a-z]+))?",
                      re.IGNORECASE)
_DIVISIBLE = frozenset("""
hours hour minutes minute days acres acre hectares tons ton tonnes kg kilograms grams pounds lbs liters litres
gallons barrels meters metres miles km dollars money cash funds budget capital time land area water oil gas
electricity energy power fuel milk juice sugar flour feed fertilizer chemical chemicals material materials
investment investments resources effort space weight volume production output
""".split())


def _counted_in_text(text: str) -> set[str]:
    """Nouns the text counts ("how many trucks", "the number of nurses") or asks for in whole numbers."""
    words: set[str] = set()
    for m in _COUNTED.finditer(text):
        for word in m.groups():
            if word and word.lower() not in _DIVISIBLE:
                words.add(_singular(word.lower()))
    return words


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def check_integrality(subject: Subject) -> list[Finding]:
    f, problem, x = subject.formulation, subject.problem, subject.point
    if f is None:
        return []
    out: list[Finding] = []
    allows = bool(_ALLOWS_FRACTIONS.search(subject.text))
    whole = bool(_WHOLE.search(subject.text))
    counted = _counted_in_text(subject.text)
    integer_readings = _integer_readings(f)
    if problem is not None and x is not None and not allows:
        for block in problem.var_blocks:
            spec = f.variables.get(block.name)
            if spec is None or spec.type != "continuous":
                continue
            noun = _counted_noun(block.name, spec.description)
            if noun is None:
                words = [_singular(w) for w in name_words(block.name) + name_words(spec.description or "")]
                noun = next((w for w in words if w in counted), None)
                if noun is None and whole and not any(w in _DIVISIBLE for w in words):
                    noun = "things the text asks for in whole numbers"
            if noun is None:
                continue
            values = x[block.start:block.stop]
            frac = np.flatnonzero(np.abs(values - np.round(values)) > 1e-6)
            if frac.size == 0:
                continue
            shown = ", ".join(f"{block.label(int(i))} = {values[i]:.6g}" for i in frac[:4])
            span = source_sentence(f, subject.text, block.name) if subject.text else None
            message = (f"Variable `{block.name}` counts {noun}, which come in whole numbers, but it is continuous and "
                       f"the optimum is fractional ({shown}). Declare it `type: integer` unless the text allows "
                       "fractions." + (f"\n{quote(span)}" if span else ""))
            considered = block.name in integer_readings  # the model already solves the integer reading beside
            out.append(Finding("integrality", "info" if considered else "warning", f"variable `{block.name}`", message,
                               f"`{block.name}` counts {noun} but is fractional: {shown}"
                               + (" (the integer reading is among the model's alternatives)" if considered else ""),
                               span))
    for name, spec in f.variables.items():
        if spec.type != "integer":
            continue
        words = name_words(name) + (name_words(spec.description) if spec.description else [])
        hit = next((w for w in words if w in _FRACTION_WORDS), None)
        if hit is None:
            continue
        message = (f"Variable `{name}` is integer but its {'name' if hit in name_words(name) else 'description'} "
                   f"calls it a {hit}: a {hit} is usually continuous (between 0 and 1, or 0 and 100). Make it "
                   "`type: continuous` unless the text asks for whole numbers.")
        out.append(Finding("integrality", "warning", f"variable `{name}`", message,
                           f"`{name}` is integer but described as a {hit}"))
    return out


def _integer_readings(f: Formulation) -> set[str]:
    """Variables that an alternative reading of ``meta.alternatives`` makes integer (or binary)."""
    from formulate.errors import FormulateError
    from formulate.verify.readings import alternatives, read_alternative

    names: set[str] = set()
    for position, entry in enumerate(alternatives(f)):
        try:
            _, changes = read_alternative(entry, position)
        except FormulateError:
            continue
        variables = changes.get("variables") if isinstance(changes, dict) else None
        for name, item in (variables or {}).items() if isinstance(variables, dict) else ():
            if isinstance(item, dict) and item.get("type") in ("integer", "binary"):
                names.add(str(name))
    return names


def _counted_noun(name: str, description: str | None) -> str | None:
    """The countable noun a variable's name or description names (``trucks``), if any."""
    words = name_words(name)
    for word in words:
        if word in _COUNTABLE:
            return word
    if description:
        lowered = description.lower()
        if re.search(r"\b(?:number|count|how many|num)\b", lowered) or not re.search(
                r"\b(?:amount|quantity|volume|weight|tons?|kg|liters?|litres?|hours?|acres?|hectares?|"
                r"gallons?|pounds?|lbs?|dollars?|money|fraction|share|proportion|percent|level|rate)\b", lowered):
            for word in name_words(description):
                if word in _COUNTABLE:
                    return word
    return None
