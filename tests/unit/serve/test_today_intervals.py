"""The wallboard's history of today: the same interval table as ``hotline report``."""

from __future__ import annotations

from acd import effects as fx
from acd.config import MetricsConfig
from acd.intervals import interval_rows
from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName
from serve.today import Today

T0 = 1764633600.0  # 2025-12-02 00:00 UTC = 08:00 at +8 h


def rec(call: str, arrived: float, wait: float) -> CallRecord:
    return CallRecord(
        CallId(call), QueueName("elderly"), QueueName("elderly"), "normal", "", arrived,
        Outcome.ANSWERED, answered_at=arrived + wait, ended_at=arrived + wait + 60,
        wrapup_ended_at=arrived + wait + 70, agent=AgentId("2001"),
    )  # fmt: skip


def test_today_intervals_are_the_report_rows() -> None:
    today = Today(MetricsConfig(), 8 * 3600.0)
    a = AgentId("2001")
    today.notify(fx.AgentStateChanged(a, "logged-out", "ready", None, T0), T0)
    records = [rec("c1", T0 + 10, 5), rec("c2", T0 + 950, 30)]
    for r in records:
        today.notify(fx.AgentStateChanged(a, "ready", "on-call", None, r.answered_at or 0), T0)
        today.notify(fx.AgentStateChanged(a, "on-call", "ready", None, r.wrapup_ended_at or 0), T0)
        today.add(r, r.wrapup_ended_at or 0)
    rows = today.intervals(T0 + 1800)
    assert [(r["queue"], r["start"]) for r in rows] == [
        ("*", "2025-12-02 08:00"), ("*", "2025-12-02 08:15"),
        ("elderly", "2025-12-02 08:00"), ("elderly", "2025-12-02 08:15"),
    ]  # fmt: skip
    same = interval_rows(records, MetricsConfig(), timezone_offset_s=8 * 3600.0)
    strip = [{k: v for k, v in r.items() if k != "occupancy"} for r in rows]
    assert strip == [{k: v for k, v in r.items() if k != "occupancy"} for r in same]
    assert rows[0]["occupancy"] == round(70 / 900, 6)
