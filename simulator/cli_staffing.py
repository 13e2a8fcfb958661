"""``hotline staffing``: the per-interval staffing plan of a scenario, or the
agents one stationary queue needs by Erlang C, Erlang A or simulation."""

from __future__ import annotations

import json
import sys
from typing import Any

from acd.config_reader import ConfigError
from simulator.cli_args import POS_FLOAT, ArgError, Parser, fraction, non_negative
from simulator.erlang import ErlangError, staff
from simulator.scenario import load_scenario
from simulator.staffing import by_simulation, plan
from simulator.stationary import Stationary


def parser() -> Parser:
    p = Parser(prog="hotline staffing", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--scenario", metavar="FILE", help="plan every interval of a scenario")
    p.add_argument("--calls-per-hour", type=POS_FLOAT, metavar="R")
    p.add_argument("--aht", type=POS_FLOAT, metavar="S")
    p.add_argument("--patience", type=POS_FLOAT, metavar="P")
    p.add_argument("--target", type=fraction, default=0.8, help="service level (default 0.8)")
    p.add_argument("--answer-within", type=non_negative, metavar="T", help="default 20 s")
    p.add_argument("--by", choices=("erlang", "simulation"), default="erlang")
    p.add_argument("--hours", type=POS_FLOAT, default=8.0, help="simulated hours per try")
    p.add_argument("--json", action="store_true")
    return p


def main(argv: list[str]) -> int:
    try:
        a = parser().parse_args(argv)
        out = _scenario(a) if a.scenario else _queue(a)
    except (ArgError, ConfigError, ErlangError) as e:
        print(f"hotline staffing: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(out, ensure_ascii=False))
    elif a.scenario:
        print(_table(out))
    else:
        print(", ".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def _scenario(a: Any) -> dict[str, Any]:
    if a.calls_per_hour or a.aht:
        raise ArgError("--calls-per-hour/--aht do not go with --scenario")
    sc = load_scenario(a.scenario)
    rows = [p.as_dict() for p in plan(sc, a.target, a.answer_within)]
    within = a.answer_within if a.answer_within is not None else max(sc.cfg.metrics.service_level_s)
    return {"scenario": sc.source, "target": a.target, "answer_within_s": within, "intervals": rows}


def _queue(a: Any) -> dict[str, Any]:
    if a.calls_per_hour is None or a.aht is None:
        raise ArgError("give --scenario FILE, or --calls-per-hour and --aht")
    within = 20.0 if a.answer_within is None else a.answer_within
    rate = a.calls_per_hour / 3600
    out: dict[str, Any] = {"erlang_c": staff(rate, a.aht, a.target, within).agents}
    if a.patience:
        out["erlang_a"] = staff(rate, a.aht, a.target, within, a.patience).agents
    if a.by == "simulation":
        model = Stationary(a.calls_per_hour, a.aht, 1, a.patience, within, a.hours, a.hours / 10)
        n, tried = by_simulation(model, a.target)
        out["simulation"] = n
        out["tried"] = {str(k): round(v, 4) for k, v in tried}
    out["agents"] = out.get("simulation", out.get("erlang_a", out["erlang_c"]))
    return out


def _table(out: dict[str, Any]) -> str:
    cols = ("start", 5), ("calls", 7), ("erlangs", 8), ("ErlangC", 8), ("ErlangA", 8)
    head = " ".join(f"{name:>{w}}" for name, w in (*cols, ("roster", 7), ("gap", 5)))
    lines = [
        f"staffing for {out['target']:.0%} within {out['answer_within_s']:g} s: {out['scenario']}",
        head,
    ]
    for r in out["intervals"]:
        lines.append(
            f"{r['start']:>5} {r['calls']:7.1f} {r['erlangs']:8.2f} {r['erlang_c']:8d}"
            f" {r['erlang_a']:8d} {r['rostered']:7d} {r['gap']:5d}"
        )
    return "\n".join(lines)
