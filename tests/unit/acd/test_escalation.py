"""Escalation steps: relax the level, widen to a skill group, overflow to another queue."""

from __future__ import annotations

from acd.config import AcdConfig
from acd.events import AgentLoggedIn, CallArrived
from tests.unit.acd.harness import Harness, config

RULES = {
    "standard": {
        "steps": [
            {"after_s": 30, "min_level": 3},
            {"after_s": 90, "skills": {"care_group": 1}},
            {"after_s": 180, "overflow_queue": "general"},
        ]
    }
}
AGENTS = [
    {"id": "lvl3", "skills": {"elderly": 3}},
    {"id": "group", "skills": {"care_group": 1}},
    {"id": "gen", "skills": {"general": 1}},
]


def _config() -> AcdConfig:
    return config(
        rules=RULES,
        queues={
            "elderly": {"skills": {"elderly": 5}, "escalation": "standard"},
            "general": {"skills": {"general": 1}},
        },
        agents=AGENTS,
    )


def _h(logged_in: str) -> Harness:
    cfg = _config()
    h = Harness(cfg)
    h.at(0, AgentLoggedIn(logged_in))
    h.at(0, CallArrived("c1", "elderly"))
    return h


def test_after_30_s_a_level_3_agent_is_accepted() -> None:
    h = _h("lvl3")
    h.run_until(29.9)
    assert h.take() == []
    h.run_until(30)
    assert h.take() == [(30, ("offer", "c1", "lvl3"))]


def test_after_90_s_any_agent_of_the_service_group() -> None:
    h = _h("group")
    h.run_until(89)
    assert h.take() == []
    h.run_until(90)
    assert h.take() == [(90, ("offer", "c1", "group"))]


def test_overflowed_call_is_ahead_of_later_general_calls() -> None:
    cfg = _config()
    h = Harness(cfg)
    h.at(0, CallArrived("c1", "elderly"))
    h.at(100, CallArrived("g1", "general"))
    h.run_until(200)
    h.at(200, AgentLoggedIn("gen"))
    assert h.take() == [
        (180, ("move", "c1", "elderly", "general")),
        (200, ("offer", "c1", "gen")),
    ]


def test_an_adopted_call_starts_at_the_step_its_wait_has_reached() -> None:
    cfg = _config()
    h = Harness(cfg, start=1000)
    h.at(1000, AgentLoggedIn("group"))
    h.at(1000, CallArrived("c1", "elderly", arrived_at=1000 - 95))
    assert h.take() == [(1000, ("offer", "c1", "group"))]


def test_calls_escalating_at_the_same_instant_are_served_in_priority_order() -> None:
    # Found by the property test: the call whose timer fired first used to win.
    cfg = _config()
    h = Harness(cfg)
    h.at(0, CallArrived("normal", "elderly"))
    h.at(0, CallArrived("urgent", "elderly", priority="emergency"))
    h.at(1, AgentLoggedIn("lvl3"))
    h.run_until(30)
    assert h.take() == [(30, ("offer", "urgent", "lvl3"))]


def test_a_deadline_that_float_rounding_puts_a_hair_early_still_fires_once() -> None:
    # Found by the simulator: 250.25536271105037 + 30 - 250.25536271105037 < 30, so
    # comparing the wait with the step's after_s re-armed the same timer forever.
    h = Harness(_config(), start=250.25536271105037)
    h.at(250.25536271105037, AgentLoggedIn("lvl3"))
    h.at(250.25536271105037, CallArrived("c1", "elderly"))
    deadline = h.engine.next_deadline()
    assert deadline is not None and deadline - 250.25536271105037 < 30
    h.clock.set(deadline)
    effects = h.engine.expire()
    assert [type(e).__name__ for e in effects] == ["AgentStateChanged", "OfferCall"]
