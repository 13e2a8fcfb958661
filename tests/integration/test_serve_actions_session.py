"""serve's second AMI session for the calls' actions (telephony.ami_actions) on the real
Asterisk: two manager sessions, the Originates over the one with ``Events: off``
(OriginateResponse still read on the first), and a cut of that session alone costs
no call: actions fall back to the first session until it logs in again, then serve
resyncs."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest

from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until
from tests.integration.test_serve import residents, seats

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]


def _sessions(pid: int, ami_port: int) -> dict[int, int]:
    """serve's connections to the AMI port: local port -> bytes received."""
    out = subprocess.run(
        ["ss", "-tnpiH", "state", "established", "dport", "=", str(ami_port)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[int, int] = {}
    for block in re.split(r"\n(?=\S)", out):
        if f"pid={pid}," not in block:
            continue
        local = int(block.split()[2].rpartition(":")[2])
        got = re.search(r"bytes_received:(\d+)", block)
        found[local] = int(got[1]) if got else 0
    return found


def test_actions_session_cut_alone_costs_no_call(serve_rig: ServeRig, serve: Serve) -> None:
    s = serve()
    assert s.proc is not None
    ami_port = serve_rig.asterisk.instance.ami().port
    s.agent(ANSWERING[0], "login")
    with seats(serve_rig, 2) as agents, residents(serve_rig, [60_000]) as callers:
        wait_until(lambda: len(s.history()) >= 1, 60, "the first call answered and ended")
        sessions = _sessions(s.proc.pid, ami_port)
        assert len(sessions) == 2, sessions  # the events' session and the actions'
        quiet = min(sessions, key=sessions.__getitem__)  # Events: off: only responses
        assert sessions[quiet] < max(sessions.values()) / 4, sessions
        resyncs = s.status()["stats"].get("resyncs", 0)
        cut = subprocess.run(
            ["ss", "-K", "dst", "127.0.0.1", "dport", "=", str(ami_port), "sport", "=", str(quiet)],
            capture_output=True,
            text=True,
        )
        assert cut.returncode == 0, cut.stderr
        wait_until(
            lambda: s.status()["stats"].get("resyncs", 0) > resyncs, 30, "the resync after it"
        )
        after = _sessions(s.proc.pid, ami_port)
        assert len(after) == 2 and quiet not in after, after
        with residents(serve_rig, [60_000]) as second:
            wait_until(lambda: len(s.history()) >= 2, 60, "the second call answered and ended")
            second.wait(30)
        callers.wait(30)
        agents.wait(30)
    assert [r["outcome"] for r in s.history()] == ["answered"] * 2, s.log_tail()
    stats = s.status()["stats"]
    assert stats.get("disconnects", 0) == 0  # the events' session was never cut
    assert stats.get("originate_failures", 0) == 0
