"""Effects: what the engine asks a shell to do, or tells it happened. Imperative, frozen
(for the type checker: see :func:`acd.types.message`)."""

from __future__ import annotations

from acd.records import CallRecord
from acd.types import AgentId, CallId, ExitReason, QueueName, message


@message
class OfferCall:
    """Ring ``agent`` for ``call``. With ``callback`` set, connect the agent first,
    then dial the resident at that number."""

    call: CallId
    agent: AgentId
    queue: QueueName
    callback: str | None = None
    ring_timeout_s: float = 15.0


@message
class CancelOffer:
    """Stop ringing ``agent`` for ``call`` (ring timeout, or the caller left)."""

    call: CallId
    agent: AgentId
    reason: str


@message
class ExitQueue:
    """Send the caller out of the queues to ``destination`` (a dialplan target)."""

    call: CallId
    reason: ExitReason
    destination: str


@message
class MoveCall:
    """The call now waits in another queue (escalation or max-wait overflow)."""

    call: CallId
    from_queue: QueueName
    to_queue: QueueName
    reason: str


@message
class AgentStateChanged:
    """An agent changed state; ``reason`` is the pause reason code where there is one."""

    agent: AgentId
    old: str
    new: str
    reason: str | None
    at: float


@message
class CallFinished:
    """The call left the engine; its record is final."""

    record: CallRecord


Effect = OfferCall | CancelOffer | ExitQueue | MoveCall | AgentStateChanged | CallFinished
