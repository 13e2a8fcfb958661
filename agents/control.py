"""Agent control: which command becomes which engine event, and who may act on a seat.

The logic behind ``hotline agent`` and the control API (:mod:`serve.control`,
an HTTP adapter over this), and the agent desk (:mod:`serve.web_desk`): an agent
logs in (ready, or paused with a reason), logs out, becomes ready, pauses with a
reason. Every command enters the engine through the call shell's ``feed`` (the
one way in), given here as ``feed``, which raises :class:`acd.engine.EngineError`
when the engine refuses.

The desk's three more commands are the engine's own events at another moment
(:mod:`acd.events`): ``ready_after_call`` is ``AgentReady`` while offered or on
a call (no wrap-up after it), ``pause_after_call`` is ``AgentPaused`` then, and
``end_wrapup`` is ``AgentReady`` in wrap-up. They are refused (409) in any other
state, so that a late click never turns into "ready now". ``ready``, ``pause``
and ``logout`` on a call are deferred by the engine the same way.

Errors, mapped to HTTP codes in one place by the adapter:

- :class:`UnknownAgentError` — not in the roster (404);
- :class:`RefusedError` — the engine refused, with its own words: a transition
  the agent's state does not allow, a pause reason not in ``[pause_reasons]``
  (409);
- :class:`NotYourSeatError` — a user with the agent role acting on another
  seat (403; :func:`may_act`).

The engine validates pause reasons and states (one rule, in one place); this
module validates the roster first, so that an unknown agent is 404, never 409.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass

from acd import events as ev
from acd.engine import EngineError
from acd.types import AgentId

__all__ = [
    "AgentControl",
    "Answer",
    "Command",
    "ControlError",
    "NotYourSeatError",
    "RefusedError",
    "UnknownAgentError",
    "may_act",
]


class Command(enum.StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    READY = "ready"
    PAUSE = "pause"
    READY_AFTER_CALL = "ready_after_call"
    PAUSE_AFTER_CALL = "pause_after_call"
    END_WRAPUP = "end_wrapup"


ON_A_CALL = ("offered", "on-call")  # where the engine defers ready, pause and log-out
# the states each desk-only command is for
WHEN: dict[Command, tuple[str, ...]] = {
    Command.READY_AFTER_CALL: ON_A_CALL,
    Command.PAUSE_AFTER_CALL: ON_A_CALL,
    Command.END_WRAPUP: ("wrap-up",),
}


DEFAULT_PAUSE_REASON = "break"


class ControlError(Exception):
    """A command that was not carried out; the message says why."""


class UnknownAgentError(ControlError):
    def __init__(self, agent: str) -> None:
        super().__init__(f"agent {agent!r} is not in the roster")
        self.agent = agent


class RefusedError(ControlError):
    """The engine's refusal, with its text."""


class NotYourSeatError(ControlError):
    pass


@dataclass(frozen=True, slots=True)
class Answer:
    agent: AgentId
    state: str  # the agent's state after the command

    def as_dict(self) -> dict[str, str]:
        return {"agent": self.agent, "state": self.state}


def may_act(agent: str, *, seat: str | None, supervisor: bool) -> bool:
    """Whether a user may act on (or see the offer of) ``agent``'s seat: a supervisor
    on any seat, an agent on its own ``seat`` only (none: on no seat)."""
    return supervisor or (seat is not None and seat == agent)


def event_for(command: Command, agent: AgentId, reason: str | None = None) -> ev.Event:
    """The engine event a command stands for. ``reason``: the pause reason (pause;
    ``"break"`` if none), or the reason to log in paused with (login)."""
    if command is Command.LOGIN:
        return ev.AgentLoggedIn(agent, paused_reason=reason)
    if command is Command.LOGOUT:
        return ev.AgentLoggedOut(agent)
    if command in (Command.READY, Command.READY_AFTER_CALL, Command.END_WRAPUP):
        return ev.AgentReady(agent)
    return ev.AgentPaused(agent, reason or DEFAULT_PAUSE_REASON)


class AgentControl:
    """``roster``: the configured agents; ``feed``: the shell's way in (raises
    :class:`EngineError` on a refusal); ``state_of``: the agent's state from the
    read model."""

    def __init__(
        self,
        roster: Collection[str],
        feed: Callable[[ev.Event], object],
        state_of: Callable[[AgentId], str],
    ) -> None:
        self.roster = roster
        self.feed = feed
        self.state_of = state_of

    def command(self, agent: str, command: Command, reason: str | None = None) -> Answer:
        if agent not in self.roster:
            raise UnknownAgentError(agent)
        aid = AgentId(agent)
        before = self.state_of(aid)
        allowed = WHEN.get(command)
        if allowed is not None and before not in allowed:
            raise RefusedError(
                f"agent {agent}: {command.value} is for an agent {' or '.join(allowed)},"
                f" not {before}"
            )
        try:
            self.feed(event_for(command, aid, reason))
        except EngineError as e:
            raise RefusedError(str(e)) from e
        return Answer(aid, self.state_of(aid))
