"""The door that finds its own limit (``[serve] door_auto``): no operator has to know
how many callers the machine carries.

Why. The door (:mod:`telephony.door`) refuses new callers before ``Answer()`` past
``HOTLINE_DOOR_MAX`` callers in; set by hand, that limit is the machine's capacity,
which an operator learns only from a load test (the live rig: ~130–170 callers at
once on 2 cores), and which changes with the machine, the talk time and what else
runs there. Left open, a surge past capacity collapses: every call admitted makes
Asterisk slower, calls last longer, more are in at once, and callers give up
unanswered (``benchmarks/RESULTS.md``: Hotline lost 83 of 4,200 at 140 calls/s with
the door open, its stasis lag climbing 12 → 49 → 125 → 251 ms over 15 s first).

How. Once a second :func:`governing` reads the stasis probe's lag (Asterisk's own
event pipeline, the sign that rises first: :mod:`telephony.stasis_probe`) and the
callers in (``GROUP_COUNT(inbound@hotline)``, Asterisk's count, by ``Getvar``), and
:class:`DoorGovernor` answers with the limit, in the way TCP finds a path's capacity
(additive increase, multiplicative decrease):

- the lag at ``door_auto_lag_s`` (0.1 s) or more: the limit becomes 90 % of the
  callers in (of the limit, once set), at most every ``CUT_EVERY_S``, never below
  ``door_auto_min_calls`` — fewer callers are let in until Asterisk keeps up;
- the lag under half that for ``CALM_S``: the limit rises by 5 % (at least 2) every
  ``RAISE_EVERY_S``; once it is twice the callers in, the door opens again (back to
  ``door_max_calls``, 0: open).

The limit goes to Asterisk as the door's global (:meth:`telephony.door.Door.limit`),
counted in ``door_auto_cuts`` / ``door_auto_raises``, the limit in force in the gauge
``door_limit`` (0: open). The operator's ``door_max_calls`` stays the ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from acd.counters import Count
from telephony.ami_client import AMI_ERRORS, AmiPort

__all__ = ["CALM_S", "CUT_EVERY_S", "INSIDE", "DoorGovernor", "governing"]

log = logging.getLogger(__name__)

TICK_S = 1.0  # how often the lag and the callers in are read
CUT = 0.9  # a cut keeps this share of the callers in
CUT_EVERY_S = 2.0  # at most one cut this often: the last one's effect shows first
CALM_S = 5.0  # the lag this long under half the threshold before the limit rises
RAISE_EVERY_S = 2.0  # then one rise this often
RAISE = 0.05  # by this share of the limit (at least RAISE_MIN)
RAISE_MIN = 2
INSIDE = "GROUP_COUNT(inbound@hotline)"  # the dialplan's count of the callers in


@dataclass(slots=True)
class DoorGovernor:
    """The door's limit from the lag and the callers in (pure: the clock is given).

    ``lag_s``: the threshold; ``floor``: the lowest limit; ``ceiling``: the operator's
    ``door_max_calls`` (0: none). :meth:`tick` returns the limit to set when it
    changes, else None; :attr:`limit` 0 is an open door (or the ceiling)."""

    lag_s: float
    floor: int
    ceiling: int = 0
    limit: int = 0  # 0: not governing (the door is the ceiling)
    _cut_at: float = -1e18
    _calm_since: float | None = None
    _raised_at: float = -1e18

    def tick(self, now: float, lag_s: float, inside: int) -> int | None:
        """One reading: the probe's ``lag_s``, ``inside`` callers in."""
        if lag_s >= self.lag_s:
            self._calm_since = None
            if now - self._cut_at < CUT_EVERY_S:
                return None
            self._cut_at = now
            base = inside if self.limit == 0 else min(self.limit, inside)
            cut = max(self.floor, int(base * CUT))
            if self.ceiling:
                cut = min(cut, self.ceiling)
            return self._set(cut)
        if self.limit == 0 or lag_s >= self.lag_s / 2:
            self._calm_since = None
            return None
        if self._calm_since is None:
            self._calm_since = now
        if now - self._calm_since < CALM_S or now - self._raised_at < RAISE_EVERY_S:
            return None
        self._raised_at = now
        raised = self.limit + max(RAISE_MIN, int(self.limit * RAISE))
        if raised >= 2 * max(inside, 1) or (self.ceiling and raised >= self.ceiling):
            return self._set(0)  # far above the load: open again
        return self._set(raised)

    def in_force(self) -> int:
        """The door's limit Asterisk should have (0: open)."""
        return self.limit or self.ceiling

    def _set(self, limit: int) -> int | None:
        if limit == self.limit:
            return None
        self.limit = limit
        return self.in_force()


Lag = Callable[[], float]  # the stasis probe's sign now (LoadWatch.stasis_lag_s)
SetLimit = Callable[[int], Awaitable[object]]  # Door.limit


@contextlib.asynccontextmanager
async def governing(
    governor: DoorGovernor,
    lag: Lag,
    port: Callable[[], AmiPort | None],
    set_limit: SetLimit,
    stats: Counter[str],
    now: Callable[[], float],
) -> AsyncIterator[DoorGovernor]:
    """Run ``governor`` once a second while the block runs: the callers in read over
    ``port()`` (skipped while there is none, or Asterisk does not answer), a new limit
    given to ``set_limit``."""
    task = asyncio.create_task(_govern(governor, lag, port, set_limit, stats, now))
    try:
        yield governor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _govern(
    governor: DoorGovernor,
    lag: Lag,
    port: Callable[[], AmiPort | None],
    set_limit: SetLimit,
    stats: Counter[str],
    now: Callable[[], float],
) -> None:
    stats[Count.DOOR_LIMIT] = governor.in_force()
    while True:
        await asyncio.sleep(TICK_S)
        p = port()
        if p is None:
            continue
        try:
            await _step(governor, lag, p, set_limit, stats, now)
        except (*AMI_ERRORS, ValueError) as e:
            log.debug("the callers in could not be read: %s", e)
        except Exception:  # the door keeps its last limit; the next tick tries again
            log.exception("the automatic door failed a step")


async def _step(
    governor: DoorGovernor,
    lag: Lag,
    port: AmiPort,
    set_limit: SetLimit,
    stats: Counter[str],
    now: Callable[[], float],
) -> None:
    inside = await callers_in(port)
    was = governor.limit
    sign = lag()
    limit = governor.tick(now(), sign, inside)
    if limit is None:
        return
    cut = governor.limit != 0 and (was == 0 or governor.limit < was)
    stats[Count.DOOR_AUTO_CUTS if cut else Count.DOOR_AUTO_RAISES] += 1
    stats[Count.DOOR_LIMIT] = limit
    if cut:
        log.warning(
            "Asterisk's events %.0f ms behind with %d callers in: the door lets in %d",
            sign * 1000, inside, limit,
        )  # fmt: skip
    else:
        log.info("Asterisk keeps up: the door lets in %s", limit or "everyone")
    await set_limit(limit)


async def callers_in(port: AmiPort) -> int:
    """How many callers the dialplan counts in now (its door's count)."""
    answer = await port.action("Getvar", [("Variable", INSIDE)])
    value = answer[0].get("Value", "") if answer else ""
    return int(value or 0)
