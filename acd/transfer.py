"""Transfers: an agent hands its connected call on. The engine's part, with no I/O.

Theory of operation. A transferred call stays one call (one id, one record): the
caller's channel, its CRM interaction and its place in the statistics follow it.
What a transfer changes is who has it:

- the transferring agent's part ends now: its talk runs from its answer (or from
  the previous transfer) to this moment and is kept as an :class:`AgentLeg`; the
  agent goes to wrap-up as after any call (its wish "ready/pause after this call"
  honoured). It keeps ``agent.call`` during that wrap-up, so when the wrap-up ends
  the engine stamps that leg's end instead of finishing the call
  (:meth:`Transfers.leg_done`);
- to a queue, the call waits again, as a supervisor's move does: it keeps its
  priority class and its arrival time (so its place among the calls of its class:
  a caller who was already served once does not go to the back), escalation and
  max wait start over in the new queue. A queue that is full or takes no callers
  now refuses the transfer: the agent keeps the caller;
- to an agent, the call waits in its current queue for that agent alone, for
  ``agent_wait_s`` at most (the sticky wait of :mod:`acd.lines`), then for anyone
  of the queue. Attended, the target already answered the consultation: it is
  connected at once (it must be ready; the shell marked its phone busy during the
  consultation, which this clears);
- to an external department, the call leaves Hotline as if it ended
  (``ended_by="transfer:<department>"``); its record comes out at the end of the
  agent's wrap-up as usual.

The next agent's talk counts from its own answer (``Call.leg_answered_at``), so
no second is counted twice and none is lost (asterisk#759, FreePBX#124: a
transferred call's talk time counted whole for each agent, or restarted).
"""

from __future__ import annotations

from collections.abc import Callable

from acd import effects as fx
from acd import events as ev
from acd.agent import Agent
from acd.agent_flow import AgentFlow
from acd.agent_state import Action, AgentState
from acd.calls import Call, CallState
from acd.config import AcdConfig
from acd.errors import EngineError
from acd.lines import Lines
from acd.records import AgentLeg
from acd.roster import Roster
from acd.types import AgentId, CallId, Clock, QueueName, TransferKind, TransferMode

__all__ = ["Transfers"]


