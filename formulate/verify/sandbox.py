"""Run model-written Python scripts in a contained subprocess and collect what they print.

The script never runs in the formulate process. ``run_script`` starts a small launcher (this very file,
run with ``python -I -S``, standard library only) in a new session; the launcher joins the run's cgroup,
builds the sandbox and then ``exec``s the interpreter on the script:

* **namespaces** (root directly; other users through an unprivileged user namespace): new mount, PID,
  network (loopback only), IPC and UTS namespaces. The whole mount tree is made read-only and nosuid;
  fresh size-limited tmpfs mounts cover ``/tmp`` and ``/dev/shm``; ``/run`` (host sockets) is replaced
  by an empty one; ``/root`` and the invoking user's home are hidden under empty tmpfs mounts. The
  interpreter's prefix, base prefix and site-packages are bound back read-only wherever they are
  (under ``/tmp`` or a hidden home included). The script runs in ``/tmp/work`` (on that tmpfs) with
  ``no_new_privs``, as a uid of its own when started as root (kernel uid 0 without capabilities would
  still own most of the system). When the launcher dies, the PID namespace dies with it, so ``setsid``
  cannot escape the wall timeout.
* **totals**: a cgroup per run (:mod:`formulate.verify.cgroups`: v2 ``memory.max``/``pids.max``, or the
  v1 memory and pids hierarchies) bounds the memory and the task count of all the script's processes
  together; without a writable cgroup, ``RLIMIT_NPROC`` (per run: the run's own uid or user namespace)
  bounds the task count to :data:`FALLBACK_MAX_PROCS`, and the per-namespace ``pid_max`` (Linux >= 6.14)
  applies too.
* **fails closed**: when the namespaces cannot be built (e.g. a container without ``CAP_SYS_ADMIN`` and
  without user namespaces), the script is not run and :class:`SandboxError` says why and what is
  needed. Only ``unsafe_no_sandbox=True`` (the CLI's ``--unsafe-no-sandbox``) runs it anyway, with
  resource limits only, logging a warning on every run; the result says ``contained=False``.

Always: scrubbed environment (a whitelist), no stdin, ``RLIMIT_CPU``, ``RLIMIT_AS``, ``RLIMIT_FSIZE``, no
core files, a wall timeout that kills the whole process group, and stdout/stderr capped in memory.
A plain ``unshare --user`` as root is *not* containment: the kernel uid stays 0 and keeps owner access to
every root-owned file, which is why the root path drops to an unprivileged uid instead.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Address-space limit. Measured VmPeak: gurobipy model ~100 MB, pyomo ~120 MB, numpy+scipy ~250 MB (one
#: BLAS thread); 2 GiB leaves room for real models and thread stacks while stopping runaway allocations.
DEFAULT_MEMORY_MB = 2048
#: Size of the sandbox's tmpfs (its working directory and /tmp) and the largest file it may write.
DEFAULT_DISK_MB = 256
#: Most tasks (threads count) all of the script's processes may run at once (the run's cgroup).
DEFAULT_MAX_PROCS = 64
#: The task bound without a writable cgroup (``RLIMIT_NPROC`` of the run's own uid or user namespace).
FALLBACK_MAX_PROCS = 32
#: Memory all of the script's processes may use together (the run's cgroup), tmpfs files included.
DEFAULT_TOTAL_MEMORY_MB = 4096
#: Bytes kept from each of stdout and stderr (head and tail; the middle is dropped and marked).
DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
#: Third-party top-level packages a script may import (the standard library is always allowed).
DEFAULT_ALLOWED_PACKAGES: tuple[str, ...] = (
    "gurobipy", "coptpy", "pulp", "pyomo", "highspy", "pyscipopt", "mip", "ortools", "docplex", "cvxpy",
    "cvxopt", "scipy", "numpy", "pandas", "networkx", "sympy",
)  # fmt: skip

#: Environment variables passed through from the parent when set (no secrets: paths and locale only).
PASS_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "GRB_LICENSE_FILE")
#: Root-started scripts run as ``SANDBOX_UID_BASE + launcher pid``: a uid of their own that owns no file,
#: so ``RLIMIT_NPROC`` counts this run's processes only.
SANDBOX_UID_BASE = 1_800_000_000
SANDBOX_WORKDIR = "/tmp/work"
SCRIPT_NAME = "script.py"

KilledReason = str  # None | "timeout" | "cpu" | "memory" | "signal"
_MEMORY_MARKERS = (
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "Out of memory",
    "out of memory",
)


try:
    from formulate.errors import FormulateError as _ErrorBase
except ImportError:  # run as the launcher (python -I -S): only the standard library is importable
    _ErrorBase = RuntimeError  # type: ignore[misc,assignment]


class SandboxError(_ErrorBase):
    """The sandbox could not be set up as required (not an error of the script); ``why`` is the cause."""

    def __init__(self, message: str, why: str = "") -> None:
        super().__init__(message)
        self.why = why or message


@dataclass
class SandboxResult:
    """What a sandboxed script did.

    ``returncode`` is negative (``-signal``) when the script died from a signal. ``killed_reason`` is None
    when the script ended on its own, else why it was stopped: ``"timeout"`` (wall clock), ``"cpu"``
    (CPU-time limit), ``"memory"`` (address-space limit: MemoryError or a failed allocation) or
    ``"signal"`` (any other signal). ``contained`` tells whether the filesystem/network containment was
    in force, ``containment`` how (or why not).
    """

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    killed_reason: KilledReason | None = None
    contained: bool = False
    containment: str = ""
    cpu_s: float | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the script exited with status 0 on its own."""
        return self.returncode == 0 and self.killed_reason is None


