"""The Ray backend on a local Ray (one per module: starting Ray is slow): same records as threads, the
driver alone writes the log (kill -9 and --resume lose and duplicate nothing), completion order, limiter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formulate.datasets import Sample, load_dataset
from formulate.eval import EvalConfig, run_eval
from formulate.eval.attempts import FormulatorSpec
from formulate.eval.cli import eval_app
from formulate.eval.runner import config_for
from formulate.llm import record_replay
from tests.test_eval import PROBLEMS, write_problems
from tests.test_eval import without_times as _without_times

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'formulate-opt[ray]')")

ROOT = Path(__file__).resolve().parent.parent
BOX = "variables:\n  x: {{lower: 0, upper: {n}}}\nobjective: {{sense: maximize, expr: x}}\n"


DEPOT = "A depot ships parts a and b, at least 1 of each; the cost of each part is in costs.csv. Minimise the cost."
DEPOT_REPLY = ("```yaml\nsets: {P: [a, b]}\nparameters:\n  c: {index: [P], file: costs.csv}\n"
               "variables: {x: {index: [P], lower: 1}}\nobjective: {sense: minimize, expr: 'sum(c[p] * x[p] for p in P)'}"
               "\n```\n")


def write_depot(folder: Path) -> tuple[Path, Path, Path]:
    """A one-problem dataset whose model reply reads `file: costs.csv` (costs 2 + 3 = 5), its replay file
    (the same reply every round) and the data folder with costs.csv."""
    data_dir = folder / "data"
    data_dir.mkdir()
    (data_dir / "costs.csv").write_text("P,value\na,2\nb,3\n")
    data = folder / "depot.jsonl"
    data.write_text(json.dumps({"id": "depot", "question": DEPOT, "answer": "5"}) + "\n")
    record_replay(folder / "replies.jsonl", DEPOT, "depot", [DEPOT_REPLY] * 3)
    return data, folder / "replies.jsonl", data_dir


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with two CPUs (``ray.init(num_cpus=2)``, with this checkout on the workers' path)."""
    from formulate.eval.ray_backend import init_ray

    if ray.is_initialized():
        ray.shutdown()
    init_ray(num_cpus=2)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def replayed(tmp_path: Path) -> tuple[Path, Path]:
    return write_problems(tmp_path)


def _records(path: Path) -> list[dict]:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r.get("type") == "sample"]


def test_ray_and_thread_runs_give_identical_records(local_ray, replayed, tmp_path):
    from formulate.eval.ray_backend import LIMITER_PREFIX, NAMESPACE

    data, replay = replayed
    dataset = load_dataset(data)
    spec = FormulatorSpec.of(f"replay:{replay}", "ir")
    logs = {}
    for backend in ("thread", "ray"):
        logs[backend] = tmp_path / f"{backend}.jsonl"
        config = config_for(dataset, spec.model, backend=backend, workers=2, model_calls=2, rounds=3)
        result = run_eval(dataset.samples, spec, logs[backend], config, progress=False)
        assert len(result.records) == len(PROBLEMS)
    thread = {r["id"]: _without_times(r) for r in _records(logs["thread"])}
    on_ray = {r["id"]: _without_times(r) for r in _records(logs["ray"])}
    assert on_ray == thread and all(r["rounds"] for r in on_ray.values())  # the verifier ran in the workers
    assert {pid: r["stage"] for pid, r in on_ray.items()} == {p[0]: p[4] for p in PROBLEMS}
    header = json.loads(logs["ray"].read_text().splitlines()[0])
    assert (header["backend"], header["threads"]) == ("ray", 1)  # one HiGHS thread per task
    limiter = ray.get_actor(LIMITER_PREFIX + spec.endpoint, namespace=NAMESPACE)
    stats = ray.get(limiter.stats.remote())
    calls = sum(len(r["rounds"]) for r in on_ray.values())  # every model call went through the cluster-wide limiter
    assert stats["calls"] == calls and 1 <= stats["peak_in_flight"] <= 2 and stats["in_flight"] == 0


