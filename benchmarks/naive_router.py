"""The baseline for benchmarks/routing.py: the same routing decisions by linear scans.

On a call arrival it scans every agent; when an agent frees up it scans every
waiting call. Longest-idle only, no escalation: just enough to make exactly the
decisions the engine makes on the benchmark's workload (the benchmark checks
that both offer the same calls to the same agents).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.config import AcdConfig
from acd.types import Clock


@dataclass(slots=True)
class _Agent:
    id: str
    position: int
    skills: dict[str, int]
    state: str = "logged-out"
    idle_since: float = 0.0


@dataclass(slots=True)
class _Call:
    id: str
    needs: tuple[tuple[str, int], ...]
    rank: int
    arrived_at: float
    seq: int
    agent: str | None = None


@dataclass
class NaiveRouter:
    config: AcdConfig
    clock: Clock
    agents: dict[str, _Agent] = field(default_factory=dict)
    waiting: list[_Call] = field(default_factory=list)
    calls: dict[str, _Call] = field(default_factory=dict)
    seq: int = 0

    def __post_init__(self) -> None:
        for i, a in enumerate(self.config.agents.values()):
            self.agents[a.id] = _Agent(a.id, i, dict(a.skills))

    def _eligible(self, agent: _Agent, call: _Call) -> bool:
        return all(agent.skills.get(s, 0) >= lvl for s, lvl in call.needs)

    def login(self, agent_id: str) -> tuple[str, str] | None:
        agent = self.agents[agent_id]
        agent.state, agent.idle_since = "ready", self.clock.now()
        return self._agent_free(agent)

    def arrive(self, call_id: str, queue: str, priority: str = "normal") -> tuple[str, str] | None:
        q = self.config.queues[queue]  # type: ignore[index]
        self.seq += 1
        call = _Call(
            call_id, q.skills, self.config.priorities[priority], self.clock.now(), self.seq
        )
        self.calls[call_id] = call
        best: _Agent | None = None
        for agent in self.agents.values():  # the linear scan over all agents
            if (
                agent.state == "ready"
                and self._eligible(agent, call)
                and (
                    best is None
                    or (agent.idle_since, agent.position) < (best.idle_since, best.position)
                )
            ):
                best = agent
        if best is None:
            self.waiting.append(call)
            return None
        return self._offer(call, best)

    def answer(self, call_id: str) -> None:
        call = self.calls[call_id]
        assert call.agent is not None
        self.agents[call.agent].state = "on-call"

    def end(self, call_id: str) -> tuple[str, str] | None:
        call = self.calls.pop(call_id)
        assert call.agent is not None
        agent = self.agents[call.agent]
        agent.state, agent.idle_since = "ready", self.clock.now()
        return self._agent_free(agent)

    def _agent_free(self, agent: _Agent) -> tuple[str, str] | None:
        best: _Call | None = None
        for call in self.waiting:  # the linear scan over all waiting calls
            if self._eligible(agent, call) and (
                best is None
                or (-call.rank, call.arrived_at, call.seq) < (-best.rank, best.arrived_at, best.seq)
            ):
                best = call
        if best is None:
            return None
        self.waiting.remove(best)
        return self._offer(best, agent)

    def _offer(self, call: _Call, agent: _Agent) -> tuple[str, str]:
        agent.state = "offered"
        call.agent = agent.id
        return (call.id, agent.id)
