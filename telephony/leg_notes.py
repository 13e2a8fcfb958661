"""What the call shell alone knows about a call, published before the engine's effects
of the same event: a call entered, an agent connected (with its hold and ring time),
a ring unanswered, talk ended (with the channel and the recording), a callback kept
in the caller's place, an agent's after-call wish kept over a restart. The engine
knows none of these moments; the queue_log, the call history, the CRM and the
wallboard read them from the notifier like the effects.

:class:`telephony.shell.CallShell` is a :class:`LegNotes`; the attributes declared
here are the shell's own.
"""

from __future__ import annotations

import dataclasses
import logging

from acd import events as ev
from acd import snapshot
from acd.config import AcdConfig
from acd.engine import Engine
from acd.types import CallId, Clock
from telephony import notifier as nt
from telephony.background import BackgroundActions
from telephony.legs import CallerEvent, Legs, StepCaller, StepOffer
from telephony.notifier import Notifier
from telephony.settings import ShellSettings

__all__ = ["LegNotes"]

log = logging.getLogger("telephony.shell")  # the shell's log lines, as before


class LegNotes(BackgroundActions):
    engine: Engine
    config: AcdConfig
    settings: ShellSettings
    clock: Clock
    legs: Legs
    notifier: Notifier

    def step(self, item: StepCaller | StepOffer) -> bool:  # pragma: no cover - the shell's
        raise NotImplementedError

    def _before_effects(self, event: ev.Event) -> None:
        now = self.clock.now()
        if isinstance(event, ev.CallArrived):
            self.notifier.publish(nt.CallEntered(now, event.call, event.queue, event.caller))
            return
        if isinstance(event, ev.AgentPaused | ev.AgentReady | ev.AgentLoggedOut):
            view = snapshot.agent_view(self.engine, event.agent)
            if view is not None and view.after_call is not None:  # kept over a restart
                wish = nt.AfterCallAsked(now, view.id, view.after_call, view.after_call_reason)
                self.notifier.publish(wish)
            return
        leg = self.legs.calls.get(getattr(event, "call", CallId("")))
        if leg is None:
            return
        if isinstance(event, ev.CallbackRequested):
            self.step(StepCaller(leg, CallerEvent.CALLBACK_REQUESTED))
            leg.callback = event.number
            self.notifier.publish(
                nt.CallbackKept(
                    now, leg.call, event.number, leg.channel, leg.uniqueid, leg.position
                )
            )
            log.info(
                "call %s: callback to %s requested; it keeps its place", leg.call, event.number
            )
        elif isinstance(event, ev.CallPriorityChanged):  # a restart adopts it with this class
            leg.priority = event.priority
            self.spawn(self._setvar(leg.channel, "HOTLINE_PRIORITY", event.priority))
        elif isinstance(event, ev.CallbackFailed):
            leg.answered_at = None
            log.info("call %s: callback not answered (%s)", leg.call, event.reason)
        elif isinstance(event, ev.AgentAnswered):
            leg.answered_at = now
            offer = leg.agent_leg
            ring_s = now - offer.offered_at if offer else 0.0
            uid = offer.uniqueid if offer else ""
            hold = now - (leg.entered_at if leg.entered_at is not None else leg.arrived_at)
            self.notifier.publish(
                nt.CallConnected(now, leg.call, leg.queue, event.agent, hold, uid, ring_s)
            )
            if self.config.queues[leg.queue].record_calls:
                leg.recording = self.settings.recording_path(leg.call)
        elif isinstance(event, ev.OfferFailed):
            offer = leg.agent_leg
            ring_s = now - offer.offered_at if offer else 0.0
            self.notifier.publish(nt.RingUnanswered(now, leg.call, leg.queue, event.agent, ring_s))
        elif isinstance(event, ev.CallEnded) and leg.answered_at is not None:
            agent = leg.agent_leg.agent if leg.agent_leg else "NONE"
            entered = leg.entered_at if leg.entered_at is not None else leg.arrived_at
            hold, talk = leg.answered_at - entered, now - leg.answered_at
            note = nt.TalkEnded(now, leg.call, leg.queue, agent, event.by, hold, talk, leg.position)
            self.notifier.publish(
                dataclasses.replace(
                    note, channel=leg.channel, uniqueid=leg.uniqueid, recording=leg.recording
                )
            )
