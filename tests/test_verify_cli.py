"""`formulate solve TEXT --rounds/--samples` and `formulate eval --rounds` with a scripted (replay) model."""

from __future__ import annotations

import json

from test_verify_loop import FURNITURE, FURNITURE_TEXT, fenced
from typer.testing import CliRunner

from formulate.cli import app
from formulate.eval import read_log, summarize
from formulate.llm import record_replay

FLIPPED = FURNITURE.replace("expr: x[p] <= 40", "expr: x[p] >= 40")
WITH_READING = FURNITURE.replace("alternatives: []", (
    "alternatives: [{reading: at most 40 of both together, changes: {constraints: "
    "{demand: null, market: 'sum(x[p] for p in P) <= 40'}}}]"))


def test_solve_shows_each_round_then_the_answer_and_other_readings(tmp_path):
    replay = tmp_path / "r.jsonl"
    record_replay(replay, FURNITURE_TEXT, None, [fenced(FLIPPED), fenced(WITH_READING)])
    result = CliRunner().invoke(app, ["solve", FURNITURE_TEXT, "--model", f"replay:{replay}", "--no-cache",
                                      "--rounds", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "round 1: infeasible (1 error)" in out and "error infeasible: infeasible; conflicting:" in out
    assert "-> sent back to the model" in out and "round 2: optimal, objective 1400 (clean)" in out
    assert out.index("round 2") < out.index("objective: 1400") < out.index("other readings:")
    assert "  - at most 40 of both together: optimal, objective 1320 (differs)" in out


def test_solve_json_has_every_round_and_progress_on_stderr(tmp_path):
    replay = tmp_path / "r.jsonl"
    record_replay(replay, FURNITURE_TEXT, None, [fenced(FLIPPED), fenced(WITH_READING)])
    result = CliRunner().invoke(app, ["solve", FURNITURE_TEXT, "--model", f"replay:{replay}",
                                                      "--no-cache", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    verified = data["verified"]
    assert [r["status"] for r in verified["rounds"]] == ["infeasible", "optimal"]
    assert verified["rounds"][0]["findings"][0]["kind"] == "infeasible"
    assert "`demand`" in verified["rounds"][0]["feedback"]
    assert data["solution"]["objective"] == 1400 and verified["readings"][0]["objective"] == 1320
    assert "round 1: infeasible" in result.stderr


def test_eval_logs_rounds_findings_readings_and_the_report_counts_labels_among_readings(tmp_path):
    from formulate.eval.cli import eval_app

    data = tmp_path / "toy.jsonl"
    # the label is the reading's answer, not the main one
    data.write_text(json.dumps({"id": "furniture", "question": FURNITURE_TEXT, "answer": "1320"}) + "\n")
    replay = tmp_path / "r.jsonl"
    record_replay(replay, FURNITURE_TEXT, "furniture", [fenced(FLIPPED), fenced(WITH_READING)])
    out = tmp_path / "run.jsonl"
    result = CliRunner().invoke(eval_app, ["eval", str(data), "--model", f"replay:{replay}", "--out", str(out),
                                           "--rounds", "2", "--no-progress", "--no-cache"])
    assert result.exit_code == 0, result.output
    record = read_log(out).samples["furniture"]
    assert [r["status"] for r in record["rounds"]] == ["infeasible", "optimal"]
    assert "reply" not in record["rounds"][0] and len(record["replies"]) == 2
    assert record["predicted"]["objective"] == 1400 and not record["correct"]
    assert record["readings"][0]["objective"] == 1320 and record["label_in_readings"]
    assert record["findings"] == [] and record["vote"] is None
    summary = summarize(out)
    assert summary.among_readings == 1 and summary.correct == 0
    assert "label among the readings 1/1" in summary.score_line()


def test_readme_feedback_exchange_replays(tmp_path):
    """The exchange the README shows, from the replay file it names."""
    from pathlib import Path

    replies = Path(__file__).resolve().parent / "replies" / "furniture_flipped.jsonl"
    result = CliRunner().invoke(app, ["solve", FURNITURE_TEXT, "--model", f"replay:{replies}", "--no-cache", "--json"])
    assert result.exit_code == 0, result.output
    verified = json.loads(result.stdout)["verified"]
    feedback = verified["rounds"][0]["feedback"]
    assert "`demand`" in feedback and "`wood_limit`" in feedback
    assert 'Note: the text says "at most 40" but the row reads `>=`.' in feedback
    assert verified["objective"] == 1400 and verified["readings"][0]["objective"] == 1320
