"""The routes merged beside the first fuzzed ones (recordings, runtime administration,
transfers, the broadcast): composed in one place per app, so ``hotline serve`` and
the API fuzz world (:mod:`tests.fakes.api_world`) build the same apps; and the
answers the fuzzer found undescribed or in the wrong shape, each pinned here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import serve.main
from tests.fakes.api_world import APPS, World

NEW_WEB = [
    ("/api/recordings/{recording_id}/audio", "get"),
    ("/api/recordings/{recording_id}", "delete"),
    ("/api/admin/agents/{agent}/skills", "put"),
    ("/api/admin/reload", "post"),
    ("/api/desk/{agent}/transfer", "post"),
    ("/api/supervisor/broadcast", "put"),
]


@pytest.fixture
async def worlds(tmp_path: Path) -> AsyncIterator[dict[str, World]]:
    built = {name: World(APPS[name], tmp_path) for name in ("serve", "control")}
    for w in built.values():
        await w.start()
    try:
        yield built
    finally:
        for w in built.values():
            await w.stop()


def _client(world: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=world), base_url="http://t")


def _spec(world: World) -> dict[str, Any]:
    assert world.inner is not None
    return world.inner.openapi()


def test_serve_main_composes_no_app_itself() -> None:
    """serve.web.build_web_app and serve.control.build_app compose the apps: serve's
    main adds no router of its own (one the fuzz world would not see)."""
    assert "include_router" not in Path(serve.main.__file__).read_text()


async def test_the_new_routes_are_in_both_apps_with_their_refusals_declared(
    worlds: dict[str, World],
) -> None:
    web = _spec(worlds["serve"])["paths"]
    for path, method in NEW_WEB:
        assert {"401", "403", "404", "422"} <= set(web[path][method]["responses"]), path
    for method, op in web["/api/admin/agents/{agent}"].items():
        assert {"401", "403", "404", "409", "422"} <= set(op["responses"]), method
    control = _spec(worlds["control"])["paths"]
    for path in ("/admin/agents/{agent}", "/admin/agents", "/admin/reload"):
        for op in control[path].values():
            assert {"404", "409", "422"} <= set(op["responses"]), path


async def test_control_socket_admin_bad_bodies_are_422_naming_the_field(
    worlds: dict[str, World],
) -> None:
    async with _client(worlds["control"]) as c:
        r = await c.post(
            "/admin/reload", content=b"{", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422 and r.json()["field"] == "body"
        r = await c.post("/admin/reload", content=b"{")  # no JSON content type: was a 400
        assert r.status_code == 422 and r.json()["field"] == "body"
        r = await c.put("/admin/agents/2001/skills", json={"skills": {"general": "high"}})
        assert r.status_code == 422 and r.json()["field"] == "skills.general"
        r = await c.post("/admin/agents", json={"agent": "2009", "skills": {}, "pay": 1})
        assert r.status_code == 422 and r.json()["field"] == "pay"
        # the agent control API's own answers keep their {"detail"} shape
        r = await c.post("/agents/9999/login")
        assert r.status_code == 404 and "9999" in r.json()["detail"]


async def test_recording_ranges_answer_what_the_spec_says(worlds: dict[str, World]) -> None:
    world = worlds["serve"]
    audio = _spec(world)["paths"]["/api/recordings/{recording_id}/audio"]["get"]
    assert {"200", "206", "400", "416"} <= set(audio["responses"])
    bearer = {"Authorization": f"Bearer {world.tokens['supervisor']}"}
    async with _client(world) as c:
        r = await c.get("/api/recordings/1/audio", headers={**bearer, "Range": "bytes=-50"})
        assert r.status_code == 206 and r.headers["content-range"] == "bytes 7994-8043/8044"
        r = await c.get("/api/recordings/1/audio", headers={**bearer, "Range": "bytes=99999-"})
        assert r.status_code == 416 and r.headers["content-range"] == "bytes */8044"
        r = await c.get("/api/recordings/1/audio", headers={**bearer, "Range": "bytes=9-1"})
        assert r.status_code == 400
        r = await c.get("/api/recordings/1/audio", headers=bearer)
        assert r.status_code == 200 and r.content[:4] == b"RIFF"
