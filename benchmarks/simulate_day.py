"""How fast the simulator runs a day, carrying the full routing engine.

Side by side in one run, on the same M/M/200+M model (3,000 calls/h, AHT 240 s,
patience 120 s): Hotline (SimPy + the real ``acd`` engine), ``ciw`` and a bare
SimPy model (a Resource and a patience timeout). Then the example day
(examples/day.toml: 30,000 calls, 200 seats) once, and 30 replications of it in
parallel processes. Figures are calls per second of wall time and of CPU time
(the machine is shared: CPU time is the steadier figure) and the ratios to the
baselines. Each single run is the best of ``--repeat`` (the machine is shared
and noisy). The issue's wall-clock target (the day in <= 2 s) was set where ciw
runs this model at about 16,000 calls per wall second; the report also gives the
target scaled by the ciw speed measured in the same run, and the wall time of
the command a planner types (``hotline simulate --scenario examples/day.toml
--json``, interpreter start-up included). ``--write`` appends the results to
benchmarks/RESULTS.md.

    .venv/bin/python -m benchmarks.simulate_day [--hours 10] [--replications 30]
        [--repeat 3] [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import simpy

from acd.engine import Engine
from benchmarks.report import cpu_model
from simulator.replicate import run_all, seeds
from simulator.scenario import load_scenario
from simulator.stationary import Stationary

ROOT = Path(__file__).resolve().parents[1]
RATE, AHT, PATIENCE, AGENTS = 3000.0, 240.0, 120.0, 200
CIW_REFERENCE = 16_000.0  # calls per wall second of ciw where the issue set the 2 s target
DAY_TARGET_S = 2.0


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], int]) -> dict[str, float]:
    w, c = time.perf_counter(), _cpu()
    calls = fn()
    wall, cpu = time.perf_counter() - w, _cpu() - c
    return {"calls": calls, "wall_s": wall, "cpu_s": cpu, "per_wall_s": calls / wall,
            "per_cpu_s": calls / cpu}  # fmt: skip


def best_of(n: int, fn: Callable[[], int]) -> dict[str, float]:
    """The fastest of ``n`` timed runs (by wall time)."""
    return min((timed(fn) for _ in range(max(1, n))), key=lambda r: r["wall_s"])


def cli_day_wall_s() -> float:
    """Wall seconds of ``hotline simulate --scenario examples/day.toml --json``."""
    cmd = [sys.executable, "-m", "hotline.cli", "simulate", "--scenario", "examples/day.toml"]
    t = time.perf_counter()
    subprocess.run([*cmd, "--json"], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def hotline_mmn(hours: float, seed: int) -> int:
    model = Stationary(RATE, AHT, AGENTS, PATIENCE, 20.0, hours)
    return len(model.run(seed).records)


def ciw_mmn(hours: float, seed: int) -> int:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(RATE / 3600)],
        service_distributions=[ciw.dists.Exponential(1 / AHT)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(1 / PATIENCE)],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(hours * 3600)
    return len(sim.get_all_records()) + len(
        sim.reneged_list if hasattr(sim, "reneged_list") else []
    )


def simpy_mmn(hours: float, seed: int) -> int:
    rng = random.Random(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, AGENTS)
    done = [0]

    def caller() -> Any:
        with agents.request() as req:
            got = yield req | env.timeout(rng.expovariate(1 / PATIENCE))
            if req in got:
                yield env.timeout(rng.expovariate(1 / AHT))
        done[0] += 1

    def source() -> Any:
        while True:
            yield env.timeout(rng.expovariate(RATE / 3600))
            env.process(caller())

    env.process(source())
    env.run(until=hours * 3600)
    return done[0]


def day(seed: int) -> int:
    sc = load_scenario(ROOT / "examples" / "day.toml")
    from simulator.cli_simulate import _Day

    return len(_Day(sc, None).run(seed).records)


def engine_share(hours: float) -> float:
    """Fraction of CPU time spent inside Engine.handle/expire on the M/M/200+M day."""
    spent = [0.0]
    handle, expire = Engine.handle, Engine.expire

    def h(self: Engine, e: Any) -> Any:
        t = time.process_time()
        try:
            return handle(self, e)
        finally:
            spent[0] += time.process_time() - t

    def x(self: Engine) -> Any:
        t = time.process_time()
        try:
            return expire(self)
        finally:
            spent[0] += time.process_time() - t

    Engine.handle, Engine.expire = h, x  # type: ignore[method-assign,assignment]
    try:
        c = time.process_time()
        hotline_mmn(hours, 5)
        total = time.process_time() - c
    finally:
        Engine.handle, Engine.expire = handle, expire  # type: ignore[method-assign]
    return spent[0] / total


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.simulate_day")
    p.add_argument("--hours", type=float, default=10.0, help="M/M/200+M horizon (10 h = 30k calls)")
    p.add_argument("--replications", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3, help="best of N for each single run")
    p.add_argument("--write", action="store_true", help="append to benchmarks/RESULTS.md")
    a = p.parse_args(argv)
    load = os.getloadavg()
    rows = {
        "hotline": best_of(a.repeat, lambda: hotline_mmn(a.hours, 1)),
        "ciw": best_of(a.repeat, lambda: ciw_mmn(a.hours, 1)),
        "simpy": best_of(a.repeat, lambda: simpy_mmn(a.hours, 1)),
    }
    rows["day"] = best_of(a.repeat, lambda: day(1))
    cli_s = min(cli_day_wall_s() for _ in range(max(1, a.repeat)))
    reps = seeds(1, a.replications)
    rows["replications"] = timed(lambda: sum(run_all(day, reps, a.jobs)))
    share = engine_share(min(a.hours, 4.0))
    lines = report(a, rows, share, load, cli_s)
    print("\n".join(lines))
    if a.write:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return 0


def report(
    a: Any,
    rows: dict[str, dict[str, float]],
    share: float,
    load: tuple[float, ...],
    cli_s: float,
) -> list[str]:
    h, c, s = rows["hotline"], rows["ciw"], rows["simpy"]
    scaled = DAY_TARGET_S * CIW_REFERENCE / c["per_wall_s"]
    cpu = platform.processor() or cpu_model(platform.machine())
    out = [
        f"### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `.venv/bin/python -m benchmarks.simulate_day --hours {a.hours:g}"
        f" --replications {a.replications} --jobs {a.jobs} --repeat {a.repeat}`",
        f"- machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" load average {load[0]:.1f} / {load[1]:.1f} at start (shared with other developers)",
        "",
        "| run | calls | wall s | CPU s | calls / wall s | calls / CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {
        "hotline": "M/M/200+M, Hotline (SimPy + engine)",
        "ciw": "M/M/200+M, ciw",
        "simpy": "M/M/200+M, bare SimPy",
        "day": "example day (30k calls, 200 seats), 1 run",
        "replications": f"example day x {a.replications}, {a.jobs} processes",
    }
    for k, r in rows.items():
        out.append(
            f"| {names[k]} | {r['calls']:.0f} | {r['wall_s']:.2f} | {r['cpu_s']:.2f}"
            f" | {r['per_wall_s']:,.0f} | {r['per_cpu_s']:,.0f} |"
        )
    out += [
        "",
        f"- Hotline / ciw per simulated call (wall): {h['per_wall_s'] / c['per_wall_s']:.2f}"
        f"; CPU: {h['per_cpu_s'] / c['per_cpu_s']:.2f}",
        f"- Hotline / bare SimPy (wall): {h['per_wall_s'] / s['per_wall_s']:.2f}"
        f"; CPU: {h['per_cpu_s'] / s['per_cpu_s']:.2f}",
        f"- the example day: {rows['day']['wall_s']:.2f} s wall, best of {a.repeat}"
        f" (target <= {DAY_TARGET_S:g} s where ciw runs {CIW_REFERENCE:,.0f} calls / wall s;"
        f" ciw ran {c['per_wall_s']:,.0f} here, so the target scaled to this machine is"
        f" {scaled:.2f} s: {'met' if rows['day']['wall_s'] <= scaled else 'NOT met'})",
        f"- `hotline simulate --scenario examples/day.toml --json`, start-up included:"
        f" {cli_s:.2f} s wall, best of {a.repeat}",
        f"- time inside Engine.handle/expire: {share:.0%} of Hotline's CPU time",
        "",
    ]
    return out


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
