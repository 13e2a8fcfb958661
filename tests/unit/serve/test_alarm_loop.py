"""serve.alarm_loop: the watch follows the notifier's notes, evaluates from the read
model's view and the AMI link, and the loop publishes each transition once."""

from __future__ import annotations

import asyncio

from acd import effects as fx
from acd.agent_state import AgentState
from acd.alarm_config import AlarmConfig, QueueRules
from acd.alarms import AlarmCleared, AlarmKind, AlarmRaised
from acd.records import CallRecord
from acd.snapshot import CentreView, QueueView
from acd.types import AgentId, CallId, FakeClock, Outcome, QueueName
from serve import alarm_loop
from serve.alarm_loop import AlarmWatch

Q = QueueName("elderly")


class Centre:
    """A read model stand-in: the view the watch reads, with one queue's longest wait."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.longest = 0.0
        self.up = True

    def view(self) -> CentreView:
        q = QueueView(Q, "为老", 1 if self.longest else 0, 0, 0, self.longest, 1, 0)
        return CentreView(self.clock.now(), (q,), {}, {}, 0)


def _watch(config: AlarmConfig) -> tuple[AlarmWatch, Centre, FakeClock]:
    clock = FakeClock(1000.0)
    centre = Centre(clock)
    return AlarmWatch(config, centre.view, lambda: centre.up, clock), centre, clock


def test_a_wait_over_its_limit_is_raised_once_and_cleared_when_the_queue_drains() -> None:
    watch, centre, clock = _watch(AlarmConfig(defaults=QueueRules(wait_over_s=10)))
    assert watch.tick() == []
    centre.longest = 12.0
    (raised,) = watch.tick()
    assert isinstance(raised, AlarmRaised) and raised.alarm.id == "queue:elderly:wait_over"
    clock.t += 1
    centre.longest = 13.0
    assert watch.tick() == []  # still active: no second raise
    (shown,) = watch.active_dicts()
    assert shown["raised_at"] == 1000.0 and shown["value"] == 13.0
    centre.longest = 0.0
    (cleared,) = watch.tick()
    assert isinstance(cleared, AlarmCleared) and watch.active() == []


def test_ami_down_is_counted_from_the_first_tick_that_sees_the_link_down() -> None:
    watch, centre, clock = _watch(AlarmConfig(ami_down_after_s=5))
    centre.up = False
    assert watch.tick() == [] and watch.ami_down_since == 1000.0
    clock.t = 1004.0
    assert watch.tick() == []
    clock.t = 1005.0
    (raised,) = watch.tick()
    assert raised.alarm.kind is AlarmKind.AMI_DOWN and raised.alarm.value == 5.0
    centre.up = True
    (cleared,) = watch.tick()
    assert isinstance(cleared, AlarmCleared) and watch.ami_down_since is None


def test_agent_states_and_finished_calls_come_from_the_notifier() -> None:
    config = AlarmConfig(
        min_offered=1,
        defaults=QueueRules(service_level_below=80),
        agent_state_over_s={AgentState.WRAP_UP: 30.0},
    )
    watch, _, clock = _watch(config)
    watch.notify(fx.AgentStateChanged(AgentId("2001"), "on-call", "wrap-up", None, 990.0))
    record = CallRecord(
        call=CallId("c1"), queue=Q, final_queue=Q, priority="normal", caller="139",
        arrived_at=900.0, outcome=Outcome.ANSWERED,
        answered_at=960.0, ended_at=990.0, agent=AgentId("2001"),
    )  # fmt: skip
    watch.notify(fx.CallFinished(record))
    watch.notify("a note the watch does not know")
    assert {t.alarm.id for t in watch.tick()} == {"queue:elderly:service_level_below"}
    clock.t = 1021.0
    (raised,) = watch.tick()
    assert raised.alarm.id == "agent:2001:wrap-up_over"
    queues, centre = watch.window_kpis()
    assert queues[Q].answered == 1 and centre.offered == 1


async def test_the_loop_publishes_transitions_and_stops_with_its_block() -> None:
    watch, centre, _ = _watch(AlarmConfig(defaults=QueueRules(wait_over_s=10)))
    seen: list[object] = []
    centre.longest = 20.0
    async with alarm_loop.running(watch, seen.append, period_s=0.01):
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
    assert [type(t) for t in seen] == [AlarmRaised]
    n = len(seen)
    await asyncio.sleep(0.05)
    assert len(seen) == n  # the task is gone


def test_the_calendar_alarm_comes_from_the_calendar_the_watch_was_given() -> None:
    import datetime as dt

    from acd.calendar import Calendar

    cn = dt.timezone(dt.timedelta(hours=8))
    calendar = Calendar(tz=cn, known_until=dt.date(2026, 12, 31))
    end = dt.datetime(2027, 1, 1, tzinfo=cn).timestamp()
    clock = FakeClock(end - 40 * 86_400)
    centre = Centre(clock)
    watch = AlarmWatch(
        AlarmConfig(calendar_ends_within_days=45), centre.view, lambda: True, clock,
        calendar=calendar,
    )  # fmt: skip
    (raised,) = watch.tick()
    assert isinstance(raised, AlarmRaised)
    assert raised.alarm.kind is AlarmKind.CALENDAR_ENDS and raised.alarm.detail == "2026-12-31"
    assert round(raised.alarm.value) == 40
    quiet = AlarmWatch(AlarmConfig(), centre.view, lambda: True, clock)  # no calendar given
    assert quiet.tick() == []
