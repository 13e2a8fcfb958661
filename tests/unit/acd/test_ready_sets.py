"""Ready sets: pools with the same members in the same order share one, and an agent's
skill change moves it between them without losing or inventing a ready agent."""

from __future__ import annotations

from acd.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentSkillsChanged,
    CallArrived,
    CallEnded,
)
from tests.unit.acd.harness import Harness, config

TWO_LINES = {
    # the same three agents serve both lines: one ready set, two pools
    "general": {"skills": {"general": 1}},
    "status": {"skills": {"status": 1}},
    "elderly": {"skills": {"elderly": 5}},
}
AGENTS = [
    {"id": "a1", "skills": {"elderly": 8, "general": 5, "status": 2}},
    {"id": "a2", "skills": {"elderly": 3, "general": 5, "status": 2}},
    {"id": "a3", "skills": {"general": 5, "status": 2}},
]


def _ready_three() -> Harness:
    h = Harness(config(queues=TWO_LINES, agents=AGENTS))
    for t, a in ((1, "a1"), (2, "a2"), (3, "a3")):
        h.at(t, AgentLoggedIn(a))
    return h


def test_pools_with_the_same_members_share_one_ready_set() -> None:
    h = _ready_three()
    h.at(10, CallArrived("c1", "general"))
    h.at(11, CallArrived("c2", "status"))
    engine = h.engine
    general = engine.roster.pool_for(engine.config.queues["general"], 0, None)
    status = engine.roster.pool_for(engine.config.queues["status"], 0, None)
    assert general is not status and general.ready is status.ready
    # longest idle first, across both lines: a1 then a2
    assert [e for _, e in h.take(("offer",))] == [("offer", "c1", "a1"), ("offer", "c2", "a2")]


def test_a_skill_change_moves_a_ready_agent_between_sets() -> None:
    h = _ready_three()
    h.at(10, CallArrived("c1", "elderly"))
    h.at(11, AgentAnswered("c1", "a1"))
    h.at(12, CallArrived("c2", "elderly"))  # a1 is busy, a2 is level 3: c2 waits
    assert [e for _, e in h.take(("offer",))] == [("offer", "c1", "a1")]
    h.at(20, AgentSkillsChanged("a3", {"elderly": 6, "general": 5, "status": 2}))
    assert h.take(("offer",)) == [(20, ("offer", "c2", "a3"))]
    h.at(21, AgentAnswered("c2", "a3"))
    # a2 loses the general line: a general call goes to no one but a1 after its call
    h.at(30, AgentSkillsChanged("a2", {"elderly": 3, "status": 2}))
    h.at(31, CallArrived("c3", "general"))
    assert h.take(("offer",)) == []
    h.at(40, CallArrived("c4", "status"))
    assert h.take(("offer",)) == [(40, ("offer", "c4", "a2"))]
    h.at(50, CallEnded("c1"))
    h.run_until(60)  # a1's wrap-up ends
    assert h.take(("offer",)) == [(55, ("offer", "c3", "a1"))]
    sets = h.engine.roster.agent_sets
    assert sum(len(v) for v in sets.values()) == sum(
        len({id(p.ready) for p in pools}) for pools in h.engine.roster.agent_pools.values()
    )


def test_round_robin_pools_sharing_a_ring_keep_their_own_turn() -> None:
    queues = {
        "general": {"skills": {"general": 1}, "strategy": "round-robin"},
        "status": {"skills": {"status": 1}, "strategy": "round-robin"},
    }
    h = Harness(config(queues=queues, agents=AGENTS))
    for t, a in ((1, "a1"), (2, "a2"), (3, "a3")):
        h.at(t, AgentLoggedIn(a))
    served = []
    for i, (queue, t) in enumerate((("general", 10), ("general", 20), ("status", 30))):
        h.at(t, CallArrived(f"c{i}", queue))
        offer = h.take(("offer",))[0][1]
        served.append((queue, offer[2]))
        h.at(t + 1, AgentAnswered(f"c{i}", offer[2]))
        h.at(t + 2, CallEnded(f"c{i}"))
        h.run_until(t + 9)
    # general went a1, a2; status has its own turn and starts at a1
    assert served == [("general", "a1"), ("general", "a2"), ("status", "a1")]
