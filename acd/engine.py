"""The routing engine: a state machine with no I/O.

Shells tell it what happened (:mod:`acd.events`) through :meth:`Engine.handle`
and carry out what it answers (:mod:`acd.effects`). It reads time only from the
injected clock and says when it next needs waking (:meth:`Engine.next_deadline`,
then :meth:`Engine.expire`). The asyncio/AMI shell, the SimPy simulator and the
tests all drive this one class.

Invariants (property-tested): a call is offered to at most one agent at a time;
an agent holds at most one offer or call; within equal priority and eligibility
calls are served first come, first served; after every event no waiting call has
an available eligible agent.

Composed, not inherited (as h11's ``Connection`` holds a ``ConnectionState``): the
engine owns the calls, their queues and the timers, and holds parts wired by
constructor — :class:`acd.roster.Roster` (agents, pools, ready sets, presence;
``engine.roster``), :class:`acd.lines.Lines` (where a waiting call waits, and its
moves and exits), :class:`acd.agent_flow.AgentFlow` (agent events, after-call
work), :class:`acd.transfer.Transfers` (transfers) and :class:`acd.intake.Intake`
(a call arriving or adopted). The parts reach the call side only through callables
handed to them; the engine maps their events straight to their bound methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, assert_never

from acd import effects as fx
from acd import events as ev
from acd.agent import Agent
from acd.agent_flow import AgentFlow
from acd.agent_state import Action, IllegalTransitionError
from acd.calls import Call, CallState
from acd.config import AcdConfig
from acd.errors import EngineError
from acd.intake import Intake
from acd.lines import Lines
from acd.numbers import RULE, is_callback_number
from acd.roster import Roster
from acd.timers import Timer, TimerKind, Timers
from acd.transfer import Transfers
from acd.types import AgentId, CallId, Clock, ExitReason, OfferFailure, Outcome, QueueName

__all__ = ["Engine", "EngineError"]


class Engine:
    def __init__(self, config: AcdConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        # The effects of the event being handled: one list, shared with the parts at
        # construction, emptied at the start of each event and copied out at its end.
        self.out: list[fx.Effect] = []
        self.roster = Roster(config, clock)
        self._agents = self.roster.agents
        self.calls: dict[CallId, Call] = {}
        self.queue_calls: dict[QueueName, dict[CallId, Call]] = {q: {} for q in config.queues}
        self.timers = Timers()
        self.lines = Lines(
            config,
            clock,
            self.roster,
            self.timers,
            self.calls,
            self.queue_calls,
            self.out,
            offer=self._offer,
        )
        self.flow = AgentFlow(
            self.roster,
            self.timers,
            clock,
            self.calls,
            self.out,
            offer=self._offer,
            finish_answered=self._finish_answered,
            release_sticky=self.lines.release_sticky,
            leave_empty=self.lines.leave_empty,
        )
        self.transfers = Transfers(
            config,
            clock,
            self.roster,
            self.lines,
            self.flow,
            self.calls,
            self.queue_calls,
            self.out,
            call_of=self._call,
        )
        self.intake = Intake(config, clock, self.roster, self.calls, self.lines, self.flow)
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.CallArrived: self.intake.arrived,
            ev.CallerAbandoned: self._caller_abandoned,
            ev.CallbackRequested: self._callback_requested,
            ev.CallbackFailed: self._callback_failed,
            ev.CallLost: self._call_lost,
            ev.AgentAnswered: self._agent_answered,
            ev.OfferFailed: self._offer_failed_event,
            ev.CallEnded: self._call_ended,
            ev.CallPriorityChanged: self.lines.change_priority,
            ev.CallRequeued: self.lines.requeue,
            ev.CallTransferred: self.transfers.transferred,
            ev.AgentLoggedIn: self.flow.logged_in,
            ev.AgentLoggedOut: self.flow.logged_out,
            ev.AgentReady: self.flow.ready,
            ev.AgentPaused: self.flow.paused,
            ev.AgentReachable: self.flow.reachable,
            ev.AgentSkillsChanged: self.flow.skills_changed,
            ev.AgentAdded: self.flow.added,
            ev.AgentRemoved: self.flow.removed,
            ev.AgentDeviceBusy: self.flow.device_busy,
            ev.CallAdopted: self.intake.adopted,
        }

    # the public surface

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Every agent, by id (the roster's; read-only here)."""
        return self._agents

    @property
    def logged_in_count(self) -> Mapping[QueueName, int]:
        """Per queue: agents logged in who could serve it (join/leave-empty)."""
        return self.roster.logged_in_count

    @property
    def serving_count(self) -> Mapping[QueueName, int]:
        """Per queue: agents logged in, not paused and reachable who could serve it."""
        return self.roster.serving_count

    def handle(self, event: ev.Event) -> list[fx.Effect]:
        """Apply one event; returns the effects for the shell to carry out.

        Raises :class:`EngineError` (naming the call or agent, its state and the
        event) for an event that does not fit the current state; the engine's
        state is then unchanged.
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            raise EngineError(f"unknown event type {type(event).__name__}")
        out = self.out
        out.clear()
        try:
            handler(event)
        except IllegalTransitionError as e:  # pragma: no cover - handlers check first
            raise EngineError(str(e)) from e
        return out.copy()

    def next_deadline(self) -> float | None:
        """When the engine next needs :meth:`expire` (like SimPy's ``peek``)."""
        return self.timers.next_at()

    def expire(self) -> list[fx.Effect]:
        """Fire every deadline due now: ring timeouts, wrap-up ends, escalation."""
        out = self.out
        out.clear()
        lines = self.lines
        now = self.clock.now()
        while (at := self.timers.next_at()) is not None and at <= now:
            # Everything due at one instant is one batch: calls that escalate together
            # are routed together afterwards, in queue order, so none jumps the line
            # just because its timer fired first.
            deferred: list[Call] = []
            lines.deferred = deferred
            try:
                while (t := self.timers.pop_due(at)) is not None:
                    self._fire(t)
            finally:
                lines.deferred = None
            for call in sorted(deferred, key=Call.order_key):
                agent = call.pool.best_agent() if call.in_pool and call.pool else None
                if agent is not None:
                    self._offer(call, agent)
        return out.copy()

    def position(self, call_id: CallId) -> int | None:
        """1-based place in its pool's line, or None when it is not waiting."""
        call = self.calls.get(call_id)
        if call is None or not call.in_pool or call.pool is None:
            return None
        key = call.order_key()
        return 1 + sum(1 for c in call.pool.waiting_calls() if c.order_key() < key)

    def waiting(self, queue: QueueName) -> list[Call]:
        """Calls waiting (or being offered) in ``queue``."""
        return list(self.queue_calls.get(queue, {}).values())

    # offers

    def _offer(self, call: Call, agent: Agent) -> None:
        now = self.clock.now()
        self.lines.unsettle(call)
        self.roster.unavailable(agent)
        if call.pool is not None:
            call.pool.rr_last = agent.position
        self.flow.transition(agent, Action.OFFER)
        agent.call = call.id
        agent.offers_today += 1
        call.state = CallState.OFFERED
        call.agent = AgentId(agent.id)
        call.offers += 1
        if call.first_offered_at is None:
            call.first_offered_at = now
        q = self.config.queues[call.queue]
        call.ring_timer = self.timers.add(now + q.ring_timeout_s, TimerKind.RING, call)
        self.out.append(
            fx.OfferCall(call.id, AgentId(agent.id), call.queue, call.callback, q.ring_timeout_s)
        )

    def _offered(self, call_id: CallId, agent_id: AgentId, what: str) -> tuple[Call, Agent]:
        call = self._call(call_id, what)
        if call.state is not CallState.OFFERED or call.agent != agent_id:
            raise EngineError(
                f"call {call_id}: {what} for agent {agent_id}, but the call is"
                f" {call.state.value} (agent {call.agent})"
            )
        return call, self._agents[agent_id]

    def _agent_answered(self, e: ev.AgentAnswered) -> None:
        call, agent = self._offered(e.call, e.agent, "AgentAnswered")
        now = self.clock.now()
        call.cancel_timers()
        self.queue_calls.get(call.queue, {}).pop(call.id, None)
        call.state = CallState.CONNECTED
        if call.answered_at is None:  # a transferred call keeps its first answer
            call.answered_at = now
        call.leg_answered_at = now
        self.flow.transition(agent, Action.ANSWER)
        agent.calls_today += 1

    def _offer_failed_event(self, e: ev.OfferFailed) -> None:
        call, agent = self._offered(e.call, e.agent, "OfferFailed")
        self._offer_failed(call, agent, e.reason)

    def _timer_ring(self, call: Call) -> None:
        agent = self._agents[call.agent] if call.agent else None
        if call.state is CallState.OFFERED and agent is not None:
            self.out.append(fx.CancelOffer(call.id, AgentId(agent.id), "ring-timeout"))
            self._offer_failed(call, agent, OfferFailure.NO_ANSWER)

    def _offer_failed(self, call: Call, agent: Agent, reason: OfferFailure) -> None:
        """Return the call to its place (first to other agents), then deal with the agent."""
        if call.ring_timer is not None:
            call.ring_timer.cancelled = True
            call.ring_timer = None
        agent.call = None
        call.agent = None
        if call.sticky_agent == agent.id:
            call.sticky_agent = None
        self.lines.settle(call)
        q = self.config.queues[call.queue]
        if reason is OfferFailure.UNREACHABLE:
            agent.reachable = False
        if q.autopause and reason is not OfferFailure.UNREACHABLE:
            self.flow.end_offer(agent, autopause=self.config.autopause_reason)
        else:
            self.flow.end_offer(agent, autopause=None)

    def _caller_abandoned(self, e: ev.CallerAbandoned) -> None:
        call = self._call(e.call, "CallerAbandoned")
        if call.callback is not None or call.state not in (CallState.WAITING, CallState.OFFERED):
            raise EngineError(
                f"call {e.call}: CallerAbandoned, but the call is {call.state.value}"
                + (" (a callback: the caller already left the line)" if call.callback else "")
            )
        self._gone(call, Outcome.ABANDONED, None, "caller-abandoned")

    def _gone(self, call: Call, outcome: Outcome, reason: ExitReason | None, why: str) -> None:
        """A call that was waiting or ringing is gone (abandoned or lost)."""
        agent = self._agents[call.agent] if call.agent else None
        ringing = call.state is CallState.OFFERED
        self.lines.unsettle(call)
        self.lines.drop(call)
        if ringing and agent is not None:
            self.out.append(fx.CancelOffer(call.id, AgentId(agent.id), why))
        rec = call.record(outcome, left_at=self.clock.now(), exit_reason=reason)
        self.out.append(fx.CallFinished(rec))
        if agent is not None and agent.call == call.id:
            agent.call = None
            self.flow.end_offer(agent, autopause=None)

    def _call_lost(self, e: ev.CallLost) -> None:
        call = self._call(e.call, "CallLost")
        if call.state is CallState.CONNECTED:
            return self._call_ended(ev.CallEnded(call.id, by=f"lost: {e.reason}"))
        if call.state is CallState.WRAP_UP:
            return None  # already ended; the record follows at wrap-up end
        call.ended_by = e.reason
        self._gone(call, Outcome.LOST, ExitReason.LOST, "call-lost")
        return None

    # connected calls, callbacks

    def _call_ended(self, e: ev.CallEnded) -> None:
        call = self._call(e.call, "CallEnded")
        if call.state is not CallState.CONNECTED or call.agent is None:
            raise EngineError(f"call {e.call}: CallEnded, but the call is {call.state.value}")
        call.ended_at = self.clock.now()
        call.ended_by = e.by
        call.state = CallState.WRAP_UP
        agent = self._agents[call.agent]
        q = self.config.queues[call.queue]
        self.flow.start_wrapup(agent, agent.wrapup_s if agent.wrapup_s is not None else q.wrapup_s)

    def _finish_answered(self, call: Call, agent: Agent) -> None:
        """The agent finished the call's after-call work: the record is final (unless
        the agent had transferred the call: then only its part is)."""
        if call.legs and self.transfers.leg_done(call, agent):
            return
        self.lines.drop(call)
        rec = call.record(Outcome.ANSWERED, wrapup_ended_at=self.clock.now())
        self.out.append(fx.CallFinished(rec))

    def _callback_requested(self, e: ev.CallbackRequested) -> None:
        call = self._call(e.call, "CallbackRequested")
        if not is_callback_number(e.number):
            raise EngineError(
                f"call {e.call}: CallbackRequested.number {e.number!r} is not a phone number"
                f" ({RULE})"
            )
        if call.state is not CallState.WAITING or call.callback is not None:
            raise EngineError(
                f"call {e.call}: CallbackRequested, but the call is {call.state.value}"
                + (" and already a callback" if call.callback else "")
            )
        call.callback = e.number

    def _callback_failed(self, e: ev.CallbackFailed) -> None:
        call = self._call(e.call, "CallbackFailed")
        if call.state is not CallState.CONNECTED or call.callback is None or call.agent is None:
            raise EngineError(
                f"call {e.call}: CallbackFailed, but the call is {call.state.value}"
                + ("" if call.callback else " and not a callback")
            )
        agent = self._agents[call.agent]
        call.callback_attempts += 1
        call.answered_at = call.leg_answered_at = None
        call.agent = None
        q = self.config.queues[call.queue]
        if call.callback_attempts >= q.callback_attempts:
            self.lines.drop(call)
            rec = call.record(
                Outcome.ABANDONED,
                left_at=self.clock.now(),
                exit_reason=ExitReason.CALLBACK_UNREACHED,
            )
            self.out.append(fx.CallFinished(rec))
        else:
            call.state = CallState.DEFERRED
            self.queue_calls.setdefault(call.queue, {})[call.id] = call
            call.retry_timer = self.timers.add(
                self.clock.now() + q.callback_retry_s, TimerKind.RETRY, call
            )
        agent.call = None
        self.flow.transition(agent, Action.CALL_ENDED_READY)
        self.flow.after_ready(agent)

    def _timer_retry(self, call: Call) -> None:
        if call.state is CallState.DEFERRED:
            call.retry_timer = None
            self.lines.settle(call)

    # timers

    def _fire(self, t: Timer) -> None:
        kind = t.kind
        if kind is TimerKind.STEP or kind is TimerKind.WAIT:
            self.lines.settle_timer(t.target)
        elif kind is TimerKind.RING:
            self._timer_ring(t.target)
        elif kind is TimerKind.WRAPUP:
            self.flow.wrapup_timer(t.target)
        elif kind is TimerKind.STICKY:
            self.lines.sticky_timer(t.target)
        elif kind is TimerKind.RETRY:
            self._timer_retry(t.target)
        else:
            assert_never(kind)

    # lookups

    def _call(self, call_id: CallId, what: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise EngineError(f"call {call_id}: {what} for a call the engine does not hold")
        return call
