"""Sticky routing to the owner of the caller's open case; callbacks that keep their place."""

from __future__ import annotations

import pytest

from acd.effects import OfferCall
from acd.engine import EngineError
from acd.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    CallArrived,
    CallbackFailed,
    CallbackRequested,
    CallEnded,
    CallerAbandoned,
)
from acd.types import ExitReason
from tests.unit.acd.harness import Harness, config


def _owner_busy() -> Harness:
    h = Harness()
    h.at(0, AgentLoggedIn("a1"))
    h.at(0, CallArrived("x", "general"))
    h.at(1, AgentAnswered("x", "a1"))
    h.at(1, AgentLoggedIn("a3"))
    h.take()
    return h


def test_repeat_caller_waits_for_the_case_owner_and_gets_them() -> None:
    h = _owner_busy()
    h.at(2, CallArrived("c1", "general", case_owner="a1"))
    h.at(10, CallEnded("x"))  # a1: wrap-up 5 s, then ready at 15 (< 2 + 20)
    h.run_until(15)
    assert h.take(("offer",)) == [(15, ("offer", "c1", "a1"))]
    h.at(16, AgentAnswered("c1", "a1"))
    h.at(20, CallEnded("c1"))
    h.run_until(40)
    assert h.records["c1"].sticky


def test_sticky_wait_is_bounded_then_normal_routing() -> None:
    h = _owner_busy()
    h.at(2, CallArrived("c1", "general", case_owner="a1"))
    h.run_until(30)
    assert h.take(("offer",)) == [(22, ("offer", "c1", "a3"))]


def test_no_sticky_wait_for_an_owner_who_is_paused() -> None:
    h = _owner_busy()
    h.at(3, AgentPaused("a1", "break"))  # after the current call
    h.at(4, CallEnded("x"))
    h.run_until(10)
    h.take()
    h.at(11, CallArrived("c1", "general", case_owner="a1"))
    assert h.take(("offer",)) == [(11, ("offer", "c1", "a3"))]


def test_owner_pausing_releases_waiting_sticky_calls() -> None:
    h = _owner_busy()
    h.at(2, CallArrived("c1", "general", case_owner="a1"))
    h.at(4, CallEnded("x"))
    h.at(5, AgentPaused("a1", "lunch"))  # during wrap-up: pauses now
    assert h.take(("offer",)) == [(5, ("offer", "c1", "a3"))]


def test_callback_keeps_its_place_and_the_agent_is_connected_first() -> None:
    h = Harness()
    h.at(0, CallArrived("c1", "general"))
    h.at(1, CallArrived("c2", "general"))
    h.at(2, CallbackRequested("c1", "13800138000"))
    h.at(3, CallArrived("c3", "general"))
    effects = h.at(10, AgentLoggedIn("a3"))
    offer = next(e for e in effects if isinstance(e, OfferCall))
    assert (offer.call, offer.callback) == ("c1", "13800138000")


def test_callback_not_reached_is_retried_in_place_then_given_up() -> None:
    h = Harness()
    h.at(0, CallArrived("c1", "general"))
    h.at(1, CallbackRequested("c1", "+8613800138000"))
    h.at(2, AgentLoggedIn("a3"))
    h.at(3, AgentAnswered("c1", "a3"))
    h.at(4, CallbackFailed("c1"))
    h.at(5, CallArrived("c2", "general"))  # a3 is ready again: takes c2 meanwhile
    h.at(6, AgentAnswered("c2", "a3"))
    h.at(100, CallEnded("c2"))
    h.take()
    h.run_until(305)  # retry after 300 s: back in its place, offered again
    assert h.take(("offer",)) == [(304, ("offer", "c1", "a3"))]
    h.at(305, AgentAnswered("c1", "a3"))
    h.at(306, CallbackFailed("c1"))
    h.run_until(606)  # third and last attempt
    h.at(607, AgentAnswered("c1", "a3"))
    h.at(608, CallbackFailed("c1"))
    rec = h.records["c1"]
    assert (rec.outcome.value, rec.exit_reason, rec.callback) == (
        "abandoned",
        ExitReason.CALLBACK_UNREACHED,
        True,
    )


def test_callback_number_must_be_a_phone_number() -> None:
    h = Harness()
    h.at(0, CallArrived("c1", "general"))
    with pytest.raises(EngineError, match="is not a phone number"):
        h.at(1, CallbackRequested("c1", "12; DROP TABLE"))
    assert h.engine.calls["c1"].callback is None


def test_a_callback_caller_cannot_abandon() -> None:
    h = Harness()
    h.at(0, CallArrived("c1", "general"))
    h.at(1, CallbackRequested("c1", "13800138000"))
    with pytest.raises(EngineError, match="a callback"):
        h.at(2, CallerAbandoned("c1"))


def test_a_callback_is_not_sent_to_the_queue_exit_it_waits_to_be_served() -> None:
    """The caller has left the line: a max-wait exit (voicemail) would reach no one."""
    h = Harness(config(queues={"general": {"skills": {"general": 1}, "max_wait_s": 60}}))
    h.at(0, CallArrived("c1", "general"))
    h.at(0, CallArrived("c2", "general"))
    h.at(10, CallbackRequested("c1", "13800138000"))
    h.run_until(300)
    assert h.take() == [(60, ("exit", "c2", "timeout", "voicemail")),
                        (60, ("done", "c2", "overflowed", None))]  # fmt: skip
    effects = h.at(300, AgentLoggedIn("a3"))
    offer = next(e for e in effects if isinstance(e, OfferCall))
    assert (offer.call, offer.callback) == ("c1", "13800138000")


def test_a_callback_still_moves_to_an_overflow_queue() -> None:
    queues = {
        "elderly": {"skills": {"elderly": 5}, "max_wait_s": 60, "overflow": {"queue": "general"}},
        "general": {"skills": {"general": 1}},
    }
    h = Harness(config(queues=queues))
    h.at(0, CallArrived("c1", "elderly"))
    h.at(10, CallbackRequested("c1", "13800138000"))
    h.run_until(61)
    assert h.take() == [(60, ("move", "c1", "elderly", "general"))]


def test_a_queue_left_empty_keeps_its_callbacks() -> None:
    h = Harness(config(queues={"general": {"skills": {"general": 1}, "leave_empty": "no-agents"}}))
    h.at(0, AgentLoggedIn("a3"))
    h.at(0, AgentPaused("a3", "break"))
    h.at(1, CallArrived("c1", "general"))
    h.at(1, CallArrived("c2", "general"))
    h.at(2, CallbackRequested("c1", "13800138000"))
    h.at(3, AgentLoggedOut("a3"))  # the last agent leaves: the queue empties
    assert [e[1] for _, e in h.take()] == ["c2", "c2"]  # c2 exits; the callback stays
    effects = h.at(20, AgentLoggedIn("a3"))
    assert any(isinstance(e, OfferCall) and e.call == "c1" for e in effects)
