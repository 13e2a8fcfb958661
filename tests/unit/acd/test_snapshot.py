"""Wallboard snapshot, queue position and expected wait."""

from __future__ import annotations

from acd.events import AgentLoggedIn, AgentPaused, CallArrived, CallbackRequested
from acd.snapshot import expected_wait_s, snapshot
from tests.unit.acd.harness import Harness


def test_snapshot_counts_waiting_callbacks_and_agents() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, AgentPaused("a1", "lunch"))
    h.at(0, AgentLoggedIn("a2"))
    h.at(0, AgentPaused("a2", "lunch"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, CallArrived("c2", "general"))
    h.at(3, CallArrived("c3", "elderly"))
    h.at(4, CallbackRequested("c2", "13800138000"))
    view = snapshot(h.engine)
    general = next(q for q in view.queues if q.name == "general")
    assert (general.waiting, general.callbacks, general.longest_wait_s) == (1, 1, 3)
    assert (general.agents_logged_in, general.agents_serving) == (2, 0)
    assert view.agents_by_state["paused"] == 2
    assert view.paused_by_reason == {"lunch": 2}


def test_position_and_expected_wait() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    for i in range(4):
        h.at(1 + i, CallArrived(f"c{i}", "general"))  # c0 goes to a3
    assert [h.engine.position(f"c{i}") for i in range(4)] == [None, 1, 2, 3]
    assert expected_wait_s(h.engine, "c3", aht_s=120) == 3 * 120 / 1
    assert expected_wait_s(h.engine, "c0", aht_s=120) is None
