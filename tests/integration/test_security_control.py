"""The control socket against another local user (created by the test): before, the
socket was ``srw-rw-rw-`` and any user logged agents out. Now it is 0600 in a 0700
state directory, and a peer that is neither serve's user nor root is refused (403)
and counted even when the modes have been loosened."""

from __future__ import annotations

import asyncio
import functools
import stat
from collections import Counter
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.counters import Count
from acd.types import AgentId, FakeClock
from agents.control import AgentControl
from serve.control import ControlServer, build_app, request
from serve.private import private_state
from serve.read_model import ReadModel
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.integration.local_user import LocalUser, local_user, open_dir
from tests.unit.telephony.test_shell import FakeAmi

__all__ = ["local_user", "open_dir"]

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).parents[2] / "examples" / "hotline.toml"

LOGOUT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1] if len(sys.argv) > 1 else {path!r})
except OSError as e:
    print("refused:", type(e).__name__)
    sys.exit()
try:
    s.sendall(b"POST /agents/2001/logout HTTP/1.1\\r\\nhost: x\\r\\ncontent-length: 0\\r\\n\\r\\n")
except BrokenPipeError:
    pass  # serve answered and closed before reading: its answer is still to be read
data = s.recv(4096)
print(data.decode(errors="replace").splitlines()[0] if data else "refused: closed")
"""


async def _running(state: Path, stats: Counter[str]) -> tuple[ControlServer, ReadModel]:
    clock = FakeClock(1_000.0)
    engine = Engine(load_config(CONFIG), clock)
    shell = RecordingShell(engine, ShellSettings(), clock, FakeAmi())
    read_model = ReadModel(engine, clock, shell.stats)
    shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    control = AgentControl(
        engine.config.agents, functools.partial(shell.feed, strict=True), read_model.state_of
    )
    return ControlServer(build_app(control, read_model), state / "control.sock", stats), read_model


async def _as_user(user: LocalUser, sock: Path) -> str:
    done = await asyncio.to_thread(user.python, LOGOUT.format(path=str(sock)))
    return done.stdout.strip() + done.stderr.strip()


async def test_socket_is_private_to_serves_user(local_user: LocalUser, open_dir: Path) -> None:
    state = open_dir / "state"
    private_state(state)
    stats: Counter[str] = Counter()
    server, read_model = await _running(state, stats)
    async with server:
        sock = state / "control.sock"
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        answer = await _as_user(local_user, sock)
        assert answer.startswith("refused: PermissionError"), answer
        assert read_model.state_of(AgentId("2001")) == "ready"
        # serve's own user (root here) still works
        status, body = await asyncio.to_thread(request, sock, "GET", "/status")
        assert status == 200 and body["agents"]["2001"]["state"] == "ready"


async def test_other_peer_refused_even_with_loose_modes(
    local_user: LocalUser, open_dir: Path
) -> None:
    state = open_dir / "state"
    private_state(state)
    stats: Counter[str] = Counter()
    server, read_model = await _running(state, stats)
    async with server:
        sock = state / "control.sock"
        state.chmod(0o755)  # a mistake: the modes loosened by hand
        sock.chmod(0o666)
        answer = await _as_user(local_user, sock)
        assert answer.startswith("HTTP/1.1 403"), answer
        assert stats[Count.CONTROL_REFUSED] == 1
        assert read_model.state_of(AgentId("2001")) == "ready"
        status, _ = await asyncio.to_thread(request, sock, "POST", "/agents/2001/logout")
        assert status == 200 and read_model.state_of(AgentId("2001")) == "logged-out"
