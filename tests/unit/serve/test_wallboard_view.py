"""The wallboard frame: its figures are acd.metrics' on the same records; live state from
the engine's snapshot views."""

from __future__ import annotations

import json
import math
from collections import Counter

from acd import effects as fx
from acd import events as ev
from acd.alarms import Alarm, AlarmKind
from acd.engine import Engine
from acd.metrics import kpis
from acd.records import CallRecord
from acd.types import AgentId, CallId, FakeClock, Outcome, QueueName
from serve.read_model import ReadModel
from serve.wallboard_view import kpi_dict, wallboard_frame
from telephony.notifier import StateCorrected
from tests.unit.acd.harness import config

DAY = 86400.0
NOW = 20_400 * DAY + 12 * 3600  # noon (the test config's timezone offset is 0)


def record(
    call: str,
    queue: str,
    outcome: Outcome,
    arrived: float,
    wait: float,
    talk: float = 60.0,
    wrap: float = 5.0,
) -> CallRecord:
    answered = arrived + wait if outcome is Outcome.ANSWERED else None
    return CallRecord(
        call=CallId(call),
        queue=QueueName(queue),
        final_queue=QueueName(queue),
        priority="normal",
        caller="138",
        arrived_at=arrived,
        outcome=outcome,
        answered_at=answered,
        ended_at=answered + talk if answered is not None else None,
        wrapup_ended_at=answered + talk + wrap if answered is not None else None,
        left_at=None if answered is not None else arrived + wait,
        agent=AgentId("a1") if answered is not None else None,
    )


RECORDS = [
    # this morning: long ago for the 30-minute window
    record("m1", "general", Outcome.ANSWERED, NOW - 4 * 3600, 10),
    record("m2", "general", Outcome.ANSWERED, NOW - 4 * 3600, 30),
    record("m3", "general", Outcome.ABANDONED, NOW - 4 * 3600, 40),
    record("m4", "elderly", Outcome.ANSWERED, NOW - 3 * 3600, 18),
    record("m5", "general", Outcome.ABANDONED, NOW - 3 * 3600, 2),  # a short abandon
    # the last 30 minutes
    record("r1", "general", Outcome.ANSWERED, NOW - 600, 14),
    record("r2", "general", Outcome.ANSWERED, NOW - 500, 19),
    record("r3", "elderly", Outcome.ABANDONED, NOW - 400, 25),
    record("r4", "general", Outcome.OVERFLOWED, NOW - 300, 120),
    record("r5", "general", Outcome.REFUSED, NOW - 200, 0),  # at overload: never offered
]


def model_with_records() -> tuple[ReadModel, FakeClock]:
    clock = FakeClock(NOW)
    model = ReadModel(Engine(config(), clock), clock, Counter())
    for r in RECORDS:
        model.notify(fx.CallFinished(r))
    return model, clock


def test_kpis_match_acd_metrics_on_the_same_records() -> None:
    model, _ = model_with_records()
    frame = wallboard_frame(model, [])
    cfg = model.engine.config.metrics
    tiles = {q["queue"]: q for q in frame["queues"]}
    for name in ("general", "elderly"):
        mine = [r for r in RECORDS if r.queue == name]
        recent = [r for r in mine if r.call.startswith("r")]
        assert tiles[name]["today"] == kpi_dict(kpis(mine, cfg))
        assert tiles[name]["last_30_min"] == kpi_dict(kpis(recent, cfg))
    assert frame["centre"]["today"] == kpi_dict(kpis(RECORDS, cfg))
    general = tiles["general"]["today"]
    # 7 offered, 1 short abandon: the base is 6; answered within 15 s: m1, r1
    assert general["offered"] == 7 and general["answered"] == 4 and general["abandoned"] == 1
    assert general["refused"] == 1 and frame["centre"]["today"]["refused"] == 1
    assert general["service_level"] == {"15": round(2 / 6, 6), "20": round(3 / 6, 6)}
    assert general["asa_s"] == (10 + 30 + 14 + 19) / 4 and general["aht_s"] == 65
    json.dumps(frame, allow_nan=False)  # no NaN on the wire


def test_a_queue_with_nothing_to_count_has_null_figures() -> None:
    model, _ = model_with_records()
    tile = next(q for q in wallboard_frame(model)["queues"] if q["queue"] == "elderly")
    assert tile["last_30_min"]["offered"] == 1 and tile["last_30_min"]["asa_s"] is None
    clock = FakeClock(NOW)
    empty = wallboard_frame(ReadModel(Engine(config(), clock), clock, Counter()))
    today = empty["centre"]["today"]
    assert today["service_level"] == {"15": None, "20": None} and today["abandon_rate"] is None


