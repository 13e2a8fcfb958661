"""A real Asterisk 22 AMI session (100 calls, recorded by ``hotline serve
--record-ami``) replayed through the framing and the shell, in every chunking."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_frames import AmiMessage, FrameParser
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, settle

ROOT = Path(__file__).parents[3]
SESSION = ROOT / "tests" / "fixtures" / "ami" / "asterisk22_100calls.raw.gz"


def session() -> bytes:
    return gzip.decompress(SESSION.read_bytes())


def names(chunks: list[bytes]) -> tuple[list[str], Counter[str]]:
    p = FrameParser()
    out = []
    for c in chunks:
        out.extend(m.name for m in p.feed(c))
    return out, p.stats


def test_real_session_frames_identically_in_any_chunking() -> None:
    data = session()
    whole, stats = names([data])
    assert stats["malformed_frames"] == 0 and stats["malformed_lines"] == 0
    assert whole.count("Hangup") == 130 and whole.count("OriginateResponse") == 30
    for size in (1, 7, 1024, 4093):
        got, _ = names([data[i : i + size] for i in range(0, len(data), size)])
        assert got == whole, size


async def test_real_session_through_the_shell_accounts_for_every_call() -> None:
    clock = FakeClock(1_795_357_000.0)
    shell = RecordingShell(
        Engine(load_config(ROOT / "examples/hotline.toml"), clock),
        ShellSettings(),
        clock,
        FakeAmi(),
    )
    for agent in range(2171, 2201):
        shell.feed(ev.AgentLoggedIn(AgentId(str(agent))))
    parser = FrameParser(shell.stats)
    for msg in parser.feed(session()):
        if msg.name == "UserEvent" and msg.get("UserEvent") == "HotlineWaiting":
            uid = msg["Uniqueid"]  # the FastAGI hand-off happened just before this
            shell.enqueue(CallId(uid), msg["Channel"], uid, QueueName(msg["Queue"]))
        if msg.get("Timestamp"):
            clock.set(max(clock.now(), float(msg["Timestamp"])))
        shell.on_ami_event(AmiMessage(dict(msg.headers)))
    await settle(shell)
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    rows = shell.history.rows
    assert len(rows) == 100 and not shell.engine.calls
    assert {r["outcome"] for r in rows} <= {"answered", "abandoned"}
    assert shell.stats["malformed_frames"] == 0 and shell.stats["missing_fields"] == 0
