"""Dataset registry, checked downloads (from a loopback HTTP server), answer parsing and local files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formulate.datasets import (
    cached_path,
    dataset_names,
    fetch,
    get_spec,
    label_decimals,
    load_dataset,
    load_spec,
    parse_answer,
    registry,
)
from formulate.datasets.registry import DatasetSpec
from formulate.errors import DatasetError
from formulate.eval.cli import eval_app

RECORDS = [
    {"en_question": "A baker makes bread and cake. Maximise profit 3x + 5y with x + y <= 10.", "en_answer": "50"},
    {"en_question": "A shop sells pens and pads; minimise cost 2x + y with x + y >= 4.", "en_answer": "1,204.5"},
    {"en_question": "Plan with x >= 5 and x <= 3 at once.", "en_answer": "No Best Solution"},
]
DATA = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
SHA = hashlib.sha256(DATA).hexdigest()


class _Quiet(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path):
    """A loopback HTTP server serving tmp_path/srv; yields (root dir, base url, list of request paths)."""
    root = tmp_path / "srv"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("FORMULATE_DATA_DIR", str(path))
    monkeypatch.delenv("FORMULATE_DATASET_BASE_URL", raising=False)
    return path


def _serve(root: Path, spec: DatasetSpec, data: bytes) -> None:
    target = root / spec.repo / spec.commit / spec.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A URL nothing answers: its port stays bound (so no one else can listen on it) but never listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


# ---------------------------------------------------------------------------------------------- registry


def test_registry_has_every_source_with_pinned_urls():
    expected = {"nl4opt_orig", "nl4opt_sirl", "mamo_easylp_orig", "mamo_easylp_sirl_fixed", "mamo_complexlp_orig",
                "mamo_complexlp_sirl_fixed", "industryor_sirl_fixedv2", "nlp4lp_llmopt", "complexor_llmopt",
                "optibench_orig", "optmath_bench", "optmath_bench193", "nl4opt_resocratic_e", "industryor_llmopt",
                "logior", "nlp4lp_orthought", "complexor_orthought", "industryor_orthought", "c3_canonical",
                "c3_linguistic", "c3_objective", "c3_constraint"}
    assert set(dataset_names()) == expected
    spec = get_spec("nl4opt_orig")
    assert spec.url() == ("https://raw.githubusercontent.com/optsuite/OptMATH/"
                          "f15bbc4477c70db85ad148df8bcc1b780bca0f8c/benchmark/NL4OPT.json")
    assert (spec.format, spec.question_key, spec.answer_key, spec.records) == ("jsonl", "en_question", "en_answer", 245)
    assert get_spec("optibench_orig").format == "json"
    for s in registry().values():
        assert len(s.commit) == 40 and s.license
        assert s.format == "dir" or len(s.sha256 or "") == 64
        assert s.benchmark and s.label_version  # every entry names its label version
    assert get_spec("logior").folders[0] == "prob_001" and len(get_spec("logior").folders) == 92
    assert len(get_spec("industryor_orthought").folders) == 83
    assert get_spec("industryor").name == "industryor_sirl_fixedv2"


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(DatasetError, match="unknown dataset `nl4opt_orign`; did you mean `nl4opt_orig`"):
        get_spec("nl4opt_orign")


# ---------------------------------------------------------------------------------------------- download


def test_download_checks_sha_and_normalises(server, cache, monkeypatch):
    root, base, requests = server
    spec = dataclasses.replace(get_spec("nl4opt_orig"), sha256=SHA, records=3)
    _serve(root, spec, DATA)
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    path = fetch(spec)
    assert path == cache / "nl4opt_orig" / "NL4OPT.json" and path.read_bytes() == DATA
    assert requests == [f"/{spec.repo}/{spec.commit}/{spec.path}"]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]
    samples = load_spec(spec).samples
    assert [s.id for s in samples] == ["nl4opt_orig-0", "nl4opt_orig-1", "nl4opt_orig-2"]
    assert [s.answer for s in samples] == [50.0, 1204.5, None]
    assert [s.expected_status for s in samples] == ["optimal", "optimal", "infeasible"]
    assert samples[1].answer_raw == "1,204.5"


def test_cache_hit_needs_no_network(server, cache, monkeypatch, dead_url):
    root, base, requests = server
    spec = dataclasses.replace(get_spec("nl4opt_sirl"), sha256=SHA)
    _serve(root, spec, DATA)
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    fetch(spec)
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", dead_url)
    assert fetch(spec).read_bytes() == DATA
    assert len(requests) == 1


def test_checksum_mismatch_names_both_and_keeps_nothing(server, cache, monkeypatch):
    root, base, _ = server
    spec = get_spec("nl4opt_orig")  # the real pinned sha256; the served file is ours
    _serve(root, spec, DATA)
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    with pytest.raises(DatasetError) as info:
        fetch(spec)
    message = str(info.value)
    assert f"expected sha256 {spec.sha256}, got {SHA}" in message and "not kept" in message
    folder = cache / "nl4opt_orig"
    assert not folder.exists() or not any(folder.iterdir())


def test_bad_cached_file_is_fetched_again(server, cache, monkeypatch):
    root, base, requests = server
    spec = dataclasses.replace(get_spec("nl4opt_orig"), sha256=SHA)
    _serve(root, spec, DATA)
    target = cached_path(spec)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated")
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    assert fetch(spec).read_bytes() == DATA and len(requests) == 1


def test_offline_error_is_one_clear_line(cache, monkeypatch, dead_url):
    dead = dead_url
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", dead)
    spec = get_spec("nl4opt_orig")
    with pytest.raises(DatasetError) as info:
        load_dataset("nl4opt_orig")
    message = str(info.value)
    assert message.startswith(f"cannot download nl4opt_orig from {dead}/{spec.repo}/{spec.commit}/{spec.path}: ")
    assert message.endswith(f"download it by hand to {cache / 'nl4opt_orig' / 'NL4OPT.json'} or pass a local file")
    assert "\n" not in message


def test_http_404_is_reported(server, cache, monkeypatch):
    _, base, _ = server
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    with pytest.raises(DatasetError, match="cannot download nl4opt_orig from .*: HTTP 404"):
        fetch(get_spec("nl4opt_orig"))


def test_directory_release_fetches_only_question_and_answer(server, cache, monkeypatch):
    root, base, requests = server
    spec = dataclasses.replace(get_spec("logior"), folders=("prob_001", "prob_002"), records=2)
    for folder, answer in (("prob_001", {"status": "optimal", "obj": 537.0}), ("prob_002", {"status": "infeasible"})):
        d = root / spec.repo / spec.commit / spec.path / folder
        d.mkdir(parents=True)
        (d / "question.txt").write_text(f"Question of {folder}: minimise x with x >= 1.")
        (d / "answer.json").write_text(json.dumps(answer))
        (d / "code.py").write_text("print('reference script')")
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    samples = load_spec(spec).samples
    assert [(s.id, s.answer, s.expected_status) for s in samples] == [("prob_001", 537.0, "optimal"),
                                                                      ("prob_002", None, "infeasible")]
    assert not any(p.endswith(("code.py", "model.txt")) for p in requests)
    assert load_spec(spec).samples[0].question.startswith("Question of prob_001")  # cached now


C3_CLASSES = {"Knapsack": (5, 10, 20), "TSP": (4, 8)}  # made-up problems of C3-Bench's record layout
C3_PERTURBATION = {"c3_canonical": None, "c3_linguistic": ("linguistic_complexity", ("easy", "hard")),
                   "c3_objective": ("objective_type", ("min_cost",)), "c3_constraint": None}


def c3_records(name: str) -> list[dict]:
    """Records in C3-Bench's layout: class, size (a string), question, answer (a numeric string)."""
    field_, values = C3_PERTURBATION[name] or (None, ("",))
    records = []
    for cls, sizes in C3_CLASSES.items():
        for size in sizes:
            for value in values:
                unit = "items" if cls == "Knapsack" else "cities"
                record = {"experimental_type": name.removeprefix("c3_"), "problem_class": cls, "size": str(size),
                          "question": f"A {cls} instance with {size} {unit} ({value or 'plain'}); optimise it.",
                          "answer": f"{size * 100 + 0.5:.1f}"}
                if field_:
                    record[field_] = value
                records.append(record)
    return records


