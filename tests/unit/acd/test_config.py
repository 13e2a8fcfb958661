"""Config parsing: the example loads; every bad value names its key, value and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.config import ConfigError, load_config, parse_config
from acd.types import QueueName

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"


def test_the_example_centre_loads() -> None:
    cfg = load_config(EXAMPLE)
    assert len(cfg.agents) == 200
    assert set(cfg.queues) == {
        "elderly",
        "disability",
        "community",
        "repairs",
        "complaints",
        "status",
        "general",
    }
    elderly = cfg.queues[QueueName("elderly")]
    assert elderly.title.startswith("为老服务")
    assert [s.after_s for s in elderly.escalation] == [30, 90, 180]
    assert elderly.escalation[2].overflow_queue == "general"
    assert cfg.agents["2001"].name == "为老坐席 2001"
    assert cfg.languages == ("mandarin", "english", "dialect")
    assert cfg.name == "市民热线 Community Hotline"


def _q(**queue: Any) -> dict[str, Any]:
    return {"queues": {"g": {"skills": {"general": 1}, **queue}}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_q(strategy="fastest"), "queues.g.strategy: expected one of 'longest-idle'"),
        (_q(ring_timeout_s=-1), "queues.g.ring_timeout_s: -1 is out of range [1, 600]"),
        (_q(ring_timeout_s="15"), "queues.g.ring_timeout_s: expected a number, got '15'"),
        (_q(stratgy="round-robin"), "queues.g.stratgy: unknown key in queues.g"),
        (_q(skills={"general": 11}), "queues.g.skills.general: 11 is out of range [1, 10]"),
        (_q(overflow={"queue": "nowhere"}), "queues.g.overflow: names queue 'nowhere'"),
        (_q(escalation="missing"), "queues.g.escalation: names rule set 'missing'"),
        (
            _q(escalation=[{"after_s": 30, "min_level": 3, "overflow_queue": "g"}]),
            "a step needs exactly one of",
        ),
        (
            _q(escalation=[{"after_s": 30, "min_level": 3}, {"after_s": 20, "min_level": 1}]),
            "escalation[1].after_s: 20.0 must be later than the step before (30.0)",
        ),
        ({"queues": {}}, "queues: defines no queue"),
        ({}, "queues: is missing, and has no default"),
        ({**_q(), "agents": [{"ids": "10-2", "skills": {"g": 1}}]}, "agents[0].ids: '10-2'"),
        (
            {**_q(), "agents": [{"id": "a", "skills": {}}, {"id": "a", "skills": {}}]},
            "defined twice",
        ),
        ({**_q(), "agents": [{"id": "a b", "skills": {}}]}, "may hold only letters"),
        ({**_q(), "centre": {"default_queue": "x"}}, "centre.default_queue: 'x' is not a defined"),
        ({**_q(), "metrics": {"service_level_s": []}}, "metrics.service_level_s: must list"),
        ({**_q(), "priorities": {"vip": 5.5}}, "priorities.vip: expected a whole number, got 5.5"),
        ({**_q(), "asterix": {}}, "asterix: unknown key in the top level"),
        ({**_q(), "simulator": {"seed": 1}}, "simulator: unknown key in the top level"),
    ],
)
def test_bad_values_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert message in str(err.value)


def test_a_broken_file_says_which_file_and_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[queues.g\nskills = 1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.toml")
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="is not UTF-8"):
        load_config(bad)


def test_extension_sections_are_read_strictly_by_their_owner() -> None:
    cfg = parse_config({**_q(), "asterisk": {"ami_port": 5038, "oops": 1}})
    t = cfg.section("asterisk")
    assert t.integer("ami_port", 5038, low=1, high=65535) == 5038
    with pytest.raises(ConfigError, match=r"asterisk\.oops: unknown key"):
        t.done()
