"""Every HTTP API of Hotline as an in-process ASGI app, with a user of each role and
a few records to find, for schemathesis (``tests/unit/serve/test_fuzz_api.py`` with
a fixed budget, ``python -m benchmarks.fuzz_api`` for the long run).

The apps are built inside their ASGI lifespan, so the CRM's SQLite connection,
the engine and every request live on the one event loop the test client runs.

- ``serve``: ``hotline serve``'s web app as :func:`serve.web.build_web_app` composes
  it for serve (the CRM mounted, the desk and its transfers, the wallboard's
  supervisor API and its broadcast, the follow-ups, the recordings, runtime
  administration, the offer, the pages), over real services: a
  :class:`serve.recordings.RecordingLink` with a spool holding one small wav
  (recording 1, of the call ann's seat handled), a :class:`serve.admin.RuntimeAdmin`
  over the engine and the example config, a :class:`telephony.transfer.Transferrer`
  over the recording shell, a :class:`ivr.broadcast.BroadcastBoard` whose speaker
  writes a silent wav instead of running espeak-ng;
- ``crm``: ``hotline crm serve``'s standalone app;
- ``control``: the control socket's app (:func:`serve.control.build_app`: the agent
  control API and runtime administration under ``/admin``).
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import wave
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from acd import Engine, load_config
from acd.followup import FollowupConfig
from acd.types import AgentId, CallId, FakeClock, QueueName
from agents.control import AgentControl
from crm.api import create_app
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.login_throttle import LoginThrottle
from crm.models import Interaction, NewCase, NewResident, Phone, User
from crm.recordings import Kind
from crm.repository import CrmRepository, SqliteCrm
from crm.settings import CrmSettings
from ivr.broadcast import BroadcastBoard
from serve import control as control_api
from serve.admin import CrmAudit, RuntimeAdmin
from serve.followup import FollowupService
from serve.read_model import ReadModel
from serve.recordings import RecordingLink, RecordingSettings
from serve.web import build_web_app
from serve.web_supervisor import supervisor_router
from serve.ws import Hub
from telephony.settings import ShellSettings
from telephony.transfer import Transferrer
from telephony.transfer_config import read_transfer
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, event, settle

__all__ = ["APPS", "KNOWN", "KNOWN_BODY", "PASSWORD", "RANGES", "ROLES", "SPEC_PATH", "World"]

CONFIG = Path(__file__).parents[2] / "examples" / "hotline.toml"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0
SPEC_PATH = "/__fuzz__/openapi.json"
CALL = "1763820090.7"  # the seeded interaction (ann's seat 2001 handled it), recorded
RECORDING = f"monitor/hotline-{CALL}.wav"
# path parameters the world has records for: the fuzzer draws them as often as not,
# so the routes behind a lookup answer with real data, not only 404
KNOWN: dict[str, list[Any]] = {"agent": ["2001", "2005"], "recording_id": [1]}
# and body fields: the call waiting in the world, a broadcast's expiry an hour ahead
KNOWN_BODY: dict[str, list[Any]] = {"call": ["c1"], "expires_at": [T0 + 3600.0]}
# Range headers for the recordings' audio (the file is 8044 bytes)
RANGES = ["bytes=0-99", "bytes=100-", "bytes=-50", "bytes=0-0,10-20", "bytes=99999-", "bytes=9-1"]
# name, role, department, seat
ROLES: list[tuple[str, Role, str | None, str | None]] = [
    ("root", Role.ADMIN, None, None),
    ("sue", Role.SUPERVISOR, None, "2005"),
    ("ann", Role.AGENT, None, "2001"),
    ("dan", Role.DISPATCHER, None, None),
    ("hou", Role.DEPARTMENT, "housing", None),
]

Build = Callable[[Path], AbstractAsyncContextManager[tuple[FastAPI, CrmRepository | None]]]


class World:
    """An ASGI app that builds the real one in its lifespan; ``tokens``: role → bearer
    token (``None``: no log-in), filled once the lifespan has started."""

    def __init__(self, build: Build, workdir: Path) -> None:
        self.build = build
        self.workdir = workdir
        self.inner: FastAPI | None = None
        self.repo: CrmRepository | None = None
        self.tokens: dict[str, str | None] = {"anonymous": None}
        self._stack = contextlib.AsyncExitStack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self.inner is None:  # a client that runs no lifespan
            await self.start()
        assert self.inner is not None
        if scope["type"] == "http" and scope["path"] == SPEC_PATH:
            # the app's spec, served whether or not the app serves /openapi.json
            await JSONResponse(self.inner.openapi())(scope, receive, send)
            return
        await self.inner(scope, receive, send)

    async def start(self) -> None:
        tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory(dir=self.workdir)))
        app, repo = await self._stack.enter_async_context(self.build(tmp))
        if repo is not None:
            await _seed(repo, self.tokens)
        self.repo = repo
        self.inner = app

    def unlock(self) -> None:
        """Forget the failed log-ins: the fuzzer's wrong passwords lock the test
        client's address (the clock does not move), and the harness's own log-in
        again after a fuzzed log-out is not one of them."""
        users = getattr(self.repo, "users", None)
        old = getattr(users, "throttle", None)
        if isinstance(old, LoginThrottle):
            limits = old.limits
            fresh = LoginThrottle(old.clock, limits["user name"], limits["address"], old.lockout_s)
            users.throttle = fresh  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self._stack.aclose()
        self.inner = None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.inner is None:
                    await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _seed(repo: CrmRepository, tokens: dict[str, str | None]) -> None:
    for name, role, department, seat in ROLES:
        await repo.users.add(name, PASSWORD, role, department, seat)
        token, _ = await repo.users.login(name, PASSWORD)
        tokens[role.value] = token
    sue = User("sue", Role.SUPERVISOR)
    r = await repo.residents.create(
        NewResident("Wang Fang", (Phone("13800138000", "mobile"),), None, None, True)
    )
    case = await repo.cases.create(NewCase("repair", "Leak", "Water", r.id, "normal", None), sue)
    await repo.interactions.record(
        Interaction(CALL, "13800138000", "general", "2001", T0, 3.0, 60.0, "answered")
    )
    assert case.id == 1
    rec = await repo.recordings.add(CALL, Kind.RECORDING, RECORDING)
    assert rec.id == 1


async def _answered(shell: RecordingShell) -> None:
    """The offer of c1 to the logged-in agent rings and is answered (Asterisk's part)."""
    await settle(shell)
    ami = shell.ami
    assert isinstance(ami, FakeAmi) and ami.sent, "c1 was not offered"
    action_id = ami.sent[-1][2] or ""
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=action_id, Response="Success"))


