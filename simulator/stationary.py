"""The stationary single-queue centre: M/M/N, or M/M/N+M with exponential patience.

What ``hotline simulate --calls-per-hour R --aht S --agents N`` runs through the
real engine, and what the Erlang C / Erlang A validation tests compare against
:mod:`simulator.erlang`: Poisson arrivals, exponential talk time, no wrap-up,
agents who answer at once, one queue served first come, first served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acd.config import AcdConfig, MetricsConfig, parse_config
from acd.metrics import KpiAccumulator
from acd.types import AgentId, CallId, QueueName
from simulator.run import RunResult, simulate
from simulator.world import Behaviour, CallSpec, Shift

QUEUE = QueueName("main")


@dataclass(frozen=True, slots=True)
class Stationary:
    calls_per_hour: float
    aht_s: float
    agents: int
    patience_s: float | None = None
    answer_within_s: float = 20.0
    hours: float = 8.0
    warmup_hours: float = 0.0

    def config(self) -> AcdConfig:
        cfg = parse_config(
            {
                "centre": {"name": "M/M/N", "wrapup_s": 0, "sticky_s": 0, "autopause": False},
                "metrics": {"service_level_s": [self.answer_within_s], "short_abandon_s": 0},
                "queues": {"main": {"skills": {"any": 1}, "ring_timeout_s": 600}},
                "agents": [{"ids": f"{1:05d}-{self.agents:05d}", "skills": {"any": 1}}],
            }
        )
        return cfg

    def calls(self, rng: np.random.Generator) -> list[CallSpec]:
        horizon = self.hours * 3600.0
        rate = self.calls_per_hour / 3600.0
        n = int(rng.poisson(rate * horizon))
        times = np.sort(rng.uniform(0.0, horizon, n))
        talk = rng.exponential(self.aht_s, n)
        if self.patience_s is None:
            patience = np.full(n, math.inf)
        else:
            patience = rng.exponential(self.patience_s, n)
        return [
            CallSpec(CallId(f"c{i}"), float(t), QUEUE, float(s), float(p))
            for i, (t, s, p) in enumerate(zip(times, talk, patience, strict=True))
        ]

    def shifts(self, cfg: AcdConfig) -> list[Shift]:
        end = self.hours * 3600.0 * 10 + 86400.0
        return [Shift(AgentId(a), 0.0, end) for a in cfg.agents]

    def run(self, seed: int) -> RunResult:
        cfg = self.config()
        rng = np.random.default_rng(seed)
        calls = self.calls(rng)
        return simulate(cfg, calls, self.shifts(cfg), Behaviour(), seed, until=None)

    def measure(self, result: RunResult) -> dict[str, float | int | None]:
        """The Erlang keys, measured over calls arriving after the warm-up."""
        start = self.warmup_hours * 3600.0
        end = self.hours * 3600.0
        cfg = MetricsConfig(service_level_s=(self.answer_within_s,), short_abandon_s=0.0)
        acc = KpiAccumulator(cfg)
        waited = 0
        for r in result.records:
            if r.arrived_at >= start:
                acc.add(r)
                waited += r.wait_s > 0
        k = acc.kpis()
        busy = ready = 0.0
        for (bucket, state), s in result.meter.seconds.items():
            if start <= bucket < end:
                if state in ("offered", "on-call", "wrap-up"):
                    busy += s
                elif state == "ready":
                    ready += s
        out: dict[str, float | int | None] = {
            "calls": k.offered,
            "answered": k.answered,
            "abandoned": k.abandoned,
            "p_wait": _r(waited / k.offered if k.offered else math.nan),
            "service_level": _r(k.service_level[self.answer_within_s]),
            "asa_s": _r(k.asa_s),
            "occupancy": _r(busy / (busy + ready) if busy + ready else math.nan),
        }
        if self.patience_s is not None:
            out["p_abandon"] = _r(k.abandon_rate)
        return out


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


def measure_run(model: Stationary, seed: int) -> dict[str, float | int | None]:
    """One replication's measured figures (a top-level function: it crosses processes)."""
    return model.measure(model.run(seed))