def serve_c3(root: Path) -> dict[str, DatasetSpec]:
    """Write the four C3 files under the pinned repo/commit/path of ``root``; specs carrying their sha256."""
    specs = {}
    for name in C3_PERTURBATION:
        spec = get_spec(name)
        records = c3_records(name)
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
        _serve(root, spec, data)
        specs[name] = dataclasses.replace(spec, sha256=hashlib.sha256(data).hexdigest(), records=len(records))
    return specs


def test_c3_bench_is_registered_with_its_rule_groups_and_pinned_files():
    pinned = {"c3_canonical": ("test_data/canonical/canonical.jsonl", "fdc70212", 1810),
              "c3_linguistic": ("test_data/perturbations/linguistic_complexity.jsonl", "513aece3", 1640),
              "c3_objective": ("test_data/perturbations/objective_perturbation.jsonl", "4b67402c", 1060),
              "c3_constraint": ("test_data/perturbations/constraint_augmentation.jsonl", "79170ad5", 1060)}
    for name, (path, sha, records) in pinned.items():
        spec = get_spec(name)
        assert (spec.repo, spec.commit) == ("Cardinal-Operations/OPTEngine", "d84a4b49187071debf16f50ba03a193776213edd")
        assert (spec.path, spec.sha256[:8], spec.records, spec.rule) == (path, sha, records, "rel2e-3")
        assert spec.group_keys[:2] == ("problem_class", "size") and spec.label_version == "generated"
    assert get_spec("c3_linguistic").group_keys[-1] == "linguistic_complexity"
    assert get_spec("c3").name == "c3_canonical"


