"""The gate every API request passes before a handler sees it (an ASGI middleware).

- a query parameter or path holding a NUL character is refused with 422 naming
  it (SQLite and FTS5 would otherwise take ``q=%00`` as "match everything");
- a body larger than ``limit`` bytes is refused with 413, before any handler
  reads it;
- a body that has not fully arrived ``timeout_s`` after the request's headers is
  refused with 408 (a client trickling a body cannot hold a worker forever).

Answers are the API's ``{"error": ..., "field": ...}``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, unquote

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["InputGate"]


class InputGate:
    def __init__(self, app: ASGIApp, limit: int, timeout_s: float = 10.0, prefix: str = "") -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        nul = _nul_parameter(scope)
        if nul is not None:
            await _answer(send, 422, f"{nul}: contains a NUL character", nul)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length" and (not v.isdigit() or int(v) > self.limit):
                await self._too_large(send)
                return
        try:
            body, over = await asyncio.wait_for(self._read(receive), self.timeout_s)
        except TimeoutError:
            await _answer(send, 408, f"body: not received within {self.timeout_s:g} s", "body")
            return
        if over:
            await self._too_large(send)
            return
        if body is None:  # the client went away
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> tuple[bytes | None, bool]:
        """The whole body (None: the client went away), and whether it was too large."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None, False
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None, True
            chunks.append(chunk)
            more = msg.get("more_body", False)
        return b"".join(chunks), False

    async def _too_large(self, send: Send) -> None:
        await _answer(send, 413, f"body: larger than the limit of {self.limit} bytes", "body")


def _nul_parameter(scope: Scope) -> str | None:
    """The name of the first query parameter (or ``path``) holding a NUL character."""
    if "\x00" in scope.get("path", "") or "%00" in scope.get("raw_path", b"").decode("latin-1"):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for key, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return unquote(key).replace("\x00", "\\0") or "query"
    return "query"


async def _answer(send: Send, status: int, error: str, field: str) -> None:
    resp = JSONResponse({"error": error, "field": field}, status_code=status)
    await resp({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
