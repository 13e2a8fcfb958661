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

The call side lives here; the agent side in :mod:`acd.engine_agents`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, assert_never

from acd import effects as fx
from acd import events as ev
from acd.agent import Agent
from acd.agent_state import Action, AgentState, IllegalTransitionError
from acd.calls import Call, CallState
from acd.config import AcdConfig, QueueConfig
from acd.engine_agents import AgentSide, EngineError
from acd.numbers import RULE, is_callback_number
from acd.timers import Timer, TimerKind, Timers
from acd.types import AgentId, CallId, Clock, ExitReason, OfferFailure, Outcome, QueueName

__all__ = ["Engine", "EngineError"]

_MAX_HOPS = 8


class Engine(AgentSide):
    def __init__(self, config: AcdConfig, clock: Clock) -> None:
        super().__init__(config, clock)
        self.timers = Timers()
        self._deferred: list[Call] | None = None  # calls to route after a timer batch
        self._call_seq = itertools.count()
        self._handlers: dict[type, Callable[[Any], None]] = {
            ev.CallArrived: self._call_arrived,
            ev.CallerAbandoned: self._caller_abandoned,
            ev.CallbackRequested: self._callback_requested,
            ev.CallbackFailed: self._callback_failed,
            ev.CallLost: self._call_lost,
            ev.AgentAnswered: self._agent_answered,
            ev.OfferFailed: self._offer_failed_event,
            ev.CallEnded: self._call_ended,
            ev.AgentLoggedIn: self._agent_logged_in,
            ev.AgentLoggedOut: self._agent_logged_out,
            ev.AgentReady: self._agent_ready,
            ev.AgentPaused: self._agent_paused,
            ev.AgentReachable: self._agent_reachable,
            ev.AgentSkillsChanged: self._agent_skills_changed,
        }

    # the public surface

    def handle(self, event: ev.Event) -> list[fx.Effect]:
        """Apply one event; returns the effects for the shell to carry out.

        Raises :class:`EngineError` (naming the call or agent, its state and the
        event) for an event that does not fit the current state; the engine's
        state is then unchanged.
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            raise EngineError(f"unknown event type {type(event).__name__}")
        self.out = []
        try:
            handler(event)
        except IllegalTransitionError as e:  # pragma: no cover - handlers check first
            raise EngineError(str(e)) from e
        return self.out

    def next_deadline(self) -> float | None:
        """When the engine next needs :meth:`expire` (like SimPy's ``peek``)."""
        return self.timers.next_at()

    def expire(self) -> list[fx.Effect]:
        """Fire every deadline due now: ring timeouts, wrap-up ends, escalation."""
        self.out = []
        now = self.clock.now()
        while (at := self.timers.next_at()) is not None and at <= now:
            # Everything due at one instant is one batch: calls that escalate together
            # are routed together afterwards, in queue order, so none jumps the line
            # just because its timer fired first.
            self._deferred = []
            try:
                while (t := self.timers.pop_due(at)) is not None:
                    self._fire(t)
            finally:
                deferred, self._deferred = self._deferred, None
            for call in sorted(deferred, key=Call.order_key):
                agent = call.pool.best_agent() if call.in_pool and call.pool else None
                if agent is not None:
                    self._offer(call, agent)
        return self.out

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

    # calls arriving and moving

    def _call_arrived(self, e: ev.CallArrived) -> None:
        if e.call in self.calls:
            raise EngineError(f"call {e.call}: already in the engine")
        q = self._queue(e.queue, "CallArrived.queue")
        if e.priority not in self.config.priorities:
            raise EngineError(
                f"call {e.call}: unknown priority {e.priority!r}"
                f" (known: {sorted(self.config.priorities)})"
            )
        langs = self.config.languages
        if e.language is not None and langs and e.language not in langs:
            raise EngineError(f"call {e.call}: unknown language {e.language!r} (known: {langs})")
        now = self.clock.now()
        arrived = now if e.arrived_at is None else e.arrived_at
        if arrived > now:
            raise EngineError(f"call {e.call}: arrived_at {arrived} is in the future (now {now})")
        call = Call(
            id=e.call,
            queue=q.name,
            entry_queue=q.name,
            priority_name=e.priority,
            rank=self.config.priorities[e.priority],
            caller=e.caller,
            language=e.language,
            arrived_at=arrived,
            seq=next(self._call_seq),
            queue_entered_at=arrived,
        )
        owner = e.case_owner
        if owner is not None and owner in self.agents and q.sticky_s > 0:
            call.sticky_agent = owner
            call.sticky_until = arrived + q.sticky_s
        self.calls[call.id] = call
        self._enter(call, q, first=True)

    def _enter(self, call: Call, q: QueueConfig, first: bool = False) -> None:
        """Join ``q`` (on arrival or a move): refuse if full or empty, else settle."""
        waiting = self.queue_calls.setdefault(q.name, {})
        if q.max_len and len(waiting) >= q.max_len:
            return self._overflow(call, q, ExitReason.FULL)
        if not self._may_join(q):
            return self._overflow(call, q, ExitReason.JOIN_EMPTY)
        waiting[call.id] = call
        call.queue = q.name
        if not first:
            call.step = 0
        self._settle(call)

    def _settle(self, call: Call) -> None:
        """Put a waiting call where it belongs now: apply escalation steps whose
        time has come, overflow on max wait, wait for its sticky agent or join
        its pool, set its timers, and offer it if an agent is free."""
        now = self.clock.now()
        q = self.config.queues[call.queue]
        entered = call.queue_entered_at
        # Compare absolute deadlines computed exactly as the timers are (entered + s),
        # never ``now - entered``: float rounding would make a timer fire at its own
        # deadline and find it not yet due, forever.
        exits = self._takes_exit(call, q)
        if exits and q.max_wait_s is not None and entered + q.max_wait_s <= now:
            return self._overflow(call, q, ExitReason.TIMEOUT)
        steps = q.escalation
        while call.step < len(steps) and entered + steps[call.step].after_s <= now:
            step = steps[call.step]
            call.step += 1
            if step.overflow_queue is not None:
                return self._move(call, step.overflow_queue, "escalation")
        call.pool = self._pool_for(q, call.step, call.language)
        for t in (call.step_timer, call.wait_timer, call.sticky_timer):
            if t is not None:
                t.cancelled = True
        call.step_timer = call.wait_timer = call.sticky_timer = None
        if call.step < len(steps):
            call.step_timer = self.timers.add(
                call.queue_entered_at + steps[call.step].after_s, TimerKind.STEP, call
            )
        if exits and q.max_wait_s is not None:
            call.wait_timer = self.timers.add(
                call.queue_entered_at + q.max_wait_s, TimerKind.WAIT, call
            )
        call.state = CallState.WAITING
        if call.sticky_agent is not None:
            owner = self.agents[call.sticky_agent]
            if now < call.sticky_until and self._worth_waiting_for(owner):
                call.sticky = True
                if owner.available:
                    return self._offer(call, owner)
                self.sticky_waiting.setdefault(owner.id, {})[call.id] = call
                call.sticky_timer = self.timers.add(call.sticky_until, TimerKind.STICKY, call)
                return None
            call.sticky_agent = None
        pool = call.pool
        call.in_pool = True
        pool.push_call(call)
        if self._deferred is not None:
            self._deferred.append(call)
            return None
        agent = pool.best_agent()
        if agent is not None:
            self._offer(call, agent)
        return None

    @staticmethod
    def _takes_exit(call: Call, q: QueueConfig) -> bool:
        """A callback keeps its place until it is served: the caller has left the line,
        so a queue's exit (voicemail, a busy message) cannot take it. It still moves to
        an overflow queue."""
        return call.callback is None or q.overflow_queue not in (None, call.queue)

    def _unsettle(self, call: Call) -> None:
        """Take a call out of its pool or its sticky wait (lazily: bump its version)."""
        if call.in_pool:
            call.in_pool = False
            call.version += 1
            if call.pool is not None:
                call.pool.live_calls -= 1
        if call.sticky_agent is not None:
            self.sticky_waiting.get(call.sticky_agent, {}).pop(call.id, None)

    def _move(self, call: Call, target: QueueName, reason: str) -> None:
        self._unsettle(call)
        old = call.queue
        self.queue_calls.get(old, {}).pop(call.id, None)
        call.hops += 1
        if call.hops > _MAX_HOPS:
            return self._leave(call, ExitReason.TIMEOUT, self.config.queues[old].overflow_exit)
        call.queue_entered_at = self.clock.now()
        call.sticky_agent = None
        self.out.append(fx.MoveCall(call.id, old, target, reason))
        self._enter(call, self.config.queues[target])
        return None

    def _overflow(self, call: Call, q: QueueConfig, reason: ExitReason) -> None:
        if q.overflow_queue is not None and q.overflow_queue != call.queue:
            return self._move(call, q.overflow_queue, reason.value)
        self._leave(call, reason, q.overflow_exit)
        return None

    def _leave(self, call: Call, reason: ExitReason, destination: str) -> None:
        self._unsettle(call)
        self._drop(call)
        self.out.append(fx.ExitQueue(call.id, reason, destination))
        rec = call.record(
            Outcome.OVERFLOWED,
            left_at=self.clock.now(),
            exit_reason=reason,
            destination=destination,
        )
        self.out.append(fx.CallFinished(rec))

    def _drop(self, call: Call) -> None:
        call.cancel_timers()
        call.state = CallState.DONE
        self.queue_calls.get(call.queue, {}).pop(call.id, None)
        self.calls.pop(call.id, None)

    def _leave_empty(self, queue: QueueName) -> None:
        q = self.config.queues[queue]
        for call in list(self.queue_calls.get(queue, {}).values()):
            if call.state in (CallState.WAITING, CallState.DEFERRED) and self._takes_exit(call, q):
                self._overflow(call, q, ExitReason.LEAVE_EMPTY)

    # offers

    def _offer(self, call: Call, agent: Agent) -> None:
        now = self.clock.now()
        self._unsettle(call)
        self._unavailable(agent)
        if call.pool is not None:
            call.pool.rr_last = agent.position
        self._transition(agent, Action.OFFER)
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
        return call, self.agents[agent_id]

    def _agent_answered(self, e: ev.AgentAnswered) -> None:
        call, agent = self._offered(e.call, e.agent, "AgentAnswered")
        now = self.clock.now()
        call.cancel_timers()
        self.queue_calls.get(call.queue, {}).pop(call.id, None)
        call.state = CallState.CONNECTED
        call.answered_at = now
        self._transition(agent, Action.ANSWER)
        agent.calls_today += 1

    def _offer_failed_event(self, e: ev.OfferFailed) -> None:
        call, agent = self._offered(e.call, e.agent, "OfferFailed")
        self._offer_failed(call, agent, e.reason)

    def _timer_ring(self, call: Call) -> None:
        agent = self.agents[call.agent] if call.agent else None
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
        self._settle(call)
        q = self.config.queues[call.queue]
        if reason is OfferFailure.UNREACHABLE:
            agent.reachable = False
        if q.autopause and reason is not OfferFailure.UNREACHABLE:
            self._end_offer(agent, autopause=self.config.autopause_reason)
        else:
            self._end_offer(agent, autopause=None)

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
        agent = self.agents[call.agent] if call.agent else None
        ringing = call.state is CallState.OFFERED
        self._unsettle(call)
        self._drop(call)
        if ringing and agent is not None:
            self.out.append(fx.CancelOffer(call.id, AgentId(agent.id), why))
        rec = call.record(outcome, left_at=self.clock.now(), exit_reason=reason)
        self.out.append(fx.CallFinished(rec))
        if agent is not None and agent.call == call.id:
            agent.call = None
            self._end_offer(agent, autopause=None)

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
        agent = self.agents[call.agent]
        q = self.config.queues[call.queue]
        self._start_wrapup(agent, agent.wrapup_s if agent.wrapup_s is not None else q.wrapup_s)

    def _finish_answered(self, call: Call) -> None:
        """The agent finished the call's after-call work: the record is final."""
        self._drop(call)
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
        agent = self.agents[call.agent]
        call.callback_attempts += 1
        call.answered_at = None
        call.agent = None
        q = self.config.queues[call.queue]
        if call.callback_attempts >= q.callback_attempts:
            self._drop(call)
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
        self._transition(agent, Action.CALL_ENDED_READY)
        self._after_ready(agent)

    def _timer_retry(self, call: Call) -> None:
        if call.state is CallState.DEFERRED:
            call.retry_timer = None
            self._settle(call)

    # timers

    def _fire(self, t: Timer) -> None:
        kind = t.kind
        if kind is TimerKind.STEP or kind is TimerKind.WAIT:
            self._timer_settle(t.target)
        elif kind is TimerKind.RING:
            self._timer_ring(t.target)
        elif kind is TimerKind.WRAPUP:
            self._timer_wrapup(t.target)
        elif kind is TimerKind.STICKY:
            self._timer_sticky(t.target)
        elif kind is TimerKind.RETRY:
            self._timer_retry(t.target)
        else:
            assert_never(kind)

    def _timer_settle(self, call: Call) -> None:
        if call.state is CallState.WAITING:
            self._unsettle(call)
            self._settle(call)

    def _timer_sticky(self, call: Call) -> None:
        if call.state is CallState.WAITING and call.sticky_agent is not None:
            self._unsettle(call)
            call.sticky_agent = None
            self._settle(call)

    def _release_sticky(self, agent: Agent) -> None:
        """The agent a sticky call waits for has left service: route those calls now."""
        for call in list(self.sticky_waiting.pop(agent.id, {}).values()):
            call.sticky_agent = None
            if call.sticky_timer is not None:
                call.sticky_timer.cancelled = True
            self._settle(call)

    def _timer_wrapup(self, agent: Agent) -> None:
        if agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.WRAPUP_ENDED)

    # lookups

    def _call(self, call_id: CallId, what: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise EngineError(f"call {call_id}: {what} for a call the engine does not hold")
        return call

    def _queue(self, name: QueueName, what: str) -> QueueConfig:
        q = self.config.queues.get(name)
        if q is None:
            raise EngineError(
                f"{what}: unknown queue {name!r} (known: {sorted(self.config.queues)})"
            )
        return q

    def _add_timer(self, at: float, kind: TimerKind, target: Any) -> Timer:
        return self.timers.add(at, kind, target)
