"""The strict ``[alarms]`` section: defaults, overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.agent_state import AgentState
from acd.alarm_config import DEFAULT_STATE_LIMITS, QueueRules, parse_alarms, read_alarms
from acd.config import ConfigError, parse_config
from acd.types import QueueName

QUEUES = {QueueName("elderly"), QueueName("general")}
SL = (15.0, 20.0)


def parse(data: Any) -> Any:
    return parse_alarms(data, queues=QUEUES, service_levels=SL)


def test_defaults_when_the_section_is_absent() -> None:
    cfg = parse({})
    assert (cfg.window_s, cfg.service_level_s, cfg.min_offered) == (1800, 20, 5)
    assert cfg.rules(QueueName("elderly")) == QueueRules(None, None)
    assert cfg.agent_state_over_s == DEFAULT_STATE_LIMITS
    assert cfg.ami_down_after_s == 0
    assert cfg.calendar_ends_within_days == 45
    assert parse({"calendar_ends_within_days": 0}).calendar_ends_within_days == 0


def test_queue_overrides_inherit_the_section_defaults() -> None:
    cfg = parse(
        {
            "service_level_below": 80,
            "wait_over_s": 120,
            "queues": {"elderly": {"wait_over_s": 60}, "general": {"service_level_below": 0}},
            "centre": {"service_level_below": 85},
            "agent_state_over_s": {"wrap-up": 200, "paused": 1800},
        }
    )
    assert cfg.rules(QueueName("elderly")) == QueueRules(80, 60)
    assert cfg.rules(QueueName("general")) == QueueRules(None, 120)
    assert cfg.centre == QueueRules(85, None)
    assert cfg.agent_state_over_s == {AgentState.WRAP_UP: 200, AgentState.PAUSED: 1800}


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"wait_over": 10}, "alarms.wait_over", "unknown key"),
        ({"service_level_below": 120}, "alarms.service_level_below", "120 is out of range"),
        ({"service_level_below": "80%"}, "alarms.service_level_below", "expected a number"),
        ({"service_level_s": 30}, "alarms.service_level_s", "not one of [metrics]"),
        ({"window_s": 10}, "alarms.window_s", "out of range"),
        ({"min_offered": 2.5}, "alarms.min_offered", "whole number"),
        ({"queues": {"repairs": {}}}, "alarms.queues.repairs", "not defined"),
        ({"queues": {"elderly": {"wait": 1}}}, "alarms.queues.elderly.wait", "unknown key"),
        ({"queues": {"elderly": 5}}, "alarms.queues.elderly", "expected a table"),
        ({"centre": {"wait_over_s": 60}}, "alarms.centre.wait_over_s", "unknown key"),
        ({"agent_state_over_s": {"lunch": 60}}, "alarms.agent_state_over_s.lunch", "'wrap-up'"),
        (
            {"agent_state_over_s": {"logged-out": 60}},
            "alarms.agent_state_over_s.logged-out",
            "expected an agent state",
        ),
        ({"agent_state_over_s": {"on-call": 0}}, "alarms.agent_state_over_s.on-call", "range"),
        ({"ami_down_after_s": -1}, "alarms.ami_down_after_s", "out of range"),
        ({"calendar_ends_within_days": 400}, "alarms.calendar_ends_within_days", "out of range"),
    ],
)
def test_bad_values_name_the_key(data: Any, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(data)
    assert e.value.key == key
    assert words in str(e.value)


def test_read_from_a_whole_config_file() -> None:
    cfg = parse_config(
        {
            "queues": {"elderly": {"skills": {"elderly": 1}}},
            "metrics": {"service_level_s": [15, 30]},
            "alarms": {"service_level_s": 30, "queues": {"elderly": {"wait_over_s": 45}}},
        }
    )
    alarms = read_alarms(cfg)
    assert alarms.service_level_s == 30
    assert alarms.rules(QueueName("elderly")).wait_over_s == 45


def test_default_threshold_is_the_last_metric_one_without_20s() -> None:
    assert parse_alarms({}, queues=QUEUES, service_levels=(10.0, 30.0)).service_level_s == 30


def test_config_check_validates_and_summarises_the_alarms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline import config_check

    text = Path("examples/hotline.toml").read_text()
    head, rest = text.split("[alarms]\n", 1)  # the example's own section, replaced here
    example = head + rest[rest.index("# Events to an MQTT broker") :]
    good = tmp_path / "good.toml"
    good.write_text(
        example + "\n[alarms]\nwait_over_s = 90\n[alarms.agent_state_over_s]\nwrap-up = 240\n"
    )
    assert config_check.main(["check", str(good)]) == 0
    assert "alarms: SL20 over 1800 s, 0 queue overrides; agent states: wrap-up > 240 s" in (
        capsys.readouterr().out
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(example + "\n[alarms]\nwait_over = 90\n")
    assert config_check.main(["check", str(bad)]) == 1
    assert "alarms.wait_over: unknown key in alarms" in capsys.readouterr().err
