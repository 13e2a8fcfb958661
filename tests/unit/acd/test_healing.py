"""Stuck-state healing in the core: an agent busy elsewhere, a call adopted after a
restart of the shell (the rules the reconciler in telephony/ applies)."""

from __future__ import annotations

import pytest

from acd import snapshot
from acd.engine import EngineError
from acd.events import (
    AgentDeviceBusy,
    AgentLoggedIn,
    AgentPaused,
    AgentReady,
    CallAdopted,
    CallArrived,
    CallEnded,
)
from acd.types import Outcome
from tests.unit.acd.harness import Harness

ALL = ("offer", "cancel", "exit", "move", "done", "agent")


def test_a_ready_agent_busy_elsewhere_is_not_offered_until_free_again() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.take(ALL)
    h.at(1, AgentDeviceBusy("a3", True))
    h.at(2, CallArrived("c1", "general"))
    assert h.take(ALL) == []  # no state change: the agent's state is its own
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and view.state == "ready" and view.busy_elsewhere
    h.at(30, AgentDeviceBusy("a3", False))
    assert h.take(ALL) == [(30, ("agent", "a3", "offered", None)), (30, ("offer", "c1", "a3"))]


def test_a_pause_taken_while_busy_elsewhere_outlives_the_private_call() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.take(ALL)
    h.at(1, AgentDeviceBusy("a3", True))
    h.at(2, AgentPaused("a3", "lunch"))
    h.at(3, CallArrived("c1", "general"))
    h.at(9, AgentDeviceBusy("a3", False))
    assert h.take(ALL) == [(2, ("agent", "a3", "paused", "lunch"))]
    h.at(20, AgentReady("a3"))
    assert h.take() == [(20, ("offer", "c1", "a3"))]


def test_busy_elsewhere_twice_changes_nothing_and_an_unknown_agent_is_refused() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, AgentDeviceBusy("a3", True))
    assert h.at(2, AgentDeviceBusy("a3", True)) == []
    with pytest.raises(EngineError, match="unknown agent"):
        h.engine.handle(AgentDeviceBusy("zz", True))


def test_an_adopted_call_puts_the_agent_on_call_and_ends_with_one_answered_record() -> None:
    h = Harness(start=1000)
    h.at(1000, AgentLoggedIn("a3"))
    h.take(ALL)
    h.at(1001, CallAdopted("c1", "a3", "general", answered_at=990, arrived_at=970, caller="138"))
    h.at(1002, CallArrived("c2", "general"))
    assert h.take(ALL) == [(1001, ("agent", "a3", "on-call", None))]  # c2 is not offered
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and view.state == "on-call" and view.call == "c1"
    h.at(1030, CallEnded("c1", by="caller"))
    h.run_until(1040)
    r = h.records["c1"]
    assert r.outcome is Outcome.ANSWERED and r.agent == "a3" and r.caller == "138"
    assert (r.arrived_at, r.answered_at, r.ended_at, r.wrapup_ended_at) == (970, 990, 1030, 1035)
    assert [e for _, e in h.take(ALL) if e[0] == "done"] == [("done", "c1", "answered", "a3")]


def test_an_agent_adopted_from_a_pause_goes_back_to_its_pause_after_the_call() -> None:
    h = Harness(start=100)
    h.at(100, AgentLoggedIn("a3", paused_reason="lunch"))
    h.at(101, CallAdopted("c1", "a3", "general", answered_at=95, arrived_at=90))
    h.at(110, CallEnded("c1"))
    h.run_until(120)
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and (view.state, view.reason) == ("paused", "lunch")


def test_adoption_is_refused_for_a_busy_agent_or_a_known_call() -> None:
    h = Harness(start=100)
    h.at(100, AgentLoggedIn("a3"))
    h.at(101, CallAdopted("c1", "a3", "general", answered_at=95, arrived_at=90))
    with pytest.raises(EngineError, match="cannot 'adopt' in state 'on-call'"):
        h.engine.handle(CallAdopted("c2", "a3", "general", answered_at=95, arrived_at=90))
    with pytest.raises(EngineError, match="holds it already"):
        h.engine.handle(CallAdopted("c1", "a2", "general", answered_at=95, arrived_at=90))


def test_the_wish_after_this_call_is_in_the_agent_view() -> None:
    h = Harness(start=100)
    h.at(100, AgentLoggedIn("a3"))
    h.at(101, CallAdopted("c1", "a3", "general", answered_at=95, arrived_at=90))
    h.at(102, AgentPaused("a3", "lunch"))
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and (view.after_call, view.after_call_reason) == ("pause", "lunch")


def test_a_call_adopted_in_wrap_up_keeps_its_times_and_the_remaining_wrap_up() -> None:
    h = Harness(start=1000)
    h.at(1000, AgentLoggedIn("a3"))
    h.take(ALL)
    event = CallAdopted(
        "c1", "a3", "general", answered_at=980, arrived_at=970, ended_at=998, ended_by="agent"
    )
    h.at(1000, event)
    h.at(1001, CallArrived("c2", "general"))
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and view.state == "wrap-up"  # c2 is not offered
    h.run_until(1010)
    r = h.records["c1"]
    assert (r.arrived_at, r.answered_at, r.ended_at, r.ended_by) == (970, 980, 998, "agent")
    assert r.wrapup_ended_at == 1003  # 5 s of wrap-up from the end of talk, not the restart
    assert "c2" not in h.records and h.engine.calls["c2"].agent == "a3"


def test_a_call_adopted_after_its_wrap_up_ended_is_recorded_at_once_and_keeps_the_wish() -> None:
    h = Harness(start=1000)
    h.at(1000, AgentLoggedIn("a3"))
    event = CallAdopted(
        "c1", "a3", "general", answered_at=900, arrived_at=890, ended_at=950,
        after_call="pause", after_call_reason="lunch",
    )  # fmt: skip
    h.at(1000, event)
    assert h.records["c1"].wrapup_ended_at == 1000
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and (view.state, view.reason) == ("paused", "lunch")
