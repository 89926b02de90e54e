"""How often the verifier's findings fire on formulations that are right (and on those that are wrong).

Runs the offline rules formulator over development problems (JSONL with ``question`` and ``answer``),
verifies every formulation it writes, and counts, per finding kind and severity, the share of correct
formulations (objective matches the label under rel1e-4) that get such a finding: the false-positive
rate. Usage: ``python benchmarks/verify_findings_rate.py ../shared/data/dev/*.jsonl``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from formulate.datasets.answers import parse_answer
from formulate.eval.scoring import get_rule
from formulate.formulators.offline import formulate_rules
from formulate.verify import verify


def main(paths: list[str]) -> None:
    rule = get_rule(None)
    fired: dict[bool, Counter] = {True: Counter(), False: Counter()}
    totals = Counter()
    examples: dict[str, list[str]] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            result = formulate_rules(record["question"])
            if result.formulation is None or result.confidence < 0.5:
                continue
            report = verify(result.formulation, record["question"], readings=False)
            sol = report.solution
            objective = sol.objective if sol is not None and sol.has_solution else None
            answer = parse_answer(record.get("answer"))
            correct = rule.correct(objective, sol.status if sol else None, answer.value,
                                   answer.status if answer.status != "optimal" else None)
            totals[correct] += 1
            for key in sorted({(f.kind, f.severity) for f in report.findings}):
                fired[correct][key] += 1
                if correct and len(examples.setdefault(f"{key[0]}/{key[1]}", [])) < 3:
                    examples[f"{key[0]}/{key[1]}"].append(
                        f"{record['id']}: " + next(f.for_person for f in report.findings if (f.kind, f.severity) == key))
    print(f"rules formulations verified: {totals[True]} correct, {totals[False]} wrong (rule {rule.name})")
    kinds = sorted(set(fired[True]) | set(fired[False]))
    print(f"{'finding':28} {'on correct':>16} {'on wrong':>16}")
    for key in kinds:
        c, w = fired[True][key], fired[False][key]
        print(f"{key[0] + '/' + key[1]:28} {c:5d} ({100 * c / max(1, totals[True]):5.1f}%) "
              f"{w:5d} ({100 * w / max(1, totals[False]):5.1f}%)")
    for key, lines in examples.items():
        print(f"\n{key} on correct formulations, e.g.:")
        for text in lines:
            print("  " + text[:300])


if __name__ == "__main__":
    main(sys.argv[1:])
