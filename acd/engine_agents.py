"""The agent side of the engine: pools, presence, and what agents ask for.

:class:`AgentSide` holds the engine's state and everything that starts with an
agent (login, ready, pause, wrap-up, presence, skills). :class:`acd.engine.Engine`
extends it with the call side and the public surface.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, assert_never

from acd import effects as fx
from acd import events as ev
from acd.agent import AfterCall, Agent
from acd.agent_state import Action, AgentState, IllegalTransitionError, transition
from acd.config import AcdConfig, EmptyMode, QueueConfig
from acd.pools import Pool, ReadySet, order_skills
from acd.strategies import Requirement
from acd.types import AgentId, CallId, Clock, QueueName

if TYPE_CHECKING:
    from acd.calls import Call
    from acd.timers import Timer

from acd.timers import TimerKind


class EngineError(Exception):
    """An event that does not fit the engine's state; the state is left unchanged."""


_DEFERRING = (AgentState.OFFERED, AgentState.ON_CALL)
_LOGGED_OUT, _PAUSED = AgentState.LOGGED_OUT, AgentState.PAUSED
_READY, _OFFERED = AgentState.READY, AgentState.OFFERED
_NAME = {s: s.value for s in AgentState}  # ``.value`` is a property call on the hot path


class AgentSide:
    out: list[fx.Effect]

    def __init__(self, config: AcdConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.out = []
        self.agents: dict[str, Agent] = {
            a.id: Agent(a.id, a.name, dict(a.skills), a.wrapup_s, position=i)
            for i, a in enumerate(config.agents.values())
        }
        self.calls: dict[CallId, Call] = {}
        self.queue_calls: dict[QueueName, dict[CallId, Call]] = {q: {} for q in config.queues}
        self.sticky_waiting: dict[str, dict[CallId, Call]] = {}
        self.pools: dict[tuple[Requirement, str], Pool[Call]] = {}
        self._pool_cache: dict[tuple[str, int, str | None], Pool[Call]] = {}
        self.agent_pools: dict[str, list[Pool[Call]]] = {a: [] for a in self.agents}
        self.ready_sets: dict[tuple[frozenset[str], str, tuple[str, ...]], ReadySet] = {}
        self.agent_sets: dict[str, list[ReadySet]] = {a: [] for a in self.agents}
        self._pooled: set[str] = set()
        self._wrap_timers: dict[str, Timer] = {}
        self._queue_reqs = {q.name: self._step_requirements(q) for q in config.queues.values()}
        self.capable: dict[str, list[QueueName]] = {}
        self.logged_in_count: dict[QueueName, int] = dict.fromkeys(config.queues, 0)
        self.serving_count: dict[QueueName, int] = dict.fromkeys(config.queues, 0)
        for agent in self.agents.values():
            self.capable[agent.id] = self._capable_queues(agent)

    # what the call side provides

    def _offer(self, call: Call, agent: Agent) -> None:
        raise NotImplementedError

    def _settle(self, call: Call) -> None:
        raise NotImplementedError

    def _finish_answered(self, call: Call) -> None:
        raise NotImplementedError

    def _release_sticky(self, agent: Agent) -> None:
        raise NotImplementedError

    def _leave_empty(self, queue: QueueName) -> None:
        raise NotImplementedError

    def _add_timer(self, at: float, kind: TimerKind, target: Any) -> Timer:
        raise NotImplementedError

    # requirements and pools

    def _step_requirements(self, q: QueueConfig) -> list[dict[str, int]]:
        """The skill requirement at each escalation step of ``q`` (index = steps applied)."""
        req: dict[str, int] = dict(q.skills)
        out = [dict(req)]
        for step in q.escalation:
            if step.min_level is not None:
                req = {skill: min(level, step.min_level) for skill, level in req.items()}
            elif step.skills is not None:
                req = {str(skill): level for skill, level in step.skills}
            out.append(dict(req))
        return out

    def _pool_for(self, q: QueueConfig, step: int, language: str | None) -> Pool[Call]:
        cache_key = (q.name, step, language)
        pool = self._pool_cache.get(cache_key)
        if pool is not None:
            return pool
        req = dict(self._queue_reqs[q.name][step])
        if language is not None:
            req[language] = max(req.get(language, 0), 1)
        requirement = tuple(sorted(req.items()))
        key = (requirement, q.strategy)
        pool = self.pools.get(key)
        if pool is None:
            pool = Pool(requirement, q.strategy)
            self.pools[key] = pool
            for agent in self.agents.values():
                if pool.eligible(agent):
                    pool.members.add(agent.id)
                    self.agent_pools[agent.id].append(pool)
            pool.ready = self._ready_set(pool)
        self._pool_cache[cache_key] = pool
        return pool

    def _ready_set(self, pool: Pool[Call]) -> ReadySet:
        """The ready set for ``pool``: shared with every pool that has the same members
        in the same order, created (with the agents ready now) if there is none."""
        sig = (
            frozenset(pool.members),
            pool.strategy,
            order_skills(pool.requirement, pool.strategy),
        )
        ready = self.ready_sets.get(sig)
        if ready is None:
            ready = self.ready_sets[sig] = ReadySet(pool.requirement, pool.strategy)
            for agent_id in sorted(pool.members):
                self.agent_sets[agent_id].append(ready)
                if agent_id in self._pooled:
                    ready.add(self.agents[agent_id])
        return ready

    def _regroup(self) -> None:
        """Rebuild the ready sets after pool members changed (an agent's skills)."""
        self.ready_sets = {}
        self.agent_sets = {a: [] for a in self.agents}
        for pool in self.pools.values():
            pool.ready = self._ready_set(pool)

    def _capable_queues(self, agent: Agent) -> list[QueueName]:
        """Queues that ``agent`` could serve at some escalation step (for join/leave-empty)."""
        return [
            name
            for name, reqs in self._queue_reqs.items()
            if any(all(agent.level(s) >= lvl for s, lvl in req.items()) for req in reqs)
        ]

    # availability

    def _became_available(self, agent: Agent) -> None:
        """The agent is ready and reachable: give it a call, or put it in its pools."""
        agent.avail_version += 1
        agent.roll_day(math.floor((self.clock.now() + self.config.timezone_offset_s) / 86400))
        if self._route_agent(agent):
            return
        self._pooled.add(agent.id)
        for ready in self.agent_sets[agent.id]:
            ready.add(agent)

    def _unavailable(self, agent: Agent) -> None:
        agent.avail_version += 1
        if agent.id in self._pooled:
            self._pooled.discard(agent.id)
            for ready in self.agent_sets[agent.id]:
                ready.remove(agent)

    def _route_agent(self, agent: Agent) -> bool:
        """Offer the available ``agent`` its best waiting call, if any."""
        sticky = self.sticky_waiting.get(agent.id)
        if sticky:
            self._offer(min(sticky.values(), key=lambda c: c.order_key()), agent)
            return True
        best: Call | None = None
        best_key: tuple[int, float, int] | None = None
        for pool in self.agent_pools[agent.id]:
            if pool.live_calls:
                call = pool.best_call()
                if call is not None:
                    key = call.order_key()
                    if best_key is None or key < best_key:
                        best, best_key = call, key
        if best is None:
            return False
        self._offer(best, agent)
        return True

    # transitions, with presence counting

    def _presence(self, agent: Agent) -> tuple[bool, bool]:
        state = agent.state
        logged_in = state is not _LOGGED_OUT
        return logged_in, logged_in and state is not _PAUSED and agent.reachable

    def _count_presence(self, agent: Agent, before: tuple[bool, bool]) -> None:
        after = self._presence(agent)
        if after != before:
            queues = self.capable[agent.id]
            self._shift_presence(queues, before, queues, after)

    def _shift_presence(
        self,
        old_queues: list[QueueName],
        old: tuple[bool, bool],
        new_queues: list[QueueName],
        new: tuple[bool, bool],
    ) -> None:
        """Move one agent's presence between queue counters; a counter that reaches
        zero may empty its queue (leave-empty)."""
        emptied: list[QueueName] = []
        for i, counts in ((0, self.logged_in_count), (1, self.serving_count)):
            delta: dict[QueueName, int] = {}
            if old[i]:
                for q in old_queues:
                    delta[q] = delta.get(q, 0) - 1
            if new[i]:
                for q in new_queues:
                    delta[q] = delta.get(q, 0) + 1
            for q, d in delta.items():
                if d:
                    counts[q] += d
                    if counts[q] == 0:
                        emptied.append(q)
        for q in emptied:
            self._check_leave_empty(q)

    def _check_leave_empty(self, q: QueueName) -> None:
        mode = self.config.queues[q].leave_empty
        if not self._may_join(self.config.queues[q], mode):
            self._leave_empty(q)

    def _may_join(self, q: QueueConfig, mode: EmptyMode | None = None) -> bool:
        mode = mode or q.join_empty
        if mode is EmptyMode.ALLOW:
            return True
        if mode is EmptyMode.NO_AGENTS:
            return self.logged_in_count[q.name] > 0
        if mode is EmptyMode.NO_AVAILABLE:
            return self.serving_count[q.name] > 0
        assert_never(mode)

    def _transition(self, agent: Agent, action: Action, reason: str | None = None) -> None:
        # The hot path of every call (four or five per call): the presence pair and
        # the state names are computed inline, without enum property lookups.
        old = agent.state
        old_reason = agent.pause_reason
        reachable = agent.reachable
        before = old is not _LOGGED_OUT, old is not _LOGGED_OUT and old is not _PAUSED and reachable
        now = self.clock.now()
        agent.apply(action, now)
        new = agent.state
        if new is _PAUSED:
            agent.pause_reason = reason
        if old is not new or old_reason != agent.pause_reason:
            self.out.append(
                fx.AgentStateChanged(
                    AgentId(agent.id), _NAME[old], _NAME[new], agent.pause_reason, now
                )
            )
        if new is _READY and old is not _READY and old is not _OFFERED:
            agent.idle_since = now
        after = new is not _LOGGED_OUT, new is not _LOGGED_OUT and new is not _PAUSED and reachable
        if after != before:
            queues = self.capable[agent.id]
            self._shift_presence(queues, before, queues, after)
        if new is _PAUSED or new is _LOGGED_OUT:
            self._release_sticky(agent)

    def _worth_waiting_for(self, agent: Agent) -> bool:
        """A sticky call waits for its agent only if the agent is at work and reachable."""
        return agent.state not in (AgentState.LOGGED_OUT, AgentState.PAUSED) and agent.reachable

    def _to_ready(self, agent: Agent, action: Action) -> None:
        self._transition(agent, action)
        if agent.available:
            self._became_available(agent)

    def _apply_after_call(self, agent: Agent, ready_action: Action) -> None:
        """Leave an offer, a call or wrap-up the way the agent asked for, or to ready."""
        wish, reason = agent.after_call, agent.after_call_reason
        agent.after_call = agent.after_call_reason = None
        if wish is AfterCall.LOGOUT:
            self._transition(agent, Action.LOGOUT)
        elif wish is AfterCall.PAUSE:
            self._transition(agent, Action.PAUSE, reason)
        else:
            self._to_ready(agent, ready_action)

    def _end_offer(self, agent: Agent, autopause: str | None) -> None:
        if autopause is not None and agent.after_call is not AfterCall.LOGOUT:
            agent.after_call, agent.after_call_reason = AfterCall.PAUSE, autopause
        self._apply_after_call(agent, Action.OFFER_ENDED)

    def _start_wrapup(self, agent: Agent, wrapup_s: float) -> None:
        if agent.after_call is AfterCall.READY:
            agent.after_call = None
            call = self.calls[CallId(agent.call)] if agent.call else None
            agent.call = None
            self._transition(agent, Action.CALL_ENDED_READY)
            if call is not None:
                self._finish_answered(call)
            if agent.available:
                self._became_available(agent)
            return
        self._transition(agent, Action.CALL_ENDED)
        if wrapup_s <= 0:
            return self._end_wrapup(agent, Action.WRAPUP_ENDED)
        self._wrap_timers[agent.id] = self._add_timer(
            self.clock.now() + wrapup_s, TimerKind.WRAPUP, agent
        )
        return None

    def _end_wrapup(self, agent: Agent, action: Action, reason: str | None = None) -> None:
        timer = self._wrap_timers.pop(agent.id, None)
        if timer is not None:
            timer.cancelled = True
        call = self.calls.get(CallId(agent.call)) if agent.call else None
        agent.call = None
        if call is not None:
            self._finish_answered(call)
        if action is Action.WRAPUP_ENDED:
            self._apply_after_call(agent, Action.WRAPUP_ENDED)
        else:
            agent.after_call = agent.after_call_reason = None
            if action is Action.READY:
                self._to_ready(agent, action)
            else:
                self._transition(agent, action, reason)

    def _after_ready(self, agent: Agent) -> None:
        """The agent just became ready with no wrap-up: honour its wish first."""
        if agent.after_call is not None:
            wish = agent.after_call
            reason = agent.after_call_reason
            agent.after_call = agent.after_call_reason = None
            if wish is AfterCall.PAUSE:
                self._transition(agent, Action.PAUSE, reason)
                return
            if wish is AfterCall.LOGOUT:
                self._transition(agent, Action.LOGOUT)
                return
        if agent.available:
            self._became_available(agent)

    # agent events

    def _agent(self, agent_id: AgentId, what: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise EngineError(f"{what}: unknown agent {agent_id!r}")
        return agent

    def _check(self, agent: Agent, action: Action) -> None:
        try:
            transition(agent.id, agent.state, action)
        except IllegalTransitionError as e:
            raise EngineError(str(e)) from e

    def _check_reason(self, agent: Agent, reason: str) -> None:
        known = self.config.pause_reasons
        if not reason or (known and reason not in known):
            raise EngineError(
                f"agent {agent.id}: unknown pause reason {reason!r} (known: {sorted(known)})"
            )

    def _agent_logged_in(self, e: ev.AgentLoggedIn) -> None:
        agent = self._agent(e.agent, "AgentLoggedIn")
        if e.paused_reason is not None:
            self._check_reason(agent, e.paused_reason)
            self._check(agent, Action.LOGIN_PAUSED)
            self._transition(agent, Action.LOGIN_PAUSED, e.paused_reason)
        else:
            self._check(agent, Action.LOGIN)
            self._to_ready(agent, Action.LOGIN)

    def _agent_logged_out(self, e: ev.AgentLoggedOut) -> None:
        agent = self._agent(e.agent, "AgentLoggedOut")
        if agent.state in _DEFERRING:
            agent.after_call, agent.after_call_reason = AfterCall.LOGOUT, None
        elif agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.LOGOUT)
        else:
            self._check(agent, Action.LOGOUT)
            self._unavailable(agent)
            self._transition(agent, Action.LOGOUT)

    def _agent_ready(self, e: ev.AgentReady) -> None:
        agent = self._agent(e.agent, "AgentReady")
        if agent.state in _DEFERRING:
            agent.after_call, agent.after_call_reason = AfterCall.READY, None
        elif agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.READY)
        elif agent.state is not AgentState.READY:
            self._check(agent, Action.READY)
            self._to_ready(agent, Action.READY)
        else:
            self._check(agent, Action.READY)

    def _agent_paused(self, e: ev.AgentPaused) -> None:
        agent = self._agent(e.agent, "AgentPaused")
        self._check_reason(agent, e.reason)
        if agent.state in _DEFERRING:
            agent.after_call, agent.after_call_reason = AfterCall.PAUSE, e.reason
        elif agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.PAUSE, e.reason)
        else:
            self._check(agent, Action.PAUSE)
            self._unavailable(agent)
            self._transition(agent, Action.PAUSE, e.reason)

    def _agent_reachable(self, e: ev.AgentReachable) -> None:
        agent = self._agent(e.agent, "AgentReachable")
        if agent.reachable == e.reachable:
            return
        before = self._presence(agent)
        was_available = agent.available
        agent.reachable = e.reachable
        if was_available:
            self._unavailable(agent)
        self._count_presence(agent, before)
        if agent.available:
            self._became_available(agent)
        elif not e.reachable:
            self._release_sticky(agent)

    def _agent_skills_changed(self, e: ev.AgentSkillsChanged) -> None:
        agent = self._agent(e.agent, "AgentSkillsChanged")
        for skill, level in e.skills.items():
            if not isinstance(skill, str) or not skill:
                raise EngineError(f"agent {agent.id}: skill name {skill!r} is not a name")
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 10:
                raise EngineError(f"agent {agent.id}: skill {skill!r} level {level!r} not in 1..10")
        was_available = agent.available
        if was_available:
            self._unavailable(agent)
        agent.skills = dict(e.skills)
        self.agent_pools[agent.id] = []
        for pool in self.pools.values():
            if pool.eligible(agent):
                pool.members.add(agent.id)
                self.agent_pools[agent.id].append(pool)
            else:
                pool.members.discard(agent.id)
        self._regroup()
        old_queues = self.capable[agent.id]
        self.capable[agent.id] = self._capable_queues(agent)
        presence = self._presence(agent)
        self._shift_presence(old_queues, presence, self.capable[agent.id], presence)
        if was_available:
            self._became_available(agent)
