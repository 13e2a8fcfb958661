"""Callers' patience estimated from a recorded day: Kaplan–Meier over the waits.

A caller who abandoned after waiting ``w`` shows its patience was ``w`` (an
event); a caller answered (or sent elsewhere) after ``w`` shows only that its
patience was longer than ``w`` (censored). The Kaplan–Meier estimator gives the
survival curve S(t) = P(patience > t) from both, without assuming a
distribution; beyond the last abandon, where the record says nothing more, the
tail is exponential with the maximum-likelihood rate of the whole record
(abandons / total time waited). With no abandon at all, patience is infinite.

:meth:`PatienceCurve.draw_beyond` draws a patience given that it exceeds ``w``:
what a replay needs for a caller it saw answered after ``w``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class PatienceCurve:
    times: tuple[float, ...]  # distinct abandon times, ascending
    survival: tuple[float, ...]  # S just after each of them
    tail_mean_s: float  # the exponential tail's mean (inf: nobody abandoned)

    @classmethod
    def fit(cls, waits: Sequence[float], abandoned: Sequence[bool]) -> PatienceCurve:
        if len(waits) != len(abandoned):
            raise ValueError("waits and abandoned must have the same length")
        pairs = sorted(zip(waits, abandoned, strict=True))
        events = sum(1 for _, a in pairs if a)
        total = sum(max(0.0, w) for w, _ in pairs)
        tail = total / events if events else math.inf
        at_risk = len(pairs)
        s = 1.0
        times: list[float] = []
        surv: list[float] = []
        i = 0
        while i < len(pairs):
            t = pairs[i][0]
            died = gone = 0
            while i < len(pairs) and pairs[i][0] == t:
                died += pairs[i][1]
                gone += 1
                i += 1
            if died:
                s *= 1.0 - died / at_risk
                times.append(t)
                surv.append(s)
            at_risk -= gone
        return cls(tuple(times), tuple(surv), tail)

    def survival_at(self, t: float) -> float:
        s = 1.0
        for ti, si in zip(self.times, self.survival, strict=True):
            if ti > t:
                break
            s = si
        return s

    def draw_beyond(self, rng: np.random.Generator, w: float) -> float:
        """A patience > ``w`` drawn from the curve (conditional on S(w))."""
        base = self.survival_at(w)
        target = base * float(rng.uniform())
        for ti, si in zip(self.times, self.survival, strict=True):
            if ti > w and si <= target:
                return ti
        start = max(w, self.times[-1] if self.times else 0.0)
        if math.isinf(self.tail_mean_s):
            return math.inf
        return start + float(rng.exponential(self.tail_mean_s))
