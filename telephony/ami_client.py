"""The AMI connection: login, actions with timeouts, one event callback, reconnect.

A thin asyncio protocol of our own on :class:`telephony.ami_frames.FrameParser`
(panoramisk 1.4's protocol drops split UTF-8 characters and has actions that
never resolve). The read path never awaits: each frame is either the answer
to a pending action or handed to ``on_event`` synchronously, so the socket is
drained as fast as Asterisk writes (it drops a manager client that does not
read within its write timeout, 100 ms by default).

Every action has a timeout; a lost connection fails the pending ones at once.
:meth:`AmiClient.run` keeps the connection up, reconnecting with backoff, and
awaits ``on_connected`` after each login (the shell resynchronises there).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, cast, runtime_checkable

from acd.counters import Count
from telephony.ami_frames import AmiMessage, FrameParser, encode_action

__all__ = [
    "AMI_ERRORS",
    "ActionStarter",
    "AmiActionError",
    "AmiClient",
    "AmiDisconnectedError",
    "AmiPort",
    "AmiTimeoutError",
]

log = logging.getLogger(__name__)

Fields = list[tuple[str, str]]


class AmiActionError(Exception):
    """Asterisk answered an action with ``Response: Error``."""

    def __init__(self, action: str, message: AmiMessage) -> None:
        self.response = message
        super().__init__(f"AMI {action}: {message.get('Message', 'error')}")


class AmiTimeoutError(AmiActionError):
    def __init__(self, action: str, timeout_s: float) -> None:
        Exception.__init__(self, f"AMI {action}: no response within {timeout_s:g} s")


class AmiDisconnectedError(ConnectionError):
    pass


# What an action can raise: refused or timed out (AmiActionError), the connection
# gone (AmiDisconnectedError is a ConnectionError) or a socket error.
AMI_ERRORS = (AmiActionError, OSError)


@runtime_checkable
class ActionStarter(Protocol):
    """An AMI port that can write an action at once (:meth:`AmiClient.start`)."""

    def start(
        self,
        action: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> Awaitable[list[AmiMessage]]: ...


class AmiPort(Protocol):
    """What the call shell needs of an AMI connection (:class:`AmiClient` has it)."""

    async def action(
        self,
        action: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> list[AmiMessage]: ...


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[list[AmiMessage]]
    listing: bool
    items: list[AmiMessage] = field(default_factory=list)


class _Protocol(asyncio.Protocol):
    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.parser = FrameParser(client.stats)
        self.transport: asyncio.Transport | None = None
        self.greeted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (create_connection); uvloop's does not subclass asyncio's
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.client.recording is not None:
            self.client.recording.write(data)
        messages = self.parser.feed(data)
        if not self.greeted.done() and self.parser.version is not None:
            self.greeted.set_result(None)
        on_message = self.client._on_message
        for msg in messages:
            on_message(msg)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._connection_lost(self, exc)


class AmiClient:
    """One manager connection to one Asterisk."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        on_event: Callable[[AmiMessage], None] | None = None,
        on_connected: Callable[[], Awaitable[None]] | None = None,
        *,
        events: str = "call,system,user,agent",
        action_timeout_s: float = 5.0,
        backoff_s: tuple[float, float] = (0.2, 5.0),
        stats: Counter[str] | None = None,
        record_to: Path | None = None,
        filters: Sequence[str] = (),
    ) -> None:
        """``record_to``: append the raw stream from Asterisk there (transcripts
        for tests and benchmarks). ``filters``: each sent in a ``Filter`` action
        right after every login (a whitelist regex: Asterisk then writes only the
        events that match one to this session, :mod:`telephony.ami_events`)."""
        self.filters = tuple(filters)
        self.recording: BinaryIO | None = record_to.open("ab") if record_to else None
        self.host, self.port = host, port
        self.username, self.secret, self.events = username, secret, events
        self.on_event: Callable[[AmiMessage], None] = on_event or (lambda _msg: None)
        self.on_connected = on_connected
        self.action_timeout_s = action_timeout_s
        self.backoff_s = backoff_s
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.connected = asyncio.Event()
        self._proto: _Protocol | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._lost: asyncio.Event = asyncio.Event()

    # the read path (synchronous, never blocks)

    def _on_message(self, msg: AmiMessage) -> None:
        aid = msg.action_id
        p = self._pending.get(aid) if aid is not None else None
        if p is None:
            if msg.is_event:
                self.stats[Count.EVENTS] += 1
                self.on_event(msg)
            else:
                self.stats[Count.STRAY_RESPONSES] += 1
                log.info("AMI: response to no pending action: %r", msg)
            return
        if p.listing:
            if msg.is_event:
                if msg.get("EventList") == "Complete":
                    self._resolve(aid, p, p.items)
                else:
                    p.items.append(msg)
                return
            if msg.name == "Error":
                if msg.get("Message", "").startswith("No ") and msg["Message"].endswith(" found"):
                    self._resolve(aid, p, [])  # "No Contacts found": an empty listing
                else:
                    self._fail(aid, p, AmiActionError(p.action, msg))
            elif msg.get("EventList") != "start":
                self._resolve(aid, p, [])  # a listing with nothing to list
            return
        if msg.is_event:  # e.g. OriginateResponse after its action resolved
            self.stats[Count.EVENTS] += 1
            self.on_event(msg)
            return
        if msg.name == "Error":
            self._fail(aid, p, AmiActionError(p.action, msg))
        else:
            self._resolve(aid, p, [msg])

    def _resolve(self, aid: str | None, p: _Pending, items: list[AmiMessage]) -> None:
        self._pending.pop(aid or "", None)
        if not p.future.done():
            p.future.set_result(items)

    def _fail(self, aid: str | None, p: _Pending, exc: Exception) -> None:
        self._pending.pop(aid or "", None)
        if not p.future.done():
            p.future.set_exception(exc)

    def _connection_lost(self, proto: _Protocol, exc: Exception | None) -> None:
        if proto is not self._proto:
            return
        self._proto = None
        self.connected.clear()
        self._lost.set()
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(AmiDisconnectedError(f"AMI {p.action}: connection lost"))
                if self._closing:  # a waiter still gets it; one gone at the stop is no error
                    p.future.exception()
        if not self._closing:
            self.stats[Count.DISCONNECTS] += 1
            log.warning("AMI: connection lost (%s)", exc or "closed by Asterisk")

    # actions

    def send(
        self,
        action: str,
        fields: Fields | None = None,
        *,
        listing: bool = False,
        action_id: str | None = None,
    ) -> asyncio.Future[list[AmiMessage]]:
        """Write an action now; the future resolves with the response (or the
        listing's events). Use :meth:`action` to await it with a timeout."""
        fut: asyncio.Future[list[AmiMessage]] = asyncio.get_running_loop().create_future()
        proto = self._proto
        if proto is None or proto.transport is None or proto.transport.is_closing():
            fut.set_exception(AmiDisconnectedError(f"AMI {action}: not connected"))
            return fut
        aid = action_id or f"hl-{next(self._ids)}"
        data = encode_action([("Action", action), ("ActionID", aid), *(fields or [])])
        self._pending[aid] = _Pending(action, fut, listing)
        proto.transport.write(data)
        return fut

    async def action(
        self,
        action: str,
        fields: Fields | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> list[AmiMessage]:
        """Send and await; raises :class:`AmiTimeoutError` when Asterisk stays silent."""
        return await self.start(
            action, fields, listing=listing, timeout_s=timeout_s, action_id=action_id
        )

    def start(
        self,
        action: str,
        fields: Fields | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> Awaitable[list[AmiMessage]]:
        """Write the action now (not when awaited); the awaitable is :meth:`action`'s
        answer. For the hand-off's Originate, written before anything else runs."""
        fut = self.send(action, fields, listing=listing, action_id=action_id)
        return self._answer(action, fut, timeout_s)

    async def _answer(
        self, action: str, fut: asyncio.Future[list[AmiMessage]], timeout_s: float | None
    ) -> list[AmiMessage]:
        t = self.action_timeout_s if timeout_s is None else timeout_s
        try:
            return await asyncio.wait_for(asyncio.shield(fut), t)
        except TimeoutError:
            self.stats[Count.ACTION_TIMEOUTS] += 1
            self._forget(fut)
            raise AmiTimeoutError(action, t) from None
        except asyncio.CancelledError:
            # the waiter is gone (its task cancelled, e.g. at shutdown): nobody will
            # read this future, so it must not be failed later by a lost connection
            # ("Future exception was never retrieved")
            self._forget(fut)
            raise

    def _forget(self, fut: asyncio.Future[list[AmiMessage]]) -> None:
        """Drop a pending action nobody awaits any more; a late response is stray."""
        for aid, p in list(self._pending.items()):
            if p.future is fut:
                del self._pending[aid]
        fut.cancel()

    # the connection

    async def connect(self) -> None:
        """Open the socket and log in (once); raises on failure."""
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_connection(
            lambda: _Protocol(self), self.host, self.port
        )
        self._proto = proto
        self._lost.clear()
        try:
            await asyncio.wait_for(proto.greeted, self.action_timeout_s)
            await self.action(
                "Login",
                [("Username", self.username), ("Secret", self.secret), ("Events", self.events)],
            )
            for f in self.filters:
                try:
                    await self.action("Filter", [("Operation", "Add"), ("Filter", f)])
                except AmiActionError as e:  # e.g. the user may not write `system`
                    log.warning("AMI: filter refused, all events will come: %s", e)
        except BaseException:
            transport.close()
            raise
        self.connected.set()
        log.info("AMI: logged in to %s:%d (%s)", self.host, self.port, proto.parser.version)

    async def run(self) -> None:
        """Stay connected until :meth:`close`: reconnect with backoff after a loss."""
        delay = self.backoff_s[0]
        while not self._closing:
            try:
                await self.connect()
            except (OSError, AmiActionError, TimeoutError) as e:
                self.stats[Count.CONNECT_FAILURES] += 1
                log.warning("AMI: cannot connect to %s:%d: %s", self.host, self.port, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_s[1])
                continue
            delay = self.backoff_s[0]
            self.stats[Count.CONNECTS] += 1
            if self.on_connected is not None:
                try:
                    await self.on_connected()
                except Exception:
                    self.stats[Count.RESYNC_FAILURES] += 1
                    log.exception("AMI: resynchronisation failed")
            await self._lost.wait()

    @contextlib.asynccontextmanager
    async def running(
        self,
        on_event: Callable[[AmiMessage], None],
        on_connected: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[AmiClient]:
        """Connected (and reconnecting, :meth:`run`) while the block runs, each event
        to ``on_event``, ``on_connected`` after each log-in; closed on leaving.

        The handlers are given here, not to the constructor, because they belong to
        the call shell, which itself needs this client to send its actions."""
        self.on_event, self.on_connected = on_event, on_connected
        task = asyncio.create_task(self.run())
        try:
            yield self
        finally:
            await self.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 3.0)

    def drop(self) -> None:
        """Close the current connection (run() reconnects): for tests and resets."""
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.abort()

    async def close(self) -> None:
        self._closing = True
        proto = self._proto
        if proto is not None and proto.transport is not None:
            with contextlib.suppress(Exception):
                await self.action("Logoff", timeout_s=1.0)
            proto.transport.close()
        self._lost.set()
        if self.recording is not None:
            self.recording.close()
            self.recording = None
