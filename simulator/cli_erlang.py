"""``hotline erlang``: Erlang C / Erlang A figures, or the staffing answer, as text or JSON."""

from __future__ import annotations

import json
import sys

from simulator.cli_args import POS_FLOAT, POS_INT, ArgError, Parser, fraction, non_negative
from simulator.erlang import Erlang, ErlangError, erlang, staff


def parser() -> Parser:
    p = Parser(
        prog="hotline erlang",
        description="Erlang C (M/M/N) or, with --patience, Erlang A (M/M/N+M) for one queue."
        " Without --agents: the fewest agents that reach --target.",
    )
    p.add_argument("--calls-per-hour", type=POS_FLOAT, required=True, metavar="R")
    p.add_argument("--aht", type=POS_FLOAT, required=True, metavar="S", help="handle time, s")
    p.add_argument("--agents", type=POS_INT, metavar="N")
    p.add_argument("--patience", type=POS_FLOAT, metavar="P", help="mean patience, s (Erlang A)")
    p.add_argument("--answer-within", type=non_negative, default=20.0, metavar="T")
    p.add_argument("--target", type=fraction, default=0.8, help="service level (default 0.8)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def main(argv: list[str]) -> int:
    try:
        a = parser().parse_args(argv)
        rate = a.calls_per_hour / 3600.0
        if a.agents is None:
            res = staff(rate, a.aht, a.target, a.answer_within, a.patience)
        else:
            res = erlang(rate, a.aht, a.agents, a.answer_within, a.patience)
    except (ArgError, ErlangError) as e:
        print(f"hotline erlang: {e}", file=sys.stderr)
        return 2
    out: dict[str, object] = dict(res.as_dict())
    out["model"] = "erlang-a" if a.patience else "erlang-c"
    out["answer_within_s"] = a.answer_within
    if a.json:
        print(json.dumps(out))
    else:
        print(text(res, a.answer_within, staffing=a.agents is None, target=a.target))
    return 0


def text(res: Erlang, within: float, staffing: bool, target: float) -> str:
    lines = []
    if staffing:
        lines.append(f"agents needed for {target:.0%} within {within:g} s: {res.agents}")
    else:
        lines.append(f"agents: {res.agents}")
    lines += [
        f"offered load:      {res.offered_erlangs:.2f} erlangs",
        f"P(wait):           {res.p_wait:.2%}",
        f"service level:     {res.service_level:.2%} within {within:g} s",
        f"ASA:               {res.asa_s:.1f} s",
        f"occupancy:         {res.occupancy:.2%}",
    ]
    if res.p_abandon is not None:
        lines.append(f"P(abandon):        {res.p_abandon:.2%}")
    return "\n".join(lines)
