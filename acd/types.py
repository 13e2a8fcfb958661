"""Names for the protocol types every part of Hotline shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType, Protocol, TypeVar, dataclass_transform

_T = TypeVar("_T")

CallId = NewType("CallId", str)
AgentId = NewType("AgentId", str)
QueueName = NewType("QueueName", str)
Skill = NewType("Skill", str)


@dataclass_transform(frozen_default=True)
def message(cls: type[_T]) -> type[_T]:
    """An event, effect or record: a slotted dataclass, frozen for the type checker.

    mypy refuses any assignment to a field after construction, as it does for
    ``frozen=True``; at run time it is a plain slotted dataclass with value equality
    and a hash over its fields. Several are built for every call on the engine's hot
    path, and ``frozen=True`` costs about ten times as much to construct: its
    ``__init__`` goes through ``object.__setattr__`` field by field.
    """
    return dataclass(slots=True, unsafe_hash=True)(cls)


class Clock(Protocol):
    """Where the core gets the time: seconds as a float, never the wall clock directly."""

    def now(self) -> float: ...


class FakeClock:
    """A clock that only moves when told to: for tests and replay."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f'"seconds" must be >= 0, got {seconds}')
        self.t += seconds

    def set(self, t: float) -> None:
        self.t = t


class Outcome(enum.StrEnum):
    """How a call's visit to the centre ended."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"  # left for a destination outside Hotline's queues
    LOST = "lost"  # the telephony side lost it (Asterisk restart, ...)
    REFUSED = "refused-overload"  # shed at the hand-off: serve could not keep up
    # calls that ended before any queue took them (never in the engine, never in its
    # metrics): a hang-up in the voice menu, a self-service case-status look-up,
    # a queue closed (outside hours, a holiday) with or without a voicemail
    IVR_HANGUP = "ivr-hangup"
    SELF_SERVICE = "self-service"
    AFTER_HOURS = "after-hours"
    VOICEMAIL = "voicemail"


BEFORE_QUEUE = frozenset(
    {Outcome.IVR_HANGUP, Outcome.SELF_SERVICE, Outcome.AFTER_HOURS, Outcome.VOICEMAIL}
)


class ExitReason(enum.StrEnum):
    """Why a call left the queues without being answered or abandoned."""

    TIMEOUT = "timeout"  # max wait reached
    FULL = "full"  # max queue length reached on arrival
    JOIN_EMPTY = "joinempty"  # no agent could serve it on arrival
    LEAVE_EMPTY = "leaveempty"  # the last agent who could serve it left
    CALLBACK_UNREACHED = "callback-unreached"  # every callback attempt failed
    OVERLOAD = "overload"  # refused at the hand-off: serve could not keep up
    LOST = "lost"


class TransferKind(enum.StrEnum):
    """Where an agent hands a connected call on to."""

    QUEUE = "queue"  # the call waits again in that queue, keeping its priority class
    AGENT = "agent"  # offered to that agent when it is ready (for a bounded time)
    EXTERNAL = "external"  # a named department's number through the trunk: it leaves Hotline


class TransferMode(enum.StrEnum):
    BLIND = "blind"  # the caller is handed on at once
    ATTENDED = "attended"  # the agent consulted the target first, then completed


class OfferFailure(enum.StrEnum):
    """Why an offer to an agent did not become a call."""

    NO_ANSWER = "no-answer"
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    FAILED = "failed"


@message
class CallerHint:
    """What the CRM adds to a call at the hand-off (``crm.case_owner``): the agent who
    owns the caller's open case (sticky routing) and a priority class the caller is
    entitled to (a resident flagged elderly living alone or disabled); None: nothing."""

    case_owner: AgentId | None = None
    priority: str | None = None
