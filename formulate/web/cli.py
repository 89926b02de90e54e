"""`formulate serve` (the web page and JSON API) and `formulate mcp` (the MCP server), mounted by formulate.cli."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Annotated, NoReturn

import typer

doors_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                        help="The web page and the MCP server.")

EXIT_USER_ERROR = 2
HostOpt = Annotated[str, typer.Option("--host", help="address to bind (anything but loopback needs --token)")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="bearer token clients must send "
                                              "(or FORMULATE_TOKEN); required off loopback")]
PORT_HELP = "port; 0 picks a free one (the start-up line on stderr says which)"
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="model offered besides the offline formulator: "
                                              "openai:MODEL | hf:PATH | replay:FILE (default FORMULATE_MODEL)")]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USER_ERROR)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost` are loopback; everything else (0.0.0.0 included) is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(host: str, token: str | None) -> str | None:
    """The bearer token to require: given, from FORMULATE_TOKEN, or none on loopback; refuse otherwise."""
    token = token or os.environ.get("FORMULATE_TOKEN") or None
    if token is None and not is_loopback(host):
        _fail(f"binding to {host} needs a bearer token: pass --token TOKEN or set FORMULATE_TOKEN "
              "(or bind to 127.0.0.1)")
    return token


def _listen(host: str, port: int) -> socket.socket:
    """The bound, listening socket for HOST:PORT, or one error line."""
    from formulate.web.listen import ListenError, listen

    try:
        return listen(host, port)
    except ListenError as exc:
        _fail(str(exc))


def _need(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        _fail(f"this command needs `{module}`: pip install 'formulate-opt[web]'")


@doors_app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help=PORT_HELP, min=0, max=65535)] = 8000,
    model: ModelOpt = None, token: TokenOpt = None,
    max_concurrent: Annotated[int, typer.Option("--max-concurrent", help="solves at once")] = 2,
    request_seconds: Annotated[float, typer.Option("--request-seconds", help="wall-clock limit of a request")] = 120.0,
    solve_seconds: Annotated[float, typer.Option("--solve-seconds", help="largest solver time limit")] = 60.0,
    max_body: Annotated[int, typer.Option("--max-body", help="largest request, bytes")] = 1_000_000,
    memory_mb: Annotated[int, typer.Option("--memory-mb", help="memory limit of a worker, MB")] = 2048,
) -> None:
    """Serve the page and the JSON API (docs at /docs, schema at /openapi.json)."""
    for module in ("fastapi", "uvicorn", "latex2mathml"):
        _need(module)
    bearer = resolve_token(host, token)
    if min(max_concurrent, request_seconds, solve_seconds, max_body, memory_mb) <= 0:
        _fail("limits must be positive")
    from formulate.web.app import WebConfig, create_app
    from formulate.web.listen import bound_port, serve, show
    from formulate.web.runner import Limits

    sock = _listen(host, port)
    limits = Limits(max_body_bytes=max_body, request_seconds=request_seconds, solve_seconds=solve_seconds,
                    max_concurrent=max_concurrent, memory_mb=memory_mb)
    app = create_app(WebConfig(model=model, token=bearer, limits=limits))
    typer.echo(f"formulate: serving http://{show(host, bound_port(sock))}/ (Ctrl-C stops)", err=True)
    serve(app, sock, log_level=os.environ.get("FORMULATE_LOG", "warning").lower())


@doors_app.command("mcp")
def mcp_command(
    http: Annotated[bool, typer.Option("--http", help="streamable HTTP instead of stdio")] = False,
    host: HostOpt = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help=f"{PORT_HELP}; for --http", min=0, max=65535)] = 8765,
    model: ModelOpt = None, token: TokenOpt = None,
) -> None:
    """Serve formulate's tools to an agent over MCP (stdio by default)."""
    _need("mcp")
    from formulate.mcp_server import build_server, run_http

    server = build_server(model=model)
    if not http:
        server.run("stdio")
        return
    _need("uvicorn")
    bearer = resolve_token(host, token)
    run_http(server, _listen(host, port), host=host, token=bearer)
