"""The asyncio shell around the engine: AMI events in, engine effects out as AMI actions.

Everything reaches the engine through :meth:`CallShell.feed`, synchronously,
from the AMI read path, the FastAGI hand-off, the control API or the timer. An
event that does not fit the engine's state is logged and counted
(``engine_errors``), never raised. Effects become AMI actions sent at once;
their answers are awaited in background tasks (with timeouts), and a failure
comes back to the engine as an event (an ``Originate`` refused → ``OfferFailed``).

Everything leaves through the :class:`telephony.notifier.Notifier` given at
construction: each effect after the shell carried it out, and what only the
shell knows (a call entering, connecting, a ring unanswered, talk ended, a call
closed with its channel and recording). The shell imports nothing above
``telephony``: the queue_log, the call history, the agent store and the CRM
link are subscribers wired by ``hotline serve``. A call is never dropped
silently: each one ends as a ``CallClosed`` note (a line in the call history).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from acd import effects as fx
from acd import events as ev
from acd import snapshot
from acd.counters import Count
from acd.engine import Engine, EngineError
from acd.types import AgentId, CallId, Clock, ExitReason, QueueName
from acd.wakeup import Wakeup
from telephony import notifier as nt
from telephony.agent_seat import agent_lookup
from telephony.ami_client import (
    ActionStarter,
    AmiPort,
)
from telephony.ami_frames import AmiMessage
from telephony.handoff_trace import HandoffTrace
from telephony.legs import (
    CallerEvent,
    CallerPhase,
    CallLeg,
    IllegalLegTransitionError,
    Legs,
    OfferEvent,
    OfferPhase,
    StepCaller,
    StepOffer,
)
from telephony.notifier import Notifier
from telephony.offers import OfferActions
from telephony.overload import LoadWatch, RefusalLog
from telephony.reconcile import Reconciler
from telephony.resync import Resyncer
from telephony.settings import ShellSettings
from telephony.spy import SpyMode, originate_fields
from telephony.translate import Adopt, DeviceSeen, HangupChannel, Instruction, Resync, Translator
from telephony.unqueued import UnqueuedCalls

__all__ = ["AmiPort", "CallShell"]

log = logging.getLogger(__name__)


class CallShell(UnqueuedCalls, OfferActions):
    def __init__(
        self,
        engine: Engine,
        settings: ShellSettings,
        clock: Clock,
        ami: AmiPort,
        *,
        notifier: Notifier | None = None,
        resync: bool = False,
        stats: Counter[str] | None = None,
    ) -> None:
        """``notifier``: where every effect and finished call goes (nowhere by default).
        ``resync``: follow Asterisk (re)starts and adopt unknown holding callers
        (:class:`telephony.resync.Resyncer`, ``hotline serve``), and heal agents'
        states from device states (:class:`telephony.reconcile.Reconciler`); off,
        those AMI signals are ignored (unit tests of the translation)."""
        self.engine = engine
        self.config = engine.config
        self.settings = settings
        self.clock = clock
        self.ami = ami
        # the calls' own actions (Originate, Hangup, Redirect, Setvar): serve gives them
        # a session of their own (telephony.ami_actions); the events' session by default
        super().__init__(ami, stats if stats is not None else Counter())
        self.notifier = notifier if notifier is not None else Notifier(stats=self.stats)
        self.legs = Legs()
        # PJSIP endpoint → agent: the configured seats and any added at runtime
        self.agent_of: Callable[[str], AgentId | None] = agent_lookup(settings, engine)
        self.translator = Translator(
            self.legs,
            self.agent_of,
            waiting_event=settings.waiting_event,
            stats=self.stats,
        )
        self.adopting: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.wakeup = Wakeup()  # the one re-arming rule, shared with the simulator
        self.resyncer = Resyncer(self, ami) if resync else None
        self.reconciler = Reconciler(self, ami) if resync else None  # stuck-state healing
        self.observers: list[Callable[[AmiMessage], None]] = []  # more readers of AMI events
        self.load: LoadWatch | None = None  # overload signs (serve sets it; tests may not)
        self.refusal_log = RefusalLog(log)  # refusals logged without a line per caller
        self.trace: HandoffTrace | None = None  # the hand-off's stamps (opt-in, serve sets it)
        # The FastAGI hand-off runs enqueue while Asterisk still runs the AGI on the
        # caller's channel: an exit the engine decides then (queue full, nobody to
        # serve it) is not sent as a Redirect, which would race the AGI's end and the
        # dialplan's next priority, but handed back to the hand-off (HOTLINE_EXIT).
        self._handing_off: set[CallId] = set()
        self.handoff_exits: dict[CallId, str] = {}
        self._offered_early: fx.OfferCall | None = None  # _offer_first
        self._starter: tuple[object, ActionStarter | None] = (None, None)  # _start_port

    # inputs

    def on_ami_event(self, msg: AmiMessage) -> None:
        """The AMI read path: synchronous, never awaits."""
        if self.load is not None:
            self.load.ami_event(msg)
        for item in self.translator.translate(msg):
            self._apply(item)
        for observe in self.observers:  # after the translator: e.g. transfers' consultations
            observe(msg)

    def _apply(self, item: Instruction) -> None:
        if isinstance(item, HangupChannel):
            self.spawn(self._hangup(item.channel, item.why))
        elif isinstance(item, Adopt):
            if self.resyncer is not None and item.uniqueid not in self.adopting:
                self.spawn(self.resyncer.adopt(item.channel, item.uniqueid, None))
        elif isinstance(item, Resync):
            if self.resyncer is not None:
                self.spawn(self.resyncer.resync(item.why))
        elif isinstance(item, StepCaller | StepOffer):
            self.step(item)
        elif isinstance(item, DeviceSeen):
            if self.reconciler is not None:
                self.reconciler.device_state(item.agent, item.state)
        else:
            self.feed(item)

    def step(self, item: StepCaller | StepOffer) -> bool:
        """Move a leg's phase by the table in :mod:`telephony.legs`. An illegal move is
        logged and counted (``illegal_leg_transitions``), never raised: False. The
        engine still hears the event that came with it (it validates its own)."""
        try:
            self.legs.step(item)
        except IllegalLegTransitionError as e:
            self.stats[Count.ILLEGAL_LEG_TRANSITIONS] += 1
            log.error("leg phase: %s", e)
            return False
        return True

    def enqueue(
        self,
        call: CallId,
        channel: str,
        uniqueid: str,
        queue: QueueName,
        *,
        priority: str = "normal",
        caller: str = "",
        language: str | None = None,
        arrived_at: float | None = None,
        case_owner: AgentId | None = None,
        handoff: bool = False,
    ) -> bool:
        """A caller handed over (FastAGI) or adopted (resync): into the engine;
        ``case_owner`` (the hand-off's CRM look-up) for sticky routing. ``handoff``:
        the AGI is still on the channel; an exit decided at once goes to
        :attr:`handoff_exits` for the hand-off to send (no Redirect)."""
        if call in self.legs.calls or uniqueid in self.legs.by_caller_uid:
            self.stats[Count.DUPLICATE_ENQUEUES] += 1
            return False
        at = self.clock.now() if arrived_at is None else min(arrived_at, self.clock.now())
        leg = CallLeg(call, channel, uniqueid, queue, at, caller=caller, priority=priority)
        leg.position = snapshot.queue_length(self.engine, queue) + 1  # app_queue's "position"
        self.legs.add_call(leg)
        event = ev.CallArrived(
            call, queue, priority, caller, language, case_owner=case_owner, arrived_at=at
        )
        if handoff:
            self._handing_off.add(call)
        try:
            if not self.feed(event):
                self.legs.drop_call(call)
                return False
        finally:
            self._handing_off.discard(call)
        return True

    def feed(self, event: ev.Event, *, strict: bool = False) -> bool:
        """Tell the engine; carry out its effects. False if the engine refused.

        ``strict``: a refusal is the caller's to report (the agent control API
        answers it as 409 with the engine's text): the :class:`EngineError` is
        raised, not logged nor counted."""
        try:
            effects = self.engine.handle(event)
        except EngineError as e:
            self._refused(event)
            if strict:
                raise
            self.stats[Count.ENGINE_ERRORS] += 1
            log.warning("engine refused %s: %s", type(event).__name__, e)
            return False
        self.stats[Count.ENGINE_EVENTS] += 1
        if isinstance(event, ev.CallArrived):
            self._offer_first(event.call, effects)
        self._before_effects(event)
        self.run_effects(effects)
        return True

    def _offer_first(self, call: CallId, effects: list[fx.Effect]) -> None:
        """A call offered as it arrives (the hand-off): its Originate is written before
        any subscriber hears of the call (queue_log, history, wallboard...: the seat's
        INVITE does not wait for them); the OfferCall is still published in its place.
        Not when the same batch cancels an offer: that agent's Hangup goes first."""
        if any(isinstance(e, fx.CancelOffer) for e in effects):
            return
        for e in effects:
            if isinstance(e, fx.OfferCall) and e.call == call:
                self._offer(e)
                self._offered_early = e
                return

    def _refused(self, event: ev.Event) -> None:
        if isinstance(event, ev.CallbackFailed):
            leg = self.legs.calls.get(event.call)  # the engine disagrees: end it as a call
            if leg is not None and leg.phase is CallerPhase.CALLBACK:
                self.step(StepCaller(leg, CallerEvent.LOST))
                self.feed(ev.CallLost(event.call, "callback result refused"))
        elif isinstance(event, ev.AgentAnswered):
            offer = self.legs.current_offer(event.call, event.agent)
            if offer is not None and offer.phase is OfferPhase.UP:
                self.step(StepOffer(offer, OfferEvent.CANCELLED))
                self.spawn(self._hangup(offer.uniqueid, "answered too late"))
        elif isinstance(event, ev.CallArrived | ev.CallerAbandoned):
            self.legs.drop_call(event.call)
        elif isinstance(event, ev.CallEnded):
            self._heal_ended(event)

    def _heal_ended(self, event: ev.CallEnded) -> None:
        """The caller's leg ended, but the engine does not have the call connected
        (an answer it refused, a backlog that reordered events): the call must not
        stay in the engine with no caller, nor keep an agent. Still waiting or rung
        for it: the caller abandoned; in wrap-up: nothing to do."""
        leg = self.legs.calls.get(event.call)
        view = snapshot.call_view(self.engine, event.call)
        if leg is None or leg.phase is not CallerPhase.ENDED or view is None:
            return
        if view.state in ("waiting", "offered") and leg.callback is None:
            log.warning(
                "call %s ended while the engine had it %s: abandoned", event.call, view.state
            )
            self.feed(ev.CallerAbandoned(event.call))

    # effects

    def run_effects(self, effects: list[fx.Effect]) -> None:
        """Carry out each effect, then publish it; re-arm the engine's timer."""
        publish = self.notifier.publish
        for e in effects:
            if isinstance(e, fx.OfferCall):
                if e is self._offered_early:
                    self._offered_early = None  # carried out already (_offer_first)
                else:
                    self._offer(e)
            elif isinstance(e, fx.CancelOffer):
                self._cancel(e)
            elif isinstance(e, fx.ExitQueue):
                self._exit(e)
            elif isinstance(e, fx.MoveCall):
                leg = self.legs.calls.get(e.call)
                if leg is not None:
                    leg.queue = e.to_queue
                    self.spawn(self._setvar(leg.channel, "HOTLINE_QUEUE", e.to_queue))
            elif isinstance(e, fx.AgentStateChanged):
                pass  # nothing to do in Asterisk: the subscribers write it down
            else:
                self._finished(e)
            publish(e)
        self.arm_timer()

    def _cancel(self, e: fx.CancelOffer) -> None:
        offer = self.legs.current_offer(e.call, e.agent)
        if offer is None or offer.phase not in (OfferPhase.RINGING, OfferPhase.UP):
            return
        if e.reason == "ring-timeout":
            leg = self.legs.calls[e.call]
            now = self.clock.now()
            ring_s = now - offer.offered_at
            self.notifier.publish(nt.RingUnanswered(now, e.call, leg.queue, e.agent, ring_s))
        self.step(StepOffer(offer, OfferEvent.CANCELLED))
        self.spawn(self._hangup(offer.uniqueid, e.reason))

    def _exit(self, e: fx.ExitQueue) -> None:
        leg = self.legs.calls.get(e.call)
        if leg is None or e.reason is ExitReason.LOST:
            return
        self.step(StepCaller(leg, CallerEvent.EXITED))  # whatever it says, the caller goes
        if e.call in self._handing_off:  # the hand-off sends it there itself
            self.handoff_exits[e.call] = e.destination
            self.stats[Count.HANDOFF_EXITS] += 1
            return
        fields = [
            ("Channel", leg.channel),
            ("Context", self.settings.exit_context),
            ("Exten", e.destination),
            ("Priority", "1"),
        ]
        self.spawn(self._redirect(leg.channel, fields))

    def _finished(self, e: fx.CallFinished) -> None:
        r = e.record
        leg = self.legs.drop_call(r.call)
        now = self.clock.now()
        offer = leg.agent_leg if leg else None
        if offer is not None and offer.phase is OfferPhase.RINGING:  # belt and braces
            self.step(StepOffer(offer, OfferEvent.CANCELLED))
            self.spawn(self._hangup(offer.uniqueid, "call finished"))
        self.notifier.publish(
            nt.CallClosed(
                now,
                e,
                channel=leg.channel if leg else None,
                recording=leg.recording if leg else None,
                position=leg.position if leg else 0,
            )
        )
        if r.outcome == "lost":
            log.error("call %s lost: %s", r.call, r.ended_by)

    async def spy(self, supervisor: AgentId, agent: AgentId, mode: SpyMode) -> None:
        """Ring ``supervisor``'s seat to listen / whisper / barge on ``agent``'s call
        (:mod:`telephony.spy`); raises an ``AMI_ERRORS`` error if Asterisk refused."""
        action_id, fields = originate_fields(self.settings, supervisor, agent, mode)
        await self.ami.action("Originate", fields, action_id=action_id)

    # the engine's clock

    def arm_timer(self) -> None:
        at = self.wakeup.due(self.engine.next_deadline())
        if at is None:
            return
        if self._timer is not None:
            self._timer.cancel()  # superseded: it would do nothing (acd.wakeup)
        loop = asyncio.get_running_loop()
        delay = max(0.0, at - self.clock.now())
        self._timer = loop.call_at(loop.time() + delay, self._expire, at)

    def _expire(self, at: float) -> None:
        if not self.wakeup.fired(at):
            return
        self._timer = None
        try:
            effects = self.engine.expire()
        except EngineError as e:  # pragma: no cover - the engine's own timers
            self.stats[Count.ENGINE_ERRORS] += 1
            log.error("engine expire failed: %s", e)
            effects = []
        self.run_effects(effects)
