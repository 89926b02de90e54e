"""Start `formulate serve` / `formulate mcp --http` with `--port 0` in a subprocess and read the URL it prints.

The server binds and listens before it prints its start-up line, so the URL is live once read: no port is
picked by binding and releasing one (another process could take it in between), and no polling.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 180  # only a guard against a hang: start-up is slow on a loaded machine
LINE = re.compile(r"^formulate: serving (?:MCP at )?(http://\S+) \(Ctrl-C stops\)$")


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                   **(env or {})}
    environment.pop("FORMULATE_MODEL", None)
    return environment


@contextlib.contextmanager
def started(*argv: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `formulate ARGV --port 0`; yield the URL its start-up line names (stopped afterwards)."""
    process = subprocess.Popen([sys.executable, "-m", "formulate", *argv, "--port", "0"], env=_environment(env),
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    output: list[str] = []
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:  # drains the pipe for the server's whole life, so it never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = LINE.match(line.strip())
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()  # end of output: the process exited

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(START_SECONDS):
            raise RuntimeError(f"formulate {argv[0]} printed no URL within {START_SECONDS} s: {''.join(output)[-2000:]}")
        if not found:
            process.wait(10)
            raise RuntimeError(f"formulate {argv[0]} exited with {process.returncode}: {''.join(output)[-2000:]}")
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(10)


@contextlib.contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Yield the base URL (no trailing slash) of a live `formulate serve` (stopped afterwards)."""
    with started("serve", "--host", host, *args, env=env) as url:
        yield url.rstrip("/")
