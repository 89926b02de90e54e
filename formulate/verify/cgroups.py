"""A cgroup per sandbox run, so that all of a script's processes together stay under one memory and task bound.

Per-process limits (``RLIMIT_AS``) do not bound the total: six children of 1.5 GiB each pass a 2 GiB
per-process limit. :func:`create_run_cgroup` makes a child cgroup of the caller's own cgroup with a
memory limit and a task limit; the sandbox launcher moves itself in (its ``procs_files``) before it
starts anything, so every process of the run is counted, and :meth:`RunCgroup.remove` kills what is
left and removes the cgroup afterwards.

cgroup v2 (``memory.max``, ``pids.max``) is used where the caller's cgroup offers both controllers to
its children; otherwise cgroup v1's ``memory`` and ``pids`` hierarchies where they are mounted and
writable (hybrid hosts). Anywhere else the result is None with the reason, and the sandbox falls back
to a low per-run process count.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_PREFIX = "formulate-sbx"
_counter = itertools.count()
_swept: set[Path] = set()


@dataclass
class RunCgroup:
    """The cgroup directories of one run (v2: one; v1: one per controller) and what they bound."""

    version: int
    dirs: list[Path]
    memory_bytes: int | None
    max_tasks: int

    @property
    def procs_files(self) -> list[str]:
        """Where the launcher writes its pid to join."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def describe(self) -> str:
        memory = f"{self.memory_bytes >> 20} MiB" if self.memory_bytes else "no memory limit"
        return f"cgroup v{self.version} ({memory} total, {self.max_tasks} tasks)"

    def oom_kills(self) -> int:
        """How many processes the kernel killed for exceeding the cgroup's memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for d in self.dirs:
            try:
                text = (d / name).read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
        return 0

    def pids(self) -> set[int]:
        found: set[int] = set()
        for f in self.procs_files:
            try:
                found.update(int(p) for p in Path(f).read_text().split())
            except (OSError, ValueError):
                continue
        return found

    def kill(self) -> None:
        """SIGKILL every process still in the cgroup."""
        if self.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            try:
                (self.dirs[0] / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def remove(self, wait_s: float = 5.0) -> None:
        """Kill what is left and remove the directories.

        Waits up to ``wait_s`` for killed processes to go; on a loaded machine what is still busy then is
        left to a background thread that keeps trying for a while (and the next process sweeps leftovers).
        """
        busy = self._try_remove(time.monotonic() + wait_s)
        if busy:
            threading.Thread(target=self._try_remove, args=(time.monotonic() + 120.0, True), daemon=True).start()

    def _try_remove(self, deadline: float, last: bool = False) -> list[Path]:
        busy = []
        for d in self.dirs:
            while True:
                self.kill()
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if time.monotonic() > deadline:
                        if last:
                            log.warning("could not remove the sandbox cgroup %s: %s", d, exc)
                        busy.append(d)
                        break
                    time.sleep(0.05)
        return busy


def create_run_cgroup(memory_bytes: int | None, max_tasks: int) -> tuple[RunCgroup | None, str]:
    """A new child cgroup of this process's cgroup with the limits set, or None and why not."""
    mounts = _cgroup_mounts()
    membership = _membership()
    reasons = []
    for make in (_create_v2, _create_v1):
        try:
            cgroup = make(mounts, membership, memory_bytes, max_tasks)
        except OSError as exc:
            reasons.append(f"{make.__name__[-2:]}: {exc.strerror or exc}")
            continue
        if isinstance(cgroup, str):
            reasons.append(cgroup)
            continue
        return cgroup, cgroup.describe()
    return None, "no writable cgroup (" + "; ".join(reasons) + ")"


def _create_v2(
    mounts: list[tuple[str, str, str, set[str]]],
    membership: dict[str, str],
    memory_bytes: int | None,
    max_tasks: int,
) -> RunCgroup | str:
    parent = next(
        (
            _join(point, root, membership[""])
            for root, point, fstype, _ in mounts
            if fstype == "cgroup2" and "" in membership
        ),
        None,
    )
    if parent is None:
        return "v2: not mounted"
    available = set(_read(parent / "cgroup.controllers").split())
    if not {"memory", "pids"} <= available:
        return f"v2: memory and pids controllers not offered in {parent}"
    enabled = set(_read(parent / "cgroup.subtree_control").split())
    if not {"memory", "pids"} <= enabled:
        (parent / "cgroup.subtree_control").write_text("+memory +pids")
    child = _make_child(parent)
    try:
        if memory_bytes:
            (child / "memory.max").write_text(str(memory_bytes))
            if (child / "memory.swap.max").exists():
                (child / "memory.swap.max").write_text("0")
        (child / "pids.max").write_text(str(max_tasks))
    except OSError:
        _rmdir(child)
        raise
    return RunCgroup(2, [child], memory_bytes, max_tasks)


def _create_v1(
    mounts: list[tuple[str, str, str, set[str]]],
    membership: dict[str, str],
    memory_bytes: int | None,
    max_tasks: int,
) -> RunCgroup | str:
    parents: dict[str, Path] = {}
    for controller in ("memory", "pids"):
        for root, point, fstype, options in mounts:
            if fstype == "cgroup" and controller in options and controller in membership:
                parents[controller] = _join(point, root, membership[controller])
                break
        else:
            return f"v1: no {controller} hierarchy"
    made: list[Path] = []
    try:
        memory_dir = _make_child(parents["memory"])
        made.append(memory_dir)
        if memory_bytes:
            (memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
            if (memory_dir / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit
                (memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        pids_dir = _make_child(parents["pids"])
        made.append(pids_dir)
        (pids_dir / "pids.max").write_text(str(max_tasks))
    except OSError:
        for d in made:
            _rmdir(d)
        raise
    return RunCgroup(1, made, memory_bytes, max_tasks)


def _make_child(parent: Path) -> Path:
    if parent not in _swept:
        _swept.add(parent)
        _sweep_stale(parent)
    child = parent / f"{_PREFIX}-{os.getpid()}-{next(_counter)}"
    child.mkdir()
    return child


def _sweep_stale(parent: Path) -> None:
    """Remove the empty run cgroups that a killed formulate process (pid no longer alive) left behind."""
    try:
        candidates = list(parent.glob(f"{_PREFIX}-*-*"))
    except OSError:
        return
    for d in candidates:
        pid = d.name[len(_PREFIX) + 1 :].split("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            _rmdir(d)  # fails harmlessly while processes are still inside
        except OSError:
            continue


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _join(mount_point: str, mount_root: str, cgroup_path: str) -> Path:
    """The directory of ``cgroup_path`` under a mount whose root is ``mount_root``."""
    rel = cgroup_path
    root = mount_root.rstrip("/")
    if root and (rel == root or rel.startswith(root + "/")):
        rel = rel[len(root) :]
    return Path(mount_point) / rel.lstrip("/")


def _cgroup_mounts() -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, fstype, super options) of every cgroup/cgroup2 mount, from mountinfo."""
    mounts = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        mounts.append((fields[3], fields[4], tail[0], set(tail[2].split(","))))
    return mounts


def _membership() -> dict[str, str]:
    """Controller -> cgroup path of this process ("" is the v2 unified hierarchy)."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for c in controllers.split(",") if controllers else [""]:
            paths[c] = path
    return paths
