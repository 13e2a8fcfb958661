"""The call record: one per call visit, with every timestamp. Metrics read only these."""

from __future__ import annotations

import dataclasses
from typing import Any

from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName, message


@message
class CallRecord:
    """What happened to one call, written when the call leaves the engine.

    ``queue`` is where the call entered; ``final_queue`` where it was answered or
    left (they differ after an overflow or an escalation to another queue).
    ``wrapup_ended_at`` is when the agent finished the call's after-call work.
    """

    call: CallId
    queue: QueueName
    final_queue: QueueName
    priority: str
    caller: str
    arrived_at: float
    outcome: Outcome
    first_offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    wrapup_ended_at: float | None = None
    left_at: float | None = None  # abandoned, overflowed or lost
    agent: AgentId | None = None
    offers: int = 0
    exit_reason: ExitReason | None = None
    destination: str | None = None
    ended_by: str | None = None
    callback: bool = False
    sticky: bool = False

    @property
    def wait_s(self) -> float:
        """Time from arrival until answered or gone."""
        end = self.answered_at if self.answered_at is not None else self.left_at
        return (end if end is not None else self.arrived_at) - self.arrived_at

    @property
    def talk_s(self) -> float:
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.answered_at

    @property
    def wrapup_s(self) -> float:
        if self.ended_at is None or self.wrapup_ended_at is None:
            return 0.0
        return self.wrapup_ended_at - self.ended_at

    @property
    def handle_s(self) -> float:
        return self.talk_s + self.wrapup_s


@message
class CallEndedBeforeQueue:
    """A call that ended before any queue took it, so the engine never had it: a hang-up
    in the voice menu, a self-service look-up, a queue closed (outside hours, a holiday).
    The shell publishes it through the one notifier, as :class:`acd.effects.CallFinished`
    is for the engine's calls: the call history, the CRM link (an interaction; with
    ``voicemail``, a case) take it. ``record.outcome`` is one of ``BEFORE_QUEUE``."""

    record: CallRecord
    channel: str = ""
    language: str = ""
    voicemail: str | None = None  # where the message is recorded (outcome voicemail)


FIELDS = tuple(f.name for f in dataclasses.fields(CallRecord))


def record_from_row(row: dict[str, Any]) -> CallRecord:
    """A line of ``calls.jsonl`` back into the engine's record (ValueError if it is not one)."""
    try:
        kw = {name: row[name] for name in FIELDS if name in row}
        kw["call"] = CallId(str(kw["call"]))
        kw["queue"] = QueueName(str(kw["queue"]))
        kw["final_queue"] = QueueName(str(kw["final_queue"]))
        kw["outcome"] = Outcome(kw["outcome"])
        if kw.get("agent") is not None:
            kw["agent"] = AgentId(str(kw["agent"]))
        if kw.get("exit_reason") is not None:
            kw["exit_reason"] = ExitReason(kw["exit_reason"])
        return CallRecord(**kw)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"not a call record ({type(e).__name__}: {e}): {row!r:.200}") from None
