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
    leg, its ``Dial`` over, hangs up (``HOTLINE_TRANSFER_DONE``); a recorded call's
    file goes on from the target's channel (the AMI ``MixMonitor``, appending, while
    bridged), as a blind transfer's next agent leg appends in ``hotline-connect``;
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
``CallConnected`` notes published here. A command is checked first
(:mod:`telephony.transfer_checks`); the consultations in progress are kept in
:class:`telephony.consults.Consults`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from acd import events as ev
from acd import snapshot
from acd.counters import Count
from acd.engine import EngineError
from acd.types import AgentId, CallId, QueueName, TransferKind, TransferMode
from telephony import notifier as nt
from telephony.ami_client import AMI_ERRORS
from telephony.ami_frames import AmiMessage
from telephony.consults import Consult, Consults
from telephony.legs import CallerEvent, CallerPhase, CallLeg, OfferEvent, StepCaller, StepOffer
from telephony.transfer_checks import (
    AsteriskRefusedError,
    BadTargetError,
    TransferError,
    own_consult,
    own_leg,
    target_number,
)
from telephony.transfer_config import TransferConfig

if TYPE_CHECKING:
    from telephony.shell import CallShell

__all__ = ["TRANSFER_CONTEXT", "Transferrer"]

log = logging.getLogger(__name__)

TRANSFER_CONTEXT = "hotline-transfer"  # must match asterisk-conf/extensions.conf


