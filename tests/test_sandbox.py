"""The script sandbox, with real subprocesses: limits, scrubbed environment and containment."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from formulate.verify.sandbox import DEFAULT_MAX_PROCS, FALLBACK_MAX_PROCS, SandboxError, run_script
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
    name = f"formulate_escape_test_{os.getpid()}"  # this run's own names: another run may be testing beside it
    escapes = [Path("/tmp") / name, REPO / f"{name}.txt", Path("/var/tmp") / name]
    code = f"""
import os
for path in {[str(p) for p in escapes] + ["local.txt"]!r}:
    try:
        with open(path, "w") as fh:
            fh.write("escaped")
        print("wrote", path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
"""
    try:
        for p in escapes:
            p.unlink(missing_ok=True)
        result = run_script(code, timeout_s=20)
        assert result.returncode == 0, result.stderr
        assert "wrote local.txt" in result.stdout  # its own directory is writable
        _needs_containment(result)
        assert [p for p in escapes if p.exists()] == []
    finally:  # an uncontained run (skipped above) wrote them: leave nothing in the checkout or in /tmp
        for p in escapes:
            p.unlink(missing_ok=True)


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
    marker = f"600.{os.getpid():07d}"  # a sleep only this run starts (other runs may test beside it)
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

    def alive() -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(pid)
            except OSError:
                continue
        return found

    deadline = time.monotonic() + 30  # killed at once; a loaded machine may take a while to reap it
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = alive()  # without the sandbox's kill it would sleep on for 600 s
    for pid in left:
        os.kill(int(pid), signal.SIGKILL)
    assert not left


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
    mine = f"formulate-sbx-{os.getpid()}-*"  # other processes on this machine may be running sandboxes too
    before = set(Path(tempfile.gettempdir()).glob(mine))
    run_script("open('scratch.txt', 'w').write('x')\n", timeout_s=20)
    assert set(Path(tempfile.gettempdir()).glob(mine)) <= before


def test_without_containment_the_script_is_refused_unless_unsafe(tmp_path, caplog):
    marker = tmp_path / "ran.txt"
    code = f"open({str(marker)!r}, 'w').write('ran')\nprint('hi')\n"
    with pytest.raises(SandboxError) as info:
        run_script(code, timeout_s=20, isolate=False)
    message = str(info.value)
    assert "\n" not in message and "isolation disabled" in message and "--unsafe-no-sandbox" in message
    assert not marker.exists()  # refused before the script started
    with caplog.at_level("WARNING", logger="formulate.verify.sandbox"):
        result = run_script(code, timeout_s=20, isolate=False, unsafe_no_sandbox=True)
    assert result.ok and result.stdout == "hi\n" and marker.exists()
    assert result.contained is False and "resource limits only" in result.containment
    assert any("UNCONTAINED" in r.getMessage() for r in caplog.records)


CAPSH = shutil.which("capsh")
DROP_CAP = pytest.mark.skipif(
    CAPSH is None or os.geteuid() != 0, reason="needs root and capsh (libcap2-bin) to drop CAP_SYS_ADMIN"
)


def _without_cap_sys_admin(python_code: str) -> subprocess.CompletedProcess:
    """Run ``python -c python_code`` as root without CAP_SYS_ADMIN: the namespaces cannot be built."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(python_code)}"
    return subprocess.run([CAPSH, "--drop=cap_sys_admin", "--", "-c", command], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@DROP_CAP
def test_without_cap_sys_admin_code_mode_refuses_in_one_line(tmp_path):
    marker = tmp_path / "ran.txt"
    done = _without_cap_sys_admin(f"""
from formulate.verify.sandbox import SandboxError, run_script, sandbox_status
print("status", sandbox_status())
try:
    run_script("open({str(marker)!r}, 'w').write('x')", timeout_s=20)
except SandboxError as exc:
    print("refused:", exc)
""")
    assert done.returncode == 0, done.stderr
    assert "status (False" in done.stdout and "Operation not permitted" in done.stdout
    refusal = [line for line in done.stdout.splitlines() if line.startswith("refused:")]
    assert len(refusal) == 1 and "CAP_SYS_ADMIN" in refusal[0] and "--unsafe-no-sandbox" in refusal[0]
    assert not marker.exists()


@DROP_CAP
def test_without_cap_sys_admin_the_cli_refuses_or_warns(tmp_path):
    problem = "Make chairs and tables at least cost."
    script = "print('Status: Optimal')\nprint('Optimal objective value:', 12.5)\n"
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"key": None, "id": None, "problem": problem,
                                  "responses": [f"```python\n{script}```"] * 2}) + "\n")
    cli = "import sys; from formulate.cli import main; sys.argv = ['formulate'] + sys.argv[1:]; main()"
    base = ["solve", "--mode", "code", "--model", f"replay:{replay}", problem]
    command = f"import sys; sys.argv = ['x'] + {base!r}; exec({cli!r})"
    refused = _without_cap_sys_admin(command)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to run a model-written script")
    assert "objective" not in refused.stdout
    unsafe = _without_cap_sys_admin(command.replace("'solve',", "'solve', '--unsafe-no-sandbox',"))
    assert unsafe.returncode == 0, unsafe.stderr
    assert "warning: --unsafe-no-sandbox" in unsafe.stderr and "UNCONTAINED" in unsafe.stderr
    assert "objective: 12.5" in unsafe.stdout


