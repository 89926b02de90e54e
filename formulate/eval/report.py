"""Summaries of evaluation logs, side by side: Markdown tables, and HTML with inline SVG bar charts.

Definitions (stated in every report):

- accuracy: correct / total under the named rule;
- answered: samples whose formulation (or script) reached the solver, / total;
- executed: samples that ran to a solution (an objective value, or a proven status matching the label) / total.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formulate.eval.runlog import read_log
from formulate.eval.runner import STAGES
from formulate.eval.scoring import Rule, get_rule

DEFINITIONS = ("accuracy = correct / total under the rule; answered = a formulation or script reached the solver; "
               "executed = the solve ran to a solution (an objective, or a proven status matching the label)")
_NOT_ANSWERED = {"formulate", "parse", "check"}


@dataclass
class ClassRow:
    total: int = 0
    correct: int = 0


@dataclass
class Summary:
    """One run's numbers."""

    name: str
    path: str
    dataset: str
    model: str
    mode: str
    rule: Rule
    total: int = 0
    correct: int = 0
    answered: int = 0
    executed: int = 0
    stages: Counter = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_formulate: float = 0.0
    time_solve: float = 0.0
    time_total: float = 0.0
    by_class: dict[str, ClassRow] = field(default_factory=dict)
    by_label: dict[str, ClassRow] = field(default_factory=dict)
    correct_ids: set[str] = field(default_factory=set)
    rescored: bool = False
    among_readings: int = 0  # correct, or the label is one of the solved readings' objectives
    verified: bool = False  # some record lists readings (then "label among the readings" is shown)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def pct(self, n: int) -> float:
        return 100.0 * n / self.total if self.total else 0.0

    def score_line(self) -> str:
        """``accuracy 12/245 = 4.9% (rule rel1e-4: ...); answered ...; executed ...``."""
        return (f"{self.name}: accuracy {self.correct}/{self.total} = {100 * self.accuracy:.1f}% "
                f"(rule {self.rule.describe()}); answered {self.pct(self.answered):.1f}%, "
                f"executed {self.pct(self.executed):.1f}%"
                + (f"; label among the readings {self.among_readings}/{self.total}" if self.verified else ""))


def _correct(record: dict[str, Any], rule: Rule) -> bool:
    """Re-score a record under ``rule`` from its logged prediction and label."""
    expected = record.get("expected") or {}
    predicted = record.get("predicted") or {}
    return rule.correct(predicted.get("objective"), predicted.get("status"), expected.get("answer"),
                        expected.get("status"), expected.get("raw"))


def _label_in_readings(record: dict[str, Any], rule: Rule) -> bool:
    """Whether one of the record's solved readings matches the label under ``rule``."""
    expected = record.get("expected") or {}
    for reading in record.get("readings") or []:
        if isinstance(reading, dict) and reading.get("solved") and rule.correct(
                reading.get("objective"), reading.get("status"), expected.get("answer"), expected.get("status"),
                expected.get("raw")):
            return True
    return False


def summarize(path: str | Path, rule: str | None = None, name: str | None = None) -> Summary:
    """Read a run log and count; with ``rule``, re-score every sample under that rule."""
    run = read_log(path)
    header = run.header
    first = next(iter(run.samples.values()), {})
    logged_rule = header.get("rule") or first.get("rule")
    chosen = get_rule(rule or logged_rule)
    summary = Summary(name=name or Path(path).stem, path=str(path),
                      dataset=str(header.get("dataset") or first.get("dataset") or "?"),
                      model=str(header.get("model") or first.get("model") or "?"),
                      mode=str(header.get("mode") or first.get("mode") or "?"), rule=chosen,
                      rescored=chosen.name != logged_rule)
    for sid, record in run.samples.items():
        stage = record.get("stage") or "formulate"
        ok = _correct(record, chosen) if summary.rescored else bool(record.get("correct"))
        if summary.rescored:
            stage = "ok" if ok else ("wrong_answer" if stage == "ok" else stage)
        summary.total += 1
        summary.correct += ok
        if ok:
            summary.correct_ids.add(sid)
        if record.get("readings"):
            summary.verified = True  # some formulation listed readings that change the answer
        summary.among_readings += ok or _label_in_readings(record, chosen)
        summary.stages[stage] += 1
        summary.answered += stage not in _NOT_ANSWERED
        predicted = record.get("predicted") or {}
        summary.executed += predicted.get("objective") is not None or ok
        tokens = record.get("tokens") or {}
        summary.prompt_tokens += int(tokens.get("prompt") or 0)
        summary.completion_tokens += int(tokens.get("completion") or 0)
        times = record.get("times") or {}
        summary.time_formulate += float(times.get("formulate") or 0.0)
        summary.time_solve += float(times.get("solve") or 0.0)
        summary.time_total += float(times.get("total") or 0.0)
        solution = record.get("solution") or {}
        for table, key in ((summary.by_class, solution.get("problem_class") or "(no model)"),
                           (summary.by_label, record.get("class"))):
            if key:
                row = table.setdefault(str(key), ClassRow())
                row.total += 1
                row.correct += ok
    return summary


