"""The wallboard's API: the wallboard's body and a supervisor's actions (docs/web-api.md).

- ``GET /api/wallboard``: the ``wallboard`` frame (:mod:`serve.wallboard_view`);
- ``POST /api/supervisor/agents/{agent}/pause`` ``{"reason"}`` and ``.../logout``:
  a forced pause or log-out, through :class:`agents.control.AgentControl` (on a
  call: after the call, as the engine has it);
- ``POST /api/supervisor/calls/{call}/priority`` ``{"priority"}`` and
  ``.../queue`` ``{"queue"}``: the engine's ``CallPriorityChanged`` and
  ``CallRequeued``, through the shell's ``feed`` (the one way in);
- ``POST /api/supervisor/agents/{agent}/spy`` ``{"mode": "listen" | "whisper" |
  "barge"}``: Asterisk rings the supervisor's own seat (the CRM user's
  ``agent_id``) and, answered, ChanSpies on the agent's call (:mod:`telephony.spy`).

Supervisors and admins only (``crm.api_auth.Require``: an agent is 403, no login
401). Every action that passes the checks is written to the CRM's audit log
(``supervisor.<action>``, who, when, on what) before it is carried out, and a
refusal by the engine or by Asterisk once more (``supervisor.<action>.refused``).
Errors are the CRM's shape: 404 an unknown agent or call, 409 the engine's refusal
(its text), 422 a bad body naming the field, 502 Asterisk refused the spy leg.
The router needs the CRM (``app.state.crm``): include it only when the CRM is on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from acd import events as ev
from acd.engine import EngineError
from acd.types import AgentId, CallId, QueueName
from agents.control import AgentControl, Command, ControlError, UnknownAgentError
from crm.api_auth import Require, repository
from crm.api_spec import ERROR_RESPONSES
from crm.errors import InvalidFieldError, NotFoundError
from crm.lifecycle import Role
from crm.models import User
from crm.repository import CrmRepository
from serve.read_model import ReadModel
from serve.wallboard_view import AlarmSource, wallboard_frame
from telephony.ami_client import AMI_ERRORS
from telephony.spy import SpyMode

__all__ = ["SpyLeg", "supervisor_router"]

SpyLeg = Callable[[AgentId, AgentId, SpyMode], Awaitable[None]]  # CallShell.spy
Feed = Callable[[ev.Event], object]  # CallShell.feed(strict=True): raises EngineError


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PauseBody(_Body):
    reason: str = Field(min_length=1, max_length=64)


class PriorityBody(_Body):
    priority: str = Field(min_length=1, max_length=64)


class QueueBody(_Body):
    queue: str = Field(min_length=1, max_length=64)


class SpyBody(_Body):
    mode: SpyMode


def _refused(text: str, status: int = 409) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


def supervisor_router(
    read_model: ReadModel,
    control: AgentControl,
    feed: Feed,
    spy: SpyLeg,
    alarms: AlarmSource = None,
) -> APIRouter:
    """``feed``: the shell's way in, raising :class:`EngineError` on a refusal;
    ``spy``: the shell's spy leg; ``alarms``: the active alarms (or a callable)."""
    config = read_model.engine.config
    roster = read_model.engine.agents
    supervisor = Depends(Require(Role.SUPERVISOR))
    crm = Depends(repository)
    api = APIRouter(responses=ERROR_RESPONSES)

    async def audit(repo: CrmRepository, user: User, action: str, detail: str) -> None:
        await repo.audit.act(user, f"supervisor.{action}", detail)

    def known_agent(agent: str) -> None:
        if agent not in roster:  # the live roster: agents added at runtime too
            raise NotFoundError("agent", agent)

    def known_call(call: str) -> None:
        if read_model.call(call) is None:
            raise NotFoundError("call", call)

    async def command(
        repo: CrmRepository, user: User, agent: str, cmd: Command, reason: str | None
    ) -> Any:
        detail = f"agent={agent}" + (f" reason={reason}" if reason else "")
        await audit(repo, user, cmd.value, detail)
        try:
            return control.command(agent, cmd, reason).as_dict()
        except UnknownAgentError as e:
            raise NotFoundError("agent", agent) from e
        except ControlError as e:
            await audit(repo, user, f"{cmd.value}.refused", f"{detail}: {e}")
            return _refused(str(e))

    async def engine_event(
        repo: CrmRepository, user: User, action: str, detail: str, event: ev.Event
    ) -> Any:
        await audit(repo, user, action, detail)
        try:
            feed(event)
        except EngineError as e:
            await audit(repo, user, f"{action}.refused", f"{detail}: {e}")
            return _refused(str(e))
        view = read_model.call(str(getattr(event, "call", "")))
        return {"call": getattr(event, "call", None), "state": view.state if view else None}

    @api.get("/api/wallboard")
    async def wallboard(user: User = supervisor) -> dict[str, Any]:
        return wallboard_frame(read_model, alarms)

    @api.get("/api/wallboard/intervals")
    async def intervals(user: User = supervisor) -> dict[str, Any]:
        metrics = config.metrics
        return {
            "intervals": read_model.today_intervals(),
            "interval_s": metrics.interval_s,
            "service_level_s": list(metrics.service_level_s),
            "timezone_offset_s": config.timezone_offset_s,
            "at": read_model.clock.now(),
        }

    @api.post("/api/supervisor/agents/{agent}/pause")
    async def pause(
        agent: str, body: PauseBody, user: User = supervisor, repo: CrmRepository = crm
    ) -> Any:
        known_agent(agent)
        reasons = config.pause_reasons
        if reasons and body.reason not in reasons:
            raise InvalidFieldError(
                "reason", f"unknown pause reason {body.reason!r} (known: {sorted(reasons)})"
            )
        return await command(repo, user, agent, Command.PAUSE, body.reason)

    @api.post("/api/supervisor/agents/{agent}/logout")
    async def logout(agent: str, user: User = supervisor, repo: CrmRepository = crm) -> Any:
        known_agent(agent)
        return await command(repo, user, agent, Command.LOGOUT, None)

    @api.post("/api/supervisor/calls/{call}/priority")
    async def priority(
        call: str, body: PriorityBody, user: User = supervisor, repo: CrmRepository = crm
    ) -> Any:
        known_call(call)
        if body.priority not in config.priorities:
            raise InvalidFieldError(
                "priority",
                f"unknown priority {body.priority!r} (known: {sorted(config.priorities)})",
            )
        event = ev.CallPriorityChanged(CallId(call), body.priority)
        detail = f"call={call} priority={body.priority}"
        return await engine_event(repo, user, "priority", detail, event)

    @api.post("/api/supervisor/calls/{call}/queue")
    async def queue(
        call: str, body: QueueBody, user: User = supervisor, repo: CrmRepository = crm
    ) -> Any:
        known_call(call)
        if body.queue not in config.queues:
            raise InvalidFieldError(
                "queue", f"unknown queue {body.queue!r} (known: {sorted(config.queues)})"
            )
        event = ev.CallRequeued(CallId(call), QueueName(body.queue), "supervisor")
        return await engine_event(repo, user, "queue", f"call={call} queue={body.queue}", event)

    @api.post("/api/supervisor/agents/{agent}/spy")
    async def spy_on(
        agent: str, body: SpyBody, user: User = supervisor, repo: CrmRepository = crm
    ) -> Any:
        known_agent(agent)
        seat = user.agent_id
        if not seat:
            raise InvalidFieldError(
                "agent_id", f"user {user.name} has no seat (agent_id) for Asterisk to ring"
            )
        if seat not in roster:
            raise InvalidFieldError("agent_id", f"user {user.name}'s seat {seat!r} is no endpoint")
        if seat == agent:
            raise InvalidFieldError("agent", f"seat {seat} is the supervisor's own")
        detail = f"agent={agent} mode={body.mode.value} seat={seat}"
        await audit(repo, user, "spy", detail)
        view = read_model.agent(agent)
        if view is None or view.state != "on-call":
            state = view.state if view else "logged-out"
            text = (
                f"agent {agent}: spy ({body.mode.value}), but the agent is {state}, not on a call"
            )
            await audit(repo, user, "spy.refused", f"{detail}: {text}")
            return _refused(text)
        try:
            await spy(AgentId(seat), AgentId(agent), body.mode)
        except AMI_ERRORS as e:
            text = f"Asterisk refused to ring seat {seat}: {e}"
            await audit(repo, user, "spy.refused", f"{detail}: {text}")
            return _refused(text, 502)
        return {"agent": agent, "mode": body.mode.value, "seat": seat, "call": view.call}

    return api
