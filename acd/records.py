"""The call record: one per call visit, with every timestamp. Metrics read only these."""

from __future__ import annotations

import dataclasses
from typing import Any

from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName, message


@message
class AgentLeg:
    """One agent's part of a transferred call: talk from ``answered_at`` to ``ended_at``
    (the transfer, or the end of the call), then wrap-up until ``wrapup_ended_at``
    (None when the call's record was written before that agent finished it)."""

    agent: AgentId
    answered_at: float
    ended_at: float
    wrapup_ended_at: float | None = None
    ended_by: str = "transfer"
    to: str = ""  # where the call went: "queue:<name>", "agent:<id>", "external:<dept>"

    @property
    def talk_s(self) -> float:
        return self.ended_at - self.answered_at

    @property
    def wrapup_s(self) -> float:
        return 0.0 if self.wrapup_ended_at is None else self.wrapup_ended_at - self.ended_at


@message
class CallRecord:
    """What happened to one call, written when the call leaves the engine.

    ``queue`` is where the call entered; ``final_queue`` where it was answered or
    left (they differ after an overflow or an escalation to another queue).
    ``wrapup_ended_at`` is when the agent finished the call's after-call work.

    A transferred call is still one record (one visit of the centre): ``transfers``
    counts its hand-overs, and ``legs`` holds every agent's part in order, the last
    one included, so each agent's talk is counted once, from its answer to the
    transfer or the end (not asterisk#759's or FreePBX#124's whole-call talk time
    for each agent). ``answered_at`` stays the first answer (wait, ASA, service
    level); ``agent``, ``ended_at`` and ``wrapup_ended_at`` are the last agent's.
    An external transfer ends the call for Hotline: ``ended_by`` is
    ``"transfer:<department>"``, ``transfers`` 1, and ``legs`` stays empty.
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
    transfers: int = 0
    legs: tuple[AgentLeg, ...] = ()

    @property
    def wait_s(self) -> float:
        """Time from arrival until answered or gone."""
        end = self.answered_at if self.answered_at is not None else self.left_at
        return (end if end is not None else self.arrived_at) - self.arrived_at

    @property
    def talk_s(self) -> float:
        if self.legs:
            return sum(leg.talk_s for leg in self.legs)
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.answered_at

    @property
    def wrapup_s(self) -> float:
        if self.legs:
            return sum(leg.wrapup_s for leg in self.legs)
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
        if kw.get("legs"):
            kw["legs"] = tuple(_leg(x) for x in kw["legs"])
        else:
            kw.pop("legs", None)
        if kw.get("exit_reason") is not None:
            kw["exit_reason"] = ExitReason(kw["exit_reason"])
        return CallRecord(**kw)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"not a call record ({type(e).__name__}: {e}): {row!r:.200}") from None


def _leg(row: Any) -> AgentLeg:
    if isinstance(row, AgentLeg):
        return row
    if not isinstance(row, dict):
        raise TypeError(f"legs: expected an object per leg, got {type(row).__name__}")
    kw = {f.name: row[f.name] for f in dataclasses.fields(AgentLeg) if f.name in row}
    kw["agent"] = AgentId(str(kw["agent"]))
    return AgentLeg(**kw)


def leg_rows(record: CallRecord) -> list[dict[str, Any]]:
    """The record's legs as JSON-friendly objects (``calls.jsonl``)."""
    return [
        {f.name: getattr(leg, f.name) for f in dataclasses.fields(AgentLeg)} for leg in record.legs
    ]
