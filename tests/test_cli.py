"""The command line as a user runs it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FURNITURE = ROOT / "formulate" / "examples" / "furniture.yaml"


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formulate", *args], capture_output=True, text=True, cwd=ROOT,
                          input=stdin, timeout=120, env={**os.environ, **env} if env else None)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_solve_file_prints_status_objective_and_values():
    result = run("solve", str(FURNITURE))
    assert result.returncode == 0, result.stderr
    assert "status: optimal" in result.stdout
    assert "objective: 1400" in result.stdout
    assert "x[chair]" in result.stdout and "x[table]" in result.stdout


def test_solve_json():
    result = run("solve", str(FURNITURE), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["solution"]["status"] == "optimal"
    assert data["solution"]["objective"] == pytest.approx(1400)


def test_check_ok_and_errors(tmp_path):
    assert run("check", str(FURNITURE)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("variables:\n  x: {}\nobjective:\n  sense: maximize\n  expr: x\nconstraints:\n  c: x <= capp\n"
                   "  d: y >= 1\n")
    result = run("check", str(bad))
    assert result.returncode == 2
    assert "constraint `c`: name `capp` is not defined" in result.stderr
    assert "constraint `d`: name `y` is not defined" in result.stderr


@pytest.mark.parametrize("args,fragment", [
    (["solve", "missing.yaml"], "file `missing.yaml` does not exist"),
    (["solve", "formulate/examples/furniture.yaml", "--solver", "hihgs"], "did you mean `highs`?"),
    (["check", "nowhere.yaml"], "does not exist"),
    (["export", "formulate/examples/furniture.yaml", "--to", "pyomoo"], "did you mean `pyomo`?"),
])
def test_user_mistakes_give_one_line_and_exit_2(args, fragment):
    assert fragment in one_line_error(run(*args))


def test_malformed_yaml_is_one_line(tmp_path):
    bad = tmp_path / "flow.yaml"
    bad.write_text("sets: {P: [a]}\nvariables: {x: {index: [P]}}\nconstraints:\n  cap: {forall: p in P, expr: x[p] <= 4}\n")
    line = one_line_error(run("solve", str(bad)))
    assert "line 4" in line and "block style" in line


def test_schema_error_is_one_line(tmp_path):
    bad = tmp_path / "schema.yaml"
    bad.write_text("variables:\n  x:\n    typ: integer\n")
    line = one_line_error(run("check", str(bad)))
    assert "variable `x`: unknown key `typ`; did you mean `type`?" in line


def test_unknown_model_spec_is_one_line():
    line = one_line_error(run("solve", "maximise 3x + 2y subject to x + y <= 4", "--model", "gpt-4o"))
    assert "openai:gpt-4o" in line


def test_show_markdown_and_latex():
    md = run("show", str(FURNITURE))
    assert md.returncode == 0 and "wood" in md.stdout
    tex = run("show", str(FURNITURE), "--latex")
    assert tex.returncode == 0 and "\\" in tex.stdout


def test_schema_prints_json_schema():
    result = run("schema")
    schema = json.loads(result.stdout)
    assert {"sets", "parameters", "variables", "objective", "constraints"} <= set(schema["properties"])


# ---- first contact: the edges of every command (issue 16 item 3, issue 15 item 7) ----

BAKERY = ("A bakery makes cakes and pies. Each cake needs 3 cups of flour and each pie needs 2 cups of flour; "
          "125 cups of flour are available. Each cake earns a profit of $5 and each pie earns a profit of $4. "
          "At least 10 pies must be made. Only whole cakes and pies can be made. How many cakes and pies should "
          "the bakery make to maximize profit?")
BINARY = bytes(range(256)) * 8  # NUL bytes and invalid UTF-8


def one_error(result: subprocess.CompletedProcess, fragment: str) -> str:
    """Exactly one `error:` line on stderr containing ``fragment``, exit 2, no traceback anywhere."""
    line = one_line_error(result)
    assert line.startswith("error: ") and fragment in line, line
    assert "Traceback" not in result.stdout
    return line


def dataset(tmp_path: Path, questions: list[str], answers: list[float]) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": q, "answer": a}) + "\n"
                            for i, (q, a) in enumerate(zip(questions, answers, strict=True))), encoding="utf-8")
    return path


def test_pyomo_unknown_solver_is_one_line_and_json_stays_clean():
    result = run("solve", str(FURNITURE), "--solver", "pyomo:nonsense", "--json")
    one_error(result, "Pyomo cannot find solver `nonsense`")
    assert result.stdout == ""


@pytest.mark.parametrize("option,value,fragment", [
    ("--time-limit", "-1", "--time-limit -1 is not a positive number of seconds"),
    ("--time-limit", "0", "--time-limit 0 is not a positive"),
    ("--gap", "2", "--gap 2 is not a relative gap between 0 and 1"),
    ("--gap", "-0.1", "--gap -0.1 is not a relative gap"),
    ("--gap", "abc", "invalid value for '--gap'"),
    ("--solver", "", "--solver is empty"),
])
def test_bad_solve_options_are_one_line(option, value, fragment):
    one_error(run("solve", str(FURNITURE), option, value), fragment)


def test_a_text_file_argument_is_read_as_the_problem(tmp_path):
    problem = tmp_path / "problem.txt"
    problem.write_text(BAKERY + "\n", encoding="utf-8")
    result = run("solve", str(problem))
    assert result.returncode == 0, result.stderr
    assert f"reading the problem text from the file {problem}" in result.stderr
    assert "objective: 249" in result.stdout
    for args in (["-f", str(problem)], ["--file", str(problem)]):
        by_option = run("solve", *args)
        assert by_option.returncode == 0 and "objective: 249" in by_option.stdout, by_option.stderr
    from_stdin = run("solve", "-f", "-", stdin=BAKERY)
    assert from_stdin.returncode == 0 and "objective: 249" in from_stdin.stdout, from_stdin.stderr


def test_problem_given_twice_is_refused(tmp_path):
    problem = tmp_path / "problem.txt"
    problem.write_text(BAKERY, encoding="utf-8")
    one_error(run("solve", BAKERY, "-f", str(problem)), "not both")


@pytest.mark.parametrize("args", [["solve", ""], ["solve", "   "], ["formulate", "\n"]])
def test_empty_problem_text_says_so_without_suggesting_a_model(args):
    line = one_error(run(*args), "the problem text is empty")
    assert "model" not in line


def test_empty_problem_file_says_so(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    one_error(run("solve", "-f", str(empty)), "the problem text is empty")


@pytest.mark.parametrize("args,name", [(["solve"], "PROBLEM_OR_FILE"), (["formulate"], "PROBLEM"),
                                       (["check"], "PATH"), (["examples", "a", "b"], "unexpected extra argument")])
def test_usage_errors_are_one_line_naming_the_argument(args, name):
    line = one_error(run(*args), name)
    assert "{arg}" not in line and "╭" not in line


def test_solvers_columns_stay_aligned():
    result = run("solvers")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0]
    assert header.split() == ["solver", "solves", "state"]
    state_at = header.index("state")
    for line in lines[1:]:
        assert line[state_at:].startswith(("installed", "missing")), line
        assert line[:state_at].rstrip().endswith(("LP", "QP", "indicator", "nonconvex", "MIQP", "NLP")), line


def test_long_variable_names_are_never_cut_when_piped(tmp_path):
    long_name = "units_of_the_very_long_product_name_that_a_generated_model_might_well_use_" * 2
    model = tmp_path / "long.yaml"
    model.write_text(f"variables:\n  {long_name}: {{upper: 3}}\n  y: {{upper: 1}}\nobjective:\n  sense: maximize\n"
                     f"  expr: {long_name} + y\n", encoding="utf-8")
    result = run("solve", str(model))
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(" ")]
    assert rows == [["variable", "value"], [long_name, "3"], ["y", "1"]]


def test_every_structural_error_of_a_file_is_reported_at_once(tmp_path):
    bad = tmp_path / "typos.yaml"
    bad.write_text("variables:\n  x:\n    typ: integer\n    lowr: 0\nobjective:\n  sens: maximize\n  expr: x\n"
                   "constraint:\n  c: x <= 4\n", encoding="utf-8")
    for command in ("check", "solve"):
        result = run(command, str(bad))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(errors) == 4 and all(line.startswith("error: ") for line in errors), result.stderr
        text = "\n".join(errors)
        for fragment in ("unknown key `typ`; did you mean `type`?", "unknown key `lowr`; did you mean `lower`?",
                         "unknown key `sens`; did you mean `sense`?", "unknown key `constraint`; did you mean "
                         "`constraints`?"):
            assert fragment in text


def test_every_schema_error_is_reported_at_once(tmp_path):
    bad = tmp_path / "shapes.yaml"
    bad.write_text("variables:\n  x:\n    type: integr\n  y:\n    type: binry\nobjective:\n  expr: x\n",
                   encoding="utf-8")
    result = run("check", str(bad))
    assert result.returncode == 2
    errors = result.stderr.splitlines()
    assert len(errors) == 3, result.stderr
    assert any("variables.x.type" in e for e in errors) and any("variables.y.type" in e for e in errors)
    assert any("objective.sense" in e for e in errors)


def test_examples_list_print_and_save(tmp_path):
    from formulate import examples

    listing = run("examples")
    assert listing.returncode == 0, listing.stderr
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    assert names == examples.names() and "furniture" in names and len(names) >= 10
    assert all(len(line.split()) > 2 for line in listing.stdout.splitlines())  # every name has a description
    printed = run("examples", "furniture")
    assert printed.returncode == 0 and printed.stdout == examples.path("furniture").read_text(encoding="utf-8")
    copy = tmp_path / "furniture.yaml"
    copy.write_text(printed.stdout, encoding="utf-8")
    assert "objective: 1400" in run("solve", str(copy)).stdout
    saved = run("examples", "--save", str(tmp_path / "ex"))
    assert saved.returncode == 0 and f"to {tmp_path / 'ex'}" in saved.stdout, saved.stderr
    assert (tmp_path / "ex" / "transportation_csv_cost.csv").is_file()
    csv_model = run("solve", str(tmp_path / "ex" / "transportation_csv.yaml"))
    assert csv_model.returncode == 0 and "status: optimal" in csv_model.stdout, csv_model.stderr


def test_unknown_example_and_bad_save_place_are_one_line(tmp_path):
    one_error(run("examples", "furnitur"), "did you mean `furniture`?")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    one_error(run("examples", "--save", str(afile)), "is a file")


def test_examples_are_package_data():
    """pyproject's package-data patterns cover every file of formulate/examples (so wheels carry them)."""
    import fnmatch
    import tomllib

    from formulate import examples

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["formulate"]
    for file in examples.data_files():
        relative = file.relative_to(ROOT / "formulate").as_posix()
        assert any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(relative, p.replace("**/", ""))
                   for p in patterns), relative


