"""``[serve] realtime_priority`` (serve.priority): read strictly, applied or warned."""

from __future__ import annotations

import os

import pytest

from acd.config import parse_config
from acd.config_reader import ConfigError
from serve import priority
from serve.settings import read_settings
from tests.unit.serve.example_config import with_serve


def test_off_by_default_and_read() -> None:
    assert read_settings(parse_config(with_serve())).realtime_priority == 0
    assert read_settings(parse_config(with_serve(realtime_priority=5))).realtime_priority == 5
    assert read_settings(parse_config(with_serve(realtime_priority=9))).realtime_priority == 9


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10, r"serve\.realtime_priority: 10 is not below Asterisk's highpriority \(10\)"),
        (99, r"serve\.realtime_priority: 99 is not below"),
        (-1, r"serve\.realtime_priority: -1 is out of range"),
        (100, r"serve\.realtime_priority: 100 is out of range"),
        ("5", r"serve\.realtime_priority: expected a whole number"),
        (True, r"serve\.realtime_priority: expected a whole number"),
        (2.5, r"serve\.realtime_priority: expected a whole number"),
    ],
)
def test_a_bad_value_names_the_key(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_settings(parse_config(with_serve(realtime_priority=value)))


def test_zero_asks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("sched_setscheduler called for priority 0")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    assert priority.apply(0) is None


def test_asks_round_robin_reset_on_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, int, int]] = []

    def record(pid: int, policy: int, param: os.sched_param) -> None:
        asked.append((pid, policy, param.sched_priority))

    monkeypatch.setattr(os, "sched_setscheduler", record)
    assert priority.apply(5) is None
    assert asked == [(0, os.SCHED_RR | os.SCHED_RESET_ON_FORK, 5)]


def test_not_permitted_warns_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    warning = priority.apply(3)
    assert warning is not None
    assert "serve.realtime_priority = 3: not permitted (Operation not permitted)" in warning
    assert "CAP_SYS_NICE" in warning and "LimitRTPRIO=3" in warning
    assert warning in caplog.text


def test_above_asterisk_refused() -> None:
    with pytest.raises(ValueError, match="realtime_priority"):
        priority.apply(priority.ASTERISK_HIGHPRIORITY)
