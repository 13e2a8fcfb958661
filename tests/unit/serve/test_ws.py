"""The WebSocket hub: who may listen (refusals with 4401/4403/4404), frames coalesced
from bursts of notes, a slow socket dropped and counted without holding the others."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from fastapi import FastAPI

from acd import effects as fx
from acd import events as ev
from acd.types import AgentId, CallId, QueueName
from crm.errors import AuthenticationError
from crm.lifecycle import Role
from crm.models import User
from serve.read_model import ReadModel
from serve.web import WebServer
from serve.web_pages import install_pages
from serve.ws import Hub
from serve.ws_client import Client
from tests.unit.acd.harness import Harness

USERS = {
    "t-ann": User("ann", Role.AGENT, agent_id="a1"),
    "t-eve": User("eve", Role.AGENT),
    "t-sue": User("sue", Role.SUPERVISOR),
    "t-dan": User("dan", Role.DISPATCHER),
}


async def authenticate(token: str) -> User:
    try:
        return USERS[token]
    except KeyError:
        raise AuthenticationError("the token is unknown or has expired; log in again") from None


def _hub(**kw: Any) -> tuple[Hub, Harness, Counter[str]]:
    h = Harness()
    stats: Counter[str] = Counter()
    hub = Hub(ReadModel(h.engine, h.clock, stats), authenticate, None, stats, **kw)
    return hub, h, stats


@contextlib.asynccontextmanager
async def served() -> AsyncIterator[str]:
    """The hub on a real uvicorn, loopback, any free port: its ws:// URL."""
    hub, h, _ = _hub()
    h.engine.handle(ev.AgentLoggedIn(AgentId("a1")))
    app = FastAPI()
    install_pages(app, hub)
    async with WebServer(app, "127.0.0.1", 0) as web, hub:
        yield f"ws://127.0.0.1:{web.port}/ws"


async def _frames(url: str, hello: dict[str, Any], n: int) -> list[dict[str, Any]]:
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps(hello))
        return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(n)]


