"""Measure the rules formulator on a JSONL file of word problems with known objective values.

    python scripts/measure_rules.py [/work/shared/data/dev/mamo_easylp_dev.jsonl] [--show wrong|refused|all]

Solves through ``formulate.api.solve`` when that exists, else through a small highspy converter for
scalar-variable formulations (expressions parsed with ``ast``, never evaluated).
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
import time
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formulate.formulators.rules import THRESHOLD, formulate_rules  # noqa: E402
from formulate.ir.model import Formulation  # noqa: E402

DEFAULT = "/work/shared/data/dev/mamo_easylp_dev.jsonl"


def _const(node: ast.AST) -> float | None:
    """The value of a numeric literal, possibly negated; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _const(node.operand)
        if inner is not None:
            return -inner if isinstance(node.op, ast.USub) else inner
    return None


def _linear(node: ast.AST, names: dict[str, int], coefs: np.ndarray, scale: float = 1.0) -> float:
    """Add ``scale * node`` into ``coefs``; return its constant part."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        const = _linear(node.left, names, coefs, scale)
        sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
        return const + _linear(node.right, names, coefs, scale * sign)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _linear(node.operand, names, coefs, -scale)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
        left, right = _const(node.left), _const(node.right)
        if isinstance(node.op, ast.Div) and right is not None:
            return _linear(node.left, names, coefs, scale / right)
        if isinstance(node.op, ast.Mult) and left is not None:
            return _linear(node.right, names, coefs, scale * left)
        if isinstance(node.op, ast.Mult) and right is not None:
            return _linear(node.left, names, coefs, scale * right)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return scale * float(node.value)
    if isinstance(node, ast.Name) and node.id in names:
        coefs[names[node.id]] += scale
        return 0.0
    raise ValueError(f"not a linear expression: {ast.unparse(node)}")


def solve_highs(f: Formulation) -> tuple[str, float | None]:
    """Solve a scalar-variable formulation with highspy; (status, objective)."""
    names = {name: i for i, name in enumerate(f.variables)}
    n = len(names)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    for name, var in f.variables.items():
        lo = -inf if var.lower in ("-inf", float("-inf")) else float(var.lower or 0)
        hi = inf if var.upper in (None, "inf") else float(var.upper)
        h.addVar(lo, hi)
        if var.type == "integer":
            h.changeColIntegrality(names[name], highspy.HighsVarType.kInteger)
    c = np.zeros(n)
    const = _linear(ast.parse(f.objective.expr, mode="eval").body, names, c)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
    if f.objective.sense == "maximize":
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for name in f.constraints:
        expr = f.constraint(name).expr
        node = ast.parse(expr, mode="eval").body
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            raise ValueError(f"{name}: not a single comparison")
        a = np.zeros(n)
        k = _linear(node.left, names, a) + _linear(node.comparators[0], names, a, -1.0)
        op = node.ops[0]
        lo, hi = -inf, inf
        if isinstance(op, ast.LtE | ast.Lt):
            hi = -k
        elif isinstance(op, ast.GtE | ast.Gt):
            lo = -k
        else:
            lo = hi = -k
        idx = np.nonzero(a)[0].astype(np.int32)
        h.addRow(lo, hi, len(idx), idx, a[idx])
    h.run()
    status = h.modelStatusToString(h.getModelStatus()).lower()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return status, None
    return "optimal", h.getInfo().objective_function_value + const


def solve(f: Formulation, how: str = "auto") -> tuple[str, float | None]:
    """Solve with ``formulate.api.solve`` (``api``), the local converter (``highs``), or the first that works."""
    if how in ("auto", "api"):
        try:
            from formulate.api import solve as api_solve  # type: ignore[attr-defined]

            sol = api_solve(f)
            return str(getattr(sol, "status", "")), getattr(sol, "objective", None)
        except Exception:  # the pipeline has not landed yet, or cannot take this model
            if how == "api":
                raise
    return solve_highs(f)


def matches(value: float | None, answer: float, raw: str | None = None) -> bool:
    """|value - answer| <= 1e-4 * max(1, |answer|), or equal after rounding to the label's precision."""
    if value is None or math.isnan(value):
        return False
    if abs(value - answer) <= 1e-4 * max(1.0, abs(answer)):
        return True
    if raw is not None:
        text = str(raw).strip()
        decimals = len(text.split(".")[1]) if "." in text else 0
        return round(value + 1e-9, decimals) == round(answer, decimals)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT)
    parser.add_argument("--show", choices=["wrong", "refused", "all", "none"], default="none")
    parser.add_argument("--json", help="write per-problem results to this file")
    parser.add_argument("--solver", choices=["auto", "api", "highs"], default="auto")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in Path(args.path).read_text().splitlines() if line.strip()]
    answered = correct = wrong = 0
    times = []
    log = []
    for row in rows:
        t0 = time.perf_counter()
        result = formulate_rules(row["question"])
        times.append(time.perf_counter() - t0)
        entry = {"id": row["id"], "answer": row["answer"], "confidence": result.confidence,
                 "reason": result.reason}
        if result.formulation is None or result.confidence < THRESHOLD:
            entry["outcome"] = "refused"
        else:
            answered += 1
            try:
                status, value = solve(result.formulation, args.solver)
            except Exception as exc:  # a formulation the converter cannot read counts as wrong
                status, value = f"error: {exc}", None
            entry.update(status=status, objective=value, notes=result.notes)
            if matches(value, row["answer"], row.get("answer_raw")):
                correct += 1
                entry["outcome"] = "correct"
            else:
                wrong += 1
                entry["outcome"] = "wrong"
        log.append(entry)
        if args.show in ("all", entry["outcome"]):
            print(f"--- {row['id']} [{entry['outcome']}] answer={row['answer']} got={entry.get('objective')} "
                  f"status={entry.get('status')} conf={result.confidence}")
            print(row["question"])
            print("reason:", result.reason)
            for note in result.notes:
                print("  ", note)
    total = len(rows)
    print(f"problems {total}: answered {answered} ({100 * answered / total:.1f}%), "
          f"correct {correct} ({100 * correct / total:.1f}% of all), "
          f"wrong {wrong} ({100 * wrong / max(answered, 1):.1f}% of answered); "
          f"time per problem mean {1000 * sum(times) / total:.1f} ms, max {1000 * max(times):.1f} ms")
    if args.json:
        Path(args.json).write_text("\n".join(json.dumps(e) for e in log) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
