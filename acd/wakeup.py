"""When a shell wakes the engine: one rule for every clock.

The engine says when it next needs :meth:`acd.engine.Engine.expire`
(:meth:`~acd.engine.Engine.next_deadline`); a shell schedules a wake-up on its own
clock (SimPy's queue, the asyncio loop). Both shells follow this one rule, so the
simulator and ``hotline serve`` take things due at the same instant in the same
order:

- after every event, a wake-up is scheduled only for a deadline *earlier* than the
  one already pending (:meth:`Wakeup.due`); a later or vanished deadline leaves the
  pending wake-up in place — it then fires, finds nothing due, and re-arms;
- a wake-up that fires after an earlier one superseded it does nothing
  (:meth:`Wakeup.fired` is False).

A shell that can cancel a superseded wake-up (asyncio) may do so; it changes nothing
but the work of the no-op.
"""

from __future__ import annotations

import math

__all__ = ["Wakeup"]


class Wakeup:
    __slots__ = ("armed_at",)

    def __init__(self) -> None:
        self.armed_at = math.inf  # when the pending wake-up fires (inf: none)

    def due(self, deadline: float | None) -> float | None:
        """After the engine handled something, given its ``next_deadline()``: the time
        to schedule a new wake-up at, or None when the pending one comes first."""
        if deadline is not None and deadline < self.armed_at:
            self.armed_at = deadline
            return deadline
        return None

    def fired(self, at: float) -> bool:
        """The wake-up scheduled for ``at`` fires: True if it is the pending one (then
        call ``expire()`` and re-arm), False if an earlier one superseded it."""
        if at != self.armed_at:
            return False
        self.armed_at = math.inf
        return True
