"""formulate.service and the contained runner behind both doors (no HTTP here)."""

from __future__ import annotations

import shutil

import pytest

from formulate.errors import FormulateError
from formulate.service import explain, load_path, load_text, solve
from formulate.web.runner import Busy, Limits, Runner, TooSlow
from tests.web_server import ROOT

EXAMPLES = ROOT / "formulate" / "examples"


def test_data_files_must_stay_beside_the_formulation(tmp_path):
    shutil.copy(EXAMPLES / "transportation_csv.yaml", tmp_path)
    for csv in EXAMPLES.glob("transportation_csv_*.csv"):
        shutil.copy(csv, tmp_path)
    inside = load_path(tmp_path / "transportation_csv.yaml")
    assert solve(inside)["solution"]["status"] == "optimal"
    outside = tmp_path / "sub"
    outside.mkdir()
    text = (tmp_path / "transportation_csv.yaml").read_text()
    (outside / "model.yaml").write_text(text.replace("file: transportation_csv_cost.csv",
                                                     "file: ../transportation_csv_cost.csv"))
    with pytest.raises(FormulateError, match="outside the formulation's folder"):
        load_path(outside / "model.yaml")


def test_text_cannot_set_its_own_base_folder():
    text = (EXAMPLES / "furniture.yaml").read_text().replace("meta: {", "meta: {_base_dir: /etc, ")
    assert "_base_dir: /etc" in text
    assert "_base_dir" not in load_text(text).meta


def test_a_path_must_name_a_formulation_file():
    with pytest.raises(FormulateError, match="is not a formulation file"):
        load_path("/etc/passwd")


def test_explain_in_words():
    text = "name: t\nvariables:\n  x: {lower: 0}\n  y: {lower: 0}\nobjective: {sense: minimize, expr: -x}\n"
    runaway = explain(load_text(text + "constraints:\n  c: y - x <= 1\n"))
    assert runaway["kind"] == "unbounded" and runaway["summary"] == "unbounded: x run away"
    assert "x (grows without limit)" in runaway["text"]
    optimal = explain(load_text(text.replace("expr: -x", "expr: x")))
    assert optimal["kind"] == "optimal" and optimal["summary"] == "optimal; objective 0; nothing to explain"


def test_concurrent_solves_are_capped():
    runner = Runner(Limits(max_concurrent=1, queue_seconds=0.1))
    runner._slots.acquire()  # another request holds the only slot
    try:
        with pytest.raises(Busy, match="busy"):
            runner.call("check", {"formulation": "name: t\nvariables:\n  x: {lower: 0}\n"})
    finally:
        runner._slots.release()
    assert runner.call("check", {"formulation": "name: t\nvariables:\n  x: {lower: 0}\n"})["ok"]


def test_a_request_past_its_wall_clock_limit_is_stopped():
    runner = Runner(Limits(request_seconds=0.3))
    slow = ("name: slow\nsets:\n  I: range(1, 3000)\n  J: range(1, 3000)\nvariables:\n  x: {index: [I, J], lower: 0}\n"
            "objective:\n  sense: minimize\n  expr: sum(x[i, j] for i in I for j in J)\n")
    with pytest.raises(TooSlow, match="0.3 s limit"):
        runner.call("solve", {"formulation": slow})


def test_the_web_runner_reads_no_paths():
    runner = Runner()
    with pytest.raises(FormulateError, match="reads no paths"):
        runner.call("solve", {"path": str(EXAMPLES / "furniture.yaml")})
    assert Runner(allow_path=True).call("solve", {"path": str(EXAMPLES / "furniture.yaml")})[
        "solution"]["objective"] == 1400


def test_every_module_the_fork_server_preloads_exists_and_the_tagger_is_loaded_there():
    """multiprocessing skips a preload module that fails to import, silently: a stale name would make every
    worker load the offline reader's tagger again."""
    import importlib

    from formulate.formulators.offline.tagger import default_tagger
    from formulate.web.runner import _PRELOAD

    for name in _PRELOAD:
        importlib.import_module(name)
    assert "formulate.web.warm" in _PRELOAD and default_tagger.cache_info().currsize == 1
