"""The ``hotline`` command: a table of subcommands, each imported only when used.

Each entry maps a subcommand to ``"module:function"``; the function takes the
remaining arguments and returns an exit code. Adding a command is one line here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "asterisk": ("telephony.cli:main", "provision, start, stop Asterisk for Hotline"),
    "config": ("hotline.config_check:main", "check a config file and summarise it"),
    "serve": ("serve.command:main", "run the call centre on Asterisk (AMI + FastAGI shell)"),
    "live": (
        "serve.live:main",
        "the call centre live: Asterisk, serve, SIPp seats, callers",
    ),
    "agent": ("serve.control:main", "log an agent in/out, ready, pause (talks to serve)"),
    "admin": ("serve.admin_cli:main", "agents' skills, add/remove agents, reload the config"),
    "report": ("reports.cli:main", "a recorded day per queue per 15 min: CSV, JSON, HTML"),
    "crm": ("crm.cli:main", "CRM and cases: init, serve, user add, generate, deliver"),
    "demo": ("simulator.demo:main", "watch a simulated centre run live (the routing core at work)"),
    "erlang": ("simulator.cli_erlang:main", "Erlang C / A figures, or the agents needed"),
    "simulate": ("simulator.cli_simulate:main", "simulate a centre, a scenario day or a replay"),
    "staffing": ("simulator.cli_staffing:main", "agents needed per interval (Erlang C / A, sim)"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print("usage: hotline <command> [options]\n\ncommands:")
        for name, (_, summary) in sorted(COMMANDS.items()):
            print(f"  {name:<12} {summary}")
        print("\n'hotline <command> --help' tells more.")
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"hotline: unknown command {name!r}; try 'hotline --help'", file=sys.stderr)
        return 2
    module, _, func = COMMANDS[name][0].partition(":")
    target: Callable[[list[str]], int] = getattr(importlib.import_module(module), func)
    return target(rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