def test_live_state_agents_calls_and_alarms() -> None:
    clock = FakeClock(NOW)
    engine = Engine(config(), clock)
    model = ReadModel(engine, clock, Counter())
    engine.handle(ev.AgentLoggedIn(AgentId("a1")))
    engine.handle(ev.AgentLoggedIn(AgentId("a2"), paused_reason="lunch"))
    engine.handle(ev.CallArrived(CallId("c1"), QueueName("general"), caller="139"))
    clock.advance(3)
    engine.handle(ev.AgentAnswered(CallId("c1"), AgentId("a1")))
    engine.handle(ev.CallArrived(CallId("c2"), QueueName("elderly"), caller="137"))
    engine.handle(ev.CallArrived(CallId("c3"), QueueName("elderly"), priority="emergency"))
    clock.advance(7)
    alarm = Alarm("queue:elderly:wait_over", AlarmKind.WAIT_OVER, "queue:elderly", 7, 5, NOW + 8)
    frame = wallboard_frame(model, lambda: [alarm])
    tiles = {q["queue"]: q for q in frame["queues"]}
    assert tiles["elderly"]["waiting"] == 2 and tiles["elderly"]["longest_wait_s"] == 7
    assert tiles["elderly"]["alarms"] == ["queue:elderly:wait_over"]
    assert tiles["general"]["agents"] == {
        "ready": 0, "on_call": 1, "wrap_up": 0, "paused": 1, "offered": 0,
    }  # fmt: skip
    assert tiles["elderly"]["agents"]["on_call"] == 1  # a1 serves both; a2 elderly 3 < 5
    assert tiles["elderly"]["agents"]["paused"] == 0
    a1, a2 = frame["agents"]
    assert (a1["agent"], a1["state"], a1["call"], a1["queue"]) == ("a1", "on-call", "c1", "general")
    assert a1["caller_wait_s"] == 3 and a1["calls_today"] == 1 and a1["in_state_s"] == 7
    assert (a2["state"], a2["reason"], a2["call"]) == ("paused", "lunch", None)
    assert [(c["call"], c["priority"], c["waited_s"]) for c in frame["calls"]] == [
        ("c3", "emergency", 7),
        ("c2", "normal", 7),
    ]
    assert frame["alarms"] == [{**alarm.as_dict(), "raised_at": NOW + 8}]
    assert frame["centre"]["waiting"] == 2 and frame["centre"]["agents"]["on-call"] == 1
    assert frame["choices"]["priorities"] == ["emergency", "elderly_alone", "normal"]
    assert set(frame["choices"]["pause_reasons"]) == {"break", "lunch", "no-answer"}
    assert not math.isnan(frame["at"])


def test_an_agent_row_shows_busy_elsewhere_and_its_last_correction() -> None:
    clock = FakeClock(NOW)
    engine = Engine(config(), clock)
    model = ReadModel(engine, clock, Counter())
    engine.handle(ev.AgentLoggedIn(AgentId("a1")))
    engine.handle(ev.AgentLoggedIn(AgentId("a2")))
    engine.handle(ev.AgentDeviceBusy(AgentId("a1"), True))
    model.notify(
        StateCorrected(
            NOW, AgentId("a1"), "busy-elsewhere", "ready, phone free", "1 channel",
            "not offered calls until the phone is free",
        )
    )  # fmt: skip
    a1, a2 = wallboard_frame(model)["agents"]
    assert a1["busy_elsewhere"] is True and a2["busy_elsewhere"] is False
    assert a1["correction"] == {
        "at": NOW, "kind": "busy-elsewhere", "action": "not offered calls until the phone is free",
    }  # fmt: skip
    assert a2["correction"] is None


def test_each_queue_shows_the_expected_wait_of_its_last_caller() -> None:
    clock = FakeClock(NOW)
    engine = Engine(config(), clock)
    model = ReadModel(engine, clock, Counter())
    engine.handle(ev.AgentLoggedIn(AgentId("a3")))
    engine.handle(ev.CallArrived(CallId("c0"), QueueName("general")))
    engine.handle(ev.AgentAnswered(CallId("c0"), AgentId("a3")))
    engine.handle(ev.CallArrived(CallId("c1"), QueueName("general")))
    engine.handle(ev.CallArrived(CallId("c2"), QueueName("general")))
    frame = json.loads(json.dumps(wallboard_frame(model, [])))
    tiles = {q["queue"]: q for q in frame["queues"]}
    assert tiles["elderly"]["expected_wait"] is None  # nobody waits there
    told = model.wait("c2")
    assert told is not None and told.wait_s is not None
    assert tiles["general"]["expected_wait"] == {
        "call": "c2",
        "position": 2,
        "wait_s": round(told.wait_s, 1),
        "waited_s": 0.0,
        "agents_now": told.agents_now,
    }


def test_the_frame_carries_the_broadcast_callers_hear_until_it_expires() -> None:
    from ivr.broadcast import Broadcast

    clock = FakeClock(NOW)
    model = ReadModel(Engine(config(), clock), clock, Counter())
    assert wallboard_frame(model, [])["broadcast"] is None  # serve has not wired one
    notice = Broadcast("停水通知", "Water off", NOW + 60, NOW, "sup")
    model.broadcast_source = lambda: notice if clock.now() < notice.expires_at else None
    assert wallboard_frame(model, [])["broadcast"] == notice.as_dict()
    clock.advance(60)
    assert wallboard_frame(model, [])["broadcast"] is None
