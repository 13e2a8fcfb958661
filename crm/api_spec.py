"""What the OpenAPI of every HTTP API says beyond the routes: the error answers
each operation may give and the bearer-token security scheme.

Every error is ``{"error": message, "field": name}`` (``field`` when one field is
at fault; validation errors list them all in ``fields``). Routers are declared
with ``responses=ERROR_RESPONSES`` and the app's schema is finished by
:func:`describe_security`, so schemathesis (and a reader) knows every status an
operation can answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

__all__ = ["ERROR_RESPONSES", "LINKS", "ErrorOut", "describe_security"]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    error: str
    field: str | None = None
    fields: list[FieldError] | None = None


def _answer(text: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": text}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _answer("no or an unknown bearer token (log in first)"),
    403: _answer("the user's role or department may not do this"),
    404: _answer("no such record (resident, case, call, agent, interaction)"),
    408: _answer("the request body did not arrive in time"),
    409: _answer("a version conflict, a duplicate, or a state that forbids the action"),
    413: _answer("the request body is larger than the limit"),
    422: _answer("a field is invalid (named in field / fields)"),
}
_OPEN = {"/api/crm/login"}  # the one operation with no log-in
# log-in throttling (crm.login_throttle): a locked user name or address
_THROTTLED = _answer("too many failed log-ins: locked for retry_after_s (Retry-After)")
# OpenAPI links: what a created record's answer feeds into (for clients and for
# schemathesis's stateful runs): (from path, method, status) → [(to path, method, params)]
_RESIDENT = {"resident_id": "$response.body#/resident/id"}
_CASE = {"case_id": "$response.body#/case/id"}
LINKS: dict[tuple[str, str, str], list[tuple[str, str, dict[str, str]]]] = {
    ("/api/crm/residents", "post", "201"): [
        ("/api/crm/residents/{resident_id}", "get", _RESIDENT),
        ("/api/crm/residents/{resident_id}", "patch", _RESIDENT),
        ("/api/crm/audit", "get", _RESIDENT),
    ],
    ("/api/crm/cases", "post", "201"): [
        ("/api/crm/cases/{case_id}", "get", _CASE),
        ("/api/crm/cases/{case_id}/actions", "post", _CASE),
    ],
    ("/api/crm/cases/{case_id}/actions", "post", "200"): [
        ("/api/crm/cases/{case_id}", "get", _CASE),
        ("/api/crm/cases/{case_id}/actions", "post", _CASE),
    ],
}


def describe_security(app: FastAPI) -> None:
    """The schema says: bearer tokens, required on every ``/api`` operation but log-in."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
        spec.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        for path, ops in spec.get("paths", {}).items():
            if not path.startswith("/api/") or path in _OPEN:
                continue
            for op in ops.values():
                if isinstance(op, dict) and "401" in op.get("responses", {}):
                    op["security"] = [{"bearer": []}]
        login = spec.get("paths", {}).get("/api/crm/login", {}).get("post")
        if isinstance(login, dict):
            login.setdefault("responses", {})["429"] = {
                "description": _THROTTLED["description"],
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        _link(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _link(spec: dict[str, Any]) -> None:
    paths = spec.get("paths", {})
    for (path, method, status), targets in LINKS.items():
        answer = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if answer is None:
            continue
        links = answer.setdefault("links", {})
        for to, to_method, params in targets:
            op = paths.get(to, {}).get(to_method)
            if op is None or "operationId" not in op:
                continue
            links[op["operationId"]] = {"operationId": op["operationId"], "parameters": params}
