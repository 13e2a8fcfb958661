"""The opt-in hand-off stamps (telephony.handoff_trace) of benchmarks.live_load --breakdown."""

from __future__ import annotations

import asyncio
import gc
import io
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, FakeClock
from telephony import handoff_trace
from telephony.agi import FastAgiServer
from telephony.handoff import enqueue_handler
from telephony.handoff_trace import HandoffTrace
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.unit.telephony.test_agi import fake_asterisk
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


def _env(uid: str, caller: str) -> dict[str, str]:
    return {
        "agi_network_script": "inbound",
        "agi_channel": f"PJSIP/residents-{uid}",
        "agi_uniqueid": uid,
        "agi_callerid": caller,
        "agi_arg_1": "general",
        "agi_arg_2": "normal",
        "agi_arg_3": "",
        "agi_arg_4": "1763820095.250",
        "agi_arg_5": uid,
    }


async def test_a_call_offered_at_once_leaves_one_line_of_ordered_stamps() -> None:
    clock = FakeClock(1_763_820_100.0)
    ami = FakeAmi()
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    out = io.StringIO()
    shell.trace = HandoffTrace(out)
    server = FastAgiServer(enqueue_handler(shell))
    port = await server.start("127.0.0.1", 0)
    await fake_asterisk(port, _env("1763820090.7", "13800138000"), {})
    await server.close()
    for _ in range(5):
        await asyncio.sleep(0)
    assert [a for a, _, _ in ami.sent] == ["Originate"]
    (line,) = out.getvalue().splitlines()
    caller, call, *stamps = line.split()
    assert (caller, call) == ("13800138000", "1763820090.7")
    times = [float(s) for s in stamps]
    assert len(times) == 5 and times == sorted(times) and times[-1] - times[0] < 5


async def test_off_by_default_and_a_call_not_offered_writes_nothing() -> None:
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    assert shell.trace is None
    out = io.StringIO()
    shell.trace = HandoffTrace(out)
    server = FastAgiServer(enqueue_handler(shell))  # nobody logged in: no offer
    port = await server.start("127.0.0.1", 0)
    await fake_asterisk(port, _env("1763820090.8", "13800138001"), {})
    await server.close()
    assert out.getvalue() == ""


def test_the_open_stamps_are_bounded() -> None:
    trace = HandoffTrace(io.StringIO())
    for i in range(handoff_trace.OPEN_LIMIT + 10):
        trace.begin(f"c{i}", "", 1.0, 2.0)
    assert not trace.written("c0") and trace.written(f"c{handoff_trace.OPEN_LIMIT + 9}")


def test_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(handoff_trace.ENV_VARIABLE, raising=False)
    assert handoff_trace.from_environment() is None
    monkeypatch.setenv(handoff_trace.ENV_VARIABLE, str(tmp_path / "t.trace"))
    trace = handoff_trace.from_environment()
    assert trace is not None
    trace.begin("c1", "139", 1.0, 2.0)
    assert trace.written("c1")
    trace.answered("c1")
    trace.close()
    assert (tmp_path / "t.trace").read_text().split()[:3] == ["139", "c1", "1.000000"]


def test_garbage_collections_are_lines_of_their_own(tmp_path: Path) -> None:
    out = io.StringIO()
    trace = HandoffTrace(out)
    trace.watch_gc()
    gc.collect()
    text = out.getvalue()
    trace.close()
    gc.collect()  # not watched any more (a write to the closed file would raise)
    (line,) = text.splitlines()
    kind, gen, start, end = line.split()
    assert (kind, gen) == ("gc", "2") and float(start) <= float(end)
