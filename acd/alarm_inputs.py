"""What the alarm evaluator reads: plain data a shell gathers once per evaluation.

``AlarmInputs`` holds the read model's :class:`~acd.snapshot.CentreView`, the
KPIs of a recent window (from :mod:`acd.metrics`, the one implementation), each
agent's state with the time it entered it, and whether the AMI link is up.

Two small helpers keep those figures from the notifier's stream, with no I/O:

- :class:`AgentStateClock` follows ``AgentStateChanged`` effects and knows since
  when each agent has been in its current state (the snapshot counts agents by
  state but does not say for how long).
- :class:`RecentCalls` keeps the call records of the last ``window_s`` seconds
  and computes their KPIs per entry queue and for the whole centre. A call counts
  from the moment its service level was decided: when it was answered or left
  (``arrived_at + wait_s``), not when it arrived, so a call answered just now after
  a long wait counts now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from acd.agent_state import AgentState
from acd.config import MetricsConfig
from acd.effects import AgentStateChanged
from acd.metrics import KpiAccumulator, Kpis
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
    """Call records decided within the last ``window_s`` seconds, and their KPIs."""

    def __init__(self, window_s: float, config: MetricsConfig | None = None) -> None:
        if window_s <= 0:
            raise ValueError(f'"window_s" must be > 0, got {window_s}')
        self.window_s = window_s
        self.config = config or MetricsConfig()
        self._records: deque[tuple[float, CallRecord]] = deque()

    def add(self, record: CallRecord) -> None:
        decided_at = record.arrived_at + record.wait_s
        # Records come in nearly in order; keep the deque sorted by decision time.
        if not self._records or self._records[-1][0] <= decided_at:
            self._records.append((decided_at, record))
            return
        items = sorted([*self._records, (decided_at, record)], key=lambda x: x[0])
        self._records = deque(items)

    def prune(self, now: float) -> None:
        start = now - self.window_s
        while self._records and self._records[0][0] < start:
            self._records.popleft()

    def __len__(self) -> int:
        return len(self._records)

    def kpis(self, now: float) -> tuple[dict[QueueName, Kpis], Kpis]:
        """(KPIs per entry queue, KPIs of the whole centre) over ``(now - window_s, now]``."""
        self.prune(now)
        centre = KpiAccumulator(self.config)
        per_queue: dict[QueueName, KpiAccumulator] = {}
        for decided_at, r in self._records:
            if decided_at > now:
                continue
            centre.add(r)
            acc = per_queue.get(r.queue)
            if acc is None:
                acc = per_queue[r.queue] = KpiAccumulator(self.config)
            acc.add(r)
        return {q: per_queue[q].kpis() for q in sorted(per_queue)}, centre.kpis()
