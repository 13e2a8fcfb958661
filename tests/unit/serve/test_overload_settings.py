"""The [serve] overload keys, and the call history's memory (issue 13)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from acd.config import parse_config
from acd.config_reader import ConfigError
from acd.records import CallRecord
from acd.types import CallId, Outcome, QueueName
from serve.history import CallHistory
from serve.settings import read_settings
from telephony.overload import OverloadLimits
from tests.unit.serve.example_config import EXAMPLE, with_serve


def test_overload_keys_are_read_with_defaults() -> None:
    assert read_settings(parse_config(with_serve())).overload == OverloadLimits()
    s = read_settings(
        parse_config(
            with_serve(
                overload_ami_lag_s=1.5,
                overload_loop_lag_s=0.25,
                overload_waiting=300,
                overload_hold_s=3,
                overload_stasis_lag_s=0.75,
                overload_stasis_probe_s=0,
            )
        )
    )
    assert s.overload == OverloadLimits(
        ami_lag_s=1.5, loop_lag_s=0.25, waiting=300, hold_s=3, stasis_lag_s=0.75, stasis_probe_s=0
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("overload_ami_lag_s", -1),
        ("overload_waiting", "many"),
        ("overload_hold_s", 1e9),
        ("overload_stasis_lag_s", "soon"),
        ("overload_stasis_probe_s", 0.01),  # 0 (off) or at least 0.1 s
        ("overload_stasis_probe_s", 61),
    ],
)
def test_bad_overload_key_is_named(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        read_settings(parse_config(with_serve(**{key: value})))


def test_unknown_overload_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="overload_lag"):
        read_settings(parse_config(with_serve(overload_lag=2)))


def _record(n: int) -> CallRecord:
    return CallRecord(
        call=CallId(f"1764650000.{n}"),
        queue=QueueName("general"),
        final_queue=QueueName("general"),
        priority="normal",
        caller="13800138000",
        arrived_at=1_764_650_000.0 + n,
        outcome=Outcome.ANSWERED,
        answered_at=1_764_650_005.0 + n,
        ended_at=1_764_650_100.0 + n,
    )


def test_history_on_disk_keeps_nothing_per_call_in_memory(tmp_path: Path) -> None:
    """Issue 13 saw ~1.4 kB per call kept for the life of the process: with a path
    (as ``hotline serve`` always has), memory does not grow with the calls."""
    history = CallHistory(tmp_path / "calls.jsonl")
    for n in range(200):  # warm up (json encoder, file objects)
        history.add(_record(n), channel="PJSIP/trunk-1", recording=None)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for n in range(200, 5200):
            history.add(_record(n), channel="PJSIP/trunk-1", recording=None)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert history.rows == []
    assert grown < 64 * 1024, f"{grown} bytes for 5,000 calls"  # ~1.4 kB each was 7 MB
    assert len(CallHistory.read(history.path)) == 5200


def test_lag_and_refusals_are_exported_to_prometheus() -> None:
    from collections import Counter

    from acd.config import load_config
    from acd.counters import Count
    from serve.prometheus import Metrics

    config = load_config(EXAMPLE)
    stats: Counter[str] = Counter(
        {
            Count.AMI_LAG_MS: 1250,
            Count.LOOP_LAG_MS: 40,
            Count.OVERLOADED: 1,
            Count.STASIS_LAG_MS: 3500,
            Count.STASIS_LAG_MAX_MS: 4000,
        }
    )
    stats[Count.REFUSED_OVERLOAD] = 7
    stats[Count.DOOR_REFUSED], stats[Count.DOOR_BUSY] = 5, 3
    text = Metrics(config.queues, config.metrics, stats=stats).render().decode()
    assert "hotline_ami_lag_seconds 1.25" in text
    assert "hotline_loop_lag_seconds 0.04" in text
    assert "hotline_overloaded 1.0" in text
    assert "hotline_stasis_lag_seconds 3.5" in text
    assert "hotline_stasis_lag_max_seconds 4.0" in text
    assert 'hotline_refused_calls_total{reason="overload"} 7.0' in text
    assert "hotline_door_refused_total 5.0" in text and "hotline_door_busy_total 3.0" in text
