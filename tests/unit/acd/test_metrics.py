"""KPIs from call records: service level, ASA, AHT, abandon rate, intervals, occupancy."""

from __future__ import annotations

import math

import pytest

from acd.config import MetricsConfig
from acd.effects import AgentStateChanged
from acd.metrics import AgentTimeMeter, by_interval, kpis
from acd.records import CallRecord
from acd.types import ExitReason, Outcome


def answered(
    call: str, arrived: float, wait: float, talk: float, wrap: float, q: str = "g"
) -> CallRecord:
    a = arrived + wait
    return CallRecord(
        call=call,
        queue=q,
        final_queue=q,
        priority="normal",
        caller="",
        arrived_at=arrived,
        outcome=Outcome.ANSWERED,
        first_offered_at=a,
        answered_at=a,
        ended_at=a + talk,
        wrapup_ended_at=a + talk + wrap,
        agent="a1",
    )


def left(call: str, arrived: float, wait: float, outcome: Outcome, q: str = "g") -> CallRecord:
    return CallRecord(
        call=call,
        queue=q,
        final_queue=q,
        priority="normal",
        caller="",
        arrived_at=arrived,
        outcome=outcome,
        left_at=arrived + wait,
        exit_reason=ExitReason.TIMEOUT if outcome is Outcome.OVERFLOWED else None,
    )


RECORDS = [
    answered("a", 0, 10, 100, 20),
    answered("b", 10, 18, 200, 40),
    answered("c", 20, 30, 300, 0),
    left("d", 30, 3, Outcome.ABANDONED),  # short abandon: excluded
    left("e", 40, 60, Outcome.ABANDONED),
    left("f", 50, 600, Outcome.OVERFLOWED),
]


def test_kpis_follow_the_documented_definitions() -> None:
    k = kpis(RECORDS, MetricsConfig(service_level_s=(15, 20), short_abandon_s=5))
    assert (k.offered, k.answered, k.abandoned, k.short_abandoned, k.overflowed) == (6, 3, 1, 1, 1)
    assert k.answered_within == {15: 1, 20: 2}
    assert k.service_level == {15: pytest.approx(1 / 5), 20: pytest.approx(2 / 5)}
    assert k.asa_s == pytest.approx((10 + 18 + 30) / 3)
    assert k.aht_s == pytest.approx((120 + 240 + 300) / 3)
    assert k.abandon_rate == pytest.approx(1 / 5)
    assert k.max_wait_s == 600


def test_nothing_offered_gives_nan_not_a_crash_and_json_null() -> None:
    k = kpis([])
    assert math.isnan(k.service_level[20.0]) and math.isnan(k.asa_s)
    assert k.as_dict()["asa_s"] is None


def test_per_queue_per_interval_by_arrival() -> None:
    recs = [
        answered("a", 10, 5, 60, 10),
        answered("b", 950, 5, 60, 10),
        left("c", 960, 9, Outcome.ABANDONED, q="h"),
    ]
    out = by_interval(recs, MetricsConfig(interval_s=900))
    assert sorted(out) == [("g", 0.0), ("g", 900.0), ("h", 900.0)]
    assert out[("h", 900.0)].abandoned == 1
    assert by_interval(recs, per_queue=False)[("*", 900.0)].offered == 2


def test_agent_time_is_split_across_intervals_and_occupancy_excludes_pauses() -> None:
    meter = AgentTimeMeter(interval_s=900)
    for old, new, at in [
        ("logged-out", "ready", 0),
        ("ready", "offered", 600),
        ("offered", "on-call", 610),
        ("on-call", "wrap-up", 1210),
        ("wrap-up", "paused", 1300),
    ]:
        meter.observe(AgentStateChanged("a1", old, new, None, at))
    meter.close(1800)
    assert meter.seconds[(0.0, "on-call")] == 290
    assert meter.seconds[(900.0, "on-call")] == 310
    assert meter.totals()["paused"] == 500
    assert meter.occupancy() == pytest.approx(700 / 1300)
    assert meter.occupancy(interval=900.0) == pytest.approx(1.0)
