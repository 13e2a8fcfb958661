"""Skill match, priority, first-come-first-served, and each strategy."""

from __future__ import annotations

from acd.effects import OfferCall
from acd.events import AgentAnswered, AgentLoggedIn, AgentPaused, CallArrived, CallEnded
from tests.unit.acd.harness import Harness, config


def test_a_call_goes_only_to_an_agent_with_the_skill_at_the_level() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a2"))  # elderly 3: below the queue's 5
    h.at(1, CallArrived("c1", "elderly"))
    assert h.take() == []
    h.at(2, AgentLoggedIn("a1"))  # elderly 8
    assert h.take() == [(2, ("offer", "c1", "a1"))]


def test_higher_priority_is_served_first_then_arrival_order() -> None:
    h = Harness()
    h.at(0, CallArrived("n1", "general"))
    h.at(1, CallArrived("n2", "general"))
    h.at(2, CallArrived("e1", "general", priority="emergency"))
    h.at(3, CallArrived("o1", "general", priority="elderly_alone"))
    for i, agent in enumerate(["a1", "a2", "a3"]):
        h.at(10 + i, AgentLoggedIn(agent))
    assert h.take() == [
        (10, ("offer", "e1", "a1")),
        (11, ("offer", "o1", "a2")),
        (12, ("offer", "n1", "a3")),
    ]


def test_fcfs_across_queues_for_an_agent_who_serves_both() -> None:
    h = Harness()
    h.at(0, CallArrived("g1", "general"))
    h.at(1, CallArrived("e1", "elderly"))
    h.at(2, AgentLoggedIn("a1"))
    assert h.take() == [(2, ("offer", "g1", "a1"))]


def _three_ready(strategy: str) -> Harness:
    cfg = config(
        queues={"general": {"skills": {"general": 1}, "strategy": strategy}},
        agents=[
            {"id": "a1", "skills": {"general": 4}},
            {"id": "a2", "skills": {"general": 9}},
            {"id": "a3", "skills": {"general": 6}},
        ],
    )
    h = Harness(cfg)
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, AgentLoggedIn("a1"))
    h.at(2, AgentLoggedIn("a2"))
    return h


def _serve(h: Harness, call: str, t: float, talk: float = 60) -> str:
    offers = [e for e in h.at(t, CallArrived(call, "general")) if isinstance(e, OfferCall)]
    agent = offers[0].agent
    h.at(t + 1, AgentAnswered(call, agent))
    h.at(t + 1 + talk, CallEnded(call))
    return agent


def test_longest_idle_offers_the_agent_ready_longest() -> None:
    h = _three_ready("longest-idle")
    h.take()
    h.at(5, CallArrived("c1", "general"))
    h.at(6, CallArrived("c2", "general"))
    assert h.take() == [(5, ("offer", "c1", "a3")), (6, ("offer", "c2", "a1"))]


def test_best_skill_offers_the_highest_level() -> None:
    h = _three_ready("best-skill")
    h.take()
    h.at(5, CallArrived("c1", "general"))
    h.at(6, CallArrived("c2", "general"))
    assert h.take() == [(5, ("offer", "c1", "a2")), (6, ("offer", "c2", "a3"))]


def test_round_robin_goes_around_the_roster() -> None:
    h = _three_ready("round-robin")
    served = [_serve(h, f"c{i}", 10 + 100 * i, talk=1) for i in range(5)]
    assert served == ["a1", "a2", "a3", "a1", "a2"]


def test_least_occupied_prefers_the_agent_with_least_busy_time_today() -> None:
    h = _three_ready("least-occupied")
    # a3 is longest idle, so takes the first (long) call; a1 the second (short) one.
    h.at(10, CallArrived("c1", "general"))
    h.at(11, CallArrived("c2", "general"))
    h.at(12, AgentAnswered("c1", "a3"))
    h.at(12, AgentAnswered("c2", "a1"))
    h.at(22, CallEnded("c2"))
    h.at(512, CallEnded("c1"))
    assert [e for _, e in h.take(("offer",))] == [("offer", "c1", "a3"), ("offer", "c2", "a1")]
    # Busy today: a3 507 s (ring 2 + talk 500 + wrap 5), a1 16 s, a2 none. Each short
    # call adds 7 s to a2 until it passes a1's 16 s.
    served = [_serve(h, f"d{i}", 1000 + 1000 * i, talk=1) for i in range(4)]
    assert served == ["a2", "a2", "a2", "a1"]


def test_a_paused_agent_is_not_offered() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, AgentPaused("a3", "lunch"))
    h.at(2, CallArrived("c1", "general"))
    assert h.take() == []
