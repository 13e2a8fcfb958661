"""KPIs over a sliding window of time, in memory bounded whatever the call rate.

:class:`KpiWindow` keeps no call records: each record is added to a
:class:`~acd.metrics.KpiAccumulator` of its entry queue in a time bucket of
``window_s / BUCKETS`` seconds, and the window's figures are those buckets
merged. So the memory is at most ``2 * BUCKETS + 2`` buckets per queue, where a
list of the window's records grew with the rate: at 20 calls/s a 30-minute
window held 36,000 records (about 0.7 kB each with their strings), which is
what serve's RSS soak found growing (issue #13).

The price is the window's old edge: a bucket counts while any part of it is
in the window, so calls up to ``window_s / BUCKETS`` seconds older than the
window may still count (under 1 % of it: 15 s of "the last 30 minutes").
The new edge is exact to the bucket too: a bucket that starts after ``now`` is
not counted (records come with the time they count from, e.g. a decision time).
"""

from __future__ import annotations

import math

from acd.config import MetricsConfig
from acd.metrics import KpiAccumulator, Kpis
from acd.records import CallRecord
from acd.types import QueueName

__all__ = ["BUCKETS", "KpiWindow"]

BUCKETS = 120


class KpiWindow:
    """The KPIs of the records that count from a time in ``[now - window_s, now]``,
    per entry queue and for the whole centre."""

    def __init__(self, window_s: float, config: MetricsConfig | None = None) -> None:
        if not window_s > 0 or math.isinf(window_s):
            raise ValueError(f'"window_s" must be a finite number > 0, got {window_s}')
        self.window_s = window_s
        self.bucket_s = window_s / BUCKETS
        self.config = config or MetricsConfig()
        # bucket index -> (records added, accumulators per entry queue); inserted in any
        # order, so pruning looks at every key (there are at most a few hundred).
        self._buckets: dict[int, tuple[list[int], dict[QueueName, KpiAccumulator]]] = {}

    def add(self, record: CallRecord, at: float) -> None:
        """Count ``record`` from time ``at`` (a record older than the window is dropped
        at the next :meth:`prune`)."""
        b = math.floor(at / self.bucket_s)
        bucket = self._buckets.get(b)
        if bucket is None:
            # A new bucket: forget those a window ago before ``at`` (not just before
            # ``at - window_s``: a read may still ask for a time before ``at``).
            self.prune(at - self.window_s)
            bucket = self._buckets[b] = ([0], {})
        bucket[0][0] += 1
        acc = bucket[1].get(record.queue)
        if acc is None:
            acc = bucket[1][record.queue] = KpiAccumulator(self.config)
        acc.add(record)

    def prune(self, now: float) -> None:
        """Forget the buckets that end before the window starts."""
        start = now - self.window_s
        old = [b for b in self._buckets if (b + 1) * self.bucket_s <= start]
        for b in old:
            del self._buckets[b]

    def __len__(self) -> int:
        """The records in the buckets kept (since the last :meth:`prune`)."""
        return sum(n[0] for n, _ in self._buckets.values())

    def buckets(self) -> int:
        return len(self._buckets)

    def kpis(self, now: float) -> tuple[dict[QueueName, Kpis], Kpis]:
        """(KPIs per entry queue, KPIs of the whole centre) over the window ending ``now``."""
        per_queue = self._merged(now)
        centre = KpiAccumulator(self.config)
        for acc in per_queue.values():
            centre.merge(acc)
        return {q: per_queue[q].kpis() for q in sorted(per_queue)}, centre.kpis()

    def queue(self, queue: QueueName, now: float) -> Kpis:
        """The KPIs of one entry queue over the window ending ``now``."""
        acc = self._merged(now).get(queue)
        return (acc if acc is not None else KpiAccumulator(self.config)).kpis()

    def _merged(self, now: float) -> dict[QueueName, KpiAccumulator]:
        self.prune(now)
        out: dict[QueueName, KpiAccumulator] = {}
        for b, (_, accs) in self._buckets.items():
            if b * self.bucket_s > now:
                continue  # counts from later than now
            for q, acc in accs.items():
                total = out.get(q)
                if total is None:
                    total = out[q] = KpiAccumulator(self.config)
                total.merge(acc)
        return out
