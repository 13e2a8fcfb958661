"""The desk's transfer API over HTTP, on the recording shell (no Asterisk): an agent
transfers only its own call from its own seat (403 otherwise), a bad target is 422
naming the field, the engine's refusal 409 in its words, and each try is audited."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from agents.control import AgentControl
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.read_model import ReadModel
from serve.web import build_web_app
from serve.web_transfer import transfer_router
from telephony.settings import ShellSettings
from telephony.transfer import Transferrer
from telephony.transfer_config import TransferConfig
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, event, settle

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0

World = tuple[dict[str, httpx.AsyncClient], RecordingShell, FakeAmi, SqliteCrm]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(T0)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock)
    for name, role, seat in (
        ("ann", Role.AGENT, "2001"),
        ("bob", Role.AGENT, "2002"),
        ("sue", Role.SUPERVISOR, None),
    ):
        await repo.users.add(name, PASSWORD, role, agent_id=seat)
    ami = FakeAmi()
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    read_model = ReadModel(shell.engine, clock, Counter())
    xfer = Transferrer(shell, TransferConfig(departments={"housing": "88120000"}))
    control = AgentControl(shell.engine.config.agents, shell.engine.handle, read_model.state_of)
    app = build_web_app(read_model, CrmLink(repo, None, None), control, None)
    app.include_router(transfer_router(read_model, xfer))
    clients: dict[str, httpx.AsyncClient] = {}
    try:
        for name in ("ann", "bob", "sue"):
            c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s")
            r = await c.post("/api/crm/login", json={"name": name, "password": PASSWORD})
            c.headers["Authorization"] = f"Bearer {r.json()['token']}"
            clients[name] = c
        shell.feed(ev.AgentLoggedIn(AgentId("2001")))
        shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"), caller="138")
        await settle(shell)
        aid = ami.sent[-1][2] or ""
        shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid, Response="Success"))
        yield clients, shell, ami, repo
    finally:
        for c in clients.values():
            await c.aclose()
        await repo.close()


async def _audit(repo: SqliteCrm, name: str) -> list[str]:
    return [e.action for e in reversed(await repo.audit.entries(user=name))]


async def test_only_the_agent_of_the_call_transfers_it(world: World) -> None:
    clients, shell, ami, repo = world
    ann, bob = clients["ann"], clients["bob"]
    body = {"call": "c1", "mode": "blind", "kind": "queue", "target": "elderly"}
    assert (await bob.post("/api/desk/2001/transfer", json=body)).status_code == 403
    r = await bob.post("/api/desk/2002/transfer", json=body)  # its desk, not its call
    assert r.status_code == 403 and "not a call of agent 2002" in r.json()["error"], r.text
    r = await ann.post("/api/desk/2001/transfer", json=dict(body, target="nowhere"))
    assert r.status_code == 422 and r.json()["field"] == "target", r.text
    r = await ann.post("/api/desk/2001/transfer", json=dict(body, kind="moon"))
    assert r.status_code == 422, r.text
    r = await ann.post("/api/desk/2001/transfer", json=dict(body, kind="agent", target="2002"))
    assert r.status_code == 409 and "logged out" in r.json()["error"], r.text  # the engine's
    assert shell.engine.agents["2001"].state.value == "on-call"  # nothing changed
    r = await ann.get("/api/desk/2001/transfer")
    assert r.status_code == 200 and "elderly" in r.json()["queues"]
    assert r.json()["departments"] == ["housing"] and r.json()["consulting"] is None
    r = await ann.post("/api/desk/2001/transfer", json=body)
    assert r.status_code == 200, r.text
    assert shell.engine.agents["2001"].state.value == "wrap-up"
    await settle(shell)
    assert "Redirect" in ami.names()
    assert await _audit(repo, "ann") == [
        "transfer.blind",
        "transfer.blind.refused",
        "transfer.blind",
        "transfer.blind.refused",
        "transfer.blind",
    ]


async def test_a_supervisor_may_transfer_for_a_seat(world: World) -> None:
    clients, _, _, repo = world
    body = {"call": "c1", "kind": "external", "target": "housing"}
    r = await clients["sue"].post("/api/desk/2001/transfer", json=body)
    assert r.status_code == 200, r.text
    assert await _audit(repo, "sue") == ["transfer.blind"]
    r = await clients["ann"].post("/api/desk/2001/transfer/complete", json={"call": "c1"})
    assert r.status_code == 409 and "consulting nobody" in r.json()["error"]
