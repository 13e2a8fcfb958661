"""One simulation run: an engine, a world and a SimPy environment, wired by hand.

:func:`simulate` is the composition root of the simulator. The same function
serves the stationary M/M/N(+M) model, a scenario day and a replay; they differ
only in the calls, shifts and behaviour they pass in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import simpy

from acd.config import AcdConfig
from acd.engine import Engine
from acd.metrics import AgentTimeMeter
from acd.records import CallRecord
from acd.types import Clock
from simulator.shell import Router, Shell, SimPyScheduler
from simulator.world import Behaviour, CallSpec, Shift, Tally, World

RouterFactory = Callable[[AcdConfig, Clock], Router]


@dataclass(slots=True)
class RunResult:
    records: list[CallRecord]
    meter: AgentTimeMeter
    tally: Tally
    end_at: float  # when the run stopped (simulated seconds)
    calls: int  # callers drawn


def build(
    cfg: AcdConfig,
    calls: Sequence[CallSpec],
    shifts: Sequence[Shift],
    behaviour: Behaviour,
    seed: int,
    env: simpy.Environment,
    router: RouterFactory | None = None,
) -> tuple[Shell, World]:
    """Wire engine, shell and world on ``env`` (the demo passes a realtime one).
    ``router`` puts another routing policy in the engine's place."""
    sched = SimPyScheduler(env)
    shell = Shell((router or Engine)(cfg, sched), sched)
    world = World.for_centre(cfg, sched, shell.send, calls, shifts, behaviour, seed)
    shell.attach(world)
    return shell, world


def simulate(
    cfg: AcdConfig,
    calls: Sequence[CallSpec],
    shifts: Sequence[Shift],
    behaviour: Behaviour,
    seed: int,
    until: float | None = None,
    progress: Callable[[float], None] | None = None,
    chunks: int = 50,
    router: RouterFactory | None = None,
) -> RunResult:
    """Run to ``until`` (simulated seconds), or until nothing is left to happen.

    ``progress`` is called with the fraction done after each of ``chunks`` steps.
    """
    env = simpy.Environment()
    _, world = build(cfg, calls, shifts, behaviour, seed, env, router)
    if until is None:
        env.run()
    elif progress is None:
        env.run(until=until)
    else:
        for i in range(1, chunks + 1):
            env.run(until=until * i / chunks)
            progress(i / chunks)
    end = env.now
    world.meter.close(end)
    world.tally.step(end, 0)
    return RunResult(world.records, world.meter, world.tally, end, len(calls))
