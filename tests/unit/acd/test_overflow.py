"""Max wait, max queue length, join- and leave-when-empty, abandons, lost calls."""

from __future__ import annotations

from acd.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    CallArrived,
    CallEnded,
    CallerAbandoned,
    CallLost,
)
from acd.types import ExitReason, Outcome
from tests.unit.acd.harness import Harness, config


def test_max_wait_sends_the_caller_to_the_overflow_exit() -> None:
    h = Harness(config(queues={"general": {"skills": {"general": 1}, "max_wait_s": 60}}))
    h.at(0, CallArrived("c1", "general"))
    h.run_until(100)
    assert h.take() == [
        (60, ("exit", "c1", "timeout", "voicemail")),
        (60, ("done", "c1", "overflowed", None)),
    ]
    assert h.records["c1"].wait_s == 60


def test_max_wait_overflows_to_another_queue_when_configured() -> None:
    queues = {
        "elderly": {"skills": {"elderly": 5}, "max_wait_s": 60, "overflow": {"queue": "general"}},
        "general": {"skills": {"general": 1}},
    }
    h = Harness(config(queues=queues))
    h.at(0, CallArrived("c1", "elderly"))
    h.run_until(60)
    h.at(61, AgentLoggedIn("a3"))
    assert h.take() == [(60, ("move", "c1", "elderly", "general")), (61, ("offer", "c1", "a3"))]


def test_max_wait_while_ringing_lets_the_offer_finish() -> None:
    h = Harness(config(queues={"general": {"skills": {"general": 1}, "max_wait_s": 12}}))
    h.at(0, AgentLoggedIn("a3"))
    h.at(5, CallArrived("c1", "general"))
    h.run_until(14)
    h.at(14, AgentAnswered("c1", "a3"))
    assert h.take() == [(5, ("offer", "c1", "a3"))]


def test_a_full_queue_refuses_the_next_caller() -> None:
    h = Harness(config(queues={"general": {"skills": {"general": 1}, "max_len": 2}}))
    for i in range(3):
        h.at(i, CallArrived(f"c{i}", "general"))
    assert h.take() == [
        (2, ("exit", "c2", "full", "voicemail")),
        (2, ("done", "c2", "overflowed", None)),
    ]


def test_join_empty_refuses_when_no_capable_agent_is_logged_in() -> None:
    queues = {"general": {"skills": {"general": 1}, "join_empty": "no-agents"}}
    h = Harness(config(queues=queues))
    h.at(0, CallArrived("c1", "general"))
    h.at(1, AgentLoggedIn("a3"))
    h.at(2, AgentPaused("a3", "break"))
    h.at(3, CallArrived("c2", "general"))  # a paused agent is logged in: joins
    assert h.take() == [
        (0, ("exit", "c1", "joinempty", "voicemail")),
        (0, ("done", "c1", "overflowed", None)),
    ]
    assert "c2" in h.engine.calls


def test_join_empty_no_available_counts_paused_agents_as_absent() -> None:
    queues = {"general": {"skills": {"general": 1}, "join_empty": "no-available"}}
    h = Harness(config(queues=queues))
    h.at(1, AgentLoggedIn("a3"))
    h.at(2, AgentPaused("a3", "break"))
    h.at(3, CallArrived("c1", "general"))
    assert h.take()[0] == (3, ("exit", "c1", "joinempty", "voicemail"))


def test_leave_empty_sends_waiting_callers_out_when_the_last_agent_leaves() -> None:
    queues = {
        "elderly": {"skills": {"elderly": 5}, "leave_empty": "no-available"},
        "general": {"skills": {"general": 1}},
    }
    h = Harness(config(queues=queues))
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, CallArrived("busy", "elderly"))
    h.at(1, AgentAnswered("busy", "a1"))
    h.at(2, CallArrived("c1", "elderly"))
    h.at(3, AgentLoggedIn("a3"))  # cannot serve elderly: changes nothing
    h.take()
    h.at(4, AgentLoggedOut("a1"))  # after this call: still counts until then
    h.at(5, AgentPaused("a3", "break"))  # a3 cannot serve elderly: changes nothing
    assert h.take() == []
    assert "c1" in h.engine.calls
    h.at(10, CallEnded("busy"))  # wrap-up 5 s, then a1 logs out: nobody left for elderly
    h.run_until(20)
    assert h.take() == [
        (15, ("done", "busy", "answered", "a1")),
        (15, ("exit", "c1", "leaveempty", "voicemail")),
        (15, ("done", "c1", "overflowed", None)),
    ]


def test_abandon_while_waiting_and_while_ringing() -> None:
    h = Harness()
    h.at(0, CallArrived("c1", "general"))
    h.at(3, CallerAbandoned("c1"))
    h.at(4, AgentLoggedIn("a3"))
    h.at(5, CallArrived("c2", "general"))
    h.at(8, CallerAbandoned("c2"))
    assert h.take(("offer", "cancel", "done")) == [
        (3, ("done", "c1", "abandoned", None)),
        (5, ("offer", "c2", "a3")),
        (8, ("cancel", "c2", "a3", "caller-abandoned")),
        (8, ("done", "c2", "abandoned", "a3")),
    ]
    assert h.records["c1"].wait_s == 3
    assert h.engine.agents["a3"].state.value == "ready"  # no autopause: not its fault


def test_a_lost_call_is_recorded_as_lost_never_silently() -> None:
    h = Harness()
    h.at(0, CallArrived("c1", "general"))
    h.at(2, CallLost("c1", "asterisk restarted"))
    rec = h.records["c1"]
    assert (rec.outcome, rec.exit_reason, rec.ended_by) == (
        Outcome.LOST,
        ExitReason.LOST,
        "asterisk restarted",
    )
