"""Summaries of evaluation logs, side by side: Markdown tables, and HTML with figures drawn by matplotlib.

Runs are grouped by benchmark and label version: published tables compare only within one version.

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

from formulate.eval.runlog import DRAWS_KEY, read_log
from formulate.eval.runner import STAGES
from formulate.eval.scoring import Rule, get_rule

DEFINITIONS = ("accuracy = correct / total under the rule; answered = a formulation or script reached the solver; "
               "executed = the solve ran to a solution (an objective, or a proven status matching the label)")
VERSION_NOTE = ("Scores compare only between runs on the same benchmark and label version: published tables "
                "built on another label version (original, SIRL-fixed, ORThought-corrected, ...) are not comparable.")
LOCAL_VERSION = "unversioned (local file)"
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
    benchmark: str = "?"
    label_version: str = LOCAL_VERSION
    wall_s: float = 0.0  # the run's wall time (every invocation), not the sum over samples
    also: dict[str, int] = field(default_factory=dict)  # rule scored beside the main one -> correct
    groups: dict[str, dict[str, ClassRow]] = field(default_factory=dict)  # group key -> value -> row
    class_size: dict[tuple[str, str], ClassRow] = field(default_factory=dict)
    sample_times: list[float] = field(default_factory=list)
    sample_tokens: list[int] = field(default_factory=list)
    among_readings: int = 0  # correct, or the label is one of the solved readings' objectives
    verified: bool = False  # some record lists readings (then "label among the readings" is shown)
    by_round: dict[int, int] = field(default_factory=dict)  # round -> correct had the run stopped after it
    with_rounds: int = 0  # samples whose record lists verifier rounds
    settings: str = ""  # "rounds R / samples per problem K" from the header ("" when an older log lacks both)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def pct(self, n: int) -> float:
        return 100.0 * n / self.total if self.total else 0.0

    @property
    def version_label(self) -> str:
        """``benchmark / label version``."""
        return f"{self.benchmark} / {self.label_version}"

    def score_line(self) -> str:
        """``accuracy 12/245 = 4.9% (rule rel1e-4: ...); answered ...; executed ...``."""
        beside = "".join(f"; {name} {self.also[name]}/{self.total} = {self.pct(self.also[name]):.1f}%"
                         for name in sorted(self.also))
        return (f"{self.name}: accuracy {self.correct}/{self.total} = {100 * self.accuracy:.1f}% "
                f"(rule {self.rule.describe()}){beside}; answered {self.pct(self.answered):.1f}%, "
                f"executed {self.pct(self.executed):.1f}%"
                + (f"; label among the readings {self.among_readings}/{self.total}" if self.verified else "")
                + (f"; {self.stages['no_label']} without a readable label (counted wrong)"
                   if self.stages.get("no_label") else ""))


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


def _round_outcomes(record: dict[str, Any], rule: Rule) -> list[bool]:
    """Correct after each round 1..last of the first draw (empty when the record lists no rounds)."""
    rounds = [r for r in record.get("rounds") or [] if isinstance(r, dict) and not r.get("sample")]
    if not rounds:
        return []
    expected = record.get("expected") or {}
    ordered = sorted(rounds, key=lambda r: int(r.get("round") or 0))
    last = int(ordered[-1].get("round") or 0)
    outcomes = []
    for k in range(1, last + 1):
        upto = [r for r in ordered if int(r.get("round") or 0) <= k]
        outcomes.append(bool(upto) and rule.correct(upto[-1].get("objective"), upto[-1].get("status"),
                                                    expected.get("answer"), expected.get("status"),
                                                    expected.get("raw")))
    return outcomes


def _count_rounds(summary: Summary, outcomes: list[list[bool]]) -> None:
    """Correct had the run stopped after each round; a sample that stopped earlier keeps its last answer.

    Counted after every record is read, so the result does not depend on the order records arrived in.
    """
    outcomes = [o for o in outcomes if o]
    summary.with_rounds = len(outcomes)
    last = max((len(o) for o in outcomes), default=0)
    summary.by_round = {k: sum(o[min(k, len(o)) - 1] for o in outcomes) for k in range(1, last + 1)}


def _settings(header: dict[str, Any]) -> str:
    """``3 / 1``: the verifier rounds (0: none) and formulations drawn per sample; ``?`` for one a log lacks."""
    if "rounds" not in header and DRAWS_KEY not in header:
        return ""
    rounds = str(header["rounds"] or 0) if "rounds" in header else "?"
    return f"{rounds} / {header.get(DRAWS_KEY) or '?'}"


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
                      rescored=chosen.name != logged_rule, wall_s=run.wall_s)
    summary.benchmark = str(header.get("benchmark") or summary.dataset)
    summary.label_version = str(header.get("label_version") or LOCAL_VERSION)
    summary.settings = _settings(header)
    also = [get_rule(n) for n in header.get("also_rules") or () if get_rule(n).name != chosen.name]
    if summary.rescored and logged_rule and get_rule(logged_rule).name not in {r.name for r in also}:
        also.append(get_rule(logged_rule))
    summary.also = {r.name: 0 for r in also}
    round_outcomes: list[list[bool]] = []
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
        round_outcomes.append(_round_outcomes(record, chosen))
        summary.stages[stage] += 1
        summary.answered += stage not in _NOT_ANSWERED
        predicted = record.get("predicted") or {}
        summary.executed += predicted.get("objective") is not None or ok
        tokens = record.get("tokens") or {}
        summary.prompt_tokens += int(tokens.get("prompt") or 0)
        summary.completion_tokens += int(tokens.get("completion") or 0)
        summary.sample_tokens.append(int(tokens.get("prompt") or 0) + int(tokens.get("completion") or 0))
        times = record.get("times") or {}
        summary.time_formulate += float(times.get("formulate") or 0.0)
        summary.time_solve += float(times.get("solve") or 0.0)
        summary.time_total += float(times.get("total") or 0.0)
        summary.sample_times.append(float(times.get("total") or 0.0))
        for other in also:
            summary.also[other.name] += _correct(record, other)
        groups = record.get("groups") or {}
        for key, value in groups.items():
            row = summary.groups.setdefault(str(key), {}).setdefault(str(value), ClassRow())
            row.total += 1
            row.correct += ok
        if "problem_class" in groups and "size" in groups:
            row = summary.class_size.setdefault((str(groups["problem_class"]), str(groups["size"])), ClassRow())
            row.total += 1
            row.correct += ok
        solution = record.get("solution") or {}
        for table, key in ((summary.by_class, solution.get("problem_class") or "(no model)"),
                           (summary.by_label, record.get("class"))):
            if key:
                row = table.setdefault(str(key), ClassRow())
                row.total += 1
                row.correct += ok
    _count_rounds(summary, round_outcomes)
    return summary


def _frac(n: int, total: int) -> str:
    return f"{n}/{total} ({100.0 * n / total:.1f}%)" if total else "0/0"


def _overview_rows(runs: list[Summary]) -> list[tuple[str, list[str]]]:
    multi = len(runs) > 1
    rows: list[tuple[str, list[str]]] = [
        ("dataset", [r.dataset for r in runs]),
        ("model", [r.model for r in runs]),
        ("mode", [r.mode for r in runs]),
        *([("rounds / samples per problem", [r.settings or "?" for r in runs])] if any(r.settings for r in runs)
          else []),
        ("label version", [r.version_label for r in runs]),
        ("rule", [r.rule.describe() + (" (re-scored)" if r.rescored else "") for r in runs]),
        ("accuracy", [_frac(r.correct, r.total) for r in runs]),
        *[(f"accuracy under {name}", [_frac(r.also[name], r.total) if name in r.also else "-" for r in runs])
          for name in sorted({n for r in runs for n in r.also})],
        *([("label among the readings", [_frac(r.among_readings, r.total) if r.verified else "-" for r in runs])]
          if any(r.verified for r in runs) else []),
        ("answered", [_frac(r.answered, r.total) for r in runs]),
        ("executed", [_frac(r.executed, r.total) for r in runs]),
        ("tokens prompt / completion", [f"{r.prompt_tokens:,} / {r.completion_tokens:,}" for r in runs]),
        ("wall time (s)", [f"{r.wall_s:.1f}" for r in runs]),
        ("summed over samples: formulate / solve / total (s)",
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


def _group_rows(runs: list[Summary], key: str) -> list[tuple[str, list[str]]]:
    from formulate.eval.plots import _size_key

    values = sorted({v for r in runs for v in r.groups.get(key, {})}, key=_size_key if key == "size" else str)
    return [(value, [_frac(row.correct, row.total) if (row := r.groups.get(key, {}).get(value)) else "-"
                     for r in runs]) for value in values]


def _class_size_rows(runs: list[Summary]) -> list[tuple[str, list[str]]]:
    from formulate.eval.plots import _size_key

    keys = sorted({k for r in runs for k in r.class_size}, key=lambda k: (k[0], _size_key(k[1])))
    return [(f"{cls} @ {size}", [_frac(row.correct, row.total) if (row := r.class_size.get((cls, size))) else "-"
                                 for r in runs]) for cls, size in keys]


def _sections(runs: list[Summary]) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    sections = [("Runs", _overview_rows(runs)), ("Failure stages", _stage_rows(runs)),
                ("By problem class (of the solved formulation)", _class_rows(runs, "by_class"))]
    if any(r.by_label for r in runs):
        sections.append(("By dataset label", _class_rows(runs, "by_label")))
    if any(r.class_size for r in runs):
        sections.append(("By class and size", _class_size_rows(runs)))
    keys = [k for k in dict.fromkeys(k for r in runs for k in r.groups) if k not in ("problem_class", "size")]
    sections += [(f"By {key}", _group_rows(runs, key)) for key in keys]
    return sections


def by_version(runs: list[Summary]) -> dict[str, list[Summary]]:
    """Runs grouped by ``benchmark / label version`` (in first-seen order)."""
    groups: dict[str, list[Summary]] = {}
    for run in runs:
        groups.setdefault(run.version_label, []).append(run)
    return groups


def _version_rows(runs: list[Summary]) -> list[tuple[str, str]]:
    return [(label, ", ".join(r.name for r in group)) for label, group in by_version(runs).items()]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(runs: list[Summary]) -> str:
    """The comparison as Markdown tables (one column per run), one group per benchmark and label version."""
    lines = ["# Evaluation report", "", f"_{DEFINITIONS}_", "", f"_{VERSION_NOTE}_", "", "## Label versions", "",
             "| benchmark / label version | runs |", "|---|---|"]
    lines += [f"| {_md_cell(label)} | {_md_cell(names)} |" for label, names in _version_rows(runs)]
    lines.append("")
    for label, group in by_version(runs).items():
        header = "| | " + " | ".join(_md_cell(r.name) for r in group) + " |"
        rule = "|---|" + "---|" * len(group)
        lines += [f"## {_md_cell(label)}", ""]
        for title, rows in _sections(group):
            lines += [f"### {title}", "", header, rule]
            lines += ["| " + _md_cell(row) + " | " + " | ".join(_md_cell(c) for c in cells) + " |"
                      for row, cells in rows]
            lines.append("")
    return "\n".join(lines)


def _html_table(runs: list[Summary], rows: list[tuple[str, list[str]]]) -> str:
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(r.name)}</th>" for r in runs) + "</tr>"
    body = "".join("<tr><th>" + html.escape(label) + "</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                   + "</tr>" for label, cells in rows)
    return f"<table>{head}{body}</table>"


def to_html(runs: list[Summary], drawn: list[tuple[str, str]] | None = None) -> str:
    """A self-contained HTML page: figures drawn by matplotlib (inline SVG), then the tables per label version.

    ``drawn`` is :func:`formulate.eval.plots.figures` of ``runs`` when the caller has it already.
    """
    from formulate.eval.plots import figures

    body = [f"<h1>Evaluation report</h1><p><em>{html.escape(DEFINITIONS)}</em></p>",
            f"<p class=\"note\">{html.escape(VERSION_NOTE)}</p>", "<h2>Label versions</h2><table>"
            "<tr><th>benchmark / label version</th><th>runs</th></tr>"
            + "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in _version_rows(runs))
            + "</table>"]
    for title, svg in figures(runs) if drawn is None else drawn:
        body.append(f"<h2>{html.escape(title)}</h2><figure>{svg}</figure>")
    for label, group in by_version(runs).items():
        body.append(f"<h2>{html.escape(label)}</h2>")
        for title, rows in _sections(group):
            body.append(f"<h3>{html.escape(title)}</h3><div class=\"wide\">{_html_table(group, rows)}</div>")
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
             "figure{margin:0.5em 0 1.5em}figure svg{max-width:100%;height:auto}.note{background:#fff8e1;"
             "padding:6px 10px;border-left:4px solid #f9a825}.wide{overflow-x:auto}"
             "table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:4px 8px;"
             "text-align:left;font-size:13px;overflow-wrap:anywhere}th{background:#f5f5f5}")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>formulate evaluation report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


__all__ = ["DEFINITIONS", "Summary", "VERSION_NOTE", "by_version", "summarize", "to_html", "to_markdown"]
