"""Run service operations in a contained worker process: memory and time limits, a cap on concurrency.

Each request runs in a fresh process forked from a single-threaded fork server that has formulate
preloaded (a few ms to start). The worker gets ``RLIMIT_AS`` and ``RLIMIT_CPU``; the parent kills it at
the wall-clock limit, so a formulation that would ground a billion rows or a solve that would not stop
costs one worker, never the server. Model-written code (code mode) still runs only in
:mod:`formulate.verify.sandbox`, started from the worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from formulate.errors import FormulateError

log = logging.getLogger(__name__)
EventCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Limits:
    """What one client may ask of the server."""

    max_body_bytes: int = 1_000_000
    request_seconds: float = 120.0
    solve_seconds: float = 60.0
    max_concurrent: int = 2
    queue_seconds: float = 10.0
    memory_mb: int = 2048

    def to_dict(self) -> dict[str, Any]:
        return {"max_body_bytes": self.max_body_bytes, "request_seconds": self.request_seconds,
                "solve_seconds": self.solve_seconds, "max_concurrent": self.max_concurrent,
                "memory_mb": self.memory_mb}


class Busy(FormulateError):
    """Every solve slot is taken."""


class TooSlow(FormulateError):
    """The request ran past its wall-clock limit and was stopped."""


class WorkerFailed(FormulateError):
    """The worker died (memory limit, a crash in a solver library) or failed unexpectedly."""


_PRELOAD = ["formulate.service", "formulate.api", "formulate.ir.ground", "formulate.solvers.highs",
            "formulate.codegen", "formulate.formulators.dispatch", "formulate.formulators.offline",
            "formulate.web.warm"]  # the fork server skips a module that fails to import: a test imports each


class Runner:
    """Runs :func:`formulate.service.run_operation` in worker processes under :class:`Limits`."""

    def __init__(self, limits: Limits | None = None, *, allow_path: bool = False) -> None:
        self.limits = limits or Limits()
        self.allow_path = allow_path
        self._slots = threading.BoundedSemaphore(self.limits.max_concurrent)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)

    def call(self, name: str, args: dict[str, Any], on_event: EventCallback | None = None) -> dict[str, Any]:
        """The operation's result; raises FormulateError subclasses with one line for every failure."""
        args = dict(args)
        if args.get("time_limit") is not None or name in ("solve", "verify", "explain", "formulate"):
            asked = args.get("time_limit")
            args["time_limit"] = min(float(asked), self.limits.solve_seconds) if asked else self.limits.solve_seconds
        if not self._slots.acquire(timeout=self.limits.queue_seconds):
            raise Busy(f"the server is busy ({self.limits.max_concurrent} requests running); try again shortly")
        try:
            return self._run(name, args, on_event)
        finally:
            self._slots.release()

    def _run(self, name: str, args: dict[str, Any], on_event: EventCallback | None) -> dict[str, Any]:
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_worker, daemon=True,
                                    args=(name, args, sender, self.allow_path, self.limits.memory_mb,
                                          int(self.limits.request_seconds) + 1))
        process.start()
        sender.close()
        deadline = time.monotonic() + self.limits.request_seconds
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TooSlow(f"stopped after the {self.limits.request_seconds:g} s limit of one request; "
                                  "give a smaller model or a lower time limit")
                if not receiver.poll(min(remaining, 0.5)):
                    continue
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    process.join(1)
                    raise WorkerFailed(_death(process.exitcode, self.limits.memory_mb)) from None
                if kind == "event":
                    if on_event is not None:
                        on_event(payload)
                elif kind == "result":
                    return payload
                elif kind == "error":
                    raise FormulateError(payload)
                else:
                    raise WorkerFailed(payload)
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join(5)


def _death(exitcode: int | None, memory_mb: int) -> str:
    return (f"the worker stopped (exit code {exitcode}) before answering, most likely at the {memory_mb} MB "
            "memory limit; make the model smaller")


def _worker(name: str, args: dict[str, Any], conn: Any, allow_path: bool, memory_mb: int, cpu_seconds: int) -> None:
    """Worker process body: limits first, then the operation; every outcome is one message on ``conn``."""
    import os
    import resource

    os.dup2(2, 1)  # what a library prints goes to stderr: stdout may be the MCP stdio transport
    _few_malloc_arenas()
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from formulate.service import run_operation

    try:
        result = run_operation(name, args, allow_path=allow_path, on_round=lambda e: conn.send(("event", e)))
        conn.send(("result", result))
    except (FormulateError, MemoryError) as exc:
        out_of_memory = _caused_by(exc, MemoryError)  # the API wraps unexpected errors as InternalError
        conn.send(("error", f"ran out of the {memory_mb} MB memory limit; make the model smaller" if out_of_memory
                   else str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported as one line, logged with its traceback
        log.exception("operation %s failed", name)
        conn.send(("crash", f"internal error in {name}: {type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc`` or an exception it was raised from is a ``kind``."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 20:
        if isinstance(current, kind):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _few_malloc_arenas(count: int = 4) -> None:
    """glibc reserves 64 MB of address space per malloc arena (up to 8 per core); a solver's threads on a
    many-core machine would spend the address-space limit on reservations alone, so cap the arenas."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, count)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to cap
        pass
