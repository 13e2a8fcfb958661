"""Everything that affects an agent's state lives here: the states, the actions
and the one table of legal transitions. Anything not in the table is refused
with an error that names the state and the action.
"""

from __future__ import annotations

import enum


class AgentState(enum.StrEnum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    OFFERED = "offered"  # ringing
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"


class Action(enum.StrEnum):
    LOGIN = "login"
    LOGIN_PAUSED = "login-paused"
    LOGOUT = "logout"
    READY = "ready"
    PAUSE = "pause"
    OFFER = "offer"
    ANSWER = "answer"
    OFFER_ENDED = "offer-ended"  # not answered: timed out, busy, cancelled
    CALL_ENDED = "call-ended"  # connected call ended, wrap-up starts
    CALL_ENDED_READY = "call-ended-ready"  # ... with "ready after this call": no wrap-up
    WRAPUP_ENDED = "wrapup-ended"
    DEFER = "defer"  # ready/pause/logout asked for while ringing or talking: applies after
    ADOPT = "adopt"  # a call found already connected to the agent (a restart of the shell)


class IllegalTransitionError(Exception):
    """An action that the agent's current state does not allow."""

    def __init__(self, agent: str, state: AgentState, action: Action) -> None:
        self.agent = agent
        self.state = state
        self.action = action
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is state)
        super().__init__(
            f"agent {agent}: cannot {action.value!r} in state {state.value!r}"
            f" (allowed there: {', '.join(allowed) or 'nothing'})"
        )


S, A = AgentState, Action

TRANSITIONS: dict[tuple[AgentState, Action], AgentState] = {
    (S.LOGGED_OUT, A.LOGIN): S.READY,
    (S.LOGGED_OUT, A.LOGIN_PAUSED): S.PAUSED,
    (S.READY, A.PAUSE): S.PAUSED,
    (S.READY, A.LOGOUT): S.LOGGED_OUT,
    (S.READY, A.OFFER): S.OFFERED,
    (S.READY, A.READY): S.READY,
    (S.PAUSED, A.READY): S.READY,
    (S.PAUSED, A.PAUSE): S.PAUSED,  # change the reason
    (S.PAUSED, A.LOGOUT): S.LOGGED_OUT,
    (S.OFFERED, A.ANSWER): S.ON_CALL,
    (S.OFFERED, A.OFFER_ENDED): S.READY,
    (S.OFFERED, A.PAUSE): S.PAUSED,  # autopause, or a deferred pause, when the offer ends
    (S.OFFERED, A.LOGOUT): S.LOGGED_OUT,  # a deferred logout, when the offer ends
    (S.OFFERED, A.DEFER): S.OFFERED,
    (S.ON_CALL, A.CALL_ENDED): S.WRAP_UP,
    (S.ON_CALL, A.CALL_ENDED_READY): S.READY,
    (S.ON_CALL, A.DEFER): S.ON_CALL,
    (S.WRAP_UP, A.WRAPUP_ENDED): S.READY,
    (S.WRAP_UP, A.READY): S.READY,  # finished the after-call work early
    (S.WRAP_UP, A.PAUSE): S.PAUSED,
    (S.WRAP_UP, A.LOGOUT): S.LOGGED_OUT,
    # adoption: the agent was talking while the shell was down; from where it was
    # idle (the engine remembers that state as the wish to go back to after the call)
    (S.LOGGED_OUT, A.ADOPT): S.ON_CALL,
    (S.READY, A.ADOPT): S.ON_CALL,
    (S.PAUSED, A.ADOPT): S.ON_CALL,
}


def transition(agent: str, state: AgentState, action: Action) -> AgentState:
    """The state after ``action``, or :class:`IllegalTransitionError`."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransitionError(agent, state, action) from None
