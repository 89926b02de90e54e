"""Figures of evaluation reports, drawn by matplotlib (Agg) as inline SVG for the HTML report.

Each ``*_figure`` takes run summaries and returns an SVG string, or None when the runs hold nothing
to draw (no C3 sizes, no token counts, ...). matplotlib is the optional extra ``formulate-opt[plots]``.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from formulate.errors import FormulateError

if TYPE_CHECKING:
    from formulate.eval.report import Summary

STAGE_COLORS = {"ok": "#2e7d32", "wrong_answer": "#f9a825", "solve": "#ef6c00", "check": "#c62828",
                "parse": "#6a1b9a", "formulate": "#546e7a", "no_label": "#9e9e9e"}
METRIC_COLORS = ("#1565c0", "#64b5f6", "#bbdefb", "#6d4c41")
WIDTH_IN = 9.5  # inches; at 100 dpi the page's 1000 px column


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise FormulateError("report figures need matplotlib: pip install 'formulate-opt[plots]' (or pip install "
                             "matplotlib)") from None
    matplotlib.use("Agg", force=False)
    return matplotlib


def _figure(height: float, width: float = WIDTH_IN) -> Any:
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, max(1.6, height)), dpi=100)
    return fig


def _svg(fig: Any) -> str:
    """The figure as an SVG element (text kept as text; tight box so no label is cut)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 10}):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.08)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _labels(runs: Sequence[Summary]) -> list[str]:
    """Run names, with the dataset when the runs span several datasets."""
    several = len({r.dataset for r in runs}) > 1
    return [f"{r.name}" if not several or r.dataset in r.name else f"{r.name} ({r.dataset})" for r in runs]


def _ordered(runs: Sequence[Summary]) -> list[Summary]:
    """Runs by dataset, then name: every figure lists them in the same order."""
    return sorted(runs, key=lambda r: (r.dataset, r.name))


