"""Call-centre KPIs, computed in one place from call records and agent state changes.

The wallboard, Prometheus, reports and the simulator all use these, so a
number means the same thing everywhere:

- offered: calls that arrived in the queue (by entry queue).
- short abandons: abandoned sooner than ``short_abandon_s``; they count neither
  as offered nor as abandoned in the rates below.
- service level within T: answered within T seconds / (offered - short abandons).
- abandon rate: (abandoned - short abandons) / (offered - short abandons).
- ASA: mean wait of answered calls. AHT: mean talk + wrap-up of answered calls.
- occupancy: busy time (ringing, talking, wrap-up) / (busy + ready) time;
  paused and logged-out time count in neither.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import assert_never

from acd.config import MetricsConfig
from acd.effects import AgentStateChanged
from acd.records import CallRecord
from acd.types import BEFORE_QUEUE, AgentId, Outcome

BUSY = frozenset({"offered", "on-call", "wrap-up"})
AVAILABLE = "ready"


@dataclass(frozen=True, slots=True)
class Kpis:
    offered: int
    answered: int
    abandoned: int  # short abandons excluded
    short_abandoned: int
    overflowed: int
    lost: int
    answered_within: dict[float, int]
    service_level: dict[float, float]  # NaN when nothing was offered
    asa_s: float
    aht_s: float
    abandon_rate: float
    max_wait_s: float
    refused: int = 0  # refused at overload (hand-off or door): never offered, not in offered

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly: NaN becomes None, thresholds become strings."""

        def clean(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 6)

        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "overflowed": self.overflowed,
            "lost": self.lost,
            "answered_within": {f"{t:g}": n for t, n in self.answered_within.items()},
            "service_level": {f"{t:g}": clean(v) for t, v in self.service_level.items()},
            "asa_s": clean(self.asa_s),
            "aht_s": clean(self.aht_s),
            "abandon_rate": clean(self.abandon_rate),
            "max_wait_s": round(self.max_wait_s, 6),
            "refused": self.refused,
        }


@dataclass(slots=True)
class KpiAccumulator:
    """Adds call records one at a time; :meth:`kpis` reads the figures so far."""

    config: MetricsConfig = field(default_factory=MetricsConfig)
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    lost: int = 0
    refused: int = 0  # shed at the hand-off (overload): not in ``offered``
    wait_answered_s: float = 0.0
    handle_s: float = 0.0
    handled: int = 0
    max_wait_s: float = 0.0
    within: dict[float, int] = field(default_factory=dict)

    def add(self, r: CallRecord) -> None:
        if r.outcome is Outcome.REFUSED:  # never queued: not offered to the queues
            self.refused += 1
            return
        if r.outcome in BEFORE_QUEUE:
            return  # never offered to a queue (the engine never has these)
        self.offered += 1
        wait = r.wait_s
        self.max_wait_s = max(self.max_wait_s, wait)
        if r.outcome is Outcome.ANSWERED:
            self.answered += 1
            self.wait_answered_s += wait
            for t in self.config.service_level_s:
                if wait <= t:
                    self.within[t] = self.within.get(t, 0) + 1
            if r.wrapup_ended_at is not None:
                self.handle_s += r.handle_s
                self.handled += 1
        elif r.outcome is Outcome.ABANDONED:
            if wait < self.config.short_abandon_s and not r.callback:
                self.short_abandoned += 1
            else:
                self.abandoned += 1
        elif r.outcome is Outcome.OVERFLOWED:
            self.overflowed += 1
        elif r.outcome is Outcome.LOST:
            self.lost += 1
        elif (
            r.outcome is Outcome.IVR_HANGUP
            or r.outcome is Outcome.SELF_SERVICE
            or r.outcome is Outcome.AFTER_HOURS
            or r.outcome is Outcome.VOICEMAIL
        ):
            pass  # returned above
        else:
            assert_never(r.outcome)

    def merge(self, other: KpiAccumulator) -> None:
        """Add the records ``other`` counted (same config), as if added here one by one."""
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.short_abandoned += other.short_abandoned
        self.overflowed += other.overflowed
        self.lost += other.lost
        self.refused += other.refused
        self.wait_answered_s += other.wait_answered_s
        self.handle_s += other.handle_s
        self.handled += other.handled
        self.max_wait_s = max(self.max_wait_s, other.max_wait_s)
        for t, n in other.within.items():
            self.within[t] = self.within.get(t, 0) + n

    def kpis(self) -> Kpis:
        base = self.offered - self.short_abandoned
        within = {t: self.within.get(t, 0) for t in self.config.service_level_s}
        return Kpis(
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            short_abandoned=self.short_abandoned,
            overflowed=self.overflowed,
            lost=self.lost,
            answered_within=within,
            service_level={t: _ratio(n, base) for t, n in within.items()},
            asa_s=_ratio(self.wait_answered_s, self.answered),
            aht_s=_ratio(self.handle_s, self.handled),
            abandon_rate=_ratio(self.abandoned, base),
            max_wait_s=self.max_wait_s,
            refused=self.refused,
        )


@dataclass(frozen=True, slots=True)
class AgentPart:
    """One agent's part of an answered call: its talk, and its wrap-up (None while
    not known: a transferring agent still wrapping up when the record was written)."""

    agent: AgentId
    talk_s: float
    wrapup_s: float | None


