"""A supervisor's actions on a waiting call: change its priority, move it to another queue."""

from __future__ import annotations

import pytest

from acd.engine import EngineError
from acd.events import (
    AgentAnswered,
    AgentLoggedIn,
    CallArrived,
    CallbackFailed,
    CallbackRequested,
    CallEnded,
    CallPriorityChanged,
    CallRequeued,
    OfferFailed,
)
from tests.unit.acd.harness import Harness, config


def _three_waiting() -> Harness:
    h = Harness()
    for i, t in enumerate((0, 1, 2)):
        h.at(t, CallArrived(f"c{i}", "general"))
    return h


# priority


def test_a_raised_call_is_served_before_calls_that_came_earlier() -> None:
    h = _three_waiting()
    h.at(3, CallPriorityChanged("c2", "elderly_alone"))
    assert h.engine.position("c2") == 1
    h.at(4, AgentLoggedIn("a3"))
    assert h.take() == [(4, ("offer", "c2", "a3"))]
    assert h.engine.position("c0") == 1


def test_a_raised_call_keeps_its_arrival_among_its_new_class() -> None:
    h = _three_waiting()
    h.at(3, CallArrived("e", "general", priority="elderly_alone"))
    h.at(4, CallPriorityChanged("c1", "elderly_alone"))
    assert [h.engine.position(c) for c in ("c1", "e", "c0", "c2")] == [1, 2, 3, 4]


def test_a_lowered_call_goes_behind_the_calls_of_its_class() -> None:
    h = Harness()
    h.at(0, CallArrived("c0", "general", priority="emergency"))
    h.at(1, CallArrived("c1", "general"))
    h.at(2, CallPriorityChanged("c0", "normal"))
    h.at(3, AgentLoggedIn("a3"))
    assert h.take() == [(3, ("offer", "c0", "a3"))]  # same class: it came first


def test_changing_priority_while_ringing_leaves_the_offer_alone() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c0", "general"))
    h.at(2, CallArrived("c1", "general"))
    h.at(3, CallPriorityChanged("c0", "emergency"))
    h.at(3, CallPriorityChanged("c1", "elderly_alone"))
    h.at(4, OfferFailed("c0", "a3"))  # a3 is paused (no-answer); c0 waits as emergency
    h.at(5, AgentLoggedIn("a2"))
    assert h.take(("offer", "cancel")) == [(1, ("offer", "c0", "a3")), (5, ("offer", "c0", "a2"))]
    h.at(6, AgentAnswered("c0", "a2"))
    h.at(7, CallEnded("c0"))
    h.run_until(20)
    assert h.records["c0"].priority == "emergency"


def test_a_callback_waiting_for_its_retry_keeps_the_new_class() -> None:
    h = Harness()
    h.at(0, CallArrived("c0", "general"))
    h.at(1, CallbackRequested("c0", "13800138000"))
    h.at(2, AgentLoggedIn("a3"))
    h.at(3, AgentAnswered("c0", "a3"))
    h.at(4, CallbackFailed("c0"))  # deferred until its retry
    h.at(5, CallPriorityChanged("c0", "emergency"))
    assert h.engine.calls["c0"].priority_name == "emergency"


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (CallPriorityChanged("nope", "emergency"), "call nope: CallPriorityChanged for a call"),
        (
            CallPriorityChanged("c0", "vip"),
            "call c0: CallPriorityChanged to unknown priority 'vip'",
        ),
    ],
)
def test_priority_errors_name_the_call_and_the_event(event: object, text: str) -> None:
    h = _three_waiting()
    with pytest.raises(EngineError, match=text):
        h.engine.handle(event)  # type: ignore[arg-type]


def test_a_connected_call_keeps_its_priority() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))
    h.at(1, CallArrived("c0", "general"))
    h.at(2, AgentAnswered("c0", "a3"))
    with pytest.raises(
        EngineError, match="call c0: CallPriorityChanged, but the call is connected"
    ):
        h.engine.handle(CallPriorityChanged("c0", "emergency"))
    assert h.engine.calls["c0"].priority_name == "normal"


# moves


