"""The fan-out benchmark's browsers and MQTT subscriber, in a process of their own.

``python -m benchmarks.fanout_clients SPEC OUT``: logs every user of ``SPEC`` (a
JSON file: ``web_port``, ``password``, ``desks`` {user: seat}, ``walls`` [user],
``mqtt_port`` or null, ``mqtt_topic``) in through ``POST /api/crm/login``, opens
one ``/ws`` socket per desk (``hello`` for its seat) and per wallboard, with the
``websockets`` library negotiating per-message deflate as Chromium does, and
subscribes to ``mqtt_topic`` with aiomqtt (QoS 1). It prints ``ready`` once
every socket has had its first frame, then records until SIGTERM, and writes
``OUT`` (JSON).

While recording it only stamps each frame with ``time.time()`` and keeps the
text once (the 50 wallboards get the same text: a dict interns it), so its own
work stays small and does not delay the next frame; frames are read after the
stop. A socket the server closes (1013: too slow) reconnects after 0.5 s, as the
page does. What ``OUT`` holds, per the orchestrator's needs
(:mod:`benchmarks.fanout`):

- ``desks``: {seat: [[t, state, call], ...]} every frame's agent state, in order;
- ``walls``: [[[t, frame], ...] per socket] and ``wall_frames``: {frame:
  {agent: [state, call]}};
- ``mqtt_states``: {agent: [[t, state], ...]}, ``mqtt_calls``: {call: [[t,
  event], ...]};
- ``counts``: frames, bytes, screen-pops, closes by code, reconnects, MQTT messages.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

MAX_FRAME = 16 * 2**20


class Recorder:
    def __init__(self) -> None:
        self.texts: dict[str, int] = {}  # frame text -> id (interned once)
        self.counts: Counter[str] = Counter()
        self.desks: dict[str, list[tuple[float, int]]] = {}
        self.walls: list[list[tuple[float, int]]] = []
        self.mqtt: list[tuple[float, str, bytes]] = []
        self.stop = asyncio.Event()

    def frame(self, into: list[tuple[float, int]], text: str) -> None:
        t = time.time()
        into.append((t, self.texts.setdefault(text, len(self.texts))))
        self.counts["frames"] += 1
        self.counts["bytes"] += len(text)


async def login(web: httpx.AsyncClient, name: str, password: str, gate: asyncio.Semaphore) -> str:
    async with gate:
        r = await web.post("/api/crm/login", json={"name": name, "password": password})
    r.raise_for_status()
    return str(r.json()["token"])


async def socket(
    rec: Recorder, url: str, hello: dict[str, Any], into: list[tuple[float, int]],
    first: asyncio.Event,
) -> None:  # fmt: skip
    """One page's socket: hello, then every frame into ``into``; reconnects after a close."""
    while not rec.stop.is_set():
        try:
            async with connect(url, max_size=MAX_FRAME, compression="deflate") as ws:
                await ws.send(json.dumps(hello))
                async for text in ws:
                    assert isinstance(text, str)
                    rec.frame(into, text)
                    if not first.is_set() and '"type": "welcome"' not in text:
                        first.set()
            rec.counts[f"closed_{ws.close_code}"] += 1
        except (ConnectionClosed, OSError) as e:
            rec.counts[f"failed_{type(e).__name__}"] += 1
        if rec.stop.is_set():
            return
        rec.counts["reconnects"] += 1
        await asyncio.sleep(0.5)


async def subscribe(rec: Recorder, port: int, topic: str, ready: asyncio.Event) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier="fanout-bench") as sub:
        await sub.subscribe(topic, qos=1)
        ready.set()
        async for m in sub.messages:
            payload = m.payload if isinstance(m.payload, bytes) else b""
            rec.mqtt.append((time.time(), str(m.topic), payload))


async def run(spec: dict[str, Any], out: Path) -> None:
    rec = Recorder()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, rec.stop.set)
    base = f"http://127.0.0.1:{spec['web_port']}"
    url = f"ws://127.0.0.1:{spec['web_port']}/ws"
    gate = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=base, timeout=60) as web:
        users = [*spec["desks"], *spec["walls"]]
        tokens = await asyncio.gather(*(login(web, u, spec["password"], gate) for u in users))
    token = dict(zip(users, tokens, strict=True))
    tasks, firsts = [], []
    for user, seat in spec["desks"].items():
        into = rec.desks.setdefault(seat, [])
        hello = {"type": "hello", "token": token[user], "view": "desk", "agent": seat}
        firsts.append(asyncio.Event())
        tasks.append(asyncio.create_task(socket(rec, url, hello, into, firsts[-1])))
    for user in spec["walls"]:
        rec.walls.append([])
        hello = {"type": "hello", "token": token[user], "view": "wallboard"}
        firsts.append(asyncio.Event())
        tasks.append(asyncio.create_task(socket(rec, url, hello, rec.walls[-1], firsts[-1])))
    if spec.get("mqtt_port"):
        firsts.append(asyncio.Event())
        tasks.append(
            asyncio.create_task(subscribe(rec, spec["mqtt_port"], spec["mqtt_topic"], firsts[-1]))
        )
    await asyncio.wait_for(asyncio.gather(*(f.wait() for f in firsts)), 120)
    print("ready", flush=True)
    await rec.stop.wait()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.write_text(json.dumps(results(rec)))


def results(rec: Recorder) -> dict[str, Any]:
    """Read the frames kept while recording (see the module's docstring)."""
    texts = {i: t for t, i in rec.texts.items()}
    desk_frames: dict[int, tuple[str, str | None] | None] = {}
    wall_frames: dict[int, dict[str, list[str | None]]] = {}
    counts = Counter(rec.counts)
    for i, text in texts.items():
        body = json.loads(text)
        kind = body.get("type")
        if kind == "desk":
            a = body["agent"]
            desk_frames[i] = (a["state"], a["call"])
        elif kind == "wallboard":
            wall_frames[i] = {a["agent"]: [a["state"], a["call"]] for a in body["agents"]}
    desks: dict[str, list[tuple[float, str, str | None]]] = {}
    for seat, frames in rec.desks.items():
        rows = desks.setdefault(seat, [])
        for t, i in frames:
            d = desk_frames.get(i)
            if d is not None:
                rows.append((t, *d))
            else:
                counts[f"desk_{json.loads(texts[i]).get('type')}"] += 1
    walls = [[(t, i) for t, i in frames if i in wall_frames] for frames in rec.walls]
    states: dict[str, list[tuple[float, str]]] = {}
    calls: dict[str, list[tuple[float, str]]] = {}
    for t, topic, payload in rec.mqtt:
        counts["mqtt_messages"] += 1
        parts = topic.split("/")
        if len(parts) >= 5 and parts[2] == "agents" and parts[4] == "state" and payload:
            states.setdefault(parts[3], []).append((t, json.loads(payload)["state"]))
        elif len(parts) >= 4 and parts[2] == "calls":
            calls.setdefault(parts[3], []).append((t, json.loads(payload)["event"]))
    counts["distinct_frames"] = len(texts)
    return {
        "desks": desks,
        "walls": walls,
        "wall_frames": wall_frames,
        "mqtt_states": states,
        "mqtt_calls": calls,
        "counts": dict(counts),
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    asyncio.run(run(spec, Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