def run_script(
    code: str,
    *,
    timeout_s: float = 30,
    cpu_s: float | None = None,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    python: str = sys.executable,
    allow_packages: Collection[str] | None = DEFAULT_ALLOWED_PACKAGES,
    disk_mb: int = DEFAULT_DISK_MB,
    max_procs: int = DEFAULT_MAX_PROCS,
    total_memory_mb: int | None = DEFAULT_TOTAL_MEMORY_MB,
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
    env: Mapping[str, str] | None = None,
    isolate: bool = True,
    use_cgroup: bool = True,
    unsafe_no_sandbox: bool = False,
) -> SandboxResult:
    """Run ``code`` as ``__main__`` of a fresh interpreter in the sandbox and wait for it.

    ``cpu_s`` defaults to twice ``timeout_s`` (solvers use several threads); ``memory_mb`` bounds each
    process's address space and ``total_memory_mb`` all of them together (None lifts either). The
    task count is bounded by ``max_procs`` in a cgroup, or :data:`FALLBACK_MAX_PROCS` without one
    (``use_cgroup=False`` forces that path). ``allow_packages`` lists the third-party top-level
    packages the script may import (None: any); it is a courtesy gate that gives the model a clear
    error, not a security boundary. ``env`` adds variables to the whitelisted environment.

    When the sandbox cannot be contained (``isolate=False`` forces that), :class:`SandboxError` is
    raised and the script is not run, unless ``unsafe_no_sandbox`` is set: then it runs with resource
    limits only and a warning is logged.
    """
    cpu_limit = float(cpu_s) if cpu_s is not None else max(2.0 * float(timeout_s), 1.0)
    total = None if total_memory_mb is None else max(int(total_memory_mb), int(memory_mb or 0))
    config = {
        "python": python,
        "cpu_s": cpu_limit,
        "memory_mb": memory_mb,
        "total_memory_mb": total,
        "disk_mb": disk_mb,
        "max_procs": max(int(max_procs), 1),
        "fallback_procs": max(min(int(max_procs), FALLBACK_MAX_PROCS), 1),
        "use_cgroup": use_cgroup,
        "allow": "*" if allow_packages is None else ",".join(sorted(set(allow_packages))),
        "isolate": isolate,
        "require_containment": not unsafe_no_sandbox,
        "hide": _hidden_dirs(),
        "reveal": _python_paths(python),
    }
    child_env = _scrubbed_env(python, env)
    result, setup_failed = _run_once(code, config, child_env, timeout_s, max_output_bytes)
    if setup_failed:
        if not unsafe_no_sandbox:
            raise SandboxError(refusal_message(result.containment), result.containment)
        # the namespace setup failed part-way: run again without it, and say so in the result
        config["isolate"] = False
        first = result.containment
        result, _ = _run_once(code, config, child_env, timeout_s, max_output_bytes)
        result.containment = f"{first}; resource limits only"
    if not result.contained:
        log.warning("--unsafe-no-sandbox: the script ran UNCONTAINED (%s)", result.containment)
    return result


