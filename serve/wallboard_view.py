"""The wallboard frame: what a supervisor's wallboard shows, from the read model only.

``wallboard_frame(read_model, alarms)`` is the body of the ``wallboard`` frame the
WebSocket hub pushes and of ``GET /api/wallboard`` (docs/web-api.md, "Shapes"):

- ``queues[]``: per queue, calls waiting / ringing / callbacks, the longest
  current wait, its agents by state, today's and the last 30 minutes' KPIs, and
  the ids of the active alarms about it;
- ``agents[]``: the logged-in agents (state, time in state, pause reason, the
  current call's queue and caller wait, calls today, whether its phone is busy
  elsewhere, and its last state correction by healing, :class:`telephony.notifier.StateCorrected`);
- ``calls[]``: the calls not yet answered, in queue order, for the supervisor's
  "raise priority" and "move to queue" actions;
- ``alarms[]``: the active alarms (``Alarm.as_dict()`` plus ``raised_at``);
- ``queues[].expected_wait``: the expected wait of the queue's last caller in line
  (:mod:`acd.queue_wait`, predicted at most once a second), ``null`` when nobody
  waits there;
- ``broadcast``: the emergency broadcast callers hear now, or ``null``;
- ``centre``: the whole centre's figures; ``choices``: the pause reasons,
  priority classes and queues the actions accept.

Every KPI comes from :mod:`acd.metrics` (one implementation): today's from
:class:`acd.metrics.DailyKpis`, the window's from
:class:`acd.alarm_inputs.RecentCalls`; a figure with nothing to count is
``null``. O(calls + agents): built at most once a second per change batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from acd.alarms import Alarm
from acd.metrics import Kpis, kpis
from acd.predict import WaitPrediction
from serve.read_model import ReadModel

__all__ = ["AlarmSource", "expected_wait_dict", "kpi_dict", "wallboard_frame"]

AlarmSource = Callable[[], Iterable[Alarm]] | Iterable[Alarm] | None
_AGENT_KEYS = {"ready": "ready", "on-call": "on_call", "wrap-up": "wrap_up", "paused": "paused",
               "offered": "offered"}  # fmt: skip


def kpi_dict(k: Kpis) -> dict[str, Any]:
    """The wallboard's KPI shape (``null`` where there is nothing to count)."""
    d = k.as_dict()
    return {
        "offered": k.offered,
        "answered": k.answered,
        "abandoned": k.abandoned,
        "service_level": d["service_level"],
        "abandon_rate": d["abandon_rate"],
        "asa_s": d["asa_s"],
        "aht_s": d["aht_s"],
        "refused": k.refused,
    }


def _correction(read_model: ReadModel, agent: str) -> dict[str, Any] | None:
    """The agent's last state correction by healing (``telephony.reconcile``), if any."""
    c = read_model.correction(agent)
    return None if c is None else {"at": c["at"], "kind": c["kind"], "action": c["action"]}


def expected_wait_dict(p: WaitPrediction | None) -> dict[str, Any] | None:
    """A queue's ``expected_wait``: its last caller in line, their place and expected
    further wait (``wait_s`` null: no agent at work will take them)."""
    if p is None:
        return None
    return {
        "call": p.call,
        "position": p.position,
        "wait_s": None if p.wait_s is None else round(p.wait_s, 1),
        "waited_s": round(p.waited_s, 1),
        "agents_now": p.agents_now,
    }


def active_alarms(alarms: AlarmSource) -> list[Alarm]:
    if alarms is None:
        return []
    found = alarms() if callable(alarms) else alarms
    return sorted(found, key=lambda a: (a.since, a.id))


def wallboard_frame(read_model: ReadModel, alarms: AlarmSource = None) -> dict[str, Any]:
    """The ``wallboard`` frame; ``alarms``: the active alarms (or a callable giving them)."""
    now = read_model.clock.now()
    config = read_model.engine.config
    empty = kpis([], config.metrics)
    centre = read_model.centre()
    by_queue = read_model.queue_agents()
    today_q, today = read_model.today_kpis()
    recent_q, recent = read_model.recent_kpis()
    active = active_alarms(alarms)
    waits = read_model.expected_waits()
    queues = []
    for v in centre.queues:
        agents = by_queue.get(v.name, {})
        subject = f"queue:{v.name}"
        queues.append(
            {
                "queue": v.name,
                "title": v.title,
                "waiting": v.waiting,
                "ringing": v.ringing,
                "callbacks": v.callbacks,
                "longest_wait_s": round(v.longest_wait_s, 1),
                "expected_wait": expected_wait_dict(waits.get(v.name)),
                "agents": {key: agents.get(state, 0) for state, key in _AGENT_KEYS.items()},
                "today": kpi_dict(today_q.get(v.name, empty)),
                "last_30_min": kpi_dict(recent_q.get(v.name, empty)),
                "alarms": [a.id for a in active if a.subject == subject],
            }
        )
    rows = [
        {
            "agent": r.id,
            "name": r.name,
            "state": r.state,
            "since": r.since,
            "in_state_s": round(max(0.0, now - r.since), 1),
            "reason": r.reason,
            "reachable": r.reachable,
            "call": r.call,
            "queue": r.queue,
            "caller_wait_s": round(r.caller_wait_s, 1) if r.caller_wait_s is not None else None,
            "calls_today": r.calls_today,
            "after_call": r.after_call,
            "after_call_reason": r.after_call_reason,
            "queues": list(r.queues),
            "alarms": [a.id for a in active if a.subject == f"agent:{r.id}"],
            "busy_elsewhere": r.busy_elsewhere,
            "correction": _correction(read_model, r.id),
        }
        for r in read_model.agent_rows()
    ]
    calls = [
        {
            "call": c.id,
            "queue": c.queue,
            "priority": c.priority,
            "caller": c.caller,
            "state": c.state,
            "arrived_at": c.arrived_at,
            "waited_s": round(c.waited_s, 1),
            "callback": c.callback,
            "agent": c.agent,
        }
        for c in read_model.waiting_calls()
    ]
    return {
        "type": "wallboard",
        "at": now,
        "queues": queues,
        "agents": rows,
        "calls": calls,
        "alarms": [{**a.as_dict(), "raised_at": a.since} for a in active],
        "broadcast": read_model.broadcast(),
        "centre": {
            "waiting": sum(q.waiting for q in centre.queues),
            "ringing": sum(q.ringing for q in centre.queues),
            "callbacks": sum(q.callbacks for q in centre.queues),
            "longest_wait_s": round(max((q.longest_wait_s for q in centre.queues), default=0), 1),
            "agents": dict(centre.agents_by_state),
            "paused_by_reason": dict(centre.paused_by_reason),
            "unreachable": centre.unreachable,
            "today": kpi_dict(today),
            "last_30_min": kpi_dict(recent),
        },
        "choices": {
            "pause_reasons": dict(config.pause_reasons),
            "priorities": sorted(config.priorities, key=lambda p: -config.priorities[p]),
            "queues": {name: q.title for name, q in config.queues.items()},
        },
    }
