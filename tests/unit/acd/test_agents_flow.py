"""Offers that fail, autopause, wrap-up, pause reasons, and the after-call wishes."""

from __future__ import annotations

import pytest

from acd.engine import EngineError
from acd.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReachable,
    AgentReady,
    CallArrived,
    CallEnded,
    OfferFailed,
)
from acd.types import OfferFailure
from tests.unit.acd.harness import Harness, config

ALL = ("offer", "cancel", "exit", "move", "done", "agent")


def test_ring_no_answer_reoffers_to_another_agent_and_autopauses_the_first() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, AgentLoggedIn("a2"))
    h.take()
    h.at(5, CallArrived("c1", "general"))
    h.run_until(30)
    assert h.take(ALL) == [
        (5, ("agent", "a3", "offered", None)),
        (5, ("offer", "c1", "a3")),
        (15, ("cancel", "c1", "a3", "ring-timeout")),
        (15, ("agent", "a3", "paused", "no-answer")),
        (15, ("agent", "a2", "offered", None)),
        (15, ("offer", "c1", "a2")),
        (25, ("cancel", "c1", "a2", "ring-timeout")),
        (25, ("agent", "a2", "paused", "no-answer")),
    ]
    assert h.engine.calls["c1"].offers == 2


def test_without_autopause_the_agent_stays_ready_and_the_call_returns_to_its_place() -> None:
    h = Harness(config(centre={"autopause": False, "ring_timeout_s": 10}))
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, CallArrived("c2", "general"))
    h.at(3, OfferFailed("c1", "a3", OfferFailure.BUSY))
    assert h.take() == [(1, ("offer", "c1", "a3")), (3, ("offer", "c1", "a3"))]


def test_unreachable_agent_is_marked_and_not_offered_again_until_it_registers() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, OfferFailed("c1", "a3", OfferFailure.UNREACHABLE))
    h.at(3, CallArrived("c2", "general"))
    assert h.take() == [(1, ("offer", "c1", "a3"))]
    h.at(4, AgentReachable("a3", True))
    assert h.take() == [(4, ("offer", "c1", "a3"))]


def test_wrap_up_is_timed_per_queue_and_overridable_per_agent() -> None:
    cfg = config(
        queues={"general": {"skills": {"general": 1}, "wrapup_s": 20}},
        agents=[
            {"id": "a1", "skills": {"general": 1}},
            {"id": "a2", "skills": {"general": 1}, "wrapup_s": 3},
        ],
    )
    h = Harness(cfg)
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, AgentLoggedIn("a2"))
    h.at(1, CallArrived("c1", "general"))
    h.at(1, CallArrived("c2", "general"))
    h.at(2, AgentAnswered("c1", "a1"))
    h.at(2, AgentAnswered("c2", "a2"))
    h.at(10, CallEnded("c1", by="agent"))
    h.at(10, CallEnded("c2"))
    h.take()
    h.run_until(60)
    assert h.take(("done", "agent")) == [
        (13, ("done", "c2", "answered", "a2")),
        (13, ("agent", "a2", "ready", None)),
        (30, ("done", "c1", "answered", "a1")),
        (30, ("agent", "a1", "ready", None)),
    ]
    rec = h.records["c1"]
    assert (rec.talk_s, rec.wrapup_s, rec.ended_by, rec.wait_s) == (8, 20, "agent", 1)


def test_pause_with_a_reason_and_an_unknown_reason_is_refused() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(1, AgentPaused("a1", "lunch"))
    assert h.engine.agents["a1"].pause_reason == "lunch"
    with pytest.raises(EngineError, match="unknown pause reason 'nap'"):
        h.at(2, AgentPaused("a1", "nap"))
    assert h.engine.agents["a1"].pause_reason == "lunch"


def test_pause_after_this_call_applies_after_wrap_up() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.take(ALL)
    h.at(1, CallArrived("c1", "general"))
    h.at(2, AgentAnswered("c1", "a3"))
    h.at(3, AgentPaused("a3", "break"))  # during the call: after this call
    h.at(4, CallArrived("c2", "general"))
    h.at(10, CallEnded("c1"))
    h.run_until(100)
    assert h.take(("agent",)) == [
        (1, ("agent", "a3", "offered", None)),
        (2, ("agent", "a3", "on-call", None)),
        (10, ("agent", "a3", "wrap-up", None)),
        (15, ("agent", "a3", "paused", "break")),
    ]


def test_ready_after_this_call_skips_wrap_up() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, AgentAnswered("c1", "a3"))
    h.at(3, AgentReady("a3"))
    h.at(4, CallArrived("c2", "general"))
    h.at(10, CallEnded("c1"))
    assert h.take() == [
        (1, ("offer", "c1", "a3")),
        (10, ("done", "c1", "answered", "a3")),
        (10, ("offer", "c2", "a3")),
    ]


def test_logout_during_a_call_happens_after_wrap_up() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, AgentAnswered("c1", "a3"))
    h.at(3, AgentLoggedOut("a3"))
    h.at(10, CallEnded("c1"))
    h.run_until(20)
    assert h.engine.agents["a3"].state.value == "logged-out"


def test_ready_during_wrap_up_ends_it_early() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, AgentAnswered("c1", "a3"))
    h.at(10, CallEnded("c1"))
    h.at(11, AgentReady("a3"))
    assert h.records["c1"].wrapup_s == 1
    assert h.engine.agents["a3"].state.value == "ready"


def test_illegal_agent_events_name_the_state_and_change_nothing() -> None:
    h = Harness()
    with pytest.raises(EngineError, match="cannot 'logout' in state 'logged-out'"):
        h.at(0, AgentLoggedOut("a1"))
    h.at(0, AgentLoggedIn("a1"))
    with pytest.raises(EngineError, match="cannot 'login' in state 'ready'"):
        h.at(1, AgentLoggedIn("a1"))
    with pytest.raises(EngineError, match="unknown agent 'zz'"):
        h.at(1, AgentReady("zz"))
    h.at(2, CallArrived("c1", "general"))
    with pytest.raises(
        EngineError, match="call c1: AgentAnswered for agent a2, but the call is offered"
    ):
        h.at(3, AgentAnswered("c1", "a2"))
    with pytest.raises(EngineError, match="CallEnded, but the call is offered"):
        h.at(3, CallEnded("c1"))
    h.at(4, AgentAnswered("c1", "a1"))
    assert h.engine.agents["a1"].state.value == "on-call"
