"""The read model: /status from acd.snapshot views and today's figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from serve.read_model import ReadModel
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, settle

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
DAY = 86400.0


async def test_status_counts_today_only_and_keeps_no_records() -> None:
    cfg = load_config(CONFIG)
    tz = cfg.timezone_offset_s
    midnight = 20_400 * DAY - tz  # a local midnight
    clock = FakeClock(midnight - 600)
    engine = Engine(cfg, clock)
    stats: Counter[str] = Counter()
    model = ReadModel(engine, clock, stats)
    shell = RecordingShell(
        engine, ShellSettings(), clock, FakeAmi(), subscribers=[("today", model.notify)],
        stats=stats,
    )  # fmt: skip
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    shell.enqueue(CallId("c1"), "PJSIP/t-1", "c1", QueueName("general"), caller="138")
    await settle(shell)
    clock.advance(4)
    offer = model.offer("2171")
    assert offer is not None and offer["offer"]["call"] == "c1"
    assert offer["offer"]["waited_s"] == 4 and offer["state"] == "offered"
    assert model.offer("nobody") is None
    shell.feed(ev.CallerAbandoned(CallId("c1")))
    status = model.status()
    assert status["outcomes"] == {"abandoned": 1} and status["finished"] == 1
    assert status["agents"] == {"2171": {"state": "ready", "reachable": True, "call": None}}
    assert status["calls"] == [] and status["waiting"] == {} and status["longest_wait_s"] == 0
    assert set(status) == {
        "waiting", "longest_wait_s", "outcomes", "calls", "agents", "stats", "finished",
    }  # fmt: skip
    clock.set(midnight + 1)  # a new day
    status = model.status()
    assert status["outcomes"] == {} and status["finished"] == 0
    assert not hasattr(model, "rows")
