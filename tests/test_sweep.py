"""`formulate sweep`: the grid, one log per cell, skipping complete cells, resuming partial ones, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formulate.eval.cli import eval_app
from formulate.eval.runlog import read_log
from formulate.eval.sweep import cell_name, load_sweep
from formulate.llm import record_replay
from tests.test_eval import PROBLEMS, without_times

EXTRA = [  # a second dataset, written for this test
    ("crates", "Pack crates: each crate earns 4; at most 7 crates fit. Maximise earnings.", "28",
     ["```yaml\nvariables:\n  c: {type: integer, lower: 0, upper: 7}\nobjective: {sense: maximize, expr: 4*c}\n```"],
     "ok"),
    ("pens", "Buy pens at 2 each, at least 3 pens. Minimise cost.", "5",
     ["```yaml\nvariables:\n  p: {lower: 3}\nobjective: {sense: minimize, expr: 2*p}\n```"], "wrong_answer"),
]


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """Two dataset files, one replay file, and a sweep file over them (paths relative to the sweep file)."""
    for name, problems in (("toy", PROBLEMS), ("extra", EXTRA)):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"id": pid, "question": text, "answer": label})
                                                        + "\n" for pid, text, label, _, _ in problems))
        for pid, text, _, replies, _ in problems:
            record_replay(tmp_path / "replies.jsonl", text, pid, replies)
    (tmp_path / "sweep.yaml").write_text(
        "out: results\n"
        "models: [rules, 'replay:replies.jsonl']\n"
        "datasets: [toy.jsonl, extra.jsonl]\n"
        "settings:\n  rule: [rel1e-4, abs_rel_1e-2]\n  solver: highs\n"
        "workers: 2\n")
    return tmp_path


def _sweep(*args: str):
    return CliRunner().invoke(eval_app, ["sweep", *args, "--no-progress"])


def test_sweep_runs_every_cell_then_skips_complete_ones(sweep_dir):
    sweep = load_sweep(sweep_dir / "sweep.yaml")
    assert len(sweep.cells) == 2 * 2 * 2
    assert sweep.out == sweep_dir / "results"
    name = cell_name(f"replay:{sweep_dir / 'replies.jsonl'}", str(sweep_dir / "toy.jsonl"),
                     {"rule": "abs_rel_1e-2", "solver": "highs"})
    assert name == "toy.replay-replies.rule=abs_rel_1e-2.solver=highs"
    first = _sweep(str(sweep_dir / "sweep.yaml"))
    assert first.exit_code == 0, first.output
    logs = sorted((sweep_dir / "results" / "cells").glob("*.jsonl"))
    assert [p.stem for p in logs] == sorted(c.name for c in sweep.cells)
    replay_toy = read_log(sweep_dir / "results" / "cells" / f"{name}.jsonl")
    assert {pid: r["stage"] for pid, r in replay_toy.samples.items()} == {p[0]: p[4] for p in PROBLEMS}
    assert replay_toy.header["rule"] == "abs_rel_1e-2" and replay_toy.header["solver"] == "highs"
    assert "toy.replay-replies.rule=rel1e-4.solver=highs: accuracy 3/5 = 60.0%" in first.output
    assert first.output.count("ran ") == 8
    md = (sweep_dir / "results" / "report.md").read_text()
    assert "## toy / unversioned (local file)" in md and "## extra / unversioned (local file)" in md
    assert "published tables built on another label version" in md
    assert "<svg" in (sweep_dir / "results" / "report.html").read_text()
    assert sorted(p.name for p in (sweep_dir / "results" / "figures").iterdir()) == [  # no `rounds`: the verifier
        "accuracy-by-dataset-and-run.svg", "accuracy-by-verifier-round-and-the-label-among-the-readings.svg",
        "time-and-tokens-per-sample.svg", "where-samples-end.svg"]  # ran, as in `formulate eval`
    before = [p.read_text() for p in logs]
    again = _sweep(str(sweep_dir / "sweep.yaml"))
    assert again.exit_code == 0 and again.output.count("skipped") == 8
    assert [p.read_text() for p in logs] == before  # complete cells are not touched (no new header either)


def test_a_partial_cell_resumes_sample_by_sample(sweep_dir):
    sweep = load_sweep(sweep_dir / "sweep.yaml")
    assert _sweep(str(sweep_dir / "sweep.yaml")).exit_code == 0
    cell = next(c for c in sweep.cells if c.name.startswith("toy.replay"))
    lines = cell.log.read_text().splitlines()
    keep = [line for line in lines if '"id": "feed"' not in line and '"id": "essay"' not in line]
    cell.log.write_text("\n".join(keep) + "\n" + lines[-1][:20])  # two samples lost, a torn last line
    again = _sweep(str(sweep_dir / "sweep.yaml"))
    assert again.exit_code == 0, again.output
    assert f"resumed  {cell.name} (2 new of 5 samples)" in again.output and again.output.count("skipped") == 7
    ids = [json.loads(x)["id"] for x in cell.log.read_text().splitlines() if '"type": "sample"' in x]
    assert sorted(ids) == sorted(p[0] for p in PROBLEMS)


@pytest.mark.parametrize(("text", "message"), [
    ("models: [rules]\n", "needs `datasets`"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {colour: [red]}\n", "unknown setting `colour`"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {rule: [rel1e4]}\n", "did you mean `rel1e-4`"),
    ("models: [rules]\ndatasets: [a.jsonl]\nbackend: dask\n", "unknown backend `dask`"),
    ("models: [rules]\ndatasets: [a.jsonl]\nmodel: x\n", "unknown key `model`"),
    ("models: [rules]\ndatasets: [a.jsonl]\nlimit: -3\n", "`limit` must be a positive whole number"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {rounds: [3, -1]}\n",
     "setting `rounds` must be a whole number of at least 0, not -1"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {samples: 0}\n", "setting `samples` must be a whole number"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {solver: higs}\n", "unknown solver `higs`"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {time_limit: 0}\n", "time_limit 0 is not a positive number"),
    ("models: [rules]\ndatasets: [a.jsonl]\nsettings: {gap: fast}\n", "setting `gap` must be a number"),
    ("models: [rules]\ndatasets: [a.jsonl]\ndata_dir: nowhere\n", "`data_dir` `nowhere` is not a folder"),
    ("models: [rules]\ndatasets: [a.jsonl]\nworkers: 0\n", "`workers` must be a positive whole number, not 0"),
    ("models: [rules]\ndatasets: [a.jsonl]\nworkers: two\n", "`workers` must be a positive whole number"),
    ("models: [rules]\ndatasets: [a.jsonl]\nrpm: -5\n", "`rpm` must be a positive number"),
    ("models: [rules]\ndatasets: [a.jsonl]\nbase_url: localhost:8000\n", "is not an http(s) URL with a host"),
    ("- just a list\n", "must be a mapping"),
])
def test_bad_sweep_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = _sweep(str(path))
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_dry_run_lists_cells_and_a_failing_cell_does_not_stop_the_others(sweep_dir):
    (sweep_dir / "sweep.yaml").write_text("models: [rules]\ndatasets: [toy.jsonl, missing.jsonl]\nlimit: 2\n")
    listed = _sweep(str(sweep_dir / "sweep.yaml"), "--dry-run")
    assert listed.exit_code == 0 and "toy.rules\t" in listed.output and "missing.rules\t" in listed.output
    assert not (sweep_dir / "runs").exists()
    result = _sweep(str(sweep_dir / "sweep.yaml"))
    assert result.exit_code == 1
    assert "failed   missing.rules: dataset file" in result.output and "ran      toy.rules (2 new of 2" in result.output
    assert (sweep_dir / "runs" / "sweep" / "report.md").is_file()
    elsewhere = _sweep(str(sweep_dir / "sweep.yaml"), "--out", str(sweep_dir / "other"))
    assert elsewhere.exit_code == 1 and (sweep_dir / "other" / "cells" / "toy.rules.jsonl").is_file()


def _eval_records(*args: str) -> dict[str, dict]:
    result = CliRunner().invoke(eval_app, ["eval", *args, "--no-progress"])
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("--out") + 1])
    return {pid: without_times(r) for pid, r in read_log(out).samples.items()}


def _cell_records(path: Path) -> dict[str, dict]:
    return {pid: without_times(r) for pid, r in read_log(path).samples.items()}


def test_a_cell_without_rounds_gives_the_records_of_eval_without_rounds(sweep_dir):
    replay = f"replay:{sweep_dir / 'replies.jsonl'}"
    (sweep_dir / "sweep.yaml").write_text("models: [rules, 'replay:replies.jsonl']\ndatasets: [toy.jsonl]\n"
                                          "workers: 2\n")
    (sweep_dir / "off.yaml").write_text("models: [rules, 'replay:replies.jsonl']\ndatasets: [toy.jsonl]\n"
                                        "settings: {rounds: 0}\n")
    assert _sweep(str(sweep_dir / "sweep.yaml")).exit_code == 0
    assert _sweep(str(sweep_dir / "off.yaml")).exit_code == 0
    cells, toy = sweep_dir / "runs" / "sweep" / "cells", str(sweep_dir / "toy.jsonl")
    for model, label in (("rules", "rules"), (replay, "replay-replies")):
        default = _cell_records(cells / f"toy.{label}.jsonl")
        assert default == _eval_records(toy, "--model", model, "--out", str(sweep_dir / f"{label}.jsonl"))
        assert read_log(cells / f"toy.{label}.jsonl").header["rounds"] == 3
        assert all(r["rounds"] for r in default.values())  # the verifier ran, as in `formulate eval`
        off = _cell_records(sweep_dir / "runs" / "off" / "cells" / f"toy.{label}.rounds=0.jsonl")
        assert off == _eval_records(toy, "--model", model, "--rounds", "0", "--out",
                                    str(sweep_dir / f"{label}-0.jsonl"))
        assert not any("rounds" in r for r in off.values())
        if model == "rules":  # nothing to call back: the verifier changes no rules record's outcome
            assert {p: (r["correct"], r["stage"], r["predicted"]) for p, r in default.items()} == \
                {p: (r["correct"], r["stage"], r["predicted"]) for p, r in off.items()}
        else:  # the verifier's feedback gets no second reply from a one-reply replay here
            assert {p: r["stage"] for p, r in off.items()} == {p[0]: p[4] for p in PROBLEMS}


def test_the_data_dir_is_relative_to_the_sweep_file_and_the_command_line_overrides_it(sweep_dir):
    (sweep_dir / "tables").mkdir()
    (sweep_dir / "sweep.yaml").write_text("models: [rules]\ndatasets: [toy.jsonl]\ndata_dir: tables\n")
    assert load_sweep(sweep_dir / "sweep.yaml").data_dir == (sweep_dir / "tables").resolve()
    assert _sweep(str(sweep_dir / "sweep.yaml")).exit_code == 0
    assert read_log(sweep_dir / "runs" / "sweep" / "cells" / "toy.rules.jsonl").header["data_dir"] == \
        str((sweep_dir / "tables").resolve())
    other = sweep_dir / "other-tables"
    other.mkdir()
    moved = _sweep(str(sweep_dir / "sweep.yaml"), "--data-dir", str(other), "--out", str(sweep_dir / "moved"))
    assert moved.exit_code == 0, moved.output
    assert read_log(sweep_dir / "moved" / "cells" / "toy.rules.jsonl").header["data_dir"] == str(other.resolve())
    bad = _sweep(str(sweep_dir / "sweep.yaml"), "--data-dir", str(sweep_dir / "toy.jsonl"))
    assert bad.exit_code == 2 and "is not a folder" in bad.output and "Traceback" not in bad.output


def test_a_complete_cell_run_with_other_rounds_is_not_taken_as_done(sweep_dir):
    (sweep_dir / "sweep.yaml").write_text("models: [rules]\ndatasets: [toy.jsonl]\n")
    cell = sweep_dir / "runs" / "sweep" / "cells" / "toy.rules.jsonl"
    cell.parent.mkdir(parents=True)
    old = CliRunner().invoke(eval_app, ["eval", str(sweep_dir / "toy.jsonl"), "--model", "rules", "--rounds", "0",
                                        "--out", str(cell), "--no-progress"])  # as a cell ran before it had rounds
    assert old.exit_code == 0, old.output
    result = _sweep(str(sweep_dir / "sweep.yaml"))
    assert result.exit_code == 1 and "skipped  toy.rules" not in result.output
    assert "toy.rules.jsonl was run with rounds `0`, not `3`" in result.output
