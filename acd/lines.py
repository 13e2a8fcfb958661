"""The waiting lines: where each waiting call is, and when it moves.

A waiting call is in one queue (``queue_calls``) and, within it, in one place:
the pool of agents its current escalation step accepts, or the private wait
for its case owner (a sticky call, for a bounded time). :class:`Lines` puts it
there (:meth:`Lines.settle`), takes it out (:meth:`Lines.unsettle`), moves it
to an overflow queue, or lets it leave the queues (full, join-empty,
leave-empty, max wait), with the effects and the final record that go with it.

Theory of operation. Every deadline a waiting call has (next escalation step,
max wait, end of its sticky wait) is a timer; when one fires the call is taken
out and settled again from scratch, so :meth:`Lines.settle` is the only place
that decides where a call belongs. It compares absolute deadlines computed the
way the timers were set (``entered + after_s``), never ``now - entered``, so a
timer never finds itself not yet due. A call settled during a timer batch is
held in ``deferred`` and offered after the batch, in queue order (see
:meth:`acd.engine.Engine.expire`), so calls that escalate at the same instant
keep their order. Taking a call out of a pool is lazy (its ``version`` moves
on; :mod:`acd.pools`).

The engine owns the calls, their queues and the timers and shares them with
:class:`Lines` at construction, with one callable back: ``offer``.
"""

from __future__ import annotations

from collections.abc import Callable

from acd import effects as fx
from acd import events as ev
from acd.agent import Agent
from acd.calls import Call, CallState
from acd.config import AcdConfig, QueueConfig
from acd.errors import EngineError
from acd.roster import Roster
from acd.timers import TimerKind, Timers
from acd.types import CallId, Clock, ExitReason, Outcome, QueueName

__all__ = ["Lines"]

_MAX_HOPS = 8  # queue moves before a call takes its queue's exit: no overflow loops


