"""The same scenario through the SimPy simulator and through an asyncio loop with a
scripted telephony fake gives identical call records.

The asyncio side is :mod:`simulator.aio` (engine on a virtual-time asyncio loop);
re-point this test at the production shell (``hotline serve``) once it can be
driven by a scripted fake the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import simpy

from simulator.aio import run_asyncio
from simulator.run import simulate
from simulator.scenario import load_scenario

DAY = Path(__file__).parents[3] / "examples" / "day.toml"


def test_simpy_and_asyncio_shells_give_identical_records() -> None:
    sc = load_scenario(DAY)
    calls = [
        c for c in sc.calls(np.random.default_rng(11)) if 9 * 3600 <= c.arrive_at < 9.25 * 3600
    ]
    assert len(calls) > 100
    shifts = sc.shifts()
    sim = simulate(sc.cfg, calls, shifts, sc.behaviour, seed=4)
    aio = run_asyncio(sc.cfg, calls, shifts, sc.behaviour, seed=4)
    assert len(sim.records) == len(calls)
    assert sim.records == aio.records
    assert sim.meter.seconds == aio.meter.seconds
    outcomes = {r.outcome for r in sim.records}
    assert {"answered", "abandoned"} <= {str(o) for o in outcomes}


def test_asyncio_loop_time_is_virtual() -> None:
    from simulator.aio import VirtualTimeLoop

    loop = VirtualTimeLoop()
    try:
        import asyncio

        async def nap() -> float:
            await asyncio.sleep(3600)
            return asyncio.get_running_loop().time()

        assert loop.run_until_complete(nap()) >= 3600
    finally:
        loop.close()
    assert simpy.Environment().now == 0
