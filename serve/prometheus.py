"""Prometheus metrics for ``/metrics``: one registry per instance, fed by the notifier.

What is counted where (names in :mod:`serve.metric_names`):

- **On each finished call record** (``on_effect(CallFinished)``): calls by entry
  queue and outcome, the wait histogram (queue, outcome), talk and handle
  histograms (answered calls), and today's KPI accumulator per queue.
- **On each agent state change** (``on_effect(AgentStateChanged)``): entries into
  each state. **On each alarm transition** (``on_alarm``): alarms raised by kind.
- **At scrape time**, nothing is kept twice: waiting calls, longest wait and
  agents by state come from the read model (a ``view()`` callable returning a
  :class:`~acd.snapshot.CentreView`); active alarms from an ``alarms()``
  callable (e.g. ``AlarmTracker.active``); service level, abandon rate, ASA and
  AHT from :mod:`acd.metrics` (the one implementation) over today's records;
  AMI, MQTT, CRM, sticky and state-correction counters straight from the shell's
  ``Counter[str]``.

"Today" is the local day (``timezone_offset_s``) of the latest record or view;
a new day starts the KPI gauges afresh (counters and histograms never reset, as
Prometheus expects). A KPI with nothing offered yet (NaN) has no sample.
"""

from __future__ import annotations

import math
from collections import Counter as StatsCounter
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from acd.agent_state import AgentState
from acd.alarms import Alarm, AlarmCleared, AlarmKind, AlarmRaised, AlarmTransition
from acd.config import MetricsConfig
from acd.effects import AgentStateChanged, CallFinished, Effect
from acd.metrics import KpiAccumulator
from acd.records import CallEndedBeforeQueue, CallRecord
from acd.snapshot import CentreView
from acd.types import Outcome, QueueName
from serve import metric_names as n
from telephony.notifier import CallHandedOn

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_DAY_S = 86400.0


