"""Deadlines the engine must be woken for: one heap, cancelled lazily."""

from __future__ import annotations

import enum
import heapq
import itertools
from dataclasses import dataclass
from typing import Any


class TimerKind(enum.StrEnum):
    """What a deadline is for; the engine dispatches on it when the timer fires."""

    STEP = "step"  # a waiting call's next escalation step
    WAIT = "wait"  # a waiting call's max wait (its queue's exit or overflow)
    STICKY = "sticky"  # a call's wait for its case owner ends
    RING = "ring"  # an offer rang too long
    RETRY = "retry"  # a callback's next attempt
    WRAPUP = "wrapup"  # an agent's after-call work ends


@dataclass(slots=True, eq=False)
class Timer:
    at: float
    kind: TimerKind
    target: Any
    cancelled: bool = False


class Timers:
    """A min-heap of :class:`Timer`; a cancelled timer is dropped when it surfaces."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def add(self, at: float, kind: TimerKind, target: Any) -> Timer:
        t = Timer(at, kind, target)
        heapq.heappush(self._heap, (at, next(self._seq), t))
        return t

    def next_at(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> Timer | None:
        """The earliest live timer due at or before ``now``, removed; else None."""
        heap = self._heap
        while heap:
            at, _, t = heap[0]
            if t.cancelled:
                heapq.heappop(heap)
                continue
            if at > now:
                return None
            heapq.heappop(heap)
            t.cancelled = True  # fired: cancelling it later is harmless
            return t
        return None

    def __len__(self) -> int:
        return len(self._heap)
