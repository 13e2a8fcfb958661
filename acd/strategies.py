"""Routing strategies: which ready agent a pool offers first.

Each strategy is a plain function from an agent (and the pool's requirement) to
a sort key; the smallest key wins. Keys are taken when the agent becomes ready
and do not change while it stays ready, so a heap keeps them in order.
Round-robin is not a key: :class:`acd.pools.Pool` keeps a ring for it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from acd.agent import Agent


class Strategy(enum.StrEnum):
    """How a pool picks among its ready agents (the config's ``strategy``)."""

    LONGEST_IDLE = "longest-idle"
    LEAST_OCCUPIED = "least-occupied"
    ROUND_ROBIN = "round-robin"
    BEST_SKILL = "best-skill"


Requirement = tuple[tuple[str, int], ...]
KeyFn = Callable[[Agent, Requirement], tuple[float, ...]]


def longest_idle(agent: Agent, req: Requirement) -> tuple[float, ...]:
    """The agent who has waited longest since the last call (app_queue's default)."""
    return (agent.idle_since, agent.position)


def least_occupied(agent: Agent, req: Requirement) -> tuple[float, ...]:
    """The agent with the least busy time today (offered, talking, wrap-up)."""
    return (agent.busy_s_today, agent.idle_since, agent.position)


def best_skill(agent: Agent, req: Requirement) -> tuple[float, ...]:
    """The agent with the highest levels in what the call needs; then longest idle."""
    score = sum(agent.skills.get(skill, 0) for skill, _ in req)
    return (-score, agent.idle_since, agent.position)


KEYS: dict[Strategy, KeyFn] = {
    Strategy.LONGEST_IDLE: longest_idle,
    Strategy.LEAST_OCCUPIED: least_occupied,
    Strategy.BEST_SKILL: best_skill,
}
