"""``hotline simulate``: the stationary M/M/N(+M) centre, a scenario day, or a replay.

- ``--calls-per-hour R --aht S --agents N [--patience P] --hours H --seed K --json``
  prints the Erlang keys measured through the real engine;
- ``--scenario FILE [--report DIR]`` runs a scenario and writes its report;
- ``--replay CALLS.csv [--scenario FILE]`` re-runs a simulated day's callers
  against the scenario's roster and routing (the example day by default);
- ``--replay QUEUE_LOG|calls.jsonl|STATE_DIR`` replays a real day (ours or
  app_queue's queue_log, :mod:`simulator.replay`): its callers, handle times,
  estimated patience and recorded roster; what-ifs: ``--roster FILE`` (a TOML of
  ``[[shifts]]``) another roster, ``--config FILE`` another centre config.

``--replications K`` runs K independent replications in ``--jobs`` processes and
reports means with 95 % confidence intervals.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from acd.config import load_config
from acd.config_reader import ConfigError
from simulator import report
from simulator.cli_args import POS_FLOAT, POS_INT, ArgError, Parser, non_negative
from simulator.demo import DEFAULT
from simulator.erlang import erlang
from simulator.history import read_replay
from simulator.progress import Progress
from simulator.replay import RecordedDay, is_recorded_day, load_recorded_day
from simulator.replicate import run_all, seeds, summarise
from simulator.roster import check_roster, load_roster
from simulator.run import RunResult, simulate
from simulator.scenario import Scenario, load_scenario
from simulator.stationary import Stationary, measure_run
from simulator.world import Shift

DRAIN_S = 2 * 3600.0  # after the horizon, let the calls still in the centre finish


def parser() -> Parser:
    p = Parser(prog="hotline simulate", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--calls-per-hour", type=POS_FLOAT, metavar="R")
    p.add_argument("--aht", type=POS_FLOAT, metavar="S")
    p.add_argument("--agents", type=POS_INT, metavar="N")
    p.add_argument("--patience", type=POS_FLOAT, metavar="P")
    p.add_argument("--answer-within", type=non_negative, default=20.0, metavar="T")
    p.add_argument("--hours", type=POS_FLOAT, help="simulated hours (default 8, or the scenario's)")
    p.add_argument("--warmup-hours", type=non_negative, default=0.0)
    p.add_argument("--seed", type=int, help="default 1, or the scenario's")
    p.add_argument("--scenario", metavar="FILE")
    p.add_argument("--replay", metavar="FILE", help="calls.csv, queue_log, calls.jsonl or a dir")
    p.add_argument("--roster", metavar="FILE", help="replay with these [[shifts]] instead")
    p.add_argument("--config", metavar="FILE", help="replay with this centre config instead")
    p.add_argument("--report", metavar="DIR")
    p.add_argument("--replications", type=POS_INT, default=1)
    p.add_argument("--jobs", type=POS_INT, default=2, help="worker processes (default 2)")
    p.add_argument("--progress", action="store_true", help="show a progress bar off a terminal too")
    p.add_argument("--json", action="store_true")
    return p


def main(argv: list[str]) -> int:
    try:
        a = parser().parse_args(argv)
        if (a.roster or a.config) and not a.replay:
            raise ArgError("--roster and --config are what-ifs of a --replay")
        out = _stationary(a) if a.scenario is None and a.replay is None else _day(a)
    except (ArgError, ConfigError) as e:
        print(f"hotline simulate: {e}", file=sys.stderr)
        return 2
    print(json.dumps(out, ensure_ascii=False) if a.json else _text(out))
    return 0


def _stationary(a: Any) -> dict[str, Any]:
    need = [n for n in ("calls_per_hour", "aht", "agents") if getattr(a, n) is None]
    if need:
        flags = ", ".join("--" + n.replace("_", "-") for n in need)
        raise ArgError(f"missing {flags} (or give --scenario FILE or --replay CALLS.csv)")
    if a.report:
        raise ArgError("--report needs --scenario or --replay")
    hours = a.hours or 8.0
    if a.warmup_hours >= hours:
        raise ArgError(f"--warmup-hours {a.warmup_hours:g} must be less than --hours {hours:g}")
    model = Stationary(
        a.calls_per_hour, a.aht, a.agents, a.patience, a.answer_within, hours, a.warmup_hours
    )
    seed = 1 if a.seed is None else a.seed
    bar = Progress("simulate", True if a.progress else None)
    if a.replications == 1:
        out: dict[str, Any] = dict(measure_run(model, seed))
    else:
        rows = run_all(partial(measure_run, model), seeds(seed, a.replications), a.jobs, bar.update)
        bar.done()
        stats = summarise(rows)
        out = {k: v["mean"] for k, v in stats.items()}
        out["ci95"] = {k: v["ci95"] for k, v in stats.items()}
        out["replications"] = a.replications
    theory = erlang(a.calls_per_hour / 3600, a.aht, a.agents, a.answer_within, a.patience)
    out["erlang"] = theory.as_dict()
    out["hours"] = hours
    out["seed"] = seed
    return out


@dataclass(frozen=True, slots=True)
class _Day:
    """One replication of a scenario or replay (picklable: it crosses processes)."""

    scenario: Scenario
    replay: Path | None
    recorded: RecordedDay | None = None
    roster: tuple[Shift, ...] | None = None  # --roster, else the scenario's or the record's

    def run(self, seed: int, bar: Progress | None = None) -> RunResult:
        sc = self.scenario
        rng = np.random.default_rng(seed)
        progress = bar.update if bar is not None else None
        if self.recorded is not None:
            day = self.recorded
            calls = day.calls(sc, rng)
            shifts = list(self.roster) if self.roster is not None else day.shifts(sc.cfg)
            horizon = max(c.arrive_at for c in calls) + DRAIN_S
            behaviour = day.behaviour(sc.behaviour)
            return simulate(
                sc.cfg, calls, shifts, behaviour, seed, until=horizon, progress=progress
            )
        calls = read_replay(self.replay, sc, rng) if self.replay else sc.calls(rng)
        horizon = max([sc.hours * 3600.0] + [c.arrive_at for c in calls]) + DRAIN_S
        shifts = list(self.roster) if self.roster is not None else sc.shifts()
        return simulate(sc.cfg, calls, shifts, sc.behaviour, seed, until=horizon, progress=progress)

    def measure(self, seed: int) -> dict[str, float | int | None]:
        return report.flat(report.summary(self.run(seed), self.scenario.cfg.metrics))


def _day(a: Any) -> dict[str, Any]:
    if any(getattr(a, n) is not None for n in ("calls_per_hour", "aht", "agents", "patience")):
        raise ArgError("--calls-per-hour/--aht/--agents/--patience do not go with --scenario")
    sc = load_scenario(a.scenario or DEFAULT)
    if a.hours:
        sc = replace(sc, hours=a.hours)
    if a.config:
        sc = replace(sc, cfg=load_config(a.config))
    replay = Path(a.replay) if a.replay else None
    recorded = None
    if replay is not None and is_recorded_day(replay):
        recorded = load_recorded_day(replay)
        recorded.calls(sc, np.random.default_rng(0))  # validate before running anything
        if not a.roster:
            recorded.shifts(sc.cfg)
    elif replay is not None:
        read_replay(replay, sc, np.random.default_rng(0))  # validate before running anything
    roster = None
    if a.roster:
        roster = tuple(load_roster(Path(a.roster), sc.cfg, sc.hours))
    elif a.config and recorded is None:
        check_roster(sc.shifts(), sc.cfg)
    day = _Day(sc, replay, recorded, roster)
    seed = sc.seed if a.seed is None else a.seed
    bar = Progress("simulate", True if a.progress else None)
    if a.replications > 1:
        if a.report:
            raise ArgError("--report writes one run; drop --replications or --report")
        rows = run_all(day.measure, seeds(seed, a.replications), a.jobs, bar.update)
        bar.done()
        stats = summarise(rows)
        return {"replications": a.replications, "seed": seed, "means": stats}
    result = day.run(seed, bar)
    bar.done()
    out = report.summary(result, sc.cfg.metrics)
    out["seed"] = seed
    if a.report:
        title = f"Hotline simulation: {replay or sc.source}, seed {seed}"
        out["report"] = [
            str(p) for p in report.write(Path(a.report), result, sc.cfg.metrics, title)
        ]
    return out


def _text(out: dict[str, Any]) -> str:
    lines = []
    for k, v in out.items():
        if isinstance(v, dict):
            inner = ", ".join(f"{kk}: {_fmt(vv)}" for kk, vv in v.items())
            lines.append(f"{k}: {inner}")
        else:
            lines.append(f"{k}: {_fmt(v)}")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)
