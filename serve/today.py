"""Today's figures per agent and per queue, for the desk's "my day" and the wallboard.

A subscriber of the shell's notifier (through :meth:`serve.read_model.ReadModel.notify`),
in bounded memory: per agent, the calls it answered since local midnight
(``[centre] timezone_offset_s``), their talk and wrap-up time (the call record's
own :attr:`~acd.records.CallRecord.talk_s` and
:attr:`~acd.records.CallRecord.wrapup_s`) and the time it spent paused (from
``AgentStateChanged``); per queue (the queue a call entered), the KPIs of the
calls finished today and in the last 30 minutes, with :class:`acd.metrics.KpiAccumulator`,
the one implementation of the centre's KPIs. The first note or read of a new day
starts over; a pause that spans midnight counts from midnight.

Today's history per queue per 15-minute interval (:meth:`Today.intervals`) is
:class:`acd.intervals.IntervalBook`, the same table ``hotline report`` prints for
a recorded day and the simulator for a simulated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from acd import effects as fx
from acd.config import MetricsConfig
from acd.intervals import IntervalBook
from acd.kpi_window import KpiWindow
from acd.metrics import AgentTimeMeter, KpiAccumulator, Kpis, agent_parts
from acd.records import CallRecord
from acd.types import QueueName

__all__ = ["RECENT_S", "Today", "kpis_body"]

RECENT_S = 1800.0  # the wallboard's "last 30 minutes"


@dataclass(slots=True)
class AgentDay:
    answered: int = 0
    talk_s: float = 0.0
    wrapup_s: float = 0.0
    wrapped: int = 0  # answered calls whose wrap-up ended (the average's count)
    paused_s: float = 0.0
    paused_since: float | None = None  # paused now, since


class Today:
    def __init__(self, config: MetricsConfig, timezone_offset_s: float) -> None:
        self.config = config
        self.timezone_offset_s = timezone_offset_s
        self.day = -1
        self.midnight = 0.0
        self.agents: dict[str, AgentDay] = {}
        self.queues: dict[str, KpiAccumulator] = {}
        self.recent = KpiWindow(RECENT_S, config)  # by the time the record came
        self.book = IntervalBook(config, timezone_offset_s)
        self.meter = AgentTimeMeter(config.interval_s)

    def roll(self, now: float) -> None:
        day = math.floor((now + self.timezone_offset_s) / 86400)
        if day == self.day:
            return
        self.day = day
        self.midnight = day * 86400 - self.timezone_offset_s
        paused = {a: d.paused_since for a, d in self.agents.items() if d.paused_since is not None}
        self.agents = {a: AgentDay(paused_since=max(t, self.midnight)) for a, t in paused.items()}
        self.queues = {}
        self.book = IntervalBook(self.config, self.timezone_offset_s)
        meter = AgentTimeMeter(self.config.interval_s)
        for change in self.meter.current():  # agents keep their state across midnight
            meter.observe(replace(change, at=max(change.at, self.midnight)))
        self.meter = meter

    # the notifier's subscriber

    def notify(self, note: object, now: float) -> None:
        if isinstance(note, fx.AgentStateChanged):
            self.roll(note.at)
            self.meter.observe(note)
            day = self._agent(note.agent)
            if day.paused_since is not None and note.new != "paused":
                day.paused_s += max(0.0, note.at - day.paused_since)
                day.paused_since = None
            elif note.new == "paused" and day.paused_since is None:
                day.paused_since = note.at
        elif isinstance(note, fx.CallFinished):
            self.roll(now)
            self.add(note.record, now)

    def add(self, r: CallRecord, now: float) -> None:
        acc = self.queues.get(r.queue)
        if acc is None:
            acc = self.queues[r.queue] = KpiAccumulator(self.config)
        acc.add(r)
        self.book.add(r)
        self.recent.add(r, now)
        self.recent.prune(now)
        for part in agent_parts(r):  # each agent of a transferred call its own part
            day = self._agent(part.agent)
            day.answered += 1
            day.talk_s += part.talk_s
            if part.wrapup_s is not None:
                day.wrapup_s += part.wrapup_s
                day.wrapped += 1

    def _agent(self, agent: str) -> AgentDay:
        day = self.agents.get(agent)
        if day is None:
            day = self.agents[agent] = AgentDay()
        return day

    # reads

    def my_day(self, agent: str, now: float) -> dict[str, Any]:
        """The desk's ``my_day``: its keys are API (docs/web-api.md)."""
        self.roll(now)
        day = self.agents.get(agent, AgentDay())
        paused = day.paused_s
        if day.paused_since is not None:
            paused += max(0.0, now - day.paused_since)
        return {
            "answered": day.answered,
            "avg_talk_s": round(day.talk_s / day.answered, 1) if day.answered else None,
            "avg_wrapup_s": round(day.wrapup_s / day.wrapped, 1) if day.wrapped else None,
            "paused_s": round(paused, 1),
            "since": self.midnight,
        }

    def calls_today(self, agent: str, now: float) -> int:
        self.roll(now)
        day = self.agents.get(agent)
        return day.answered if day is not None else 0

    def queue_today(self, queue: str, now: float) -> Kpis:
        self.roll(now)
        acc = self.queues.get(queue)
        return (acc if acc is not None else KpiAccumulator(self.config)).kpis()

    def intervals(self, now: float) -> list[dict[str, Any]]:
        """Today per queue per interval, with the centre's occupancy (acd.intervals)."""
        self.roll(now)
        self.meter.close(now)
        return self.book.rows(self.meter)

    def queue_recent(self, queue: str, now: float) -> Kpis:
        """The KPIs of the calls of ``queue`` that finished in the last :data:`RECENT_S`."""
        return self.recent.queue(QueueName(queue), now)


def kpis_body(k: Kpis) -> dict[str, Any]:
    """The wallboard's kpis shape (docs/web-api.md): ``None`` for nothing to count."""
    d = k.as_dict()
    return {
        key: d[key]
        for key in (
            "offered",
            "answered",
            "abandoned",
            "service_level",
            "abandon_rate",
            "asa_s",
            "aht_s",
        )
    }
