"""The one read model of ``hotline serve``: what every outward view shows.

``/status`` (the control API, read by ``hotline live``), the offer endpoint
(``GET /api/agents/{agent}/offer``) and the CRM link's caller look-up read the
engine only through :mod:`acd.snapshot` views and today's figures from
:class:`acd.metrics.DailyKpis`, never the engine's dictionaries. The wallboard,
the agent desk, MQTT's snapshot topics and Prometheus (issue #10) read it too.

It is also a subscriber of the shell's notifier (:meth:`ReadModel.notify`): each
``CallFinished`` record is counted into today's figures (outcomes since local
midnight, ``[centre] timezone_offset_s``) and then forgotten, so memory stays flat
however many calls a day brings; the records themselves are in ``calls.jsonl``.
The same notes feed :class:`serve.today.Today` (per agent: the desk's "my day";
per queue: today and the last 30 minutes, for the wallboard).

The desk's view of one seat (:meth:`ReadModel.desk`, docs/web-api.md's ``desk``
frame) is built here from the agent's and its call's views: state and since,
the after-call wish, when a wrap-up ends (the agent's ``wrapup_s``, else its
call's queue's), the offer with its queue title, priority and stickiness.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from acd import effects as fx
from acd import snapshot
from acd.alarm_inputs import RecentCalls
from acd.engine import Engine
from acd.handle_times import HandleTimes
from acd.metrics import DailyKpis, Kpis
from acd.predict import WaitPrediction
from acd.queue_wait import QueueWaits
from acd.snapshot import AgentRow, AgentView, CallView, CentreView, WaitingCall
from acd.types import AgentId, CallId, Clock, QueueName
from ivr.broadcast import Broadcast
from serve.today import Today
from telephony.notifier import StateCorrected

__all__ = ["RECENT_WINDOW_S", "ReadModel"]

RECENT_WINDOW_S = 1800.0  # the wallboard's "last 30 minutes"


class ReadModel:
    def __init__(self, engine: Engine, clock: Clock, stats: Counter[str]) -> None:
        self.engine = engine
        self.clock = clock
        self.stats = stats
        config = engine.config
        self.today = DailyKpis(config.metrics, config.timezone_offset_s)
        self.figures = Today(config.metrics, config.timezone_offset_s)
        self.today_by_queue = {  # by entry queue, as acd.metrics counts "offered"
            q: DailyKpis(config.metrics, config.timezone_offset_s) for q in config.queues
        }
        self.recent = RecentCalls(RECENT_WINDOW_S, config.metrics)
        self.corrections: dict[str, StateCorrected] = {}  # the last correction per agent
        self.handle_times = HandleTimes()  # talk times of finished calls: the wait predictor's
        self.queue_waits = QueueWaits(engine, self.handle_times)  # at most once a second
        # the emergency broadcast callers hear now (serve sets it: ivr.broadcast.BroadcastBoard)
        self.broadcast_source: Callable[[], Broadcast | None] | None = None

    # the notifier's subscriber

    def notify(self, note: object) -> None:
        if isinstance(note, fx.CallFinished):
            now = self.clock.now()
            self.today.add(note.record, now)
            by_queue = self.today_by_queue.get(note.record.queue)
            if by_queue is not None:
                by_queue.add(note.record, now)
            self.recent.add(note.record)
            self.handle_times.observe(note.record)
        elif isinstance(note, StateCorrected) and note.agent is not None:
            self.corrections[note.agent] = note
        self.figures.notify(note, self.clock.now())

    # views

    def agent(self, agent: str) -> AgentView | None:
        """None for an agent not in the roster."""
        return snapshot.agent_view(self.engine, agent)

    def call(self, call: str) -> CallView | None:
        return snapshot.call_view(self.engine, call)

    def wait(self, call: str) -> WaitPrediction | None:
        """A call on hold: its place and expected wait (:mod:`acd.predict`), for the
        holding caller's announcement; None when it is not on hold."""
        return snapshot.wait_view(self.engine, call, self.handle_times)

    def correction(self, agent: str) -> dict[str, Any] | None:
        """The last time the agent's state was corrected from Asterisk (None: never).
        Its keys are API (``/status``, the wallboard)."""
        c = self.corrections.get(agent)
        if c is None:
            return None
        return {
            "at": c.at,
            "kind": c.kind,
            "believed": c.believed,
            "observed": c.observed,
            "action": c.action,
            "call": c.call,
        }

    def caller_of(self, call: CallId) -> str | None:
        view = self.call(call)
        return view.caller if view is not None else None

    def agents(self, *, logged_in: bool = False) -> list[AgentView]:
        return snapshot.agent_views(self.engine, logged_in=logged_in)

    def centre(self) -> CentreView:
        """The whole centre now (queues, agents by state): O(calls + agents), so read
        it once a push, a tick or a scrape, not per event."""
        return snapshot.snapshot(self.engine)

    def state_of(self, agent: AgentId) -> str:
        view = self.agent(agent)
        return view.state if view is not None else "logged-out"

    def status(self) -> dict[str, Any]:
        """``/status``: its keys are API (``hotline live`` and the tests read them)."""
        now = self.clock.now()
        agents = {
            a.id: {
                "state": a.state,
                "reason": a.reason,
                "reachable": a.reachable,
                "call": a.call,
                "busy_elsewhere": a.busy_elsewhere,
                "after_call": a.after_call,
                "correction": self.correction(a.id),
            }
            for a in snapshot.agent_views(self.engine, logged_in=True)
        }
        return {
            "waiting": dict(snapshot.queue_lengths(self.engine)),
            "longest_wait_s": round(snapshot.longest_waiting_s(self.engine), 1),
            "outcomes": self.today.outcome_counts(now),
            "calls": snapshot.call_ids(self.engine),
            "agents": agents,
            "stats": dict(self.stats),
            "finished": self.today.finished(now),
        }

    def offer(self, agent: str) -> dict[str, Any] | None:
        """The offer endpoint's body without the screen-pop: the call the agent is
        ringing for, on, or wrapping up (``"offer": None`` if none); None for an
        agent not in the roster. Its keys are API."""
        a = self.agent(agent)
        if a is None:
            return None
        call = self.call(a.call) if a.call is not None else None
        return {"agent": agent, "state": a.state, "offer": self.offer_body(call)}

    def offer_body(self, call: CallView | None) -> dict[str, Any] | None:
        if call is None:
            return None
        q = self.engine.config.queues.get(call.queue)
        return {
            "call": call.id,
            "queue": call.queue,
            "queue_title": q.title if q is not None else call.queue,
            "priority": call.priority,
            "caller": call.caller,
            "waited_s": round(call.waited_s, 1),
            "arrived_at": call.arrived_at,
            "answered_at": call.answered_at,
            "callback": call.callback,
            "sticky": call.sticky,
        }

    def agent_body(self, a: AgentView, call: CallView | None) -> dict[str, Any]:
        """docs/web-api.md's ``agent`` shape."""
        live = self.engine.agents.get(a.id)  # agents added at runtime too
        return {
            "agent": a.id,
            "name": live.name if live is not None else a.id,
            "state": a.state,
            "since": a.since,
            "reason": a.reason,
            "reachable": a.reachable,
            "call": a.call,
            "queue": call.queue if call is not None else None,
            "after_call": a.after_call,
            "after_call_reason": a.after_call_reason,
        }

    def wrapup_ends_at(self, a: AgentView, call: CallView | None) -> float | None:
        """When the agent's wrap-up ends by itself (None if not in wrap-up)."""
        if a.state != "wrap-up" or call is None:
            return None
        config = self.engine.config
        live = self.engine.agents.get(a.id)
        q = config.queues.get(call.queue)
        if live is not None and live.wrapup_s is not None:
            return a.since + live.wrapup_s
        return a.since + (q.wrapup_s if q is not None else 0.0)

    def desk(self, agent: str) -> dict[str, Any] | None:
        """The ``desk`` frame (and ``GET /api/desk/{agent}``); None for an unknown agent."""
        a = self.agent(agent)
        if a is None:
            return None
        now = self.clock.now()
        call = self.call(a.call) if a.call is not None else None
        body = self.agent_body(a, call)
        ends = self.wrapup_ends_at(a, call)
        if ends is not None:
            body["wrapup_ends_at"] = ends
        return {
            "type": "desk",
            "at": now,
            "agent": body,
            "offer": self.offer_body(call),
            "my_day": self.figures.my_day(agent, now),
        }

    # the wallboard (serve.wallboard_view)

    def agent_rows(self) -> list[AgentRow]:
        return snapshot.agent_rows(self.engine)

    def queue_agents(self) -> dict[QueueName, dict[str, int]]:
        return snapshot.queue_agents(self.engine)

    def waiting_calls(self) -> list[WaitingCall]:
        return snapshot.waiting_calls(self.engine)

    def today_kpis(self) -> tuple[dict[QueueName, Kpis], Kpis]:
        """(per entry queue, the whole centre), since local midnight."""
        now = self.clock.now()
        per_queue = {q: d.kpis(now) for q, d in self.today_by_queue.items()}
        return per_queue, self.today.kpis(now)

    def today_intervals(self) -> list[dict[str, Any]]:
        """Today per queue per interval (:mod:`acd.intervals`, as ``hotline report``)."""
        return self.figures.intervals(self.clock.now())

    def expected_waits(self) -> dict[QueueName, WaitPrediction | None]:
        """Per queue, the expected wait of its last caller in line (:mod:`acd.queue_wait`;
        None: nobody waits there), predicted at most once a second."""
        return self.queue_waits.get()

    def broadcast(self) -> dict[str, Any] | None:
        """The emergency broadcast callers hear now (None: none, or it expired)."""
        b = self.broadcast_source() if self.broadcast_source is not None else None
        return None if b is None else b.as_dict()

    def recent_kpis(self) -> tuple[dict[QueueName, Kpis], Kpis]:
        """(per entry queue, the whole centre) over the last ``RECENT_WINDOW_S``."""
        return self.recent.kpis(self.clock.now())
