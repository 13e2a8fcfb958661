"""Agent control: commands become events through the one way in; errors by kind."""

from __future__ import annotations

import functools

import pytest

from acd import events as ev
from acd import snapshot
from acd.types import AgentId, CallId, QueueName
from agents.control import (
    AgentControl,
    Command,
    RefusedError,
    UnknownAgentError,
    event_for,
    may_act,
)
from tests.unit.acd.harness import Harness


def _control(h: Harness) -> tuple[AgentControl, list[ev.Event]]:
    fed: list[ev.Event] = []

    def feed(event: ev.Event) -> None:
        fed.append(event)
        h.engine.handle(event)  # raises EngineError on a refusal, as CallShell.feed(strict=True)

    def state_of(agent: AgentId) -> str:
        return h.engine.agents[agent].state.value

    return AgentControl(h.engine.config.agents, feed, state_of), fed


def test_commands_are_events_and_answers_carry_the_new_state() -> None:
    h = Harness()
    control, fed = _control(h)
    assert control.command("a1", Command.LOGIN, "lunch").as_dict() == {
        "agent": "a1",
        "state": "paused",
    }
    assert control.command("a1", Command.READY).state == "ready"
    assert control.command("a1", Command.PAUSE).state == "paused"
    assert control.command("a1", Command.LOGOUT).state == "logged-out"
    assert fed == [
        ev.AgentLoggedIn(AgentId("a1"), paused_reason="lunch"),
        ev.AgentReady(AgentId("a1")),
        ev.AgentPaused(AgentId("a1"), "break"),
        ev.AgentLoggedOut(AgentId("a1")),
    ]


def test_unknown_agent_and_refusals() -> None:
    h = Harness()
    control, fed = _control(h)
    with pytest.raises(UnknownAgentError, match="'zz' is not in the roster"):
        control.command("zz", Command.READY)
    assert fed == []  # never reaches the engine
    with pytest.raises(RefusedError):
        control.command("a2", Command.READY)  # logged out
    control.command("a2", Command.LOGIN)
    with pytest.raises(RefusedError, match="unknown pause reason 'nap'"):
        control.command("a2", Command.PAUSE, "nap")


def test_who_may_act_on_a_seat() -> None:
    assert may_act("2001", seat="2001", supervisor=False)
    assert not may_act("2001", seat="2002", supervisor=False)
    assert not may_act("2001", seat=None, supervisor=False)
    assert may_act("2001", seat=None, supervisor=True)
    login = functools.partial(event_for, Command.LOGIN, AgentId("a"))
    assert login() == ev.AgentLoggedIn(AgentId("a"))


def test_the_desk_commands_are_the_engines_after_call_events() -> None:
    h = Harness()
    control, fed = _control(h)
    control.command("a3", Command.LOGIN)
    with pytest.raises(RefusedError, match="ready_after_call is for an agent offered or on-call"):
        control.command("a3", Command.READY_AFTER_CALL)
    with pytest.raises(RefusedError, match="end_wrapup is for an agent wrap-up, not ready"):
        control.command("a3", Command.END_WRAPUP)
    a3, c1 = AgentId("a3"), CallId("c1")
    h.at(1, ev.CallArrived(c1, QueueName("general")))
    assert control.command("a3", Command.PAUSE_AFTER_CALL, "lunch").state == "offered"
    view = snapshot.agent_view(h.engine, "a3")
    assert view is not None and (view.after_call, view.after_call_reason) == ("pause", "lunch")
    h.at(2, ev.AgentAnswered(c1, a3))
    h.at(9, ev.CallEnded(c1))
    assert h.engine.agents["a3"].state.value == "wrap-up"
    h.run_until(15)
    assert h.engine.agents["a3"].pause_reason == "lunch"  # paused once the wrap-up ended
    control.command("a3", Command.READY)
    h.at(20, ev.CallArrived(CallId("c2"), QueueName("general")))
    h.at(21, ev.AgentAnswered(CallId("c2"), a3))
    h.at(22, ev.CallEnded(CallId("c2")))
    assert control.command("a3", Command.END_WRAPUP).state == "ready"  # before its 5 s
    assert fed[-1] == ev.AgentReady(a3)
