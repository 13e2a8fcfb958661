"""``hotline serve`` against a local attacker (real Asterisk, real SIPp, a second
Unix user created by the test).

- The FastAGI port: before, anyone who could connect injected an ``emergency``
  call that rang a real agent. Now a connection must read back the dialplan's
  ``HOTLINE_AGI_SECRET`` first; others are closed before any script runs and
  counted; Asterisk's own hand-offs still work.
- The state directory: before, ``crm.db``, ``calls.jsonl``, ``queue_log`` and
  ``agents.json`` were world-readable. Now files are 0600 and the folder 0700,
  including files an older version left 0644.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm.lifecycle import Role
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from telephony.asterisk.instance import free_port
from tests.integration.local_user import LocalUser, local_user
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

__all__ = ["local_user"]

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


async def _seed(db: Path) -> None:
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        await repo.users.add("ann", "correct horse battery", Role.AGENT, agent_id=ANSWERING[0])
    finally:
        await repo.close()


def _crm_config(rig: ServeRig, tmp: Path) -> Path:
    config = tmp / "hotline-crm.toml"
    config.write_text(
        rig.config_path.read_text(encoding="utf-8")
        + f'\n[crm]\ndurability = "normal"\noutbox_file = "{tmp / "sms-outbox.log"}"\n'
        + f'\n[web]\nhost = "127.0.0.1"\nport = {free_port()}\n',
        encoding="utf-8",
    )
    return config


def test_state_files_are_private(
    serve_rig: ServeRig, tmp_path: Path, local_user: LocalUser
) -> None:
    open_base = tmp_path / "open"
    open_base.mkdir()
    for d in (tmp_path, open_base):
        d.chmod(0o755)  # the other user can reach the state folder: only its modes protect it
    state = open_base / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    asyncio.run(_seed(state / "crm.db"))
    for name in ("crm.db", "calls.jsonl"):  # as an older version left them
        (state / name).touch()
        (state / name).chmod(0o644)
    config = _crm_config(serve_rig, tmp_path)
    s = ServeProcess(dataclasses.replace(serve_rig, config_path=config), state)
    try:
        s.start()
        s.agent(ANSWERING[0], "login", "break")
        with serve_rig.residents([2500]) as caller:
            wait_until(lambda: s.history(), 30, "the caller's record")
            caller.wait(30)
        wait_until(lambda: (state / "queue_log").is_file(), 10, "the queue_log")
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        loose = {
            p.name: oct(stat.S_IMODE(p.stat().st_mode))
            for p in state.iterdir()
            if p.is_file() and stat.S_IMODE(p.stat().st_mode) & 0o077
        }
        assert not loose, loose
        for name in ("crm.db", "crm.audit.db", "calls.jsonl", "queue_log", "agents.json"):
            assert (state / name).exists(), name
        state.chmod(0o755)  # even if the folder is opened up, the files stay closed
        read = local_user.python(f"open({str(state / 'crm.db')!r}, 'rb').read(16)")
        assert "PermissionError" in read.stderr, read
    finally:
        s.stop()
