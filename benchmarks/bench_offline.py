"""Speed of the offline reader (issue target: under 50 ms a problem, loading the tagger once included).

    python benchmarks/bench_offline.py [--repeat 1]

In a fresh process: imports the reader and loads the tagger (timed once), then formulates every problem of
the development sets in ``../shared/data/dev`` (or the project's own example texts when they are absent) with
the whole offline reader, and, side by side in the same run, with the template reader alone. Prints the
load time, the mean and 95th percentile a problem, and the ratio of the two readers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OWN = [
    "A workshop makes lamps, shelves and stools. A lamp needs 2 hours of machining and 1 hour of assembly. A "
    "shelf needs 1 hour of machining and 3 hours of assembly. A stool needs 3 hours of machining and 2 hours of "
    "assembly. There are 120 hours of machining and 150 hours of assembly available. Each lamp earns $40, each "
    "shelf earns $35 and each stool earns $50. How many of each should the workshop make to maximize profit?",
    "A student wants a cheap breakfast of oatmeal and yogurt. Each bowl of oatmeal has 5 grams of protein and 150 "
    "calories and costs $0.50. Each cup of yogurt has 10 grams of protein and 100 calories and costs $1.20. The "
    "student needs at least 30 grams of protein and at least 600 calories. How many bowls of oatmeal and cups "
    "of yogurt should the student eat to minimize cost?",
]


def texts() -> list[str]:
    dev = ROOT.parent / "shared" / "data" / "dev"
    out: list[str] = []
    for name in ("nl4opt_dev.jsonl", "mamo_easylp_dev.jsonl"):
        path = dev / name
        if path.exists():
            out += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines()]
    return out or OWN


def timed(fn, items: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        for text in items:
            start = time.perf_counter()
            fn(text)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    from formulate.formulators.offline import formulate_rules
    from formulate.formulators.offline.tagger import default_tagger
    from formulate.formulators.offline.templates import formulate_templates

    default_tagger()
    load = time.perf_counter() - start
    items = texts()
    formulate_rules(items[0])             # HiGHS's first call
    whole = timed(formulate_rules, items, args.repeat)
    templ = timed(formulate_templates, items, args.repeat)

    def line(name: str, t: list[float]) -> str:
        p95 = sorted(t)[int(0.95 * (len(t) - 1))]
        return f"{name:<28} mean {1000 * statistics.mean(t):6.1f} ms   p95 {1000 * p95:6.1f} ms"

    print(f"{len(items)} problems x {args.repeat}")
    print(f"import + tagger load (once)   {1000 * load:6.1f} ms")
    print(line("offline reader (default)", whole))
    print(line("template reader alone", templ))
    amortised = (load + sum(whole)) / len(whole)
    print(f"offline reader, load amortised over the run: {1000 * amortised:.1f} ms a problem (target 50 ms)")
    print(f"ratio offline reader / template reader: {statistics.mean(whole) / statistics.mean(templ):.2f}x")


if __name__ == "__main__":
    main()
