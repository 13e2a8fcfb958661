"""The WebSocket hub: ``GET /ws`` pushes ``desk`` and ``wallboard`` frames (docs/web-api.md).

**Who may listen.** Nothing is sent before the page's ``hello``, which
:func:`serve.ws_client.admit` checks (refused: an ``error`` frame and a close
code 4401, 4403 or 4404). A session that expires while its socket is open is
refused the same way at the next check (every ``reauth_s``).

**Theory of operation.** The hub is one subscriber of the shell's notifier
(:meth:`Hub.notify`), called on the routing path: it only marks what changed
(the seats a note names, and the wallboard) and wakes the pusher task — it never
builds a frame or touches a socket there. The pusher waits ``coalesce_s`` after
the first wake-up so that the burst of notes one event makes (an offer is an
``OfferCall`` and two ``AgentStateChanged``) becomes one frame, then builds each
dirty desk's frame once and the wallboard's once, from the read model only, and
hands the same text to every socket that watches it. The wallboard is the
exception: it lists every agent and goes to every supervisor (some 70 kB per
socket with 200 seats, each socket compressing and writing its own copy), and at
20 calls/s something changes every 50 ms, so after a change it is rebuilt at most
every ``wall_coalesce_s`` (0.5 s; a first change after a quiet spell goes out at
the desks' pace). Pushed at the desks' pace it cost serve more CPU per call than
routing, the CRM and the desks together (``benchmarks/fanout.py``). Besides, the
wallboard is pushed every ``tick_s`` and every desk every ``desk_every_s`` (waits
and times in state move on; a page that sees no frame for 5 s shows itself stale).

**Never block routing.** Each socket (:class:`serve.ws_client.Client`) has its
own bounded queue of frames and its own sender task; the pusher only
``put_nowait``\\ s. A socket whose queue is full (a slow or stalled browser) is
dropped — closed, counted in ``ws_dropped`` — and never waited for; its page
reconnects and gets a fresh frame.

**The emergency broadcast** is in the wallboard frame (``broadcast``): its set and
clear routes :meth:`Hub.poke` the hub, so every open wallboard has it within
``wall_coalesce_s``; its expiry shows at the next tick.

**Screen-pops.** When a desk's frame shows a call the socket has not had a
screen-pop for, a task asks the CRM link (:meth:`crm.link.CrmLink.screen_pop_for`,
which audits one row per user and call) and queues a ``screen_pop`` frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from acd import effects as fx
from acd.alarms import AlarmCleared, AlarmRaised
from acd.counters import Count
from acd.types import CallId
from crm.errors import AuthenticationError
from crm.link import CrmLink
from crm.models import User
from serve.read_model import ReadModel
from serve.wallboard_view import AlarmSource, wallboard_frame
from serve.ws_client import Client, Refusal, admit

__all__ = ["Hub"]

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10.0
POP_WAIT_S = 3.0


class Hub:
    def __init__(
        self,
        read_model: ReadModel,
        authenticate: Callable[[str], Awaitable[User]] | None,
        link: CrmLink | None,
        stats: Counter[str],
        *,
        alarms: AlarmSource = None,
        coalesce_s: float = 0.1,
        wall_coalesce_s: float = 0.5,
        tick_s: float = 1.0,
        desk_every_s: float = 2.0,
        reauth_s: float = 30.0,
        queue_size: int = 64,
    ) -> None:
        self.read_model = read_model
        self.authenticate = authenticate
        self.link = link
        self.stats = stats
        self.alarms = alarms
        self.coalesce_s = coalesce_s
        self.wall_coalesce_s = wall_coalesce_s
        self.tick_s = tick_s
        self.desk_every_s = desk_every_s
        self.reauth_s = reauth_s
        self.queue_size = queue_size
        self.roster = read_model.engine.agents  # live: agents added at runtime too
        self.desks: dict[str, set[Client]] = {}
        self.walls: set[Client] = set()
        self.dirty: set[str] = set()
        self.wall_dirty = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # the notifier's subscriber: synchronous, cheap, never raises

    def notify(self, note: object) -> None:
        if isinstance(note, AlarmRaised | AlarmCleared):
            event = "raised" if isinstance(note, AlarmRaised) else "cleared"
            self.alarm(event, {**note.alarm.as_dict(), "at": note.at})
        agent = getattr(note, "agent", None)
        if isinstance(note, fx.CallFinished):
            agent = note.record.agent
        if agent is not None:
            self.dirty.add(str(agent))
        self.wall_dirty = True
        self._wake.set()

    def poke(self) -> None:
        """Something the wallboard shows changed outside the notifier (the emergency
        broadcast was set or cleared): push the wallboard soon, as after a note."""
        self.wall_dirty = True
        self._wake.set()

    def alarm(self, event: str, alarm: Mapping[str, Any]) -> None:
        """Push ``{"type": "alarm", ...}`` to every wallboard (for the alarm subscriber)."""
        text = json.dumps({"type": "alarm", "event": event, "alarm": dict(alarm)})
        for c in list(self.walls):
            self._offer(c, text)

    # lifecycle

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def __aenter__(self) -> Hub:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for t in list(self._tasks):
            t.cancel()
        for c in [*self.walls, *(c for cs in self.desks.values() for c in cs)]:
            await c.close(1001)

    # the pusher

    async def run(self) -> None:
        last_desks = last_auth = time.monotonic()
        last_wall = last_desks - self.wall_coalesce_s  # a first change is pushed at once
        while True:
            timeout = max(0.0, last_wall + self._wall_every() - time.monotonic())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
                await asyncio.sleep(self.coalesce_s)  # one frame for a burst of notes
            except TimeoutError:
                pass
            self._wake.clear()
            now = time.monotonic()
            all_desks = now - last_desks >= self.desk_every_s
            if all_desks:
                last_desks = now
            wall = now - last_wall >= self._wall_every()
            try:
                self.push(all_desks=all_desks, wall=wall)
            except Exception:  # a bug in a view must not stop the pushes
                self.stats[Count.WS_PUSH_FAILURES] += 1
                log.exception("WebSocket push failed")
            if wall:
                last_wall = now
            if now - last_auth >= self.reauth_s:
                last_auth = now
                self._spawn(self.reauthenticate())

    def _wall_every(self) -> float:
        """The wallboard's next frame is due this long after its last: soon after a
        change, else at the tick."""
        return self.wall_coalesce_s if self.wall_dirty else self.tick_s

    def push(self, *, all_desks: bool = False, wall: bool = False) -> None:
        """Build the frames that changed (or all, when due) and queue them."""
        agents = set(self.desks) if all_desks else self.dirty & set(self.desks)
        self.dirty.clear()
        for agent in agents:
            clients = self.desks.get(agent)
            frame = self.read_model.desk(agent)
            if not clients or frame is None:
                continue
            text = json.dumps(frame)
            for c in list(clients):
                self._offer(c, text)
                self._screen_pop(c, frame)
        if wall:
            self.wall_dirty = False
            if self.walls:
                text = json.dumps(self.wallboard())
                for c in list(self.walls):
                    self._offer(c, text)
        self.stats[Count.WS_PUSHES] += 1

    def wallboard(self) -> dict[str, Any]:
        return wallboard_frame(self.read_model, self.alarms)

    def _offer(self, c: Client, text: str) -> None:
        if not c.offer(text):
            self.stats[Count.WS_DROPPED] += 1
            log.warning("WebSocket of %s (%s) too slow: dropped", c.user.name, c.view)
            self.detach(c)
            self._spawn(c.close(1013))

    def _screen_pop(self, c: Client, frame: Mapping[str, Any]) -> None:
        offer = frame.get("offer")
        call = offer["call"] if offer else None
        if call is None or call == c.popped:
            return
        c.popped = call
        self._spawn(self._pop(c, CallId(call), offer["caller"] if offer else ""))

    async def _pop(self, c: Client, call: CallId, caller: str) -> None:
        body: dict[str, Any] = {"type": "screen_pop", "call": call}
        if self.link is None:
            body.update(screen_pop=None, screen_pop_error="no CRM")
        else:
            try:
                body.update(
                    await self.link.screen_pop_for(c.user, call, caller, c.agent or "", POP_WAIT_S)
                )
            except Exception as e:  # the CRM failing is shown, not fatal
                self.stats[Count.CRM_SCREENPOP_FAILURES] += 1
                body.update(screen_pop=None, screen_pop_error=f"the CRM failed ({e})")
        self._offer(c, json.dumps(body))

    async def reauthenticate(self) -> None:
        """Refuse the sockets whose session expired (or whose user was disabled)."""
        if self.authenticate is None:
            return
        for c in [*self.walls, *(c for cs in self.desks.values() for c in cs)]:
            try:
                await self.authenticate(c.token)
            except AuthenticationError as e:
                self.detach(c)
                await c.close(4401, Refusal(401, str(e)).frame())
            except Exception:  # the CRM is down: keep the socket, check again later
                log.warning("WebSocket: cannot re-check %s's session", c.user.name)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # sockets

    def attach(self, c: Client) -> None:
        if c.view == "wallboard":
            self.walls.add(c)
        elif c.agent is not None:
            self.desks.setdefault(c.agent, set()).add(c)
        self.stats[Count.WS_CLIENTS] = self.clients()

    def detach(self, c: Client) -> None:
        self.walls.discard(c)
        if c.agent is not None and c.agent in self.desks:
            self.desks[c.agent].discard(c)
            if not self.desks[c.agent]:
                del self.desks[c.agent]
        self.stats[Count.WS_CLIENTS] = self.clients()

    def clients(self) -> int:
        return len(self.walls) + sum(len(cs) for cs in self.desks.values())

    async def endpoint(self, ws: WebSocket) -> None:
        """``GET /ws``: hello, welcome, the first frame, then pushes until either side ends."""
        self.start()
        await ws.accept()
        try:
            hello = await asyncio.wait_for(ws.receive_json(), HELLO_TIMEOUT_S)
            user, token, view, agent = await admit(hello, self.authenticate, self.roster)
        except Refusal as r:
            with contextlib.suppress(Exception):
                await ws.send_text(r.frame())
                await ws.close(4000 + r.status)
            return
        except (TimeoutError, WebSocketDisconnect, ValueError, KeyError):
            with contextlib.suppress(Exception):
                await ws.close(4401)
            return
        c = Client(ws, user, token, view, agent, self.queue_size)
        welcome = {
            "type": "welcome",
            "user": {"name": user.name, "role": str(user.role), "agent_id": user.agent_id},
            "server_time": time.time(),
        }
        c.offer(json.dumps(welcome))
        first = self.wallboard() if view == "wallboard" else self.read_model.desk(agent or "")
        c.offer(json.dumps(first))
        if first is not None and view == "desk":
            self._screen_pop(c, first)
        c.start()
        self.attach(c)
        receiver = asyncio.ensure_future(self._receive(ws, c))
        try:
            await c.gone.wait()
        finally:
            receiver.cancel()
            self.detach(c)
            if c.sender is not None:
                c.sender.cancel()

    async def _receive(self, ws: WebSocket, c: Client) -> None:
        """The page sends nothing after hello; this notices it going away."""
        try:
            while True:
                msg = await ws.receive()
                if msg.get("type") == "websocket.disconnect":
                    break
        except Exception:
            pass
        c.gone.set()
