"""Start `formulate serve` on 127.0.0.1 on a free port in a subprocess (for the web tests)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Yield the base URL of a live `formulate serve` (stopped afterwards)."""
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                   **(env or {})}
    environment.pop("FORMULATE_MODEL", None)
    process = subprocess.Popen([sys.executable, "-m", "formulate", "serve", "--host", host, "--port", str(port),
                                *args], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # only a guard against a hang: start-up is slow on a loaded machine
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"formulate serve exited with {process.returncode}: {output[-2000:]}")
            try:  # not listening yet: refused at once; listening: answers when it can
                httpx.get(base + "/", timeout=httpx.Timeout(120, connect=1))
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("formulate serve did not start within 180 s") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
