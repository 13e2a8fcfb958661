"""The stasis-lag probe: how late Asterisk's own event pipeline runs, end to end.

Why not the ``Timestamp`` of the events (:mod:`telephony.overload`'s AMI lag).
``manager.c`` stamps ``Timestamp:`` when it *builds* an event's text, and for the
channel events serve lives on (``Hangup``, ``BridgeLeave``, ``DialEnd``,
``DeviceStateChange``) that happens when the manager's stasis taskprocessor
(``stasis/m:manager:core-…``) takes the stasis message off its queue — after the
backlog issue 13 is about (``Taskprocessor 'stasis/m:manager:core-…' queue reached
3000 scheduled tasks``). So ``now - Timestamp`` measures only the last hop (the
session's write to serve's read) and grows only once that TCP path backs up too:
on the live rig the shedding came ~20 s after callers had started to give up.

The probe. Every ``stasis_probe_s`` (0.5 s) serve toggles a custom device state
over AMI — ``Setvar`` of ``DEVICE_STATE(Custom:hotline-probe)`` to ``INUSE`` or
``NOT_INUSE``, on the actions' session — and times the matching
``DeviceStateChange`` on the events' session. That event is made by the same
stasis → manager taskprocessor path as the agents' Hangups (``func_devstate``'s
change goes through the device-state topics, ``res_manager_devicestate`` forwards
it to the manager topic), so its round trip is the delay a Hangup sees now. One
probe is outstanding at a time and the sign is ``max(last round trip, age of the
outstanding probe)``: it rises while the backlog grows, not only once it drains.

Details:

- A state set to what it already is makes no event (checked on Asterisk 22), so
  the probe toggles, and the first probe after a (re)connect first sets the
  other state unmeasured (Asterisk keeps custom states in its astdb across
  restarts: serve does not know the current one).
- A probe unanswered for ``RESEND_S`` is sent again (the same pair), its age
  still counted from the first: a toggle lost in a reconnect cannot hold the sign
  up for ever.
- Each serve probes its own device, ``Custom:hotline-probe-<8 hex digits>`` named
  by its state folder (:func:`probe_device`): two serves on one Asterisk (a
  standby, a test beside the demo) no longer toggle one device, where one's
  ``Setvar`` to the state the other had just set made no event and its probe aged
  into a false overload (up to ``RESEND_S``). The name is stable across restarts,
  so Asterisk's astdb keeps one row per serve, not one per run.
- Cost: two ``Setvar`` a second, each one astdb write (``CustomDevstate``
  family, one row) and one device-state message: nothing beside a call's ~26
  events. The probe's device is no seat: the translator reads only
  ``PJSIP/<seat>`` device states (:mod:`telephony.translate`).
- An answered probe counts until its event's own ``Timestamp`` (when the
  manager taskprocessor built it: the backlog is behind it), not until serve
  read it: the last hop is the AMI lag's to see and serve's own stalls the event
  loop's, so a stall of serve (~1 s at times on a loaded 2-core machine) does
  not shed calls through this sign. An unanswered probe's age has no stamp yet
  and counts from the send to now. Idle, the sign is ~1 ms; the live rig's
  clean steps keep it under ~50 ms.
- It needs ``func_devstate`` loaded (the rendered ``modules.conf`` loads it). If
  Asterisk refuses the ``Setvar`` the probe turns itself off, logged once and
  counted (``stasis_probe_errors``), and the sign stays 0: never a false overload.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping

from acd.counters import Count
from telephony.ami_client import AmiActionError, AmiPort, AmiTimeoutError

__all__ = ["PROBE_DEVICE", "RESEND_S", "StasisProbe", "probe_device", "probing"]

log = logging.getLogger(__name__)

PROBE_DEVICE = "Custom:hotline-probe"  # each serve's: this, "-", a tag (probe_device)
RESEND_S = 10.0  # an unanswered probe is sent again this often (its age goes on)
TICK_S = 0.1  # how often the sign is refreshed while a probe is outstanding
_STATES = ("INUSE", "NOT_INUSE")


class StasisProbe:
    """The probe's bookkeeping (pure: the clock is given; no I/O). ``now``: the wall
    clock, comparable with Asterisk's ``Timestamp`` (one machine, or NTP).

    ``due()`` says when to send; ``send()`` returns the states to set, in order;
    ``event()`` takes every AMI event; ``lag_s()`` is the sign."""

    def __init__(
        self, every_s: float, *, now: Callable[[], float] = time.time, device: str = PROBE_DEVICE
    ) -> None:
        if every_s <= 0:
            raise ValueError(f"stasis probe: every_s must be > 0, got {every_s!r}")
        self.every_s = every_s
        self.device = device  # the custom device it toggles (probe_device)
        self.now = now
        self.expected = _STATES[1]  # the state the outstanding probe asked for
        self.sent_at: float | None = None  # the outstanding probe's first send
        self.resent_at = 0.0
        self.answered_at = -1e18
        self.last_rtt_s = 0.0
        self.primed = False  # Asterisk's current state is known to be self.expected
        self.off = False  # Asterisk refused the Setvar: the probe gave up

    def due(self) -> bool:
        """Time to send: a new probe, or the outstanding one again (``RESEND_S``)."""
        if self.off:
            return False
        now = self.now()
        if self.sent_at is None:
            return now - self.answered_at >= self.every_s
        return now - self.resent_at >= RESEND_S

    def send(self) -> list[str]:
        """The states to set now, in order: the new probe's (after the other state,
        unmeasured, when Asterisk's current state is not known)."""
        now = self.now()
        if self.sent_at is not None:  # again: its answer never came
            self.resent_at = now
            return [self._other(self.expected), self.expected]
        self.expected = self._other(self.expected)
        self.sent_at = self.resent_at = now
        if self.primed:
            return [self.expected]
        return [self._other(self.expected), self.expected]

    def event(self, msg: Mapping[str, str]) -> float | None:
        """An AMI event: the round trip (seconds) if it answers the outstanding probe."""
        if self.sent_at is None or msg.get("Event") != "DeviceStateChange":
            return None
        if msg.get("Device", "").lower() != self.device.lower():
            return None
        if msg.get("State") != self.expected:
            return None
        now = self.now()
        rtt = max(0.0, now - self.sent_at)
        # until Asterisk's manager built it: the last hop and serve's loop left out
        with contextlib.suppress(KeyError, ValueError):
            rtt = min(rtt, max(0.0, float(msg["Timestamp"]) - self.sent_at))
        self.last_rtt_s = rtt
        self.sent_at, self.answered_at, self.primed = None, now, True
        return rtt

    def lag_s(self) -> float:
        """The sign: the last round trip, or the outstanding probe's age if larger."""
        if self.off:
            return 0.0
        age = 0.0 if self.sent_at is None else self.now() - self.sent_at
        return max(self.last_rtt_s, age)

    def reset(self) -> None:
        """The events' session is down: an answer in flight may be lost; start over
        (unprimed) once it is back, and let the sign fall to 0 meanwhile."""
        self.sent_at, self.primed, self.last_rtt_s = None, False, 0.0
        self.answered_at = -1e18

    def refused(self, why: str) -> None:
        """Asterisk refused the ``Setvar`` (no ``func_devstate``?): off for good."""
        if not self.off:
            log.warning("stasis-lag probe off: Asterisk refused %s (%s)", self.device, why)
        self.off = True
        self.sent_at = None
        self.last_rtt_s = 0.0

    @staticmethod
    def _other(state: str) -> str:
        return _STATES[1] if state == _STATES[0] else _STATES[0]


