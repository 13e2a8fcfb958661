"""Runtime administration over HTTP (docs/web-api.md, "Runtime administration"): the
same routes on the web port (``/api/admin/...``: supervisors and admins, by CRM
log-in; an agent is 403) and on the control socket (``/admin/...``: serve's own
user or root, as every control request; ``hotline admin``).

- ``GET .../agents/{agent}``: its name, skills, wrap-up and state;
- ``PUT .../agents/{agent}/skills`` ``{"skills": {"elderly": 8, ...}}``;
- ``POST .../agents`` ``{"agent", "name"?, "skills", "wrapup_s"?}``: a new seat,
  logged out (its PJSIP endpoint and SIP password in ``pjsip``: :mod:`serve.seats`);
- ``DELETE .../agents/{agent}``: a logged-out agent leaves the roster (and Asterisk);
- ``POST .../reload`` ``{"file"?}``: reload the config serve runs (or ``file``).

What each does and refuses is :mod:`serve.admin`. Errors are ``{"error", "field"}``:
422 a bad body or file (the key named), 404 an unknown agent, 409 the agent's state,
503 Asterisk's seats could not follow (field ``pjsip``; the roster unchanged).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.exceptions import HTTPException

from crm.api_auth import Require
from crm.lifecycle import Role
from crm.models import User
from serve.admin import AdminError, RuntimeAdmin, Who

__all__ = [
    "ADMIN_RESPONSES",
    "CONTROL_PEER",
    "admin_router",
    "control_who",
    "install_admin_errors",
    "supervisor_who",
]

CONTROL_PEER = Who("control-socket", "root")  # who the control socket's requests are


def _answer(description: str) -> dict[str, Any]:
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
    }
    return {"description": description, "content": {"application/json": {"schema": error}}}


# every admin route's refusals ({"error", "field"}); the web port adds its log-in's
ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _answer("no such agent"),
    409: _answer("the agent's state (or the roster) forbids it"),
    422: _answer("a bad body, file or value (the key or field named)"),
    503: _answer("Asterisk's PJSIP seats could not follow: the roster is unchanged"),
}

Skills = dict[Annotated[str, Field(min_length=1, max_length=64)], StrictInt]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SkillsBody(_Body):
    skills: Skills


class AgentBody(_Body):
    agent: str = Field(min_length=1, max_length=20, pattern=r"^[0-9]+$")
    name: str = Field("", max_length=64)
    skills: Skills
    wrapup_s: float | None = Field(None, ge=0, le=86400)


class ReloadBody(_Body):
    file: str | None = Field(None, min_length=1, max_length=4096)


def install_admin_errors(app: FastAPI, prefix: str | None = None) -> None:
    """:class:`AdminError` as ``{"error", "field"}``; with ``prefix`` (an app without
    the CRM's handlers: the control socket's), a bad body of a route under it as
    well: a 422 naming the field (a body that is not JSON: ``body``), not FastAPI's
    ``{"detail": [...]}`` nor a 400."""

    async def admin_error(request: Request, exc: Exception) -> JSONResponse:
        key, status = getattr(exc, "key", ""), getattr(exc, "status", 422)
        return JSONResponse({"error": str(exc), "field": key}, status_code=status)

    app.add_exception_handler(AdminError, admin_error)
    if prefix is None:
        return

    def ours(request: Request) -> bool:
        return request.url.path.startswith(prefix + "/")

    async def bad_body(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        if not ours(request):
            return await request_validation_exception_handler(request, exc)
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"] or ["body"]
        field = "body" if first.get("type") == "json_invalid" else ".".join(loc)
        why = str(first.get("msg", "invalid"))
        return JSONResponse({"error": f"{field}: {why}", "field": field}, status_code=422)

    async def unparsable(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        if exc.status_code != 400 or not ours(request):
            return await http_exception_handler(request, exc)
        why = f"body: {exc.detail} (send JSON)"
        return JSONResponse({"error": why, "field": "body"}, status_code=422)

    app.add_exception_handler(RequestValidationError, bad_body)
    app.add_exception_handler(HTTPException, unparsable)


def admin_router(
    admin: RuntimeAdmin,
    prefix: str,
    who: Callable[..., Awaitable[Who]],
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> APIRouter:
    """The routes under ``prefix``; ``who``: a dependency naming the (allowed) caller;
    ``responses``: the refusals ``who`` adds (the web port's 401 and 403)."""
    api = APIRouter(prefix=prefix, responses={**(responses or {}), **ADMIN_RESPONSES})
    caller = Depends(who)

    @api.get("/agents/{agent}")
    async def view(agent: str, by: Who = caller) -> dict[str, Any]:
        return admin.view(agent)

    @api.put("/agents/{agent}/skills")
    async def skills(agent: str, body: SkillsBody, by: Who = caller) -> dict[str, Any]:
        return await admin.set_skills(by, agent, body.skills)

    @api.post("/agents", status_code=201)
    async def add(body: AgentBody, by: Who = caller) -> dict[str, Any]:
        return await admin.add(by, body.agent, body.name, body.skills, body.wrapup_s)

    @api.delete("/agents/{agent}")
    async def remove(agent: str, by: Who = caller) -> dict[str, Any]:
        return await admin.remove(by, agent)

    @api.post("/reload")
    async def reload(body: ReloadBody | None = None, by: Who = caller) -> dict[str, Any]:
        path = Path(body.file) if body is not None and body.file else None
        return await admin.reload(by, path)

    return api


def supervisor_who() -> Callable[..., Awaitable[Who]]:
    """The web port's caller: a CRM user who is a supervisor or an admin."""
    require = Require(Role.SUPERVISOR)

    async def who(request: Request) -> Who:
        user: User = await require(request)
        return Who(user.name, user.role.value)

    return who


async def control_who() -> Who:
    """The control socket's caller (the kernel already checked it is serve's user)."""
    return CONTROL_PEER
