"""Evaluation: scoring rules, the runner end to end with a replay model, resume, and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formulate.datasets import Sample, load_dataset
from formulate.errors import FormulateError
from formulate.eval import EvalConfig, get_rule, read_log, run_eval, summarize, to_html, to_markdown
from formulate.eval.cli import eval_app
from formulate.llm import record_replay

# Problems written for these tests (answers worked out by hand and checked by the solver).
BAKERY = ("A bakery makes bread and cake. Each bread earns 3 dollars and each cake 5 dollars. The oven "
          "fits 10 items a day; bread needs 1 kg of flour and cake 2 kg, with 14 kg available. Maximise profit.")
WORKSHOP = ("A workshop builds tables (profit 20) and chairs (profit 12). At most 8 pieces fit in the van, and "
            "a table takes 3 hours while a chair takes 1 hour, with 12 hours available. Maximise profit.")
ESSAY = "A farmer splits land between wheat and corn to maximise yield under a water limit of 40 units."
CLASH = "Choose x to minimise x, where x must be at least 5 and at most 3."
FEED = ("Feed mixes oats (4 dollars per bag) and hay (3 dollars per bag); at least 6 bags in total and at least "
        "2 bags of oats. Minimise cost.")


def _yaml(body: str) -> str:
    return f"Here is the formulation.\n\n```yaml\n{body.strip()}\n```\n"


BAKERY_OK = _yaml("""
name: bakery
variables:
  bread: {type: continuous, lower: 0}
  cake: {type: continuous, lower: 0}
objective: {sense: maximize, expr: 3*bread + 5*cake}
constraints:
  oven: bread + cake <= 10
  flour: bread + 2*cake <= 14
""")
WORKSHOP_WRONG = _yaml("""
name: workshop
variables:
  tables: {type: integer, lower: 0}
  chairs: {type: integer, lower: 0}
objective: {sense: maximize, expr: 10*tables + 12*chairs}
constraints:
  van: tables + chairs <= 8
  hours: 3*tables + chairs <= 12
""")
CLASH_INFEASIBLE = _yaml("""
name: clash
variables:
  x: {type: continuous}
objective: {sense: minimize, expr: x}
constraints:
  low: x >= 5
  high: x <= 3
""")
FEED_TYPO = _yaml("""
name: feed
variables:
  oats: {type: continuous, lower: 0}
  hay: {type: continuous, lower: 0}
objective: {sense: minimize, expr: 4*oats + 3*hay}
constraints:
  bags: oats + hya >= 6
  oats_min: oats >= 2
