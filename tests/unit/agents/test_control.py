"""Agent control: commands become events through the one way in; errors by kind."""

from __future__ import annotations

import functools

import pytest

from acd import events as ev
from acd.types import AgentId
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