def test_c3_files_download_from_the_pinned_path_and_keep_their_groups(server, cache, monkeypatch):
    root, base, requests = server
    specs = serve_c3(root)
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    for spec in specs.values():
        data = load_spec(spec)
        assert len(data.samples) == spec.records and requests[-1] == f"/{spec.repo}/{spec.commit}/{spec.path}"
        first = data.samples[0]
        assert (first.problem_class, first.meta["size"], first.answer) == ("Knapsack", "5", 500.5)
    hard = [s for s in load_spec(specs["c3_linguistic"]).samples if s.meta["linguistic_complexity"] == "hard"]
    assert len(hard) == 5 and {s.meta["size"] for s in hard} == {"5", "10", "20", "4", "8"}
    mismatched = dataclasses.replace(get_spec("c3_constraint"), records=None)  # the real pinned sha256
    with pytest.raises(DatasetError, match="checksum mismatch for c3_constraint"):
        fetch(mismatched, force=True)


def test_datasets_show_prints_provenance_label_version_and_issues():
    shown = CliRunner().invoke(eval_app, ["datasets", "show", "mamo_easylp_orig"])
    assert shown.exit_code == 0, shown.output
    lines = dict(line.split(None, 1) for line in shown.output.splitlines() if line.strip() and
                 not line.startswith(" "))
    assert lines["source"] == "FreedomIntelligence/Mamo" and lines["commit"] == get_spec("mamo_easylp_orig").commit
    assert lines["path"] == "data/optimization/Easy_LP/mamo_easy_lp.jsonl"
    assert lines["sha256"] == get_spec("mamo_easylp_orig").sha256 and lines["license"] == "CC-BY-SA-4.0"
    assert lines["label_version"] == "original" and lines["benchmark"] == "MAMO EasyLP"
    assert lines["label"].startswith("issues") and "SIRL" in shown.output
    c3 = CliRunner().invoke(eval_app, ["datasets", "show", "c3_objective"])
    assert "rel2e-3" in c3.output and "objective_type" in c3.output


