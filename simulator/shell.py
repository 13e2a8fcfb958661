"""The loop that drives the engine: the only place events go in and effects come out.

It is the same few lines on every clock. :meth:`Shell.send` hands one event to
the engine, passes each effect to the world, and re-arms the wake-up; the wake
fires :meth:`acd.engine.Engine.expire` at the engine's next deadline. A
:class:`Scheduler` supplies the clock: SimPy here (:class:`SimPyScheduler`). The
parity test runs the same :class:`World` around the production shell instead, on a
virtual-time asyncio loop (``tests/fakes/``).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any, Protocol

import simpy
from simpy.events import NORMAL

from acd import effects as fx
from acd import events as ev
from acd.wakeup import Wakeup
from simulator.world import Scheduler, World


class Router(Protocol):
    """What the shell drives: :class:`acd.engine.Engine`, or another routing policy
    with the same events in and effects out (the app_queue-style baseline of
    :mod:`simulator.appqueue_router`)."""

    def handle(self, event: ev.Event) -> list[fx.Effect]: ...
    def next_deadline(self) -> float | None: ...
    def expire(self) -> list[fx.Effect]: ...


class Shell:
    """Engine (or another :class:`Router`) + world on one scheduler; ``send`` is the hot path."""

    def __init__(self, engine: Router, sched: Scheduler) -> None:
        self.engine = engine
        self.sched = sched
        self.world: World | None = None
        self._handlers: dict[type, Callable[[Any], None]] = {}
        self.wakeup = Wakeup()  # the one re-arming rule, shared with hotline serve

    def attach(self, world: World) -> None:
        self.world = world
        self._handlers = world.on_effect

    def send(self, event: ev.Event) -> None:
        handlers = self._handlers
        for effect in self.engine.handle(event):
            handlers[type(effect)](effect)
        self._arm()

    def _arm(self) -> None:
        at = self.wakeup.due(self.engine.next_deadline())
        if at is not None:
            self.sched.call_at(at, self._wake, at)

    def _wake(self, at: float) -> None:
        if not self.wakeup.fired(at):
            return  # superseded by an earlier wake-up that already ran
        handlers = self._handlers
        for effect in self.engine.expire():
            handlers[type(effect)](effect)
        self._arm()


class _Act(simpy.Event):
    """An event already triggered, that runs ``fn(arg)`` when SimPy processes it:
    cheaper than a process per action, and it keeps SimPy's order (time, then
    first scheduled, first run). It sets only what ``Environment.step`` reads: the
    callbacks (one shared tuple) and, on the class, ``_ok`` and ``_value``."""

    _ok = True
    _value = None

    def __init__(self, fn: Callable[[Any], None], arg: Any) -> None:
        self.callbacks = _FIRE  # type: ignore[assignment]
        self.fn = fn
        self.arg = arg


def _fire(event: simpy.Event) -> None:
    act: _Act = event  # type: ignore[assignment]
    act.fn(act.arg)


_FIRE = (_fire,)


class SimPyScheduler:
    """Runs world and engine actions as SimPy events on ``env``'s clock."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._eid = env._eid  # SimPy's own event counter: one order for all events

    def now(self) -> float:
        return self.env._now

    def call_at(self, at: float, fn: Callable[[Any], None], arg: Any) -> None:
        env = self.env
        if at < env._now:
            at = env._now
        heappush(env._queue, (at, NORMAL, next(self._eid), _Act(fn, arg)))
