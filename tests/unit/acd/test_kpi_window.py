"""KPIs over a sliding window in bounded memory (issue #13's soak: serve's RSS grew
with every call while the wallboard's 30-minute windows kept the call records)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.alarm_inputs import RecentCalls
from acd.config import MetricsConfig
from acd.kpi_window import BUCKETS, KpiWindow
from acd.metrics import KpiAccumulator, Kpis, kpis
from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName
from serve.today import RECENT_S, Today

QUEUES = [QueueName("general"), QueueName("elderly")]


def rec(i: int, arrived: float, wait: float, outcome: Outcome, queue: QueueName) -> CallRecord:
    answered = outcome is Outcome.ANSWERED
    return CallRecord(
        CallId(f"1764633600.{i}"), queue, queue, "normal", f"1380000{i:04d}", arrived, outcome,
        answered_at=arrived + wait if answered else None,
        ended_at=arrived + wait + 30 if answered else None,
        wrapup_ended_at=arrived + wait + 40 if answered else None,
        left_at=None if answered else arrived + wait,
        agent=AgentId("2001") if answered else None,
    )  # fmt: skip


outcomes = st.sampled_from(
    [Outcome.ANSWERED, Outcome.ABANDONED, Outcome.OVERFLOWED, Outcome.REFUSED, Outcome.LOST]
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.floats(0, 1000), st.floats(0, 120), outcomes, st.sampled_from(QUEUES)),
        max_size=60,
    )
)
def test_the_window_gives_the_same_kpis_as_the_records_inside_it(
    calls: list[tuple[float, float, Outcome, QueueName]],
) -> None:
    window = KpiWindow(3600.0)
    records = [rec(i, a, w, o, q) for i, (a, w, o, q) in enumerate(calls)]
    for r in records:
        window.add(r, r.arrived_at + r.wait_s)
    per_queue, centre = window.kpis(now=1200.0)  # every record well inside the window
    same(centre, kpis(records))
    for q in QUEUES:
        mine = [r for r in records if r.queue == q]
        same(window.queue(q, 1200.0), kpis(mine))
        same(per_queue.get(q, KpiAccumulator().kpis()), kpis(mine))


def same(a: Kpis, b: Kpis) -> None:
    """Equal, but for the order of a float sum (NaN equals NaN)."""
    da, db = a.as_dict(), b.as_dict()
    for key in ("asa_s", "aht_s", "abandon_rate"):
        x, y = da.pop(key), db.pop(key)
        assert (x is None and y is None) or x == pytest.approx(y), key
    assert da == db


def test_merge_adds_up_as_if_every_record_was_added_once() -> None:
    records = [rec(i, 10.0 * i, i % 40, o, QUEUES[0]) for i, o in
               enumerate([Outcome.ANSWERED, Outcome.ABANDONED, Outcome.ANSWERED] * 5)]  # fmt: skip
    a, b, both = KpiAccumulator(), KpiAccumulator(), KpiAccumulator()
    for i, r in enumerate(records):
        (a if i % 2 else b).add(r)
        both.add(r)
    a.merge(b)
    assert a == both


def test_the_old_edge_is_fuzzy_by_one_bucket_at_most_and_the_new_edge_is_now() -> None:
    window = KpiWindow(1200.0)  # buckets of 10 s
    assert window.bucket_s == 1200.0 / BUCKETS == 10.0
    window.add(rec(1, 0, 5, Outcome.ANSWERED, QUEUES[0]), 5.0)  # bucket [0, 10)
    assert window.kpis(now=1209.0)[1].answered == 1  # 1209 - 1200 = 9: its bucket counts
    assert window.kpis(now=1210.0)[1].answered == 0  # the bucket ended at the window's start
    window.add(rec(2, 1300, 5, Outcome.ANSWERED, QUEUES[0]), 1305.0)
    assert window.kpis(now=1299.0)[1].answered == 0  # 1305 is after now
    assert window.kpis(now=1300.0)[1].answered == 1  # its bucket started at now
    assert len(window) == 1
    window.prune(1305.0)
    assert window.buckets() == 1


def test_a_day_at_20_calls_a_second_keeps_a_bounded_number_of_buckets_and_no_record() -> None:
    recent = RecentCalls(window_s=1800.0)
    window = KpiWindow(1800.0)
    today = Today(MetricsConfig(), 0.0)
    first = rec(0, 1000.0, 3.0, Outcome.ANSWERED, QUEUES[0])
    held = sys.getrefcount(first)
    for target in (recent, window, today):
        if isinstance(target, RecentCalls):
            target.add(first)
        elif isinstance(target, KpiWindow):
            target.add(first, 1003.0)
        else:
            target.add(first, 1003.0)
    assert sys.getrefcount(first) == held  # nothing keeps the record itself
    for i in range(1, 30_000):  # 50 minutes at 10 calls/s
        at = 1000.0 + i / 20 * 2
        r = rec(i, at, 3.0, Outcome.ANSWERED, QUEUES[i % 2])
        recent.add(r)
        window.add(r, at + 3)
        today.add(r, at + 3)
    assert window.buckets() <= 2 * BUCKETS + 2
    assert recent._window.buckets() <= 2 * BUCKETS + 2
    assert today.recent.buckets() <= BUCKETS + 1  # pruned on every add
    now = 1000.0 + 30_000 / 10 + 3
    _, centre = recent.kpis(now)
    assert 18_000 <= centre.answered <= 18_000 + 1800 / BUCKETS * 10 + 10  # 1800 s at 10/s
    assert today.queue_recent("general", now).answered == pytest.approx(9000, abs=200)


def test_a_window_must_be_a_positive_finite_number_of_seconds() -> None:
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="window_s"):
            KpiWindow(bad)
    assert RECENT_S == 1800.0
