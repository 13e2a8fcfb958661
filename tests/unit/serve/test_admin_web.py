"""Runtime administration on the web port: supervisors and admins only (an agent is
403, no log-in 401), each change in the CRM's audit log as well as admin.jsonl."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from acd.types import FakeClock
from crm import api as crm_api
from crm.lifecycle import Role
from crm.models import User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.admin import RuntimeAdmin
from serve.web_admin import admin_router, install_admin_errors, supervisor_who
from tests.unit.serve.test_admin import Rig

PASSWORD = "correct horse battery"


async def test_only_supervisors_change_the_roster_and_it_is_audited(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    repo = await SqliteCrm.open(
        str(tmp_path / "crm.db"), CrmSettings(durability="normal"), FakeClock(1e9)
    )
    try:

        async def crm_audit(name: str, role: str, action: str, detail: str) -> None:
            await repo.audit.act(User(name, Role(role)), action, detail)

        admin = RuntimeAdmin(
            rig.engine.agents, rig.admin.running, rig.path, rig.feed, rig.journal, crm_audit
        )
        await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id="2001")
        await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
        app = FastAPI()
        crm_api.install(app, repo)
        app.include_router(admin_router(admin, "/api/admin", supervisor_who()))
        install_admin_errors(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as c:
            tokens = {}
            for name in ("ann", "sue"):
                r = await c.post("/api/crm/login", json={"name": name, "password": PASSWORD})
                tokens[name] = {"Authorization": f"Bearer {r.json()['token']}"}
            body = {"skills": {"general": 9}}
            assert (await c.put("/api/admin/agents/2001/skills", json=body)).status_code == 401
            r = await c.put("/api/admin/agents/2001/skills", json=body, headers=tokens["ann"])
            assert r.status_code == 403
            r = await c.put("/api/admin/agents/2001/skills", json=body, headers=tokens["sue"])
            assert r.status_code == 200 and rig.engine.agents["2001"].skills == {"general": 9}
            r = await c.post("/api/admin/reload", headers=tokens["sue"])
            assert r.status_code == 200  # the file still says general = 5: back to it
            assert r.json()["changes"] == [{"agent": "2001", "skills": {"general": 5}}]
        actions = [(e.user, e.action) for e in await repo.audit.entries()]
        assert ("sue", "admin.skills") in actions and ("sue", "admin.reload") in actions
        assert not any(u == "ann" and a.startswith("admin.") for u, a in actions)
    finally:
        await repo.close()
