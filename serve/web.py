"""The browser-facing API of ``hotline serve``: the agent's current offer with its
screen-pop, and the CRM's JSON API, on a loopback TCP port (``[web]``).

``GET /api/agents/{agent}/offer`` answers the call the agent is ringing for, on,
or wrapping up (call id, queue, caller number, seconds waited), with the
caller's screen-pop (residents, open cases, last calls) when the CRM is on, or
``"offer": null``. With the CRM on it needs a CRM login of a supervisor, or of
the agent whose seat it is (the user's ``agent_id``; another seat is 403), with
``Authorization: Bearer`` from ``POST /api/crm/login``, and writes one audit row
per user and call. The screen-pop was looked up when the call was
offered (:class:`crm.link.CrmLink`); a slow CRM holds this request
for at most ``POP_WAIT_S``, never the routing. Errors are the CRM's
``{"error": ...}``: an unknown agent is 404.

With agent control and the WebSocket hub given, the same app serves the pages
(:mod:`serve.web_pages`: ``/``, ``/desk``, ``/wallboard``, ``/static``, ``/ws``)
and, with the CRM on, the desk's actions (:mod:`serve.web_desk`, ``/api/desk``).
``GET /metrics`` is the Prometheus scrape (:mod:`serve.metrics_http`, no log-in).
The control API (login, ready, pause) stays on the unix socket too.

``/docs``, ``/redoc`` and ``/openapi.json`` are served only with ``docs=True``
(``[web] docs = true``, development). With a certificate and key the port speaks
TLS only (https, wss). No CSRF token is needed: the API authenticates each
request with ``Authorization: Bearer`` (and the WebSocket with its first frame),
never with a cookie, so a page on another site cannot make a browser send it.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request

from acd.types import CallId
from agents.control import AgentControl, may_act
from crm import api as crm_api
from crm.api import docs_urls
from crm.api_auth import CALL_ROLES, Require
from crm.api_errors import install_error_handlers
from crm.api_spec import ERROR_RESPONSES
from crm.errors import ForbiddenError, NotFoundError
from crm.lifecycle import Role
from crm.link import CrmLink
from ivr.broadcast import BroadcastBoard
from serve import metrics_http
from serve.admin import RuntimeAdmin
from serve.control import QuietServer, stop_uvicorn
from serve.followup import FollowupService
from serve.prometheus import Metrics
from serve.read_model import ReadModel
from serve.recordings import RecordingLink
from serve.web_admin import admin_router, install_admin_errors, supervisor_who
from serve.web_broadcast import broadcast_router
from serve.web_desk import desk_router, install_control_errors
from serve.web_followup import followup_router
from serve.web_pages import install_pages
from serve.web_recordings import recordings_router
from serve.web_transfer import transfer_router
from serve.ws import Hub
from telephony.transfer import Transferrer

__all__ = ["POP_WAIT_S", "WebServer", "build_web_app"]

POP_WAIT_S = 3.0


def build_web_app(
    read_model: ReadModel,
    link: CrmLink | None,
    control: AgentControl | None = None,
    hub: Hub | None = None,
    metrics: Metrics | None = None,
    supervisor: APIRouter | None = None,
    *,
    docs: bool = False,
    followups: FollowupService | None = None,
    recordings: RecordingLink | None = None,
    admin: RuntimeAdmin | None = None,
    transfers: Transferrer | None = None,
    broadcast: BroadcastBoard | None = None,
) -> FastAPI:
    """The one place that composes ``hotline serve``'s web app (serve and the API
    fuzz world build it alike). With the CRM only: ``supervisor``, the wallboard's
    API (:mod:`serve.web_supervisor`) and ``broadcast`` on it (:mod:`serve.web_broadcast`);
    ``followups``: 回访 follow-up calls (:mod:`serve.web_followup`); ``recordings``
    (:mod:`serve.web_recordings`); ``admin``: runtime administration under
    ``/api/admin`` (:mod:`serve.web_admin`); ``transfers``: the desk's transfers
    (:mod:`serve.web_transfer`). ``docs``: serve ``/docs``, ``/redoc`` and
    ``/openapi.json`` (development)."""
    app = FastAPI(title="hotline serve", **docs_urls(docs))
    if metrics is not None:
        metrics_http.install(app, metrics)
    if link is not None:
        crm_api.install(app, link.repo)
        if supervisor is not None:
            app.include_router(supervisor)
        if broadcast is not None:
            poke = hub.poke if hub is not None else None  # pushed to every wallboard
            app.include_router(broadcast_router(broadcast, read_model.clock, poke))
    else:
        install_error_handlers(app)
    install_control_errors(app)
    install_admin_errors(app)
    if control is not None:
        install_pages(app, hub)
        if link is not None:
            hook = followups.disposition if followups is not None else None
            app.include_router(desk_router(read_model, control, link, hook))
            if followups is not None:  # 回访 follow-up calls (serve.web_followup)
                agents = frozenset(read_model.engine.config.agents)
                app.include_router(followup_router(followups, agents))
    if link is not None:  # after the desk's routes, as they always were
        if recordings is not None:
            app.include_router(recordings_router(recordings))
        if admin is not None:  # supervisors and admins, by CRM log-in
            app.include_router(admin_router(admin, "/api/admin", supervisor_who(), ERROR_RESPONSES))
        if transfers is not None:  # the desk's transfers (the audit needs the CRM)
            app.include_router(transfer_router(read_model, transfers))
    agent_or_supervisor = Require(*CALL_ROLES)

    @app.get("/api/agents/{agent}/offer", responses=ERROR_RESPONSES)
    async def offer(agent: str, request: Request) -> dict[str, Any]:
        user = await agent_or_supervisor(request) if link is not None else None
        if user is not None and not may_act(
            agent, seat=user.agent_id, supervisor=user.role is not Role.AGENT
        ):
            seat = f"seat {user.agent_id}" if user.agent_id else "no seat (agent_id)"
            raise ForbiddenError(f"user {user.name} has {seat}: not the offer of agent {agent}")
        body = read_model.offer(agent)
        if body is None:
            raise NotFoundError("agent", agent)
        call = body["offer"]
        if call is not None and link is not None and user is not None:
            pop = await link.screen_pop_for(
                user, CallId(call["call"]), call["caller"], agent, POP_WAIT_S
            )
            body.update(pop)
        return body

    return app


class WebServer:
    """uvicorn on ``host:port`` (0: any free port), bound at once so a busy port fails
    the start of serve and ``port`` is known before serving; TLS with ``certificate``
    and ``key`` (PEM files); serving while ``async with`` runs."""

    def __init__(
        self,
        app: FastAPI,
        host: str,
        port: int,
        certificate: Path | None = None,
        key: Path | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, port), family=family)
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        self.scheme = "https" if certificate is not None else "http"
        # No per-message deflate on /ws: each socket compresses its own copy of every
        # frame; with 50 wallboards that was a third of serve's CPU
        # (benchmarks/fanout.py). A remote browser (TLS on a LAN address) gets frames
        # uncompressed: a wallboard frame is ~70 kB, at most two a second.
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws_per_message_deflate=False,
            ssl_certfile=str(certificate) if certificate is not None else None,
            ssl_keyfile=str(key) if key is not None else None,
        )
        config.load()  # a bad certificate or key fails the start of serve here
        self.server = QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            self.sock.close()

    async def __aenter__(self) -> WebServer:
        self._task = asyncio.create_task(self.serve())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            await stop_uvicorn(self.server, self._task)
        self.sock.close()
