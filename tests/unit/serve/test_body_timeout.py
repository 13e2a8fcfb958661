"""A request body trickled over a real socket (uvicorn on loopback) is cut off at
``[crm] body_timeout_s`` with 408, in the API's format; a prompt body is not."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd.types import FakeClock
from crm.link import CrmLink
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.read_model import ReadModel
from serve.web import WebServer, build_web_app

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
LIMIT_S = 0.5


@pytest.fixture
async def port(tmp_path: Path) -> AsyncIterator[int]:
    clock = FakeClock(1_763_820_000.0)
    settings = CrmSettings(durability="normal", body_timeout_s=LIMIT_S)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), settings, clock)
    engine = Engine(load_config(CONFIG), clock)
    app = build_web_app(ReadModel(engine, clock, Counter()), CrmLink(repo, None, None))
    try:
        async with WebServer(app, "127.0.0.1", 0) as web:
            yield web.port
    finally:
        await repo.close()


async def post(port: int, body: bytes, every_s: float) -> tuple[bytes, int]:
    """POST ``body`` to the log-in a byte every ``every_s``; the answer and how many
    bytes of the body were sent by then (the trickle stops when the server answers)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    head = (
        "POST /api/crm/login HTTP/1.1\r\nHost: serve\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode())
    answer = asyncio.ensure_future(reader.read(4096))
    try:
        for b in body:
            if answer.done():
                break
            writer.write(bytes([b]))
            sent += 1
            await asyncio.wait({answer}, timeout=every_s)
        got = await asyncio.wait_for(answer, 10)
        return got, sent
    finally:
        writer.close()


async def test_a_trickled_body_is_cut_off_with_408(port: int) -> None:
    body = json.dumps({"name": "ann", "password": "x" * 40}).encode()
    got, sent = await post(port, body, every_s=0.1)  # ~6 s of body
    assert got.startswith(b"HTTP/1.1 408"), got
    assert json.loads(got.split(b"\r\n\r\n", 1)[1]) == {
        "error": f"body: not received within {LIMIT_S:g} s",
        "field": "body",
    }
    assert sent < len(body)  # answered before the body ended


async def test_a_prompt_body_is_answered(port: int) -> None:
    got, _ = await post(port, b'{"name": "nobody", "password": "x"}', every_s=0.0)
    assert got.startswith(b"HTTP/1.1 401"), got
