"""Which routing is better, measured: Hotline's engine against an app_queue-style policy.

``python -m benchmarks.routing_compare [--hours 24] [--replications 10] [--jobs 2]
[--seed 1] [--scenario examples/day.toml] [--write]``

The example day (30,000 calls, 200 seats, the same roster) runs through the same
simulator shell, world and metrics twice per replication: once with
:class:`acd.engine.Engine` (skill levels, cross-queue priority and arrival order,
escalation steps, overflow), once with :class:`simulator.appqueue_router.AppQueueRouter`
(per-queue FIFO, penalty tiers, leastrecent, no cross-queue ordering). Both see
the same callers in a replication (common random numbers: the callers are drawn
from the replication's seed before routing starts), so the paired differences
have tight intervals. Callbacks and sticky routing are off for both: app_queue
has neither, and this compares routing.

Figures per policy, mean and 95 % interval over the replications: service level
(20 s and 15 s), abandon rate, ASA, and the spread of waits across queues: the
per-queue ASA's range (max - min) and coefficient of variation, and the worst
queue's 90th-percentile wait.

``--write`` puts the section in benchmarks/RESULTS.md (under "Current figures").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from acd.metrics import kpis
from acd.records import CallRecord
from benchmarks.report import cpu_model
from simulator.appqueue_router import AppQueueRouter
from simulator.demo import DEFAULT
from simulator.replicate import run_all, seeds, summarise
from simulator.run import simulate
from simulator.scenario import Scenario, load_scenario

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADING = (
    "### Routing compared: Hotline vs app_queue-style (`python -m benchmarks.routing_compare`)"
)
POLICIES: dict[str, type[AppQueueRouter] | None] = {"hotline": None, "app_queue": AppQueueRouter}
FIGURES = (
    ("service_level_20", "SL 20 s", "{:.2%}"),
    ("service_level_15", "SL 15 s", "{:.2%}"),
    ("abandon_rate", "abandon rate", "{:.2%}"),
    ("asa_s", "ASA s", "{:.2f}"),
    ("queue_asa_range_s", "per-queue ASA range s", "{:.2f}"),
    ("queue_asa_cv", "per-queue ASA CV", "{:.3f}"),
    ("worst_queue_p90_wait_s", "worst queue p90 wait s", "{:.1f}"),
)


@dataclass(frozen=True, slots=True)
class Pair:
    """One replication of both policies on the same callers (picklable)."""

    scenario: Scenario

    def run(self, seed: int) -> dict[str, float | int | None]:
        sc = self.scenario
        out: dict[str, float | int | None] = {}
        for name, router in POLICIES.items():
            calls = sc.calls(np.random.default_rng(seed))
            horizon = sc.hours * 3600.0 + 7200.0
            policy = None if router is None else partial(router, seed=seed)
            result = simulate(
                sc.cfg, calls, sc.shifts(), sc.behaviour, seed, until=horizon, router=policy
            )
            for k, v in figures(result.records, sc).items():
                out[f"{name}.{k}"] = v
        for key, *_ in FIGURES:
            a, b = out[f"hotline.{key}"], out[f"app_queue.{key}"]
            out[f"diff.{key}"] = None if a is None or b is None else float(a) - float(b)
        return out


def figures(records: list[CallRecord], sc: Scenario) -> dict[str, float | None]:
    k = kpis(records, sc.cfg.metrics)
    per_queue: dict[str, list[CallRecord]] = {}
    for r in records:
        per_queue.setdefault(r.queue, []).append(r)
    asas = []
    p90s = []
    for rs in per_queue.values():
        q = kpis(rs, sc.cfg.metrics)
        if q.answered:
            asas.append(q.asa_s)
        p90s.append(float(np.percentile([r.wait_s for r in rs], 90)))
    arr = np.array(asas)
    return {
        "service_level_20": k.service_level[20.0],
        "service_level_15": k.service_level[15.0],
        "abandon_rate": k.abandon_rate,
        "asa_s": k.asa_s,
        "queue_asa_range_s": float(arr.max() - arr.min()) if len(arr) else None,
        "queue_asa_cv": float(arr.std() / arr.mean()) if len(arr) and arr.mean() else None,
        "worst_queue_p90_wait_s": max(p90s) if p90s else None,
    }


def compare(sc: Scenario, replications: int, seed: int, jobs: int) -> dict[str, Any]:
    rows = run_all(Pair(sc).run, seeds(seed, replications), jobs)
    return summarise(rows)


def table(stats: dict[str, Any]) -> str:
    lines = [
        "| figure | Hotline | app_queue-style | Hotline − app_queue (paired) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label, fmt in FIGURES:
        cells = []
        for who in ("hotline", "app_queue", "diff"):
            s = stats.get(f"{who}.{key}")
            if s is None:
                cells.append("–")
                continue
            cells.append(f"{fmt.format(s['mean'])} ± {fmt.format(s['ci95'])}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def section(stats: dict[str, Any], args: argparse.Namespace, sc: Scenario, wall_s: float) -> str:
    cpu = cpu_model(platform.processor() or "unknown CPU")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"{HEADING}\n\n"
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" load average {load}; {when}.\n"
        f"Command: `.venv/bin/python -m benchmarks.routing_compare --hours {args.hours:g}"
        f" --replications {args.replications} --jobs {args.jobs} --seed {args.seed}`"
        f" ({wall_s:.0f} s wall).\n\n"
        f"The example day ({_relative(sc.source)}: {sc.calls_per_day:,.0f} calls a day, "
        f"{len(sc.cfg.agents)} seats, its roster), {args.hours:g} h, callbacks and sticky"
        f" routing off; {args.replications} replications, each running both policies on the"
        " same callers through the same simulator shell; mean ± 95 % half-width. The baseline"
        " is the app_queue-style policy (per-queue FIFO, penalty tiers, leastrecent, no"
        " cross-queue ordering), measured in the same run.\n\n"
        f"{table(stats)}\n"
    )


def write_section(text: str) -> None:
    doc = RESULTS.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(HEADING) + r".*?(?=\n### |\n## |\Z)", re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _m: text.rstrip("\n") + "\n", doc, count=1)
    else:
        marker = "## Current figures\n"
        i = doc.index(marker) + len(marker)
        doc = doc[:i] + "\n" + text + doc[i:]
    RESULTS.write_text(doc, encoding="utf-8")


def _relative(path: str) -> str:
    p = Path(path).resolve()
    root = Path(__file__).resolve().parents[1]
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.routing_compare")
    p.add_argument("--scenario", default=str(DEFAULT))
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--replications", type=int, default=10)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true")
    p.add_argument("--write", action="store_true")
    a = p.parse_args(argv)
    sc = load_scenario(a.scenario)
    sc = dataclasses.replace(sc, hours=a.hours, callback_share=0.0, repeat_share=0.0)
    began = time.monotonic()
    stats = compare(sc, a.replications, a.seed, a.jobs)
    wall = time.monotonic() - began
    if a.json:
        print(json.dumps(stats, indent=1))
    else:
        print(table(stats))
    if a.write:
        write_section(section(stats, a, sc, wall))
    return 0


if __name__ == "__main__":
    sys.exit(main())
