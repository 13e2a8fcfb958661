"""The ``wallboard`` frame (docs/web-api.md), built from the read model only.

Pushed by the WebSocket hub (:mod:`serve.ws`) to supervisors' wallboards and
answered by ``GET /api/wallboard``: per queue, the calls waiting and ringing,
the longest current wait, the agents of the queue by state, today's and the
last 30 minutes' KPIs; every agent logged in, with its time in state, pause
reason, current queue and caller's wait, and its calls today; the alarms raised
now (given by the caller: the alarm subscriber owns them).

An agent "of a queue" is one whose skills meet the queue's own requirement
(``[queues.X] skills``, before any escalation step relaxes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from acd.config import AcdConfig, QueueConfig
from serve.read_model import ReadModel
from serve.today import kpis_body

__all__ = ["queue_members", "wallboard_frame"]

_STATE_KEYS = {
    "ready": "ready",
    "on-call": "on_call",
    "wrap-up": "wrap_up",
    "paused": "paused",
    "offered": "offered",
}


def queue_members(config: AcdConfig) -> dict[str, frozenset[str]]:
    """The agents of each queue: their skills meet the queue's own requirement."""

    def serves(skills: Mapping[str, int], q: QueueConfig) -> bool:
        return all(skills.get(s, 0) >= level for s, level in q.skills)

    return {
        name: frozenset(a.id for a in config.agents.values() if serves(dict(a.skills), q))
        for name, q in config.queues.items()
    }


def wallboard_frame(
    read_model: ReadModel,
    members: Mapping[str, frozenset[str]],
    alarms: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """``members``: :func:`queue_members` of the config (computed once)."""
    centre = read_model.centre()
    now = centre.at
    figures = read_model.figures
    agents = read_model.agents(logged_in=True)
    rows = []
    by_queue: dict[str, dict[str, int]] = {
        q.name: dict.fromkeys(_STATE_KEYS.values(), 0) for q in centre.queues
    }
    for a in agents:
        call = read_model.call(a.call) if a.call is not None else None
        row = read_model.agent_body(a, call)
        row["calls_today"] = figures.calls_today(a.id, now)
        row["caller_wait_s"] = round(call.waited_s, 1) if call is not None else None
        rows.append(row)
        key = _STATE_KEYS.get(a.state)
        if key is None:
            continue
        for q, counts in by_queue.items():
            if a.id in members.get(q, ()):
                counts[key] += 1
    queues = [
        {
            "queue": q.name,
            "title": q.title,
            "waiting": q.waiting,
            "ringing": q.ringing,
            "callbacks": q.callbacks,
            "longest_wait_s": round(q.longest_wait_s, 1),
            "agents": by_queue[q.name],
            "today": kpis_body(figures.queue_today(q.name, now)),
            "last_30_min": kpis_body(figures.queue_recent(q.name, now)),
        }
        for q in centre.queues
    ]
    return {
        "type": "wallboard",
        "at": now,
        "queues": queues,
        "agents": rows,
        "alarms": [dict(a) for a in alarms],
        "centre": {
            "waiting": sum(q.waiting for q in centre.queues),
            "longest_wait_s": round(max((q.longest_wait_s for q in centre.queues), default=0), 1),
            "agents_by_state": centre.agents_by_state,
            "paused_by_reason": centre.paused_by_reason,
            "unreachable": centre.unreachable,
            "today": kpis_body(read_model.today.kpis(now)),
        },
    }
