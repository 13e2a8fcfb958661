"""What the shell knows of each call's channels in Asterisk, and the one table of
their phases. No I/O.

A call has one caller leg (the resident's channel, holding in the dialplan) and
over its life zero or more agent legs (one per offer, each an ``Originate`` to
``PJSIP/<agent>`` with a channel id we choose, so its events are ours before
Asterisk tells us the channel's name). The engine owns routing; this module only
maps channels and actions back to calls and agents, and remembers the phase of
each leg so that the second of two racing signals (a Hangup and an
OriginateResponse for the same failure) is ignored.

Everything that affects a leg's phase lives here: the phases, the events and
one transition table per leg kind, keyed by ``(phase, event)``. A pair in
``*_IGNORED`` is a known race (a late second signal) and changes nothing; any
other pair missing from the table raises :class:`IllegalLegTransitionError`,
naming the leg, the phase and the event. :meth:`Legs.step_caller` and
:meth:`Legs.step_offer` are the only code that assigns a phase.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from acd.types import AgentId, CallId, QueueName

__all__ = [
    "CALLER_IGNORED",
    "CALLER_TRANSITIONS",
    "OFFER_IGNORED",
    "OFFER_TRANSITIONS",
    "AgentLeg",
    "CallLeg",
    "CallerEvent",
    "CallerPhase",
    "IllegalLegTransitionError",
    "Legs",
    "LegsView",
    "OfferEvent",
    "OfferPhase",
    "StepCaller",
    "StepOffer",
    "caller_transition",
    "is_offer_uniqueid",
    "offer_transition",
]


class CallerPhase(enum.StrEnum):
    WAITING = "waiting"  # holding in the dialplan (maybe an agent is being rung)
    CONNECTED = "connected"  # an agent answered
    CALLBACK = "callback"  # the caller left the line and keeps its place: dial it back
    HELD = "held"  # on hold while its agent consults a transfer target (telephony.transfer)
    ENDED = "ended"  # the engine has been told; later signals are ignored


class CallerEvent(enum.StrEnum):
    HUNG_UP = "hung-up"  # the caller's channel hung up (not a callback's: it leaves on purpose)
    AGENT_ANSWERED = "agent-answered"  # the Originate of the call's agent leg succeeded
    RESIDENT_ANSWERED = "resident-answered"  # a callback's Dial of the resident was answered
    CALL_ENDED = "call-ended"  # a connected call ended (bridge left, a leg hung up or vanished)
    CALLBACK_REQUESTED = "callback-requested"  # the engine accepted "call me back"
    CALLBACK_FAILED = "callback-failed"  # the resident was not reached: the call keeps its place
    EXITED = "exited"  # the engine sent the caller out of the queues (Redirect)
    LOST = "lost"  # Asterisk no longer has the caller, or the engine refused a callback result
    # transfers (telephony.transfer)
    CONSULT_STARTED = "consult-started"  # held while the agent consults a target
    CONSULT_ENDED = "consult-ended"  # back with its agent (the target hung up or was sent away)
    TRANSFERRED = "transferred"  # handed to a queue or an agent: it waits again
    HANDED_OVER = "handed-over"  # an attended transfer's target has it now
    TRANSFERRED_OUT = "transferred-out"  # to an external number: it leaves Hotline


class OfferPhase(enum.StrEnum):
    RINGING = "ringing"
    UP = "up"  # the agent answered
    CANCELLED = "cancelled"  # we hung it up (ring timeout, caller gone)
    DONE = "done"


class OfferEvent(enum.StrEnum):
    ANSWERED = "answered"  # OriginateResponse Success
    CANCELLED = "cancelled"  # we hang it up: ring timeout, caller gone, answered too late
    ENDED = "ended"  # over for its call: hung up, not originated, vanished, callback not reached


class IllegalLegTransitionError(Exception):
    """An event that the leg's current phase does not allow."""

    def __init__(
        self, leg: str, phase: CallerPhase | OfferPhase, event: CallerEvent | OfferEvent
    ) -> None:
        self.leg = leg
        self.phase = phase
        self.event = event
        if isinstance(phase, CallerPhase):
            allowed = sorted(e.value for (p, e) in CALLER_TRANSITIONS if p is phase)
        else:
            allowed = sorted(e.value for (p, e) in OFFER_TRANSITIONS if p is phase)
        super().__init__(
            f"{leg}: cannot {event.value!r} in phase {phase.value!r}"
            f" (allowed there: {', '.join(allowed) or 'nothing'})"
        )