def test_datasets_list_never_cuts_a_name(monkeypatch):
    for columns in ("40", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        listed = CliRunner().invoke(eval_app, ["datasets", "list"])
        assert listed.exit_code == 0
        first_words = {line.split()[0] for line in listed.output.splitlines() if line.strip()}
        assert set(dataset_names()) <= first_words, columns


# ---------------------------------------------------------------------------------------------- answers


@pytest.mark.parametrize(("raw", "value", "status"), [
    (8350, 8350.0, "optimal"),
    (12.5, 12.5, "optimal"),
    ("8350", 8350.0, "optimal"),
    ("1,234.5", 1234.5, "optimal"),
    ("$1,200", 1200.0, "optimal"),
    ("35 dollars", 35.0, "optimal"),
    ("-42.75", -42.75, "optimal"),
    ("1.5e3", 1500.0, "optimal"),
    ("No Best Solution", None, "infeasible"),
    ("infeasible", None, "infeasible"),
    ("Infeasible.", None, "infeasible"),
    (-9999, None, "infeasible"),
    ("-9999", None, "infeasible"),
    ("unbounded", None, "unbounded"),
    ({"status": "optimal", "obj": 537.0}, 537.0, "optimal"),
    ({"status": "infeasible"}, None, "infeasible"),
    ({"The number of vans": "4", "The minimum total cost": "1250.5"}, 1250.5, "optimal"),
    ("None", None, None),
    ("", None, None),
    (None, None, None),
    ("1,2", None, None),
    ("x = 3, y = 4", None, None),
    (True, None, None),
])
def test_answer_parsing(raw, value, status):
    parsed = parse_answer(raw)
    assert (parsed.value, parsed.status) == (value, status)


@pytest.mark.parametrize(("raw", "decimals"), [("8350", 0), ("12.50", 2), (8350, 0), (8350.0, 0), (3.25, 2),
                                               ("1,234.5", 1), ("No Best Solution", None)])
def test_label_decimals(raw, decimals):
    assert label_decimals(raw) == decimals


# ---------------------------------------------------------------------------------------------- local files


def test_local_jsonl_with_ids(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"id": "a", "question": "Maximise x with x <= 4.", "answer": 4.0, "answer_raw": "4"},
            {"id": "b", "question": "Minimise y with y >= 2.", "answer": "2.50", "category": "toy"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = load_dataset(path)
    assert data.name == "mine" and [s.id for s in data] == ["a", "b"]
    assert data.samples[0].answer_raw == "4" and data.samples[1].answer == 2.5
    assert data.samples[1].problem_class == "toy"
    assert len(load_dataset(str(path), limit=1)) == 1


def test_an_answer_status_marker_is_the_label_when_there_is_no_number(tmp_path):
    """The dev files write the source's "No Best Solution" as `answer: null, answer_status: no_best_solution`:
    an infeasible label, scored right when the solve ends infeasible (not "the label could not be read")."""
    from formulate.eval.scoring import get_rule

    path = tmp_path / "marked.jsonl"
    rows = [{"id": "a", "question": "Maximise x with x >= 3 and x <= 2.", "answer": None,
             "answer_status": "no_best_solution"},
            {"id": "b", "question": "Maximise x with x <= 4.", "answer": 4.0, "answer_status": "numeric"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    infeasible, numeric = load_dataset(path).samples
    assert (infeasible.answer, infeasible.expected_status, infeasible.answer_raw) == (None, "infeasible",
                                                                                    "no_best_solution")
    assert "answer_status" not in infeasible.meta and infeasible.meta.get("answer_note")
    assert (numeric.answer, numeric.expected_status) == (4.0, "optimal")
    rule = get_rule(None)
    assert rule.correct(None, "infeasible", infeasible.answer, infeasible.expected_status)
    assert not rule.correct(7.0, "optimal", infeasible.answer, infeasible.expected_status)


def test_local_json_array_and_json_lines_named_json(tmp_path):
    array = tmp_path / "arr.json"
    array.write_text(json.dumps([{"question": "Q1 text", "answer": 1}, {"question": "Q2 text", "answer": "two"}]))
    data = load_dataset(array)
    assert [s.id for s in data] == ["arr-0", "arr-1"] and data.samples[1].expected_status is None
    lines = tmp_path / "lines.json"  # trust the content, not the extension
    lines.write_text(json.dumps({"question": "Q", "answer": 3}) + "\n" + json.dumps({"question": "R", "answer": 4}))
    assert [s.answer for s in load_dataset(lines)] == [3.0, 4.0]


def test_local_folder_layout(tmp_path):
    for name, answer in (("p1", {"status": "optimal", "obj": 7}), ("p2", {"status": "unbounded"})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "question.txt").write_text(f"text {name}")
        (tmp_path / name / "answer.json").write_text(json.dumps(answer))
    data = load_dataset(tmp_path)
    assert [(s.id, s.answer, s.expected_status) for s in data] == [("p1", 7.0, "optimal"), ("p2", None, "unbounded")]


def test_local_file_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text_of_problem": "x"}\n')
    with pytest.raises(DatasetError, match="no question field"):
        load_dataset(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "a", "answer": 1}\n{"question": \n')
    with pytest.raises(DatasetError, match="broken.jsonl:2: not valid JSON"):
        load_dataset(broken)


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_datasets_list_show_and_fetch(server, cache, monkeypatch):
    root, base, _ = server
    runner = CliRunner()
    listed = runner.invoke(eval_app, ["datasets", "list", "--json"])
    assert listed.exit_code == 0
    assert {d["name"] for d in json.loads(listed.output)} == set(dataset_names())
    shown = runner.invoke(eval_app, ["datasets", "show", "mamo_easylp_orig"])
    assert shown.exit_code == 0 and "CC-BY-SA-4.0" in shown.output and "Question" in shown.output
    monkeypatch.setenv("FORMULATE_DATASET_BASE_URL", base)
    _serve(root, get_spec("nl4opt_orig"), DATA)
    fetched = runner.invoke(eval_app, ["datasets", "fetch", "nl4opt_orig"])
    assert fetched.exit_code == 2 and "checksum mismatch for nl4opt_orig" in fetched.output
    missing = runner.invoke(eval_app, ["datasets", "fetch", "nope"])
    assert missing.exit_code == 2 and "unknown dataset `nope`" in missing.output