def refusal_message(why: str) -> str:
    """One line: the sandbox is unavailable, why, and what would make it available."""
    return (
        f"refusing to run a model-written script: the sandbox is unavailable ({why}); it needs root with "
        "CAP_SYS_ADMIN or unprivileged user namespaces (kernel.unprivileged_userns_clone=1, no seccomp/"
        "AppArmor block on unshare); pass --unsafe-no-sandbox (API: unsafe_no_sandbox=True) to run "
        "scripts uncontained with resource limits only"
    )


@functools.lru_cache(maxsize=4)
def sandbox_status(python: str = sys.executable) -> tuple[bool, str]:
    """Whether the contained sandbox can be built here (probed once per interpreter), and how or why not."""
    try:
        result = run_script("", timeout_s=30, python=python, unsafe_no_sandbox=False)
    except SandboxError as exc:
        return False, exc.why
    return result.contained, result.containment


def _run_once(
    code: str, config: dict, child_env: dict[str, str], timeout_s: float, max_output_bytes: int
) -> tuple[SandboxResult, bool]:
    """One launcher run; the flag is True when the sandbox setup failed and the script did not run."""
    from formulate.verify.cgroups import create_run_cgroup

    cgroup = None
    if config["use_cgroup"]:
        total = config["total_memory_mb"]
        cgroup, why = create_run_cgroup(None if total is None else int(total) << 20, config["max_procs"])
        if cgroup is None:
            log.debug("sandbox without a cgroup: %s", why)
    config = dict(
        config,
        cgroup_procs=cgroup.procs_files if cgroup else [],
        cgroup=cgroup.describe() if cgroup else "",
    )
    host_dir = tempfile.mkdtemp(prefix=f"formulate-sbx-{os.getpid()}-")
    start = time.monotonic()
    try:
        script_path = os.path.join(host_dir, SCRIPT_NAME)
        with open(script_path, "w", encoding="utf-8") as fh:
            fh.write(
                code
            )  # the directory is private (0700); the launcher reads it before dropping privileges
        status_r, status_w = os.pipe()
        launch_cfg = dict(config, host_dir=host_dir, status_fd=status_w)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), "--launch", json.dumps(launch_cfg)],
                cwd=host_dir,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(status_w,),
            )
        except BaseException:
            os.close(status_r)
            raise
        finally:
            os.close(status_w)
        out, err, status = _Capture(max_output_bytes), _Capture(max_output_bytes), _Capture(1 << 16)
        readers = [
            _reader(proc.stdout.fileno(), out),  # type: ignore[union-attr]
            _reader(proc.stderr.fileno(), err),  # type: ignore[union-attr]
            _reader(status_r, status),
        ]
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:  # on timeout, on an interrupt, and to sweep stragglers in the fallback mode
            _kill_group(proc.pid)
            if cgroup is not None:
                cgroup.kill()
            proc.wait()
        for t in readers:
            t.join(timeout=2.0)
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        os.close(status_r)
        wall = time.monotonic() - start
        oom_kills = cgroup.oom_kills() if cgroup is not None else 0
        return _result(proc.returncode, out, err, status, wall, timed_out, config, oom_kills)
    finally:
        shutil.rmtree(host_dir, ignore_errors=True)
        if cgroup is not None:
            cgroup.remove()


# ----------------------------------------------------------------------------------------------- parent side


class _Capture:
    """Collect a byte stream, keeping the first and last ``limit // 2`` bytes."""

    def __init__(self, limit: int) -> None:
        self.half = max(limit // 2, 1)
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_len = 0
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail.append(chunk)
        self.tail_len += len(chunk)
        while self.tail_len > self.half:
            extra = self.tail_len - self.half
            first = self.tail[0]
            if len(first) <= extra:
                self.tail.popleft()
                self.tail_len -= len(first)
                self.dropped += len(first)
            else:
                self.tail[0] = first[extra:]
                self.tail_len -= extra
                self.dropped += extra

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes omitted ...]\n".encode() if self.dropped else b""
        return (bytes(self.head) + middle + b"".join(self.tail)).decode("utf-8", errors="replace")