@pytest.mark.parametrize("target", ["pyomo", "lp"])
def test_export_to_bad_places_is_one_line(tmp_path, target):
    one_error(run("export", str(FURNITURE), "--to", target, "-o", str(tmp_path)), "is a folder")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    one_error(run("export", str(FURNITURE), "--to", target, "-o", str(afile / "model.py")), "is a file, not a folder")
    if Path("/dev/full").exists():
        one_error(run("export", str(FURNITURE), "--to", target, "-o", "/dev/full"), "No space left on device")


def test_binary_files_are_refused_in_one_line_everywhere(tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(BINARY)
    one_error(run("solve", "-f", str(blob)), "is a binary file, not the problem text")
    one_error(run("formulate", "-f", str(blob)), "is a binary file")
    one_error(run("solve", BAKERY, "--model", f"replay:{blob}"), "is not UTF-8 text")
    one_error(run("eval", str(blob), "--model", "rules", "--out", str(tmp_path / "run.jsonl")),
              "is a binary file, not a .jsonl/.json dataset")
    one_error(run("report", str(blob)), "is not a run log")
    data = dataset(tmp_path, [BAKERY], [249])
    kept = blob.read_bytes()
    one_error(run("eval", str(data), "--model", "rules", "--out", str(blob), "--resume"), "is not a run log")
    assert blob.read_bytes() == kept  # nothing appended to a file that is not a log


def test_dataset_folder_with_a_bad_answer_json(tmp_path):
    problem = tmp_path / "folder" / "p1"
    problem.mkdir(parents=True)
    (problem / "question.txt").write_text(BAKERY, encoding="utf-8")
    (problem / "answer.json").write_text("{not json", encoding="utf-8")
    one_error(run("eval", str(tmp_path / "folder"), "--model", "rules", "--out", str(tmp_path / "r.jsonl")),
              "answer.json is not valid JSON")
    (problem / "answer.json").write_bytes(BINARY)
    one_error(run("eval", str(tmp_path / "folder"), "--model", "rules", "--out", str(tmp_path / "r.jsonl")),
              "answer.json is a binary file")


def test_run_log_records_without_sha256_are_skipped_or_refused(tmp_path):
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(json.dumps({"type": "blob", "content": "x"}) + "\n", encoding="utf-8")
    one_error(run("report", str(only_bad)), "is not a run log")
    data = dataset(tmp_path, [BAKERY], [249])
    log = tmp_path / "run.jsonl"
    assert run("eval", str(data), "--model", "rules", "--out", str(log)).returncode == 0
    with log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"type": "blob", "content": "no hash"}) + "\n")
    report = run("report", str(log))
    assert report.returncode == 0 and "accuracy 1/1" in report.stdout, report.stderr


