"""A WebSocket client of the hub: who may listen (the ``hello``), and each socket's queue.

**Who may listen.** Nothing is sent before the page's ``hello`` (token, view, and
for a desk the agent; :func:`admit`): a missing or expired token is refused with
an ``error`` frame and close code 4401, a view the user may not see with 4403 (an
agent asks for another seat's desk; anyone but a supervisor or admin asks for the
wallboard), an unknown view or agent with 4404 (:class:`Refusal`).

**Never block routing.** An admitted socket is a :class:`Client`: its own
bounded queue of frames and its own sender task; the hub (:mod:`serve.ws`) only
offers it frames (:meth:`Client.offer`, never waiting) and drops it when the
queue is full.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Container
from typing import Any, Protocol

from crm.errors import AuthenticationError
from crm.lifecycle import Role
from crm.models import User

__all__ = ["Client", "Refusal", "Socket", "admit"]

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)
DESK_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


class Socket(Protocol):
    """What the hub needs of a WebSocket (Starlette's, or a test's)."""

    async def send_text(self, data: str) -> None: ...
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Refusal(Exception):
    """A hello the hub refuses: HTTP-like ``status`` and close code ``4000 + status``."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error

    def frame(self) -> str:
        return json.dumps({"type": "error", "status": self.status, "error": self.error})


class Client:
    """One socket: what it watches, its bounded queue of frames, its sender task."""

    def __init__(
        self, ws: Socket, user: User, token: str, view: str, agent: str | None, size: int
    ) -> None:
        self.ws = ws
        self.user = user
        self.token = token
        self.view = view
        self.agent = agent
        self.queue: asyncio.Queue[str] = asyncio.Queue(size)
        self.popped: str | None = None  # the call whose screen-pop it has (or is getting)
        self.gone = asyncio.Event()  # dropped, refused or closed: the endpoint returns
        self.sender: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                await self.ws.send_text(text)
        except Exception:  # the peer went away: the endpoint cleans up
            self.gone.set()

    def offer(self, text: str) -> bool:
        """Queue a frame; False if the queue is full (the socket is too slow)."""
        if self.gone.is_set():
            return True
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True

    async def close(self, code: int, frame: str | None = None) -> None:
        if self.sender is not None:
            self.sender.cancel()
        with contextlib.suppress(Exception):
            if frame is not None:
                await asyncio.wait_for(self.ws.send_text(frame), 1.0)
            await asyncio.wait_for(self.ws.close(code), 1.0)
        self.gone.set()


async def admit(
    hello: Any,
    authenticate: Callable[[str], Awaitable[User]] | None,
    roster: Container[str],
) -> tuple[User, str, str, str | None]:
    """Check a ``hello``: (user, token, view, agent), or :class:`Refusal`."""
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        raise Refusal(401, "the first frame must be {'type': 'hello', 'token': ...}")
    token = hello.get("token")
    if not isinstance(token, str) or not token:
        raise Refusal(401, "hello.token: log in first")
    if authenticate is None:
        raise Refusal(401, "no log-in without the CRM ([crm] is off)")
    try:
        user = await authenticate(token)
    except AuthenticationError as e:
        raise Refusal(401, str(e)) from None
    view = hello.get("view")
    if view == "wallboard":
        if user.role not in SUPERVISING:
            raise Refusal(403, f"the wallboard is for supervisors; {user.name} is {user.role}")
        return user, token, view, None
    if view != "desk":
        raise Refusal(404, f"hello.view: no view {view!r} (desk, wallboard)")
    agent = hello.get("agent") or user.agent_id
    if not isinstance(agent, str) or agent not in roster:
        raise Refusal(404, f"hello.agent: no agent {agent!r} in the roster")
    if user.role not in DESK_ROLES or (user.role is Role.AGENT and user.agent_id != agent):
        seat = f"seat {user.agent_id}" if user.agent_id else "no seat"
        raise Refusal(403, f"user {user.name} has {seat}: not the desk of agent {agent}")
    return user, token, view, agent
