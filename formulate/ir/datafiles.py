"""Reading `file:` tables safely: confined to one folder, regular files only, bounded in size.

A formulation read from a file may read data files inside that file's folder (symlinks followed
before the check). A formulation from anywhere else (a model's reply, text given to the API) may
read none unless the user names a data folder (``--data-dir DIR`` / ``data_dir=``), which then
confines it. Errors name the path and what was wrong, never the file's content: in IR mode an
error goes back to the model server.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formulate.errors import DataFileError
from formulate.ir.limits import current

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


def resolve_data_file(name: str, root: Path | None, where: str) -> Path:
    """The real path of ``file: name`` if it lies inside ``root``; DataFileError otherwise."""
    shown = f"`file: {name}`"
    if root is None:
        raise DataFileError(f"{shown} is not allowed: this formulation was not read from a file (it came from a "
                            "model or from text), so it may not read files", where,
                            "pass --data-dir DIR (data_dir=DIR in Python) to allow data files from DIR")
    if "\x00" in name:
        raise DataFileError(f"{shown} contains a NUL character", where, "give a plain relative path")
    try:
        base = root.resolve(strict=True)
    except OSError:
        raise DataFileError(f"the data folder `{root}` does not exist", where, "check --data-dir") from None
    candidate = base / name
    try:
        real = candidate.resolve(strict=True)
    except FileNotFoundError:
        raise DataFileError(f"{shown}: `{candidate}` does not exist", where,
                            "give a path relative to the formulation file (or the --data-dir folder)") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a permission error on a parent
        reason = "is a symbolic link loop" if isinstance(exc, RuntimeError) or getattr(exc, "errno", 0) == errno.ELOOP \
            else "cannot be resolved"
        raise DataFileError(f"{shown}: `{candidate}` {reason}", where, "give a plain file in the folder") from None
    if not real.is_relative_to(base):
        raise DataFileError(f"{shown} resolves to `{real}`, outside the data folder `{base}`", where,
                            "data files must lie inside the formulation file's folder (or the --data-dir folder)")
    return real


def read_data_file(path: Path, shown: str, where: str) -> bytes:
    """The bytes of a regular file no larger than ``max_file_bytes`` (FIFOs and devices never block)."""
    limit = current().max_file_bytes
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataFileError(f"`{shown}` is a symbolic link", where, "point `file:` at the file itself") from None
        raise DataFileError(f"`{shown}` cannot be opened ({os.strerror(exc.errno or 0).lower()})", where,
                            "check the file's permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a plain file")
            raise DataFileError(f"`{shown}` is {kind}, not a regular file", where,
                                "give a CSV or .npy file")
        if info.st_size > limit:
            raise DataFileError(f"`{shown}` is {info.st_size:,} bytes, over the limit of {limit:,}", where,
                                "make it smaller (or raise FORMULATE_MAX_FILE_BYTES)")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise DataFileError(f"`{shown}` is over the limit of {limit:,} bytes", where,
                                    "make it smaller (or raise FORMULATE_MAX_FILE_BYTES)")
        return b"".join(chunks)
    except OSError as exc:
        raise DataFileError(f"`{shown}` cannot be read ({os.strerror(exc.errno or 0).lower()})", where,
                            "give a CSV or .npy file") from None
    finally:
        os.close(fd)


def data_dir_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for CLI commands with a ``data_dir`` option (--data-dir): inside the command, formulations
    not read from a file (a model's) may read `file:` tables from that folder, and only there."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        import typer

        from formulate.ir.io import data_dir_scope

        data_dir = kwargs.get("data_dir")
        if data_dir is not None and not Path(data_dir).is_dir():
            typer.echo(f"error: --data-dir `{data_dir}` is not a folder; give the folder the data files are in",
                       err=True)
            raise typer.Exit(2)
        with data_dir_scope(data_dir):
            return fn(*args, **kwargs)

    return run
