"""Does the verifier notice a broken formulation, and does its feedback name what broke?

Takes every rules-formulator formulation of the development problems that matches its label, breaks it in
one way at a time, verifies the broken copy and counts:

- flip: one constraint's `<=`/`>=` reversed. Noticed = the answer changed and some error or warning fired;
  named = a finding's message names the flipped constraint.
- drop: one constraint removed. Noticed = the answer changed and some error or warning fired.
- continuous: integer variables made continuous where that changes the answer. Noticed = integrality fired.

Usage: ``python benchmarks/verify_mutations.py ../shared/data/dev/*.jsonl``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from formulate.datasets.answers import parse_answer
from formulate.eval.scoring import get_rule
from formulate.formulators.offline import formulate_rules
from formulate.ir.io import formulation_from_data
from formulate.verify import verify


def _flip(expr: str) -> str | None:
    if "<=" in expr and ">=" not in expr:
        return expr.replace("<=", ">=")
    if ">=" in expr and "<=" not in expr:
        return expr.replace(">=", "<=")
    return None


def _expr(spec) -> str | None:
    return spec if isinstance(spec, str) else (spec or {}).get("expr")


def _with_expr(spec, expr: str):
    return expr if isinstance(spec, str) else {**spec, "expr": expr}


def main(paths: list[str]) -> None:
    rule = get_rule(None)
    counts: Counter = Counter()
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            text = record["question"]
            result = formulate_rules(text)
            if result.formulation is None or result.confidence < 0.5:
                continue
            base = verify(result.formulation, text, readings=False)
            answer = parse_answer(record.get("answer"))
            sol = base.solution
            if sol is None or not sol.has_solution or not rule.correct(sol.objective, sol.status, answer.value, None):
                continue
            data = result.formulation.to_dict()
            for name, spec in data.get("constraints", {}).items():
                expr = _expr(spec)
                flipped = _flip(expr) if expr else None
                if flipped:
                    _count(counts, "flip", data, text, base, rule, name,
                           lambda d, n=name, s=spec, f=flipped: d["constraints"].__setitem__(n, _with_expr(s, f)))
                _count(counts, "drop", data, text, base, rule, name,
                       lambda d, n=name: d["constraints"].pop(n))
            ints = [n for n, v in data.get("variables", {}).items() if v.get("type") == "integer"]
            if ints:
                _count(counts, "continuous", data, text, base, rule, None,
                       lambda d, names=tuple(ints): [d["variables"][n].__setitem__("type", "continuous") for n in names])
    for kind in ("flip", "drop", "continuous"):
        changed = counts[kind, "changed"]
        print(f"{kind:10} mutations {counts[kind, 'total']:4d}; answer changed {changed:4d}; noticed "
              f"{counts[kind, 'noticed']:4d} ({100 * counts[kind, 'noticed'] / max(1, changed):.1f}% of changed)"
              + (f"; named the constraint {counts[kind, 'named']:4d} "
                 f"({100 * counts[kind, 'named'] / max(1, changed):.1f}%)" if kind == "flip" else "")
              + f"; quiet when unchanged {counts[kind, 'quiet']:4d} of {counts[kind, 'total'] - changed}")


def _count(counts: Counter, kind: str, data: dict, text: str, base, rule, name: str | None, mutate) -> None:
    copy = json.loads(json.dumps(data))
    mutate(copy)
    try:
        broken = formulation_from_data(copy)
    except Exception:  # noqa: BLE001 - a mutation the loader rejects is not counted
        return
    report = verify(broken, text, readings=False)
    counts[kind, "total"] += 1
    sol, ref = report.solution, base.solution
    same = (sol is not None and sol.has_solution and sol.status == ref.status
            and rule.correct(sol.objective, sol.status, ref.objective, None))
    fired = [f for f in report.findings if f.severity in ("error", "warning")]
    if same:
        counts[kind, "quiet"] += not fired
        return
    counts[kind, "changed"] += 1
    if kind == "continuous":
        counts[kind, "noticed"] += any(f.kind == "integrality" for f in fired)
        return
    counts[kind, "noticed"] += bool(fired)
    if name and any(re.search(rf"`{re.escape(name)}`", f.for_model) for f in fired):
        counts[kind, "named"] += 1


if __name__ == "__main__":
    main(sys.argv[1:])