@pytest.mark.parametrize("args", [
    ["solve", BAKERY, "--model", "openai:gpt-4o"],
    ["formulate", BAKERY, "--model", "openai:gpt-4o"],
    ["eval", "whatever.jsonl", "--model", "openai:gpt-4o"],
])
def test_malformed_base_url_is_one_line(args):
    one_error(run(*args, "--base-url", "http://[::1"), "--base-url `http://[::1` is not a valid URL")


def test_malformed_base_url_from_the_environment_is_one_line():
    env = {"OPENAI_BASE_URL": "http://[::1", "OPENAI_API_KEY": "sk-test"}
    one_error(run("solve", BAKERY, "--model", "openai:gpt-4o", env=env), "OPENAI_BASE_URL `http://[::1`")
    one_error(run("eval", "whatever.jsonl", "--model", "openai:gpt-4o", env=env), "OPENAI_BASE_URL")
    assert run("solve", str(FURNITURE), env=env).returncode == 0  # not used, not checked


def test_eval_out_in_bad_places_is_one_line(tmp_path):
    data = dataset(tmp_path, [BAKERY], [249])
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    one_error(run("eval", str(data), "--model", "rules", "--out", str(tmp_path)), "is a folder")
    one_error(run("eval", str(data), "--model", "rules", "--out", str(afile / "run.jsonl")), "is a file, not a folder")
    one_error(run("eval", str(data), "--model", "rules", "--out", "/proc/no_such_dir/run.jsonl"),
              "cannot write the run log")
    if Path("/dev/full").exists():
        one_error(run("eval", str(data), "--model", "rules", "--out", "/dev/full"), "No space left on device")
    made = tmp_path / "new" / "deeper" / "run.jsonl"  # a missing folder is made
    assert run("eval", str(data), "--model", "rules", "--out", str(made)).returncode == 0 and made.is_file()


