"""The script sandbox, with real subprocesses: limits, scrubbed environment and containment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from formulate.verify.sandbox import SandboxError, run_script
from tests.helpers import GUROBI_SCRIPT, PULP_SCRIPT, gurobi_available

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux")

REPO = Path(__file__).resolve().parents[1]


def _namespaces_work() -> bool:
    """Whether this machine lets us build the contained sandbox (then containment is required)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    args = [unshare, "--mount", "--pid", "--net", "--fork", "true"]
    if os.geteuid() != 0:
        args.insert(1, "--user")
    return subprocess.run(args, capture_output=True, check=False).returncode == 0


NAMESPACES = _namespaces_work()


def _needs_containment(result) -> None:
    if not result.contained:
        assert not NAMESPACES, f"namespaces work here but the sandbox was not contained: {result.containment}"
        pytest.skip(f"containment unavailable on this machine: {result.containment}")


def test_gurobipy_script_runs_and_prints_objective():
    reason = gurobi_available()
    if reason:
        pytest.skip(reason)
    result = run_script(GUROBI_SCRIPT, timeout_s=30)
    assert result.ok, result.stderr
    assert "Optimal objective value: 11.0" in result.stdout
    assert result.killed_reason is None


def test_pulp_script_runs_cbc_inside():
    result = run_script(PULP_SCRIPT, timeout_s=30)
    assert result.ok, result.stderr
    assert "Status: Optimal" in result.stdout
    assert "Total Cost = 25.5" in result.stdout


def test_endless_loop_is_stopped_by_the_wall_timeout():
    start = time.monotonic()
    result = run_script("while True:\n    pass\n", timeout_s=0.5)
    assert time.monotonic() - start < 6
    assert result.killed_reason == "timeout"
    assert not result.ok and result.returncode < 0


def test_cpu_limit_stops_a_busy_script():
    result = run_script("while True:\n    pass\n", timeout_s=20, cpu_s=1)
    assert result.killed_reason == "cpu"
    assert result.wall_s < 10


def test_huge_allocation_is_refused():
    result = run_script("b = bytearray(4 * 1024**3)\nprint('allocated')\n", timeout_s=20, memory_mb=1024)
    assert "allocated" not in result.stdout
    assert result.killed_reason == "memory"
    assert "MemoryError" in result.stderr


def test_environment_is_a_whitelist(monkeypatch):
    monkeypatch.setenv("FORMULATE_TEST_SECRET", "hunter2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    code = "import os\nprint(sorted(os.environ))\nprint(os.environ.get('FORMULATE_TEST_SECRET'), os.environ.get('OPENAI_API_KEY'))\n"
    result = run_script(code, timeout_s=20)
    assert result.ok, result.stderr
    assert "hunter2" not in result.stdout and "sk-test-secret" not in result.stdout
    names = set(eval(result.stdout.splitlines()[0]))  # noqa: S307 - our own output
    allowed = {"PATH", "HOME", "TMPDIR", "PWD", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "GRB_LICENSE_FILE"}
    allowed |= {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MALLOC_ARENA_MAX", "LC_CTYPE"}
    assert names <= allowed


def test_writes_outside_the_work_directory_are_contained():
    escape = Path("/tmp/formulate_escape_test")
    in_repo = REPO / "formulate_escape_test.txt"
    for p in (escape, in_repo):
        p.unlink(missing_ok=True)
    code = f"""
import os
for path in [{str(escape)!r}, {str(in_repo)!r}, "/var/tmp/formulate_escape_test", "local.txt"]:
    try:
        with open(path, "w") as fh:
            fh.write("escaped")
        print("wrote", path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
"""
    result = run_script(code, timeout_s=20)
    assert result.returncode == 0, result.stderr
    assert "wrote local.txt" in result.stdout  # its own directory is writable
    _needs_containment(result)
    assert not escape.exists()
    assert not in_repo.exists()
    assert not Path("/var/tmp/formulate_escape_test").exists()


def test_no_network_and_no_stdin():
    code = """
import socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("connected")
except OSError as exc:
    print("no network:", exc)
try:
    input()
except EOFError:
    print("stdin empty")
"""
    result = run_script(code, timeout_s=20)
    assert "stdin empty" in result.stdout
    _needs_containment(result)
    assert "no network" in result.stdout


def test_detached_children_die_with_the_sandbox():
    marker = "31.41592"
    code = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    os.execv("/bin/sleep", ["sleep", "{marker}"])
time.sleep(60)
"""
    result = run_script(code, timeout_s=1.0)
    assert result.killed_reason == "timeout"
    _needs_containment(result)
    time.sleep(0.2)
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                alive.append(pid)
        except OSError:
            continue
    assert not alive


def test_syntax_error_and_traceback_point_at_the_script():
    result = run_script("x = (1,\nprint(x)\n", timeout_s=20)
    assert result.returncode == 1 and result.killed_reason is None
    assert "SyntaxError" in result.stderr
    assert "script.py" in result.stderr and "_formulate_sandbox" not in result.stderr
    result = run_script("def f(v):\n    return 1 / v\n\nf(0)\n", timeout_s=20)
    assert result.stderr.startswith("Traceback") and "line 2, in f" in result.stderr
    assert "_formulate_sandbox" not in result.stderr


def test_output_is_capped_head_and_tail():
    result = run_script("print('x' * 300000)\nprint('THE END')\n", timeout_s=20, max_output_bytes=10000)
    assert result.truncated
    assert len(result.stdout) < 11000
    assert result.stdout.startswith("xxx") and "THE END" in result.stdout and "bytes omitted" in result.stdout


def test_package_gate_explains_itself():
    result = run_script("import pytest\n", timeout_s=20)
    assert "No module named 'pytest'" in result.stderr and "sandbox provides" in result.stderr
    assert run_script("import pytest\n", timeout_s=20, allow_packages=None).ok


def test_temporary_directory_is_removed():
    before = set(Path(tempfile.gettempdir()).glob("formulate-sbx-*"))
    run_script("open('scratch.txt', 'w').write('x')\n", timeout_s=20)
    assert set(Path(tempfile.gettempdir()).glob("formulate-sbx-*")) <= before


def test_uncontained_mode_says_so_and_can_be_refused():
    result = run_script("print('hi')\n", timeout_s=20, isolate=False)
    assert result.ok and result.stdout == "hi\n"
    assert result.contained is False and "isolation disabled" in result.containment
    with pytest.raises(SandboxError):
        run_script("print('hi')\n", timeout_s=20, isolate=False, require_containment=True)
