"""The read model's building blocks: per-agent and per-call views, today's figures."""

from __future__ import annotations

from acd.events import AgentAnswered, AgentLoggedIn, AgentPaused, CallArrived
from acd.metrics import DailyKpis
from acd.records import CallRecord
from acd.snapshot import (
    agent_view,
    agent_views,
    call_ids,
    call_view,
    has_call,
    longest_waiting_s,
    queue_lengths,
)
from acd.types import CallId, Outcome, QueueName
from tests.unit.acd.harness import Harness


def test_agent_and_call_views_follow_the_engine() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(1, AgentLoggedIn("a2"))
    h.at(2, AgentPaused("a2", "lunch"))
    h.at(5, CallArrived("c1", "general", caller="138"))  # offered to a1 at once
    h.at(7, CallArrived("c2", "general"))
    assert agent_view(h.engine, "nobody") is None and call_view(h.engine, "nope") is None
    a1 = agent_view(h.engine, "a1")
    assert a1 is not None and (a1.state, a1.call, a1.since, a1.reason) == ("offered", "c1", 5, None)
    a2 = agent_view(h.engine, "a2")
    assert a2 is not None and (a2.state, a2.reason, a2.since) == ("paused", "lunch", 2)
    assert [v.id for v in agent_views(h.engine, logged_in=True)] == ["a1", "a2"]
    assert len(agent_views(h.engine)) == 3
    h.run_until(9)
    h.at(9, AgentAnswered("c1", "a1"))
    h.run_until(20)
    c1 = call_view(h.engine, "c1")
    assert c1 is not None and (c1.state, c1.caller, c1.waited_s) == ("connected", "138", 4)
    c2 = call_view(h.engine, "c2")
    assert c2 is not None and (c2.state, c2.answered_at, c2.waited_s) == ("waiting", None, 13)
    assert call_ids(h.engine) == ["c1", "c2"] and has_call(h.engine, "c2")
    assert queue_lengths(h.engine) == {"general": 1}
    assert longest_waiting_s(h.engine) == 13


def test_views_carry_the_priority_the_sticky_offer_and_the_after_call_wish() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c1", "general", priority="elderly_alone", case_owner="a3"))
    c1 = call_view(h.engine, "c1")
    assert c1 is not None and (c1.priority, c1.sticky) == ("elderly_alone", True)
    a3 = agent_view(h.engine, "a3")
    assert a3 is not None and (a3.after_call, a3.after_call_reason) == (None, None)
    h.at(2, AgentPaused("a3", "lunch"))  # while ringing: pause after this call
    a3 = agent_view(h.engine, "a3")
    assert a3 is not None and (a3.state, a3.after_call, a3.after_call_reason) == (
        "offered",
        "pause",
        "lunch",
    )


def _record(call: str, outcome: Outcome, wait_s: float = 10.0) -> CallRecord:
    answered = 100.0 + wait_s if outcome is Outcome.ANSWERED else None
    left = None if answered else 100.0 + wait_s
    q = QueueName("general")
    return CallRecord(
        CallId(call), q, q, "normal", "", 100.0, outcome, answered_at=answered, left_at=left
    )


def test_daily_kpis_count_today_and_start_over_at_local_midnight() -> None:
    day = 86400.0
    tz = 8 * 3600.0  # Beijing: local midnight is 16:00 UTC
    midnight = 20_000 * day - tz
    today = DailyKpis(timezone_offset_s=tz)
    assert today.outcome_counts(midnight - 10) == {} and today.finished(midnight - 10) == 0
    today.add(_record("a", Outcome.ANSWERED), midnight - 5)
    today.add(_record("b", Outcome.ABANDONED), midnight - 1)
    assert today.outcome_counts(midnight - 1) == {"answered": 1, "abandoned": 1}
    assert today.kpis(midnight - 1).answered == 1
    assert today.finished(midnight) == 0 and today.outcome_counts(midnight) == {}
    today.add(_record("c", Outcome.LOST), midnight + 3600)
    assert today.outcome_counts(midnight + 7200) == {"lost": 1}
    assert today.finished(midnight + 7200) == 1