async def test_frames_go_uncompressed_even_to_a_browser_that_offers_deflate() -> None:
    async with served() as url, websockets.connect(url, compression="deflate") as ws:
        assert ws.response is not None
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        await ws.send(json.dumps({"type": "hello", "token": "t-ann", "view": "desk"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"


@pytest.mark.parametrize(
    ("hello", "status"),
    [
        ({"type": "hello", "view": "desk", "agent": "a1"}, 401),  # no token
        ({"type": "hello", "token": "forged", "view": "desk", "agent": "a1"}, 401),
        ({"type": "hi", "token": "t-ann"}, 401),
        ({"type": "hello", "token": "t-ann", "view": "desk", "agent": "a2"}, 403),  # not hers
        ({"type": "hello", "token": "t-eve", "view": "desk", "agent": "a1"}, 403),  # no seat
        ({"type": "hello", "token": "t-dan", "view": "desk", "agent": "a1"}, 403),
        ({"type": "hello", "token": "t-ann", "view": "wallboard"}, 403),
        ({"type": "hello", "token": "t-sue", "view": "desk", "agent": "zz"}, 404),
        ({"type": "hello", "token": "t-sue", "view": "kiosk"}, 404),
    ],
)
async def test_refusals_are_one_error_frame_then_a_close(
    hello: dict[str, Any], status: int
) -> None:
    async with served() as url, websockets.connect(url) as ws:
        await ws.send(json.dumps(hello))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["type"] == "error" and frame["status"] == status, frame
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000 + status


async def test_an_agent_gets_its_desk_and_a_supervisor_the_wallboard() -> None:
    async with served() as url:
        welcome, desk = await _frames(url, {"type": "hello", "token": "t-ann", "view": "desk"}, 2)
        assert welcome["type"] == "welcome" and welcome["user"]["agent_id"] == "a1"
        assert desk["type"] == "desk" and desk["agent"]["agent"] == "a1"  # her own seat
        assert desk["agent"]["state"] == "ready" and desk["offer"] is None
        assert set(desk["my_day"]) == {
            "answered",
            "avg_talk_s",
            "avg_wrapup_s",
            "paused_s",
            "since",
        }
        hello = {"type": "hello", "token": "t-sue", "view": "desk", "agent": "a2"}
        _, desk = await _frames(url, hello, 2)
        assert desk["agent"]["agent"] == "a2"  # a supervisor sees any seat
        _, wall = await _frames(url, {"type": "hello", "token": "t-sue", "view": "wallboard"}, 2)
        assert wall["type"] == "wallboard"
        assert [q["queue"] for q in wall["queues"]] == ["elderly", "general"]
        general = wall["queues"][1]
        assert general["agents"]["ready"] == 1 and general["today"]["offered"] == 0
        assert [a["agent"] for a in wall["agents"]] == ["a1"]


class FakeSocket:
    """A browser: records frames; a stalled one never finishes a send."""

    def __init__(self, stalled: bool = False) -> None:
        self.frames: list[dict[str, Any]] = []
        self.stalled = stalled
        self.closed: int | None = None

    async def send_text(self, data: str) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        self.frames.append(json.loads(data))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = code


def _attach(hub: Hub, ws: FakeSocket, view: str, agent: str | None, size: int = 64) -> Client:
    c = Client(ws, USERS["t-sue"], "t-sue", view, agent, size)
    c.start()
    hub.attach(c)
    return c


async def test_a_burst_of_notes_is_one_frame_within_the_coalescing_window() -> None:
    hub, h, _ = _hub(coalesce_s=0.05, tick_s=60, desk_every_s=60)
    desk, wall = FakeSocket(), FakeSocket()
    _attach(hub, desk, "desk", "a1")
    _attach(hub, wall, "wallboard", None)
    hub.start()
    await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for e in (ev.AgentLoggedIn(AgentId("a1")), ev.CallArrived(CallId("c1"), QueueName("general"))):
        for note in h.engine.handle(e):  # AgentStateChanged, OfferCall, AgentStateChanged
            hub.notify(note)
    while not (desk.frames and wall.frames) and loop.time() - started < 1:
        await asyncio.sleep(0.01)
    assert loop.time() - started <= 0.25
    await asyncio.sleep(0.15)  # nothing more comes for the same burst
    assert [f["type"] for f in desk.frames] == ["desk", "screen_pop"]  # once per call
    assert desk.frames[1] == {
        "type": "screen_pop",
        "call": "c1",
        "screen_pop": None,
        "screen_pop_error": "no CRM",
    }
    assert desk.frames[0]["agent"]["state"] == "offered"
    assert desk.frames[0]["offer"]["call"] == "c1"
    assert [f["type"] for f in wall.frames] == ["wallboard"]
    assert wall.frames[0]["queues"][1]["ringing"] == 1
    await hub.__aexit__(None, None, None)


async def test_the_wallboard_follows_a_stream_of_changes_at_its_own_pace() -> None:
    """Desks get every change; the wallboard (every agent, to every supervisor) at most
    one frame per ``wall_coalesce_s``, the first at once, the last with the last state."""
    hub, h, _ = _hub(coalesce_s=0.0, wall_coalesce_s=0.3, tick_s=60, desk_every_s=60)
    desk, wall = FakeSocket(), FakeSocket()
    _attach(hub, desk, "desk", "a1")
    _attach(hub, wall, "wallboard", None)
    h.engine.handle(ev.AgentLoggedIn(AgentId("a1")))
    hub.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(30):  # a change every 20 ms
        change = (
            ev.AgentPaused(AgentId("a1"), "break") if i % 2 == 0 else ev.AgentReady(AgentId("a1"))
        )
        for note in h.engine.handle(change):
            hub.notify(note)
        await asyncio.sleep(0.02)

    def shown(frames: list[dict[str, Any]]) -> str | None:
        return frames[-1]["agents"][0]["state"] if frames else None

    while shown(wall.frames) != "ready" and loop.time() - started < 10:
        await asyncio.sleep(0.01)
    elapsed = loop.time() - started
    assert shown(wall.frames) == "ready"  # the last change is not lost
    assert 1 < len(wall.frames) <= 2 + elapsed / 0.3
    assert len(desk.frames) > len(wall.frames)
    await hub.__aexit__(None, None, None)


async def test_a_slow_socket_is_dropped_and_counted_never_waited_for() -> None:
    hub, h, stats = _hub(coalesce_s=0.0, tick_s=60, desk_every_s=60)
    h.engine.handle(ev.AgentLoggedIn(AgentId("a1")))
    slow, fast = FakeSocket(stalled=True), FakeSocket()
    _attach(hub, slow, "desk", "a1", size=4)
    _attach(hub, fast, "desk", "a1", size=64)
    await asyncio.sleep(0)
    for i in range(10):  # pushes on the routing path never await a socket
        hub.notify(fx.AgentStateChanged(AgentId("a1"), "ready", "ready", None, float(i)))
        hub.push()
    await asyncio.sleep(0.05)
    assert stats["ws_dropped"] == 1 and slow.closed == 1013
    assert hub.clients() == 1 and len(fast.frames) == 10
    await hub.__aexit__(None, None, None)


async def test_an_expired_session_is_refused_on_the_open_socket() -> None:
    hub, _, _ = _hub()
    ws = FakeSocket()
    c = Client(ws, USERS["t-ann"], "t-gone", "desk", "a1", 8)
    c.start()
    hub.attach(c)
    await hub.reauthenticate()
    assert ws.closed == 4401 and ws.frames[-1]["status"] == 401
    assert hub.clients() == 0


async def test_a_poke_pushes_the_wallboard_with_the_broadcast_at_once() -> None:
    """The broadcast routes poke the hub: the wallboards get it without a note or a tick."""
    hub, h, _ = _hub(coalesce_s=0.0, tick_s=60, desk_every_s=60)
    notice: dict[str, Any] = {}
    hub.read_model.broadcast_source = lambda: notice.get("now")
    wall = FakeSocket()
    _attach(hub, wall, "wallboard", None)
    hub.start()
    await asyncio.sleep(0.05)  # the first frame after the start
    wall.frames.clear()
    from ivr.broadcast import Broadcast

    t = h.clock.now()
    notice["now"] = Broadcast("停水", "Water off", t + 600, t, "sue")
    hub.poke()
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not wall.frames and loop.time() - started < 2:
        await asyncio.sleep(0.01)
    assert wall.frames and wall.frames[-1]["broadcast"]["english"] == "Water off"
    await hub.__aexit__(None, None, None)
