"""Fan-out at 200 agents and 20 calls/s: desks, wallboards and MQTT, against serve's CPU.

``hotline serve`` (the real composition: ``python -m hotline.cli serve`` in a
child process) runs the example centre's 200 seats (``examples/hotline.toml``,
wrap-up 1 s) with the CRM (2,000 generated residents; callers are residents, so
every ringing desk gets a screen-pop) against a scripted Asterisk on loopback
sockets, :mod:`benchmarks.fanout_asterisk`. That is the fake of
``tests/fakes/asterisk.py`` (events in the shapes of a recorded Asterisk 22
session) with its in-process delivery replaced by a real AMI server and real
FastAGI connections: the scripted fake runs on a virtual loop inside the test
process, so it needed sockets, and a real Asterisk with 200 SIPp seats at
20 calls/s would put Asterisk's and SIPp's CPU and RTP on the same two cores,
which is noise for a figure about serve's CPU. Callers arrive at ``--rate`` per
second (Poisson, seeded) for ``--seconds`` into the queues by fixed weights; a
seat answers 1 s after it rings, the caller hangs up 3-6 s later.

Two runs, same calls, same seed:

- **surfaces**: ``[mqtt]`` on (a mosquitto on a free loopback port, Debian
  package ``mosquitto``), and in a separate process
  (:mod:`benchmarks.fanout_clients`, so its CPU is not serve's) one desk socket
  per seat, each logged in as that seat's CRM user, ``--walls`` wallboard
  sockets of supervisor users, and one MQTT subscriber to ``.../#``;
- **baseline**: the same serve, CRM and web port, no ``[mqtt]``, no clients.

Reported: serve's CPU seconds (``/proc/<pid>/stat`` utime + stime, all its
threads) from the first arrival until every call is finished, per call, in each
run, the difference (what the surfaces cost per call) and the ratio; serve's CPU
while idle for ``--idle`` s before the calls (the periodic pushes of the open
sockets); latency from the event written by the fake Asterisk to the first frame
on the socket that shows it (:mod:`benchmarks.fanout_latency`: offered, on-call,
wrap-up) for desks, wallboards (every socket) and MQTT, p50/p99/max; and
serve's ``ws_dropped``, ``mqtt_drops`` and ``ws_pushes`` from ``/status``. The
last line is a markdown table row with the machine and date (RESULTS.md is
edited by hand).

    python -m benchmarks.fanout [--rate 20] [--seconds 60] [--walls 50] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.config import load_config
from acd.types import AgentId
from benchmarks.fanout_asterisk import SocketAsterisk
from benchmarks.fanout_latency import Latencies, match_desks, match_mqtt, match_walls
from benchmarks.report import machine
from crm.generate import phone_for
from serve.control import request
from serve.demo import DemoBroker, seed_crm

ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "examples" / "hotline.toml"
SECRET = "fanout-bench-secret"
QUEUES = {"general": 4, "elderly": 3, "community": 3, "repairs": 2, "complaints": 1,
          "status": 1, "disability": 1}  # fmt: skip
KINDS = ("offered", "on-call", "wrap-up")


@dataclass
class Run:
    name: str
    calls: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    idle_cpu_s: float = 0.0
    idle_s: float = 0.0
    clients_cpu_s: float = 0.0
    driver_cpu_s: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    latency: dict[str, dict[str, Latencies]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, state: Path, web_port: int, mqtt_port: int | None) -> Path:
    text = re.sub(r"^wrapup_s = \d+", "wrapup_s = 1", CONFIG.read_text("utf-8"), flags=re.M)
    text += (
        f'\n[crm]\ndurability = "normal"\noutbox_file = "{state / "sms-outbox.log"}"\n'
        f'\n[web]\nhost = "127.0.0.1"\nport = {web_port}\n'
    )
    if mqtt_port is not None:
        text += f'\n[mqtt]\nport = {mqtt_port}\ncentre = "bench"\n'
    path.write_text(text, "utf-8")
    return path


def seed(db: Path, seats: list[str], walls: int, residents: int) -> tuple[str, list[str]]:
    """The CRM: generated residents, one agent user per seat, ``walls`` supervisors."""
    logins = seed_crm(db, tuple(seats), residents)
    sups = [f"sup{i:02d}" for i in range(1, walls + 1)]

    async def add() -> None:
        from crm.lifecycle import Role
        from crm.repository import SqliteCrm
        from crm.settings import CrmSettings
        from crm.types import WallClock

        repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), WallClock())
        try:
            for name in sups:
                await repo.users.add(name, logins.password, Role.SUPERVISOR)
        finally:
            await repo.close()

    asyncio.run(add())
    return logins.password, sups


async def wait_for(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout_s} s")
        await asyncio.sleep(0.2)


async def control(state: Path, method: str, url: str) -> Any:
    status, body = await asyncio.to_thread(request, state / "control.sock", method, url)
    if status != 200:
        raise RuntimeError(f"{method} {url}: {status} {body}")
    return body


async def one_run(a: argparse.Namespace, work: Path, surfaces: bool, setup: dict[str, Any]) -> Run:
    run = Run("surfaces" if surfaces else "baseline")
    state = work / run.name
    state.mkdir()
    shutil.copy(setup["db"], state / "crm.db")
    web_port, agi_port = free_port(), free_port()
    mqtt = setup["mqtt"] if surfaces else None
    cfg = write_config(work / f"{run.name}.toml", state, web_port, mqtt)
    seats = setup["seats"]
    fake = SocketAsterisk(
        {s: AgentId(s) for s in seats}, agi_port, ring_s=1.0, talk_s=tuple(a.talk_s),
        rng=random.Random(a.seed),
    )  # fmt: skip
    ami_port = await fake.listen()
    log = state / "serve.log"
    with log.open("wb") as out:
        serve = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline.cli", "serve", "--config", str(cfg),
            "--ami-port", str(ami_port), "--ami-secret", SECRET, "--agi-port", str(agi_port),
            "--state-dir", str(state), "--log-level", "WARNING",
            cwd=ROOT, stdout=out, stderr=out,
        )  # fmt: skip
    clients = None
    try:

        async def ready() -> bool:
            if serve.returncode is not None:
                raise RuntimeError(f"serve exited: {log.read_text()[-2000:]}")
            return b"hotline serve: ready" in log.read_bytes()

        await wait_for(ready, 60, "serve ready")
        for s in seats:
            await control(state, "POST", f"/agents/{s}/login")
        if surfaces:
            spec = {"web_port": web_port, "password": setup["password"], "mqtt_port": mqtt,
                    "mqtt_topic": "hotline/bench/#", "walls": setup["walls"],
                    "desks": {f"agent{s}": s for s in setup["desk_seats"]}}  # fmt: skip
            (work / "spec.json").write_text(json.dumps(spec))
            clients = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.fanout_clients", str(work / "spec.json"),
                str(work / "clients.json"), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert clients.stdout is not None
            line = await asyncio.wait_for(clients.stdout.readline(), 300)
            if line.strip() != b"ready":
                raise RuntimeError(f"clients: {line!r}")
        c0, t0 = cpu_seconds(serve.pid), time.monotonic()
        await asyncio.sleep(a.idle)
        run.idle_cpu_s, run.idle_s = cpu_seconds(serve.pid) - c0, time.monotonic() - t0
        c0, t0, d0 = cpu_seconds(serve.pid), time.monotonic(), time.process_time()
        k0 = cpu_seconds(clients.pid) if clients is not None else 0.0
        spy = await py_spy(a.py_spy, serve.pid, a.seconds) if surfaces and a.py_spy else None
        run.calls = await place_calls(fake, a)
        if spy is not None:
            await spy.wait()

        async def drained() -> bool:
            status = await control(state, "GET", "/status")
            busy = [x for x in status["agents"].values() if x["state"] != "ready"]
            return fake.ended >= run.calls and not status["calls"] and not busy

        await wait_for(drained, 120, "every call finished")
        run.cpu_s, run.wall_s = cpu_seconds(serve.pid) - c0, time.monotonic() - t0
        run.driver_cpu_s = time.process_time() - d0
        run.clients_cpu_s = cpu_seconds(clients.pid) - k0 if clients is not None else 0.0
        await asyncio.sleep(1.0)  # the last frames reach the clients
        run.stats = (await control(state, "GET", "/status"))["stats"]
        run.errors = list(fake.errors)
        if clients is not None:
            clients.send_signal(signal.SIGTERM)
            await asyncio.wait_for(clients.wait(), 120)
            latencies(run, fake, json.loads((work / "clients.json").read_text()))
    finally:
        for p in (clients, serve):
            if p is not None and p.returncode is None:
                p.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(p.wait(), 15)
                except TimeoutError:
                    p.kill()
                    await p.wait()
        await fake.close()
    return run


async def py_spy(out: Path, pid: int, seconds: float) -> asyncio.subprocess.Process:
    """Sample serve while calls arrive (``py-spy`` from PyPI), collapsed stacks to ``out``."""
    return await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds)),
        "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def place_calls(fake: SocketAsterisk, a: argparse.Namespace) -> int:
    rng = random.Random(a.seed)
    names, weights = list(QUEUES), list(QUEUES.values())
    start, t, n = time.monotonic(), 0.0, 0
    while True:
        t += rng.expovariate(a.rate)
        if t >= a.seconds:
            return n
        await asyncio.sleep(max(0.0, start + t - time.monotonic()))
        n += 1
        queue = rng.choices(names, weights)[0]
        priority = "elderly_alone" if rng.random() < 0.1 else "normal"
        fake.arrive(
            f"{int(time.time())}.{n}", queue, priority, phone_for(rng.randint(1, a.residents))
        )


def latencies(run: Run, fake: SocketAsterisk, got: dict[str, Any]) -> None:
    events: dict[str, list[tuple[str, str, str, float]]] = {k: [] for k in KINDS}
    for s in fake.sent:
        agent = s.agent or fake.offered_to.get(s.call)
        if agent is not None:
            events[s.kind].append((s.kind, s.call, agent, s.at))
    frames = {int(k): v for k, v in got["wall_frames"].items()}
    for kind, evs in events.items():
        run.latency[kind] = {
            "desk": match_desks(evs, got["desks"]),
            "wallboard": match_walls(evs, got["walls"], frames),
            "mqtt": match_mqtt(evs, got["mqtt_states"], got["mqtt_calls"]),
        }
    run.counts = got["counts"]


def ms(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


def report(a: argparse.Namespace, runs: dict[str, Run], command: str) -> str:
    base, surf = runs["baseline"], runs["surfaces"]
    per = {n: r.cpu_s / max(1, r.calls) * 1000 for n, r in runs.items()}
    extra = per["surfaces"] - per["baseline"]
    lines = [
        "| run | calls | serve CPU s | CPU ms/call | CPU % of a core | idle CPU % | ws_pushes"
        " | ws_dropped | mqtt_published | mqtt_drops |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, r in runs.items():
        st = r.stats
        lines.append(
            f"| {n} | {r.calls:,} | {r.cpu_s:.2f} | {per[n]:.2f} | {100 * r.cpu_s / r.wall_s:.0f}"
            f" | {100 * r.idle_cpu_s / max(r.idle_s, 1e-9):.0f} | {st.get('ws_pushes', 0):,}"
            f" | {st.get('ws_dropped', 0)} | {st.get('mqtt_published', 0):,}"
            f" | {st.get('mqtt_drops', 0)} |"
        )
    lines += ["", "| surface | event | n | p50 ms | p99 ms | max ms | missed |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    worst: dict[str, float] = {}
    for where in ("desk", "wallboard", "mqtt"):
        for kind in KINDS:
            x = surf.latency[kind][where].row()
            worst[where] = max(worst.get(where, 0.0), x["p99_ms"])
            lines.append(
                f"| {where} | {kind} | {x['n']:,} | {ms(x['p50_ms'])} | {ms(x['p99_ms'])}"
                f" | {ms(x['max_ms'])} | {x['missed']} |"
            )
    p99 = max(worst.values())
    c = surf.counts
    lines += [
        "",
        f"- serve's extra CPU per call with the surfaces: **{extra:+.2f} ms**"
        f" ({per['surfaces']:.2f} vs {per['baseline']:.2f} ms/call,"
        f" ratio {per['surfaces'] / max(per['baseline'], 1e-9):.2f}×)",
        f"- worst p99 {ms(p99)} ms: goal ≤ 1 s {'met' if p99 <= 1000 else 'NOT met'},"
        f" stretch ≤ 100 ms {'met' if p99 <= 100 else 'not met'}",
        f"- {len(a.desk_seats)} desk + {a.walls} wallboard sockets + 1 MQTT subscriber;"
        f" {c.get('frames', 0):,} frames ({c.get('bytes', 0) / 1e6:,.0f} MB of JSON,"
        f" {c.get('distinct_frames', 0):,} distinct), {c.get('mqtt_messages', 0):,} MQTT"
        f" messages; reconnects {c.get('reconnects', 0)};"
        f" {a.rate:g} calls/s for {a.seconds:g} s",
        f"- the measuring processes while calls arrived, % of a core: clients"
        f" {100 * surf.clients_cpu_s / surf.wall_s:.0f}, fake Asterisk"
        f" {100 * surf.driver_cpu_s / surf.wall_s:.0f} (with surfaces),"
        f" {100 * base.driver_cpu_s / base.wall_s:.0f} (baseline)",
    ]
    errors = [*base.errors, *surf.errors]
    for r in runs.values():
        bad = {k: v for k, v in r.stats.items() if ("fail" in k or "error" in k) and v}
        if any(bad.values()):
            errors.append(f"{r.name}: {bad}")
    if errors:
        lines.append(f"- WARNING: {errors[:5]}")
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    d, w, m = (max(surf.latency[k][x].quantile(0.99) for k in KINDS) * 1000
               for x in ("desk", "wallboard", "mqtt"))  # fmt: skip
    lines += [
        "",
        f"| `{command}` | {ms(d)} | {ms(w)} | {ms(m)} | {per['surfaces']:.2f}"
        f" | {per['baseline']:.2f} | {extra:+.2f} | {surf.stats.get('ws_dropped', 0)}"
        f" | {surf.stats.get('mqtt_drops', 0)} | {machine()}; load {os.getloadavg()[0]:.1f}"
        f" | {today} |",
    ]
    return "\n".join(lines)


async def bench(a: argparse.Namespace, work: Path, setup: dict[str, Any]) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    for surfaces in (False, True):
        r = await one_run(a, work, surfaces, setup)
        runs[r.name] = r
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__)
    p.add_argument("--rate", type=float, default=20.0, help="calls per second")
    p.add_argument("--seconds", type=float, default=60.0, help="how long calls arrive")
    p.add_argument("--walls", type=int, default=50, help="wallboard sockets")
    p.add_argument("--desks", type=int, default=200, help="desk sockets (the first seats)")
    p.add_argument("--residents", type=int, default=2000)
    p.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measured")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--talk-s", type=float, nargs=2, default=[3.0, 6.0], metavar=("MIN", "MAX"))
    p.add_argument("--py-spy", type=Path, help="profile serve with py-spy while calls arrive")
    p.add_argument("--quick", action="store_true", help="a smoke run: 4 calls/s for 4 s")
    a = p.parse_args(argv)
    if a.quick:
        a.rate, a.seconds, a.walls, a.desks, a.residents, a.idle = 4, 3, 2, 10, 50, 0.5
        a.talk_s = [1.0, 2.0]
    seats = list(load_config(CONFIG).agents)
    a.desk_seats = seats[: a.desks]
    broker_dir = Path(tempfile.mkdtemp(prefix="hotline-fanout-"))
    broker = DemoBroker(broker_dir / "mosquitto")
    try:
        if not broker.start():
            print("mosquitto is needed (Debian package mosquitto)", file=sys.stderr)
            return 2
        password, walls = seed(broker_dir / "crm.db", a.desk_seats, a.walls, a.residents)
        setup = {"db": broker_dir / "crm.db", "seats": seats, "desk_seats": a.desk_seats,
                 "password": password, "walls": walls, "mqtt": broker.port}  # fmt: skip
        runs = asyncio.run(bench(a, broker_dir, setup))
    finally:
        broker.stop()
        shutil.rmtree(broker_dir, ignore_errors=True)
    command = "python -m benchmarks.fanout" + (" --quick" if a.quick else "")
    if not a.quick and (a.rate, a.seconds, a.walls, a.desks) != (20, 60, 50, 200):
        command += f" --rate {a.rate:g} --seconds {a.seconds:g} --walls {a.walls} --desks {a.desks}"
    print(report(a, runs, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