def agent_parts(r: CallRecord) -> list[AgentPart]:
    """Who handled an answered call, and for how long: one part per agent's leg of a
    transferred call (each agent's talk from its own answer to the transfer or the
    end, never the whole call's: asterisk#759, FreePBX#124), else the record's agent.
    Per-agent figures (the desk's "my day") add these, so no second is counted for
    two agents and none is lost."""
    if r.outcome is not Outcome.ANSWERED:
        return []
    if r.legs:
        return [
            AgentPart(
                leg.agent, leg.talk_s, leg.wrapup_s if leg.wrapup_ended_at is not None else None
            )
            for leg in r.legs
        ]
    if r.agent is None:
        return []
    return [AgentPart(r.agent, r.talk_s, r.wrapup_s if r.wrapup_ended_at is not None else None)]


def kpis(records: Iterable[CallRecord], config: MetricsConfig | None = None) -> Kpis:
    acc = KpiAccumulator(config or MetricsConfig())
    for r in records:
        acc.add(r)
    return acc.kpis()


def by_interval(
    records: Iterable[CallRecord], config: MetricsConfig | None = None, per_queue: bool = True
) -> dict[tuple[str, float], Kpis]:
    """KPIs per (entry queue, interval start); the queue is ``"*"`` when not per queue.

    A call belongs to the interval in which it arrived.
    """
    cfg = config or MetricsConfig()
    accs: dict[tuple[str, float], KpiAccumulator] = {}
    for r in records:
        start = math.floor(r.arrived_at / cfg.interval_s) * cfg.interval_s
        key = (r.queue if per_queue else "*", start)
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = KpiAccumulator(cfg)
        acc.add(r)
    return {k: accs[k].kpis() for k in sorted(accs)}


class AgentTimeMeter:
    """Time agents spend in each state, per interval, from AgentStateChanged effects."""

    def __init__(self, interval_s: float = 900.0) -> None:
        self.interval_s = interval_s
        self._since: dict[str, tuple[str, float]] = {}
        self.seconds: dict[tuple[float, str], float] = {}

    def observe(self, change: AgentStateChanged) -> None:
        prev = self._since.get(change.agent)
        if prev is not None:
            self._spend(prev[0], prev[1], change.at)
        self._since[change.agent] = (change.new, change.at)

    def close(self, now: float) -> None:
        """Count the time up to ``now`` of every agent's current state."""
        for agent, (state, since) in self._since.items():
            self._spend(state, since, now)
            self._since[agent] = (state, now)

    def current(self) -> list[AgentStateChanged]:
        """Each agent's present state, as the change that began it."""
        return [
            AgentStateChanged(AgentId(agent), state, state, None, since)
            for agent, (state, since) in self._since.items()
        ]

    def _spend(self, state: str, start: float, end: float) -> None:
        if end <= start:
            return
        step = self.interval_s
        bucket = math.floor(start / step) * step
        if end <= bucket + step:  # the usual case: within one interval
            key = (bucket, state)
            seconds = self.seconds
            seconds[key] = seconds.get(key, 0.0) + (end - start)
            return
        t = start
        while t < end:
            bucket = math.floor(t / step) * step
            until = min(end, bucket + step)
            key = (bucket, state)
            self.seconds[key] = self.seconds.get(key, 0.0) + (until - t)
            t = until

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (_, state), s in self.seconds.items():
            out[state] = out.get(state, 0.0) + s
        return out

    def occupancy(self, interval: float | None = None) -> float:
        """Busy / (busy + ready) over all time, or over one interval."""
        busy = ready = 0.0
        for (bucket, state), s in self.seconds.items():
            if interval is not None and bucket != interval:
                continue
            if state in BUSY:
                busy += s
            elif state == AVAILABLE:
                ready += s
        return _ratio(busy, busy + ready)


class DailyKpis:
    """Today's figures, in bounded memory: the call records finished since local
    midnight (``timezone_offset_s`` east of UTC, the centre's ``[centre]``), added
    one at a time; the first record or read of a new day starts over. What
    ``/status`` (and later the wallboard) shows as "today", without keeping the
    records themselves."""

    def __init__(self, config: MetricsConfig | None = None, timezone_offset_s: float = 0.0) -> None:
        self.config = config or MetricsConfig()
        self.timezone_offset_s = timezone_offset_s
        self.day = -1
        self.acc = KpiAccumulator(self.config)
        self.outcomes: dict[str, int] = {}

    def day_of(self, at: float) -> int:
        return math.floor((at + self.timezone_offset_s) / 86400)

    def roll(self, now: float) -> None:
        day = self.day_of(now)
        if day != self.day:
            self.day = day
            self.acc = KpiAccumulator(self.config)
            self.outcomes = {}

    def add(self, record: CallRecord, now: float) -> None:
        """A call that finished at ``now``."""
        self.roll(now)
        self.acc.add(record)
        key = str(record.outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def finished(self, now: float) -> int:
        self.roll(now)
        return self.acc.offered

    def outcome_counts(self, now: float) -> dict[str, int]:
        self.roll(now)
        return dict(self.outcomes)

    def kpis(self, now: float) -> Kpis:
        self.roll(now)
        return self.acc.kpis()


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan
