"""Bearer token and body-size limit for the web app and the MCP server's HTTP transport (plain ASGI)."""

from __future__ import annotations

import hmac
import json
from typing import Any


class Guard:
    """ASGI middleware: a bearer token on the paths under `protect` (all when None), a cap on body size."""

    def __init__(self, app: Any, token: str | None, max_body: int, protect: tuple[str, ...] | None = None) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body
        self.protect = protect

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.token and (self.protect is None or scope["path"].startswith(self.protect)):
            given = headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                await _reply(send, 401, "this server needs `Authorization: Bearer TOKEN` (the token it was started with)")
                return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _reply(send, 413, f"the request is larger than {self.max_body} bytes; send a smaller formulation")
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _reply(send, 413, f"the request is larger than {self.max_body} bytes; send a smaller formulation")


class _TooLarge(Exception):
    pass


async def _reply(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
