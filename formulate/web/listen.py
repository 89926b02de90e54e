"""Bind the listening socket before serving, so `--port 0` can say which port the OS chose.

The socket is bound and listening before the URL is printed: a client that reads the line and connects at
once is queued by the kernel until uvicorn accepts, never refused.
"""

from __future__ import annotations

import socket
from typing import Any

BACKLOG = 2048  # uvicorn's default


class ListenError(Exception):
    """The address could not be bound (in use, not ours, not an address); one line."""


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to HOST:PORT (PORT 0: any free port) and listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(BACKLOG)
    except (OSError, UnicodeError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ListenError(f"cannot listen on {show(host, port)}: {reason}") from None
    return sock


def bound_port(sock: socket.socket) -> int:
    """The port the socket is bound to (the OS's choice when 0 was asked for)."""
    return int(sock.getsockname()[1])


def show(host: str, port: int) -> str:
    """HOST:PORT as a URL writes it (an IPv6 address in brackets)."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(app: Any, sock: socket.socket, log_level: str = "warning") -> None:
    """Run the ASGI app with uvicorn on the bound socket until interrupted."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))
    server.run(sockets=[sock])
