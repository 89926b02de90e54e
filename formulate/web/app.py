"""The FastAPI app: JSON API over formulate.service, server-sent progress, and the page (package data).

Every operation runs in a contained worker (:mod:`formulate.web.runner`). Errors come back as
``{"error": "one line"}`` with 400 (bad input), 401 (token), 413 (too large), 422 (malformed request),
500 (the worker died), 503 (busy) or 504 (too slow).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from formulate.errors import FormulateError
from formulate.service import export_targets, model_choices
from formulate.web.guard import Guard
from formulate.web.runner import Busy, Limits, Runner, TooSlow, WorkerFailed

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


@dataclass
class WebConfig:
    """How the server was started: the configured model, the bearer token (if any) and the limits."""

    model: str | None = None
    token: str | None = None
    limits: Limits = field(default_factory=Limits)


class FormulateRequest(BaseModel):
    problem: str = Field(..., description="the problem in words")
    model: str | None = Field(None, description="one of /api/config's models (default: the first)")
    rounds: int = Field(3, ge=1, le=10)
    samples: int = Field(1, ge=1, le=10)
    solver: str | None = None
    time_limit: float | None = Field(None, gt=0)


class SolveRequest(BaseModel):
    formulation: str | None = Field(None, description="the formulation's YAML (or JSON) text")
    problem: str | None = Field(None, description="problem text, formulated by the model first")
    model: str | None = None
    rounds: int = Field(3, ge=1, le=10, description="with `problem`: model calls per sample")
    samples: int = Field(1, ge=1, le=10, description="with `problem`: formulations drawn and voted on")
    solver: str | None = None
    time_limit: float | None = Field(None, gt=0)
    gap: float | None = Field(None, ge=0, le=1)


class FormulationRequest(BaseModel):
    formulation: str = Field(..., description="the formulation's YAML (or JSON) text")
    problem: str | None = Field(None, description="the problem text, for the verifier's number checks")
    solver: str | None = None
    time_limit: float | None = Field(None, gt=0)


class ExportRequest(BaseModel):
    formulation: str
    target: str = Field(..., description="pyomo | pulp | highspy | gurobipy | lp | mps")


def create_app(config: WebConfig | None = None) -> FastAPI:
    """The app for `formulate serve` (tests build it the same way)."""
    config = config or WebConfig()
    runner = Runner(config.limits)
    models = model_choices(config.model)
    app = FastAPI(title="formulate", summary="Problem text -> checked formulation -> solver -> scripts",
                  version=_version())
    app.add_middleware(Guard, token=config.token, max_body=config.limits.max_body_bytes,
                       protect=("/api/", "/openapi.json", "/docs", "/redoc"))

    def pick_model(name: str | None) -> str:
        if not name:
            return models[0]
        if name not in models:
            raise FormulateError(f"model `{name}` is not offered by this server; choose one of {', '.join(models)}")
        return name

    async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(runner.call, name, args)

    @app.exception_handler(FormulateError)
    async def _formulate_error(_: Request, exc: FormulateError) -> JSONResponse:
        status = 503 if isinstance(exc, Busy) else 504 if isinstance(exc, TooSlow) else \
            500 if isinstance(exc, WorkerFailed) else 400
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return JSONResponse({"error": f"`{where}`: {first.get('msg', 'invalid request')}; see /openapi.json"},
                            status_code=422)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/config")
    async def api_config() -> dict[str, Any]:
        """Models offered (the configured one first, then the offline formulator), export targets, limits."""
        from formulate.solvers.registry import all_backends

        return {"models": models, "targets": export_targets(), "limits": config.limits.to_dict(),
                "solvers": [b.name for b in all_backends() if b.available()], "version": _version()}

    @app.post("/api/formulate")
    async def api_formulate(body: FormulateRequest) -> dict[str, Any]:
        """Problem text -> formulation (YAML), its math, the solution, findings and readings."""
        return await call("formulate", {**body.model_dump(), "model": pick_model(body.model)})

    @app.post("/api/formulate/stream")
    async def api_formulate_stream(body: FormulateRequest) -> StreamingResponse:
        """The same as /api/formulate as server-sent events: `round` per round, then `result` or `error`."""
        args = {**body.model_dump(), "model": pick_model(body.model)}
        return StreamingResponse(_events(runner, args), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/api/solve")
    async def api_solve(body: SolveRequest) -> dict[str, Any]:
        """`{"formulation": YAML}` or `{"problem": text}` -> the JSON of `formulate solve --json`."""
        if (body.formulation is None) == (body.problem is None):
            raise FormulateError("give exactly one of `formulation` (YAML text) and `problem` (text)")
        args = body.model_dump()
        if body.problem is not None:
            args["model"] = pick_model(body.model)
        return await call("solve", args)

    @app.post("/api/check")
    async def api_check(body: FormulationRequest) -> dict[str, Any]:
        """Static checks (every error, one per item) and the math."""
        return await call("check", body.model_dump())

    @app.post("/api/verify")
    async def api_verify(body: FormulationRequest) -> dict[str, Any]:
        """Check, solve and explain: solution, findings, readings, and the math with any IIS marked."""
        return await call("verify", body.model_dump())

    @app.post("/api/explain")
    async def api_explain(body: FormulationRequest) -> dict[str, Any]:
        """Why there is no optimum, in words: the IIS of an infeasible model, the rays of an unbounded one."""
        return await call("explain", body.model_dump())

    @app.post("/api/export")
    async def api_export(body: ExportRequest) -> dict[str, Any]:
        """A standalone script or LP/MPS text: `{target, filename, content}`."""
        return await call("export", body.model_dump())

    return app


async def _events(runner: Runner, args: dict[str, Any]):
    """Run `formulate` in a thread and yield its rounds as they come, then the result (or the error)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def work() -> None:
        def on_event(event: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ("round", event))

        try:
            result = runner.call("formulate", args, on_event=on_event)
            loop.call_soon_threadsafe(queue.put_nowait, ("result", result))
        except FormulateError as exc:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", {"error": str(exc)}))

    task = asyncio.create_task(asyncio.to_thread(work))
    yield ": started\n\n"
    while True:
        kind, data = await queue.get()
        yield f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"
        if kind != "round":
            break
    await task


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("formulate-opt")
    except Exception:  # noqa: BLE001 - not installed (a plain checkout)
        return "0+checkout"
