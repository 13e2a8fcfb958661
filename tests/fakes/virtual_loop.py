"""An asyncio event loop on virtual time, for running a simulated day in milliseconds.

:class:`VirtualTimeLoop` never sleeps: when nothing is ready, its clock jumps to
the next timer (as SimPy's ``Environment`` does), so an hour of calls takes as
long as the work in it. Timers due at the same instant run first scheduled,
first run (asyncio alone does not promise an order for them; SimPy does), so a
run is deterministic and ties resolve as they do in the simulator.

:class:`LoopScheduler` is :class:`simulator.world.Scheduler` on such a loop:
the world's callers and agents act from the loop's timers, next to the
production shell's own timer.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import selectors
from collections.abc import Callable
from typing import Any

__all__ = ["LoopClock", "LoopScheduler", "VirtualTimeLoop"]


class _JumpSelector(selectors.DefaultSelector):
    """Polls; a select that would wait moves the loop's clock forward instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or self.loop is None:
            return ready
        if timeout is None:  # no timer left and nothing ready: the run is over
            self.loop.idle.set()
        elif timeout > 0:
            self.loop.virtual += timeout
        return ready


class _FifoTimer(asyncio.TimerHandle):
    """A timer ordered by (time, order scheduled), like a SimPy event."""

    __slots__ = ("seq",)

    def __init__(self, seq: int, *args: Any) -> None:
        super().__init__(*args)
        self.seq = seq

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _FifoTimer):
            return (self.when(), self.seq) < (other.when(), other.seq)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.when(), self.seq))


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        selector = _JumpSelector()
        super().__init__(selector)
        selector.loop = self
        self.virtual = start
        self.idle = asyncio.Event()  # set when nothing is left to happen
        self._seq = itertools.count()

    def time(self) -> float:
        return self.virtual

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        # BaseEventLoop.call_at, with a timer that keeps first-scheduled-first-run order
        self._check_closed()  # type: ignore[attr-defined]
        timer = _FifoTimer(next(self._seq), when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer


class LoopClock:
    """The engine's clock in the production shell: the loop's (virtual) time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def now(self) -> float:
        return self.loop.time()


class LoopScheduler(LoopClock):
    """The world's scheduler: run ``fn(arg)`` at ``at`` on the loop's timer."""

    def call_at(self, at: float, fn: Callable[[Any], None], arg: Any) -> None:
        self.loop.call_at(max(at, self.loop.time()), fn, arg)