def probe_device(identity: str) -> str:
    """The probe's device for the serve known by ``identity`` (its state folder)."""
    return f"{PROBE_DEVICE}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"


@contextlib.asynccontextmanager
async def probing(
    probe: StasisProbe,
    actions: Callable[[], AmiPort],
    connected: asyncio.Event,
    report: Callable[[float], None],
    stats: Counter[str],
    *,
    tick_s: float = TICK_S,
) -> AsyncIterator[StasisProbe]:
    """Run the probe while the block runs: ``actions()`` is the port its ``Setvar``
    go over (read at each send: the actions' session may come and go), ``connected``
    the events' session, ``report`` takes the sign (seconds) every ``tick_s``."""
    task = asyncio.create_task(_run(probe, actions, connected, report, stats, tick_s))
    try:
        yield probe
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _run(
    probe: StasisProbe,
    actions: Callable[[], AmiPort],
    connected: asyncio.Event,
    report: Callable[[float], None],
    stats: Counter[str],
    tick_s: float,
) -> None:
    sends: set[asyncio.Task[None]] = set()
    while True:
        if not connected.is_set():
            probe.reset()
            report(0.0)
            await connected.wait()
        if probe.due():
            for state in probe.send():
                fields = [("Variable", f"DEVICE_STATE({probe.device})"), ("Value", state)]
                task = asyncio.create_task(_setvar(probe, actions(), fields, stats))
                sends.add(task)
                task.add_done_callback(sends.discard)
            stats[Count.STASIS_PROBES] += 1
        report(probe.lag_s())
        await asyncio.sleep(tick_s)


async def _setvar(
    probe: StasisProbe, port: AmiPort, fields: list[tuple[str, str]], stats: Counter[str]
) -> None:
    try:
        await port.action("Setvar", fields)
    except AmiTimeoutError:
        pass  # Asterisk slow to answer actions: the probe's age tells it
    except AmiActionError as e:
        stats[Count.STASIS_PROBE_ERRORS] += 1
        probe.refused(e.response.get("Message", "error"))
    except OSError:
        pass  # the session dropped: the probe starts over when it is back