def _wav(path: Path, seconds: float = 0.5) -> Path:
    """A silent 8 kHz mono wav (what Asterisk's MixMonitor and the prompts write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return path


def _speaker(text: str, voice: str, name: str, folder: Path) -> Path:
    """The broadcast's TTS without espeak-ng: a silent wav where the prompt would be."""
    return _wav(folder / f"{name}.wav", 0.1)


def _audit(repo: CrmRepository) -> CrmAudit:
    """Runtime administration written to the CRM's audit log, as serve does."""

    async def audit(name: str, role: str, action: str, detail: str) -> None:
        who = Role(role) if role in set(Role) else Role.ADMIN
        await repo.audit.act(User(name, who), action, detail)

    return audit


def _admin(
    engine: Engine, shell: RecordingShell, tmp: Path, audit: CrmAudit | None
) -> RuntimeAdmin:
    feed = functools.partial(shell.feed, strict=True)
    return RuntimeAdmin(engine.agents, engine.config, CONFIG, feed, tmp / "admin.jsonl", audit)


def _engine(tmp: Path) -> tuple[Engine, RecordingShell, ReadModel, FakeClock, Counter[str]]:
    clock = FakeClock(T0)
    engine = Engine(load_config(CONFIG), clock)
    stats: Counter[str] = Counter()
    shell = RecordingShell(engine, ShellSettings(), clock, FakeAmi(), stats=stats)
    model = ReadModel(engine, clock, stats)
    return engine, shell, model, clock, stats


def _call(shell: RecordingShell) -> None:
    shell.enqueue(CallId("c1"), "PJSIP/t-1", "c1", QueueName("general"), caller="13800138000")


@contextlib.asynccontextmanager
async def serve_app(tmp: Path) -> AsyncIterator[tuple[FastAPI, CrmRepository | None]]:
    engine, shell, model, clock, stats = _engine(tmp)
    repo = await SqliteCrm.open(str(tmp / "crm.db"), CrmSettings(durability="normal"), clock)
    try:
        feed = functools.partial(shell.feed, strict=True)
        control = AgentControl(engine.config.agents, feed, model.state_of)
        control.command("2001", control_api.Command.LOGIN)
        _call(shell)
        await _answered(shell)  # ann (2001) talks to c1: her desk has a call to transfer
        link = CrmLink(repo, tmp / "calls.jsonl", tmp / "offset", caller_of=lambda c: None)
        hub = Hub(model, repo.users.authenticate, link, stats)
        wallboard = supervisor_router(model, control, feed, shell.spy)
        rule = FollowupConfig("general", max_attempts=2, retry_after_s=60, calls_per_minute=6)
        followups = FollowupService(rule, shell, repo, clock, tmp / "followups.jsonl", stats)
        _wav(tmp / "spool" / RECORDING)
        recordings = RecordingLink(repo, RecordingSettings(spool=tmp / "spool"), stats)
        transfers = Transferrer(shell, read_transfer(engine.config))
        shell.observers.append(transfers.observe)
        board = BroadcastBoard(
            tmp / "broadcast.json", tmp / "sounds", clock, stats, speaker=_speaker
        )
        async with followups.running(), recordings.running():
            app = build_web_app(
                model,
                link,
                control,
                hub,
                None,
                wallboard,
                followups=followups,
                recordings=recordings,
                admin=_admin(engine, shell, tmp, _audit(repo)),
                transfers=transfers,
                broadcast=board,
            )
            yield app, repo
    finally:
        await repo.close()


@contextlib.asynccontextmanager
async def crm_app(tmp: Path) -> AsyncIterator[tuple[FastAPI, CrmRepository | None]]:
    app = create_app(str(tmp / "crm.db"), CrmSettings(durability="normal"), deliver=False)
    async with app.router.lifespan_context(app):
        yield app, app.state.crm


@contextlib.asynccontextmanager
async def control_app(tmp: Path) -> AsyncIterator[tuple[FastAPI, CrmRepository | None]]:
    engine, shell, model, _, _ = _engine(tmp)
    _call(shell)
    feed = functools.partial(shell.feed, strict=True)
    control = AgentControl(engine.config.agents, feed, model.state_of)
    yield control_api.build_app(control, model, _admin(engine, shell, tmp, None)), None


APPS: dict[str, Build] = {"serve": serve_app, "crm": crm_app, "control": control_app}


def token_headers(token: str | None) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"} if token else {}


_ = AgentId  # re-exported type for callers that seat agents
