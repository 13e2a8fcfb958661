"""An engine offer carried out as an AMI ``Originate`` of the agent's leg, and its
answer: a refusal or a lost AMI session comes back to the engine as ``OfferFailed``;
no answer in time is not a refusal (the ring timeout ends the offer).

The ``Originate`` is written to the actions' port at once when the port can
(:class:`telephony.ami_client.ActionStarter`: before the notifier's subscribers hear
of the offer), else when awaited (the tests' fakes).
:class:`telephony.shell.CallShell` is an :class:`OfferActions`; the attributes
declared here are the shell's own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from acd import effects as fx
from acd import events as ev
from acd.counters import Count
from acd.types import OfferFailure
from telephony.agent_seat import offer_fields
from telephony.ami_client import AMI_ERRORS, ActionStarter, AmiDisconnectedError, AmiTimeoutError
from telephony.ami_frames import AmiMessage
from telephony.handoff_trace import HandoffTrace
from telephony.leg_notes import LegNotes
from telephony.legs import AgentLeg, OfferEvent, OfferPhase, StepOffer

__all__ = ["OfferActions"]

log = logging.getLogger("telephony.shell")  # the shell's log lines, as before


class OfferActions(LegNotes):
    trace: HandoffTrace | None
    _starter: tuple[object, ActionStarter | None]

    def feed(self, event: ev.Event, *, strict: bool = False) -> bool:  # pragma: no cover
        raise NotImplementedError  # the shell's

    def _offer(self, e: fx.OfferCall) -> None:
        leg = self.legs.calls.get(e.call)
        if leg is None:  # the engine holds a call Asterisk never gave us: impossible
            self.stats[Count.OFFERS_WITHOUT_LEG] += 1
            log.error("offer of call %s, which has no channel: reported lost", e.call)
            self.feed(ev.CallLost(e.call, "no channel"))
            return
        offer = self.legs.new_offer(e.call, e.agent, self.clock.now())
        fields = offer_fields(
            self.settings, self.config, e, leg.channel, leg.caller, offer.uniqueid
        )
        aid = f"o-{offer.uniqueid}"
        self.legs.bind_action(offer, aid)  # before any OriginateResponse can arrive
        traced = self.trace is not None and self.trace.written(e.call)
        starter = self._start_port()
        if starter is not None:  # written now, before the subscribers
            answer = starter.start("Originate", fields, action_id=aid)
        else:  # written when awaited (the tests' fakes)
            answer = self.actions.action("Originate", fields, action_id=aid)
        self.spawn(self._originate(offer, answer, traced))

    def _start_port(self) -> ActionStarter | None:
        """The actions' port if it writes an action at once (:class:`ActionStarter`).
        Checked once per port (the port changes with the actions' session): an
        isinstance against a runtime Protocol costs ~10 µs, on every hand-off."""
        actions = self.actions
        if actions is not self._starter[0]:
            self._starter = (actions, actions if isinstance(actions, ActionStarter) else None)
        return self._starter[1]

    async def _originate(
        self, offer: AgentLeg, answer: Awaitable[list[AmiMessage]], traced: bool
    ) -> None:
        call, agent = offer.call, offer.agent
        try:
            await answer
            if traced and self.trace is not None:
                self.trace.answered(call)
        except AMI_ERRORS as err:
            if self.stopping:  # serve is going: the offer stays Asterisk's, the next serve adopts
                return
            self.stats[Count.ORIGINATE_FAILURES] += 1
            log.warning("Originate to agent %s for call %s failed: %s", agent, call, err)
            if isinstance(err, AmiTimeoutError):
                # No answer in time is not a refusal: Asterisk may be ringing the agent
                # with its answer stuck behind a backlog. The offer stays: the ring
                # timeout (or the OriginateResponse) ends it, and hangs the leg up.
                return
            if offer.phase is OfferPhase.RINGING:
                self.step(StepOffer(offer, OfferEvent.ENDED))
                # no AMI: not the agent's fault (no autopause); the resync after the
                # reconnection marks the agent reachable again
                why = (
                    OfferFailure.UNREACHABLE
                    if isinstance(err, AmiDisconnectedError)
                    else OfferFailure.FAILED
                )
                self.feed(ev.OfferFailed(call, agent, why))
