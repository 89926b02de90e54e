"""Rendering a formulation as mathematics: the fragments each construct must produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from formulate.api import as_formulation, loads
from formulate.errors import FormulateError
from formulate.ir.render import render

PROBLEMS = Path(__file__).parent / "problems"

FACILITY = """
name: facility
description: open depots, serve towns
sets:
  Depots: [North, South]
  Towns: [A, B, C]
  Links: "{(d, t) for d in Depots for t in Towns if km[d, t] <= 30}"
  B: range(0, 3)
parameters:
  km: {index: [Depots, Towns], values: [[8, 15, 32], [45, 12, 9]]}
  demand: {index: [Towns], values: [120, 90, 150], description: parcels a week}
  cap: {index: [Depots], values: [400, 300]}
  min_load: 100
  horizon: "sum(demand[t] for t in Towns)"
  kg: {index: [B], values: [0, 100, 300]}
  cost: {index: [B], values: [0, 50, 110]}
variables:
  open: {index: [Depots], type: binary, description: depot is open}
  send: {index: [Links], upper: cap}
  stock: {index: [Towns], type: integer, lower: -inf}
  spend: {upper: 300}
objective:
  sense: minimize
  expr: sum(km[d, t] * send[d, t] for (d, t) in Links) + pwl(spend, kg, cost) + max(stock[t] for t in Towns)
constraints:
  serve: sum(send[d, u] for (d, u) in Links if u == t) == demand[t] for t in Towns
  busy:
    forall: d in Depots
    when: open[d]
    expr: sum(send[e, t] for (e, t) in Links if e == d) >= min_load
  closed:
    forall: d in Depots
    when: not open[d]
    expr: sum(send[e, t] for (e, t) in Links if e == d) <= 0
  order:
    either:
      - stock['A'] + 2 <= stock['B']
      - stock['B'] + 2 <= stock['A']
  carry:
    forall: t in Towns
    expr: stock[t] >= (stock[prev(t)] if ord(t) > 1 else 0) - abs(spend - 10) / 2
  low: "min(stock['A'], stock['C']) >= -5"
  spend_sq: spend ** 2 <= 10000
