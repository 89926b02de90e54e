"""The command line as a user runs it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FURNITURE = ROOT / "formulate" / "examples" / "furniture.yaml"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "formulate", *args], capture_output=True, text=True, cwd=ROOT,
                          input=stdin, timeout=120)


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
