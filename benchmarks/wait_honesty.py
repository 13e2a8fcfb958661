"""Is the announced wait honest? Hotline's predictor against app_queue's moving average.

On the example day (examples/day.toml: the same roster, calls and seed as
``hotline simulate``), every caller is "told" a wait the moment it enters the
queue, by two predictors in the same run:

- **Hotline**: :func:`acd.predict.predict_wait` on the engine's live state, with
  handle times learnt from the calls finished so far (:mod:`acd.handle_times`);
- **moving average**: app_queue's ``holdtime``, updated on every answered call as
  ``holdtime = (3 * holdtime + wait) / 4`` (per queue), times the caller's position
  in its queue.

Then each is compared with the wait that happened (arrival to answer). Only
callers who were put on hold and answered count: one offered at once hears no
announcement; an abandon, a callback or an overflow has no answered wait to
compare with (their numbers are printed). Figures per entry queue and overall:
mean absolute error (MAE), the share within +-30 s, and the ratio of the MAEs.
The goal (issue #12): Hotline's MAE at least 30 % lower, per queue and overall.

    .venv/bin/python -m benchmarks.wait_honesty [--seed 1] [--scenario examples/day.toml]
        [--hours H] [--calls-per-day N] [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from acd import effects as fx
from acd import events as ev
from acd.calls import CallState
from acd.engine import Engine
from acd.handle_times import HandleTimes
from acd.predict import predict_wait
from acd.types import CallId, Outcome, QueueName
from benchmarks.report import cpu_model
from simulator.cli_simulate import DRAIN_S
from simulator.run import build
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.30  # MAE at least 30 % lower than the moving average's
WITHIN_S = 30.0


@dataclass
class Told:
    queue: QueueName
    hotline_s: float | None
    average_s: float


@dataclass
class Tally:
    n: int = 0
    err_h: float = 0.0
    err_m: float = 0.0
    within_h: int = 0
    within_m: int = 0
    unknown: int = 0  # Hotline said "no agent will take it" (counted at the horizon)

    def add(self, told_h: float, told_m: float, waited: float) -> None:
        self.n += 1
        eh, em = abs(told_h - waited), abs(told_m - waited)
        self.err_h += eh
        self.err_m += em
        self.within_h += eh <= WITHIN_S
        self.within_m += em <= WITHIN_S


@dataclass
class Run:
    told: dict[CallId, Told] = field(default_factory=dict)
    at_once: int = 0
    predict_s: float = 0.0
    predictions: int = 0


def run(
    scenario: Path, seed: int, hours: float | None = None, calls_per_day: float | None = None
) -> tuple[dict[str, Tally], dict[str, int], Run]:
    """Run the day once; (tallies per entry queue and "all", callers not compared by
    outcome, the run's own figures)."""
    sc = load_scenario(scenario)
    if hours is not None:
        sc = replace(sc, hours=hours)
    if calls_per_day is not None:  # a busier (or quieter) day on the same roster
        sc = replace(sc, calls_per_day=calls_per_day)
    rng = np.random.default_rng(seed)
    calls = sc.calls(rng)
    horizon = max([sc.hours * 3600.0] + [c.arrive_at for c in calls]) + DRAIN_S
    env = simpy.Environment()
    shell, world = build(sc.cfg, calls, sc.shifts(), sc.behaviour, seed, env)
    engine: Engine = shell.engine
    times = HandleTimes()
    holdtime: dict[QueueName, float] = defaultdict(float)  # app_queue's, per queue
    r = Run()
    handle, expire = engine.handle, engine.expire

    def learn(effects: list[fx.Effect]) -> list[fx.Effect]:
        for e in effects:
            if isinstance(e, fx.CallFinished):
                times.observe(e.record)
        return effects

    def on_event(e: ev.Event) -> list[fx.Effect]:
        if isinstance(e, ev.AgentAnswered):
            c = engine.calls.get(e.call)
            if c is not None and c.callback is None:
                q = c.queue
                holdtime[q] = (3 * holdtime[q] + engine.clock.now() - c.arrived_at) / 4
        out = learn(handle(e))
        if isinstance(e, ev.CallArrived):
            tell(e.call)
        return out

    def tell(call_id: CallId) -> None:
        c = engine.calls.get(call_id)
        if c is None:
            return
        if c.state is not CallState.WAITING:
            r.at_once += 1
            return
        t = time.perf_counter()
        p = predict_wait(engine, call_id, times)
        r.predict_s += time.perf_counter() - t
        r.predictions += 1
        key = c.order_key()
        position = 1 + sum(
            1 for o in engine.queue_calls.get(c.queue, {}).values() if o.order_key() < key
        )
        r.told[call_id] = Told(
            c.queue, p.wait_s if p is not None else None, holdtime[c.queue] * position
        )

    engine.handle = on_event  # type: ignore[method-assign]
    engine.expire = lambda: learn(expire())  # type: ignore[method-assign]
    env.run(until=horizon)
    tallies: dict[str, Tally] = defaultdict(Tally)
    left: dict[str, int] = defaultdict(int)
    for rec in world.records:
        told = r.told.get(rec.call)
        if told is None:
            continue
        if rec.outcome is not Outcome.ANSWERED or rec.callback or rec.answered_at is None:
            left[rec.outcome.value if not rec.callback else "callback"] += 1
            continue
        waited = rec.answered_at - rec.arrived_at
        for key in (told.queue, "all"):
            tally = tallies[key]
            if told.hotline_s is None:
                tally.unknown += 1
            tally.add(told.hotline_s if told.hotline_s is not None else 0.0, told.average_s, waited)
    return dict(tallies), dict(left), r


def report(
    a: Any, tallies: dict[str, Tally], left: dict[str, int], r: Run, wall_s: float
) -> list[str]:
    load = os.getloadavg()
    out = [
        f"### Wait honesty: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `.venv/bin/python -m benchmarks.wait_honesty --seed {a.seed}"
        f" --scenario {a.scenario}"
        + (f" --hours {a.hours:g}" if a.hours else "")
        + (f" --calls-per-day {a.calls_per_day:g}" if a.calls_per_day else "")
        + "`",
        f"- machine: {cpu_model(platform.machine())}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, load average {load[0]:.1f}",
        f"- callers told a wait at entry: {r.predictions:,} (offered at once, not told:"
        f" {r.at_once:,}); not compared, no answered wait: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(left.items())),
        f'- Hotline\'s predictor said "no agent will take it" (scored as 0 s) for'
        f" {tallies['all'].unknown if 'all' in tallies else 0:,} of them",
        f"- predictor cost: {1e6 * r.predict_s / max(r.predictions, 1):,.0f} µs a"
        f" prediction; the whole run {wall_s:.1f} s wall",
        "",
        "| queue | callers | MAE Hotline s | MAE moving avg s | Hotline / moving avg"
        " | within ±30 s Hotline | within ±30 s moving avg | goal (≤ 0.70) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    order = [*sorted(k for k in tallies if k != "all"), "all"]
    for k in order:
        t = tallies[k]
        if not t.n:
            continue
        mh, mm = t.err_h / t.n, t.err_m / t.n
        ratio = mh / mm if mm else float("nan")
        out.append(
            f"| {k} | {t.n:,} | {mh:.1f} | {mm:.1f} | {ratio:.2f} | {t.within_h / t.n:.0%}"
            f" | {t.within_m / t.n:.0%} | {'met' if ratio <= 1 - GOAL else 'NOT met'} |"
        )
    out.append("")
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.wait_honesty")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scenario", default="examples/day.toml")
    p.add_argument("--hours", type=float, help="simulate only the day's first hours")
    p.add_argument("--calls-per-day", type=float, help="override the scenario's volume")
    p.add_argument("--write", action="store_true", help="append to benchmarks/RESULTS.md")
    a = p.parse_args(argv)
    t = time.perf_counter()
    tallies, left, r = run(ROOT / a.scenario, a.seed, a.hours, a.calls_per_day)
    lines = report(a, tallies, left, r, time.perf_counter() - t)
    print("\n".join(lines))
    if a.write:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
