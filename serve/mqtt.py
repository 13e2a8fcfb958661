"""The MQTT publisher: events and retained state to a broker, never in routing's way.

Theory of operation. ``publish()`` is synchronous and does no I/O: routing calls
it from the shell's notifier and it returns at once whatever the broker does.
What it keeps comes in two kinds:

- **Retained state** (agent states, queue snapshots, the centre snapshot, alarms,
  status) is kept as *the latest payload per topic*. Publishing a topic again
  while it is still unsent replaces the payload, so a broker away for an hour
  costs one payload per topic, not one per second. After every (re)connect all
  retained topics are sent again: a broker restarted without persistence gets
  the current state back, and a late subscriber can start from it. A cleared
  alarm is an empty retained payload (MQTT's delete), sent once and forgotten.
- **Events** (call events, not retained) go into a bounded FIFO buffer of
  ``[mqtt] buffer`` messages. When it is full the *oldest* event is dropped and
  counted (``mqtt_drops``): the newest events describe calls still in progress,
  which live subscribers need, while the current state of everything old is in
  the retained topics anyway. Dropping the newest would keep a stale backlog
  and lose exactly what is happening now.

A background task connects with aiomqtt, sends retained state first, then
events in order, and on any connection error waits (``reconnect_min_s``,
doubling up to ``reconnect_max_s``) and connects again by itself. An event being
sent when the link breaks goes back to the front of the buffer, so delivery is
at least once with QoS ≥ 1. The broker publishes ``{"online": false}`` on
``.../status`` as the will when serve vanishes; ``{"online": true}`` on connect.

``publish()`` must be called from the event loop's thread (it wakes the task
with an ``asyncio.Event``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Iterable
from types import TracebackType

import aiomqtt

from acd.counters import Count
from serve.mqtt_settings import MqttSettings
from serve.topics import MqttMessage, Topics

__all__ = ["MqttPublisher"]

log = logging.getLogger(__name__)


class MqttPublisher:
    """``async with MqttPublisher(settings) as pub: pub.publish(message)``."""

    def __init__(self, settings: MqttSettings, stats: Counter[str] | None = None) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix, settings.centre)
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._events: deque[MqttMessage] = deque()
        self._retained: dict[str, bytes] = {}
        self._dirty: dict[str, None] = {}  # retained topics not yet sent (ordered set)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connected = False

    # --- the caller's side: synchronous, no I/O -----------------------------------
    def publish(self, message: MqttMessage) -> None:
        """Queue one message; returns at once (drops the oldest event when full)."""
        if message.retain:
            self._retained[message.topic] = message.payload
            self._dirty[message.topic] = None
        else:
            if len(self._events) >= self.settings.buffer:
                self._events.popleft()
                self.stats[Count.MQTT_DROPS] += 1
            self._events.append(message)
        self._wake.set()

    def publish_all(self, messages: Iterable[MqttMessage]) -> None:
        for m in messages:
            self.publish(m)

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def pending(self) -> int:
        """Messages not yet handed to the broker (events + retained topics)."""
        return len(self._events) + len(self._dirty)

    @property
    def dropped(self) -> int:
        return self.stats[Count.MQTT_DROPS]

    # --- lifecycle ------------------------------------------------------------------
    async def __aenter__(self) -> MqttPublisher:
        self.publish(self.topics.online(True))
        self._task = asyncio.create_task(self._run(), name="mqtt-publisher")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Say "offline" and flush for a moment if the broker is there, then stop."""
        self.publish(self.topics.online(False))
        if self._connected:
            await self.flushed(timeout_s=1.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def flushed(self, timeout_s: float) -> bool:
        """Wait until nothing is pending (True) or ``timeout_s`` passes (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.pending or not self._connected:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # --- the background task ----------------------------------------------------------
    async def _run(self) -> None:
        s = self.settings
        delay = s.reconnect_min_s
        will = aiomqtt.Will(
            self.topics.status(), self.topics.online(False).payload, qos=s.qos, retain=True
        )
        while True:
            try:
                async with aiomqtt.Client(
                    s.host,
                    s.port,
                    identifier=s.identifier,
                    keepalive=s.keepalive_s,
                    will=will,
                    timeout=10.0,
                ) as client:
                    self._connected = True
                    self.stats[Count.MQTT_CONNECTS] += 1
                    log.info("MQTT: connected to %s:%d", s.host, s.port)
                    delay = s.reconnect_min_s
                    self._dirty = dict.fromkeys(self._retained) | self._dirty
                    self.publish(self.topics.online(True))
                    await self._send(client)
            except (aiomqtt.MqttError, OSError) as e:
                if self._connected:
                    self.stats[Count.MQTT_DISCONNECTS] += 1
                    log.warning("MQTT: lost the broker (%s); reconnecting", e)
                else:
                    self.stats[Count.MQTT_CONNECT_FAILURES] += 1
                    log.debug("MQTT: cannot connect to %s:%d: %s", s.host, s.port, e)
            finally:
                self._connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, s.reconnect_max_s)

    async def _send(self, client: aiomqtt.Client) -> None:
        qos = self.settings.qos
        lost = _link_lost(client)
        while True:
            self._wake.clear()
            while self._dirty or self._events:
                if self._dirty:
                    topic = next(iter(self._dirty))
                    payload = self._retained[topic]
                    await client.publish(topic, payload, qos=qos, retain=True)
                    if self._retained.get(topic) is payload:  # not replaced meanwhile
                        del self._dirty[topic]
                        if not payload:
                            del self._retained[topic]  # a delete is sent once
                else:
                    message = self._events.popleft()
                    try:
                        await client.publish(message.topic, message.payload, qos=qos)
                    except BaseException:
                        self._requeue(message)
                        raise
                self.stats[Count.MQTT_PUBLISHED] += 1
            waiter: asyncio.Future[object] = asyncio.ensure_future(self._wake.wait())
            watched: set[asyncio.Future[object]] = {waiter, lost}
            try:
                await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            if lost.done():
                why = None if lost.cancelled() else lost.exception()
                raise aiomqtt.MqttError(f"connection lost: {why}")

    def _requeue(self, message: MqttMessage) -> None:
        """Put an event that was being sent back in front, unless that overfills."""
        if len(self._events) >= self.settings.buffer:
            self.stats[Count.MQTT_DROPS] += 1
            return
        self._events.appendleft(message)


def _link_lost(client: aiomqtt.Client) -> asyncio.Future[object]:
    """A future that completes when the client's connection drops.

    aiomqtt keeps one (``_disconnected``, what its own message iterator waits on) but
    does not publish it; without it an idle publisher would only notice a dead broker
    at its next message, and retained state would wait that long to be re-sent.
    """
    future = getattr(client, "_disconnected", None)
    if isinstance(future, asyncio.Future):
        return future
    return asyncio.get_running_loop().create_future()  # never completes