"""


@pytest.fixture(scope="module")
def model():
    return loads(FACILITY)


def test_markdown_sections_and_summaries(model) -> None:
    text = render(model)
    assert text.startswith("# facility\n\nopen depots, serve towns\n")
    for section in ("## Sets", "## Parameters", "## Variables", "## Objective", "## Constraints"):
        assert section in text
    assert "`Depots = {North, South}`" in text
    assert "`B = {0, …, 2}`" in text
    assert "`kg_b, b ∈ B`: 3 values, 0 to 300" in text
    assert "`Links = {(d, t) : d ∈ Depots, t ∈ Towns, km_{d,t} ≤ 30}`" in text
    assert "`demand_t, t ∈ Towns`: 3 values, 90 to 150; parcels a week" in text
    assert "`min_load = 100`" in text
    assert "`horizon = Σ_{t ∈ Towns} demand_t`" in text


def test_markdown_variables_with_domains(model) -> None:
    text = render(model)
    assert "`open_d ∈ {0, 1}  ∀ d ∈ Depots`: depot is open" in text
    assert "`send_{i,j} ∈ ℝ, 0 ≤ send_{i,j} ≤ cap_{i,j}  ∀ (i, j) ∈ Links`" in text
    assert "`stock_t ∈ ℤ  ∀ t ∈ Towns`" in text
    assert "`spend ∈ ℝ, 0 ≤ spend ≤ 300`" in text


def test_markdown_constructs(model) -> None:
    text = render(model)
    assert "**serve**: `∀ t ∈ Towns: Σ_{(d, u) ∈ Links : u = t} send_{d,u} = demand_t`" in text
    assert "`∀ d ∈ Depots: open_d = 1 ⇒ Σ_{(e, t) ∈ Links : e = d} send_{e,t} ≥ min_load`" in text
    assert "open_d = 0 ⇒" in text
    assert "`stock_{A} + 2 ≤ stock_{B} ∨ stock_{B} + 2 ≤ stock_{A}`" in text
    assert "{stock_{prev(t)} if ord(t) > 1; 0 otherwise}" in text
    assert "|spend - 10| / 2" in text
    assert "min(stock_{A}, stock_{C}) ≥ -5" in text
    assert "spend^2 ≤ 10000" in text
    assert "pwl(spend; (0, 0), (100, 50), (300, 110))" in text
    assert "max_{t ∈ Towns} stock_t" in text


def test_latex_constructs(model) -> None:
    text = render(model, "latex")
    assert text.startswith("\\section*{facility}")
    assert "\\forall t \\in \\mathrm{Towns}:\\ \\sum_{(d, u) \\in \\mathrm{Links}, u = t} \\mathrm{send}_{d,u}" in text
    assert "\\mathrm{open}_{d} = 1 \\Rightarrow \\sum_{(e, t) \\in \\mathrm{Links}, e = d}" in text
    assert "\\mathrm{stock}_{\\text{A}} + 2 \\le \\mathrm{stock}_{\\text{B}} \\lor" in text
    assert "\\begin{cases} \\mathrm{stock}_{\\operatorname{prev}\\left(t\\right)} & \\text{if } " in text
    assert "\\text{otherwise} \\end{cases}" in text
    assert "\\frac{\\left|\\mathrm{spend} - 10\\right|}{2}" in text
    assert "\\operatorname{pwl}\\left(\\mathrm{spend}; (0, 0), (100, 50), (300, 110)\\right)" in text
    assert "\\max_{t \\in \\mathrm{Towns}} \\mathrm{stock}_{t}" in text
    assert "\\mathrm{open}_{d} \\in \\{0, 1\\}, \\quad \\forall d \\in \\mathrm{Depots}" in text
    assert "\\textbf{serve}" in text and "\\mathrm{min\\_load}" in text
    assert "{\\mathrm{spend}}^{2} \\le 10000" in text


def test_parentheses_follow_precedence() -> None:
    text = render(as_formulation(PROBLEMS / "minmax_lines.yaml"))
    assert "max_{l ∈ Lines} (Σ_{(b, m) ∈ Allowed : m = l} load_{b,m}) / speed_l" in text
    text = render(as_formulation(PROBLEMS / "derived_params_spare.yaml"))
    assert "crew_hours = crew_share · (Σ_{m ∈ Machines} spare_m)" in text
    text = render(as_formulation(PROBLEMS / "inventory_index_arith.yaml"))
    assert "(unit_cost_{t} · make_t + holding · stock_t)" in text


def test_every_known_problem_renders_in_both_formats() -> None:
    for path in sorted(PROBLEMS.glob("*.yaml")):
        formulation = as_formulation(path)
        for fmt in ("markdown", "latex"):
            text = render(formulation, fmt)
            for name in formulation.constraints:
                assert name.replace("_", "\\_") in text if fmt == "latex" else name in text


def test_range_set_written_with_its_last_member() -> None:
    text = render(as_formulation(PROBLEMS / "jobshop_route.yaml"))
    assert "`Steps = {1, …, |Machines|}`" in text
    assert "next(k)" in text


def test_unknown_format() -> None:
    with pytest.raises(FormulateError, match="unknown render format"):
        render(loads(FACILITY), "html")  # type: ignore[arg-type]


def test_renders_without_buildable_data() -> None:
    broken = loads("""
name: broken
sets: {S: [a, b]}
parameters:
  w: {index: [S], values: [1, 2, 3]}
variables:
  x: {index: [S]}
objective: {sense: maximize, expr: "sum(w[s] * x[s] for s in S)"}
constraints:
  cap: "sum(x[s] for s in S) <= 4"
""")
    text = render(broken)
    assert "`w_s, s ∈ S`" in text
    assert "**cap**: `Σ_{s ∈ S} x_s ≤ 4`" in text