_COUNT_TASKS = """
import threading, time
stop = threading.Event()
started = 0
try:
    for _ in range(200):
        t = threading.Thread(target=stop.wait, daemon=True)
        t.start()
        started += 1
except RuntimeError as exc:
    print("refused:", exc)
print("threads", started)
stop.set()
"""


def _threads(result) -> int:
    return int(result.stdout.split("threads")[-1])


def test_task_count_is_bounded_per_run():
    result = run_script(_COUNT_TASKS, timeout_s=30, max_procs=12, allow_packages=None)
    assert result.ok, result.stderr
    _needs_containment(result)
    assert "refused:" in result.stdout and _threads(result) < 12


def test_task_count_without_a_cgroup_falls_back_to_a_low_bound():
    result = run_script(_COUNT_TASKS, timeout_s=30, use_cgroup=False)
    assert result.ok, result.stderr
    _needs_containment(result)
    assert "no cgroup" in result.containment
    assert "refused:" in result.stdout and _threads(result) < FALLBACK_MAX_PROCS < DEFAULT_MAX_PROCS


_CHILDREN_ALLOCATE = """
import os, time
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(200 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(1)
        os._exit(0)
    kids.append(pid)
codes = [os.waitstatus_to_exitcode(os.waitpid(k, 0)[1]) for k in kids]
print("children", codes)
"""


def _has_run_cgroup() -> bool:
    from formulate.verify.cgroups import create_run_cgroup

    cgroup, _ = create_run_cgroup(64 << 20, 8)
    if cgroup is not None:
        cgroup.remove()
    return cgroup is not None


def test_children_together_are_bounded_by_the_total_memory_limit():
    """Four children of 200 MB each, under the 300 MB per-process limit, exceed a 450 MB total."""
    if not _has_run_cgroup():
        pytest.skip("no writable cgroup here: the total is bounded only by tasks x per-process limit")
    result = run_script(_CHILDREN_ALLOCATE, timeout_s=60, memory_mb=300, total_memory_mb=450)
    _needs_containment(result)
    codes = eval(result.stdout.split("children")[-1])  # noqa: S307 - our own output
    assert codes.count(-9) >= 1 and codes.count(0) <= 2, codes
    assert "exceeded the total memory limit of 450 MB" in result.stderr
    alone = run_script(_CHILDREN_ALLOCATE.replace("range(4)", "range(1)"), timeout_s=60, memory_mb=300,
                       total_memory_mb=450)
    assert alone.ok and "children [0]" in alone.stdout  # one child alone fits


def test_the_script_killed_for_the_total_is_a_memory_failure():
    """Files on the sandbox's tmpfs count too: 200 MB written plus 300 MB allocated exceed a 450 MB total."""
    if not _has_run_cgroup():
        pytest.skip("no writable cgroup here")
    code = """
with open("big.bin", "wb") as fh:
    for _ in range(200):
        fh.write(b"x" * (1024 * 1024))
block = bytearray(300 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
print("survived")
"""
    result = run_script(code, timeout_s=60, memory_mb=400, total_memory_mb=450, disk_mb=300)
    _needs_containment(result)
    assert "survived" not in result.stdout
    assert result.killed_reason == "memory" and "exceeded the total memory limit" in result.stderr


def test_the_run_cgroup_is_removed_afterwards():
    from formulate.verify.cgroups import _cgroup_mounts

    def leftovers() -> set[str]:
        found = set()
        for _, point, _, _ in _cgroup_mounts():
            found.update(str(p) for p in Path(point).rglob(f"formulate-sbx-{os.getpid()}-*"))  # ours only
        return found

    before = leftovers()
    result = run_script("import os\nif os.fork() == 0:\n    import time; time.sleep(30)\n", timeout_s=20)
    assert result.ok, result.stderr
    for _ in range(300):  # removed at once, or (on a loaded machine) soon after by a background thread
        if leftovers() <= before:
            break
        time.sleep(0.1)
    assert leftovers() <= before


def test_an_interpreter_under_tmp_is_bound_into_the_sandbox():
    """A venv (or tox / CI cache) under /tmp: the sandbox's own empty /tmp must not hide it."""
    venv = Path(tempfile.mkdtemp(prefix="formulate-test-venv-", dir="/tmp"))
    venv.chmod(0o755)  # as a checkout or a CI cache would be (mkdtemp makes it private)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        python = venv / "bin" / "python"
        result = run_script("import sys\nprint(sys.prefix)\n", timeout_s=30, python=str(python))
        assert result.ok, result.stderr
        assert result.stdout.strip() == str(venv)
        _needs_containment(result)
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def test_a_run_cgroup_left_by_a_killed_process_is_swept():
    from formulate.verify import cgroups

    cgroup, _ = cgroups.create_run_cgroup(64 << 20, 8)
    if cgroup is None:
        pytest.skip("no writable cgroup here")
    parents = [d.parent for d in cgroup.dirs]
    cgroup.remove()
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid is free now: the stale cgroups below belong to no living process
    stale = [p / f"formulate-sbx-{gone.pid}-0" for p in parents]
    for d in stale:
        d.mkdir()
    cgroups._swept.clear()
    assert run_script("print(1)\n", timeout_s=20).ok
    assert not any(d.exists() for d in stale)
