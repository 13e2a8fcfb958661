"""``hotline crm``: create, serve, fill and administer a CRM database.

    hotline crm init --db crm.db
    hotline crm user add NAME --role admin [--department housing] [--agent-id 2001] --db crm.db
    hotline crm user agent NAME [AGENT_ID] --db crm.db   # the user's ACD seat (none: clear)
    hotline crm serve --db crm.db [--port 8081] [--config hotline.toml] [--docs]
    hotline crm generate --db demo.db --residents 100000
    hotline crm deliver --db crm.db          # send queued notifications once
    hotline crm supervise --db crm.db        # flag overdue cases for 督办

The password for ``user add`` comes from $HOTLINE_PASSWORD or is asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from crm.lifecycle import Role
from crm.migrate import LATEST, migrate_file
from crm.models import User
from crm.settings import CrmSettings, parse_settings
from crm.types import WallClock


def load_settings(path: str | None) -> CrmSettings:
    if path is None:
        return CrmSettings()
    from acd.calendar_config import read_calendar
    from acd.config import load_config

    cfg = load_config(path)
    return parse_settings(cfg.section("crm"), read_calendar(cfg))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hotline crm", description="The CRM and its cases.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help)
        c.add_argument("--db", required=True, help="the SQLite file")
        c.add_argument("--config", help="a hotline TOML file with a [crm] section")
        return c

    cmd("init", help="create or migrate the database")
    s = cmd("serve", help="serve the JSON API on 127.0.0.1")
    s.add_argument("--port", type=int, default=8081)
    s.add_argument("--docs", action="store_true", help="serve /docs and /openapi.json (dev)")
    g = cmd("generate", help="fill an empty database with a synthetic city")
    g.add_argument("--residents", type=int, default=10_000)
    g.add_argument("--seed", type=int, default=1)
    cmd("deliver", help="deliver the queued notifications once")
    cmd("supervise", help="flag overdue cases for supervision (督办)")
    u = sub.add_parser("user", help="manage users").add_subparsers(dest="ucmd", required=True)
    add = u.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--department")
    add.add_argument("--agent-id", help="the ACD agent (seat) id this user is, e.g. 2001")
    add.add_argument("--db", required=True)
    add.add_argument("--config")
    ag = u.add_parser("agent", help="set (or, without AGENT_ID, clear) a user's ACD agent id")
    ag.add_argument("name")
    ag.add_argument("agent_id", nargs="?")
    ag.add_argument("--db", required=True)
    ag.add_argument("--config")
    return p


def main(argv: list[str]) -> int:
    a = _parser().parse_args(argv)
    try:
        settings = load_settings(a.config)
    except (OSError, ValueError) as e:
        print(f"hotline crm: {e}", file=sys.stderr)
        return 2
    if a.cmd == "init":
        applied = migrate_file(a.db)
        print(f"{a.db}: schema version {LATEST} (applied {applied or 'nothing'})")
        return 0
    if a.cmd == "serve":
        return serve(a.db, settings, a.port, a.docs)
    if a.cmd == "generate":
        from crm.generate import Size, generate

        if a.residents < 1:
            print("hotline crm generate: --residents must be >= 1", file=sys.stderr)
            return 2
        print(generate(a.db, Size(a.residents, seed=a.seed), log=True))
        return 0
    return asyncio.run(_admin(a, settings))


async def _admin(a: argparse.Namespace, settings: CrmSettings) -> int:
    from crm.api import make_sender
    from crm.errors import CrmError
    from crm.identity import InvalidIdentifierError
    from crm.repository import SqliteCrm

    repo = await SqliteCrm.open(a.db, settings, WallClock())
    try:
        if a.cmd == "deliver":
            sent = await repo.deliver_notifications(make_sender(settings))
            print(f"delivered {sent}, {await repo.pending_notifications()} still queued")
        elif a.cmd == "supervise":
            n = await repo.cases.flag_overdue(User("system", Role.SUPERVISOR))
            print(f"{n} overdue case(s) put under supervision")
        elif a.ucmd == "agent":
            user = await repo.users.set_agent(a.name, a.agent_id)
            print(f"{user.name}: agent {user.agent_id or '(none)'}")
        else:
            password = os.environ.get("HOTLINE_PASSWORD") or getpass.getpass("password: ")
            user = await repo.users.add(a.name, password, Role(a.role), a.department, a.agent_id)
            agent = f", agent {user.agent_id}" if user.agent_id else ""
            print(f"added {user.name} ({user.role.value}{agent})")
        return 0
    except (CrmError, InvalidIdentifierError) as e:
        print(f"hotline crm: {e}", file=sys.stderr)
        return 1
    finally:
        await repo.close()


def serve(db: str, settings: CrmSettings, port: int, docs: bool = False) -> int:
    import uvicorn

    from crm.api import create_app

    app = create_app(db, settings, docs=docs)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    return 0