def accuracy_figure(runs: Sequence[Summary]) -> str | None:
    """Accuracy (and the strict rule beside it), answered and executed, per run, grouped by dataset."""
    if not runs:
        return None
    ordered = _ordered(runs)
    metrics: list[tuple[str, Callable[[Summary], float]]] = [("accuracy", lambda r: 100 * r.accuracy)]
    also = sorted({name for r in ordered for name in r.also})
    for name in also:
        metrics.append((f"accuracy ({name})", lambda r, n=name: r.pct(r.also.get(n, 0))))
    metrics += [("answered", lambda r: r.pct(r.answered)), ("executed", lambda r: r.pct(r.executed))]
    bar = 0.8 / len(metrics)
    fig = _figure(0.35 + 0.22 * len(metrics) * len(ordered) + 0.6)
    ax = fig.add_subplot()
    for j, (metric, value) in enumerate(metrics):
        ys = [i + j * bar for i in range(len(ordered))]
        vals = [value(r) for r in ordered]
        ax.barh(ys, vals, height=bar * 0.9, color=METRIC_COLORS[j % len(METRIC_COLORS)], label=metric)
        for y, v in zip(ys, vals, strict=True):
            ax.text(v + 1, y, f"{v:.1f}%", va="center", fontsize=8)
    ax.set_yticks([i + bar * (len(metrics) - 1) / 2 for i in range(len(ordered))], _labels(ordered))
    ax.invert_yaxis()
    ax.set_xlim(0, 112)
    ax.set_xlabel("% of samples")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(metrics), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def stages_figure(runs: Sequence[Summary]) -> str | None:
    """One stacked bar per run: the share of samples ending in each stage."""
    from formulate.eval.runner import STAGES

    if not runs:
        return None
    runs = _ordered(runs)
    stages = [s for s in STAGES if any(r.stages.get(s) for r in runs)]
    stages += sorted({s for r in runs for s in r.stages} - set(stages))
    fig = _figure(0.4 * len(runs) + 1.0)
    ax = fig.add_subplot()
    left = [0.0] * len(runs)
    for stage in stages:
        widths = [r.pct(r.stages.get(stage, 0)) for r in runs]
        ax.barh(range(len(runs)), widths, left=left, color=STAGE_COLORS.get(stage, "#000000"), label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(range(len(runs)), _labels(runs))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of samples")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(7, len(stages)), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _size_key(size: str) -> tuple[float, str]:
    """Sizes sort by their first number ("12 cities" < "100 cities"), then as text."""
    match = re.search(r"-?\d+(\.\d+)?", size)
    return (float(match.group()) if match else math.inf, size)


def class_size_figure(runs: Sequence[Summary]) -> str | None:
    """Accuracy by size, one line per problem class, one panel per run (C3-Bench)."""
    shown = [r for r in _ordered(runs) if r.class_size]
    if not shown:
        return None
    cols = min(2, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig = _figure(3.2 * rows, WIDTH_IN)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, run in enumerate(shown):
        ax = axes[k // cols][k % cols]
        classes = sorted({c for c, _ in run.class_size})
        for cls in classes:
            sizes = sorted((s for c, s in run.class_size if c == cls), key=_size_key)
            acc = [100 * run.class_size[(cls, s)].correct / run.class_size[(cls, s)].total for s in sizes]
            xs = [_size_key(s)[0] if math.isfinite(_size_key(s)[0]) else i for i, s in enumerate(sizes)]
            ax.plot(xs, acc, marker="o", label=cls)
        ax.set_title(run.name, fontsize=10)
        ax.set_xlabel("size")
        ax.set_ylabel("accuracy %")
        ax.set_ylim(-5, 105)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="best")
    for k in range(len(shown), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.tight_layout()
    return _svg(fig)


def distributions_figure(runs: Sequence[Summary]) -> str | None:
    """Per-sample time and token distributions, one box per run."""
    if not any(r.sample_times for r in runs):
        return None
    runs = _ordered(runs)
    with_tokens = any(any(r.sample_tokens) for r in runs)
    fig = _figure(0.45 * len(runs) + 1.3)
    axes = fig.subplots(1, 2 if with_tokens else 1, squeeze=False)[0]
    labels = _labels(runs)
    data = [[max(t, 1e-4) for t in r.sample_times] or [1e-4] for r in runs]
    axes[0].boxplot(data, orientation="horizontal", tick_labels=labels)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("seconds per sample (log)")
    axes[0].invert_yaxis()
    if with_tokens:
        tokens = [[t for t in r.sample_tokens] or [0] for r in runs]
        axes[1].boxplot(tokens, orientation="horizontal", tick_labels=[""] * len(runs))
        axes[1].set_xlabel("tokens per sample (prompt + completion)")
        axes[1].invert_yaxis()
    fig.tight_layout()
    return _svg(fig)


def rounds_figure(runs: Sequence[Summary]) -> str | None:
    """Accuracy had the run stopped after each verifier round, and the share whose label is among the readings."""
    shown = [r for r in _ordered(runs) if r.with_rounds]
    if not shown:
        return None
    fig = _figure(3.2)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    for run in shown:
        ks = sorted(run.by_round)
        left.plot(ks, [100 * run.by_round[k] / run.with_rounds for k in ks], marker="o", label=run.name)
    left.set_xlabel("after round")
    left.set_ylabel("accuracy % (first draw)")
    left.set_ylim(-5, 105)
    left.grid(alpha=0.3)
    left.legend(fontsize=7)
    names = _labels(shown)
    ys = range(len(shown))
    right.barh([y - 0.2 for y in ys], [100 * r.accuracy for r in shown], height=0.4, color=METRIC_COLORS[0],
               label="accuracy")
    right.barh([y + 0.2 for y in ys], [r.pct(r.among_readings) for r in shown], height=0.4, color=METRIC_COLORS[3],
               label="label among the readings")
    right.set_yticks(list(ys), names)
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel("% of samples")
    right.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=1, frameon=False, fontsize=8)
    fig.tight_layout()
    return _svg(fig)


def figures(runs: Sequence[Summary]) -> list[tuple[str, str]]:
    """(title, SVG) of every figure that has something to show (runs without samples are left out)."""
    runs = [r for r in runs if r.total]
    made = [("Accuracy by dataset and run", accuracy_figure(runs)),
            ("Where samples end (failure stages)", stages_figure(runs)),
            ("Accuracy by class and size", class_size_figure(runs)),
            ("Time and tokens per sample", distributions_figure(runs)),
            ("Accuracy by verifier round, and the label among the readings", rounds_figure(runs))]
    return [(title, svg) for title, svg in made if svg]


__all__ = ["accuracy_figure", "class_size_figure", "distributions_figure", "figures", "rounds_figure",
           "stages_figure"]