CP, CE = CallerPhase, CallerEvent
OP, OE = OfferPhase, OfferEvent

CALLER_TRANSITIONS: dict[tuple[CallerPhase, CallerEvent], CallerPhase] = {
    (CP.WAITING, CE.HUNG_UP): CP.ENDED,  # abandoned
    (CP.WAITING, CE.AGENT_ANSWERED): CP.CONNECTED,
    (CP.WAITING, CE.CALLBACK_REQUESTED): CP.CALLBACK,
    (CP.WAITING, CE.EXITED): CP.ENDED,
    (CP.WAITING, CE.LOST): CP.ENDED,
    (CP.CONNECTED, CE.HUNG_UP): CP.ENDED,
    (CP.CONNECTED, CE.RESIDENT_ANSWERED): CP.CONNECTED,
    (CP.CONNECTED, CE.CALL_ENDED): CP.ENDED,
    (CP.CONNECTED, CE.CALLBACK_FAILED): CP.CALLBACK,
    (CP.CONNECTED, CE.LOST): CP.ENDED,
    (CP.CONNECTED, CE.CONSULT_STARTED): CP.HELD,
    (CP.CONNECTED, CE.TRANSFERRED): CP.WAITING,
    (CP.CONNECTED, CE.TRANSFERRED_OUT): CP.ENDED,
    (CP.HELD, CE.CONSULT_ENDED): CP.CONNECTED,
    (CP.HELD, CE.HANDED_OVER): CP.CONNECTED,
    (CP.HELD, CE.TRANSFERRED): CP.WAITING,  # its agent hung up before the target answered
    (CP.HELD, CE.TRANSFERRED_OUT): CP.ENDED,
    (CP.HELD, CE.HUNG_UP): CP.ENDED,
    (CP.HELD, CE.CALL_ENDED): CP.ENDED,
    (CP.HELD, CE.LOST): CP.ENDED,
    (CP.CALLBACK, CE.AGENT_ANSWERED): CP.CONNECTED,
    (CP.CALLBACK, CE.EXITED): CP.ENDED,  # overflowed to an exit
    (CP.CALLBACK, CE.LOST): CP.ENDED,
}
# Known races: the second signal changes nothing.
CALLER_IGNORED: frozenset[tuple[CallerPhase, CallerEvent]] = frozenset(
    {
        (CP.ENDED, CE.HUNG_UP),  # the caller's Hangup after BridgeLeave ended the call
        (CP.ENDED, CE.AGENT_ANSWERED),  # the agent answered as the call ended
        (CP.ENDED, CE.RESIDENT_ANSWERED),  # the Dial's DialEnd after the call ended
        (CP.CONNECTED, CE.AGENT_ANSWERED),  # a second success for a connected call
        (CP.ENDED, CE.CONSULT_ENDED),  # the consultation's end after the caller left
    }
)

OFFER_TRANSITIONS: dict[tuple[OfferPhase, OfferEvent], OfferPhase] = {
    (OP.RINGING, OE.ANSWERED): OP.UP,
    (OP.RINGING, OE.CANCELLED): OP.CANCELLED,
    (OP.RINGING, OE.ENDED): OP.DONE,  # not answered: busy, no answer, no contact
    (OP.UP, OE.CANCELLED): OP.CANCELLED,  # answered after the engine moved on
    (OP.UP, OE.ENDED): OP.DONE,
    (OP.CANCELLED, OE.ENDED): OP.DONE,
}
OFFER_IGNORED: frozenset[tuple[OfferPhase, OfferEvent]] = frozenset(
    {
        (OP.UP, OE.ANSWERED),  # a repeated OriginateResponse
        (OP.CANCELLED, OE.ANSWERED),  # answered a cancelled offer: the shell hangs it up
        (OP.DONE, OE.ANSWERED),
        (OP.DONE, OE.ENDED),  # its Hangup after the OriginateResponse failure
    }
)


