"""The fan-out benchmark's Asterisk: the scripted fake of ``tests/fakes`` on real sockets.

:class:`tests.fakes.asterisk.FakeAsterisk` plays the dialplan and sends events
shaped like Asterisk 22's, but to a callback in the same process, and it runs the
FastAGI hand-off in-process too. :class:`SocketAsterisk` keeps all of that and
changes only the two ends, so ``hotline serve`` in another process sees what it
sees from a real Asterisk:

- **AMI**: a manager server on a loopback port (greeting, ``Login``); every event
  the fake emits is written to serve's connection, every action serve sends is
  read with the production frame parser and answered. Beyond the fake's own
  actions (``Originate``, ``Hangup``, ``Redirect``, ``Setvar``) it applies
  ``Filter`` (serve's whitelist) to the events it writes, and answers the
  resync's and the reconciler's listings: ``PJSIPShowEndpoints`` (every seat has
  a contact) and ``CoreShowChannels`` (the fake's channels).
- **FastAGI**: a caller's hand-off is a real FastAGI connection to serve's port
  (``agi_*`` environment, ``GET``/``SET VARIABLE`` answered from the channel's
  variables); once serve closes it, the caller holds (``UserEvent
  HotlineWaiting``), exactly as the fake does.

What callers and agents do is scripted here: a seat answers ``ring_s`` after
it starts ringing and the caller hangs up ``talk_s`` later. Each event that
should change what an agent's desk shows is stamped with the wall-clock time
it was written (:attr:`SocketAsterisk.sent`): a caller arriving (the seat will
be ``offered``), an agent answering (``on-call``), a caller hanging up
(``wrap-up``).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from acd.types import AgentId, CallId, QueueName
from telephony.agi import AgiError
from telephony.ami_frames import AmiMessage, FrameParser
from telephony.settings import ShellSettings
from tests.fakes.asterisk import FakeAsterisk, _AgiChannel, _Channel

__all__ = ["Sent", "SocketAsterisk"]


@dataclass(frozen=True, slots=True)
class Sent:
    """An event written to serve at ``at`` (epoch s) after which ``agent`` should
    show ``state`` for ``call`` (``agent`` is None for an arrival: not known yet)."""

    kind: str  # "offered", "on-call", "wrap-up"
    call: str
    agent: str | None
    at: float


class WallClock:
    def now(self) -> float:
        return time.time()


def _frame(headers: list[tuple[str, str]] | Mapping[str, str]) -> bytes:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return ("".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n").encode("utf-8")


class SocketAsterisk(FakeAsterisk):
    def __init__(
        self,
        seats: Mapping[str, AgentId],
        agi_port: int,
        *,
        ring_s: float,
        talk_s: tuple[float, float],
        rng: random.Random,
        settings: ShellSettings | None = None,
    ) -> None:
        super().__init__(
            WallClock(), settings or ShellSettings(), seats, self, self._later, voicemail_s=5.0
        )
        self.agi_port = agi_port
        self.ring_s, self.talk_s, self.rng = ring_s, talk_s, rng
        self.sent: list[Sent] = []
        self.offered_to: dict[str, str] = {}  # call -> the agent first rung for it
        self.answered = 0
        self.ended = 0
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._timers: dict[CallId, asyncio.TimerHandle] = {}
        self._server: asyncio.Server | None = None
        self._filters: list[re.Pattern[str]] = []  # the session's Filter actions
        self.connect(lambda _msg: None, _held)  # AGI: the real session runs first

    # the AMI server

    async def listen(self) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        for t in self._timers.values():
            t.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        parser = FrameParser(heads=("Action",))
        try:
            while chunk := await reader.read(65536):
                for msg in parser.feed(chunk):
                    await self._answer(msg, writer)
        except ConnectionError:
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()

    async def _answer(self, msg: AmiMessage, writer: asyncio.StreamWriter) -> None:
        action, aid = msg.get("Action", ""), msg.get("ActionID", "")
        ok = [("Response", "Success"), ("ActionID", aid)]
        if action == "Login":
            self._writer = writer  # events go to the logged-in connection
            self._filters = []  # a new session: no Filter yet
            writer.write(_frame([*ok, ("Message", "Authentication accepted")]))
        elif action == "Filter":  # serve's whitelist (telephony.ami_events), as Asterisk does
            self._filters.append(re.compile(msg.get("Filter", "").replace("[[:space:]]", r"\s")))
            writer.write(_frame(ok))
        elif action == "Logoff":
            writer.write(_frame([("Response", "Goodbye"), ("ActionID", aid)]))
        elif action == "PJSIPShowEndpoints":
            self._listing(writer, aid, "EndpointList", [self._endpoint(e) for e in self.seats])
        elif action == "CoreShowChannels":
            chans = {id(c): c for c in self.channels.values()}.values()
            self._listing(writer, aid, "CoreShowChannel", [self._channel(c) for c in chans])
        elif action == "Getvar":
            ch = self.channels.get(msg.get("Channel", ""))
            value = ch.variables.get(msg.get("Variable", ""), "") if ch else ""
            writer.write(_frame([*ok, ("Variable", msg.get("Variable", "")), ("Value", value)]))
        else:
            fields = [(k, v) for k, v in _pairs(msg) if k not in ("Action", "ActionID")]
            for r in await self.action(action, fields, action_id=aid):
                writer.write(_frame(r.headers))

    def _listing(
        self, w: asyncio.StreamWriter, aid: str, event: str, items: list[list[tuple[str, str]]]
    ) -> None:
        w.write(_frame([("Response", "Success"), ("ActionID", aid), ("EventList", "start")]))
        for fields in items:
            w.write(_frame([("Event", event), ("ActionID", aid), *fields]))
        done = [("Event", f"{event}Complete"), ("ActionID", aid), ("EventList", "Complete")]
        w.write(_frame([*done, ("ListItems", str(len(items)))]))

    def _endpoint(self, endpoint: str) -> list[tuple[str, str]]:
        contact = f"{endpoint}/sip:{endpoint}@127.0.0.1:5090"
        return [("ObjectType", "endpoint"), ("ObjectName", endpoint), ("Transport", "udp"),
                ("Contacts", f"{contact},"), ("DeviceState", "Not in use")]  # fmt: skip

    def _channel(self, ch: _Channel) -> list[tuple[str, str]]:
        return [*ch.headers(), ("BridgeId", ch.bridge or ""), ("Duration", "00:00:05")]

    # events out (the fake's in-process delivery replaced by the socket)

    def _emit(self, event: str, ch: _Channel | None, *extra: tuple[str, str]) -> None:
        headers = [("Event", event), ("Privilege", "call,all"), ("Timestamp", f"{time.time():.6f}")]
        headers += ch.headers() if ch is not None else []
        headers += extra
        frame = _frame(headers)
        if self._filters and not any(f.search(frame.decode()) for f in self._filters):
            return
        if self._writer is not None:
            self._writer.write(frame)

    def _hand_off(self, ch: _Channel, session: _AgiChannel) -> None:
        self._spawn(self._fastagi(ch, session))

    async def _fastagi(self, ch: _Channel, session: _AgiChannel) -> None:
        """serve's FastAGI port runs the hand-off; then the fake's own hand-off (whose
        in-process handler does nothing) puts the caller on hold."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.agi_port)
        try:
            writer.write("".join(f"{k}: {v}\n" for k, v in session.env.items()).encode() + b"\n")
            while raw := await reader.readline():
                try:
                    result, data = await session.command(raw.decode().strip())
                    reply = f"200 result={result}" + (f" ({data})" if data else "")
                except AgiError as e:
                    reply = str(e).rpartition(": ")[2]
                writer.write(reply.encode() + b"\n")
        finally:
            writer.close()
        super()._hand_off(ch, session)

    # what callers and agents do

    def arrive(self, call: str, queue: str, priority: str, number: str) -> None:
        self.sent.append(Sent("offered", call, None, time.time()))
        self.caller_arrives(CallId(call), QueueName(queue), priority, None, number)

    def ringing(self, call: CallId, agent: AgentId, queue: QueueName, timeout_s: float) -> None:
        self.offered_to.setdefault(call, agent)
        self._timers[call] = asyncio.get_running_loop().call_later(
            self.ring_s, self._pick_up, call, agent
        )

    def stopped_ringing(self, call: CallId, agent: AgentId) -> None:
        timer = self._timers.pop(call, None)
        if timer is not None:
            timer.cancel()

    def redirected(self, call: CallId, destination: str) -> None:
        pass

    def _pick_up(self, call: CallId, agent: AgentId) -> None:
        if call not in self.legs:
            return
        self.sent.append(Sent("on-call", call, agent, time.time()))
        self.agent_answers(call)
        self.answered += 1
        talk = self.rng.uniform(*self.talk_s)
        self._timers[call] = asyncio.get_running_loop().call_later(talk, self._hang_up, call, agent)

    def _hang_up(self, call: CallId, agent: AgentId) -> None:
        self._timers.pop(call, None)
        if call in self.callers and call in self.legs:
            self.sent.append(Sent("wrap-up", call, agent, time.time()))
            self.bridge_ends(call, "caller")
            self.ended += 1

    # plumbing

    def _later(self, at: float, fn: Callable[[Any], None], arg: Any) -> None:
        asyncio.get_running_loop().call_later(max(0.0, at - time.time()), fn, arg)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(f"{type(task.exception()).__name__}: {task.exception()}")


async def _held(session: Any) -> None:
    """The in-process hand-off after the real one: nothing left to do."""


def _pairs(msg: AmiMessage) -> list[tuple[str, str]]:
    """An action's fields, a repeated key (``Variable``) once per value."""
    return [(k, v) for k in msg for v in msg.values_of(k)]
