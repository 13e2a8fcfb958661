"""What the alarm evaluator reads: plain data a shell gathers once per evaluation.

``AlarmInputs`` holds the read model's :class:`~acd.snapshot.CentreView`, the
KPIs of a recent window (from :mod:`acd.metrics`, the one implementation), each
agent's state with the time it entered it, whether the AMI link is up, and how far
the calendar's holidays are known (:meth:`acd.calendar.Calendar.known_until`).

Two small helpers keep those figures from the notifier's stream, with no I/O:

- :class:`AgentStateClock` follows ``AgentStateChanged`` effects and knows since
  when each agent has been in its current state (the snapshot counts agents by
  state but does not say for how long).
- :class:`RecentCalls` counts the call records of the last ``window_s`` seconds
  (in time buckets, :mod:`acd.kpi_window`) and gives their KPIs per entry queue
  and for the whole centre. A call counts
  from the moment its service level was decided: when it was answered or left
  (``arrived_at + wait_s``), not when it arrived, so a call answered just now after
  a long wait counts now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from acd.agent_state import AgentState
from acd.config import MetricsConfig
from acd.effects import AgentStateChanged
from acd.kpi_window import KpiWindow
from acd.metrics import Kpis
from acd.records import CallRecord
from acd.snapshot import CentreView
from acd.types import AgentId, QueueName

__all__ = ["AgentStateClock", "AgentTime", "AlarmInputs", "RecentCalls"]


@dataclass(frozen=True, slots=True)
class AgentTime:
    """One agent's current state and when it entered it."""

    agent: AgentId
    state: AgentState
    since: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AlarmInputs:
    view: CentreView
    queue_kpis: Mapping[QueueName, Kpis] = field(default_factory=dict)  # over the window
    centre_kpis: Kpis | None = None  # the whole centre over the window
    agents: Sequence[AgentTime] = ()
    ami_down_since: float | None = None  # None: connected
    # the end (epoch s) of the last day whose holidays the calendar knows; None: no limit
    calendar_known_until: float | None = None
    calendar_last_day: str = ""  # that day, ISO (the alarm's detail)


class AgentStateClock:
    """Since when each agent is in its state, from ``AgentStateChanged`` effects."""

    def __init__(self) -> None:
        self._agents: dict[AgentId, AgentTime] = {}

    def observe(self, change: AgentStateChanged) -> None:
        state = AgentState(change.new)
        if state is AgentState.LOGGED_OUT:
            self._agents.pop(change.agent, None)
            return
        old = self._agents.get(change.agent)
        if old is not None and old.state is state and old.reason == change.reason:
            return  # "ready" again while ready: the time in state goes on
        self._agents[change.agent] = AgentTime(change.agent, state, change.at, change.reason)

    def agents(self) -> tuple[AgentTime, ...]:
        """Every logged-in agent, in agent order."""
        return tuple(self._agents[a] for a in sorted(self._agents))


class RecentCalls:
    """KPIs of the calls decided within the last ``window_s`` seconds
    (:class:`~acd.kpi_window.KpiWindow`: no records kept, bounded memory)."""

    def __init__(self, window_s: float, config: MetricsConfig | None = None) -> None:
        if window_s <= 0:
            raise ValueError(f'"window_s" must be > 0, got {window_s}')
        self.window_s = window_s
        self.config = config or MetricsConfig()
        self._window = KpiWindow(window_s, self.config)

    def add(self, record: CallRecord) -> None:
        self._window.add(record, record.arrived_at + record.wait_s)

    def prune(self, now: float) -> None:
        self._window.prune(now)

    def __len__(self) -> int:
        return len(self._window)

    def kpis(self, now: float) -> tuple[dict[QueueName, Kpis], Kpis]:
        """(KPIs per entry queue, KPIs of the whole centre) over ``[now - window_s, now]``."""
        return self._window.kpis(now)
