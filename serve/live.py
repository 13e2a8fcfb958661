"""``hotline live``: the whole call centre on this machine, with a running summary.

Asterisk (provisioned if needed) with SIPp-answered seats, ``hotline serve`` as
its own process, the seats logged in through serve's control API, and a
trickle of SIPp residents; every two seconds one line: waiting calls and the
longest wait, answered / abandoned / lost, agents by state. Ctrl-C (or
SIGTERM) stops everything: serve first, then SIPp and Asterisk. The pieces are
those of :mod:`telephony.rig.rig` and the production ``hotline serve``.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from acd.config import ConfigError, load_config
from serve.control import request
from telephony.asterisk.instance import AsteriskStartError
from telephony.asterisk.root import ProvisionError

__all__ = ["main"]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def start_serve(config: Path, instance: str, state: Path) -> subprocess.Popen[bytes]:
    state.mkdir(parents=True, exist_ok=True)
    log = state / "serve.log"
    offset = log.stat().st_size if log.exists() else 0
    args = [sys.executable, "-m", "hotline.cli", "serve", "--config", str(config)]
    args += ["--instance", instance, "--state-dir", str(state)]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while b"hotline serve: ready" not in log.read_bytes()[offset:]:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = log.read_text(errors="replace").splitlines()[-20:]
            raise AsteriskStartError("hotline serve did not start:\n" + "\n".join(tail))
        time.sleep(0.1)
    return proc


def summary(status: dict[str, Any]) -> str:
    states = Counter(a["state"] for a in status["agents"].values())
    out = status.get("outcomes", {})
    waiting = sum(status["waiting"].values())
    agents = ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "none logged in"
    return (
        f"waiting {waiting} (longest {status.get('longest_wait_s', 0):.0f} s) | "
        f"answered {out.get('answered', 0)}, abandoned {out.get('abandoned', 0)}, "
        f"lost {out.get('lost', 0)}, overflowed {out.get('overflowed', 0)} | agents: {agents}"
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hotline live", description=__doc__)
    p.add_argument("--config", default="examples/hotline.toml", type=Path)
    p.add_argument("--seats", type=int, default=5, help="SIPp-answered seats (first of roster)")
    p.add_argument("--calls", type=int, default=60, help="resident calls to place")
    p.add_argument("--rate", type=float, default=0.5, help="new calls per second")
    p.add_argument("--state-dir", default=Path("var/live"), type=Path)
    p.add_argument("--instance", default="live", help="Asterisk instance name")
    a = p.parse_args(argv)
    from telephony.rig.rig import start_rig, trickle_callers

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        cfg = load_config(a.config)
        rig = start_rig(
            cfg, instance=a.instance, seats=a.seats, free_ports=True, talk_s=(8.0, 25.0),
            progress=_say,
        )  # fmt: skip
    except (ConfigError, ProvisionError, AsteriskStartError, ValueError) as e:
        print(f"hotline live: {e}", file=sys.stderr)
        return 1
    serve: subprocess.Popen[bytes] | None = None
    sock = a.state_dir / "control.sock"
    try:
        serve = start_serve(a.config, a.instance, a.state_dir)
        for seat in rig.seats:
            request(sock, "POST", f"/agents/{seat}/login")
        callers = trickle_callers(rig, calls=a.calls, rate_per_s=a.rate)
        print(f"seats {', '.join(rig.seats)} logged in; {a.calls} callers coming; Ctrl-C stops")
        while True:
            time.sleep(2)
            _, status = request(sock, "GET", "/status")
            print(summary(status), flush=True)
            callers_done = callers.proc is not None and callers.proc.poll() is not None
            if callers_done and not status["calls"]:
                break
    except KeyboardInterrupt:
        print("stopping")
    except AsteriskStartError as e:
        print(f"hotline live: {e}", file=sys.stderr)
        return 1
    finally:
        if serve is not None and serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(10)
            except subprocess.TimeoutExpired:
                serve.kill()
        rig.stop()
    print(f"queue_log and call records in {a.state_dir}")
    return 0
