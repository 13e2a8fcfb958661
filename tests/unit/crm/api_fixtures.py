"""A running CRM app over a temporary database, with one logged-in user per role.

The app runs in-process (httpx over ASGI, the app's lifespan entered by hand);
the fixture lives for a module so the scrypt logins happen once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from acd.types import FakeClock
from crm.api import create_app
from crm.lifecycle import Role
from crm.outbox import FileSender
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from tests.unit.crm.conftest import MONDAY_9

PASSWORD = "correct horse battery"
SETTINGS = CrmSettings(durability="normal")  # the durable default is tested in integration
USERS = {
    Role.AGENT: ("ann", None),
    Role.SUPERVISOR: ("sue", None),
    Role.DISPATCHER: ("dan", None),
    Role.DEPARTMENT: ("hou", "housing"),
    Role.ADMIN: ("root", None),
}


@dataclass
class Api:
    client: httpx.AsyncClient
    clock: FakeClock
    db_path: Path
    tokens: dict[Role, str] = field(default_factory=dict)
    other_department: str = ""

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def login(self, role: Role) -> None:
        name = USERS[role][0]
        r = await self.client.post("/api/crm/login", json={"name": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.tokens[role] = r.json()["token"]

    async def as_(self, role: Role, method: str, url: str, **kw: Any) -> httpx.Response:
        return await self.client.request(method, url, headers=self.headers(role), **kw)


async def _add_users(path: Path, clock: FakeClock) -> None:
    repo = await SqliteCrm.open(str(path), SETTINGS, clock)
    try:
        for role, (name, dept) in USERS.items():
            await repo.users.add(name, PASSWORD, role, dept)
        await repo.users.add("eve", PASSWORD, Role.DEPARTMENT, "civil_affairs")
    finally:
        await repo.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    d = tmp_path_factory.mktemp("api")
    clock = FakeClock(MONDAY_9)
    await _add_users(d / "crm.db", clock)
    app = create_app(
        str(d / "crm.db"), SETTINGS, clock=clock, sender=FileSender(str(d / "sms.log"))
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://crm") as client,
    ):
        api = Api(client, clock, d / "crm.db")
        for role in USERS:
            await api.login(role)
        r = await client.post("/api/crm/login", json={"name": "eve", "password": PASSWORD})
        api.other_department = r.json()["token"]
        yield api
