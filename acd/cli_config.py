"""``hotline config check FILE``: validate a config file and summarise what it defines."""

from __future__ import annotations

import argparse
import sys

from acd.config import ConfigError, load_config


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hotline config")
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a config file")
    check.add_argument("file")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.file)
    except ConfigError as e:
        print(f"hotline config: {e}", file=sys.stderr)
        return 1
    print(f"{cfg.source}: ok — {cfg.name}")
    print(f"  {len(cfg.queues)} queues, {len(cfg.agents)} agents, priorities {cfg.priorities}")
    for q in cfg.queues.values():
        skills = ", ".join(f"{s}>={lvl}" for s, lvl in q.skills)
        print(f"  {q.name:<12} {q.title}  [{skills}] {q.strategy}, {len(q.escalation)} steps")
    return 0
