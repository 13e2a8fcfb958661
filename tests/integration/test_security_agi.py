"""The FastAGI port against a local process speaking FastAGI: before, anyone who
could connect injected an ``emergency`` call that rang a real agent. Now a
connection must read back the dialplan's ``HOTLINE_AGI_SECRET`` first; others are
closed before any script runs and counted; Asterisk's own hand-offs still work."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]

FAKE_ENV = (
    "agi_network: yes\n"
    "agi_network_script: inbound\n"
    "agi_request: agi://127.0.0.1/inbound\n"
    "agi_channel: PJSIP/trunk-0000fake\n"
    "agi_uniqueid: 1700000000.999\n"
    "agi_callerid: 13800000000\n"
    "agi_arg_1: general\n"
    "agi_arg_2: emergency\n"
    "\n"
)


def _fake_hand_off(port: int, answer: bytes) -> list[str]:
    """Connect, send an AGI environment, answer every command with ``answer``; the
    commands serve sent, until it closes the connection."""
    sent: list[str] = []
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(FAKE_ENV.encode())
        buf = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return sent
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                sent.append(line.decode())
                s.sendall(answer)


def test_fastagi_without_the_secret_enqueues_nothing(serve_rig: ServeRig, serve: Serve) -> None:
    s = serve()
    s.agent(ANSWERING[0], "login", "break")  # the queue is open, nobody available
    port = serve_rig.asterisk.settings.agi_port
    for answer in (b"200 result=1 (guess)\n", b"200 result=0\n", b"510 Invalid\n"):
        sent = _fake_hand_off(port, answer)
        assert sent == ["GET VARIABLE HOTLINE_AGI_SECRET"], sent
    stats = s.status()["stats"]
    assert stats.get("agi_refused") == 3
    assert s.waiting() == 0 and not s.status()["calls"]
    # Asterisk's own hand-off knows the secret: a real caller is enqueued (and abandons)
    with serve_rig.residents([2500]) as caller:
        wait_until(lambda: s.history(), 30, "the real caller's record")
        caller.wait(30)
    (record,) = s.history()
    assert record["outcome"] == "abandoned" and record["priority"] == "normal"
    assert s.status()["stats"].get("agi_refused") == 3