def _frac(n: int, total: int) -> str:
    return f"{n}/{total} ({100.0 * n / total:.1f}%)" if total else "0/0"


def _overview_rows(runs: list[Summary]) -> list[tuple[str, list[str]]]:
    multi = len(runs) > 1
    rows: list[tuple[str, list[str]]] = [
        ("dataset", [r.dataset for r in runs]),
        ("model", [r.model for r in runs]),
        ("mode", [r.mode for r in runs]),
        ("rule", [r.rule.describe() + (" (re-scored)" if r.rescored else "") for r in runs]),
        ("accuracy", [_frac(r.correct, r.total) for r in runs]),
        *([("label among the readings", [_frac(r.among_readings, r.total) if r.verified else "-" for r in runs])]
          if any(r.verified for r in runs) else []),
        ("answered", [_frac(r.answered, r.total) for r in runs]),
        ("executed", [_frac(r.executed, r.total) for r in runs]),
        ("tokens prompt / completion", [f"{r.prompt_tokens:,} / {r.completion_tokens:,}" for r in runs]),
        ("time formulate / solve / total (s)",
         [f"{r.time_formulate:.1f} / {r.time_solve:.1f} / {r.time_total:.1f}" for r in runs]),
    ]
    if multi:
        union = set().union(*(r.correct_ids for r in runs))
        rows.append(("correct only in this run",
                     [str(len(r.correct_ids - set().union(*(o.correct_ids for o in runs if o is not r))))
                      for r in runs]))
        rows.append(("correct in any run", [str(len(union))] + [""] * (len(runs) - 1)))
    return rows


def _stage_rows(runs: list[Summary]) -> list[tuple[str, list[str]]]:
    seen = [s for s in STAGES if any(r.stages.get(s) for r in runs)]
    seen += sorted({s for r in runs for s in r.stages} - set(seen))
    return [(stage, [_frac(r.stages.get(stage, 0), r.total) for r in runs]) for stage in seen]


def _class_rows(runs: list[Summary], attr: str) -> list[tuple[str, list[str]]]:
    keys = sorted({k for r in runs for k in getattr(r, attr)})
    rows = []
    for key in keys:
        cells = []
        for r in runs:
            row = getattr(r, attr).get(key)
            cells.append(_frac(row.correct, row.total) if row else "-")
        rows.append((key, cells))
    return rows


def _sections(runs: list[Summary]) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    sections = [("Runs", _overview_rows(runs)), ("Failure stages", _stage_rows(runs)),
                ("By problem class (of the solved formulation)", _class_rows(runs, "by_class"))]
    if any(r.by_label for r in runs):
        sections.append(("By dataset label", _class_rows(runs, "by_label")))
    return sections


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(runs: list[Summary]) -> str:
    """The comparison as Markdown tables (one column per run)."""
    lines = ["# Evaluation report", "", f"_{DEFINITIONS}_", ""]
    header = "| | " + " | ".join(_md_cell(r.name) for r in runs) + " |"
    rule = "|---|" + "---|" * len(runs)
    for title, rows in _sections(runs):
        lines += [f"## {title}", "", header, rule]
        lines += ["| " + _md_cell(label) + " | " + " | ".join(_md_cell(c) for c in cells) + " |"
                  for label, cells in rows]
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- SVG

