"""Pools: one per distinct requirement (skills with minimum levels) and strategy.

A pool knows which agents meet its requirement, finds its ready agents in
strategy order (a :class:`ReadySet`, shared with the pools that have the same
members and order) and keeps its waiting calls in queue order (priority, then
arrival). Both are heaps with lazy deletion: an entry carries the version its agent or
call had when pushed, and is skipped once that version has moved on. That keeps
every routing decision O(log n) instead of a scan over all agents and calls.
"""

from __future__ import annotations

import bisect
import heapq
from typing import Generic, Protocol, TypeVar

from acd.agent import Agent
from acd.strategies import KEYS, Requirement, Strategy


class Queued(Protocol):
    """What a pool reads of a waiting call (:class:`acd.calls.Call` has it): its place
    in the line, and whether the entry pushed for it is still live."""

    rank: int  # priority: higher first
    arrived_at: float
    seq: int  # arrival order, the last tie-breaker
    version: int  # bumped when it leaves a pool: older heap entries are dead
    in_pool: bool


C = TypeVar("C", bound=Queued)
AgentEntry = tuple[tuple[float, ...], int, int, Agent]


def order_skills(requirement: Requirement, strategy: Strategy) -> tuple[str, ...]:
    """What a strategy's order reads of the requirement: best-skill sums the agent's
    levels in its skills; the other strategies do not look at it."""
    return tuple(skill for skill, _ in requirement) if strategy is Strategy.BEST_SKILL else ()


class ReadySet:
    """Ready agents in one strategy's order: a heap with lazy deletion, or a ring for
    round-robin.

    Pools whose members are the same agents, ordered the same way, share one set
    (see :meth:`acd.roster.Roster._ready_set`): an agent who becomes ready
    is pushed once per set, not once per pool it could serve.
    """

    __slots__ = ("_agents", "_key", "_rr", "_rr_agents", "live", "requirement")

    def __init__(self, requirement: Requirement, strategy: Strategy) -> None:
        self.requirement = requirement
        self._key = KEYS.get(strategy)
        self._agents: list[AgentEntry] = []
        self._rr: list[int] = []  # round-robin: sorted roster positions of ready members
        self._rr_agents: dict[int, Agent] = {}
        self.live = 0

    def add(self, agent: Agent) -> None:
        self.live += 1
        if self._key is None:
            bisect.insort(self._rr, agent.position)
            self._rr_agents[agent.position] = agent
            return
        key = self._key(agent, self.requirement)
        heapq.heappush(self._agents, (key, agent.position, agent.avail_version, agent))
        if len(self._agents) > 2 * self.live + 64:
            self._compact()

    def remove(self, agent: Agent) -> None:
        """The agent is no longer available (its version has already moved on)."""
        self.live -= 1
        if self._key is None:
            i = bisect.bisect_left(self._rr, agent.position)
            if i < len(self._rr) and self._rr[i] == agent.position:
                del self._rr[i]
                del self._rr_agents[agent.position]

    def best(self, rr_last: int) -> Agent | None:
        if self._key is None:
            if not self._rr:
                return None
            i = bisect.bisect_right(self._rr, rr_last)
            return self._rr_agents[self._rr[i if i < len(self._rr) else 0]]
        heap = self._agents
        while heap:
            _, _, version, agent = heap[0]
            if version == agent.avail_version and agent.available:
                return agent
            heapq.heappop(heap)
        return None

    def _compact(self) -> None:
        self._agents = [e for e in self._agents if e[2] == e[3].avail_version and e[3].available]
        heapq.heapify(self._agents)


class Pool(Generic[C]):
    """Agents who meet one requirement, and the calls that wait for one of them."""

    __slots__ = (
        "_calls",
        "live_calls",
        "members",
        "ready",
        "requirement",
        "rr_last",
        "strategy",
    )

    def __init__(self, requirement: Requirement, strategy: Strategy) -> None:
        self.requirement = requirement
        self.strategy = strategy
        self.members: set[str] = set()
        self.ready = ReadySet(requirement, strategy)  # replaced by a shared one on creation
        self._calls: list[tuple[int, float, int, int, C]] = []
        self.rr_last = -1
        self.live_calls = 0

    def __repr__(self) -> str:
        return f"Pool({self.requirement!r}, {self.strategy!r})"

    def eligible(self, agent: Agent) -> bool:
        skills = agent.skills
        return all(skills.get(skill, 0) >= level for skill, level in self.requirement)

    def best_agent(self) -> Agent | None:
        return self.ready.best(self.rr_last)

    # waiting calls

    def push_call(self, call: C) -> None:
        self.live_calls += 1
        heapq.heappush(self._calls, (-call.rank, call.arrived_at, call.seq, call.version, call))
        if len(self._calls) > 2 * self.live_calls + 64:
            self._calls = [e for e in self._calls if e[3] == e[4].version and e[4].in_pool]
            heapq.heapify(self._calls)

    def best_call(self) -> C | None:
        heap = self._calls
        while heap:
            entry = heap[0]
            call = entry[4]
            if entry[3] == call.version and call.in_pool:
                return call
            heapq.heappop(heap)
        return None

    def waiting_calls(self) -> list[C]:
        """The live waiting calls, in queue order (for positions and snapshots)."""
        live = [e for e in self._calls if e[3] == e[4].version and e[4].in_pool]
        live.sort(key=lambda e: e[:3])
        return [e[4] for e in live]
