"""Log-in throttling: before, 500 wrong passwords at 15/s and then the right one worked.
Now 5 wrong passwords lock the user name out (429, Retry-After), doubled each time,
20 from one address lock the address; every failure, lockout and refusal is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from fastapi import FastAPI

from acd.types import FakeClock
from crm.api import create_app
from crm.lifecycle import Role
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from tests.unit.crm.conftest import MONDAY_9

PASSWORD = "correct horse battery"
SETTINGS = CrmSettings(durability="normal")


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, FakeClock]]:
    clock = FakeClock(MONDAY_9)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), SETTINGS, clock)
    await repo.users.add("ann", PASSWORD, Role.AGENT)
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
    await repo.close()
    app = create_app(str(tmp_path / "crm.db"), SETTINGS, clock=clock, deliver=False)
    async with app.router.lifespan_context(app):
        yield app, clock


def _client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://crm")


async def _login(c: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await c.post("/api/crm/login", json={"name": name, "password": password})


async def _audit(app: FastAPI) -> list[tuple[str, str, str]]:
    entries = await app.state.crm.audit.entries(limit=1000)
    return [(e.user, e.action, e.detail) for e in reversed(entries)]


async def test_five_wrong_passwords_lock_the_name_out_doubling(
    app: tuple[FastAPI, FakeClock],
) -> None:
    a, clock = app
    async with _client(a) as c:
        for _ in range(5):
            assert (await _login(c, "ann", "wrong password")).status_code == 401
        r = await _login(c, "ann", PASSWORD)  # the right one, while locked
        assert r.status_code == 429 and r.headers["retry-after"] == "300", r.text
        assert "try again in 300 s" in r.json()["error"]
        assert (await _login(c, "sue", PASSWORD)).status_code == 200  # another name: fine
        clock.advance(301)
        for _ in range(5):
            assert (await _login(c, "ann", "wrong again")).status_code == 401
        r = await _login(c, "ann", PASSWORD)
        assert r.status_code == 429 and r.headers["retry-after"] == "600"
        clock.advance(601)
        assert (await _login(c, "ann", PASSWORD)).status_code == 200
    rows = await _audit(a)
    failed = [r for r in rows if r[1] == "login_failed"]
    assert len(failed) == 10 and failed[0] == ("ann", "login_failed", "client=10.0.0.1")
    lockouts = [r[2] for r in rows if r[1] == "login_lockout"]
    assert lockouts == ["user name ann for 300 s", "user name ann for 600 s"]
    assert [r[0] for r in rows if r[1] == "login_refused"] == ["ann", "ann"]


async def test_many_names_from_one_address_lock_the_address(
    app: tuple[FastAPI, FakeClock],
) -> None:
    a, _ = app
    async with _client(a, "10.6.6.6") as attacker, _client(a, "10.0.0.7") as desk:
        for i in range(20):  # a different invented name each time: no name is locked
            assert (await _login(attacker, f"guess{i}", "wrong password")).status_code == 401
        r = await _login(attacker, "ann", PASSWORD)
        assert r.status_code == 429 and "address" in r.json()["error"]
        assert (await _login(desk, "ann", PASSWORD)).status_code == 200
    assert ("guess19", "login_lockout", "address 10.6.6.6 for 300 s") in await _audit(a)
