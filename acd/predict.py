"""The expected wait of a waiting call, from the engine's live state.

What a caller on hold is told ("you are number 3; about 2 minutes") must be
honest, and a moving average of past waits times the position (app_queue's
announcement) is not: it lags every change of load and staffing and ignores
who could actually take the call. This predictor instead *plays the engine
forward* from now, on the state it has, with no new arrivals:

- **The agents** who could take the call now or after any of its escalation
  steps (the requirement of each step, plus the call's language; an overflow
  step moves it to the target queue's requirements): each is free at a time
  read from its state — ready: now; ringing: after a whole call of that queue;
  talking: after the rest of its call (the mean residual talk time of its
  queue, given how long it has talked: :mod:`acd.handle_times`) and its
  wrap-up; in wrap-up: at its end. Paused, logged out, unreachable or leaving
  after this call: not counted.
- **The calls that compete** for those agents: waiting calls ahead of it in
  queue order (priority, then arrival: :meth:`acd.calls.Call.order_key`) whose
  agents, now or after their own escalation steps, overlap its own; a call
  waiting for its case owner (sticky) competes for that agent alone until its
  sticky time ends.
- **The play**: agents become free in time order; each takes the first call in
  queue order that it may serve at that moment (as the engine's pools do), then
  is free again after a mean call of that queue and its wrap-up. The moment an
  agent takes our call is the prediction. Calls ahead who will abandon, and
  higher-priority calls not yet arrived, are not known: they err on both sides.

Cost: O(agents + k·e) for k competing calls and e agent turns until ours, so a
prediction per caller every few seconds is cheap; snapshots should not call it
for every call in a busy centre every tick.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from acd.agent import AfterCall, Agent
from acd.agent_state import AgentState
from acd.calls import Call, CallState
from acd.engine import Engine
from acd.handle_times import HandleTimes
from acd.roster import step_requirements
from acd.types import CallId, QueueName

__all__ = ["WaitPrediction", "predict_wait"]

HORIZON_S = 4 * 3600.0  # beyond this the play stops: "no agent will take it" (None)

_READY, _OFFERED = AgentState.READY, AgentState.OFFERED
_ON_CALL, _WRAP_UP = AgentState.ON_CALL, AgentState.WRAP_UP

Schedule = list[tuple[float, frozenset[str]]]  # from this time on, these agents may take it


@dataclass(frozen=True, slots=True)
class WaitPrediction:
    """A waiting call's place and expected wait, as the holding caller is told."""

    call: CallId
    queue: QueueName
    position: int  # 1-based among the calls competing for its agents; 0: being offered now
    wait_s: float | None  # expected further wait; None: no agent at work will take it
    waited_s: float  # how long it has waited so far
    agents_now: int  # agents at work who may take it now (ready, ringing, talking, wrap-up)
    agents_later: int  # ... now or after its escalation steps
    ready_now: int  # of ``agents_now``, ready this moment


