"""The calls the engine never held: refused at overload (at the hand-off or at the
door) or ended while serve was away, each with its record all the same.

:class:`telephony.shell.CallShell` is an :class:`UnqueuedCalls`; the attributes
declared here are the shell's own. The record goes out through the shell's one
notifier like any finished call's (``CallClosed``, then ``CallFinished``), so the
history, today's figures, the CRM and the metrics have it; the refusals are logged
without a line per caller (:class:`telephony.overload.RefusalLog`).
"""

from __future__ import annotations

import logging

from acd import effects as fx
from acd import snapshot
from acd.counters import Count
from acd.records import CallRecord
from acd.types import CallId, QueueName
from telephony import notifier as nt
from telephony.leg_notes import LegNotes
from telephony.overload import OVERLOAD_EXIT, LoadWatch, RefusalLog, refused_record

__all__ = ["UnqueuedCalls"]

log = logging.getLogger("telephony.shell")  # the shell's log lines, as before


class UnqueuedCalls(LegNotes):
    load: LoadWatch | None
    refusal_log: RefusalLog

    def shed_reason(self) -> str | None:
        """Why a new call must be refused politely now (overload), or None."""
        if self.load is None:
            return None
        counting = self.load.limits.waiting > 0
        waiting = sum(snapshot.queue_lengths(self.engine).values()) if counting else 0
        return self.load.shed_reason(waiting)

    def refuse(
        self,
        call: CallId,
        channel: str,
        queue: QueueName,
        *,
        priority: str,
        caller: str,
        arrived_at: float,
        why: str,
        destination: str = OVERLOAD_EXIT,
    ) -> None:
        """A new call shed at the hand-off (overload) or the door: never enqueued; its
        record (``refused-overload``) goes out like any finished call's."""
        now = self.clock.now()
        at = min(arrived_at, now)
        record = refused_record(call, queue, priority, caller, at, now, destination)
        self.stats[Count.REFUSED_OVERLOAD] += 1
        self.refusal_log.refused(call, destination, why)
        self.close_unqueued(record, channel)

    def close_unqueued(self, record: CallRecord, channel: str) -> None:
        """The record of a call the engine never held (refused, or ended while serve was
        away), out like any finished call's: the history, today's figures, the CRM."""
        finished = fx.CallFinished(record)
        self.notifier.publish(
            nt.CallClosed(self.clock.now(), finished, channel=channel, recording=None, position=0)
        )
        self.notifier.publish(finished)

    def knows(self, call: str) -> bool:
        """Whether ``call`` (a caller's Uniqueid, Hotline's call id) is this shell's:
        held by the engine, or its caller leg seen to the end."""
        return (
            call in self.legs.by_caller_uid
            or call in self.legs.finished
            or self.has_call(CallId(call))
        )

    def has_call(self, call: CallId) -> bool:
        """Whether the engine still holds ``call`` (waiting, on, or in wrap-up)."""
        return snapshot.has_call(self.engine, call)
