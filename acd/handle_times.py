"""How long calls take once answered, learnt from the calls that finished.

The wait predictor (:mod:`acd.predict`) needs, per queue, two figures: how long
a call not yet answered will talk (the mean), and how much longer a call that
has already talked ``e`` seconds will go on (the *mean residual life*,
E[T - e | T > e]). With exponential talk times the two are equal; with the
long-tailed talk times a hotline sees (a few very long calls) a call that has
run long is likely to run longer, and a short one ends soon.

:class:`HandleTimes` keeps the last ``keep`` talk times of each queue (a ring,
so it follows the hour's mix) fed by :meth:`HandleTimes.observe` with every
finished :class:`acd.records.CallRecord`. The residual is read from the sorted
sample with suffix sums, rebuilt lazily once per change: O(log keep) a query.
Before a queue has ``min_sample`` calls, its figures come from the whole
centre's, else from ``default_talk_s``. Pure: no clock, no I/O.
"""

from __future__ import annotations

import bisect
from collections import deque

from acd.records import CallRecord
from acd.types import Outcome, QueueName

__all__ = ["HandleTimes"]

_ALL = QueueName("")  # the whole centre's sample


class _Sample:
    __slots__ = ("_ring", "_sorted", "_suffix")

    def __init__(self, keep: int) -> None:
        self._ring: deque[float] = deque(maxlen=keep)
        self._sorted: list[float] | None = None
        self._suffix: list[float] = []

    def add(self, x: float) -> None:
        self._ring.append(x)
        self._sorted = None

    def __len__(self) -> int:
        return len(self._ring)

    def _build(self) -> list[float]:
        s = self._sorted
        if s is None:
            s = self._sorted = sorted(self._ring)
            suffix = [0.0] * (len(s) + 1)
            for i in range(len(s) - 1, -1, -1):
                suffix[i] = suffix[i + 1] + s[i]
            self._suffix = suffix
        return s

    def mean(self) -> float:
        s = self._build()
        return self._suffix[0] / len(s)

    def residual(self, elapsed: float) -> float | None:
        """E[T - elapsed | T > elapsed], or None when no sample is that long."""
        s = self._build()
        i = bisect.bisect_right(s, elapsed)
        n = len(s) - i
        if n == 0:
            return None
        return self._suffix[i] / n - elapsed


class HandleTimes:
    """Per queue, recent talk times of answered calls (see the module's doc)."""

    def __init__(
        self, *, keep: int = 200, min_sample: int = 10, default_talk_s: float = 180.0
    ) -> None:
        if keep < 1:
            raise ValueError(f'"keep" must be >= 1, got {keep}')
        if min_sample < 1:
            raise ValueError(f'"min_sample" must be >= 1, got {min_sample}')
        if not default_talk_s > 0:
            raise ValueError(f'"default_talk_s" must be > 0, got {default_talk_s}')
        self.keep = keep
        self.min_sample = min_sample
        self.default_talk_s = default_talk_s
        self._samples: dict[QueueName, _Sample] = {}
        self.observed = 0

    def observe(self, record: CallRecord) -> None:
        """Learn from a finished call: answered calls with a talk time count."""
        if record.outcome is not Outcome.ANSWERED or record.answered_at is None:
            return
        if record.ended_at is None or record.callback:
            return  # a callback's talk includes dialling the resident
        talk = record.ended_at - record.answered_at
        if talk < 0:
            return
        self.observed += 1
        for q in (record.final_queue, _ALL):
            sample = self._samples.get(q)
            if sample is None:
                sample = self._samples[q] = _Sample(self.keep)
            sample.add(talk)

    def add(self, queue: QueueName, talk_s: float) -> None:
        """Learn one talk time directly (tests, a warm start from the call history)."""
        if talk_s < 0:
            raise ValueError(f'"talk_s" must be >= 0, got {talk_s}')
        self.observed += 1
        for q in (queue, _ALL):
            self._samples.setdefault(q, _Sample(self.keep)).add(talk_s)

    def _sample(self, queue: QueueName) -> _Sample | None:
        for q in (queue, _ALL):
            s = self._samples.get(q)
            if s is not None and len(s) >= self.min_sample:
                return s
        return None

    def talk_s(self, queue: QueueName) -> float:
        """The mean talk time of a call of ``queue`` not yet answered."""
        s = self._sample(queue)
        return s.mean() if s is not None else self.default_talk_s

    def remaining_s(self, queue: QueueName, elapsed_s: float) -> float:
        """How much longer a call of ``queue`` that has talked ``elapsed_s`` will go on."""
        s = self._sample(queue)
        if s is None:
            return max(self.default_talk_s - elapsed_s, self.default_talk_s / 4)
        r = s.residual(elapsed_s)
        if r is None:  # longer than every call seen: a few more seconds
            return max(s.mean() / 4, 1.0)
        return r