class Metrics:
    """``metrics.on_effect(e)`` for every effect, ``metrics.render()`` per scrape."""

    def __init__(
        self,
        queues: Iterable[QueueName],
        config: MetricsConfig | None = None,
        *,
        stats: StatsCounter[str] | None = None,
        view: Callable[[], CentreView] | None = None,
        alarms: Callable[[], Sequence[Alarm]] | None = None,
        timezone_offset_s: float = 8 * 3600.0,
    ) -> None:
        self.queues = tuple(queues)
        self.config = config or MetricsConfig()
        self.stats: StatsCounter[str] = stats if stats is not None else StatsCounter()
        self.view = view
        self.alarms = alarms
        self.timezone_offset_s = timezone_offset_s
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter(
            n.CALLS,
            "Calls that left the queues (or ended before one), by entry queue and outcome",
            ["queue", "outcome"],
            registry=r,
        )
        self.wait = Histogram(
            n.WAIT_SECONDS,
            "Seconds from arrival until answered or gone, by entry queue",
            ["queue", "outcome"],
            buckets=n.WAIT_BUCKETS,
            registry=r,
        )
        self.talk = Histogram(
            n.TALK_SECONDS,
            "Talk time of answered calls, by entry queue",
            ["queue"],
            buckets=n.TALK_BUCKETS,
            registry=r,
        )
        self.handle = Histogram(
            n.HANDLE_SECONDS,
            "Talk plus wrap-up of answered calls, by entry queue",
            ["queue"],
            buckets=n.TALK_BUCKETS,
            registry=r,
        )
        self.state_changes = Counter(
            n.AGENT_STATE_CHANGES, "Agents entering a state", ["state"], registry=r
        )
        self.raised = Counter(n.ALARMS_RAISED, "Alarms raised, by kind", ["kind"], registry=r)
        self.transfers = Counter(
            n.TRANSFERS,
            "Calls handed on by their agent (queue: where it was handed on)",
            ["queue", "mode", "kind"],
            registry=r,
        )
        for q in self.queues:  # every series from the start: rate() needs the zero
            for o in Outcome:
                self.calls.labels(q, o.value)
            self.talk.labels(q)
            self.handle.labels(q)
        for s in AgentState:
            self.state_changes.labels(s.value)
        for k in AlarmKind:
            self.raised.labels(k.value)
        self._day = -math.inf
        self._today: dict[QueueName, KpiAccumulator] = {}
        r.register(_ScrapeTime(self))

    # --- feeding -------------------------------------------------------------------
    def on_effect(self, effect: Effect) -> None:
        """Count what a metric needs; other effects are ignored."""
        if isinstance(effect, CallFinished):
            self.on_record(effect.record)
        elif isinstance(effect, AgentStateChanged):
            self.state_changes.labels(effect.new).inc()

    def notify(self, note: object) -> None:
        """The shell notifier's subscriber: the effects above and alarm transitions."""
        if isinstance(note, CallFinished | AgentStateChanged):
            self.on_effect(note)
        elif isinstance(note, AlarmRaised | AlarmCleared):
            self.on_alarm(note)
        elif isinstance(note, CallEndedBeforeQueue):  # the IVR, a closed queue: counted only
            self.calls.labels(note.record.queue, note.record.outcome.value).inc()
        elif isinstance(note, CallHandedOn):
            self.transfers.labels(note.queue, note.mode, note.kind).inc()

    def on_record(self, r: CallRecord) -> None:
        q, outcome = r.queue, r.outcome.value
        self.calls.labels(q, outcome).inc()
        self.wait.labels(q, outcome).observe(r.wait_s)
        if r.outcome is Outcome.ANSWERED:
            self.talk.labels(q).observe(r.talk_s)
            if r.wrapup_ended_at is not None:
                self.handle.labels(q).observe(r.handle_s)
        self._roll(r.arrived_at)
        if self._local_day(r.arrived_at) == self._day:
            acc = self._today.get(q)
            if acc is None:
                acc = self._today[q] = KpiAccumulator(self.config)
            acc.add(r)

    def on_alarm(self, transition: AlarmTransition) -> None:
        if isinstance(transition, AlarmRaised):
            self.raised.labels(transition.alarm.kind.value).inc()

    # --- reading ---------------------------------------------------------------------
    def render(self) -> bytes:
        """The text exposition format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

    def _local_day(self, t: float) -> float:
        return math.floor((t + self.timezone_offset_s) / _DAY_S)

    def _roll(self, t: float) -> None:
        """A later day than today starts the KPI gauges afresh."""
        day = self._local_day(t)
        if day > self._day:
            self._day = day
            self._today = {}

    def _collect(self) -> Iterator[Metric]:
        view = self.view() if self.view is not None else None
        if view is not None:
            self._roll(view.at)
            yield from _view_metrics(view)
        yield from self._kpi_metrics()
        if self.alarms is not None:
            active = GaugeMetricFamily(n.ALARMS_ACTIVE, "Active alarms, by kind", labels=["kind"])
            by_kind = StatsCounter(a.kind.value for a in self.alarms())
            for k in AlarmKind:
                active.add_metric([k.value], by_kind[k.value])
            yield active
        yield from _stat_counters(self.stats)
        for g in n.STAT_GAUGES:
            yield GaugeMetricFamily(g.name, g.help, value=self.stats[g.stat] * g.scale)

    def _kpi_metrics(self) -> Iterator[Metric]:
        sl = GaugeMetricFamily(
            n.SERVICE_LEVEL_RATIO,
            "Answered within the threshold / offered (short abandons excluded), today",
            labels=["queue", "threshold"],
        )
        abandon = GaugeMetricFamily(
            n.ABANDON_RATE_RATIO,
            "Abandoned / offered (short abandons excluded), today",
            labels=["queue"],
        )
        asa = GaugeMetricFamily(
            n.ASA_SECONDS, "Mean wait of answered calls, today", labels=["queue"]
        )
        aht = GaugeMetricFamily(
            n.AHT_SECONDS, "Mean talk + wrap-up of answered calls, today", labels=["queue"]
        )
        for q in sorted(self._today):
            k = self._today[q].kpis()
            for threshold, level in k.service_level.items():
                _add(sl, [q, f"{threshold:g}"], level)
            _add(abandon, [q], k.abandon_rate)
            _add(asa, [q], k.asa_s)
            _add(aht, [q], k.aht_s)
        yield from (sl, abandon, asa, aht)


def _add(family: GaugeMetricFamily, labels: list[str], value: float) -> None:
    if not math.isnan(value):
        family.add_metric(labels, value)


def _view_metrics(view: CentreView) -> Iterator[Metric]:
    waiting = GaugeMetricFamily(
        n.WAITING_CALLS, "Calls on hold now (callbacks not counted)", labels=["queue"]
    )
    longest = GaugeMetricFamily(
        n.LONGEST_WAIT_SECONDS, "Longest current wait on hold", labels=["queue"]
    )
    for q in view.queues:
        waiting.add_metric([q.name], q.waiting)
        longest.add_metric([q.name], q.longest_wait_s)
    agents = GaugeMetricFamily(n.AGENTS, "Agents by state", labels=["state"])
    for state in AgentState:
        agents.add_metric([state.value], view.agents_by_state.get(state.value, 0))
    yield from (waiting, longest, agents)


def _stat_counters(stats: StatsCounter[str]) -> Iterator[Metric]:
    families: dict[str, CounterMetricFamily] = {}
    for c in n.STAT_COUNTERS:
        family = families.get(c.name)
        if family is None:
            labels = [k for k, _ in c.labels]
            family = families[c.name] = CounterMetricFamily(c.name, c.help, labels=labels)
        family.add_metric([v for _, v in c.labels], max(stats[c.stat] - c.offset, 0))
    yield from families.values()


class _ScrapeTime(Collector):
    """Reads the read model, today's KPIs and the shell counters when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return list(self.metrics._collect())
