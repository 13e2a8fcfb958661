"""The engine on an asyncio loop, with the loop's time under the test's control.

:class:`VirtualTimeLoop` is an asyncio event loop whose clock jumps to the next
scheduled callback instead of sleeping, so a simulated hour takes as long as
the work in it. :class:`AsyncioScheduler` runs the world's actions with
``loop.call_at``; :func:`run_asyncio` wires the same :class:`simulator.shell.Shell`
and :class:`simulator.world.World` as the SimPy simulator does. It is the
stand-in for the production asyncio shell (``hotline serve``) in the test that
both give identical call records; re-point that test at the real shell when its
scripted telephony fake can be driven the same way.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import selectors
from collections.abc import Callable, Sequence
from typing import Any

from acd.config import AcdConfig
from simulator.run import RunResult, wire
from simulator.world import Behaviour, CallSpec, Shift


class _JumpSelector(selectors.DefaultSelector):
    """Never sleeps: a select with a timeout moves the loop's clock forward instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if not ready and timeout and self.loop is not None:
            self.loop.virtual += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _JumpSelector()
        super().__init__(selector)
        selector.loop = self
        self.virtual = 0.0

    def time(self) -> float:
        return self.virtual


class AsyncioScheduler:
    """Actions due at a time, run from the loop's timer in time order, first come
    first served among equal times (as SimPy does; the loop alone does not promise
    an order for callbacks due at the same instant). ``now`` is the exact time the
    running action was due."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.t = 0.0
        self.idle = asyncio.Event()
        self._heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> int:
        return len(self._heap)

    def now(self) -> float:
        return self.t

    def call_at(self, at: float, fn: Callable[[Any], None], arg: Any) -> None:
        at = max(at, self.t)
        first = not self._heap or at < self._heap[0][0]
        heapq.heappush(self._heap, (at, next(self._seq), fn, arg))
        if first:
            self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(self._heap[0][0], self._run) if self._heap else None

    def _run(self) -> None:
        self._timer = None
        at, _, fn, arg = heapq.heappop(self._heap)
        self.t = at
        fn(arg)
        if self._heap:
            self._arm()
        else:
            self.idle.set()


def run_asyncio(
    cfg: AcdConfig,
    calls: Sequence[CallSpec],
    shifts: Sequence[Shift],
    behaviour: Behaviour,
    seed: int,
) -> RunResult:
    """Run until nothing is left to happen, on a fresh virtual-time asyncio loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(_main(cfg, calls, shifts, behaviour, seed))
    finally:
        loop.close()


async def _main(
    cfg: AcdConfig,
    calls: Sequence[CallSpec],
    shifts: Sequence[Shift],
    behaviour: Behaviour,
    seed: int,
) -> RunResult:
    sched = AsyncioScheduler(asyncio.get_running_loop())
    _, world = wire(cfg, calls, shifts, behaviour, seed, sched)
    if sched.pending:
        await sched.idle.wait()
    end = sched.t
    world.meter.close(end)
    world.tally.step(end, 0)
    return RunResult(world.records, world.meter, world.tally, end, len(calls))
