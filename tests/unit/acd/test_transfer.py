"""Transfers in the pure core: who has the call, and how its talk time is split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.engine import EngineError
from acd.events import (
    AgentAnswered,
    AgentDeviceBusy,
    AgentLoggedIn,
    AgentPaused,
    CallArrived,
    CallEnded,
    CallerAbandoned,
    CallTransferred,
)
from acd.metrics import kpis
from acd.records import AgentLeg
from acd.types import Outcome, TransferKind, TransferMode
from tests.unit.acd.harness import Harness, config

Q, A, X = TransferKind.QUEUE, TransferKind.AGENT, TransferKind.EXTERNAL


def _talking(agent: str = "a1", queue: str = "elderly") -> Harness:
    """c0 arrives at 0 in ``queue``, ``agent`` answers at 2 (the only one logged in)."""
    h = Harness()
    h.at(0, AgentLoggedIn(agent))
    h.at(0, CallArrived("c0", queue, priority="elderly_alone"))
    h.at(2, AgentAnswered("c0", agent))
    h.take()
    return h


def test_blind_to_a_queue_waits_there_with_its_class_and_the_agent_wraps_up() -> None:
    h = _talking()
    h.at(10, CallArrived("c1", "general"))  # a normal call waiting in general
    h.at(12, CallTransferred("c0", "a1", Q, "general"))
    assert h.engine.agents["a1"].state.value == "wrap-up"
    assert h.take() == [(12, ("move", "c0", "elderly", "general"))]
    h.at(13, AgentLoggedIn("a3"))  # elderly_alone goes first, before c1
    assert h.take() == [(13, ("offer", "c0", "a3"))]
    h.at(15, AgentAnswered("c0", "a3"))
    h.at(30, CallEnded("c0"))
    h.run_until(40)
    r = h.records["c0"]
    assert r.outcome is Outcome.ANSWERED
    assert (r.queue, r.final_queue, r.priority, r.agent) == (
        "elderly",
        "general",
        "elderly_alone",
        "a3",
    )
    assert r.transfers == 1
    assert r.answered_at == 2  # the first answer: the caller's wait was 2 s
    assert r.legs == (
        AgentLeg("a1", 2, 12, 17, "transfer", "queue:general"),
        AgentLeg("a3", 15, 30, 35, "caller"),
    )
    assert r.talk_s == 10 + 15  # 12-2 for a2, then 30-15 for a3: nothing twice
    assert r.wrapup_s == 5 + 5
    assert r.wait_s == 2


def test_blind_to_a_paused_named_agent_goes_to_the_queue() -> None:
    h = _talking("a1", "general")
    h.at(3, AgentLoggedIn("a3"))
    h.at(3, AgentPaused("a3", "break"))
    h.at(6, CallTransferred("c0", "a1", A, "a3"))
    assert h.engine.position("c0") == 1  # a paused agent is not worth waiting for
    h.at(7, AgentLoggedIn("a2"))
    assert h.take() == [(7, ("offer", "c0", "a2"))]


def test_blind_to_a_ready_named_agent_offers_it_at_once() -> None:
    h = _talking("a1", "general")
    h.at(3, AgentLoggedIn("a3"))
    h.at(3, AgentLoggedIn("a2"))
    h.at(6, CallTransferred("c0", "a1", A, "a3"))
    assert h.take() == [(6, ("offer", "c0", "a3"))]


def test_blind_to_a_busy_named_agent_waits_its_bounded_time_then_anyone() -> None:
    h = _talking("a1", "general")
    h.at(3, AgentLoggedIn("a3"))
    h.at(3, AgentDeviceBusy("a3", True))  # on a private call, not worth waiting for
    h.at(6, CallTransferred("c0", "a1", A, "a3", agent_wait_s=30))
    h.at(7, AgentDeviceBusy("a3", False))
    assert h.take() == [(7, ("offer", "c0", "a3"))]


def test_attended_to_an_agent_connects_it_at_once() -> None:
    h = _talking("a1", "general")
    h.at(3, AgentLoggedIn("a3"))
    h.at(4, AgentDeviceBusy("a3", True))  # the shell: a3's phone is on the consultation
    h.at(9, CallTransferred("c0", "a1", A, "a3", TransferMode.ATTENDED))
    states = {a: h.engine.agents[a].state.value for a in ("a1", "a3")}
    assert states == {"a1": "wrap-up", "a3": "on-call"}
    assert not h.engine.agents["a3"].busy_elsewhere
    assert h.take() == []  # nothing to ring: a3 is already on the line
    h.at(20, CallEnded("c0", by="agent"))
    h.run_until(30)
    r = h.records["c0"]
    assert [(leg.agent, leg.talk_s) for leg in r.legs] == [("a1", 7), ("a3", 11)]
    assert r.offers == 2 and r.transfers == 1
    assert h.engine.agents["a3"].state.value == "ready"


def test_attended_to_an_agent_who_is_not_ready_is_refused_and_nothing_changes() -> None:
    h = _talking("a1", "general")
    h.at(3, AgentLoggedIn("a3"))
    h.at(3, AgentPaused("a3", "break"))
    with pytest.raises(EngineError, match="a3, who is paused"):
        h.at(9, CallTransferred("c0", "a1", A, "a3", TransferMode.ATTENDED))
    assert h.engine.agents["a1"].state.value == "on-call"


def test_external_ends_the_call_for_hotline() -> None:
    h = _talking("a1", "general")
    h.at(9, CallTransferred("c0", "a1", X, "housing"))
    h.run_until(20)
    r = h.records["c0"]
    assert (r.outcome, r.ended_by, r.transfers, r.legs) == (
        Outcome.ANSWERED,
        "transfer:housing",
        1,
        (),
    )
    assert r.talk_s == 7 and r.wrapup_s == 5


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (CallTransferred("c0", "a2", Q, "general"), "by agent a2, but the call is connected"),
        (CallTransferred("c0", "a1", Q, "nowhere"), "unknown queue 'nowhere'"),
        (CallTransferred("c0", "a1", A, "zz"), "unknown agent 'zz'"),
        (CallTransferred("c0", "a1", A, "a1"), "its own"),
        (CallTransferred("c0", "a1", A, "a3"), "who is logged out"),
        (CallTransferred("c0", "a1", Q, "general", TransferMode.ATTENDED), "not to a queue"),
        (CallTransferred("c0", "a1", X, ""), "target is empty"),
        (CallTransferred("zz", "a1", Q, "general"), "does not hold"),
    ],
)
def test_bad_transfers_are_refused_naming_why(event: CallTransferred, why: str) -> None:
    h = _talking()
    with pytest.raises(EngineError, match=why):
        h.at(5, event)
    assert h.engine.agents["a1"].state.value == "on-call"


def test_a_full_target_queue_refuses_and_the_agent_keeps_the_caller() -> None:
    queues = {
        "elderly": {"skills": {"elderly": 5}},
        "general": {"skills": {"general": 1}, "max_len": 1},
    }
    h = Harness(config(queues=queues))
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, CallArrived("c0", "elderly"))
    h.at(1, AgentAnswered("c0", "a1"))
    h.at(1, AgentLoggedIn("a3"))
    h.at(1, AgentPaused("a3", "break"))
    h.at(2, CallArrived("c1", "general"))
    with pytest.raises(EngineError, match="full"):
        h.at(3, CallTransferred("c0", "a1", Q, "general"))
    assert h.engine.agents["a1"].state.value == "on-call"


def test_a_caller_who_hangs_up_waiting_after_a_transfer_was_answered() -> None:
    h = _talking()
    h.at(10, CallTransferred("c0", "a1", Q, "general"))
    h.at(20, CallerAbandoned("c0"))
    r = h.records["c0"]
    assert r.outcome is Outcome.ANSWERED and r.ended_by == "caller-after-transfer"
    assert r.talk_s == 8 and r.transfers == 1
    k = kpis([r])
    assert (k.answered, k.abandoned) == (1, 0)


@given(
    talk=st.lists(st.integers(min_value=6, max_value=300), min_size=1, max_size=5),
    wait=st.integers(min_value=0, max_value=60),
)
def test_the_legs_add_up_to_the_time_agents_talked(talk: list[int], wait: int) -> None:
    """The call waits ``wait`` s, then goes from agent to agent (attended), each
    talking ``talk[i]`` s (longer than the 5 s wrap-up, so someone is always ready):
    the record's talk is the sum of the agents' talks, no second twice, none lost,
    and the wait is only the first one."""
    h = Harness()
    h.at(0, CallArrived("c0", "general"))
    h.at(wait, AgentLoggedIn("a3"))
    for a in ("a1", "a2"):
        h.at(wait, AgentLoggedIn(a))
    h.at(wait, AgentAnswered("c0", "a3"))
    t, current = wait, "a3"
    for seconds in talk[1:]:
        t += talk[0] if t == wait else 0
        nxt = next(a for a in ("a1", "a2", "a3") if h.engine.agents[a].available)
        h.at(t, CallTransferred("c0", current, A, nxt, TransferMode.ATTENDED))
        current = nxt
        t += seconds
    if len(talk) == 1:
        t += talk[0]
    h.at(t, CallEnded("c0"))
    h.run_until(t + 100)
    r = h.records["c0"]
    assert r.talk_s == sum(talk)
    assert r.wait_s == wait
    assert r.transfers == len(talk) - 1
    assert kpis([r]).aht_s == sum(talk) + 5 * len(talk)
