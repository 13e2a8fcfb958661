"""Transfers in Asterisk: an agent hands its caller on, blind or after a consultation.

The engine decides who has the call (:mod:`acd.transfer`, event
``CallTransferred``); this module moves the channels, with AMI actions on the
dialplan of ``asterisk-conf/extensions.conf`` (context ``hotline-transfer``):

- **blind, to a queue or an agent**: the engine takes the call back (the agent to
  wrap-up, the call waiting again, perhaps offered at once); the caller's channel
  is ``Redirect``-ed out of the agent's ``Bridge()`` back to ``hotline-hold``. The
  agent's leg leaves its ``Bridge()`` and hangs up. The next agent is rung as for
  any waiting call (``Originate`` into ``hotline-connect``).
- **blind, to a department**: the caller is redirected to
  ``hotline-transfer,<number>``, which ``Dial``-s it through the trunk; the call
  leaves Hotline (its record comes at the end of the agent's wrap-up).
- **attended** (to an agent or a department): one ``Redirect`` moves both
  channels out of the bridge: the caller to ``hotline-transfer,hold`` (music), the
  agent's leg to ``hotline-transfer,consult-agent`` / ``consult-external``, which
  ``Dial``-s the target. The target agent is marked busy in the engine meanwhile
  (``AgentDeviceBusy``) so nothing else rings it. Then:

  - *complete*: the engine hands the call over (the target is connected at once);
    the caller is redirected to ``hotline-transfer,join``, whose ``Bridge()``
    pulls the target's channel out of the consultation, and the first agent's
    leg, its ``Dial`` over, hangs up (``HOTLINE_TRANSFER_DONE``);
  - *return*: the target's channel is hung up; the agent's ``Dial`` returns and
    its leg ``Bridge()``-s the caller again (``HotlineConsultEnded``). The same
    happens when the target does not answer or hangs up itself.
  - the caller hanging up during the consultation ends the call as usual (the
    consultation is hung up); the agent hanging up completes the transfer if the
    target answered (as Asterisk's own attended transfer does), else sends the
    caller back to its queue: a call is never dropped.

Each step of the caller's leg goes through the phase table of
:mod:`telephony.legs`; the queue_log lines (``BLINDTRANSFER``,
``ATTENDEDTRANSFER``, then ``ENTERQUEUE``/``CONNECT`` for the next part) come from
the :class:`telephony.notifier.CallHandedOn`, ``CallEntered`` and
``CallConnected`` notes published here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acd import events as ev
from acd import snapshot
from acd.counters import Count
from acd.engine import EngineError
from acd.types import AgentId, CallId, QueueName, TransferKind, TransferMode
from telephony import notifier as nt
from telephony.ami_client import AMI_ERRORS
from telephony.ami_frames import AmiMessage
from telephony.legs import CallerEvent, CallerPhase, CallLeg, OfferEvent, StepCaller, StepOffer
from telephony.transfer_config import TransferConfig, read_transfer

if TYPE_CHECKING:
    from telephony.shell import CallShell

__all__ = [
    "TRANSFER_CONTEXT",
    "Consult",
    "TransferConfig",
    "TransferError",
    "Transferrer",
    "read_transfer",
]

log = logging.getLogger(__name__)

TRANSFER_CONTEXT = "hotline-transfer"  # must match asterisk-conf/extensions.conf
CONSULT_ENDED = "HotlineConsultEnded"  # the agent's Dial of the target returned
CONSULT_LEG = "HotlineConsultLeg"  # the target's channel, before it rings (Dial's b())


# errors, each with the HTTP status the desk answers


class TransferError(Exception):
    status = 409
    field: str | None = None


class NotYourCallError(TransferError):
    status = 403


class BadTargetError(TransferError):
    status = 422
    field = "target"


class AsteriskRefusedError(TransferError):
    status = 502


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


class Transferrer:
    """The shell's transfers: the desk's commands, and the AMI events of consultations
    (:meth:`observe`, one of the shell's ``observers``)."""

    def __init__(self, shell: CallShell, config: TransferConfig) -> None:
        self.shell = shell
        self.config = config
        self.consults: dict[CallId, Consult] = {}
        self._by_agent_uid: dict[str, Consult] = {}
        self._joining: dict[str, CallId] = {}  # target's uniqueid -> call, until it joins

    # the desk's commands

    def blind(
        self, call: CallId, agent: AgentId, kind: TransferKind, target: str
    ) -> dict[str, Any]:
        leg = self._own(call, agent)
        if call in self.consults:
            raise TransferError(
                f"call {call}: a consultation is going on: complete or return first"
            )
        number = self._number(kind, target)
        part = self._part(leg)
        offer = leg.agent_leg
        self._feed(
            ev.CallTransferred(
                call, agent, kind, target, TransferMode.BLIND, self.config.agent_wait_s
            )
        )
        shell = self.shell
        now = shell.clock.now()
        if kind is TransferKind.EXTERNAL:
            exten, context = number, TRANSFER_CONTEXT
        else:
            exten, context = target, shell.settings.hold_context
        shell.notifier.publish(
            nt.CallHandedOn(
                now,
                call,
                part[0],
                agent,
                "blind",
                kind.value,
                target,
                exten,
                context,
                part[1],
                part[2],
                leg.position,
            )
        )
        if kind is TransferKind.EXTERNAL:
            shell.step(StepCaller(leg, CallerEvent.TRANSFERRED_OUT))
            leg.agent_leg = None  # the agent's leg only leaves now
            where = (TRANSFER_CONTEXT, number)
        else:
            shell.step(StepCaller(leg, CallerEvent.TRANSFERRED))
            self._waits_again(leg, now, offer)
            where = (shell.settings.hold_context, "s")
        shell.spawn(self._redirect(leg.channel, *where))
        return {"call": call, "mode": "blind", "kind": kind.value, "target": target}

    async def consult(
        self, call: CallId, agent: AgentId, kind: TransferKind, target: str
    ) -> dict[str, Any]:
        leg = self._own(call, agent)
        if call in self.consults:
            raise TransferError(f"call {call}: a consultation is going on already")
        if kind is TransferKind.QUEUE:
            raise BadTargetError(
                "an attended transfer goes to an agent or a department, not to a queue"
            )
        number = self._number(kind, target)
        offer = leg.agent_leg
        assert offer is not None  # _own checked it
        shell = self.shell
        if kind is TransferKind.AGENT:
            view = snapshot.agent_view(shell.engine, target)
            state = view.state if view is not None else "unknown"
            if view is None or state != "ready" or view.busy_elsewhere or not view.reachable:
                raise TransferError(f"agent {target} is {state}, not free to take a consultation")
            shell.feed(ev.AgentDeviceBusy(AgentId(target), True))  # nothing else rings it now
        c = Consult(call, agent, offer.uniqueid, kind, target, number, shell.clock.now())
        exten = "consult-agent" if kind is TransferKind.AGENT else "consult-external"
        try:
            await shell.ami.action(
                "Setvar",
                [("Channel", offer.uniqueid), ("Variable", "HOTLINE_CONSULT"), ("Value", number)],
            )
            self.consults[call] = c
            self._by_agent_uid[offer.uniqueid] = c
            shell.step(StepCaller(leg, CallerEvent.CONSULT_STARTED))
            await shell.ami.action(
                "Redirect",
                [
                    ("Channel", leg.channel),
                    ("Context", TRANSFER_CONTEXT),
                    ("Exten", "hold"),
                    ("Priority", "1"),
                    ("ExtraChannel", offer.uniqueid),
                    ("ExtraContext", TRANSFER_CONTEXT),
                    ("ExtraExten", exten),
                    ("ExtraPriority", "1"),
                ],
            )
        except AMI_ERRORS as e:
            shell.stats[Count.ACTION_FAILURES] += 1
            self._forget(c)
            if leg.phase is CallerPhase.HELD:
                shell.step(StepCaller(leg, CallerEvent.CONSULT_ENDED))
            self._free_target(c)
            raise AsteriskRefusedError(f"Asterisk refused the consultation: {e}") from e
        return {"call": call, "mode": "attended", "consulting": c.view()}

    async def complete(self, call: CallId, agent: AgentId) -> dict[str, Any]:
        c = self._consult(call, agent)
        if not c.answered or not c.channel:
            raise TransferError(f"call {call}: {c.target} has not answered the consultation yet")
        leg = self.shell.legs.calls[call]
        part = self._part(leg)
        self._feed(ev.CallTransferred(call, agent, c.kind, c.target, TransferMode.ATTENDED))
        self._forget(c)
        shell = self.shell
        now = shell.clock.now()
        shell.notifier.publish(
            nt.CallHandedOn(
                now, call, part[0], agent, "attended", c.kind.value, c.target, c.number,
                TRANSFER_CONTEXT, part[1], part[2], leg.position, channel=c.channel,
            )
        )  # fmt: skip
        if c.kind is TransferKind.AGENT:
            target = AgentId(c.target)
            offer = shell.legs.add_offer(call, target, c.uniqueid, now)
            shell.step(StepOffer(offer, OfferEvent.ANSWERED))
            # still held until the target's channel has left the consultation's
            # bridge for the caller's: that BridgeLeave must not end the call
            self._joining[c.uniqueid] = call
            leg.answered_at = leg.entered_at = now
            shell.notifier.publish(nt.CallEntered(now, call, leg.queue, leg.caller))
            shell.notifier.publish(
                nt.CallConnected(now, call, leg.queue, target, 0.0, c.uniqueid, now - c.started_at)
            )
        else:
            shell.step(StepCaller(leg, CallerEvent.TRANSFERRED_OUT))
            leg.agent_leg = None
        await self._quiet(
            "Setvar",
            [("Channel", c.agent_uid), ("Variable", "HOTLINE_TRANSFER_DONE"), ("Value", "1")],
        )
        await self._quiet(
            "Setvar", [("Channel", leg.channel), ("Variable", "HOTLINE_JOIN"), ("Value", c.channel)]
        )
        await self._redirect(leg.channel, TRANSFER_CONTEXT, "join")
        return {"call": call, "mode": "attended", "kind": c.kind.value, "target": c.target}

    async def back(self, call: CallId, agent: AgentId) -> dict[str, Any]:
        """Return to the caller: the target is hung up; the agent's leg joins the caller
        again when its ``Dial`` returns (``HotlineConsultEnded``)."""
        c = self._consult(call, agent)
        if not c.channel:
            raise TransferError(f"call {call}: {c.target} is not being dialled yet: try again")
        await self._quiet("Hangup", [("Channel", c.channel), ("Cause", "16")])
        return {"call": call, "returning": True}

    def consult_of(self, agent: AgentId) -> Consult | None:
        return next((c for c in self.consults.values() if c.agent == agent), None)

    # AMI events of consultations (after the translator's)

    def observe(self, msg: AmiMessage) -> None:
        name = msg.name
        if name == "DialEnd":
            c = self._by_agent_uid.get(msg.get("Uniqueid", ""))
            if c is not None and msg.get("DialStatus") == "ANSWER":
                c.answered = True
                if not c.channel:  # DialEnd names the target too
                    c.channel = msg.get("DestChannel", "")
                    c.uniqueid = msg.get("DestUniqueid", "")
        elif name == "UserEvent":
            what = msg.get("UserEvent")
            if what == CONSULT_LEG:
                c = self.consults.get(CallId(msg.get("CallId", "")))
                if c is not None and not c.channel:  # the event's own Channel header
                    c.channel = msg.get("Channel", "").split("\n", 1)[0]
                    c.uniqueid = msg.get("Uniqueid", "")
            elif what == CONSULT_ENDED:
                c = self._by_agent_uid.get(msg.get("Uniqueid", ""))
                if c is not None:
                    self._returned(c)
        elif name == "BridgeLeave":
            self._joined(msg.get("Uniqueid", ""))
        elif name == "Hangup":
            self._hangup(msg.get("Uniqueid", ""))

    def _joined(self, uid: str) -> None:
        """The attended transfer's target left the consultation's bridge for the
        caller's (``join``'s ``Bridge()`` moves it): connected from now on, so its next
        ``BridgeLeave`` or ``Hangup`` ends the call. (Only ``BridgeLeave`` reaches
        serve: ``telephony.ami_events``.)"""
        call = self._joining.pop(uid, None)
        leg = self.shell.legs.calls.get(call) if call is not None else None
        if leg is not None and leg.phase is CallerPhase.HELD:
            self.shell.step(StepCaller(leg, CallerEvent.HANDED_OVER))

    def _returned(self, c: Consult) -> None:
        """The agent's ``Dial`` of the target is over: it is back with its caller."""
        self._forget(c)
        self._free_target(c)
        leg = self.shell.legs.calls.get(c.call)
        if leg is not None and leg.phase is CallerPhase.HELD:
            self.shell.step(StepCaller(leg, CallerEvent.CONSULT_ENDED))

    def _hangup(self, uid: str) -> None:
        shell = self.shell
        call = self._joining.pop(uid, None)
        if call is not None:  # the target hung up before it joined the caller
            leg = shell.legs.calls.get(call)
            if leg is not None and leg.phase is CallerPhase.HELD:
                shell.step(StepCaller(leg, CallerEvent.CALL_ENDED))
                shell.feed(ev.CallEnded(call, by="agent"))
                shell.spawn(self._quiet("Hangup", [("Channel", leg.channel), ("Cause", "16")]))
            return
        c = self._by_agent_uid.get(uid)
        if c is not None:  # the consulting agent hung up
            if c.answered and c.channel:
                shell.spawn(self._complete_quietly(c))
            else:
                self._back_to_queue(c)
            return
        leg = shell.legs.by_caller_uid.get(uid)
        c = self.consults.get(leg.call) if leg is not None else None
        if c is not None:  # the caller hung up while held (the translator ended the call)
            self._forget(c)
            self._free_target(c)
            if c.channel:
                shell.spawn(self._quiet("Hangup", [("Channel", c.channel), ("Cause", "16")]))

    async def _complete_quietly(self, c: Consult) -> None:
        try:
            await self.complete(c.call, c.agent)
        except TransferError as e:
            log.warning("call %s: agent %s hung up during a consultation: %s", c.call, c.agent, e)
            self._back_to_queue(c)

    def _back_to_queue(self, c: Consult) -> None:
        """The consulting agent left before the target answered: the caller waits again
        in its queue (a transfer by that agent to its own queue), never dropped."""
        shell = self.shell
        self._forget(c)
        self._free_target(c)
        leg = shell.legs.calls.get(c.call)
        if leg is None or leg.phase is not CallerPhase.HELD:
            return
        if c.channel:
            shell.spawn(self._quiet("Hangup", [("Channel", c.channel), ("Cause", "16")]))
        part = self._part(leg)
        old = leg.agent_leg  # the consulting agent's: before the engine offers anew
        event = ev.CallTransferred(c.call, c.agent, TransferKind.QUEUE, leg.queue)
        if not shell.feed(event):
            return
        now = shell.clock.now()
        shell.notifier.publish(
            nt.CallHandedOn(
                now, c.call, part[0], c.agent, "blind", "queue", leg.queue, leg.queue,
                shell.settings.hold_context, part[1], part[2], leg.position,
            )
        )  # fmt: skip
        shell.step(StepCaller(leg, CallerEvent.TRANSFERRED))
        self._waits_again(leg, now, old)
        shell.spawn(self._redirect(leg.channel, shell.settings.hold_context, "s"))

    # the parts

    def _own(self, call: CallId, agent: AgentId) -> CallLeg:
        """The agent's connected call, or :class:`NotYourCallError`."""
        leg = self.shell.legs.calls.get(call)
        offer = leg.agent_leg if leg is not None else None
        if leg is None or offer is None or offer.agent != agent:
            raise NotYourCallError(f"call {call} is not a call of agent {agent}")
        if leg.callback is not None:
            raise TransferError(f"call {call}: a callback is not transferred")
        if leg.phase is not CallerPhase.CONNECTED:
            raise TransferError(f"call {call} is {leg.phase.value}, not connected to agent {agent}")
        return leg

    def _consult(self, call: CallId, agent: AgentId) -> Consult:
        c = self.consults.get(call)
        if c is None or c.agent != agent:
            raise TransferError(f"call {call}: agent {agent} is consulting nobody about it")
        return c

    def _number(self, kind: TransferKind, target: str) -> str:
        cfg = self.shell.engine.config
        if kind is TransferKind.QUEUE:
            if target not in cfg.queues:
                raise BadTargetError(f"unknown queue {target!r} (known: {sorted(cfg.queues)})")
            return target
        if kind is TransferKind.AGENT:
            if target not in cfg.agents:
                raise BadTargetError(f"unknown agent {target!r}")
            return self.shell.settings.endpoint(target)
        number = self.config.departments.get(target)
        if number is None:
            known = sorted(self.config.departments)
            raise BadTargetError(f"unknown department {target!r} (known: {known})")
        return number

    def _part(self, leg: CallLeg) -> tuple[QueueName, float, float]:
        """(queue, hold, talk) of the transferring agent's part, as queue_log counts."""
        now = self.shell.clock.now()
        entered = leg.entered_at if leg.entered_at is not None else leg.arrived_at
        answered = leg.answered_at if leg.answered_at is not None else now
        return leg.queue, max(0.0, answered - entered), max(0.0, now - answered)

    def _waits_again(self, leg: CallLeg, now: float, offer: Any) -> None:
        """The caller waits again: a new visit of a queue for the hold time, and the
        next ENTERQUEUE (its queue is the engine's now, after a ``MoveCall``)."""
        leg.answered_at = None
        leg.entered_at = now
        if leg.agent_leg is offer:  # no new offer yet: the old one only leaves
            leg.agent_leg = None
        self.shell.notifier.publish(nt.CallEntered(now, leg.call, leg.queue, leg.caller))

    def _feed(self, event: ev.CallTransferred) -> None:
        try:
            self.shell.feed(event, strict=True)
        except EngineError as e:
            raise TransferError(str(e)) from e

    def _forget(self, c: Consult) -> None:
        self.consults.pop(c.call, None)
        self._by_agent_uid.pop(c.agent_uid, None)

    def _free_target(self, c: Consult) -> None:
        if c.kind is TransferKind.AGENT:
            view = snapshot.agent_view(self.shell.engine, c.target)
            if view is not None and view.busy_elsewhere:
                self.shell.feed(ev.AgentDeviceBusy(AgentId(c.target), False))

    async def _redirect(self, channel: str, context: str, exten: str) -> None:
        fields = [("Channel", channel), ("Context", context), ("Exten", exten), ("Priority", "1")]
        await self._quiet("Redirect", fields)

    async def _quiet(self, action: str, fields: list[tuple[str, str]]) -> None:
        try:
            await self.shell.ami.action(action, fields)
        except (*AMI_ERRORS, ValueError) as e:  # ValueError: a field AMI cannot carry
            self.shell.stats[Count.ACTION_FAILURES] += 1
            log.warning("transfer: AMI %s %s failed: %s", action, fields[0][1], e)
