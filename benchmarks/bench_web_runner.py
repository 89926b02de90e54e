"""Time of one web request that reads a problem offline, with the fork server warm vs. cold.

The web runner forks every request from a fork server that preloads formulate (`formulate.web.runner._PRELOAD`).
`warm` is the shipped list (the offline reader and its tagger loaded once in the fork server); `cold` drops
`formulate.web.warm`, so each worker loads the tagger itself. Each variant runs in its own process (the fork
server is one per process); the ratio is what to read, on a shared machine absolute times mean little.

    python benchmarks/bench_web_runner.py [REQUESTS]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

PROBLEM = ("A bakery makes cakes and pies. Each cake needs 2 hours of baking and earns $5; each pie needs 1 hour "
           "and earns $4. 40 hours of baking are available and at most 15 pies can be sold. How many of each "
           "maximise profit?")


def _child(variant: str, requests: int) -> None:
    from formulate.web import runner

    if variant == "cold":
        runner._PRELOAD[:] = [m for m in runner._PRELOAD if m != "formulate.web.warm"]
    run = runner.Runner()
    run.call("solve", {"problem": PROBLEM})  # starts the fork server (not timed)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        result = run.call("solve", {"problem": PROBLEM})
        times.append(time.perf_counter() - started)
    print(json.dumps({"median_s": statistics.median(times), "objective": result["solution"]["objective"]}))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]))
        return
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    out = {}
    for variant in ("cold", "warm"):
        done = subprocess.run([sys.executable, __file__, "--child", variant, str(requests)], capture_output=True,
                              text=True, check=True)
        out[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    cold, warm = out["cold"]["median_s"], out["warm"]["median_s"]
    print(f"one offline solve request, median of {requests}: cold fork server {cold * 1000:.0f} ms, "
          f"warm {warm * 1000:.0f} ms, ratio {cold / warm:.1f}x (objective {out['warm']['objective']})")


if __name__ == "__main__":
    main()