class Lines:
    def __init__(
        self,
        config: AcdConfig,
        clock: Clock,
        roster: Roster,
        timers: Timers,
        calls: dict[CallId, Call],
        queue_calls: dict[QueueName, dict[CallId, Call]],
        out: list[fx.Effect],
        *,
        offer: Callable[[Call, Agent], None],
    ) -> None:
        self.config = config
        self.clock = clock
        self.roster = roster
        self.timers = timers
        self.calls = calls
        self.queue_calls = queue_calls
        self.out = out
        self._offer = offer
        self.deferred: list[Call] | None = None  # calls to route after a timer batch

    def enter(self, call: Call, q: QueueConfig, first: bool = False) -> None:
        """Join ``q`` (on arrival or a move): refuse if full or empty, else settle."""
        waiting = self.queue_calls.setdefault(q.name, {})
        if q.max_len and len(waiting) >= q.max_len:
            return self._overflow(call, q, ExitReason.FULL)
        if not self.roster.may_join(q):
            return self._overflow(call, q, ExitReason.JOIN_EMPTY)
        waiting[call.id] = call
        call.queue = q.name
        if not first:
            call.step = 0
        self.settle(call)

    def settle(self, call: Call) -> None:
        """Put a waiting call where it belongs now: apply escalation steps whose
        time has come, overflow on max wait, wait for its sticky agent or join
        its pool, set its timers, and offer it if an agent is free."""
        now = self.clock.now()
        q = self.config.queues[call.queue]
        entered = call.queue_entered_at
        # Compare absolute deadlines computed exactly as the timers are (entered + s),
        # never ``now - entered``: float rounding would make a timer fire at its own
        # deadline and find it not yet due, forever.
        exits = self.takes_exit(call, q)
        if exits and q.max_wait_s is not None and entered + q.max_wait_s <= now:
            return self._overflow(call, q, ExitReason.TIMEOUT)
        steps = q.escalation
        while call.step < len(steps) and entered + steps[call.step].after_s <= now:
            step = steps[call.step]
            call.step += 1
            if step.overflow_queue is not None:
                return self._move(call, step.overflow_queue, "escalation")
        call.pool = self.roster.pool_for(q, call.step, call.language)
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
            owner = self.roster.agents[call.sticky_agent]
            if now < call.sticky_until and Roster.worth_waiting_for(owner):
                call.sticky = True
                if owner.available:
                    return self._offer(call, owner)
                self.roster.sticky_waiting.setdefault(owner.id, {})[call.id] = call
                call.sticky_timer = self.timers.add(call.sticky_until, TimerKind.STICKY, call)
                return None
            call.sticky_agent = None
        pool = call.pool
        call.in_pool = True
        pool.push_call(call)
        if self.deferred is not None:
            self.deferred.append(call)
            return None
        agent = pool.best_agent()
        if agent is not None:
            self._offer(call, agent)
        return None

    @staticmethod
    def takes_exit(call: Call, q: QueueConfig) -> bool:
        """A callback keeps its place until it is served: the caller has left the line,
        so a queue's exit (voicemail, a busy message) cannot take it. It still moves to
        an overflow queue."""
        return call.callback is None or q.overflow_queue not in (None, call.queue)

    def unsettle(self, call: Call) -> None:
        """Take a call out of its pool or its sticky wait (lazily: bump its version)."""
        if call.in_pool:
            call.in_pool = False
            call.version += 1
            if call.pool is not None:
                call.pool.live_calls -= 1
        if call.sticky_agent is not None:
            self.roster.sticky_waiting.get(call.sticky_agent, {}).pop(call.id, None)

    def _move(self, call: Call, target: QueueName, reason: str, hop: bool = True) -> None:
        self.unsettle(call)
        old = call.queue
        self.queue_calls.get(old, {}).pop(call.id, None)
        if hop:
            call.hops += 1
        if call.hops > _MAX_HOPS:
            return self._leave(call, ExitReason.TIMEOUT, self.config.queues[old].overflow_exit)
        call.queue_entered_at = self.clock.now()
        call.sticky_agent = None
        self.out.append(fx.MoveCall(call.id, old, target, reason))
        self.enter(call, self.config.queues[target])
        return None

    def _overflow(self, call: Call, q: QueueConfig, reason: ExitReason) -> None:
        if q.overflow_queue is not None and q.overflow_queue != call.queue:
            return self._move(call, q.overflow_queue, reason.value)
        self._leave(call, reason, q.overflow_exit)
        return None

    def _leave(self, call: Call, reason: ExitReason, destination: str) -> None:
        self.unsettle(call)
        self.drop(call)
        self.out.append(fx.ExitQueue(call.id, reason, destination))
        rec = call.record(
            Outcome.OVERFLOWED,
            left_at=self.clock.now(),
            exit_reason=reason,
            destination=destination,
        )
        self.out.append(fx.CallFinished(rec))

    def drop(self, call: Call) -> None:
        call.cancel_timers()
        call.state = CallState.DONE
        self.queue_calls.get(call.queue, {}).pop(call.id, None)
        self.calls.pop(call.id, None)

    def leave_empty(self, queue: QueueName) -> None:
        q = self.config.queues[queue]
        for call in list(self.queue_calls.get(queue, {}).values()):
            if call.state in (CallState.WAITING, CallState.DEFERRED) and self.takes_exit(call, q):
                self._overflow(call, q, ExitReason.LEAVE_EMPTY)

    # a supervisor's actions on a waiting call

    def change_priority(self, e: ev.CallPriorityChanged) -> None:
        """A waiting call in a pool is re-sorted there at once (its heap entry is
        replaced); one waiting for its sticky agent, being offered, or a callback
        waiting for its retry carries the new class to its next place: the offer
        in progress goes on, and if it fails the call waits with its new class.
        The call's record keeps the last class (``CallRecord.priority``)."""
        call = self._held(e.call, "CallPriorityChanged")
        rank = self.config.priorities.get(e.priority)
        if rank is None:
            raise EngineError(
                f"call {e.call}: CallPriorityChanged to unknown priority {e.priority!r}"
                f" (known: {sorted(self.config.priorities)})"
            )
        if call.state not in (CallState.WAITING, CallState.OFFERED, CallState.DEFERRED):
            raise EngineError(
                f"call {e.call}: CallPriorityChanged, but the call is {call.state.value}"
            )
        call.priority_name = e.priority
        call.rank = rank
        pool = call.pool
        if call.in_pool and pool is not None:
            call.version += 1  # the old entry is dead; the pool's members are unchanged,
            pool.live_calls -= 1  # so no agent that could take it became free
            pool.push_call(call)

    def requeue(self, e: ev.CallRequeued) -> None:
        """Move a waiting call as an overflow step does (``MoveCall`` with ``e.reason``),
        without counting a hop; it may be offered at once in the new queue."""
        call = self._held(e.call, "CallRequeued")
        q = self.config.queues.get(e.queue)
        if q is None:
            raise EngineError(
                f"call {e.call}: CallRequeued to unknown queue {e.queue!r}"
                f" (known: {sorted(self.config.queues)})"
            )
        if call.state is not CallState.WAITING:
            ringing = f" (agent {call.agent} is being rung)" if call.agent else ""
            raise EngineError(
                f"call {e.call}: CallRequeued, but the call is {call.state.value}{ringing}"
            )
        if q.name == call.queue:
            raise EngineError(f"call {e.call}: CallRequeued to {q.name}, where it waits already")
        waiting = len(self.queue_calls.get(q.name, {}))
        if q.max_len and waiting >= q.max_len:
            raise EngineError(
                f"call {e.call}: CallRequeued to {q.name}, but it is full"
                f" ({waiting} calls, max_len {q.max_len})"
            )
        if not self.roster.may_join(q):
            raise EngineError(
                f"call {e.call}: CallRequeued to {q.name}, but it takes no callers now"
                f" (join_empty {q.join_empty.value})"
            )
        self._move(call, q.name, e.reason, hop=False)

    def _held(self, call_id: CallId, what: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise EngineError(f"call {call_id}: {what} for a call the engine does not hold")
        return call

    # timers on waiting calls

    def settle_timer(self, call: Call) -> None:
        if call.state is CallState.WAITING:
            self.unsettle(call)
            self.settle(call)

    def sticky_timer(self, call: Call) -> None:
        if call.state is CallState.WAITING and call.sticky_agent is not None:
            self.unsettle(call)
            call.sticky_agent = None
            self.settle(call)

    def release_sticky(self, agent: Agent) -> None:
        """The agent a sticky call waits for has left service: route those calls now."""
        for call in list(self.roster.sticky_waiting.pop(agent.id, {}).values()):
            call.sticky_agent = None
            if call.sticky_timer is not None:
                call.sticky_timer.cancelled = True
            self.settle(call)