""")
FEED_OK = FEED_TYPO.replace("hya", "hay")
PROSE = "The best plan is to plant mostly wheat; the yield is about 40."

PROBLEMS = [  # id, text, label, replies, expected stage
    ("bakery", BAKERY, "38", [BAKERY_OK], "ok"),
    ("workshop", WORKSHOP, "112", [WORKSHOP_WRONG], "wrong_answer"),
    ("essay", ESSAY, "40", [PROSE, PROSE, PROSE], "parse"),
    ("clash", CLASH, "No Best Solution", [CLASH_INFEASIBLE], "ok"),
    ("feed", FEED, "20", [FEED_TYPO, FEED_OK], "ok"),
]


def write_problems(folder: Path) -> tuple[Path, Path]:
    """A dataset file and a replay file for the five problems, written into ``folder``."""
    data = folder / "toy.jsonl"
    data.write_text("".join(json.dumps({"id": pid, "question": text, "answer": label}) + "\n"
                            for pid, text, label, _, _ in PROBLEMS))
    replay = folder / "replies.jsonl"
    for pid, text, _, replies, _ in PROBLEMS:
        record_replay(replay, text, pid, replies)
    return data, replay


def without_times(record: dict) -> dict:
    """A log record without what differs between two runs of the same samples (times, finish stamps)."""
    record = {k: v for k, v in record.items() if k not in ("times", "finished")}
    if record.get("solution"):
        record["solution"] = {k: v for k, v in record["solution"].items() if k != "times"}
    if record.get("rounds"):
        record["rounds"] = [{k: v for k, v in r.items() if k != "seconds"} for r in record["rounds"]]
    return record


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Path, Path]:
    """A dataset file and a replay file for the five problems."""
    return write_problems(tmp_path)


def _eval(args: list[str]):
    return CliRunner().invoke(eval_app, ["eval", *args, "--no-progress"])


def _samples(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if json.loads(line).get("type") == "sample"]


# ------------------------------------------------------------------------------------------------- scoring


@pytest.mark.parametrize(("rule", "pred", "ans", "raw", "ok"), [
    ("rel1e-4", 38.0001, 38.0, "38", True),
    ("rel1e-4", 38.01, 38.0, "38", False),
    ("rel1e-4", 0.00005, 0.0, "0", True),
    ("rel1e-4", 1_000_050.0, 1_000_000.0, "1000000", True),
    ("rel1e-6", 38.0001, 38.0, "38", False),
    ("abs_rel_1e-2", 38.3, 38.0, "38", True),
    ("abs_rel_1e-2", 0.009, 0.0, "0", True),
    ("abs_rel_1e-2", 39.0, 38.0, "38", False),
    ("round_to_label", 37.6, 38.0, "38", True),
    ("round_to_label", 37.4, 38.0, "38", False),
    ("round_to_label", 12.345, 12.35, "12.35", True),
    ("round_to_label", 12.344, 12.35, "12.35", False),
])
def test_scoring_rules(rule, pred, ans, raw, ok):
    assert get_rule(rule).correct(pred, "optimal", ans, "optimal", raw) is ok


def test_infeasible_marker_and_missing_values():
    rule = get_rule(None)
    assert rule.name == "rel1e-4" and "max(1,|ans|)" in rule.describe()
    assert rule.correct(None, "infeasible", None, "infeasible")
    assert rule.correct(None, "infeasible_or_unbounded", None, "infeasible")
    assert not rule.correct(5.0, "optimal", None, "infeasible")
    assert not rule.correct(None, "unbounded", None, "infeasible")
    assert rule.correct(None, "unbounded", None, "unbounded")
    assert not rule.correct(None, "infeasible", 3.0, "optimal")
    assert not rule.correct(3.0, "optimal", None, None)
    with pytest.raises(FormulateError, match="unknown scoring rule `rel1e4`; did you mean `rel1e-4`"):
        get_rule("rel1e4")


# ------------------------------------------------------------------------------------------------- runner


def test_eval_end_to_end_with_replay(bench, tmp_path):
    data, replay = bench
    out = tmp_path / "runs" / "toy.jsonl"
    result = _eval([str(data), "--model", f"replay:{replay}", "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "accuracy 3/5 = 60.0% (rule rel1e-4: |pred-ans| <= 1e-4*max(1,|ans|))" in result.output
    assert "answered 80.0%, executed 80.0%" in result.output
    records = {r["id"]: r for r in _samples(out)}
    assert {pid: records[pid]["stage"] for pid in records} == {p[0]: p[4] for p in PROBLEMS}
    bakery = records["bakery"]
    assert bakery["correct"] and bakery["predicted"] == {"objective": 38.0, "status": "optimal"}
    assert "3*bread + 5*cake" in bakery["formulation"] and bakery["solution"]["problem_class"] == "LP"
    assert bakery["expected"] == {"answer": 38.0, "raw": "38", "status": "optimal"}
    assert bakery["replies"] == [BAKERY_OK] and bakery["rule"] == "rel1e-4"
    assert set(bakery["times"]) == {"formulate", "solve", "total"} and bakery["question_sha256"]
    assert records["workshop"]["predicted"]["objective"] == 96.0
    assert "objective 96" in records["workshop"]["error"]
    assert records["essay"]["formulation"] is None and records["essay"]["attempt"]["status"] == "parse_error"
    assert records["clash"]["solution"]["status"] == "infeasible"
    assert records["feed"]["attempt"]["rounds"] == 2 and len(records["feed"]["replies"]) == 2
    log = read_log(out)  # long prompt messages are stored once as blobs and expanded on reading
    prompt = log.prompt(log.samples["bakery"])
    assert prompt[0]["role"] == "system" and len(prompt[0]["content"]) > 500
    assert any(BAKERY in m["content"] for m in prompt)
    assert sum(1 for line in out.read_text().splitlines() if '"type": "blob"' in line) == len(log.blobs)
    assert log.header["model"] == f"replay:{replay}" and log.header["rule"] == "rel1e-4"


def test_resume_after_interruption_has_no_duplicates(bench, tmp_path):
    data, replay = bench
    out = tmp_path / "run.jsonl"
    first = _eval([str(data), "--model", f"replay:{replay}", "--out", str(out), "--limit", "2"])
    assert first.exit_code == 0 and "accuracy 1/2" in first.output
    again = _eval([str(data), "--model", f"replay:{replay}", "--out", str(out)])
    assert again.exit_code == 2 and "already holds 2 samples; pass --resume" in again.output
    with out.open("a") as fh:  # a line torn by a crash mid-write
        fh.write('{"type": "sample", "id": "essay", "sta')
    resumed = _eval([str(data), "--model", f"replay:{replay}", "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "accuracy 3/5" in resumed.output and "2 samples already" in resumed.output
    ids = [r["id"] for r in _samples(out)]
    assert sorted(ids) == sorted(p[0] for p in PROBLEMS) and len(ids) == len(set(ids))
    other = _eval([str(data), "--model", "rules", "--out", str(out), "--resume"])
    assert other.exit_code == 2 and "was run with model" in other.output
    draws = _eval([str(data), "--model", f"replay:{replay}", "--out", str(out), "--resume", "--samples", "3"])
    assert draws.exit_code == 2 and draws.output.strip().splitlines() == [
        f"error: {out} was run with samples_per_problem `1`, not `3`; resume it with the same samples_per_problem "
        "or choose another --out"]


def test_header_keeps_the_dataset_count_and_records_the_draws(tmp_path):
    samples = [Sample(f"s{i}", f"problem {i}", 1.0, "1", {}, "optimal") for i in range(4)]
    good = {"formulation": "variables:\n  x: {lower: 0, upper: 1}\nobjective: {sense: maximize, expr: x}\n"}
    out = tmp_path / "draws.jsonl"
    config = EvalConfig(dataset="d", model="fn", workers=1, samples=5, rounds=2)
    run_eval(samples[:2], lambda text, pid: good, out, config, progress=False)
    header = read_log(out).header
    assert (header["samples"], header["samples_per_problem"], header["rounds"]) == (2, 5, 2)
    with pytest.raises(FormulateError, match="was run with samples_per_problem `5`, not `1`"):
        run_eval(samples, lambda text, pid: good, out, EvalConfig(dataset="d", model="fn", rounds=2), resume=True,
                 progress=False)
    assert run_eval(samples, lambda text, pid: good, out, config, resume=True, progress=False).skipped == 2
    assert summarize(out).settings == "2 / 5"


def test_a_log_from_before_the_draw_count_still_resumes(tmp_path):
    samples = [Sample(f"s{i}", f"problem {i}", 1.0, "1", {}, "optimal") for i in range(3)]
    good = {"formulation": "variables:\n  x: {lower: 0, upper: 1}\nobjective: {sense: maximize, expr: x}\n"}
    out = tmp_path / "old.jsonl"
    run_eval(samples[:1], lambda text, pid: good, out, EvalConfig(dataset="d", model="fn", workers=1),
             progress=False)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    for record in lines:
        if record["type"] == "run":
            del record["samples_per_problem"], record["rounds"]
    out.write_text("".join(json.dumps(r) + "\n" for r in lines))
    resumed = run_eval(samples, lambda text, pid: good, out, EvalConfig(dataset="d", model="fn", samples=4),
                       resume=True, progress=False)
    assert resumed.skipped == 1 and len(resumed.records) == 2
    assert summarize(out).settings == ""  # the first header is the run's own: it records neither


def test_runner_with_a_plain_callable_and_crashes(tmp_path):
    samples = [Sample(f"s{i}", f"problem {i}", float(i), str(i), {}, "optimal") for i in range(20)]

    def formulate(text: str, problem_id: str | None):
        i = int(problem_id[1:])
        if i == 3:
            raise RuntimeError("boom")
        if i == 4:
            return {"formulation": None, "status": "check_error", "extra": {"error": "name `z` is not defined"}}
        if i == 5:
            return {"formulation": "variables: [unclosed\n", "status": "ok"}
        body = f"variables:\n  x: {{lower: 0, upper: {i}}}\nobjective: {{sense: maximize, expr: x}}\n"
        return {"formulation": body, "status": "ok", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}

    out = tmp_path / "calls.jsonl"
    result = run_eval(samples, formulate, out, EvalConfig(dataset="calls", model="fn", workers=4), progress=False)
    by_id = {r["id"]: r for r in result.records}
    assert len(by_id) == 20 == len(_samples(out))
    assert by_id["s3"]["stage"] == "formulate" and "RuntimeError: boom" in by_id["s3"]["error"]
    assert by_id["s4"]["stage"] == "check" and by_id["s4"]["error"] == "name `z` is not defined"
    assert by_id["s5"]["stage"] == "parse" and "YAML error" in by_id["s5"]["error"]
    assert by_id["s7"]["correct"] and by_id["s7"]["tokens"] == {"prompt": 10, "completion": 5}
    summary = summarize(out)
    assert (summary.correct, summary.total, summary.prompt_tokens) == (17, 20, 170)


def test_interrupted_run_keeps_finished_lines(tmp_path):
    samples = [Sample(f"s{i}", f"problem {i}", 1.0, "1", {}, "optimal") for i in range(5)]
    good = {"formulation": "variables:\n  x: {lower: 0, upper: 1}\nobjective: {sense: maximize, expr: x}\n"}

    def stop_at_3(text: str, problem_id: str | None):
        if problem_id == "s3":
            raise KeyboardInterrupt
        return good

    out = tmp_path / "int.jsonl"
    config = EvalConfig(dataset="int", model="fn", workers=1)
    with pytest.raises(KeyboardInterrupt):
        run_eval(samples, stop_at_3, out, config, progress=False)
    assert [r["id"] for r in _samples(out)] == ["s0", "s1", "s2"]
    result = run_eval(samples, lambda text, pid: good, out, config, resume=True, progress=False)
    assert result.skipped == 3 and [r["id"] for r in result.records] == ["s3", "s4"]
    assert summarize(out).correct == 5


def test_code_mode_outcomes(tmp_path):
    samples = [Sample("a", "q a", 5.0, "5", {}, "optimal"), Sample("b", "q b", None, "infeasible", {}, "infeasible"),
               Sample("c", "q c", 5.0, "5", {}, "optimal"), Sample("d", "q d", 5.0, "5", {}, "optimal")]
    outcomes = {"a": {"status": "ok", "replies": ["r"], "extra": {"code": "print(5)", "objective": 5.0,
                                                                  "code_status": "optimal"}},
                "b": {"status": "ok", "replies": ["r"], "extra": {"code": "...", "code_status": "infeasible"}},
                "c": {"status": "code_error", "replies": ["r"],
                      "extra": {"code": "...", "code_status": "error", "error": "NameError: x"}},
                "d": {"status": "code_error", "replies": ["no code here"], "extra": {}}}
    result = run_eval(samples, lambda text, pid: outcomes[pid], tmp_path / "code.jsonl",
                      EvalConfig(dataset="c", model="fn", mode="code", workers=1), progress=False)
    stages = {r["id"]: (r["stage"], r["error"]) for r in result.records}
    assert stages == {"a": ("ok", None), "b": ("ok", None), "c": ("solve", "NameError: x"), "d": ("parse", None)}


# ------------------------------------------------------------------------------------------------- report


def test_report_markdown_and_html(bench, tmp_path):
    data, replay = bench
    one, two = tmp_path / "replayed.jsonl", tmp_path / "partial.jsonl"
    assert _eval([str(data), "--model", f"replay:{replay}", "--out", str(one)]).exit_code == 0
    assert _eval([str(data), "--model", f"replay:{replay}", "--out", str(two), "--limit", "2"]).exit_code == 0
    runs = [summarize(one), summarize(two)]
    md = to_markdown(runs)
    assert "| | replayed | partial |" in md
    assert "| accuracy | 3/5 (60.0%) | 1/2 (50.0%) |" in md
    assert "| rule | rel1e-4: \\|pred-ans\\| <= 1e-4*max(1,\\|ans\\|) |" in md
    assert "| parse | 1/5 (20.0%) | 0/2 (0.0%) |" in md and "| wrong_answer | 1/5 (20.0%) | 1/2 (50.0%) |" in md
    assert "| LP | 3/3 (100.0%) | 1/1 (100.0%) |" in md
    assert "| correct only in this run | 2 | 0 |" in md
    page = to_html(runs)
    assert page.count("<svg") == 4 and "<table>" in page and "replayed" in page  # accuracy, stages, times, rounds
    cli = CliRunner().invoke(eval_app, ["report", str(one), str(two), "--markdown", "--html",
                                        str(tmp_path / "r.html"), "--rule", "abs_rel_1e-2"])
    assert cli.exit_code == 0, cli.output
    assert "abs_rel_1e-2" in cli.output and "(re-scored)" in cli.output
    assert "<svg" in (tmp_path / "r.html").read_text()


TRICKY = {"a": "x: y", "b": "- item", "c": "yes", "d": "1e3", "e": "#hash", "f": "a #b", "g": "multi\nline\n",
          "h": "multi\nline", "i": " lead", "j": "trail ", "k": "", "l": "0x1F", "m": ["a,b", "[x]", "{y}", "ok"],
          "n": {"k: v": 1, "2": "two", "true": None}, "o": [{"name": "a", "val": [1, [2, 3]]}, {"x": {"y": {"z": 1}}}],
          "p": 1e-05, "q": float("inf"), "r": -0.0, "s": "é ü 中", "t": "tab\there", "u": "  indented\nblock",
          "v": "ends\n\n", "w": "*star", "x": "!tag", "y": "a: b\nc", "z": "sum(x[i] for i in I) <= 3", "aa": "'q'",
          "ab": '"dq"', "ac": "null", "ad": "~", "ae": "12:30", "af": [], "ag": {}, "ah": [[]], "ai": "@at",
          "aj": "%pct", "ak": "?q", "al": "x:", "am": "a\rb", "N": "N"}


def test_log_yaml_reads_back_equal():
    from formulate.eval.yamltext import dump_yaml
    from formulate.ir.io import load, parse_yaml_text

    assert parse_yaml_text(dump_yaml(TRICKY)) == TRICKY
    examples = sorted((Path(__file__).resolve().parent.parent / "formulate" / "examples").glob("*.yaml"))
    for path in examples:
        data = load(path).to_dict()
        assert parse_yaml_text(dump_yaml(data)) == data, path.name


def test_dev_style_file_loads_as_dataset(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "toy-1", "question": BAKERY, "answer": 38.0, "answer_raw": "38"}) + "\n")
    sample = load_dataset(path).samples[0]
    assert (sample.id, sample.answer, sample.answer_raw) == ("toy-1", 38.0, "38")
