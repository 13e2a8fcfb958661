"""Runtime administration in the core: agents added and removed, skills changed, by
events; calls and the other agents keep their state; a refusal changes nothing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.engine import EngineError
from acd.events import (
    AgentAdded,
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentRemoved,
    AgentSkillsChanged,
    CallArrived,
)
from tests.unit.acd.harness import Harness


def test_an_added_agent_logs_in_and_takes_the_call_that_waited_for_its_skills() -> None:
    h = Harness()
    h.at(1, CallArrived("c1", "elderly"))  # nobody logged in with elderly >= 5
    h.at(2, AgentAdded("a9", "新坐席", {"elderly": 9}, wrapup_s=3))
    assert h.take(("offer",)) == []  # added logged out
    assert h.engine.agents["a9"].name == "新坐席"
    h.at(3, AgentLoggedIn("a9"))
    assert h.take(("offer",)) == [(3, ("offer", "c1", "a9"))]
    assert h.engine.agents["a9"].position == 3  # last in round-robin order


def test_adding_an_agent_twice_or_with_bad_skills_is_refused_naming_it() -> None:
    h = Harness()
    with pytest.raises(EngineError, match="'a1' is already in the roster"):
        h.engine.handle(AgentAdded("a1", "x", {"general": 1}))
    with pytest.raises(EngineError, match=r"level 11 not in 1\.\.10"):
        h.engine.handle(AgentAdded("a9", "x", {"general": 11}))
    assert "a9" not in h.engine.agents


def test_a_logged_in_agent_is_not_removed_a_logged_out_one_is() -> None:
    h = Harness()
    h.at(1, AgentLoggedIn("a1"))
    h.at(2, CallArrived("c1", "general"))
    h.at(3, AgentAnswered("c1", "a1"))
    with pytest.raises(EngineError, match="agent a1 is on-call: log it out first"):
        h.engine.handle(AgentRemoved("a1"))
    assert h.engine.agents["a1"].call == "c1"  # untouched
    h.at(4, AgentRemoved("a3"))
    assert "a3" not in h.engine.agents
    assert all("a3" not in p.members for p in h.engine.roster.pools.values())
    with pytest.raises(EngineError, match="unknown agent 'a3'"):
        h.engine.handle(AgentLoggedIn("a3"))
    h.at(5, CallArrived("c2", "general"))
    h.at(6, AgentLoggedIn("a2"))
    assert h.take(("offer",))[-1] == (6, ("offer", "c2", "a2"))


def test_a_skill_change_serves_a_waiting_call_at_once() -> None:
    h = Harness()
    h.at(1, AgentLoggedIn("a3"))
    h.at(2, CallArrived("c1", "elderly"))  # a3 has no elderly: c1 waits
    assert h.take(("offer",)) == []
    h.at(3, AgentSkillsChanged("a3", {"elderly": 6, "general": 5}))
    assert h.take(("offer",)) == [(3, ("offer", "c1", "a3"))]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_administration_keeps_the_invariants(seed: int) -> None:
    """Adds, removals, skill changes, log-ins and calls in any order: no call is
    offered to two agents, no agent holds two, and a refused event changes nothing."""
    rnd = random.Random(seed)
    h = Harness()
    t = 0.0
    for i in range(40):
        t += rnd.random()
        agent = rnd.choice(["a1", "a2", "a3", "a8", "a9"])
        event = rnd.choice(
            [
                AgentAdded(
                    agent, agent, {"general": rnd.randint(1, 10), "elderly": rnd.randint(1, 10)}
                ),
                AgentRemoved(agent),
                AgentSkillsChanged(agent, {"elderly": rnd.randint(1, 10)}),
                AgentLoggedIn(agent),
                AgentLoggedOut(agent),
                CallArrived(f"c{i}", rnd.choice(["general", "elderly"])),
            ]
        )
        h.clock.t = t
        before = sorted(h.engine.agents)
        try:
            h.engine.handle(event)
        except EngineError:
            assert sorted(h.engine.agents) == before
        holders = [a.call for a in h.engine.agents.values() if a.call is not None]
        assert len(holders) == len(set(holders))
        roster = h.engine.roster
        assert set(roster.agent_pools) == set(h.engine.agents) == set(roster.capable)
        for pool in roster.pools.values():
            assert pool.members <= set(h.engine.agents)
