"""The wallboard's API: a supervisor's actions through the shell, audited, refused to agents.

A real SQLite CRM in a temporary folder; the production shell with a fake AMI.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
from serve.web_supervisor import supervisor_router
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, settle

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0


class World:
    def __init__(self, shell: RecordingShell, ami: FakeAmi, web: httpx.AsyncClient) -> None:
        self.shell = shell
        self.ami = ami
        self.web = web
        self.tokens: dict[str, dict[str, str]] = {}

    async def post(self, who: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.web.post(path, json=body or {}, headers=self.tokens.get(who, {}))

    def call(self, call: str, queue: str = "general", caller: str = "139") -> None:
        assert self.shell.enqueue(
            CallId(call), f"PJSIP/t-{call}", call, QueueName(queue), caller=caller
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[World, SqliteCrm]]:
    clock = FakeClock(T0)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock)
    ami = FakeAmi()
    engine = Engine(load_config(CONFIG), clock)
    stats: Counter[str] = Counter()
    model = ReadModel(engine, clock, stats)
    shell = RecordingShell(engine, ShellSettings(), clock, ami, stats=stats)
    feed = functools.partial(shell.feed, strict=True)
    control = AgentControl(engine.config.agents, feed, model.state_of)
    link = CrmLink(repo, tmp_path / "calls.jsonl", tmp_path / "offset", caller_of=lambda c: None)
    app = build_web_app(model, link, supervisor=supervisor_router(model, control, feed, shell.spy))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://serve"
    ) as web:
        w = World(shell, ami, web)
        for name, role, seat in [
            ("sue", Role.SUPERVISOR, "2005"),
            ("nan", Role.SUPERVISOR, None),
            ("ann", Role.AGENT, "2001"),
            ("root", Role.ADMIN, "2006"),
        ]:
            await repo.users.add(name, PASSWORD, role, agent_id=seat)
            token, _ = await repo.users.login(name, PASSWORD)
            w.tokens[name] = {"Authorization": f"Bearer {token}"}
        yield w, repo
    await repo.close()


async def actions(repo: SqliteCrm, user: str) -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in reversed(await repo.audit.entries(user=user))]


ENDPOINTS = [
    ("/api/supervisor/agents/2001/pause", {"reason": "break"}),
    ("/api/supervisor/agents/2001/logout", {}),
    ("/api/supervisor/calls/c1/priority", {"priority": "emergency"}),
    ("/api/supervisor/calls/c1/queue", {"queue": "elderly"}),
    ("/api/supervisor/agents/2001/spy", {"mode": "listen"}),
]


@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
async def test_agents_are_refused_and_strangers_must_log_in(
    world: tuple[World, SqliteCrm], path: str, body: dict[str, Any]
) -> None:
    w, repo = world
    assert (await w.post("ann", path, body)).status_code == 403
    r = await w.post("nobody", path, body)
    assert r.status_code == 401 and "log in" in r.json()["error"]
    assert await actions(repo, "ann") == []


async def test_the_wallboard_body_is_for_supervisors_and_admins(
    world: tuple[World, SqliteCrm],
) -> None:
    w, _ = world
    assert (await w.web.get("/api/wallboard", headers=w.tokens["ann"])).status_code == 403
    for who in ("sue", "root"):
        body = (await w.web.get("/api/wallboard", headers=w.tokens[who])).json()
        assert body["type"] == "wallboard" and len(body["queues"]) == 7
    path = "/api/wallboard/intervals"
    assert (await w.web.get(path, headers=w.tokens["ann"])).status_code == 403
    body = (await w.web.get(path, headers=w.tokens["sue"])).json()
    assert body["intervals"] == []  # no call finished yet today
    assert body["interval_s"] == 900 and body["service_level_s"] == [15, 20]
    assert isinstance(body["at"], float) and body["timezone_offset_s"] == 8 * 3600


async def test_force_pause_and_logout_are_audited(world: tuple[World, SqliteCrm]) -> None:
    w, repo = world
    w.shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    r = await w.post("sue", "/api/supervisor/agents/2001/pause", {"reason": "lunch"})
    assert r.status_code == 200 and r.json() == {"agent": "2001", "state": "paused"}
    r = await w.post("sue", "/api/supervisor/agents/2001/logout")
    assert r.json() == {"agent": "2001", "state": "logged-out"}
    r = await w.post("sue", "/api/supervisor/agents/2001/logout")  # the engine refuses
    assert r.status_code == 409 and "cannot 'logout' in state 'logged-out'" in r.json()["error"]
    assert await actions(repo, "sue") == [
        ("supervisor.pause", "agent=2001 reason=lunch"),
        ("supervisor.logout", "agent=2001"),
        ("supervisor.logout", "agent=2001"),
        ("supervisor.logout.refused", f"agent=2001: {r.json()['error']}"),
    ]


async def test_bad_bodies_name_the_field_and_unknowns_are_404(
    world: tuple[World, SqliteCrm],
) -> None:
    w, repo = world
    w.shell.feed(ev.AgentLoggedIn(AgentId("2001"), paused_reason="break"))
    w.call("c1")
    cases = [
        ("/api/supervisor/agents/2001/pause", {"reason": "nap"}, 422, "reason"),
        ("/api/supervisor/agents/2001/pause", {}, 422, "body.reason"),
        ("/api/supervisor/agents/2001/pause", {"reason": "break", "x": 1}, 422, "body.x"),
        ("/api/supervisor/calls/c1/priority", {"priority": "vip"}, 422, "priority"),
        ("/api/supervisor/calls/c1/queue", {"queue": "nowhere"}, 422, "queue"),
        ("/api/supervisor/agents/2001/spy", {"mode": "shout"}, 422, "body.mode"),
        ("/api/supervisor/agents/9999/pause", {"reason": "break"}, 404, None),
        ("/api/supervisor/agents/9999/spy", {"mode": "listen"}, 404, None),
        ("/api/supervisor/calls/nope/priority", {"priority": "emergency"}, 404, None),
        ("/api/supervisor/calls/nope/queue", {"queue": "elderly"}, 404, None),
    ]
    for path, body, status, field in cases:
        r = await w.post("sue", path, body)
        assert r.status_code == status, (path, body, r.json())
        got = r.json().get("field") or (r.json().get("fields") or [{}])[0].get("field")
        assert got == field, (path, body, r.json())
    assert await actions(repo, "sue") == []  # nothing was done


async def test_raise_and_move_a_waiting_call(world: tuple[World, SqliteCrm]) -> None:
    w, repo = world
    w.shell.feed(ev.AgentLoggedIn(AgentId("2001"), paused_reason="break"))
    w.call("c1")
    w.call("c2")
    r = await w.post("sue", "/api/supervisor/calls/c2/priority", {"priority": "emergency"})
    assert r.status_code == 200 and r.json() == {"call": "c2", "state": "waiting"}
    assert w.shell.engine.position(CallId("c2")) == 1
    r = await w.post("root", "/api/supervisor/calls/c2/queue", {"queue": "elderly"})
    assert r.status_code == 200
    await settle(w.shell)
    assert ("Setvar", [("Channel", "PJSIP/t-c2"), ("Variable", "HOTLINE_QUEUE"),
                       ("Value", "elderly")], None) in w.ami.sent  # fmt: skip
    r = await w.post("sue", "/api/supervisor/calls/c2/queue", {"queue": "elderly"})
    assert r.status_code == 409 and "where it waits already" in r.json()["error"]
    assert await actions(repo, "sue") == [
        ("supervisor.priority", "call=c2 priority=emergency"),
        ("supervisor.queue", "call=c2 queue=elderly"),
        ("supervisor.queue.refused", "call=c2 queue=elderly: " + r.json()["error"]),
    ]
    assert await actions(repo, "root") == [("supervisor.queue", "call=c2 queue=elderly")]


async def test_spy_rings_the_supervisors_own_seat(world: tuple[World, SqliteCrm]) -> None:
    w, repo = world
    r = await w.post("nan", "/api/supervisor/agents/2001/spy", {"mode": "listen"})
    assert r.status_code == 422 and r.json()["field"] == "agent_id"
    r = await w.post("sue", "/api/supervisor/agents/2001/spy", {"mode": "listen"})
    assert r.status_code == 409 and "the agent is logged-out, not on a call" in r.json()["error"]
    w.shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    w.call("c1")
    await settle(w.shell)
    w.shell.feed(ev.AgentAnswered(CallId("c1"), AgentId("2001")))
    w.ami.sent.clear()
    r = await w.post("sue", "/api/supervisor/agents/2001/spy", {"mode": "barge"})
    assert r.status_code == 200
    assert r.json() == {"agent": "2001", "mode": "barge", "seat": "2005", "call": "c1"}
    ((action, fields, _),) = w.ami.sent
    assert action == "Originate" and ("Channel", "PJSIP/2005") in fields
    assert ("Variable", "HOTLINE_SPY_OPTIONS=qEB") in fields
    w.ami.down = True
    r = await w.post("sue", "/api/supervisor/agents/2001/spy", {"mode": "whisper"})
    assert r.status_code == 502 and "Asterisk refused to ring seat 2005" in r.json()["error"]
    logged = await actions(repo, "sue")
    assert [a for a, _ in logged] == [
        "supervisor.spy", "supervisor.spy.refused", "supervisor.spy", "supervisor.spy",
        "supervisor.spy.refused",
    ]  # fmt: skip
    assert logged[2][1] == "agent=2001 mode=barge seat=2005"
