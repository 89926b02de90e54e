"""Every command the README shows runs as shown when pasted into bash.

The convention (also stated in the README's "Commands in this README" section):

* Only fenced blocks whose info string is exactly ``console`` are read.
* A line starting with ``$ `` is a command. A command line ending in a backslash continues on the next
  line, as in bash (the continuation lines have no ``$ `` prefix).
* The lines after a command, up to the next ``$ `` line or the end of the block, are its output (stdout and
  stderr together, as a terminal shows them). ``...`` stands for any number of lines.
* A command ending in a comment ``# needs: network`` or ``# needs: key`` (or both, comma-separated) is
  not run. A command that reads ``../shared`` runs only where that folder exists beside the checkout.

Every command runs through ``bash -c``, in README order, in one temporary copy of the repository's files
(tracked and untracked-but-not-ignored), with ``formulate`` and ``python`` resolving to this checkout and
this interpreter. Checked for each: the exit code (2 when the shown output has an ``error:`` line, else 0)
and the shown output lines, in order, with run times masked.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"
NEEDS = re.compile(r"#\s*needs:\s*([\w ,-]+?)\s*$")
DURATION = re.compile(r"\b\d+(\.\d+)?\s?(s|ms)\b")


@dataclass
class Command:
    """One README command, the output shown under it, and where it is."""

    text: str
    line: int
    shown: list[str] = field(default_factory=list)

    @property
    def needs(self) -> list[str]:
        match = NEEDS.search(self.text.splitlines()[-1])
        return [word.strip() for word in match.group(1).split(",")] if match else []

    @property
    def expected_exit(self) -> int:
        return 2 if any(line.startswith("error:") for line in self.shown) else 0


def console_commands(markdown: str) -> list[Command]:
    """The commands of every ```console block, with their shown output (see the module docstring)."""
    commands: list[Command] = []
    in_block = False
    current: Command | None = None
    continuing = False
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("```"):
            in_block = not in_block and line.strip() == "```console"
            current, continuing = None, False
            continue
        if not in_block:
            continue
        if continuing and current is not None:
            current.text += "\n" + line
            continuing = line.endswith("\\")
        elif line.startswith("$ "):
            current = Command(line[2:], number)
            commands.append(current)
            continuing = line.endswith("\\")
        elif current is not None and line.strip():
            current.shown.append(line)
    return commands


COMMANDS = console_commands(README.read_text(encoding="utf-8"))


def _normal(line: str) -> str:
    return " ".join(DURATION.sub("<time>", line).split())


def _repo_files() -> list[str]:
    """Tracked and untracked-but-not-ignored files of this checkout (every file when git is unavailable)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True, timeout=60).stdout
        return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "runs", "__pycache__", ".pytest_cache", ".ruff_cache"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def _environment(bin_dir: Path, copy: Path) -> dict[str, str]:
    """This interpreter as `python`, a `formulate` that runs the copy's package, no keys, no model."""
    bin_dir.mkdir()
    for name, run in (("formulate", "-m formulate "), ("python", ""), ("python3", "")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {run}"$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "FORMULATE_", "PYTEST_")) and k != "PYTHONPATH"}
    env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(copy)
    env["COLUMNS"] = "80"
    return env


# Guards against a hang only. The commands together take minutes (a local Ray starts twice), several times
# that on a loaded machine: the fixture runs them all in its first test's set-up, which pytest-timeout's
# suite-wide 300 s would otherwise cut short.
COMMAND_TIMEOUT = 600
ALL_COMMANDS_TIMEOUT = 3600


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory) -> dict[int, subprocess.CompletedProcess | str]:
    """Run every README command once, in order, in one copy; returns its result (or why it was skipped)."""
    base = tmp_path_factory.mktemp("readme")
    copy = base / "repo"
    for name in _repo_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    if SHARED.is_dir():
        (base / "shared").symlink_to(SHARED)
    env = _environment(base / "bin", copy)
    results: dict[int, subprocess.CompletedProcess | str] = {}
    unmade: dict[str, int] = {}  # files a skipped command would have written (its path-like words) -> its line
    for command in COMMANDS:
        missing = next((line for word, line in unmade.items() if word in command.text.split()), None)
        if command.needs:
            results[command.line] = f"needs {', '.join(command.needs)}"
            unmade.update({w: command.line for w in command.text.split() if "/" in w and "../shared" not in w})
        elif "../shared" in command.text and not SHARED.is_dir():
            results[command.line] = "needs ../shared, which is absent beside this checkout"
            unmade.update({w: command.line for w in command.text.split() if "/" in w and "../shared" not in w})
        elif missing is not None:
            results[command.line] = f"reads what the skipped command on line {missing} writes"
        else:
            results[command.line] = subprocess.run(["bash", "-c", f"exec 2>&1\n{command.text}"], cwd=copy, env=env,
                                                   capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return results


def test_readme_has_console_commands():
    assert len(COMMANDS) >= 10
    assert all(c.text.strip() for c in COMMANDS)


@pytest.mark.timeout(ALL_COMMANDS_TIMEOUT)
@pytest.mark.parametrize("command", COMMANDS, ids=[f"L{c.line}" for c in COMMANDS])
def test_readme_command(command: Command, readme_run):
    result = readme_run[command.line]
    if isinstance(result, str):
        pytest.skip(result)
    where = f"README.md line {command.line}: {command.text}\n--- output:\n{result.stdout}"
    assert result.returncode == command.expected_exit, where
    assert "Traceback" not in result.stdout, where
    actual = [_normal(line) for line in result.stdout.splitlines() if line.strip()]
    position = 0
    for shown in command.shown:
        if shown.strip() == "...":
            continue
        wanted = _normal(shown)
        if shown is command.shown[0]:  # the first shown line is the first line printed
            assert actual and actual[0] == wanted, f"first line differs: {wanted!r}\n{where}"
            position = 1
            continue
        assert wanted in actual[position:], f"shown line not printed (in order): {wanted!r}\n{where}"
        position = actual.index(wanted, position) + 1
    objective = [_normal(line) for line in command.shown if line.startswith("objective:")]
    assert all(line in actual for line in objective), where


def test_shell_commands_are_in_console_blocks():
    """Commands shown in a bash/sh/shell fence would escape this test: the README uses ```console for them."""
    fences = re.findall(r"^```(\w[\w-]*)", README.read_text(encoding="utf-8"), flags=re.M)
    assert not {"bash", "sh", "shell", "zsh", "shell-session"} & set(fences), fences


def test_convention_reads_continuations_outputs_and_marks():
    text = ("intro\n```console\n$ echo a \\\n  b   # needs: network\nshown\n$ formulate solvers\n```\n"
            "```python\n$ not a command\n```\n```console\n$ true\n...\n```\n")
    first, second, third = console_commands(text)
    assert first.text == "echo a \\\n  b   # needs: network" and first.needs == ["network"]
    assert first.shown == ["shown"] and first.line == 3
    assert second.text == "formulate solvers" and second.needs == [] and second.shown == []
    assert third.text == "true" and third.shown == ["..."]
    assert Command("x", 1, ["error: no"]).expected_exit == 2 and third.expected_exit == 0
