"""``hotline serve``: the production shell, one asyncio process (the composition root).

AMI client + FastAGI hand-off + the routing engine + its timer + the control
API, and with ``[crm]`` / ``[web]`` the CRM link (interactions, screen-pops, the
case owner for sticky routing) and the browser-facing API, wired by hand here.
Start-up order matters: agents' presence is restored from the state
directory, then AMI logs in and resynchronises (adopting callers still
holding), and only then is the FastAGI port opened, so no call is routed
before the shell knows which agents can be reached.

SIGTERM / SIGINT stop it cleanly; after a SIGKILL, starting it again adopts the
callers still holding in Asterisk with their original arrival times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from acd import events as ev
from acd.config import ConfigError, load_config
from acd.engine import Engine
from acd.types import AgentId
from agents.presence import AgentStore
from crm.case_owner import CaseOwners
from crm.errors import NotFoundError
from crm.repository import CrmRepository
from ivr.agi_driver import CaseLookup, IvrDriver
from ivr.config import read_ivr
from serve import crm_link as serve_crm
from serve.control import ControlServer
from serve.history import CallHistory
from serve.settings import ServeSettings, read_settings
from serve.web import WebServer, build_web_app
from telephony.agi import FastAgiServer, OwnerOf, enqueue_handler
from telephony.ami_client import AmiClient
from telephony.ami_frames import AmiMessage
from telephony.asterisk.instance import AsteriskInstance, AsteriskStartError
from telephony.asterisk.root import find_root
from telephony.queue_log import QueueLog
from telephony.resync import Resyncer
from telephony.shell import CallShell

__all__ = ["WallClock", "main", "serve"]

log = logging.getLogger("hotline.serve")


class WallClock:
    """Epoch seconds: arrival times survive a restart of the process."""

    def now(self) -> float:
        return time.time()


async def serve(
    config_path: Path, settings: ServeSettings, stop: asyncio.Event, record_ami: Path | None = None
) -> int:
    config = load_config(config_path)
    clock = WallClock()
    engine = Engine(config, clock)
    stats: Counter[str] = Counter()
    shell_ref: list[CallShell] = []
    also: list[Callable[[AmiMessage], None]] = []  # the CRM link's survey scores

    def on_event(msg: AmiMessage) -> None:
        shell_ref[0].on_ami_event(msg)
        for listener in also:
            listener(msg)

    ami = AmiClient(
        settings.ami_host,
        settings.ami_port,
        settings.ami_username,
        settings.ami_secret,
        on_event,
        events=settings.ami_events,
        action_timeout_s=settings.action_timeout_s,
        stats=stats,
        record_to=record_ami,
    )
    store = AgentStore(settings.agents_file)
    shell = CallShell(
        engine,
        settings,
        clock,
        ami,
        queue_log=QueueLog(settings.queue_log),
        history=CallHistory(settings.history),
        agents=store,
        stats=stats,
    )
    shell_ref.append(shell)
    resyncer = Resyncer(shell, ami)
    first_sync = asyncio.Event()

    async def on_connected() -> None:
        try:
            await resyncer.resync("connected")
        finally:
            first_sync.set()

    ami.on_connected = on_connected
    for agent, reason in store.load().items():
        if agent in config.agents:
            shell.feed(ev.AgentLoggedIn(AgentId(agent), paused_reason=reason))

    async with contextlib.AsyncExitStack() as stack:
        try:
            link = await stack.enter_async_context(serve_crm.running(settings, shell, stats))
            if link is not None:
                also.append(link.on_ami_event)
            owners = None
            if link is not None and settings.sticky_lookup_s > 0:
                owners = CaseOwners(
                    link.repo.cases.owner_agents, config.agents, settings.sticky_lookup_s, stats
                )
            web = None
            if settings.web_port is not None:
                web = WebServer(build_web_app(shell, link), settings.web_host, settings.web_port)
        except Exception as e:  # a database that cannot be opened, a port in use
            print(f"hotline serve: {type(e).__name__}: {e}", file=sys.stderr)
            return 2
        owner_of = owners.owner if owners is not None else None
        ivr_cfg = read_ivr(config)
        ivr = None
        if ivr_cfg is not None and ivr_cfg.enabled:
            lookup = _case_status(link.repo) if link is not None else None
            ivr = IvrDriver(ivr_cfg, lookup, stats)
        try:
            return await _run(settings, shell, ami, first_sync, stop, web, stats, owner_of, ivr)
        finally:
            if owners is not None:
                await owners.close()


async def _run(
    settings: ServeSettings,
    shell: CallShell,
    ami: AmiClient,
    first_sync: asyncio.Event,
    stop: asyncio.Event,
    web: WebServer | None,
    stats: Counter[str],
    owner_of: OwnerOf | None = None,
    ivr: IvrDriver | None = None,
) -> int:
    ami_task = asyncio.create_task(ami.run())
    control = ControlServer(shell, settings.control_socket)
    control_task = asyncio.create_task(control.serve())
    web_task = asyncio.create_task(web.serve()) if web is not None else None
    agi = FastAgiServer(enqueue_handler(shell, owner_of, ivr))
    try:
        waiter = asyncio.create_task(first_sync.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not stop.is_set():
            port = await agi.start(settings.agi_host, settings.agi_port)
            print(
                f"hotline serve: ready (AMI {settings.ami_host}:{settings.ami_port},"
                f" FastAGI {settings.agi_host}:{port}, control {settings.control_socket}"
                + (f", web http://{web.host}:{web.port}" if web is not None else "")
                + (f", CRM {settings.crm_database}" if settings.crm is not None else "")
                + ")",
                flush=True,
            )
            await stopper
    finally:
        await agi.close()
        control.stop()
        if web is not None:
            web.stop()
        await ami.close()
        ami_task.cancel()
        for t in (control_task, ami_task, web_task):
            if t is None:
                continue
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(t, 3.0)
        for t in list(shell.tasks):
            t.cancel()
        shell.queue_log.close()
        log.info("stopped; counters: %s", dict(stats))
    return 0


def _case_status(repo: CrmRepository) -> CaseLookup:
    """The IVR's case-status look-up: read-only, only the status leaves the CRM."""

    async def status(number: str) -> str | None:
        try:
            case = await repo.cases.by_number(number)
        except NotFoundError:
            return None
        return str(case.status.value)

    return status


