"""The read model: /status from acd.snapshot views and today's figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import effects as fx
from acd import events as ev
from acd.config import ConfigError, parse_config
from acd.records import CallRecord
from acd.types import AgentId, CallId, FakeClock, Outcome, QueueName
from serve.read_model import ReadModel
from serve.settings import read_settings
from telephony.notifier import StateCorrected
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.acd.harness import config
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
    assert status["agents"] == {
        "2171": {
            "state": "ready",
            "reason": None,
            "reachable": True,
            "call": None,
            "busy_elsewhere": False,
            "after_call": None,
            "correction": None,
        }
    }
    assert status["calls"] == [] and status["waiting"] == {} and status["longest_wait_s"] == 0
    assert set(status) == {
        "waiting", "longest_wait_s", "outcomes", "calls", "agents", "stats", "finished",
    }  # fmt: skip
    clock.set(midnight + 1)  # a new day
    status = model.status()
    assert status["outcomes"] == {} and status["finished"] == 0
    assert not hasattr(model, "rows")


def test_status_shows_each_agents_last_correction_and_its_wish() -> None:
    clock = FakeClock(1000.0)
    engine = Engine(load_config(CONFIG), clock)
    model = ReadModel(engine, clock, Counter())
    engine.handle(ev.AgentLoggedIn(AgentId("2171")))
    engine.handle(ev.AgentDeviceBusy(AgentId("2171"), True))
    model.notify(
        StateCorrected(1000.0, AgentId("2171"), "busy-elsewhere", "ready, phone free",
                       "Up on PJSIP/2171-01 (hotline-selftest,echo)", "not offered calls")
    )  # fmt: skip
    a = model.status()["agents"]["2171"]
    assert a["busy_elsewhere"] is True and a["after_call"] is None
    assert a["correction"] == {
        "at": 1000.0,
        "kind": "busy-elsewhere",
        "believed": "ready, phone free",
        "observed": "Up on PJSIP/2171-01 (hotline-selftest,echo)",
        "action": "not offered calls",
        "call": None,
    }


def test_the_reconcile_period_is_a_strict_serve_setting() -> None:
    base = {
        "queues": {"general": {"skills": {"general": 1}}},
        "agents": [{"id": "2001", "skills": {"general": 5}}],
    }
    assert read_settings(parse_config(base)).reconcile_s == 30
    assert read_settings(parse_config({**base, "serve": {"reconcile_s": 0}})).reconcile_s == 0
    with pytest.raises(ConfigError, match=r"serve\.reconcile_s"):
        read_settings(parse_config({**base, "serve": {"reconcile_s": -1}}))


def test_wait_comes_from_the_predictor_with_talk_times_of_finished_calls() -> None:
    clock = FakeClock(0)
    engine = Engine(config(), clock)
    model = ReadModel(engine, clock, Counter())
    for i in range(10):  # ten general calls of 100 s each have finished
        rec = CallRecord(
            call=CallId(f"old{i}"), queue=QueueName("general"), final_queue=QueueName("general"),
            priority="normal", caller="", arrived_at=0, outcome=Outcome.ANSWERED,
            answered_at=0, ended_at=100,
        )  # fmt: skip
        model.notify(fx.CallFinished(rec))
    engine.handle(ev.AgentLoggedIn(AgentId("a3")))
    engine.handle(ev.CallArrived(CallId("c0"), QueueName("general")))
    engine.handle(ev.AgentAnswered(CallId("c0"), AgentId("a3")))
    clock.advance(30)
    engine.handle(ev.CallArrived(CallId("c1"), QueueName("general")))
    told = model.wait("c1")
    assert told is not None and told.position == 1
    assert told.wait_s == pytest.approx(70 + 5)  # the rest of c0's 100 s, then 5 s wrap-up
    assert model.wait("c0") is None  # answered: nobody to announce to
