"""What agents ask for, and the work after a call: the agent events of the engine.

:class:`AgentFlow` handles ``AgentLoggedIn``/``LoggedOut``/``Ready``/``Paused``/
``Reachable``/``SkillsChanged`` and decides where an agent goes when an offer or
a call ends: wrap-up (timed), or what the agent asked for while busy ("ready
after this call", "pause after this call", log out), else ready again.

It changes agents only through the :class:`acd.roster.Roster` and reaches the
call side only through four narrow callables the engine gives it at
construction (offer a call to an agent, finish an answered call's record,
route the calls waiting for one agent elsewhere, empty a queue); it never sees
the engine. The roster's answers tell it when to call them: a call to offer
when an agent becomes available, queues to empty when presence drops to zero.

An agent asked for something while ringing or talking (``_DEFERRING``) has the
wish stored on the agent (``after_call``) and applied when the call ends,
as app_queue does; the state table (:mod:`acd.agent_state`) says what is legal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from acd import effects as fx
from acd import events as ev
from acd.agent import AfterCall, Agent
from acd.agent_state import Action, AgentState
from acd.calls import Call
from acd.errors import EngineError
from acd.roster import Roster
from acd.timers import Timer, TimerKind, Timers
from acd.types import CallId, Clock, QueueName

__all__ = ["AgentFlow"]

_DEFERRING = (AgentState.OFFERED, AgentState.ON_CALL)
_LOGGED_OUT, _PAUSED = AgentState.LOGGED_OUT, AgentState.PAUSED


class AgentFlow:
    def __init__(
        self,
        roster: Roster,
        timers: Timers,
        clock: Clock,
        calls: Mapping[CallId, Call],
        out: list[fx.Effect],
        *,
        offer: Callable[[Call, Agent], None],
        finish_answered: Callable[[Call, Agent], None],
        release_sticky: Callable[[Agent], None],
        leave_empty: Callable[[QueueName], None],
    ) -> None:
        self.roster = roster
        self.timers = timers
        self.clock = clock
        self.calls = calls
        self._offer = offer
        self._finish_answered = finish_answered
        self._release_sticky = release_sticky
        self._leave_empty = leave_empty
        self._wrap_timers: dict[str, Timer] = {}
        self.out = out  # the engine's: the effects of the event being handled

    # what the engine's call side uses too

    def transition(self, agent: Agent, action: Action, reason: str | None = None) -> None:
        """The roster's transition, then its call-side work: leave-empty for queues
        left without agents, and sticky calls freed when their agent leaves service."""
        emptied = self.roster.transition(agent, action, self.out, reason)
        if emptied:  # rare: the hot path pays one test
            for queue in emptied:
                self._leave_empty(queue)
        state = agent.state
        if state is _PAUSED or state is _LOGGED_OUT:
            self._release_sticky(agent)

    def became_available(self, agent: Agent) -> None:
        call = self.roster.became_available(agent)
        if call is not None:
            self._offer(call, agent)

    def end_offer(self, agent: Agent, autopause: str | None) -> None:
        """An offer ended without a call (no answer, failed, the caller gone)."""
        if autopause is not None and agent.after_call is not AfterCall.LOGOUT:
            agent.after_call, agent.after_call_reason = AfterCall.PAUSE, autopause
        self._apply_after_call(agent, Action.OFFER_ENDED)

    def start_wrapup(self, agent: Agent, wrapup_s: float) -> None:
        """The agent's call ended: wrap-up for ``wrapup_s``, or ready at once if asked."""
        if agent.after_call is AfterCall.READY:
            agent.after_call = None
            call = self.calls[CallId(agent.call)] if agent.call else None
            agent.call = None
            self.transition(agent, Action.CALL_ENDED_READY)
            if call is not None:
                self._finish_answered(call, agent)
            if agent.available:
                self.became_available(agent)
            return
        self.transition(agent, Action.CALL_ENDED)
        if wrapup_s <= 0:
            return self._end_wrapup(agent, Action.WRAPUP_ENDED)
        at = self.clock.now() + wrapup_s
        self._wrap_timers[agent.id] = self.timers.add(at, TimerKind.WRAPUP, agent)
        return None

    def wrapup_timer(self, agent: Agent) -> None:
        if agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.WRAPUP_ENDED)

    def after_ready(self, agent: Agent) -> None:
        """The agent just became ready with no wrap-up: honour its wish first."""
        if agent.after_call is not None:
            wish = agent.after_call
            reason = agent.after_call_reason
            agent.after_call = agent.after_call_reason = None
            if wish is AfterCall.PAUSE:
                self.transition(agent, Action.PAUSE, reason)
                return
            if wish is AfterCall.LOGOUT:
                self.transition(agent, Action.LOGOUT)
                return
        if agent.available:
            self.became_available(agent)

    # after-call work

    def _to_ready(self, agent: Agent, action: Action) -> None:
        self.transition(agent, action)
        if agent.available:  # became_available(), inline: once per call on the hot path
            call = self.roster.became_available(agent)
            if call is not None:
                self._offer(call, agent)

    def _apply_after_call(self, agent: Agent, ready_action: Action) -> None:
        """Leave an offer, a call or wrap-up the way the agent asked for, or to ready."""
        wish, reason = agent.after_call, agent.after_call_reason
        agent.after_call = agent.after_call_reason = None
        if wish is AfterCall.LOGOUT:
            self.transition(agent, Action.LOGOUT)
        elif wish is AfterCall.PAUSE:
            self.transition(agent, Action.PAUSE, reason)
        else:
            self._to_ready(agent, ready_action)

    def _end_wrapup(self, agent: Agent, action: Action, reason: str | None = None) -> None:
        timer = self._wrap_timers.pop(agent.id, None)
        if timer is not None:
            timer.cancelled = True
        call = self.calls.get(CallId(agent.call)) if agent.call else None
        agent.call = None
        if call is not None:
            self._finish_answered(call, agent)
        if action is Action.WRAPUP_ENDED:
            self._apply_after_call(agent, Action.WRAPUP_ENDED)
        else:
            agent.after_call = agent.after_call_reason = None
            if action is Action.READY:
                self._to_ready(agent, action)
            else:
                self.transition(agent, action, reason)

    # agent events

    def logged_in(self, e: ev.AgentLoggedIn) -> None:
        agent = self.roster.agent(e.agent, "AgentLoggedIn")
        if e.paused_reason is not None:
            self.roster.check_reason(agent, e.paused_reason)
            self.roster.check(agent, Action.LOGIN_PAUSED)
            self.transition(agent, Action.LOGIN_PAUSED, e.paused_reason)
        else:
            self.roster.check(agent, Action.LOGIN)
            self._to_ready(agent, Action.LOGIN)

    def logged_out(self, e: ev.AgentLoggedOut) -> None:
        agent = self.roster.agent(e.agent, "AgentLoggedOut")
        if agent.state in _DEFERRING:
            agent.after_call, agent.after_call_reason = AfterCall.LOGOUT, None
        elif agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.LOGOUT)
        else:
            self.roster.check(agent, Action.LOGOUT)
            self.roster.unavailable(agent)
            self.transition(agent, Action.LOGOUT)

    def ready(self, e: ev.AgentReady) -> None:
        agent = self.roster.agent(e.agent, "AgentReady")
        if agent.state in _DEFERRING:
            agent.after_call, agent.after_call_reason = AfterCall.READY, None
        elif agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.READY)
        elif agent.state is not AgentState.READY:
            self.roster.check(agent, Action.READY)
            self._to_ready(agent, Action.READY)
        else:
            self.roster.check(agent, Action.READY)

    def paused(self, e: ev.AgentPaused) -> None:
        agent = self.roster.agent(e.agent, "AgentPaused")
        self.roster.check_reason(agent, e.reason)
        if agent.state in _DEFERRING:
            agent.after_call, agent.after_call_reason = AfterCall.PAUSE, e.reason
        elif agent.state is AgentState.WRAP_UP:
            self._end_wrapup(agent, Action.PAUSE, e.reason)
        else:
            self.roster.check(agent, Action.PAUSE)
            self.roster.unavailable(agent)
            self.transition(agent, Action.PAUSE, e.reason)

    def reachable(self, e: ev.AgentReachable) -> None:
        agent = self.roster.agent(e.agent, "AgentReachable")
        if agent.reachable == e.reachable:
            return
        if agent.available:
            self.roster.unavailable(agent)
        for queue in self.roster.set_reachable(agent, e.reachable):
            self._leave_empty(queue)
        if agent.available:
            self.became_available(agent)
        elif not e.reachable:
            self._release_sticky(agent)

    def device_busy(self, e: ev.AgentDeviceBusy) -> None:
        """Busy elsewhere: out of the ready sets, whatever the state; free again: back in
        if the agent is available. The state and the agent's wishes are not touched."""
        agent = self.roster.agent(e.agent, "AgentDeviceBusy")
        if agent.busy_elsewhere == e.busy:
            return
        if agent.available:
            self.roster.unavailable(agent)
        agent.busy_elsewhere = e.busy
        if agent.available:
            self.became_available(agent)
        elif e.busy:
            self._release_sticky(agent)  # a private call may be long: route those elsewhere

    def adopt(self, agent: Agent, call: Call) -> None:
        """``agent`` is found talking on ``call`` (a restart of the shell): on-call now,
        and back where it was (paused with its reason, logged out) after the call."""
        self.roster.check(agent, Action.ADOPT)
        if agent.state is AgentState.PAUSED:
            agent.after_call, agent.after_call_reason = AfterCall.PAUSE, agent.pause_reason
        elif agent.state is AgentState.LOGGED_OUT:
            agent.after_call, agent.after_call_reason = AfterCall.LOGOUT, None
        self.roster.unavailable(agent)
        self.transition(agent, Action.ADOPT)
        agent.call = call.id
        agent.calls_today += 1

    def added(self, e: ev.AgentAdded) -> None:
        if e.wrapup_s is not None and not 0 <= e.wrapup_s <= 86400:
            raise EngineError(
                f"agent {e.agent}: AgentAdded.wrapup_s {e.wrapup_s!r} not in 0..86400"
            )
        self.roster.add(Agent(e.agent, e.name or e.agent, dict(e.skills), e.wrapup_s))

    def removed(self, e: ev.AgentRemoved) -> None:
        self.roster.remove(self.roster.agent(e.agent, "AgentRemoved"))

    def skills_changed(self, e: ev.AgentSkillsChanged) -> None:
        agent = self.roster.agent(e.agent, "AgentSkillsChanged")
        self.roster.check_skills(agent, e.skills)
        was_available = agent.available
        if was_available:
            self.roster.unavailable(agent)
        for queue in self.roster.set_skills(agent, e.skills):
            self._leave_empty(queue)
        if was_available:
            self.became_available(agent)
