"""The roster: every agent, what each can serve, and who is free to take a call.

Everything the engine knows about agents lives here, as h11's ``_state.py``
holds the state machine its ``Connection`` drives: the agents and their state
transitions (:mod:`acd.agent_state`'s table), the pools (one per requirement
and strategy) with the ready sets they share, the queues each agent could
serve, and the presence counts (logged in, serving) that join-empty and
leave-empty read. :class:`acd.engine.Engine` holds one as ``engine.roster``.

The roster never changes a call. Where an agent's change means work on the
call side, the method says so in what it returns and the engine does the work:

- :meth:`Roster.became_available` returns the waiting call the agent should be
  offered now, or puts the agent in its ready sets and returns None;
- :meth:`Roster.transition`, :meth:`Roster.set_reachable` and
  :meth:`Roster.set_skills` return the queues whose last capable agent just left
  and whose ``leave_empty`` mode now sends their callers out.

Returning the work rather than calling back keeps the roster a data structure
that can be read and tested alone, keeps the order of the call-side work in
one place (the engine), and costs the hot path no indirect call.

Why the shapes: a routing decision must not scan agents or calls. A pool's
waiting calls and a ready set's agents are heaps with lazy deletion
(:mod:`acd.pools`); an agent who becomes ready is pushed once per *ready set*
(pools with the same members in the same order share one), not once per pool.
``sticky_waiting`` holds, per agent, the calls waiting for that agent alone (a
repeat caller's case owner): the agent takes those first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import assert_never

from acd import effects as fx
from acd.agent import Agent
from acd.agent_state import Action, AgentState, IllegalTransitionError, transition
from acd.calls import Call
from acd.config import AcdConfig, EmptyMode, QueueConfig
from acd.errors import EngineError
from acd.pools import Pool, ReadySet, order_skills
from acd.strategies import Requirement, Strategy
from acd.types import AgentId, CallId, Clock, QueueName

__all__ = ["Roster", "step_requirements"]

_LOGGED_OUT, _PAUSED = AgentState.LOGGED_OUT, AgentState.PAUSED
_READY, _OFFERED = AgentState.READY, AgentState.OFFERED
_NAME = {s: s.value for s in AgentState}  # ``.value`` is a property call on the hot path
_NO_QUEUES: tuple[QueueName, ...] = ()
Presence = tuple[bool, bool]  # (logged in, serving: logged in, not paused, reachable)


class Roster:
    def __init__(self, config: AcdConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.agents: dict[str, Agent] = {
            a.id: Agent(a.id, a.name, dict(a.skills), a.wrapup_s, position=i)
            for i, a in enumerate(config.agents.values())
        }
        self.sticky_waiting: dict[str, dict[CallId, Call]] = {}
        self.pools: dict[tuple[Requirement, Strategy], Pool[Call]] = {}
        self._pool_cache: dict[tuple[str, int, str | None], Pool[Call]] = {}
        self.agent_pools: dict[str, list[Pool[Call]]] = {a: [] for a in self.agents}
        self.ready_sets: dict[tuple[frozenset[str], Strategy, tuple[str, ...]], ReadySet] = {}
        self.agent_sets: dict[str, list[ReadySet]] = {a: [] for a in self.agents}
        self._pooled: set[str] = set()  # agents in their ready sets now
        self._queue_reqs = {q.name: step_requirements(q) for q in config.queues.values()}
        self.capable: dict[str, list[QueueName]] = {}
        self.logged_in_count: dict[QueueName, int] = dict.fromkeys(config.queues, 0)
        self.serving_count: dict[QueueName, int] = dict.fromkeys(config.queues, 0)
        for agent in self.agents.values():
            self.capable[agent.id] = self._capable_queues(agent)

    # look-ups and checks (raise EngineError, change nothing)

    def agent(self, agent_id: AgentId, what: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise EngineError(f"{what}: unknown agent {agent_id!r}")
        return agent

    def check(self, agent: Agent, action: Action) -> None:
        """Raise unless the state table allows ``action`` in the agent's state."""
        try:
            transition(agent.id, agent.state, action)
        except IllegalTransitionError as e:
            raise EngineError(str(e)) from e

    def check_reason(self, agent: Agent, reason: str) -> None:
        known = self.config.pause_reasons
        if not reason or (known and reason not in known):
            raise EngineError(
                f"agent {agent.id}: unknown pause reason {reason!r} (known: {sorted(known)})"
            )

    # pools

    def pool_for(self, q: QueueConfig, step: int, language: str | None) -> Pool[Call]:
        """The pool a call waits in: ``q``'s requirement after ``step`` escalation steps,
        plus its language; created (with its eligible agents) the first time."""
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

    def members_for(self, queue: QueueName, step: int, language: str | None) -> AbstractSet[str]:
        """The agents of the pool a call of ``queue`` waits in after ``step`` steps in
        ``language``, when that pool exists (kept current as skills change); else empty.
        Read-only: unlike :meth:`pool_for` it creates nothing (the wait predictor's)."""
        pool = self._pool_cache.get((queue, step, language))
        return pool.members if pool is not None else frozenset()

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

    @staticmethod
    def check_skills(agent: Agent, skills: dict[str, int]) -> None:
        for skill, level in skills.items():
            if not isinstance(skill, str) or not skill:
                raise EngineError(f"agent {agent.id}: skill name {skill!r} is not a name")
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 10:
                raise EngineError(f"agent {agent.id}: skill {skill!r} level {level!r} not in 1..10")

    def set_skills(self, agent: Agent, skills: dict[str, int]) -> Sequence[QueueName]:
        """Give ``agent`` new skills (checked, and the agent out of its ready sets): its
        pools, ready sets and capable queues follow. Returns the queues to empty."""
        agent.skills = dict(skills)
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
        presence = self.presence(agent)
        return self._shift_presence(old_queues, presence, self.capable[agent.id], presence)

    # the roster itself (runtime administration: AgentAdded, AgentRemoved)

    def add(self, agent: Agent) -> None:
        """A new agent, logged out, last in round-robin order: into every pool it is
        eligible for (its presence counts nothing until it logs in)."""
        if agent.id in self.agents:
            raise EngineError(f"AgentAdded: agent {agent.id!r} is already in the roster")
        self.check_skills(agent, agent.skills)
        agent.position = 1 + max((a.position for a in self.agents.values()), default=-1)
        self.agents[agent.id] = agent
        self.agent_pools[agent.id] = []
        for pool in self.pools.values():
            if pool.eligible(agent):
                pool.members.add(agent.id)
                self.agent_pools[agent.id].append(pool)
        self._regroup()
        self.capable[agent.id] = self._capable_queues(agent)

    def remove(self, agent: Agent) -> None:
        """A logged-out agent leaves the roster (and every pool and ready set)."""
        if agent.state is not _LOGGED_OUT:
            raise EngineError(
                f"AgentRemoved: agent {agent.id} is {_NAME[agent.state]}: log it out first"
            )
        for pool in self.agent_pools.pop(agent.id, []):
            pool.members.discard(agent.id)
        del self.agents[agent.id]
        self.capable.pop(agent.id, None)
        self.sticky_waiting.pop(agent.id, None)
        self._pooled.discard(agent.id)
        self._regroup()

    # availability

    def became_available(self, agent: Agent) -> Call | None:
        """The agent is ready and reachable: the call to offer it now, if one waits
        for it; else it joins its ready sets and None is returned."""
        agent.avail_version += 1
        agent.roll_day(math.floor((self.clock.now() + self.config.timezone_offset_s) / 86400))
        call = self._best_call(agent)
        if call is None:
            self._pooled.add(agent.id)
            for ready in self.agent_sets[agent.id]:
                ready.add(agent)
        return call

    def unavailable(self, agent: Agent) -> None:
        agent.avail_version += 1
        if agent.id in self._pooled:
            self._pooled.discard(agent.id)
            for ready in self.agent_sets[agent.id]:
                ready.remove(agent)

    def _best_call(self, agent: Agent) -> Call | None:
        """The first of the calls waiting for this agent alone, else the first call in
        line of all its pools (one heap top per pool)."""
        sticky = self.sticky_waiting.get(agent.id)
        if sticky:
            return min(sticky.values(), key=Call.order_key)
        best: Call | None = None
        best_key: tuple[int, float, int] | None = None
        for pool in self.agent_pools[agent.id]:
            if pool.live_calls:
                call = pool.best_call()
                if call is not None:
                    key = call.order_key()
                    if best_key is None or key < best_key:
                        best, best_key = call, key
        return best

    @staticmethod
    def worth_waiting_for(agent: Agent) -> bool:
        """A sticky call waits for its agent only if the agent is at work, reachable and
        not busy on a call Hotline did not place."""
        state = agent.state
        return (
            state is not _LOGGED_OUT
            and state is not _PAUSED
            and agent.reachable
            and not agent.busy_elsewhere
        )

    # presence

    def presence(self, agent: Agent) -> Presence:
        state = agent.state
        logged_in = state is not _LOGGED_OUT
        return logged_in, logged_in and state is not _PAUSED and agent.reachable

    def may_join(self, q: QueueConfig, mode: EmptyMode | None = None) -> bool:
        """Whether ``q`` takes callers now under ``mode`` (default: its ``join_empty``)."""
        mode = mode or q.join_empty
        if mode is EmptyMode.ALLOW:
            return True
        if mode is EmptyMode.NO_AGENTS:
            return self.logged_in_count[q.name] > 0
        if mode is EmptyMode.NO_AVAILABLE:
            return self.serving_count[q.name] > 0
        assert_never(mode)

    def set_reachable(self, agent: Agent, reachable: bool) -> Sequence[QueueName]:
        """Mark the agent's phone (un)reachable (it must not be in its ready sets).
        Returns the queues to empty (leave-empty)."""
        before = self.presence(agent)
        agent.reachable = reachable
        after = self.presence(agent)
        if after == before:
            return _NO_QUEUES
        queues = self.capable[agent.id]
        return self._shift_presence(queues, before, queues, after)

    def _shift_presence(
        self,
        old_queues: list[QueueName],
        old: Presence,
        new_queues: list[QueueName],
        new: Presence,
    ) -> Sequence[QueueName]:
        """Move one agent's presence between queue counters; returns the queues whose
        counter reached zero and whose ``leave_empty`` mode now refuses callers."""
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
        if not emptied:
            return _NO_QUEUES
        queues = self.config.queues
        return [q for q in emptied if not self.may_join(queues[q], queues[q].leave_empty)]

    # transitions

    def transition(
        self, agent: Agent, action: Action, out: list[fx.Effect], reason: str | None = None
    ) -> Sequence[QueueName]:
        """Apply ``action`` from the state table, append ``AgentStateChanged`` to ``out``
        when the state or pause reason changed, and count presence. Returns the queues
        to empty (leave-empty)."""
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
            out.append(
                fx.AgentStateChanged(
                    AgentId(agent.id), _NAME[old], _NAME[new], agent.pause_reason, now
                )
            )
        if new is _READY and old is not _READY and old is not _OFFERED:
            agent.idle_since = now
        after = new is not _LOGGED_OUT, new is not _LOGGED_OUT and new is not _PAUSED and reachable
        if after == before:
            return _NO_QUEUES
        queues = self.capable[agent.id]
        return self._shift_presence(queues, before, queues, after)


def step_requirements(q: QueueConfig) -> list[dict[str, int]]:
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