def _from_instance(settings: ServeSettings, name: str) -> ServeSettings:
    root = find_root()
    if root is None:
        raise AsteriskStartError("no Asterisk provisioned: run 'hotline asterisk provision'")
    inst = AsteriskInstance(root, name)
    ami = inst.ami()
    return settings.override(
        ami_host=ami.host,
        ami_port=ami.port,
        ami_username=ami.user,
        ami_secret=ami.secret,
        agi_port=int(inst.info().get("agi_port", settings.agi_port)),
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hotline serve", description=__doc__)
    p.add_argument("--config", default="examples/hotline.toml", type=Path)
    p.add_argument(
        "--instance",
        help="take AMI port, user, secret and the AGI port from this running instance"
        " (default: 'default' when [asterisk] sets no ami_secret)",
    )
    p.add_argument("--ami-host")
    p.add_argument("--ami-port", type=int)
    p.add_argument("--ami-username")
    p.add_argument("--ami-secret")
    p.add_argument("--agi-port", type=int)
    p.add_argument("--state-dir", type=Path)
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--record-ami", type=Path, help="append the raw AMI stream to this file")
    a = p.parse_args(argv)
    logging.basicConfig(
        level=a.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_config(a.config)
        settings = read_settings(cfg)
        read_ivr(cfg)  # a bad [ivr] stops serve here, with the key named
        instance = a.instance
        if (
            instance is None
            and a.ami_secret is None
            and cfg.section("asterisk").raw("ami_secret") is None
        ):
            instance = "default"  # the secret was generated for `hotline asterisk start`
        if instance:
            settings = _from_instance(settings, instance)
        settings = settings.override(
            ami_host=a.ami_host,
            ami_port=a.ami_port,
            ami_username=a.ami_username,
            ami_secret=a.ami_secret,
            agi_port=a.agi_port,
            state_dir=a.state_dir,
        )
    except (ConfigError, AsteriskStartError) as e:
        print(f"hotline serve: {e}", file=sys.stderr)
        return 2

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve(a.config, settings, stop, a.record_ami)

    return asyncio.run(run())
