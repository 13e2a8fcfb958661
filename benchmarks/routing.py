"""Routing-core benchmark: per-event latency, events/s, and peak memory.

    .venv/bin/python -m benchmarks.routing [--quick] [--write]

Workloads (steady state: every agent busy, a standing line of waiting calls;
each cycle ends a call — the freed agent takes the best waiting call — answers
that offer, and adds an arrival):

- 200 agents, 30 skills, 500 waiting calls;
- 10,000 agents, 30 skills, 5,000 waiting calls;
- peak memory with 10,000 agents and 100,000 waiting calls (own process).

The baseline is benchmarks/naive_router.py, which makes the same decisions by
scanning all agents and all waiting calls, run on the same workload in the same
process; the two must offer the same calls to the same agents, or the run fails.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from acd import effects as fx
from acd import events as ev
from acd.config import AcdConfig, parse_config
from acd.engine import Engine
from acd.types import FakeClock
from benchmarks.naive_router import NaiveRouter
from benchmarks.report import write_results

Offer = tuple[str, str]


def build_config(n_agents: int, n_skills: int, seed: int) -> AcdConfig:
    rng = random.Random(seed)
    queues = {f"q{i}": {"skills": {f"s{i}": 3}} for i in range(n_skills)}
    agents = []
    for i in range(n_agents):
        skills = {f"s{k}": rng.randint(1, 10) for k in rng.sample(range(n_skills), 4)}
        agents.append({"id": f"a{i:05d}", "skills": skills})
    return parse_config(
        {
            "centre": {"wrapup_s": 0, "ring_timeout_s": 600, "autopause": False},
            "queues": queues,
            "agents": agents,
        }
    )


class EngineDriver:
    """Drives the real engine; offers come back as (call, agent) pairs."""

    def __init__(self, cfg: AcdConfig, clock: FakeClock) -> None:
        self.engine = Engine(cfg, clock)
        self.latency_ns: list[int] = []

    def _run(self, event: ev.Event) -> list[Offer]:
        t0 = time.perf_counter_ns()
        effects = self.engine.handle(event)
        self.latency_ns.append(time.perf_counter_ns() - t0)
        return [(e.call, e.agent) for e in effects if isinstance(e, fx.OfferCall)]

    def login(self, agent: str) -> list[Offer]:
        return self._run(ev.AgentLoggedIn(agent))  # type: ignore[arg-type]

    def arrive(self, call: str, queue: str) -> list[Offer]:
        return self._run(ev.CallArrived(call, queue))  # type: ignore[arg-type]

    def answer(self, call: str, agent: str) -> list[Offer]:
        return self._run(ev.AgentAnswered(call, agent))  # type: ignore[arg-type]

    def end(self, call: str) -> list[Offer]:
        return self._run(ev.CallEnded(call))  # type: ignore[arg-type]


class NaiveDriver:
    def __init__(self, cfg: AcdConfig, clock: FakeClock) -> None:
        self.router = NaiveRouter(cfg, clock)
        self.latency_ns: list[int] = []

    def _run(self, fn: Callable[[], Offer | None]) -> list[Offer]:
        t0 = time.perf_counter_ns()
        offer = fn()
        self.latency_ns.append(time.perf_counter_ns() - t0)
        return [offer] if offer else []

    def login(self, agent: str) -> list[Offer]:
        return self._run(lambda: self.router.login(agent))

    def arrive(self, call: str, queue: str) -> list[Offer]:
        return self._run(lambda: self.router.arrive(call, queue))

    def answer(self, call: str, agent: str) -> list[Offer]:
        return self._run(lambda: self.router.answer(call))  # type: ignore[func-returns-value]

    def end(self, call: str) -> list[Offer]:
        return self._run(lambda: self.router.end(call))


@dataclass
class Result:
    name: str
    events: int
    seconds: float
    p50_us: float
    p99_us: float
    busy_s: float  # time spent inside the router's event handling
    offers: list[Offer]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def run(driver_cls: type, cfg: AcdConfig, waiting: int, cycles: int, seed: int) -> Result:
    """Fill the centre, then measure ``cycles`` end → offer → answer → arrival cycles."""
    rng = random.Random(seed)
    clock = FakeClock()
    d = driver_cls(cfg, clock)
    queues = list(cfg.queues)
    connected: list[str] = []
    offers_log: list[Offer] = []
    n = 0

    def settle(offers: list[Offer]) -> None:
        for call, agent in offers:
            offers_log.append((call, agent))
            d.answer(call, agent)
            connected.append(call)

    for agent in cfg.agents:
        settle(d.login(agent))
    # Arrivals until every agent is busy and the line is as long as asked.
    in_line = 0
    while in_line < waiting:
        clock.advance(0.01)
        n += 1
        offers = d.arrive(f"c{n}", rng.choice(queues))
        if offers:
            settle(offers)
        else:
            in_line += 1
    d.latency_ns.clear()
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(cycles):
        clock.advance(0.01)
        i = rng.randrange(len(connected))
        connected[i], connected[-1] = connected[-1], connected[i]
        settle(d.end(connected.pop()))
        n += 1
        settle(d.arrive(f"c{n}", rng.choice(queues)))
    seconds = time.perf_counter() - t0
    lat = np.array(d.latency_ns, dtype=np.float64) / 1000.0
    return Result(
        driver_cls.__name__,
        len(lat),
        seconds,
        float(np.percentile(lat, 50)),
        float(np.percentile(lat, 99)),
        float(lat.sum()) / 1e6,
        offers_log,
    )


def memory_child(n_agents: int, waiting: int) -> None:
    """In a fresh process: peak RSS with ``n_agents`` busy agents and ``waiting`` calls."""
    cfg = build_config(n_agents, 30, seed=7)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    clock = FakeClock()
    engine = Engine(cfg, clock)
    for a in cfg.agents:
        engine.handle(ev.AgentLoggedIn(a))
    queues = list(cfg.queues)
    rng = random.Random(7)
    i = 0
    while len(engine.calls) < n_agents + waiting:
        clock.advance(0.001)
        i += 1
        for e in engine.handle(ev.CallArrived(f"c{i}", rng.choice(queues))):  # type: ignore[arg-type]
            if isinstance(e, fx.OfferCall):
                engine.handle(ev.AgentAnswered(e.call, e.agent))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{after / 1024:.1f} {before / 1024:.1f} {len(engine.calls)}")


def measure_memory(n_agents: int, waiting: int) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.routing", "--memory-child", str(n_agents), str(waiting)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer cycles (a smoke run)")
    p.add_argument("--write", action="store_true", help="append the results to RESULTS.md")
    p.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    scale = 10 if args.quick else 1
    rows = []
    lines = [
        "| workload | implementation | events | p50 µs/event | p99 µs/event | events/s "
        "(driver loop) | events/s (in handle) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for agents, waiting, cycles, naive_cycles in (
        (200, 500, 20000 // scale, 20000 // scale),
        (10_000, 5_000, 20000 // scale, 2000 // scale),
    ):
        cfg = build_config(agents, 30, seed=1)
        eng = run(EngineDriver, cfg, waiting, cycles, seed=2)
        naive = run(NaiveDriver, cfg, waiting, naive_cycles, seed=2)
        k = len(naive.offers)
        if eng.offers[:k] != naive.offers:
            raise SystemExit("the engine and the naive baseline made different decisions")
        speedup = eng.rate / naive.rate
        rows.append((agents, waiting, eng, naive, speedup))
        for r in (eng, naive):
            lines.append(
                f"| {agents} agents, {waiting} waiting | {r.name} | {r.events} | "
                f"{r.p50_us:.1f} | {r.p99_us:.1f} | {r.rate:,.0f} | {r.events / r.busy_s:,.0f} |"
            )
    peak, base = measure_memory(10_000, 100_000)
    lines.append("")
    for agents, waiting, eng, naive, speedup in rows:
        lines.append(
            f"- {agents} agents, {waiting} waiting: engine {speedup:.1f}× the naive scan's events/s"
            f" (p99 {eng.p99_us:.1f} µs vs {naive.p99_us:.1f} µs); same decisions on "
            f"{min(len(eng.offers), len(naive.offers))} offers"
        )
    lines.append(
        f"- Peak RSS with 10,000 agents on calls and 100,000 waiting calls: {peak:.0f} MB"
        f" (the interpreter with imports and config: {base:.0f} MB)"
    )
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_results("Routing core (issue 2)", "python -m benchmarks.routing --write", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
