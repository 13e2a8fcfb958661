"""``hotline live`` (``make run``): a busy hour in miniature on this machine.

Asterisk (provisioned if needed) with SIPp-answered seats; ``hotline serve`` as
its own process with the web on (the wallboard and the agent desk), the CRM
seeded with a generated city and demo log-ins, the IVR on, MQTT on when
mosquitto is installed (a private broker on a free port); the seats logged in
through serve's control API; then SIPp residents arriving faster than the seats
can serve them for a while (overlapping, ``--limit`` at once), each pressing an
IVR key and hanging up when its patience runs out — so a queue builds, some
callers abandon and the centre's ``[alarms]`` fire (the longest wait over its
limit, the service level under target).

It prints the wallboard and desk URLs with the demo log-ins, then every two
seconds one line: waiting calls and the longest wait, answered / abandoned /
lost, agents by state, active alarms. Everything it starts is bounded (SIPp
call counts and time limits) and stops by itself when the callers are done or
``--duration`` runs out; Ctrl-C (or SIGTERM) stops everything sooner: serve
first, then SIPp, mosquitto and Asterisk. If serve exits unexpectedly it is
started again on the same state directory, calls in progress kept
(:mod:`serve.live_serve`). :mod:`serve.demo` prepares the config,
the CRM and the broker.
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from acd.config import ConfigError, load_config
from crm.generate import phone_for
from serve import metric_names
from serve.control import request
from serve.demo import DemoBroker, DemoLogins, demo_config, seed_crm
from serve.live_serve import ServeKeeper
from telephony.asterisk.instance import AsteriskStartError
from telephony.asterisk.root import ProvisionError

__all__ = ["main"]

# The IVR keys the demo's residents press (examples/hotline.toml's main menu):
# elderly care, or an agent (the general queue): queues the demo seats (the first
# of the roster) serve at once, so every wait on the wallboard is the load's.
DIGITS = {"1": 0.7, "0": 0.3}
_WEB = re.compile(rb"web (http://[^\s,)]+)")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def start_serve(config: Path, instance: str, state: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``hotline serve`` as a child process; returns it and its web URL ("" if none)."""
    state.mkdir(parents=True, exist_ok=True)
    log = state / "serve.log"
    offset = log.stat().st_size if log.exists() else 0
    args = [sys.executable, "-m", "hotline.cli", "serve", "--config", str(config)]
    args += ["--instance", instance, "--state-dir", str(state)]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while b"hotline serve: ready" not in (text := log.read_bytes()[offset:]):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = log.read_text(errors="replace").splitlines()[-20:]
            raise AsteriskStartError("hotline serve did not start:\n" + "\n".join(tail))
        time.sleep(0.1)
    m = _WEB.search(text)
    return proc, m[1].decode() if m else ""


def active_alarms(url: str) -> dict[str, int]:
    """Active alarms by kind, from serve's ``/metrics`` ({} if it cannot be read)."""
    try:
        text = httpx.get(f"{url}/metrics", timeout=2).text
    except httpx.HTTPError:
        return {}
    return {
        s.labels["kind"]: int(s.value)
        for f in text_string_to_metric_families(text)
        if f.name == metric_names.ALARMS_ACTIVE
        for s in f.samples
        if s.value > 0
    }


def summary(status: dict[str, Any], alarms: dict[str, int] | None = None) -> str:
    states = Counter(a["state"] for a in status["agents"].values())
    out = status.get("outcomes", {})
    waiting = sum(status["waiting"].values())
    agents = ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "none logged in"
    line = (
        f"waiting {waiting} (longest {status.get('longest_wait_s', 0):.0f} s) | "
        f"answered {out.get('answered', 0)}, abandoned {out.get('abandoned', 0)}, "
        f"lost {out.get('lost', 0)}, overflowed {out.get('overflowed', 0)} | agents: {agents}"
    )
    if alarms:
        line += " | alarms: " + ", ".join(f"{k} {v}" for k, v in sorted(alarms.items()))
    return line


def _web_port(wanted: int) -> int:
    """``wanted`` if it is free on loopback, else 0 (serve takes any free port)."""
    if wanted == 0:
        return 0
    try:
        with socket.create_server(("127.0.0.1", wanted)):
            return wanted
    except OSError:
        _say(f"hotline live: port {wanted} is in use; the web takes a free port")
        return 0


