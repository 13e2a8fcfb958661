"""The wallboard page in headless Chromium against the real supervisor API and CRM.

The platform's shared ``ws.js`` / ``i18n.js`` are not in this branch: the test writes
stand-ins into its own temporary folder only (``ws.js`` there polls ``GET
/api/wallboard`` instead of the WebSocket, as a frame source with the same body),
and serves the page from a copy of ``serve/static`` next to them. After the merge
with the platform the lead points this test at the real ``/ws``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, QueueName
from agents.control import AgentControl
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.main import WallClock
from serve.read_model import ReadModel
from serve.web import build_web_app
from serve.web_supervisor import supervisor_router
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.integration.serve_fixtures import wait_until
from tests.unit.telephony.test_shell import FakeAmi

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).parents[2]
PASSWORD = "correct horse battery"
WS_STANDIN = """
export function connect({ view, token, onFrame, onStale }) {
  async function poll() {
    try {
      const r = await fetch("/api/wallboard", { headers: { Authorization: `Bearer ${token}` } });
      if (r.ok) onFrame(await r.json()); // else: no frame (the page's 5 s timer says stale)
    } catch (e) { if (onStale) onStale(true); }
    setTimeout(poll, 300);
  }
  poll();
  return { close() {} };
}
"""
I18N_STANDIN = "export function t(key) { return key; }\nexport function setLanguage() {}\n"


@dataclass
class Site:
    url: str
    token: str
    repo: SqliteCrm
    loop: asyncio.AbstractEventLoop
    shots: Path
    paused: threading.Event  # set: /api/wallboard answers 503 (no frames: stale)

    def audit(self) -> list[str]:
        entries = asyncio.run_coroutine_threadsafe(self.repo.audit.entries(user="sue"), self.loop)
        return [e.action for e in reversed(entries.result(10))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    static = tmp_path / "static"
    shutil.copytree(ROOT / "serve" / "static", static)
    (static / "ws.js").write_text(WS_STANDIN, encoding="utf-8")
    (static / "i18n.js").write_text(I18N_STANDIN, encoding="utf-8")
    (static / "app.css").write_text("", encoding="utf-8")
    port = _free_port()
    paused = threading.Event()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        clock = WallClock()
        repo = await SqliteCrm.open(
            str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock
        )
        await repo.users.add("sue", PASSWORD, Role.SUPERVISOR, agent_id="2005")
        token, _ = await repo.users.login("sue", PASSWORD)
        engine = Engine(load_config(ROOT / "examples" / "hotline.toml"), clock)
        model = ReadModel(engine, clock, Counter())
        shell = RecordingShell(engine, ShellSettings(), clock, FakeAmi())
        for e in (
            ev.AgentLoggedIn(AgentId("2001")),
            ev.CallArrived(CallId("c1"), QueueName("general"), caller="13900000001"),
            ev.AgentAnswered(CallId("c1"), AgentId("2001")),
            ev.AgentLoggedIn(AgentId("2041"), paused_reason="lunch"),
            ev.CallArrived(CallId("c2"), QueueName("elderly"), caller="13900000002"),
            ev.CallArrived(CallId("c3"), QueueName("elderly"), caller="13900000003"),
        ):
            engine.handle(e)
        feed = functools.partial(shell.feed, strict=True)
        control = AgentControl(engine.config.agents, feed, model.state_of)
        link = CrmLink(
            repo, tmp_path / "calls.jsonl", tmp_path / "offset", caller_of=lambda c: None
        )
        app = build_web_app(model, link, supervisor_router(model, control, feed, shell.spy))

        @app.middleware("http")
        async def stall(request: Any, call_next: Any) -> Any:
            if paused.is_set() and request.url.path == "/api/wallboard":
                return Response(status_code=503)
            return await call_next(request)

        @app.get("/wallboard")
        async def page() -> FileResponse:
            return FileResponse(static / "wallboard.html")

        app.mount("/static", StaticFiles(directory=static), name="static")
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        box.update(token=token, repo=repo, loop=asyncio.get_running_loop(), server=server)
        ready.set()
        await server.serve()
        await repo.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(20)
    wait_until(lambda: box["server"].started, 20, "the test web server")
    shots = Path(os.environ.get("HOTLINE_SCREENSHOTS", tmp_path / "screenshots"))
    yield Site(f"http://127.0.0.1:{port}", box["token"], box["repo"], box["loop"], shots, paused)
    box["server"].should_exit = True
    thread.join(15)


def test_the_wallboard_shows_the_centre_and_a_supervisor_acts_from_it(site: Site) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.add_init_script(f"sessionStorage.setItem('hotline.token', {site.token!r})")
            page.goto(f"{site.url}/wallboard")
            elderly = page.locator("[data-queue=elderly]")
            expect(elderly.locator(".wb-waiting")).to_have_text("2", timeout=5000)
            expect(page.locator("h1")).to_have_text("热线监控大屏")
            on_call = page.locator("tr[data-agent='2001']")
            expect(on_call.locator(".wb-state")).to_have_text("通话中")
            expect(on_call.locator("button.wb-listen")).to_be_visible()
            # filter: paused agents only
            page.select_option("#f-state", "paused")
            expect(page.locator("#agents tbody tr")).to_have_count(1)
            expect(page.locator("tr[data-agent='2041'] .wb-state")).to_contain_text("暂停")
            page.select_option("#f-state", "")
            site.shots.mkdir(exist_ok=True)
            page.screenshot(path=str(site.shots / "wallboard-1366x768.png"))

            # raise c3 to emergency: it goes to the top of the waiting calls
            expect(page.locator("#calls tbody tr").first).to_have_attribute("data-call", "c2")
            page.locator("tr[data-call='c3'] select.wb-priority").select_option("emergency")
            expect(page.locator("#toast")).to_contain_text("已执行")
            expect(page.locator("#calls tbody tr").first).to_have_attribute(
                "data-call", "c3", timeout=3000
            )
            # move c2 to the general queue
            page.locator("tr[data-call='c2'] select.wb-move").select_option("general")
            expect(page.locator("tr[data-call='c2'] td").nth(1)).to_contain_text(
                "综合", timeout=3000
            )
            # force log-out needs a confirmation
            page.locator("tr[data-agent='2041'] button.wb-logout").click()
            expect(page.locator("#confirm")).to_be_visible()
            page.locator("#confirm-ok").click()
            expect(page.locator("tr[data-agent='2041']")).to_have_count(0, timeout=3000)
            assert site.audit() == [
                "supervisor.priority", "supervisor.queue", "supervisor.logout",
            ]  # fmt: skip

            # English, then a TV-sized screen
            page.locator("#lang").click()
            expect(page.locator("h1")).to_have_text("Hotline wallboard")
            page.set_viewport_size({"width": 1920, "height": 1080})
            page.screenshot(path=str(site.shots / "wallboard-1920x1080-en.png"))

            # no frame for 5 s: the page says it is stale
            site.paused.set()
            t0 = time.monotonic()
            expect(page.locator("#stale")).to_be_visible(timeout=8000)
            assert time.monotonic() - t0 >= 4.0
            expect(page.locator("body")).to_have_class("wallboard stale")
            site.paused.clear()
            expect(page.locator("#stale")).to_be_hidden(timeout=3000)
        finally:
            browser.close()
