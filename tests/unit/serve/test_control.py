"""The control API: agent actions, error codes, status (in-process ASGI)."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx

from acd import Engine, load_config
from acd.types import FakeClock
from agents.control import AgentControl
from serve.control import build_app
from serve.read_model import ReadModel
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


async def test_agent_actions_and_error_codes() -> None:
    clock = FakeClock(1_000.0)
    engine = Engine(load_config(CONFIG), clock)
    shell = RecordingShell(engine, ShellSettings(), clock, FakeAmi())
    read_model = ReadModel(engine, clock, shell.stats)
    control = AgentControl(
        engine.config.agents, functools.partial(shell.feed, strict=True), read_model.state_of
    )
    transport = httpx.ASGITransport(app=build_app(control, read_model))
    async with httpx.AsyncClient(transport=transport, base_url="http://serve") as c:
        r = await c.post("/agents/2001/login", params={"paused": "lunch"})
        assert r.status_code == 200 and r.json() == {"agent": "2001", "state": "paused"}
        assert (await c.post("/agents/2001/ready")).json()["state"] == "ready"
        r = await c.post("/agents/9999/ready")
        assert r.status_code == 404 and "9999" in r.json()["detail"]
        r = await c.post("/agents/2001/pause", params={"reason": "nap"})
        assert r.status_code == 409 and "unknown pause reason 'nap'" in r.json()["detail"]
        r = await c.post("/agents/2002/ready")  # logged out: cannot be ready
        assert r.status_code == 409
        status = (await c.get("/status")).json()
    assert status["agents"] == {
        "2001": {
            "state": "ready",
            "reason": None,
            "reachable": True,
            "call": None,
            "busy_elsewhere": False,
            "after_call": None,
            "correction": None,
        }
    }
    assert status["waiting"] == {} and status["outcomes"] == {}
    assert shell.queue_log.lines[0].endswith("|2001|AGENTLOGIN|PJSIP/2001")
