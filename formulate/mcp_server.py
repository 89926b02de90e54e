"""`formulate mcp`: formulate's tools for agents over the Model Context Protocol (official `mcp` SDK).

Tools: ``check``, ``solve``, ``verify``, ``export``, ``explain`` (a formulation's YAML or a file path) and,
when a model is configured, ``formulate`` (problem text -> YAML). Each result is structured JSON (the
same dicts as the web API, from :mod:`formulate.service`) with a one-line text. Resources: the
language reference and the example formulations. An agent that writes its own YAML goes
check -> solve -> export with no model configured. Every call runs in a contained worker
(:mod:`formulate.web.runner`: memory, time and concurrency limits).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from formulate.errors import FormulateError
from formulate.service import model_choices
from formulate.web.runner import Limits, Runner

log = logging.getLogger(__name__)
REFERENCE_URI = "formulate://reference"
EXAMPLES_URI = "formulate://examples"

_FORMULATION = ("the formulation as YAML text (read `formulate://reference` for the language); "
                "or leave empty and give `path`")
_PATH = "path of a .yaml/.yml/.json formulation file (instead of `formulation`)"


def build_server(model: str | None = None, limits: Limits | None = None) -> Any:
    """The MCPServer with formulate's tools and resources (``formulate`` only when a model is configured)."""
    import anyio
    from mcp.server.mcpserver import MCPServer

    runner = Runner(limits, allow_path=True)
    configured = [m for m in model_choices(model) if m != "rules"]
    server = MCPServer("formulate", log_level="WARNING", instructions=(
        "Optimization modelling with a checked language and real solvers. Write a formulation in YAML "
        f"(read {REFERENCE_URI} and the examples under {EXAMPLES_URI}), then call check, solve, and export; "
        "verify and explain say what is wrong with an infeasible or unbounded model."))

    async def run(name: str, args: dict[str, Any], summary: Any) -> Any:
        from mcp.types import CallToolResult, TextContent

        try:
            result = await anyio.to_thread.run_sync(runner.call, name, _clean(args))
        except FormulateError as exc:
            return CallToolResult(content=[TextContent(text=f"error: {exc}")], is_error=True)
        return CallToolResult(content=[TextContent(text=summary(result))], structured_content=result)

    if configured:
        @server.tool(description=f"Turn a problem in words into a checked formulation (YAML) with model "
                                 f"`{configured[0]}`, solve it and report findings.")
        async def formulate(problem: str, rounds: int = 3) -> Any:
            return await run("formulate", {"problem": problem, "model": configured[0], "rounds": rounds},
                             _formulate_summary)

    @server.tool(description="Check a formulation: every error (one per item, with a fix), warnings, class, size.")
    async def check(formulation: str = "", path: str = "") -> Any:
        return await run("check", {"formulation": formulation, "path": path}, _check_summary)

    @server.tool(description="Solve a formulation: status, objective, values by variable "
                             "(solver: highs | cbc | scip | pyomo[:NAME]; time_limit in seconds).")
    async def solve(formulation: str = "", path: str = "", solver: str = "", time_limit: float = 0) -> Any:
        return await run("solve", {"formulation": formulation, "path": path, "solver": solver,
                                   "time_limit": time_limit}, _solve_summary)

    @server.tool(description="Check, solve and explain a formulation: solution, findings and alternative "
                             "readings; give the problem text to have its numbers checked.")
    async def verify(formulation: str = "", path: str = "", problem: str = "", solver: str = "") -> Any:
        return await run("verify", {"formulation": formulation, "path": path, "problem": problem,
                                    "solver": solver}, _verify_summary)

    @server.tool(description="Export a standalone script or model file: target pyomo | pulp | highspy | "
                             "gurobipy | lp | mps.")
    async def export(target: str, formulation: str = "", path: str = "") -> Any:
        return await run("export", {"formulation": formulation, "path": path, "target": target},
                         lambda r: f"{r['target']} export, {len(r['content'].splitlines())} lines ({r['filename']})")

    @server.tool(description="Why a model has no optimum, in words: the irreducible infeasible set of an "
                             "infeasible model, the variables that run away in an unbounded one.")
    async def explain(formulation: str = "", path: str = "", solver: str = "") -> Any:
        return await run("explain", {"formulation": formulation, "path": path, "solver": solver},
                         lambda r: r["summary"])

    @server.resource(REFERENCE_URI, name="language reference", mime_type="text/markdown",
                     description="The formulation language: keys, forms, expressions, functions, pitfalls.")
    def reference() -> str:
        from formulate.formulators.prompt import language_reference

        return language_reference()

    @server.resource(EXAMPLES_URI, name="examples", mime_type="application/json",
                     description="The example formulations: name -> one-line description; read "
                                 "formulate://examples/NAME for one.")
    def examples() -> str:
        import json

        from formulate import examples as shipped

        return json.dumps({name: shipped.description(name) for name in shipped.names()}, indent=1)

    @server.resource(EXAMPLES_URI + "/{name}", name="example", mime_type="application/yaml",
                     description="One example formulation (YAML).")
    def example(name: str) -> str:
        from formulate import examples as shipped

        return shipped.path(name).read_text(encoding="utf-8")

    return server


def _clean(args: dict[str, Any]) -> dict[str, Any]:
    """Empty strings and zero time limits mean "not given"."""
    return {k: v for k, v in args.items() if v not in ("", None, 0)}


def _check_summary(r: dict[str, Any]) -> str:
    if r["ok"]:
        return f"ok: {r['problem_class']}, {r['variables']} variables, {r['constraints']} constraints"
    return f"{len(r['errors'])} error(s); first: {r['errors'][0]}"


def _solution_line(s: dict[str, Any] | None) -> str:
    if not s:
        return "not solved"
    objective = f", objective {s['objective']:.10g}" if s.get("objective") is not None and s["has_solution"] else ""
    return f"{s['status']}{objective} ({s['solver']})"


def _solve_summary(r: dict[str, Any]) -> str:
    return _solution_line(r.get("solution"))


def _verify_summary(r: dict[str, Any]) -> str:
    return f"{_solution_line(r.get('solution'))}; {len(r['findings'])} finding(s), {len(r['readings'])} reading(s)"


def _formulate_summary(r: dict[str, Any]) -> str:
    if r.get("status") != "ok":
        return f"no formulation: {r.get('error') or r.get('status')}"
    return f"formulated; {_verify_summary(r)}"


def run_http(server: Any, sock: socket.socket, host: str, token: str | None) -> None:
    """Streamable HTTP at /mcp on the bound socket (127.0.0.1 unless a token is set), DNS-rebinding protection on."""
    from mcp.server.transport_security import TransportSecuritySettings

    from formulate.web.listen import bound_port, serve, show

    port = bound_port(sock)
    security = TransportSecuritySettings(enable_dns_rebinding_protection=token is None,
                                         allowed_hosts=[f"127.0.0.1:{port}", f"localhost:{port}"],
                                         allowed_origins=[f"http://127.0.0.1:{port}", f"http://localhost:{port}"])
    app = server.streamable_http_app(transport_security=security, host=host, max_request_body_size=1_000_000)
    if token:
        from formulate.web.guard import Guard

        app = Guard(app, token, max_body=1_000_000)
    print(f"formulate: serving MCP at http://{show(host, port)}/mcp (Ctrl-C stops)", file=sys.stderr, flush=True)
    serve(app, sock)