class Transferrer:
    """The shell's transfers: the desk's commands, and the AMI events of consultations
    (:meth:`observe`, one of the shell's ``observers``)."""

    def __init__(self, shell: CallShell, config: TransferConfig) -> None:
        self.shell = shell
        self.config = config
        self.consults = Consults()

    # the desk's commands

    def blind(
        self, call: CallId, agent: AgentId, kind: TransferKind, target: str
    ) -> dict[str, Any]:
        leg = self._own(call, agent)
        if call in self.consults.by_call:
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
        self._handed_on(leg, part, now, agent, "blind", kind.value, target, exten, context)
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
        if call in self.consults.by_call:
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
            self.consults.add(c)
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
            self.consults.forget(c)
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
        self.consults.forget(c)
        shell = self.shell
        now = shell.clock.now()
        self._handed_on(
            leg, part, now, agent, "attended", c.kind.value, c.target, c.number,
            TRANSFER_CONTEXT, c.channel,
        )  # fmt: skip
        if c.kind is TransferKind.AGENT:
            target = AgentId(c.target)
            offer = shell.legs.add_offer(call, target, c.uniqueid, now)
            shell.step(StepOffer(offer, OfferEvent.ANSWERED))
            # still held until the target's channel has left the consultation's
            # bridge for the caller's: that BridgeLeave must not end the call
            self.consults.joining[c.uniqueid] = call
            leg.answered_at = leg.entered_at = now
            shell.notifier.publish(nt.CallEntered(now, call, leg.queue, leg.caller))
            shell.notifier.publish(
                nt.CallConnected(now, call, leg.queue, target, 0.0, c.uniqueid, now - c.started_at)
            )
            if leg.recording is not None:  # the second part, appended to the call's file
                await self._quiet(
                    "MixMonitor",
                    [("Channel", c.channel), ("File", leg.recording), ("Options", "ab")],
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
        await self._hang_up(c.channel)
        return {"call": call, "returning": True}

    def consult_of(self, agent: AgentId) -> Consult | None:
        return self.consults.of_agent(agent)

    # AMI events of consultations (after the translator's)

    def observe(self, msg: AmiMessage) -> None:
        name = msg.name
        if name == "BridgeLeave":
            self._joined(msg.get("Uniqueid", ""))
        elif name == "Hangup":
            self._hangup(msg.get("Uniqueid", ""))
        else:  # DialEnd, the consultation's UserEvents
            returned = self.consults.observe(msg)
            if returned is not None:
                self._returned(returned)

    def _joined(self, uid: str) -> None:
        """The attended transfer's target left the consultation's bridge for the
        caller's (``join``'s ``Bridge()`` moves it): connected from now on, so its next
        ``BridgeLeave`` or ``Hangup`` ends the call. (Only ``BridgeLeave`` reaches
        serve: ``telephony.ami_events``.)"""
        call = self.consults.joining.pop(uid, None)
        leg = self.shell.legs.calls.get(call) if call is not None else None
        if leg is not None and leg.phase is CallerPhase.HELD:
            self.shell.step(StepCaller(leg, CallerEvent.HANDED_OVER))

    def _returned(self, c: Consult) -> None:
        """The agent's ``Dial`` of the target is over: it is back with its caller."""
        self.consults.forget(c)
        self._free_target(c)
        leg = self.shell.legs.calls.get(c.call)
        if leg is not None and leg.phase is CallerPhase.HELD:
            self.shell.step(StepCaller(leg, CallerEvent.CONSULT_ENDED))

    def _hangup(self, uid: str) -> None:
        shell = self.shell
        call = self.consults.joining.pop(uid, None)
        if call is not None:  # the target hung up before it joined the caller
            leg = shell.legs.calls.get(call)
            if leg is not None and leg.phase is CallerPhase.HELD:
                shell.step(StepCaller(leg, CallerEvent.CALL_ENDED))
                shell.feed(ev.CallEnded(call, by="agent"))
                shell.spawn(self._hang_up(leg.channel))
            return
        c = self.consults.by_agent_uid.get(uid)
        if c is not None:  # the consulting agent hung up
            if c.answered and c.channel:
                shell.spawn(self._complete_quietly(c))
            else:
                self._back_to_queue(c)
            return
        leg = shell.legs.by_caller_uid.get(uid)
        c = self.consults.by_call.get(leg.call) if leg is not None else None
        if c is not None:  # the caller hung up while held (the translator ended the call)
            self.consults.forget(c)
            self._free_target(c)
            if c.channel:
                shell.spawn(self._hang_up(c.channel))

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
        self.consults.forget(c)
        self._free_target(c)
        leg = shell.legs.calls.get(c.call)
        if leg is None or leg.phase is not CallerPhase.HELD:
            return
        if c.channel:
            shell.spawn(self._hang_up(c.channel))
        part = self._part(leg)
        old = leg.agent_leg  # the consulting agent's: before the engine offers anew
        event = ev.CallTransferred(c.call, c.agent, TransferKind.QUEUE, leg.queue)
        if not shell.feed(event):
            return
        now = shell.clock.now()
        self._handed_on(
            leg, part, now, c.agent, "blind", "queue", leg.queue, leg.queue,
            shell.settings.hold_context,
        )  # fmt: skip
        shell.step(StepCaller(leg, CallerEvent.TRANSFERRED))
        self._waits_again(leg, now, old)
        shell.spawn(self._redirect(leg.channel, shell.settings.hold_context, "s"))

    # the parts

    def _own(self, call: CallId, agent: AgentId) -> CallLeg:
        return own_leg(self.shell.legs.calls.get(call), call, agent)

    def _consult(self, call: CallId, agent: AgentId) -> Consult:
        return own_consult(self.consults.by_call.get(call), call, agent)

    def _number(self, kind: TransferKind, target: str) -> str:
        return target_number(
            self.shell.engine.config, self.shell.settings, self.config, kind, target
        )

    def _part(self, leg: CallLeg) -> tuple[QueueName, float, float]:
        """(queue, hold, talk) of the transferring agent's part, as queue_log counts."""
        now = self.shell.clock.now()
        entered = leg.entered_at if leg.entered_at is not None else leg.arrived_at
        answered = leg.answered_at if leg.answered_at is not None else now
        return leg.queue, max(0.0, answered - entered), max(0.0, now - answered)

    def _handed_on(
        self,
        leg: CallLeg,
        part: tuple[QueueName, float, float],
        now: float,
        agent: AgentId,
        mode: str,
        kind: str,
        target: str,
        exten: str,
        context: str,
        channel: str = "",
    ) -> None:
        """Publish the transferring agent's ``part`` (queue_log's ``*TRANSFER`` line)."""
        queue, hold_s, talk_s = part
        self.shell.notifier.publish(
            nt.CallHandedOn(
                now, leg.call, queue, agent, mode, kind, target, exten, context, hold_s,
                talk_s, leg.position, channel,
            )
        )  # fmt: skip

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

    def _free_target(self, c: Consult) -> None:
        if c.kind is TransferKind.AGENT:
            view = snapshot.agent_view(self.shell.engine, c.target)
            if view is not None and view.busy_elsewhere:
                self.shell.feed(ev.AgentDeviceBusy(AgentId(c.target), False))

    async def _hang_up(self, channel: str) -> None:
        await self._quiet("Hangup", [("Channel", channel), ("Cause", "16")])

    async def _redirect(self, channel: str, context: str, exten: str) -> None:
        fields = [("Channel", channel), ("Context", context), ("Exten", exten), ("Priority", "1")]
        await self._quiet("Redirect", fields)

    async def _quiet(self, action: str, fields: list[tuple[str, str]]) -> None:
        try:
            await self.shell.ami.action(action, fields)
        except (*AMI_ERRORS, ValueError) as e:  # ValueError: a field AMI cannot carry
            self.shell.stats[Count.ACTION_FAILURES] += 1
            log.warning("transfer: AMI %s %s failed: %s", action, fields[0][1], e)
