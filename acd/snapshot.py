"""Read-only views of the engine for wallboards, the agent desk and announcements.

Nothing here changes the engine, and nothing outside ``acd`` reads the engine's
dictionaries: every outward view (``/status``, the offer endpoint, ``hotline
live``, later the wallboard and MQTT) is built from these functions, so the
engine's internals may change without touching a surface. ``snapshot`` is
O(calls + agents): call it once a second, not per event; ``agent_view`` and
``call_view`` are O(1). ``wait_view`` is what the holding loop announces ("you
are number 3; about 2 minutes"): :mod:`acd.predict` plays the engine forward from
its live state; ``expected_wait_s`` is the older rough figure (position × AHT ÷
agents serving).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from acd.agent_state import AgentState
from acd.calls import CallState
from acd.engine import Engine
from acd.handle_times import HandleTimes
from acd.predict import WaitPrediction, predict_wait
from acd.types import AgentId, CallId, QueueName

_SERVING = (AgentState.READY, AgentState.OFFERED, AgentState.ON_CALL, AgentState.WRAP_UP)


@dataclass(frozen=True, slots=True)
class QueueView:
    name: QueueName
    title: str
    waiting: int  # on hold, including calls whose agent is ringing
    ringing: int
    callbacks: int  # callers who left the line and keep their place
    longest_wait_s: float
    agents_logged_in: int
    agents_serving: int  # logged in, not paused, reachable


@dataclass(frozen=True, slots=True)
class CentreView:
    at: float
    queues: tuple[QueueView, ...]
    agents_by_state: dict[str, int]
    paused_by_reason: dict[str, int]
    unreachable: int


def snapshot(engine: Engine) -> CentreView:
    now = engine.clock.now()
    views = []
    for name, q in engine.config.queues.items():
        calls = list(engine.queue_calls.get(name, {}).values())
        on_line = [c for c in calls if c.callback is None and c.state is not CallState.DEFERRED]
        views.append(
            QueueView(
                name=name,
                title=q.title,
                waiting=len(on_line),
                ringing=sum(1 for c in calls if c.state is CallState.OFFERED),
                callbacks=len(calls) - len(on_line),
                longest_wait_s=max((now - c.arrived_at for c in on_line), default=0.0),
                agents_logged_in=engine.logged_in_count[name],
                agents_serving=engine.serving_count[name],
            )
        )
    by_state = {s.value: 0 for s in AgentState}
    reasons: dict[str, int] = {}
    unreachable = 0
    for agent in engine.agents.values():
        by_state[agent.state.value] += 1
        if agent.state is AgentState.PAUSED and agent.pause_reason:
            reasons[agent.pause_reason] = reasons.get(agent.pause_reason, 0) + 1
        if agent.logged_in and not agent.reachable:
            unreachable += 1
    return CentreView(now, tuple(views), by_state, reasons, unreachable)


def expected_wait_s(engine: Engine, call_id: CallId, aht_s: float) -> float | None:
    """Position × average handle time ÷ agents serving the call's pool; None if not waiting.

    ``aht_s`` comes from the caller (e.g. the queue's KPIs so far); NaN counts as unknown.
    """
    pos = engine.position(call_id)
    call = engine.calls.get(call_id)
    if pos is None or call is None or call.pool is None or math.isnan(aht_s):
        return None
    serving = sum(
        1
        for a in call.pool.members
        if engine.agents[a].state in _SERVING and engine.agents[a].reachable
    )
    return pos * aht_s / max(serving, 1)


def wait_view(engine: Engine, call_id: str, times: HandleTimes) -> WaitPrediction | None:
    """A call on hold: its place among the calls competing for its agents and its
    expected wait (:func:`acd.predict.predict_wait`); None when it is not on hold."""
    return predict_wait(engine, CallId(call_id), times)


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent as the desk and the wallboard show it."""

    id: AgentId
    state: str  # an AgentState value: "ready", "paused", ...
    reason: str | None  # the pause reason when paused
    call: CallId | None  # the call it is offered, on, or wrapping up
    since: float  # when it entered ``state``
    reachable: bool
    busy_elsewhere: bool = False  # its phone is on a call Hotline did not place
    after_call: str | None = None  # "ready", "pause" or "logout" after this call
    after_call_reason: str | None = None  # the pause reason of "pause after this call"


@dataclass(frozen=True, slots=True)
class CallView:
    """One call the engine holds, as the offer (screen-pop) shows it."""

    id: CallId
    queue: QueueName  # where it waits now
    caller: str
    state: str  # a CallState value: "waiting", "offered", ...
    arrived_at: float
    answered_at: float | None
    callback: str | None  # the number to dial back, for a callback
    waited_s: float  # until answered, or until now
    priority: str = "normal"  # its priority class ([priorities])
    sticky: bool = False  # offered to the owner of the caller's open case (sticky routing)


def agent_view(engine: Engine, agent_id: str) -> AgentView | None:
    """None for an agent not in the roster."""
    a = engine.agents.get(agent_id)
    if a is None:
        return None
    call = CallId(a.call) if a.call else None
    reason = a.pause_reason if a.state is AgentState.PAUSED else None
    wish = a.after_call.value if a.after_call is not None else None
    return AgentView(
        AgentId(a.id), a.state.value, reason, call, a.state_since, a.reachable,
        a.busy_elsewhere, wish, a.after_call_reason,
    )  # fmt: skip


def agent_views(engine: Engine, *, logged_in: bool = False) -> list[AgentView]:
    """Every agent of the roster in roster order (only those logged in, if asked)."""
    views = (agent_view(engine, a) for a in engine.agents)
    return [v for v in views if v is not None and not (logged_in and v.state == "logged-out")]


def call_view(engine: Engine, call_id: str) -> CallView | None:
    """None once the engine has forgotten the call (after its wrap-up)."""
    c = engine.calls.get(CallId(call_id))
    if c is None:
        return None
    until = c.answered_at if c.answered_at is not None else engine.clock.now()
    return CallView(
        c.id, c.queue, c.caller, c.state.value, c.arrived_at, c.answered_at, c.callback,
        until - c.arrived_at, c.priority_name, c.sticky,
    )  # fmt: skip


def has_call(engine: Engine, call_id: str) -> bool:
    return CallId(call_id) in engine.calls


def call_ids(engine: Engine) -> list[CallId]:
    """The calls the engine holds, sorted."""
    return sorted(engine.calls)


def queue_length(engine: Engine, queue: QueueName) -> int:
    """Calls in ``queue`` (waiting, being offered, or callbacks keeping their place)."""
    return len(engine.waiting(queue))


def queue_lengths(engine: Engine) -> dict[QueueName, int]:
    """:func:`queue_length` of every queue that has a call, in config order."""
    lengths = {q: queue_length(engine, q) for q in engine.config.queues}
    return {q: n for q, n in lengths.items() if n}


def longest_waiting_s(engine: Engine) -> float:
    """How long the longest-waiting call not yet offered has waited (0 if none)."""
    waiting = [c.arrived_at for c in engine.calls.values() if c.state is CallState.WAITING]
    return engine.clock.now() - min(waiting) if waiting else 0.0


# the wallboard: the agent grid, agents per queue, the waiting calls


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent of the wallboard's grid: its state, and the call it is on, if any."""

    id: AgentId
    name: str
    state: str
    since: float
    reason: str | None  # the pause reason when paused
    reachable: bool
    call: CallId | None
    queue: QueueName | None  # the queue of its call
    caller_wait_s: float | None  # how long that caller waited (until answered, or now)
    calls_today: int
    after_call: str | None  # "ready" | "pause" | "logout" after this call
    after_call_reason: str | None
    queues: tuple[QueueName, ...]  # the queues it could serve
    busy_elsewhere: bool = False  # its phone is on a call Hotline did not place


def agent_rows(engine: Engine, *, logged_in: bool = True) -> list[AgentRow]:
    """The agents in roster order (only those logged in, by default). O(agents)."""
    now = engine.clock.now()
    capable = engine.roster.capable
    rows = []
    for a in engine.agents.values():
        if logged_in and not a.logged_in:
            continue
        c = engine.calls.get(CallId(a.call)) if a.call else None
        wait = None
        if c is not None:
            wait = (c.answered_at if c.answered_at is not None else now) - c.arrived_at
        rows.append(
            AgentRow(
                AgentId(a.id), a.name, a.state.value, a.state_since,
                a.pause_reason if a.state is AgentState.PAUSED else None, a.reachable,
                c.id if c else None, c.queue if c else None, wait, a.calls_today,
                a.after_call.value if a.after_call else None, a.after_call_reason,
                tuple(capable.get(a.id, ())), a.busy_elsewhere,
            )
        )  # fmt: skip
    return rows


def queue_agents(engine: Engine) -> dict[QueueName, dict[str, int]]:
    """Per queue, its logged-in agents (those who could serve it) by state."""
    out = {
        q: {s.value: 0 for s in AgentState if s is not AgentState.LOGGED_OUT}
        for q in engine.config.queues
    }
    capable = engine.roster.capable
    for a in engine.agents.values():
        if a.logged_in:
            for q in capable.get(a.id, ()):
                out[q][a.state.value] += 1
    return out


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A call a supervisor may raise or move: waiting, ringing, or a callback."""

    id: CallId
    queue: QueueName
    priority: str
    caller: str
    state: str  # "waiting", "offered" or "deferred" (a callback waiting for its retry)
    arrived_at: float
    waited_s: float
    callback: str | None
    agent: AgentId | None  # the agent being rung


def waiting_calls(engine: Engine) -> list[WaitingCall]:
    """Every call not yet answered, per queue in config order, in queue order
    (priority, then arrival). O(calls log calls)."""
    now = engine.clock.now()
    out = []
    for name in engine.config.queues:
        calls = sorted(engine.queue_calls.get(name, {}).values(), key=lambda c: c.order_key())
        for c in calls:
            if c.state in (CallState.WAITING, CallState.OFFERED, CallState.DEFERRED):
                out.append(
                    WaitingCall(
                        c.id, c.queue, c.priority_name, c.caller, c.state.value, c.arrived_at,
                        now - c.arrived_at, c.callback, c.agent,
                    )
                )  # fmt: skip
    return out
