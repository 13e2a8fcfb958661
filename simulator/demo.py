"""``hotline demo``: a simulated centre running live through the real engine.

The example day (``examples/day.toml`` over ``examples/hotline.toml``) runs on
SimPy's :class:`simpy.rt.RealtimeEnvironment` at an accelerated clock (60× by
default: an hour passes in a minute) and prints a summary every second: calls
waiting per queue, the longest wait, answered and abandoned, service level,
agents by state. Ctrl-C stops it cleanly (exit code 0), as does ``--duration``.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import cast

import numpy as np
import simpy.rt

from acd.config_reader import ConfigError
from acd.engine import Engine
from acd.metrics import KpiAccumulator
from simulator.cli_args import POS_FLOAT, ArgError, Parser
from simulator.run import build
from simulator.scenario import Scenario, load_scenario
from simulator.world import Shift, World

DEFAULT = Path(__file__).resolve().parents[1] / "examples" / "day.toml"
STATES = ("ready", "offered", "on-call", "wrap-up", "paused", "logged-out")


def parser() -> Parser:
    p = Parser(prog="hotline demo", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--scenario", default=str(DEFAULT), help="scenario file (default: the day)")
    p.add_argument("--speed", type=POS_FLOAT, default=60.0, help="simulated s per wall s")
    p.add_argument("--start", default="08:00", help="simulated time of day to start at")
    p.add_argument("--duration", type=POS_FLOAT, help="stop after this many wall seconds")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    return p


def main(argv: list[str]) -> int:
    try:
        a = parser().parse_args(argv)
        start = _clock(a.start)
        sc = load_scenario(a.scenario)
    except (ArgError, ConfigError) as e:
        print(f"hotline demo: {e}", file=sys.stderr)
        return 2
    seed = sc.seed if a.seed is None else a.seed
    env = simpy.rt.RealtimeEnvironment(initial_time=start, factor=1.0 / a.speed, strict=False)
    calls = [c for c in sc.calls(np.random.default_rng(seed)) if c.arrive_at >= start]
    shell, world = build(sc.cfg, calls, _from(sc, start), sc.behaviour, seed, env)
    print(
        f"hotline demo: {sc.source} over {sc.cfg.source}: {len(sc.cfg.agents)} seats,"
        f" {len(calls)} calls"
        f" from {a.start} at {a.speed:g}x (Ctrl-C to stop)",
        flush=True,
    )
    began = time.monotonic()
    acc = KpiAccumulator(sc.cfg.metrics)
    world.on_record = acc.add
    for r in world.records:
        acc.add(r)
    end = sc.hours * 3600.0 + 3600.0
    try:
        while env.now < end:
            env.run(until=min(end, env.now + a.speed))
            print(
                summary(cast(Engine, shell.engine), world, acc, env.now), flush=True
            )  # build's default
            if a.duration is not None and time.monotonic() - began >= a.duration:
                break
    except KeyboardInterrupt:
        print("\nhotline demo: stopped", flush=True)
    return 0


def _clock(text: str) -> float:
    parts = text.split(":")
    try:
        h, m = int(parts[0]), int(parts[1])
        if len(parts) != 2 or not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError
    except (ValueError, IndexError):
        raise ArgError(
            f"argument --start: expected a time of day like 08:00, got {text!r}"
        ) from None
    return h * 3600.0 + m * 60.0


def _from(sc: Scenario, start: float) -> list[Shift]:
    """The roster from ``start`` on: shifts still to come or under way, breaks not yet over."""
    out = []
    for s in sc.shifts():
        if s.logout_at <= start:
            continue
        breaks = [b for b in s.breaks if b[0] + b[1] > start]
        out.append(Shift(s.agent, max(s.login_at, start), s.logout_at, breaks))
    return out


def summary(engine: Engine, world: World, acc: KpiAccumulator, now: float) -> str:
    k = acc.kpis()
    hh, mm = divmod(int(now % 86400) // 60, 60)
    waiting = []
    longest = 0.0
    for q in engine.config.queues:
        calls = engine.waiting(q)
        if calls:
            waiting.append(f"{q} {len(calls)}")
            longest = max(longest, now - min(c.queue_entered_at for c in calls))
    states = Counter(world.tally.agent_state.get(a, "logged-out") for a in engine.agents)
    sl = k.service_level.get(20.0, next(iter(k.service_level.values()), float("nan")))
    sl_text = "  -  " if sl != sl else f"{sl:5.1%}"
    agents = " ".join(f"{s} {states[s]}" for s in STATES if states[s])
    total = sum(len(engine.waiting(q)) for q in engine.config.queues)
    return (
        f"{hh:02d}:{mm:02d}  waiting {total:3d}"
        f" (longest {longest:4.0f} s)  answered {k.answered:5d}  abandoned {k.abandoned:4d}"
        f"  SL20 {sl_text}  agents: {agents}\n"
        f"       queues: {', '.join(waiting) or 'none waiting'}"
    )
