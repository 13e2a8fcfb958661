"""Domain errors to HTTP answers, in one place (the request gate: :mod:`crm.api_input`).

Every error answer is ``{"error": message, ...}`` with the field, state or action
it concerns, so a client (or a person reading a log) knows what to fix.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

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
    body = {"error": f"{first['field']}: {first['message']}", "field": first["field"]}
    return JSONResponse({**body, "fields": fields}, status_code=422)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own answers (an unknown path, a method not allowed, a body that is
    not JSON) in the API's format; a body that cannot be parsed is a 422 on ``body``."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        return JSONResponse(
            {"error": f"body: {exc.detail} (send JSON)", "field": "body"}, status_code=422
        )
    body = {"error": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    for exc in (CrmError, LifecycleError, InvalidIdentifierError):
        app.add_exception_handler(exc, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
