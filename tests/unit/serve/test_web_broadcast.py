"""The emergency broadcast's API: supervisors set and clear it (audited), agents are
refused, a bad body is a 422 naming the field, a TTS failure a 503 that keeps the old.

A real SQLite CRM; the TTS a recording fake (the real one: tests/unit/ivr/test_broadcast).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd import Engine, load_config
from acd.types import FakeClock
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from ivr.broadcast import BroadcastBoard
from serve.read_model import ReadModel
from serve.web import build_web_app
from serve.web_broadcast import PATH, broadcast_router
from tests.unit.ivr.test_broadcast import EN, ZH, Speaker

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0


class Api:
    def __init__(self, web: httpx.AsyncClient, board: BroadcastBoard, clock: FakeClock) -> None:
        self.web, self.board, self.clock = web, board, clock
        self.tokens: dict[str, dict[str, str]] = {}
        self.pokes: list[float] = []

    async def put(self, who: str, body: dict[str, Any]) -> httpx.Response:
        return await self.web.put(PATH, json=body, headers=self.tokens.get(who, {}))

    async def get(self, who: str) -> httpx.Response:
        return await self.web.get(PATH, headers=self.tokens.get(who, {}))

    async def delete(self, who: str) -> httpx.Response:
        return await self.web.delete(PATH, headers=self.tokens.get(who, {}))


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[Api, SqliteCrm]]:
    clock = FakeClock(T0)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock)
    engine = Engine(load_config(CONFIG), clock)
    model = ReadModel(engine, clock, Counter())
    board = BroadcastBoard(tmp_path / "broadcast.json", tmp_path / "snd", clock, speaker=Speaker())
    link = CrmLink(repo, tmp_path / "calls.jsonl", tmp_path / "offset", caller_of=lambda c: None)
    pokes: list[float] = []  # when the routes told the hub to push the wallboards
    router = broadcast_router(board, clock, lambda: pokes.append(clock.now()))
    app = build_web_app(model, link, supervisor=router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://serve"
    ) as web:
        a = Api(web, board, clock)
        a.pokes = pokes
        for name, role in [("sue", Role.SUPERVISOR), ("ann", Role.AGENT), ("root", Role.ADMIN)]:
            await repo.users.add(name, PASSWORD, role)
            token, _ = await repo.users.login(name, PASSWORD)
            a.tokens[name] = {"Authorization": f"Bearer {token}"}
        yield a, repo
    await repo.close()


def body(**kw: Any) -> dict[str, Any]:
    return {"mandarin": ZH, "english": EN, "expires_at": T0 + 3600, **kw}


async def actions(repo: SqliteCrm, user: str) -> list[str]:
    return [e.action for e in reversed(await repo.audit.entries(user=user))]


async def test_a_supervisor_sets_and_clears_it_audited(api: tuple[Api, SqliteCrm]) -> None:
    a, repo = api
    assert (await a.get("sue")).json() == {"broadcast": None}
    r = await a.put("sue", body())
    assert r.status_code == 200, r.text
    assert r.json()["broadcast"] == {
        "mandarin": ZH, "english": EN, "expires_at": T0 + 3600, "set_at": T0, "set_by": "sue"
    }  # fmt: skip
    assert (await a.get("root")).json()["broadcast"]["set_by"] == "sue"
    r = await a.delete("root")
    assert r.status_code == 200 and r.json()["cleared"]["mandarin"] == ZH
    assert (await a.get("sue")).json() == {"broadcast": None}
    assert await actions(repo, "sue") == ["supervisor.broadcast"]
    assert await actions(repo, "root") == ["supervisor.broadcast.clear"]
    assert a.pokes == [T0, T0]  # the set and the clear went to the hub


async def test_agents_are_refused_and_strangers_must_log_in(api: tuple[Api, SqliteCrm]) -> None:
    a, repo = api
    for call in (a.get("ann"), a.put("ann", body()), a.delete("ann")):
        assert (await call).status_code == 403
    for call in (a.get("x"), a.put("x", body()), a.delete("x")):
        assert (await call).status_code == 401
    assert a.board.current() is None and await actions(repo, "ann") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mandarin": ""}, "mandarin"),
        ({"english": "  "}, "english"),
        ({"mandarin": "停" * 10_000}, "mandarin"),
        ({"english": "a\nb"}, "english"),
        ({"expires_at": T0 - 60}, "expires_at"),
        ({"expires_at": "soon"}, "expires_at"),
        ({"expires_at": T0 + 30 * 86400}, "expires_at"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: tuple[Api, SqliteCrm], changes: dict[str, Any], field: str
) -> None:
    a, repo = api
    r = await a.put("sue", body(**changes))
    assert r.status_code == 422, r.text
    assert field in r.json()["field"] and field in r.json()["error"], r.json()
    assert a.board.current() is None and await actions(repo, "sue") == []


async def test_missing_fields_are_named(api: tuple[Api, SqliteCrm]) -> None:
    a, _ = api
    r = await a.put("sue", {"mandarin": ZH})
    assert r.status_code == 422 and "english" in r.json()["field"], r.json()


async def test_a_tts_failure_is_a_503_and_keeps_the_old_notice(
    api: tuple[Api, SqliteCrm],
) -> None:
    a, repo = api
    assert (await a.put("sue", body())).status_code == 200
    a.board.speaker = Speaker(fail=RuntimeError("espeak-ng exited with 1"))
    r = await a.put("sue", body(mandarin="停水通知"))
    assert r.status_code == 503 and "espeak-ng" in r.json()["error"]
    assert a.board.current() is not None and a.board.current().mandarin == ZH  # type: ignore[union-attr]
    assert await actions(repo, "sue") == [
        "supervisor.broadcast", "supervisor.broadcast", "supervisor.broadcast.refused"
    ]  # fmt: skip
