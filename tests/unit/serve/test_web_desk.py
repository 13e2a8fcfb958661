"""The desk's actions over HTTP: its own seat only, commands through agent control,
422 naming the field, the disposition kept until the call's record is written."""

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

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Engine, SqliteCrm]]:
    clock = FakeClock(T0)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock)
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id="2001")
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
    engine = Engine(load_config(CONFIG), clock)
    read_model = ReadModel(engine, clock, Counter())
    link = CrmLink(repo, None, None)
    control = AgentControl(engine.config.agents, engine.handle, read_model.state_of)
    app = build_web_app(read_model, link, control, None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://serve"
    ) as client:
        r = await client.post("/api/crm/login", json={"name": "ann", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        yield client, engine, repo
    await repo.close()


async def test_the_agent_acts_on_its_own_seat_only(
    desk: tuple[httpx.AsyncClient, Engine, SqliteCrm],
) -> None:
    client, _, _ = desk
    assert (await client.get("/api/desk/2001")).json()["agent"]["state"] == "logged-out"
    r = await client.post("/api/desk/2001/state", json={"command": "login"})
    assert r.json() == {"agent": "2001", "state": "ready"}
    r = await client.post("/api/desk/2001/state", json={"command": "pause", "reason": "lunch"})
    assert r.json()["state"] == "paused"
    assert (await client.get("/api/desk/2002")).status_code == 403
    assert (await client.post("/api/desk/2002/state", json={"command": "login"})).status_code == 403
    r = await client.post("/api/desk/2001/state", json={"command": "nap"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.command"
    r = await client.post("/api/desk/2001/state", json={"command": "pause", "reason": "nap"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = await client.post("/api/desk/2001/state", json={"command": "end_wrapup"})
    assert (
        r.status_code == 409
        and "end_wrapup is for an agent wrap-up, not paused" in r.json()["error"]
    )
    config = (await client.get("/api/desk/config")).json()
    assert "lunch" in config["pause_reasons"] and "resolved" in config["dispositions"]
    client.headers["Authorization"] = "Bearer forged"
    assert (await client.get("/api/desk/2001")).status_code == 401


async def test_the_disposition_waits_for_the_calls_record(
    desk: tuple[httpx.AsyncClient, Engine, SqliteCrm],
) -> None:
    client, engine, repo = desk
    await client.post("/api/desk/2001/state", json={"command": "login"})
    for other in engine.config.agents:
        if other != "2001" and engine.agents[other].state.value != "logged-out":
            engine.handle(ev.AgentLoggedOut(AgentId(other)))
    engine.handle(ev.CallArrived(CallId("9.1"), QueueName("general"), caller="13800138000"))
    assert engine.agents["2001"].call == "9.1"
    r = await client.post("/api/desk/2001/disposition", json={"call": "9.1", "code": "bogus"})
    assert r.status_code == 422 and r.json()["field"] == "code"
    r = await client.post("/api/desk/2001/disposition", json={"call": "8.8", "code": "resolved"})
    assert r.status_code == 404
    r = await client.post("/api/desk/2001/disposition", json={"call": "9.1", "code": "resolved"})
    assert r.json() == {"call": "9.1", "code": "resolved", "recorded": False}
    assert await repo.interactions.pending_marks() == 1
