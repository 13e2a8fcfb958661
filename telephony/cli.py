"""``hotline asterisk provision|start|stop|status|render|rig|cli|password``: Asterisk
for Hotline.

``provision`` makes Asterisk available (installed, cached root, or a one-time
debootstrap build); ``start`` renders the config from the TOML file into the
instance's folder, starts Asterisk and waits for an AMI login; ``stop`` stops it
and unmounts what no other instance needs; ``status`` lists the instances;
``rig`` adds SIPp seats and callers; ``password`` prints seats' SIP passwords
(any seat, one added at runtime with ``hotline admin add`` too). It sits above
:mod:`telephony.asterisk` and :mod:`telephony.rig` (which builds on the former), so
neither imports the other back.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from acd.config import ConfigError, load_config
from ivr import prompts
from ivr.config import read_ivr
from ivr.prompts import PromptError
from telephony.asterisk.instance import (
    AsteriskInstance,
    AsteriskStartError,
    free_port,
    list_instances,
)
from telephony.asterisk.network import describe
from telephony.asterisk.render import RenderError, Secrets, render, write_files
from telephony.asterisk.root import ProvisionError, find_root, provision
from telephony.asterisk.settings import AsteriskSettings, read_settings
from telephony.rig.rig import start_rig, trickle_callers

DEFAULT_CONFIG = os.environ.get("HOTLINE_CONFIG", "examples/hotline.toml")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hotline asterisk", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("provision", help="make Asterisk available (build the root once)")
    p.add_argument("--rebuild", action="store_true", help="build the private root anew")
    s = sub.add_parser("start", help="render the config and start an instance")
    s.add_argument("--config", default=DEFAULT_CONFIG, help="Hotline's TOML config")
    s.add_argument("--instance", default="default", help="instance name (default: default)")
    s.add_argument("--sip-port", type=int)
    s.add_argument("--ami-port", type=int)
    s.add_argument("--agi-port", type=int)
    s.add_argument("--free-ports", action="store_true", help="pick free SIP and AMI ports")
    s.add_argument("--static-contact", help="every seat's contact, e.g. sip:{id}@127.0.0.1:5091")
    s.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for AMI")
    st = sub.add_parser("stop", help="stop an instance (and unmount when it was the last)")
    st.add_argument("--instance", default="default")
    st.add_argument("--all", action="store_true", help="stop every running instance")
    sub.add_parser("status", help="list instances, their ports and state")
    r = sub.add_parser("render", help="write the rendered config files to a folder")
    r.add_argument("--config", default=DEFAULT_CONFIG)
    r.add_argument("out", type=Path)
    g = sub.add_parser("rig", help="Asterisk + SIPp seats + a trickle of SIPp callers")
    g.add_argument("--config", default=DEFAULT_CONFIG)
    g.add_argument("--instance", default="run")
    g.add_argument("--seats", type=int, default=5, help="seats answered by SIPp")
    g.add_argument("--calls", type=int, default=30, help="resident calls to place")
    g.add_argument("--rate", type=float, default=0.2, help="new calls a second")
    g.add_argument("--free-ports", action="store_true")
    c = sub.add_parser("cli", help="run an Asterisk CLI command in an instance")
    c.add_argument("--instance", default="default")
    c.add_argument("command", nargs="+")
    pw = sub.add_parser("password", help="print seats' SIP passwords (user name: the seat)")
    pw.add_argument("--instance", default="default")
    pw.add_argument("agent", nargs="+", help="seat numbers")
    args = parser.parse_args(argv)
    try:
        return int(_ACTIONS[args.action](args))
    except (ConfigError, RenderError) as e:
        print(f"hotline asterisk: config: {e}", file=sys.stderr)
        return 1
    except (ProvisionError, AsteriskStartError, PromptError) as e:
        print(f"hotline asterisk {args.action}: {e}", file=sys.stderr)
        return 1


def _provision(args: argparse.Namespace) -> int:
    root = provision(_say, rebuild=args.rebuild)
    print(f"Asterisk root: {root.path} ({'chroot' if root.chrooted else 'installed'})")
    return 0


def _settings(args: argparse.Namespace) -> AsteriskSettings:
    s = read_settings(load_config(args.config))
    s = dataclasses.replace(
        s,
        sip_port=args.sip_port or (free_port() if args.free_ports else s.sip_port),
        ami_port=args.ami_port or (free_port() if args.free_ports else s.ami_port),
        agi_port=args.agi_port or s.agi_port,
    )
    if args.static_contact:
        s = dataclasses.replace(s, static_contact=args.static_contact)
    return s


def _start(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    settings = _settings(args)
    root = provision(_say)
    inst = AsteriskInstance(root, args.instance)
    inst.start(cfg, settings, timeout_s=args.timeout)
    ami = inst.ami()
    print(
        f"Asterisk instance {inst.name!r} running (pid {inst.pid()}): "
        f"{describe(settings.network, settings.sip_port, settings.trunk_address)}, "
        f"AMI 127.0.0.1:{ami.port} "
        f"user {ami.user!r}, AGI to {settings.agi_host}:{settings.agi_port}\n"
        f"  folder {inst.dir} (secrets in instance.json), log {inst.dir / 'log/messages.log'}"
    )
    return 0


def _stop(args: argparse.Namespace) -> int:
    root = find_root()
    if root is None:
        print("no Asterisk root provisioned: nothing to stop")
        return 0
    targets = list_instances(root) if args.all else [AsteriskInstance(root, args.instance)]
    for inst in targets:
        stopped = inst.stop()
        if stopped or not args.all:
            print(f"instance {inst.name!r}: {'stopped' if stopped else 'was not running'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    root = find_root()
    if root is None:
        print("Asterisk: not provisioned (run 'hotline asterisk provision')")
        return 1
    print(f"Asterisk root: {root.path} ({'chroot' if root.chrooted else 'installed'})")
    instances = list_instances(root)
    if not instances:
        print("  no instances")
    for inst in instances:
        info = inst.info()
        state = f"running, pid {inst.pid()}" if inst.running() else "stopped"
        ports = (
            f"sip {info.get('sip_port')}, ami {info.get('ami_port')}" if info else "never started"
        )
        print(f"  {inst.name:<20} {state:<20} {ports}")
    return 0


def _render(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    # Fresh random secrets: a rendered copy never carries a fixed, guessable one.
    fresh = Secrets(ami_secret=secrets.token_hex(16), agent_secret=secrets.token_hex(16))
    files = render(
        cfg,
        read_settings(cfg),
        fresh,
        instance="render",
        base="/run/hotline/render",
        moddir="/usr/lib/x86_64-linux-gnu/asterisk/modules",
    )
    write_files(files, args.out)
    print(f"wrote {len(files)} files to {args.out}")
    ivr = read_ivr(cfg)
    if ivr is not None and ivr.enabled:
        made = prompts.generate(ivr, args.out / "sounds" / "ivr")
        print(f"spoke {len(made)} IVR prompts into {args.out / 'sounds' / 'ivr'}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _rig(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly when killed, too
    rig = start_rig(
        load_config(args.config),
        instance=args.instance,
        seats=args.seats,
        free_ports=args.free_ports,
        progress=_say,
    )
    try:
        print(
            f"seats {', '.join(rig.seats)} answer via SIPp; AGI hand-off to port "
            f"{rig.settings.agi_port} (start 'hotline serve' for routing); Ctrl-C stops"
        )
        callers = trickle_callers(rig, calls=args.calls, rate_per_s=args.rate)
        while callers.proc is not None and callers.proc.poll() is None:
            time.sleep(2)
            steps = [e.event for e in callers.events()]
            seats = [e.event for e in rig.agents.events()]
            print(
                f"callers answered {steps.count('answered')}, hung up {steps.count('hung_up')}, "
                f"ended by the far end {steps.count('far_bye')}; seats offered "
                f"{seats.count('offered')}, answered {seats.count('answered')}",
                flush=True,
            )
    except KeyboardInterrupt:
        print("stopping")
    finally:
        rig.stop()
    return 0


def _cli(args: argparse.Namespace) -> int:
    root = find_root()
    if root is None:
        print("Asterisk: not provisioned", file=sys.stderr)
        return 1
    print(AsteriskInstance(root, args.instance).cli(" ".join(args.command)), end="")
    return 0


def _password(args: argparse.Namespace) -> int:
    root = find_root()
    if root is None:
        print("Asterisk: not provisioned", file=sys.stderr)
        return 1
    inst = AsteriskInstance(root, args.instance)
    for agent in args.agent:
        if not agent.isdigit():
            print(f"hotline asterisk password: {agent!r} is not a seat number", file=sys.stderr)
            return 2
        print(f"{agent} {inst.agent_password(agent)}")
    return 0


_ACTIONS = {
    "provision": _provision,
    "start": _start,
    "stop": _stop,
    "status": _status,
    "render": _render,
    "rig": _rig,
    "cli": _cli,
    "password": _password,
}
