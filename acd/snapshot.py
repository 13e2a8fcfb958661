"""Read-only views of the engine for wallboards and announcements.

Nothing here changes the engine. ``snapshot`` is O(calls + agents): call it
once a second, not per event. ``expected_wait_s`` is what the holding loop
announces ("you are number 3; about 2 minutes").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from acd.agent_state import AgentState
from acd.calls import CallState
from acd.engine import Engine
from acd.types import CallId, QueueName

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
