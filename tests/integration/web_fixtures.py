"""What the browser tests share: ``hotline serve`` with the CRM and the web port on the
module's Asterisk (``serve_rig``), a seeded CRM, Debian's Chromium driven by
playwright (``executable_path``; never a browser download), logging in through the
log-in page and API clients with a user's token.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from telephony.asterisk.instance import free_port
from tests.integration.crm_fixtures import PASSWORD, Seed, seed_crm
from tests.integration.serve_fixtures import ServeProcess, ServeRig

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclasses.dataclass
class Web:
    serve: ServeProcess
    rig: ServeRig
    base: str
    browser: Browser
    seeded: object  # what the seed returned

    @contextlib.contextmanager
    def client(self, user: str | None = None) -> Iterator[httpx.Client]:
        """An API client, logged in as ``user`` (anonymous if None)."""
        with httpx.Client(base_url=self.base, timeout=10) as c:
            if user is not None:
                r = c.post("/api/crm/login", json={"name": user, "password": PASSWORD})
                assert r.status_code == 200, r.text
                c.headers["Authorization"] = f"Bearer {r.json()['token']}"
            yield c

    def log_in(self, page: Page, user: str, lands_on: str) -> None:
        """Log in through the log-in page; ``lands_on``: where the page goes then."""
        page.goto(self.base + "/")
        page.fill("#name", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(self.base + lands_on)


@contextlib.contextmanager
def web_serve(
    rig: ServeRig, tmp: Path, seed: Seed, edit: Callable[[str], str] = lambda text: text
) -> Iterator[Web]:
    """Serve with ``[crm]`` and ``[web]`` on the rig's config (``edit``-ed first), the
    CRM seeded, and a headless Chromium; all stopped after, serve's exit checked."""
    port = free_port()
    config = tmp / "hotline-web.toml"
    config.write_text(
        edit(rig.config_path.read_text(encoding="utf-8"))
        + f'\n[crm]\ndurability = "normal"\noutbox_file = "{tmp / "sms-outbox.log"}"\n'
        + f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    state = tmp / "state"
    state.mkdir()
    seeded = asyncio.run(seed_crm(state / "crm.db", seed))
    rig = dataclasses.replace(rig, config_path=config)
    s = ServeProcess(rig, state).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield Web(s, rig, f"http://127.0.0.1:{port}", browser, seeded)
            finally:
                browser.close()
    finally:
        with contextlib.suppress(RuntimeError):  # Asterisk down: no channel left
            rig.asterisk.instance.cli("channel request hangup all")
        code = s.stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()
