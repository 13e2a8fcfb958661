"""The browser-facing API of ``hotline serve``: the agent's current offer with its
screen-pop, and the CRM's JSON API, on a loopback TCP port (``[web]``).

``GET /api/agents/{agent}/offer`` answers the call the agent is ringing for, on,
or wrapping up (call id, queue, caller number, seconds waited), with the
caller's screen-pop (residents, open cases, last calls) when the CRM is on, or
``"offer": null``. With the CRM on it needs a CRM login of a supervisor, or of
the agent whose seat it is (the user's ``agent_id``; another seat is 403), with
``Authorization: Bearer`` from ``POST /api/crm/login``, and writes one audit row
per user and call. The screen-pop was looked up when the call was
offered (:class:`serve.crm_link.CrmLink`); a slow CRM holds this request
for at most ``POP_WAIT_S``, never the routing. Errors are the CRM's
``{"error": ...}``: an unknown agent is 404.

The control API (login, ready, pause) stays on the unix socket.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

from acd.types import CallId
from crm import api as crm_api
from crm.api_auth import CALL_ROLES, Require
from crm.api_errors import install_error_handlers
from crm.errors import ForbiddenError, NotFoundError
from crm.lifecycle import Role
from crm.models import User
from serve.control import QuietServer
from serve.crm_link import CrmLink
from telephony.shell import CallShell

__all__ = ["POP_WAIT_S", "WebServer", "build_web_app"]

POP_WAIT_S = 3.0


def build_web_app(shell: CallShell, link: CrmLink | None) -> FastAPI:
    app = FastAPI(title="hotline serve")
    if link is not None:
        crm_api.install(app, link.repo)
    else:
        install_error_handlers(app)
    agent_or_supervisor = Require(*CALL_ROLES)

    @app.get("/api/agents/{agent}/offer")
    async def offer(agent: str, request: Request) -> dict[str, Any]:
        user = await agent_or_supervisor(request) if link is not None else None
        if user is not None and user.role is Role.AGENT and user.agent_id != agent:
            seat = f"seat {user.agent_id}" if user.agent_id else "no seat (agent_id)"
            raise ForbiddenError(f"user {user.name} has {seat}: not the offer of agent {agent}")
        a = shell.engine.agents.get(agent)
        if a is None:
            raise NotFoundError("agent", agent)
        call = shell.engine.calls.get(CallId(a.call)) if a.call else None
        body: dict[str, Any] = {"agent": agent, "state": a.state.value, "offer": None}
        if call is None:
            return body
        until = call.answered_at if call.answered_at is not None else shell.clock.now()
        body["offer"] = {
            "call": call.id,
            "queue": call.queue,
            "caller": call.caller,
            "waited_s": round(until - call.arrived_at, 1),
            "arrived_at": call.arrived_at,
            "answered_at": call.answered_at,
            "callback": call.callback,
        }
        if link is not None and user is not None:
            body.update(await _screen_pop(link, user, call.id, call.caller, agent))
        return body

    return app


async def _screen_pop(
    link: CrmLink, user: User, call: CallId, caller: str, agent: str
) -> dict[str, Any]:
    task = link.lookup(call, caller)
    await asyncio.wait({task}, timeout=POP_WAIT_S)
    if not task.done():
        return {"screen_pop": None, "screen_pop_error": "the CRM is slow: try again"}
    if task.cancelled():
        return {"screen_pop": None, "screen_pop_error": "the call has finished"}
    pop = task.result()
    if isinstance(pop, str):
        return {"screen_pop": None, "screen_pop_error": pop}
    seen = link.audited.setdefault(call, set())
    if user.name not in seen:  # every read of a resident's record is audited, once per call
        ids = [r.id for r in pop.residents]
        await link.repo.audit.record(
            user, "screenpop", ids, f"caller={caller} call={call} agent={agent}"
        )
        seen.add(user.name)
    return {"screen_pop": dataclasses.asdict(pop)}


class WebServer:
    """uvicorn on ``host:port`` (0: any free port), bound at once so a busy port fails
    the start of serve and ``port`` is known before serving."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, port), family=family)
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = QuietServer(config)

    async def serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            self.sock.close()

    def stop(self) -> None:
        self.server.should_exit = True
