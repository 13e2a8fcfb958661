"""How a call enters the engine: ``CallArrived`` and ``CallAdopted``.

:class:`Intake` checks the event against the configuration (queue, priority,
language, callback number, times not in the future), builds the
:class:`acd.calls.Call` with the next arrival sequence number (the tie-break of
first come, first served) and hands it on: an arriving call to
:class:`acd.lines.Lines` (to join its queue), an adopted one (found connected
to an agent after a restart of the shell) to :class:`acd.agent_flow.AgentFlow`,
held as answered and never queued.

The engine maps both events straight to these bound methods, so an arrival
costs no more calls than when they were the engine's own; the call table is the
engine's, shared at construction.
"""

from __future__ import annotations

import itertools

from acd import events as ev
from acd.agent import AfterCall
from acd.agent_flow import AgentFlow
from acd.agent_state import Action
from acd.calls import Call, CallState
from acd.config import AcdConfig, QueueConfig
from acd.errors import EngineError
from acd.lines import Lines
from acd.numbers import RULE, is_callback_number
from acd.roster import Roster
from acd.types import AgentId, CallId, Clock, QueueName

__all__ = ["Intake"]


class Intake:
    def __init__(
        self,
        config: AcdConfig,
        clock: Clock,
        roster: Roster,
        calls: dict[CallId, Call],
        lines: Lines,
        flow: AgentFlow,
    ) -> None:
        self.config = config
        self.clock = clock
        self.roster = roster
        self._agents = roster.agents
        self.calls = calls
        self.lines = lines
        self.flow = flow
        self._seq = itertools.count()

    def arrived(self, e: ev.CallArrived) -> None:
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
        if e.callback is not None and not is_callback_number(e.callback):
            raise EngineError(f"call {e.call}: CallArrived.callback {e.callback!r} ({RULE})")
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
            seq=next(self._seq),
            queue_entered_at=arrived,
            callback=e.callback,
        )
        owner = e.case_owner
        if owner is not None and owner in self._agents and q.sticky_s > 0:
            call.sticky_agent = owner
            call.sticky_until = arrived + q.sticky_s
        self.calls[call.id] = call
        self.lines.enter(call, q, first=True)

    def adopted(self, e: ev.CallAdopted) -> None:
        """A call found connected to an agent (the shell restarted meanwhile): held as
        answered, never queued; its record comes out at the end of its wrap-up, once."""
        if e.call in self.calls:
            raise EngineError(f"call {e.call}: CallAdopted, but the engine holds it already")
        q = self._queue(e.queue, "CallAdopted.queue")
        agent = self.roster.agent(e.agent, "CallAdopted")
        self.roster.check(agent, Action.ADOPT)
        rank = self.config.priorities.get(e.priority)
        if rank is None:
            raise EngineError(f"call {e.call}: unknown priority {e.priority!r}")
        if e.after_call is not None and e.after_call not in {w.value for w in AfterCall}:
            raise EngineError(f"call {e.call}: unknown CallAdopted.after_call {e.after_call!r}")
        now = self.clock.now()
        answered = min(e.answered_at, now)
        arrived = min(e.arrived_at, answered)
        call = Call(
            id=e.call,
            queue=q.name,
            entry_queue=q.name,
            priority_name=e.priority,
            rank=rank,
            caller=e.caller,
            language=e.language,
            arrived_at=arrived,
            seq=next(self._seq),
            queue_entered_at=arrived,
            state=CallState.CONNECTED,
            agent=AgentId(agent.id),
            offers=1,
            first_offered_at=answered,  # the ring before the restart is not known
            answered_at=answered,
        )
        self.calls[call.id] = call
        self.flow.adopt(agent, call)
        if e.after_call is not None:
            agent.after_call, agent.after_call_reason = AfterCall(e.after_call), e.after_call_reason
        if e.ended_at is not None:  # found in wrap-up: what is left of it
            call.ended_at = min(max(e.ended_at, answered), now)
            call.ended_by = e.ended_by
            call.state = CallState.WRAP_UP
            wrapup = agent.wrapup_s if agent.wrapup_s is not None else q.wrapup_s
            self.flow.start_wrapup(agent, wrapup - (now - call.ended_at))

    def _queue(self, name: QueueName, what: str) -> QueueConfig:
        q = self.config.queues.get(name)
        if q is None:
            raise EngineError(
                f"{what}: unknown queue {name!r} (known: {sorted(self.config.queues)})"
            )
        return q
