"""What the shell knows of each call's channels in Asterisk. No I/O.

A call has one caller leg (the resident's channel, holding in the dialplan) and
over its life zero or more agent legs (one per offer, each an ``Originate`` to
``PJSIP/<agent>`` with a channel id we choose, so its events are ours before
Asterisk tells us the channel's name). The engine owns routing; this table only
maps channels and actions back to calls and agents, and remembers the phase of
each leg so that the second of two racing signals (a Hangup and an
OriginateResponse for the same failure) is ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from acd.types import AgentId, CallId, QueueName

__all__ = ["AgentLeg", "CallLeg", "CallerPhase", "Legs", "OfferPhase"]


class CallerPhase(enum.StrEnum):
    WAITING = "waiting"  # holding in the dialplan (maybe an agent is being rung)
    CONNECTED = "connected"  # an agent answered
    CALLBACK = "callback"  # the caller left the line and keeps its place: dial it back
    ENDED = "ended"  # the engine has been told; later signals are ignored


class OfferPhase(enum.StrEnum):
    RINGING = "ringing"
    UP = "up"  # the agent answered
    CANCELLED = "cancelled"  # we hung it up (ring timeout, caller gone)
    DONE = "done"


@dataclass(slots=True)
class AgentLeg:
    call: CallId
    agent: AgentId
    uniqueid: str
    action_id: str | None = None
    phase: OfferPhase = OfferPhase.RINGING
    offered_at: float = 0.0


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
    extra: dict[str, str] = field(default_factory=dict)


FINISHED_MEMORY = 50_000  # callers remembered as finished, so never adopted again


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

    def add_call(self, leg: CallLeg) -> None:
        self.calls[leg.call] = leg
        self.by_caller_uid[leg.uniqueid] = leg

    def new_offer(self, call: CallId, agent: AgentId, now: float) -> AgentLeg:
        leg = self.calls[call]
        leg.offers += 1
        offer = AgentLeg(call, agent, f"{leg.uniqueid}-o{leg.offers}", offered_at=now)
        leg.agent_leg = offer
        self.by_agent_uid[offer.uniqueid] = offer
        return offer

    def bind_action(self, offer: AgentLeg, action_id: str) -> None:
        offer.action_id = action_id
        self.by_action[action_id] = offer

    def finish_offer(self, offer: AgentLeg, phase: OfferPhase = OfferPhase.DONE) -> None:
        offer.phase = phase
        if phase is OfferPhase.DONE:
            self.by_agent_uid.pop(offer.uniqueid, None)
            if offer.action_id is not None:
                self.by_action.pop(offer.action_id, None)
            leg = self.calls.get(offer.call)
            waiting = (CallerPhase.WAITING, CallerPhase.CALLBACK)
            if leg is not None and leg.agent_leg is offer and leg.phase in waiting:
                leg.agent_leg = None

    def current_offer(self, call: CallId, agent: AgentId) -> AgentLeg | None:
        leg = self.calls.get(call)
        if leg is None or leg.agent_leg is None or leg.agent_leg.agent != agent:
            return None
        return leg.agent_leg

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
