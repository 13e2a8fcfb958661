"""Per queue, the expected wait of the last caller in line (acd.queue_wait)."""

from __future__ import annotations

from acd import events as ev
from acd.engine import Engine
from acd.handle_times import HandleTimes
from acd.predict import predict_wait
from acd.queue_wait import QueueWaits, last_in_line, queue_waits
from acd.types import AgentId, CallId, FakeClock, QueueName
from tests.unit.acd.harness import config

GENERAL, ELDERLY = QueueName("general"), QueueName("elderly")


def busy_engine() -> tuple[Engine, FakeClock]:
    clock = FakeClock(0)
    engine = Engine(config(), clock)
    engine.handle(ev.AgentLoggedIn(AgentId("a3")))
    engine.handle(ev.CallArrived(CallId("c0"), GENERAL))
    engine.handle(ev.AgentAnswered(CallId("c0"), AgentId("a3")))
    for i in (1, 2, 3):
        clock.advance(1)
        engine.handle(ev.CallArrived(CallId(f"c{i}"), GENERAL))
    return engine, clock


def test_the_last_caller_in_line_is_predicted_per_queue_and_empty_queues_have_none() -> None:
    engine, _ = busy_engine()
    assert {q: c.id for q, c in last_in_line(engine).items()} == {GENERAL: "c3"}
    times = HandleTimes()
    waits = queue_waits(engine, times)
    assert waits[ELDERLY] is None
    got = waits[GENERAL]
    assert got is not None and got.call == "c3" and got.position == 3
    assert got == predict_wait(engine, CallId("c3"), times)
    assert got.wait_s is not None and got.wait_s > 0


def test_a_higher_priority_caller_is_not_the_last_in_line() -> None:
    engine, clock = busy_engine()
    clock.advance(1)
    engine.handle(ev.CallArrived(CallId("urgent"), GENERAL, priority="emergency"))
    assert last_in_line(engine)[GENERAL].id == "c3"


def test_it_predicts_at_most_once_a_second() -> None:
    engine, clock = busy_engine()
    waits = QueueWaits(engine, HandleTimes())
    first = waits.get()
    clock.advance(0.5)
    engine.handle(ev.CallArrived(CallId("c4"), GENERAL))
    assert waits.get() is first and waits.computed == 1
    clock.advance(0.5)
    later = waits.get()[GENERAL]
    assert waits.computed == 2 and later is not None and later.call == "c4"
    assert later.position == 4


def test_a_clock_going_back_predicts_again() -> None:
    engine, clock = busy_engine()
    waits = QueueWaits(engine, HandleTimes())
    waits.get()
    clock.set(clock.now() - 5)
    waits.get()
    assert waits.computed == 2
