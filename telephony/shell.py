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
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from acd import effects as fx
from acd import events as ev
from acd import snapshot
from acd.counters import Count
from acd.engine import Engine, EngineError
from acd.types import AgentId, CallId, Clock, ExitReason, OfferFailure, QueueName
from acd.wakeup import Wakeup
from telephony import notifier as nt
from telephony.ami_client import (
    AMI_ERRORS,
    ActionStarter,
    AmiDisconnectedError,
    AmiPort,
    AmiTimeoutError,
)
from telephony.ami_frames import AmiMessage
from telephony.handoff_trace import HandoffTrace
from telephony.legs import (
    AgentLeg,
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
from telephony.overload import LoadWatch, refused_record
from telephony.reconcile import Reconciler
from telephony.resync import Resyncer
from telephony.settings import ShellSettings
from telephony.spy import SpyMode, originate_fields
from telephony.translate import Adopt, DeviceSeen, HangupChannel, Instruction, Resync, Translator

__all__ = ["AmiPort", "CallShell"]

log = logging.getLogger(__name__)


class CallShell:
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
        self.actions: AmiPort = ami
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.notifier = notifier if notifier is not None else Notifier(stats=self.stats)
        self.legs = Legs()
        # PJSIP endpoint → agent: the configured seats and any added at runtime
        self.agent_of: Callable[[str], AgentId | None] = _agent_lookup(settings, engine)
        self.translator = Translator(
            self.legs,
            self.agent_of,
            waiting_event=settings.waiting_event,
            stats=self.stats,
        )
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False  # serve is shutting down: no new actions (stop())
        self.adopting: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.wakeup = Wakeup()  # the one re-arming rule, shared with the simulator
        self.resyncer = Resyncer(self, ami) if resync else None
        self.reconciler = Reconciler(self, ami) if resync else None  # stuck-state healing
        self.observers: list[Callable[[AmiMessage], None]] = []  # more readers of AMI events
        self.load: LoadWatch | None = None  # overload signs (serve sets it; tests may not)
        self.trace: HandoffTrace | None = None  # the hand-off's stamps (opt-in, serve sets it)
        # The FastAGI hand-off runs enqueue while Asterisk still runs the AGI on the
        # caller's channel: an exit the engine decides then (queue full, nobody to
        # serve it) is not sent as a Redirect, which would race the AGI's end and the
        # dialplan's next priority, but handed back to the hand-off (HOTLINE_EXIT).
        self._handing_off: set[CallId] = set()
        self.handoff_exits: dict[CallId, str] = {}
        self._offered_early: fx.OfferCall | None = None  # _offer_first

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

    def shed_reason(self) -> str | None:
        """Why a new call must be refused politely now (overload), or None."""
        if self.load is None:
            return None
        counting = self.load.limits.waiting > 0
        waiting = sum(snapshot.queue_lengths(self.engine).values()) if counting else 0
        return self.load.shed_reason(waiting)

    def refuse(
        self,
        call: CallId,
        channel: str,
        queue: QueueName,
        *,
        priority: str,
        caller: str,
        arrived_at: float,
        why: str,
    ) -> None:
        """A new call shed at the hand-off (overload): never enqueued; its record
        (``refused-overload``) goes out like any finished call's."""
        now = self.clock.now()
        record = refused_record(call, queue, priority, caller, min(arrived_at, now), now)
        finished = fx.CallFinished(record)
        self.stats[Count.REFUSED_OVERLOAD] += 1
        log.warning("call %s refused at the hand-off: %s", call, why)
        self.notifier.publish(
            nt.CallClosed(now, finished, channel=channel, recording=None, position=0)
        )
        self.notifier.publish(finished)

    def has_call(self, call: CallId) -> bool:
        """Whether the engine still holds ``call`` (waiting, on, or in wrap-up)."""
        return snapshot.has_call(self.engine, call)

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

    def _offer(self, e: fx.OfferCall) -> None:
        leg = self.legs.calls.get(e.call)
        if leg is None:  # the engine holds a call Asterisk never gave us: impossible
            self.stats[Count.OFFERS_WITHOUT_LEG] += 1
            log.error("offer of call %s, which has no channel: reported lost", e.call)
            self.feed(ev.CallLost(e.call, "no channel"))
            return
        offer = self.legs.new_offer(e.call, e.agent, self.clock.now())
        timeout_ms = int((e.ring_timeout_s + self.settings.ring_margin_s) * 1000)
        caller_id = f'"{leg.caller}" <{leg.caller}>' if leg.caller else ""
        fields = [
            ("Channel", f"PJSIP/{self.settings.endpoint(e.agent)}"),
            ("Context", self.settings.connect_context),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Timeout", str(timeout_ms)),
            ("Async", "true"),
            ("ChannelId", offer.uniqueid),
            ("Variable", f"CALLER={leg.channel}"),
            ("Variable", f"HOTLINE_CALL_ID={e.call}"),
            ("Variable", f"HOTLINE_AGENT={e.agent}"),
            ("Variable", f"HOTLINE_QUEUE={e.queue}"),
        ]
        if self.config.queues[e.queue].record_calls:  # MixMonitor in the connect context
            fields.append(("Variable", "HOTLINE_RECORD=1"))
            path = self.settings.recording_path(e.call)
            fields.append(("Variable", f"HOTLINE_RECORD_FILE={path}"))
        if e.callback is not None:  # the connect context Dials the resident
            fields.append(("Variable", f"HOTLINE_CALLBACK={e.callback}"))
        if caller_id:
            fields.append(("CallerID", caller_id))
        aid = f"o-{offer.uniqueid}"
        self.legs.bind_action(offer, aid)  # before any OriginateResponse can arrive
        traced = self.trace is not None and self.trace.written(e.call)
        if isinstance(self.actions, ActionStarter):  # written now, before the subscribers
            answer = self.actions.start("Originate", fields, action_id=aid)
        else:  # written when awaited (the tests' fakes)
            answer = self.actions.action("Originate", fields, action_id=aid)
        self.spawn(self._originate(offer, answer, traced))

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

    # AMI helpers (background; failures are logged and counted)

    async def _hangup(self, channel: str, why: str) -> None:
        await self._quiet("Hangup", [("Channel", channel), ("Cause", "16")])

    async def _redirect(self, channel: str, fields: list[tuple[str, str]]) -> None:
        try:
            await self.actions.action("Redirect", fields)
        except AMI_ERRORS as e:
            self.stats[Count.EXIT_FAILURES] += 1
            log.error("cannot send caller %s out of the queues (%s): hanging up", channel, e)
            await self._hangup(channel, "exit failed")

    async def _setvar(self, channel: str, name: str, value: str) -> None:
        await self._quiet("Setvar", [("Channel", channel), ("Variable", name), ("Value", value)])

    async def _quiet(self, action: str, fields: list[tuple[str, str]]) -> None:
        try:
            await self.actions.action(action, fields)
        except AMI_ERRORS as e:
            self.stats[Count.ACTION_FAILURES] += 1
            log.info("AMI %s %s failed: %s", action, fields[0][1] if fields else "", e)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run an AMI action in the background. Each coroutine handles its own AMI
        errors; anything else it raises is logged here with its name and counted
        (``task_failures``), not left to the garbage collector's "never retrieved"."""
        if self.stopping:
            coro.close()
            self.stats[Count.DROPPED_AT_STOP] += 1
            return
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            self.stats[Count.TASK_FAILURES] += 1
            name = getattr(task.get_coro(), "__qualname__", task.get_name())
            log.error("background %s failed", name, exc_info=err)

    def stop(self) -> None:
        """Serve is stopping: cancel the actions in flight and send no new ones.
        Calls and offers stay as Asterisk has them: a restarted serve adopts them
        (:mod:`telephony.resync`), so an action cut short here is not a failure to
        report (no ``OfferFailed``: the agent is not unreachable, serve is going)."""
        self.stopping = True
        for t in list(self.tasks):
            t.cancel()

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


def _agent_lookup(settings: ShellSettings, engine: Engine) -> Callable[[str], AgentId | None]:
    """PJSIP endpoint → agent: the configured seats by one dict look-up (the hot path),
    then the engine's live roster (a seat added at runtime, serve.admin)."""
    endpoints = settings.agent_lookup(engine.config)
    prefix, roster = settings.endpoint_prefix, engine.agents

    def agent_of(endpoint: str) -> AgentId | None:
        agent = endpoints.get(endpoint)
        if agent is not None:
            return agent if agent in roster else None  # removed at runtime: no agent
        if not endpoint.startswith(prefix):
            return None
        rest = endpoint[len(prefix) :]
        return AgentId(rest) if rest in roster else None

    return agent_of