_COLORS = {"ok": "#2e7d32", "wrong_answer": "#f9a825", "solve": "#ef6c00", "check": "#c62828",
           "parse": "#6a1b9a", "formulate": "#546e7a", "no_label": "#9e9e9e"}
_METRIC_COLORS = ("#1565c0", "#42a5f5", "#90caf9")


def _svg_metrics(runs: list[Summary]) -> str:
    """Grouped horizontal bars: accuracy, answered, executed (percent) per run."""
    label_w, bar_w, bar_h, gap = 220, 360, 14, 10
    metrics = [("accuracy", lambda r: r.accuracy * 100), ("answered", lambda r: r.pct(r.answered)),
               ("executed", lambda r: r.pct(r.executed))]
    group_h = len(metrics) * bar_h + gap
    height = len(runs) * group_h + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 140}" height="{height}" '
             'role="img" aria-label="accuracy, answered and executed per run" font-family="sans-serif" font-size="12">']
    for i, run in enumerate(runs):
        y0 = 10 + i * group_h
        parts.append(f'<text x="{label_w - 8}" y="{y0 + bar_h * 1.5 + 4}" text-anchor="end">'
                     f'{html.escape(run.name)}</text>')
        for j, (metric, value) in enumerate(metrics):
            v = max(0.0, min(100.0, value(run)))
            y = y0 + j * bar_h
            parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w * v / 100:.1f}" height="{bar_h - 2}" '
                         f'fill="{_METRIC_COLORS[j]}"><title>{metric} {v:.1f}%</title></rect>')
            parts.append(f'<text x="{label_w + bar_w * v / 100 + 4:.1f}" y="{y + bar_h - 4}">{metric} {v:.1f}%</text>')
    y = height - 14
    for j, (metric, _) in enumerate(metrics):
        x = label_w + j * 110
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{_METRIC_COLORS[j]}"/>'
                     f'<text x="{x + 14}" y="{y}">{metric}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_stages(runs: list[Summary]) -> str:
    """One stacked bar per run: the share of samples ending in each stage."""
    label_w, bar_w, bar_h = 220, 420, 20
    stages = [s for s in STAGES if any(r.stages.get(s) for r in runs)]
    height = len(runs) * (bar_h + 8) + 40
    width = max(label_w + bar_w + 20, 20 + len(stages) * 105)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img" aria-label="failure stages per run" font-family="sans-serif" font-size="12">']
    for i, run in enumerate(runs):
        y = 10 + i * (bar_h + 8)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 6}" text-anchor="end">{html.escape(run.name)}</text>')
        x = float(label_w)
        for stage in stages:
            n = run.stages.get(stage, 0)
            if not n or not run.total:
                continue
            w = bar_w * n / run.total
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{_COLORS.get(stage, "#000")}">'
                         f'<title>{stage}: {n}/{run.total}</title></rect>')
            x += w
    y = height - 14
    for j, stage in enumerate(stages):
        x = 10 + j * 105
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{_COLORS.get(stage, "#000")}"/>'
                     f'<text x="{x + 14}" y="{y}">{stage}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(runs: list[Summary], rows: list[tuple[str, list[str]]]) -> str:
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(r.name)}</th>" for r in runs) + "</tr>"
    body = "".join("<tr><th>" + html.escape(label) + "</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                   + "</tr>" for label, cells in rows)
    return f"<table>{head}{body}</table>"


def to_html(runs: list[Summary]) -> str:
    """A self-contained HTML page: the tables of :func:`to_markdown` and two inline SVG charts."""
    sections = _sections(runs)
    body = [f"<h1>Evaluation report</h1><p><em>{html.escape(DEFINITIONS)}</em></p>",
            "<h2>Scores</h2>", _svg_metrics(runs), "<h2>Where samples end</h2>", _svg_stages(runs)]
    for title, rows in sections:
        body.append(f"<h2>{html.escape(title)}</h2>{_html_table(runs, rows)}")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:4px 8px;"
             "text-align:left;font-size:13px}th{background:#f5f5f5}")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>formulate evaluation report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


__all__ = ["DEFINITIONS", "Summary", "summarize", "to_html", "to_markdown"]
