"""Graceful overload: measure how far behind ``hotline serve`` is, and shed new calls
politely when it cannot keep up.

Why. Past the rate its machine can carry, the first backlog is Asterisk's own AMI
event queue (``Taskprocessor 'stasis/m:manager:core-…' queue reached 3000``): the
Hangups of agents' calls reach serve seconds late, serve believes those agents
busy, makes no offers, the queues fill and callers are sent to voicemail by the
hundred. Better to know it and to say no to the *new* calls at the door, while the
calls already waiting are still served.

Four signs, each with its ``[serve]`` threshold (0 turns one off):

- **stasis lag** (``overload_stasis_lag_s``): the round trip of a probe through
  Asterisk's own event pipeline (:mod:`telephony.stasis_probe`: a custom device
  state toggled over AMI every ``stasis_probe_s``, timed until its
  ``DeviceStateChange`` arrives), or the age of the probe still unanswered: the
  delay an agent's Hangup sees now, backlog included. The first sign to rise.
- **AMI lag** (``overload_ami_lag_s``): with ``timestampevents = yes`` in
  ``manager.conf`` every event carries Asterisk's ``Timestamp`` (epoch seconds);
  its delay is the local clock minus that stamp (both on one machine, or NTP).
  Asterisk stamps an event when its manager taskprocessor builds the text, i.e.
  *after* the stasis backlog: this sign sees only the last hop (the session's
  socket to serve) and rises late; it is kept as a gauge and a second sign.
- **event loop lag** (``overload_loop_lag_s``): a probe sleeps a fixed slice and
  measures how late the loop woke it.
- **waiting calls** (``overload_waiting``): calls on hold in the engine, all
  queues together; past it the engine is at the capacity it was given.

A sign counts for ``overload_hold_s`` after it was last seen, so that a quiet
moment between two late events does not let a flood in, and a lag that is no
longer refreshed (no events at all) expires on its own.

What is done (the hand-off, :mod:`telephony.handoff`): a call arriving while a sign
holds is not enqueued. It hears the exit ``overload`` (the dialplan's
``hotline-exit`` plays Hotline's busy message in the caller's language,
:mod:`ivr.busy`: "all lines are busy, please call again later") and gets its call
record with the outcome ``refused-overload`` (:func:`refused_record`), counted in
``Count.REFUSED_OVERLOAD``. Never a flood to voicemail, never a silent drop. The
log says so without a line per caller (:class:`RefusalLog`): a surge refuses tens a
second, and a machine past its capacity has no time to spare for writing them.

And when the stasis or the AMI lag first goes over its threshold (and again every
``LAG_RECONCILE_EVERY_S`` while it stays high, and once when it comes back down),
the agents are compared with Asterisk's channels at once (``on_lag``: the
reconciler's check), whose answer does not wait in the event queue: an agent
whose Hangup is still on its way is freed by what Asterisk says now rather than
believed busy for the length of the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from acd.counters import Count
from acd.records import CallRecord
from acd.types import CallId, ExitReason, Outcome, QueueName
from telephony.stasis_probe import StasisProbe

__all__ = [
    "LAG_RECONCILE_EVERY_S",
    "OVERLOAD_EXIT",
    "LoadWatch",
    "OverloadLimits",
    "RefusalLog",
    "refused_record",
]

OVERLOAD_EXIT = "overload"  # the hotline-exit extension a refused caller hears
LAG_RECONCILE_EVERY_S = 5.0  # at most one lag-triggered reconcile this often
PROBE_S = 0.1  # the event-loop probe's slice
WINDOW_S = 10.0  # the "worst AMI lag" gauge covers about this long
REFUSAL_LOG_EVERY_S = 10.0  # at most one WARNING line about refusals this often


@dataclass(frozen=True, slots=True)
class OverloadLimits:
    """The ``[serve]`` thresholds (0: that sign is never looked at)."""

    ami_lag_s: float = 2.0
    loop_lag_s: float = 2.0  # a loaded 2-core test machine stalls ~1 s at times
    waiting: int = 0
    hold_s: float = 5.0
    stasis_lag_s: float = 1.0  # clean steps of the live rig: under 50 ms
    stasis_probe_s: float = 0.5  # how often the stasis probe is sent (0: no probe)
    door_max_calls: int = 0  # callers in at once past which the dialplan refuses (0: none)
    door_spoken: int = 20  # at most this many refused at the door hear the message at once

    def __post_init__(self) -> None:
        for name in (
            "ami_lag_s", "loop_lag_s", "waiting", "hold_s", "stasis_lag_s",
            "door_max_calls", "door_spoken",
        ):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f'"{name}" must be >= 0, got {getattr(self, name)!r}')
        if self.stasis_probe_s < 0:
            raise ValueError(f'"stasis_probe_s" must be >= 0, got {self.stasis_probe_s!r}')


@dataclass(slots=True)
class _WindowMax:
    """The worst value of a window of about ``WINDOW_S`` (a gauge's ``_max``)."""

    at: float = 0.0
    worst: float = 0.0

    def add(self, now: float, value: float) -> float:
        if now - self.at > WINDOW_S:
            self.at, self.worst = now, 0.0
        self.worst = max(self.worst, value)
        return self.worst


class LoadWatch:
    """The four signs, kept as gauges in ``stats`` (milliseconds), and the verdict.

    ``now``: the wall clock (epoch seconds, comparable with Asterisk's stamps);
    ``on_lag``: called (at most every ``LAG_RECONCILE_EVERY_S``) while AMI runs late
    (stasis or Timestamp lag), and once when it has caught up."""

    def __init__(
        self,
        limits: OverloadLimits,
        stats: Counter[str],
        *,
        now: Callable[[], float] = time.time,
        on_lag: Callable[[], None] | None = None,
    ) -> None:
        self.limits = limits
        self.stats = stats
        self.now = now
        self.on_lag = on_lag
        self.ami_lag_s = 0.0
        self.loop_lag_s = 0.0
        self.stasis_lag_s = 0.0
        self.probe: StasisProbe | None = None  # its answers come with the events
        self._stasis_high_at: float | None = None
        self._stasis_high_s = 0.0  # the worst lag while over the threshold
        self._stasis_caught_up = True  # False: over, the catch-up check still due
        self._stasis_window = _WindowMax()
        self._ami_high_at: float | None = None  # when a sign was last over its threshold
        self._loop_high_at: float | None = None
        self._lag_called_at = -1e18
        self._window = _WindowMax()

    # the signs

    def ami_event(self, msg: Mapping[str, str]) -> None:
        """Every AMI event (the read path: cheap, never raises)."""
        if self.probe is not None:
            self.probe.event(msg)
        stamp = msg.get("Timestamp")
        if stamp is None:
            return
        try:
            sent = float(stamp)
        except ValueError:
            return
        now = self.now()
        lag = max(0.0, now - sent)
        self.ami_lag_s = lag
        self.stats[Count.AMI_LAG_MS] = round(lag * 1000)
        self.stats[Count.AMI_LAG_MAX_MS] = round(self._window.add(now, lag) * 1000)
        limit = self.limits.ami_lag_s
        if limit <= 0:
            return
        if lag >= limit:
            self._ami_high_at = now
            if now - self._lag_called_at >= LAG_RECONCILE_EVERY_S:
                self._lag_called_at = now
                self._call_on_lag()
        elif self._ami_high_at is not None and self._lag_called_at >= self._ami_high_at - 1e-9:
            # caught up: one more check now that the backlog is through
            self._lag_called_at = -1e18
            self._ami_high_at = now - self.limits.hold_s  # expired: no longer a sign
            self._call_on_lag()

    def stasis_lag(self, lag_s: float) -> None:
        """The stasis probe's sign (:meth:`StasisProbe.lag_s`), reported every tick."""
        now = self.now()
        lag = self.stasis_lag_s = max(0.0, lag_s)
        self.stats[Count.STASIS_LAG_MS] = round(lag * 1000)
        self.stats[Count.STASIS_LAG_MAX_MS] = round(self._stasis_window.add(now, lag) * 1000)
        limit = self.limits.stasis_lag_s
        if limit <= 0:
            return
        if lag >= limit:
            held = (
                self._stasis_high_at is not None and now - self._stasis_high_at < self.limits.hold_s
            )
            self._stasis_high_s = max(lag, self._stasis_high_s) if held else lag
            self._stasis_high_at = now
            self._stasis_caught_up = False
            if now - self._lag_called_at >= LAG_RECONCILE_EVERY_S:
                self._lag_called_at = now
                self._call_on_lag()
        elif not self._stasis_caught_up:
            # caught up: one more check now that the backlog is through (the sign
            # still holds for hold_s: the calls it let wait are served first)
            self._stasis_caught_up = True
            self._lag_called_at = now
            self._call_on_lag()

    def loop_lag(self, lag_s: float) -> None:
        """How late the event loop ran the probe (the probe's report)."""
        self.loop_lag_s = max(0.0, lag_s)
        self.stats[Count.LOOP_LAG_MS] = round(self.loop_lag_s * 1000)
        if self.limits.loop_lag_s > 0 and self.loop_lag_s >= self.limits.loop_lag_s:
            self._loop_high_at = self.now()

    def _call_on_lag(self) -> None:
        if self.on_lag is not None:
            self.stats[Count.LAG_RECONCILES] += 1
            self.on_lag()

    # the verdict

    def shed_reason(self, waiting: int) -> str | None:
        """Why a new call must be refused now (``waiting``: calls on hold), or None."""
        now, hold = self.now(), self.limits.hold_s
        reason = None
        if self._stasis_high_at is not None and now - self._stasis_high_at < hold:
            reason = f"Asterisk's events {self._stasis_high_s:.1f} s behind (stasis probe)"
        elif self._ami_high_at is not None and now - self._ami_high_at < hold:
            reason = f"AMI events {self.ami_lag_s:.1f} s late"
        elif self._loop_high_at is not None and now - self._loop_high_at < hold:
            reason = f"event loop {self.loop_lag_s:.1f} s behind"
        elif 0 < self.limits.waiting <= waiting:
            reason = f"{waiting} calls waiting (limit {self.limits.waiting})"
        self.stats[Count.OVERLOADED] = int(reason is not None)
        return reason

    # the probe

    @contextlib.asynccontextmanager
    async def probing(self, slice_s: float = PROBE_S) -> AsyncIterator[LoadWatch]:
        """Measure the event loop's lag while the block runs."""
        task = asyncio.create_task(self._probe(slice_s))
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _probe(self, slice_s: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t0 = loop.time()
            await asyncio.sleep(slice_s)
            self.loop_lag(loop.time() - t0 - slice_s)


def refused_record(
    call: CallId,
    queue: QueueName,
    priority: str,
    caller: str,
    arrived_at: float,
    now: float,
    destination: str = OVERLOAD_EXIT,
) -> CallRecord:
    """The record of a call shed at the hand-off (or at the door, ``destination``
    ``door``: :mod:`telephony.door`): never queued, never offered."""
    return CallRecord(
        call=call,
        queue=queue,
        final_queue=queue,
        priority=priority,
        caller=caller,
        arrived_at=arrived_at,
        outcome=Outcome.REFUSED,
        left_at=now,
        exit_reason=ExitReason.OVERLOAD,
        destination=destination,
        ended_by="overload",
    )


class RefusalLog:
    """The refusals in the log without a line per caller: the first refusal of each
    ``every_s`` gets a WARNING (with how many were refused since the last one), the
    others a DEBUG line; every one has its record and its count all the same."""

    def __init__(
        self,
        logger: logging.Logger,
        every_s: float = REFUSAL_LOG_EVERY_S,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.every_s = every_s
        self.now = now
        self._last: float | None = None  # when the last WARNING was written
        self._since = 0  # refusals since then, not in a WARNING line

    def refused(self, call: CallId, destination: str, why: str) -> None:
        t = self.now()
        if self._last is not None and t - self._last < self.every_s:
            self._since += 1
            self.logger.debug("call %s refused (%s): %s", call, destination, why)
            return
        more = self._since
        since = "" if self._last is None or not more else (
            f" (and {more} more refused in the last {t - self._last:.0f} s)"
        )  # fmt: skip
        self._last, self._since = t, 0
        self.logger.warning("call %s refused (%s): %s%s", call, destination, why, since)
