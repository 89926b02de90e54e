"""The JSON API of `formulate serve`, over real HTTP on 127.0.0.1 (a live server in a subprocess)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install 'formulate-opt[web]'")
pytest.importorskip("uvicorn", reason="the web extra is not installed")
pytest.importorskip("latex2mathml", reason="the web extra is not installed")

import httpx  # noqa: E402

from tests.web_server import ROOT, running_server  # noqa: E402

FURNITURE = (ROOT / "formulate" / "examples" / "furniture.yaml").read_text(encoding="utf-8")
BAKERY = ("A bakery makes muffins and cakes. Each muffin earns 3 dollars profit and each cake 8 dollars. A muffin "
          "uses 1 hour of oven time and a cake 2 hours; 40 oven hours are available. At most 15 cakes can be sold. "
          "How many of each should be made to maximize profit?")
INFEASIBLE = """\
name: clash
variables:
  x: {lower: 0}
  y: {lower: 0}
objective:
  sense: maximize
  expr: x + y
constraints:
  budget: x + y <= 4
  minimum_x: x >= 5
  cap_y: y <= 3
"""
WITH_READINGS = FURNITURE.replace("meta: {", "meta: {alternatives: [{reading: demand is capped at 30 a product, "
                                  "changes: {constraints: {demand: {forall: p in P, expr: 'x[p] <= 30'}}}}, "
                                  "wood may be bought], ", 1)
UNBOUNDED = """\
name: runaway
variables:
  x: {lower: 0}
  y: {lower: 0}
objective:
  sense: maximize
  expr: x + y
constraints:
  gap: x - y <= 4
