"""The alarms of ``hotline serve``: ``[alarms]`` evaluated once a second from the read
model, each raise and clear published through the shell's notifier.

Theory of operation. :class:`AlarmWatch` is two things at once:

- a **subscriber** of the notifier (:meth:`AlarmWatch.notify`): it follows agent
  state changes (:class:`~acd.alarm_inputs.AgentStateClock`, since when each
  agent is in its state) and finished calls (:class:`~acd.alarm_inputs.RecentCalls`,
  the KPIs of the last ``window_s``), with no I/O;
- the **evaluator** (:meth:`AlarmWatch.tick`): it gathers
  :class:`~acd.alarm_inputs.AlarmInputs` from the read model's centre view, those
  figures and whether AMI is logged in, runs the pure
  :func:`acd.alarms.evaluate`, and turns the result into raise / clear
  transitions with an :class:`~acd.alarms.AlarmTracker`.

:func:`running` is the 1 s task. Each transition (:class:`~acd.alarms.AlarmRaised`,
:class:`~acd.alarms.AlarmCleared`) goes out through the same
:class:`telephony.notifier.Notifier` as every effect, so MQTT, Prometheus and the
WebSocket hub see alarms the way they see calls, as one more note, with no second
list of listeners to keep in step (the alternative, a list of callables here,
would be a second "way out" with its own ordering and error handling). The
notifier's subscribers run synchronously and never block, so a tick costs one
O(calls + agents) snapshot and the evaluation.

AMI down: the AMI client's ``connected`` flag is read at each tick; the first
tick that sees it cleared is ``ami_down_since`` (1 s resolution, the evaluation's
own). The loop starts after serve's first AMI log-in, so a start-up is not an
outage.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from acd import effects as fx
from acd.alarm_config import AlarmConfig
from acd.alarm_inputs import AgentStateClock, AlarmInputs, RecentCalls
from acd.alarms import Alarm, AlarmCleared, AlarmRaised, AlarmTracker, AlarmTransition, evaluate
from acd.calendar import Calendar
from acd.config import MetricsConfig
from acd.metrics import Kpis
from acd.snapshot import CentreView
from acd.types import Clock, QueueName
from telephony.periodic import repeating

__all__ = ["AlarmWatch", "running"]

log = logging.getLogger(__name__)


class AlarmWatch:
    """The notifier's alarm subscriber and the once-a-second evaluator."""

    def __init__(
        self,
        config: AlarmConfig,
        view: Callable[[], CentreView],
        link_up: Callable[[], bool],
        clock: Clock,
        metrics: MetricsConfig | None = None,
        calendar: Calendar | None = None,
    ) -> None:
        """``calendar``: whose known holidays end (``calendar_ends``); None: not watched."""
        self.config = config
        self.calendar_until = calendar.known_until_at() if calendar is not None else None
        self.calendar_last_day = (
            calendar.known_until.isoformat()
            if calendar is not None and calendar.known_until is not None
            else ""
        )
        self.view = view
        self.link_up = link_up
        self.clock = clock
        self.agents = AgentStateClock()
        self.recent = RecentCalls(config.window_s, metrics)
        self.tracker = AlarmTracker()
        self.ami_down_since: float | None = None
        self._raised_at: dict[str, float] = {}

    # --- the notifier's subscriber ----------------------------------------------------
    def notify(self, note: object) -> None:
        if isinstance(note, fx.AgentStateChanged):
            self.agents.observe(note)
        elif isinstance(note, fx.CallFinished):
            self.recent.add(note.record)

    # --- evaluation -------------------------------------------------------------------
    def tick(self, now: float | None = None) -> list[AlarmTransition]:
        """Evaluate at ``now`` (the clock's time); the transitions since the last tick."""
        t = self.clock.now() if now is None else now
        if self.link_up():
            self.ami_down_since = None
        elif self.ami_down_since is None:
            self.ami_down_since = t
        queue_kpis, centre_kpis = self.recent.kpis(t)
        inputs = AlarmInputs(
            view=self.view(),
            queue_kpis=queue_kpis,
            centre_kpis=centre_kpis,
            agents=self.agents.agents(),
            ami_down_since=self.ami_down_since,
            calendar_known_until=self.calendar_until,
            calendar_last_day=self.calendar_last_day,
        )
        transitions = self.tracker.update(evaluate(self.config, inputs, t), t)
        for tr in transitions:
            if isinstance(tr, AlarmRaised):
                self._raised_at[tr.alarm.id] = tr.at
            else:
                self._raised_at.pop(tr.alarm.id, None)
        return transitions

    # --- views ------------------------------------------------------------------------
    def active(self) -> list[Alarm]:
        """The active alarms, by id (Prometheus' ``alarms()`` callable)."""
        return self.tracker.active()

    def active_dicts(self) -> list[dict[str, Any]]:
        """The active alarms as the wallboard and MQTT show them (``raised_at`` added)."""
        return [
            {**a.as_dict(), "raised_at": self._raised_at.get(a.id, a.since)} for a in self.active()
        ]

    def window_kpis(self, now: float | None = None) -> tuple[dict[QueueName, Kpis], Kpis]:
        """KPIs over the last ``[alarms] window_s`` (per queue, and the whole centre)."""
        return self.recent.kpis(self.clock.now() if now is None else now)


@contextlib.asynccontextmanager
async def running(
    watch: AlarmWatch,
    publish: Callable[[AlarmRaised | AlarmCleared], object],
    period_s: float = 1.0,
) -> AsyncIterator[AlarmWatch]:
    """Tick ``watch`` every ``period_s`` while the block runs, each transition to
    ``publish`` (the notifier's); stopped on leaving. A failure is logged: a bug here
    must not end the alarms for good."""

    def tick() -> None:
        for tr in watch.tick():
            kind = "raised" if isinstance(tr, AlarmRaised) else "cleared"
            log.info("alarm %s: %s", kind, tr.alarm.id)
            publish(tr)

    async with repeating(tick, period_s, log=log, failed="alarm evaluation failed", name="alarms"):
        yield watch
