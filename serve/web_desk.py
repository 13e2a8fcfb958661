"""The agent desk's actions (docs/web-api.md, "The desk's actions").

- ``GET /api/desk/config``: the pause reasons (``[pause_reasons]``), the wrap-up's
  disposition codes (``[crm.dispositions]``) and the case categories, with labels;
- ``GET /api/desk/{agent}``: the ``desk`` frame, for a first paint;
- ``POST /api/desk/{agent}/state`` ``{"command", "reason"?}``: through
  :class:`agents.control.AgentControl`, the one way in for agent commands;
- ``POST /api/desk/{agent}/disposition`` ``{"call", "code"}``: the code on the
  call's CRM interaction (kept until the interaction is written, at the end of
  the wrap-up: :meth:`crm.interactions.InteractionStore.mark`);
- ``POST /api/desk/{agent}/link`` ``{"call", "case"}``: the call was about this
  case (after a note added to an open case; a case created with
  ``"interaction"`` is linked by the CRM itself).

Every request needs a CRM log-in: an agent acts on its own seat only (the user's
``agent_id``; another seat is 403), a supervisor or admin on any. Errors are the
CRM's ``{"error", "field"?}``: 404 unknown agent or call, 409 the engine refused
(its words), 422 a bad body naming the field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.control import (
    AgentControl,
    Command,
    ControlError,
    NotYourSeatError,
    RefusedError,
    UnknownAgentError,
    may_act,
)
from crm.api_auth import CALL_ROLES, Require
from crm.api_models import MAX_ID
from crm.api_spec import ERROR_RESPONSES
from crm.errors import ForbiddenError, InvalidFieldError, NotFoundError
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.models import User
from serve.read_model import ReadModel

__all__ = ["desk_router", "install_control_errors"]

# agent control's errors → the CRM's error shape, in one place
_CODES: dict[type[Exception], int] = {
    UnknownAgentError: 404,
    NotYourSeatError: 403,
    RefusedError: 409,
}


def install_control_errors(app: FastAPI) -> None:
    async def control_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=_CODES.get(type(exc), 400))

    app.add_exception_handler(ControlError, control_error)


DeskUser = Annotated[User, Depends(Require(*CALL_ROLES))]


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    command: Command
    reason: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    call: Annotated[str, Field(min_length=1, max_length=64)]
    case: Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    call: Annotated[str, Field(min_length=1, max_length=64)]
    code: Annotated[str, Field(min_length=1, max_length=32)]


def check_seat(user: User, agent: str) -> None:
    if not may_act(agent, seat=user.agent_id, supervisor=user.role is not Role.AGENT):
        seat = f"seat {user.agent_id}" if user.agent_id else "no seat (agent_id)"
        raise ForbiddenError(f"user {user.name} has {seat}: not the desk of agent {agent}")


OnDisposition = Callable[[str, str, User], Awaitable[object]]


def desk_router(
    read_model: ReadModel,
    control: AgentControl,
    link: CrmLink,
    on_disposition: OnDisposition | None = None,
) -> APIRouter:
    """``on_disposition(call, code, user)``: told each code set (the follow-ups')."""
    router = APIRouter(prefix="/api/desk", responses=ERROR_RESPONSES)
    config = read_model.engine.config
    crm = link.repo.settings

    @router.get("/config")
    async def desk_config(user: DeskUser) -> dict[str, Any]:
        return {
            "pause_reasons": dict(config.pause_reasons),
            "dispositions": dict(crm.dispositions),
            "categories": {c.name: c.label for c in crm.categories.values()},
        }

    @router.get("/{agent}")
    async def desk(agent: str, user: DeskUser) -> dict[str, Any]:
        check_seat(user, agent)
        body = read_model.desk(agent)
        if body is None:
            raise NotFoundError("agent", agent)
        return body

    @router.post("/{agent}/state")
    async def state(agent: str, body: StateIn, user: DeskUser) -> dict[str, Any]:
        check_seat(user, agent)
        if body.reason is not None and body.reason not in config.pause_reasons:
            known = ", ".join(sorted(config.pause_reasons))
            raise InvalidFieldError("reason", f"not a pause reason: {body.reason!r} ({known})")
        return control.command(agent, body.command, body.reason).as_dict()  # errors: below

    async def own_call(agent: str, call: str) -> None:
        """The agent's call now, or one it answered: else 404."""
        a = read_model.agent(agent)
        if a is None:
            raise NotFoundError("agent", agent)
        if a.call == call:
            return
        try:
            it = await link.repo.interactions.get(call)
        except NotFoundError:
            it = None
        if it is None or it.agent != agent:
            raise NotFoundError(f"call of agent {agent}", call)

    @router.post("/{agent}/disposition")
    async def disposition(agent: str, body: DispositionIn, user: DeskUser) -> dict[str, Any]:
        check_seat(user, agent)
        if body.code not in crm.dispositions:
            known = ", ".join(crm.dispositions)
            raise InvalidFieldError("code", f"not a disposition code: {body.code!r} ({known})")
        await own_call(agent, body.call)
        it = await link.repo.interactions.mark(body.call, disposition=body.code)
        if on_disposition is not None:
            await on_disposition(body.call, body.code, user)
        return {"call": body.call, "code": body.code, "recorded": it is not None}

    @router.post("/{agent}/link")
    async def link_case(agent: str, body: LinkIn, user: DeskUser) -> dict[str, Any]:
        """The call was about this (existing, open) case: after a note added to it."""
        check_seat(user, agent)
        await own_call(agent, body.call)
        case = await link.repo.cases.get(body.case)
        it = await link.repo.interactions.mark(body.call, case_id=case.id)
        return {"call": body.call, "case": case.id, "recorded": it is not None}

    return router
