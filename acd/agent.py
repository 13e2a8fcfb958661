"""The agent as the routing core sees it: skills, state, and the bookkeeping that
strategies need (idle since, occupied today, last offer). Pure: no I/O, no clock."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from acd.agent_state import TRANSITIONS, Action, AgentState, IllegalTransitionError


class AfterCall(enum.StrEnum):
    """What an agent asked for while ringing or talking, applied when the call ends."""

    READY = "ready"  # "ready after this call": skip wrap-up
    PAUSE = "pause"  # "pause after this call" (after wrap-up)
    LOGOUT = "logout"


BUSY_STATES = frozenset({AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP})
_PAUSED, _READY = AgentState.PAUSED, AgentState.READY


@dataclass(slots=True, eq=False)
class Agent:
    id: str
    name: str
    skills: dict[str, int]
    wrapup_s: float | None = None
    position: int = 0  # order in the roster, for round-robin
    state: AgentState = AgentState.LOGGED_OUT
    pause_reason: str | None = None
    reachable: bool = True
    busy_elsewhere: bool = False  # the phone is on a call Hotline did not place
    call: str | None = None
    after_call: AfterCall | None = None
    after_call_reason: str | None = None
    state_since: float = 0.0
    idle_since: float = 0.0
    day: int = -1
    busy_s_today: float = 0.0
    calls_today: int = 0
    offers_today: int = 0
    avail_version: int = 0
    time_in_state: dict[AgentState, float] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        """Ready, reachable and not busy elsewhere: may be offered a call now."""
        return self.state is _READY and self.reachable and not self.busy_elsewhere

    @property
    def logged_in(self) -> bool:
        return self.state is not AgentState.LOGGED_OUT

    def apply(self, action: Action, now: float) -> AgentState:
        """Move to the state the table gives for ``action``; returns the old state."""
        old = self.state
        new = TRANSITIONS.get((old, action))
        if new is None:
            raise IllegalTransitionError(self.id, old, action)
        if new is not old:
            spent = now - self.state_since
            self.time_in_state[old] = self.time_in_state.get(old, 0.0) + spent
            if old in BUSY_STATES:
                self.busy_s_today += spent
            self.state = new
            self.state_since = now
        if new is not _PAUSED:
            self.pause_reason = None
        return old

    def roll_day(self, day: int) -> None:
        """Start a new day's counters (least-occupied routing looks at today only)."""
        if day != self.day:
            self.day = day
            self.busy_s_today = 0.0
            self.calls_today = 0
            self.offers_today = 0

    def level(self, skill: str) -> int:
        return self.skills.get(skill, 0)