class _Eligible:
    """Which agents meet a queue's requirement after a number of steps, in a language
    (computed once per prediction and key: the roster's skills may change between)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reqs: dict[QueueName, list[dict[str, int]]] = {}
        self._sets: dict[tuple[QueueName, int, str | None], frozenset[str]] = {}

    def get(self, queue: QueueName, step: int, language: str | None) -> frozenset[str]:
        key = (queue, step, language)
        found = self._sets.get(key)
        if found is not None:
            return found
        pooled = self.engine.roster.members_for(queue, step, language)
        if pooled:  # the roster keeps that pool's members: no need to check skills
            found = self._sets[key] = frozenset(pooled)
            return found
        reqs = self._reqs.get(queue)
        if reqs is None:
            reqs = self._reqs[queue] = step_requirements(self.engine.config.queues[queue])
        req = dict(reqs[min(step, len(reqs) - 1)])
        if language is not None:
            req[language] = max(req.get(language, 0), 1)
        items = tuple(req.items())
        out = frozenset(
            a.id
            for a in self.engine.agents.values()
            if all(a.skills.get(s, 0) >= lvl for s, lvl in items)
        )
        self._sets[key] = out
        return out

    def schedule(self, call: Call, now: float) -> Schedule:
        """Whom ``call`` may be offered to from now on, as its steps come."""
        config = self.engine.config
        q = config.queues[call.queue]
        out: Schedule = []
        start = now
        if not call.in_pool and call.sticky_agent is not None and call.sticky_until > now:
            out.append((now, frozenset({call.sticky_agent})))
            start = call.sticky_until
        out.append((start, self.get(q.name, call.step, call.language)))
        entered = call.queue_entered_at
        for k in range(call.step, len(q.escalation)):
            step = q.escalation[k]
            at = max(entered + step.after_s, start)
            if step.overflow_queue is not None:
                target = config.queues[step.overflow_queue]
                out.append((at, self.get(target.name, 0, call.language)))
                for j, later in enumerate(target.escalation):
                    if later.overflow_queue is not None:
                        break
                    out.append((at + later.after_s, self.get(target.name, j + 1, call.language)))
                break
            out.append((at, self.get(q.name, k + 1, call.language)))
        return out


def _at(schedule: Schedule, t: float) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    for at, agents in schedule:
        if at > t:
            break
        found = agents
    return found


def _after(schedule: Schedule, t: float) -> float | None:
    for at, _ in schedule:
        if at > t:
            return at
    return None


def _wrapup_s(engine: Engine, agent: Agent, queue: QueueName) -> float:
    if agent.wrapup_s is not None:
        return agent.wrapup_s
    q = engine.config.queues.get(queue)
    return q.wrapup_s if q is not None else 0.0


def _free_at(engine: Engine, agent: Agent, times: HandleTimes, now: float) -> float | None:
    """When ``agent`` can next take a call, from its state; None: not coming."""
    state = agent.state
    if not agent.reachable or agent.busy_elsewhere:
        return None
    if state is _READY:
        return now
    if state not in (_OFFERED, _ON_CALL, _WRAP_UP):
        return None  # paused or logged out: when it is back is not known
    if agent.after_call in (AfterCall.PAUSE, AfterCall.LOGOUT):
        return None
    call = engine.calls.get(CallId(agent.call)) if agent.call else None
    queue = call.queue if call is not None else QueueName("")
    wrapup = 0.0 if agent.after_call is AfterCall.READY else _wrapup_s(engine, agent, queue)
    if state is _WRAP_UP:
        return max(now, agent.state_since + wrapup)
    if state is _OFFERED or call is None or call.answered_at is None:
        return now + times.talk_s(queue) + wrapup
    return now + times.remaining_s(queue, now - call.answered_at) + wrapup


def predict_wait(engine: Engine, call_id: CallId, times: HandleTimes) -> WaitPrediction | None:
    """The prediction for a call on hold (waiting or being offered); None for a call
    the engine does not hold, or one not waiting (answered, a callback's retry)."""
    call = engine.calls.get(call_id)
    if call is None:
        return None
    now = engine.clock.now()
    waited = now - call.arrived_at
    elig = _Eligible(engine)
    if call.state is CallState.OFFERED:
        agents = elig.get(call.queue, call.step, call.language)
        return WaitPrediction(call.id, call.queue, 0, 0.0, waited, len(agents), len(agents), 0)
    if call.state is not CallState.WAITING:
        return None
    ours = elig.schedule(call, now)
    union: set[str] = set()
    for _, agents in ours:
        union |= agents
    now_set = _at(ours, now)
    free: list[tuple[float, int, str]] = []
    working = ready = 0
    for agent_id in union:
        agent = engine.agents[agent_id]
        at = _free_at(engine, agent, times, now)
        if at is not None:
            free.append((at, agent.position, agent_id))
            if agent_id in now_set:
                working += 1
                ready += agent.state is _READY
    later = len(free)
    key = call.order_key()
    rivals: list[tuple[Call, Schedule]] = []
    for other in engine.calls.values():
        if other is call or other.state is not CallState.WAITING or other.order_key() >= key:
            continue
        sched = elig.schedule(other, now)
        if any(not agents.isdisjoint(union) for _, agents in sched):
            rivals.append((other, sched))
    rivals.sort(key=lambda r: r[0].order_key())
    position = 1 + len(rivals)
    wait = _play(engine, call, ours, rivals, free, times, now)
    return WaitPrediction(call.id, call.queue, position, wait, waited, working, later, ready)


def _play(
    engine: Engine,
    call: Call,
    ours: Schedule,
    rivals: list[tuple[Call, Schedule]],
    free: list[tuple[float, int, str]],
    times: HandleTimes,
    now: float,
) -> float | None:
    """Agents take calls in the order they become free; when is ``call`` taken?"""
    line = [*rivals, (call, ours)]  # queue order: ours is last of those ahead
    served = [False] * len(line)
    heapq.heapify(free)
    agents = engine.agents
    while free:
        t, pos, agent_id = heapq.heappop(free)
        if t - now > HORIZON_S:
            return None
        taken = -1
        for i, (_, sched) in enumerate(line):
            if not served[i] and agent_id in _at(sched, t):
                taken = i
                break
        if taken < 0:
            # nothing for this agent now: back when a call's next step may widen to it
            nxt = [
                a
                for i, (_, s) in enumerate(line)
                if not served[i] and (a := _after(s, t)) is not None
            ]
            if nxt:
                heapq.heappush(free, (min(nxt), pos, agent_id))
            continue
        if taken == len(line) - 1:
            return t - now
        served[taken] = True
        queue = line[taken][0].queue
        done = t + times.talk_s(queue) + _wrapup_s(engine, agents[agent_id], queue)
        heapq.heappush(free, (done, pos, agent_id))
    return None
