"""Domain errors to HTTP answers, in one place, plus the request-body size limit.

Every error answer is ``{"error": message, ...}`` with the field, state or action
it concerns, so a client (or a person reading a log) knows what to fix.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm.errors import (
    AuthenticationError,
    CrmError,
    DuplicateError,
    ForbiddenError,
    InvalidFieldError,
    NotFoundError,
    VersionConflictError,
)
from crm.identity import InvalidIdentifierError
from crm.lifecycle import (
    ActionArgumentError,
    ActionNotPermittedError,
    IllegalTransitionError,
    LifecycleError,
)
from crm.login_throttle import LockedOutError


def error_answer(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status code and body for a domain error."""
    body: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, IllegalTransitionError):
        body.update(state=exc.state.value, action=exc.action.value)
        return 409, body
    if isinstance(exc, ActionArgumentError | InvalidFieldError | InvalidIdentifierError):
        body["field"] = exc.field
        return 422, body
    if isinstance(exc, ActionNotPermittedError | ForbiddenError):
        return 403, body
    if isinstance(exc, AuthenticationError):
        return 401, body
    if isinstance(exc, LockedOutError):
        body["retry_after_s"] = exc.retry_after_s
        return 429, body
    if isinstance(exc, NotFoundError):
        return 404, body
    if isinstance(exc, VersionConflictError):
        body.update(expected_version=exc.expected, current_version=exc.actual)
        return 409, body
    if isinstance(exc, DuplicateError):
        body["field"] = exc.field
        return 409, body
    return 500, {"error": "internal error"}


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    status, body = error_answer(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": str(body["retry_after_s"])}
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": _where(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return JSONResponse(
        {"error": f"{first['field']}: {first['message']}", "fields": fields}, status_code=422
    )


def install_error_handlers(app: FastAPI) -> None:
    for exc in (CrmError, LifecycleError, InvalidIdentifierError):
        app.add_exception_handler(exc, _domain)
    app.add_exception_handler(RequestValidationError, _validation)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before any handler reads them."""

    def __init__(self, app: ASGIApp, limit: int, prefix: str = "") -> None:
        self.app = app
        self.limit = limit
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length" and (not v.isdigit() or int(v) > self.limit):
                await self._refuse(send)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        resp = JSONResponse(
            {"error": f"body: larger than the limit of {self.limit} bytes", "field": "body"},
            status_code=413,
        )
        await resp({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
