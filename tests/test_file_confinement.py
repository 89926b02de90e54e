"""`file:` tables are confined: a model's formulation cannot read local files or send them anywhere.

Every attack path of issue 15 (absolute paths, `..`, symlinks out, FIFOs, devices, folders, huge
files, lying .npy headers) is refused with one line that names the path and never quotes content;
the round trip through the CLI and a real HTTP model server shows no environment value leaves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import fake_openai_server
import numpy as np
import pytest
from fake_openai_server import chat_reply

from formulate.api import check, solve
from formulate.errors import DataFileError, LimitError
from formulate.ir.io import load
from formulate.ir.limits import limits

fake_openai = fake_openai_server.fake_openai
ROOT = Path(__file__).resolve().parents[1]


def model_text(path: str) -> str:
    return (f"sets: {{P: [a, b]}}\nparameters:\n  c: {{index: [P], file: '{path}'}}\n"
            "variables: {x: {index: [P]}}\nobjective: {sense: min, expr: 'sum(c[p] * x[p] for p in P)'}\n")


def write_model(folder: Path, path: str) -> Path:
    target = folder / "model.yaml"
    target.write_text(model_text(path), encoding="utf-8")
    return target


def only_error(report, kind: type = DataFileError) -> DataFileError:
    assert not report.ok
    error = report.errors[0]
    assert isinstance(error, kind), error
    assert "\n" not in str(error)
    return error


def long_env_values() -> list[str]:
    return [v for v in os.environ.values() if len(v) >= 12]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "ok.csv").write_text("P,value\na,1\nb,2\n", encoding="utf-8")
    return tmp_path


def test_a_file_inside_the_formulation_folder_is_read(folder: Path) -> None:
    assert solve(write_model(folder, "ok.csv")).objective == 0.0
    os.symlink(folder / "ok.csv", folder / "link.csv")
    assert check(write_model(folder, "link.csv")).ok  # a symlink that stays inside is fine


@pytest.mark.parametrize("path", ["/proc/self/environ", "/etc/shadow", "/etc/passwd", "../../../../../../etc/passwd",
                                  "../outside.csv"])
def test_paths_outside_the_folder_are_refused(folder: Path, path: str) -> None:
    (folder.parent / "outside.csv").write_text("P,value\na,1\nb,2\n", encoding="utf-8")
    sub = folder / "sub"
    sub.mkdir()
    error = only_error(check(write_model(sub, path)))
    assert f"file: {path}" in str(error) and ("outside the data folder" in str(error) or "does not exist" in str(error))
    for value in long_env_values():
        assert value not in str(error)


def test_a_symlink_out_of_the_folder_is_refused(folder: Path) -> None:
    os.symlink("/etc/passwd", folder / "innocent.csv")
    error = only_error(check(write_model(folder, "innocent.csv")))
    assert "outside the data folder" in str(error) and "root:" not in str(error)


def test_a_fifo_is_refused_without_blocking(folder: Path) -> None:
    os.mkfifo(folder / "pipe.csv")
    error = only_error(check(write_model(folder, "pipe.csv")))
    assert "FIFO" in str(error) and "pipe.csv" in str(error)


def test_a_device_is_refused(tmp_path: Path) -> None:
    error = only_error(check(model_text("zero"), data_dir="/dev"))
    assert "character device" in str(error)


def test_a_directory_is_refused(folder: Path) -> None:
    (folder / "tables.csv").mkdir()
    assert "a directory, not a regular file" in str(only_error(check(write_model(folder, "tables.csv"))))


def test_a_file_over_the_size_limit_is_refused(folder: Path) -> None:
    (folder / "big.csv").write_text("P,value\n" + "a,1\n" * 100, encoding="utf-8")
    with limits(max_file_bytes=200):
        error = only_error(check(write_model(folder, "big.csv")))
    assert "over the limit of 200" in str(error) and "FORMULATE_MAX_FILE_BYTES" in error.fix


def test_a_model_formulation_may_not_read_files_without_a_data_dir(folder: Path) -> None:
    error = only_error(check(model_text("ok.csv")))
    assert "not allowed" in str(error) and "--data-dir" in str(error)
    assert check(model_text("ok.csv"), data_dir=folder).ok
    assert "outside" in str(only_error(check(model_text("/etc/passwd"), data_dir=folder)))


def test_meta_cannot_move_the_data_folder(folder: Path) -> None:
    text = "meta: {_base_dir: /etc, _data_dir: /etc}\n" + model_text("passwd")
    assert "not allowed" in str(only_error(check(text)))


def test_file_content_never_appears_in_an_error(tmp_path: Path) -> None:
    """/proc/self/environ inside an allowed folder: read, rejected as a table, and not quoted."""
    error = only_error(check(model_text("environ"), data_dir="/proc/self"))
    assert "header" in str(error)
    for value in long_env_values():
        assert value not in str(error)
    secret = "s3cr3t-table-content-1234"
    (tmp_path / "leak.csv").write_text(f"{secret},value\n{secret},1\n", encoding="utf-8")
    (tmp_path / "rows.csv").write_text(f"P,value\n{secret},1\n", encoding="utf-8")
    (tmp_path / "ragged.csv").write_text(f"P,value\na,1,{secret}\n", encoding="utf-8")
    (tmp_path / "binary.npy").write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr': '" + secret.encode() + b"'}" + b" " * 60)
    (tmp_path / "latin.csv").write_bytes(b"P,value\n" + secret.encode() + b"\xff\xfe,1\n")
    for name in ("leak.csv", "rows.csv", "ragged.csv", "binary.npy", "latin.csv"):
        message = str(only_error(check(write_model(tmp_path, name))))
        assert secret not in message and name in message


def test_csv_nan_is_an_error_naming_the_row(folder: Path) -> None:
    (folder / "nan.csv").write_text("P,value\na,1\nb,nan\n", encoding="utf-8")
    message = str(check(write_model(folder, "nan.csv")).errors[0])
    assert "row 3" in message and "NaN" in message


def test_npy_header_claiming_a_huge_shape_is_refused_before_reading(folder: Path) -> None:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header = header + " " * (63 - len(header) % 64) + "\n"
    (folder / "huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
                                      + b"\0" * 64)
    message = str(only_error(check(write_model(folder, "huge.npy")), LimitError))
    assert "1,000,000,000,000 elements" in message and "huge.npy" in message
    np.save(folder / "short.npy", np.ones(2))
    (folder / "short.npy").write_bytes((folder / "short.npy").read_bytes()[:-8])
    assert "size does not match" in str(only_error(check(write_model(folder, "short.npy"))))
    np.save(folder / "good.npy", np.array([3.0, 4.0]))
    assert solve(write_model(folder, "good.npy")).objective == 0.0


def test_load_confines_to_the_file_folder_and_data_dir_overrides(folder: Path) -> None:
    formulation = load(write_model(folder, "ok.csv"))
    assert check(formulation).ok
    other = folder / "other"
    other.mkdir()
    assert "does not exist" in str(only_error(check(formulation, data_dir=other)))


SECRET = "sk-exfiltration-canary-7f3a9b2c"


def test_a_model_reply_cannot_send_the_environment_to_the_server(fake_openai, tmp_path: Path) -> None:
    """The issue's attack: the reply says `file: /proc/self/environ`; the repair message goes back to the server."""
    replies = [model_text(path) for path in ("/proc/self/environ", "../../../../../../proc/self/environ", "environ")]
    server = fake_openai([chat_reply(f"```yaml\n{text}```") for text in replies] * 2)
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": SECRET, "OPENAI_API_KEY": "sk-secret-test",
           "PYTHONPATH": str(ROOT), "FORMULATE_CACHE_DIR": str(tmp_path / "cache")}
    for extra in ([], ["--data-dir", str(tmp_path)]):
        done = subprocess.run([sys.executable, "-m", "formulate", "formulate", "Minimise the cost of two products.",
                               "--model", "openai:fake-model", "--base-url", server.url, "--no-cache", *extra],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert SECRET not in done.stdout + done.stderr
    assert server.count >= 6
    bodies = [json.dumps(r) for r in server.requests]
    repairs = "".join(bodies)
    assert "file: /proc/self/environ" in repairs  # the path is named in the repair message ...
    values = [SECRET, "sk-secret-test", *(v for v in env.values() if len(v) >= 12 and v not in (server.url, str(ROOT)))]
    for value in values:
        assert all(value not in body for body in bodies), f"an environment value reached the server: {value[:8]}..."


def test_with_data_dir_a_model_formulation_reads_its_table_there(fake_openai, folder: Path) -> None:
    from formulate.formulators.llm import LLMFormulator
    from formulate.llm import load_model

    server = fake_openai([chat_reply(f"```yaml\n{model_text('ok.csv')}```")] * 2)
    model = load_model("openai:fake-model", base_url=server.url, use_cache=False, api_key="sk-test", max_retries=0)
    refused = LLMFormulator(model, k_examples=0, max_repairs=0).formulate("two products")
    assert not refused.ok and "--data-dir" in refused.last_errors[0]
    attempt = LLMFormulator(model, k_examples=0, max_repairs=0, data_dir=folder).formulate("two products")
    assert attempt.ok, attempt.last_errors
    assert solve(attempt.formulation).objective == 0.0
