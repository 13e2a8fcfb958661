"""Serve's memory over many calls: 200,000 finished calls through the call shell.

The production :class:`telephony.shell.CallShell` with the subscribers
``hotline serve`` gives its notifier (queue_log, ``calls.jsonl``, ``agents.json``,
the read model's today's figures; files in a temporary directory), driven by
AMI events as Asterisk sends them: each call is handed off, offered
(``Originate``, answered by a port that says Success), answered
(``OriginateResponse``), ended by the caller (``BridgeLeave``, then both
channels' ``Hangup``) and finished after a wrap-up of 0 s. ``/status`` is
read every 1,000 calls, as ``hotline live`` does. Calls come in batches of
one per agent on a fake clock (so a day boundary passes, as in production).

Reported: the process's resident set size (``/proc/self/statm``, after a
garbage collection) after a warm-up of ``--warmup`` calls and after all of
them. ``--baseline`` adds a subscriber that keeps every finished call's row in
memory, as ``CallHistory.rows`` did before issue #9, for comparison. No
figures are written to RESULTS.md: the last line is a markdown table row to
paste there.

    python -m benchmarks.serve_memory [--calls 200000] [--baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from acd import events as ev
from acd.config import AcdConfig, parse_config
from acd.counters import Count
from acd.engine import Engine
from acd.types import AgentId, CallId, FakeClock, QueueName
from agents.presence import AgentStore
from benchmarks.report import machine
from serve.history import CallHistory
from serve.read_model import ReadModel
from telephony.ami_frames import AmiMessage
from telephony.notifier import CallClosed, Note, Notifier, Subscriber
from telephony.queue_log import QueueLog
from telephony.settings import ShellSettings
from telephony.shell import CallShell

AGENTS = 50
T0 = 1_763_820_000.0


class SuccessAmi:
    """Every action succeeds (Asterisk's answers to Originate etc.)."""

    async def action(self, action: str, fields: Any = None, **kw: Any) -> list[AmiMessage]:
        return [AmiMessage({"Response": "Success"})]


class KeepRows:
    """The behaviour before issue #9: every finished call's row kept in memory."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.history = CallHistory(None)

    def notify(self, note: Note) -> None:
        if isinstance(note, CallClosed):
            r = note.finished.record
            self.rows.append(self.history.add(r, channel=note.channel, recording=note.recording))
            self.history.rows.clear()


def config() -> AcdConfig:
    return parse_config(
        {
            "centre": {"ring_timeout_s": 30, "wrapup_s": 0},
            "queues": {"general": {"skills": {"general": 1}}},
            "agents": [{"id": str(1000 + i), "skills": {"general": 5}} for i in range(AGENTS)],
        }
    )


def rss_mib() -> float:
    gc.collect()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def event(**headers: str) -> AmiMessage:
    return AmiMessage(headers)


async def settle(shell: CallShell) -> None:
    while shell.tasks:
        await asyncio.gather(*list(shell.tasks))
    await asyncio.sleep(0)


async def run(calls: int, warmup: int, baseline: bool, state: Path) -> dict[str, float]:
    clock = FakeClock(T0)
    engine = Engine(config(), clock)
    stats: Counter[str] = Counter()
    model = ReadModel(engine, clock, stats)
    queue_log = QueueLog(state / "queue_log")
    subscribers: list[tuple[str, Subscriber]] = [
        ("queue_log", queue_log.notify),
        ("history", CallHistory(state / "calls.jsonl").notify),
        ("agents", AgentStore(state / "agents.json").notify),
        ("today", model.notify),
    ]
    if baseline:
        subscribers.append(("rows", KeepRows().notify))
    shell = CallShell(
        engine, ShellSettings(), clock, SuccessAmi(), notifier=Notifier(subscribers, stats=stats),
        stats=stats,
    )  # fmt: skip
    for i in range(AGENTS):
        shell.feed(ev.AgentLoggedIn(AgentId(str(1000 + i))))
    before = 0.0
    started = time.perf_counter()
    done = 0
    while done < calls:
        if done == warmup:
            before = rss_mib()
        batch = [f"c{done + i}" for i in range(min(AGENTS, calls - done))]
        for uid in batch:
            shell.enqueue(CallId(uid), f"PJSIP/trunk-{uid}", uid, QueueName("general"), caller="1")
        await settle(shell)  # the Originates are sent
        clock.advance(2)
        for uid in batch:
            leg = shell.legs.calls[CallId(uid)].agent_leg
            assert leg is not None and leg.action_id is not None
            shell.on_ami_event(
                event(Event="OriginateResponse", ActionID=leg.action_id, Response="Success")
            )
        clock.advance(8)
        for uid in batch:  # the caller hangs up: the bridge ends, both channels go
            shell.on_ami_event(event(Event="BridgeLeave", Uniqueid=uid))
            shell.on_ami_event(event(Event="Hangup", Uniqueid=uid, Cause="16"))
            shell.on_ami_event(event(Event="Hangup", Uniqueid=f"{uid}-o1", Cause="16"))
        await settle(shell)
        await asyncio.sleep(0)  # the wrap-up timer (0 s) fires
        done += len(batch)
        if done % 1000 < AGENTS:
            model.status()
    await asyncio.sleep(0)
    seconds = time.perf_counter() - started
    after = rss_mib()
    queue_log.close()
    status = model.status()
    lost = stats[Count.ENGINE_ERRORS] + stats[Count.NOTIFY_FAILURES]
    if status["calls"] or lost:
        raise SystemExit(f"calls left or errors: {status['calls'][:5]}, {dict(stats)}")
    lines = sum(1 for _ in (state / "calls.jsonl").open("rb"))
    if lines != calls:
        raise SystemExit(f"calls.jsonl has {lines} lines, expected {calls}")
    return {"before": before, "after": after, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serve_memory", description=__doc__)
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--warmup", type=int, default=5_000)
    p.add_argument("--baseline", action="store_true", help="also keep every row (pre-#9)")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-mem-") as tmp:
        r = asyncio.run(run(a.calls, a.warmup, a.baseline, Path(tmp)))
    growth = r["after"] - r["before"]
    what = "rows kept (pre-#9)" if a.baseline else "history on disk"
    print(
        f"{a.calls:,} calls, {what}: RSS {r['before']:.1f} MiB after {a.warmup:,} calls,"
        f" {r['after']:.1f} MiB after all ({growth:+.1f} MiB) in {r['seconds']:.0f} s"
        f" ({a.calls / r['seconds']:,.0f} calls/s)"
    )
    command = "python -m benchmarks.serve_memory" + (" --baseline" if a.baseline else "")
    today = dt.date.today().isoformat()
    print(
        f"| `{command}` | {what} | {r['before']:.1f} | {r['after']:.1f} | {growth:+.1f}"
        f" | {a.calls / r['seconds']:,.0f} | {machine()} | {today} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