def test_a_moved_call_keeps_its_place_by_arrival_and_says_so() -> None:
    h = Harness()
    h.at(0, CallArrived("g", "general"))
    h.at(1, CallArrived("e1", "elderly"))
    h.at(2, CallArrived("e2", "elderly"))
    h.at(3, CallRequeued("e2", "general"))
    h.at(4, CallArrived("g2", "general"))
    assert h.take() == [(3, ("move", "e2", "elderly", "general"))]
    assert [h.engine.position(c) for c in ("g", "e2", "g2")] == [1, 2, 3]
    assert h.log == []
    h.at(5, AgentLoggedIn("a3"))
    h.at(5, AgentAnswered("g", "a3"))
    h.at(6, CallEnded("g"))
    h.run_until(20)
    assert h.take(("offer",)) == [(5, ("offer", "g", "a3")), (11, ("offer", "e2", "a3"))]
    assert h.records["g"].final_queue == "general"


def test_the_move_effect_carries_the_reason() -> None:
    h = Harness()
    h.at(0, CallArrived("c0", "elderly"))
    effects = h.at(1, CallRequeued("c0", "general", reason="supervisor"))
    assert [(type(e).__name__, e.reason) for e in effects] == [("MoveCall", "supervisor")]  # type: ignore[union-attr]


def test_a_moved_call_is_offered_at_once_to_a_free_agent_of_the_new_queue() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a3"))  # general only
    h.at(1, CallArrived("c0", "elderly"))
    h.at(2, CallRequeued("c0", "general"))
    assert h.take() == [(2, ("move", "c0", "elderly", "general")), (2, ("offer", "c0", "a3"))]


def test_escalation_starts_over_in_the_new_queue() -> None:
    cfg = config(
        queues={
            "elderly": {"skills": {"elderly": 5}},
            "general": {"skills": {"general": 1}, "max_wait_s": 30},
        }
    )
    h = Harness(cfg)
    h.at(0, CallArrived("c0", "elderly"))
    h.at(20, CallRequeued("c0", "general"))
    h.run_until(100)
    assert h.take() == [
        (20, ("move", "c0", "elderly", "general")),
        (50, ("exit", "c0", "timeout", "voicemail")),
        (50, ("done", "c0", "overflowed", None)),
    ]
    assert h.records["c0"].wait_s == 50  # from its arrival


def test_moves_by_a_supervisor_do_not_count_as_overflow_hops() -> None:
    h = Harness()
    h.at(0, CallArrived("c0", "elderly"))
    for i in range(12):
        h.at(1 + i, CallRequeued("c0", "general" if i % 2 == 0 else "elderly"))
    assert h.engine.calls["c0"].queue == "elderly"
    assert len(h.take(("move",))) == 12


def _refused(h: Harness, event: CallRequeued, text: str) -> None:
    before = h.engine.calls[event.call].queue if event.call in h.engine.calls else None
    with pytest.raises(EngineError, match=text):
        h.engine.handle(event)
    if before is not None:
        assert h.engine.calls[event.call].queue == before


def test_move_refusals_name_the_call_its_state_and_the_event() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(1, CallArrived("ringing", "elderly"))
    h.at(2, CallArrived("waiting", "elderly"))
    _refused(h, CallRequeued("nope", "general"), "call nope: CallRequeued for a call")
    _refused(h, CallRequeued("waiting", "repairs"), "CallRequeued to unknown queue 'repairs'")
    _refused(h, CallRequeued("waiting", "elderly"), "CallRequeued to elderly, where it waits")
    _refused(
        h,
        CallRequeued("ringing", "general"),
        r"call ringing: CallRequeued, but the call is offered \(agent a1 is being rung\)",
    )
    h.at(3, AgentAnswered("ringing", "a1"))
    _refused(h, CallRequeued("ringing", "general"), "but the call is connected")


def test_a_move_never_sends_the_caller_out_of_the_queues() -> None:
    cfg = config(
        queues={
            "elderly": {"skills": {"elderly": 5}},
            "general": {"skills": {"general": 1}, "max_len": 1},
            "repairs": {"skills": {"repairs": 1}, "join_empty": "no-agents"},
        }
    )
    h = Harness(cfg)
    h.at(0, CallArrived("g", "general"))
    h.at(1, CallArrived("c0", "elderly"))
    _refused(h, CallRequeued("c0", "general"), r"general, but it is full \(1 calls, max_len 1\)")
    _refused(h, CallRequeued("c0", "repairs"), r"repairs, but it takes no callers now")
    assert h.take() == []
