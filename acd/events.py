"""Events: what happened, told to the engine by a shell. Past tense, frozen, slotted."""

from __future__ import annotations

from dataclasses import field

from acd.types import (
    AgentId,
    CallId,
    OfferFailure,
    QueueName,
    TransferKind,
    TransferMode,
    message,
)


@message
class CallArrived:
    """A caller joined a queue (after the IVR).

    ``arrived_at`` is for adopting a call that was already waiting (a restart of
    the shell): it keeps the caller's original place. ``case_owner`` is the agent
    who owns the caller's open case, for sticky routing. ``callback`` restores a
    call that was waiting to be called back at that number (its caller left the line).
    """

    call: CallId
    queue: QueueName
    priority: str = "normal"
    caller: str = ""
    language: str | None = None
    case_owner: AgentId | None = None
    arrived_at: float | None = None
    callback: str | None = None


@message
class CallerAbandoned:
    """The caller hung up while waiting (or while an agent was being rung)."""

    call: CallId


@message
class CallbackRequested:
    """The caller left the line but keeps its place; dial ``number`` when its turn comes."""

    call: CallId
    number: str


@message
class CallbackFailed:
    """The agent was connected but the resident did not answer the callback."""

    call: CallId
    reason: str = "no-answer"


@message
class CallLost:
    """The telephony side lost the call (it no longer exists there)."""

    call: CallId
    reason: str


@message
class AgentAnswered:
    call: CallId
    agent: AgentId


@message
class OfferFailed:
    call: CallId
    agent: AgentId
    reason: OfferFailure = OfferFailure.NO_ANSWER


@message
class CallEnded:
    """A connected call ended; ``by`` is "caller" or "agent"."""

    call: CallId
    by: str = "caller"


@message
class CallPriorityChanged:
    """A supervisor changed a call's priority class (one of ``[priorities]``).

    The call keeps its arrival time: among calls of its new class it takes its
    place by arrival. Accepted while the call waits, rings an agent or is a
    callback waiting for its retry; refused once it is connected.
    """

    call: CallId
    priority: str


@message
class CallRequeued:
    """A supervisor moved a waiting call to another queue (``MoveCall`` with ``reason``).

    Like an escalation's overflow move, the call keeps its arrival time, so its
    place among the new queue's calls of its class; escalation and max wait start
    over in the new queue. Refused while an agent is being rung for it, and when
    the new queue is full or takes no callers now (its ``join_empty``): a
    supervisor's move never sends a caller out of the queues.
    """

    call: CallId
    queue: QueueName
    reason: str = "supervisor"


@message
class CallTransferred:
    """``agent`` handed its connected call on (:mod:`acd.transfer`): to a queue (the
    call waits there again, keeping its priority class and its arrival time, so its
    place among the calls of its class), to a named agent (``target`` is the agent:
    offered to it when ready, for ``agent_wait_s`` at most, then to the queue's
    agents), or to an external department (the call leaves Hotline). ``agent`` goes
    to wrap-up. An attended transfer to an agent connects that agent at once (it
    answered the consultation), which must be ready."""

    call: CallId
    agent: AgentId
    kind: TransferKind
    target: str
    mode: TransferMode = TransferMode.BLIND
    agent_wait_s: float = 120.0


@message
class AgentLoggedIn:
    agent: AgentId
    paused_reason: str | None = None


@message
class AgentLoggedOut:
    """Logs out now, or after the current call if the agent is on one."""

    agent: AgentId


@message
class AgentReady:
    """Ready now; on a call it means "ready after this call" (no wrap-up)."""

    agent: AgentId


@message
class AgentPaused:
    """Paused now; on a call it means "pause after this call"."""

    agent: AgentId
    reason: str = "break"


@message
class AgentReachable:
    """The agent's softphone registered (True) or went away (False)."""

    agent: AgentId
    reachable: bool


@message
class AgentDeviceBusy:
    """The agent's phone is busy (True) on a call Hotline did not place, or free again
    (False): while busy the agent is not offered calls, whatever its state; its state
    and its own choices (a pause, "after this call") are left as they are."""

    agent: AgentId
    busy: bool


@message
class CallAdopted:
    """A call already connected to ``agent`` in Asterisk that the engine does not hold
    (the shell restarted while the two talked): the engine takes it as answered, and
    the agent as on that call. Its record comes out when the call and its wrap-up end.
    ``answered_at`` and ``arrived_at`` keep the call's times from before the restart.

    With ``ended_at`` the talk had already ended (the shell restarted during the
    agent's wrap-up): the agent is in wrap-up for what is left of it, and the call's
    record comes out when that ends (at once if it ended while the shell was down).
    ``after_call`` (``"ready"``/``"pause"``/``"logout"``) is the agent's wish, kept."""

    call: CallId
    agent: AgentId
    queue: QueueName
    answered_at: float
    arrived_at: float
    priority: str = "normal"
    caller: str = ""
    language: str | None = None
    ended_at: float | None = None
    ended_by: str = "caller"
    after_call: str | None = None
    after_call_reason: str | None = None


@message
class AgentSkillsChanged:
    """An administrator gave the agent these skills (each level 1-10), whatever its
    state: its pools follow at once; a call it is on or rung for stays with it."""

    agent: AgentId
    skills: dict[str, int] = field(default_factory=dict)


@message
class AgentAdded:
    """A new seat in the roster, logged out (runtime administration). Refused for an
    id already in the roster."""

    agent: AgentId
    name: str
    skills: dict[str, int] = field(default_factory=dict)
    wrapup_s: float | None = None


@message
class AgentRemoved:
    """A seat leaves the roster. Refused unless the agent is logged out: an agent on a
    call, ringing or at work keeps its state until it logs out."""

    agent: AgentId


Event = (
    CallArrived
    | CallerAbandoned
    | CallbackRequested
    | CallbackFailed
    | CallLost
    | AgentAnswered
    | OfferFailed
    | CallEnded
    | CallPriorityChanged
    | CallRequeued
    | CallTransferred
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentReady
    | AgentPaused
    | AgentReachable
    | AgentSkillsChanged
    | AgentAdded
    | AgentRemoved
    | AgentDeviceBusy
    | CallAdopted
)
