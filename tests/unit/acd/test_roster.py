"""The roster alone, with no engine: it changes agents only and returns the call-side
work (a call to offer, queues to empty) for the engine to do."""

from __future__ import annotations

import pytest

from acd import effects as fx
from acd.agent_state import Action
from acd.calls import Call
from acd.errors import EngineError
from acd.roster import Roster
from acd.types import AgentId, CallId, FakeClock, QueueName
from tests.unit.acd.harness import config

GENERAL = QueueName("general")


def _roster(**queues: dict[str, object]) -> tuple[Roster, FakeClock]:
    clock = FakeClock(100.0)
    cfg = config(queues=queues) if queues else config()
    return Roster(cfg, clock), clock


def _call(n: int, queue: QueueName = GENERAL) -> Call:
    return Call(CallId(f"c{n}"), queue, queue, "normal", 0, "", None, float(n), n, float(n))


def test_an_agent_who_becomes_available_joins_its_ready_sets_when_no_call_waits() -> None:
    roster, _ = _roster()
    out: list[fx.Effect] = []
    a3 = roster.agent(AgentId("a3"), "test")
    assert roster.transition(a3, Action.LOGIN, out) == ()
    assert [(e.old, e.new) for e in out if isinstance(e, fx.AgentStateChanged)] == [
        ("logged-out", "ready")
    ]
    pool = roster.pool_for(roster.config.queues[GENERAL], 0, None)
    assert roster.became_available(a3) is None
    assert pool.best_agent() is a3
    roster.unavailable(a3)
    assert pool.best_agent() is None


def test_an_agent_who_becomes_available_is_handed_the_first_call_in_line() -> None:
    roster, _ = _roster()
    pool = roster.pool_for(roster.config.queues[GENERAL], 0, None)
    first, second = _call(1), _call(2)
    for call in (second, first):
        call.in_pool = True
        pool.push_call(call)
    a3 = roster.agent(AgentId("a3"), "test")
    roster.transition(a3, Action.LOGIN, [])
    assert roster.became_available(a3) is first
    assert pool.best_agent() is None  # handed a call: not pooled


def test_the_last_capable_agent_leaving_returns_the_queue_to_empty() -> None:
    roster, _ = _roster(general={"skills": {"general": 1}, "leave_empty": "no-available"})
    a1 = roster.agent(AgentId("a1"), "test")
    roster.transition(a1, Action.LOGIN, [])
    assert roster.serving_count[GENERAL] == 1
    assert list(roster.transition(a1, Action.PAUSE, [], "break")) == [GENERAL]
    assert (roster.logged_in_count[GENERAL], roster.serving_count[GENERAL]) == (1, 0)


def test_checks_raise_and_change_nothing() -> None:
    roster, _ = _roster()
    a1 = roster.agent(AgentId("a1"), "test")
    with pytest.raises(EngineError, match="unknown agent 'zz'"):
        roster.agent(AgentId("zz"), "AgentReady")
    with pytest.raises(EngineError, match="cannot 'logout' in state 'logged-out'"):
        roster.check(a1, Action.LOGOUT)
    with pytest.raises(EngineError, match=r"level 11 not in 1\.\.10"):
        roster.check_skills(a1, {"general": 11})
    assert a1.skills == {"elderly": 8, "general": 5}
