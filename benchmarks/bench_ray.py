"""Overhead per sample of the Ray backend against the thread backend, measured side by side.

    python benchmarks/bench_ray.py [--samples 200] [--cpus 2] [--repeat 3]

Same synthetic replayed dataset as bench_eval.py (real pipeline: LLM formulator over the replay model
-> check -> solve -> score -> log). The thread backend runs with ``--cpus`` threads; the Ray backend on
a local Ray with ``--cpus`` CPUs (started, and its workers warmed up, before the clock starts). Prints
the wall time per sample of each, the Ray overhead per sample and the ratio; the fastest of
``--repeat`` runs of each is kept (noisy machines).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_eval import write_synthetic  # noqa: E402

from formulate.datasets import load_dataset  # noqa: E402
from formulate.eval.attempts import FormulatorSpec  # noqa: E402
from formulate.eval.ray_backend import init_ray  # noqa: E402
from formulate.eval.runner import config_for, run_eval  # noqa: E402


def _fastest(samples, spec, data, root: Path, backend: str, cpus: int, repeat: int) -> float:
    best = float("inf")
    for i in range(repeat):
        out = root / f"{backend}{i}.jsonl"
        config = config_for(data, spec.model, backend=backend, workers=cpus)
        started = time.perf_counter()
        result = run_eval(samples, spec, out, config, progress=False)
        wall = time.perf_counter() - started
        assert len(result.records) == len(samples) and all(r["correct"] for r in result.records)
        best = min(best, wall)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path, replay = write_synthetic(root, args.samples)
        data = load_dataset(path)
        spec = FormulatorSpec.of(f"replay:{replay}", "ir")
        started = time.perf_counter()
        init_ray(num_cpus=args.cpus)
        ray_start = time.perf_counter() - started
        warm = data.samples[: 4 * args.cpus]  # start the Ray workers and import formulate in each
        for backend in ("thread", "ray"):
            run_eval(warm, spec, root / f"warm-{backend}.jsonl", config_for(data, spec.model, backend=backend,
                                                                            workers=args.cpus), progress=False)
        thread = _fastest(data.samples, spec, data, root, "thread", args.cpus, args.repeat)
        on_ray = _fastest(data.samples, spec, data, root, "ray", args.cpus, args.repeat)
    n = len(data.samples)
    print(f"samples {n}, {args.cpus} CPUs, fastest of {args.repeat} runs each; local Ray start {ray_start:.1f} s "
          "(not counted)")
    print(f"thread backend: {1000 * thread / n:.2f} ms a sample ({thread:.2f} s)")
    print(f"ray backend:    {1000 * on_ray / n:.2f} ms a sample ({on_ray:.2f} s)")
    print(f"ray overhead:   {1000 * (on_ray - thread) / n:+.2f} ms a sample; ray / thread = {on_ray / thread:.2f}x")


if __name__ == "__main__":
    main()