def test_report_html_in_bad_places_is_one_line(tmp_path):
    data = dataset(tmp_path, [BAKERY], [249])
    log = tmp_path / "run.jsonl"
    assert run("eval", str(data), "--model", "rules", "--out", str(log)).returncode == 0
    one_error(run("report", str(log), "--html", "/etc"), "--html /etc is a folder")
    if Path("/dev/full").exists():
        one_error(run("report", str(log), "--html", "/dev/full"), "cannot write --html /dev/full")
    good = run("report", str(log), "--html", str(tmp_path / "out" / "report.html"))
    assert good.returncode == 0 and (tmp_path / "out" / "report.html").is_file(), good.stderr


def test_a_lone_surrogate_fails_one_sample_not_the_run(tmp_path):
    data = tmp_path / "surrogate.jsonl"
    rows = [{"id": "a", "question": BAKERY, "answer": 249},
            {"id": "b", "question": "cakes \ud800 and pies: 3 and 4", "answer": 1},
            {"id": "c", "question": BAKERY, "answer": 249}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")  # ascii JSON escapes
    log = tmp_path / "run.jsonl"
    for workers in ("1", "3"):
        log.unlink(missing_ok=True)
        result = run("eval", str(data), "--model", "rules", "--out", str(log), "--workers", workers)
        assert result.returncode == 0, result.stderr
        assert "accuracy 2/3" in result.stdout
        records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        samples = {r["id"]: r for r in records if r.get("type") == "sample"}
        assert set(samples) == {"a", "b", "c"} and samples["b"]["correct"] is False
        assert samples["b"]["question_sha256"]


@pytest.mark.parametrize("args,fragment", [
    (["--workers", "0"], "--workers 0 must be at least 1"),
    (["--workers", "-3"], "--workers -3 must be at least 1"),
    (["--limit", "-1"], "--limit -1 must be at least 0"),
    (["--solver", ""], "--solver is empty"),
    (["--solver", "hihgs"], "unknown solver `hihgs`; did you mean `highs`?"),
    (["--solver", "pyomo:nonsense"], "Pyomo cannot find solver `nonsense`"),
    (["--time-limit", "-1"], "--time-limit -1 is not a positive"),
    (["--gap", "2"], "--gap 2 is not a relative gap"),
    (["--mode", "code", "--model", "rules"], "the rules formulator writes formulations, not scripts"),
])
def test_bad_eval_options_are_refused_up_front(tmp_path, args, fragment):
    data = dataset(tmp_path, [BAKERY], [249])
    log = tmp_path / "run.jsonl"
    one_error(run("eval", str(data), "--out", str(log), *args), fragment)
    assert not log.exists()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("args,fragment", [
    (["solve", "-f", "/dev/zero"], "is not a regular file"),
    (["check", "/dev/zero"], "is not a regular file"),
    (["report", "/dev/zero"], "is not a regular file"),
    (["eval", "/dev/zero", "--model", "rules"], "neither a regular file nor a folder"),
])
def test_endless_special_files_are_refused_not_read(args, fragment):
    one_error(run(*args), fragment)
