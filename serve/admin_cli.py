"""``hotline admin``: runtime administration of a running ``hotline serve`` through its
control socket (:mod:`serve.web_admin`'s ``/admin`` routes; audited as the control
socket's peer)::

    hotline admin skills 2001 elderly=8 general=5   # the agent's skills, all of them
    hotline admin add 2201 --name "新坐席" general=5 mandarin=10 [--wrapup-s 20]
        # serve on a local instance: the seat's PJSIP endpoint too, and its SIP password
    hotline admin remove 2201                        # a logged-out agent
    hotline admin reload [--file other.toml]         # the config, without a restart
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from serve.control import request

__all__ = ["main", "parse_skills"]


def parse_skills(items: list[str]) -> dict[str, int]:
    """``name=level`` words as a table (ValueError naming the bad word)."""
    out: dict[str, int] = {}
    for item in items:
        name, sep, level = item.partition("=")
        if not sep or not name or not level.strip().lstrip("-").isdigit():
            raise ValueError(f"skill {item!r}: expected name=level (a level 1-10)")
        out[name.strip()] = int(level)
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hotline admin", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--state-dir", default="var/serve", help="hotline serve's state directory")
    sub = p.add_subparsers(dest="command", required=True)
    sk = sub.add_parser("skills", help="set an agent's skills (all of them)")
    sk.add_argument("agent")
    sk.add_argument("skills", nargs="+", metavar="name=level")
    add = sub.add_parser("add", help="add an agent (logged out)")
    add.add_argument("agent")
    add.add_argument("skills", nargs="+", metavar="name=level")
    add.add_argument("--name", default="")
    add.add_argument("--wrapup-s", type=float)
    rm = sub.add_parser("remove", help="remove a logged-out agent")
    rm.add_argument("agent")
    rl = sub.add_parser("reload", help="reload the config file without a restart")
    rl.add_argument("--file", help="another file than the one serve was started with")
    a = p.parse_args(argv)
    try:
        method, url, body = _request(a)
    except ValueError as e:
        p.error(str(e))
    sock = Path(a.state_dir) / "control.sock"
    try:
        status, answer = request(sock, method, url, body)
    except OSError as e:
        print(f"hotline admin: cannot reach hotline serve at {sock}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=1))
    return 0 if status in (200, 201) else 1


def _request(a: argparse.Namespace) -> tuple[str, str, Any]:
    if a.command == "skills":
        return "PUT", f"/admin/agents/{a.agent}/skills", {"skills": parse_skills(a.skills)}
    if a.command == "add":
        body = {"agent": a.agent, "name": a.name, "skills": parse_skills(a.skills)}
        if a.wrapup_s is not None:
            body["wrapup_s"] = a.wrapup_s
        return "POST", "/admin/agents", body
    if a.command == "remove":
        return "DELETE", f"/admin/agents/{a.agent}", None
    body = {"file": str(Path(a.file).resolve())} if a.file else {}
    return "POST", "/admin/reload", body
