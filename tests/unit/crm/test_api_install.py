"""Mounting the CRM on a host app (as ``hotline serve`` will) with its background jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from acd.types import FakeClock
from crm.api import background, install
from crm.models import NewCase
from crm.outbox import FileSender
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from tests.unit.crm.conftest import AGENT


async def test_install_on_a_host_app(tmp_path: Path, clock: FakeClock) -> None:
    settings = CrmSettings(durability="normal")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = await SqliteCrm.open(str(tmp_path / "crm.db"), settings, clock)
        app.state.crm = repo
        await repo.cases.create(NewCase("repair", "late", "x"), AGENT)
        clock.advance(30 * 86400)
        async with background(repo, FileSender(str(tmp_path / "sms.log")), 0.05, 0.05):
            yield
        await repo.close()

    host = FastAPI(lifespan=lifespan)

    @host.post("/wallboard/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    install(host, max_body_bytes=2048)
    transport = httpx.ASGITransport(app=host)
    async with (
        host.router.lifespan_context(host),
        httpx.AsyncClient(transport=transport, base_url="http://h") as client,
    ):
        r = await client.post("/wallboard/upload", content=b"x" * 10_000)
        assert r.json() == {"size": 10_000}  # the host's own routes are not limited
        r = await client.post("/api/crm/cases", content=b"x" * 10_000)
        assert r.status_code == 413
        assert (await client.get("/api/crm/me")).status_code == 401
        repo: SqliteCrm = host.state.crm
        for _ in range(400):  # the supervision job runs every 50 ms here; 20 s at most
            if (await repo.cases.get(1)).supervised:
                break
            await asyncio.sleep(0.05)
        assert (await repo.cases.get(1)).supervised
