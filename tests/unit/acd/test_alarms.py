"""Alarm evaluation (a table of cases) and the tracker's raise/clear transitions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from acd.agent_state import AgentState
from acd.alarm_config import AlarmConfig, QueueRules
from acd.alarm_inputs import AgentStateClock, AgentTime, AlarmInputs, RecentCalls
from acd.alarms import Alarm, AlarmCleared, AlarmKind, AlarmRaised, AlarmTracker, evaluate
from acd.effects import AgentStateChanged
from acd.metrics import kpis
from acd.records import CallRecord
from acd.snapshot import CentreView, QueueView
from acd.types import AgentId, CallId, Outcome, QueueName

Q = QueueName("elderly")
CFG = AlarmConfig(
    min_offered=2,
    defaults=QueueRules(service_level_below=80, wait_over_s=60),
    centre=QueueRules(service_level_below=90),
)


def view(wait: float = 0.0, at: float = 1000.0) -> CentreView:
    q = QueueView(Q, "Elderly", 1 if wait else 0, 0, 0, wait, 3, 3)
    return CentreView(at, (q,), {}, {}, 0)


def record(i: int, wait: float, outcome: Outcome = Outcome.ANSWERED) -> CallRecord:
    answered = outcome is Outcome.ANSWERED
    return CallRecord(
        call=CallId(f"c{i}"),
        queue=Q,
        final_queue=Q,
        priority="normal",
        caller="100",
        arrived_at=100.0 * i,
        outcome=outcome,
        answered_at=100.0 * i + wait if answered else None,
        left_at=None if answered else 100.0 * i + wait,
    )


def ids(alarms: list[Alarm]) -> list[str]:
    return [a.id for a in alarms]


def test_wait_over_the_limit() -> None:
    assert evaluate(CFG, AlarmInputs(view(wait=60)), 1000) == []
    [a] = evaluate(CFG, AlarmInputs(view(wait=75)), 1000)
    assert (a.id, a.kind, a.subject) == (
        "queue:elderly:wait_over",
        AlarmKind.WAIT_OVER,
        "queue:elderly",
    )
    assert (a.value, a.threshold, a.since) == (75, 60, 985)


def test_service_level_below_target_per_queue_and_centre() -> None:
    good = kpis([record(1, 5), record(2, 10)])
    bad = kpis([record(1, 5), record(2, 30), record(3, 40)])  # 1 of 3 within 20 s
    assert evaluate(CFG, AlarmInputs(view(), {Q: good}, good), 1000) == []
    alarms = evaluate(CFG, AlarmInputs(view(), {Q: bad}, bad), 1000)
    assert ids(alarms) == ["centre:service_level_below", "queue:elderly:service_level_below"]
    assert round(alarms[1].value, 3) == 33.333
    assert alarms[1].threshold == 80


def test_too_few_calls_or_none_offered_raise_no_service_level_alarm() -> None:
    one_bad = kpis([record(1, 50)])
    none = kpis([])
    assert evaluate(CFG, AlarmInputs(view(), {Q: one_bad}, one_bad), 1000) == []
    assert evaluate(CFG, AlarmInputs(view(), {Q: none}, none), 1000) == []


def test_agent_in_a_state_longer_than_plausible() -> None:
    agents = [
        AgentTime(AgentId("2001"), AgentState.WRAP_UP, since=600),  # 400 s > 300
        AgentTime(AgentId("2002"), AgentState.WRAP_UP, since=800),  # 200 s
        AgentTime(AgentId("2003"), AgentState.OFFERED, since=900),  # 100 s > 60
        AgentTime(AgentId("2004"), AgentState.PAUSED, since=0),  # no limit on paused
    ]
    alarms = evaluate(CFG, AlarmInputs(view(), agents=agents), 1000)
    assert ids(alarms) == ["agent:2001:wrap-up_over", "agent:2003:offered_over"]
    assert (alarms[0].value, alarms[0].threshold, alarms[0].since) == (400, 300, 900)
    assert alarms[0].detail == "wrap-up"


def test_ami_down_is_always_on_with_its_grace() -> None:
    graced = AlarmConfig(ami_down_after_s=5)
    assert evaluate(graced, AlarmInputs(view(), ami_down_since=997), 1000) == []
    [a] = evaluate(graced, AlarmInputs(view(), ami_down_since=990), 1000)
    assert (a.id, a.value, a.since) == ("ami:ami_down", 10, 995)
    assert ids(evaluate(AlarmConfig(), AlarmInputs(view(), ami_down_since=1000), 1000)) == [
        "ami:ami_down"
    ]


def test_the_calendar_warns_before_its_known_days_end() -> None:
    day = 86_400.0
    until = 100 * day  # the end of the last day whose holidays are known
    cfg = AlarmConfig(calendar_ends_within_days=30)

    def at(now: float) -> list[Alarm]:
        inputs = AlarmInputs(view(), calendar_known_until=until, calendar_last_day="2026-12-31")
        return evaluate(cfg, inputs, now)

    assert at(until - 31 * day) == []
    [a] = at(until - 10 * day)
    assert (a.id, a.kind, a.subject) == (
        "calendar:calendar_ends",
        AlarmKind.CALENDAR_ENDS,
        "calendar",
    )
    assert (a.value, a.threshold, a.since, a.detail) == (10, 30, until - 30 * day, "2026-12-31")
    assert at(until + 5 * day)[0].value == -5  # past it: stays up until the days are added
    assert (
        evaluate(
            AlarmConfig(calendar_ends_within_days=0),
            AlarmInputs(view(), calendar_known_until=until),
            until,
        )
        == []
    )
    assert evaluate(cfg, AlarmInputs(view()), until) == []  # no national tables: no limit


def test_tracker_raises_once_keeps_since_and_clears() -> None:
    tracker = AlarmTracker()
    first = evaluate(CFG, AlarmInputs(view(wait=70)), 1000)
    assert tracker.update(first, 1000) == [AlarmRaised(first[0], 1000)]
    assert tracker.update(evaluate(CFG, AlarmInputs(view(wait=80, at=1010)), 1010), 1010) == []
    [still] = tracker.active()
    assert (still.value, still.since) == (80, 990)
    [cleared] = tracker.update([], 1020)
    assert isinstance(cleared, AlarmCleared) and cleared.alarm == still and cleared.at == 1020
    assert tracker.active() == [] and tracker.raised_total == 1


def alarm(i: int) -> Alarm:
    return Alarm(f"queue:q{i}:wait_over", AlarmKind.WAIT_OVER, f"queue:q{i}", 1, 0, 0)


@given(st.lists(st.lists(st.integers(0, 4)), max_size=12))
def test_tracker_transitions_alternate_and_follow_the_evaluations(steps: list[list[int]]) -> None:
    tracker = AlarmTracker()
    history: dict[str, list[str]] = {}
    for t, step in enumerate(steps):
        out = tracker.update([alarm(i) for i in step], float(t))
        touched = [x.alarm.id for x in out]
        assert len(touched) == len(set(touched)), "an id took two transitions in one update"
        for x in out:
            history.setdefault(x.alarm.id, []).append(
                "raise" if isinstance(x, AlarmRaised) else "clear"
            )
        assert {a.id for a in tracker.active()} == {alarm(i).id for i in step}
    for seq in history.values():
        assert seq == ["raise", "clear"] * (len(seq) // 2) + ["raise"] * (len(seq) % 2)


def test_agent_state_clock_follows_state_changes() -> None:
    clock = AgentStateClock()
    a = AgentId("2001")
    clock.observe(AgentStateChanged(a, "logged-out", "ready", None, 10))
    clock.observe(AgentStateChanged(a, "ready", "ready", None, 20))  # no new time in state
    assert clock.agents() == (AgentTime(a, AgentState.READY, 10),)
    clock.observe(AgentStateChanged(a, "ready", "paused", "lunch", 30))
    assert clock.agents() == (AgentTime(a, AgentState.PAUSED, 30, "lunch"),)
    clock.observe(AgentStateChanged(a, "paused", "logged-out", None, 40))
    assert clock.agents() == ()


def test_recent_calls_counts_by_decision_time_within_the_window() -> None:
    recent = RecentCalls(window_s=300)
    recent.add(record(1, 10))  # decided at 110
    recent.add(record(2, 50, Outcome.ABANDONED))  # decided at 250
    recent.add(record(3, 500))  # decided at 800
    recent.add(record(4, 5))  # decided at 405: out of order, kept sorted
    per_queue, centre = recent.kpis(now=420)
    assert (centre.offered, centre.answered, centre.abandoned) == (2, 1, 1)
    assert per_queue[Q].offered == 2
    per_queue, centre = recent.kpis(now=800)
    assert (centre.offered, centre.answered) == (1, 1)  # only c3, decided at 800
    assert len(recent) == 1