def _welcome(url: str, logins: DemoLogins, mqtt: DemoBroker | None) -> None:
    seats = ", ".join(f"{n} (seat {s})" for n, s in logins.agents.items())
    print(f"wallboard: {url}/wallboard   log in as {logins.supervisor}", flush=True)
    print(f"agent desk: {url}/desk   log in as one of {seats}", flush=True)
    print(f"password (every demo user): {logins.password}", flush=True)
    print(f"metrics: {url}/metrics", flush=True)
    if mqtt is not None:
        print(f"MQTT: mosquitto_sub -p {mqtt.port} -t 'hotline/demo/#' -v", flush=True)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hotline live", description=__doc__)
    p.add_argument("--config", default="examples/hotline.toml", type=Path)
    p.add_argument("--seats", type=int, default=5, help="SIPp-answered seats (first of roster)")
    p.add_argument("--calls", type=int, default=80, help="resident calls to place")
    p.add_argument("--rate", type=float, default=0.5, help="new calls per second")
    p.add_argument("--limit", type=int, default=40, help="at most this many callers at once")
    p.add_argument("--residents", type=int, default=2000, help="generated CRM residents")
    p.add_argument("--web-port", type=int, default=8080, help="0: any free port")
    p.add_argument(
        "--duration", type=float, default=0, help="stop after this many s (0: when done)"
    )
    p.add_argument("--no-mqtt", action="store_true", help="no broker even if mosquitto is here")
    p.add_argument("--state-dir", default=Path("var/live"), type=Path)
    p.add_argument("--instance", default="live", help="Asterisk instance name")
    a = p.parse_args(argv)
    from telephony.rig.rig import start_rig, trickle_callers

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (&)
    state: Path = a.state_dir
    state.mkdir(parents=True, exist_ok=True)
    broker = None if a.no_mqtt else DemoBroker(state / "mosquitto")
    if broker is not None and not broker.start():
        _say("hotline live: no mosquitto (Debian package mosquitto): MQTT off")
        broker = None
    try:
        mqtt_port = broker.port if broker else None
        config = demo_config(a.config, state, _web_port(a.web_port), mqtt_port)
        cfg = load_config(config)
        rig = start_rig(
            cfg, instance=a.instance, seats=a.seats, free_ports=True, talk_s=(8.0, 25.0),
            progress=_say,
        )  # fmt: skip
    except (ConfigError, ProvisionError, AsteriskStartError, ValueError, OSError) as e:
        print(f"hotline live: {e}", file=sys.stderr)
        if broker is not None:
            broker.stop()
        return 1
    except KeyboardInterrupt:  # Ctrl-C while Asterisk starts
        if broker is not None:
            broker.stop()
        return 130
    keeper = ServeKeeper(lambda: start_serve(config, a.instance, state))
    sock = state / "control.sock"
    started = time.monotonic()
    try:
        _say(f"seeding the CRM with {a.residents} generated residents ...")
        logins = seed_crm(state / "crm.db", rig.seats, a.residents)
        keeper.start()
        url = keeper.url
        for seat in rig.seats:
            request(sock, "POST", f"/agents/{seat}/login")
        _welcome(url, logins, broker)
        # Most callers are residents the CRM knows (their screen-pop shows them).
        numbers = [phone_for(i) for i in range(1, a.residents + 1)]
        callers = trickle_callers(
            rig, calls=a.calls, rate_per_s=a.rate, limit=a.limit, digits=DIGITS,
            numbers=numbers, patience_s=(20.0, 120.0), max_time_s=3600,
        )  # fmt: skip
        print(
            f"seats {', '.join(rig.seats)} logged in; {a.calls} callers coming at"
            f" {a.rate:g}/s, up to {a.limit} at once; Ctrl-C stops",
            flush=True,
        )
        while True:
            time.sleep(2)
            if not keeper.keep():  # serve exited: started again, or given up
                return 1
            if keeper.url != url:
                url = keeper.url
                print(f"wallboard: {url}/wallboard (hotline serve restarted)", flush=True)
            try:
                _, status = request(sock, "GET", "/status")
            except OSError:  # serve died meanwhile: the next round restarts it
                continue
            print(summary(status, active_alarms(url) if url else None), flush=True)
            callers_done = callers.proc is not None and callers.proc.poll() is not None
            if callers_done and not status["calls"]:
                break
            if a.duration and time.monotonic() - started >= a.duration:
                print(f"--duration {a.duration:g} s reached", flush=True)
                break
    except KeyboardInterrupt:
        print("stopping", flush=True)
    except (AsteriskStartError, OSError, RuntimeError) as e:
        print(f"hotline live: {e}", file=sys.stderr)
        return 1
    finally:
        keeper.stop()
        rig.stop()
        if broker is not None:
            broker.stop()
    print(f"queue_log and call records in {state}", flush=True)
    return 0