"""


@pytest.fixture(scope="module")
def server():
    with running_server("--max-body", "200000", "--memory-mb", "1024") as base:
        yield base


def post(base: str, path: str, body: dict, **kw) -> httpx.Response:
    return httpx.post(base + path, json=body, timeout=120, **kw)


def get(base: str, path: str) -> httpx.Response:
    """A GET with room for a loaded machine (httpx's default 5 s is less than a first /api/config may take)."""
    return httpx.get(base + path, timeout=120)


def _without_times(data):
    if isinstance(data, dict):
        return {k: _without_times(v) for k, v in data.items() if k not in ("times", "latency_s", "seconds")}
    if isinstance(data, list):
        return [_without_times(v) for v in data]
    return data


def _cli_json(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FORMULATE_MODEL", None)
    out = subprocess.run([sys.executable, "-m", "formulate", "solve", *args, "--json"], capture_output=True,
                         text=True, env=env, cwd=ROOT, check=True)
    return json.loads(out.stdout)


def test_config_offers_the_offline_formulator_and_every_target(server):
    config = get(server, "/api/config").json()
    assert config["models"] == ["rules"]
    assert config["targets"] == ["pyomo", "pulp", "highspy", "gurobipy", "lp", "mps"]
    assert "highs" in config["solvers"]


def test_solve_yaml_returns_the_json_of_the_cli(server):
    response = post(server, "/api/solve", {"formulation": FURNITURE})
    assert response.status_code == 200
    data = response.json()
    assert data["solution"]["objective"] == pytest.approx(1400)
    assert data["solution"]["values"]["x"] == {"chair": 40.0, "table": 4.0}
    assert _without_times(data) == _without_times(_cli_json("formulate/examples/furniture.yaml"))


def test_solve_problem_text_formulates_offline_like_the_cli(server):
    data = post(server, "/api/solve", {"problem": BAKERY}).json()
    assert data["solution"]["objective"] == pytest.approx(150)
    assert data["formulator"]["formulator"] == "rules"
    assert _without_times(data) == _without_times(_cli_json(BAKERY))


def test_solve_needs_exactly_one_input(server):
    response = post(server, "/api/solve", {})
    assert response.status_code == 400
    assert "exactly one of `formulation`" in response.json()["error"]


def test_check_reports_every_error_in_one_line_each(server):
    broken = FURNITURE.replace("wood_available", "wod_available", 1)
    data = post(server, "/api/check", {"formulation": broken}).json()
    assert data["ok"] is False
    assert any("wood_available" in e and "did you mean" in e for e in data["errors"])
    good = post(server, "/api/check", {"formulation": FURNITURE}).json()
    assert good["ok"] and good["problem_class"] == "MILP" and "<math" in good["math"]["html"]


def test_verify_marks_the_iis_in_the_math(server):
    data = post(server, "/api/verify", {"formulation": INFEASIBLE}).json()
    assert data["solution"]["status"] == "infeasible"
    assert set(data["solution"]["iis"]) >= {"budget", "minimum_x"}
    assert any(f["kind"] == "infeasible" and "`budget`" in f["for_person"] for f in data["findings"])
    html = data["math"]["html"]
    assert 'data-name="budget" class="iis"' in html
    assert 'data-name="minimum_x" class="iis"' in html
    assert 'data-name="cap_y">' in html  # not part of the conflict


def test_verify_solves_the_other_readings(server):
    assert "alternatives" in WITH_READINGS
    data = post(server, "/api/verify", {"formulation": WITH_READINGS}).json()
    assert data["solution"]["objective"] == pytest.approx(1400)
    first, second = data["readings"]
    assert (first["reading"], first["objective"], first["differs"]) == ("demand is capped at 30 a product", 1300, True)
    assert (second["reading"], second["solved"]) == ("wood may be bought", False)


def test_a_reading_may_not_name_a_file(server):
    text = WITH_READINGS.replace("changes: {constraints:", "changes: {parameters: {profit: {file: /etc/passwd}}, "
                                 "constraints:", 1)
    assert "/etc/passwd" in text
    response = post(server, "/api/verify", {"formulation": text})
    assert response.status_code == 400 and "names a data `file`" in response.json()["error"]


def test_text_the_offline_formulator_cannot_read_fails_with_its_reason(server):
    data = post(server, "/api/formulate", {"problem": "Plan the best route for my summer holiday."}).json()
    assert data["status"] == "failed"
    assert data["error"].startswith("no usable formulation after 1 round(s): ")
    assert "--model" in data["error"] or "model" in data["error"]


def test_explain_names_the_variables_that_run_away(server):
    data = post(server, "/api/explain", {"formulation": UNBOUNDED}).json()
    assert data["kind"] == "unbounded" and data["status"] == "unbounded"
    assert data["summary"] == "unbounded: x, y run away"
    assert "y (grows without limit)" in data["text"] and "`gap`" in data["text"]
    infeasible = post(server, "/api/explain", {"formulation": INFEASIBLE}).json()
    assert infeasible["kind"] == "infeasible" and "`minimum_x`" in infeasible["text"]


@pytest.mark.parametrize(("target", "needle", "filename"), [
    ("pulp", "import pulp", "furniture_pulp.py"), ("lp", "wood_limit", "furniture.lp")])
def test_export(server, target, needle, filename):
    data = post(server, "/api/export", {"formulation": FURNITURE, "target": target}).json()
    assert data["filename"] == filename and needle in data["content"]


def test_errors_are_one_clear_line(server):
    unknown = post(server, "/api/export", {"formulation": FURNITURE, "target": "pulpp"})
    assert unknown.status_code == 400
    assert unknown.json()["error"].startswith("unknown export target `pulpp`; did you mean `pulp`?")
    missing = post(server, "/api/export", {"target": "pulp"})
    assert missing.status_code == 422 and missing.json()["error"].startswith("`formulation`: Field required")
    empty = post(server, "/api/verify", {"formulation": "  "})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    model = post(server, "/api/formulate", {"problem": BAKERY, "model": "replay:/etc/passwd"})
    assert model.status_code == 400 and "not offered by this server" in model.json()["error"]


def test_a_formulation_may_not_read_server_files(server):
    text = FURNITURE.replace("profit: {index: [P], values: {chair: 30, table: 50}}",
                             "profit: {index: [P], file: /etc/passwd}")
    assert "file: /etc/passwd" in text
    response = post(server, "/api/solve", {"formulation": text})
    assert response.status_code == 400
    assert response.json()["error"].startswith("parameter `profit` reads data from a file")
    assert "root" not in response.json()["error"]


def test_a_path_is_not_read_as_a_formulation(server):
    response = post(server, "/api/solve", {"formulation": str(ROOT / "formulate" / "examples" / "furniture.yaml")})
    assert response.status_code == 400
    assert "formulation must be a mapping" in response.json()["error"]


def test_request_size_limit(server):
    response = post(server, "/api/check", {"formulation": FURNITURE + "#" * 300_000})
    assert response.status_code == 413
    assert "larger than 200000 bytes" in response.json()["error"]


def test_memory_limit_stops_the_worker_not_the_server():
    huge = ("name: huge\nsets:\n  I: range(1, 400000000)\nvariables:\n  x: {index: [I], lower: 0}\n"
            "objective:\n  sense: minimize\n  expr: sum(x[i] for i in I)\n")
    # the grounder's own size limit would refuse this first; lift it so the worker's memory limit is what stops it
    with running_server("--memory-mb", "1024", env={"FORMULATE_MAX_ELEMENTS": str(10**10)}) as base:
        response = post(base, "/api/solve", {"formulation": huge})
        assert response.status_code == 400
        assert "memory limit" in response.json()["error"]
        assert post(base, "/api/solve", {"formulation": FURNITURE}).json()["solution"]["objective"] == 1400


def test_formulate_streams_rounds_then_the_result(server):
    with httpx.stream("POST", server + "/api/formulate/stream", json={"problem": BAKERY, "rounds": 2},
                      timeout=120) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = [(block.split("\n")[0][len("event: "):], json.loads(block.split("\n")[1][len("data: "):]))
              for block in text.split("\n\n") if block.startswith("event: ")]
    kinds = [k for k, _ in events]
    assert kinds[0] == "round" and kinds[-1] == "result"
    first = events[0][1]
    assert (first["round"], first["stage"], first["status"], first["objective"]) == (1, "ok", "optimal", 150)
    result = events[-1][1]
    assert result["status"] == "ok" and result["solution"]["objective"] == pytest.approx(150)
    assert "cakes <= 15" in result["yaml"] and "<math" in result["math"]["html"]


def replay_file(tmp_path: Path, problem: str) -> Path:
    """A recorded model: round 1 misspells a name (check error fed back), round 2 is right."""
    wrong = FURNITURE.replace("wood_available", "wod_available", 1)
    record = {"key": None, "problem": problem, "responses": [f"```yaml\n{wrong}```", f"```yaml\n{FURNITURE}```"]}
    path = tmp_path / "replay.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


def test_configured_model_rounds_stream_with_their_findings(tmp_path):
    problem = "Chairs and tables are made from wood; maximise profit."
    spec = f"replay:{replay_file(tmp_path, problem)}"
    with running_server("--model", spec) as base:
        assert get(base, "/api/config").json()["models"] == [spec, "rules"]
        with httpx.stream("POST", base + "/api/formulate/stream", json={"problem": problem, "rounds": 3},
                          timeout=120) as response:
            text = "".join(response.iter_text())
        rounds = [json.loads(line[len("data: "):]) for line in text.splitlines()
                  if line.startswith("data: ") and '"round"' in line and '"model"' not in line]
        assert [r["stage"] for r in rounds] == ["check_error", "ok"]
        assert "did you mean `wod_available`?" in rounds[0]["findings"][0]["for_person"]
        assert "did you mean `wod_available`?" in rounds[0]["feedback"]  # what went back to the model
        result = json.loads(text.split("event: result\ndata: ")[1].split("\n\n")[0])
        assert result["model"] == spec and result["solution"]["objective"] == pytest.approx(1400)
        one_round = post(base, "/api/formulate", {"problem": problem, "rounds": 1}).json()
        assert one_round["status"] == "draft" and "wod_available" in one_round["yaml"]
        assert one_round["error"].startswith("the formulation still has errors after 1 round(s): constraint "
                                             "`wood_limit`: name `wood_available` is not defined")


def test_openapi_lists_the_api(server):
    paths = get(server, "/openapi.json").json()["paths"]
    for path in ("/api/formulate", "/api/solve", "/api/check", "/api/export", "/api/verify"):
        assert path in paths


def test_bearer_token_required_when_set():
    with running_server("--token", "s3cret") as base:
        denied = post(base, "/api/solve", {"formulation": FURNITURE})
        assert denied.status_code == 401 and "Bearer" in denied.json()["error"]
        assert get(base, "/openapi.json").status_code == 401
        allowed = post(base, "/api/solve", {"formulation": FURNITURE}, headers={"Authorization": "Bearer s3cret"})
        assert allowed.json()["solution"]["objective"] == 1400
        assert get(base, "/").status_code == 200  # the page itself holds no data


def test_refuses_to_bind_off_loopback_without_a_token():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FORMULATE_TOKEN", None)
    out = subprocess.run([sys.executable, "-m", "formulate", "serve", "--host", "0.0.0.0"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: binding to 0.0.0.0 needs a bearer token: pass --token TOKEN or set FORMULATE_TOKEN "
        "(or bind to 127.0.0.1)"]


def test_port_zero_serves_on_the_port_it_prints(server):
    host, port = server.removeprefix("http://").split(":")
    assert host == "127.0.0.1" and 0 < int(port) < 65536
    assert get(server, "/api/config").status_code == 200


def test_a_port_in_use_is_one_line():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with socket.socket() as taken:  # held, bound and listening, for the whole test: no race
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "formulate", "serve", "--port", str(port)], capture_output=True,
                             text=True, env=env, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_static_page_needs_no_network():
    page = (Path(__file__).resolve().parents[1] / "formulate" / "web" / "static" / "index.html").read_text()
    assert "http://" not in page and "https://" not in page
