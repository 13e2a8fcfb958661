"""The consultations of attended transfers in progress, and what AMI says of them.

An attended transfer (:mod:`telephony.transfer`) redirects the agent's leg to
``hotline-transfer,consult-agent``/``consult-external``, which ``Dial``-s the
target. :class:`Consults` keeps each :class:`Consult` by call and by the
consulting agent's leg, and learns from the AMI events of the consultation what
the desk's commands need: the target's channel (the dialplan's
``HotlineConsultLeg`` ``UserEvent``, sent by the target's new channel before it
rings, or the ``DialEnd`` that answers) and whether it answered; it says when
the agent's ``Dial`` returned (``HotlineConsultEnded``). After a completed
transfer to an agent, the target's channel is kept in ``joining`` until it has
left the consultation's bridge for the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acd.types import AgentId, CallId, TransferKind
from telephony.ami_frames import AmiMessage

__all__ = ["CONSULT_ENDED", "CONSULT_LEG", "Consult", "Consults"]

CONSULT_ENDED = "HotlineConsultEnded"  # the agent's Dial of the target returned
CONSULT_LEG = "HotlineConsultLeg"  # the target's channel, before it rings (Dial's b())


@dataclass(slots=True)
class Consult:
    """An attended transfer in progress: the agent's leg is dialling the target."""

    call: CallId
    agent: AgentId
    agent_uid: str  # the agent's leg (the one consulting)
    kind: TransferKind
    target: str  # agent id or department name
    number: str  # what is dialled: the agent's endpoint or the department's number
    started_at: float
    channel: str = ""  # the target's channel, once Asterisk dials it
    uniqueid: str = ""
    answered: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "call": self.call,
            "kind": self.kind.value,
            "target": self.target,
            "answered": self.answered,
        }


class Consults:
    def __init__(self) -> None:
        self.by_call: dict[CallId, Consult] = {}
        self.by_agent_uid: dict[str, Consult] = {}
        self.joining: dict[str, CallId] = {}  # target's uniqueid -> call, until it joins

    def add(self, c: Consult) -> None:
        self.by_call[c.call] = c
        self.by_agent_uid[c.agent_uid] = c

    def forget(self, c: Consult) -> None:
        self.by_call.pop(c.call, None)
        self.by_agent_uid.pop(c.agent_uid, None)

    def of_agent(self, agent: AgentId) -> Consult | None:
        return next((c for c in self.by_call.values() if c.agent == agent), None)

    def observe(self, msg: AmiMessage) -> Consult | None:
        """Note what a ``DialEnd`` or a consultation's ``UserEvent`` says of the target;
        the consultation whose agent's ``Dial`` returned, if that is what it says."""
        name = msg.name
        if name == "DialEnd":
            c = self.by_agent_uid.get(msg.get("Uniqueid", ""))
            if c is not None and msg.get("DialStatus") == "ANSWER":
                c.answered = True
                if not c.channel:  # DialEnd names the target too
                    c.channel = msg.get("DestChannel", "")
                    c.uniqueid = msg.get("DestUniqueid", "")
        elif name == "UserEvent":
            what = msg.get("UserEvent")
            if what == CONSULT_LEG:
                c = self.by_call.get(CallId(msg.get("CallId", "")))
                if c is not None and not c.channel:  # the event's own Channel header
                    c.channel = msg.get("Channel", "").split("\n", 1)[0]
                    c.uniqueid = msg.get("Uniqueid", "")
            elif what == CONSULT_ENDED:
                return self.by_agent_uid.get(msg.get("Uniqueid", ""))
        return None
