"""What the integration tests of ``hotline serve`` with the CRM share (no browser).

- :func:`seed_crm`: the CRM database in serve's state directory, filled by a
  ``seed`` before serve starts (:func:`users` makes the common seed: users with
  :data:`PASSWORD`, each with its seat or none);
- :func:`crm_serve`: serve with ``[crm]`` and ``[web]`` on the rig's config (plus
  ``extra_config``), the CRM seeded, an API client on the web port; after the
  test every channel left is hung up, serve stopped, its exit code 0 and no
  traceback in its log;
- :func:`login`: the ``Authorization`` header of a user's session.

The browser tests build on these in ``web_fixtures.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from acd.types import FakeClock
from crm.lifecycle import Role
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from tests.integration.serve_fixtures import ServeProcess, ServeRig, with_crm_web

PASSWORD = "correct horse battery"
Seed = Callable[[SqliteCrm], Awaitable[object]]


async def seed_crm(db: Path, seed: Seed) -> object:
    """Open the CRM at ``db``, run ``seed`` on it, close it: what the seed returned."""
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        return await seed(repo)
    finally:
        await repo.close()


def users(*rows: tuple[str, Role, str | None]) -> Seed:
    """A seed adding users (name, role, seat) with :data:`PASSWORD`."""

    async def seed(repo: SqliteCrm) -> None:
        for name, role, seat in rows:
            await repo.users.add(name, PASSWORD, role, agent_id=seat)

    return seed


def login(web: httpx.Client, name: str) -> dict[str, str]:
    """Log ``name`` in: the header that carries its session."""
    r = web.post("/api/crm/login", json={"name": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@dataclass
class CrmServe:
    serve: ServeProcess
    web: httpx.Client  # on serve's web port, not logged in
    seeded: object  # what the seed returned


@contextlib.contextmanager
def crm_serve(
    rig: ServeRig, tmp: Path, name: str, seed: Seed, *, extra_config: str = ""
) -> Iterator[CrmServe]:
    """Serve with ``[crm]`` and ``[web]`` (config ``hotline-<name>.toml`` in ``tmp``),
    the CRM seeded; all stopped after, serve's exit checked."""
    rig, port = with_crm_web(rig, tmp, name)
    if extra_config:
        with rig.config_path.open("a", encoding="utf-8") as f:
            f.write(extra_config)
    state = tmp / "state"
    state.mkdir()
    seeded = asyncio.run(seed_crm(state / "crm.db", seed))
    s = ServeProcess(rig, state)
    web = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        s.start()
        yield CrmServe(s, web, seeded)
    finally:
        web.close()
        code = s.hang_up_and_stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()
