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
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from acd import effects as fx
from acd import snapshot
from acd.engine import Engine
from acd.metrics import DailyKpis
from acd.snapshot import AgentView, CallView
from acd.types import AgentId, CallId, Clock
from telephony.notifier import StateCorrected

__all__ = ["ReadModel"]


class ReadModel:
    def __init__(self, engine: Engine, clock: Clock, stats: Counter[str]) -> None:
        self.engine = engine
        self.clock = clock
        self.stats = stats
        config = engine.config
        self.today = DailyKpis(config.metrics, config.timezone_offset_s)
        self.corrections: dict[str, StateCorrected] = {}  # the last correction per agent

    # the notifier's subscriber

    def notify(self, note: object) -> None:
        if isinstance(note, fx.CallFinished):
            self.today.add(note.record, self.clock.now())
        elif isinstance(note, StateCorrected) and note.agent is not None:
            self.corrections[note.agent] = note

    # views

    def agent(self, agent: str) -> AgentView | None:
        """None for an agent not in the roster."""
        return snapshot.agent_view(self.engine, agent)

    def call(self, call: str) -> CallView | None:
        return snapshot.call_view(self.engine, call)

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

    def state_of(self, agent: AgentId) -> str:
        view = self.agent(agent)
        return view.state if view is not None else "logged-out"

    def status(self) -> dict[str, Any]:
        """``/status``: its keys are API (``hotline live`` and the tests read them)."""
        now = self.clock.now()
        agents = {
            a.id: {
                "state": a.state,
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
        body: dict[str, Any] = {"agent": agent, "state": a.state, "offer": None}
        call = self.call(a.call) if a.call is not None else None
        if call is None:
            return body
        body["offer"] = {
            "call": call.id,
            "queue": call.queue,
            "caller": call.caller,
            "waited_s": round(call.waited_s, 1),
            "arrived_at": call.arrived_at,
            "answered_at": call.answered_at,
            "callback": call.callback,
        }
        return body