def caller_transition(leg: str, phase: CallerPhase, event: CallerEvent) -> CallerPhase | None:
    """The phase after ``event``; None if the table ignores it there; else the error."""
    new = CALLER_TRANSITIONS.get((phase, event))
    if new is None and (phase, event) not in CALLER_IGNORED:
        raise IllegalLegTransitionError(leg, phase, event)
    return new


def offer_transition(leg: str, phase: OfferPhase, event: OfferEvent) -> OfferPhase | None:
    """The phase after ``event``; None if the table ignores it there; else the error."""
    new = OFFER_TRANSITIONS.get((phase, event))
    if new is None and (phase, event) not in OFFER_IGNORED:
        raise IllegalLegTransitionError(leg, phase, event)
    return new


@dataclass(slots=True)
class AgentLeg:
    call: CallId
    agent: AgentId
    uniqueid: str
    action_id: str | None = None
    phase: OfferPhase = OfferPhase.RINGING
    offered_at: float = 0.0

    @property
    def name(self) -> str:
        return f"offer {self.uniqueid} (call {self.call}, agent {self.agent})"


@dataclass(slots=True)
class CallLeg:
    call: CallId
    channel: str
    uniqueid: str
    queue: QueueName
    arrived_at: float
    caller: str = ""
    priority: str = "normal"
    phase: CallerPhase = CallerPhase.WAITING
    answered_at: float | None = None
    agent_leg: AgentLeg | None = None
    offers: int = 0
    recording: str | None = None
    position: int = 0
    callback: str | None = None  # the number to dial back (the caller's channel is gone)
    entered_at: float | None = None  # entered its queue again (a transfer): queue_log's hold
    resident_answered: bool = False  # a callback's Dial was answered (the agent leg's)

    @property
    def name(self) -> str:
        return f"call {self.call} (caller {self.uniqueid})"


@dataclass(frozen=True, slots=True)
class StepCaller:
    """Move a caller leg's phase (the translator's instruction; the shell applies it)."""

    leg: CallLeg
    event: CallerEvent


@dataclass(frozen=True, slots=True)
class StepOffer:
    """Move an agent leg's phase (the translator's instruction; the shell applies it)."""

    offer: AgentLeg
    event: OfferEvent


def is_offer_uniqueid(uniqueid: str) -> bool:
    """Whether a channel's Uniqueid is one :meth:`Legs.new_offer` chose for an agent leg
    (``<caller uniqueid>-o<n>``): Hotline's, even once this process forgot it."""
    head, sep, n = uniqueid.rpartition("-o")
    return bool(head and sep and n.isdigit())


# Callers remembered as finished, so never adopted again. Such a caller stays in the hold
# context only until the dialplan hangs it up (seconds); 10,000 is over 8 minutes at
# 20 calls/s (50,000 held ~5 MB of uniqueids, the last of the soak's growth, issue #13).
FINISHED_MEMORY = 10_000


class LegsView(Protocol):
    """What a reader of the legs (the translator) may see: lookups, no changes."""

    @property
    def calls(self) -> Mapping[CallId, CallLeg]: ...
    @property
    def by_caller_uid(self) -> Mapping[str, CallLeg]: ...
    @property
    def by_agent_uid(self) -> Mapping[str, AgentLeg]: ...
    @property
    def by_action(self) -> Mapping[str, AgentLeg]: ...
    @property
    def finished(self) -> Mapping[str, None]: ...