def _reader(fd: int, sink: _Capture) -> threading.Thread:
    def pump() -> None:
        try:
            while chunk := os.read(fd, 65536):
                sink.add(chunk)
        except OSError:
            pass

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _scrubbed_env(python: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    """A whitelist environment: PATH, locale, single-threaded BLAS; HOME/TMPDIR are set by the launcher."""
    path = os.environ.get("PATH", os.defpath)
    py_dir = os.path.dirname(os.path.abspath(python))
    env = {
        "PATH": f"{py_dir}{os.pathsep}{path}" if py_dir not in path.split(os.pathsep) else path,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
    env.update({k: os.environ[k] for k in PASS_ENV if k in os.environ})
    env.update(extra or {})
    return env


def _hidden_dirs() -> list[str]:
    """Directories likely to hold secrets, hidden from the script (``/root`` and the caller's home)."""
    dirs = {"/root", os.path.expanduser("~")}
    try:
        import pwd

        dirs.add(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, ImportError):
        pass
    system = {
        "/",
        "/tmp",
        "/var",
        "/var/tmp",
        "/usr",
        "/etc",
        "/opt",
        "/bin",
        "/lib",
        "/srv",
        "/home",
        "/work",
    }
    return sorted(
        d
        for d in (os.path.realpath(d) for d in dirs if d)
        if d not in system
        and not d.startswith(("/tmp/", "/proc", "/sys", "/dev", "/usr/"))
        and os.path.isdir(d)
    )


def _python_paths(python: str) -> list[str]:
    """Directories the interpreter needs to read (bound back read-only when inside a hidden directory)."""
    paths = {os.path.dirname(os.path.dirname(os.path.abspath(python)))}
    paths.add(os.path.dirname(os.path.dirname(os.path.realpath(python))))
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        paths.update({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
        paths.update(
            p for p in sys.path if p and os.path.isdir(p) and ("-packages" in p or p.startswith(sys.prefix))
        )
    return sorted(os.path.realpath(p) for p in paths if p and os.path.isdir(p))


def _result(
    returncode: int,
    out: _Capture,
    err: _Capture,
    status: _Capture,
    wall: float,
    timed_out: bool,
    config: dict,
    oom_kills: int = 0,
) -> tuple[SandboxResult, bool]:
    events: dict[str, dict] = {}
    for line in status.text().splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        events[ev.get("event", "")] = ev
    setup = events.get("containment", {})
    contained = bool(setup.get("contained", False))
    detail = str(setup.get("detail", "launcher did not report"))
    stderr = err.text()
    cpu_limit = float(config["cpu_s"])
    done = events.get("exit")
    cpu_used = None
    if done is not None:
        returncode = int(done["returncode"])
        cpu_used = float(done.get("cpu_s", 0.0))
    reason: str | None = None
    if timed_out:
        reason = "timeout"
        returncode = -signal.SIGKILL
    elif returncode < 0:
        sig = -returncode
        near_cpu_limit = cpu_used is not None and cpu_used >= cpu_limit - 0.5
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and near_cpu_limit):
            reason = "cpu"
        elif _memory_failure(stderr):
            reason = "memory"
        else:
            reason = "signal"
    elif returncode != 0 and _memory_failure(stderr):
        reason = "memory"
    if oom_kills and reason in (None, "signal") and (returncode != 0 or reason):
        reason = "memory"
    if oom_kills:
        stderr += (
            f"\nsandbox: {oom_kills} process(es) killed: the script's processes together exceeded the "
            f"total memory limit of {config['total_memory_mb']} MB\n"
        )
    refused = "refused" in events
    result = SandboxResult(
        returncode=returncode,
        stdout=out.text(),
        stderr=stderr,
        wall_s=wall,
        killed_reason=reason,
        contained=contained,
        containment=detail,
        cpu_s=cpu_used,
        truncated=bool(out.dropped or err.dropped),
    )
    return result, refused


def _memory_failure(stderr: str) -> bool:
    tail = [line for line in stderr.strip().splitlines()[-3:] if line.strip()]
    return any(marker in line for line in tail for marker in _MEMORY_MARKERS)


# ------------------------------------------------------------------------------------- launcher (child side)
# Everything below runs in the launcher process (``python -I -S sandbox.py --launch CONFIG``): standard
# library only, and no logging (its stdout/stderr are the script's).

_BOOTSTRAP = r"""
def _formulate_sandbox_main():
    import sys
    script, allowed = sys.argv[1], sys.argv[2]
    sys.argv = [script]
    sys.stdout.reconfigure(line_buffering=True)
    if allowed != "*":
        ok = set(allowed.split(",")) | set(sys.stdlib_module_names) | set(sys.builtin_module_names)
        listed = ", ".join(sorted(set(allowed.split(","))))

        class Gate:
            def find_spec(self, name, path=None, target=None):
                if path is not None or name in ok:
                    return None
                frame = sys._getframe(1)
                while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
                    frame = frame.f_back
                if frame is not None and frame.f_code.co_filename == script:
                    raise ModuleNotFoundError(
                        f"No module named {name!r} (the sandbox provides the standard library and: {listed})",
                        name=name,
                    )
                return None

        sys.meta_path.insert(0, Gate())
    with open(script, "rb") as fh:
        source = fh.read()
    main = sys.modules["__main__"].__dict__
    main.pop("_formulate_sandbox_main", None)
    main["__file__"] = script
    try:
        exec(compile(source, script, "exec"), main)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        kind, value, tb = sys.exc_info()
        tb = None if isinstance(value, SyntaxError) or tb is None else tb.tb_next  # hide this frame
        sys.excepthook(kind, value.with_traceback(tb), tb)
        sys.exit(1)


_formulate_sandbox_main()
"""

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MOUNT_ATTR_RDONLY, _MOUNT_ATTR_NOSUID = 0x1, 0x2
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture that has it
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38


class _Launcher:
    """Builds the sandbox in the launcher process and execs the script; reports on ``status_fd``."""

    def __init__(self, config: dict, status_fd: int) -> None:
        import ctypes

        self.ctypes = ctypes
        self.cfg = config
        self.status_fd = status_fd
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.root = os.geteuid() == 0
        self.uid = SANDBOX_UID_BASE + os.getpid()  # the root path's own unprivileged uid for this run
        self.notes: list[str] = []
        self.in_cgroup = False

    # -- plumbing
    def report(self, event: str, **fields: object) -> None:
        try:
            os.write(self.status_fd, (json.dumps({"event": event, **fields}) + "\n").encode())
        except OSError:
            pass

    def _check(self, rc: int, what: str) -> None:
        if rc != 0:
            errno = self.ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    def prctl(self, option: int, arg: int) -> None:
        c = self.ctypes
        self._check(
            self.libc.prctl(c.c_int(option), c.c_ulong(arg), c.c_ulong(0), c.c_ulong(0), c.c_ulong(0)),
            "prctl",
        )

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
    ) -> None:
        c = self.ctypes
        enc = lambda s: None if s is None else s.encode()  # noqa: E731
        rc = self.libc.mount(enc(source), enc(target), enc(fstype), c.c_ulong(flags), enc(data))
        self._check(rc, f"mount {target}")

    def mount_setattr_recursive(self, path: str, attr_set: int) -> None:
        c = self.ctypes

        class MountAttr(c.Structure):
            _fields_ = [
                ("attr_set", c.c_uint64),
                ("attr_clr", c.c_uint64),
                ("propagation", c.c_uint64),
                ("userns_fd", c.c_uint64),
            ]

        attr = MountAttr(attr_set, 0, 0, 0)
        rc = self.libc.syscall(
            c.c_long(_SYS_MOUNT_SETATTR), c.c_int(_AT_FDCWD), path.encode(), c.c_uint(_AT_RECURSIVE),
            c.byref(attr), c.c_size_t(c.sizeof(attr)),
        )  # fmt: skip
        self._check(rc, f"mount_setattr {path}")

    # -- main
    def join_cgroup(self) -> None:
        """Move this launcher (and so everything it starts) into the run's cgroup."""
        try:
            for path in self.cfg["cgroup_procs"]:
                with open(path, "w") as fh:
                    fh.write(str(os.getpid()))
        except OSError as exc:
            self.notes.append(f"could not join the cgroup ({exc.strerror})")
            return
        self.in_cgroup = bool(self.cfg["cgroup_procs"])

    def limits_note(self) -> str:
        if self.in_cgroup:
            return self.cfg["cgroup"]
        return f"no cgroup: {self.cfg['fallback_procs']} tasks (RLIMIT_NPROC), no total memory bound"

    def run(self) -> None:
        cfg = self.cfg
        self.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        self.join_cgroup()
        with open(os.path.join(cfg["host_dir"], SCRIPT_NAME), "rb") as fh:
            source = fh.read()
        if cfg["isolate"]:
            try:
                self.enter_namespaces()
            except OSError as exc:
                self.fallback(f"namespaces unavailable ({exc})")
                return
            self.supervise(source)
        else:
            self.fallback("isolation disabled by the caller")

    def fallback(self, detail: str) -> None:
        if self.cfg["require_containment"]:
            self.report("containment", contained=False, detail=detail)
            self.report("refused")
            os._exit(126)
        self.report("containment", contained=False, detail=f"{detail}; resource limits only, {self.limits_note()}")
        self.exec_script(self.cfg["host_dir"], drop_privileges=False)

    def enter_namespaces(self) -> None:
        flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
        if self.root:
            self._check(self.libc.unshare(flags), "unshare")
            return
        uid, gid = os.geteuid(), os.getegid()
        self._check(self.libc.unshare(flags | _CLONE_NEWUSER), "unshare")
        with open("/proc/self/setgroups", "w") as fh:
            fh.write("deny")
        with open("/proc/self/uid_map", "w") as fh:
            fh.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as fh:
            fh.write(f"{gid} {gid} 1")

    def supervise(self, source: bytes) -> None:
        """Fork PID 1 of the new namespace; it sets up mounts, runs the script as PID 2 and reaps."""
        pid1 = os.fork()
        if pid1 == 0:
            try:
                self.init_process(source)
            except BaseException as exc:  # noqa: BLE001 - must never return into the launcher
                self.report("containment", contained=False, detail=f"sandbox setup failed: {exc}")
                self.report("refused")
                os._exit(126)
            os._exit(0)
        _, status = os.waitpid(pid1, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)

    def init_process(self, source: bytes) -> None:
        self.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        pids = self.limit_pids()
        self.setup_mounts(source)
        how = "namespaces (mount, pid, net, ipc, uts), read-only root, tmpfs /tmp"
        how += f", uid {self.uid}" if self.root else ", user namespace"
        how += f", {self.limits_note()}{pids}" + "".join(f", {note}" for note in self.notes)
        self.report("containment", contained=True, detail=how)
        child = os.fork()
        if child == 0:
            self.exec_script(SANDBOX_WORKDIR, drop_privileges=self.root)
        while True:  # reap everything; stop when the script's process ends
            pid, status, usage = os.wait4(-1, 0)
            if pid == child:
                self.report(
                    "exit",
                    returncode=os.waitstatus_to_exitcode(status),
                    cpu_s=usage.ru_utime + usage.ru_stime,
                )
                return

    def limit_pids(self) -> str:
        if not self.root:
            return ""
        release = os.uname().release.split("-")[0].split(".")
        try:
            per_namespace = (int(release[0]), int(release[1])) >= (6, 14)
        except (ValueError, IndexError):
            per_namespace = False
        if not per_namespace:  # before 6.14 pid_max is global: never touch it
            return ""
        try:
            with open("/proc/sys/kernel/pid_max", "w") as fh:
                fh.write(str(max(int(self.cfg["max_procs"]), 301)))
        except OSError:
            return ""
        return ", pid_max"

    def setup_mounts(self, source: bytes) -> None:
        cfg = self.cfg
        self.mount(None, "/", None, _MS_REC | _MS_PRIVATE)
        hidden = [h for h in cfg["hide"] if os.path.isdir(h)]
        covered = [*hidden, "/tmp"]  # the interpreter's paths under these are bound back read-only
        reveal = [
            p for p in cfg["reveal"] if any(p == h or p.startswith(h.rstrip("/") + "/") for h in covered)
        ]
        reveal_fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in reveal if os.path.isdir(p)}
        self.mount_setattr_recursive("/", _MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID)
        tmp_opts = f"size={int(cfg['disk_mb'])}m,mode=1777"
        self.mount("tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, tmp_opts)
        for p, fd in reveal_fds.items():  # e.g. a venv under /tmp: bound back, read-only
            if p == "/tmp" or not p.startswith("/tmp/"):
                continue
            os.makedirs(p, mode=0o755, exist_ok=True)
            self.mount(f"/proc/self/fd/{fd}", p, None, _MS_BIND | _MS_REC)
            self.mount_setattr_recursive(p, _MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID)
        if os.path.isdir("/dev/shm"):
            try:
                self.mount("tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
            except OSError:
                self.notes.append("read-only /dev/shm")
        if os.path.isdir("/run") and not os.path.islink("/run"):  # no host sockets (dbus, ...)
            try:
                self.mount(
                    "tmpfs", "/run", "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_RDONLY, "size=64k,mode=0755"
                )
            except OSError:
                self.notes.append("host /run")
        for h in hidden:
            self.mount("tmpfs", h, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=0755")
            for p, fd in reveal_fds.items():
                if p == h or p.startswith(h.rstrip("/") + "/"):
                    os.makedirs(p, exist_ok=True)
                    self.mount(f"/proc/self/fd/{fd}", p, None, _MS_BIND | _MS_REC)
            self.mount(None, h, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
        for fd in reveal_fds.values():
            os.close(fd)
        try:  # optional: the old /proc stays (read-only) where a fresh one may not be mounted
            self.mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC | _MS_RDONLY)
        except OSError:
            self.notes.append("host /proc")
        os.makedirs(SANDBOX_WORKDIR, mode=0o755)
        with open(os.path.join(SANDBOX_WORKDIR, SCRIPT_NAME), "wb") as fh:
            fh.write(source)
        if self.root:
            for path in (SANDBOX_WORKDIR, os.path.join(SANDBOX_WORKDIR, SCRIPT_NAME)):
                os.chown(path, self.uid, self.uid)

    def exec_script(self, workdir: str, *, drop_privileges: bool) -> None:
        import resource

        cfg = self.cfg
        try:
            os.chdir(workdir)
            if drop_privileges:
                os.setgroups([])
                os.setresgid(self.uid, self.uid, self.uid)
                os.setresuid(self.uid, self.uid, self.uid)
            self.prctl(_PR_SET_NO_NEW_PRIVS, 1)
            self.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            cpu = max(int(cfg["cpu_s"] + 0.999), 1)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            if cfg["memory_mb"]:
                limit = int(cfg["memory_mb"]) << 20
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            disk = int(cfg["disk_mb"]) << 20
            resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if not self.root or drop_privileges:  # root keeps CAP_SYS_RESOURCE: the limit would not bind
                # counted per run in the contained modes (own uid / own user namespace); uncontained,
                # a non-root user's processes all count, so only the larger bound applies there
                own_count = drop_privileges or workdir == SANDBOX_WORKDIR
                procs = int(cfg["fallback_procs"] if own_count and not self.in_cgroup else cfg["max_procs"])
                resource.setrlimit(resource.RLIMIT_NPROC, (procs, procs))
            os.closerange(3, 65536)
            env = dict(os.environ, HOME=workdir, TMPDIR=workdir, PWD=workdir)
            script = os.path.join(workdir, SCRIPT_NAME)
            argv = [cfg["python"], "-E", "-s", "-B", "-X", "utf8", "-c", _BOOTSTRAP, script, cfg["allow"]]
            os.execve(cfg["python"], argv, env)
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"sandbox: could not start the script: {exc}\n".encode())
            os._exit(127)


def _launch(argv: list[str]) -> None:
    config = json.loads(argv[0])
    _Launcher(config, int(config["status_fd"])).run()


if __name__ == "__main__" and sys.argv[1:2] == ["--launch"]:
    _launch(sys.argv[2:])
