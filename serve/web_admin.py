"""Runtime administration over HTTP (docs/web-api.md, "Runtime administration"): the
same routes on the web port (``/api/admin/...``: supervisors and admins, by CRM
log-in; an agent is 403) and on the control socket (``/admin/...``: serve's own
user or root, as every control request; ``hotline admin``).

- ``GET .../agents/{agent}``: its name, skills, wrap-up and state;
- ``PUT .../agents/{agent}/skills`` ``{"skills": {"elderly": 8, ...}}``;
- ``POST .../agents`` ``{"agent", "name"?, "skills", "wrapup_s"?}``: a new seat,
  logged out;
- ``DELETE .../agents/{agent}``: a logged-out agent leaves the roster;
- ``POST .../reload`` ``{"file"?}``: reload the config serve runs (or ``file``).

What each does and refuses is :mod:`serve.admin`. Errors are ``{"error", "field"}``:
422 a bad body or file (the key named), 404 an unknown agent, 409 the agent's state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from crm.api_auth import Require
from crm.lifecycle import Role
from crm.models import User
from serve.admin import AdminError, RuntimeAdmin, Who

__all__ = [
    "CONTROL_PEER",
    "admin_router",
    "control_who",
    "install_admin_errors",
    "supervisor_who",
]

CONTROL_PEER = Who("control-socket", "root")  # who the control socket's requests are

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


def install_admin_errors(app: FastAPI) -> None:
    async def admin_error(request: Request, exc: Exception) -> JSONResponse:
        key, status = getattr(exc, "key", ""), getattr(exc, "status", 422)
        return JSONResponse({"error": str(exc), "field": key}, status_code=status)

    app.add_exception_handler(AdminError, admin_error)


def admin_router(admin: RuntimeAdmin, prefix: str, who: Callable[..., Awaitable[Who]]) -> APIRouter:
    """The routes under ``prefix``; ``who``: a dependency naming the (allowed) caller."""
    api = APIRouter(prefix=prefix)
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
