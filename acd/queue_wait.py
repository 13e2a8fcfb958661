"""Per queue, the expected wait of the last caller in line: what the wallboard shows.

:func:`acd.predict.predict_wait` plays the engine forward for one call and costs a
few milliseconds in a busy centre, so the wallboard does not ask it for every
caller: per queue it asks for the *last* call waiting in that queue's order
(priority, then arrival: :meth:`acd.calls.Call.order_key`). A new caller of
ordinary priority joins behind it, so that figure is the least a new caller
waits. A queue with nobody waiting has no figure (``None``): a new caller's wait
there is the time until a free agent, which the queue's ready count shows.

Cost: O(calls) to find the last callers, then one prediction per queue that has
callers waiting; :class:`QueueWaits` keeps the answer for ``every_s`` so that a
wallboard built several times a second predicts at most once a second.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.calls import Call, CallState
from acd.engine import Engine
from acd.handle_times import HandleTimes
from acd.predict import WaitPrediction, predict_wait
from acd.types import QueueName

__all__ = ["QueueWaits", "last_in_line", "queue_waits"]


def last_in_line(engine: Engine) -> dict[QueueName, Call]:
    """Per queue, its last waiting call in queue order (queues nobody waits in: absent)."""
    last: dict[QueueName, Call] = {}
    for name in engine.config.queues:
        for c in engine.queue_calls.get(name, {}).values():
            if c.state is not CallState.WAITING:
                continue
            found = last.get(name)
            if found is None or c.order_key() > found.order_key():
                last[name] = c
    return last


def queue_waits(engine: Engine, times: HandleTimes) -> dict[QueueName, WaitPrediction | None]:
    """Every configured queue: the prediction of its last caller in line, or None."""
    last = last_in_line(engine)
    out: dict[QueueName, WaitPrediction | None] = {}
    for name in engine.config.queues:
        call = last.get(name)
        out[name] = predict_wait(engine, call.id, times) if call is not None else None
    return out


@dataclass(slots=True)
class QueueWaits:
    """:func:`queue_waits`, computed at most once every ``every_s`` of the engine's clock."""

    engine: Engine
    times: HandleTimes
    every_s: float = 1.0
    _at: float | None = None
    _waits: dict[QueueName, WaitPrediction | None] | None = None
    computed: int = 0  # how many times it predicted (for tests and curiosity)

    def get(self) -> dict[QueueName, WaitPrediction | None]:
        now = self.engine.clock.now()
        fresh = self._at is not None and 0.0 <= now - self._at < self.every_s
        if self._waits is None or not fresh:
            self._waits = queue_waits(self.engine, self.times)
            self._at = now
            self.computed += 1
        return self._waits