class Transfers:
    def __init__(
        self,
        config: AcdConfig,
        clock: Clock,
        roster: Roster,
        lines: Lines,
        flow: AgentFlow,
        calls: dict[CallId, Call],
        queue_calls: dict[QueueName, dict[CallId, Call]],
        out: list[fx.Effect],
        *,
        call_of: Callable[[CallId, str], Call],
    ) -> None:
        self.config = config
        self.clock = clock
        self.roster = roster
        self.lines = lines
        self.flow = flow
        self.calls = calls
        self.queue_calls = queue_calls
        self.out = out
        self._call_of = call_of

    def transferred(self, e: ev.CallTransferred) -> None:
        call = self._call_of(e.call, "CallTransferred")
        if call.state is not CallState.CONNECTED or call.agent != e.agent:
            raise EngineError(
                f"call {e.call}: CallTransferred by agent {e.agent}, but the call is"
                f" {call.state.value} (agent {call.agent})"
            )
        if call.callback is not None:
            raise EngineError(f"call {e.call}: CallTransferred, but a callback is not transferred")
        if not e.target:
            raise EngineError(f"call {e.call}: CallTransferred.target is empty")
        if e.agent_wait_s < 0:
            raise EngineError(
                f"call {e.call}: CallTransferred.agent_wait_s must be >= 0, got {e.agent_wait_s}"
            )
        agent = self.roster.agents[e.agent]
        if e.kind is TransferKind.EXTERNAL:
            return self._external(call, agent, e.target)
        if e.kind is TransferKind.QUEUE:
            if e.mode is TransferMode.ATTENDED:
                raise EngineError(
                    f"call {e.call}: an attended transfer goes to an agent or a department,"
                    " not to a queue (nobody to consult there)"
                )
            return self._to_queue(call, agent, QueueName(e.target))
        return self._to_agent(call, agent, AgentId(e.target), e.mode, e.agent_wait_s)

    # the three targets

    def _external(self, call: Call, agent: Agent, department: str) -> None:
        """The call leaves Hotline: as a call that ended, by transfer."""
        call.transfers += 1
        call.ended_at = self.clock.now()
        call.ended_by = f"transfer:{department}"
        call.state = CallState.WRAP_UP
        self._wrapup(call, agent)

    def _to_queue(self, call: Call, agent: Agent, name: QueueName) -> None:
        q = self.config.queues.get(name)
        if q is None:
            raise EngineError(
                f"call {call.id}: CallTransferred to unknown queue {name!r}"
                f" (known: {sorted(self.config.queues)})"
            )
        waiting = len(self.queue_calls.get(q.name, {}))
        if q.max_len and waiting >= q.max_len:
            raise EngineError(
                f"call {call.id}: CallTransferred to {q.name}, but it is full"
                f" ({waiting} calls, max_len {q.max_len})"
            )
        if not self.roster.may_join(q):
            raise EngineError(
                f"call {call.id}: CallTransferred to {q.name}, but it takes no callers now"
                f" (join_empty {q.join_empty.value})"
            )
        old = call.queue
        self._hand_over(call, agent, f"queue:{q.name}")
        call.sticky_agent = None
        if q.name != old:
            self.out.append(fx.MoveCall(call.id, old, q.name, "transfer"))
        self._wrapup(call, agent)
        self.lines.enter(call, q)

    def _to_agent(
        self, call: Call, agent: Agent, target_id: AgentId, mode: TransferMode, wait_s: float
    ) -> None:
        target = self.roster.agents.get(target_id)
        if target is None:
            raise EngineError(
                f"call {call.id}: CallTransferred to unknown agent {target_id!r}"
                f" (known: {sorted(self.roster.agents)})"
            )
        if target is agent:
            raise EngineError(f"call {call.id}: CallTransferred to agent {agent.id}, its own")
        if mode is TransferMode.ATTENDED:
            if target.state is not AgentState.READY:
                raise EngineError(
                    f"call {call.id}: attended transfer to agent {target.id}, who is"
                    f" {target.state.value} (must be ready)"
                )
            now = self._hand_over(call, agent, f"agent:{target.id}")
            self._wrapup(call, agent)
            return self._connect(call, target, now)
        if target.state is AgentState.LOGGED_OUT:
            raise EngineError(
                f"call {call.id}: CallTransferred to agent {target.id}, who is logged out"
            )
        q = self.config.queues[call.queue]
        self._hand_over(call, agent, f"agent:{target.id}")
        call.sticky_agent = target_id
        call.sticky_until = self.clock.now() + wait_s
        self._wrapup(call, agent)
        self.lines.enter(call, q)
        return None

    # the parts

    def _hand_over(self, call: Call, agent: Agent, to: str) -> float:
        """End the transferring agent's part: its leg kept, the call back to waiting.
        Returns the instant of the transfer (the next part starts there, to the tick)."""
        now = self.clock.now()
        start = call.leg_answered_at if call.leg_answered_at is not None else call.answered_at
        leg = AgentLeg(
            AgentId(agent.id), start if start is not None else now, now, None, "transfer", to
        )
        if call.legs is None:
            call.legs = []
        call.legs.append(leg)
        call.transfers += 1
        call.agent = None
        call.leg_answered_at = None
        call.state = CallState.WAITING
        call.queue_entered_at = now
        return now

    def _wrapup(self, call: Call, agent: Agent) -> None:
        """The transferring agent's wrap-up, as after any call (agent.call kept)."""
        q = self.config.queues[call.queue]
        self.flow.start_wrapup(agent, agent.wrapup_s if agent.wrapup_s is not None else q.wrapup_s)

    def _connect(self, call: Call, target: Agent, now: float) -> None:
        """An attended transfer's target: it answered the consultation, so it is on the
        call now (ringing and answering at once in the state table)."""
        if target.available:
            self.roster.unavailable(target)
        target.busy_elsewhere = False  # the consultation was this call
        self.flow.transition(target, Action.OFFER)
        self.flow.transition(target, Action.ANSWER)
        target.call = call.id
        target.offers_today += 1
        target.calls_today += 1
        call.agent = AgentId(target.id)
        call.offers += 1
        call.state = CallState.CONNECTED
        call.leg_answered_at = now

    def leg_done(self, call: Call, agent: Agent) -> bool:
        """``agent`` finished its wrap-up. True if it was an earlier leg of ``call`` (a
        transfer's): that leg's wrap-up end is stamped and the call goes on; False
        if ``agent`` is the call's current agent (its record is final)."""
        if call.agent == agent.id and call.state is CallState.WRAP_UP:
            return False
        legs = call.legs or []
        for i in range(len(legs) - 1, -1, -1):
            leg = legs[i]
            if leg.agent == agent.id and leg.wrapup_ended_at is None:
                legs[i] = AgentLeg(
                    leg.agent, leg.answered_at, leg.ended_at, self.clock.now(), leg.ended_by, leg.to
                )
                break
        return True
