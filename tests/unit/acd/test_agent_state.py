"""The agent state machine: every transition in the table, and every other one refused."""

from __future__ import annotations

import pytest

from acd.agent import Agent
from acd.agent_state import TRANSITIONS, Action, AgentState, IllegalTransitionError, transition


@pytest.mark.parametrize(("state", "action"), sorted(TRANSITIONS))
def test_each_legal_transition(state: AgentState, action: Action) -> None:
    assert transition("a1", state, action) is TRANSITIONS[(state, action)]


ILLEGAL = [(s, a) for s in AgentState for a in Action if (s, a) not in TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_each_illegal_transition_names_state_and_action(state: AgentState, action: Action) -> None:
    with pytest.raises(IllegalTransitionError) as err:
        transition("a1", state, action)
    msg = str(err.value)
    assert f"cannot {action.value!r} in state {state.value!r}" in msg
    assert msg.startswith("agent a1:")


def test_time_in_state_and_busy_time_are_counted() -> None:
    a = Agent("a1", "A", {"general": 1})
    a.apply(Action.LOGIN, 0)
    a.apply(Action.OFFER, 10)
    a.apply(Action.ANSWER, 13)
    a.apply(Action.CALL_ENDED, 73)
    a.apply(Action.WRAPUP_ENDED, 83)
    assert a.time_in_state == {
        AgentState.LOGGED_OUT: 0,
        AgentState.READY: 10,
        AgentState.OFFERED: 3,
        AgentState.ON_CALL: 60,
        AgentState.WRAP_UP: 10,
    }
    assert a.busy_s_today == 73
    a.roll_day(1)
    assert a.busy_s_today == 0


def test_an_illegal_action_leaves_the_agent_unchanged() -> None:
    a = Agent("a1", "A", {})
    with pytest.raises(IllegalTransitionError):
        a.apply(Action.ANSWER, 5)
    assert (a.state, a.state_since) == (AgentState.LOGGED_OUT, 0.0)