class Legs:
    """Indexes: caller uniqueid, agent-leg uniqueid, originate ActionID, call id."""

    def __init__(self) -> None:
        self.calls: dict[CallId, CallLeg] = {}
        self.by_caller_uid: dict[str, CallLeg] = {}
        self.by_agent_uid: dict[str, AgentLeg] = {}
        self.by_action: dict[str, AgentLeg] = {}
        # Callers whose call is over for us (a bounded memory, oldest forgotten first):
        # the dialplan may still show them briefly in the hold context, e.g. when the
        # engine refused the call during the AGI hand-off; they must not be adopted again.
        self.finished: dict[str, None] = {}
        # Uniqueids Asterisk had at the last resync: a new offer never takes one (after
        # a restart the caller's count starts again while the old ``-o1`` may live on).
        self.taken: frozenset[str] = frozenset()

    def add_call(self, leg: CallLeg) -> None:
        self.calls[leg.call] = leg
        self.by_caller_uid[leg.uniqueid] = leg

    def new_offer(self, call: CallId, agent: AgentId, now: float) -> AgentLeg:
        leg = self.calls[call]
        leg.offers += 1
        while f"{leg.uniqueid}-o{leg.offers}" in self.taken:
            leg.offers += 1
        offer = AgentLeg(call, agent, f"{leg.uniqueid}-o{leg.offers}", offered_at=now)
        leg.agent_leg = offer
        self.by_agent_uid[offer.uniqueid] = offer
        return offer

    def add_offer(self, call: CallId, agent: AgentId, uniqueid: str, now: float) -> AgentLeg:
        """An agent leg this process did not originate (found bridged after a restart):
        ringing, like a new offer; the caller moves its phase on by the table."""
        leg = self.calls[call]
        leg.offers += 1
        offer = AgentLeg(call, agent, uniqueid, offered_at=now)
        leg.agent_leg = offer
        self.by_agent_uid[uniqueid] = offer
        return offer

    def bind_action(self, offer: AgentLeg, action_id: str) -> None:
        offer.action_id = action_id
        self.by_action[action_id] = offer

    def step(self, item: StepCaller | StepOffer) -> CallerPhase | OfferPhase | None:
        """Apply one step: the new phase, or None when the table ignores it."""
        if isinstance(item, StepCaller):
            return self.step_caller(item.leg, item.event)
        return self.step_offer(item.offer, item.event)

    def step_caller(self, leg: CallLeg, event: CallerEvent) -> CallerPhase | None:
        """Move the caller leg by the table; the new phase, or None when ignored.
        Raises :class:`IllegalLegTransitionError` (and changes nothing)."""
        new = caller_transition(leg.name, leg.phase, event)
        if new is None:
            return None
        leg.phase = new
        if event is CallerEvent.RESIDENT_ANSWERED:
            leg.resident_answered = True
        elif event is CallerEvent.CALLBACK_FAILED:
            leg.resident_answered = False
        return new

    def step_offer(self, offer: AgentLeg, event: OfferEvent) -> OfferPhase | None:
        """Move the agent leg by the table; the new phase, or None when ignored. A
        finished offer leaves the indexes (and its call, unless the call is connected).
        Raises :class:`IllegalLegTransitionError` (and changes nothing)."""
        new = offer_transition(offer.name, offer.phase, event)
        if new is None:
            return None
        offer.phase = new
        if new is OfferPhase.DONE:
            self.by_agent_uid.pop(offer.uniqueid, None)
            if offer.action_id is not None:
                self.by_action.pop(offer.action_id, None)
            leg = self.calls.get(offer.call)
            waiting = (CallerPhase.WAITING, CallerPhase.CALLBACK)
            if leg is not None and leg.agent_leg is offer and leg.phase in waiting:
                leg.agent_leg = None
        return new

    def current_offer(self, call: CallId, agent: AgentId) -> AgentLeg | None:
        leg = self.calls.get(call)
        if leg is None or leg.agent_leg is None or leg.agent_leg.agent != agent:
            return None
        return leg.agent_leg

    def forget_orphans(self, present: Collection[str]) -> int:
        """Forget agent legs whose call is over and whose channel Asterisk no longer has
        (their Hangup was missed, e.g. while AMI was down): without this the indexes of
        agent legs would grow for the life of the process. Returns how many."""
        gone = [
            offer
            for uid, offer in self.by_agent_uid.items()
            if uid not in present and offer.call not in self.calls
        ]
        for offer in gone:
            self.by_agent_uid.pop(offer.uniqueid, None)
            if offer.action_id is not None:
                self.by_action.pop(offer.action_id, None)
        return len(gone)

    def drop_call(self, call: CallId) -> CallLeg | None:
        """Forget a call that is over for Asterisk and for the engine."""
        leg = self.calls.pop(call, None)
        if leg is not None:
            self.by_caller_uid.pop(leg.uniqueid, None)
            self.finished[leg.uniqueid] = None
            if len(self.finished) > FINISHED_MEMORY:
                del self.finished[next(iter(self.finished))]
            if leg.agent_leg is not None and leg.agent_leg.phase is OfferPhase.DONE:
                self.by_agent_uid.pop(leg.agent_leg.uniqueid, None)
        return leg