def test_eval_cli_on_ray_at_an_address(local_ray, replayed, tmp_path):
    data, replay = replayed
    out = tmp_path / "cli.jsonl"
    result = CliRunner().invoke(eval_app, ["eval", str(data), "--model", f"replay:{replay}", "--out", str(out),
                                           "--backend", "ray", "--address", local_ray, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "accuracy 3/5 = 60.0%" in result.output
    wrong = CliRunner().invoke(eval_app, ["eval", str(data), "--out", str(tmp_path / "x.jsonl"), "--address",
                                          local_ray])
    assert wrong.exit_code == 2 and "--address names a Ray cluster; add --backend ray" in wrong.output


def _written(path: Path) -> int:
    """How many sample records the driver has written to ``path`` so far (a line being written is not one)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return 0
    return sum(1 for line in lines if line.endswith("}") and '"type": "sample"' in line)


def test_results_stream_back_in_completion_order(local_ray, tmp_path):
    samples = [Sample(f"s{i}", f"problem {i}", float(i), str(i), {}, "optimal") for i in range(6)]
    out = tmp_path / "order.jsonl"

    def slow_first(text: str, pid: str | None):  # runs in a Ray worker: it needs nothing from this module
        def written() -> int:
            lines = out.read_text().splitlines() if out.exists() else []
            return sum(1 for line in lines if line.endswith("}") and '"type": "sample"' in line)

        if pid == "s0":  # finishes after three others are in the log: a condition, not a sleep that a slow
            deadline = time.monotonic() + 120  # worker start on a loaded machine could outlast
            while written() < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
        return {"formulation": BOX.format(n=int(pid[1:])), "status": "ok"}

    run_eval(samples, slow_first, out, EvalConfig(dataset="order", model="fn", backend="ray", workers=1),
             progress=False)
    order = [r["id"] for r in _records(out)]
    assert sorted(order) == [s.id for s in samples] and order[0] != "s0" and order.index("s0") >= 3


DRIVER = textwrap.dedent("""
    import os, sys, time
    from formulate.datasets import Sample
    from formulate.eval import EvalConfig, run_eval

    BOX = {box!r}
    GO = sys.argv[3]

    def slow(text, pid):  # s0-s3 at once; the rest wait for the test to say go (after it killed the driver)
        deadline = time.monotonic() + 120
        while int(pid[1:]) >= 4 and not os.path.exists(GO) and time.monotonic() < deadline:
            time.sleep(0.05)
        return {{"formulation": BOX.format(n=int(pid[1:])), "status": "ok"}}

    samples = [Sample(f"s{{i}}", f"problem {{i}}", float(i), str(i), {{}}, "optimal") for i in range(16)]
    config = EvalConfig(dataset="killed", model="fn", backend="ray", address=sys.argv[2], workers=1)
    run_eval(samples, slow, sys.argv[1], config, progress=False)
""")


def test_kill_9_of_the_driver_then_resume_loses_and_duplicates_nothing(local_ray, tmp_path):
    script, out, go = tmp_path / "driver.py", tmp_path / "killed.jsonl", tmp_path / "go"
    script.write_text(DRIVER.format(box=BOX))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    driver = subprocess.Popen([sys.executable, str(script), str(out), local_ray, str(go)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and driver.poll() is None:
            if _written(out) >= 4:
                break
            time.sleep(0.05)
        assert driver.poll() is None, "the driver finished before it could be killed"
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
    finally:
        if driver.poll() is None:
            driver.kill()
        go.touch()  # tasks the killed driver left on the cluster finish now
    before = [r["id"] for r in _records(out)]
    assert 4 <= len(before) < 16 and len(set(before)) == len(before)
    samples = [Sample(f"s{i}", f"problem {i}", float(i), str(i), {}, "optimal") for i in range(16)]

    def quick(text: str, pid: str | None):
        return {"formulation": BOX.format(n=int(pid[1:])), "status": "ok"}

    config = EvalConfig(dataset="killed", model="fn", backend="ray", workers=1)
    result = run_eval(samples, quick, out, config, resume=True, progress=False)
    assert result.skipped == len(before)
    ids = [r["id"] for r in _records(out)]
    assert sorted(ids) == sorted(s.id for s in samples) and len(ids) == len(set(ids))
    assert all(r["correct"] for r in _records(out))
    from formulate.eval.runlog import read_log

    killed, resumed = read_log(out).invocations  # the killed driver wrote no end record: its wall time is
    assert killed["wall_s"] is None and killed["last"] and resumed["wall_s"] > 0  # counted to its last sample


def test_sweep_on_ray_matches_the_thread_sweep(local_ray, tmp_path):
    from tests.test_sweep import EXTRA

    for name, problems in (("toy", PROBLEMS), ("extra", EXTRA)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"id": pid, "question": text, "answer": label})
                                                        + "\n" for pid, text, label, _, _ in problems))
        for pid, text, _, replies, _ in problems:
            record_replay(tmp_path / "replies.jsonl", text, pid, replies)
    (tmp_path / "sweep.yaml").write_text("models: [rules, 'replay:replies.jsonl']\ndatasets: [toy.jsonl, extra.jsonl]\n")
    runner = CliRunner()
    for backend in ("thread", "ray"):
        result = runner.invoke(eval_app, ["sweep", str(tmp_path / "sweep.yaml"), "--backend", backend, "--out",
                                          str(tmp_path / backend), "--no-progress"])
        assert result.exit_code == 0, result.output
    thread_logs = sorted((tmp_path / "thread" / "cells").glob("*.jsonl"))
    assert len(thread_logs) == 4
    for log in thread_logs:
        ray_log = tmp_path / "ray" / "cells" / log.name
        assert {r["id"]: _without_times(r) for r in _records(ray_log)} == \
            {r["id"]: _without_times(r) for r in _records(log)}, log.name
    assert (tmp_path / "ray" / "report.html").is_file()


def test_the_limiter_outlives_a_run_so_the_next_run_on_its_endpoint_gets_it_alive(local_ray):
    import gc

    from formulate.eval.ray_backend import limiter_for

    first = limiter_for("http://127.0.0.1:9/v1", 1, None)
    ray.get(first.acquire.remote())
    ray.get(first.release.remote())
    actor_id = first._actor_id
    del first
    gc.collect()  # the run that made it has ended: a named actor with no handle left would be collected
    second = limiter_for("http://127.0.0.1:9/v1", 3, None)
    assert second._actor_id == actor_id and ray.get(second.stats.remote())["calls"] == 1
    ray.get([second.acquire.remote() for _ in range(3)], timeout=30)  # the new run's limit of 3 holds
    assert ray.get(second.stats.remote())["in_flight"] == 3
    ray.get([second.release.remote() for _ in range(3)])


def test_the_data_dir_reaches_the_ray_workers_as_it_reaches_the_threads(local_ray, tmp_path):
    data, replay, data_dir = write_depot(tmp_path)
    records, headers = {}, {}
    for backend in ("thread", "ray"):
        for given in (True, False):
            out = tmp_path / f"{backend}-{given}.jsonl"
            args = ["eval", str(data), "--model", f"replay:{replay}", "--out", str(out), "--backend", backend,
                    "--no-progress", *(["--data-dir", str(data_dir)] if given else [])]
            result = CliRunner().invoke(eval_app, args)
            assert result.exit_code == 0, result.output
            (record,) = _records(out)
            records[backend, given] = _without_times(record)
            headers[backend, given] = json.loads(out.read_text().splitlines()[0])
    read = records["ray", True]
    assert read == records["thread", True] and read["correct"] and read["predicted"]["objective"] == 5
    assert headers["ray", True]["data_dir"] == str(data_dir.resolve()) and headers["ray", False]["data_dir"] is None
    refused = records["ray", False]
    assert refused == records["thread", False] and refused["stage"] == "check" and not refused["correct"]
    assert "`file: costs.csv` is not allowed" in refused["error"] and "\n" not in refused["error"]
    sweep = tmp_path / "sweep.yaml"  # a sweep's `data_dir`, relative to the sweep file, reaches the workers too
    sweep.write_text("models: ['replay:replies.jsonl']\ndatasets: [depot.jsonl]\ndata_dir: data\n")
    result = CliRunner().invoke(eval_app, ["sweep", str(sweep), "--backend", "ray", "--out", str(tmp_path / "sw"),
                                           "--no-progress"])
    assert result.exit_code == 0, result.output
    cell = tmp_path / "sw" / "cells" / "depot.replay-replies.jsonl"
    assert [_without_times(r) for r in _records(cell)] == [read]
